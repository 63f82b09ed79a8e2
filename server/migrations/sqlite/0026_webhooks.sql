-- Webhook subscriptions and their durable outbox (docs/INTEGRATION.md): a customs or issuer
-- token subscribes a URL to a permit; every event of that permit is written to the outbox in
-- the transaction of the change, and delivered from there (server/src/webhooks.rs).

CREATE TABLE webhook_subscriptions (
    id              TEXT PRIMARY KEY,         -- 'whk_…'
    token_id        TEXT NOT NULL REFERENCES tokens (id),
    authority_id    TEXT NOT NULL,
    status_index    BIGINT NOT NULL,
    url             TEXT NOT NULL,            -- http(s) only, checked on subscription
    secret          BLOB NOT NULL,            -- sealed under the master key, bound to id
    created_at      BIGINT NOT NULL,
    FOREIGN KEY (authority_id, status_index) REFERENCES permits (authority_id, status_index)
);
CREATE INDEX webhook_subscriptions_permit ON webhook_subscriptions (authority_id, status_index);

-- One row per event and subscription. seq orders a subscription's events; only the oldest
-- undelivered one is leased, so a subscriber gets its permit's events in order. A lease names
-- the replica holding it until lease_until; an expired lease (a killed replica) is taken again.
CREATE TABLE webhook_outbox (
    id              TEXT PRIMARY KEY,         -- the webhook-id: '<subscription>.<seq>'
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id),
    seq             BIGINT NOT NULL CHECK (seq > 0),
    event           TEXT NOT NULL,
    body            TEXT NOT NULL,            -- the JSON delivered, signed as is
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    leased_by       TEXT,
    delivered_at    BIGINT,
    last_error      TEXT,
    UNIQUE (subscription_id, seq)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (delivered_at, next_attempt_at);
