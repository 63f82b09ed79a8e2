//! Signing keys of the authorities, the deployment root key, and the master-key check.
//!
//! Every key change bumps `deployment.trust_version` in the same transaction, so the trust list
//! version is assigned by the database and stays consistent across server processes.

use serde::Serialize;

use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};
use crate::crypto::{CryptoError, MasterKey, SecretSeed};
use crate::model::AuthorityId;

/// The constant sealed under the master key to recognise it at start.
const MASTER_CHECK_PLAIN: &[u8] = b"permitseal master key check v1";
/// The key id the master-key check is sealed for.
const MASTER_CHECK_ID: &str = "deployment-master-check";

/// Lifecycle state of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyState {
    /// Signs new permits.
    Active,
    /// Signs nothing new; verifies what it signed before `valid_until`.
    Retired,
    /// Signatures from `compromised_since` on are not to be trusted.
    Compromised,
}

impl KeyState {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "retired" => Some(Self::Retired),
            "compromised" => Some(Self::Compromised),
            _ => None,
        }
    }
}

/// A stored signing key, public parts only.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct KeyRow {
    /// Key id.
    pub kid: String,
    /// Owning authority.
    pub authority_id: String,
    /// Ed25519 public key.
    pub public_key: Vec<u8>,
    /// `active`, `retired` or `compromised`.
    pub status: String,
    /// Creation time.
    pub created_at: i64,
    /// Start of validity.
    pub valid_from: i64,
    /// End of signing validity (set at rotation or retirement).
    pub valid_until: Option<i64>,
    /// Time from which signatures are not to be trusted.
    pub compromised_since: Option<i64>,
}

impl KeyRow {
    /// The parsed state; unknown values (impossible under the table's CHECK) read as compromised,
    /// the safe side.
    pub fn state(&self) -> KeyState {
        KeyState::parse(&self.status).unwrap_or(KeyState::Compromised)
    }
}

/// A root key that signs the trust list, public parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootKey {
    /// Key id.
    pub kid: String,
    /// Ed25519 public key.
    pub public_key: [u8; 32],
    /// `active` or `incoming`.
    pub status: String,
}

/// A root key as stored.
#[derive(sqlx::FromRow)]
struct StoredRootKey {
    kid: String,
    public_key: Vec<u8>,
    status: String,
}

/// A root key's private seed, to sign the trust list with.
pub struct RootSigner {
    /// Key id.
    pub kid: String,
    /// The opened seed.
    pub seed: SecretSeed,
}

/// What finishing a root key rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootRotation {
    /// The root key retired.
    pub retired: String,
    /// The root key that signs alone from now on.
    pub active: String,
}

/// What rotating an authority's signing key did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    /// The key that signed until now, retired.
    pub retired: KeyRow,
    /// Its successor.
    pub active: KeyRow,
}

/// Most signing keys (generated or rotated in) one authority may make in [`KEY_WINDOW`].
pub const MAX_NEW_KEYS: i64 = 5;
/// The window of [`MAX_NEW_KEYS`], in seconds: 24 hours.
pub const KEY_WINDOW: i64 = 86_400;
/// How long a retired key stays in the trust list at least, in seconds.
pub const PRUNE_GRACE: i64 = 3_600;

const COLUMNS: &str =
    "kid, authority_id, public_key, status, created_at, valid_from, valid_until, compromised_since";

/// Key id of an Ed25519 public key, as the permit format defines it (hex).
pub fn key_id(public_key: &[u8; 32]) -> String {
    verifier_core::keys::KeyId::of(public_key).to_string()
}

/// A new key pair with its sealed seed, ready to insert.
struct NewKey {
    kid: String,
    public_key: [u8; 32],
    sealed: Vec<u8>,
}

fn new_key(master: &MasterKey) -> Result<NewKey, CryptoError> {
    let seed = SecretSeed::generate()?;
    let public_key = seed.public_key();
    let kid = key_id(&public_key);
    let sealed = master.seal_seed(&kid, &seed)?;
    Ok(NewKey {
        kid,
        public_key,
        sealed,
    })
}

