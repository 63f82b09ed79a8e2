//! Permits of an authority: issue (one or a batch), fetch, list and search, QR images, and
//! suspend / reinstate / revoke. Only the platform admin and the authority's own issuers.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::UtoipaMethodRouterExt as _;
use utoipa_axum::routes;
use verifier_core::qr::{self, Ecc};

use super::params::{AuthorityPath, PermitPath};
use super::{Access, Api};
use crate::domain::issuing::{format_micro, micro};
use crate::domain::{PermitState, RevocationReason, StateAction};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::model::{AuthorityId, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::permits::{
    IssueOutcome, IssueRefusal, PermitFilter, PermitRow, QuotaScope, QuotaUse,
};
use crate::views::{IssueBatch, IssueRequest, PermitView, check_request};

const MANAGERS: &[Role] = &[Role::Admin, Role::Issuer];
/// Who may look permits up: the platform admin, the authority's issuer tokens, and its staff
/// users (who do not issue directly: issuance by users goes through the application workflow).
pub(crate) const READERS: &[Role] = &[
    Role::Admin,
    Role::Issuer,
    Role::Clerk,
    Role::Signatory,
    Role::AuthorityAdmin,
];
/// Who may see and set quotas: the authority's administrator besides issuer tokens.
pub(crate) const QUOTA_SETTERS: &[Role] = &[Role::Admin, Role::Issuer, Role::AuthorityAdmin];
/// Who may suspend, reinstate and revoke: the same, but the authority's administrator.
pub(crate) const CHANGERS: &[Role] = &[Role::Admin, Role::Issuer, Role::Clerk, Role::Signatory];
/// Most permits in one batch.
pub const MAX_BATCH: usize = 1000;
/// Largest batch body.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("permits")
        .routes(Access::Roles(MANAGERS), routes!(issue))
        .routes(Access::Roles(READERS), routes!(list))
        .routes(
            Access::Roles(MANAGERS),
            routes!(issue_batch).layer(axum::extract::DefaultBodyLimit::max(MAX_BATCH_BYTES)),
        )
        .routes(Access::Roles(READERS), routes!(fetch))
        .routes(Access::Roles(READERS), routes!(qr_png))
        .routes(Access::Roles(READERS), routes!(qr_txt))
        .routes(Access::Roles(READERS), routes!(qr_svg))
        .routes(Access::Roles(CHANGERS), routes!(suspend))
        .routes(Access::Roles(CHANGERS), routes!(reinstate))
        .routes(Access::Roles(CHANGERS), routes!(revoke))
        .routes(
            Access::Roles(QUOTA_SETTERS),
            routes!(list_quotas, set_quota),
        )
}

/// One permit of a batch as answered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedEntry {
    number: String,
    status_index: i64,
}

/// Answer of a batch issuance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IssuedBatch {
    /// How many permits were issued.
    issued: usize,
    permits: Vec<IssuedEntry>,
}

/// A page of permits.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermitList {
    permits: Vec<PermitView>,
    /// Cursor for the next page (`after`); null on the last page.
    next_after: Option<i64>,
}

/// A quota and what is used of it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Quota {
    pub(crate) year: i64,
    pub(crate) scientific_name: String,
    #[schema(value_type = verifier_core::codes::Unit)]
    pub(crate) unit: String,
    /// Term code the quota is of; none: every term.
    #[schema(value_type = Option<verifier_core::codes::Term>)]
    pub(crate) term: Option<String>,
    /// Source code the quota is of; none: every source.
    #[schema(value_type = Option<verifier_core::codes::Source>)]
    pub(crate) source: Option<String>,
    /// Purpose code the quota is of; none: every purpose.
    #[schema(value_type = Option<verifier_core::codes::Purpose>)]
    pub(crate) purpose: Option<String>,
    /// Decimal text.
    pub(crate) quota: String,
    /// Issued under it so far this year (unrevoked permits), decimal text.
    pub(crate) used: String,
    /// Endorsed at export (box 14) of the permits counted against it, decimal text.
    pub(crate) endorsed: String,
}

