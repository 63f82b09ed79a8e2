//! Scan reports and export endorsements from field devices, and the alerts they raise.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::json;

use verifier_core::report::{
    self, ConfirmationBatch, EndorsementBatch, Form, ReportError, ScanBatch,
};

use verifier_core::device::{
    DeviceKeyId, DeviceSignature, SignatureRefusal, check_signature, endorsement_message,
    scan_message,
};

use super::{Access, Api, Op, format_time};
use crate::crypto::verify_device_signature;
use crate::domain::AlertKind;
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::field_reports::{AlertRow, ConfirmOutcome, UploadResult};

pub use verifier_core::report::MAX_REPORTS;
/// Largest upload body.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("reports")
        .route(
            "/api/v1/scans",
            post(upload_scans).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
            [Op::post(
                "Upload a batch of scan reports (idempotent by report id; durable once answered)",
                Access::Roles(&[Role::Officer]),
            )
            .body("ScanBatch")
            .returns(200, "UploadResult")],
        )
        .route(
            "/api/v1/endorsements",
            post(upload_endorsements).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
            [Op::post(
                "Upload export endorsements: quantities actually exported per block (idempotent; marks the permit used)",
                Access::Roles(&[Role::Officer]),
            )
            .body("EndorsementBatch")
            .returns(200, "UploadResult")],
        )
        .route(
            "/api/v1/confirmations",
            post(upload_confirmations).layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES)),
            [Op::post(
                "Importing authority: confirm what was received against permits bound for its country (idempotent)",
                Access::Roles(&[Role::Importer]),
            )
            .body("ConfirmationBatch")
            .returns(200, "UploadResult")],
        )
        .route(
            "/api/v1/authorities/{authority}/alerts",
            get(authority_alerts),
            [Op::get("Alerts on the authority's permits", Access::Roles(&[Role::Admin, Role::Issuer]))
                .query(ALERT_QUERY)
                .returns(200, "AlertList")],
        )
        .route(
            "/api/v1/locations",
            get(list_locations),
            [Op::get("UN/LOCODE places the travel check knows", Access::Public)
                .returns(200, "LocationList")],
        )
        .route(
            "/api/v1/locations/{locode}",
            put(set_location),
            [Op::put("Add or move a UN/LOCODE place", Access::Roles(&[Role::Admin]))
                .body("Location")
                .returns(200, "Location")],
        )
        .route(
            "/api/v1/alerts",
            get(all_alerts),
            [Op::get("Every alert, including codes of no known authority", Access::Roles(&[Role::Admin]))
                .query(ALERT_QUERY)
                .returns(200, "AlertList")],
        )
        .schema(
            "Place",
            json!({
                "type": "object",
                "description": "A UN/LOCODE, coordinates, or both",
                "additionalProperties": false,
                "properties": {
                    "locode": {"type": "string", "example": "KEMBA"},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lon": {"type": "number", "minimum": -180, "maximum": 180}
                }
            }),
        )
        .schema(
            "Scan",
            json!({
                "type": "object",
                "required": ["id", "device_id", "scanned_at", "place", "verdict", "qr"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string", "description": "Generated on the device (e.g. a UUID); a re-sent id is ignored"},
                    "device_id": {"type": "string"},
                    "officer": {"type": "string"},
                    "scanned_at": {"type": "string", "format": "date-time"},
                    "place": {"$ref": "#/components/schemas/Place"},
                    "verdict": {"type": "string", "enum": ["valid", "valid_with_warnings", "invalid"]},
                    "qr": {"type": "string", "description": "The scanned text, PS1:…"},
                    "device_key_id": {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "The enrolled device key that signed the report (FORMAT.md §10); with signature"},
                    "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$", "description": "ECDSA P-256 r || s (low s) over the report's bytes (FORMAT.md §10.2); required once the device's key is enrolled"}
                }
            }),
        )
        .schema(
            "ScanBatch",
            json!({"type": "object", "additionalProperties": false, "required": ["scans"], "properties": {"scans": {"type": "array", "maxItems": MAX_REPORTS, "items": {"$ref": "#/components/schemas/Scan"}}}}),
        )
        .schema(
            "Endorsement",
            json!({
                "type": "object",
                "required": ["id", "device_id", "endorsed_at", "place", "lines", "qr"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string"},
                    "device_id": {"type": "string"},
                    "officer": {"type": "string"},
                    "endorsed_at": {"type": "string", "format": "date-time"},
                    "place": {"$ref": "#/components/schemas/Place"},
                    "transport_document": {"type": "string"},
                    "lines": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["block", "quantity"], "properties": {"block": {"type": "string"}, "quantity": {"type": "string"}}}},
                    "qr": {"type": "string"},
                    "device_key_id": {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "The enrolled device key that signed the endorsement (FORMAT.md §10); with signature"},
                    "signature": {"type": "string", "pattern": "^[0-9a-f]{128}$", "description": "ECDSA P-256 r || s (low s) over the endorsement's bytes (FORMAT.md §10.3); required once the device's key is enrolled"}
                }
            }),
        )
        .schema(
            "EndorsementBatch",
            json!({"type": "object", "additionalProperties": false, "required": ["endorsements"], "properties": {"endorsements": {"type": "array", "maxItems": MAX_REPORTS, "items": {"$ref": "#/components/schemas/Endorsement"}}}}),
        )
        .schema(
            "ConfirmationBatch",
            json!({"type": "object", "additionalProperties": false, "required": ["confirmations"], "properties": {"confirmations": {"type": "array", "maxItems": MAX_REPORTS, "items": {
                "type": "object",
                "required": ["id", "received_at", "lines", "qr"],
                "additionalProperties": false,
                "properties": {
                    "id": {"type": "string"},
                    "received_at": {"type": "string", "format": "date-time"},
                    "lines": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["block", "quantity"], "properties": {"block": {"type": "string"}, "quantity": {"type": "string"}}}},
                    "qr": {"type": "string"}
                }
            }}}}),
        )
        .schema(
            "Alert",
            json!({
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "authority_id": {"type": ["string", "null"]},
                    "kind": {"type": "string", "enum": AlertKind::ALL.map(AlertKind::as_str)},
                    "status_index": {"type": ["integer", "null"]},
                    "permit_number": {"type": ["string", "null"]},
                    "source_id": {"type": "string"},
                    "detail": {"type": "string"},
                    "created_at": {"type": "string", "format": "date-time"}
                }
            }),
        )
        .schema(
            "AlertList",
            json!({"type": "object", "properties": {"alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}}, "next_after": {"type": ["integer", "null"]}}}),
        )
        .schema(
            "Location",
            json!({
                "type": "object",
                "required": ["name", "lat", "lon"],
                "additionalProperties": false,
                "properties": {
                    "locode": {"type": "string", "readOnly": true},
                    "name": {"type": "string"},
                    "lat": {"type": "number", "minimum": -90, "maximum": 90},
                    "lon": {"type": "number", "minimum": -180, "maximum": 180}
                }
            }),
        )
        .schema(
            "LocationList",
            json!({"type": "object", "properties": {"locations": {"type": "array", "items": {"$ref": "#/components/schemas/Location"}}}}),
        )
        .schema(
            "UploadResult",
            json!({
                "type": "object",
                "required": ["accepted", "duplicates", "alerts"],
                "properties": {
                    "accepted": {"type": "integer", "description": "Reports stored by this upload"},
                    "duplicates": {"type": "integer", "description": "Reports already stored before (ignored)"},
                    "alerts": {"type": "array", "items": {"$ref": "#/components/schemas/Alert"}}
                }
            }),
        )
}

const ALERT_QUERY: &[(&str, &str)] = &[
    ("kind", "Only alerts of this kind"),
    ("after", "Cursor: alert id after which to continue"),
    ("limit", "At most this many (1-1000, default 100)"),
];

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

fn answer(result: UploadResult) -> axum::Json<serde_json::Value> {
    let alerts: Vec<_> = result.alerts.into_iter().map(alert_view).collect();
    axum::Json(json!({
        "accepted": result.accepted,
        "duplicates": result.duplicates,
        "alerts": alerts,
    }))
}

fn alert_view(a: AlertRow) -> serde_json::Value {
    json!({
        "id": a.id,
        "authority_id": a.authority_id,
        "kind": a.kind,
        "status_index": a.status_index,
        "permit_number": a.permit_number,
        "source_id": a.source_id,
        "detail": a.detail,
        "created_at": format_time(a.created_at),
    })
}

async fn upload_scans(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ScanBatch>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    principal.require(&[Role::Officer])?;
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
    let result = state
        .db
        .upload_scans(&principal.token_id, &scans, t)
        .await?;
    Ok(answer(result))
}

async fn upload_endorsements(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<EndorsementBatch>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    principal.require(&[Role::Officer])?;
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
    let result = state
        .db
        .upload_endorsements(&principal.token_id, &items, t)
        .await?;
    state.sync_cache.invalidate();
    Ok(answer(result))
}

async fn upload_confirmations(
    State(state): State<AppState>,
    principal: Principal,
    Json(body): Json<ConfirmationBatch>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    principal.require(&[Role::Importer])?;
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
            report::Confirmation::check(c, Form::Received, t)
                .map_err(|e| at(&format!("confirmations[{i}]."), &e))
        })
        .collect::<Result<Vec<_>, _>>()?;
    match state
        .db
        .upload_confirmations(&principal.token_id, country.as_str(), &items, t)
        .await?
    {
        ConfirmOutcome::Done(result) => Ok(answer(result)),
        ConfirmOutcome::NotForThisCountry(i) => Err(ApiError::forbidden(format!(
            "confirmations[{i}]: the permit is not bound for {country}; nothing was stored"
        ))),
    }
}

