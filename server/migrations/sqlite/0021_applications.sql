-- The application workflow (docs/WORKFLOW.md): people with accounts, their sessions, the
-- applications they file, every transition, supporting documents and the notification outbox.

-- A person belonging to one authority. Traders register themselves (status 'pending' until the
-- authority's admin or a clerk approves them); staff are created by the authority's admin.
-- roles: comma-separated role names (applicant, clerk, scientific_authority, signatory,
-- authority_admin); password_hash: an Argon2id PHC string.
CREATE TABLE users (
    id                TEXT PRIMARY KEY,                 -- 'usr_…'
    authority_id      TEXT NOT NULL REFERENCES authorities (id),
    email             TEXT NOT NULL UNIQUE,             -- lower case; the login name
    name              TEXT NOT NULL,
    password_hash     TEXT NOT NULL,
    roles             TEXT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
    company           TEXT,
    address           TEXT,
    country           TEXT,
    phone             TEXT,
    created_at        BIGINT NOT NULL,
    approved_by       TEXT,
    approved_at       BIGINT
);
CREATE INDEX users_authority ON users (authority_id, status);

-- A login. Only the SHA-256 of the bearer secret is kept; csrf_secret is the per-session key
-- a browser form's CSRF token is derived from. Logout deletes the row; so does expiry.
CREATE TABLE sessions (
    token_hash        BLOB PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id),
    csrf_secret       BLOB NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- How an authority runs its applications: the numbering pattern of the permits it issues from
-- them, the counter behind {seq}, and when the Scientific Authority's advice is required.
CREATE TABLE application_settings (
    authority_id      TEXT PRIMARY KEY REFERENCES authorities (id),
    number_pattern    TEXT NOT NULL,
    next_seq          BIGINT NOT NULL,
    advice_policy     TEXT NOT NULL
);

-- An application. draft: the permit as the trader describes it (JSON, without its number);
-- rules: the last rule results (JSON); version: bumped by every change, compared on update.
CREATE TABLE applications (
    id                TEXT PRIMARY KEY,                 -- 'app_…'
    authority_id      TEXT NOT NULL REFERENCES authorities (id),
    applicant_id      TEXT NOT NULL REFERENCES users (id),
    document_type     TEXT NOT NULL,
    state             TEXT NOT NULL,
    version           BIGINT NOT NULL,
    draft             TEXT NOT NULL,
    import_permit     TEXT,
    rules             TEXT NOT NULL,
    taxa              TEXT NOT NULL,                    -- '|name|name|', for the taxon filter
    advice            TEXT,                             -- positive, negative, conditional
    advice_text       TEXT,
    permit_number     TEXT,                             -- assigned at approval
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX applications_authority ON applications (authority_id, state, created_at);
CREATE INDEX applications_applicant ON applications (applicant_id, created_at);

-- Every transition, with who, when and why.
CREATE TABLE application_events (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    application_id    TEXT NOT NULL REFERENCES applications (id),
    at                BIGINT NOT NULL,
    actor             TEXT NOT NULL,                    -- user id
    action            TEXT NOT NULL,
    from_state        TEXT NOT NULL,
    to_state          TEXT NOT NULL,
    comment           TEXT
);
CREATE INDEX application_events_application ON application_events (application_id, id);

-- Supporting documents, in the database so that every replica serves them.
CREATE TABLE attachments (
    id                TEXT PRIMARY KEY,                 -- 'att_…'
    application_id    TEXT NOT NULL REFERENCES applications (id),
    filename          TEXT NOT NULL,
    content_type      TEXT NOT NULL,                    -- sniffed from the bytes
    size              BIGINT NOT NULL,
    content           BLOB NOT NULL,
    uploaded_by       TEXT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX attachments_application ON attachments (application_id, created_at);

-- Messages to deliver (the trader is told of every state change); a deliverer marks them sent.
CREATE TABLE outbox (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient         TEXT NOT NULL,
    subject           TEXT NOT NULL,
    body              TEXT NOT NULL,
    application_id    TEXT REFERENCES applications (id),
    created_at        BIGINT NOT NULL,
    sent_at           BIGINT,
    attempts          BIGINT NOT NULL DEFAULT 0,
    last_error        TEXT
);
CREATE INDEX outbox_pending ON outbox (sent_at, id);

-- The application a permit was issued from (NULL for permits issued directly).
ALTER TABLE permits ADD COLUMN application_id TEXT REFERENCES applications (id);
