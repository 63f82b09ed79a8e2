-- The quota ledger (docs/RULES.md Q3, Q4): a quota may be of one term, one source and one
-- purpose ('': any, so that the unique index holds plain columns), so that two quotas of a taxon and unit may differ in those alone; and
-- beside the quantity issued under it, the quantity endorsed at export (box 14) is kept.
-- Permit lines keep their source and their permit's purpose, which the match needs when a
-- quota is set after issuance; lines stored before this migration have neither (NULL) and are
-- counted only by quotas that name no source or purpose. Endorsed totals start at zero: they
-- count the export endorsements stored from this migration on.
ALTER TABLE quotas DROP CONSTRAINT quotas_authority_id_year_scientific_name_unit_key;
ALTER TABLE quotas ADD COLUMN term TEXT NOT NULL DEFAULT '';
ALTER TABLE quotas ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE quotas ADD COLUMN purpose TEXT NOT NULL DEFAULT '';
ALTER TABLE quotas ADD COLUMN endorsed_micro BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX quotas_keys ON quotas (authority_id, year, scientific_name, unit, term,
    source, purpose);
ALTER TABLE permit_lines ADD COLUMN source TEXT;
ALTER TABLE permit_lines ADD COLUMN purpose TEXT;
