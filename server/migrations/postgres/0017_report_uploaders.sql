-- Field reports belong to the token (device) that uploaded them. A report id is generated on
-- the device and is unique for that token only: the same id from another token is another
-- report, and a re-send from the same token is still recognised (idempotent uploads). Each
-- report records the uploader's country at upload; a scan or an endorsement that claims a
-- place outside that country is kept with `outside_country = 1` and changes no permit.
--
-- Alerts of one kind about one permit (or one unknown code) are one row: `group_key` names
-- what they are about, `occurrences` counts the reports that raised it, `created_at` and
-- `last_at` are the first and the latest; `token_id` and `country` name the uploader of the
-- report that raised it first. Alerts stored before keep a group of their own.

ALTER TABLE scans ADD COLUMN country TEXT;
ALTER TABLE scans ADD COLUMN outside_country BIGINT NOT NULL DEFAULT 0;
UPDATE scans SET country = (SELECT t.country FROM tokens t WHERE t.id = scans.token_id);
ALTER TABLE scans DROP CONSTRAINT scans_pkey;
ALTER TABLE scans ADD PRIMARY KEY (token_id, id);

ALTER TABLE endorsements ADD COLUMN country TEXT;
ALTER TABLE endorsements ADD COLUMN outside_country BIGINT NOT NULL DEFAULT 0;
UPDATE endorsements SET country = (SELECT t.country FROM tokens t WHERE t.id = endorsements.token_id);
ALTER TABLE endorsements DROP CONSTRAINT endorsements_pkey;
ALTER TABLE endorsements ADD PRIMARY KEY (token_id, id);

ALTER TABLE confirmations DROP CONSTRAINT confirmations_pkey;
ALTER TABLE confirmations ADD PRIMARY KEY (token_id, id);

ALTER TABLE alerts ADD COLUMN group_key TEXT;
ALTER TABLE alerts ADD COLUMN occurrences BIGINT NOT NULL DEFAULT 1;
ALTER TABLE alerts ADD COLUMN last_at BIGINT;
ALTER TABLE alerts ADD COLUMN token_id TEXT;
ALTER TABLE alerts ADD COLUMN country TEXT;
UPDATE alerts SET group_key = 'source:' || source_id, last_at = created_at;
ALTER TABLE alerts ALTER COLUMN group_key SET NOT NULL;
ALTER TABLE alerts ALTER COLUMN last_at SET NOT NULL;
ALTER TABLE alerts DROP CONSTRAINT alerts_kind_source_id_key;
ALTER TABLE alerts ADD CONSTRAINT alerts_kind_group_key_key UNIQUE (kind, group_key);
