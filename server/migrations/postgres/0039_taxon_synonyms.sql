-- A checklist import (docs/RULES.md T4; `permitseal taxa import`, POST /api/v1/taxa/import)
-- brings synonyms and annotations: a synonym is a row of its own, listed as its accepted name
-- is, so that a permit line written with the synonym is checked against the same listing;
-- `accepted_name` names that accepted name (NULL on accepted names). `annotation` is the
-- listing's annotation as the checklist gives it (e.g. #4), plain text.
ALTER TABLE taxa ADD COLUMN accepted_name TEXT;
ALTER TABLE taxa ADD COLUMN annotation TEXT;
