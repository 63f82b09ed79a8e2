//! User accounts and their sessions. A trader registers with the authority of their country
//! and waits for approval; staff are created by the authority's admin. Passwords are kept as
//! Argon2id PHC strings, sessions as the SHA-256 of their bearer secret, in the database so
//! that every replica accepts them.

use serde::Serialize;

use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};
use crate::crypto;
use crate::model::{AuthorityId, InvalidValue, Principal, Role, SessionUser};

/// A stored user (its password hash is never serialised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct UserRow {
    /// `usr_…`.
    pub id: String,
    /// The authority the user belongs to.
    pub authority_id: String,
    /// Login name, lower case.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Argon2id PHC string.
    #[serde(skip)]
    pub password_hash: String,
    /// Comma-separated role names.
    pub roles: String,
    /// `pending`, `active` or `disabled`.
    pub status: String,
    /// A trader's company.
    pub company: Option<String>,
    /// A trader's address.
    pub address: Option<String>,
    /// A trader's country.
    pub country: Option<String>,
    /// A phone number.
    pub phone: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// Who approved the registration.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<i64>,
}

const COLUMNS: &str = "id, authority_id, email, name, password_hash, roles, status, company, \
    address, country, phone, created_at, approved_by, approved_at";

/// A user's account status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserStatus {
    /// Registered, waiting for the authority's approval: cannot log in.
    Pending,
    /// May log in.
    Active,
    /// May not log in.
    Disabled,
}

impl UserStatus {
    /// Every status.
    pub const ALL: [UserStatus; 3] = [Self::Pending, Self::Active, Self::Disabled];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
}

impl UserRow {
    /// The roles, parsed strictly: an unknown stored name is an error, never ignored.
    pub fn parsed_roles(&self) -> Result<Vec<Role>, InvalidValue> {
        self.roles.split(',').map(Role::parse).collect()
    }

    /// The status, parsed strictly.
    pub fn parsed_status(&self) -> Result<UserStatus, StorageError> {
        UserStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == self.status)
            .ok_or_else(|| StorageError::Corrupt(format!("user status {:?}", self.status)))
    }
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Their authority.
    pub authority: &'a AuthorityId,
    /// Login name (stored lower case).
    pub email: &'a str,
    /// Full name.
    pub name: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// At least one user role.
    pub roles: &'a [Role],
    /// Initial status.
    pub status: UserStatus,
    /// Company.
    pub company: Option<&'a str>,
    /// Address.
    pub address: Option<&'a str>,
    /// Country.
    pub country: Option<&'a str>,
    /// Phone.
    pub phone: Option<&'a str>,
}

/// A change of a user's account status by their authority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    /// A pending registration becomes active.
    Approve,
    /// A pending or active user is disabled.
    Disable,
}

impl UserChange {
    /// Its kind in the log.
    fn action(self) -> &'static str {
        match self {
            Self::Approve => "user.approve",
            Self::Disable => "user.disable",
        }
    }

    /// Why a user not in the state it starts from is refused.
    pub fn refusal(self) -> &'static str {
        match self {
            Self::Approve => "this user is not waiting for approval",
            Self::Disable => "this user is already disabled",
        }
    }
}

/// A session just opened.
#[derive(Debug)]
pub struct OpenedSession {
    /// The user.
    pub user: UserRow,
    /// When it expires.
    pub expires_at: i64,
}

