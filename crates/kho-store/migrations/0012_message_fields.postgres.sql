-- The message log keeps each record's fields as the text its hash covers (the JSON
-- array from message_id to body, as the gateway's journal wrote it), beside the
-- columns records are found by.
CREATE TABLE message_records (
    seq           BIGINT PRIMARY KEY,
    message_id    TEXT NOT NULL,
    client        TEXT NOT NULL,
    service       TEXT NOT NULL,
    request_in_ts TEXT NOT NULL,
    fields        TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
INSERT INTO message_records (seq, message_id, client, service, request_in_ts, fields, prev_hash, hash)
SELECT seq, message_id, client, service, request_in_ts,
       json_build_array(message_id, request_id, client, service, method, path, purpose, agreement_id, user_id,
                        issue, request_in_ts, request_out_ts, response_in_ts, response_out_ts, request_size,
                        response_size, status_code, succeeded <> 0, fault_code, fault_string, request_hash,
                        subjects::json, body)::text,
       prev_hash, hash
FROM message_log;
DROP TABLE message_log;
ALTER TABLE message_records RENAME TO message_log;
CREATE INDEX message_log_message_id ON message_log (message_id);
CREATE INDEX message_log_client ON message_log (client, seq);
CREATE INDEX message_log_service ON message_log (service, seq);
