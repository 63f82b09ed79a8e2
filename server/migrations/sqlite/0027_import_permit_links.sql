-- Which permit lines rely on which import permit (Art. III(2)(d), III(4)(c)): an import permit
-- covers a taxon, term and quantity once, summed over every export or re-export that references
-- it. One row per line that needs the import permit, on any authority of the deployment; a
-- revoked permit's rows no longer count (the query joins `permits`).
CREATE TABLE import_permit_links (
    authority_id      TEXT NOT NULL,
    status_index      BIGINT NOT NULL,
    block             TEXT NOT NULL,
    import_country    TEXT NOT NULL,
    import_number_key TEXT NOT NULL,          -- the import permit's number, normalised
    name_key          TEXT NOT NULL,          -- comparison key of the taxon (FORMAT.md §11.3)
    term              TEXT NOT NULL,
    unit              TEXT NOT NULL,
    quantity_micro    BIGINT NOT NULL,
    PRIMARY KEY (authority_id, status_index, block)
);
CREATE INDEX import_permit_links_ref ON import_permit_links (import_country, import_number_key);
