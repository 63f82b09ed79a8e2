//! Scan reports and export endorsements from field devices, and the alerts they raise.

use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::UtoipaMethodRouterExt as _;
use utoipa_axum::routes;

use verifier_core::report::{
    self, ConfirmationBatch, EndorsementBatch, Form, ReportError, ScanBatch,
};

use verifier_core::device::{
    DeviceKeyId, DeviceSignature, SignatureRefusal, check_signature, endorsement_message,
    scan_message,
};

use super::params::AuthorityPath;
use super::{Access, Api, format_time};
use crate::crypto::verify_device_signature;
use crate::domain::AlertKind;
use crate::domain::reports::CustomsRefusal;
use crate::domain::reports::EndorsementFault;
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::field_reports::{AlertRow, Refusal, UploadOutcome, UploadResult, Uploader};

pub use verifier_core::report::MAX_REPORTS;
/// Largest upload body.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

/// Routes of this module.
pub fn api() -> Api {
    let upload_limit = || DefaultBodyLimit::max(MAX_UPLOAD_BYTES);
    Api::new("reports")
        .routes(
            Access::Roles(&[Role::Officer]),
            routes!(upload_scans).layer(upload_limit()),
        )
        .routes(
            Access::Roles(&[Role::Officer]),
            routes!(upload_endorsements).layer(upload_limit()),
        )
        .routes(
            Access::Roles(&[Role::Importer]),
            routes!(upload_confirmations).layer(upload_limit()),
        )
        .routes(
            Access::Roles(&[Role::Admin, Role::Issuer]),
            routes!(authority_alerts),
        )
        .routes(Access::Public, routes!(list_locations))
        .routes(Access::Roles(&[Role::Admin]), routes!(set_location))
        .routes(Access::Roles(&[Role::Admin]), routes!(all_alerts))
}

/// An alert as answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Alert {
    id: i64,
    authority_id: Option<String>,
    kind: AlertKind,
    status_index: Option<i64>,
    permit_number: Option<String>,
    /// The report that raised it first (its id is unique for `token_id`).
    source_id: String,
    detail: String,
    /// When first raised.
    #[schema(format = DateTime)]
    created_at: String,
    /// How many reports raised it: repeated alerts of one kind about one permit (or one
    /// unknown code) are this one alert.
    occurrences: i64,
    /// When last raised.
    #[schema(format = DateTime)]
    last_at: String,
    /// The token that uploaded the report that raised it first (absent for alerts stored
    /// before uploaders were recorded).
    token_id: Option<String>,
    /// That token's country.
    uploader_country: Option<String>,
}

/// A page of alerts.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AlertList {
    alerts: Vec<Alert>,
    /// Cursor for the next page (`after`); null on the last page.
    next_after: Option<i64>,
}

/// The answer of an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadAnswer {
    /// Reports stored by this upload.
    accepted: u64,
    /// Reports already stored before (ignored).
    duplicates: u64,
    /// Alerts the upload raised.
    alerts: Vec<Alert>,
}

/// A UN/LOCODE place as answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Location {
    locode: String,
    name: String,
    lat: f64,
    lon: f64,
}

/// The places the travel check knows.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LocationList {
    locations: Vec<Location>,
}

/// `{locode}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LocodePath {
    /// UN/LOCODE, e.g. `KEMBA`.
    #[param(pattern = "^[A-Za-z]{2}[A-Za-z2-9]{3}$")]
    locode: String,
}

/// A refused report, under its position in the upload (`scans[3].place.locode …`).
fn at(prefix: &str, e: &ReportError) -> ApiError {
    ApiError::invalid(e.code(), format!("{prefix}{e}"))
}

fn check_count(n: usize) -> Result<(), ApiError> {
    if !report::batch_size_ok(n) {
        return Err(ApiError::invalid(
            "invalid_batch",
            format!("an upload holds 1 to {MAX_REPORTS} reports"),
        ));
    }
    Ok(())
}

/// The device key bound to the uploading token.
struct Enrolled {
    key_id: DeviceKeyId,
    public_key: Vec<u8>,
}

