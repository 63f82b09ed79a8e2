//! Issued permits: issuance (index, signature, quota and import-permit rules inside one
//! transaction), lookup, search, and state changes. Every change bumps the authority's status
//! list version and records the change for deltas.

use std::collections::HashMap;

use serde::Serialize;
use verifier_core::date::Date;
use verifier_core::keys::SecretKey;
use verifier_core::payload;
use verifier_core::permit::{IssueContext, Permit, PermitDraft, normalize_number};
use verifier_core::text::comparison_key;

use super::applications::{ApplicationSteps as _, TransitionRecord};
use super::{
    AuditEvent, BeginWrite as _, Bookkeeping, Db, ROWS_PER_INSERT, StatusChange, StorageError,
    on_db, push_rows, trail,
};
use crate::crypto::MasterKey;
use crate::domain::applications::{ApplicationAction, ApplicationState};
use crate::domain::issuing::{
    CoverageShortfall, ImportPermitFound, Listing, counts_against_quota, format_micro,
    import_permit_covers, import_permit_usable, line_needs_import_permit, listing_contradiction,
    listing_finding, micro,
};
use crate::domain::{PermitState, RevocationReason, StateAction};
use crate::model::AuthorityId;
use sha2::Digest as _;

/// A stored permit.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct PermitRow {
    /// Issuing authority.
    pub authority_id: String,
    /// Index in the authority's status list.
    pub status_index: i64,
    /// Number as printed.
    pub number: String,
    /// Document type code.
    pub document_type: String,
    /// Exporting country.
    pub export_country: String,
    /// Importing country.
    pub import_country: Option<String>,
    /// Issue time.
    pub issued_at: i64,
    /// Last day of validity (YYYY-MM-DD).
    pub valid_until: String,
    /// Signing key.
    pub kid: String,
    /// The submitted draft (JSON).
    pub draft: String,
    /// The signed QR text.
    pub qr_text: String,
    /// Referenced import permit (JSON), for Appendix-I exports.
    pub import_permit: Option<String>,
    /// Where it is in its lifecycle.
    pub state: PermitState,
    /// Reason of the last state change.
    pub state_reason: Option<String>,
    /// Time of the last state change.
    pub state_changed_at: i64,
    /// Token that issued it.
    pub created_by: String,
    /// The application it was issued from, if any.
    pub application_id: Option<String>,
    /// Why it was revoked, when the revocation said.
    pub revocation_kind: Option<RevocationReason>,
    /// The permit that replaces it (revoked as `replaced`).
    pub replaced_by: Option<String>,
    /// Form content beyond the payload (JSON, `views::FormContent`).
    pub form_content: Option<String>,
}

pub(crate) const COLUMNS: &str = "authority_id, status_index, number, document_type, \
    export_country, import_country, issued_at, valid_until, kid, draft, qr_text, import_permit, \
    state, state_reason, state_changed_at, created_by, application_id, revocation_kind, replaced_by, \
    form_content";

/// A quota and how much of it issued permits use, in millionths of its unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct QuotaUse {
    /// The quota.
    pub quota_micro: i64,
    /// Used by permits issued in its year and not revoked.
    pub used_micro: i64,
    /// Endorsed at export (box 14) of the permits counted against it.
    pub endorsed_micro: i64,
}

pub use crate::domain::issuing::QuotaScope;

/// A quota of an authority.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QuotaRow {
    /// Calendar year.
    pub year: i64,
    /// Taxon.
    pub scientific_name: String,
    /// Unit code.
    pub unit: String,
    /// Term, source and purpose it is of.
    #[sqlx(flatten)]
    pub scope: QuotaScope,
    /// Quota and use.
    #[sqlx(flatten)]
    pub quota: QuotaUse,
}

/// One permit to issue: a draft checked by the core, plus what only the server knows.
#[derive(Debug, Clone)]
pub struct IssueItem {
    /// The draft as submitted.
    pub draft: PermitDraft,
    /// Its JSON, stored as submitted.
    pub draft_json: String,
    /// The import permit an Appendix-I export references: (country, number).
    pub import_permit: Option<(String, String)>,
    /// Form content beyond the payload (JSON), stored as given.
    pub form: Option<String>,
    /// The approved application this permit is issued from: its `issue` transition is
    /// recorded in the issuing transaction, or nothing is issued.
    pub application: Option<ApplicationIssue>,
}

/// The `issue` transition of the application a permit is issued from.
#[derive(Debug, Clone)]
pub struct ApplicationIssue {
    /// The application.
    pub id: String,
    /// The version the signatory saw.
    pub version: i64,
    /// The signatory's user id.
    pub actor: String,
    /// Their comment.
    pub comment: Option<String>,
    /// Where the trader is told.
    pub notify: Option<String>,
}

