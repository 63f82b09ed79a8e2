//! Online verification: the offline core's verdict over the server's current trust and status
//! data, the server's own record of the permit, and (for the issuing authority, the importing
//! country and the platform admin) its usage history.

use axum::extract::State;
use axum::routing::post;
use serde::Deserialize;
use serde_json::json;
use verifier_core::verify::{Checkpoint, Policy};

use super::{Access, Api, Op, format_time};
use crate::http::error::{ApiError, Json};
use crate::model::{Principal, Role};
use crate::state::AppState;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("verify")
        .route(
            "/api/v1/verify",
            post(verify),
            [Op::post(
                "Verify QR text: the phone's verdict computed with the server's current data, the server's status of the permit, and usage history for the issuer, the importing country and the admin",
                Access::PublicOrToken,
            )
            .body("VerifyRequest")
            .returns(200, "VerifyResult")],
        )
        .schema(
            "VerifyRequest",
            json!({
                "type": "object",
                "required": ["qr"],
                "additionalProperties": false,
                "properties": {
                    "qr": {"type": "string", "description": "The scanned text, PS1:…"},
                    "checkpoint": {"type": ["string", "null"], "enum": ["export", "import", null], "default": "export"}
                }
            }),
        )
        .schema(
            "VerifyResult",
            json!({
                "type": "object",
                "required": ["verification"],
                "properties": {
                    "verification": {"type": "object", "description": "The core's Verification: verdict, reasons (stable codes), permit data, issuer, status seen"},
                    "server": {"type": ["object", "null"], "description": "The server's record: state, reason, time of change; null for a code it did not issue"},
                    "usage": {"type": ["object", "null"], "description": "Scans, export endorsements and import confirmations, each with its place or port; only for authorised callers"}
                }
            }),
        )
}

/// Body of a verification.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    qr: String,
    checkpoint: Option<String>,
}

async fn verify(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Json(body): Json<VerifyRequest>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    // The core's reading of the text (FORMAT.md §3.1): surrounding white space is not part
    // of it, and past the length limit it is MALFORMED, as on the phone and the desk CLI.
    let qr = verifier_core::payload::scanned_text(&body.qr);
    let checkpoint = match body.checkpoint.as_deref() {
        None | Some("export") => Checkpoint::Export,
        Some("import") => Checkpoint::Import,
        Some(_) => {
            return Err(ApiError::invalid(
                "invalid_field",
                "checkpoint must be export or import",
            ));
        }
    };
    let t = state.clock.now();
    let (trust, statuses) = state.sync_cache.verification_data(t).await?;
    let policy = Policy {
        checkpoint,
        ..Policy::default()
    };
    let verification = verifier_core::verify_with(qr, t, &trust, &statuses, &policy, None);

    // The server's own record: only for a text it issued, byte for byte.
    let mut server = serde_json::Value::Null;
    let mut usage = serde_json::Value::Null;
    if let Ok(env) = verifier_core::payload::decode(qr) {
        let kid = env.key_id.to_string();
        if let Some(authority) = state.db.authority_of_key(&kid).await? {
            let index = i64::from(env.data.status_index);
            if let Some(row) = state.db.permit_by_index(&authority, index).await?
                && row.qr_text == qr
            {
                let allowed = principal.as_ref().is_some_and(|p| match p.role {
                    Role::Admin => true,
                    Role::Issuer => {
                        p.authority.as_ref().map(|a| a.as_str()) == Some(authority.as_str())
                    }
                    Role::Importer => {
                        p.country.as_ref().map(|c| c.as_str()) == row.import_country.as_deref()
                    }
                    Role::Officer => false,
                });
                if allowed {
                    usage = serde_json::to_value(state.db.usage(&authority, index).await?)
                        .map_err(ApiError::internal)?;
                }
                server = json!({
                    "authority_id": row.authority_id,
                    "number": row.number,
                    "status_index": row.status_index,
                    "state": row.state,
                    "state_reason": row.state_reason,
                    "state_changed_at": format_time(row.state_changed_at),
                    "import_country": row.import_country,
                });
            }
        }
    }
    Ok(axum::Json(json!({
        "verification": verification,
        "server": server,
        "usage": usage,
    })))
}
