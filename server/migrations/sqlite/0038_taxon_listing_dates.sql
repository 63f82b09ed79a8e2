-- What the listing rules of pre-Convention certificates and certificates of origin need of a
-- reference taxon (docs/RULES.md T2, T3): the date it was first included in the Appendices
-- (YYYY-MM-DD; a pre-Convention specimen was acquired before it, Res. Conf. 13.6), and, for
-- an Appendix-III listing, the Party that listed it (ISO 3166 alpha-2; Art. V(3): its exports
-- travel on export permits, other Parties' on certificates of origin). NULL: not known, not
-- checked.
ALTER TABLE taxa ADD COLUMN listed_on TEXT;
ALTER TABLE taxa ADD COLUMN app3_party TEXT;
