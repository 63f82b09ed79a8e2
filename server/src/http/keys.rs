//! Signing keys of an authority: generate, rotate, retire, mark compromised; and the public
//! root key. Private keys never appear in any answer.

use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use utoipa_axum::routes;

use super::params::{AuthorityPath, KeyPath};
use super::{Access, Api, parse_time};
use crate::http::error::{ApiError, Json, Path, optional_json};
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;
use crate::views::{Algorithm, Key};

/// Who manages the signing keys: the platform admin, the authority's issuer tokens and its
/// administrator (a user).
pub(crate) const MANAGERS: &[Role] = &[Role::Admin, Role::Issuer, Role::AuthorityAdmin];
/// How far in the future a compromise time may lie (clock skew between operator and server).
const COMPROMISE_FUTURE_SLACK: i64 = 300;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("keys")
        .routes(Access::Roles(MANAGERS), routes!(list, generate))
        .routes(Access::Roles(MANAGERS), routes!(rotate))
        .routes(Access::Roles(MANAGERS), routes!(retire))
        .routes(Access::Roles(MANAGERS), routes!(compromise))
        .routes(Access::Public, routes!(root_key))
}

/// A root key's part in signing the trust list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RootKeyStatus {
    /// Signs the trust list.
    Active,
    /// Signs it too during a root key rotation; devices should pin it.
    Incoming,
}

/// Body of the key list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KeyList {
    pub(crate) keys: Vec<Key>,
}

/// Body of a rotation answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Rotation {
    retired: Key,
    active: Key,
}

/// Body of the compromise request.
#[derive(Debug, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Compromise {
    /// First moment not to trust (RFC 3339); defaults to now.
    #[schema(format = DateTime)]
    pub(crate) since: Option<String>,
}

/// Body of the root key answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RootKey {
    /// The active root key.
    kid: String,
    algorithm: Algorithm,
    /// 32 bytes, base64.
    public_key: String,
    /// Every root key that signs the trust list now.
    keys: Vec<RootKeyEntry>,
}

/// One root key that signs the trust list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RootKeyEntry {
    kid: String,
    /// 32 bytes, base64.
    public_key: String,
    status: RootKeyStatus,
}

/// Parses the authority in the path and checks the caller manages it.
async fn managed_authority(
    state: &AppState,
    principal: &Principal,
    authority: &str,
) -> Result<AuthorityId, ApiError> {
    let (id, _) = crate::http::permits::staff_of(state, principal, authority, MANAGERS).await?;
    Ok(id)
}

/// Key ids are 12 lower-case hex digits; anything else cannot name a key.
fn check_kid(kid: &str) -> Result<(), ApiError> {
    if kid.parse::<verifier_core::keys::KeyId>().is_ok() {
        Ok(())
    } else {
        Err(ApiError::not_found("key"))
    }
}

/// Keys of the authority (public parts)
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/keys", params(AuthorityPath), responses((status = 200, body = KeyList)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
) -> Result<Json<KeyList>, ApiError> {
    let id = managed_authority(&state, &principal, &authority).await?;
    let keys = state.db.list_keys(&id).await?;
    Ok(Json(KeyList {
        keys: keys.into_iter().map(Key::from).collect(),
    }))
}

