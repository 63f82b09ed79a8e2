//! The HTTP API. Each `http/<resource>.rs` owns its routes, handlers and their `#[utoipa::path]`
//! descriptions, and declares who may call each route (`Access`); this module assembles them and
//! adds the service layers. The OpenAPI document is derived from the same routes
//! (`http::openapi`).

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;
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
pub mod error;
pub mod field_reports;
pub mod health;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod params;
pub mod permits;
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
pub fn app(state: AppState) -> Router {
    let router = api()
        .into_router(&state)
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
        .layer(axum::middleware::from_fn(refuse_control_characters))
        .layer(axum::middleware::map_response(
            crate::http::error::json_errors,
        ));
    security_headers(router).with_state(state)
}

/// Refuses a path and query longer than [`MAX_URI_BYTES`] (414), and a request whose path or
/// query, percent-decoded, holds a control character (a NUL, say): no identifier, code or parameter of the API has one, and PostgreSQL cannot even
/// store a NUL, so it is refused here, before any handler, with the same answer on both
/// databases.
async fn refuse_control_characters(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let uri = request.uri();
    let length = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    if length > MAX_URI_BYTES {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the path and query are longer than {MAX_URI_BYTES} bytes"),
        )
        .into_response();
    }
    let decoded = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .collect::<Vec<u8>>()
            .into_iter()
            // `+` is a space in a query; control bytes are the same in any decoding.
            .any(|b| b < 0x20 || b == 0x7f)
    };
    if decoded(uri.path()) || uri.query().is_some_and(decoded) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "control_character",
            "the path or query contains a control character",
        )
        .into_response();
    }
    next.run(request).await
}

/// The content security policy of every answer that does not set its own (the verify page
/// does): JSON, CSV and PDF run nothing and may not be framed.
const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers on every answer, errors included. A handler's own value wins (`if_not_present`): the
/// verify page has its own policy, and the public sync lists are `no-cache` with an ETag.
/// Everything else defaults to `no-store`: answers carry permits, tokens and alerts, which no
/// shared cache or browser history may keep.
fn security_headers(router: Router<AppState>) -> Router<AppState> {
    let fixed = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    router
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::CONTENT_SECURITY_POLICY, API_CSP))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(header::CACHE_CONTROL, "no-store"))
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