async fn enrolled(state: &AppState, principal: &Principal) -> Result<Option<Enrolled>, ApiError> {
    let Some(row) = state.db.device_key(&principal.token_id).await? else {
        return Ok(None);
    };
    // Written only from a checked key; a row that does not read fails closed.
    let key_id = DeviceKeyId::parse(&row.key_id)
        .ok_or_else(|| ApiError::internal("stored device key id does not parse"))?;
    Ok(Some(Enrolled {
        key_id,
        public_key: row.public_key,
    }))
}

/// Applies FORMAT.md §10.5 to one report: its signature against the token's enrolled key.
/// Storage records the signature of a report that passes as verified.
fn check_signed(
    prefix: &str,
    enrolled: Option<&Enrolled>,
    signature: Option<&DeviceSignature>,
    message: impl FnOnce(&DeviceKeyId) -> Vec<u8>,
) -> Result<(), ApiError> {
    check_signature(signature, enrolled.map(|e| &e.key_id), message, |m, sig| {
        enrolled.is_some_and(|e| verify_device_signature(&e.public_key, m, sig))
    })
    .map(|_| ())
    .map_err(|refusal: SignatureRefusal| {
        ApiError::invalid(refusal.code(), format!("{prefix}signature: {refusal}"))
    })
}

pub(crate) fn answer(result: UploadResult) -> Json<UploadAnswer> {
    Json(UploadAnswer {
        accepted: result.accepted as u64,
        duplicates: result.duplicates as u64,
        alerts: result.alerts.into_iter().map(alert_view).collect(),
    })
}

fn alert_view(a: AlertRow) -> Alert {
    Alert {
        id: a.id,
        authority_id: a.authority_id,
        kind: a.kind,
        status_index: a.status_index,
        permit_number: a.permit_number,
        source_id: a.source_id,
        detail: a.detail,
        created_at: format_time(a.created_at),
        occurrences: a.occurrences,
        last_at: format_time(a.last_at),
        token_id: a.token_id,
        uploader_country: a.country,
    }
}

/// The uploading token and its country: officer, importer and customs tokens always have one.
pub(crate) fn uploader(principal: &Principal) -> Result<Uploader<'_>, ApiError> {
    let country = principal
        .country
        .as_ref()
        .ok_or_else(|| ApiError::internal("report upload from a token without a country"))?;
    Ok(Uploader {
        token_id: &principal.token_id,
        country: country.as_str(),
    })
}

/// Upload a batch of scan reports (idempotent by report id; durable once answered)
#[utoipa::path(post, path = "/api/v1/scans", request_body = ScanBatch, responses((status = 200, body = UploadAnswer)))]
async fn upload_scans(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ScanBatch>,
) -> Result<Json<UploadAnswer>, ApiError> {
    check_count(body.scans.len())?;
    let t = state.clock.now();
    let enrolled = enrolled(&state, &principal).await?;
    let scans = body
        .scans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let prefix = format!("scans[{i}].");
            let scan = report::Scan::check(s, Form::Received, t).map_err(|e| at(&prefix, &e))?;
            check_signed(&prefix, enrolled.as_ref(), scan.signature.as_ref(), |k| {
                scan_message(&scan, k)
            })?;
            Ok(scan)
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let outcome = state
        .db
        .upload_scans(uploader(&principal)?, &scans, t)
        .await?;
    outcome_answer(outcome, "scans", "scanned_at", None)
}

/// Upload export endorsements: quantities actually exported per block (idempotent; marks the permit used)
#[utoipa::path(post, path = "/api/v1/endorsements", request_body = EndorsementBatch, responses((status = 200, body = UploadAnswer)))]
async fn upload_endorsements(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<EndorsementBatch>,
) -> Result<Json<UploadAnswer>, ApiError> {
    check_count(body.endorsements.len())?;
    let t = state.clock.now();
    let enrolled = enrolled(&state, &principal).await?;
    let items = body
        .endorsements
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let prefix = format!("endorsements[{i}].");
            let endorsement = report::Endorsement::check(e, Form::Received, t)
                .map_err(|err| at(&prefix, &err))?;
            check_signed(
                &prefix,
                enrolled.as_ref(),
                endorsement.signature.as_ref(),
                |k| endorsement_message(&endorsement, k),
            )?;
            Ok(endorsement)
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let outcome = state
        .db
        .upload_endorsements(uploader(&principal)?, &items, t)
        .await?;
    state.sync_cache.invalidate();
    outcome_answer(outcome, "endorsements", "endorsed_at", None)
}

