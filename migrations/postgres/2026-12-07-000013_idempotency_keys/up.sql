-- Idempotency keys (API.md §11). A row is claimed before the request runs (so a duplicate
-- arriving meanwhile gets 409), marked `committed_at` inside the change's own transaction (so
-- a claim whose change committed is never run again, even when the answer was lost), and
-- given the answer to replay once the request is done. Rows older than 24 hours are purged.
CREATE TABLE idempotency_keys (
    id BIGSERIAL PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    committed_at TIMESTAMP,
    status INTEGER,
    content_type TEXT,
    response BYTEA
);
CREATE UNIQUE INDEX idempotency_keys_key ON idempotency_keys (user_id, method, path, idem_key);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
