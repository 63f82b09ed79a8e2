//! Management Authorities.

use serde::Serialize;

use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};
use crate::model::{AuthorityId, CountryCode};

/// A stored Management Authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct AuthorityRow {
    /// Short code, e.g. `KE`.
    pub id: String,
    /// ISO 3166-1 alpha-2 country.
    pub country: String,
    /// Official name.
    pub name: String,
    /// Numeric id in trust and status lists.
    pub trust_id: i64,
    /// Current version of the authority's status list.
    pub status_version: i64,
    /// Number of permits issued (status list size).
    pub next_status_index: i64,
    /// Time of the last status change.
    pub status_changed_at: i64,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Language of its printed documents: `en`, `fr` or `es`.
    pub language: String,
    /// Postal address (box 6 of its documents).
    pub address: Option<String>,
    /// Where its permits are issued (box 13).
    pub issue_place: Option<String>,
}

/// The columns of [`AuthorityRow`], in its order.
pub(crate) const COLUMNS: &str = "id, country, name, trust_id, status_version, next_status_index, \
     status_changed_at, created_at, language, address, issue_place";

impl Db {
    /// Creates an authority; [`StorageError::Conflict`] if the id is taken.
    pub async fn create_authority(
        &self,
        actor: &str,
        id: &AuthorityId,
        country: &CountryCode,
        name: &str,
        now: i64,
    ) -> Result<AuthorityRow, StorageError> {
        let sql = format!(
            "INSERT INTO authorities (id, country, name, created_at, trust_id, status_changed_at) \
             VALUES ($1, $2, $3, $4, $5, $4) RETURNING {COLUMNS}"
        );
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let (trust_id,): (i64,) = sqlx::query_as(
                "UPDATE counters SET value = value + 1 WHERE name = 'authority_trust_id' \
                 RETURNING value",
            )
            .fetch_one(&mut *tx)
            .await?;
            let row: AuthorityRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(id.as_str())
                .bind(country.as_str())
                .bind(name)
                .bind(now)
                .bind(trust_id)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::conflict_on_unique("authority"))?;
            tx.bump_trust(now).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(id.as_str()),
                action: "authority.create",
                detail: &format!("country={country} name={name}"),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// All authorities, by id.
    pub async fn list_authorities(&self) -> Result<Vec<AuthorityRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM authorities ORDER BY id");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(pool)
        .await?))
    }

    /// One authority, if it exists.
    pub async fn authority(&self, id: &AuthorityId) -> Result<Option<AuthorityRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM authorities WHERE id = $1");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(id.as_str())
        .fetch_optional(pool)
        .await?))
    }
}
