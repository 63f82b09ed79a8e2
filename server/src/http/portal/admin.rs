//! The authority administrator's pages: signing keys (generate, rotate, mark compromised, each
//! after a page that says what follows), quotas, the reference taxa and the annual report.
//! Through the API's own handlers, which admit the authority's administrator.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;
use verifier_core::codes::{Purpose, Source, Term, Unit};

use super::{Chrome, FieldErrors, PageResult, Posted, Visitor, html, see_other};
use crate::clock::format_time;
use crate::http::error::{ApiError, Json, Path as ApiPath, Query as ApiQuery};
use crate::http::params::{AuthorityPath, KeyPath};
use crate::http::{annual_report, keys, permits, taxa};
use crate::model::Role;
use crate::state::AppState;
use crate::views::KeyStatus;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/a/{authority}/keys", get(keys_page))
        .route("/a/{authority}/keys/confirm", get(key_confirm))
        .route("/a/{authority}/keys/act", post(key_act))
        .route("/a/{authority}/quotas", get(quotas_page).post(set_quota))
        .route("/a/{authority}/taxa", get(taxa_page).post(set_taxon))
        .route("/a/{authority}/report", get(report_page))
        .route("/a/{authority}/report.csv", get(report_csv))
}

/// Who administers the authority.
const ADMINS: &[Role] = &[Role::AuthorityAdmin];

fn minute(t: &str) -> String {
    t.get(..16).unwrap_or(t).replace('T', " ")
}

struct KeyLine {
    kid: String,
    status: &'static str,
    class: &'static str,
    from: String,
    until: String,
    compromised: String,
    compromised_now: bool,
}

#[derive(Template)]
#[template(path = "portal/keys.html")]
struct KeysPage {
    c: Chrome,
    authority: String,
    keys: Vec<KeyLine>,
    has_active: bool,
    error: Option<String>,
}

async fn keys_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ADMINS)?;
    let t = visitor.t();
    let Json(list) = keys::list(State(state.clone()), p.clone(), ApiPath(id.to_string()))
        .await
        .map_err(|e| visitor.api(e))?;
    let has_active = list.keys.iter().any(|k| k.status == KeyStatus::Active);
    let keys = list
        .keys
        .into_iter()
        .map(|k| KeyLine {
            status: match k.status {
                KeyStatus::Active => t.ks_active,
                KeyStatus::Retired => t.ks_retired,
                KeyStatus::Compromised => t.ks_compromised,
            },
            class: match k.status {
                KeyStatus::Active => "active",
                KeyStatus::Retired => "retired",
                KeyStatus::Compromised => "revoked",
            },
            from: minute(&k.valid_from),
            until: k.valid_until.as_deref().map(minute).unwrap_or_default(),
            compromised_now: k.compromised_since.is_some(),
            compromised: k
                .compromised_since
                .as_deref()
                .map(minute)
                .unwrap_or_default(),
            kid: k.kid,
        })
        .collect();
    Ok(html(&KeysPage {
        c: visitor.chrome(),
        authority: id.to_string(),
        keys,
        has_active,
        error: None,
    }))
}

#[derive(Template)]
#[template(path = "portal/key_confirm.html")]
struct KeyConfirm {
    c: Chrome,
    authority: String,
    action: &'static str,
    kid: String,
    label: &'static str,
    consequence: &'static str,
    compromise: bool,
    since: String,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
struct KeyQuery {
    action: String,
    #[serde(default)]
    kid: String,
}

fn key_confirm_page(
    v: &Visitor,
    authority: &str,
    q: &KeyQuery,
    since: String,
    errors: FieldErrors,
) -> Option<KeyConfirm> {
    let t = v.t();
    let (action, label, consequence) = match q.action.as_str() {
        "generate" => ("generate", t.generate_key, t.confirm_generate),
        "rotate" => ("rotate", t.rotate_key, t.confirm_rotate),
        "compromise" => ("compromise", t.mark_compromised, t.confirm_compromise),
        _ => return None,
    };
    Some(KeyConfirm {
        c: v.chrome(),
        authority: authority.to_owned(),
        action,
        kid: if action == "compromise" {
            q.kid.clone()
        } else {
            String::new()
        },
        label,
        consequence,
        compromise: action == "compromise",
        since,
        errors,
    })
}

async fn key_confirm(
    visitor: Visitor,
    Path(authority): Path<String>,
    Query(q): Query<KeyQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    visitor.require(ADMINS)?;
    match key_confirm_page(
        &visitor,
        id.as_str(),
        &q,
        String::new(),
        FieldErrors::default(),
    ) {
        Some(page) => Ok(html(&page)),
        None => Err(visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form)),
    }
}

#[derive(Debug, Deserialize)]
struct KeyForm {
    action: String,
    #[serde(default)]
    kid: String,
    #[serde(default)]
    since: String,
}

