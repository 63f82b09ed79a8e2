//! Webhook subscriptions (docs/INTEGRATION.md): a customs or issuer token subscribes a URL to
//! a permit and gets the secret its deliveries are signed with, once; it lists and deletes its
//! subscriptions (the platform admin, everyone's).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::customs::permit_by_country_number;
use super::{Access, Api, format_time};
use crate::crypto;
use crate::domain::webhooks::{check_url, secret_text};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{Principal, Role};
use crate::state::AppState;
use crate::storage::webhooks::{ListedSubscription, SubscriptionOwner, SubscriptionRow};

/// Bytes of a subscription's secret (Standard Webhooks: 24 to 64).
const SECRET_BYTES: usize = 32;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("webhooks")
        .routes(
            Access::Roles(&[Role::Customs, Role::Issuer]),
            routes!(subscribe),
        )
        .routes(Access::Roles(MANAGERS), routes!(list))
        .routes(Access::Roles(MANAGERS), routes!(unsubscribe))
}

/// Who lists and deletes subscriptions: those who make them, their own; the admin, all.
const MANAGERS: &[Role] = &[Role::Customs, Role::Issuer, Role::Admin];

/// Whose subscriptions `principal` manages.
fn owner(principal: &Principal) -> SubscriptionOwner<'_> {
    if principal.role == Role::Admin {
        SubscriptionOwner::Anyone
    } else {
        SubscriptionOwner::Token(&principal.token_id)
    }
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
    /// Where the events are POSTed: an absolute http or https URL without credentials. An
    /// https receiver's certificate must chain to a public CA or to one of the deployment's
    /// webhook CA file.
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

/// A live subscription as listed (its secret is never shown again).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ListedView {
    /// Its id.
    id: String,
    /// The token that made it.
    token_id: String,
    /// The permit's authority.
    authority_id: String,
    /// The permit number.
    number: String,
    /// Where the events go.
    url: String,
    /// When made.
    #[schema(format = DateTime)]
    created_at: String,
    /// Events delivered.
    delivered: i64,
    /// Events waiting to be delivered (in order: the oldest is retried first).
    pending: i64,
    /// Why the oldest waiting event's last attempt failed, if it did.
    last_error: Option<String>,
}

impl From<ListedSubscription> for ListedView {
    fn from(r: ListedSubscription) -> Self {
        Self {
            id: r.id,
            token_id: r.token_id,
            authority_id: r.authority_id,
            number: r.number,
            url: r.url,
            created_at: format_time(r.created_at),
            delivered: r.delivered,
            pending: r.pending,
            last_error: r.last_error,
        }
    }
}

/// The caller's subscriptions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    subscriptions: Vec<ListedView>,
}

/// `{id}` of a subscription.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct SubscriptionPath {
    /// The subscription's id (`whk_…`).
    id: String,
}

/// A subscription deleted.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Unsubscribed {
    /// Its id.
    id: String,
    /// When it was deleted.
    #[schema(format = DateTime)]
    deleted_at: String,
    /// Its events not yet delivered, now cancelled: they are never sent.
    cancelled: u64,
}

/// The caller's live webhook subscriptions (the platform admin: everyone's), oldest first
#[utoipa::path(get, path = "/api/v1/webhooks/subscriptions",
    responses((status = 200, body = SubscriptionList)))]
async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<SubscriptionList>, ApiError> {
    let rows = state.db.list_subscriptions(owner(&principal)).await?;
    Ok(Json(SubscriptionList {
        subscriptions: rows.into_iter().map(ListedView::from).collect(),
    }))
}

/// Delete a webhook subscription of the caller's (the platform admin: anyone's)
///
/// It gets no further events; those not yet delivered are cancelled and never sent (an attempt already under way may still arrive). Other subscriptions, to the same permit or not, are not affected. A subscription of another token, or one already deleted, is 404.
#[utoipa::path(delete, path = "/api/v1/webhooks/subscriptions/{id}", params(SubscriptionPath),
    responses((status = 200, body = Unsubscribed)))]
async fn unsubscribe(
    State(state): State<AppState>,
    principal: Principal,
    Path(SubscriptionPath { id }): Path<SubscriptionPath>,
) -> Result<Json<Unsubscribed>, ApiError> {
    let done = state
        .db
        .delete_subscription(
            &id,
            owner(&principal),
            &principal.token_id,
            state.clock.now(),
        )
        .await?
        .ok_or_else(|| ApiError::not_found("subscription"))?;
    Ok(Json(Unsubscribed {
        id,
        deleted_at: format_time(done.deleted_at),
        cancelled: done.cancelled,
    }))
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
