//! The permit pages: the authority's permits, one permit with its QR code, document and
//! field history, and suspending, reinstating or revoking it after a confirmation that says
//! what follows. Through the API's own functions (`http::permits`), so the same staff may do
//! the same things.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use serde_json::Value;
use verifier_core::codes::{DocumentType, Source, Term, Unit};

use super::i18n::Text;
use super::{Chrome, FieldErrors, PageError, PageResult, Posted, Visitor, html, see_other};
use crate::clock::format_time;
use crate::domain::issuing::format_micro;
use crate::domain::{PermitState, RevocationReason, StateAction};
use crate::http::permits::{self as api, CHANGERS, READERS, StateChange};
use crate::state::AppState;
use crate::storage::documents::BlockQuota;
use crate::storage::permits::PermitRow;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/a/{authority}/permits", get(list))
        .route("/a/{authority}/permit", get(show))
        .route("/a/{authority}/permit/qr.png", get(qr))
        .route("/a/{authority}/permit/document.pdf", get(pdf))
        .route(
            "/a/{authority}/permit/change",
            get(change_form).post(change),
        )
}

fn state_label(t: &Text, s: PermitState) -> &'static str {
    match s {
        PermitState::Valid => t.pst_valid,
        PermitState::Suspended => t.pst_suspended,
        PermitState::Revoked => t.pst_revoked,
        PermitState::Used => t.pst_used,
        PermitState::CancelledOnImport => t.pst_cancelled_on_import,
    }
}

fn when(t: i64) -> String {
    let s = format_time(t);
    s.get(..16).unwrap_or(&s).replace('T', " ")
}

fn document_name(t: &Text, code: &str) -> String {
    code.parse::<DocumentType>()
        .map_or_else(|_| code.to_owned(), |d| t.document_name(d).to_owned())
}

struct Row {
    number: String,
    document_type: String,
    import_country: String,
    issued: String,
    valid_until: String,
    state: &'static str,
    state_class: &'static str,
}

#[derive(Template)]
#[template(path = "portal/permits.html")]
struct ListPage {
    c: Chrome,
    authority: String,
    number: String,
    states: Vec<(&'static str, &'static str)>,
    selected: String,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    number: Option<String>,
    state: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    axum::extract::Path(authority): axum::extract::Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(READERS)?;
    let t = visitor.t();
    let number = q.number.unwrap_or_default();
    let selected = q.state.unwrap_or_default();
    let query = api::ListQuery::for_pages(
        Some(number.trim().to_owned()).filter(|n| !n.is_empty()),
        Some(selected.clone()).filter(|s| !s.is_empty()),
    );
    let found = api::list_rows(&state, p, id.as_str(), query)
        .await
        .map_err(|e| visitor.api(e))?;
    let rows = found
        .into_iter()
        .map(|r| Row {
            document_type: document_name(t, &r.document_type),
            import_country: r.import_country.clone().unwrap_or_default(),
            issued: when(r.issued_at),
            valid_until: r.valid_until.clone(),
            state: state_label(t, r.state),
            state_class: r.state.as_str(),
            number: r.number,
        })
        .collect();
    Ok(html(&ListPage {
        c: visitor.chrome(),
        authority: id.to_string(),
        number,
        states: PermitState::ALL
            .iter()
            .map(|s| (s.as_str(), state_label(t, *s)))
            .collect(),
        selected,
        rows,
    }))
}

#[derive(Debug, Deserialize)]
struct NumberQuery {
    number: String,
}

async fn permit(
    state: &AppState,
    v: &Visitor,
    authority: &str,
    number: &str,
) -> Result<PermitRow, PageError> {
    let p = v.require(READERS)?;
    api::find(state, p, authority, number)
        .await
        .map_err(|e| v.api(e))
}

/// The draft as shown.
struct Shown {
    exporter: String,
    importer: String,
    /// Taxon, the line, and box 11a (`used/quota`, empty under no quota).
    lines: Vec<(String, String, String)>,
}

