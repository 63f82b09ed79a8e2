//! API tokens: minted with 256 random bits, stored as SHA-256, looked up by hash.

use serde::Serialize;

use super::{AuditEvent, BeginWrite as _, Bookkeeping as _, Db, StorageError, on_db};
use crate::crypto::{self, NewToken};
use crate::model::{AuthorityId, CountryCode, InvalidValue, Principal, Role};

/// A stored token (without any secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TokenRow {
    /// Public handle.
    pub id: String,
    /// Role name.
    pub role: String,
    /// Authority of an issuer token.
    pub authority_id: Option<String>,
    /// Country of an officer, importer or customs token.
    pub country: Option<String>,
    /// Free-text label (who or which device holds it).
    pub label: String,
    /// Creation time, unix seconds.
    pub created_at: i64,
    /// Revocation time, unix seconds.
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, role, authority_id, country, label, created_at, revoked_at";

/// What a new token is for. Built only through [`TokenScope::new`], which enforces that issuers
/// name an authority and officers and importers name a country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenScope {
    role: Role,
    authority: Option<AuthorityId>,
    country: Option<CountryCode>,
}

impl TokenScope {
    /// Checks that the scope fits the role.
    pub fn new(
        role: Role,
        authority: Option<AuthorityId>,
        country: Option<CountryCode>,
    ) -> Result<Self, InvalidValue> {
        let bad = |msg: &str| Err(InvalidValue::new("invalid_scope", msg));
        match role {
            r if r.is_user_role() => bad("this role is held by user accounts, not API tokens"),
            Role::Admin if authority.is_some() || country.is_some() => {
                bad("an admin token has no authority or country")
            }
            Role::Issuer if authority.is_none() => bad("an issuer token needs an authority_id"),
            Role::Issuer if country.is_some() => {
                bad("an issuer token takes its country from its authority")
            }
            Role::Officer | Role::Importer | Role::Customs if country.is_none() => {
                bad("officer, importer and customs tokens need a country")
            }
            Role::Officer | Role::Importer | Role::Customs if authority.is_some() => bad(
                "officer, importer and customs tokens are scoped to a country, not an authority",
            ),
            _ => Ok(Self {
                role,
                authority,
                country,
            }),
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }
}

impl Db {
    /// Mints and stores a token. The returned secret is the only copy.
    pub async fn create_token(
        &self,
        actor: &str,
        scope: &TokenScope,
        label: &str,
        now: i64,
    ) -> Result<(TokenRow, NewToken), StorageError> {
        let minted = crypto::new_token()?;
        let id = crypto::random_id("tok")?;
        let authority = scope.authority.as_ref().map(AuthorityId::as_str);
        let country = scope.country.as_ref().map(CountryCode::as_str);
        let sql = format!(
            "INSERT INTO tokens (id, token_hash, role, authority_id, country, label, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        );
        let row = on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            if let Some(authority) = authority {
                let exists: Option<(String,)> =
                    sqlx::query_as("SELECT id FROM authorities WHERE id = $1")
                        .bind(authority)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Err(StorageError::NotFound("authority"));
                }
            }
            let row: TokenRow = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
                .bind(&id)
                .bind(minted.hash.as_slice())
                .bind(scope.role.as_str())
                .bind(authority)
                .bind(country)
                .bind(label)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StorageError::conflict_on_unique("token"))?;
            tx.audit(AuditEvent {
                at: now,
                actor,
                authority,
                action: "token.create",
                detail: &format!(
                    "token={id} role={} country={}",
                    scope.role,
                    country.unwrap_or("-")
                ),
            })
            .await?;
            tx.commit().await?;
            Ok(row)
        })?;
        Ok((row, minted))
    }

    /// The principal of a presented token, if the token exists and is not revoked.
    pub async fn principal_for_token(
        &self,
        secret: &str,
    ) -> Result<Option<Principal>, StorageError> {
        let hash = crypto::hash_token(secret);
        let sql =
            format!("SELECT {COLUMNS} FROM tokens WHERE token_hash = $1 AND revoked_at IS NULL");
        let row: Option<TokenRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .bind(hash.as_slice())
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else { return Ok(None) };
        // Rows are written only through `TokenScope`, and the table's CHECK constraints repeat
        // its rules; a row that still fails to parse is treated as no token at all.
        let parsed = (|| {
            Ok::<_, InvalidValue>(Principal {
                role: Role::parse(&row.role)?,
                authority: row
                    .authority_id
                    .as_deref()
                    .map(AuthorityId::parse)
                    .transpose()?,
                country: row.country.as_deref().map(CountryCode::parse).transpose()?,
                token_id: row.id.clone(),
                user: None,
            })
        })();
        match parsed {
            Ok(principal) => Ok(Some(principal)),
            Err(err) => {
                tracing::error!(token = %row.id, error = %err, "stored token row does not parse");
                Ok(None)
            }
        }
    }

    /// All tokens (without secrets), newest first.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRow>, StorageError> {
        let sql = format!("SELECT {COLUMNS} FROM tokens ORDER BY created_at DESC, id");
        on_db!(self, read, |pool| Ok(sqlx::query_as(sqlx::AssertSqlSafe(
            sql.as_str()
        ))
        .fetch_all(pool)
        .await?))
    }

    /// Revokes a token; revoking a revoked token is a no-op that returns the row.
    pub async fn revoke_token(
        &self,
        actor: &str,
        id: &str,
        now: i64,
    ) -> Result<TokenRow, StorageError> {
        let update = "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
        let select = format!("SELECT {COLUMNS} FROM tokens WHERE id = $1");
        on_db!(self, write, |pool| {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(update)
                .bind(now)
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(select.as_str()))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(row) = row else {
                return Err(StorageError::NotFound("token"));
            };
            if done > 0 {
                tx.audit(AuditEvent {
                    at: now,
                    actor,
                    authority: row.authority_id.as_deref(),
                    action: "token.revoke",
                    detail: &format!("token={id}"),
                })
                .await?;
            }
            tx.commit().await?;
            Ok(row)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_fit_roles() {
        let ke = || Some(AuthorityId::parse("KE").unwrap());
        let c = || Some(CountryCode::parse("KE").unwrap());
        assert!(TokenScope::new(Role::Admin, None, None).is_ok());
        assert!(TokenScope::new(Role::Admin, ke(), None).is_err());
        assert!(TokenScope::new(Role::Issuer, ke(), None).is_ok());
        assert!(TokenScope::new(Role::Issuer, None, c()).is_err());
        assert!(TokenScope::new(Role::Officer, None, c()).is_ok());
        assert!(TokenScope::new(Role::Officer, None, None).is_err());
        assert!(TokenScope::new(Role::Importer, ke(), c()).is_err());
        assert!(TokenScope::new(Role::Customs, None, c()).is_ok());
        assert!(TokenScope::new(Role::Customs, None, None).is_err());
        assert!(TokenScope::new(Role::Customs, ke(), c()).is_err());
    }
}
