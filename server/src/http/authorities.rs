//! Management Authorities: created and listed by the platform admin.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Access, Api, Op, format_time};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{AuthorityId, CountryCode, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::authorities::AuthorityRow;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("authorities")
        .route(
            "/api/v1/authorities",
            get(list).post(create),
            [
                Op::post("Create a Management Authority", Access::Roles(&[Role::Admin]))
                    .body("CreateAuthority")
                    .returns(201, "Authority"),
                Op::get("List Management Authorities", Access::Roles(&[Role::Admin]))
                    .returns(200, "AuthorityList"),
            ],
        )
        .route(
            "/api/v1/authorities/{authority}",
            get(fetch),
            [Op::get(
                "One Management Authority (admin, or an issuer of it)",
                Access::Roles(&[Role::Admin, Role::Issuer]),
            )
            .returns(200, "Authority")],
        )
        .schema(
            "CreateAuthority",
            json!({
                "type": "object",
                "required": ["country", "name"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]{1,15}$", "description": "Short code, 2-16 of A-Z 0-9 '-'; defaults to the country code.", "example": "KE"},
                    "country": {"type": "string", "enum": verifier_core::codes::Country::ALL_CODES, "description": "ISO 3166-1 alpha-2", "example": "KE"},
                    "name": {"type": "string", "minLength": 1, "maxLength": 200, "example": "Kenya Wildlife Service"},
                    "language": {"type": ["string", "null"], "enum": ["en", "fr", "es", null], "description": "Language of its printed documents (default en)"},
                    "address": {"type": ["string", "null"], "maxLength": crate::http::documents::MAX_ADDRESS, "description": "Postal address, box 6 of its documents"},
                    "issue_place": {"type": ["string", "null"], "maxLength": crate::http::documents::MAX_PLACE, "description": "Place of issue, box 13 of its documents"}
                }
            }),
        )
        .schema(
            "Authority",
            json!({
                "type": "object",
                "required": ["id", "country", "name", "status_version", "created_at", "language"],
                "properties": {
                    "id": {"type": "string"},
                    "language": {"type": "string", "enum": ["en", "fr", "es"], "description": "Language of its printed documents"},
                    "address": {"type": ["string", "null"]},
                    "issue_place": {"type": ["string", "null"]},
                    "country": {"type": "string"},
                    "name": {"type": "string"},
                    "trust_id": {"type": "integer", "description": "Numeric id in trust and status lists"},
                    "status_version": {"type": "integer", "description": "Version of the authority's status list"},
                    "permits_issued": {"type": "integer"},
                    "created_at": {"type": "string", "format": "date-time"}
                }
            }),
        )
        .schema(
            "AuthorityList",
            json!({
                "type": "object",
                "required": ["authorities"],
                "properties": {"authorities": {"type": "array", "items": {"$ref": "#/components/schemas/Authority"}}}
            }),
        )
}

/// Body of `POST /api/v1/authorities`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAuthority {
    id: Option<String>,
    country: String,
    name: String,
    language: Option<String>,
    address: Option<String>,
    issue_place: Option<String>,
}

/// An authority as answered.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Authority {
    /// Short code.
    pub id: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// Name.
    pub name: String,
    /// Numeric id in trust and status lists.
    pub trust_id: i64,
    /// Status list version.
    pub status_version: i64,
    /// Permits issued (status list size).
    pub permits_issued: i64,
    /// RFC 3339.
    pub created_at: String,
    /// Language of its printed documents.
    pub language: String,
    /// Postal address (box 6).
    pub address: Option<String>,
    /// Place of issue (box 13).
    pub issue_place: Option<String>,
}

impl From<AuthorityRow> for Authority {
    fn from(row: AuthorityRow) -> Self {
        Self {
            id: row.id,
            country: row.country,
            name: row.name,
            trust_id: row.trust_id,
            status_version: row.status_version,
            permits_issued: row.next_status_index,
            created_at: format_time(row.created_at),
            language: row.language,
            address: row.address,
            issue_place: row.issue_place,
        }
    }
}

/// Body of the list answer.
#[derive(Debug, Serialize)]
pub struct AuthorityList {
    authorities: Vec<Authority>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CreateAuthority>,
) -> Result<(StatusCode, Json<Authority>), ApiError> {
    principal.require(&[Role::Admin])?;
    let country = CountryCode::parse(&body.country)?;
    let id = AuthorityId::parse(body.id.as_deref().unwrap_or(country.as_str()))?;
    let name = text_field("name", &body.name, 200)?;
    let paper = crate::http::documents::paper_settings(
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

async fn list(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<AuthorityList>, ApiError> {
    principal.require(&[Role::Admin])?;
    let rows = state.db.list_authorities().await?;
    Ok(Json(AuthorityList {
        authorities: rows.into_iter().map(Authority::from).collect(),
    }))
}

async fn fetch(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
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
