//! Sync for devices: the signed trust list, status lists and deltas, and the offline bundle.
//! Public and cacheable: answers carry a strong ETag and `If-None-Match` gets 304.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::{Access, Api, Op};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::AuthorityId;
use crate::state::AppState;
use crate::sync_cache::SignedBlob;

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
        .route(
            "/api/v1/trust-list",
            get(trust_list),
            [Op::get(
                "The trust list: authorities and their keys, signed by the root key (binary, see docs/FORMAT.md)",
                Access::Public,
            )
            .returns_media(TRUST_LIST_TYPE)],
        )
        .route(
            "/api/v1/trust-list.json",
            get(trust_list_json),
            [Op::get("The current trust list as JSON, for people (not signed)", Access::Public)
                .returns(200, "TrustListView")],
        )
        .route(
            "/api/v1/authorities/{authority}/status",
            get(status_list),
            [Op::get(
                "The authority's signed status list; with `since`, the signed delta from that version",
                Access::Public,
            )
            .query(&[("since", "Version the device holds: answer with a delta from it")])
            .returns_media(STATUS_LIST_TYPE)],
        )
        .route(
            "/api/v1/bundle",
            get(bundle),
            [Op::get(
                "The offline bundle: trust list and every status list in one download",
                Access::Public,
            )
            .returns_media(BUNDLE_TYPE)],
        )
        .schema(
            "TrustListView",
            json!({
                "type": "object",
                "required": ["version", "issued_at", "authorities"],
                "properties": {
                    "version": {"type": "integer"},
                    "issued_at": {"type": "integer", "description": "Unix seconds"},
                    "authorities": {"type": "array", "items": {"type": "object"}}
                }
            }),
        )
}

fn serve_blob(blob: &SignedBlob, media: &'static str, headers: &HeaderMap) -> Response {
    let mut out_headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&blob.etag) {
        out_headers.insert(header::ETAG, v);
    }
    // Devices must revalidate (lists change on every revocation) but may keep a copy.
    out_headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&blob.version.to_string()) {
        out_headers.insert("x-permitseal-version", v);
    }
    if let Ok(v) = HeaderValue::from_str(&blob.issued_at.to_string()) {
        out_headers.insert("x-permitseal-issued-at", v);
    }
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == blob.etag || t.trim() == "*")
        });
    if matches {
        return (StatusCode::NOT_MODIFIED, out_headers).into_response();
    }
    out_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    (StatusCode::OK, out_headers, blob.bytes.clone()).into_response()
}

async fn trust_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (blob, _) = state.sync_cache.trust(state.clock.now()).await?;
    Ok(serve_blob(&blob, TRUST_LIST_TYPE, &headers))
}

async fn trust_list_json(
    State(state): State<AppState>,
) -> Result<Json<verifier_core::trust::TrustList>, ApiError> {
    let (_, list) = state.sync_cache.trust(state.clock.now()).await?;
    Ok(Json(list))
}

/// Query of the status endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    since: Option<i64>,
}

async fn status_list(
    State(state): State<AppState>,
    Path(authority): Path<String>,
    Query(query): Query<StatusQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = AuthorityId::parse(&authority)?;
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
                .delta(id.as_str(), since, state.clock.now())
                .await?;
            Ok(serve_blob(&blob, STATUS_DELTA_TYPE, &headers))
        }
        None => {
            let (blob, _) = state
                .sync_cache
                .status(id.as_str(), state.clock.now())
                .await?;
            Ok(serve_blob(&blob, STATUS_LIST_TYPE, &headers))
        }
    }
}

async fn bundle(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let blob = state.sync_cache.bundle(state.clock.now()).await?;
    Ok(serve_blob(&blob, BUNDLE_TYPE, &headers))
}