impl Db {
    /// Creates a user.
    pub async fn create_user(
        &self,
        actor: &str,
        new: &NewUser<'_>,
        now: i64,
    ) -> Result<UserRow, StorageError> {
        let id = crypto::random_id("usr")?;
        let roles: Vec<&str> = new.roles.iter().map(|r| r.as_str()).collect();
        let roles = roles.join(",");
        let email = new.email.to_lowercase();
        let authority = new.authority.as_str();
        let sql = format!(
            "INSERT INTO users ({COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL, NULL) RETURNING {COLUMNS}"
        );
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT id FROM authorities WHERE id = $1")
                    .bind(authority)
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Err(StorageError::NotFound("authority"));
            }
            let row: UserRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&id)
                .bind(authority)
                .bind(&email)
                .bind(new.name)
                .bind(new.password_hash)
                .bind(&roles)
                .bind(new.status.as_str())
                .bind(new.company)
                .bind(new.address)
                .bind(new.country)
                .bind(new.phone)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::conflict_on_unique("a user with this email"))?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority),
                action: "user.create",
                detail: &format!("user={id} roles={roles} status={}", new.status.as_str()),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<UserRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    /// The users of an authority, pending registrations first, then by name.
    pub async fn list_users(&self, authority: &AuthorityId) -> Result<Vec<UserRow>, StorageError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM users WHERE authority_id = $1 \
             ORDER BY CASE WHEN status = 'pending' THEN 0 ELSE 1 END, name, id"
        );
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql
        ))
        .bind(authority.as_str())
        .fetch_all(pool)
        .await?))
    }

    /// Gives an active staff user of `authority` exactly `roles` (names, sorted, at least one;
    /// the caller checked them). Their open sessions end, so the new roles hold from their
    /// next login on every replica. A trader's account or an inactive one is refused.
    pub async fn set_user_roles(
        &self,
        actor: &str,
        authority: &AuthorityId,
        id: &str,
        roles: &[Role],
        now: i64,
    ) -> Result<UserRow, StorageError> {
        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        let joined = names.join(",");
        let update = format!(
            "UPDATE users SET roles = $1 WHERE id = $2 AND authority_id = $3 \
             AND status = 'active' AND roles <> 'applicant' RETURNING {COLUMNS}"
        );
        let select = format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND authority_id = $2");
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(update.as_str()))
                .bind(&joined)
                .bind(id)
                .bind(authority.as_str())
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                let found: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                    .bind(id)
                    .bind(authority.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(match found {
                    None => StorageError::NotFound("user"),
                    Some(_) => StorageError::State(
                        "only an active staff member's roles change (a trader's account stays a trader's)",
                    ),
                });
            };
            let closed = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority.as_str()),
                action: "user.roles",
                detail: &format!("user={id} roles={joined} sessions_closed={closed}"),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Approves a pending registration of `authority`, or disables a user of it (they cannot
    /// log in, and their open sessions end: the rows go, so no replica accepts them). A user
    /// not in the state the change starts from is refused with nothing changed.
    pub async fn change_user(
        &self,
        actor: &str,
        authority: &AuthorityId,
        id: &str,
        change: UserChange,
        now: i64,
    ) -> Result<UserRow, StorageError> {
        let approve = format!(
            "UPDATE users SET status = 'active', approved_by = $1, approved_at = $2 \
             WHERE id = $3 AND authority_id = $4 AND status = 'pending' RETURNING {COLUMNS}"
        );
        let disable = format!(
            "UPDATE users SET status = 'disabled' \
             WHERE id = $1 AND authority_id = $2 AND status <> 'disabled' RETURNING {COLUMNS}"
        );
        let select = format!("SELECT {COLUMNS} FROM users WHERE id = $1 AND authority_id = $2");
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let row: Option<UserRow> = match change {
                UserChange::Approve => {
                    sqlx::query_as(sqlx::AssertSqlSafe(approve.as_str()))
                        .bind(actor)
                        .bind(now)
                        .bind(id)
                        .bind(authority.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                }
                UserChange::Disable => {
                    sqlx::query_as(sqlx::AssertSqlSafe(disable.as_str()))
                        .bind(id)
                        .bind(authority.as_str())
                        .fetch_optional(&mut *tx)
                        .await?
                }
            };
            let Some(row) = row else {
                let found: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                    .bind(id)
                    .bind(authority.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(match found {
                    None => StorageError::NotFound("user"),
                    Some(_) => StorageError::State(change.refusal()),
                });
            };
            let detail = match change {
                UserChange::Approve => format!("user={id}"),
                UserChange::Disable => {
                    let closed = sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    format!("user={id} sessions_closed={closed}")
                }
            };
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority: Some(authority.as_str()),
                action: change.action(),
                detail: &detail,
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })
    }

    /// Checks a login; opens a session for an active user whose password matches. `None` for
    /// an unknown email or a wrong password alike; a pending or disabled user gets
    /// [`StorageError::State`] after the password matched.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        session: &crypto::NewSession,
        lifetime: i64,
        now: i64,
    ) -> Result<Option<OpenedSession>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE email = $1");
        let email = email.trim().to_lowercase();
        let row: Option<UserRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(&email)
        .fetch_optional(pool)
        .await?);
        let Some(user) = row else {
            // Spend the same time as a real check, so timing does not tell which emails exist.
            let _ = password_matches(password, DUMMY_HASH.to_owned()).await;
            return Ok(None);
        };
        if !password_matches(password, user.password_hash.clone()).await {
            return Ok(None);
        }
        match user.parsed_status()? {
            UserStatus::Active => {}
            UserStatus::Pending => {
                return Err(StorageError::State(
                    "this registration is waiting for the authority's approval",
                ));
            }
            UserStatus::Disabled => return Err(StorageError::State("this account is disabled")),
        }
        let expires_at = now.saturating_add(lifetime);
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            // Expired sessions of anyone go when someone logs in: the table stays small.
            sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_secret, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(session.token.hash.as_slice())
            .bind(&user.id)
            .bind(session.csrf_secret.as_slice())
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
            tx.audit(AuditEvent {
                at: now,
                actor: &user.id,
                authority: Some(&user.authority_id),
                action: "session.open",
                detail: &format!("user={}", user.id),
            })
            .await?;
            tx.commit().await?;
            Ok(())
        })?;
        Ok(Some(OpenedSession { user, expires_at }))
    }

    /// The principal of a session secret, if the session exists, has not expired and its user
    /// is active with roles this code knows.
    pub async fn principal_for_session(
        &self,
        secret: &str,
        now: i64,
    ) -> Result<Option<Principal>, StorageError> {
        let hash = crypto::hash_token(secret);
        let cols = COLUMNS
            .split(", ")
            .map(|c| format!("u.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {cols} FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2"
        );
        let row: Option<UserRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(hash.as_slice())
        .bind(now)
        .fetch_optional(pool)
        .await?);
        let Some(user) = row else { return Ok(None) };
        if user.parsed_status()? != UserStatus::Active {
            return Ok(None);
        }
        let roles = user
            .parsed_roles()
            .map_err(|e| StorageError::Corrupt(format!("roles of {}: {e}", user.id)))?;
        let authority = AuthorityId::parse(&user.authority_id)
            .map_err(|e| StorageError::Corrupt(format!("authority of {}: {e}", user.id)))?;
        let Some(first) = roles.first().copied() else {
            return Err(StorageError::Corrupt(format!(
                "user {} has no role",
                user.id
            )));
        };
        Ok(Some(Principal {
            token_id: user.id.clone(),
            role: first,
            authority: Some(authority),
            country: None,
            user: Some(SessionUser { id: user.id, roles }),
        }))
    }

    /// The CSRF secret of a live session (for the portal's forms).
    pub async fn session_csrf_secret(
        &self,
        secret: &str,
        now: i64,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        let hash = crypto::hash_token(secret);
        let row: Option<(Vec<u8>,)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT csrf_secret FROM sessions WHERE token_hash = $1 AND expires_at > $2"
        )
        .bind(hash.as_slice())
        .bind(now)
        .fetch_optional(pool)
        .await?);
        Ok(row.map(|(s,)| s))
    }

    /// Ends a session (logout): its row is deleted, so no replica accepts it any more.
    pub async fn delete_session(
        &self,
        secret: &str,
        user: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        let hash = crypto::hash_token(secret);
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query("DELETE FROM sessions WHERE token_hash = $1 AND user_id = $2")
                .bind(hash.as_slice())
                .bind(user)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if done == 0 {
                return Err(StorageError::NotFound("session"));
            }
            tx.audit(AuditEvent {
                at: now,
                actor: user,
                authority: None,
                action: "session.close",
                detail: &format!("user={user}"),
            })
            .await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Failed logins within this many seconds count against an account or an address.
pub const LOGIN_WINDOW_SECS: i64 = 15 * 60;

/// What a failed login counts against, and how many failures in the window it may have.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleKey<'a> {
    /// `account:<email>` or `address:<ip>`.
    pub key: &'a str,
    /// Failures allowed in [`LOGIN_WINDOW_SECS`] before the next attempt must wait.
    pub limit: i64,
}

