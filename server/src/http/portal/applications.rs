//! The application pages: a trader's drafts and their answers to change requests; the
//! clerk's queue and review, the Scientific Authority's advice and the signatory's approval and
//! issuance, each through the workflow's own functions (`http::applications::pages`).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use verifier_core::codes::{Appendix, DocumentType, Purpose, Source, Term, Unit};

use super::i18n::{Text, action_label, state_label};
use super::{Chrome, FieldErrors, PageError, PageResult, Posted, Visitor, html, see_other};
use crate::domain::applications::{AdviceOpinion, ApplicationAction, ApplicationState};
use crate::http::applications::{ApplicationView, page_attachments, pages};
use crate::http::error::ApiError;
use crate::model::Role;
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/a/{authority}/", get(dashboard))
        .route("/a/{authority}/applications", get(list))
        .route(
            "/a/{authority}/applications/new",
            get(new_form).post(create),
        )
        .route("/a/{authority}/applications/{id}", get(show))
        .route(
            "/a/{authority}/applications/{id}/edit",
            get(edit_form).post(update),
        )
        .route("/a/{authority}/applications/{id}/act", post(act))
        .route("/a/{authority}/applications/{id}/advice", post(advise))
        .route("/a/{authority}/applications/{id}/permit.pdf", get(pdf))
        .route(
            "/a/{authority}/applications/{id}/attachments",
            post(attach).layer(axum::extract::DefaultBodyLimit::max(
                page_attachments::MAX_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/a/{authority}/applications/{id}/attachments/{attachment}",
            get(attachment),
        )
}

/// Staff who work the queue.
const QUEUE_ROLES: &[Role] = &[
    Role::Clerk,
    Role::ScientificAuthority,
    Role::Signatory,
    Role::AuthorityAdmin,
];
/// Everyone with an account.
const ANYONE: &[Role] = &Role::USER_ROLES;

fn is_staff(v: &Visitor) -> bool {
    v.principal
        .as_ref()
        .is_some_and(|p| QUEUE_ROLES.iter().any(|r| p.holds(*r)))
}

/// One count on the dashboard.
struct Tile {
    href: String,
    count: usize,
    label: &'static str,
}

#[derive(Template)]
#[template(path = "portal/dashboard.html")]
struct Dashboard {
    c: Chrome,
    authority: String,
    authority_name: String,
    roles: Vec<&'static str>,
    tiles: Vec<Tile>,
    trader: bool,
}

async fn dashboard(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ANYONE)?;
    let t = visitor.t();
    let name = state
        .db
        .authority(&id)
        .await
        .map_err(|e| visitor.api(e.into()))?
        .map(|a| a.name)
        .unwrap_or_default();
    let all = pages::list(&state, p, id.as_str(), None, None, 500)
        .await
        .map_err(|e| visitor.api(e))?;
    let count =
        |states: &[ApplicationState]| all.iter().filter(|a| states.contains(&a.state)).count();
    let base = format!("/a/{id}/applications");
    let mut tiles = Vec::new();
    let mut tile = |s: ApplicationState, states: &[ApplicationState]| {
        tiles.push(Tile {
            href: format!("{base}?state={}", s.as_str()),
            count: count(states),
            label: state_label(t, s),
        });
    };
    use ApplicationState as S;
    if p.holds(Role::Applicant) {
        tile(S::Draft, &[S::Draft]);
        tile(S::ChangesRequested, &[S::ChangesRequested]);
        tile(S::Issued, &[S::Issued]);
    }
    if p.holds(Role::Clerk) {
        tile(S::Submitted, &[S::Submitted]);
        tile(S::Resubmitted, &[S::Resubmitted]);
        tile(S::UnderReview, &[S::UnderReview]);
    }
    if p.holds(Role::ScientificAuthority) {
        tile(S::AdviceRequested, &[S::AdviceRequested]);
    }
    if p.holds(Role::Signatory) {
        tile(S::AdviceGiven, &[S::AdviceGiven]);
        tile(S::UnderReview, &[S::UnderReview]);
        tile(S::Approved, &[S::Approved]);
    }
    let roles = p
        .user
        .as_ref()
        .map(|u| {
            u.roles
                .iter()
                .map(|r| super::i18n::role_label(t, *r))
                .collect()
        })
        .unwrap_or_default();
    Ok(html(&Dashboard {
        c: visitor.chrome(),
        authority: id.to_string(),
        authority_name: name,
        roles,
        tiles,
        trader: p.holds(Role::Applicant),
    }))
}