impl Quota {
    fn new(
        year: i64,
        scientific_name: String,
        unit: String,
        scope: QuotaScope,
        q: QuotaUse,
    ) -> Self {
        Self {
            year,
            scientific_name,
            unit,
            term: scope.term,
            source: scope.source,
            purpose: scope.purpose,
            quota: format_micro(q.quota_micro),
            used: format_micro(q.used_micro),
            endorsed: format_micro(q.endorsed_micro),
        }
    }
}

/// An optional code of a quota's scope: absent or empty is any; else it must be a code of `T`.
fn scope_code<T>(field: &str, value: Option<&str>) -> Result<Option<String>, ApiError>
where
    T: std::str::FromStr<Err = verifier_core::codes::CodeError> + std::fmt::Display,
{
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<T>()
            .map(|c| Some(c.to_string()))
            .map_err(|e| ApiError::invalid("unknown_code", format!("{field}: {e}"))),
    }
}

/// The authority's quotas.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QuotaList {
    pub(crate) quotas: Vec<Quota>,
}

async fn managed(
    state: &AppState,
    principal: &Principal,
    authority: &str,
) -> Result<(AuthorityId, String), ApiError> {
    let id = AuthorityId::parse(authority)?;
    principal.require_manages(&id)?;
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    Ok((id, row.country))
}

/// The authority of a path, if the caller may act on its permits with `roles`: the platform
/// admin, an issuer token of the authority, or a user of the authority holding one of them.
pub(crate) async fn staff_of(
    state: &AppState,
    principal: &Principal,
    authority: &str,
    roles: &[Role],
) -> Result<(AuthorityId, String), ApiError> {
    let id = AuthorityId::parse(authority)?;
    let user_of_it = principal.user.is_some()
        && principal.authority.as_ref() == Some(&id)
        && roles
            .iter()
            .any(|r| r.is_user_role() && principal.holds(*r));
    if !user_of_it {
        principal.require_manages(&id)?;
    }
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    Ok((id, row.country))
}

pub(crate) fn refusal(r: IssueRefusal) -> ApiError {
    match r {
        IssueRefusal::DuplicateNumber { .. } => {
            ApiError::conflict("duplicate_number", r.to_string())
        }
        IssueRefusal::ImportPermit { .. } => {
            ApiError::invalid("import_permit_invalid", r.to_string())
        }
        IssueRefusal::ImportPermitCoverage { .. } => {
            ApiError::invalid("import_permit_not_covering", r.to_string())
        }
        IssueRefusal::QuotaExceeded { .. } => ApiError::invalid("quota_exceeded", r.to_string()),
        IssueRefusal::ListingRule { code, .. } => ApiError::invalid(code, r.to_string()),
        IssueRefusal::TaxonListing { .. } => {
            ApiError::invalid("taxon_listing_mismatch", r.to_string())
        }
        IssueRefusal::ApplicationChanged { .. } => {
            ApiError::conflict("version_conflict", r.to_string())
        }
    }
}

/// Issue and sign a permit
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/permits", params(AuthorityPath), request_body = IssueRequest,
    responses((status = 201, body = PermitView)))]
async fn issue(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
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

/// Issue up to 1000 permits atomically (all or none)
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/permits/batch", params(AuthorityPath), request_body = IssueBatch,
    responses((status = 201, body = IssuedBatch)))]
async fn issue_batch(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Json(body): Json<IssueBatch>,
) -> Result<(StatusCode, Json<IssuedBatch>), ApiError> {
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
            let permits: Vec<_> = rows
                .iter()
                .map(|r| IssuedEntry {
                    number: r.number.clone(),
                    status_index: r.status_index,
                })
                .collect();
            tracing::info!(authority = %id, count = rows.len(), "permit batch issued");
            Ok((
                StatusCode::CREATED,
                Json(IssuedBatch {
                    issued: rows.len(),
                    permits,
                }),
            ))
        }
        IssueOutcome::Refused(r) => Err(refusal(r)),
    }
}

