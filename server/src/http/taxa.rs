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
use verifier_core::date::Date;

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
    /// The date the taxon was first included in the Appendices (YYYY-MM-DD, from 1975-07-01,
    /// not in the future): a pre-Convention specimen was acquired before it.
    #[serde(default)]
    #[schema(format = Date)]
    pub(crate) listed_on: Option<String>,
    /// For an Appendix-III listing, the Party that listed it (ISO 3166 alpha-2): its exports
    /// need an export permit, other Parties' a certificate of origin.
    #[serde(default)]
    #[schema(min_length = 2, max_length = 2)]
    pub(crate) app3_party: Option<String>,
}

/// The Convention entered into force on 1 July 1975: no taxon was listed before.
const CONVENTION_IN_FORCE: (i32, u32, u32) = (1975, 7, 1);

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
    }
}

/// Checks a taxon as sent and turns it into a row.
pub fn parse(name: &str, body: &TaxonDto, now: i64) -> Result<TaxonRow, ApiError> {
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
    let listed_on = match body.listed_on.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let day: Date = text
                .parse()
                .map_err(|_| ApiError::invalid("invalid_field", "listed_on: a date YYYY-MM-DD"))?;
            let (y, m, d) = CONVENTION_IN_FORCE;
            if Date::from_ymd(y, m, d).is_some_and(|first| day < first) {
                return Err(ApiError::invalid(
                    "invalid_field",
                    "listed_on: before 1975-07-01, when the Convention entered into force",
                ));
            }
            if day > Date::from_unix(now) {
                return Err(ApiError::invalid(
                    "invalid_field",
                    "listed_on: in the future",
                ));
            }
            Some(day.to_string())
        }
    };
    let app3_party = match body.app3_party.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => {
            let party: verifier_core::codes::Country =
                text.parse().map_err(|e: verifier_core::codes::CodeError| {
                    ApiError::invalid("unknown_code", format!("app3_party: {e}"))
                })?;
            if !appendices.contains(&verifier_core::codes::Appendix::III) {
                return Err(ApiError::invalid(
                    "invalid_field",
                    "app3_party: only for a taxon listed in Appendix III",
                ));
            }
            Some(party.to_string())
        }
    };
    Ok(TaxonRow {
        scientific_name,
        kingdom: kingdom.code().to_owned(),
        appendices: appendices
            .iter()
            .map(|a| a.code())
            .collect::<Vec<_>>()
            .join("/"),
        common_name,
        listed_on,
        app3_party,
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
    let row = parse(&name, &body, state.clock.now())?;
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
