//! Reference taxa and their CITES listing.

use verifier_core::text::comparison_key;

use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};

/// One listed taxon.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct TaxonRow {
    /// Scientific name as printed in box 7.
    pub scientific_name: String,
    /// `animal` or `plant`.
    pub kingdom: String,
    /// Listed appendices separated by `/`, e.g. `I/II`.
    pub appendices: String,
    /// English common name.
    pub common_name: Option<String>,
    /// First included in the Appendices (YYYY-MM-DD), when known.
    pub listed_on: Option<String>,
    /// The Party that listed it in Appendix III (ISO alpha-2), when known.
    pub app3_party: Option<String>,
    /// For a synonym: the accepted name whose listing it carries.
    pub accepted_name: Option<String>,
    /// The listing's annotation, as the checklist gives it.
    pub annotation: Option<String>,
}

/// What a checklist import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportCounts {
    /// Taxa that were not in the table.
    pub added: u64,
    /// Taxa whose listing changed.
    pub updated: u64,
    /// Taxa already as the checklist gives them.
    pub unchanged: u64,
}

impl TaxonRow {
    /// True when the taxon is listed in `appendix` (`I`, `II` or `III`).
    pub fn listed_in(&self, appendix: &str) -> bool {
        self.appendices.split('/').any(|a| a == appendix)
    }
}

/// Adds a taxon or replaces the one of its name.
const UPSERT: &str = "INSERT INTO taxa (scientific_name, kingdom, appendices, common_name, \
     updated_at, name_key, listed_on, app3_party, accepted_name, annotation) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (scientific_name) DO UPDATE SET \
     kingdom = excluded.kingdom, appendices = excluded.appendices, \
     common_name = excluded.common_name, updated_at = excluded.updated_at, \
     name_key = excluded.name_key, listed_on = excluded.listed_on, \
     app3_party = excluded.app3_party, accepted_name = excluded.accepted_name, \
     annotation = excluded.annotation";

/// [`UPSERT`] with a taxon's values bound, for either backend.
fn upsert<'q, DB>(t: &'q TaxonRow, now: i64) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: sqlx::Database,
    &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query(UPSERT)
        .bind(t.scientific_name.as_str())
        .bind(t.kingdom.as_str())
        .bind(t.appendices.as_str())
        .bind(t.common_name.as_deref())
        .bind(now)
        .bind(comparison_key(&t.scientific_name))
        .bind(t.listed_on.as_deref())
        .bind(t.app3_party.as_deref())
        .bind(t.accepted_name.as_deref())
        .bind(t.annotation.as_deref())
}

/// Every column of a [`TaxonRow`].
const COLUMNS: &str = "scientific_name, kingdom, appendices, common_name, listed_on, app3_party, \
     accepted_name, annotation";

impl Db {
    /// Stores a checked checklist in one transaction (all rows or none) and counts what it
    /// added, changed and found as it was; `progress(done, total)` after each row. One audit
    /// event records the import.
    pub async fn import_taxa(
        &self,
        actor: &str,
        rows: &[TaxonRow],
        now: i64,
        mut progress: impl FnMut(u64, u64) + Send,
    ) -> Result<ImportCounts, StorageError> {
        let total = rows.len() as u64;
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let mut counts = ImportCounts::default();
            for (done, t) in rows.iter().enumerate() {
                let stored: Option<TaxonRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT {COLUMNS} FROM taxa WHERE scientific_name = $1"
                )))
                .bind(&t.scientific_name)
                .fetch_optional(&mut *tx)
                .await?;
                match stored {
                    Some(s) if s == *t => counts.unchanged += 1,
                    found => {
                        if found.is_some() {
                            counts.updated += 1;
                        } else {
                            counts.added += 1;
                        }
                        upsert(t, now).execute(&mut *tx).await?;
                    }
                }
                progress(done as u64 + 1, total);
            }
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: None,
                action: "taxa.import",
                detail: &format!(
                    "rows={total} added={} updated={} unchanged={}",
                    counts.added, counts.updated, counts.unchanged
                ),
            })
            .await?;
            tx.commit().await?;
            Ok(counts)
        })
    }

    /// Adds or replaces a taxon.
    pub async fn set_taxon(&self, actor: &str, t: &TaxonRow, now: i64) -> Result<(), StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            upsert(t, now).execute(&mut *tx).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: None,
                action: "taxon.set",
                detail: &format!(
                    "{} {} {} listed_on={} app3_party={}",
                    t.scientific_name,
                    t.kingdom,
                    t.appendices,
                    t.listed_on.as_deref().unwrap_or("-"),
                    t.app3_party.as_deref().unwrap_or("-")
                ),
            })
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// Gives the rows written before names had comparison keys (migration 0019) their keys:
    /// taxa, quotas and permit lines, one distinct name at a time. Run at start-up, before
    /// anything is issued; a second run finds nothing to do.
    pub(super) async fn fill_name_keys(&self) -> Result<(), StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            for table in ["taxa", "quotas", "permit_lines"] {
                let names: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT DISTINCT scientific_name FROM {table} WHERE name_key IS NULL"
                )))
                .fetch_all(&mut *tx)
                .await?;
                for (name,) in names {
                    sqlx::query(sqlx::AssertSqlSafe(format!(
                        "UPDATE {table} SET name_key = $1 WHERE scientific_name = $2 \
                         AND name_key IS NULL"
                    )))
                    .bind(comparison_key(&name))
                    .bind(&name)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Every taxon, by name.
    pub async fn list_taxa(&self) -> Result<Vec<TaxonRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM taxa ORDER BY scientific_name");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(pool)
        .await?))
    }
}
