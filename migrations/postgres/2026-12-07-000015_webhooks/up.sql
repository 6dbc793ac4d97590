-- Webhooks (API.md §11). `webhook_deliveries` is the outbox: a change writes one row for each
-- active webhook subscribed to its event, in the change's own transaction, so an event exists
-- if and only if its change committed. The sender claims due rows with a lease (an instance
-- that dies mid-send leaves its claim to expire and another instance takes it over) and
-- writes every attempt to `webhook_attempts`.
CREATE TABLE webhooks (
    id BIGSERIAL PRIMARY KEY,
    url TEXT NOT NULL,
    -- A JSON array of event names, e.g. ["stock.changed","product.created"].
    events TEXT NOT NULL,
    -- Kept as given: every request is signed with it (HMAC-SHA256).
    secret TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE webhook_deliveries (
    id BIGSERIAL PRIMARY KEY,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    -- What delivery order is kept for, e.g. "product:12".
    object_key TEXT NOT NULL,
    -- The event's `data`, fixed when the change committed.
    data TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- pending | delivered | failed
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    leased_until TIMESTAMP
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_object ON webhook_deliveries (webhook_id, object_key, state, id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

CREATE TABLE webhook_attempts (
    id BIGSERIAL PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    webhook_id BIGINT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT NOT NULL DEFAULT '',
    duration_ms BIGINT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX webhook_attempts_webhook ON webhook_attempts (webhook_id, id);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
