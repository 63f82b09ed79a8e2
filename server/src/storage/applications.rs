//! Applications (docs/WORKFLOW.md): drafts, their rule results, every transition with its
//! history, audit line and notification, supporting documents, and each authority's settings.
//! A transition is a compare-and-set on the application's version and state, so of two people
//! acting on one application at once one wins and the other changes nothing.

use serde::Serialize;
use verifier_core::date::Date;

use super::{AuditEvent, BeginWrite as _, Bookkeeping, Db, StorageError, on_db};
use crate::crypto;
use crate::domain::applications::{
    AdviceOpinion, AdvicePolicy, ApplicationAction, ApplicationState, DEFAULT_NUMBER_PATTERN,
    QuotaFact, RuleFacts, format_number,
};
use crate::domain::issuing::Listing;
use crate::domain::issuing::QuotaScope;
use crate::model::AuthorityId;

/// A stored application.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApplicationRow {
    /// `app_…`.
    pub id: String,
    /// The authority it is filed with.
    pub authority_id: String,
    /// The trader's user id.
    pub applicant_id: String,
    /// Document type code.
    pub document_type: String,
    /// Its state.
    pub state: ApplicationState,
    /// Bumped by every change.
    pub version: i64,
    /// The permit draft (JSON).
    pub draft: String,
    /// The import permit referred to (JSON).
    pub import_permit: Option<String>,
    /// Rule results (JSON array).
    pub rules: String,
    /// `|name|name|`.
    pub taxa: String,
    /// The Scientific Authority's opinion.
    pub advice: Option<String>,
    /// Its text.
    pub advice_text: Option<String>,
    /// The permit number, assigned at approval.
    pub permit_number: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, authority_id, applicant_id, document_type, state, version, draft, \
    import_permit, rules, taxa, advice, advice_text, permit_number, created_at, updated_at";

/// One transition in an application's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct EventRow {
    /// When.
    pub at: i64,
    /// The user who acted.
    pub actor: String,
    /// What they did.
    pub action: ApplicationAction,
    /// From.
    pub from_state: ApplicationState,
    /// To.
    pub to_state: ApplicationState,
    /// Their comment.
    pub comment: Option<String>,
}

/// An attachment without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AttachmentMeta {
    /// `att_…`.
    pub id: String,
    /// File name as uploaded.
    pub filename: String,
    /// Sniffed content type.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Uploader's user id.
    pub uploaded_by: String,
    /// Upload time.
    pub created_at: i64,
}

/// An authority's application settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationSettings {
    /// The numbering pattern of permits issued from applications.
    pub number_pattern: String,
    /// When advice is required.
    pub advice_policy: AdvicePolicy,
}

impl Default for ApplicationSettings {
    fn default() -> Self {
        Self {
            number_pattern: DEFAULT_NUMBER_PATTERN.to_owned(),
            advice_policy: AdvicePolicy::WildAppendixIAndIi,
        }
    }
}

/// What a draft is stored with.
#[derive(Debug, Clone)]
pub struct DraftRecord<'a> {
    /// Document type code.
    pub document_type: &'a str,
    /// The draft (JSON).
    pub draft: &'a str,
    /// The import permit (JSON).
    pub import_permit: Option<&'a str>,
    /// Rule results (JSON).
    pub rules: &'a str,
    /// The drafted taxa.
    pub taxa: &'a [String],
}

/// A transition to record: compared against the version and state the decision was made on.
#[derive(Debug, Clone)]
pub struct TransitionRecord<'a> {
    /// The application.
    pub id: &'a str,
    /// Its authority.
    pub authority: &'a str,
    /// The version the caller saw.
    pub version: i64,
    /// The user acting.
    pub actor: &'a str,
    /// What they do.
    pub action: ApplicationAction,
    /// The state the decision was made from.
    pub from: ApplicationState,
    /// The state it leads to.
    pub to: ApplicationState,
    /// Their comment.
    pub comment: Option<&'a str>,
    /// The advice given (with `GiveAdvice`).
    pub advice: Option<(AdviceOpinion, &'a str)>,
    /// Where the trader is told.
    pub notify: Option<&'a str>,
}

