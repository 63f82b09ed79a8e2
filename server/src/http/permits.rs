//! Permits of an authority: issue (one or a batch), fetch, list and search, QR images, and
//! suspend / reinstate / revoke. Only the platform admin and the authority's own issuers.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use verifier_core::codes::{Appendix, DocumentType};
use verifier_core::permit::{IssueContext, Permit, PermitDraft, PermitErrorKind};
use verifier_core::qr::{self, Ecc};

use super::{Access, Api, Op, format_time};
use crate::domain::issuing::{format_micro, micro};
use crate::domain::{PermitState, StateAction};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::permits::{IssueItem, IssueOutcome, IssueRefusal, PermitFilter, PermitRow};

const MANAGERS: &[Role] = &[Role::Admin, Role::Issuer];
/// Most permits in one batch.
pub const MAX_BATCH: usize = 1000;
/// Largest batch body.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// The codes of a closed list, for a schema's `enum`.
fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> Vec<&'static str> {
    all.iter().map(|c| code(*c)).collect()
}

/// A `YYYY-MM-DD` date.
fn date_schema(description: &str) -> serde_json::Value {
    json!({"type": "string", "format": "date", "description": description})
}

/// An optional free text of at most `MAX_NAME_LEN` characters.
fn optional_text(description: &str) -> serde_json::Value {
    json!({"type": ["string", "null"], "maxLength": verifier_core::permit::MAX_NAME_LEN, "description": description})
}

/// What an issuer submits (verifier-core `PermitDraft`), with the code lists it is checked
/// against. The core's checks go further (validity limits per document type, source codes
/// per kingdom, boxes 12/12a/12b per source); a refusal names the field.
fn permit_draft_schema() -> serde_json::Value {
    use verifier_core::codes::Purpose;
    use verifier_core::permit::{MAX_LINES, MAX_NUMBER_LEN};
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["document_type", "number", "valid_until", "purpose", "exporter", "lines"],
        "properties": {
            "document_type": {"type": "string", "enum": codes(DocumentType::ALL, DocumentType::code)},
            "number": {"type": "string", "minLength": 1, "maxLength": MAX_NUMBER_LEN, "description": "Box 1, unique per authority (compared without punctuation and case)"},
            "valid_from": {"type": ["string", "null"], "format": "date", "description": "First day of validity; the issue date when absent"},
            "valid_until": date_schema("Box 2: last day of validity (UTC)"),
            "purpose": {"type": "string", "enum": codes(Purpose::ALL, Purpose::code), "description": "Box 5a"},
            "security_stamp": optional_text("Box 5b: security stamp number"),
            "exporter": {"$ref": "#/components/schemas/Party"},
            "importer": {"oneOf": [{"$ref": "#/components/schemas/Party"}, {"type": "null"}], "description": "Box 3; absent only on multi-use certificates"},
            "special_conditions": {"type": ["string", "null"], "description": "Box 5; bound into the QR code by digest"},
            "lines": {"type": "array", "minItems": 1, "maxItems": MAX_LINES, "items": {"$ref": "#/components/schemas/PermitLine"}, "description": "Blocks A, B, … in order"}
        },
    })
}

fn party_schema() -> serde_json::Value {
    use verifier_core::codes::Country;
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["name", "country"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": verifier_core::permit::MAX_NAME_LEN},
            "country": {"type": "string", "enum": Country::ALL_CODES, "description": "ISO 3166-1 alpha-2"},
            "address": {"type": ["string", "null"], "description": "Bound into the QR code by digest"}
        }
    })
}

