-- Import permits of Parties that do not issue on this deployment, received as CITESEPermit XML
-- (docs/FEDERATION.md) by the authority whose Appendix-I exports they back. Kept unverified:
-- their signature is checked once the trust directory holds the partners' keys. Issuance sums
-- the exports referencing one (import_permit_links) against its lines, as for a local one.
CREATE TABLE partner_import_permits (
    authority_id   TEXT NOT NULL,           -- the receiving (exporting) authority
    import_country TEXT NOT NULL,           -- the importing Party that issued it
    number         TEXT NOT NULL,
    number_key     TEXT NOT NULL,           -- the number, normalised
    valid_until    TEXT NOT NULL,           -- last day of validity, YYYY-MM-DD
    xml            TEXT NOT NULL,           -- the message as received
    submitted_by   TEXT NOT NULL,           -- token id
    submitted_at   BIGINT NOT NULL,
    PRIMARY KEY (authority_id, import_country, number_key)
);
CREATE TABLE partner_import_lines (
    authority_id   TEXT NOT NULL,
    import_country TEXT NOT NULL,
    number_key     TEXT NOT NULL,
    block          TEXT NOT NULL,
    name_key       TEXT NOT NULL,           -- comparison key of the taxon (FORMAT.md §11.3)
    term           TEXT NOT NULL,
    unit           TEXT NOT NULL,
    quantity_micro BIGINT NOT NULL,
    PRIMARY KEY (authority_id, import_country, number_key, block)
);
