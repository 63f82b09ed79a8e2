//! Scan reports, export endorsements and import confirmations from the field, and the alerts
//! they raise.
//!
//! The reports arrive as the core's contract types ([`verifier_core::report`]), checked by the
//! same code the phone's outbox runs. Uploads are idempotent: every report carries an id
//! generated on the device, unique for the token that uploads it, and a report whose id that
//! token already stored is skipped, together with everything it would raise (the same id from
//! another token is another report). A batch is one transaction, committed before the answer:
//! acknowledged means durable. Every report records its uploader (token and country); a scan or
//! endorsement that claims a place outside the uploader's country is kept, raises
//! `place_outside_country` and nothing else, and changes no permit. Alerts of one kind about
//! one permit (or one unknown code) are one row that counts its occurrences.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;
use verifier_core::date::Date;
use verifier_core::payload;
use verifier_core::report::{Confirmation, Endorsement, Place, Scan, verdict_name};

use super::{
    AuditEvent, BeginWrite as _, Bookkeeping as _, Db, RowsAffected as _, StatusChange,
    StorageError, WebhookEvent, on_db, trail,
};
pub use crate::domain::alerts::EndorsedLine;
use crate::domain::alerts::{
    Against, CancellingConfirmation, FirstEndorsement, IssuedLine, confirmation_excess,
    endorsement_excess, implausible_travel, place_outside_country, scanned_after_import,
    used_permit_rescanned,
};
use crate::domain::rates::{Budget, Limit, Window, spend};
use crate::domain::reports::{
    BorderFacts, CustomsRefusal, EndorsedPermit, EndorsementFault, customs_endorsement,
    dated_before_issue, endorsement_fault, imported_after_validity, not_destined,
};
use crate::domain::webhooks::PermitEvent;
use crate::domain::{AlertKind, PermitState};

/// What an endorsement or confirmation upload did, or the first report refused against stored
/// facts (then nothing of the upload is stored).
#[derive(Debug)]
pub enum UploadOutcome {
    /// Stored.
    Done(UploadResult),
    /// The uploading token spent its budget of uploads or alerts; nothing was stored. It may
    /// try again after `retry_after` seconds.
    Limited {
        /// The budget spent.
        budget: Budget,
        /// Its limit.
        limit: Limit,
        /// Seconds until the budget's window ends.
        retry_after: u64,
    },
    /// The report at `position` was refused; the upload was rolled back.
    Refused {
        /// Its position in the upload.
        position: usize,
        /// Why.
        why: Refusal,
    },
}

/// Why a report was refused against what is stored of its permit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A confirmation of a permit bound for another country.
    NotForThisCountry,
    /// Dated before the permit's issue day (given).
    BeforeIssue(Date),
    /// An endorsement dated after the permit's validity, or by an officer of a country that
    /// is not the exporting Party; recorded as an alert of the same report.
    Endorsement(EndorsementFault),
    /// A customs endorsement of a code this deployment did not issue.
    UnknownPermit,
    /// A customs endorsement the permit does not allow ([`customs_endorsement`]).
    Customs(CustomsRefusal),
}

/// Who uploads a batch of reports: the token and the country it holds.
#[derive(Debug, Clone, Copy)]
pub struct Uploader<'a> {
    /// The token's id.
    pub token_id: &'a str,
    /// The token's country (officers and importers always have one).
    pub country: &'a str,
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
    /// `scan:<id>`, `endorsement:<id>` or `confirmation:<id>`.
    pub source_id: String,
    /// What was seen (by the report that raised it first).
    pub detail: String,
    /// When first raised.
    pub created_at: i64,
    /// How many reports raised it.
    pub occurrences: i64,
    /// When last raised.
    pub last_at: i64,
    /// The token that uploaded the report that raised it first (none for alerts stored before
    /// uploaders were recorded).
    pub token_id: Option<String>,
    /// That token's country.
    pub country: Option<String>,
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

/// A place of the LOCODE table.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Location {
    /// UN/LOCODE.
    pub locode: String,
    /// Name.
    pub name: String,
    /// Latitude in degrees.
    pub lat: f64,
    /// Longitude in degrees.
    pub lon: f64,
}

const ALERT_COLUMNS: &str = "id, authority_id, kind, status_index, permit_number, source_id, \
    detail, created_at, occurrences, last_at, token_id, country";

/// Reported lines as the log's particulars write them: `A:12500000,B:1000000` (block and
/// millionths of the permit's unit), `-` for none.
fn logged_lines(lines: &[EndorsedLine]) -> String {
    if lines.is_empty() {
        return "-".to_owned();
    }
    lines
        .iter()
        .map(|l| format!("{}:{}", l.block, l.quantity_micro))
        .collect::<Vec<_>>()
        .join(",")
}

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
    /// Issue time of the permit, when the code is genuine.
    issued_at: Option<i64>,
    /// What the border rules need of the permit, when the code is genuine.
    facts: Option<BorderFacts>,
    /// [`qr_digest`] of the code.
    digest: String,
    genuine: bool,
    why_unknown: &'static str,
}

impl Resolved {
    /// What alerts about this code are grouped under: its permit, or the code itself.
    fn group_key(&self) -> String {
        match self.issued() {
            Some((authority, index)) => format!("permit:{authority}:{index}"),
            None => format!("code:{}", self.digest),
        }
    }

    /// The permit's issue day, when a report dated `at` is earlier than it.
    fn before_issue(&self, at: i64) -> Option<Date> {
        self.issued_at
            .filter(|_| self.genuine)
            .and_then(|issued| dated_before_issue(at, issued))
    }

    /// The permit's authority and index, if the code is one this deployment issued.
    fn issued(&self) -> Option<(&str, i64)> {
        match (&self.authority, self.index, self.genuine) {
            (Some(authority), Some(index), true) => Some((authority, index)),
            _ => None,
        }
    }
}

/// A stored permit as the resolution of a code needs it.
#[derive(sqlx::FromRow)]
struct StoredCode {
    status_index: i64,
    qr_text: String,
    state: PermitState,
    number: String,
    issued_at: i64,
    document_type: String,
    export_country: String,
    import_country: Option<String>,
    valid_until: String,
}

impl StoredCode {
    /// The border facts, read strictly: a document type or date this code does not know is
    /// an error, never a default.
    fn facts(&self) -> Result<BorderFacts, StorageError> {
        let document_type = self.document_type.parse().map_err(|_| {
            StorageError::Corrupt(format!("document type {:?}", self.document_type))
        })?;
        let valid_until = self
            .valid_until
            .parse()
            .map_err(|_| StorageError::Corrupt(format!("valid_until {:?}", self.valid_until)))?;
        Ok(BorderFacts {
            document_type,
            export_country: self.export_country.clone(),
            import_country: self.import_country.clone(),
            valid_until,
        })
    }
}