/// Importing authority: confirm what was received (quantities per block, date, port of entry in its own country) against permits bound for its country (idempotent)
#[utoipa::path(post, path = "/api/v1/confirmations", request_body = ConfirmationBatch, responses((status = 200, body = UploadAnswer)))]
async fn upload_confirmations(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ConfirmationBatch>,
) -> Result<Json<UploadAnswer>, ApiError> {
    let country = principal
        .country
        .clone()
        .ok_or_else(|| ApiError::internal("importer token without a country"))?;
    check_count(body.confirmations.len())?;
    let t = state.clock.now();
    let items = body
        .confirmations
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = report::Confirmation::check(c, Form::Received, t)
                .map_err(|e| at(&format!("confirmations[{i}]."), &e))?;
            // The port of entry is in the country that confirms the import.
            if let Some(locode) = &c.place.locode
                && !locode.starts_with(country.as_str())
            {
                return Err(ApiError::invalid(
                    "invalid_place",
                    format!("confirmations[{i}].place.locode: {locode} is not a port of {country}"),
                ));
            }
            Ok(c)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = state
        .db
        .upload_confirmations(uploader(&principal)?, &items, t)
        .await?;
    // A confirmation cancels a single-use document: its status list has changed.
    state.sync_cache.invalidate();
    outcome_answer(
        outcome,
        "confirmations",
        "received_at",
        Some(country.as_str()),
    )
}

/// The answer of an endorsement or confirmation upload: what it stored, or the report that
/// refused it under its position (`endorsements[2].endorsed_at …`).
pub(crate) fn outcome_answer(
    outcome: UploadOutcome,
    list: &str,
    time_field: &str,
    country: Option<&str>,
) -> Result<Json<UploadAnswer>, ApiError> {
    match outcome {
        UploadOutcome::Done(result) => Ok(answer(result)),
        UploadOutcome::Limited {
            budget,
            limit,
            retry_after,
        } => Err(ApiError::too_many_requests(
            "rate_limited",
            format!(
                "this token may have {} {} per {} s; nothing was stored, retry in {retry_after} s",
                limit.allowed,
                budget.as_str(),
                limit.window_seconds
            ),
            retry_after,
        )),
        UploadOutcome::Refused {
            position,
            why: Refusal::NotForThisCountry,
        } => Err(ApiError::forbidden(format!(
            "{list}[{position}]: the permit is not bound for {}; nothing was stored",
            country.unwrap_or("this country")
        ))),
        UploadOutcome::Refused {
            position,
            why: Refusal::BeforeIssue(day),
        } => Err(ApiError::invalid(
            "before_issue_day",
            format!(
                "{list}[{position}].{time_field} is before the permit's issue day ({day}): \
                 check the device's date; nothing was stored"
            ),
        )),
        UploadOutcome::Refused {
            position,
            why: Refusal::Endorsement(fault),
        } => Err(match fault {
            EndorsementFault::AfterValidity(until) => ApiError::invalid(
                "after_validity",
                format!(
                    "{list}[{position}].{time_field} is after the permit's last valid day \
                     ({until}): an expired permit cannot be endorsed; nothing was stored, \
                     an alert was raised"
                ),
            ),
            EndorsementFault::NotExportingParty(exporting) => ApiError::new(
                axum::http::StatusCode::FORBIDDEN,
                "not_exporting_party",
                format!(
                    "{list}[{position}]: only an officer of {exporting}, the exporting Party, \
                     endorses this permit; nothing was stored, an alert was raised"
                ),
            ),
        }),
        UploadOutcome::Refused {
            why: Refusal::UnknownPermit,
            ..
        } => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_permit",
            "this deployment did not issue that permit; nothing was stored",
        )),
        UploadOutcome::Refused {
            why: Refusal::Customs(why),
            ..
        } => Err(customs_refusal(why, country)),
    }
}

