//! Webhook subscriptions and their outbox. Messages are written by `Bookkeeping::webhook_event`
//! in the transaction of the change they report; a deliverer (`webhooks.rs`) leases the oldest
//! undelivered message of each subscription, so that one replica sends it and a subscription's
//! messages go out in order, and records the outcome. A lease expires: a replica killed
//! mid-delivery leaves its messages to the next one (at least once: receivers dedupe by
//! `webhook-id`).

use super::{BeginWrite as _, Db, StorageError, on_db};

/// A subscription just made.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SubscriptionRow {
    /// Its id (`whk_…`).
    pub id: String,
    /// The token that made it.
    pub token_id: String,
    /// The permit's authority.
    pub authority_id: String,
    /// The permit's index.
    pub status_index: i64,
    /// Where events go.
    pub url: String,
    /// When made.
    pub created_at: i64,
}

/// A live subscription as listed, with what its outbox holds.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ListedSubscription {
    /// Its id (`whk_…`).
    pub id: String,
    /// The token that made it.
    pub token_id: String,
    /// The permit's authority.
    pub authority_id: String,
    /// The permit's number.
    pub number: String,
    /// Where events go.
    pub url: String,
    /// When made.
    pub created_at: i64,
    /// Messages delivered.
    pub delivered: i64,
    /// Messages not delivered yet.
    pub pending: i64,
    /// The last failure of its oldest pending message, if it failed.
    pub last_error: Option<String>,
}

/// Whose subscriptions a call may see or delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionOwner<'a> {
    /// Those a token made.
    Token(&'a str),
    /// Every one (the platform admin).
    Anyone,
}

impl<'a> SubscriptionOwner<'a> {
    /// The token to match, `None` for any.
    fn token(self) -> Option<&'a str> {
        match self {
            Self::Token(t) => Some(t),
            Self::Anyone => None,
        }
    }
}

/// A subscription deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribed {
    /// When.
    pub deleted_at: i64,
    /// Its messages not yet delivered, now marked cancelled (never sent).
    pub cancelled: u64,
}

/// A message leased for delivery, with its subscription's URL and sealed secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeasedMessage {
    /// The `webhook-id`.
    pub id: String,
    /// Its subscription.
    pub subscription_id: String,
    /// The JSON body, sent and signed as stored.
    pub body: String,
    /// Attempts before this one.
    pub attempts: i64,
    /// The subscription's URL.
    pub url: String,
    /// The subscription's secret, sealed under the master key with the subscription's id.
    pub secret: Vec<u8>,
}

/// ` FOR UPDATE SKIP LOCKED` on PostgreSQL (rows another replica is leasing are passed over,
/// not waited for); nothing on SQLite, whose one writer holds the database lock.
fn skip_locked<DB: sqlx::Database>(_pool: &sqlx::Pool<DB>) -> &'static str {
    if super::for_update::<DB>().is_empty() {
        ""
    } else {
        " FOR UPDATE SKIP LOCKED"
    }
}

