-- The catalogue: data resources (tài nguyên dữ liệu).
-- The steward's description is kept whole as JSON in `body`; the columns beside it
-- are copies of the fields that listings filter and sort on.

CREATE TABLE data_resources (
    id                  TEXT PRIMARY KEY,
    slug                TEXT NOT NULL UNIQUE,
    publisher_agency_id TEXT NOT NULL REFERENCES agencies (id),
    title               TEXT NOT NULL,
    search_text         TEXT NOT NULL,
    sharing_scope       TEXT NOT NULL,
    status              TEXT NOT NULL,
    body                TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    published_at        TEXT
);
CREATE INDEX data_resources_publisher ON data_resources (publisher_agency_id);
CREATE INDEX data_resources_updated ON data_resources (updated_at);
