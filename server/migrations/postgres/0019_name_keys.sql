-- Names compared the way docs/FORMAT.md §11.3 says (hidden characters removed, NFKC, lower
-- case, white space runs as one space, the confusable skeleton), so that a taxon's listing or
-- a quota cannot be missed by writing its name in another case, with a zero-width space or
-- with a look-alike letter. The key needs the Unicode tables, so the server computes it:
-- rows written before this migration get theirs when the server next starts (NULL until then,
-- and nothing is issued before that is done).
ALTER TABLE taxa ADD COLUMN name_key TEXT;
ALTER TABLE quotas ADD COLUMN name_key TEXT;
ALTER TABLE permit_lines ADD COLUMN name_key TEXT;
CREATE INDEX taxa_name_key ON taxa (name_key);
CREATE INDEX quotas_name_key ON quotas (authority_id, year, name_key, unit);
CREATE INDEX permit_lines_name_key ON permit_lines (authority_id, name_key, unit);