/// Steps of the key changes, inside their transaction.
trait KeySteps {
    /// Fails with NotFound unless the authority exists.
    async fn require_authority(&mut self, authority: &str) -> Result<(), StorageError>;
    /// The key `kid` of `authority`, or NotFound.
    async fn key(&mut self, authority: &str, kid: &str) -> Result<KeyRow, StorageError>;
    /// Inserts a new active key for an authority and bumps the trust version.
    async fn insert_active_key(
        &mut self,
        key: &NewKey,
        authority: &str,
        now: i64,
    ) -> Result<KeyRow, StorageError>;
}

// The backend's executor and the types these queries bind and read (see `Bookkeeping`).
impl<DB> KeySteps for sqlx::Transaction<'_, DB>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    str: sqlx::Type<DB>,
    for<'a, 'q> &'a str: sqlx::Encode<'q, DB>,
    for<'a> &'a str: sqlx::Decode<'a, DB> + sqlx::ColumnIndex<DB::Row>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB>,
    for<'q> String: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'a, 'q> &'a [u8]: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> Vec<u8>: sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
{
    async fn require_authority(&mut self, authority: &str) -> Result<(), StorageError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM authorities WHERE id = $1")
            .bind(authority)
            .fetch_optional(&mut **self)
            .await?;
        found.map(|_| ()).ok_or(StorageError::NotFound("authority"))
    }

    async fn key(&mut self, authority: &str, kid: &str) -> Result<KeyRow, StorageError> {
        let sql =
            format!("SELECT {COLUMNS} FROM signing_keys WHERE kid = $1 AND authority_id = $2");
        let row: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(kid)
            .bind(authority)
            .fetch_optional(&mut **self)
            .await?;
        row.ok_or(StorageError::NotFound("key"))
    }

    async fn insert_active_key(
        &mut self,
        key: &NewKey,
        authority: &str,
        now: i64,
    ) -> Result<KeyRow, StorageError> {
        // Every key stays in the trust list (and so in every phone's bundle) until nothing it
        // signed is valid: a burst of rotations would grow every bundle with it.
        let (recent,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM signing_keys WHERE authority_id = $1 AND created_at > $2",
        )
        .bind(authority)
        .bind(now - KEY_WINDOW)
        .fetch_one(&mut **self)
        .await?;
        if recent >= MAX_NEW_KEYS {
            return Err(StorageError::State(
                "the authority has made 5 signing keys in the last 24 hours, the most allowed; \
                 a compromised key can still be marked compromised",
            ));
        }
        let sql = format!(
            "INSERT INTO signing_keys (kid, authority_id, public_key, sealed_seed, status, \
             created_at, valid_from) VALUES ($1, $2, $3, $4, 'active', $5, $6) RETURNING {COLUMNS}"
        );
        // Permits carry their issue time in whole minutes, so a key's validity starts at the
        // minute: a permit signed in the key's first minute must not predate it.
        let row: KeyRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(key.kid.as_str())
            .bind(authority)
            .bind(key.public_key.as_slice())
            .bind(key.sealed.as_slice())
            .bind(now)
            .bind(now - now.rem_euclid(60))
            .fetch_one(&mut **self)
            .await
            .map_err(StorageError::conflict_on_unique("active key"))?;
        self.bump_trust(now).await?;
        Ok(row)
    }
}

