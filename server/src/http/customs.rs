//! The customs interface (docs/INTEGRATION.md): what an ASYCUDA-style customs system of one
//! country needs. It looks a permit up by its issuing country and number or by its QR text and
//! gets the verdict the public verify endpoint gives (the same code, not a second verifier),
//! and records the export endorsement of a customs declaration through the ingest of a phone's
//! endorsement, with the rules a system that asks online can be held to: once, never more than
//! issued, only for permits exported from the customs token's country.

use axum::extract::{DefaultBodyLimit, State};
use serde::Deserialize;
use utoipa_axum::router::UtoipaMethodRouterExt as _;
use utoipa_axum::routes;
use verifier_core::report::{self, EndorsementWire, Form, LineWire, PlaceWire};

use super::field_reports::{UploadAnswer, outcome_answer, uploader};
use super::verify::{VerifyResult, parse_checkpoint, verify_text};
use super::{Access, Api};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{CountryCode, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::permits::PermitRow;

/// Largest endorsement body: one declaration of at most 26 lines and a QR text.
const MAX_ENDORSEMENT_BYTES: usize = 64 * 1024;

/// The device id customs endorsements are stored under (they are not made on a device).
const CUSTOMS_DEVICE: &str = "customs";

/// Routes of this module.
pub fn api() -> Api {
    Api::new("customs")
        .routes(Access::Roles(&[Role::Customs]), routes!(lookup))
        .routes(Access::Roles(&[Role::Customs]), routes!(verify_qr))
        .routes(
            Access::Roles(&[Role::Customs]),
            routes!(endorse).layer(DefaultBodyLimit::max(MAX_ENDORSEMENT_BYTES)),
        )
}

/// `{country}/{number}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CountryNumberPath {
    /// The issuing country (ISO 3166-1 alpha-2).
    #[param(pattern = "^[A-Za-z]{2}$")]
    country: String,
    /// The permit number (box 1), percent-encoded.
    number: String,
}

/// Where the lookup's verdict is made.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckpointQuery {
    /// `export` (default) or `import`.
    #[param(value_type = Option<super::verify::CheckpointName>, inline)]
    checkpoint: Option<String>,
}

/// What to verify.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomsVerify {
    /// The text of the permit's QR code, `PS1:…`.
    #[schema(max_length = 4296)]
    qr: String,
    /// Where it is checked (default export).
    #[schema(value_type = Option<super::verify::CheckpointName>)]
    checkpoint: Option<String>,
}

/// The export endorsement of a customs declaration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomsEndorsement {
    /// The declaration's reference, the endorsement's id: 1 to 64 characters of
    /// `A-Z a-z 0-9 - _ . :`. Sending it again is answered as a duplicate, nothing changes.
    #[schema(pattern = "^[A-Za-z0-9._:-]{1,64}$")]
    declaration: String,
    /// The permit's QR text; or name it by `issuing_country` and `number`.
    #[schema(max_length = 4296)]
    qr: Option<String>,
    /// The permit's issuing country, with `number`, instead of `qr`.
    #[schema(value_type = Option<verifier_core::codes::Country>)]
    issuing_country: Option<String>,
    /// The permit number (box 1), with `issuing_country`.
    #[schema(max_length = 100)]
    number: Option<String>,
    /// The customs officer or office that cleared the declaration.
    #[schema(max_length = 100)]
    officer: Option<String>,
    /// When the export was cleared, RFC 3339 (default: now).
    #[schema(format = DateTime)]
    endorsed_at: Option<String>,
    /// The customs office of export: a UN/LOCODE of the token's country and/or coordinates.
    place: PlaceWire,
    /// Bill of lading or air waybill number.
    #[schema(max_length = 70)]
    transport_document: Option<String>,
    /// The declared quantity per block of the permit.
    #[schema(min_items = 1, max_items = 26)]
    lines: Vec<LineWire>,
}

/// The customs token's country (customs tokens always have one).
fn customs_country(principal: &Principal) -> Result<&CountryCode, ApiError> {
    principal
        .country
        .as_ref()
        .ok_or_else(|| ApiError::internal("customs token without a country"))
}

/// The one permit numbered `number` by an authority of `country`.
pub(crate) async fn permit_by_country_number(
    state: &AppState,
    country: &str,
    number: &str,
) -> Result<PermitRow, ApiError> {
    let country = CountryCode::parse(country)?;
    let number = text_field("number", number, 100)?;
    let mut rows = state
        .db
        .permits_by_country_number(country.as_str(), &number)
        .await?;
    match rows.len() {
        0 => Err(ApiError::not_found("permit")),
        1 => Ok(rows.remove(0)),
        _ => {
            let authorities: Vec<&str> = rows.iter().map(|r| r.authority_id.as_str()).collect();
            Err(ApiError::conflict(
                "ambiguous_number",
                format!(
                    "authorities {} of {country} each issued a permit numbered {number:?}: \
                     look it up by its QR text",
                    authorities.join(", ")
                ),
            ))
        }
    }
}

