//! Reference taxa: how species are listed in the CITES Appendices. Issuance checks permit
//! lines against the taxa listed here; the list is public so issuers' tools can offer it.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::{Access, Api};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::taxa::TaxonRow;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("taxa")
        .routes(Access::Public, routes!(list))
        .routes(
            Access::Roles(&[Role::Admin, Role::AuthorityAdmin]),
            routes!(set),
        )
}

/// A taxon as sent.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxonDto {
    #[schema(value_type = verifier_core::codes::Kingdom)]
    pub(crate) kingdom: String,
    /// Every appendix the taxon is listed in (split listings have several).
    #[schema(value_type = Vec<verifier_core::codes::Appendix>, min_items = 1)]
    pub(crate) appendices: Vec<String>,
    #[schema(max_length = 255)]
    pub(crate) common_name: Option<String>,
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
    }
}

/// Checks a taxon as sent and turns it into a row.
pub fn parse(name: &str, body: &TaxonDto) -> Result<TaxonRow, ApiError> {
    let scientific_name = text_field("scientific_name", name, 255)?;
    if scientific_name != name {
        return Err(ApiError::invalid(
            "invalid_field",
            "scientific_name must not have leading or trailing white space",
        ));
    }
    if let Some(problem) = verifier_core::text::check_issuing(
        verifier_core::text::FieldKind::ScientificName,
        &scientific_name,
    ) {
        return Err(ApiError::invalid(
            "deceptive_text",
            format!("scientific_name: {problem}"),
        ));
    }
    let kingdom: verifier_core::codes::Kingdom =
        body.kingdom
            .parse()
            .map_err(|e: verifier_core::codes::CodeError| {
                ApiError::invalid("unknown_code", format!("kingdom: {e}"))
            })?;
    let mut appendices = Vec::new();
    for a in &body.appendices {
        let a: verifier_core::codes::Appendix =
            a.parse().map_err(|e: verifier_core::codes::CodeError| {
                ApiError::invalid("unknown_code", format!("appendices: {e}"))
            })?;
        if !appendices.contains(&a) {
            appendices.push(a);
        }
    }
    if appendices.is_empty() {
        return Err(ApiError::invalid(
            "invalid_field",
            "appendices must list at least one of I, II, III",
        ));
    }
    appendices.sort();
    let common_name = body
        .common_name
        .as_deref()
        .map(|c| text_field("common_name", c, 255))
        .transpose()?;
    Ok(TaxonRow {
        scientific_name,
        kingdom: kingdom.code().to_owned(),
        appendices: appendices
            .iter()
            .map(|a| a.code())
            .collect::<Vec<_>>()
            .join("/"),
        common_name,
    })
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
    let row = parse(&name, &body)?;
    state
        .db
        .set_taxon(&principal.token_id, &row, state.clock.now())
        .await?;
    Ok(Json(view(&row)))
}

/// Reference taxa and their CITES listing
#[utoipa::path(get, path = "/api/v1/taxa", responses((status = 200, body = TaxonList)))]
async fn list(State(state): State<AppState>) -> Result<Json<TaxonList>, ApiError> {
    let taxa: Vec<_> = state.db.list_taxa().await?.iter().map(view).collect();
    Ok(Json(TaxonList { taxa }))
}
