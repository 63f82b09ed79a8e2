-- A subscription can be deleted by the token that made it (or the platform admin). Its row
-- stays, marked, so the outbox rows that name it keep their reference; its messages not yet
-- delivered are marked cancelled (never leased again) rather than deleted, so what happened to
-- each is on record. Other subscriptions' messages are not touched.
ALTER TABLE webhook_subscriptions ADD COLUMN deleted_at BIGINT;
ALTER TABLE webhook_subscriptions ADD COLUMN deleted_by TEXT;
ALTER TABLE webhook_outbox ADD COLUMN cancelled_at BIGINT;