async fn key_act(
    State(state): State<AppState>,
    Path(authority): Path<String>,
    posted: Posted<KeyForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ADMINS)?.clone();
    let a = id.to_string();
    let done = match form.action.as_str() {
        "generate" => keys::generate(State(state.clone()), p, ApiPath(a.clone()))
            .await
            .map(|_| ()),
        "rotate" => keys::rotate(State(state.clone()), p, ApiPath(a.clone()))
            .await
            .map(|_| ()),
        "compromise" => {
            // A local date and time from the form is taken as UTC, as permits' times are.
            let since = form.since.trim();
            let body = if since.is_empty() {
                Vec::new()
            } else {
                let text = if since.len() == 16 {
                    format!("{since}:00Z")
                } else {
                    format!("{since}Z")
                };
                serde_json::to_vec(&serde_json::json!({ "since": text }))
                    .map_err(|e| visitor.api(ApiError::internal(e)))?
            };
            keys::compromise(
                State(state.clone()),
                p,
                ApiPath(KeyPath {
                    authority: a.clone(),
                    kid: form.kid.clone(),
                }),
                body.into(),
            )
            .await
            .map(|_| ())
        }
        _ => return Err(visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form)),
    };
    match done {
        Ok(()) => Ok(see_other(&format!("/a/{id}/keys"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let q = KeyQuery {
                action: form.action.clone(),
                kid: form.kid.clone(),
            };
            let errors = FieldErrors::from_api(visitor.t(), &e, &["since"]);
            let Some(page) =
                key_confirm_page(&visitor, id.as_str(), &q, form.since.clone(), errors)
            else {
                return Err(visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form));
            };
            let mut r = html(&page);
            *r.status_mut() = status;
            Ok(r)
        }
        Err(e) => Err(visitor.api(e)),
    }
}

