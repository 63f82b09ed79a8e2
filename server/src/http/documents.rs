//! The paper permit: `GET …/permits/{number}/document.pdf`, the PDF on the CITES standard form
//! (see `crate::document` and docs/DOCUMENT.md). Only the platform admin and the authority's own
//! issuers; a revoked permit is still printed for them, with REVOKED across every page. Also
//! `PUT …/authorities/{id}/paper`: the authority's document language, address and place.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::routes;

use super::params::{AuthorityPath, PermitPath};
use super::{Access, Api};
use crate::document::parse_lang;
use crate::document::stored::{PrintError, render_stored};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;
use crate::views::{Authority, paper_settings};

const MANAGERS: &[Role] = &[Role::Admin, Role::Issuer];

/// Routes of this module.
pub fn api() -> Api {
    Api::new("documents")
        .routes(
            Access::Roles(crate::http::permits::READERS),
            routes!(document),
        )
        .routes(Access::Roles(MANAGERS), routes!(set_paper))
}

/// Body of `PUT …/paper`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PaperSettings)]
pub struct PaperBody {
    #[schema(value_type = verifier_core::i18n::Lang)]
    language: String,
    /// Postal address (box 6); absent or null: none.
    #[schema(min_length = 1, max_length = 300)]
    address: Option<String>,
    /// Place of issue (box 13); absent or null: none.
    #[schema(min_length = 1, max_length = 100)]
    issue_place: Option<String>,
}

/// Set the language, address (box 6) and place of issue (box 13) of the authority's documents
#[utoipa::path(put, path = "/api/v1/authorities/{authority}/paper", params(AuthorityPath), request_body = PaperBody,
    responses((status = 200, body = Authority)))]
async fn set_paper(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Json(body): Json<PaperBody>,
) -> Result<Json<Authority>, ApiError> {
    let id = AuthorityId::parse(&authority)?;
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
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// Language of the document (default: the authority's).
    #[param(value_type = Option<verifier_core::i18n::Lang>, inline)]
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

/// The permit as an A4 PDF/A-2b document on the CITES standard form, with its signed QR code
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits/{number}/document.pdf", params(PermitPath, DocumentQuery),
    responses((status = 200, description = "PDF/A-2b", content_type = "application/pdf", body = crate::http::openapi::Binary)))]
async fn document(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
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
    crate::http::permits::staff_of(
        &state,
        &principal,
        &authority,
        crate::http::permits::READERS,
    )
    .await?;
    render(&state, &id, &number, lang).await
}

/// The stored permit `number` of `id` as its PDF answer (the caller checked who may have it).
pub(crate) async fn pdf(
    state: &AppState,
    id: &AuthorityId,
    number: &str,
    lang: Option<&str>,
) -> Result<Response, ApiError> {
    let lang = lang
        .map(|t| {
            parse_lang(t)
                .ok_or_else(|| ApiError::bad_request("invalid_query", "lang must be en, fr or es"))
        })
        .transpose()?;
    render(state, id, number, lang).await
}

async fn render(
    state: &AppState,
    id: &AuthorityId,
    number: &str,
    lang: Option<verifier_core::i18n::Lang>,
) -> Result<Response, ApiError> {
    let row = state
        .db
        .authority(id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    let permit = state
        .db
        .permit_by_number(id, number)
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
