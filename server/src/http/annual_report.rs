//! The annual trade report as a CSV download in the CITES Trade Database's upload format
//! (built by [`crate::annual`]).

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::routes;

use super::params::AuthorityPath;
use super::{Access, Api};
use crate::annual_report::{Basis, ReportError, View, build, file_name, parse_year};
use crate::http::error::{ApiError, Path, Query};
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;

/// Routes of this module.
pub fn api() -> Api {
    Api::new("annual").routes(
        Access::Roles(&[
            Role::Admin,
            Role::Issuer,
            Role::Importer,
            Role::AuthorityAdmin,
        ]),
        routes!(annual),
    )
}

/// Query of the report.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnnualQuery {
    /// Calendar year (UTC), four digits.
    #[param(required = true, pattern = "^(197[5-9]|19[89][0-9]|[2-9][0-9]{3})$")]
    pub(crate) year: Option<String>,
    /// `exports` (default; exporter-reported, no import_permit column) or `imports`
    /// (importer-reported).
    #[param(value_type = Option<View>, inline)]
    pub(crate) view: Option<String>,
    /// `trade` (default; quantities endorsed at export or confirmed at import) or `permits`
    /// (documents issued in the year, revoked ones left out).
    #[param(value_type = Option<Basis>, inline)]
    pub(crate) basis: Option<String>,
}

fn parse_query(q: &AnnualQuery) -> Result<(i32, View, Basis), ApiError> {
    let bad = |code| move |why: String| ApiError::bad_request(code, why);
    let year = q
        .year
        .as_deref()
        .ok_or_else(|| "give the report's year: ?year=2026".to_string())
        .and_then(parse_year)
        .map_err(bad("invalid_year"))?;
    let view = q
        .view
        .as_deref()
        .map_or(Ok(View::Exports), str::parse)
        .map_err(bad("invalid_view"))?;
    let basis = q
        .basis
        .as_deref()
        .map_or(Ok(Basis::Trade), str::parse)
        .map_err(bad("invalid_basis"))?;
    Ok((year, view, basis))
}

/// The annual trade report as CSV in the CITES Trade Database upload format
///
/// One row per permit line. Exports: an issuer of the authority or the admin. Imports: also an
/// importer token of the authority's country.
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/reports/annual", params(AuthorityPath, AnnualQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv; charset=utf-8", body = String)))]
pub(crate) async fn annual(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Query(q): Query<AnnualQuery>,
) -> Result<Response, ApiError> {
    let id = AuthorityId::parse(&authority)?;
    let (year, view, basis) = parse_query(&q)?;
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    // The importing country's own importer tokens may read what that country imported.
    let importer_of_country = view == View::Imports
        && principal.role == Role::Importer
        && principal.country.as_ref().map(|c| c.as_str()) == Some(row.country.as_str());
    if !importer_of_country {
        crate::http::permits::staff_of(
            &state,
            &principal,
            &authority,
            &[Role::Admin, Role::Issuer, Role::AuthorityAdmin],
        )
        .await?;
    }
    let text = build(&state.db, id.as_str(), &row.country, year, view, basis)
        .await
        .map_err(|e| match e {
            ReportError::Storage(e) => ApiError::from(e),
            ReportError::Unreadable(e) => ApiError::internal(e),
        })?;
    let file = file_name(id.as_str(), year, view, basis);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file}\""))
        .map_err(ApiError::internal)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}