/// Query of the list endpoint.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only permits in this state.
    #[param(value_type = Option<PermitState>, inline)]
    state: Option<String>,
    /// Number prefix (compared without punctuation, case-insensitive).
    number: Option<String>,
    /// ISO country of import.
    #[param(value_type = Option<verifier_core::codes::Country>, inline)]
    import_country: Option<String>,
    /// Cursor: status index after which to continue.
    after: Option<i64>,
    /// At most this many (default 100).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<i64>,
}

/// List and search the authority's permits
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits", params(AuthorityPath, ListQuery),
    responses((status = 200, body = PermitList)))]
async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Query(q): Query<ListQuery>,
) -> Result<Json<PermitList>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    let rows = list_rows(&state, &principal, &authority, q).await?;
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| r.status_index))
        .flatten();
    let permits: Vec<PermitView> = rows.into_iter().map(PermitView::from).collect();
    Ok(Json(PermitList {
        permits,
        next_after,
    }))
}

impl ListQuery {
    /// A page's search: by number prefix and state, the newest hundred.
    pub(crate) fn for_pages(number: Option<String>, state: Option<String>) -> ListQuery {
        ListQuery {
            state,
            number,
            import_country: None,
            after: None,
            limit: Some(100),
        }
    }
}

/// The permits a list asks for, if the caller may see them.
pub(crate) async fn list_rows(
    state: &AppState,
    principal: &Principal,
    authority: &str,
    q: ListQuery,
) -> Result<Vec<PermitRow>, ApiError> {
    let (id, _) = staff_of(state, principal, authority, READERS).await?;
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
    Ok(state.db.list_permits(&id, &filter).await?)
}

pub(crate) async fn find(
    state: &AppState,
    principal: &Principal,
    authority: &str,
    number: &str,
) -> Result<PermitRow, ApiError> {
    let (id, _) = staff_of(state, principal, authority, READERS).await?;
    state
        .db
        .permit_by_number(&id, number)
        .await?
        .ok_or_else(|| ApiError::not_found("permit"))
}

/// One permit with its signed QR text and state
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits/{number}", params(PermitPath),
    responses((status = 200, body = PermitView)))]
async fn fetch(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
) -> Result<Json<PermitView>, ApiError> {
    let row = find(&state, &principal, &authority, &number).await?;
    let blocks = state
        .db
        .lettered_block_quotas(&row.authority_id, row.status_index)
        .await?;
    Ok(Json(PermitView::from(row).with_quota_use(blocks)))
}

/// Query of the QR endpoints.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QrQuery {
    /// Error correction level (default Q).
    #[param(value_type = Option<EccLevel>, inline)]
    ecc: Option<String>,
    /// Pixels per module (default 8).
    #[param(minimum = 1, maximum = 40)]
    scale: Option<u32>,
}

/// Query of the SVG endpoint: a vector image has no scale.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SvgQuery {
    /// Error correction level (default Q).
    #[param(value_type = Option<EccLevel>, inline)]
    ecc: Option<String>,
}

/// QR error correction levels as the query names them (`Ecc::parse`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // Describes the query's text in the document; never built.
pub enum EccLevel {
    /// About 7 % of the code may be lost.
    L,
    /// About 15 %.
    M,
    /// About 25 %.
    Q,
    /// About 30 %.
    H,
}

/// A permit too long for a code at the asked level is the caller's choice of level: 422 with
/// the limit. Issuance guarantees the printing level fits.
fn qr_error(e: qr::QrError, level: Ecc, text: &str) -> ApiError {
    match e {
        qr::QrError::TooLong => ApiError::invalid(
            "qr_too_large",
            format!(
                "the permit's QR text has {} characters; a code at error correction {} holds at most {}: ask for a lower level",
                text.len(),
                level.letter(),
                level.max_text_len()
            ),
        ),
        other => ApiError::internal(other),
    }
}

fn ecc(text: Option<&str>) -> Result<Ecc, ApiError> {
    match text {
        None => Ok(Ecc::Q),
        Some(s) => Ecc::parse(s)
            .ok_or_else(|| ApiError::bad_request("invalid_query", "ecc must be L, M, Q or H")),
    }
}