impl Db {
    /// Stores a subscription of `token_id` to a permit (its secret already sealed).
    pub async fn create_subscription(
        &self,
        row: &SubscriptionRow,
        sealed_secret: &[u8],
    ) -> Result<(), StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO webhook_subscriptions (id, token_id, authority_id, status_index, \
                 url, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(row.id.as_str())
            .bind(row.token_id.as_str())
            .bind(row.authority_id.as_str())
            .bind(row.status_index)
            .bind(row.url.as_str())
            .bind(sealed_secret)
            .bind(row.created_at)
            .execute(&mut *tx)
            .await
            .map_err(StorageError::conflict_on_unique("subscription"))?;
            tx.commit().await?;
            Ok(())
        })
    }

    /// The live (not deleted) subscriptions of `owner`, oldest first.
    pub async fn list_subscriptions(
        &self,
        owner: SubscriptionOwner<'_>,
    ) -> Result<Vec<ListedSubscription>, StorageError> {
        let token = owner.token();
        on_db!(self, read, |pool| Ok(sqlx::query_as(
            "SELECT s.id, s.token_id, s.authority_id, p.number, s.url, s.created_at, \
             (SELECT COUNT(*) FROM webhook_outbox o WHERE o.subscription_id = s.id \
               AND o.delivered_at IS NOT NULL) AS delivered, \
             (SELECT COUNT(*) FROM webhook_outbox o WHERE o.subscription_id = s.id \
               AND o.delivered_at IS NULL AND o.cancelled_at IS NULL) AS pending, \
             (SELECT o.last_error FROM webhook_outbox o WHERE o.subscription_id = s.id \
               AND o.delivered_at IS NULL AND o.cancelled_at IS NULL \
               ORDER BY o.seq LIMIT 1) AS last_error \
             FROM webhook_subscriptions s JOIN permits p \
             ON p.authority_id = s.authority_id AND p.status_index = s.status_index \
             WHERE s.deleted_at IS NULL AND ($1 IS NULL OR s.token_id = $1) \
             ORDER BY s.created_at, s.id",
        )
        .bind(token)
        .fetch_all(pool)
        .await?))
    }

    /// Deletes the live subscription `id` of `owner` at `now` (`by` is recorded): it gets no
    /// more events, and its messages not yet delivered are marked cancelled, in one
    /// transaction; other subscriptions' messages are untouched. `None` when `owner` has no
    /// such live subscription. A message being delivered at that moment may still arrive.
    pub async fn delete_subscription(
        &self,
        id: &str,
        owner: SubscriptionOwner<'_>,
        by: &str,
        now: i64,
    ) -> Result<Option<Unsubscribed>, StorageError> {
        let token = owner.token();
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE webhook_subscriptions SET deleted_at = $1, deleted_by = $2 \
                 WHERE id = $3 AND deleted_at IS NULL AND ($4 IS NULL OR token_id = $4)",
            )
            .bind(now)
            .bind(by)
            .bind(id)
            .bind(token)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                return Ok(None);
            }
            let cancelled = sqlx::query(
                "UPDATE webhook_outbox SET cancelled_at = $1 \
                 WHERE subscription_id = $2 AND delivered_at IS NULL AND cancelled_at IS NULL",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(Some(Unsubscribed {
                deleted_at: now,
                cancelled,
            }))
        })
    }

    /// Leases up to `limit` messages due at `now` to `replica` until `lease_until`: of each
    /// subscription only the oldest undelivered message, and only if no other replica holds an
    /// unexpired lease on it. The subscriptions of a revoked token get nothing more (their
    /// messages stay in the outbox); nor do deleted ones (their messages are cancelled). On PostgreSQL the candidates are locked `FOR UPDATE SKIP
    /// LOCKED`, so replicas leasing at once take different messages; SQLite has one writer.
    pub async fn lease_webhooks(
        &self,
        replica: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<LeasedMessage>, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let lock = skip_locked(pool);
            let select = format!(
                "SELECT o.id FROM webhook_outbox o WHERE o.delivered_at IS NULL \
                 AND o.cancelled_at IS NULL AND o.next_attempt_at <= $1 AND (o.lease_until IS NULL OR o.lease_until <= $1) \
                 AND EXISTS (SELECT 1 FROM webhook_subscriptions s \
                   JOIN tokens k ON k.id = s.token_id \
                   WHERE s.id = o.subscription_id AND k.revoked_at IS NULL \
                   AND s.deleted_at IS NULL) \
                 AND NOT EXISTS (SELECT 1 FROM webhook_outbox e \
                   WHERE e.subscription_id = o.subscription_id AND e.seq < o.seq \
                   AND e.delivered_at IS NULL) \
                 ORDER BY o.created_at, o.id LIMIT $2{lock}"
            );
            let ids: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(select))
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            let mut leased = Vec::with_capacity(ids.len());
            for (id,) in ids {
                sqlx::query(
                    "UPDATE webhook_outbox SET lease_until = $1, leased_by = $2 WHERE id = $3",
                )
                .bind(lease_until)
                .bind(replica)
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                let m: LeasedMessage = sqlx::query_as(
                    "SELECT o.id, o.subscription_id, o.body, o.attempts, s.url, s.secret \
                     FROM webhook_outbox o JOIN webhook_subscriptions s \
                     ON s.id = o.subscription_id WHERE o.id = $1",
                )
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await?;
                leased.push(m);
            }
            tx.commit().await?;
            Ok(leased)
        })
    }

    /// Records the outcome of `replica`'s attempt: delivered at `now`, or failed with `error`
    /// and due again at `retry_at`. `false` when the lease was lost (expired and taken by
    /// another replica), and then nothing is recorded.
    pub async fn webhook_attempted(
        &self,
        replica: &str,
        id: &str,
        now: i64,
        failure: Option<(&str, i64)>,
    ) -> Result<bool, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = match failure {
                None => sqlx::query(
                    "UPDATE webhook_outbox SET delivered_at = $1, attempts = attempts + 1, \
                     lease_until = NULL, last_error = NULL \
                     WHERE id = $2 AND leased_by = $3 AND delivered_at IS NULL",
                )
                .bind(now)
                .bind(id)
                .bind(replica),
                Some((error, retry_at)) => sqlx::query(
                    "UPDATE webhook_outbox SET next_attempt_at = $1, attempts = attempts + 1, \
                     lease_until = NULL, last_error = $2 \
                     WHERE id = $3 AND leased_by = $4 AND delivered_at IS NULL",
                )
                .bind(retry_at)
                .bind(error)
                .bind(id)
                .bind(replica),
            }
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(done > 0)
        })
    }
}
