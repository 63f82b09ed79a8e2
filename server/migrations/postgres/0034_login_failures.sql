-- Failed logins, for throttling: one row per failure, keyed by what was attacked
-- (`account:<email>` or `address:<ip>`). Rows older than the window are deleted on the next
-- failure; a successful login deletes its account's rows.
CREATE TABLE login_failures (
    key  TEXT NOT NULL,
    at   BIGINT NOT NULL
);
CREATE INDEX login_failures_key_at ON login_failures (key, at);
