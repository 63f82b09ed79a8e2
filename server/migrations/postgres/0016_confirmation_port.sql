-- The port of entry of an import confirmation, as an export endorsement records its port of
-- export: a UN/LOCODE, coordinates, or both. Confirmations stored before this have none
-- (NULL in all three); every confirmation from now on has a UN/LOCODE or coordinates.
ALTER TABLE confirmations ADD COLUMN locode TEXT;
ALTER TABLE confirmations ADD COLUMN lat DOUBLE PRECISION;
ALTER TABLE confirmations ADD COLUMN lon DOUBLE PRECISION;