fn shown(t: &Text, draft: &str, quotas: &[Option<BlockQuota>]) -> Shown {
    let v: Value = serde_json::from_str(draft).unwrap_or(Value::Null);
    let s = super::value_text;
    let party = super::party_line;
    Shown {
        exporter: party(&v["exporter"]),
        importer: party(&v["importer"]),
        lines: v["lines"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .enumerate()
                    .map(|(i, l)| {
                        (
                            s(&l["scientific_name"]),
                            format!(
                                "{} {} · {} · {} {}",
                                s(&l["appendix"]),
                                t.code_label::<Source>(&s(&l["source"])),
                                t.code_label::<Term>(&s(&l["term"])),
                                s(&l["quantity"]),
                                t.code_label::<Unit>(&s(&l["unit"]))
                            ),
                            quotas
                                .get(i)
                                .copied()
                                .flatten()
                                .map(|q| {
                                    format!(
                                        "{}/{}",
                                        format_micro(q.used_micro),
                                        format_micro(q.quota_micro)
                                    )
                                })
                                .unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// One field report as a row: when, where (UN/LOCODE), what.
fn report_row(at: i64, locode: &Option<String>, what: String) -> (String, String, String) {
    (when(at), locode.clone().unwrap_or_default(), what)
}

fn quantities(lines: &Value) -> String {
    lines
        .as_array()
        .map(|ls| {
            ls.iter()
                .map(|l| {
                    let q = match &l["quantity"] {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    format!(
                        "{} {}",
                        l["block"]
                            .as_u64()
                            .map_or(String::new(), |b| format!("#{b}:")),
                        q
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "portal/permit.html")]
struct PermitPage {
    c: Chrome,
    authority: String,
    p: PermitRow,
    d: Shown,
    document_type: String,
    state: &'static str,
    state_class: &'static str,
    reason: String,
    issued: String,
    changes: Vec<(&'static str, &'static str, &'static str)>,
    scans: Vec<(String, String, String)>,
    endorsements: Vec<(String, String, String)>,
    confirmations: Vec<(String, String, String)>,
    alerts: Vec<(String, &'static str, String)>,
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    axum::extract::Path(authority): axum::extract::Path<String>,
    Query(q): Query<NumberQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let row = permit(&state, &visitor, id.as_str(), &q.number).await?;
    let t = visitor.t();
    let usage = state
        .db
        .usage(&row.authority_id, row.status_index)
        .await
        .map_err(|e| visitor.api(e.into()))?;
    let alerts = state
        .db
        .newest_alerts(id.as_str(), Some(row.status_index), 100)
        .await
        .map_err(|e| visitor.api(e.into()))?
        .into_iter()
        .map(|a| {
            (
                when(a.created_at),
                super::staff::alert_label(t, a.kind),
                a.detail,
            )
        })
        .collect();
    let quotas = state
        .db
        .block_quotas(&row.authority_id, row.status_index)
        .await
        .map_err(|e| visitor.api(e.into()))?;
    let p = visitor.require(READERS)?;
    let may_change = CHANGERS.iter().any(|r| p.holds(*r));
    let mut changes = Vec::new();
    if may_change {
        for action in [
            StateAction::Suspend,
            StateAction::Reinstate,
            StateAction::Revoke,
        ] {
            if action.apply(row.state).is_ok() {
                changes.push(match action {
                    StateAction::Suspend => ("suspend", t.suspend, ""),
                    StateAction::Reinstate => ("reinstate", t.reinstate, ""),
                    StateAction::Revoke => ("revoke", t.revoke, "danger"),
                });
            }
        }
    }
    let page = PermitPage {
        c: visitor.chrome(),
        authority: id.to_string(),
        d: shown(t, &row.draft, &quotas),
        document_type: document_name(t, &row.document_type),
        state: state_label(t, row.state),
        state_class: row.state.as_str(),
        reason: row.state_reason.clone().unwrap_or_default(),
        issued: when(row.issued_at),
        changes,
        scans: usage
            .scans
            .iter()
            .map(|s| report_row(s.scanned_at, &s.locode, s.verdict.clone()))
            .collect(),
        endorsements: usage
            .endorsements
            .iter()
            .map(|e| report_row(e.endorsed_at, &e.locode, quantities(&e.lines)))
            .collect(),
        confirmations: usage
            .confirmations
            .iter()
            .map(|e| report_row(e.confirmed_at, &e.locode, quantities(&e.lines)))
            .collect(),
        alerts,
        p: row,
    };
    Ok(html(&page))
}

async fn qr(
    State(state): State<AppState>,
    visitor: Visitor,
    axum::extract::Path(authority): axum::extract::Path<String>,
    Query(q): Query<NumberQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let row = permit(&state, &visitor, id.as_str(), &q.number).await?;
    // Four pixels a module: a few kilobytes, sharp at the 240-pixel size the page shows.
    let png = verifier_core::qr::render_png(&row.qr_text, verifier_core::qr::Ecc::Q, 4)
        .map_err(|e| visitor.api(crate::http::error::ApiError::internal(e)))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        png,
    )
        .into_response())
}

async fn pdf(
    State(state): State<AppState>,
    visitor: Visitor,
    axum::extract::Path(authority): axum::extract::Path<String>,
    Query(q): Query<NumberQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let row = permit(&state, &visitor, id.as_str(), &q.number).await?;
    let lang = match visitor.lang {
        super::i18n::Lang::En => None,
        other => Some(other.code()),
    };
    crate::http::documents::pdf(&state, &id, &row.number, lang)
        .await
        .map_err(|e| visitor.api(e))
}

#[derive(Template)]
#[template(path = "portal/permit_change.html")]
struct ChangePage {
    c: Chrome,
    authority: String,
    number: String,
    action: &'static str,
    label: &'static str,
    consequence: &'static str,
    revoke: bool,
    kinds: Vec<(&'static str, &'static str)>,
    kind: String,
    replacement: String,
    reason: String,
    errors: FieldErrors,
}

fn parse_action(text: &str) -> Option<StateAction> {
    match text {
        "suspend" => Some(StateAction::Suspend),
        "reinstate" => Some(StateAction::Reinstate),
        "revoke" => Some(StateAction::Revoke),
        _ => None,
    }
}

fn kinds(t: &Text) -> Vec<(&'static str, &'static str)> {
    RevocationReason::ALL
        .iter()
        .map(|k| {
            (
                k.as_str(),
                match k {
                    RevocationReason::Cancelled => t.kind_cancelled,
                    RevocationReason::Lost => t.kind_lost,
                    RevocationReason::Stolen => t.kind_stolen,
                    RevocationReason::Destroyed => t.kind_destroyed,
                    RevocationReason::Replaced => t.kind_replaced,
                    RevocationReason::Fraud => t.kind_fraud,
                    RevocationReason::Error => t.kind_error,
                },
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn change_page(
    v: &Visitor,
    authority: &str,
    number: String,
    action: StateAction,
    kind: String,
    replacement: String,
    reason: String,
    errors: FieldErrors,
) -> ChangePage {
    let t = v.t();
    let (name, label, consequence) = match action {
        StateAction::Suspend => ("suspend", t.suspend, t.confirm_suspend),
        StateAction::Reinstate => ("reinstate", t.reinstate, t.confirm_reinstate),
        StateAction::Revoke => ("revoke", t.revoke, t.confirm_revoke),
    };
    ChangePage {
        c: v.chrome(),
        authority: authority.to_owned(),
        number,
        action: name,
        label,
        consequence,
        revoke: action == StateAction::Revoke,
        kinds: kinds(t),
        kind,
        replacement,
        reason,
        errors,
    }
}

#[derive(Debug, Deserialize)]
struct ChangeQuery {
    number: String,
    action: String,
}

async fn change_form(
    State(state): State<AppState>,
    visitor: Visitor,
    axum::extract::Path(authority): axum::extract::Path<String>,
    Query(q): Query<ChangeQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    visitor.require(CHANGERS)?;
    let row = permit(&state, &visitor, id.as_str(), &q.number).await?;
    let Some(action) = parse_action(&q.action) else {
        return Err(visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form));
    };
    Ok(html(&change_page(
        &visitor,
        id.as_str(),
        row.number,
        action,
        String::new(),
        String::new(),
        String::new(),
        FieldErrors::default(),
    )))
}

#[derive(Debug, Deserialize)]
struct ChangeForm {
    number: String,
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    replacement: String,
}

async fn change(
    State(state): State<AppState>,
    axum::extract::Path(authority): axum::extract::Path<String>,
    posted: Posted<ChangeForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(CHANGERS)?;
    let t = visitor.t();
    let Some(action) = parse_action(&form.action) else {
        return Err(visitor.error(StatusCode::BAD_REQUEST, t.err_form));
    };
    let again = |errors: FieldErrors, status: StatusCode| {
        let mut r = html(&change_page(
            &visitor,
            id.as_str(),
            form.number.clone(),
            action,
            form.kind.clone(),
            form.replacement.clone(),
            form.reason.clone(),
            errors,
        ));
        *r.status_mut() = status;
        Ok(r)
    };
    if form.reason.trim().is_empty() {
        let mut errors = FieldErrors::default();
        errors.add("reason", t.err_reason_required);
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let kind = if action == StateAction::Revoke {
        match form.kind.parse::<RevocationReason>() {
            Ok(k) => Some(k),
            Err(_) => return Err(visitor.error(StatusCode::BAD_REQUEST, t.err_form)),
        }
    } else {
        None
    };
    let body = StateChange {
        reason: form.reason.trim().to_owned(),
        kind,
        replacement: Some(form.replacement.trim().to_owned()).filter(|r| !r.is_empty()),
    };
    match api::change(
        state.clone(),
        p.clone(),
        id.to_string(),
        form.number.clone(),
        body,
        action,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "/a/{id}/permit?number={}",
            percent_encoding::utf8_percent_encode(&form.number, percent_encoding::NON_ALPHANUMERIC)
        ))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let errors = FieldErrors::from_api(visitor.t(), &e, &["replacement", "reason"]);
            again(errors, status)
        }
        Err(e) => Err(visitor.api(e)),
    }
}
