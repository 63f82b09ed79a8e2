-- no-transaction
-- The customs role: a token of a country's customs administration (docs/INTEGRATION.md), scoped
-- to a country like officer and importer tokens. SQLite cannot alter a CHECK constraint, so the
-- table is rebuilt with the same rows, in SQLite's documented order: foreign keys off (which
-- cannot change inside a transaction, hence no-transaction and the explicit one below), copy,
-- drop, rename, foreign keys on. The tables that refer to tokens keep their references by
-- name, and every row they refer to is copied. Run again after a crash before sqlx records it,
-- the rebuild gives the same table.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE tokens_new (
    id              TEXT PRIMARY KEY,         -- public handle, e.g. 'tok_…'
    token_hash      BLOB NOT NULL UNIQUE,
    role            TEXT NOT NULL
                    CHECK (role IN ('admin', 'issuer', 'officer', 'importer', 'customs')),
    authority_id    TEXT REFERENCES authorities (id),   -- set for issuers only
    country         TEXT,                     -- set for officers, importers and customs
    label           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    CHECK ((role = 'issuer') = (authority_id IS NOT NULL)),
    CHECK ((role IN ('officer', 'importer', 'customs')) = (country IS NOT NULL))
);
INSERT INTO tokens_new (id, token_hash, role, authority_id, country, label, created_at, revoked_at)
SELECT id, token_hash, role, authority_id, country, label, created_at, revoked_at FROM tokens;
DROP TABLE tokens;
ALTER TABLE tokens_new RENAME TO tokens;
COMMIT;
PRAGMA foreign_keys = ON;