/// Body of a place.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationDto {
    name: String,
    lat: f64,
    lon: f64,
}

async fn set_location(
    State(state): State<AppState>,
    principal: Principal,
    Path(locode): Path<String>,
    Json(body): Json<LocationDto>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    principal.require(&[Role::Admin])?;
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
    Ok(axum::Json(
        json!({"locode": code, "name": name, "lat": lat, "lon": lon}),
    ))
}

async fn list_locations(
    State(state): State<AppState>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let locations = state.db.list_locations().await?;
    Ok(axum::Json(json!({"locations": locations})))
}

/// Query of the alert lists.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertQuery {
    kind: Option<String>,
    after: Option<i64>,
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

fn alert_list(rows: Vec<AlertRow>, limit: i64) -> axum::Json<serde_json::Value> {
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let alerts: Vec<_> = rows.into_iter().map(alert_view).collect();
    axum::Json(json!({"alerts": alerts, "next_after": next_after}))
}

async fn authority_alerts(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
    Query(q): Query<AlertQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let id = AuthorityId::parse(&authority)?;
    principal.require(&[Role::Admin, Role::Issuer])?;
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

async fn all_alerts(
    State(state): State<AppState>,
    principal: Principal,
    Query(q): Query<AlertQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    principal.require(&[Role::Admin])?;
    let (kind, after, limit) = alert_query(&q)?;
    let rows = state.db.list_all_alerts(kind, after, limit).await?;
    Ok(alert_list(rows, limit))
}