/// A row of the list.
struct Row {
    id: String,
    document_type: String,
    species: String,
    state: &'static str,
    updated: String,
}

#[derive(Template)]
#[template(path = "portal/applications.html")]
struct ListPage {
    c: Chrome,
    heading: &'static str,
    authority: String,
    trader: bool,
    states: Vec<(&'static str, &'static str)>,
    selected: String,
    taxon: String,
    taxa: Vec<String>,
    rows: Vec<Row>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    state: Option<String>,
    taxon: Option<String>,
}

fn document_name(t: &Text, code: &str) -> String {
    match code.parse::<DocumentType>() {
        Ok(d) => t.document_name(d).to_owned(),
        Err(_) => code.to_owned(),
    }
}

async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
    Query(q): Query<ListQuery>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ANYONE)?;
    let t = visitor.t();
    let selected = q.state.unwrap_or_default();
    let wanted = if selected.is_empty() {
        None
    } else {
        Some(
            selected
                .parse::<ApplicationState>()
                .map_err(|_| visitor.error(StatusCode::BAD_REQUEST, t.err_form))?,
        )
    };
    let taxon = q.taxon.unwrap_or_default().trim().to_owned();
    let apps = pages::list(
        &state,
        p,
        id.as_str(),
        wanted,
        Some(taxon.clone()).filter(|t| !t.is_empty()),
        200,
    )
    .await
    .map_err(|e| visitor.api(e))?;
    let rows = apps
        .iter()
        .map(|a| Row {
            id: a.id.clone(),
            document_type: document_name(t, &a.document_type),
            species: a.permit["lines"]
                .as_array()
                .map(|ls| {
                    ls.iter()
                        .filter_map(|l| l["scientific_name"].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            state: state_label(t, a.state),
            updated: a
                .updated_at
                .get(..16)
                .unwrap_or(&a.updated_at)
                .replace('T', " "),
        })
        .collect();
    Ok(html(&ListPage {
        c: visitor.chrome(),
        heading: if is_staff(&visitor) {
            t.nav_queue
        } else {
            t.nav_my_applications
        },
        authority: id.to_string(),
        trader: p.holds(Role::Applicant),
        states: ApplicationState::ALL
            .iter()
            .map(|s| (s.as_str(), state_label(t, *s)))
            .collect(),
        selected,
        taxon,
        taxa: taxa(&state, &visitor)
            .await?
            .into_iter()
            .map(|(n, _, _)| n)
            .collect(),
        rows,
    }))
}

/// The form's fields, as typed (kept to show the form again).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DraftForm {
    version: i64,
    document_type: String,
    purpose: String,
    valid_until: String,
    exporter_name: String,
    exporter_address: String,
    exporter_country: String,
    importer_name: String,
    importer_address: String,
    importer_country: String,
    scientific_name: String,
    common_name: String,
    appendix: String,
    source: String,
    term: String,
    quantity: String,
    unit: String,
}

impl DraftForm {
    /// The form of a stored draft.
    fn from_permit(permit: &Value, version: i64) -> DraftForm {
        let s = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let line = &permit["lines"][0];
        DraftForm {
            version,
            document_type: s(&permit["document_type"]),
            purpose: s(&permit["purpose"]),
            valid_until: s(&permit["valid_until"]),
            exporter_name: s(&permit["exporter"]["name"]),
            exporter_address: s(&permit["exporter"]["address"]),
            exporter_country: s(&permit["exporter"]["country"]),
            importer_name: s(&permit["importer"]["name"]),
            importer_address: s(&permit["importer"]["address"]),
            importer_country: s(&permit["importer"]["country"]),
            scientific_name: s(&line["scientific_name"]),
            common_name: s(&line["common_name"]),
            appendix: s(&line["appendix"]),
            source: s(&line["source"]),
            term: s(&line["term"]),
            quantity: s(&line["quantity"]),
            unit: s(&line["unit"]),
        }
    }

    /// The permit asked for, as the API takes it; the kingdom comes from the reference taxon.
    /// Fields a page can check without the rules (required, a reference taxon) are checked here.
    fn permit(&self, t: &Text, taxa: &[(String, String, String)]) -> Result<Value, FieldErrors> {
        let mut errors = FieldErrors::default();
        let required = [
            ("valid_until", &self.valid_until),
            ("exporter_name", &self.exporter_name),
            ("exporter_country", &self.exporter_country),
            ("importer_name", &self.importer_name),
            ("importer_country", &self.importer_country),
            ("scientific_name", &self.scientific_name),
            ("quantity", &self.quantity),
        ];
        for (field, value) in required {
            if value.trim().is_empty() {
                errors.add(field, t.err_required);
            }
        }
        let taxon = taxa
            .iter()
            .find(|(name, _, _)| name.eq_ignore_ascii_case(self.scientific_name.trim()));
        if taxon.is_none() && !self.scientific_name.trim().is_empty() {
            errors.add("scientific_name", t.err_not_a_taxon);
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let (name, kingdom) = taxon
            .map(|(n, k, _)| (n.clone(), k.clone()))
            .unwrap_or_default();
        let party = |n: &str, a: &str, c: &str| {
            let mut o = json!({"name": n.trim(), "country": c.trim().to_uppercase()});
            if !a.trim().is_empty() {
                o["address"] = Value::String(a.trim().to_owned());
            }
            o
        };
        let mut line = json!({
            "scientific_name": name,
            "kingdom": kingdom,
            "term": self.term,
            "appendix": self.appendix,
            "source": self.source,
            "quantity": self.quantity.trim().replace(',', "."),
            "unit": self.unit,
        });
        if !self.common_name.trim().is_empty() {
            line["common_name"] = Value::String(self.common_name.trim().to_owned());
        }
        Ok(json!({
            "document_type": self.document_type,
            "valid_until": self.valid_until.trim(),
            "purpose": self.purpose,
            "exporter": party(&self.exporter_name, &self.exporter_address, &self.exporter_country),
            "importer": party(&self.importer_name, &self.importer_address, &self.importer_country),
            "lines": [line],
        }))
    }
}

/// Where an error of the API about a draft goes on the form: the field its path names.
const FIELD_PATHS: &[(&str, &str)] = &[
    ("lines[0].scientific_name", "scientific_name"),
    ("lines[0].quantity", "quantity"),
    ("lines[0].unit", "unit"),
    ("lines[0].term", "term"),
    ("lines[0].source", "source"),
    ("lines[0].appendix", "appendix"),
    ("importer.country", "importer_country"),
    ("importer.name", "importer_name"),
    ("exporter.country", "exporter_country"),
    ("exporter.name", "exporter_name"),
    ("importer", "importer_name"),
    ("exporter", "exporter_name"),
    ("valid_until", "valid_until"),
    ("purpose", "purpose"),
    ("document_type", "document_type"),
    ("quantity", "quantity"),
    ("unit", "unit"),
    ("term", "term"),
    ("source", "source"),
    ("appendix", "appendix"),
];

fn draft_errors(t: &Text, e: &ApiError) -> FieldErrors {
    let mut out = FieldErrors::default();
    match FIELD_PATHS
        .iter()
        .find(|(path, _)| super::mentions(e.message(), path))
    {
        Some((_, field)) => out.add(field, super::said(t, e)),
        None => out.general = Some(super::said(t, e)),
    }
    out
}

#[derive(Template)]
#[template(path = "portal/application_form.html")]
struct FormPage {
    c: Chrome,
    heading: &'static str,
    action: String,
    version: i64,
    f: DraftForm,
    errors: FieldErrors,
    document_types: Vec<(&'static str, &'static str)>,
    purposes: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    terms: Vec<(&'static str, &'static str)>,
    units: Vec<(&'static str, &'static str)>,
    appendices: Vec<&'static str>,
    taxa: Vec<(String, String)>,
}

/// Reference taxa: name, kingdom, common name.
async fn taxa(state: &AppState, v: &Visitor) -> Result<Vec<(String, String, String)>, PageError> {
    Ok(state
        .db
        .list_taxa()
        .await
        .map_err(|e| v.api(e.into()))?
        .into_iter()
        .map(|t| {
            (
                t.scientific_name,
                t.kingdom,
                t.common_name.unwrap_or_default(),
            )
        })
        .collect())
}

async fn form_page(
    state: &AppState,
    v: &Visitor,
    heading: &'static str,
    action: String,
    f: DraftForm,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let t = v.t();
    Ok(html(&FormPage {
        c: v.chrome(),
        heading,
        action,
        version: f.version,
        errors,
        document_types: DocumentType::ALL
            .iter()
            .filter(|d| !matches!(d, DocumentType::Import))
            .map(|d| (d.code(), t.document_name(*d)))
            .collect(),
        purposes: Purpose::ALL
            .iter()
            .map(|p| (p.code(), t.code_name(*p)))
            .collect(),
        sources: Source::ALL
            .iter()
            .map(|s| (s.code(), t.code_name(*s)))
            .collect(),
        terms: Term::ALL
            .iter()
            .map(|x| (x.code(), t.code_name(*x)))
            .collect(),
        units: Unit::ALL
            .iter()
            .map(|u| (u.code(), t.code_name(*u)))
            .collect(),
        appendices: Appendix::ALL.iter().map(|a| a.code()).collect(),
        taxa: taxa(state, v)
            .await?
            .into_iter()
            .map(|(n, _, c)| (n, c))
            .collect(),
        f,
    }))
}

async fn new_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::Applicant])?;
    let user = match &p.user {
        Some(u) => state
            .db
            .user(&u.id)
            .await
            .map_err(|e| visitor.api(e.into()))?,
        None => None,
    };
    let country = state
        .db
        .authority(&id)
        .await
        .map_err(|e| visitor.api(e.into()))?
        .map(|a| a.country)
        .unwrap_or_default();
    let in_six_months = verifier_core::date::Date::from_unix(state.clock.now() + 180 * 86_400);
    let f = DraftForm {
        document_type: "export".into(),
        purpose: "T".into(),
        valid_until: in_six_months.to_string(),
        exporter_name: user
            .as_ref()
            .and_then(|u| u.company.clone())
            .unwrap_or_default(),
        exporter_address: user
            .as_ref()
            .and_then(|u| u.address.clone())
            .unwrap_or_default(),
        exporter_country: country,
        appendix: "II".into(),
        source: "W".into(),
        term: "LIV".into(),
        unit: "NAR".into(),
        ..DraftForm::default()
    };
    form_page(
        &state,
        &visitor,
        visitor.t().new_application,
        format!("/a/{id}/applications/new"),
        f,
        FieldErrors::default(),
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    Path(authority): Path<String>,
    posted: Posted<DraftForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::Applicant])?;
    let t = visitor.t();
    let action = format!("/a/{id}/applications/new");
    let permit = match form.permit(t, &taxa(&state, &visitor).await?) {
        Ok(permit) => permit,
        Err(errors) => {
            return invalid(&state, &visitor, t.new_application, action, form, errors).await;
        }
    };
    match pages::create(&state, p, id.as_str(), permit).await {
        Ok(view) => Ok(see_other(&format!("/a/{id}/applications/{}", view.id))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let errors = draft_errors(t, &e);
            invalid(&state, &visitor, t.new_application, action, form, errors).await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

async fn invalid(
    state: &AppState,
    v: &Visitor,
    heading: &'static str,
    action: String,
    form: DraftForm,
    errors: FieldErrors,
) -> PageResult {
    let mut response = form_page(state, v, heading, action, form, errors).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

async fn edit_form(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((authority, app)): Path<(String, String)>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::Applicant])?;
    let view = pages::fetch(&state, p, id.as_str(), &app)
        .await
        .map_err(|e| visitor.api(e))?;
    if !view.state.editable() {
        return Err(visitor.error(StatusCode::CONFLICT, visitor.t().err_not_editable));
    }
    let f = DraftForm::from_permit(&view.permit, view.version);
    // What the rules found at the last save, beside the fields they concern.
    let mut errors = FieldErrors::default();
    for r in &view.rules {
        match FIELD_PATHS
            .iter()
            .find(|(path, _)| r.field.starts_with(path))
        {
            Some((_, field)) => errors.add(field, r.message.clone()),
            None => {
                errors.general = Some(match errors.general.take() {
                    Some(g) => format!("{g} {}", r.message),
                    None => r.message.clone(),
                })
            }
        }
    }
    form_page(
        &state,
        &visitor,
        visitor.t().edit_application,
        format!("/a/{id}/applications/{app}/edit"),
        f,
        errors,
    )
    .await
}

async fn update(
    State(state): State<AppState>,
    Path((authority, app)): Path<(String, String)>,
    posted: Posted<DraftForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::Applicant])?;
    let t = visitor.t();
    let action = format!("/a/{id}/applications/{app}/edit");
    let permit = match form.permit(t, &taxa(&state, &visitor).await?) {
        Ok(permit) => permit,
        Err(errors) => {
            return invalid(&state, &visitor, t.edit_application, action, form, errors).await;
        }
    };
    let current = pages::fetch(&state, p, id.as_str(), &app)
        .await
        .map_err(|e| visitor.api(e))?;
    match pages::update(
        &state,
        p,
        id.as_str(),
        &app,
        form.version,
        permit,
        current.import_permit,
    )
    .await
    {
        Ok(view) => Ok(see_other(&format!("/a/{id}/applications/{}", view.id))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let errors = draft_errors(t, &e);
            invalid(&state, &visitor, t.edit_application, action, form, errors).await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

/// A button for one step.
struct ActionButton {
    name: &'static str,
    label: &'static str,
    comment: bool,
    comment_label: &'static str,
    class: &'static str,
}

/// The draft as shown.
struct Summary {
    document_type: String,
    purpose: String,
    valid_until: String,
    exporter: String,
    importer: String,
    lines: Vec<SummaryLine>,
}

struct SummaryLine {
    scientific_name: String,
    appendix: String,
    source: String,
    term: String,
    quantity: String,
    unit: String,
}

/// A rule's finding as shown: in the reader's language, with the English detail elsewhere.
struct RuleLine {
    class: &'static str,
    field: String,
    message: String,
    detail: String,
}

fn rule_lines(t: &Text, rules: &[crate::domain::applications::RuleResult]) -> Vec<RuleLine> {
    rules
        .iter()
        .map(|r| {
            let (message, detail) = t.explain(&r.rule, &r.message);
            RuleLine {
                class: r.severity.as_str(),
                field: r.field.clone(),
                message,
                detail,
            }
        })
        .collect()
}

struct HistoryRow {
    at: String,
    actor: String,
    action: &'static str,
    comment: String,
}

#[derive(Template)]
#[template(path = "portal/application.html")]
struct ShowPage {
    c: Chrome,
    a: ApplicationView,
    d: Summary,
    state_label: &'static str,
    advice_label: &'static str,
    rules: Vec<RuleLine>,
    errors: FieldErrors,
    issued: bool,
    staff: bool,
    can_edit: bool,
    actions: Vec<ActionButton>,
    advise: bool,
    reviewer_names: Vec<String>,
    you_reviewed: bool,
    history: Vec<HistoryRow>,
}

fn summary(t: &Text, permit: &Value) -> Summary {
    let s = super::value_text;
    let party = super::party_line;
    Summary {
        document_type: document_name(t, &s(&permit["document_type"])),
        purpose: t.code_label::<Purpose>(&s(&permit["purpose"])),
        valid_until: s(&permit["valid_until"]),
        exporter: party(&permit["exporter"]),
        importer: party(&permit["importer"]),
        lines: permit["lines"]
            .as_array()
            .map(|ls| {
                ls.iter()
                    .map(|l| SummaryLine {
                        scientific_name: s(&l["scientific_name"]),
                        appendix: s(&l["appendix"]),
                        source: t.code_label::<Source>(&s(&l["source"])),
                        term: t.code_label::<Term>(&s(&l["term"])),
                        quantity: s(&l["quantity"]),
                        unit: t.code_label::<Unit>(&s(&l["unit"])),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

async fn user_name(state: &AppState, id: &str) -> String {
    match state.db.user(id).await {
        Ok(Some(u)) => u.name,
        _ => id.to_owned(),
    }
}

/// The application page, with `errors` from a step that was refused.
async fn render(
    state: &AppState,
    v: &Visitor,
    authority: &str,
    app: &str,
    errors: FieldErrors,
    status: StatusCode,
) -> PageResult {
    let id = v.member_of(authority)?;
    let p = v.require(ANYONE)?;
    let t = v.t();
    let a = pages::fetch(state, p, id.as_str(), app)
        .await
        .map_err(|e| v.api(e))?;
    let steps = pages::actions(state, p, id.as_str(), app)
        .await
        .map_err(|e| v.api(e))?;
    let me = p.user.as_ref().map(|u| u.id.clone()).unwrap_or_default();
    let mine = a.applicant_id == me;
    let actions = steps
        .iter()
        .filter(|s| **s != ApplicationAction::GiveAdvice)
        .map(|s| ActionButton {
            name: s.as_str(),
            label: action_label(t, *s),
            comment: s.needs_comment() || *s == ApplicationAction::Submit,
            comment_label: if s.needs_comment() {
                t.reason_required
            } else {
                t.comment_optional
            },
            class: match s {
                ApplicationAction::Refuse | ApplicationAction::Withdraw => "danger",
                _ => "",
            },
        })
        .collect();
    let mut reviewer_names = Vec::new();
    for r in &a.reviewed_by {
        reviewer_names.push(user_name(state, r).await);
    }
    let mut history = Vec::new();
    for h in &a.history {
        history.push(HistoryRow {
            at: h.at.get(..16).unwrap_or(&h.at).replace('T', " "),
            actor: user_name(state, &h.actor).await,
            action: action_label(t, h.action),
            comment: h.comment.clone().unwrap_or_default(),
        });
    }
    let page = ShowPage {
        c: v.chrome(),
        d: summary(t, &a.permit),
        state_label: state_label(t, a.state),
        rules: rule_lines(t, &a.rules),
        advice_label: match a.advice.as_ref().map(|x| x.opinion) {
            Some(AdviceOpinion::Positive) => t.opinion_positive,
            Some(AdviceOpinion::Conditional) => t.opinion_conditional,
            Some(AdviceOpinion::Negative) => t.opinion_negative,
            None => "",
        },
        errors,
        issued: a.state == ApplicationState::Issued,
        staff: is_staff(v),
        can_edit: mine && a.state.editable(),
        advise: steps.contains(&ApplicationAction::GiveAdvice),
        you_reviewed: p.holds(Role::Signatory) && a.reviewed_by.contains(&me),
        actions,
        reviewer_names,
        history,
        a,
    };
    let mut response = html(&page);
    *response.status_mut() = status;
    Ok(response)
}

async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((authority, app)): Path<(String, String)>,
) -> PageResult {
    render(
        &state,
        &visitor,
        &authority,
        &app,
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct ActForm {
    version: i64,
    action: String,
    #[serde(default)]
    comment: String,
}

async fn act(
    State(state): State<AppState>,
    Path((authority, app)): Path<(String, String)>,
    posted: Posted<ActForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ANYONE)?;
    let t = visitor.t();
    let Ok(action) = form.action.parse::<ApplicationAction>() else {
        return Err(visitor.error(StatusCode::BAD_REQUEST, t.err_form));
    };
    let comment = Some(form.comment.trim()).filter(|c| !c.is_empty());
    if action.needs_comment() && comment.is_none() {
        let mut errors = FieldErrors::default();
        errors.add(action.as_str(), t.err_reason_required);
        return render(
            &state,
            &visitor,
            &authority,
            &app,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match pages::act(&state, p, id.as_str(), &app, action, form.version, comment).await {
        Ok(_) => Ok(see_other(&format!("/a/{id}/applications/{app}"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let errors = FieldErrors {
                general: Some(super::said(t, &e)),
                ..FieldErrors::default()
            };
            render(&state, &visitor, &authority, &app, errors, status).await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

#[derive(Debug, Deserialize)]
struct AdviceForm {
    version: i64,
    opinion: String,
    #[serde(default)]
    text: String,
}

async fn advise(
    State(state): State<AppState>,
    Path((authority, app)): Path<(String, String)>,
    posted: Posted<AdviceForm>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::ScientificAuthority])?;
    let t = visitor.t();
    let Ok(opinion) = form.opinion.parse::<AdviceOpinion>() else {
        return Err(visitor.error(StatusCode::BAD_REQUEST, t.err_form));
    };
    if form.text.trim().is_empty() {
        let mut errors = FieldErrors::default();
        errors.add("text", t.err_required);
        return render(
            &state,
            &visitor,
            &authority,
            &app,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match pages::advise(
        &state,
        p,
        id.as_str(),
        &app,
        form.version,
        opinion,
        form.text.trim(),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/a/{id}/applications/{app}"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let mut errors = FieldErrors::default();
            errors.add("text", super::said(t, &e));
            render(&state, &visitor, &authority, &app, errors, status).await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

/// The issued permit's PDF, for its applicant and the authority's staff.
async fn pdf(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((authority, app)): Path<(String, String)>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ANYONE)?;
    let a = pages::fetch(&state, p, id.as_str(), &app)
        .await
        .map_err(|e| visitor.api(e))?;
    let number = match (a.state, a.permit_number) {
        (ApplicationState::Issued, Some(n)) => n,
        _ => return Err(visitor.error(StatusCode::NOT_FOUND, visitor.t().err_not_issued)),
    };
    let lang = match visitor.lang {
        super::i18n::Lang::En => None,
        other => Some(other.code()),
    };
    crate::http::documents::pdf(&state, &id, &number, lang)
        .await
        .map_err(|e| visitor.api(e))
}

/// A file the trader attaches: a multipart form whose first field is the CSRF token.
async fn attach(
    State(state): State<AppState>,
    Path((authority, app)): Path<(String, String)>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    mut multipart: axum::extract::Multipart,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::Applicant])?;
    let t = visitor.t();
    let unreadable = || visitor.error(StatusCode::BAD_REQUEST, t.err_form);
    let mut checked = false;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        match field.name() {
            Some("csrf") => {
                let sent = field.text().await.map_err(|_| unreadable())?;
                visitor.check_form(&headers, &sent)?;
                checked = true;
            }
            // The token comes first in the form: a file before it is not read.
            Some("file") if checked => {
                let name = field.file_name().unwrap_or("").to_owned();
                let kind = field.content_type().unwrap_or("").to_owned();
                let bytes = field.bytes().await.map_err(|_| unreadable())?;
                file = Some((name, kind, bytes));
            }
            _ => {}
        }
    }
    if !checked {
        visitor.check_form(&headers, "")?;
    }
    let again =
        |errors: FieldErrors, status| render(&state, &visitor, &authority, &app, errors, status);
    let Some((name, kind, bytes)) = file.filter(|(n, _, b)| !n.is_empty() && !b.is_empty()) else {
        let mut errors = FieldErrors::default();
        errors.add("file", t.err_required);
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    match page_attachments::attach(&state, p, id.as_str(), &app, &name, &kind, bytes).await {
        Ok(_) => Ok(see_other(&format!("/a/{id}/applications/{app}"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let mut errors = FieldErrors::default();
            errors.add("file", super::said(t, &e));
            again(errors, status).await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

/// An attachment's file, for its trader and the authority's staff.
async fn attachment(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((authority, app, file)): Path<(String, String, String)>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(ANYONE)?;
    page_attachments::download(&state, p, id.as_str(), &app, &file)
        .await
        .map_err(|e| visitor.api(e))
}
