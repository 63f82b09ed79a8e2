//! Scan reports and export endorsements from field devices, and the alerts they raise.

use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post, put};
use serde::Deserialize;
use serde_json::json;

use super::{Access, Api, Op, format_time, parse_time};
use crate::domain::AlertKind;
use crate::domain::issuing::micro;
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, InvalidValue, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::field_reports::{
    AlertRow, ConfirmOutcome, ConfirmationInput, EndorsedLine, EndorsementInput, Place, ScanInput,
    UploadResult,
};

/// Most reports in one upload.
pub const MAX_REPORTS: usize = 1000;
/// Largest upload body.
pub const MAX_UPLOAD_BYTES: usize = 4 * 1024 * 1024;
/// Device clocks may run ahead by this much.
const FUTURE_SLACK: i64 = 24 * 3600;

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
                    "qr": {"type": "string", "description": "The scanned text, PS1:…"}
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
                    "qr": {"type": "string"}
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

/// A place as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceDto {
    locode: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
}

/// A scan as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanDto {
    id: String,
    device_id: String,
    officer: Option<String>,
    scanned_at: String,
    place: PlaceDto,
    verdict: String,
    qr: String,
}

/// A batch of scans.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanBatch {
    scans: Vec<ScanDto>,
}

/// An endorsed line as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LineDto {
    block: String,
    quantity: verifier_core::permit::QuantityInput,
}

/// An endorsement as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementDto {
    id: String,
    device_id: String,
    officer: Option<String>,
    endorsed_at: String,
    place: PlaceDto,
    transport_document: Option<String>,
    lines: Vec<LineDto>,
    qr: String,
}

/// A batch of endorsements.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndorsementBatch {
    endorsements: Vec<EndorsementDto>,
}

/// An import confirmation as sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationDto {
    id: String,
    received_at: String,
    lines: Vec<LineDto>,
    qr: String,
}

/// A batch of import confirmations.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmationBatch {
    confirmations: Vec<ConfirmationDto>,
}

fn at(prefix: &str, e: InvalidValue) -> ApiError {
    ApiError::invalid(e.code, format!("{prefix}{}", e.message))
}

fn report_id(field: &str, text: &str) -> Result<String, InvalidValue> {
    let ok = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(text.to_owned())
    } else {
        Err(InvalidValue::new(
            "invalid_field",
            format!("{field} must be 1-64 characters of A-Z a-z 0-9 - _ . :"),
        ))
    }
}

fn place(p: &PlaceDto) -> Result<Place, InvalidValue> {
    let locode = match p.locode.as_deref() {
        None => None,
        Some(code) => {
            let up = code.trim().to_ascii_uppercase();
            let ok = up.len() == 5
                && up.as_bytes()[..2].iter().all(u8::is_ascii_uppercase)
                && up.as_bytes()[2..]
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || (b'2'..=b'9').contains(b));
            if !ok {
                return Err(InvalidValue::new(
                    "invalid_place",
                    "place.locode must be a UN/LOCODE: country code and 3 letters or digits 2-9",
                ));
            }
            Some(up)
        }
    };
    let coords = match (p.lat, p.lon) {
        (None, None) => None,
        (Some(lat), Some(lon))
            if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
        {
            Some((lat, lon))
        }
        _ => {
            return Err(InvalidValue::new(
                "invalid_place",
                "place.lat and place.lon go together, within ±90 and ±180",
            ));
        }
    };
    if locode.is_none() && coords.is_none() {
        return Err(InvalidValue::new(
            "invalid_place",
            "place needs a locode or lat and lon",
        ));
    }
    Ok(Place { locode, coords })
}

fn time_field(field: &'static str, text: &str, now: i64) -> Result<i64, InvalidValue> {
    let t = parse_time(field, text)?;
    if t > now + FUTURE_SLACK || t < 946_684_800 {
        return Err(InvalidValue::new(
            "invalid_time",
            format!("{field} is not a plausible time"),
        ));
    }
    Ok(t)
}

fn qr_field(text: &str) -> Result<String, InvalidValue> {
    if text.is_empty() || text.len() > verifier_core::payload::MAX_TEXT_LEN {
        return Err(InvalidValue::new(
            "invalid_field",
            format!(
                "qr must be 1 to {} characters",
                verifier_core::payload::MAX_TEXT_LEN
            ),
        ));
    }
    Ok(text.to_owned())
}

fn optional_text(
    field: &'static str,
    v: &Option<String>,
    max: usize,
) -> Result<Option<String>, InvalidValue> {
    v.as_deref().map(|t| text_field(field, t, max)).transpose()
}