impl Db {
    /// First start: records a check value sealed under `master`. Later starts: proves that
    /// `master` opens it, so a wrong master key is refused before it can seal anything. Also makes
    /// sure a root key exists. Safe when several processes start at once.
    pub async fn init_deployment(&self, master: &MasterKey, now: i64) -> Result<(), StorageError> {
        let check = master.seal(MASTER_CHECK_ID, MASTER_CHECK_PLAIN)?;
        let root = new_key(master)?;
        let stored: Vec<u8> = on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO deployment (id, master_check, created_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO NOTHING",
            )
            .bind(&check)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            let (stored,): (Vec<u8>,) =
                sqlx::query_as("SELECT master_check FROM deployment WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
            if master.open(MASTER_CHECK_ID, &stored).is_ok() {
                let inserted = sqlx::query(
                    "INSERT INTO root_keys (kid, public_key, sealed_seed, status, created_at) \
                     VALUES ($1, $2, $3, 'active', $4) ON CONFLICT DO NOTHING",
                )
                .bind(&root.kid)
                .bind(root.public_key.as_slice())
                .bind(&root.sealed)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if inserted > 0 {
                    tx.bump_trust(now).await?;
                    tx.audit(AuditEvent {
                        at: now,
                        actor: "server",
                        authority: None,
                        action: "root_key.create",
                        detail: &format!("kid={}", root.kid),
                    })
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(stored)
        })?;
        master.open(MASTER_CHECK_ID, &stored)?;
        Ok(())
    }

    /// The root keys that sign the trust list, the active one first: with a rotation under
    /// way, also the incoming one.
    pub async fn root_public_keys(&self) -> Result<Vec<RootKey>, StorageError> {
        let rows: Vec<StoredRootKey> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT kid, public_key, status FROM root_keys \
             WHERE status IN ('active', 'incoming') ORDER BY status"
        )
        .fetch_all(pool)
        .await?);
        if !rows.iter().any(|r| r.status == "active") {
            return Err(StorageError::NotFound("root key"));
        }
        rows.into_iter()
            .map(|r| {
                let public_key: [u8; 32] =
                    r.public_key.as_slice().try_into().map_err(|_| {
                        StorageError::State("stored root public key is not 32 bytes")
                    })?;
                Ok(RootKey {
                    kid: r.kid,
                    public_key,
                    status: r.status,
                })
            })
            .collect()
    }

    /// The seeds of the root keys that sign the trust list (active first, then incoming).
    pub async fn root_signers(&self, master: &MasterKey) -> Result<Vec<RootSigner>, StorageError> {
        let rows: Vec<(String, Vec<u8>)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT kid, sealed_seed FROM root_keys \
             WHERE status IN ('active', 'incoming') ORDER BY status"
        )
        .fetch_all(pool)
        .await?);
        if rows.is_empty() {
            return Err(StorageError::NotFound("root key"));
        }
        rows.into_iter()
            .map(|(kid, sealed)| {
                let seed = master.open_seed(&kid, &sealed)?;
                Ok(RootSigner { kid, seed })
            })
            .collect()
    }

    /// Starts a root key rotation: makes an incoming root key, which signs the trust list
    /// beside the active one from now on. Returns it, for the apps to pin.
    pub async fn begin_root_rotation(
        &self,
        actor: &str,
        master: &MasterKey,
        now: i64,
    ) -> Result<RootKey, StorageError> {
        let key = new_key(master)?;
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let inserted = sqlx::query(
                "INSERT INTO root_keys (kid, public_key, sealed_seed, status, created_at) \
                 VALUES ($1, $2, $3, 'incoming', $4)",
            )
            .bind(&key.kid)
            .bind(key.public_key.as_slice())
            .bind(&key.sealed)
            .bind(now)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(StorageError::State(
                        "a root key rotation is already under way: finish it first",
                    ));
                }
                other => other?,
            };
            tx.bump_trust(now).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: None,
                action: "root_key.rotation_begin",
                detail: &format!("kid={}", key.kid),
            })
            .await?;
            tx.commit().await?;
            Ok::<(), StorageError>(())
        })?;
        Ok(RootKey {
            kid: key.kid,
            public_key: key.public_key,
            status: "incoming".to_owned(),
        })
    }

    /// Finishes a root key rotation: the incoming key becomes the only one that signs the
    /// trust list, the old one is retired.
    pub async fn finish_root_rotation(
        &self,
        actor: &str,
        now: i64,
    ) -> Result<RootRotation, StorageError> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let incoming: Option<(String,)> =
                sqlx::query_as("SELECT kid FROM root_keys WHERE status = 'incoming'")
                    .fetch_optional(&mut *tx)
                    .await?;
            let (new_kid,) = incoming.ok_or(StorageError::State(
                "no root key rotation is under way: begin one first",
            ))?;
            let (old_kid,): (String,) =
                sqlx::query_as("SELECT kid FROM root_keys WHERE status = 'active'")
                    .fetch_one(&mut *tx)
                    .await?;
            sqlx::query("UPDATE root_keys SET status = 'retired' WHERE kid = $1")
                .bind(&old_kid)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE root_keys SET status = 'active' WHERE kid = $1")
                .bind(&new_kid)
                .execute(&mut *tx)
                .await?;
            tx.bump_trust(now).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: None,
                action: "root_key.rotation_finish",
                detail: &format!("retired={old_kid} active={new_kid}"),
            })
            .await?;
            tx.commit().await?;
            Ok(RootRotation {
                retired: old_kid,
                active: new_kid,
            })
        })
    }

    /// The current trust list version.
    pub async fn trust_version(&self) -> Result<i64, StorageError> {
        let (v,): (i64,) = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT trust_version FROM deployment WHERE id = 1"
        )
        .fetch_one(pool)
        .await?);
        Ok(v)
    }

    /// Keys of one authority, oldest first.
    pub async fn list_keys(&self, authority: &AuthorityId) -> Result<Vec<KeyRow>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM signing_keys WHERE authority_id = $1 ORDER BY created_at, kid"
        );
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(authority.as_str())
        .fetch_all(pool)
        .await?))
    }

    /// Keys of every authority (for the trust list), by authority then age.
    pub async fn all_keys(&self) -> Result<Vec<KeyRow>, StorageError> {
        let sql =
            format!("SELECT {COLUMNS} FROM signing_keys ORDER BY authority_id, created_at, kid");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(pool)
        .await?))
    }

    /// Generates the first (or next, after retirement) signing key of an authority.
    /// [`StorageError::Conflict`] if it has an active key already: rotate instead.
    pub async fn generate_key(
        &self,
        actor: &str,
        authority: &AuthorityId,
        master: &MasterKey,
        now: i64,
    ) -> Result<KeyRow, StorageError> {
        let key = new_key(master)?;
        let authority = authority.as_str();
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            tx.require_authority(authority).await?;
            let row = tx.insert_active_key(&key, authority, now).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority),
                action: "key.generate",
                detail: &format!("kid={}", key.kid),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Retires the active key (its `valid_until` becomes `now`, so it still verifies what it
    /// signed) and generates its successor, atomically.
    pub async fn rotate_key(
        &self,
        actor: &str,
        authority: &AuthorityId,
        master: &MasterKey,
        now: i64,
    ) -> Result<KeyRotation, StorageError> {
        let key = new_key(master)?;
        let authority = authority.as_str();
        let retire = format!(
            "UPDATE signing_keys SET status = 'retired', valid_until = $1 \
             WHERE authority_id = $2 AND status = 'active' RETURNING {COLUMNS}"
        );
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            tx.require_authority(authority).await?;
            let old: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(retire.as_str()))
                .bind(now)
                .bind(authority)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(old) = old else {
                return Err(StorageError::State(
                    "the authority has no active key to rotate; generate one",
                ));
            };
            let new = tx.insert_active_key(&key, authority, now).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority),
                action: "key.rotate",
                detail: &format!("old={} new={}", old.kid, new.kid),
            })
            .await?;
            tx.commit().await?;
            Ok(KeyRotation {
                retired: old,
                active: new,
            })
        })
    }

    /// Leaves out of the trust list the retired keys of which nothing signed is still valid:
    /// no permit signed by the key is unrevoked with its last day today or later. A key retired
    /// less than [`PRUNE_GRACE`] ago stays (an issuance that read it as active may still be
    /// committing). Compromised keys stay: a phone shows what they signed as compromised, not
    /// unknown. Bumps the trust list version when it leaves anything out; returns how many.
    pub async fn prune_retired_keys(&self, now: i64) -> Result<u64, StorageError> {
        let today = verifier_core::date::Date::from_unix(now).to_string();
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let pruned = sqlx::query(
                "UPDATE signing_keys SET pruned_at = $1 WHERE status = 'retired' \
                 AND pruned_at IS NULL AND valid_until IS NOT NULL AND valid_until < $2 \
                 AND NOT EXISTS (SELECT 1 FROM permits p WHERE p.kid = signing_keys.kid \
                 AND p.state <> $3 AND p.valid_until >= $4)",
            )
            .bind(now)
            .bind(now - PRUNE_GRACE)
            .bind(crate::domain::PermitState::Revoked)
            .bind(&today)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if pruned > 0 {
                tx.bump_trust(now).await?;
                tx.audit(AuditEvent {
                    at: now,
                    actor: "server",
                    authority: None,
                    action: "key.prune",
                    detail: &format!("count={pruned}"),
                })
                .await?;
            }
            tx.commit().await?;
            Ok(pruned)
        })
    }

    /// Retires the active key `kid` without a successor.
    pub async fn retire_key(
        &self,
        actor: &str,
        authority: &AuthorityId,
        kid: &str,
        now: i64,
    ) -> Result<KeyRow, StorageError> {
        let authority = authority.as_str();
        let retire = format!(
            "UPDATE signing_keys SET status = 'retired', valid_until = $1 \
             WHERE kid = $2 AND authority_id = $3 AND status = 'active' RETURNING {COLUMNS}"
        );
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(retire.as_str()))
                .bind(now)
                .bind(kid)
                .bind(authority)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                tx.key(authority, kid).await?;
                return Err(StorageError::State("only the active key can be retired"));
            };
            tx.bump_trust(now).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority),
                action: "key.retire",
                detail: &format!("kid={kid}"),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Marks `kid` compromised from `since` on. An active key also stops signing (`valid_until`
    /// becomes `now`). Marking again can only move `since` earlier.
    pub async fn compromise_key(
        &self,
        actor: &str,
        authority: &AuthorityId,
        kid: &str,
        since: i64,
        now: i64,
    ) -> Result<KeyRow, StorageError> {
        let authority = authority.as_str();
        let update = format!(
            "UPDATE signing_keys SET \
               valid_until = CASE WHEN status = 'active' THEN $1 ELSE valid_until END, \
               compromised_since = CASE WHEN compromised_since IS NULL OR compromised_since > $2 \
                                        THEN $2 ELSE compromised_since END, \
               status = 'compromised' \
             WHERE kid = $3 AND authority_id = $4 RETURNING {COLUMNS}"
        );
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<KeyRow> = sqlx::query_as(sqlx::AssertSqlSafe(update.as_str()))
                .bind(now)
                .bind(since)
                .bind(kid)
                .bind(authority)
                .fetch_optional(&mut *tx)
                .await?;
            let row = row.ok_or(StorageError::NotFound("key"))?;
            tx.bump_trust(now).await?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority),
                action: "key.compromise",
                detail: &format!("kid={kid} since={since}"),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// The authority a key id belongs to.
    pub async fn authority_of_key(&self, kid: &str) -> Result<Option<String>, StorageError> {
        let row: Option<(String,)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT authority_id FROM signing_keys WHERE kid = $1"
        )
        .bind(kid)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|r| r.0))
    }

    /// The active key of an authority with its opened seed, for signing permits.
    pub async fn active_signer(
        &self,
        authority: &AuthorityId,
        master: &MasterKey,
    ) -> Result<(KeyRow, SecretSeed), StorageError> {
        let sql = format!(
            "SELECT {COLUMNS}, sealed_seed FROM signing_keys \
             WHERE authority_id = $1 AND status = 'active'"
        );
        #[derive(sqlx::FromRow)]
        struct WithSeed {
            #[sqlx(flatten)]
            key: KeyRow,
            sealed_seed: Vec<u8>,
        }
        let row: Option<WithSeed> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(authority.as_str())
        .fetch_optional(pool)
        .await?);
        let row = row.ok_or(StorageError::State(
            "the authority has no active signing key",
        ))?;
        let seed = master.open_seed(&row.key.kid, &row.sealed_seed)?;
        Ok((row.key, seed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_short_and_stable() {
        let kid = key_id(&[1u8; 32]);
        assert_eq!(kid.len(), 12);
        assert_eq!(kid, key_id(&[1u8; 32]));
        assert_ne!(kid, key_id(&[2u8; 32]));
    }
}
