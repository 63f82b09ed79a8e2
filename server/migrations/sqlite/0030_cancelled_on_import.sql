-- no-transaction
-- A permit's fifth state, cancelled on import: the importing Party's authority confirmed the
-- import and the single-use document serves no further crossing (docs/RULES.md B9). SQLite
-- cannot alter a CHECK constraint, so the table is rebuilt with the same rows, as in 0025:
-- foreign keys off (not changeable inside a transaction, hence no-transaction and the explicit
-- one below), copy, drop, rename, indexes again, foreign keys on. The tables that refer to
-- permits keep their references by name, and every row they refer to is copied.
PRAGMA foreign_keys = OFF;
BEGIN IMMEDIATE;

CREATE TABLE permits_new (
    authority_id      TEXT NOT NULL REFERENCES authorities (id),
    status_index      BIGINT NOT NULL,
    number            TEXT NOT NULL,            -- as printed
    number_key        TEXT NOT NULL,            -- normalised: unique per authority
    document_type     TEXT NOT NULL,
    export_country    TEXT NOT NULL,
    import_country    TEXT,
    issued_at         BIGINT NOT NULL,
    valid_until       TEXT NOT NULL,            -- YYYY-MM-DD, last day of validity
    kid               TEXT NOT NULL,            -- key that signed it
    draft             TEXT NOT NULL,            -- the submitted JSON draft
    qr_text           TEXT NOT NULL,            -- the signed payload, PS1:…
    import_permit     TEXT,                     -- Appendix-I export: referenced import permit (JSON)
    state             TEXT NOT NULL
                      CHECK (state IN ('valid', 'suspended', 'revoked', 'used', 'cancelled_on_import')),
    state_reason      TEXT,
    state_changed_at  BIGINT NOT NULL,
    created_by        TEXT NOT NULL,
    application_id    TEXT REFERENCES applications (id),
    revocation_kind   TEXT,
    replaced_by       TEXT,
    form_content      TEXT,
    PRIMARY KEY (authority_id, status_index)
);
INSERT INTO permits_new (authority_id, status_index, number, number_key, document_type,
    export_country, import_country, issued_at, valid_until, kid, draft, qr_text, import_permit,
    state, state_reason, state_changed_at, created_by, application_id, revocation_kind,
    replaced_by, form_content)
SELECT authority_id, status_index, number, number_key, document_type, export_country,
    import_country, issued_at, valid_until, kid, draft, qr_text, import_permit, state,
    state_reason, state_changed_at, created_by, application_id, revocation_kind, replaced_by,
    form_content FROM permits;
DROP TABLE permits;
ALTER TABLE permits_new RENAME TO permits;
CREATE UNIQUE INDEX permits_number ON permits (authority_id, number_key);
CREATE INDEX permits_import_country ON permits (import_country, issued_at);
CREATE INDEX permits_issued_at ON permits (authority_id, issued_at);
CREATE INDEX permits_state ON permits (authority_id, state, status_index);
COMMIT;
PRAGMA foreign_keys = ON;