impl Db {
    /// Seconds until a login for `keys` may be tried again: `None` while every key is under
    /// its limit. Counted in the database, so every replica throttles alike.
    pub async fn login_wait(
        &self,
        keys: &[ThrottleKey<'_>],
        now: i64,
    ) -> Result<Option<i64>, StorageError> {
        let since = now.saturating_sub(LOGIN_WINDOW_SECS);
        let mut wait: Option<i64> = None;
        for k in keys {
            let (count, oldest): (i64, Option<i64>) = on_db!(self, read, |pool| sqlx::query_as(
                "SELECT COUNT(*), MIN(at) FROM login_failures WHERE key = $1 AND at > $2"
            )
            .bind(k.key)
            .bind(since)
            .fetch_one(pool)
            .await?);
            if count >= k.limit {
                let until = oldest.unwrap_or(now).saturating_add(LOGIN_WINDOW_SECS);
                let secs = until.saturating_sub(now).max(1);
                wait = Some(wait.map_or(secs, |w| w.max(secs)));
            }
        }
        Ok(wait)
    }

    /// Counts a failed login against each key (and forgets failures older than the window).
    pub async fn record_login_failure(
        &self,
        keys: &[ThrottleKey<'_>],
        now: i64,
    ) -> Result<(), StorageError> {
        let since = now.saturating_sub(LOGIN_WINDOW_SECS);
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            sqlx::query("DELETE FROM login_failures WHERE at <= $1")
                .bind(since)
                .execute(&mut *tx)
                .await?;
            for k in keys {
                sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                    .bind(k.key)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Forgets an account's failures after it logged in.
    pub async fn clear_login_failures(&self, key: &str) -> Result<(), StorageError> {
        on_db!(self, write, |pool| {
            sqlx::query("DELETE FROM login_failures WHERE key = $1")
                .bind(key)
                .execute(pool)
                .await?;
            Ok(())
        })
    }
}

/// An Argon2id hash of a random password no one knows: checked against when the email is
/// unknown, so a login takes as long either way.
/// Argon2 spends tens of milliseconds of CPU on purpose: the check runs on the blocking pool so
/// that a burst of logins does not stall the runtime's workers (and every other request).
async fn password_matches(password: &str, stored: String) -> bool {
    let password = zeroize::Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || crypto::verify_password(&password, &stored))
        .await
        // A check that panicked or was cancelled matches nothing.
        .unwrap_or(false)
}

const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0VmYuNVf0pD1x9mN3l1lQh4p0vOQ2Zk6bqJrj8ZkqRA";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_round_trip_and_dummy_parses() {
        let hash = crypto::hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(crypto::verify_password("correct horse", &hash));
        assert!(!crypto::verify_password("wrong", &hash));
        assert!(!crypto::verify_password("x", "not a hash"));
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
