//! Webhook subscriptions (docs/INTEGRATION.md): a customs or issuer token subscribes a URL to
//! a permit and gets the secret its deliveries are signed with, once.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::customs::permit_by_country_number;
use super::{Access, Api, format_time};
use crate::crypto;
use crate::domain::webhooks::{check_url, secret_text};
use crate::http::error::{ApiError, Json};
use crate::model::{Principal, Role};
use crate::state::AppState;
use crate::storage::webhooks::SubscriptionRow;

/// Bytes of a subscription's secret (Standard Webhooks: 24 to 64).
const SECRET_BYTES: usize = 32;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("webhooks").routes(
        Access::Roles(&[Role::Customs, Role::Issuer]),
        routes!(subscribe),
    )
}

/// Body of a subscription.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Subscribe {
    /// The permit's issuing country.
    #[schema(value_type = verifier_core::codes::Country)]
    issuing_country: String,
    /// The permit number (box 1).
    #[schema(min_length = 1, max_length = 100)]
    number: String,
    /// Where the events are POSTed: an absolute http URL without credentials (https is
    /// refused: TLS to receivers is the deployment's egress proxy's).
    #[schema(max_length = 2000)]
    url: String,
}

/// A subscription just made: the secret is in this answer only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    /// Its id.
    id: String,
    /// The permit's authority.
    authority_id: String,
    /// The permit number.
    number: String,
    /// Where the events go.
    url: String,
    /// When made.
    #[schema(format = DateTime)]
    created_at: String,
    /// `whsec_` and the base64 of the signing secret; shown once.
    secret: String,
}

/// Subscribe a URL to a permit's events (the signing secret is in this answer only)
///
/// Events: permit.suspended, permit.reinstated, permit.revoked, permit.endorsed, permit.used, permit.confirmed, signed per Standard Webhooks. Customs may subscribe to permits exported from or bound for its country, an issuer to its authority's.
#[utoipa::path(post, path = "/api/v1/webhooks/subscriptions", request_body = Subscribe,
    responses((status = 201, body = Subscription)))]
async fn subscribe(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<Subscribe>,
) -> Result<(StatusCode, Json<Subscription>), ApiError> {
    let url = check_url(&body.url).map_err(|e| ApiError::invalid("invalid_url", e.to_string()))?;
    let permit = permit_by_country_number(&state, &body.issuing_country, &body.number).await?;
    let allowed = match principal.role {
        Role::Customs => principal.country.as_ref().is_some_and(|c| {
            c.as_str() == permit.export_country
                || Some(c.as_str()) == permit.import_country.as_deref()
        }),
        _ => principal.authority.as_ref().map(|a| a.as_str()) == Some(&permit.authority_id),
    };
    if !allowed {
        return Err(ApiError::forbidden(
            "this token may subscribe only to permits of its authority, or exported from or \
             bound for its country",
        ));
    }
    let mut secret = zeroize::Zeroizing::new([0u8; SECRET_BYTES]);
    crypto::random_bytes(secret.as_mut()).map_err(ApiError::internal)?;
    let row = SubscriptionRow {
        id: crypto::random_id("whk").map_err(ApiError::internal)?,
        token_id: principal.token_id.clone(),
        authority_id: permit.authority_id,
        status_index: permit.status_index,
        url,
        created_at: state.clock.now(),
    };
    let sealed = state
        .master
        .seal(&row.id, secret.as_ref())
        .map_err(ApiError::internal)?;
    state.db.create_subscription(&row, &sealed).await?;
    Ok((
        StatusCode::CREATED,
        Json(Subscription {
            id: row.id,
            authority_id: row.authority_id,
            number: permit.number,
            url: row.url,
            created_at: format_time(row.created_at),
            secret: secret_text(secret.as_ref()),
        }),
    ))
}