fn line_schema() -> serde_json::Value {
    use verifier_core::codes::{Kingdom, Source, Term, Unit};
    let mut units = codes(Unit::ALL, Unit::code);
    units.push("");
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["scientific_name", "kingdom", "term", "appendix", "source", "quantity"],
        "properties": {
            "scientific_name": {"type": "string", "minLength": 1, "maxLength": verifier_core::permit::MAX_NAME_LEN, "description": "Box 7"},
            "common_name": optional_text("Box 8; bound by digest"),
            "kingdom": {"type": "string", "enum": codes(Kingdom::ALL, Kingdom::code), "description": "Decides which source codes are allowed"},
            "description": {"type": ["string", "null"], "description": "Box 9 description and marks; bound by digest"},
            "term": {"type": "string", "enum": codes(Term::ALL, Term::code), "description": "Box 9 term code"},
            "appendix": {"type": "string", "enum": codes(Appendix::ALL, Appendix::code), "description": "Box 10"},
            "source": {"type": "string", "enum": codes(Source::ALL, Source::code), "description": "Box 10"},
            "quantity": {"anyOf": [{"type": "string", "pattern": "^[0-9]+(\\.[0-9]{1,6})?$"}, {"type": "integer", "minimum": 1}, {"type": "number", "exclusiveMinimum": 0}], "description": "Box 11: greater than zero, at most six decimals; a string keeps it exact"},
            "unit": {"type": ["string", "null"], "enum": units.into_iter().map(Some).chain([None]).collect::<Vec<_>>(), "description": "Box 11; number of specimens when absent, empty or NAR"},
            "origin": {"oneOf": [{"$ref": "#/components/schemas/DocumentReference"}, {"type": "null"}], "description": "Box 12: country of origin, permit number and date"},
            "last_reexport": {"oneOf": [{"$ref": "#/components/schemas/DocumentReference"}, {"type": "null"}], "description": "Box 12a"},
            "operation_number": optional_text("Box 12b: registered operation number (source D)"),
            "acquisition_date": {"type": ["string", "null"], "format": "date", "description": "Box 12b: date of acquisition (source O)"},
            "justification": {"type": ["string", "null"], "description": "Why source U is used or box 12 is unknown; bound by digest"}
        }
    })
}

fn doc_ref_schema() -> serde_json::Value {
    use verifier_core::codes::Country;
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["country", "number", "date"],
        "properties": {
            "country": {"type": "string", "enum": Country::ALL_CODES},
            "number": {"type": "string", "minLength": 1},
            "date": date_schema("Its issue date")
        }
    })
}

