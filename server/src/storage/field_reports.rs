//! Scan reports and export endorsements from field devices, and the alerts they raise.
//!
//! Uploads are idempotent: every report carries an id generated on the device, and a report
//! whose id is already stored is skipped, together with everything it would raise. A batch is
//! one transaction, committed before the answer: acknowledged means durable.

use serde::Serialize;
use verifier_core::payload;

use super::devices::DeviceSigned;
use super::permits::{bump_status, record_change};
use super::{BeginWrite as _, Db, StorageError, on_db};
pub use crate::domain::alerts::EndorsedLine;
use crate::domain::alerts::{
    Against, FirstEndorsement, IssuedLine, confirmation_excess, endorsement_excess,
    implausible_travel, used_permit_rescanned,
};
use crate::domain::{AlertKind, PermitState};

/// Where a report was made: a UN/LOCODE, coordinates, or both.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    /// UN/LOCODE, e.g. `KEMBA`.
    pub locode: Option<String>,
    /// Latitude and longitude in degrees.
    pub coords: Option<(f64, f64)>,
}

/// A scan report as uploaded.
#[derive(Debug, Clone)]
pub struct ScanInput {
    /// Device-generated id.
    pub id: String,
    /// The device.
    pub device_id: String,
    /// The officer, if the device names one.
    pub officer: Option<String>,
    /// When the scan happened (device time).
    pub scanned_at: i64,
    /// Where.
    pub place: Place,
    /// The verdict the device showed.
    pub verdict: String,
    /// The scanned QR text.
    pub qr: String,
    /// The device signature it was verified with, if the device signs.
    pub signature: Option<DeviceSigned>,
}

/// An export endorsement as uploaded.
#[derive(Debug, Clone)]
pub struct EndorsementInput {
    /// Device-generated id.
    pub id: String,
    /// The device.
    pub device_id: String,
    /// The officer.
    pub officer: Option<String>,
    /// When the export was endorsed.
    pub endorsed_at: i64,
    /// Port of export.
    pub place: Place,
    /// Bill of lading or air waybill number.
    pub transport_document: Option<String>,
    /// Quantities per block.
    pub lines: Vec<EndorsedLine>,
    /// The permit's QR text.
    pub qr: String,
    /// The device signature it was verified with, if the device signs.
    pub signature: Option<DeviceSigned>,
}

/// An import confirmation as sent by the importing country's authority.
#[derive(Debug, Clone)]
pub struct ConfirmationInput {
    /// Client-generated id.
    pub id: String,
    /// When the shipment was received.
    pub confirmed_at: i64,
    /// Quantities received per block.
    pub lines: Vec<EndorsedLine>,
    /// The permit's QR text.
    pub qr: String,
}

/// What a confirmation upload did, or the first confirmation that names a permit destined to
/// another country (then nothing is stored).
#[derive(Debug)]
pub enum ConfirmOutcome {
    /// Stored.
    Done(UploadResult),
    /// Confirmation at this position is for a permit bound for another country.
    NotForThisCountry(usize),
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AlertRow {
    /// Id (increasing).
    pub id: i64,
    /// Authority of the permit concerned, if known.
    pub authority_id: Option<String>,
    /// What it is about.
    pub kind: AlertKind,
    /// Status index of the permit, if known.
    pub status_index: Option<i64>,
    /// Permit number, if known.
    pub permit_number: Option<String>,
    /// `scan:<id>` or `endorsement:<id>`.
    pub source_id: String,
    /// What was seen.
    pub detail: String,
    /// When raised.
    pub created_at: i64,
}

/// What an upload did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UploadResult {
    /// Reports stored now.
    pub accepted: usize,
    /// Reports already stored earlier (skipped).
    pub duplicates: usize,
    /// Alerts raised by the reports stored now.
    pub alerts: Vec<AlertRow>,
}

const ALERT_COLUMNS: &str =
    "id, authority_id, kind, status_index, permit_number, source_id, detail, created_at";

