//! Consistent reads for the signed lists: each function reads one snapshot, so a list's version
//! always matches its content.

use super::authorities::AuthorityRow;
use super::keys::KeyRow;
use super::{BeginWrite as _, Db, StorageError, on_db};
use crate::domain::PermitState;

/// The data of the trust list at one version.
#[derive(Debug, Clone)]
pub struct TrustSnapshot {
    /// Trust version.
    pub version: i64,
    /// Time of the last trust change.
    pub changed_at: i64,
    /// Every authority with its keys.
    pub authorities: Vec<(AuthorityRow, Vec<KeyRow>)>,
}

/// The data of one authority's status list at one version.
#[derive(Debug, Clone)]
pub struct StatusSnapshot {
    /// The authority (version, size and change time included).
    pub authority: AuthorityRow,
    /// The most common state, which the list does not enumerate.
    pub default_state: PermitState,
    /// Indexes in another state.
    pub exceptions: Vec<(i64, PermitState)>,
    /// Number of permits in each state.
    pub counts: Vec<(PermitState, i64)>,
}

/// What changed in an authority's list after a version.
#[derive(Debug, Clone)]
pub struct StatusChanges {
    /// The authority at the current version.
    pub authority: AuthorityRow,
    /// Latest state of every index changed after the base version, in version order.
    pub changes: Vec<(i64, PermitState)>,
}

/// Cheap version stamps of everything a bundle contains.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Versions {
    /// Trust version and change time.
    pub trust: (i64, i64),
    /// Per authority with an active key: (id, status version, change time, active kid, key start).
    pub authorities: Vec<(String, i64, i64, String, i64)>,
}

use super::authorities::COLUMNS as AUTH_COLUMNS;
const KEY_COLUMNS: &str =
    "kid, authority_id, public_key, status, created_at, valid_from, valid_until, compromised_since";

impl Db {
    /// Version stamps for cache checks: two small queries.
    pub async fn versions(&self) -> Result<Versions, StorageError> {
        on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let trust: (i64, i64) = sqlx::query_as(
                "SELECT trust_version, trust_changed_at FROM deployment WHERE id = 1",
            )
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or((0, 0));
            let authorities: Vec<(String, i64, i64, String, i64)> = sqlx::query_as(
                "SELECT a.id, a.status_version, a.status_changed_at, k.kid, k.valid_from \
                 FROM authorities a JOIN signing_keys k \
                 ON k.authority_id = a.id AND k.status = 'active' ORDER BY a.id",
            )
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Versions { trust, authorities })
        })
    }

    /// Everything the trust list holds, from one snapshot.
    pub async fn trust_snapshot(&self) -> Result<TrustSnapshot, StorageError> {
        let auth_sql = format!("SELECT {AUTH_COLUMNS} FROM authorities ORDER BY trust_id");
        // Retired keys of which nothing signed is still valid are left out (`prune_retired_keys`).
        let key_sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE pruned_at IS NULL ORDER BY authority_id, kid"
        );
        on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let (version, changed_at): (i64, i64) = sqlx::query_as(
                "SELECT trust_version, trust_changed_at FROM deployment WHERE id = 1",
            )
            .fetch_optional(&mut *tx)
            .await?
            .unwrap_or((0, 0));
            let authorities: Vec<AuthorityRow> = sqlx::query_as(sqlx::AssertSqlSafe(auth_sql))
                .fetch_all(&mut *tx)
                .await?;
            let keys: Vec<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(key_sql))
                .fetch_all(&mut *tx)
                .await?;
            tx.commit().await?;
            let authorities = authorities
                .into_iter()
                .map(|a| {
                    let own: Vec<KeyRow> = keys
                        .iter()
                        .filter(|k| k.authority_id == a.id)
                        .cloned()
                        .collect();
                    (a, own)
                })
                .collect();
            Ok(TrustSnapshot {
                version,
                changed_at,
                authorities,
            })
        })
    }

    /// Everything one authority's status list holds, from one snapshot.
    pub async fn status_snapshot(&self, authority: &str) -> Result<StatusSnapshot, StorageError> {
        let auth_sql = format!("SELECT {AUTH_COLUMNS} FROM authorities WHERE id = $1");
        on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let row: Option<AuthorityRow> = sqlx::query_as(sqlx::AssertSqlSafe(auth_sql))
                .bind(authority)
                .fetch_optional(&mut *tx)
                .await?;
            let row = row.ok_or(StorageError::NotFound("authority"))?;
            let counts: Vec<(PermitState, i64)> = sqlx::query_as(
                "SELECT state, COUNT(*) FROM permits WHERE authority_id = $1 GROUP BY state",
            )
            .bind(authority)
            .fetch_all(&mut *tx)
            .await?;
            // The most common state is left implicit; ties go to the lower wire value.
            let default_state = PermitState::ALL
                .into_iter()
                .enumerate()
                .max_by_key(|(rank, s)| {
                    let n = counts.iter().find(|(c, _)| c == s).map_or(0, |(_, n)| *n);
                    (n, std::cmp::Reverse(*rank))
                })
                .map_or(PermitState::Valid, |(_, s)| s);
            let exceptions: Vec<(i64, PermitState)> = sqlx::query_as(
                "SELECT status_index, state FROM permits WHERE authority_id = $1 AND state <> $2 \
                 ORDER BY status_index",
            )
            .bind(authority)
            .bind(default_state)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(StatusSnapshot {
                authority: row,
                default_state,
                exceptions,
                counts,
            })
        })
    }

    /// The changes of an authority's list after version `since`, from one snapshot.
    pub async fn status_changes_since(
        &self,
        authority: &str,
        since: i64,
    ) -> Result<StatusChanges, StorageError> {
        let auth_sql = format!("SELECT {AUTH_COLUMNS} FROM authorities WHERE id = $1");
        on_db!(self, read, |pool| {
            let mut tx = pool.begin_snapshot().await?;
            let row: Option<AuthorityRow> = sqlx::query_as(sqlx::AssertSqlSafe(auth_sql))
                .bind(authority)
                .fetch_optional(&mut *tx)
                .await?;
            let row = row.ok_or(StorageError::NotFound("authority"))?;
            let changes: Vec<(i64, PermitState)> = sqlx::query_as(
                "SELECT status_index, state FROM status_changes \
                 WHERE authority_id = $1 AND version > $2 AND version <= $3 \
                 ORDER BY version, status_index",
            )
            .bind(authority)
            .bind(since)
            .bind(row.status_version)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(StatusChanges {
                authority: row,
                changes,
            })
        })
    }
}