/// Why issuance was refused by a rule that needs the database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssueRefusal {
    /// The authority already issued a permit with this number (after normalisation).
    #[error("permit {index}: number {number:?} is already used by this authority")]
    DuplicateNumber {
        /// Position in the batch.
        index: usize,
        /// The number.
        number: String,
    },
    /// A line's appendix or kingdom contradicts the taxon's listing in the reference table.
    #[error("permit {index}: block {block}: {taxon} is listed as {listed}")]
    TaxonListing {
        /// Position in the batch.
        index: usize,
        /// Block letter.
        block: char,
        /// Scientific name.
        taxon: String,
        /// Its kingdom and appendices in the table.
        listed: String,
    },
    /// The referenced import permit's country issues on this deployment, and no valid import
    /// permit of that number is found. The answer is the same whether such a document does not
    /// exist, is of another type, is not valid or has expired: the import permit belongs to
    /// another Party, whose documents the issuer may not probe.
    #[error(
        "permit {index}: {number:?} is not a valid import permit of {country} on this deployment"
    )]
    ImportPermit {
        /// Position in the batch.
        index: usize,
        /// Country of the import permit.
        country: String,
        /// Its number.
        number: String,
    },
    /// A line that needs the import permit is not covered by it: the import permit has no line
    /// of the taxon (by comparison key), term and unit, or the exports referencing it would
    /// together take more than it covers.
    #[error("permit {index}, block {block}: import permit {number:?} {shortfall}")]
    ImportPermitCoverage {
        /// Position in the batch.
        index: usize,
        /// Block letter.
        block: char,
        /// The import permit's number.
        number: String,
        /// What is missing, with the numbers.
        shortfall: String,
    },
    /// A pre-Convention or origin line that the taxon's listing date or Party refuses
    /// (RULES.md T2, T3).
    #[error("permit {index}: block {block}: {detail}")]
    ListingRule {
        /// Position in the batch.
        index: usize,
        /// Block letter.
        block: char,
        /// `acquired_after_listing` or `origin_from_listing_party`.
        code: &'static str,
        /// What the issuer reads.
        detail: String,
    },
    /// A line would take the quota past its annual total.
    #[error(
        "permit {index}, block {block}: quota for {taxon} ({unit}{scope}) in {year} would be \
         exceeded: {used} used of {quota}, the line asks {asked}"
    )]
    QuotaExceeded {
        /// Position in the batch.
        index: usize,
        /// Block letter.
        block: char,
        /// Scientific name.
        taxon: String,
        /// Unit code.
        unit: String,
        /// What else the quota is of (`, term TUS`), or empty.
        scope: String,
        /// Quota year.
        year: i32,
        /// What the line asks (in the unit).
        asked: String,
        /// Already counted (in the unit).
        used: String,
        /// The quota (in the unit).
        quota: String,
    },
    /// The application the permit was to be issued from changed first (another signatory
    /// acted): nothing was issued.
    #[error("permit {index}: the application changed while it was being issued")]
    ApplicationChanged {
        /// Position in the batch.
        index: usize,
    },
}

/// The result of a batch issuance.
#[derive(Debug)]
pub enum IssueOutcome {
    /// Every permit was issued.
    Issued(Vec<PermitRow>),
    /// A rule refused one permit; nothing was issued.
    Refused(IssueRefusal),
}

