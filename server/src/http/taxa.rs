//! Reference taxa: how species are listed in the CITES Appendices. Issuance checks permit
//! lines against the taxa listed here; the list is public so issuers' tools can offer it.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::{Access, Api};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{Principal, Role};
use crate::state::AppState;
use crate::storage::taxa::{ImportCounts, TaxonRow};
pub use crate::views::TaxonDto;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("taxa")
        .routes(Access::Public, routes!(list))
        .routes(
            Access::Roles(&[Role::Admin, Role::AuthorityAdmin]),
            routes!(set),
        )
        .routes(
            Access::Roles(&[Role::Admin, Role::AuthorityAdmin]),
            routes!(import),
        )
}

/// `{name}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaxonPath {
    /// Scientific name.
    #[param(min_length = 1, max_length = 255)]
    name: String,
}

/// A reference taxon as answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Taxon {
    scientific_name: String,
    #[schema(value_type = verifier_core::codes::Kingdom)]
    kingdom: String,
    #[schema(value_type = Vec<verifier_core::codes::Appendix>)]
    appendices: Vec<String>,
    common_name: Option<String>,
    #[schema(format = Date)]
    listed_on: Option<String>,
    app3_party: Option<String>,
    /// For a synonym, the accepted name whose listing it carries.
    accepted_name: Option<String>,
    annotation: Option<String>,
}

/// The reference taxa.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaxonList {
    taxa: Vec<Taxon>,
}

fn view(t: &TaxonRow) -> Taxon {
    Taxon {
        scientific_name: t.scientific_name.clone(),
        kingdom: t.kingdom.clone(),
        appendices: t.appendices.split('/').map(str::to_owned).collect(),
        common_name: t.common_name.clone(),
        listed_on: t.listed_on.clone(),
        app3_party: t.app3_party.clone(),
        accepted_name: t.accepted_name.clone(),
        annotation: t.annotation.clone(),
    }
}

/// Checks a taxon as sent and turns it into a row (`crate::views::parse_taxon`).
pub fn parse(name: &str, body: &TaxonDto, now: i64) -> Result<TaxonRow, ApiError> {
    Ok(crate::views::parse_taxon(name, body, now)?)
}

/// Add or change a reference taxon
#[utoipa::path(put, path = "/api/v1/taxa/{name}", params(TaxonPath), request_body(content = TaxonDto, description = "The taxon; its name is in the path"),
    responses((status = 200, body = Taxon)))]
async fn set(
    State(state): State<AppState>,
    principal: Principal,
    Path(TaxonPath { name }): Path<TaxonPath>,
    Json(body): Json<TaxonDto>,
) -> Result<Json<Taxon>, ApiError> {
    let row = parse(&name, &body, state.clock.now())?;
    state
        .db
        .set_taxon(&principal.token_id, &row, state.clock.now())
        .await?;
    Ok(Json(view(&row)))
}

/// What a checklist import did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportAnswer {
    /// Taxa added, changed and found as they were (synonyms included).
    #[serde(flatten)]
    counts: ImportCounts,
    /// Rows not listed (`NC`), not stored.
    skipped: u64,
}

/// Import a checklist (CSV in the shape of a Species+ checklist export, docs/CHECKLIST.md):
/// all rows or none; bad rows are answered with their line and reason
#[utoipa::path(post, path = "/api/v1/taxa/import",
    request_body(content = String, content_type = "text/csv", description = "The checklist"),
    responses((status = 200, body = ImportAnswer)))]
async fn import(
    State(state): State<AppState>,
    principal: Principal,
    body: axum::body::Bytes,
) -> Result<Json<ImportAnswer>, ApiError> {
    let now = state.clock.now();
    let checklist = crate::checklist::read(&body, now).map_err(|e| {
        let code = match e {
            crate::checklist::ChecklistError::Shape(_) => "invalid_checklist",
            crate::checklist::ChecklistError::BadRows(_) => "invalid_checklist_rows",
        };
        ApiError::invalid(code, e.to_string())
    })?;
    let counts = state
        .db
        .import_taxa(&principal.token_id, &checklist.rows, now, |_, _| {})
        .await?;
    Ok(Json(ImportAnswer {
        counts,
        skipped: checklist.skipped,
    }))
}

/// Reference taxa and their CITES listing
#[utoipa::path(get, path = "/api/v1/taxa", responses((status = 200, body = TaxonList)))]
async fn list(State(state): State<AppState>) -> Result<Json<TaxonList>, ApiError> {
    let taxa: Vec<_> = state.db.list_taxa().await?.iter().map(view).collect();
    Ok(Json(TaxonList { taxa }))
}