/// A scan of the same permit with coordinates, for the travel check.
#[derive(sqlx::FromRow)]
struct LocatedScan {
    id: String,
    scanned_at: i64,
    lat: f64,
    lon: f64,
}

/// Queries the same upper bound of bind parameters fits on both backends.
const IN_CHUNK: usize = 500;

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The two kinds of report that carry quantities, and what their ingest differs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinesReport {
    /// An export endorsement, checked against the permit as issued.
    Endorsement,
    /// An import confirmation, checked against the export endorsement.
    Confirmation,
}

impl LinesReport {
    /// Table the reports are stored in; its time column.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Self::Endorsement => ("endorsements", "endorsed_at"),
            Self::Confirmation => ("confirmations", "confirmed_at"),
        }
    }

    /// The condition that leaves out reports kept only as reports (a place outside the
    /// uploader's country): they count for nothing.
    fn trusted(self) -> &'static str {
        match self {
            Self::Endorsement => " AND outside_country = 0",
            Self::Confirmation => "",
        }
    }

    /// Prefix of the alerts' source id.
    fn source(self, id: &str) -> String {
        match self {
            Self::Endorsement => format!("endorsement:{id}"),
            Self::Confirmation => format!("confirmation:{id}"),
        }
    }

    /// How an alert's detail names the report, and an unknown code in it.
    fn described(self) -> (&'static str, &'static str) {
        match self {
            Self::Endorsement => ("export endorsement", "endorsed code"),
            Self::Confirmation => ("import confirmation", "import confirmation of a code"),
        }
    }

    /// The kind of its leaf in the transparency log (docs/FORMAT.md §12.1).
    fn log_kind(self) -> &'static str {
        match self {
            Self::Endorsement => "permit.endorse",
            Self::Confirmation => "permit.confirm_import",
        }
    }

    /// The alert for a second report of one permit, and its detail.
    fn second(self, first: &str) -> (AlertKind, String) {
        match self {
            Self::Endorsement => (
                AlertKind::SecondEndorsement,
                format!("permit already endorsed by {first}: one permit, one shipment"),
            ),
            Self::Confirmation => (
                AlertKind::SecondImportConfirmation,
                format!("already confirmed by {first}: a permit is used for one import"),
            ),
        }
    }
}

/// One upload under way: its transaction, its time, and what it did so far.
struct Ingest<'t, DB: sqlx::Database> {
    tx: sqlx::Transaction<'t, DB>,
    now: i64,
    uploader: Uploader<'t>,
    result: UploadResult,
    /// Alerts raised (or raised again) so far, to spend from the token's budget.
    raised: i64,
}