/// SHA-256 of the QR text, hex: stored instead of the text of unknown codes.
pub fn qr_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The permit a QR text is, if the server issued exactly this text.
#[derive(Debug, Clone, Default)]
struct Resolved {
    authority: Option<String>,
    index: Option<i64>,
    number: Option<String>,
    state: Option<PermitState>,
    genuine: bool,
    why_unknown: &'static str,
}

/// Resolves a QR text inside `$tx`: key id → authority, status index → permit, and the stored
/// signed text must equal the scanned one byte for byte.
macro_rules! resolve {
    ($tx:expr, $qr:expr) => {{
        let mut r = Resolved::default();
        match payload::decode($qr) {
            Err(_) => r.why_unknown = "not a readable permitseal code",
            Ok(env) => {
                r.number = Some(env.data.number.clone());
                r.index = Some(i64::from(env.data.status_index));
                let auth: Option<(String,)> =
                    sqlx::query_as("SELECT authority_id FROM signing_keys WHERE kid = $1")
                        .bind(env.key_id.to_string())
                        .fetch_optional(&mut *$tx)
                        .await?;
                match auth {
                    None => r.why_unknown = "signed with a key this deployment does not know",
                    Some((authority,)) => {
                        let permit: Option<(String, PermitState, String)> = sqlx::query_as(
                            "SELECT qr_text, state, number FROM permits \
                             WHERE authority_id = $1 AND status_index = $2",
                        )
                        .bind(&authority)
                        .bind(i64::from(env.data.status_index))
                        .fetch_optional(&mut *$tx)
                        .await?;
                        r.authority = Some(authority);
                        match permit {
                            Some((text, state, number)) if text.as_str() == $qr.as_str() => {
                                r.genuine = true;
                                r.state = Some(state);
                                r.number = Some(number);
                            }
                            Some(_) => {
                                r.why_unknown = "differs from the permit issued under this number"
                            }
                            None => r.why_unknown = "no permit was issued under this index",
                        }
                    }
                }
            }
        }
        r
    }};
}

