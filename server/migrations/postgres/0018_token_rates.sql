-- Per-token budgets of field report uploads and of the alerts their reports raise, so that one
-- device (or a stolen token) cannot flood the service or an authority's alert list. The limits
-- are the deployment's (an operator changes them here); the counts are kept here too, so that
-- every replica spends from the same budget. A window starts at a token's first use after the
-- previous one ended (fixed windows).
CREATE TABLE rate_limits (
    budget            TEXT PRIMARY KEY,         -- 'uploads' | 'alerts'
    allowed           BIGINT NOT NULL,          -- at most this many per window and token
    window_seconds    BIGINT NOT NULL
);
INSERT INTO rate_limits (budget, allowed, window_seconds) VALUES
    ('uploads', 600, 60),
    ('alerts', 1000, 3600);

CREATE TABLE rate_windows (
    token_id          TEXT NOT NULL REFERENCES tokens (id),
    budget            TEXT NOT NULL,
    window_start      BIGINT NOT NULL,
    used              BIGINT NOT NULL,
    PRIMARY KEY (token_id, budget)
);
