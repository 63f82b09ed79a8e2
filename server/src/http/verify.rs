//! Online verification: the offline core's verdict over the server's current trust and status
//! data, the server's own record of the permit, and (for the issuing authority, the importing
//! country and the platform admin) its usage history.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::routes;
use verifier_core::verify::{Checkpoint, Policy};

use super::{Access, Api, format_time};
use crate::http::error::{ApiError, Json};
use crate::model::{Principal, Role};
use crate::state::AppState;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("verify").routes(Access::PublicOrToken, routes!(verify))
}

/// What to verify.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The scanned text, `PS1:…`.
    qr: String,
    /// Where it is checked (default export).
    #[schema(value_type = Option<CheckpointName>)]
    checkpoint: Option<String>,
}

/// The checkpoints a verification may be made at.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)] // Describes the request's text in the document; never built.
pub enum CheckpointName {
    /// At export.
    Export,
    /// At import.
    Import,
}

/// The answer of a verification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResult {
    /// The core's Verification: verdict, reasons (stable codes), permit data, issuer, status
    /// seen.
    #[schema(value_type = Object)]
    verification: serde_json::Value,
    /// The server's record: state, time of change, and the reason of the change for the
    /// issuer, the importing country and the admin (null for others); null for a code it did
    /// not issue.
    #[schema(value_type = Option<Object>)]
    server: serde_json::Value,
    /// Scans and endorsements; only for authorised callers.
    #[schema(value_type = Option<Object>)]
    usage: serde_json::Value,
}

/// Verify QR text
///
/// The phone's verdict computed with the server's current data, the server's status of the permit, and usage history for the issuer, the importing country and the admin.
#[utoipa::path(post, path = "/api/v1/verify", request_body = VerifyRequest, responses((status = 200, body = VerifyResult)))]
async fn verify(
    State(state): State<AppState>,
    principal: Option<Principal>,
    Json(body): Json<VerifyRequest>,
) -> Result<Json<VerifyResult>, ApiError> {
    let checkpoint = parse_checkpoint(body.checkpoint.as_deref())?;
    verify_text(&state, principal.as_ref(), &body.qr, checkpoint)
        .await
        .map(Json)
}

/// The checkpoint named in a request (default export).
pub(crate) fn parse_checkpoint(name: Option<&str>) -> Result<Checkpoint, ApiError> {
    match name {
        None | Some("export") => Ok(Checkpoint::Export),
        Some("import") => Ok(Checkpoint::Import),
        Some(_) => Err(ApiError::invalid(
            "invalid_field",
            "checkpoint must be export or import",
        )),
    }
}

/// The verification of scanned `text` at `checkpoint` as the public endpoint answers it: the
/// core's verdict over the server's current data, the server's record, and the usage history
/// for the parties to the permit (the customs lookup answers the same).
pub(crate) async fn verify_text(
    state: &AppState,
    principal: Option<&Principal>,
    text: &str,
    checkpoint: Checkpoint,
) -> Result<VerifyResult, ApiError> {
    // The core's reading of the text (FORMAT.md §3.1): surrounding white space is not part
    // of it, and past the length limit it is MALFORMED, as on the phone and the desk CLI.
    let qr = verifier_core::payload::scanned_text(text);
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
                let allowed = principal.is_some_and(|p| match p.role {
                    Role::Admin => true,
                    Role::Issuer => {
                        p.authority.as_ref().map(|a| a.as_str()) == Some(authority.as_str())
                    }
                    Role::Importer => {
                        p.country.as_ref().map(|c| c.as_str()) == row.import_country.as_deref()
                    }
                    // A user of the issuing authority's staff sees what its issuers see.
                    Role::Clerk
                    | Role::ScientificAuthority
                    | Role::Signatory
                    | Role::AuthorityAdmin => {
                        p.authority.as_ref().map(|a| a.as_str()) == Some(authority.as_str())
                    }
                    // Customs of the country the permit leaves or enters.
                    Role::Customs => p.country.as_ref().is_some_and(|c| {
                        c.as_str() == row.export_country
                            || Some(c.as_str()) == row.import_country.as_deref()
                    }),
                    Role::Officer | Role::Applicant => false,
                });
                if allowed {
                    usage = serde_json::to_value(state.db.usage(&authority, index).await?)
                        .map_err(ApiError::internal)?;
                }
                // The reason of a state change is the issuer's note (a suspension's grounds,
                // the endorsement that used the permit): for the parties to the permit only.
                server = json!({
                    "authority_id": row.authority_id,
                    "number": row.number,
                    "status_index": row.status_index,
                    "state": row.state,
                    "state_reason": if allowed { row.state_reason } else { None },
                    "state_changed_at": format_time(row.state_changed_at),
                    "import_country": row.import_country,
                });
            }
        }
    }
    Ok(VerifyResult {
        verification: serde_json::to_value(verification).map_err(ApiError::internal)?,
        server,
        usage,
    })
}
