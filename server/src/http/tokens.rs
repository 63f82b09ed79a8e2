//! API tokens: minted by the platform admin, shown once, stored hashed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Access, Api, Op, format_time};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{AuthorityId, CountryCode, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::tokens::{TokenRow, TokenScope};

const ALL_ROLES: &[Role] = &[Role::Admin, Role::Issuer, Role::Officer, Role::Importer];

/// Routes of this module.
pub fn api() -> Api {
    Api::new("tokens")
        .route(
            "/api/v1/tokens",
            get(list).post(create),
            [
                Op::post(
                    "Mint a token (the secret is in this answer only)",
                    Access::Roles(&[Role::Admin]),
                )
                .body("CreateToken")
                .returns(201, "CreatedToken"),
                Op::get("List tokens (no secrets)", Access::Roles(&[Role::Admin]))
                    .returns(200, "TokenList"),
            ],
        )
        .route(
            "/api/v1/tokens/{token_id}",
            delete(revoke),
            [Op::delete("Revoke a token", Access::Roles(&[Role::Admin])).returns(200, "Token")],
        )
        .route(
            "/api/v1/whoami",
            get(whoami),
            [Op::get("The caller's role and scope", Access::Roles(ALL_ROLES))
                .returns(200, "WhoAmI")],
        )
        .schema(
            "CreateToken",
            json!({
                "type": "object",
                "required": ["role", "label"],
                "additionalProperties": false,
                "properties": {
                    "role": {"type": "string", "enum": ["admin", "issuer", "officer", "importer"]},
                    "authority_id": {"type": "string", "description": "Required for issuer tokens"},
                    "country": {"type": "string", "description": "Required for officer and importer tokens (ISO 3166-1 alpha-2)"},
                    "label": {"type": "string", "maxLength": 200, "description": "Who or which device holds the token"}
                }
            }),
        )
        .schema("Token", token_schema(false))
        .schema("CreatedToken", token_schema(true))
        .schema(
            "TokenList",
            json!({
                "type": "object",
                "required": ["tokens"],
                "properties": {"tokens": {"type": "array", "items": {"$ref": "#/components/schemas/Token"}}}
            }),
        )
        .schema(
            "WhoAmI",
            json!({
                "type": "object",
                "required": ["token_id", "role"],
                "properties": {
                    "token_id": {"type": "string"},
                    "role": {"type": "string"},
                    "authority_id": {"type": ["string", "null"]},
                    "country": {"type": ["string", "null"]}
                }
            }),
        )
}

fn token_schema(with_secret: bool) -> serde_json::Value {
    let mut schema = json!({
        "type": "object",
        "required": ["id", "role", "label", "created_at"],
        "properties": {
            "id": {"type": "string"},
            "role": {"type": "string"},
            "authority_id": {"type": ["string", "null"]},
            "country": {"type": ["string", "null"]},
            "label": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "revoked_at": {"type": ["string", "null"], "format": "date-time"}
        }
    });
    if with_secret {
        schema["properties"]["token"] =
            json!({"type": "string", "description": "The secret; shown once"});
        schema["required"] = json!(["id", "role", "label", "created_at", "token"]);
    }
    schema
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    role: String,
    authority_id: Option<String>,
    country: Option<String>,
    label: String,
}

/// A token as answered (no secret).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Token {
    /// Public handle.
    pub id: String,
    /// Role.
    pub role: String,
    /// Issuer's authority.
    pub authority_id: Option<String>,
    /// Officer's or importer's country.
    pub country: Option<String>,
    /// Label.
    pub label: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339, if revoked.
    pub revoked_at: Option<String>,
}

impl From<TokenRow> for Token {
    fn from(row: TokenRow) -> Self {
        Self {
            id: row.id,
            role: row.role,
            authority_id: row.authority_id,
            country: row.country,
            label: row.label,
            created_at: format_time(row.created_at),
            revoked_at: row.revoked_at.map(format_time),
        }
    }
}

/// Body of the list answer.
#[derive(Debug, Serialize)]
pub struct TokenList {
    tokens: Vec<Token>,
}

/// Body of the whoami answer.
#[derive(Debug, Serialize)]
pub struct WhoAmI {
    token_id: String,
    role: Role,
    authority_id: Option<String>,
    country: Option<String>,
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

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreateToken>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    principal.require(&[Role::Admin])?;
    let (scope, label) = parse_create(&body)?;
    let (row, minted) = state
        .db
        .create_token(&principal.token_id, &scope, &label, state.clock.now())
        .await?;
    let mut answer = serde_json::to_value(Token::from(row)).map_err(ApiError::internal)?;
    answer["token"] = serde_json::Value::String(minted.secret.to_string());
    Ok((StatusCode::CREATED, axum::Json(answer)))
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<TokenList>, ApiError> {
    principal.require(&[Role::Admin])?;
    let rows = state.db.list_tokens().await?;
    Ok(Json(TokenList {
        tokens: rows.into_iter().map(Token::from).collect(),
    }))
}

async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<Token>, ApiError> {
    principal.require(&[Role::Admin])?;
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

async fn whoami(principal: Principal) -> Json<WhoAmI> {
    Json(WhoAmI {
        token_id: principal.token_id,
        role: principal.role,
        authority_id: principal.authority.map(|a| a.to_string()),
        country: principal.country.map(|c| c.to_string()),
    })
}