/// Routes of this module.
pub fn api() -> Api {
    Api::new("permits")
        .route(
            "/api/v1/authorities/{authority}/permits",
            get(list).post(issue),
            [
                Op::post("Issue and sign a permit", Access::Roles(MANAGERS))
                    .body("IssueRequest")
                    .returns(201, "Permit"),
                Op::get("List and search the authority's permits", Access::Roles(MANAGERS))
                    .query(&[
                        ("state", "valid, suspended, revoked or used"),
                        ("number", "Number prefix (compared without punctuation, case-insensitive)"),
                        ("import_country", "ISO country of import"),
                        ("after", "Cursor: status index after which to continue"),
                        ("limit", "At most this many (1-1000, default 100)"),
                    ])
                    .returns(200, "PermitList"),
            ],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/batch",
            post(issue_batch).layer(axum::extract::DefaultBodyLimit::max(MAX_BATCH_BYTES)),
            [Op::post(
                "Issue up to 1000 permits atomically (all or none)",
                Access::Roles(MANAGERS),
            )
            .body("IssueBatch")
            .returns(201, "IssuedBatch")],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/{number}",
            get(fetch),
            [Op::get("One permit with its signed QR text and state", Access::Roles(MANAGERS))
                .returns(200, "Permit")],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/{number}/qr.png",
            get(qr_png),
            [Op::get("The permit's QR code as PNG", Access::Roles(MANAGERS))
                .query(&[("ecc", "L, M, Q (default) or H"), ("scale", "Pixels per module, 1-40 (default 8)")])
                .returns_media("image/png")],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/{number}/qr.txt",
            get(qr_txt),
            [Op::get("The permit's signed QR text (PS1:…) as plain text", Access::Roles(MANAGERS))
                .returns_media("text/plain")],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/{number}/qr.svg",
            get(qr_svg),
            [Op::get("The permit's QR code as SVG", Access::Roles(MANAGERS))
                .query(&[("ecc", "L, M, Q (default) or H")])
                .returns_media("image/svg+xml")],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/{number}/suspend",
            post(suspend),
            [Op::post("Suspend a valid permit", Access::Roles(MANAGERS))
                .body("StateChange")
                .returns(200, "Permit")],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/{number}/reinstate",
            post(reinstate),
            [Op::post("Reinstate a suspended permit", Access::Roles(MANAGERS))
                .body("StateChange")
                .returns(200, "Permit")],
        )
        .route(
            "/api/v1/authorities/{authority}/permits/{number}/revoke",
            post(revoke),
            [Op::post("Revoke a permit for good", Access::Roles(MANAGERS))
                .body("StateChange")
                .returns(200, "Permit")],
        )
        .route(
            "/api/v1/authorities/{authority}/quotas",
            get(list_quotas).put(set_quota),
            [
                Op::get("The authority's annual quotas and what is used", Access::Roles(MANAGERS))
                    .returns(200, "QuotaList"),
                Op::put(
                    "Set the annual quota of a taxon in a unit (issuance beyond it is refused)",
                    Access::Roles(MANAGERS),
                )
                .body("SetQuota")
                .returns(200, "Quota"),
            ],
        )
        .schema(
            "IssueRequest",
            json!({
                "type": "object",
                "required": ["permit"],
                "additionalProperties": false,
                "properties": {
                    "permit": {"$ref": "#/components/schemas/PermitDraft"},
                    "import_permit": {"$ref": "#/components/schemas/ImportPermitRef"}
                }
            }),
        )
        .schema("PermitDraft", permit_draft_schema())
        .schema("Party", party_schema())
        .schema("PermitLine", line_schema())
        .schema("DocumentReference", doc_ref_schema())
        .schema(
            "ImportPermitRef",
            json!({
                "type": "object",
                "required": ["country", "number"],
                "description": "The import permit an Appendix-I export is issued against (Art. III(2)(d)).",
                "properties": {"country": {"type": "string"}, "number": {"type": "string"}}
            }),
        )
        .schema(
            "IssueBatch",
            json!({
                "type": "object",
                "required": ["permits"],
                "properties": {"permits": {"type": "array", "maxItems": MAX_BATCH, "items": {"$ref": "#/components/schemas/IssueRequest"}}}
            }),
        )
        .schema(
            "IssuedBatch",
            json!({
                "type": "object",
                "required": ["issued", "permits"],
                "properties": {
                    "issued": {"type": "integer"},
                    "permits": {"type": "array", "items": {"type": "object", "properties": {"number": {"type": "string"}, "status_index": {"type": "integer"}}}}
                }
            }),
        )
        .schema(
            "Permit",
            json!({
                "type": "object",
                "required": ["authority_id", "number", "status_index", "state", "qr_text"],
                "properties": {
                    "authority_id": {"type": "string"},
                    "number": {"type": "string"},
                    "status_index": {"type": "integer"},
                    "document_type": {"type": "string"},
                    "export_country": {"type": "string"},
                    "import_country": {"type": ["string", "null"]},
                    "issued_at": {"type": "string", "format": "date-time"},
                    "valid_until": {"type": "string", "format": "date"},
                    "kid": {"type": "string"},
                    "state": {"type": "string", "enum": ["valid", "suspended", "revoked", "used"]},
                    "state_reason": {"type": ["string", "null"]},
                    "state_changed_at": {"type": "string", "format": "date-time"},
                    "qr_text": {"type": "string"},
                    "import_permit": {"type": ["object", "null"]},
                    "draft": {"type": "object"}
                }
            }),
        )
        .schema(
            "PermitList",
            json!({
                "type": "object",
                "required": ["permits"],
                "properties": {
                    "permits": {"type": "array", "items": {"$ref": "#/components/schemas/Permit"}},
                    "next_after": {"type": ["integer", "null"]}
                }
            }),
        )
        .schema(
            "StateChange",
            json!({
                "type": "object",
                "required": ["reason"],
                "additionalProperties": false,
                "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 500}}
            }),
        )
        .schema(
            "SetQuota",
            json!({
                "type": "object",
                "required": ["year", "scientific_name", "unit", "quantity"],
                "additionalProperties": false,
                "properties": {
                    "year": {"type": "integer", "minimum": 2000, "maximum": 2200},
                    "scientific_name": {"type": "string"},
                    "unit": {"type": "string", "description": "CITES unit code, e.g. NAR, KIL"},
                    "quantity": {"type": "string", "description": "Decimal, at most 6 places"}
                }
            }),
        )
        .schema(
            "Quota",
            json!({
                "type": "object",
                "properties": {
                    "year": {"type": "integer"}, "scientific_name": {"type": "string"},
                    "unit": {"type": "string"}, "quota": {"type": "string"}, "used": {"type": "string"}
                }
            }),
        )
        .schema(
            "QuotaList",
            json!({"type": "object", "properties": {"quotas": {"type": "array", "items": {"$ref": "#/components/schemas/Quota"}}}}),
        )
}

