-- Chứng thư số của phân hệ — client TLS certificates registered for subsystems, by
-- the SHA-256 fingerprint of the certificate (DER): the gateway accepts a subsystem
-- that presents one instead of an API token.

CREATE TABLE subsystem_certificates (
    fingerprint  TEXT PRIMARY KEY,
    subsystem_id TEXT NOT NULL REFERENCES subsystems (id),
    label        TEXT NOT NULL,
    added_at     TEXT NOT NULL,
    revoked_at   TEXT
);
CREATE INDEX subsystem_certificates_subsystem ON subsystem_certificates (subsystem_id);
