-- The paper permit (docs/DOCUMENT.md). An authority prints its documents in one of the three
-- working languages of CITES unless asked for another, with its postal address in box 6 and
-- the place of issue in box 13. Authorities created before this migration print in English.
ALTER TABLE authorities ADD COLUMN language TEXT NOT NULL DEFAULT 'en'
    CHECK (language IN ('en', 'fr', 'es'));
ALTER TABLE authorities ADD COLUMN address TEXT;
ALTER TABLE authorities ADD COLUMN issue_place TEXT;
-- Box 11a prints "x/y": the quantity exported under the quota this year including this block,
-- as it stood when the permit was issued. NULL where no quota applied at issuance (and for
-- permits issued before this migration).
ALTER TABLE permit_lines ADD COLUMN quota_used_micro BIGINT;
