-- The quota ledger (docs/RULES.md Q3, Q4): a quota may be of one term, one source and one
-- purpose ('': any, so that the unique index holds plain columns), so that two quotas of a taxon and unit may differ in those alone; and
-- beside the quantity issued under it, the quantity endorsed at export (box 14) is kept.
-- Permit lines keep their source and their permit's purpose, which the match needs when a
-- quota is set after issuance; lines stored before this migration have neither (NULL) and are
-- counted only by quotas that name no source or purpose. Endorsed totals start at zero: they
-- count the export endorsements stored from this migration on.
-- SQLite cannot drop a table constraint: the table is rebuilt without UNIQUE (authority_id,
-- year, scientific_name, unit), whose place takes the index over all the quota's keys.
CREATE TABLE quotas_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    authority_id      TEXT NOT NULL REFERENCES authorities (id),
    year              BIGINT NOT NULL,
    scientific_name   TEXT NOT NULL,
    unit              TEXT NOT NULL,
    quota_micro       BIGINT NOT NULL,
    used_micro        BIGINT NOT NULL DEFAULT 0,
    name_key          TEXT,
    term              TEXT NOT NULL DEFAULT '',
    source            TEXT NOT NULL DEFAULT '',
    purpose           TEXT NOT NULL DEFAULT '',
    endorsed_micro    BIGINT NOT NULL DEFAULT 0
);
INSERT INTO quotas_new (id, authority_id, year, scientific_name, unit, quota_micro, used_micro,
    name_key)
SELECT id, authority_id, year, scientific_name, unit, quota_micro, used_micro, name_key
FROM quotas;
DROP TABLE quotas;
ALTER TABLE quotas_new RENAME TO quotas;
CREATE INDEX quotas_name_key ON quotas (authority_id, year, name_key, unit);
CREATE UNIQUE INDEX quotas_keys ON quotas (authority_id, year, scientific_name, unit, term,
    source, purpose);
ALTER TABLE permit_lines ADD COLUMN source TEXT;
ALTER TABLE permit_lines ADD COLUMN purpose TEXT;
