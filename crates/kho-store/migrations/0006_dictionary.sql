-- Từ điển dữ liệu — the data dictionary's elements and every version of each.

CREATE TABLE data_elements (
    id                TEXT PRIMARY KEY,
    identifier        TEXT NOT NULL UNIQUE,
    version           BIGINT NOT NULL,
    status            TEXT NOT NULL,
    owner_agency_id   TEXT NOT NULL REFERENCES agencies (id),
    -- Name, identifier and synonyms, folded (no diacritics, lowercase), for search.
    search_text       TEXT NOT NULL,
    -- The element's description (ElementDraft) as JSON.
    body              TEXT NOT NULL,
    status_changed_by TEXT NOT NULL,
    status_changed_at TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX data_elements_status ON data_elements (status);
CREATE INDEX data_elements_owner ON data_elements (owner_agency_id);

CREATE TABLE data_element_versions (
    element_id TEXT NOT NULL REFERENCES data_elements (id),
    version    BIGINT NOT NULL,
    status     TEXT NOT NULL,
    body       TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    changed_at TEXT NOT NULL,
    PRIMARY KEY (element_id, version)
);
