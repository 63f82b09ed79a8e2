-- Field reports belong to the token (device) that uploaded them. A report id is generated on
-- the device and is unique for that token only: the same id from another token is another
-- report, and a re-send from the same token is still recognised (idempotent uploads). Each
-- report records the uploader's country at upload; a scan or an endorsement that claims a
-- place outside that country is kept with `outside_country = 1` and changes no permit.
--
-- Alerts of one kind about one permit (or one unknown code) are one row: `group_key` names
-- what they are about, `occurrences` counts the reports that raised it, `created_at` and
-- `last_at` are the first and the latest; `token_id` and `country` name the uploader of the
-- report that raised it first.
--
-- SQLite cannot change a primary key or drop a table constraint in place: each table is
-- copied into its new form. Reports and alerts stored before keep their ids; their uploader's
-- country is the token's.

CREATE TABLE scans_new (
    id                TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    token_id          TEXT NOT NULL,
    country           TEXT,                     -- the uploading token's country
    device_id         TEXT NOT NULL,
    officer           TEXT,
    scanned_at        BIGINT NOT NULL,
    locode            TEXT,
    lat               DOUBLE PRECISION,
    lon               DOUBLE PRECISION,
    verdict           TEXT NOT NULL,
    authority_id      TEXT,
    status_index      BIGINT,
    permit_number     TEXT,
    qr_digest         TEXT NOT NULL,
    device_key_id     TEXT,
    signature         BLOB,
    outside_country   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (token_id, id)
);
INSERT INTO scans_new (id, received_at, token_id, country, device_id, officer, scanned_at,
    locode, lat, lon, verdict, authority_id, status_index, permit_number, qr_digest,
    device_key_id, signature)
SELECT s.id, s.received_at, s.token_id, t.country, s.device_id, s.officer, s.scanned_at,
    s.locode, s.lat, s.lon, s.verdict, s.authority_id, s.status_index, s.permit_number,
    s.qr_digest, s.device_key_id, s.signature
FROM scans s LEFT JOIN tokens t ON t.id = s.token_id;
DROP TABLE scans;
ALTER TABLE scans_new RENAME TO scans;
CREATE INDEX scans_permit ON scans (authority_id, status_index, scanned_at);

CREATE TABLE endorsements_new (
    id                TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    token_id          TEXT NOT NULL,
    country           TEXT,                     -- the uploading token's country
    device_id         TEXT NOT NULL,
    officer           TEXT,
    endorsed_at       BIGINT NOT NULL,
    locode            TEXT,
    lat               DOUBLE PRECISION,
    lon               DOUBLE PRECISION,
    transport_document TEXT,
    lines             TEXT NOT NULL,
    authority_id      TEXT,
    status_index      BIGINT,
    permit_number     TEXT,
    qr_digest         TEXT NOT NULL,
    device_key_id     TEXT,
    signature         BLOB,
    outside_country   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (token_id, id)
);
INSERT INTO endorsements_new (id, received_at, token_id, country, device_id, officer,
    endorsed_at, locode, lat, lon, transport_document, lines, authority_id, status_index,
    permit_number, qr_digest, device_key_id, signature)
SELECT e.id, e.received_at, e.token_id, t.country, e.device_id, e.officer, e.endorsed_at,
    e.locode, e.lat, e.lon, e.transport_document, e.lines, e.authority_id, e.status_index,
    e.permit_number, e.qr_digest, e.device_key_id, e.signature
FROM endorsements e LEFT JOIN tokens t ON t.id = e.token_id;
DROP TABLE endorsements;
ALTER TABLE endorsements_new RENAME TO endorsements;
CREATE INDEX endorsements_permit ON endorsements (authority_id, status_index, endorsed_at);

CREATE TABLE confirmations_new (
    id                TEXT NOT NULL,
    received_at       BIGINT NOT NULL,
    token_id          TEXT NOT NULL,
    country           TEXT NOT NULL,
    confirmed_at      BIGINT NOT NULL,
    lines             TEXT NOT NULL,
    authority_id      TEXT,
    status_index      BIGINT,
    permit_number     TEXT,
    qr_digest         TEXT NOT NULL,
    locode            TEXT,
    lat               DOUBLE PRECISION,
    lon               DOUBLE PRECISION,
    PRIMARY KEY (token_id, id)
);
INSERT INTO confirmations_new (id, received_at, token_id, country, confirmed_at, lines,
    authority_id, status_index, permit_number, qr_digest, locode, lat, lon)
SELECT id, received_at, token_id, country, confirmed_at, lines, authority_id, status_index,
    permit_number, qr_digest, locode, lat, lon
FROM confirmations;
DROP TABLE confirmations;
ALTER TABLE confirmations_new RENAME TO confirmations;
CREATE INDEX confirmations_permit ON confirmations (authority_id, status_index);

CREATE TABLE alerts_new (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    authority_id      TEXT,
    kind              TEXT NOT NULL,
    status_index      BIGINT,
    permit_number     TEXT,
    source_id         TEXT NOT NULL,            -- the report that raised it first
    detail            TEXT NOT NULL,
    created_at        BIGINT NOT NULL,          -- first raised
    group_key         TEXT NOT NULL,            -- `permit:<authority>:<index>` or `code:<digest>`
    occurrences       BIGINT NOT NULL DEFAULT 1,
    last_at           BIGINT NOT NULL,          -- last raised
    token_id          TEXT,                     -- uploader of the first report
    country           TEXT,                     -- and its country
    UNIQUE (kind, group_key)
);
INSERT INTO alerts_new (id, authority_id, kind, status_index, permit_number, source_id, detail,
    created_at, group_key, last_at)
SELECT id, authority_id, kind, status_index, permit_number, source_id, detail, created_at,
    'source:' || source_id, created_at
FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_authority ON alerts (authority_id, id);
