//! Device keys: the ECDSA P-256 public key an officer's device binds to its token
//! (docs/FORMAT.md §10). One key per token and one token per key; the first binding wins.

use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};

/// A device key as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DeviceKeyRow {
    /// The token it is bound to.
    pub token_id: String,
    /// 32 hex digits.
    pub key_id: String,
    /// SEC1 uncompressed, 65 bytes.
    pub public_key: Vec<u8>,
    /// When it was bound, Unix seconds.
    pub bound_at: i64,
}

/// What a binding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    /// The key is bound to the token (`new`: by this call; otherwise it already was).
    Bound {
        /// The row.
        row: DeviceKeyRow,
        /// Whether this call bound it.
        new: bool,
    },
    /// The token already has another key.
    TokenHasAnotherKey,
    /// The key is bound to another token.
    KeyBelongsToAnotherToken,
}

const COLUMNS: &str = "token_id, key_id, public_key, bound_at";

impl Db {
    /// Binds `public_key` (checked by the caller) with id `key_id` to the token `token_id`.
    pub async fn bind_device_key(
        &self,
        token_id: &str,
        key_id: &str,
        public_key: &[u8],
        now: i64,
    ) -> Result<Binding, StorageError> {
        let by_token = format!("SELECT {COLUMNS} FROM device_keys WHERE token_id = $1");
        let by_key = format!("SELECT {COLUMNS} FROM device_keys WHERE key_id = $1");
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let mine: Option<DeviceKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(by_token.as_str()))
                .bind(token_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = mine {
                return Ok(if row.key_id == key_id {
                    Binding::Bound { row, new: false }
                } else {
                    Binding::TokenHasAnotherKey
                });
            }
            let theirs: Option<DeviceKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(by_key.as_str()))
                .bind(key_id)
                .fetch_optional(&mut *tx)
                .await?;
            if theirs.is_some() {
                return Ok(Binding::KeyBelongsToAnotherToken);
            }
            sqlx::query(
                "INSERT INTO device_keys (token_id, key_id, public_key, bound_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(token_id)
            .bind(key_id)
            .bind(public_key)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StorageError::conflict_on_unique("device key"))?;
            tx.audit(AuditEvent {
                at: now,
                actor: token_id,
                authority: None,
                action: "device_key.bind",
                detail: &format!("token={token_id} key={key_id}"),
            })
            .await?;
            tx.commit().await?;
            Ok(Binding::Bound {
                row: DeviceKeyRow {
                    token_id: token_id.to_owned(),
                    key_id: key_id.to_owned(),
                    public_key: public_key.to_vec(),
                    bound_at: now,
                },
                new: true,
            })
        })
    }

    /// The key bound to a token, if any.
    pub async fn device_key(&self, token_id: &str) -> Result<Option<DeviceKeyRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM device_keys WHERE token_id = $1");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(token_id)
        .fetch_optional(pool)
        .await?))
    }

    /// Removes a token's key binding (the admin's call, when a device lost its key): its
    /// device can then enrol a new key. Reports accepted before keep their signatures.
    /// Returns the removed row, `NotFound("token")` for an unknown token.
    pub async fn clear_device_key(
        &self,
        actor: &str,
        token_id: &str,
        now: i64,
    ) -> Result<Option<DeviceKeyRow>, StorageError> {
        let select = format!("SELECT {COLUMNS} FROM device_keys WHERE token_id = $1");
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let token: Option<(String,)> = sqlx::query_as("SELECT id FROM tokens WHERE id = $1")
                .bind(token_id)
                .fetch_optional(&mut *tx)
                .await?;
            if token.is_none() {
                return Err(StorageError::NotFound("token"));
            }
            let row: Option<DeviceKeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                .bind(token_id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = &row {
                sqlx::query("DELETE FROM device_keys WHERE token_id = $1")
                    .bind(token_id)
                    .execute(&mut *tx)
                    .await?;
                tx.audit(AuditEvent {
                    at: now,
                    actor,
                    authority: None,
                    action: "device_key.clear",
                    detail: &format!("token={token_id} key={}", row.key_id),
                })
                .await?;
            }
            tx.commit().await?;
            Ok(row)
        })
    }
}
