-- Root key rotation: an 'incoming' root key signs the trust list beside the active one until
-- the operator finishes the rotation, so phones pinning either key accept the list meanwhile.
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE root_keys_new (
    kid             TEXT PRIMARY KEY,
    public_key      BLOB NOT NULL,
    sealed_seed     BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'incoming', 'retired')),
    created_at      BIGINT NOT NULL
);
INSERT INTO root_keys_new (kid, public_key, sealed_seed, status, created_at)
    SELECT kid, public_key, sealed_seed, status, created_at FROM root_keys;
DROP TABLE root_keys;
ALTER TABLE root_keys_new RENAME TO root_keys;
CREATE UNIQUE INDEX root_keys_one_active ON root_keys (status) WHERE status = 'active';
CREATE UNIQUE INDEX root_keys_one_incoming ON root_keys (status) WHERE status = 'incoming';