/// Resolves every QR text of a batch inside `$tx` with a few set-based queries (all key ids,
/// then the permits of each authority by index) instead of several queries per report; and
/// the coordinates of every LOCODE named. Evaluates to `(Vec<Resolved>, Vec<Option<(f64,
/// f64)>>)` in input order.
macro_rules! resolve_batch {
    ($tx:expr, $texts:expr, $places:expr) => {{
        let texts: Vec<&str> = $texts;
        let places: Vec<&Place> = $places;
        let keys: Vec<(String, String)> =
            sqlx::query_as("SELECT kid, authority_id FROM signing_keys")
                .fetch_all(&mut *$tx)
                .await?;
        let keys: std::collections::HashMap<String, String> = keys.into_iter().collect();
        let decoded: Vec<Option<payload::Envelope>> =
            texts.iter().map(|t| payload::decode(t).ok()).collect();
        let mut wanted: std::collections::BTreeMap<String, std::collections::BTreeSet<i64>> =
            std::collections::BTreeMap::new();
        for env in decoded.iter().flatten() {
            if let Some(a) = keys.get(&env.key_id.to_string()) {
                wanted
                    .entry(a.clone())
                    .or_default()
                    .insert(i64::from(env.data.status_index));
            }
        }
        let mut permits: std::collections::HashMap<(String, i64), (String, PermitState, String)> =
            std::collections::HashMap::new();
        for (authority, indexes) in &wanted {
            let indexes: Vec<i64> = indexes.iter().copied().collect();
            for chunk in indexes.chunks(500) {
                let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "SELECT status_index, qr_text, state, number FROM permits \
                     WHERE authority_id = $1 AND status_index IN ({})",
                    marks.join(", ")
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(authority.as_str());
                for i in chunk {
                    q = q.bind(*i);
                }
                let rows: Vec<(i64, String, PermitState, String)> = q.fetch_all(&mut *$tx).await?;
                for (i, text, state, number) in rows {
                    permits.insert((authority.clone(), i), (text, state, number));
                }
            }
        }
        let mut resolved = Vec::with_capacity(texts.len());
        for (text, env) in texts.iter().zip(&decoded) {
            let mut r = Resolved::default();
            match env {
                None => r.why_unknown = "not a readable permitseal code",
                Some(env) => {
                    let index = i64::from(env.data.status_index);
                    r.number = Some(env.data.number.clone());
                    r.index = Some(index);
                    match keys.get(&env.key_id.to_string()) {
                        None => r.why_unknown = "signed with a key this deployment does not know",
                        Some(authority) => {
                            r.authority = Some(authority.clone());
                            match permits.get(&(authority.clone(), index)) {
                                Some((stored, state, number)) if stored.as_str() == *text => {
                                    r.genuine = true;
                                    r.state = Some(*state);
                                    r.number = Some(number.clone());
                                }
                                Some(_) => {
                                    r.why_unknown =
                                        "differs from the permit issued under this number"
                                }
                                None => r.why_unknown = "no permit was issued under this index",
                            }
                        }
                    }
                }
            }
            resolved.push(r);
        }
        let codes: std::collections::BTreeSet<&str> = places
            .iter()
            .filter(|p| p.coords.is_none())
            .filter_map(|p| p.locode.as_deref())
            .collect();
        let mut located: std::collections::HashMap<String, (f64, f64)> =
            std::collections::HashMap::new();
        for code in codes {
            let row: Option<(f64, f64)> =
                sqlx::query_as("SELECT lat, lon FROM locations WHERE locode = $1")
                    .bind(code)
                    .fetch_optional(&mut *$tx)
                    .await?;
            if let Some(c) = row {
                located.insert(code.to_owned(), c);
            }
        }
        let coords: Vec<Option<(f64, f64)>> = places
            .iter()
            .map(|p| {
                p.coords
                    .or_else(|| p.locode.as_ref().and_then(|c| located.get(c).copied()))
            })
            .collect();
        (resolved, coords)
    }};
}

/// Looks up coordinates of a place inside `$tx` (given coordinates win over the LOCODE table).
macro_rules! coords_of {
    ($tx:expr, $place:expr) => {{
        match (&$place.coords, &$place.locode) {
            (Some(c), _) => Some(*c),
            (None, Some(code)) => {
                let row: Option<(f64, f64)> =
                    sqlx::query_as("SELECT lat, lon FROM locations WHERE locode = $1")
                        .bind(code)
                        .fetch_optional(&mut *$tx)
                        .await?;
                row
            }
            (None, None) => None,
        }
    }};
}

/// Inserts an alert inside `$tx` (once per kind and source) and pushes it to `$out`.
macro_rules! raise {
    ($tx:expr, $out:expr, $now:expr, $r:expr, $kind:expr, $source:expr, $detail:expr) => {{
        let sql = format!(
            "INSERT INTO alerts (authority_id, kind, status_index, permit_number, source_id, \
             detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (kind, source_id) DO NOTHING RETURNING {ALERT_COLUMNS}"
        );
        let row: Option<AlertRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind($r.authority.as_deref())
            .bind($kind)
            .bind($r.index)
            .bind($r.number.as_deref())
            .bind($source)
            .bind($detail)
            .bind($now)
            .fetch_optional(&mut *$tx)
            .await?;
        if let Some(row) = row {
            tracing::warn!(kind = %row.kind, authority = ?row.authority_id, number = ?row.permit_number, "alert raised");
            $out.push(row);
        }
    }};
}