fn check_count(n: usize) -> Result<(), ApiError> {
    if n == 0 || n > MAX_REPORTS {
        return Err(ApiError::invalid(
            "invalid_batch",
            format!("an upload holds 1 to {MAX_REPORTS} reports"),
        ));
    }
    Ok(())
}

fn parse_scan(s: &ScanDto, now: i64) -> Result<ScanInput, InvalidValue> {
    if !["valid", "valid_with_warnings", "invalid"].contains(&s.verdict.as_str()) {
        return Err(InvalidValue::new(
            "invalid_field",
            "verdict must be valid, valid_with_warnings or invalid",
        ));
    }
    Ok(ScanInput {
        id: report_id("id", &s.id)?,
        device_id: text_field("device_id", &s.device_id, 64)?,
        officer: optional_text("officer", &s.officer, 100)?,
        scanned_at: time_field("scanned_at", &s.scanned_at, now)?,
        place: place(&s.place)?,
        verdict: s.verdict.clone(),
        qr: qr_field(&s.qr)?,
    })
}

fn parse_lines(input: &[LineDto]) -> Result<Vec<EndorsedLine>, InvalidValue> {
    if input.is_empty() || input.len() > 26 {
        return Err(InvalidValue::new(
            "invalid_field",
            "lines must hold 1 to 26 blocks",
        ));
    }
    let mut lines = Vec::with_capacity(input.len());
    for (i, l) in input.iter().enumerate() {
        let block = l.block.trim().to_ascii_uppercase();
        if block.len() != 1 || !block.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(InvalidValue::new(
                "invalid_field",
                format!("lines[{i}].block must be a letter A-Z"),
            ));
        }
        if lines.iter().any(|x: &EndorsedLine| x.block == block) {
            return Err(InvalidValue::new(
                "invalid_field",
                format!("lines[{i}].block {block} appears twice"),
            ));
        }
        let q = l
            .quantity
            .parse()
            .map_err(|e| InvalidValue::new("invalid_field", format!("lines[{i}].quantity: {e}")))?;
        lines.push(EndorsedLine {
            block,
            quantity_micro: micro(q),
        });
    }
    Ok(lines)
}

fn parse_confirmation(c: &ConfirmationDto, now: i64) -> Result<ConfirmationInput, InvalidValue> {
    Ok(ConfirmationInput {
        id: report_id("id", &c.id)?,
        confirmed_at: time_field("received_at", &c.received_at, now)?,
        lines: parse_lines(&c.lines)?,
        qr: qr_field(&c.qr)?,
    })
}

fn parse_endorsement(e: &EndorsementDto, now: i64) -> Result<EndorsementInput, InvalidValue> {
    let lines = parse_lines(&e.lines)?;
    Ok(EndorsementInput {
        id: report_id("id", &e.id)?,
        device_id: text_field("device_id", &e.device_id, 64)?,
        officer: optional_text("officer", &e.officer, 100)?,
        endorsed_at: time_field("endorsed_at", &e.endorsed_at, now)?,
        place: place(&e.place)?,
        transport_document: optional_text("transport_document", &e.transport_document, 70)?,
        lines,
        qr: qr_field(&e.qr)?,
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
    let scans = body
        .scans
        .iter()
        .enumerate()
        .map(|(i, s)| parse_scan(s, t).map_err(|e| at(&format!("scans[{i}].",), e)))
        .collect::<Result<Vec<_>, _>>()?;
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
    let items = body
        .endorsements
        .iter()
        .enumerate()
        .map(|(i, e)| {
            parse_endorsement(e, t).map_err(|err| at(&format!("endorsements[{i}]."), err))
        })
        .collect::<Result<Vec<_>, _>>()?;
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
        .map(|(i, c)| parse_confirmation(c, t).map_err(|e| at(&format!("confirmations[{i}]."), e)))
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
    let checked = place(&PlaceDto {
        locode: Some(locode),
        lat: Some(body.lat),
        lon: Some(body.lon),
    })?;
    let (Some(code), Some((lat, lon))) = (checked.locode, checked.coords) else {
        return Err(ApiError::invalid(
            "invalid_place",
            "a place needs a locode, lat and lon",
        ));
    };
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
    let rows = state.db.list_locations().await?;
    let locations: Vec<_> = rows
        .into_iter()
        .map(|(locode, name, lat, lon)| json!({"locode": locode, "name": name, "lat": lat, "lon": lon}))
        .collect();
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
