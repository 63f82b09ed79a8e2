//! API tokens: minted by the platform admin, shown once, stored hashed.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use utoipa_axum::routes;

use super::{Access, Api};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{AuthorityId, CountryCode, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::tokens::TokenScope;
use crate::views::Token;

const ALL_ROLES: &[Role] = &[
    Role::Admin,
    Role::Issuer,
    Role::Officer,
    Role::Importer,
    Role::Customs,
];

/// Routes of this module.
pub fn api() -> Api {
    Api::new("tokens")
        .routes(Access::Roles(&[Role::Admin]), routes!(create, list))
        .routes(Access::Roles(&[Role::Admin]), routes!(revoke))
        .routes(Access::Roles(ALL_ROLES), routes!(whoami))
        .routes(
            Access::Roles(FIELD_ENROLLERS),
            routes!(create_field_token, list_field_tokens),
        )
        .routes(Access::Roles(FIELD_ENROLLERS), routes!(revoke_field_token))
}

/// Who enrols the field devices and importers of an authority's country: the platform admin
/// and the authority's administrator (a user of that authority holding the role).
const FIELD_ENROLLERS: &[Role] = &[Role::Admin, Role::AuthorityAdmin];
/// The roles an authority administrator may mint: phones of its officers and its importing
/// desk, both scoped to the authority's country.
const FIELD_ROLES: &[Role] = &[Role::Officer, Role::Importer];

/// Body of `POST /api/v1/authorities/{authority}/field-tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFieldToken {
    /// `officer` (a border phone, which then enrols its device key) or `importer`.
    #[schema(value_type = Role)]
    role: String,
    /// Who or which device holds the token.
    #[schema(min_length = 1, max_length = 200)]
    label: String,
}

/// `{authority}/field-tokens/{token_id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct FieldTokenPath {
    /// The authority's short code.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    authority: String,
    /// The token's public handle.
    token_id: String,
}

/// The country whose field tokens the caller may manage for `authority`: the platform admin
/// for any authority, an authority administrator for their own only.
async fn field_country(
    state: &AppState,
    principal: &Principal,
    authority: &str,
) -> Result<CountryCode, ApiError> {
    let id = AuthorityId::parse(authority)?;
    let own_admin = principal.user.is_some()
        && principal.authority.as_ref() == Some(&id)
        && principal.holds(Role::AuthorityAdmin);
    if principal.role != Role::Admin && !own_admin {
        return Err(ApiError::forbidden(
            "only the platform admin or this authority's administrator enrols its field tokens",
        ));
    }
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    Ok(CountryCode::parse(&row.country)?)
}

/// A stored token is a field token of `country`.
fn is_field_token_of(row: &crate::storage::tokens::TokenRow, country: &CountryCode) -> bool {
    row.country.as_deref() == Some(country.as_str())
        && FIELD_ROLES
            .iter()
            .any(|r| Role::parse(&row.role).is_ok_and(|stored| stored == *r))
}

/// Mint an officer or importer token of the authority's country (the secret is in this
/// answer only)
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/field-tokens",
    params(crate::http::params::AuthorityPath), request_body = CreateFieldToken,
    responses((status = 201, body = CreatedToken)))]
async fn create_field_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(crate::http::params::AuthorityPath { authority }): Path<
        crate::http::params::AuthorityPath,
    >,
    Json(body): Json<CreateFieldToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let country = field_country(&state, &principal, &authority).await?;
    let role = Role::parse(&body.role)?;
    if !FIELD_ROLES.contains(&role) {
        return Err(ApiError::invalid(
            "invalid_field",
            "role: officer or importer (other tokens are minted by the platform admin)",
        ));
    }
    let scope = TokenScope::new(role, None, Some(country))?;
    let label = text_field("label", &body.label, 200)?;
    let (row, minted) = state
        .db
        .create_token(&principal.token_id, &scope, &label, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: Token::from(row),
            secret: minted.secret.to_string(),
        }),
    ))
}

/// The officer and importer tokens of the authority's country (no secrets)
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/field-tokens",
    params(crate::http::params::AuthorityPath), responses((status = 200, body = TokenList)))]
async fn list_field_tokens(
    State(state): State<AppState>,
    principal: Principal,
    Path(crate::http::params::AuthorityPath { authority }): Path<
        crate::http::params::AuthorityPath,
    >,
) -> Result<Json<TokenList>, ApiError> {
    let country = field_country(&state, &principal, &authority).await?;
    let rows = state.db.list_tokens().await?;
    Ok(Json(TokenList {
        tokens: rows
            .into_iter()
            .filter(|r| is_field_token_of(r, &country))
            .map(Token::from)
            .collect(),
    }))
}

