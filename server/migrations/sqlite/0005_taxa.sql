-- Reference taxa: how a species is listed in the CITES Appendices. Issuance refuses a permit
-- line whose appendix or kingdom contradicts a listed taxon; taxa not in the table are not
-- checked (the table is a reference a deployment loads, not the whole checklist: Species+
-- data may not be redistributed, so --demo seeds a few hand-written ones).
CREATE TABLE taxa (
    scientific_name TEXT PRIMARY KEY,
    kingdom         TEXT NOT NULL,            -- animal | plant
    appendices      TEXT NOT NULL,            -- e.g. 'I', 'II', or 'I/II' for a split listing
    common_name     TEXT,
    updated_at      BIGINT NOT NULL
);
