//! Management Authorities: created and listed by the platform admin.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use utoipa_axum::routes;

use super::params::AuthorityPath;
use super::{Access, Api};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{AuthorityId, CountryCode, Principal, Role, text_field};
use crate::state::AppState;
use crate::views::{Authority, paper_settings};

/// Routes of this module.
pub fn api() -> Api {
    Api::new("authorities")
        .routes(Access::Roles(&[Role::Admin]), routes!(create, list))
        .routes(Access::Roles(&[Role::Admin, Role::Issuer]), routes!(fetch))
}

/// Body of `POST /api/v1/authorities`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAuthority {
    /// Short code, 2-16 of A-Z 0-9 '-'; defaults to the country code.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$", example = "KE")]
    id: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(value_type = verifier_core::codes::Country, example = "KE")]
    country: String,
    /// Name.
    #[schema(min_length = 1, max_length = 200, example = "Kenya Wildlife Service")]
    name: String,
    /// Language of its printed documents (default en).
    #[schema(value_type = Option<verifier_core::i18n::Lang>)]
    language: Option<String>,
    /// Postal address, box 6 of its documents.
    #[schema(max_length = 300)]
    address: Option<String>,
    /// Place of issue, box 13 of its documents.
    #[schema(max_length = 100)]
    issue_place: Option<String>,
}

/// Body of the list answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorityList {
    authorities: Vec<Authority>,
}

/// Create a Management Authority
#[utoipa::path(post, path = "/api/v1/authorities", request_body = CreateAuthority,
    responses((status = 201, body = Authority)))]
async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreateAuthority>,
) -> Result<(StatusCode, Json<Authority>), ApiError> {
    let country = CountryCode::parse(&body.country)?;
    let id = AuthorityId::parse(body.id.as_deref().unwrap_or(country.as_str()))?;
    let name = text_field("name", &body.name, 200)?;
    let paper = paper_settings(
        body.language.as_deref(),
        body.address.as_deref(),
        body.issue_place.as_deref(),
    )?;
    let mut row = state
        .db
        .create_authority(&principal.token_id, &id, &country, &name, state.clock.now())
        .await?;
    if let Some(paper) = paper {
        row = state
            .db
            .set_paper_settings(&principal.token_id, &id, &paper, state.clock.now())
            .await?;
    }
    state.sync_cache.invalidate();
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// List Management Authorities
#[utoipa::path(get, path = "/api/v1/authorities", responses((status = 200, body = AuthorityList)))]
async fn list(State(state): State<AppState>) -> Result<Json<AuthorityList>, ApiError> {
    let rows = state.db.list_authorities().await?;
    Ok(Json(AuthorityList {
        authorities: rows.into_iter().map(Authority::from).collect(),
    }))
}

/// One Management Authority (admin, or an issuer of it)
#[utoipa::path(get, path = "/api/v1/authorities/{authority}", params(AuthorityPath),
    responses((status = 200, body = Authority)))]
async fn fetch(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority: id }): Path<AuthorityPath>,
) -> Result<Json<Authority>, ApiError> {
    let id = AuthorityId::parse(&id)?;
    principal.require_manages(&id)?;
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    Ok(Json(row.into()))
}
