//! Signing keys of an authority: generate, rotate, retire, mark compromised; and the public
//! root key. Private keys never appear in any answer.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Access, Api, Op, format_time, parse_time};
use crate::http::error::{ApiError, Json, Path, optional_json};
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;
use crate::storage::keys::{KeyRow, KeyState};

const MANAGERS: &[Role] = &[Role::Admin, Role::Issuer];
/// How far in the future a compromise time may lie (clock skew between operator and server).
const COMPROMISE_FUTURE_SLACK: i64 = 300;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("keys")
        .route(
            "/api/v1/authorities/{authority}/keys",
            get(list).post(generate),
            [
                Op::get("Keys of the authority (public parts)", Access::Roles(MANAGERS))
                    .returns(200, "KeyList"),
                Op::post(
                    "Generate the authority's signing key (when it has no active key)",
                    Access::Roles(MANAGERS),
                )
                .returns(201, "Key"),
            ],
        )
        .route(
            "/api/v1/authorities/{authority}/keys/rotate",
            post(rotate),
            [Op::post(
                "Rotate: retire the active key (it keeps verifying what it signed) and generate its successor",
                Access::Roles(MANAGERS),
            )
            .returns(200, "Rotation")],
        )
        .route(
            "/api/v1/authorities/{authority}/keys/{kid}/retire",
            post(retire),
            [Op::post("Retire the active key without a successor", Access::Roles(MANAGERS))
                .returns(200, "Key")],
        )
        .route(
            "/api/v1/authorities/{authority}/keys/{kid}/compromise",
            post(compromise),
            [Op::post(
                "Mark a key compromised: signatures from `since` on are rejected",
                Access::Roles(MANAGERS),
            )
            .optional_body("Compromise")
            .returns(200, "Key")],
        )
        .route(
            "/api/v1/trust/root-key",
            get(root_key),
            [Op::get(
                "The deployment root public key that signs the trust list (pin it in devices); during a root key rotation `keys` also lists the incoming key, which devices should pin too",
                Access::Public,
            )
            .returns(200, "RootKey")],
        )
        .schema(
            "Key",
            json!({
                "type": "object",
                "required": ["kid", "authority_id", "algorithm", "public_key", "status", "created_at", "valid_from"],
                "properties": {
                    "kid": {"type": "string"},
                    "authority_id": {"type": "string"},
                    "algorithm": {"type": "string", "enum": ["Ed25519"]},
                    "public_key": {"type": "string", "description": "32 bytes, base64"},
                    "status": {"type": "string", "enum": ["active", "retired", "compromised"]},
                    "created_at": {"type": "string", "format": "date-time"},
                    "valid_from": {"type": "string", "format": "date-time"},
                    "valid_until": {"type": ["string", "null"], "format": "date-time"},
                    "compromised_since": {"type": ["string", "null"], "format": "date-time"}
                }
            }),
        )
        .schema(
            "KeyList",
            json!({
                "type": "object",
                "required": ["keys"],
                "properties": {"keys": {"type": "array", "items": {"$ref": "#/components/schemas/Key"}}}
            }),
        )
        .schema(
            "Rotation",
            json!({
                "type": "object",
                "required": ["retired", "active"],
                "properties": {
                    "retired": {"$ref": "#/components/schemas/Key"},
                    "active": {"$ref": "#/components/schemas/Key"}
                }
            }),
        )
        .schema(
            "Compromise",
            json!({
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "since": {"type": ["string", "null"], "format": "date-time", "description": "First moment not to trust; defaults to now"}
                }
            }),
        )
        .schema(
            "RootKey",
            json!({
                "type": "object",
                "required": ["kid", "algorithm", "public_key", "keys"],
                "properties": {
                    "kid": {"type": "string", "description": "The active root key"},
                    "algorithm": {"type": "string", "enum": ["Ed25519"]},
                    "public_key": {"type": "string", "description": "32 bytes, base64"},
                    "keys": {"type": "array", "description": "Every root key that signs the trust list now",
                             "items": {"type": "object", "required": ["kid", "public_key", "status"], "properties": {
                                 "kid": {"type": "string"},
                                 "public_key": {"type": "string", "description": "32 bytes, base64"},
                                 "status": {"type": "string", "enum": ["active", "incoming"]}}}}
                }
            }),
        )
}

/// A key as answered: public parts only.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Key {
    /// Key id.
    pub kid: String,
    /// Owning authority.
    pub authority_id: String,
    /// Always `Ed25519`.
    pub algorithm: String,
    /// Public key, base64.
    pub public_key: String,
    /// Lifecycle state.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub valid_from: String,
    /// RFC 3339: last moment of signing validity.
    pub valid_until: Option<String>,
    /// RFC 3339: signatures from here on are rejected.
    pub compromised_since: Option<String>,
}

impl From<KeyRow> for Key {
    fn from(row: KeyRow) -> Self {
        let status = match row.state() {
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Compromised => "compromised",
        };
        Self {
            kid: row.kid,
            authority_id: row.authority_id,
            algorithm: "Ed25519".to_owned(),
            public_key: STANDARD.encode(&row.public_key),
            status: status.to_owned(),
            created_at: format_time(row.created_at),
            valid_from: format_time(row.valid_from),
            valid_until: row.valid_until.map(format_time),
            compromised_since: row.compromised_since.map(format_time),
        }
    }
}

/// Body of the key list.
#[derive(Debug, Serialize)]
pub struct KeyList {
    keys: Vec<Key>,
}

/// Body of a rotation answer.
#[derive(Debug, Serialize)]
pub struct Rotation {
    retired: Key,
    active: Key,
}

/// Body of the compromise request.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Compromise {
    since: Option<String>,
}

/// Body of the root key answer.
#[derive(Debug, Serialize)]
pub struct RootKey {
    kid: String,
    algorithm: &'static str,
    public_key: String,
    keys: Vec<RootKeyEntry>,
}

/// One root key that signs the trust list.
#[derive(Debug, Serialize)]
pub struct RootKeyEntry {
    kid: String,
    public_key: String,
    status: String,
}

/// Parses the authority in the path and checks the caller manages it.
async fn managed_authority(
    state: &AppState,
    principal: &Principal,
    authority: &str,
) -> Result<AuthorityId, ApiError> {
    let id = AuthorityId::parse(authority)?;
    principal.require(MANAGERS)?;
    principal.require_manages(&id)?;
    if state.db.authority(&id).await?.is_none() {
        return Err(ApiError::not_found("authority"));
    }
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

async fn list(
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

async fn generate(
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

async fn rotate(
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

async fn retire(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, kid)): Path<(String, String)>,
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

async fn compromise(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, kid)): Path<(String, String)>,
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

async fn root_key(State(state): State<AppState>) -> Result<Json<RootKey>, ApiError> {
    let keys: Vec<RootKeyEntry> = state
        .db
        .root_public_keys()
        .await?
        .into_iter()
        .map(|k| RootKeyEntry {
            kid: k.kid,
            public_key: STANDARD.encode(k.public_key),
            status: k.status,
        })
        .collect();
    // `root_public_keys` gives the active key first and fails without one.
    let active = keys
        .first()
        .ok_or_else(|| ApiError::internal("no active root key"))?;
    Ok(Json(RootKey {
        kid: active.kid.clone(),
        algorithm: "Ed25519",
        public_key: active.public_key.clone(),
        keys,
    }))
}