/// Revoke an officer or importer token of the authority's country
#[utoipa::path(delete, path = "/api/v1/authorities/{authority}/field-tokens/{token_id}",
    params(FieldTokenPath), responses((status = 200, body = Token)))]
async fn revoke_field_token(
    State(state): State<AppState>,
    principal: Principal,
    Path(FieldTokenPath {
        authority,
        token_id,
    }): Path<FieldTokenPath>,
) -> Result<Json<Token>, ApiError> {
    let country = field_country(&state, &principal, &authority).await?;
    // Another country's token, or one of another role, is not this authority's to see.
    let known = state
        .db
        .list_tokens()
        .await?
        .into_iter()
        .any(|r| r.id == token_id && is_field_token_of(&r, &country));
    if !known {
        return Err(ApiError::not_found("field token"));
    }
    let row = state
        .db
        .revoke_token(&principal.token_id, &token_id, state.clock.now())
        .await?;
    Ok(Json(row.into()))
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// What the token may do.
    #[schema(value_type = Role)]
    role: String,
    /// Required for issuer tokens.
    #[schema(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    authority_id: Option<String>,
    /// Required for officer, importer and customs tokens (ISO 3166-1 alpha-2).
    #[schema(value_type = Option<verifier_core::codes::Country>)]
    country: Option<String>,
    /// Who or which device holds the token.
    #[schema(min_length = 1, max_length = 200)]
    label: String,
}

/// A token just minted: the secret is in this answer only.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    #[serde(flatten)]
    token: Token,
    /// The secret; shown once.
    #[serde(rename = "token")]
    secret: String,
}

/// Body of the list answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenList {
    tokens: Vec<Token>,
}

/// Body of the whoami answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WhoAmI {
    token_id: String,
    role: Role,
    authority_id: Option<String>,
    country: Option<String>,
}

/// `{token_id}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TokenPath {
    /// The token's public handle.
    token_id: String,
}

/// Parses a token request into a scope and label.
pub fn parse_create(body: &CreateToken) -> Result<(TokenScope, String), ApiError> {
    let role = Role::parse(&body.role)?;
    let authority = body
        .authority_id
        .as_deref()
        .map(AuthorityId::parse)
        .transpose()?;
    let country = body
        .country
        .as_deref()
        .map(CountryCode::parse)
        .transpose()?;
    let scope = TokenScope::new(role, authority, country)?;
    let label = text_field("label", &body.label, 200)?;
    Ok((scope, label))
}

/// Mint a token (the secret is in this answer only)
#[utoipa::path(post, path = "/api/v1/tokens", request_body = CreateToken,
    responses((status = 201, body = CreatedToken)))]
async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    let (scope, label) = parse_create(&body)?;
    let (row, minted) = state
        .db
        .create_token(&principal.token_id, &scope, &label, state.clock.now())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            token: Token::from(row),
            secret: minted.secret.to_string(),
        }),
    ))
}

/// List tokens (no secrets)
#[utoipa::path(get, path = "/api/v1/tokens", responses((status = 200, body = TokenList)))]
async fn list(State(state): State<AppState>) -> Result<Json<TokenList>, ApiError> {
    let rows = state.db.list_tokens().await?;
    Ok(Json(TokenList {
        tokens: rows.into_iter().map(Token::from).collect(),
    }))
}

/// Revoke a token
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", params(TokenPath),
    responses((status = 200, body = Token)))]
async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(TokenPath { token_id: id }): Path<TokenPath>,
) -> Result<Json<Token>, ApiError> {
    if id == principal.token_id {
        return Err(ApiError::conflict(
            "invalid_state",
            "a token cannot revoke itself; use another admin token",
        ));
    }
    let row = state
        .db
        .revoke_token(&principal.token_id, &id, state.clock.now())
        .await?;
    Ok(Json(row.into()))
}

/// The caller's role and scope
#[utoipa::path(get, path = "/api/v1/whoami", responses((status = 200, body = WhoAmI)))]
async fn whoami(principal: Principal) -> Json<WhoAmI> {
    Json(WhoAmI {
        token_id: principal.token_id,
        role: principal.role,
        authority_id: principal.authority.map(|a| a.to_string()),
        country: principal.country.map(|c| c.to_string()),
    })
}
