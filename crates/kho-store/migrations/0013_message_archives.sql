-- Lưu trữ nhật ký thông điệp: runs of the message log moved out of the store into bundle
-- files. Each ends at a signed checkpoint and is signed by the node (signature, over the
-- range, sha256 and archived_at); the records through end_seq are no longer in
-- message_log, and verification starts after the last archive's end.
CREATE TABLE message_archives (
    end_seq       BIGINT PRIMARY KEY,
    end_hash      TEXT NOT NULL,
    start_seq     BIGINT NOT NULL,
    start_hash    TEXT NOT NULL,
    records       BIGINT NOT NULL,
    first_at      TEXT,
    last_at       TEXT,
    checkpoint_at TEXT NOT NULL,
    file          TEXT NOT NULL,
    sha256        TEXT NOT NULL,
    archived_at   TEXT NOT NULL,
    signature     TEXT NOT NULL
);
