-- Identity, organisation and the audit log.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Timestamps are canonical
-- RFC 3339 text (UTC, microseconds), so they sort and compare as text.

CREATE TABLE agencies (
    id              TEXT PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    name_en         TEXT,
    kind            TEXT NOT NULL,
    parent_id       TEXT REFERENCES agencies (id),
    admin_unit_code TEXT UNIQUE,
    path            TEXT NOT NULL UNIQUE,
    created_at      TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    agency_id     TEXT NOT NULL REFERENCES agencies (id),
    roles         TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled_at   TEXT,
    created_at    TEXT NOT NULL
);
CREATE INDEX users_agency ON users (agency_id);

CREATE TABLE subsystems (
    id         TEXT PRIMARY KEY,
    xroad_id   TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    agency_id  TEXT NOT NULL REFERENCES agencies (id),
    roles      TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    user_id      TEXT REFERENCES users (id),
    subsystem_id TEXT REFERENCES subsystems (id),
    token_hash   TEXT NOT NULL UNIQUE,
    prefix       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT,
    CHECK ((user_id IS NULL AND subsystem_id IS NOT NULL) OR (user_id IS NOT NULL AND subsystem_id IS NULL))
);

CREATE TABLE sessions (
    id_hash    TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

-- Append-only, hash-chained. seq runs from 1 without gaps.
CREATE TABLE audit_log (
    seq             BIGINT PRIMARY KEY,
    at              TEXT NOT NULL,
    actor           TEXT NOT NULL,
    actor_agency_id TEXT,
    action          TEXT NOT NULL,
    target          TEXT NOT NULL,
    request_id      TEXT,
    outcome         TEXT NOT NULL,
    detail          TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

-- The newest entry's seq and hash. Every audited write locks this row first, which
-- serialises appends on both backends and lets `audit verify` detect a cut tail.
CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
