//! What the annual trade report is made from: permits issued in a year, or the trade recorded
//! against them (export endorsements, import confirmations). The report itself is built by
//! [`crate::annual`].

use futures_util::TryStreamExt as _;

use super::{Db, StorageError, on_db};
use crate::domain::PermitState;

/// One document, with the trade recorded against it when the report is of actual trade.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TradeSource {
    /// Permit number as printed.
    pub number: String,
    /// Document type code.
    pub document_type: String,
    /// Exporting (or re-exporting) country.
    pub export_country: String,
    /// Importing country.
    pub import_country: Option<String>,
    /// The submitted draft (JSON): species, codes and origin of every line.
    pub draft: String,
    /// The import permit an Appendix-I export references (JSON `{country, number}`).
    pub import_permit: Option<String>,
    /// When it happened: the endorsement, the confirmation, or the issue (unix seconds).
    pub at: i64,
    /// Quantities actually traded per block (JSON `[{block, quantity_micro}]`); `None` when
    /// the report is of permits issued and the issued quantities count.
    pub traded: Option<String>,
}

/// Which documents and quantities a report draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Export-side documents the authority issued in the year, not revoked.
    ExportsIssued,
    /// Export endorsements recorded in the year against the authority's documents.
    ExportsEndorsed,
    /// Import permits the authority issued in the year, not revoked.
    ImportsIssued,
    /// Import confirmations the authority's country recorded in the year (documents of
    /// authorities on this deployment).
    ImportsConfirmed,
}

const PERMIT_COLUMNS: &str = "p.number, p.document_type, p.export_country, p.import_country, \
    p.draft, p.import_permit";

impl Db {
    /// Gives `each` the documents behind a report for `authority` (whose country is
    /// `country`), for times in `[from, until)`, oldest first, as the database streams them.
    pub async fn annual_sources<E: From<StorageError>>(
        &self,
        source: Source,
        authority: &str,
        country: &str,
        from: i64,
        until: i64,
        mut each: impl FnMut(TradeSource) -> Result<(), E>,
    ) -> Result<(), E> {
        // Documents issued in the year, of the given types.
        let issued = |types: &str| {
            format!(
                "SELECT {PERMIT_COLUMNS}, p.issued_at AS at, CAST(NULL AS TEXT) AS traded \
                 FROM permits p WHERE p.authority_id = $1 \
                 AND p.issued_at >= $2 AND p.issued_at < $3 AND p.state <> '{revoked}' \
                 AND p.document_type {types} ORDER BY p.issued_at, p.status_index",
                revoked = PermitState::Revoked.as_str()
            )
        };
        // Trade recorded in the year in `table` (time column `time`), selected by `key` (and
        // `only`: endorsements claiming a port outside their uploader's country count for
        // nothing).
        let traded = |table: &str, time: &str, key: &str, only: &str| {
            format!(
                "SELECT {PERMIT_COLUMNS}, r.{time} AS at, r.lines AS traded \
                 FROM {table} r JOIN permits p \
                 ON p.authority_id = r.authority_id AND p.status_index = r.status_index \
                 WHERE r.{key} = $1 AND r.{time} >= $2 AND r.{time} < $3{only} \
                 ORDER BY r.{time}, r.id"
            )
        };
        let (sql, key) = match source {
            Source::ExportsIssued => (
                issued("NOT IN ('import', 'introduction_from_the_sea')"),
                authority,
            ),
            Source::ExportsEndorsed => (
                traded(
                    "endorsements",
                    "endorsed_at",
                    "authority_id",
                    " AND r.outside_country = 0",
                ),
                authority,
            ),
            Source::ImportsIssued => (issued("= 'import'"), authority),
            Source::ImportsConfirmed => (
                traded("confirmations", "confirmed_at", "country", ""),
                country,
            ),
        };
        on_db!(self, read, |pool| {
            let mut rows = sqlx::query_as::<_, TradeSource>(sqlx::AssertSqlSafe(sql))
                .bind(key)
                .bind(from)
                .bind(until)
                .fetch(pool);
            while let Some(row) = rows.try_next().await.map_err(StorageError::from)? {
                each(row)?;
            }
            Ok(())
        })
    }
}