/// Filters of the application list.
#[derive(Debug, Clone, Default)]
pub struct ApplicationFilter {
    /// Only this state.
    pub state: Option<ApplicationState>,
    /// Only this applicant.
    pub applicant: Option<String>,
    /// Only applications with a line of this taxon.
    pub taxon: Option<String>,
    /// Created at or after.
    pub from: Option<i64>,
    /// Created before.
    pub until: Option<i64>,
    /// Cursor: created_at and id of the last row seen.
    pub after: Option<(i64, String)>,
    /// At most this many.
    pub limit: i64,
}

/// How a transition ended.
#[derive(Debug)]
pub enum TransitionOutcome {
    /// Recorded.
    Done(Box<ApplicationRow>),
    /// Someone else changed the application first: nothing was changed.
    Conflict,
}

/// The steps of a transition inside a transaction, written once for both backends and shared
/// with issuance (`storage/permits.rs`), which records the `issue` transition in the
/// transaction that signs the permit.
pub(crate) trait ApplicationSteps {
    /// Applies the transition if the application is still at `version` and `from`; `false`
    /// when it is not (nothing was written). Records the history line, the audit event and the
    /// trader's notification; `number` is stored as the permit number when given.
    async fn record_transition(
        &mut self,
        t: &TransitionRecord<'_>,
        number: Option<&str>,
        now: i64,
    ) -> Result<bool, sqlx::Error>;
}

impl<DB> ApplicationSteps for sqlx::Transaction<'_, DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    str: sqlx::Type<DB>,
    for<'a, 'q> &'a str: sqlx::Encode<'q, DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    // What the transparency log's leaf append needs (`Bookkeeping::audit`).
    for<'a, 'q> &'a [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Decode<'q, DB>,
    Vec<u8>: sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn record_transition(
        &mut self,
        t: &TransitionRecord<'_>,
        number: Option<&str>,
        now: i64,
    ) -> Result<bool, sqlx::Error> {
        let (opinion, advice_text) = match t.advice {
            Some((o, text)) => (Some(o.as_str()), Some(text)),
            None => (None, None),
        };
        let done: Option<(i64,)> = sqlx::query_as(
            "UPDATE applications SET state = $1, version = version + 1, updated_at = $2, \
             advice = COALESCE($3, advice), advice_text = COALESCE($4, advice_text), \
             permit_number = COALESCE($5, permit_number) \
             WHERE id = $6 AND version = $7 AND state = $8 RETURNING version",
        )
        .bind(t.to.as_str())
        .bind(now)
        .bind(opinion)
        .bind(advice_text)
        .bind(number)
        .bind(t.id)
        .bind(t.version)
        .bind(t.from.as_str())
        .fetch_optional(&mut **self)
        .await?;
        if done.is_none() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO application_events \
             (application_id, at, actor, action, from_state, to_state, comment) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(t.id)
        .bind(now)
        .bind(t.actor)
        .bind(t.action.as_str())
        .bind(t.from.as_str())
        .bind(t.to.as_str())
        .bind(t.comment)
        .execute(&mut **self)
        .await?;
        self.audit(AuditEvent {
            at: now,
            actor: t.actor,
            authority: Some(t.authority),
            action: &format!("application.{}", t.action.as_str()),
            detail: &format!(
                "application={} from={} to={}{}",
                t.id,
                t.from.as_str(),
                t.to.as_str(),
                number.map(|n| format!(" permit={n}")).unwrap_or_default()
            ),
        })
        .await?;
        if let Some(recipient) = t.notify {
            let subject = format!("Your CITES application {} is {}", t.id, words(t.to));
            let mut body = format!(
                "Your application {} with {} is now {}.\n",
                t.id,
                t.authority,
                words(t.to)
            );
            if let Some(n) = number {
                body.push_str(&format!("Permit number: {n}\n"));
            }
            if let Some(c) = t.comment {
                body.push_str(&format!("\nComment:\n{c}\n"));
            }
            sqlx::query(
                "INSERT INTO outbox (recipient, subject, body, application_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(recipient)
            .bind(subject.as_str())
            .bind(body.as_str())
            .bind(t.id)
            .bind(now)
            .execute(&mut **self)
            .await?;
        }
        Ok(true)
    }
}

