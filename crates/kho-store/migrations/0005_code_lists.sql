-- Code lists (danh mục dùng chung): versioned lists of codes. Codes are reused across
-- versions, so an item's key is always (list, version, code).

CREATE TABLE code_lists (
    slug        TEXT PRIMARY KEY,
    name_vi     TEXT NOT NULL,
    name_en     TEXT,
    description TEXT NOT NULL,
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX code_lists_agency ON code_lists (agency_id);

CREATE TABLE code_list_versions (
    list_slug       TEXT NOT NULL REFERENCES code_lists (slug),
    version         BIGINT NOT NULL,
    status          TEXT NOT NULL,
    effective_from  TEXT,
    effective_until TEXT,
    item_count      BIGINT NOT NULL,
    report          TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    published_at    TEXT,
    PRIMARY KEY (list_slug, version)
);
CREATE INDEX code_list_versions_effective ON code_list_versions (list_slug, effective_from);

CREATE TABLE code_list_items (
    list_slug   TEXT NOT NULL,
    version     BIGINT NOT NULL,
    code        TEXT NOT NULL,
    position    BIGINT NOT NULL,
    name_vi     TEXT NOT NULL,
    name_en     TEXT,
    parent_code TEXT,
    attributes  TEXT NOT NULL,
    PRIMARY KEY (list_slug, version, code),
    FOREIGN KEY (list_slug, version) REFERENCES code_list_versions (list_slug, version)
);
CREATE INDEX code_list_items_parent ON code_list_items (list_slug, version, parent_code);
