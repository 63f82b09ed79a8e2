//! Reference taxa: how species are listed in the CITES Appendices. Issuance checks permit
//! lines against the taxa listed here; the list is public so issuers' tools can offer it.

use axum::extract::State;
use axum::routing::{get, put};
use serde::Deserialize;
use serde_json::json;

use super::{Access, Api, Op};
use crate::http::error::{ApiError, Json, Path};
use crate::model::{Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::taxa::TaxonRow;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("taxa")
        .route(
            "/api/v1/taxa",
            get(list),
            [Op::get("Reference taxa and their CITES listing", Access::Public).returns(200, "TaxonList")],
        )
        .route(
            "/api/v1/taxa/{name}",
            put(set),
            [Op::put("Add or change a reference taxon", Access::Roles(&[Role::Admin]))
                .body("Taxon")
                .returns(200, "Taxon")],
        )
        .schema(
            "Taxon",
            json!({
                "type": "object",
                "required": ["kingdom", "appendices"],
                "additionalProperties": false,
                "properties": {
                    "scientific_name": {"type": "string", "readOnly": true},
                    "kingdom": {"type": "string", "enum": ["animal", "plant"]},
                    "appendices": {"type": "array", "minItems": 1, "uniqueItems": true, "items": {"type": "string", "enum": ["I", "II", "III"]},
                                   "description": "Every appendix the taxon is listed in (split listings have several)"},
                    "common_name": {"type": ["string", "null"]}
                }
            }),
        )
        .schema(
            "TaxonList",
            json!({"type": "object", "properties": {"taxa": {"type": "array", "items": {"$ref": "#/components/schemas/Taxon"}}}}),
        )
}

/// A taxon as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxonDto {
    kingdom: String,
    appendices: Vec<String>,
    common_name: Option<String>,
}

fn view(t: &TaxonRow) -> serde_json::Value {
    json!({
        "scientific_name": t.scientific_name,
        "kingdom": t.kingdom,
        "appendices": t.appendices.split('/').collect::<Vec<_>>(),
        "common_name": t.common_name,
    })
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

async fn set(
    State(state): State<AppState>,
    principal: Principal,
    Path(name): Path<String>,
    Json(body): Json<TaxonDto>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    principal.require(&[Role::Admin])?;
    let row = parse(&name, &body)?;
    state
        .db
        .set_taxon(&principal.token_id, &row, state.clock.now())
        .await?;
    Ok(axum::Json(view(&row)))
}

async fn list(State(state): State<AppState>) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let taxa: Vec<_> = state.db.list_taxa().await?.iter().map(view).collect();
    Ok(axum::Json(json!({"taxa": taxa})))
}