/// A state in words, for messages to people.
fn words(state: ApplicationState) -> &'static str {
    match state {
        ApplicationState::Draft => "a draft",
        ApplicationState::Submitted => "submitted",
        ApplicationState::UnderReview => "under review",
        ApplicationState::ChangesRequested => "waiting for your changes",
        ApplicationState::Resubmitted => "resubmitted",
        ApplicationState::AdviceRequested => "with the Scientific Authority",
        ApplicationState::AdviceGiven => "advised on by the Scientific Authority",
        ApplicationState::Approved => "approved",
        ApplicationState::Issued => "issued",
        ApplicationState::Refused => "refused",
        ApplicationState::Withdrawn => "withdrawn",
    }
}

fn taxa_key(taxa: &[String]) -> String {
    let mut key = String::from("|");
    for t in taxa {
        key.push_str(t);
        key.push('|');
    }
    key
}

impl Db {
    /// An authority's settings (the defaults until set).
    pub async fn application_settings(
        &self,
        authority: &AuthorityId,
    ) -> Result<ApplicationSettings, StorageError> {
        let row: Option<(String, String)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT number_pattern, advice_policy FROM application_settings WHERE authority_id = $1"
        )
        .bind(authority.as_str())
        .fetch_optional(pool)
        .await?
        });
        match row {
            None => Ok(ApplicationSettings::default()),
            Some((number_pattern, policy)) => {
                Ok(ApplicationSettings {
                    number_pattern,
                    advice_policy: policy.parse().map_err(
                        |e: crate::domain::UnknownStoredValue| StorageError::Corrupt(e.to_string()),
                    )?,
                })
            }
        }
    }

    /// Sets an authority's settings (the caller checked the pattern).
    pub async fn set_application_settings(
        &self,
        actor: &str,
        authority: &AuthorityId,
        settings: &ApplicationSettings,
        now: i64,
    ) -> Result<(), StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO application_settings (authority_id, number_pattern, next_seq, advice_policy) \
                 VALUES ($1, $2, 1, $3) ON CONFLICT (authority_id) DO UPDATE SET \
                 number_pattern = excluded.number_pattern, advice_policy = excluded.advice_policy",
            )
            .bind(authority.as_str())
            .bind(&settings.number_pattern)
            .bind(settings.advice_policy.as_str())
            .execute(&mut *tx)
            .await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority.as_str()),
                action: "application.settings",
                detail: &format!(
                    "number_pattern={} advice_policy={}",
                    settings.number_pattern,
                    settings.advice_policy.as_str()
                ),
            })
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The facts the rules need: the reference listing of each taxon and this year's quotas of
    /// the authority for them.
    pub async fn rule_facts(
        &self,
        authority: &AuthorityId,
        taxa: &[String],
        now: i64,
    ) -> Result<RuleFacts, StorageError> {
        let year = i64::from(Date::from_unix(now).ymd().0);
        let mut facts = RuleFacts::default();
        for name in taxa {
            let listing: Option<Listing> = on_db!(self, read, |pool| {
                sqlx::query_as(
                "SELECT kingdom, appendices, listed_on, app3_party FROM taxa WHERE scientific_name = $1"
            )
            .bind(name)
            .fetch_optional(pool)
            .await?
            });
            if let Some(l) = listing {
                facts.listings.push((name.clone(), l));
            }
            #[allow(clippy::type_complexity)]
            let quotas: Vec<(
                String,
                i64,
                i64,
                Option<String>,
                Option<String>,
                Option<String>,
            )> = on_db!(self, read, |pool| sqlx::query_as(
                "SELECT unit, quota_micro, used_micro, NULLIF(term, ''), NULLIF(source, ''), \
                 NULLIF(purpose, '') FROM quotas \
                 WHERE authority_id = $1 AND year = $2 AND scientific_name = $3 ORDER BY id"
            )
            .bind(authority.as_str())
            .bind(year)
            .bind(name)
            .fetch_all(pool)
            .await?);
            for (unit, quota_micro, used_micro, term, source, purpose) in quotas {
                facts.quotas.push(QuotaFact {
                    scientific_name: name.clone(),
                    unit,
                    quota_micro,
                    used_micro,
                    scope: QuotaScope {
                        term,
                        source,
                        purpose,
                    },
                });
            }
        }
        Ok(facts)
    }

    /// Stores a new draft application.
    pub async fn create_application(
        &self,
        actor: &str,
        authority: &AuthorityId,
        draft: &DraftRecord<'_>,
        now: i64,
    ) -> Result<ApplicationRow, StorageError> {
        let id = crypto::random_id("app")?;
        let sql = format!(
            "INSERT INTO applications ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, 1, $6, $7, $8, $9, NULL, NULL, NULL, $10, $10) RETURNING {COLUMNS}"
        );
        let taxa = taxa_key(draft.taxa);
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: ApplicationRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&id)
                .bind(authority.as_str())
                .bind(actor)
                .bind(draft.document_type)
                .bind(ApplicationState::Draft.as_str())
                .bind(draft.draft)
                .bind(draft.import_permit)
                .bind(draft.rules)
                .bind(&taxa)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority.as_str()),
                action: "application.create",
                detail: &format!("application={id}"),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Replaces an editable application's draft, if it is still at `version`.
    pub async fn update_application(
        &self,
        actor: &str,
        id: &str,
        version: i64,
        draft: &DraftRecord<'_>,
        now: i64,
    ) -> Result<TransitionOutcome, StorageError> {
        let sql = format!(
            "UPDATE applications SET document_type = $1, draft = $2, import_permit = $3, \
             rules = $4, taxa = $5, version = version + 1, updated_at = $6 \
             WHERE id = $7 AND version = $8 AND state IN ('draft', 'changes_requested') \
             RETURNING {COLUMNS}"
        );
        let taxa = taxa_key(draft.taxa);
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<ApplicationRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(draft.document_type)
                .bind(draft.draft)
                .bind(draft.import_permit)
                .bind(draft.rules)
                .bind(&taxa)
                .bind(now)
                .bind(id)
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Ok(TransitionOutcome::Conflict);
            };
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(&row.authority_id),
                action: "application.update",
                detail: &format!("application={id} version={}", row.version),
            })
            .await?;
            tx.commit().await?;
            Ok(TransitionOutcome::Done(Box::new(row)))
        })
    }

    /// An application by id.
    pub async fn application(&self, id: &str) -> Result<Option<ApplicationRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    /// An application's history, oldest first.
    pub async fn application_events(&self, id: &str) -> Result<Vec<EventRow>, StorageError> {
        on_db!(self, read, |pool| Ok(sqlx::query_as(
            "SELECT at, actor, action, from_state, to_state, comment FROM application_events \
             WHERE application_id = $1 ORDER BY id"
        )
        .bind(id)
        .fetch_all(pool)
        .await?))
    }

    /// An authority's applications, newest first.
    pub async fn list_applications(
        &self,
        authority: &AuthorityId,
        f: &ApplicationFilter,
    ) -> Result<Vec<ApplicationRow>, StorageError> {
        let mut sql = format!("SELECT {COLUMNS} FROM applications WHERE authority_id = $1");
        // Every filter is bound; absent ones compare against NULL and match everything.
        sql.push_str(
            " AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR applicant_id = $3) \
             AND ($4 IS NULL OR taxa LIKE $4 ESCAPE '\\') AND ($5 IS NULL OR created_at >= $5) \
             AND ($6 IS NULL OR created_at < $6) \
             AND ($7 IS NULL OR created_at < $7 OR (created_at = $7 AND id < $8)) \
             ORDER BY created_at DESC, id DESC LIMIT $9",
        );
        let taxon = f.taxon.as_ref().map(|t| {
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%|{escaped}|%")
        });
        let (after_at, after_id) = match &f.after {
            Some((at, id)) => (Some(*at), Some(id.as_str())),
            None => (None, None),
        };
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(authority.as_str())
        .bind(f.state.map(ApplicationState::as_str))
        .bind(f.applicant.as_deref())
        .bind(taxon.as_deref())
        .bind(f.from)
        .bind(f.until)
        .bind(after_at)
        .bind(after_id)
        .bind(f.limit)
        .fetch_all(pool)
        .await?))
    }

    /// Records a transition other than issuance (which `issue_permits` records). Approval
    /// assigns the permit number from the authority's pattern in the same transaction.
    pub async fn transition_application(
        &self,
        t: &TransitionRecord<'_>,
        now: i64,
    ) -> Result<TransitionOutcome, StorageError> {
        let select = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
        let year = Date::from_unix(now).ymd().0;
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let number = if t.action == ApplicationAction::Approve {
                sqlx::query(
                    "INSERT INTO application_settings (authority_id, number_pattern, next_seq, advice_policy) \
                     VALUES ($1, $2, 1, $3) ON CONFLICT (authority_id) DO NOTHING",
                )
                .bind(t.authority)
                .bind(DEFAULT_NUMBER_PATTERN)
                .bind(AdvicePolicy::WildAppendixIAndIi.as_str())
                .execute(&mut *tx)
                .await?;
                let (seq, pattern): (i64, String) = sqlx::query_as(
                    "UPDATE application_settings SET next_seq = next_seq + 1 \
                     WHERE authority_id = $1 RETURNING next_seq - 1, number_pattern",
                )
                .bind(t.authority)
                .fetch_one(&mut *tx)
                .await?;
                let (country,): (String,) =
                    sqlx::query_as("SELECT country FROM authorities WHERE id = $1")
                        .bind(t.authority)
                        .fetch_one(&mut *tx)
                        .await?;
                Some(format_number(&pattern, t.authority, &country, year, seq))
            } else {
                None
            };
            if !tx.record_transition(t, number.as_deref(), now).await? {
                return Ok(TransitionOutcome::Conflict);
            }
            let row: ApplicationRow = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                .bind(t.id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(TransitionOutcome::Done(Box::new(row)))
        })
    }

    /// Stores an attachment of an application.
    pub async fn add_attachment(
        &self,
        actor: &str,
        application: &ApplicationRow,
        filename: &str,
        content_type: &str,
        content: &[u8],
        now: i64,
    ) -> Result<AttachmentMeta, StorageError> {
        let id = crypto::random_id("att")?;
        let size = i64::try_from(content.len()).map_err(|_| StorageError::State("too large"))?;
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: AttachmentMeta = sqlx::query_as(
                "INSERT INTO attachments \
                 (id, application_id, filename, content_type, size, content, uploaded_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING id, filename, content_type, size, uploaded_by, created_at",
            )
            .bind(&id)
            .bind(&application.id)
            .bind(filename)
            .bind(content_type)
            .bind(size)
            .bind(content)
            .bind(actor)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(&application.authority_id),
                action: "application.attach",
                detail: &format!(
                    "application={} attachment={id} type={content_type} size={size}",
                    application.id
                ),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The attachments of an application, without their bytes.
    pub async fn attachments(
        &self,
        application: &str,
    ) -> Result<Vec<AttachmentMeta>, StorageError> {
        on_db!(self, read, |pool| Ok(sqlx::query_as(
            "SELECT id, filename, content_type, size, uploaded_by, created_at FROM attachments \
             WHERE application_id = $1 ORDER BY created_at, id"
        )
        .bind(application)
        .fetch_all(pool)
        .await?))
    }

    /// One attachment's type and bytes.
    pub async fn attachment_content(
        &self,
        application: &str,
        id: &str,
    ) -> Result<Option<(String, String, Vec<u8>)>, StorageError> {
        on_db!(self, read, |pool| Ok(sqlx::query_as(
            "SELECT filename, content_type, content FROM attachments \
             WHERE application_id = $1 AND id = $2"
        )
        .bind(application)
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }
}
