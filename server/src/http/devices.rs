//! Device keys: an officer's device binds the ECDSA P-256 public key it generated in its key
//! store to its device token (docs/FORMAT.md §10.4); from then on every scan report and
//! endorsement it uploads must carry its signature (checked in `field_reports.rs`).
//!
//! The device enrols itself, with the token the admin minted for it: the key is generated on
//! the phone and never leaves it, so the phone is the one place that can send the public key,
//! and an authority provisioning a box of phones mints tokens as before and needs no second
//! step per phone. The first binding wins; a token's binding is cleared only by the admin
//! (a phone reset or replaced), after which the device enrols a new key.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;
use verifier_core::device::{
    DeviceKeyId, PUBLIC_KEY_LEN, SIGNATURE_LEN, enrolment_message, public_key_shape,
};

use super::{Access, Api, format_time};
use crate::crypto::verify_device_signature;
use crate::http::error::{ApiError, Json, Path};
use crate::model::{Principal, Role};
use crate::state::AppState;
use crate::storage::devices::{Binding, DeviceKeyRow};

/// Routes of this module.
pub fn api() -> Api {
    Api::new("devices")
        .routes(Access::Roles(&[Role::Officer]), routes!(enrol))
        .routes(Access::Roles(&[Role::Admin]), routes!(clear))
}

/// Body of `POST /api/v1/devices/key`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = DeviceEnrolment)]
pub struct EnrolmentDto {
    /// SEC1 uncompressed P-256 public key, 65 bytes in lower-case hex.
    #[schema(pattern = "^04[0-9a-f]{128}$")]
    public_key: String,
    /// Signature r || s (low s) over "permitseal/v1/device-enrolment" || 0x00 || public key
    /// (FORMAT.md §10.4), lower-case hex.
    #[schema(pattern = "^[0-9a-f]{128}$")]
    proof: String,
}

/// The signature algorithm of device keys.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub enum DeviceKeyAlgorithm {
    /// ECDSA over P-256 with SHA-256.
    #[serde(rename = "ecdsa-p256-sha256")]
    EcdsaP256Sha256,
}

/// A device key bound to a token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceKey {
    token_id: String,
    /// 32 hex digits (FORMAT.md §10.1).
    device_key_id: String,
    algorithm: DeviceKeyAlgorithm,
    #[schema(format = DateTime)]
    bound_at: String,
}

/// A cleared binding.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeviceKeyCleared {
    token_id: String,
    /// The key id removed; null when the token had none.
    cleared: Option<String>,
}

/// `{token_id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct DeviceTokenPath {
    /// The device token's public handle.
    token_id: String,
}

fn view(row: &DeviceKeyRow) -> DeviceKey {
    DeviceKey {
        token_id: row.token_id.clone(),
        device_key_id: row.key_id.clone(),
        algorithm: DeviceKeyAlgorithm::EcdsaP256Sha256,
        bound_at: format_time(row.bound_at),
    }
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let v = hex::decode(s).ok()?;
    if s.bytes().any(|c| c.is_ascii_uppercase()) {
        return None;
    }
    v.try_into().ok()
}

/// Bind the calling device's ECDSA P-256 public key to its token
///
/// With proof of possession. The first binding wins; repeating it with the same key answers 200.
#[utoipa::path(post, path = "/api/v1/devices/key", request_body = EnrolmentDto,
    responses((status = 201, body = DeviceKey), (status = 200, body = DeviceKey)))]
async fn enrol(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<EnrolmentDto>,
) -> Result<(StatusCode, Json<DeviceKey>), ApiError> {
    let public_key = unhex::<PUBLIC_KEY_LEN>(&body.public_key)
        .and_then(|k| public_key_shape(&k))
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_public_key",
                "public_key must be a SEC1 uncompressed P-256 key: 65 bytes, 04 || x || y, in lower-case hex",
            )
        })?;
    let proof = unhex::<SIGNATURE_LEN>(&body.proof).ok_or_else(|| {
        ApiError::invalid(
            "invalid_signature",
            "proof must be a signature r || s: 64 bytes in lower-case hex",
        )
    })?;
    // Also refuses a point off the curve and a high s.
    if !verify_device_signature(&public_key, &enrolment_message(&public_key), &proof) {
        return Err(ApiError::invalid(
            "bad_device_signature",
            "proof does not verify: it must be the device key's ECDSA P-256 signature over the enrolment message (FORMAT.md §10.4)",
        ));
    }
    let key_id = DeviceKeyId::of(&public_key).to_string();
    match state
        .db
        .bind_device_key(&principal.token_id, &key_id, &public_key, state.clock.now())
        .await?
    {
        Binding::Bound { row, new } => {
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(view(&row))))
        }
        Binding::TokenHasAnotherKey => Err(ApiError::conflict(
            "device_key_bound",
            "this device token already has another key; the admin must clear it before a new key is enrolled",
        )),
        Binding::KeyBelongsToAnotherToken => Err(ApiError::conflict(
            "device_key_in_use",
            "this key is bound to another device token; generate a new key for this one",
        )),
    }
}

/// Clear a device token's key binding so the device can enrol a new key
///
/// Reports already accepted keep their signatures.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}/device-key", params(DeviceTokenPath),
    responses((status = 200, body = DeviceKeyCleared)))]
async fn clear(
    State(state): State<AppState>,
    principal: Principal,
    Path(DeviceTokenPath { token_id }): Path<DeviceTokenPath>,
) -> Result<Json<DeviceKeyCleared>, ApiError> {
    let removed = state
        .db
        .clear_device_key(&principal.token_id, &token_id, state.clock.now())
        .await?;
    Ok(Json(DeviceKeyCleared {
        token_id,
        cleared: removed.map(|r| r.key_id),
    }))
}
