-- Gắn cột với phần tử dữ liệu — a table's columns bound to data elements of the
-- dictionary, and how each bound column conforms in each table version.

CREATE TABLE column_bindings (
    resource_id TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    column_name TEXT NOT NULL,
    element_id  TEXT NOT NULL REFERENCES data_elements (id),
    bound_by    TEXT NOT NULL,
    bound_at    TEXT NOT NULL,
    PRIMARY KEY (resource_id, table_name, column_name)
);

CREATE TABLE column_conformance (
    resource_id TEXT NOT NULL,
    table_name  TEXT NOT NULL,
    version     BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    -- The ColumnConformance report as JSON.
    report      TEXT NOT NULL,
    checked_at  TEXT NOT NULL,
    PRIMARY KEY (resource_id, table_name, version, column_name)
);
