//! The CITES exchange format over HTTP (docs/FEDERATION.md): an issued permit as CITESEPermit
//! XML for the issuing authority's staff and the importing Party, and a partner's import permit
//! received as CITESEPermit XML to back this authority's Appendix-I exports.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa_axum::router::UtoipaMethodRouterExt as _;
use utoipa_axum::routes;
use verifier_core::date::Date;

use super::params::{AuthorityPath, PermitPath};
use super::{Access, Api};
use crate::domain::alerts::EndorsedLine;
use crate::domain::issuing::partner_import_fault;
use crate::exchange::{self, Examination, ReadError, WriteError};
use crate::http::error::{ApiError, Json, Path};
use crate::http::permits::READERS;
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;
use crate::storage::partner_imports::PartnerImport;
use crate::views::exchange::{StoredEndorsement, from_stored};

/// Who may read a permit's XML: its authority's readers, and the importing Party's importer
/// tokens (scoped to the permit's importing country in the handler).
const XML_READERS: &[Role] = &[
    Role::Admin,
    Role::Issuer,
    Role::Clerk,
    Role::Signatory,
    Role::AuthorityAdmin,
    Role::Importer,
];
/// Who may submit a partner's import permit: those who issue for the authority.
const SUBMITTERS: &[Role] = &[Role::Admin, Role::Issuer, Role::Clerk, Role::Signatory];
/// Largest message accepted.
pub const MAX_XML_BYTES: usize = 256 * 1024;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("exchange")
        .routes(Access::Roles(XML_READERS), routes!(cites_xml))
        .routes(
            Access::Roles(SUBMITTERS),
            routes!(submit_partner_import)
                .layer(axum::extract::DefaultBodyLimit::max(MAX_XML_BYTES)),
        )
}

/// The permit as a CITESEPermit message (UN/CEFACT, CITES electronic permitting toolkit)
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits/{number}/cites-xml", params(PermitPath),
    responses((status = 200, description = "CITESEPermit XML", content_type = "application/xml", body = String)))]
async fn cites_xml(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
) -> Result<Response, ApiError> {
    let id = AuthorityId::parse(&authority)?;
    let importer = principal.role == Role::Importer;
    if !importer {
        crate::http::permits::staff_of(&state, &principal, &authority, READERS).await?;
    }
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
    // The importing Party sees the permits destined to it, nothing else.
    if importer
        && principal.country.as_ref().map(|c| c.as_str()) != permit.import_country.as_deref()
    {
        return Err(ApiError::forbidden(
            "this token's country is not the permit's country of import",
        ));
    }
    let quotas = state
        .db
        .block_quotas(&permit.authority_id, permit.status_index)
        .await?;
    // Box 14: the first endorsement that counted (a claim of a port outside the uploader's
    // country changed nothing and is not the permit's endorsement).
    let usage = state
        .db
        .usage(&permit.authority_id, permit.status_index)
        .await?;
    let endorsement = match usage.endorsements.iter().find(|e| !e.outside_country) {
        None => None,
        Some(e) => {
            let lines: Vec<EndorsedLine> = serde_json::from_value(e.lines.clone())
                .map_err(|err| ApiError::internal(format!("stored endorsement lines: {err}")))?;
            Some(StoredEndorsement {
                examination: Examination {
                    at: e.endorsed_at,
                    locode: e.locode.clone(),
                },
                lines: lines
                    .into_iter()
                    .map(|l| (l.block, l.quantity_micro))
                    .collect(),
            })
        }
    };
    let message = from_stored(&row, &permit, &quotas, endorsement.as_ref())
        .map_err(crate::http::documents::print_error)?;
    let xml = exchange::write(&message).map_err(|e| match e {
        WriteError::Unit { .. } => ApiError::invalid("unit_without_rec20_code", e.to_string()),
        other => ApiError::internal(other),
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        xml,
    )
        .into_response())
}

/// One block of a received import permit.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerImportLine {
    block: String,
    scientific_name: String,
    #[schema(value_type = verifier_core::codes::Term)]
    term: String,
    #[schema(value_type = verifier_core::codes::Unit)]
    unit: String,
    /// Decimal text.
    quantity: String,
}

/// A partner's import permit as stored.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerImportView {
    /// The importing Party that issued it.
    #[schema(value_type = verifier_core::codes::Country)]
    country: String,
    number: String,
    #[schema(format = Date)]
    valid_until: String,
    /// Always false until partners' signatures can be checked against the trust directory.
    verified: bool,
    lines: Vec<PartnerImportLine>,
}

/// Maps a read failure to its answer: 422 with the code and the element's path.
fn read_error(e: ReadError) -> ApiError {
    ApiError::invalid(e.code(), e.to_string())
}

/// Store a partner's import permit from its CITESEPermit message, to back Appendix-I exports
///
/// The message is read and checked (an import permit of the importing Party to an exporter in
/// this authority's country, in force), then kept unverified; issuance checks it covers each
/// line that references it (docs/RULES.md I5).
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/partner-import-permits", params(AuthorityPath),
    request_body(content = String, description = "CITESEPermit XML", content_type = "application/xml"),
    responses((status = 201, body = PartnerImportView)))]
async fn submit_partner_import(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    body: Bytes,
) -> Result<(StatusCode, Json<PartnerImportView>), ApiError> {
    let (id, country) =
        crate::http::permits::staff_of(&state, &principal, &authority, SUBMITTERS).await?;
    let xml = std::str::from_utf8(&body)
        .map_err(|_| ApiError::invalid("cites_xml_malformed", "the message is not UTF-8"))?;
    let permit = exchange::read(xml).map_err(read_error)?;
    let now = state.clock.now();
    if let Some((code, message)) = partner_import_fault(&permit, &country, Date::from_unix(now)) {
        return Err(ApiError::invalid(code, message));
    }
    if state
        .db
        .authority_of_country(permit.authority.country.as_str())
        .await?
    {
        return Err(ApiError::invalid(
            "import_permit_on_deployment",
            format!(
                "{} issues on this deployment: reference its import permit by number",
                permit.authority.country
            ),
        ));
    }
    state
        .db
        .store_partner_import(
            &principal.token_id,
            &PartnerImport {
                authority: &id,
                permit: &permit,
                xml,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            crate::storage::StorageError::Conflict(_) => ApiError::conflict(
                "partner_import_permit_exists",
                format!(
                    "import permit {} of {} is stored already",
                    permit.number, permit.authority.country
                ),
            ),
            other => other.into(),
        })?;
    let view = PartnerImportView {
        country: permit.authority.country.as_str().to_owned(),
        number: permit.number.clone(),
        valid_until: permit.valid_until.to_string(),
        verified: false,
        lines: permit
            .lines
            .iter()
            .map(|l| PartnerImportLine {
                block: l.block.to_string(),
                scientific_name: l.scientific_name.clone(),
                term: l.term.code().to_owned(),
                unit: l.unit.code().to_owned(),
                quantity: l.quantity.to_string(),
            })
            .collect(),
    };
    Ok((StatusCode::CREATED, Json(view)))
}
