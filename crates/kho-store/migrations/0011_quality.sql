-- Chất lượng dữ liệu — each table's quality rules, the runs of its checks per table
-- version (results and six-criteria scores as JSON), and column profiles.

CREATE TABLE quality_rules (
    resource_id TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    -- The rules document as written (YAML or JSON).
    rules       TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (resource_id, table_name)
);

CREATE TABLE quality_runs (
    id          BIGINT PRIMARY KEY,
    resource_id TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    run_trigger TEXT NOT NULL,
    run_by      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    elapsed_ms  BIGINT NOT NULL,
    row_count   BIGINT NOT NULL,
    -- Every check's result, and the scores, as JSON.
    results     TEXT NOT NULL,
    scores      TEXT NOT NULL
);
CREATE INDEX quality_runs_table ON quality_runs (resource_id, table_name, id);

CREATE TABLE quality_profiles (
    resource_id TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    -- The TableProfile as JSON.
    profile     TEXT NOT NULL,
    made_at     TEXT NOT NULL,
    PRIMARY KEY (resource_id, table_name, version)
);
