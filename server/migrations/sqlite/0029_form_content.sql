-- What the standard form carries beyond the signed payload (Res. Conf. 12.3 Annex 1): original
-- or copy, the document it replaces (number, date, reason), a retrospective issue's statement,
-- place of issue, signatory and the authority's address as in the CITES Directory. JSON, as
-- given in the issuing request and checked by `views::check_form`; NULL when none was given.
ALTER TABLE permits ADD COLUMN form_content TEXT;
