//! The paper permit: `GET …/permits/{number}/document.pdf`, the PDF on the CITES standard form
//! (see `crate::document` and docs/DOCUMENT.md). Only the platform admin and the authority's own
//! issuers; a revoked permit is still printed for them, with REVOKED across every page. Also
//! `PUT …/authorities/{id}/paper`: the authority's document language, address and place.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;
use serde_json::json;

use super::authorities::Authority;
use super::{Access, Api, Op};
use crate::document::stored::{PrintError, render_stored};
use crate::document::{lang_tag, parse_lang};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, InvalidValue, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::documents::PaperSettings;

/// Longest postal address of an authority.
pub const MAX_ADDRESS: usize = 300;
/// Longest place of issue.
pub const MAX_PLACE: usize = 100;

const MANAGERS: &[Role] = &[Role::Admin, Role::Issuer];

/// Routes of this module.
pub fn api() -> Api {
    Api::new("documents")
        .route(
            "/api/v1/authorities/{authority}/permits/{number}/document.pdf",
            get(document),
            [Op::get(
                "The permit as an A4 PDF/A-2b document on the CITES standard form, with its signed QR code",
                Access::Roles(MANAGERS),
            )
            .query(&[("lang", "en, fr or es (default: the authority's language)")])
            .returns_media("application/pdf")],
        )
        .route(
            "/api/v1/authorities/{authority}/paper",
            put(set_paper),
            [Op::put(
                "Set the language, address (box 6) and place of issue (box 13) of the authority's documents",
                Access::Roles(MANAGERS),
            )
            .body("PaperSettings")
            .returns(200, "Authority")],
        )
        .schema(
            "PaperSettings",
            json!({
                "type": "object",
                "required": ["language"],
                "additionalProperties": false,
                "properties": {
                    "language": {"type": "string", "enum": ["en", "fr", "es"]},
                    "address": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_ADDRESS, "description": "Absent or null: none"},
                    "issue_place": {"type": ["string", "null"], "minLength": 1, "maxLength": MAX_PLACE, "description": "Absent or null: none"}
                }
            }),
        )
}

/// Checks paper settings given at authority creation or by `PUT …/paper`; `None` when none of
/// them is given (the defaults: English, no address, no place).
pub fn paper_settings(
    language: Option<&str>,
    address: Option<&str>,
    issue_place: Option<&str>,
) -> Result<Option<PaperSettings>, InvalidValue> {
    if language.is_none() && address.is_none() && issue_place.is_none() {
        return Ok(None);
    }
    let language = match language.map(parse_lang) {
        None => "en",
        Some(Some(lang)) => lang_tag(lang),
        Some(None) => {
            return Err(InvalidValue::new(
                "invalid_language",
                "language must be en, fr or es",
            ));
        }
    };
    Ok(Some(PaperSettings {
        language,
        address: address
            .map(|a| text_field("address", a, MAX_ADDRESS))
            .transpose()?,
        issue_place: issue_place
            .map(|p| text_field("issue_place", p, MAX_PLACE))
            .transpose()?,
    }))
}

/// Body of `PUT …/paper`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaperBody {
    language: String,
    address: Option<String>,
    issue_place: Option<String>,
}

async fn set_paper(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
    Json(body): Json<PaperBody>,
) -> Result<Json<Authority>, ApiError> {
    let id = AuthorityId::parse(&authority)?;
    principal.require(MANAGERS)?;
    principal.require_manages(&id)?;
    let paper = paper_settings(
        Some(&body.language),
        body.address.as_deref(),
        body.issue_place.as_deref(),
    )?
    .ok_or_else(|| ApiError::internal("paper settings without a language"))?;
    let row = state
        .db
        .set_paper_settings(&principal.token_id, &id, &paper, state.clock.now())
        .await?;
    Ok(Json(row.into()))
}

/// Query of the document endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentQuery {
    lang: Option<String>,
}

/// Maps a print failure to the answer: an unprintable value is the caller's to fix (422), a
/// stored record that does not fit is the server's (500, logged).
pub fn print_error(err: PrintError) -> ApiError {
    match err {
        PrintError::Unprintable(e) => ApiError::invalid("unprintable_character", e.to_string()),
        other => ApiError::internal(other),
    }
}

async fn document(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
    Query(q): Query<DocumentQuery>,
) -> Result<Response, ApiError> {
    let lang = q
        .lang
        .as_deref()
        .map(|t| {
            parse_lang(t)
                .ok_or_else(|| ApiError::bad_request("invalid_query", "lang must be en, fr or es"))
        })
        .transpose()?;
    let id = AuthorityId::parse(&authority)?;
    principal.require(MANAGERS)?;
    principal.require_manages(&id)?;
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    let permit = state
        .db
        .permit_by_number(&id, &number)
        .await?
        .ok_or_else(|| ApiError::not_found("permit"))?;
    let quotas = state
        .db
        .block_quotas(&permit.authority_id, permit.status_index)
        .await?;
    let verify_url = state.verify_url.clone();
    // A few milliseconds of CPU: off the async workers.
    let pdf = tokio::task::spawn_blocking(move || {
        render_stored(&row, &permit, &quotas, lang, &verify_url)
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(print_error)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        pdf,
    )
        .into_response())
}