/// Look a permit up by issuing country and number
///
/// The verdict the public verify endpoint gives for the permit's QR text, the server's record (state, reason, time of change) and, for customs of the exporting or importing country, its usage.
#[utoipa::path(get, path = "/api/v1/customs/permits/{country}/{number}",
    params(CountryNumberPath, CheckpointQuery),
    responses((status = 200, body = VerifyResult)))]
async fn lookup(
    State(state): State<AppState>,
    principal: Principal,
    Path(CountryNumberPath { country, number }): Path<CountryNumberPath>,
    Query(q): Query<CheckpointQuery>,
) -> Result<Json<VerifyResult>, ApiError> {
    let checkpoint = parse_checkpoint(q.checkpoint.as_deref())?;
    let row = permit_by_country_number(&state, &country, &number).await?;
    verify_text(&state, Some(&principal), &row.qr_text, checkpoint)
        .await
        .map(Json)
}

/// Look a permit up by its QR text
///
/// As the public verify endpoint, with the usage of the permit for customs of its exporting or importing country.
#[utoipa::path(post, path = "/api/v1/customs/verify", request_body = CustomsVerify,
    responses((status = 200, body = VerifyResult)))]
async fn verify_qr(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CustomsVerify>,
) -> Result<Json<VerifyResult>, ApiError> {
    let checkpoint = parse_checkpoint(body.checkpoint.as_deref())?;
    verify_text(&state, Some(&principal), &body.qr, checkpoint)
        .await
        .map(Json)
}

/// Record the export endorsement of a customs declaration (idempotent by declaration; a single-use permit becomes used, a multi-use certificate is endorsed at every crossing)
///
/// A single-use document (export permit, re-export certificate, …) is endorsed once, by the customs of its exporting country, and becomes used. A multi-use certificate (a personal ownership, travelling exhibition, musical instrument or sample collection certificate) is endorsed at every crossing, by the customs of the country it leaves, each crossing within the quantities issued, and stays valid. Refused with nothing stored for a single-use permit not exported from the token's country (403), a permit this deployment did not issue (404), a suspended or revoked permit or a single-use one already endorsed (409), or quantities above those issued (422).
#[utoipa::path(post, path = "/api/v1/customs/endorsements", request_body = CustomsEndorsement,
    responses((status = 200, body = UploadAnswer)))]
async fn endorse(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<CustomsEndorsement>,
) -> Result<Json<UploadAnswer>, ApiError> {
    let country = customs_country(&principal)?.clone();
    let t = state.clock.now();
    let qr = match (&body.qr, &body.issuing_country, &body.number) {
        (Some(qr), None, None) => qr.clone(),
        (None, Some(issuing), Some(number)) => {
            permit_by_country_number(&state, issuing, number)
                .await?
                .qr_text
        }
        _ => {
            return Err(ApiError::invalid(
                "invalid_field",
                "name the permit by qr, or by issuing_country and number (not both)",
            ));
        }
    };
    // The form the phone sends, so that the core's contract checks it field by field.
    let wire = EndorsementWire {
        id: body.declaration,
        device_id: CUSTOMS_DEVICE.to_owned(),
        officer: body.officer,
        endorsed_at: body
            .endorsed_at
            .unwrap_or_else(|| crate::clock::format_time(t)),
        place: body.place,
        transport_document: body.transport_document,
        lines: body.lines,
        qr,
        device_key_id: None,
        signature: None,
    };
    let endorsement = report::Endorsement::check(&wire, Form::Received, t)
        .map_err(|e| ApiError::invalid(e.code(), e.to_string()))?;
    // The office of export is in the customs token's country.
    if let Some(locode) = &endorsement.place.locode
        && !locode.starts_with(country.as_str())
    {
        return Err(ApiError::invalid(
            "invalid_place",
            format!("place.locode: {locode} is not a place of {country}"),
        ));
    }
    let outcome = state
        .db
        .record_customs_endorsement(uploader(&principal)?, &endorsement, t)
        .await?;
    state.sync_cache.invalidate();
    outcome_answer(
        outcome,
        "endorsements",
        "endorsed_at",
        Some(country.as_str()),
    )
}
