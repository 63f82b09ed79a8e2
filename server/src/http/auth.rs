//! Authentication as an extractor: `Authorization: Bearer pst_…` → [`Principal`].
//!
//! A handler that takes `Principal` requires a valid token (401 otherwise); one that takes
//! `Option<Principal>` serves anonymous callers too but still refuses a bad token. Which roles may
//! call a route is declared with the route and enforced by its layer (`http::openapi::Access`);
//! which authority a caller may act for is checked in the handler with the helpers below, next
//! to the data it concerns.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::header;
use axum::http::request::Parts;

use crate::http::error::ApiError;
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;

/// Longest token text looked at; anything longer is not one of ours.
const MAX_TOKEN_LEN: usize = 256;

fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= MAX_TOKEN_LEN)
        .ok_or_else(|| ApiError::unauthorized("expected Authorization: Bearer <token>"))?;
    Ok(Some(token))
}

async fn resolve(parts: &Parts, state: &AppState) -> Result<Option<Principal>, ApiError> {
    let Some(token) = bearer(parts)? else {
        return Ok(None);
    };
    let found = if token.starts_with(crate::crypto::SESSION_PREFIX) {
        state
            .db
            .principal_for_session(token, state.clock.now())
            .await
    } else {
        state.db.principal_for_token(token).await
    };
    match found {
        Ok(Some(principal)) => Ok(Some(principal)),
        Ok(None) => Err(ApiError::unauthorized(
            "unknown or revoked token, or an expired session",
        )),
        Err(err) => Err(ApiError::from(err)),
    }
}

/// The caller of a route that needs a token: 401 without a valid one. A principal the route's
/// access layer already resolved is taken from the request, not looked up again.
pub async fn required(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    if let Some(principal) = parts.extensions.get::<Principal>() {
        return Ok(principal.clone());
    }
    resolve(parts, state)
        .await?
        .ok_or_else(|| ApiError::unauthorized("this endpoint needs a bearer token"))
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        required(parts, state).await
    }
}

impl OptionalFromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        resolve(parts, state).await
    }
}

impl Principal {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|r| self.holds(*r)) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(ApiError::forbidden(format!(
                "a {} token may not do this (needs {})",
                self.role,
                names.join(" or ")
            )))
        }
    }

    /// 403 unless the caller is the platform admin or an issuer of `authority`.
    pub fn require_manages(&self, authority: &AuthorityId) -> Result<(), ApiError> {
        if self.manages(authority) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token may not act for authority {authority}"
            )))
        }
    }
}
