-- Requests and feedback from the public (yêu cầu dữ liệu, góp ý): a citizen asks an
-- agency for a dataset, or comments on a published one; the agency answers.

CREATE TABLE citizen_requests (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    resource_id TEXT REFERENCES data_resources (id),
    agency_id   TEXT NOT NULL REFERENCES agencies (id),
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    answer      TEXT,
    answered_by TEXT,
    answered_at TEXT
);
CREATE INDEX citizen_requests_agency ON citizen_requests (agency_id, created_at);
CREATE INDEX citizen_requests_resource ON citizen_requests (resource_id);
