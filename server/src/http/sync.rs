//! Sync for devices: the signed trust list, status lists and deltas, and the offline bundle.
//! Public and cacheable: answers carry a strong ETag and `If-None-Match` gets 304.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::routes;

use super::params::AuthorityPath;
use super::{Access, Api};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::AuthorityId;
use crate::state::AppState;
use crate::sync_cache::{BundleContainer, SignedBlob, StatusFormat};

/// Media type of the signed trust list.
pub const TRUST_LIST_TYPE: &str = "application/vnd.permitseal.trust-list";
/// Media type of a signed status list.
pub const STATUS_LIST_TYPE: &str = "application/vnd.permitseal.status-list";
/// Media type of a signed status delta.
pub const STATUS_DELTA_TYPE: &str = "application/vnd.permitseal.status-delta";
/// Media type of the offline bundle.
pub const BUNDLE_TYPE: &str = "application/vnd.permitseal.bundle";

/// Routes of this module.
pub fn api() -> Api {
    Api::new("sync")
        .routes(Access::Public, routes!(trust_list))
        .routes(Access::Public, routes!(trust_list_json))
        .routes(Access::Public, routes!(status_list))
        .routes(Access::Public, routes!(bundle))
}

const VERSION_HEADER: HeaderName = HeaderName::from_static("x-permitseal-version");
const ISSUED_AT_HEADER: HeaderName = HeaderName::from_static("x-permitseal-issued-at");

fn serve_blob(blob: &SignedBlob, media: &'static str, headers: &HeaderMap) -> Response {
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == blob.etag || t.trim() == "*")
        });
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = blob.bytes.clone().into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
        response
    };
    let out_headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&blob.etag) {
        out_headers.insert(header::ETAG, v);
    }
    // Devices must revalidate (lists change on every revocation) but may keep a copy.
    out_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out_headers.insert(VERSION_HEADER, HeaderValue::from(blob.version));
    out_headers.insert(ISSUED_AT_HEADER, HeaderValue::from(blob.issued_at));
    response
}

/// The trust list: authorities and their keys, signed by the root key (binary, see docs/FORMAT.md)
#[utoipa::path(get, path = "/api/v1/trust-list", responses(
    (status = 200, description = "The signed trust list", content_type = "application/vnd.permitseal.trust-list", body = crate::http::openapi::Binary, headers(("etag" = String), ("x-permitseal-version" = i64))),
    (status = 304, description = "The copy named by If-None-Match is current")))]
async fn trust_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (blob, _) = state.sync_cache.trust(state.clock.now()).await?;
    Ok(serve_blob(&blob, TRUST_LIST_TYPE, &headers))
}

/// The current trust list as JSON, for people (not signed)
#[utoipa::path(get, path = "/api/v1/trust-list.json", responses((status = 200, description = "The trust list", body = Object)))]
async fn trust_list_json(
    State(state): State<AppState>,
) -> Result<Json<verifier_core::trust::TrustList>, ApiError> {
    let (_, list) = state.sync_cache.trust(state.clock.now()).await?;
    Ok(Json(list))
}

/// Query of the status endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// Version the device holds: answer with the signed delta from it.
    #[param(minimum = 0)]
    since: Option<i64>,
    /// Highest status format the reader knows (FORMAT.md §5): 1 (the default) or 2. A reader
    /// of format 1 is told a permit cancelled on import as used.
    #[param(minimum = 1, maximum = 2)]
    format: Option<i64>,
}

/// Query of the bundle endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BundleQuery {
    /// Highest status format the reader knows, as for the status endpoint.
    #[param(minimum = 1, maximum = 2)]
    format: Option<i64>,
    /// Highest bundle container the reader knows (FORMAT.md §6): 1 (the default, `PSB1`) or
    /// 2 (`PSB2`: with the transparency log's signed tree head).
    #[param(minimum = 1, maximum = 2)]
    container: Option<i64>,
}

fn status_format(format: Option<i64>) -> Result<StatusFormat, ApiError> {
    match format {
        None | Some(1) => Ok(StatusFormat::V1),
        Some(2) => Ok(StatusFormat::V2),
        Some(_) => Err(ApiError::bad_request(
            "invalid_query",
            "format must be 1 or 2",
        )),
    }
}

/// The authority's signed status list; with `since`, the signed delta from that version
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/status", params(AuthorityPath, StatusQuery), responses(
    (status = 200, description = "The signed status list, or with `since` the signed delta", content((crate::http::openapi::Binary = "application/vnd.permitseal.status-list"), (crate::http::openapi::Binary = "application/vnd.permitseal.status-delta")), headers(("etag" = String), ("x-permitseal-version" = i64))),
    (status = 304, description = "The copy named by If-None-Match is current"),
    (status = 400, description = "`since` is negative or `format` is neither 1 nor 2 (`invalid_query`)", body = crate::http::error::ErrorBody),
    (status = 422, description = "`since` is ahead of the list's current version (`version_ahead`): the device holds a list from another server; fetch the whole list", body = crate::http::error::ErrorBody)))]
async fn status_list(
    State(state): State<AppState>,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Query(query): Query<StatusQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = AuthorityId::parse(&authority)?;
    let format = status_format(query.format)?;
    // Authorities with an active key are in the (briefly cached) version stamps; only others
    // need a database look-up to tell "no such authority" from "no key to sign with".
    let known = state
        .sync_cache
        .versions()
        .await?
        .authorities
        .iter()
        .any(|a| a.0 == id.as_str());
    if !known && state.db.authority(&id).await?.is_none() {
        return Err(ApiError::not_found("authority"));
    }
    match query.since {
        Some(since) if since < 0 => Err(ApiError::bad_request(
            "invalid_query",
            "since must not be negative",
        )),
        Some(since) => {
            let blob = state
                .sync_cache
                .delta(id.as_str(), since, format, state.clock.now())
                .await?;
            Ok(serve_blob(&blob, STATUS_DELTA_TYPE, &headers))
        }
        None => {
            let entry = state
                .sync_cache
                .status(id.as_str(), state.clock.now())
                .await?;
            Ok(serve_blob(entry.blob(format), STATUS_LIST_TYPE, &headers))
        }
    }
}

/// The offline bundle: trust list and every status list in one download
#[utoipa::path(get, path = "/api/v1/bundle", params(BundleQuery), responses(
    (status = 200, description = "The bundle", content_type = "application/vnd.permitseal.bundle", body = crate::http::openapi::Binary, headers(("etag" = String))),
    (status = 304, description = "The copy named by If-None-Match is current"),
    (status = 400, description = "`format` or `container` is neither 1 nor 2 (`invalid_query`)", body = crate::http::error::ErrorBody)))]
async fn bundle(
    State(state): State<AppState>,
    Query(query): Query<BundleQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = status_format(query.format)?;
    let container = match query.container {
        None | Some(1) => BundleContainer::V1,
        Some(2) => BundleContainer::V2,
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                "container must be 1 or 2",
            ));
        }
    };
    let blob = state
        .sync_cache
        .bundle(format, container, state.clock.now())
        .await?;
    Ok(serve_blob(&blob, BUNDLE_TYPE, &headers))
}
