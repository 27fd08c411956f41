-- Tình trạng dịch vụ — each service's health counted from the message log, in the same
-- transaction as the records it counts, so that it survives a restart of the gateway.
-- message_head.health_seq is the last record counted: a log stored before this table
-- existed is counted once, from its first record still stored, when the gateway starts.
CREATE TABLE service_health (
    service        TEXT PRIMARY KEY,
    since          TEXT NOT NULL,
    successes      BIGINT NOT NULL,
    failures       BIGINT NOT NULL,
    last_success   TEXT,
    last_failure   TEXT,
    min_ms         DOUBLE PRECISION NOT NULL,
    max_ms         DOUBLE PRECISION NOT NULL,
    total_ms       DOUBLE PRECISION NOT NULL,
    request_bytes  BIGINT NOT NULL,
    response_bytes BIGINT NOT NULL
);
ALTER TABLE message_head ADD COLUMN health_seq BIGINT NOT NULL DEFAULT 0;
