-- Foundation: deployment settings, Management Authorities, API tokens, signing keys, audit trail.
-- Times are unix seconds in BIGINT columns so that SQLite and PostgreSQL store the same values.
-- Released migrations are never edited; changes go into a new numbered file.

-- One row (id = 1) with deployment-wide settings and counters.
CREATE TABLE deployment (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    -- A constant sealed under the master key at first start. Opening it at every start proves the
    -- configured master key is the one that sealed the private keys in this database.
    master_check    BLOB NOT NULL,
    -- Version of the trust list; bumped in the same transaction as any key change.
    trust_version   BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);

-- Issuing Management Authorities (tenants). `id` is a short code chosen at creation, e.g. 'KE'.
CREATE TABLE authorities (
    id              TEXT PRIMARY KEY,
    country         TEXT NOT NULL,            -- ISO 3166-1 alpha-2
    name            TEXT NOT NULL,
    -- Version of this authority's signed status list; bumped with every permit state change.
    status_version  BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX authorities_country ON authorities (country);

-- API tokens. Only the SHA-256 of the secret is stored; the secret is shown once at creation.
CREATE TABLE tokens (
    id              TEXT PRIMARY KEY,         -- public handle, e.g. 'tok_…'
    token_hash      BLOB NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'issuer', 'officer', 'importer')),
    authority_id    TEXT REFERENCES authorities (id),   -- set for issuers only
    country         TEXT,                                -- set for officers and importers
    label           TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    revoked_at      BIGINT,
    CHECK ((role = 'issuer') = (authority_id IS NOT NULL)),
    CHECK ((role IN ('officer', 'importer')) = (country IS NOT NULL))
);

-- Ed25519 permit-signing keys of the authorities. The seed is sealed under the master key
-- (nonce || XChaCha20-Poly1305 ciphertext, associated data bound to kid).
CREATE TABLE signing_keys (
    kid               TEXT PRIMARY KEY,
    authority_id      TEXT NOT NULL REFERENCES authorities (id),
    public_key        BLOB NOT NULL,
    sealed_seed       BLOB NOT NULL,
    -- active: signs new permits. retired: verifies what it signed before valid_until.
    -- compromised: signatures dated at or after compromised_since are not to be trusted.
    status            TEXT NOT NULL CHECK (status IN ('active', 'retired', 'compromised')),
    created_at        BIGINT NOT NULL,
    valid_from        BIGINT NOT NULL,
    valid_until       BIGINT,
    compromised_since BIGINT
);
CREATE INDEX signing_keys_authority ON signing_keys (authority_id);
-- At most one signing key per authority at any time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (authority_id) WHERE status = 'active';

-- Deployment root keys; the active one signs the trust list.
CREATE TABLE root_keys (
    kid             TEXT PRIMARY KEY,
    public_key      BLOB NOT NULL,
    sealed_seed     BLOB NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX root_keys_one_active ON root_keys (status) WHERE status = 'active';

-- Append-only record of who changed what.
CREATE TABLE audit_events (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    at              BIGINT NOT NULL,
    actor           TEXT NOT NULL,            -- token id, or 'cli' for the operator's command line
    authority_id    TEXT,
    action          TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX audit_events_authority ON audit_events (authority_id, id);
