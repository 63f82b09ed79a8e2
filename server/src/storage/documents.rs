//! What printed documents need beyond the permit row: the authority's paper settings (language,
//! address, place of issue) and box 11a, the quota used to date when each block was issued.

use super::authorities::AuthorityRow;
use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};
use crate::model::AuthorityId;

/// How an authority's documents are printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperSettings {
    /// `en`, `fr` or `es`.
    pub language: &'static str,
    /// Postal address for box 6.
    pub address: Option<String>,
    /// Place of issue for box 13.
    pub issue_place: Option<String>,
}

/// Box 11a of one block, in millionths of the block's unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockQuota {
    /// Exported under the quota this year including this block, when it was issued.
    pub used_micro: i64,
    /// The annual quota.
    pub quota_micro: i64,
}

impl Db {
    /// Sets how an authority's documents are printed; answers the changed authority, or
    /// [`StorageError::NotFound`].
    pub async fn set_paper_settings(
        &self,
        actor: &str,
        id: &AuthorityId,
        settings: &PaperSettings,
        now: i64,
    ) -> Result<AuthorityRow, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let (language, address, place) =
                (settings.language, &settings.address, &settings.issue_place);
            let changed = sqlx::query(
                "UPDATE authorities SET language = $1, address = $2, issue_place = $3 \
                 WHERE id = $4",
            )
            .bind(language)
            .bind(address)
            .bind(place)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if changed == 0 {
                return Err(StorageError::NotFound("authority"));
            }
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(id.as_str()),
                action: "authority.paper",
                detail: &format!(
                    "language={language} address={} issue_place={}",
                    address.as_deref().unwrap_or("-"),
                    place.as_deref().unwrap_or("-")
                ),
            })
            .await?;
            tx.commit().await?;
            Ok::<(), StorageError>(())
        })?;
        self.authority(id)
            .await?
            .ok_or(StorageError::NotFound("authority"))
    }

    /// Box 11a per block of a permit, in block order (`None` where no quota applied).
    pub async fn block_quotas(
        &self,
        authority: &str,
        status_index: i64,
    ) -> Result<Vec<Option<BlockQuota>>, StorageError> {
        Ok(self
            .lettered_block_quotas(authority, status_index)
            .await?
            .into_iter()
            .map(|(_, q)| q)
            .collect())
    }

    /// Box 11a per block of a permit with the block's letter, in block order.
    pub async fn lettered_block_quotas(
        &self,
        authority: &str,
        status_index: i64,
    ) -> Result<Vec<(String, Option<BlockQuota>)>, StorageError> {
        const SQL: &str = "SELECT l.block, l.quota_used_micro, q.quota_micro FROM permit_lines l \
             LEFT JOIN quotas q ON q.id = l.quota_id \
             WHERE l.authority_id = $1 AND l.status_index = $2 ORDER BY l.block";
        let rows: Vec<(String, Option<i64>, Option<i64>)> = on_db!(self, read, |pool| {
            sqlx::query_as(SQL)
                .bind(authority)
                .bind(status_index)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(block, used, quota)| {
                let q = match (used, quota) {
                    (Some(used_micro), Some(quota_micro)) => Some(BlockQuota {
                        used_micro,
                        quota_micro,
                    }),
                    _ => None,
                };
                (block, q)
            })
            .collect())
    }
}
