-- The customs role: a token of a country's customs administration (docs/INTEGRATION.md), scoped
-- to a country like officer and importer tokens.
ALTER TABLE tokens DROP CONSTRAINT tokens_role_check;
ALTER TABLE tokens DROP CONSTRAINT tokens_check1;
ALTER TABLE tokens ADD CONSTRAINT tokens_role_check
    CHECK (role IN ('admin', 'issuer', 'officer', 'importer', 'customs'));
ALTER TABLE tokens ADD CONSTRAINT tokens_country_check
    CHECK ((role IN ('officer', 'importer', 'customs')) = (country IS NOT NULL));