/// Generate the authority's signing key (when it has no active key)
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/keys", params(AuthorityPath), responses((status = 201, body = Key)))]
pub(crate) async fn generate(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
) -> Result<(StatusCode, Json<Key>), ApiError> {
    let id = managed_authority(&state, &principal, &authority).await?;
    let row = state
        .db
        .generate_key(&principal.token_id, &id, &state.master, state.clock.now())
        .await
        .map_err(|err| match err {
            crate::storage::StorageError::Conflict(_) => ApiError::conflict(
                "active_key_exists",
                "the authority has an active key; rotate it instead",
            ),
            other => other.into(),
        })?;
    state.sync_cache.invalidate();
    tracing::info!(authority = %id, kid = %row.kid, "signing key generated");
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Rotate: retire the active key (it keeps verifying what it signed) and generate its successor
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/keys/rotate", params(AuthorityPath), responses((status = 200, body = Rotation)))]
pub(crate) async fn rotate(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
) -> Result<Json<Rotation>, ApiError> {
    let id = managed_authority(&state, &principal, &authority).await?;
    let rotation = state
        .db
        .rotate_key(&principal.token_id, &id, &state.master, state.clock.now())
        .await?;
    state.sync_cache.invalidate();
    tracing::info!(authority = %id, old = %rotation.retired.kid, new = %rotation.active.kid, "signing key rotated");
    Ok(Json(Rotation {
        retired: rotation.retired.into(),
        active: rotation.active.into(),
    }))
}

/// Retire the active key without a successor
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/keys/{kid}/retire", params(KeyPath), responses((status = 200, body = Key)))]
pub(crate) async fn retire(
    State(state): State<AppState>,
    principal: Principal,
    Path(KeyPath { authority, kid }): Path<KeyPath>,
) -> Result<Json<Key>, ApiError> {
    let id = managed_authority(&state, &principal, &authority).await?;
    check_kid(&kid)?;
    let row = state
        .db
        .retire_key(&principal.token_id, &id, &kid, state.clock.now())
        .await?;
    state.sync_cache.invalidate();
    tracing::info!(authority = %id, kid = %kid, "signing key retired");
    Ok(Json(row.into()))
}

/// Mark a key compromised: signatures from `since` on are rejected
///
/// The body may be left out (then `since` is now).
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/keys/{kid}/compromise", params(KeyPath),
    request_body(content = Option<Compromise>, content_type = "application/json"), responses((status = 200, body = Key)))]
pub(crate) async fn compromise(
    State(state): State<AppState>,
    principal: Principal,
    Path(KeyPath { authority, kid }): Path<KeyPath>,
    body: axum::body::Bytes,
) -> Result<Json<Key>, ApiError> {
    let id = managed_authority(&state, &principal, &authority).await?;
    check_kid(&kid)?;
    let now = state.clock.now();
    let body: Compromise = optional_json(&body)?;
    let since = match body.since.as_deref() {
        Some(text) => parse_time("since", text)?,
        None => now,
    };
    // Permits carry minutes; so does the compromise time, rounded down (the safe side).
    let since = since - since.rem_euclid(60);
    if since > now + COMPROMISE_FUTURE_SLACK {
        return Err(ApiError::invalid(
            "invalid_time",
            "since must not lie in the future",
        ));
    }
    let row = state
        .db
        .compromise_key(&principal.token_id, &id, &kid, since, now)
        .await?;
    state.sync_cache.invalidate();
    tracing::warn!(authority = %id, kid = %kid, since, "signing key marked compromised");
    Ok(Json(row.into()))
}

/// The deployment root public key that signs the trust list
///
/// Pin it in devices; during a root key rotation `keys` also lists the incoming key, which devices should pin too.
#[utoipa::path(get, path = "/api/v1/trust/root-key", responses((status = 200, body = RootKey)))]
async fn root_key(State(state): State<AppState>) -> Result<Json<RootKey>, ApiError> {
    let keys: Vec<RootKeyEntry> = state
        .db
        .root_public_keys()
        .await?
        .into_iter()
        .map(|k| {
            let status = match k.status.as_str() {
                "active" => RootKeyStatus::Active,
                "incoming" => RootKeyStatus::Incoming,
                other => {
                    return Err(ApiError::internal(format!(
                        "root key {} has an unknown status {other:?}",
                        k.kid
                    )));
                }
            };
            Ok(RootKeyEntry {
                kid: k.kid,
                public_key: STANDARD.encode(k.public_key),
                status,
            })
        })
        .collect::<Result<_, _>>()?;
    // `root_public_keys` gives the active key first and fails without one.
    let active = keys
        .first()
        .ok_or_else(|| ApiError::internal("no active root key"))?;
    Ok(Json(RootKey {
        kid: active.kid.clone(),
        algorithm: Algorithm::Ed25519,
        public_key: active.public_key.clone(),
        keys,
    }))
}