// The backend's executor and the types these queries bind and read (see `Bookkeeping`).
impl<'t, DB> Ingest<'t, DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    str: sqlx::Type<DB>,
    for<'a, 'q> &'a str: sqlx::Encode<'q, DB>,
    for<'a> &'a str: sqlx::Decode<'a, DB> + sqlx::ColumnIndex<DB::Row>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<i64>: sqlx::Encode<'q, DB>,
    for<'q> f64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<f64>: sqlx::Encode<'q, DB>,
    for<'q> Option<Vec<u8>>: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB>,
    Vec<u8>: sqlx::Type<DB>,
    // What the transparency log's leaf append needs (`Bookkeeping::audit`).
    for<'a, 'q> &'a [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Decode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    DB::QueryResult: super::RowsAffected,
{
    fn new(tx: sqlx::Transaction<'t, DB>, now: i64, uploader: Uploader<'t>) -> Self {
        Self {
            tx,
            now,
            uploader,
            result: UploadResult::default(),
            raised: 0,
        }
    }

    /// Spends `n` of the uploading token's `budget` (the row is locked, so replicas spend from
    /// one count); the refusal to answer when that would pass the limit, and then nothing is
    /// spent (the caller drops the transaction). A budget without a stored limit fails closed.
    async fn spend(
        &mut self,
        budget: Budget,
        n: i64,
    ) -> Result<Option<UploadOutcome>, StorageError> {
        let limit: Option<Limit> =
            sqlx::query_as("SELECT allowed, window_seconds FROM rate_limits WHERE budget = $1")
                .bind(budget.as_str())
                .fetch_optional(&mut *self.tx)
                .await?;
        let limit = limit.ok_or_else(|| {
            StorageError::Corrupt(format!("no rate limit is stored for {}", budget.as_str()))
        })?;
        // Created first, so that two first uploads at once lock one row rather than both
        // inserting from nothing.
        sqlx::query(
            "INSERT INTO rate_windows (token_id, budget, window_start, used) VALUES ($1, $2, $3, 0) \
             ON CONFLICT (token_id, budget) DO NOTHING",
        )
        .bind(self.uploader.token_id)
        .bind(budget.as_str())
        .bind(self.now)
        .execute(&mut *self.tx)
        .await?;
        let sql = format!(
            "SELECT window_start, used FROM rate_windows WHERE token_id = $1 AND budget = $2{}",
            super::for_update::<DB>()
        );
        let window: Window = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(self.uploader.token_id)
            .bind(budget.as_str())
            .fetch_one(&mut *self.tx)
            .await?;
        match spend(window, n, self.now, limit) {
            Ok(w) => {
                sqlx::query(
                    "UPDATE rate_windows SET window_start = $1, used = $2 \
                     WHERE token_id = $3 AND budget = $4",
                )
                .bind(w.window_start)
                .bind(w.used)
                .bind(self.uploader.token_id)
                .bind(budget.as_str())
                .execute(&mut *self.tx)
                .await?;
                Ok(None)
            }
            Err(retry_after) => {
                tracing::warn!(
                    token = self.uploader.token_id,
                    budget = budget.as_str(),
                    "rate limit reached"
                );
                Ok(Some(UploadOutcome::Limited {
                    budget,
                    limit,
                    retry_after,
                }))
            }
        }
    }

    /// Spends the alerts raised from the token's budget and commits the upload; or, past the
    /// budget, drops it (nothing stored: the device keeps its reports and sends them later).
    async fn commit(mut self) -> Result<UploadOutcome, StorageError> {
        if self.raised > 0
            && let Some(limited) = self.spend(Budget::Alerts, self.raised).await?
        {
            return Ok(limited);
        }
        self.tx.commit().await?;
        Ok(UploadOutcome::Done(self.result))
    }

    /// Counts a report stored (`inserted`: its row was written) or skipped as stored before;
    /// true if stored.
    fn counted(&mut self, inserted: bool) -> bool {
        if !inserted {
            self.result.duplicates += 1;
            false
        } else {
            self.result.accepted += 1;
            true
        }
    }

    /// Resolves QR texts with a few set-based queries (the key ids named, then the permits of
    /// each authority by index) instead of several queries per report; in input order. The
    /// stored signed text must equal the reported one byte for byte.
    async fn resolve(&mut self, texts: &[&str]) -> Result<Vec<Resolved>, StorageError> {
        let decoded: Vec<Option<payload::Envelope>> =
            texts.iter().map(|t| payload::decode(t).ok()).collect();
        let kids: BTreeSet<String> = decoded
            .iter()
            .flatten()
            .map(|env| env.key_id.to_string())
            .collect();
        let kids: Vec<String> = kids.into_iter().collect();
        let mut keys: HashMap<String, String> = HashMap::new();
        for chunk in kids.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT kid, authority_id FROM signing_keys WHERE kid IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for kid in chunk {
                q = q.bind(kid.as_str());
            }
            let rows: Vec<(String, String)> = q.fetch_all(&mut *self.tx).await?;
            keys.extend(rows);
        }
        let mut wanted: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
        for env in decoded.iter().flatten() {
            if let Some(a) = keys.get(&env.key_id.to_string()) {
                wanted
                    .entry(a.as_str())
                    .or_default()
                    .insert(i64::from(env.data.status_index));
            }
        }
        let mut permits: HashMap<(&str, i64), StoredCode> = HashMap::new();
        for (authority, indexes) in &wanted {
            let indexes: Vec<i64> = indexes.iter().copied().collect();
            for chunk in indexes.chunks(IN_CHUNK) {
                let sql = format!(
                    "SELECT status_index, qr_text, state, number, issued_at, document_type, \
                     export_country, import_country, valid_until FROM permits \
                     WHERE authority_id = $1 AND status_index IN ({})",
                    placeholders(2, chunk.len())
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(*authority);
                for i in chunk {
                    q = q.bind(*i);
                }
                let rows: Vec<StoredCode> = q.fetch_all(&mut *self.tx).await?;
                permits.extend(rows.into_iter().map(|p| ((*authority, p.status_index), p)));
            }
        }
        texts
            .iter()
            .zip(&decoded)
            .map(|(text, env)| {
                let mut r = Resolved {
                    digest: qr_digest(text),
                    ..Resolved::default()
                };
                let Some(env) = env else {
                    r.why_unknown = "not a readable permitseal code";
                    return Ok(r);
                };
                let index = i64::from(env.data.status_index);
                r.number = Some(env.data.number.clone());
                r.index = Some(index);
                let Some(authority) = keys.get(&env.key_id.to_string()) else {
                    r.why_unknown = "signed with a key this deployment does not know";
                    return Ok(r);
                };
                r.authority = Some(authority.clone());
                match permits.get(&(authority.as_str(), index)) {
                    Some(p) if p.qr_text == *text => {
                        r.genuine = true;
                        r.state = Some(p.state);
                        r.number = Some(p.number.clone());
                        r.issued_at = Some(p.issued_at);
                        r.facts = Some(p.facts()?);
                    }
                    Some(_) => r.why_unknown = "differs from the permit issued under this number",
                    None => r.why_unknown = "no permit was issued under this index",
                }
                Ok(r)
            })
            .collect()
    }

    /// Locks the rows of the permits that a batch of endorsements or confirmations names, in
    /// one stable order (authority, then index) whatever the batch's order, before anything of
    /// them is read for a decision: two batches naming the same permits then wait for each
    /// other instead of deadlocking, and each report sees the state, the endorsements and the
    /// confirmations that every earlier transaction left (a second endorsement is seen as one,
    /// an endorsement after a revocation sees the revocation). Permits are locked before the
    /// authority's row, as in every other writer. Nothing to do on SQLite (one writer).
    async fn lock_permits(&mut self, texts: &[&str]) -> Result<(), StorageError> {
        let lock = super::for_update::<DB>();
        if lock.is_empty() {
            return Ok(());
        }
        let resolved = self.resolve(texts).await?;
        let mut wanted: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
        for (authority, index) in resolved.iter().filter_map(Resolved::issued) {
            wanted.entry(authority).or_default().insert(index);
        }
        for (authority, indexes) in &wanted {
            let indexes: Vec<i64> = indexes.iter().copied().collect();
            for chunk in indexes.chunks(IN_CHUNK) {
                let sql = format!(
                    "SELECT status_index FROM permits WHERE authority_id = $1 \
                     AND status_index IN ({}) ORDER BY status_index{lock}",
                    placeholders(2, chunk.len())
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(*authority);
                for i in chunk {
                    q = q.bind(*i);
                }
                let _: Vec<(i64,)> = q.fetch_all(&mut *self.tx).await?;
            }
        }
        Ok(())
    }

    /// The coordinates of each place, in input order: given coordinates win over the LOCODE
    /// table.
    async fn locate(&mut self, places: &[&Place]) -> Result<Vec<Option<(f64, f64)>>, StorageError> {
        let codes: BTreeSet<&str> = places
            .iter()
            .filter(|p| p.coords.is_none())
            .filter_map(|p| p.locode.as_deref())
            .collect();
        let codes: Vec<&str> = codes.into_iter().collect();
        let mut located: HashMap<String, (f64, f64)> = HashMap::new();
        for chunk in codes.chunks(IN_CHUNK) {
            let sql = format!(
                "SELECT locode, lat, lon FROM locations WHERE locode IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for code in chunk {
                q = q.bind(*code);
            }
            let rows: Vec<(String, f64, f64)> = q.fetch_all(&mut *self.tx).await?;
            located.extend(rows.into_iter().map(|(code, lat, lon)| (code, (lat, lon))));
        }
        Ok(places
            .iter()
            .map(|p| {
                p.coords
                    .or_else(|| p.locode.as_ref().and_then(|c| located.get(c).copied()))
            })
            .collect())
    }

    /// Raises an alert about the permit (or code) `about`: a new one, or one more occurrence
    /// of the alert of that kind already raised about it (its first report's source and detail
    /// stay).
    async fn raise(
        &mut self,
        about: &Resolved,
        kind: AlertKind,
        source: &str,
        detail: String,
    ) -> Result<(), StorageError> {
        let sql = format!(
            "INSERT INTO alerts (authority_id, kind, status_index, permit_number, source_id, \
             detail, created_at, group_key, occurrences, last_at, token_id, country) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $7, $9, $10) \
             ON CONFLICT (kind, group_key) DO UPDATE SET occurrences = alerts.occurrences + 1, \
             last_at = CASE WHEN alerts.last_at > excluded.last_at THEN alerts.last_at \
             ELSE excluded.last_at END \
             RETURNING {ALERT_COLUMNS}"
        );
        let row: AlertRow = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(about.authority.as_deref())
            .bind(kind)
            .bind(about.index)
            .bind(about.number.as_deref())
            .bind(source)
            .bind(detail)
            .bind(self.now)
            .bind(about.group_key())
            .bind(self.uploader.token_id)
            .bind(self.uploader.country)
            .fetch_one(&mut *self.tx)
            .await?;
        tracing::warn!(kind = %row.kind, authority = ?row.authority_id, number = ?row.permit_number, occurrences = row.occurrences, "alert raised");
        self.raised += 1;
        // One alert raised twice by this upload is answered once, as it now stands.
        self.result.alerts.retain(|a| a.id != row.id);
        self.result.alerts.push(row);
        Ok(())
    }

    /// Records, in a transaction of its own, the alert of a refused report of the code `qr`
    /// and commits it. Past the token's alert budget the alert is dropped with the rest: the
    /// refusal stands either way.
    async fn record_refusal(
        mut self,
        qr: &str,
        kind: AlertKind,
        source: &str,
        detail: impl FnOnce(&Resolved) -> String,
    ) -> Result<(), StorageError> {
        let r = self.resolve(&[qr]).await?.remove(0);
        let detail = detail(&r);
        self.raise(&r, kind, source, detail).await?;
        self.commit().await.map(|_| ())
    }

    /// Stores one scan; raises what it shows.
    async fn scan(
        &mut self,
        s: &Scan,
        r: &Resolved,
        coords: Option<(f64, f64)>,
    ) -> Result<(), StorageError> {
        let outside = place_outside_country(s.place.locode.as_deref(), self.uploader.country);
        let inserted = sqlx::query(
            "INSERT INTO scans (id, received_at, token_id, device_id, officer, scanned_at, \
             locode, lat, lon, verdict, authority_id, status_index, permit_number, qr_digest, \
             device_key_id, signature, country, outside_country) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
             $17, $18) \
             ON CONFLICT (token_id, id) DO NOTHING",
        )
        .bind(s.id.as_str())
        .bind(self.now)
        .bind(self.uploader.token_id)
        .bind(s.device_id.as_str())
        .bind(s.officer.as_deref())
        .bind(s.scanned_at)
        .bind(s.place.locode.as_deref())
        .bind(coords.map(|c| c.0))
        .bind(coords.map(|c| c.1))
        .bind(verdict_name(s.verdict))
        .bind(r.issued().map(|(a, _)| a))
        .bind(r.issued().map(|(_, i)| i))
        .bind(r.number.as_deref())
        .bind(r.digest.as_str())
        .bind(s.signature.as_ref().map(|g| g.key_id.to_string()))
        .bind(s.signature.as_ref().map(|g| g.signature.to_vec()))
        .bind(self.uploader.country)
        .bind(i64::from(outside.is_some()))
        .execute(&mut *self.tx)
        .await?
        .rows()
            == 1;
        if !self.counted(inserted) {
            return Ok(());
        }
        let source = format!("scan:{}", s.id);
        if let Some(detail) = outside {
            return self
                .raise(r, AlertKind::PlaceOutsideCountry, &source, detail)
                .await;
        }
        let Some((authority, index)) = r.issued() else {
            let detail = format!("scanned code {}", r.why_unknown);
            return self
                .raise(r, AlertKind::UnknownPermit, &source, detail)
                .await;
        };
        if let Some(state) = r.state.filter(|s| s.is_withdrawn()) {
            let detail = format!("scan of a {state} permit");
            self.raise(r, AlertKind::RevokedPermit, &source, detail)
                .await?;
        }
        // Re-use: a permit whose export endorsement is recorded, scanned again later in the
        // exporting country at another port. Scans in other countries (the importing one,
        // transit) are expected after export and raise nothing here.
        if let (Some(PermitState::Used), Some(here)) = (r.state, s.place.locode.as_deref()) {
            let first: Option<FirstEndorsement> = sqlx::query_as(
                "SELECT e.locode, e.endorsed_at, a.country FROM endorsements e \
                 JOIN authorities a ON a.id = e.authority_id \
                 WHERE e.authority_id = $1 AND e.status_index = $2 AND e.outside_country = 0 \
                 ORDER BY e.endorsed_at, e.id LIMIT 1",
            )
            .bind(authority)
            .bind(index)
            .fetch_optional(&mut *self.tx)
            .await?;
            if let Some(detail) =
                first.and_then(|first| used_permit_rescanned(&first, here, s.scanned_at))
            {
                self.raise(r, AlertKind::UsedPermitScanned, &source, detail)
                    .await?;
            }
        }
        // A spent document presented again: scanned after the import confirmation that
        // cancelled it. A scan taken before it (uploaded late) raises nothing.
        if r.state == Some(PermitState::CancelledOnImport) {
            let cancelling: Option<CancellingConfirmation> = sqlx::query_as(
                "SELECT country, confirmed_at FROM confirmations \
                 WHERE authority_id = $1 AND status_index = $2 \
                 ORDER BY confirmed_at, id LIMIT 1",
            )
            .bind(authority)
            .bind(index)
            .fetch_optional(&mut *self.tx)
            .await?;
            if let Some(detail) = cancelling
                .and_then(|c| scanned_after_import(&c, s.place.locode.as_deref(), s.scanned_at))
            {
                self.raise(r, AlertKind::ScannedAfterImport, &source, detail)
                    .await?;
            }
        }
        if let Some(here) = coords {
            let neighbours: Vec<LocatedScan> = sqlx::query_as(
                "SELECT * FROM (SELECT id, scanned_at, lat, lon FROM scans \
                   WHERE authority_id = $1 AND status_index = $2 \
                   AND NOT (token_id = $5 AND id = $3) AND outside_country = 0 \
                   AND lat IS NOT NULL AND scanned_at <= $4 \
                   ORDER BY scanned_at DESC LIMIT 1) AS before_scan \
                 UNION ALL \
                 SELECT * FROM (SELECT id, scanned_at, lat, lon FROM scans \
                   WHERE authority_id = $1 AND status_index = $2 \
                   AND NOT (token_id = $5 AND id = $3) AND outside_country = 0 \
                   AND lat IS NOT NULL AND scanned_at > $4 \
                   ORDER BY scanned_at ASC LIMIT 1) AS after_scan",
            )
            .bind(authority)
            .bind(index)
            .bind(s.id.as_str())
            .bind(s.scanned_at)
            .bind(self.uploader.token_id)
            .fetch_all(&mut *self.tx)
            .await?;
            for other in neighbours {
                let seconds = s.scanned_at - other.scanned_at;
                if let Some((km, kmh)) = implausible_travel(here, (other.lat, other.lon), seconds) {
                    let detail = format!(
                        "{km:.0} km from scan {} in {} min ({kmh:.0} km/h)",
                        other.id,
                        seconds.abs() / 60
                    );
                    self.raise(r, AlertKind::ImpossibleTravel, &source, detail)
                        .await?;
                    break;
                }
            }
        }
        Ok(())
    }

    /// What an endorsement and a confirmation share once stored: an alert for an unknown code,
    /// for a withdrawn permit, and for a second report of one permit. Returns the permit's
    /// authority and index when the code is one this deployment issued.
    async fn lines_report<'r>(
        &mut self,
        kind: LinesReport,
        id: &str,
        r: &'r Resolved,
    ) -> Result<Option<(&'r str, i64)>, StorageError> {
        let source = kind.source(id);
        let Some((authority, index)) = r.issued() else {
            let detail = format!("{} {}", kind.described().1, r.why_unknown);
            self.raise(r, AlertKind::UnknownPermit, &source, detail)
                .await?;
            return Ok(None);
        };
        if let Some(state) = r.state.filter(|s| s.is_withdrawn()) {
            let detail = format!("{} of a {state} permit", kind.described().0);
            self.raise(r, AlertKind::RevokedPermit, &source, detail)
                .await?;
        }
        let (table, time) = kind.table();
        let trusted = kind.trusted();
        let sql = format!(
            "SELECT id FROM {table} WHERE authority_id = $1 AND status_index = $2 \
             AND NOT (token_id = $4 AND id = $3){trusted} ORDER BY {time}, id LIMIT 1"
        );
        let earlier: Option<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(authority)
            .bind(index)
            .bind(id)
            .bind(self.uploader.token_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        // A multi-use certificate is endorsed (and received) once per crossing.
        let crossings = r.facts.as_ref().is_some_and(BorderFacts::records_crossings);
        if let Some((first,)) = earlier.filter(|_| !crossings) {
            let (alert, detail) = kind.second(&first);
            self.raise(r, alert, &source, detail).await?;
        }
        Ok(Some((authority, index)))
    }

    /// The lines of a permit as issued.
    async fn issued_lines(
        &mut self,
        authority: &str,
        index: i64,
    ) -> Result<Vec<IssuedLine>, StorageError> {
        Ok(sqlx::query_as(
            "SELECT block, quantity_micro, unit FROM permit_lines \
             WHERE authority_id = $1 AND status_index = $2",
        )
        .bind(authority)
        .bind(index)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    /// Raises a quantity alert for the report `id` of `kind` if `excess` says so.
    async fn excess(
        &mut self,
        kind: LinesReport,
        id: &str,
        r: &Resolved,
        excess: Option<String>,
    ) -> Result<(), StorageError> {
        match excess {
            Some(detail) => {
                self.raise(r, AlertKind::QuantityExceeded, &kind.source(id), detail)
                    .await
            }
            None => Ok(()),
        }
    }

    /// Stores one endorsement; raises what it shows and marks a valid permit used. Refuses one
    /// dated before its permit's issue day (nothing is stored).
    async fn endorsement(&mut self, e: &Endorsement) -> Result<Option<Refusal>, StorageError> {
        let kind = LinesReport::Endorsement;
        let r = self.resolve(&[e.qr.as_str()]).await?.remove(0);
        if let Some(day) = r.before_issue(e.endorsed_at) {
            return Ok(Some(Refusal::BeforeIssue(day)));
        }
        let outside = place_outside_country(e.place.locode.as_deref(), self.uploader.country);
        // A claim of a place outside the uploader's country is kept as a report that changes
        // nothing (its own alert); any other endorsement must fit its permit or is refused.
        if let Some(fault) = r
            .facts
            .as_ref()
            .filter(|_| outside.is_none())
            .and_then(|f| endorsement_fault(e.endorsed_at, f, self.uploader.country))
        {
            return Ok(Some(Refusal::Endorsement(fault)));
        }
        let coords = self.locate(&[&e.place]).await?.remove(0);
        let lines: Vec<EndorsedLine> = e.lines.iter().map(EndorsedLine::from).collect();
        let json = serde_json::to_string(&lines)
            .map_err(|_| StorageError::State("endorsement lines do not serialise"))?;
        let inserted = sqlx::query(
            "INSERT INTO endorsements (id, received_at, token_id, device_id, officer, \
             endorsed_at, locode, lat, lon, transport_document, lines, authority_id, \
             status_index, permit_number, qr_digest, device_key_id, signature, country, \
             outside_country) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19) \
             ON CONFLICT (token_id, id) DO NOTHING",
        )
        .bind(e.id.as_str())
        .bind(self.now)
        .bind(self.uploader.token_id)
        .bind(e.device_id.as_str())
        .bind(e.officer.as_deref())
        .bind(e.endorsed_at)
        .bind(e.place.locode.as_deref())
        .bind(coords.map(|c| c.0))
        .bind(coords.map(|c| c.1))
        .bind(e.transport_document.as_deref())
        .bind(json)
        .bind(r.issued().map(|(a, _)| a))
        .bind(r.issued().map(|(_, i)| i))
        .bind(r.number.as_deref())
        .bind(r.digest.as_str())
        .bind(e.signature.as_ref().map(|g| g.key_id.to_string()))
        .bind(e.signature.as_ref().map(|g| g.signature.to_vec()))
        .bind(self.uploader.country)
        .bind(i64::from(outside.is_some()))
        .execute(&mut *self.tx)
        .await?
        .rows()
            == 1;
        if !self.counted(inserted) {
            return Ok(None);
        }
        // Every stored endorsement of a permit issued here is in the permit's history, one
        // claiming a place outside the uploader's country too (it says so and changes nothing).
        let particulars = format!(
            "id={} token={} country={} endorsed_at={} place={} lines={} device_key={} \
             outside_country={} qr_sha256={}",
            e.id.as_str(),
            self.uploader.token_id,
            self.uploader.country,
            e.endorsed_at,
            e.place.locode.as_deref().unwrap_or("-"),
            logged_lines(&lines),
            e.signature
                .as_ref()
                .map_or_else(|| "-".to_owned(), |g| g.key_id.to_string()),
            u8::from(outside.is_some()),
            r.digest,
        );
        self.log_report(kind, &r, &particulars).await?;
        if let Some(detail) = outside {
            self.raise(
                &r,
                AlertKind::PlaceOutsideCountry,
                &kind.source(&e.id),
                detail,
            )
            .await?;
            return Ok(None);
        }
        let Some((authority, index)) = self.lines_report(kind, &e.id, &r).await? else {
            return Ok(None);
        };
        let issued = self.issued_lines(authority, index).await?;
        self.excess(kind, &e.id, &r, endorsement_excess(&issued, &lines))
            .await?;
        self.tx
            .webhook_event(WebhookEvent {
                authority,
                index,
                event: PermitEvent::Endorsed,
                at: self.now,
            })
            .await?;
        // A crossing of a multi-use certificate leaves it valid for the next one; the
        // endorsements stored are its list of crossings.
        let crossing = r.facts.as_ref().is_some_and(BorderFacts::records_crossings);
        if let Some(next) = r
            .state
            .filter(|_| !crossing)
            .and_then(PermitState::after_endorsement)
        {
            let why = format!("export endorsed ({})", e.id);
            self.move_state(&r, next, &why).await?;
            // The export took place: what it endorsed is the quota's endorsed total (box 14;
            // RULES.md Q4). Only the endorsement that marks the permit used counts, so a
            // re-used permit's second endorsement is not counted twice.
            for line in &lines {
                sqlx::query(
                    "UPDATE quotas SET endorsed_micro = CASE \
                     WHEN endorsed_micro > 9223372036854775807 - $1 THEN 9223372036854775807 \
                     ELSE endorsed_micro + $1 END \
                     WHERE id = (SELECT quota_id FROM permit_lines WHERE authority_id = $2 \
                     AND status_index = $3 AND block = $4)",
                )
                .bind(line.quantity_micro)
                .bind(authority)
                .bind(index)
                .bind(line.block.as_str())
                .execute(&mut *self.tx)
                .await?;
            }
        }
        Ok(None)
    }

    /// Checks a customs declaration's endorsement against its stored permit
    /// ([`customs_endorsement`]) and then stores it as [`Ingest::endorsement`] stores a phone's.
    /// The declaration sent again (its id already stored for this token) is a duplicate, as
    /// for a phone.
    async fn customs_endorsement(
        &mut self,
        e: &Endorsement,
    ) -> Result<Option<Refusal>, StorageError> {
        let again: Option<(String,)> =
            sqlx::query_as("SELECT id FROM endorsements WHERE token_id = $1 AND id = $2")
                .bind(self.uploader.token_id)
                .bind(e.id.as_str())
                .fetch_optional(&mut *self.tx)
                .await?;
        if again.is_none() {
            let r = self.resolve(&[e.qr.as_str()]).await?.remove(0);
            let (Some((authority, index)), Some(state)) = (r.issued(), r.state) else {
                return Ok(Some(Refusal::UnknownPermit));
            };
            let (export_country,): (String,) = sqlx::query_as(
                "SELECT export_country FROM permits WHERE authority_id = $1 AND status_index = $2",
            )
            .bind(authority)
            .bind(index)
            .fetch_one(&mut *self.tx)
            .await?;
            let endorsed_before: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM endorsements WHERE authority_id = $1 AND status_index = $2 \
                 AND outside_country = 0 LIMIT 1",
            )
            .bind(authority)
            .bind(index)
            .fetch_optional(&mut *self.tx)
            .await?;
            let issued = self.issued_lines(authority, index).await?;
            let permit = EndorsedPermit {
                export_country: &export_country,
                state,
                endorsed_before: endorsed_before.is_some(),
                records_crossings: r.facts.as_ref().is_some_and(BorderFacts::records_crossings),
                issued: &issued,
            };
            let lines: Vec<EndorsedLine> = e.lines.iter().map(EndorsedLine::from).collect();
            if let Some(why) = customs_endorsement(self.uploader.country, permit, &lines) {
                return Ok(Some(Refusal::Customs(why)));
            }
        }
        self.endorsement(e).await
    }

    /// Appends the log's leaf for a report of `kind` about the permit `r` resolved to, when
    /// this deployment issued it, in the upload's transaction.
    async fn log_report(
        &mut self,
        kind: LinesReport,
        r: &Resolved,
        particulars: &str,
    ) -> Result<(), StorageError> {
        match (r.issued(), r.number.as_deref()) {
            (Some((authority, _)), Some(number)) => {
                self.log_permit(authority, number, kind.log_kind(), particulars)
                    .await
            }
            _ => Ok(()),
        }
    }

    /// Appends a leaf about the permit `number` of `authority`, by the uploading token.
    async fn log_permit(
        &mut self,
        authority: &str,
        number: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StorageError> {
        let event = AuditEvent {
            at: self.now,
            actor: self.uploader.token_id,
            authority: Some(authority),
            action,
            detail,
        };
        let subject = trail::permit_subject(authority, number);
        Ok(self.tx.audit_about(event, &subject).await?)
    }

    /// Moves the permit `r` resolved to into the state a field report leads to, with a new
    /// status list version, its recorded change (what deltas are read from) and its leaf in
    /// the log. Nothing for a code not issued here.
    async fn move_state(
        &mut self,
        r: &Resolved,
        next: PermitState,
        why: &str,
    ) -> Result<(), StorageError> {
        let (Some((authority, index)), Some(number)) = (r.issued(), r.number.as_deref()) else {
            return Ok(());
        };
        let version = self.tx.bump_status(authority, self.now).await?;
        sqlx::query(
            "UPDATE permits SET state = $1, state_reason = $2, state_changed_at = $3 \
             WHERE authority_id = $4 AND status_index = $5",
        )
        .bind(next)
        .bind(why)
        .bind(self.now)
        .bind(authority)
        .bind(index)
        .execute(&mut *self.tx)
        .await?;
        self.tx
            .record_change(StatusChange {
                authority,
                version,
                index,
                state: next,
                at: self.now,
            })
            .await?;
        // Named by the state reached (`permit.used`, `permit.cancelled_on_import`), not by an
        // issuer's action: no one asked for it, a report led to it.
        let action = format!("permit.{}", next.as_str());
        let detail = format!(
            "number={number} index={index} version={version} state={} reason={why}",
            next.as_str()
        );
        self.log_permit(authority, number, &action, &detail).await
    }

    /// Stores one confirmation of `country`'s authority; raises what it shows. Refuses, with
    /// nothing stored, one of a permit bound for another country or dated before its permit's
    /// issue day.
    async fn confirmation(&mut self, c: &Confirmation) -> Result<Option<Refusal>, StorageError> {
        let country = self.uploader.country;
        let kind = LinesReport::Confirmation;
        let r = self.resolve(&[c.qr.as_str()]).await?.remove(0);
        // A multi-use certificate names no importer: each country it enters receives it.
        if let Some(f) = r.facts.as_ref().filter(|f| !f.records_crossings())
            && f.import_country.as_deref() != Some(country)
        {
            return Ok(Some(Refusal::NotForThisCountry));
        }
        if let Some(day) = r.before_issue(c.received_at) {
            return Ok(Some(Refusal::BeforeIssue(day)));
        }
        // The port of entry, located like an endorsement's port of export.
        let coords = self.locate(&[&c.place]).await?.remove(0);
        let lines: Vec<EndorsedLine> = c.lines.iter().map(EndorsedLine::from).collect();
        let json = serde_json::to_string(&lines)
            .map_err(|_| StorageError::State("confirmation lines do not serialise"))?;
        let inserted = sqlx::query(
            "INSERT INTO confirmations (id, received_at, token_id, country, confirmed_at, \
             lines, authority_id, status_index, permit_number, qr_digest, locode, lat, lon) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (token_id, id) DO NOTHING",
        )
        .bind(c.id.as_str())
        .bind(self.now)
        .bind(self.uploader.token_id)
        .bind(country)
        .bind(c.received_at)
        .bind(json)
        .bind(r.issued().map(|(a, _)| a))
        .bind(r.issued().map(|(_, i)| i))
        .bind(r.number.as_deref())
        .bind(r.digest.as_str())
        .bind(c.place.locode.as_deref())
        .bind(coords.map(|c| c.0))
        .bind(coords.map(|c| c.1))
        .execute(&mut *self.tx)
        .await?
        .rows()
            == 1;
        if !self.counted(inserted) {
            return Ok(None);
        }
        let particulars = format!(
            "id={} token={} country={country} received_at={} place={} lines={} qr_sha256={}",
            c.id.as_str(),
            self.uploader.token_id,
            c.received_at,
            c.place.locode.as_deref().unwrap_or("-"),
            logged_lines(&lines),
            r.digest,
        );
        self.log_report(kind, &r, &particulars).await?;
        let Some((authority, index)) = self.lines_report(kind, &c.id, &r).await? else {
            return Ok(None);
        };
        // The importing authority cancels a single-use document on import (Res. Conf. 12.3;
        // Art. VI): phones learn it at sync (status state 4). A multi-use certificate's entry
        // is one crossing among many and leaves it valid.
        let crossing = r.facts.as_ref().is_some_and(BorderFacts::records_crossings);
        if let Some(next) = r
            .state
            .filter(|_| !crossing)
            .and_then(PermitState::after_import_confirmation)
        {
            let why = format!("cancelled on import by {country} ({})", c.id);
            self.move_state(&r, next, &why).await?;
        }
        // One event for the confirmation and what it did, written after it: its state is the
        // permit's after the event.
        self.tx
            .webhook_event(WebhookEvent {
                authority,
                index,
                event: PermitEvent::Confirmed,
                at: self.now,
            })
            .await?;
        if let Some(detail) = r
            .facts
            .as_ref()
            .and_then(|f| imported_after_validity(c.received_at, f))
        {
            self.raise(
                &r,
                AlertKind::ImportedAfterValidity,
                &kind.source(&c.id),
                detail,
            )
            .await?;
        }
        let endorsed: Option<(String,)> = sqlx::query_as(
            "SELECT lines FROM endorsements WHERE authority_id = $1 AND status_index = $2 \
             AND outside_country = 0 ORDER BY endorsed_at, id LIMIT 1",
        )
        .bind(authority)
        .bind(index)
        .fetch_optional(&mut *self.tx)
        .await?;
        let (limits, against) = match endorsed {
            Some((json,)) => (
                serde_json::from_str::<Vec<EndorsedLine>>(&json)
                    .map_err(|e| StorageError::Corrupt(format!("endorsement lines: {e}")))?,
                Against::Endorsed,
            ),
            None => {
                let detail = "no export endorsement is recorded for this permit".to_owned();
                self.raise(
                    &r,
                    AlertKind::ImportWithoutEndorsement,
                    &kind.source(&c.id),
                    detail,
                )
                .await?;
                let issued: Vec<EndorsedLine> = sqlx::query_as(
                    "SELECT block, quantity_micro FROM permit_lines \
                     WHERE authority_id = $1 AND status_index = $2",
                )
                .bind(authority)
                .bind(index)
                .fetch_all(&mut *self.tx)
                .await?;
                (issued, Against::Issued)
            }
        };
        self.excess(
            kind,
            &c.id,
            &r,
            confirmation_excess(&limits, against, &lines),
        )
        .await?;
        Ok(None)
    }
}

impl Db {
    /// Stores a batch of scan reports and raises alerts for the new ones. A report's device
    /// signature is stored as verified: the caller has checked it against the uploading
    /// token's key (FORMAT.md §10.5, `http/field_reports.rs`) and refused the batch otherwise.
    pub async fn upload_scans(
        &self,
        uploader: Uploader<'_>,
        scans: &[Scan],
        now: i64,
    ) -> Result<UploadOutcome, StorageError> {
        let texts: Vec<&str> = scans.iter().map(|s| s.qr.as_str()).collect();
        let places: Vec<&Place> = scans.iter().map(|s| &s.place).collect();
        on_db!(self, write, |pool| {
            let mut ingest = Ingest::new(pool.begin_write().await?, now, uploader);
            if let Some(limited) = ingest.spend(Budget::Uploads, 1).await? {
                return Ok(limited);
            }
            let resolved = ingest.resolve(&texts).await?;
            let coords = ingest.locate(&places).await?;
            for ((s, r), coords) in scans.iter().zip(&resolved).zip(coords) {
                ingest.scan(s, r, coords).await?;
            }
            ingest.commit().await
        })
    }

    /// Stores a batch of export endorsements: marks each endorsed permit used (bumping its
    /// status list) and raises alerts for re-use, excess quantities and revoked or unknown
    /// permits. Each endorsement sees the ones before it in the batch. Device signatures as
    /// for [`Db::upload_scans`]. An endorsement dated before its permit's issue day refuses
    /// the upload.
    pub async fn upload_endorsements(
        &self,
        uploader: Uploader<'_>,
        items: &[Endorsement],
        now: i64,
    ) -> Result<UploadOutcome, StorageError> {
        let texts: Vec<&str> = items.iter().map(|e| e.qr.as_str()).collect();
        on_db!(self, write, |pool| {
            let mut ingest = Ingest::new(pool.begin_write().await?, now, uploader);
            if let Some(limited) = ingest.spend(Budget::Uploads, 1).await? {
                return Ok(limited);
            }
            ingest.lock_permits(&texts).await?;
            for (position, e) in items.iter().enumerate() {
                if let Some(why) = ingest.endorsement(e).await? {
                    // Dropping the transaction rolls the upload back; a fault of the
                    // endorsement itself is then recorded as an alert on its own.
                    drop(ingest);
                    if let Refusal::Endorsement(fault) = &why {
                        let kind = match fault {
                            EndorsementFault::AfterValidity(_) => AlertKind::EndorsedAfterValidity,
                            EndorsementFault::NotExportingParty(_) => {
                                AlertKind::EndorsedByAnotherParty
                            }
                        };
                        let source = LinesReport::Endorsement.source(&e.id);
                        Ingest::new(pool.begin_write().await?, now, uploader)
                            .record_refusal(&e.qr, kind, &source, |_| {
                                fault.detail(uploader.country)
                            })
                            .await?;
                    }
                    return Ok(UploadOutcome::Refused { position, why });
                }
            }
            ingest.commit().await
        })
    }

    /// Records the export endorsement of a customs declaration through the ingest of a
    /// phone's endorsement (the permit becomes used, its status list moves), after the
    /// customs rules: a permit this deployment issued, exported from the customs token's
    /// country, not withdrawn, endorsed once and within its issued quantities
    /// ([`customs_endorsement`]); otherwise refused with nothing stored.
    pub async fn record_customs_endorsement(
        &self,
        uploader: Uploader<'_>,
        endorsement: &Endorsement,
        now: i64,
    ) -> Result<UploadOutcome, StorageError> {
        let texts = [endorsement.qr.as_str()];
        on_db!(self, write, |pool| {
            let mut ingest = Ingest::new(pool.begin_write().await?, now, uploader);
            if let Some(limited) = ingest.spend(Budget::Uploads, 1).await? {
                return Ok(limited);
            }
            ingest.lock_permits(&texts).await?;
            if let Some(why) = ingest.customs_endorsement(endorsement).await? {
                return Ok(UploadOutcome::Refused { position: 0, why });
            }
            ingest.commit().await
        })
    }

    /// Stores import confirmations of `country`'s authority. Raises alerts for a second
    /// confirmation, received quantities above what was endorsed (or issued, when no export
    /// endorsement is recorded), a permit never endorsed for export, and revoked or unknown
    /// codes. A confirmation of a permit bound elsewhere, or dated before its permit's issue
    /// day, refuses the upload.
    pub async fn upload_confirmations(
        &self,
        uploader: Uploader<'_>,
        items: &[Confirmation],
        now: i64,
    ) -> Result<UploadOutcome, StorageError> {
        let texts: Vec<&str> = items.iter().map(|c| c.qr.as_str()).collect();
        on_db!(self, write, |pool| {
            let mut ingest = Ingest::new(pool.begin_write().await?, now, uploader);
            if let Some(limited) = ingest.spend(Budget::Uploads, 1).await? {
                return Ok(limited);
            }
            ingest.lock_permits(&texts).await?;
            for (position, c) in items.iter().enumerate() {
                if let Some(why) = ingest.confirmation(c).await? {
                    // Dropping the transaction rolls the upload back; a confirmation by a
                    // country the permit is not bound for is then recorded as an alert.
                    drop(ingest);
                    if why == Refusal::NotForThisCountry {
                        let source = LinesReport::Confirmation.source(&c.id);
                        Ingest::new(pool.begin_write().await?, now, uploader)
                            .record_refusal(&c.qr, AlertKind::ImportNotDestined, &source, |r| {
                                r.facts.as_ref().map_or_else(
                                    || "import confirmation of a permit bound elsewhere".into(),
                                    |f| not_destined(f, uploader.country),
                                )
                            })
                            .await?;
                    }
                    return Ok(UploadOutcome::Refused { position, why });
                }
            }
            ingest.commit().await
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
            let detail = format!("{locode} {name} {lat} {lon}");
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: None,
                action: "location.set",
                detail: &detail,
            })
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every known place.
    pub async fn list_locations(&self) -> Result<Vec<Location>, StorageError> {
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

    /// An authority's alerts, newest first (of one permit, by its status index, if given).
    pub async fn newest_alerts(
        &self,
        authority: &str,
        status_index: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AlertRow>, StorageError> {
        let sql = format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE authority_id = $1 \
             AND ($2 IS NULL OR status_index = $2) ORDER BY last_at DESC, id DESC LIMIT $3"
        );
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(authority)
        .bind(status_index)
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
                 s.token_id, s.country AS uploader_country, s.outside_country, \
                 t.label AS token_label, t.country AS token_country, s.device_key_id, \
                 CASE WHEN s.signature IS NULL THEN 0 ELSE 1 END AS signature_verified \
                 FROM scans s LEFT JOIN tokens t ON t.id = s.token_id \
                 WHERE s.authority_id = $1 AND s.status_index = $2 ORDER BY s.scanned_at, s.id",
            )
            .bind(authority)
            .bind(index)
            .fetch_all(pool)
            .await?;
            let endorsements: Vec<StoredEndorsement> = sqlx::query_as(
                "SELECT e.id, e.endorsed_at, e.locode, e.lines, e.device_id, \
                 e.token_id, e.country AS uploader_country, e.outside_country, \
                 t.label AS token_label, t.country AS token_country, e.device_key_id, \
                 CASE WHEN e.signature IS NULL THEN 0 ELSE 1 END AS signature_verified \
                 FROM endorsements e LEFT JOIN tokens t ON t.id = e.token_id \
                 WHERE e.authority_id = $1 AND e.status_index = $2 ORDER BY e.endorsed_at, e.id",
            )
            .bind(authority)
            .bind(index)
            .fetch_all(pool)
            .await?;
            let confirmations: Vec<StoredConfirmation> = sqlx::query_as(
                "SELECT id, token_id, confirmed_at, country, locode, lat, lon, lines \
                 FROM confirmations \
                 WHERE authority_id = $1 AND status_index = $2 ORDER BY confirmed_at, id",
            )
            .bind(authority)
            .bind(index)
            .fetch_all(pool)
            .await?;
            Ok(Usage {
                confirmations: confirmations
                    .into_iter()
                    .map(|c| {
                        Ok(UsageConfirmation {
                            lines: stored_lines(&c.lines)?,
                            id: c.id,
                            token_id: c.token_id,
                            confirmed_at: c.confirmed_at,
                            country: c.country,
                            locode: c.locode,
                            lat: c.lat,
                            lon: c.lon,
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
                            outside_country: e.outside_country != 0,
                            reporter: e.reporter,
                        })
                    })
                    .collect::<Result<_, StorageError>>()?,
            })
        })
    }
}

/// An endorsement row as a usage history reads it.
#[derive(sqlx::FromRow)]
struct StoredEndorsement {
    id: String,
    endorsed_at: i64,
    locode: Option<String>,
    lines: String,
    device_id: String,
    outside_country: i64,
    #[sqlx(flatten)]
    reporter: Reporter,
}

/// A confirmation row as a usage history reads it.
#[derive(sqlx::FromRow)]
struct StoredConfirmation {
    id: String,
    token_id: String,
    confirmed_at: i64,
    country: String,
    locode: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    lines: String,
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
    /// Report id (unique for its token).
    pub id: String,
    /// The importer token that uploaded it (its country is `country`).
    pub token_id: String,
    /// Unix seconds.
    pub confirmed_at: i64,
    /// Importing country.
    pub country: String,
    /// Port of entry: UN/LOCODE (absent for confirmations stored before ports were recorded).
    pub locode: Option<String>,
    /// Port of entry: latitude, as sent or from the known places.
    pub lat: Option<f64>,
    /// Port of entry: longitude.
    pub lon: Option<f64>,
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
    /// Its place is outside the uploader's country: kept as a report, it counted for nothing.
    #[serde(serialize_with = "as_bool")]
    pub outside_country: i64,
    /// Who reported it.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub reporter: Reporter,
}

/// Who uploaded a scan or endorsement: the device token and the device key that signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Reporter {
    /// The device token that uploaded it (report ids are unique per token).
    pub token_id: String,
    /// The uploader's country when it uploaded (absent for reports stored before this was
    /// recorded, whose token had none).
    pub uploader_country: Option<String>,
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

fn as_bool<N: Copy + Into<i64>, S: serde::Serializer>(v: &N, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool((*v).into() != 0)
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
    /// Its place is outside the uploader's country: kept as a report, it counted for nothing.
    pub outside_country: bool,
    /// Who reported it.
    #[serde(flatten)]
    pub reporter: Reporter,
}
