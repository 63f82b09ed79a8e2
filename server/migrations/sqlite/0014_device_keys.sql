-- Device keys (docs/FORMAT.md §10). An officer's device generates an ECDSA P-256 key pair in
-- its platform's key store and binds the public key to its device token at enrolment
-- (POST /api/v1/devices/key, with proof of possession). One key per token, one token per
-- key; the first binding wins, and only the admin clears it (the device then enrols anew).
CREATE TABLE device_keys (
    token_id          TEXT PRIMARY KEY REFERENCES tokens (id),
    key_id            TEXT NOT NULL UNIQUE,     -- 32 hex digits, FORMAT.md §10.1
    public_key        BLOB NOT NULL,            -- SEC1 uncompressed, 65 bytes
    bound_at          BIGINT NOT NULL
);

-- The device signature each report was accepted with (verified against the uploading
-- token's key before it was stored; NULL for a report from a token without a key).
ALTER TABLE scans ADD COLUMN device_key_id TEXT;
ALTER TABLE scans ADD COLUMN signature BLOB;
ALTER TABLE endorsements ADD COLUMN device_key_id TEXT;
ALTER TABLE endorsements ADD COLUMN signature BLOB;