struct QuotaLine {
    year: i64,
    scientific_name: String,
    unit: String,
    term: String,
    source: String,
    purpose: String,
    quota: String,
    used: String,
    endorsed: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct QuotaForm {
    year: String,
    scientific_name: String,
    unit: String,
    quantity: String,
    term: String,
    source: String,
    purpose: String,
}

#[derive(Template)]
#[template(path = "portal/quotas.html")]
struct QuotasPage {
    c: Chrome,
    authority: String,
    rows: Vec<QuotaLine>,
    f: QuotaForm,
    errors: FieldErrors,
    units: Vec<(&'static str, &'static str)>,
    terms: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    purposes: Vec<(&'static str, &'static str)>,
    taxa: Vec<String>,
}

async fn quotas_render(
    state: &AppState,
    v: &Visitor,
    authority: &str,
    f: QuotaForm,
    errors: FieldErrors,
    status: StatusCode,
) -> PageResult {
    let id = v.member_of(authority)?;
    let p = v.require(ADMINS)?;
    let Json(list) = permits::list_quotas(
        State(state.clone()),
        p.clone(),
        ApiPath(AuthorityPath {
            authority: id.to_string(),
        }),
    )
    .await
    .map_err(|e| v.api(e))?;
    let taxa = state
        .db
        .list_taxa()
        .await
        .map_err(|e| v.api(e.into()))?
        .into_iter()
        .map(|t| t.scientific_name)
        .collect();
    let mut r = html(&QuotasPage {
        c: v.chrome(),
        authority: id.to_string(),
        rows: list
            .quotas
            .into_iter()
            .map(|q| QuotaLine {
                year: q.year,
                scientific_name: q.scientific_name,
                unit: v.t().code_label::<Unit>(&q.unit),
                term: q.term.unwrap_or_default(),
                source: q.source.unwrap_or_default(),
                purpose: q.purpose.unwrap_or_default(),
                quota: q.quota,
                used: q.used,
                endorsed: q.endorsed,
            })
            .collect(),
        f,
        errors,
        units: Unit::ALL
            .iter()
            .map(|u| (u.code(), v.t().code_name(*u)))
            .collect(),
        terms: Term::ALL
            .iter()
            .map(|u| (u.code(), v.t().code_name(*u)))
            .collect(),
        sources: Source::ALL
            .iter()
            .filter(|s| **s != Source::I)
            .map(|u| (u.code(), v.t().code_name(*u)))
            .collect(),
        purposes: Purpose::ALL
            .iter()
            .map(|u| (u.code(), v.t().code_name(*u)))
            .collect(),
        taxa,
    });
    *r.status_mut() = status;
    Ok(r)
}

async fn quotas_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    let year = format_time(state.clock.now())
        .get(..4)
        .unwrap_or("")
        .to_owned();
    let f = QuotaForm {
        year,
        unit: "NAR".into(),
        ..QuotaForm::default()
    };
    quotas_render(
        &state,
        &visitor,
        &authority,
        f,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn set_quota(
    State(state): State<AppState>,
    Path(authority): Path<String>,
    posted: Posted<QuotaForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ADMINS)?.clone();
    let Ok(year) = form.year.trim().parse::<i32>() else {
        let mut errors = FieldErrors::default();
        errors.add("year", visitor.t().err_year);
        return quotas_render(
            &state,
            &visitor,
            &authority,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let body = permits::SetQuota {
        year,
        scientific_name: form.scientific_name.trim().to_owned(),
        unit: form.unit.clone(),
        quantity: verifier_core::permit::QuantityInput::Text(
            form.quantity.trim().replace(',', "."),
        ),
        term: Some(form.term.clone()),
        source: Some(form.source.clone()),
        purpose: Some(form.purpose.clone()),
    };
    match permits::set_quota(
        State(state.clone()),
        p,
        ApiPath(AuthorityPath {
            authority: id.to_string(),
        }),
        Json(body),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/a/{id}/quotas"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let errors = FieldErrors::from_api(
                visitor.t(),
                &e,
                &[
                    "year",
                    "scientific_name",
                    "quantity",
                    "unit",
                    "term",
                    "source",
                    "purpose",
                ],
            );
            quotas_render(&state, &visitor, &authority, form, errors, status).await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

struct TaxonLine {
    scientific_name: String,
    kingdom: String,
    appendices: String,
    common_name: String,
    listed_on: String,
    app3_party: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TaxonForm {
    scientific_name: String,
    kingdom: String,
    appendices: String,
    common_name: String,
    listed_on: String,
    app3_party: String,
}

#[derive(Template)]
#[template(path = "portal/taxa.html")]
struct TaxaPage {
    c: Chrome,
    authority: String,
    rows: Vec<TaxonLine>,
    f: TaxonForm,
    errors: FieldErrors,
    appendix_sets: Vec<&'static str>,
}

async fn taxa_render(
    state: &AppState,
    v: &Visitor,
    authority: &str,
    f: TaxonForm,
    errors: FieldErrors,
    status: StatusCode,
) -> PageResult {
    let id = v.member_of(authority)?;
    v.require(ADMINS)?;
    let rows = state
        .db
        .list_taxa()
        .await
        .map_err(|e| v.api(e.into()))?
        .into_iter()
        .map(|t| TaxonLine {
            scientific_name: t.scientific_name,
            kingdom: t.kingdom,
            appendices: t.appendices,
            common_name: t.common_name.unwrap_or_default(),
            listed_on: t.listed_on.unwrap_or_default(),
            app3_party: t.app3_party.unwrap_or_default(),
        })
        .collect();
    let mut r = html(&TaxaPage {
        c: v.chrome(),
        authority: id.to_string(),
        rows,
        f,
        errors,
        appendix_sets: vec!["I", "II", "III", "I/II", "II/III", "I/III"],
    });
    *r.status_mut() = status;
    Ok(r)
}

async fn taxa_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    let f = TaxonForm {
        kingdom: "animal".into(),
        appendices: "II".into(),
        ..TaxonForm::default()
    };
    taxa_render(
        &state,
        &visitor,
        &authority,
        f,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn set_taxon(
    State(state): State<AppState>,
    Path(authority): Path<String>,
    posted: Posted<TaxonForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ADMINS)?;
    let body = taxa::TaxonDto {
        kingdom: form.kingdom.clone(),
        appendices: form.appendices.split('/').map(str::to_owned).collect(),
        common_name: Some(form.common_name.trim().to_owned()).filter(|c| !c.is_empty()),
        listed_on: Some(form.listed_on.clone()),
        app3_party: Some(form.app3_party.clone()),
    };
    let row = match taxa::parse(form.scientific_name.trim(), &body, state.clock.now()) {
        Ok(row) => row,
        Err(e) => {
            let status = e.status();
            let errors = FieldErrors::from_api(
                visitor.t(),
                &e,
                &["scientific_name", "common_name", "listed_on", "app3_party"],
            );
            return taxa_render(&state, &visitor, &authority, form, errors, status).await;
        }
    };
    state
        .db
        .set_taxon(&p.token_id, &row, state.clock.now())
        .await
        .map_err(|e| visitor.api(e.into()))?;
    Ok(see_other(&format!("/a/{id}/taxa")))
}

#[derive(Template)]
#[template(path = "portal/report.html")]
struct ReportPage {
    c: Chrome,
    authority: String,
    year: String,
}

async fn report_page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    visitor.require(ADMINS)?;
    let year = format_time(state.clock.now())
        .get(..4)
        .unwrap_or("")
        .to_owned();
    Ok(html(&ReportPage {
        c: visitor.chrome(),
        authority: id.to_string(),
        year,
    }))
}

#[derive(Debug, Deserialize)]
struct ReportQuery {
    year: Option<String>,
    view: Option<String>,
    basis: Option<String>,
}

async fn report_csv(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
    Query(q): Query<ReportQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ADMINS)?;
    annual_report::annual(
        State(state.clone()),
        p.clone(),
        ApiPath(AuthorityPath {
            authority: id.to_string(),
        }),
        ApiQuery(annual_report::AnnualQuery {
            year: q.year,
            view: q.view,
            basis: q.basis,
        }),
    )
    .await
    .map_err(|e| visitor.api(e))
}