/// The permit's QR code as PNG
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits/{number}/qr.png", params(PermitPath, QrQuery),
    responses((status = 200, description = "PNG image", content_type = "image/png", body = crate::http::openapi::Binary)))]
async fn qr_png(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
    Query(q): Query<QrQuery>,
) -> Result<Response, ApiError> {
    let level = ecc(q.ecc.as_deref())?;
    let scale = q.scale.unwrap_or(8);
    if !(1..=40).contains(&scale) {
        return Err(ApiError::bad_request(
            "invalid_query",
            "scale must be 1 to 40",
        ));
    }
    let row = find(&state, &principal, &authority, &number).await?;
    let png =
        qr::render_png(&row.qr_text, level, scale).map_err(|e| qr_error(e, level, &row.qr_text))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}

/// The permit's signed QR text (PS1:…) as plain text
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits/{number}/qr.txt", params(PermitPath),
    responses((status = 200, description = "The QR text", content_type = "text/plain; charset=utf-8", body = String)))]
async fn qr_txt(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
) -> Result<Response, ApiError> {
    let row = find(&state, &principal, &authority, &number).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        row.qr_text,
    )
        .into_response())
}

/// The permit's QR code as SVG
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/permits/{number}/qr.svg", params(PermitPath, SvgQuery),
    responses((status = 200, description = "SVG image", content_type = "image/svg+xml", body = String)))]
async fn qr_svg(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
    Query(q): Query<SvgQuery>,
) -> Result<Response, ApiError> {
    let level = ecc(q.ecc.as_deref())?;
    let row = find(&state, &principal, &authority, &number).await?;
    let svg = qr::render_svg(&row.qr_text, level).map_err(|e| qr_error(e, level, &row.qr_text))?;
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response())
}

/// Body of a state change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateChange {
    /// Why; kept with the permit and shown to verifiers.
    #[schema(min_length = 1, max_length = 500)]
    pub(crate) reason: String,
    /// Revocation only: why, as the destination and the Secretariat are told.
    pub(crate) kind: Option<RevocationReason>,
    /// Revocation as `replaced` only: the number of the permit of this authority that
    /// replaces it.
    #[schema(min_length = 1, max_length = 35)]
    pub(crate) replacement: Option<String>,
}

pub(crate) async fn change(
    state: AppState,
    principal: Principal,
    authority: String,
    number: String,
    body: StateChange,
    action: StateAction,
) -> Result<Json<PermitView>, ApiError> {
    let (id, _) = staff_of(&state, &principal, &authority, CHANGERS).await?;
    let reason = text_field("reason", &body.reason, 500)?;
    let replacement = body
        .replacement
        .as_deref()
        .map(|r| text_field("replacement", r, 35))
        .transpose()?;
    RevocationReason::check(action, body.kind, replacement.as_deref())
        .map_err(|m| ApiError::invalid("invalid_revocation", m))?;
    let revocation = body.kind.map(|k| (k, replacement.as_deref()));
    let row = state
        .db
        .change_permit_state(
            &principal.token_id,
            &id,
            &number,
            action,
            &reason,
            revocation,
            state.clock.now(),
        )
        .await?;
    state.sync_cache.invalidate();
    tracing::info!(authority = %id, number = %row.number, action = action.as_str(), "permit state changed");
    Ok(Json(row.into()))
}

/// Suspend a valid permit
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/permits/{number}/suspend", params(PermitPath), request_body = StateChange,
    responses((status = 200, body = PermitView)))]
async fn suspend(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
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

/// Reinstate a suspended permit
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/permits/{number}/reinstate", params(PermitPath), request_body = StateChange,
    responses((status = 200, body = PermitView)))]
async fn reinstate(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
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

/// Revoke a permit for good
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/permits/{number}/revoke", params(PermitPath), request_body = StateChange,
    responses((status = 200, body = PermitView)))]
