//! The HTTP API. Each `http/<resource>.rs` owns its routes, DTOs, handlers and the OpenAPI
//! description of its operations; this module assembles them and adds the service layers.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::http::error::ApiError;
use crate::model::InvalidValue;
use crate::state::AppState;

pub mod annual_report;
pub mod auth;
pub mod authorities;
pub mod error;
pub mod field_reports;
pub mod health;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod permits;
pub mod sync;
pub mod taxa;
pub mod tokens;
pub mod verify;

pub use openapi::{Access, Api, Op};

/// Largest request body accepted by default (bigger bodies get 413).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Requests taking longer than this are answered with 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Every resource's routes and documentation, merged.
pub fn api() -> Api {
    Api::new("service")
        .merge(health::api())
        .merge(authorities::api())
        .merge(tokens::api())
        .merge(keys::api())
        .merge(permits::api())
        .merge(sync::api())
        .merge(taxa::api())
        .merge(field_reports::api())
        .merge(annual_report::api())
        .merge(verify::api())
        .merge(openapi::api())
}

/// The complete application: routes, fallbacks and service layers.
pub fn app(state: AppState) -> Router {
    let router = api()
        .into_router()
        .fallback(fallback)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        .layer(
            // One line per request at DEBUG (RUST_LOG=tower_http=debug): at the default INFO
            // filter the callsites are disabled and cost next to nothing on the sync GETs that
            // phones hammer. Failures are logged where they happen, with their cause.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
                .on_response(DefaultOnResponse::new().level(Level::DEBUG)),
        )
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::map_response(
            crate::http::error::json_errors,
        ));
    router.with_state(state)
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

/// Formats unix seconds as RFC 3339 (UTC).
pub fn format_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Parses an RFC 3339 time to unix seconds.
pub fn parse_time(field: &'static str, text: &str) -> Result<i64, InvalidValue> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            InvalidValue::new(
                "invalid_time",
                format!("{field} must be an RFC 3339 time such as 2026-01-31T12:00:00Z"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_time("t", "2026-01-31T12:00:00Z").unwrap(),
            1_769_860_800
        );
        assert_eq!(
            parse_time("t", "2026-01-31T14:00:00+02:00").unwrap(),
            1_769_860_800
        );
        assert!(parse_time("t", "yesterday").is_err());
    }
}