/// Body of an issuance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRequest {
    permit: PermitDraft,
    import_permit: Option<ImportPermitRef>,
}

/// Reference to an import permit.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ImportPermitRef {
    country: String,
    number: String,
}

/// Body of a batch issuance.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBatch {
    permits: Vec<IssueRequest>,
}

/// A permit as answered.
#[derive(Debug, Serialize)]
pub struct PermitView {
    authority_id: String,
    number: String,
    status_index: i64,
    document_type: String,
    export_country: String,
    import_country: Option<String>,
    issued_at: String,
    valid_until: String,
    kid: String,
    state: String,
    state_reason: Option<String>,
    state_changed_at: String,
    qr_text: String,
    import_permit: Option<serde_json::Value>,
    draft: serde_json::Value,
}

impl From<PermitRow> for PermitView {
    fn from(row: PermitRow) -> Self {
        Self {
            authority_id: row.authority_id,
            number: row.number,
            status_index: row.status_index,
            document_type: row.document_type,
            export_country: row.export_country,
            import_country: row.import_country,
            issued_at: format_time(row.issued_at),
            valid_until: row.valid_until,
            kid: row.kid,
            state: row.state.to_string(),
            state_reason: row.state_reason,
            state_changed_at: format_time(row.state_changed_at),
            qr_text: row.qr_text,
            import_permit: row
                .import_permit
                .and_then(|t| serde_json::from_str(&t).ok()),
            draft: serde_json::from_str(&row.draft).unwrap_or(serde_json::Value::Null),
        }
    }
}

async fn managed(
    state: &AppState,
    principal: &Principal,
    authority: &str,
) -> Result<(AuthorityId, String), ApiError> {
    let id = AuthorityId::parse(authority)?;
    principal.require(MANAGERS)?;
    principal.require_manages(&id)?;
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    Ok((id, row.country))
}

/// Checks a request with the core's rules and the rules that need no database: a draft error is
/// reported with the path of its field.
pub fn check_request(
    req: &IssueRequest,
    issuing_country: &str,
    now: i64,
    prefix: &str,
) -> Result<IssueItem, ApiError> {
    let country = issuing_country
        .parse()
        .map_err(|_| ApiError::internal("authority country is not an ISO code"))?;
    let ctx = IssueContext {
        issuing_country: country,
        issued_at: now,
        status_index: 0,
    };
    let permit = Permit::new(&req.permit, ctx).map_err(|e| {
        let code = match e.kind {
            PermitErrorKind::UnknownCode(_) => "unknown_code",
            _ => "invalid_permit",
        };
        ApiError::invalid(code, format!("{prefix}permit.{e}"))
    })?;
    let data = permit.data();
    let needs_import_permit = data.document_type == DocumentType::Export
        && data.lines.iter().any(|l| l.appendix == Appendix::I);
    let import_permit = match (&req.import_permit, needs_import_permit) {
        (None, true) => {
            return Err(ApiError::invalid(
                "import_permit_required",
                format!(
                    "{prefix}an Appendix-I export needs the import permit it is issued against (import_permit)"
                ),
            ));
        }
        (Some(r), _) => {
            let c = crate::model::CountryCode::parse(&r.country)?;
            let importer = data.importer.as_ref().map(|p| p.country.to_string());
            if importer.as_deref() != Some(c.as_str()) {
                return Err(ApiError::invalid(
                    "import_permit_mismatch",
                    format!("{prefix}import_permit.country must be the importer's country"),
                ));
            }
            let number = text_field("import_permit.number", &r.number, 35)?;
            Some((c.to_string(), number))
        }
        (None, false) => None,
    };
    Ok(IssueItem {
        draft: req.permit.clone(),
        draft_json: serde_json::to_string(&req.permit).map_err(ApiError::internal)?,
        import_permit,
    })
}

fn refusal(r: IssueRefusal) -> ApiError {
    match r {
        IssueRefusal::DuplicateNumber { .. } => {
            ApiError::conflict("duplicate_number", r.to_string())
        }
        IssueRefusal::ImportPermit { .. } => {
            ApiError::invalid("import_permit_invalid", r.to_string())
        }
        IssueRefusal::QuotaExceeded { .. } => ApiError::invalid("quota_exceeded", r.to_string()),
        IssueRefusal::TaxonListing { .. } => {
            ApiError::invalid("taxon_listing_mismatch", r.to_string())
        }
    }
}