impl Db {
    /// Stores a batch of scan reports and raises alerts for the new ones.
    pub async fn upload_scans(
        &self,
        token_id: &str,
        scans: &[ScanInput],
        now: i64,
    ) -> Result<UploadResult, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut result = UploadResult::default();
            let (resolved, places) = resolve_batch!(
                tx,
                scans.iter().map(|s| s.qr.as_str()).collect(),
                scans.iter().map(|s| &s.place).collect()
            );
            for ((s, r), coords) in scans.iter().zip(resolved).zip(places) {
                let inserted = sqlx::query(
                    "INSERT INTO scans (id, received_at, token_id, device_id, officer, scanned_at, \
                     locode, lat, lon, verdict, authority_id, status_index, permit_number, qr_digest, \
                     device_key_id, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&s.id)
                .bind(now)
                .bind(token_id)
                .bind(&s.device_id)
                .bind(s.officer.as_deref())
                .bind(s.scanned_at)
                .bind(s.place.locode.as_deref())
                .bind(coords.map(|c| c.0))
                .bind(coords.map(|c| c.1))
                .bind(&s.verdict)
                .bind(r.authority.as_deref().filter(|_| r.genuine))
                .bind(r.index.filter(|_| r.genuine))
                .bind(r.number.as_deref())
                .bind(qr_digest(&s.qr))
                .bind(s.signature.as_ref().map(|g| g.key_id.as_str()))
                .bind(s.signature.as_ref().map(|g| g.signature.as_slice()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    result.duplicates += 1;
                    continue;
                }
                result.accepted += 1;
                let source = format!("scan:{}", s.id);
                if !r.genuine {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::UnknownPermit,
                        &source,
                        format!("scanned code {}", r.why_unknown)
                    );
                    continue;
                }
                if let Some(state) = r.state.filter(|s| s.is_withdrawn()) {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::RevokedPermit,
                        &source,
                        format!("scan of a {state} permit")
                    );
                }
                // Re-use: a permit whose export endorsement is recorded, scanned again later in
                // the exporting country at another port. Scans in other countries (the
                // importing one, transit) are expected after export and raise nothing here.
                if let (Some(PermitState::Used), Some(authority), Some(index), Some(here)) =
                    (r.state, &r.authority, r.index, s.place.locode.as_deref())
                {
                    let first: Option<FirstEndorsement> = sqlx::query_as(
                        "SELECT e.locode, e.endorsed_at, a.country FROM endorsements e \
                         JOIN authorities a ON a.id = e.authority_id \
                         WHERE e.authority_id = $1 AND e.status_index = $2 \
                         ORDER BY e.endorsed_at, e.id LIMIT 1",
                    )
                    .bind(authority)
                    .bind(index)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if let Some(detail) =
                        first.and_then(|first| used_permit_rescanned(&first, here, s.scanned_at))
                    {
                        raise!(
                            tx,
                            result.alerts,
                            now,
                            r,
                            AlertKind::UsedPermitScanned,
                            &source,
                            detail
                        );
                    }
                }
                if let (Some(here), Some(authority), Some(index)) = (coords, &r.authority, r.index)
                {
                    let neighbours: Vec<(String, i64, f64, f64)> = sqlx::query_as(
                        "SELECT * FROM (SELECT id, scanned_at, lat, lon FROM scans \
                           WHERE authority_id = $1 AND status_index = $2 AND id <> $3 \
                           AND lat IS NOT NULL AND scanned_at <= $4 \
                           ORDER BY scanned_at DESC LIMIT 1) AS before_scan \
                         UNION ALL \
                         SELECT * FROM (SELECT id, scanned_at, lat, lon FROM scans \
                           WHERE authority_id = $1 AND status_index = $2 AND id <> $3 \
                           AND lat IS NOT NULL AND scanned_at > $4 \
                           ORDER BY scanned_at ASC LIMIT 1) AS after_scan",
                    )
                    .bind(authority)
                    .bind(index)
                    .bind(&s.id)
                    .bind(s.scanned_at)
                    .fetch_all(&mut *tx)
                    .await?;
                    for (other, at, lat, lon) in neighbours {
                        if let Some((km, kmh)) =
                            implausible_travel(here, (lat, lon), s.scanned_at - at)
                        {
                            raise!(
                                tx,
                                result.alerts,
                                now,
                                r,
                                AlertKind::ImpossibleTravel,
                                &source,
                                format!(
                                    "{km:.0} km from scan {other} in {} min ({kmh:.0} km/h)",
                                    (s.scanned_at - at).abs() / 60
                                )
                            );
                            break;
                        }
                    }
                }
            }
            tx.commit().await?;
            Ok(result)
        })
    }

    /// Stores a batch of export endorsements: marks each endorsed permit used (bumping its
    /// status list) and raises alerts for re-use, excess quantities and revoked or unknown
    /// permits.
    pub async fn upload_endorsements(
        &self,
        token_id: &str,
        items: &[EndorsementInput],
        now: i64,
    ) -> Result<UploadResult, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut result = UploadResult::default();
            for e in items {
                let r = resolve!(tx, &e.qr);
                let coords = coords_of!(tx, e.place);
                let lines = serde_json::to_string(&e.lines)
                    .map_err(|_| StorageError::State("endorsement lines do not serialise"))?;
                let inserted = sqlx::query(
                    "INSERT INTO endorsements (id, received_at, token_id, device_id, officer, \
                     endorsed_at, locode, lat, lon, transport_document, lines, authority_id, \
                     status_index, permit_number, qr_digest, device_key_id, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(&e.id)
                .bind(now)
                .bind(token_id)
                .bind(&e.device_id)
                .bind(e.officer.as_deref())
                .bind(e.endorsed_at)
                .bind(e.place.locode.as_deref())
                .bind(coords.map(|c| c.0))
                .bind(coords.map(|c| c.1))
                .bind(e.transport_document.as_deref())
                .bind(&lines)
                .bind(r.authority.as_deref().filter(|_| r.genuine))
                .bind(r.index.filter(|_| r.genuine))
                .bind(r.number.as_deref())
                .bind(qr_digest(&e.qr))
                .bind(e.signature.as_ref().map(|g| g.key_id.as_str()))
                .bind(e.signature.as_ref().map(|g| g.signature.as_slice()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    result.duplicates += 1;
                    continue;
                }
                result.accepted += 1;
                let source = format!("endorsement:{}", e.id);
                let (Some(authority), Some(index), true) =
                    (r.authority.clone(), r.index, r.genuine)
                else {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::UnknownPermit,
                        &source,
                        format!("endorsed code {}", r.why_unknown)
                    );
                    continue;
                };
                let earlier: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT id, endorsed_at FROM endorsements WHERE authority_id = $1 \
                     AND status_index = $2 AND id <> $3 ORDER BY endorsed_at LIMIT 1",
                )
                .bind(&authority)
                .bind(index)
                .bind(&e.id)
                .fetch_all(&mut *tx)
                .await?;
                if let Some((first, _)) = earlier.first() {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::SecondEndorsement,
                        &source,
                        format!("permit already endorsed by {first}: one permit, one shipment")
                    );
                }
                let issued: Vec<IssuedLine> = sqlx::query_as(
                    "SELECT block, quantity_micro, unit FROM permit_lines \
                     WHERE authority_id = $1 AND status_index = $2",
                )
                .bind(&authority)
                .bind(index)
                .fetch_all(&mut *tx)
                .await?;
                if let Some(excess) = endorsement_excess(&issued, &e.lines) {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::QuantityExceeded,
                        &source,
                        excess
                    );
                }
                match r.state {
                    Some(state) if state.is_withdrawn() => {
                        raise!(
                            tx,
                            result.alerts,
                            now,
                            r,
                            AlertKind::RevokedPermit,
                            &source,
                            format!("export endorsement of a {state} permit")
                        );
                    }
                    Some(state) => {
                        if let Some(next) = state.after_endorsement() {
                            let version = bump_status!(tx, &authority, now);
                            sqlx::query(
                                "UPDATE permits SET state = $1, state_reason = $2, \
                                 state_changed_at = $3 WHERE authority_id = $4 AND status_index = $5",
                            )
                            .bind(next)
                            .bind(format!("export endorsed ({})", e.id))
                            .bind(now)
                            .bind(&authority)
                            .bind(index)
                            .execute(&mut *tx)
                            .await?;
                            record_change!(tx, &authority, version, index, next, now);
                        }
                    }
                    None => {}
                }
            }
            tx.commit().await?;
            Ok(result)
        })
    }

    /// Stores import confirmations of `country`'s authority. Raises alerts for a second
    /// confirmation, received quantities above what was endorsed (or issued, when no export
    /// endorsement is recorded), a permit never endorsed for export, and revoked or unknown
    /// codes.
    pub async fn upload_confirmations(
        &self,
        token_id: &str,
        country: &str,
        items: &[ConfirmationInput],
        now: i64,
    ) -> Result<ConfirmOutcome, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut result = UploadResult::default();
            for (position, c) in items.iter().enumerate() {
                let r = resolve!(tx, &c.qr);
                if r.genuine {
                    let (dest,): (Option<String>,) = sqlx::query_as(
                        "SELECT import_country FROM permits WHERE authority_id = $1 AND status_index = $2",
                    )
                    .bind(r.authority.as_deref())
                    .bind(r.index)
                    .fetch_one(&mut *tx)
                    .await?;
                    if dest.as_deref() != Some(country) {
                        return Ok(ConfirmOutcome::NotForThisCountry(position));
                    }
                }
                let lines = serde_json::to_string(&c.lines)
                    .map_err(|_| StorageError::State("confirmation lines do not serialise"))?;
                let inserted = sqlx::query(
                    "INSERT INTO confirmations (id, received_at, token_id, country, confirmed_at, \
                     lines, authority_id, status_index, permit_number, qr_digest) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
                )
                .bind(&c.id)
                .bind(now)
                .bind(token_id)
                .bind(country)
                .bind(c.confirmed_at)
                .bind(&lines)
                .bind(r.authority.as_deref().filter(|_| r.genuine))
                .bind(r.index.filter(|_| r.genuine))
                .bind(r.number.as_deref())
                .bind(qr_digest(&c.qr))
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted == 0 {
                    result.duplicates += 1;
                    continue;
                }
                result.accepted += 1;
                let source = format!("confirmation:{}", c.id);
                let (Some(authority), Some(index), true) =
                    (r.authority.clone(), r.index, r.genuine)
                else {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::UnknownPermit,
                        &source,
                        format!("import confirmation of a code {}", r.why_unknown)
                    );
                    continue;
                };
                if let Some(state) = r.state.filter(|s| s.is_withdrawn()) {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::RevokedPermit,
                        &source,
                        format!("import confirmation of a {state} permit")
                    );
                }
                let earlier: Option<(String,)> = sqlx::query_as(
                    "SELECT id FROM confirmations WHERE authority_id = $1 AND status_index = $2 \
                     AND id <> $3 LIMIT 1",
                )
                .bind(&authority)
                .bind(index)
                .bind(&c.id)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some((first,)) = earlier {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::SecondImportConfirmation,
                        &source,
                        format!("already confirmed by {first}: a permit is used for one import")
                    );
                }
                let endorsed: Option<(String,)> = sqlx::query_as(
                    "SELECT lines FROM endorsements WHERE authority_id = $1 AND status_index = $2 \
                     ORDER BY endorsed_at, id LIMIT 1",
                )
                .bind(&authority)
                .bind(index)
                .fetch_optional(&mut *tx)
                .await?;
                let (limits, against) = match &endorsed {
                    Some((json,)) => (
                        serde_json::from_str::<Vec<EndorsedLine>>(json).map_err(|e| {
                            StorageError::Corrupt(format!("endorsement lines: {e}"))
                        })?,
                        Against::Endorsed,
                    ),
                    None => {
                        raise!(
                            tx,
                            result.alerts,
                            now,
                            r,
                            AlertKind::ImportWithoutEndorsement,
                            &source,
                            "no export endorsement is recorded for this permit".to_owned()
                        );
                        let issued: Vec<EndorsedLine> = sqlx::query_as(
                            "SELECT block, quantity_micro FROM permit_lines \
                             WHERE authority_id = $1 AND status_index = $2",
                        )
                        .bind(&authority)
                        .bind(index)
                        .fetch_all(&mut *tx)
                        .await?;
                        (issued, Against::Issued)
                    }
                };
                if let Some(excess) = confirmation_excess(&limits, against, &c.lines) {
                    raise!(
                        tx,
                        result.alerts,
                        now,
                        r,
                        AlertKind::QuantityExceeded,
                        &source,
                        excess
                    );
                }
            }
            tx.commit().await?;
            Ok(ConfirmOutcome::Done(result))
        })
    }

    /// Adds or moves a UN/LOCODE place used by the travel check.
    pub async fn set_location(
        &self,
        actor: &str,
        locode: &str,
        name: &str,
        lat: f64,
        lon: f64,
        now: i64,
    ) -> Result<(), StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO locations (locode, name, lat, lon) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (locode) DO UPDATE SET name = excluded.name, lat = excluded.lat, \
                 lon = excluded.lon",
            )
            .bind(locode)
            .bind(name)
            .bind(lat)
            .bind(lon)
            .execute(&mut *tx)
            .await?;
            super::audit!(
                tx,
                now,
                actor,
                None::<&str>,
                "location.set",
                format!("{locode} {name} {lat} {lon}")
            );
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every known place: (locode, name, lat, lon).
    pub async fn list_locations(&self) -> Result<Vec<(String, String, f64, f64)>, StorageError> {
        on_db!(self, read, |pool| Ok(sqlx::query_as(
            "SELECT locode, name, lat, lon FROM locations ORDER BY locode"
        )
        .fetch_all(pool)
        .await?))
    }

    /// Alerts of one authority (or of permits no authority is known for, with `None`), newest
    /// last, after the cursor.
    pub async fn list_alerts(
        &self,
        authority: Option<&str>,
        kind: Option<AlertKind>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StorageError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE \
             (($1 IS NULL AND authority_id IS NULL) OR authority_id = $1) \
             AND ($2 IS NULL OR kind = $2) AND id > $3 ORDER BY id LIMIT $4"
        );
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(authority)
        .bind(kind)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Every alert (platform view), after the cursor.
    pub async fn list_all_alerts(
        &self,
        kind: Option<AlertKind>,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StorageError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE ($1 IS NULL OR kind = $1) AND id > $2 \
             ORDER BY id LIMIT $3"
        );
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(kind)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Scans and endorsements of one permit, oldest first, for authorised online verification.
    pub async fn usage(&self, authority: &str, index: i64) -> Result<Usage, StorageError> {
        on_db!(self, read, |pool| {
            let scans: Vec<UsageScan> = sqlx::query_as(
                "SELECT s.id, s.scanned_at, s.locode, s.lat, s.lon, s.verdict, s.device_id, \
                 t.label AS token_label, t.country AS token_country, s.device_key_id, \
                 CASE WHEN s.signature IS NULL THEN 0 ELSE 1 END AS signature_verified \
                 FROM scans s LEFT JOIN tokens t ON t.id = s.token_id \
                 WHERE s.authority_id = $1 AND s.status_index = $2 ORDER BY s.scanned_at, s.id",
            )
            .bind(authority)
            .bind(index)
            .fetch_all(pool)
            .await?;
            let endorsements: Vec<EndorsementRow> = sqlx::query_as(
                "SELECT e.id, e.endorsed_at, e.locode, e.lines, e.device_id, \
                 t.label AS token_label, t.country AS token_country, e.device_key_id, \
                 CASE WHEN e.signature IS NULL THEN 0 ELSE 1 END AS signature_verified \
                 FROM endorsements e LEFT JOIN tokens t ON t.id = e.token_id \
                 WHERE e.authority_id = $1 AND e.status_index = $2 ORDER BY e.endorsed_at, e.id",
            )
            .bind(authority)
            .bind(index)
            .fetch_all(pool)
            .await?;
            let confirmations: Vec<(String, i64, String, String)> = sqlx::query_as(
                "SELECT id, confirmed_at, country, lines FROM confirmations \
                 WHERE authority_id = $1 AND status_index = $2 ORDER BY confirmed_at, id",
            )
            .bind(authority)
            .bind(index)
            .fetch_all(pool)
            .await?;
            Ok(Usage {
                confirmations: confirmations
                    .into_iter()
                    .map(|(id, at, country, lines)| {
                        Ok(UsageConfirmation {
                            id,
                            confirmed_at: at,
                            country,
                            lines: stored_lines(&lines)?,
                        })
                    })
                    .collect::<Result<_, StorageError>>()?,
                scans,
                endorsements: endorsements
                    .into_iter()
                    .map(|e| {
                        Ok(UsageEndorsement {
                            lines: stored_lines(&e.lines)?,
                            id: e.id,
                            endorsed_at: e.endorsed_at,
                            locode: e.locode,
                            device_id: e.device_id,
                            reporter: e.reporter,
                        })
                    })
                    .collect::<Result<_, StorageError>>()?,
            })
        })
    }
}

