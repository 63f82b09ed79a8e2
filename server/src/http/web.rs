//! The offline verify page at `/verify`: HTML, script, style, service worker, web manifest and
//! the verifier core compiled to WebAssembly (`web-verifier/`), all served from memory.
//!
//! The page pins the root keys this server writes into it; the service worker keeps that copy,
//! so what the page trusts is what it received on its first visit (see web-verifier/README.md).
//! Every answer carries a strict content security policy: scripts and the module only from
//! this origin, no inline script, no request to any other origin.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use utoipa_axum::routes;

use super::{Access, Api};
use crate::http::error::{ApiError, Path};
use crate::state::AppState;

/// The policy on every page answer. `wasm-unsafe-eval` lets the page compile its own module;
/// `connect-src 'self'` keeps every request on this origin.
pub const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; \
    connect-src 'self'; worker-src 'self'; manifest-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// Where the page's root keys go in its HTML.
const ROOTS_SLOT: &str = "{{ROOT_KEYS}}";

const INDEX: &str = include_str!("../../assets/verify/index.html");

/// The files of the page, by the name under `/verify/`.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript",
        include_bytes!("../../assets/verify/app.js"),
    ),
    (
        "store.js",
        "text/javascript",
        include_bytes!("../../assets/verify/store.js"),
    ),
    (
        "i18n.js",
        "text/javascript",
        include_bytes!("../../assets/verify/i18n.js"),
    ),
    (
        "sw.js",
        "text/javascript",
        include_bytes!("../../assets/verify/sw.js"),
    ),
    (
        "style.css",
        "text/css",
        include_bytes!("../../assets/verify/style.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_bytes!("../../assets/verify/icon.svg"),
    ),
    // Rendered from icon.svg by `cargo run -p permitseal-web-icons` (web-verifier/icons).
    (
        "icon-192.png",
        "image/png",
        include_bytes!("../../assets/verify/icon-192.png"),
    ),
    (
        "icon-512.png",
        "image/png",
        include_bytes!("../../assets/verify/icon-512.png"),
    ),
    (
        "manifest.webmanifest",
        "application/manifest+json",
        include_bytes!("../../assets/verify/manifest.webmanifest"),
    ),
    (
        "permitseal_web.js",
        "text/javascript",
        include_bytes!("../../assets/verify/pkg/permitseal_web.js"),
    ),
    (
        "permitseal_web_bg.wasm",
        "application/wasm",
        include_bytes!("../../assets/verify/pkg/permitseal_web_bg.wasm"),
    ),
];

/// Routes of this module.
pub fn api() -> Api {
    Api::new("web")
        .routes(Access::Public, routes!(page))
        .routes(Access::Public, routes!(asset))
}

fn headers(content_type: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The service worker decides what is kept offline; browsers must ask again each time.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h
}

/// The page's root keys: every root key the server signs trust lists with (the active one and
/// an incoming one during a rotation), hex, comma-separated.
async fn root_keys(state: &AppState) -> Result<String, ApiError> {
    let keys = state.db.root_public_keys().await?;
    if keys.is_empty() {
        return Err(ApiError::internal("no active root key"));
    }
    Ok(keys
        .iter()
        .map(|k| hex::encode(k.public_key))
        .collect::<Vec<_>>()
        .join(","))
}

/// The offline verify page (HTML)
///
/// Verifies QR codes in the browser with the core compiled to WebAssembly.
#[utoipa::path(get, path = "/verify", responses((status = 200, description = "The page", content_type = "text/html; charset=utf-8", body = String)))]
async fn page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let html = INDEX.replace(ROOTS_SLOT, &root_keys(&state).await?);
    Ok((headers("text/html; charset=utf-8"), html).into_response())
}

/// `{asset}`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AssetPath {
    /// File name.
    asset: String,
}

/// A file of the verify page: script, style, service worker, manifest, icon or WebAssembly module
#[utoipa::path(get, path = "/verify/{asset}", params(AssetPath), responses((status = 200, description = "The file", content(
    (String = "text/javascript"), (String = "text/css"), (String = "image/svg+xml"), (String = "application/manifest+json"), (crate::http::openapi::Binary = "application/wasm")))))]
async fn asset(Path(AssetPath { asset: name }): Path<AssetPath>) -> Result<Response, ApiError> {
    let Some((_, content_type, bytes)) = ASSETS.iter().find(|(n, _, _)| *n == name) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such file of the verify page",
        ));
    };
    let mut h = headers(content_type);
    if name == "sw.js" {
        // The worker lives under /verify/ but serves the page at /verify itself.
        h.insert(
            HeaderName::from_static("service-worker-allowed"),
            HeaderValue::from_static("/verify"),
        );
    }
    Ok((h, *bytes).into_response())
}