async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
    Json(body): Json<IssueRequest>,
) -> Result<(StatusCode, Json<PermitView>), ApiError> {
    let (id, country) = managed(&state, &principal, &authority).await?;
    let t = state.clock.now();
    let item = check_request(&body, &country, t, "")?;
    let outcome = state
        .db
        .issue_permits(&principal.token_id, &id, &[item], &state.master, t)
        .await?;
    state.sync_cache.invalidate();
    match outcome {
        IssueOutcome::Issued(mut rows) => {
            let row = rows
                .pop()
                .ok_or_else(|| ApiError::internal("issued nothing"))?;
            tracing::info!(authority = %id, number = %row.number, index = row.status_index, "permit issued");
            Ok((StatusCode::CREATED, Json(row.into())))
        }
        IssueOutcome::Refused(r) => Err(refusal(r)),
    }
}

async fn issue_batch(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
    Json(body): Json<IssueBatch>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let (id, country) = managed(&state, &principal, &authority).await?;
    if body.permits.is_empty() || body.permits.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "invalid_batch",
            format!("a batch holds 1 to {MAX_BATCH} permits"),
        ));
    }
    let t = state.clock.now();
    let items = body
        .permits
        .iter()
        .enumerate()
        .map(|(i, req)| check_request(req, &country, t, &format!("permits[{i}].")))
        .collect::<Result<Vec<_>, _>>()?;
    let outcome = state
        .db
        .issue_permits(&principal.token_id, &id, &items, &state.master, t)
        .await?;
    state.sync_cache.invalidate();
    match outcome {
        IssueOutcome::Issued(rows) => {
            let list: Vec<_> = rows
                .iter()
                .map(|r| json!({"number": r.number, "status_index": r.status_index}))
                .collect();
            tracing::info!(authority = %id, count = rows.len(), "permit batch issued");
            Ok((
                StatusCode::CREATED,
                axum::Json(json!({"issued": rows.len(), "permits": list})),
            ))
        }
        IssueOutcome::Refused(r) => Err(refusal(r)),
    }
}

/// Query of the list endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    number: Option<String>,
    import_country: Option<String>,
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let (id, _) = managed(&state, &principal, &authority).await?;
    let wanted = q
        .state
        .as_deref()
        .map(str::parse::<PermitState>)
        .transpose()
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_query",
                "state must be valid, suspended, revoked or used",
            )
        })?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "limit must be 1 to 1000",
        ));
    }
    let filter = PermitFilter {
        state: wanted,
        number_prefix: q.number,
        import_country: q
            .import_country
            .as_deref()
            .map(crate::model::CountryCode::parse)
            .transpose()?
            .map(|c| c.to_string()),
        after: q.after,
        limit,
    };
    let rows = state.db.list_permits(&id, &filter).await?;
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.status_index))
        .flatten();
    let permits: Vec<PermitView> = rows.into_iter().map(PermitView::from).collect();
    Ok(axum::Json(
        json!({"permits": permits, "next_after": next_after}),
    ))
}

async fn find(
    state: &AppState,
    principal: &Principal,
    authority: &str,
    number: &str,
) -> Result<PermitRow, ApiError> {
    let (id, _) = managed(state, principal, authority).await?;
    state
        .db
        .permit_by_number(&id, number)
        .await?
        .ok_or_else(|| ApiError::not_found("permit"))
}

async fn fetch(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
) -> Result<Json<PermitView>, ApiError> {
    Ok(Json(
        find(&state, &principal, &authority, &number).await?.into(),
    ))
}

/// Query of the QR endpoints.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrQuery {
    ecc: Option<String>,
    scale: Option<u32>,
}

fn ecc(q: &QrQuery) -> Result<Ecc, ApiError> {
    match q.ecc.as_deref() {
        None => Ok(Ecc::Q),
        Some(s) => Ecc::parse(s)
            .ok_or_else(|| ApiError::bad_request("invalid_query", "ecc must be L, M, Q or H")),
    }
}