async fn revoke(
    State(state): State<AppState>,
    principal: Principal,
    Path(PermitPath { authority, number }): Path<PermitPath>,
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
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetQuota {
    #[schema(minimum = 2000, maximum = 2200)]
    pub(crate) year: i32,
    #[schema(min_length = 1, max_length = 255)]
    pub(crate) scientific_name: String,
    /// CITES unit code, e.g. NAR, KIL.
    #[schema(value_type = verifier_core::codes::Unit)]
    pub(crate) unit: String,
    pub(crate) quantity: verifier_core::permit::QuantityInput,
    /// Only lines of this term count against it (absent: every term).
    #[serde(default)]
    #[schema(value_type = Option<verifier_core::codes::Term>)]
    pub(crate) term: Option<String>,
    /// Only lines of this source count against it (absent: every source but I).
    #[serde(default)]
    #[schema(value_type = Option<verifier_core::codes::Source>)]
    pub(crate) source: Option<String>,
    /// Only permits of this purpose count against it (absent: every purpose).
    #[serde(default)]
    #[schema(value_type = Option<verifier_core::codes::Purpose>)]
    pub(crate) purpose: Option<String>,
}

/// Set the annual quota of a taxon in a unit, optionally of one term, source and purpose
/// (issuance beyond it is refused)
#[utoipa::path(put, path = "/api/v1/authorities/{authority}/quotas", params(AuthorityPath), request_body = SetQuota,
    responses((status = 200, body = Quota)))]
pub(crate) async fn set_quota(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Json(body): Json<SetQuota>,
) -> Result<Json<Quota>, ApiError> {
    let (id, _) = staff_of(&state, &principal, &authority, QUOTA_SETTERS).await?;
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
    let scope = QuotaScope {
        term: scope_code::<verifier_core::codes::Term>("term", body.term.as_deref())?,
        source: scope_code::<verifier_core::codes::Source>("source", body.source.as_deref())?,
        purpose: scope_code::<verifier_core::codes::Purpose>("purpose", body.purpose.as_deref())?,
    };
    if scope.source.as_deref() == Some("I") {
        return Err(ApiError::invalid(
            "invalid_field",
            "source: seized or confiscated specimens (I) never count against a quota",
        ));
    }
    let name = text_field("scientific_name", &body.scientific_name, 255)?;
    if let Some(problem) =
        verifier_core::text::check_issuing(verifier_core::text::FieldKind::ScientificName, &name)
    {
        return Err(ApiError::invalid(
            "deceptive_text",
            format!("scientific_name: {problem}"),
        ));
    }
    let quantity: verifier_core::permit::Quantity = body
        .quantity
        .parse()
        .map_err(|e| ApiError::invalid("invalid_field", format!("quantity: {e}")))?;
    let quota_micro = micro(quantity)
        .filter(|_| quantity.within_issuing_bound())
        .ok_or_else(|| {
            ApiError::invalid(
                "invalid_field",
                format!(
                    "quantity: is more than {}",
                    verifier_core::permit::MAX_ISSUED_QUANTITY
                ),
            )
        })?;
    let quota = state
        .db
        .set_quota(
            &principal.token_id,
            &id,
            body.year,
            &name,
            &unit.to_string(),
            &scope,
            quota_micro,
            state.clock.now(),
        )
        .await?;
    Ok(Json(Quota::new(
        i64::from(body.year),
        name,
        unit.to_string(),
        scope,
        quota,
    )))
}

/// The authority's annual quotas and what is used
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/quotas", params(AuthorityPath),
    responses((status = 200, body = QuotaList)))]
pub(crate) async fn list_quotas(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
) -> Result<Json<QuotaList>, ApiError> {
    let (id, _) = staff_of(&state, &principal, &authority, QUOTA_SETTERS).await?;
    let rows = state.db.list_quotas(&id).await?;
    let quotas: Vec<_> = rows
        .into_iter()
        .map(|q| Quota::new(q.year, q.scientific_name, q.unit, q.scope, q.quota))
        .collect();
    Ok(Json(QuotaList { quotas }))
}