/// Reported lines as stored (JSON); unreadable ones are an error, not an empty list.
fn stored_lines(json: &str) -> Result<serde_json::Value, StorageError> {
    serde_json::from_str(json).map_err(|e| StorageError::Corrupt(format!("reported lines: {e}")))
}

/// Usage history of a permit.
#[derive(Debug, Clone, Serialize)]
pub struct Usage {
    /// Scans, oldest first.
    pub scans: Vec<UsageScan>,
    /// Endorsements, oldest first.
    pub endorsements: Vec<UsageEndorsement>,
    /// Import confirmations, oldest first.
    pub confirmations: Vec<UsageConfirmation>,
}

/// One import confirmation in a usage history.
#[derive(Debug, Clone, Serialize)]
pub struct UsageConfirmation {
    /// Report id.
    pub id: String,
    /// Unix seconds.
    pub confirmed_at: i64,
    /// Importing country.
    pub country: String,
    /// Quantities received per block.
    pub lines: serde_json::Value,
}

/// One scan in a usage history.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct UsageScan {
    /// Report id.
    pub id: String,
    /// Unix seconds.
    pub scanned_at: i64,
    /// UN/LOCODE.
    pub locode: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Verdict the device showed.
    pub verdict: String,
    /// Device.
    pub device_id: String,
    /// Who reported it.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub reporter: Reporter,
}

