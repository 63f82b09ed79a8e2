//! The notification outbox: messages written in the transaction of the change they report
//! (`storage/applications.rs`), read and marked by a deliverer (`notify.rs`). Any replica may
//! deliver; a message is marked sent only after the mail server accepted it.

use super::{BeginWrite as _, Db, StorageError, on_db};

/// A message waiting to be delivered.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxMessage {
    /// Its id.
    pub id: i64,
    /// The address it goes to.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// Delivery attempts so far.
    pub attempts: i64,
}

/// Attempts after which a message is no longer retried (its error stays for the operator).
pub const MAX_ATTEMPTS: i64 = 10;

impl Db {
    /// Up to `limit` unsent messages that have attempts left, oldest first.
    pub async fn pending_messages(&self, limit: i64) -> Result<Vec<OutboxMessage>, StorageError> {
        on_db!(self, read, |pool| Ok(sqlx::query_as(
            "SELECT id, recipient, subject, body, attempts FROM outbox \
             WHERE sent_at IS NULL AND attempts < $1 ORDER BY id LIMIT $2"
        )
        .bind(MAX_ATTEMPTS)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Records one delivery attempt: sent at `now`, or failed with `error`. `false` when
    /// another deliverer marked the message sent first.
    pub async fn mark_delivery(
        &self,
        id: i64,
        error: Option<&str>,
        now: i64,
    ) -> Result<bool, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = match error {
                None => sqlx::query(
                    "UPDATE outbox SET sent_at = $1, attempts = attempts + 1, last_error = NULL \
                     WHERE id = $2 AND sent_at IS NULL",
                )
                .bind(now)
                .bind(id),
                Some(e) => sqlx::query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = $1 \
                     WHERE id = $2 AND sent_at IS NULL",
                )
                .bind(e)
                .bind(id),
            }
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(done > 0)
        })
    }
}