/// The answer to a customs endorsement the permit does not allow.
fn customs_refusal(why: CustomsRefusal, country: Option<&str>) -> ApiError {
    match why {
        CustomsRefusal::NotExportedFromHere => ApiError::forbidden(format!(
            "the permit is not exported from {}; nothing was stored",
            country.unwrap_or("this country")
        )),
        CustomsRefusal::Withdrawn(state) => ApiError::conflict(
            "permit_withdrawn",
            format!("the permit is {state}: it cannot be endorsed; nothing was stored"),
        ),
        CustomsRefusal::AlreadyEndorsed => ApiError::conflict(
            "already_endorsed",
            "the permit's export was endorsed before: one permit, one shipment; nothing was stored",
        ),
        CustomsRefusal::ExceedsIssued(detail) => {
            ApiError::invalid("quantity_exceeded", format!("{detail}; nothing was stored"))
        }
    }
}

/// Body of a place.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationDto {
    #[schema(min_length = 1, max_length = 100)]
    name: String,
    #[schema(minimum = -90, maximum = 90)]
    lat: f64,
    #[schema(minimum = -180, maximum = 180)]
    lon: f64,
}

/// Add or move a UN/LOCODE place
#[utoipa::path(put, path = "/api/v1/locations/{locode}", params(LocodePath), request_body = LocationDto, responses((status = 200, body = Location)))]
async fn set_location(
    State(state): State<AppState>,
    principal: Principal,
    Path(LocodePath { locode }): Path<LocodePath>,
    Json(body): Json<LocationDto>,
) -> Result<Json<Location>, ApiError> {
    let (code, lat, lon) =
        report::check_location(&locode, body.lat, body.lon).map_err(|e| at("", &e))?;
    let name = text_field("name", &body.name, 100)?;
    state
        .db
        .set_location(
            &principal.token_id,
            &code,
            &name,
            lat,
            lon,
            state.clock.now(),
        )
        .await?;
    Ok(Json(Location {
        locode: code,
        name,
        lat,
        lon,
    }))
}

/// UN/LOCODE places the travel check knows
#[utoipa::path(get, path = "/api/v1/locations", responses((status = 200, body = LocationList)))]
async fn list_locations(State(state): State<AppState>) -> Result<Json<LocationList>, ApiError> {
    let rows = state.db.list_locations().await?;
    let locations: Vec<_> = rows
        .into_iter()
        .map(|l| Location {
            locode: l.locode,
            name: l.name,
            lat: l.lat,
            lon: l.lon,
        })
        .collect();
    Ok(Json(LocationList { locations }))
}

/// Query of the alert lists.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// Only alerts of this kind.
    #[param(value_type = Option<AlertKind>, inline)]
    kind: Option<String>,
    /// Cursor: alert id after which to continue.
    after: Option<i64>,
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

fn alert_query(q: &AlertQuery) -> Result<(Option<AlertKind>, i64, i64), ApiError> {
    let kind = q
        .kind
        .as_deref()
        .map(str::parse::<AlertKind>)
        .transpose()
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_query",
                format!(
                    "kind must be one of {}",
                    AlertKind::ALL.map(AlertKind::as_str).join(", ")
                ),
            )
        })?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be 1 to 1000",
        ));
    }
    Ok((kind, q.after.unwrap_or(0), limit))
}

fn alert_list(rows: Vec<AlertRow>, limit: i64) -> Json<AlertList> {
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let alerts: Vec<_> = rows.into_iter().map(alert_view).collect();
    Json(AlertList { alerts, next_after })
}

/// Alerts on the authority's permits
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/alerts", params(AuthorityPath, AlertQuery), responses((status = 200, body = AlertList)))]
async fn authority_alerts(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let id = AuthorityId::parse(&authority)?;
    principal.require_manages(&id)?;
    if state.db.authority(&id).await?.is_none() {
        return Err(ApiError::not_found("authority"));
    }
    let (kind, after, limit) = alert_query(&q)?;
    let rows = state
        .db
        .list_alerts(Some(id.as_str()), kind, after, limit)
        .await?;
    Ok(alert_list(rows, limit))
}

/// Every alert, including codes of no known authority
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertQuery), responses((status = 200, body = AlertList)))]
async fn all_alerts(
    State(state): State<AppState>,
    Query(q): Query<AlertQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let (kind, after, limit) = alert_query(&q)?;
    let rows = state.db.list_all_alerts(kind, after, limit).await?;
    Ok(alert_list(rows, limit))
}