/// Who uploaded a scan or endorsement: the device token and the device key that signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Reporter {
    /// The device token's label (which device or officer holds it).
    pub token_label: Option<String>,
    /// The device token's country.
    pub token_country: Option<String>,
    /// The device key that signed it (FORMAT.md §10); absent when unsigned.
    pub device_key_id: Option<String>,
    /// 1 when a device signature, verified against the token's enrolled key at upload, is
    /// stored with it; 0 for an unsigned report (from a token without a key).
    #[serde(serialize_with = "as_bool")]
    pub signature_verified: i32,
}

fn as_bool<S: serde::Serializer>(v: &i32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(*v != 0)
}

/// An endorsement row of a usage history, as read.
#[derive(sqlx::FromRow)]
struct EndorsementRow {
    id: String,
    endorsed_at: i64,
    locode: Option<String>,
    lines: String,
    device_id: String,
    #[sqlx(flatten)]
    reporter: Reporter,
}

/// One endorsement in a usage history.
#[derive(Debug, Clone, Serialize)]
pub struct UsageEndorsement {
    /// Report id.
    pub id: String,
    /// Unix seconds.
    pub endorsed_at: i64,
    /// Port.
    pub locode: Option<String>,
    /// Quantities per block.
    pub lines: serde_json::Value,
    /// Device.
    pub device_id: String,
    /// Who reported it.
    #[serde(flatten)]
    pub reporter: Reporter,
}
