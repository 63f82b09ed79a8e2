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
}

impl TaxonRow {
    /// True when the taxon is listed in `appendix` (`I`, `II` or `III`).
    pub fn listed_in(&self, appendix: &str) -> bool {
        self.appendices.split('/').any(|a| a == appendix)
    }
}

impl Db {
    /// Adds or replaces a taxon.
    pub async fn set_taxon(&self, actor: &str, t: &TaxonRow, now: i64) -> Result<(), StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO taxa (scientific_name, kingdom, appendices, common_name, updated_at, \
                 name_key, listed_on, app3_party) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (scientific_name) DO UPDATE SET \
                 kingdom = excluded.kingdom, appendices = excluded.appendices, \
                 common_name = excluded.common_name, updated_at = excluded.updated_at, \
                 name_key = excluded.name_key, listed_on = excluded.listed_on, \
                 app3_party = excluded.app3_party",
            )
            .bind(&t.scientific_name)
            .bind(&t.kingdom)
            .bind(&t.appendices)
            .bind(t.common_name.as_deref())
            .bind(now)
            .bind(comparison_key(&t.scientific_name))
            .bind(t.listed_on.as_deref())
            .bind(t.app3_party.as_deref())
            .execute(&mut *tx)
            .await?;
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
        on_db!(self, read, |pool| {
            Ok(sqlx::query_as(
            "SELECT scientific_name, kingdom, appendices, common_name, listed_on, app3_party FROM taxa \
             ORDER BY scientific_name"
        )
        .fetch_all(pool)
        .await?)
        })
    }
}
