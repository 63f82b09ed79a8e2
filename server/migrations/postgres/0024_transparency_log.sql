-- The transparency log (docs/FORMAT.md §12): every audit event is a leaf of an RFC 9162 Merkle
-- tree. An event's position is `seq`, assigned in the event's own transaction; the hashes of the
-- complete subtrees are stored so that roots and proofs read O(log² n) rows.
-- Nothing deletes from these tables: entries are kept for good (at least five years after the
-- expiry of the permits they concern).

-- Events written before the log existed get their positions when the server next starts.
ALTER TABLE audit_events ADD COLUMN seq BIGINT;
ALTER TABLE audit_events ADD COLUMN subject TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX audit_events_seq ON audit_events (seq);
CREATE INDEX audit_events_subject ON audit_events (subject, seq);

-- The number of leaves. Appending updates this one row first, which serialises appenders across
-- replicas (a row lock on PostgreSQL, the single writer on SQLite).
CREATE TABLE log_state (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    size            BIGINT NOT NULL CHECK (size >= 0)
);
INSERT INTO log_state (id, size) VALUES (1, 0);

-- Complete aligned subtrees: (level, idx) covers leaves idx·2^level .. (idx+1)·2^level - 1.
-- Level 0 holds the leaf hashes; the key forbids two leaves at one index.
CREATE TABLE log_nodes (
    level           BIGINT NOT NULL CHECK (level >= 0 AND level < 64),
    idx             BIGINT NOT NULL CHECK (idx >= 0),
    hash            BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Signed tree heads (checkpoints) as served, one per size.
CREATE TABLE log_heads (
    size            BIGINT PRIMARY KEY,
    root            BYTEA NOT NULL,
    signed_at       BIGINT NOT NULL,
    checkpoint      TEXT NOT NULL
);