/// Filters for listing permits.
#[derive(Debug, Clone, Default)]
pub struct PermitFilter {
    /// Only this state.
    pub state: Option<PermitState>,
    /// Only numbers whose normalised form starts with this.
    pub number_prefix: Option<String>,
    /// Only permits to this importing country.
    pub import_country: Option<String>,
    /// Only status indexes above this (cursor).
    pub after: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// Appends the pending permits' leaves (particulars, subject) as `permit.issue` events, in
/// order, and empties the list.
async fn append_leaves(
    tx: &mut impl Bookkeeping,
    actor: &str,
    authority: &str,
    now: i64,
    leaves: &mut Vec<(String, String)>,
) -> Result<(), sqlx::Error> {
    let events: Vec<(AuditEvent<'_>, &str)> = leaves
        .iter()
        .map(|(detail, subject)| {
            let event = AuditEvent {
                at: now,
                actor,
                authority: Some(authority),
                action: "permit.issue",
                detail,
            };
            (event, subject.as_str())
        })
        .collect();
    tx.audit_about_each(&events).await?;
    leaves.clear();
    Ok(())
}

impl Db {
    /// Issues a batch of permits atomically: reserves status indexes, signs each permit with the
    /// authority's active key, applies the import-permit and quota rules, records everything, and
    /// bumps the status list version once.
    pub async fn issue_permits(
        &self,
        actor: &str,
        authority: &AuthorityId,
        items: &[IssueItem],
        master: &MasterKey,
        now: i64,
    ) -> Result<IssueOutcome, StorageError> {
        let n = i64::try_from(items.len()).map_err(|_| StorageError::State("batch too large"))?;
        let authority = authority.as_str();
        let year = Date::from_unix(now).ymd().0;
        let insert = format!(
            "INSERT INTO permits ({COLUMNS}, number_key) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $15, NULL, $7, $13, $16, NULL, NULL, $17, $14) \
             RETURNING {COLUMNS}"
        );
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let auth: Option<(String, i64)> =
                sqlx::query_as("SELECT country, next_status_index FROM authorities WHERE id = $1")
                    .bind(authority)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((country, _)) = auth else {
                return Err(StorageError::NotFound("authority"));
            };
            let issuing_country = country
                .parse()
                .map_err(|_| StorageError::State("the authority's country is not an ISO code"))?;
            let key: Option<(String, Vec<u8>)> = sqlx::query_as(
                "SELECT kid, sealed_seed FROM signing_keys WHERE authority_id = $1 AND status = 'active'",
            )
            .bind(authority)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((kid, sealed)) = key else {
                return Err(StorageError::State(
                    "the authority has no active signing key; generate one first",
                ));
            };
            let seed = master.open_seed(&kid, &sealed)?;
            let signer = SecretKey::from_seed(seed.expose());
            let (next, version): (i64, i64) = sqlx::query_as(
                "UPDATE authorities SET next_status_index = next_status_index + $1, \
                 status_version = status_version + 1, \
                 status_changed_at = CASE WHEN status_changed_at > $2 THEN status_changed_at ELSE $2 END \
                 WHERE id = $3 RETURNING next_status_index, status_version",
            )
            .bind(n)
            .bind(now)
            .bind(authority)
            .fetch_one(&mut *tx)
            .await?;
            let first = next - n;
            let mut rows = Vec::with_capacity(items.len());
            // A taxon's listings, read once per batch: a batch usually names few taxa.
            let mut listed: HashMap<String, Vec<Listing>> = HashMap::new();
            // Each permit's log leaf (its particulars and subject), appended in issue order
            // with a few statements when the batch ends, or before an application's own leaf.
            let mut leaves: Vec<(String, String)> = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let index = first + i64::try_from(i).unwrap_or(i64::MAX);
                let status_index =
                    u32::try_from(index).map_err(|_| StorageError::State("status list is full"))?;
                let ctx = IssueContext {
                    issuing_country,
                    issued_at: now,
                    status_index,
                };
                // The caller validated the draft; a failure here would be a race on nothing.
                let permit = Permit::new(&item.draft, ctx)
                    .map_err(|_| StorageError::State("draft no longer validates"))?;
                let data = permit.data();
                for line in &data.lines {
                    // By the comparison key (FORMAT.md §11.3): every taxon whose name reads
                    // the same must agree with the line.
                    let name_key = comparison_key(&line.scientific_name);
                    let listings: &[Listing] = match listed.entry(name_key) {
                        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                        std::collections::hash_map::Entry::Vacant(e) => {
                            let found: Vec<Listing> = sqlx::query_as(
                                "SELECT kingdom, appendices, listed_on, app3_party FROM taxa \
                                 WHERE name_key = $1",
                            )
                            .bind(e.key())
                            .fetch_all(&mut *tx)
                            .await?;
                            e.insert(found)
                        }
                    };
                    if let Some(listed) = listings.iter().find_map(|l| {
                        listing_contradiction(l, line.kingdom.code(), line.appendix.code())
                    }) {
                        return Ok(IssueOutcome::Refused(IssueRefusal::TaxonListing {
                            index: i,
                            block: line.block,
                            taxon: line.scientific_name.clone(),
                            listed,
                        }));
                    }
                    for l in listings {
                        let found = listing_finding(
                            l,
                            data.document_type,
                            &issuing_country.to_string(),
                            line.appendix.code(),
                            line.acquisition_date,
                        )
                        .map_err(StorageError::Corrupt)?;
                        if let Some(found) = found {
                            return Ok(IssueOutcome::Refused(IssueRefusal::ListingRule {
                                index: i,
                                block: line.block,
                                code: found.code(),
                                detail: found.message(&line.scientific_name),
                            }));
                        }
                    }
                }
                // The import permit's own lines, when it is on this deployment and usable; an
                // import permit of a Party that issues elsewhere is recorded as unverified.
                let mut import_found: Option<(String, i64)> = None;
                // Or of a Party that issues elsewhere, received from it as CITESEPermit XML by
                // this authority (docs/FEDERATION.md): its lines cover as a local one's do.
                let mut partner_found = false;
                if let Some((ic, inum)) = &item.import_permit {
                    let on_deployment: Option<(String,)> =
                        sqlx::query_as("SELECT id FROM authorities WHERE country = $1 LIMIT 1")
                            .bind(ic)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if on_deployment.is_some() {
                        let found: Option<ImportPermitFound> = sqlx::query_as(
                            "SELECT p.authority_id, p.status_index, p.state, p.valid_until, \
                             p.document_type FROM permits p \
                             JOIN authorities a ON a.id = p.authority_id \
                             WHERE a.country = $1 AND p.number_key = $2 LIMIT 1",
                        )
                        .bind(ic)
                        .bind(normalize_number(inum))
                        .fetch_optional(&mut *tx)
                        .await?;
                        if !import_permit_usable(found.as_ref(), now) {
                            return Ok(IssueOutcome::Refused(IssueRefusal::ImportPermit {
                                index: i,
                                country: ic.clone(),
                                number: inum.clone(),
                            }));
                        }
                        import_found = found.map(|f| (f.authority_id, f.status_index));
                    } else {
                        let partner: Option<(String,)> = sqlx::query_as(
                            "SELECT valid_until FROM partner_import_permits \
                             WHERE authority_id = $1 AND import_country = $2 AND number_key = $3",
                        )
                        .bind(authority)
                        .bind(ic)
                        .bind(normalize_number(inum))
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some((until,)) = partner {
                            if until < Date::from_unix(now).to_string() {
                                return Ok(IssueOutcome::Refused(IssueRefusal::ImportPermit {
                                    index: i,
                                    country: ic.clone(),
                                    number: inum.clone(),
                                }));
                            }
                            partner_found = true;
                        }
                    }
                }
                let text = payload::sign(&permit, &signer);
                let import_json = item.import_permit.as_ref().map(|(c, num)| {
                    serde_json::json!({
                        "country": c, "number": num, "verified": import_found.is_some()
                    })
                    .to_string()
                });
                let row: Result<PermitRow, sqlx::Error> =
                    sqlx::query_as(sqlx::AssertSqlSafe(insert.as_str()))
                        .bind(authority)
                        .bind(index)
                        .bind(&data.number)
                        .bind(data.document_type.to_string())
                        .bind(data.exporter.country.to_string())
                        .bind(data.importer.as_ref().map(|p| p.country.to_string()))
                        .bind(now)
                        .bind(data.valid_until.to_string())
                        .bind(&kid)
                        .bind(&item.draft_json)
                        .bind(&text)
                        .bind(import_json)
                        .bind(actor)
                        .bind(normalize_number(&data.number))
                        .bind(PermitState::Valid)
                        .bind(item.application.as_ref().map(|a| a.id.as_str()))
                        .bind(item.form.as_deref())
                        .fetch_one(&mut *tx)
                        .await;
                let row = match row {
                    Ok(row) => row,
                    Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                        return Ok(IssueOutcome::Refused(IssueRefusal::DuplicateNumber {
                            index: i,
                            number: data.number.clone(),
                        }));
                    }
                    Err(e) => return Err(e.into()),
                };
                for line in &data.lines {
                    let q = micro(line.quantity)
                        .ok_or(StorageError::State("quantity beyond the issuing bound"))?;
                    let unit = line.unit.to_string();
                    let key = comparison_key(&line.scientific_name);
                    // Only exports and re-exports of specimens other than seized ones count
                    // (`counts_against_quota`); the line is then stored under no quota.
                    let counts = counts_against_quota(data.document_type, line.source);
                    let term = line.term.to_string();
                    let source = line.source.to_string();
                    let purpose = data.purpose.to_string();
                    // The most specific quota the line matches (RULES.md Q3).
                    let quota: Option<(i64, i64, i64, String, String, String)> = if !counts {
                        None
                    } else {
                        sqlx::query_as(
                            "SELECT id, quota_micro, used_micro, term, source, purpose FROM quotas \
                         WHERE authority_id = $1 AND year = $2 AND name_key = $3 AND unit = $4 \
                         AND (term = '' OR term = $5) AND (source = '' OR source = $6) \
                         AND (purpose = '' OR purpose = $7) \
                         ORDER BY CASE WHEN term = '' THEN 0 ELSE 1 END \
                         + CASE WHEN source = '' THEN 0 ELSE 1 END \
                         + CASE WHEN purpose = '' THEN 0 ELSE 1 END DESC, id LIMIT 1",
                        )
                        .bind(authority)
                        .bind(i64::from(year))
                        .bind(&key)
                        .bind(&unit)
                        .bind(&term)
                        .bind(&source)
                        .bind(&purpose)
                        .fetch_optional(&mut *tx)
                        .await?
                    };
                    let mut quota_id = None;
                    let mut quota_used = None;
                    if let Some((qid, total, _, q_term, q_source, q_purpose)) = quota {
                        // `used <= quota - q` cannot overflow (both are at most 10^18, see
                        // MAX_ISSUED_QUANTITY), where `used + q <= quota` could.
                        let done: Option<(i64,)> = sqlx::query_as(
                            "UPDATE quotas SET used_micro = used_micro + $1 \
                             WHERE id = $2 AND used_micro <= quota_micro - $1 RETURNING used_micro",
                        )
                        .bind(q)
                        .bind(qid)
                        .fetch_optional(&mut *tx)
                        .await?;
                        quota_used = done.map(|(used,)| used);
                        if done.is_none() {
                            let (used,): (i64,) =
                                sqlx::query_as("SELECT used_micro FROM quotas WHERE id = $1")
                                    .bind(qid)
                                    .fetch_one(&mut *tx)
                                    .await?;
                            return Ok(IssueOutcome::Refused(IssueRefusal::QuotaExceeded {
                                index: i,
                                block: line.block,
                                taxon: line.scientific_name.clone(),
                                unit,
                                scope: QuotaScope {
                                    term: Some(q_term).filter(|t| !t.is_empty()),
                                    source: Some(q_source).filter(|t| !t.is_empty()),
                                    purpose: Some(q_purpose).filter(|t| !t.is_empty()),
                                }
                                .described(),
                                year,
                                asked: format_micro(q),
                                used: format_micro(used),
                                quota: format_micro(total),
                            }));
                        }
                        quota_id = Some(qid);
                    }
                    if let Some((ic, inum)) = item
                        .import_permit
                        .as_ref()
                        .filter(|_| line_needs_import_permit(data.document_type, line))
                    {
                        let number_key = normalize_number(inum);
                        let term = line.term.to_string();
                        let covered: Option<Vec<(i64,)>> = if let Some((ia, ii)) = &import_found {
                            Some(
                                sqlx::query_as(
                                    "SELECT quantity_micro FROM permit_lines WHERE authority_id = $1 \
                                     AND status_index = $2 AND name_key = $3 AND term = $4 AND unit = $5",
                                )
                                .bind(ia)
                                .bind(ii)
                                .bind(&key)
                                .bind(&term)
                                .bind(&unit)
                                .fetch_all(&mut *tx)
                                .await?,
                            )
                        } else if partner_found {
                            Some(
                                sqlx::query_as(
                                    "SELECT quantity_micro FROM partner_import_lines \
                                     WHERE authority_id = $1 AND import_country = $2 \
                                     AND number_key = $3 AND name_key = $4 AND term = $5 AND unit = $6",
                                )
                                .bind(authority)
                                .bind(ic)
                                .bind(&number_key)
                                .bind(&key)
                                .bind(&term)
                                .bind(&unit)
                                .fetch_all(&mut *tx)
                                .await?,
                            )
                        } else {
                            None
                        };
                        if let Some(covered) = covered {
                            let used: Vec<(i64,)> = sqlx::query_as(
                                "SELECT l.quantity_micro FROM import_permit_links l \
                                 JOIN permits p ON p.authority_id = l.authority_id \
                                 AND p.status_index = l.status_index \
                                 WHERE l.import_country = $1 AND l.import_number_key = $2 \
                                 AND l.name_key = $3 AND l.term = $4 AND l.unit = $5 AND p.state <> $6",
                            )
                            .bind(ic)
                            .bind(&number_key)
                            .bind(&key)
                            .bind(&term)
                            .bind(&unit)
                            .bind(PermitState::Revoked)
                            .fetch_all(&mut *tx)
                            .await?;
                            // Summed saturating: beyond 64 bits nothing more is covered anyway.
                            let sum =
                                |v: &[(i64,)]| v.iter().fold(0i64, |a, (q,)| a.saturating_add(*q));
                            let covered = (!covered.is_empty()).then(|| sum(&covered));
                            if let Err(short) = import_permit_covers(covered, sum(&used), q) {
                                let what = format!("{} {term}", line.scientific_name);
                                let shortfall = match short {
                                    CoverageShortfall::NoLine => {
                                        format!("covers no {what} counted in {unit}")
                                    }
                                    CoverageShortfall::Quantity {
                                        covered,
                                        used,
                                        requested,
                                    } => format!(
                                        "covers {} {unit} of {what}; exports already reference {}, this line asks {}",
                                        format_micro(covered),
                                        format_micro(used),
                                        format_micro(requested)
                                    ),
                                };
                                return Ok(IssueOutcome::Refused(
                                    IssueRefusal::ImportPermitCoverage {
                                        index: i,
                                        block: line.block,
                                        number: inum.clone(),
                                        shortfall,
                                    },
                                ));
                            }
                        }
                        sqlx::query(
                            "INSERT INTO import_permit_links (authority_id, status_index, block, \
                             import_country, import_number_key, name_key, term, unit, quantity_micro) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                        )
                        .bind(authority)
                        .bind(index)
                        .bind(line.block.to_string())
                        .bind(ic)
                        .bind(&number_key)
                        .bind(&key)
                        .bind(&term)
                        .bind(&unit)
                        .bind(q)
                        .execute(&mut *tx)
                        .await?;
                    }
                    sqlx::query(
                        "INSERT INTO permit_lines (authority_id, status_index, block, scientific_name, \
                         appendix, term, unit, quantity_micro, quota_id, quota_used_micro, name_key, \
                         source, purpose) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                    )
                    .bind(authority)
                    .bind(index)
                    .bind(line.block.to_string())
                    .bind(&line.scientific_name)
                    .bind(line.appendix.to_string())
                    .bind(line.term.to_string())
                    .bind(&unit)
                    .bind(q)
                    .bind(quota_id)
                    .bind(quota_used)
                    .bind(&key)
                    .bind(&source)
                    .bind(&purpose)
                    .execute(&mut *tx)
                    .await?;
                }
                if let Some(app) = &item.application {
                    // The application's leaf comes after the leaves of the permits before it.
                    append_leaves(&mut tx, actor, authority, now, &mut leaves).await?;
                    let record = TransitionRecord {
                        id: &app.id,
                        authority,
                        version: app.version,
                        actor: &app.actor,
                        action: ApplicationAction::Issue,
                        from: ApplicationState::Approved,
                        to: ApplicationState::Issued,
                        comment: app.comment.as_deref(),
                        advice: None,
                        notify: app.notify.as_deref(),
                    };
                    if !tx
                        .record_transition(&record, Some(&row.number), now)
                        .await?
                    {
                        return Ok(IssueOutcome::Refused(IssueRefusal::ApplicationChanged {
                            index: i,
                        }));
                    }
                }
                // One leaf per permit, so each permit's issuance can be proved on its own.
                leaves.push((
                    format!(
                        "index={index} version={version} batch_first={first} batch_count={n} qr_sha256={}",
                        hex::encode(sha2::Sha256::digest(row.qr_text.as_bytes()))
                    ),
                    trail::permit_subject(authority, &row.number),
                ));
                rows.push(row);
            }
            append_leaves(&mut tx, actor, authority, now, &mut leaves).await?;
            // Every permit of the batch takes its first state in the status list's new version.
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let mut sql = String::from(
                    "INSERT INTO status_changes (authority_id, version, status_index, state, at) VALUES ",
                );
                push_rows(&mut sql, chunk.len(), 5);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in chunk {
                    q = q
                        .bind(authority)
                        .bind(version)
                        .bind(row.status_index)
                        .bind(PermitState::Valid)
                        .bind(now);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(IssueOutcome::Issued(rows))
        })
    }

    /// Sets (or changes) an annual quota of a taxon, unit and `scope`. A new quota starts with
    /// what unrevoked permits of that year already hold of the taxon and unit in its scope under
    /// no other quota, and those lines count against it from then on. Returns quota, used and
    /// endorsed in millionths.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_quota(
        &self,
        actor: &str,
        authority: &AuthorityId,
        year: i32,
        scientific_name: &str,
        unit: &str,
        scope: &QuotaScope,
        quota_micro: i64,
        now: i64,
    ) -> Result<QuotaUse, StorageError> {
        let authority = authority.as_str();
        let start = Date::from_ymd(year, 1, 1)
            .ok_or(StorageError::State("year out of range"))?
            .start_unix();
        let end = Date::from_ymd(year + 1, 1, 1)
            .ok_or(StorageError::State("year out of range"))?
            .start_unix();
        let key = comparison_key(scientific_name);
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let existing: Option<(i64,)> = sqlx::query_as(
                "SELECT id FROM quotas WHERE authority_id = $1 AND year = $2 \
                 AND name_key = $3 AND unit = $4 AND term = $5 AND source = $6 \
                 AND purpose = $7 ORDER BY id LIMIT 1",
            )
            .bind(authority)
            .bind(i64::from(year))
            .bind(&key)
            .bind(unit)
            .bind(scope.term.as_deref().unwrap_or(""))
            .bind(scope.source.as_deref().unwrap_or(""))
            .bind(scope.purpose.as_deref().unwrap_or(""))
            .fetch_optional(&mut *tx)
            .await?;
            let id = match existing {
                Some((id,)) => {
                    sqlx::query("UPDATE quotas SET quota_micro = $1 WHERE id = $2")
                        .bind(quota_micro)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    id
                }
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO quotas (authority_id, year, scientific_name, unit, quota_micro, \
                         name_key, term, source, purpose) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
                         $9) RETURNING id",
                    )
                    .bind(authority)
                    .bind(i64::from(year))
                    .bind(scientific_name)
                    .bind(unit)
                    .bind(quota_micro)
                    .bind(&key)
                    .bind(scope.term.as_deref().unwrap_or(""))
                    .bind(scope.source.as_deref().unwrap_or(""))
                    .bind(scope.purpose.as_deref().unwrap_or(""))
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE permit_lines SET quota_id = $1 WHERE authority_id = $2 \
                         AND name_key = $3 AND unit = $4 AND quota_id IS NULL \
                         AND ($8 = '' OR term = $8) AND ($9 = '' OR source = $9) \
                         AND ($10 = '' OR purpose = $10) \
                         AND (source IS NULL OR source <> 'I') \
                         AND status_index IN (SELECT status_index FROM permits WHERE authority_id = $2 \
                         AND state <> $7 AND issued_at >= $5 AND issued_at < $6 \
                         AND document_type IN ('export', 're_export'))",
                    )
                    .bind(id)
                    .bind(authority)
                    .bind(&key)
                    .bind(unit)
                    .bind(start)
                    .bind(end)
                    .bind(PermitState::Revoked)
                    .bind(scope.term.as_deref().unwrap_or(""))
                    .bind(scope.source.as_deref().unwrap_or(""))
                    .bind(scope.purpose.as_deref().unwrap_or(""))
                    .execute(&mut *tx)
                    .await?;
                    // Summed here, checked: the lines already issued were under no quota,
                    // so their sum in SQL could overflow 64 bits. Beyond that the quota is
                    // used up whatever it is, and the count stops at the largest value.
                    let lines: Vec<(i64,)> = sqlx::query_as(
                        "SELECT quantity_micro FROM permit_lines WHERE quota_id = $1",
                    )
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
                    let used = lines
                        .iter()
                        .try_fold(0i64, |sum, (q,)| sum.checked_add(*q))
                        .unwrap_or(i64::MAX);
                    sqlx::query("UPDATE quotas SET used_micro = $1 WHERE id = $2")
                        .bind(used)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    id
                }
            };
            let quota: QuotaUse = sqlx::query_as(
                "SELECT quota_micro, used_micro, endorsed_micro FROM quotas WHERE id = $1",
            )
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority),
                action: "quota.set",
                detail: &format!(
                    "year={year} taxon={scientific_name} unit={unit} term={} source={} \
                     purpose={} quota={}",
                    scope.term.as_deref().unwrap_or("-"),
                    scope.source.as_deref().unwrap_or("-"),
                    scope.purpose.as_deref().unwrap_or("-"),
                    format_micro(quota.quota_micro)
                ),
            })
            .await?;
            tx.commit().await?;
            Ok(quota)
        })
    }

    /// Quotas of an authority, by year, taxon and unit.
    pub async fn list_quotas(
        &self,
        authority: &AuthorityId,
    ) -> Result<Vec<QuotaRow>, StorageError> {
        on_db!(self, read, |pool| Ok(sqlx::query_as(
            "SELECT year, scientific_name, unit, NULLIF(term, '') AS term, \
             NULLIF(source, '') AS source, NULLIF(purpose, '') AS purpose, quota_micro, \
             used_micro, endorsed_micro FROM quotas WHERE authority_id = $1 \
             ORDER BY year, scientific_name, unit, quotas.term, quotas.source, quotas.purpose"
        )
        .bind(authority.as_str())
        .fetch_all(pool)
        .await?))
    }

    /// A permit by number (compared in normalised form).
    pub async fn permit_by_number(
        &self,
        authority: &AuthorityId,
        number: &str,
    ) -> Result<Option<PermitRow>, StorageError> {
        let sql =
            format!("SELECT {COLUMNS} FROM permits WHERE authority_id = $1 AND number_key = $2");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(authority.as_str())
        .bind(normalize_number(number))
        .fetch_optional(pool)
        .await?))
    }

    /// The permits numbered `number` (compared in normalised form) of the authorities of
    /// `country`: a number is unique per authority, and a country may have several.
    pub async fn permits_by_country_number(
        &self,
        country: &str,
        number: &str,
    ) -> Result<Vec<PermitRow>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM permits WHERE number_key = $2 \
             AND authority_id IN (SELECT id FROM authorities WHERE country = $1) \
             ORDER BY authority_id"
        );
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(country)
        .bind(normalize_number(number))
        .fetch_all(pool)
        .await?))
    }

    /// A permit by its status index.
    pub async fn permit_by_index(
        &self,
        authority: &str,
        index: i64,
    ) -> Result<Option<PermitRow>, StorageError> {
        let sql =
            format!("SELECT {COLUMNS} FROM permits WHERE authority_id = $1 AND status_index = $2");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(authority)
        .bind(index)
        .fetch_optional(pool)
        .await?))
    }

    /// Permits of an authority, by status index, filtered.
    pub async fn list_permits(
        &self,
        authority: &AuthorityId,
        filter: &PermitFilter,
    ) -> Result<Vec<PermitRow>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM permits WHERE authority_id = $1 \
             AND ($2 IS NULL OR state = $2) \
             AND ($3 IS NULL OR number_key LIKE $3) \
             AND ($4 IS NULL OR import_country = $4) \
             AND status_index > $5 ORDER BY status_index LIMIT $6"
        );
        let prefix = filter
            .number_prefix
            .as_deref()
            .map(|p| format!("{}%", normalize_number(p)));
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(authority.as_str())
        .bind(filter.state)
        .bind(prefix)
        .bind(filter.import_country.as_deref())
        .bind(filter.after.unwrap_or(-1))
        .bind(filter.limit)
        .fetch_all(pool)
        .await?))
    }

    /// Suspends, reinstates or revokes a permit, bumping the status list version.
    /// Revoking an unused permit gives its quantities back to any quota they counted against.
    /// A revocation records its kind and, when replaced, the replacing permit of the same
    /// authority (found by number, not the permit itself, not revoked), stored as numbered.
    #[allow(clippy::too_many_arguments)]
    pub async fn change_permit_state(
        &self,
        actor: &str,
        authority: &AuthorityId,
        number: &str,
        action: StateAction,
        reason: &str,
        revocation: Option<(RevocationReason, Option<&str>)>,
        now: i64,
    ) -> Result<PermitRow, StorageError> {
        let authority = authority.as_str();
        // The row is locked before its state is read, so two changes of one permit (or a change
        // and an export endorsement) apply one after the other, each to the state the other
        // left: without it, both read `suspended`, and a reinstatement would undo a revocation.
        // The permit is locked before the authority's row (`bump_status`), in every writer.
        let lock = match self {
            Db::Sqlite { .. } => super::for_update::<sqlx::Sqlite>(),
            Db::Postgres(_) => super::for_update::<sqlx::Postgres>(),
        };
        let select = format!(
            "SELECT {COLUMNS} FROM permits WHERE authority_id = $1 AND number_key = $2{lock}"
        );
        let update = format!(
            "UPDATE permits SET state = $1, state_reason = $2, state_changed_at = $3, \
             revocation_kind = CASE WHEN $6 IS NULL THEN revocation_kind ELSE $6 END, \
             replaced_by = CASE WHEN $6 IS NULL THEN replaced_by ELSE $7 END \
             WHERE authority_id = $4 AND status_index = $5 RETURNING {COLUMNS}"
        );
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<PermitRow> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                .bind(authority)
                .bind(normalize_number(number))
                .fetch_optional(&mut *tx)
                .await?;
            let row = row.ok_or(StorageError::NotFound("permit"))?;
            let target = action
                .apply(row.state)
                .map_err(|refused| StorageError::State(refused.message()))?;
            let mut replaced_by = None;
            if let Some((_, Some(replacement))) = revocation {
                let found: Option<(String, i64, PermitState)> = sqlx::query_as(
                    "SELECT number, status_index, state FROM permits \
                     WHERE authority_id = $1 AND number_key = $2",
                )
                .bind(authority)
                .bind(normalize_number(replacement))
                .fetch_optional(&mut *tx)
                .await?;
                match found {
                    Some((n, index, state))
                        if index != row.status_index && state != PermitState::Revoked =>
                    {
                        replaced_by = Some(n);
                    }
                    _ => return Err(StorageError::NotFound("replacement permit")),
                }
            }
            let version = tx.bump_status(authority, now).await?;
            let updated: PermitRow = sqlx::query_as(sqlx::AssertSqlSafe(update.as_str()))
                .bind(target)
                .bind(reason)
                .bind(now)
                .bind(authority)
                .bind(row.status_index)
                .bind(revocation.map(|(kind, _)| kind))
                .bind(replaced_by.as_deref())
                .fetch_one(&mut *tx)
                .await?;
            tx.record_change(StatusChange {
                authority,
                version,
                index: row.status_index,
                state: target,
                at: now,
            })
            .await?;
            if action.releases_quota(row.state) {
                // Summed here, checked (lines counted when a quota was set afterwards were
                // under no quota, and their sum could overflow 64 bits in SQL).
                let lines: Vec<(i64, i64)> = sqlx::query_as(
                    "SELECT quota_id, quantity_micro FROM permit_lines WHERE authority_id = $1 \
                     AND status_index = $2 AND quota_id IS NOT NULL ORDER BY quota_id",
                )
                .bind(authority)
                .bind(row.status_index)
                .fetch_all(&mut *tx)
                .await?;
                let mut released: Vec<(i64, i64)> = Vec::new();
                for (quota, q) in lines {
                    match released.last_mut() {
                        Some((id, sum)) if *id == quota => *sum = sum.saturating_add(q),
                        _ => released.push((quota, q)),
                    }
                }
                for (quota, sum) in released {
                    sqlx::query(
                        "UPDATE quotas SET used_micro = CASE WHEN used_micro > $1 \
                         THEN used_micro - $1 ELSE 0 END WHERE id = $2",
                    )
                    .bind(sum)
                    .bind(quota)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.audit_about(
                AuditEvent {
                    at: now,
                    actor,
                    authority: Some(authority),
                    action: &format!("permit.{}", action.as_str()),
                    detail: &format!(
                        "number={} index={} version={version} kind={} replaced_by={} reason={reason}",
                        row.number,
                        row.status_index,
                        revocation.map_or("-", |(kind, _)| kind.as_str()),
                        replaced_by.as_deref().unwrap_or("-")
                    ),
                },
                &trail::permit_subject(authority, &row.number),
            )
            .await?;
            tx.commit().await?;
            Ok(updated)
        })
    }
}
