-- Nền tảng chia sẻ (LGSP) — the service registry, agreements and the gateway's
-- message log (hash-chained, with signed checkpoints).

CREATE TABLE exchange_services (
    id          TEXT PRIMARY KEY,
    provider_id TEXT NOT NULL REFERENCES subsystems (id),
    code        TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The ServiceTarget as JSON (dataset: resource, table, columns, filter, key;
    -- proxied: backend URL, OpenAPI document, backend token).
    target      TEXT NOT NULL,
    timeout_ms  BIGINT NOT NULL,
    log_bodies  BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (provider_id, code)
);

CREATE TABLE exchange_agreements (
    id              TEXT PRIMARY KEY,
    consumer_id     TEXT NOT NULL REFERENCES subsystems (id),
    service_id      TEXT NOT NULL REFERENCES exchange_services (id),
    -- JSON arrays.
    endpoints       TEXT NOT NULL,
    fields          TEXT NOT NULL,
    masked          TEXT NOT NULL,
    purposes        TEXT NOT NULL,
    legal_basis     TEXT NOT NULL,
    valid_from      TEXT NOT NULL,
    valid_until     TEXT,
    rate_per_second BIGINT NOT NULL,
    burst           BIGINT NOT NULL,
    daily_quota     BIGINT,
    status          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    decided_by      TEXT,
    decided_at      TEXT,
    note            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX exchange_agreements_consumer ON exchange_agreements (consumer_id);
CREATE INDEX exchange_agreements_service ON exchange_agreements (service_id);

-- One record per gateway exchange; seq runs from 1 without gaps.
CREATE TABLE message_log (
    seq             BIGINT PRIMARY KEY,
    message_id      TEXT NOT NULL,
    request_id      TEXT NOT NULL,
    client          TEXT NOT NULL,
    service         TEXT NOT NULL,
    method          TEXT NOT NULL,
    path            TEXT NOT NULL,
    purpose         TEXT NOT NULL,
    agreement_id    TEXT,
    user_id         TEXT,
    issue           TEXT,
    request_in_ts   TEXT NOT NULL,
    request_out_ts  TEXT,
    response_in_ts  TEXT,
    response_out_ts TEXT NOT NULL,
    request_size    BIGINT NOT NULL,
    response_size   BIGINT NOT NULL,
    status_code     BIGINT NOT NULL,
    succeeded       BIGINT NOT NULL,
    fault_code      TEXT,
    fault_string    TEXT,
    request_hash    TEXT NOT NULL,
    -- JSON array of data-subject digests.
    subjects        TEXT NOT NULL,
    body            TEXT,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);
CREATE INDEX message_log_message_id ON message_log (message_id);
CREATE INDEX message_log_client ON message_log (client, seq);
CREATE INDEX message_log_service ON message_log (service, seq);

-- Who was served which data subject's records: a lookup index over message_log.subjects.
CREATE TABLE message_subjects (
    subject TEXT NOT NULL,
    seq     BIGINT NOT NULL,
    PRIMARY KEY (subject, seq)
);

CREATE TABLE message_checkpoints (
    seq        BIGINT PRIMARY KEY,
    hash       TEXT NOT NULL,
    at         TEXT NOT NULL,
    public_key TEXT NOT NULL,
    signature  TEXT NOT NULL
);

-- The newest record's seq and hash; every append locks this row first.
CREATE TABLE message_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO message_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
