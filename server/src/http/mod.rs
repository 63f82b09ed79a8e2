//! The HTTP API. Each `http/<resource>.rs` owns its routes, handlers and their `#[utoipa::path]`
//! descriptions, and declares who may call each route (`Access`); this module assembles them and
//! adds the service layers. The OpenAPI document is derived from the same routes
//! (`http::openapi`).

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower::ServiceBuilder;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::http::error::ApiError;
use crate::state::AppState;

/// Times on the wire are RFC 3339 UTC, written by the workspace's one formatter.
pub use crate::clock::{format_time, parse_time};

pub mod annual_report;
pub mod applications;
pub mod auth;
pub mod authorities;
pub mod customs;
pub mod devices;
pub mod documents;
pub mod edge;
pub mod error;
pub mod exchange;
pub mod field_reports;
pub mod health;
pub mod keys;
pub mod openapi;
pub mod params;
pub mod permits;
pub mod portal;
pub mod session;
pub mod sync;
pub mod taxa;
pub mod tokens;
pub mod trail;
pub mod verify;
pub mod web;
pub mod webhooks;

pub use openapi::{Access, Api};

/// Largest request body accepted by default (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Longest path and query accepted; longer ones get a JSON 414. No route needs more than a
/// few hundred bytes. (Beyond 64 KiB the HTTP parser itself answers 414 before any of this code
/// runs; `parse_errors` puts the same JSON error into that answer.)
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// Requests taking longer than this are answered with 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every resource's routes and documentation, merged.
pub fn api() -> Api {
    Api::new("service")
        .merge(health::api())
        .merge(authorities::api())
        .merge(tokens::api())
        .merge(devices::api())
        .merge(keys::api())
        .merge(permits::api())
        .merge(session::api())
        .merge(applications::api())
        .merge(documents::api())
        .merge(exchange::api())
        .merge(sync::api())
        .merge(taxa::api())
        .merge(field_reports::api())
        .merge(annual_report::api())
        .merge(trail::api())
        .merge(verify::api())
        .merge(customs::api())
        .merge(webhooks::api())
        .merge(web::api())
        .merge(openapi::api())
}

/// The complete application: routes, fallbacks and service layers.
///
/// The layers are one stack applied once: axum boxes a route again for each `Router::layer`, and
/// each box costs an allocation and a clone of the service below it on every request.
pub fn app(state: AppState) -> Router {
    let layers = ServiceBuilder::new()
        .layer(edge::EdgeLayer::new(state.metrics.clone()))
        .layer(
            // One line per request at DEBUG (RUST_LOG=tower_http=debug): at the default INFO
            // filter the callsites are disabled and cost next to nothing on the sync GETs that
            // phones hammer. Failures are logged where they happen, with their cause.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    api()
        .into_router(&state)
        .merge(portal::router())
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(layers)
        .with_state(state)
}

async fn fallback() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this path",
    )
}