async fn qr_png(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
    Query(q): Query<QrQuery>,
) -> Result<Response, ApiError> {
    let level = ecc(&q)?;
    let scale = q.scale.unwrap_or(8);
    if !(1..=40).contains(&scale) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "scale must be 1 to 40",
        ));
    }
    let row = find(&state, &principal, &authority, &number).await?;
    let png = qr::render_png(&row.qr_text, level, scale).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

async fn qr_txt(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let row = find(&state, &principal, &authority, &number).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        row.qr_text,
    )
        .into_response())
}

async fn qr_svg(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
    Query(q): Query<QrQuery>,
) -> Result<Response, ApiError> {
    let level = ecc(&q)?;
    if q.scale.is_some() {
        return Err(ApiError::bad_request(
            "invalid_query",
            "an SVG has no scale",
        ));
    }
    let row = find(&state, &principal, &authority, &number).await?;
    let svg = qr::render_svg(&row.qr_text, level).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// Body of a state change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    reason: String,
}

async fn change(
    state: AppState,
    principal: Principal,
    authority: String,
    number: String,
    body: StateChange,
    action: StateAction,
) -> Result<Json<PermitView>, ApiError> {
    let (id, _) = managed(&state, &principal, &authority).await?;
    let reason = text_field("reason", &body.reason, 500)?;
    let row = state
        .db
        .change_permit_state(
            &principal.token_id,
            &id,
            &number,
            action,
            &reason,
            state.clock.now(),
        )
        .await?;
    state.sync_cache.invalidate();
    tracing::info!(authority = %id, number = %row.number, action = action.as_str(), "permit state changed");
    Ok(Json(row.into()))
}

async fn suspend(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
    Json(body): Json<StateChange>,
) -> Result<Json<PermitView>, ApiError> {
    change(
        state,
        principal,
        authority,
        number,
        body,
        StateAction::Suspend,
    )
    .await
}

async fn reinstate(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
    Json(body): Json<StateChange>,
) -> Result<Json<PermitView>, ApiError> {
    change(
        state,
        principal,
        authority,
        number,
        body,
        StateAction::Reinstate,
    )
    .await
}

async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path((authority, number)): Path<(String, String)>,
    Json(body): Json<StateChange>,
) -> Result<Json<PermitView>, ApiError> {
    change(
        state,
        principal,
        authority,
        number,
        body,
        StateAction::Revoke,
    )
    .await
}

/// Body of a quota change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetQuota {
    year: i32,
    scientific_name: String,
    unit: String,
    quantity: verifier_core::permit::QuantityInput,
}

async fn set_quota(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
    Json(body): Json<SetQuota>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let (id, _) = managed(&state, &principal, &authority).await?;
    if !(2000..=2200).contains(&body.year) {
        return Err(ApiError::invalid(
            "invalid_field",
            "year must be 2000 to 2200",
        ));
    }
    let unit: verifier_core::codes::Unit =
        body.unit
            .parse()
            .map_err(|e: verifier_core::codes::CodeError| {
                ApiError::invalid("unknown_code", format!("unit: {e}"))
            })?;
    let name = text_field("scientific_name", &body.scientific_name, 255)?;
    let quantity = body
        .quantity
        .parse()
        .map_err(|e| ApiError::invalid("invalid_field", format!("quantity: {e}")))?;
    let quota = state
        .db
        .set_quota(
            &principal.token_id,
            &id,
            body.year,
            &name,
            &unit.to_string(),
            micro(quantity),
            state.clock.now(),
        )
        .await?;
    Ok(axum::Json(json!({
        "year": body.year, "scientific_name": name, "unit": unit.to_string(),
        "quota": format_micro(quota.quota_micro), "used": format_micro(quota.used_micro)
    })))
}

async fn list_quotas(
    State(state): State<AppState>,
    principal: Principal,
    Path(authority): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let (id, _) = managed(&state, &principal, &authority).await?;
    let rows = state.db.list_quotas(&id).await?;
    let quotas: Vec<_> = rows
        .into_iter()
        .map(|q| {
            json!({"year": q.year, "scientific_name": q.scientific_name, "unit": q.unit,
                   "quota": format_micro(q.quota.quota_micro), "used": format_micro(q.quota.used_micro)})
        })
        .collect();
    Ok(axum::Json(json!({"quotas": quotas})))
}
