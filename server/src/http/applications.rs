//! Applications (docs/WORKFLOW.md): a trader drafts, attaches and submits; clerks review and ask
//! for changes or advice; the Scientific Authority advises; a signatory approves and issues,
//! through the same issuing path as `POST …/permits`. Each action is its own route, so the
//! roles that may take it are in the document and enforced by the route's layer; the state,
//! the applicant, separation of duties and the version are checked by the domain and storage.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;
use verifier_core::permit::PermitDraft;

use super::{Access, Api};
use crate::clock::{format_time, parse_time};
use crate::domain::applications::{
    AdviceOpinion, AdvicePolicy, ApplicationAction, ApplicationState, RuleResult, TransitionError,
    TransitionFacts, check_application, check_number_pattern, transition,
};
use crate::http::error::{ApiError, Json, Path, Query};
use crate::http::params::AuthorityPath;
use crate::http::session::require_member;
use crate::model::{AuthorityId, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::applications::{
    ApplicationFilter, ApplicationRow, ApplicationSettings, AttachmentMeta, DraftRecord, EventRow,
    TransitionOutcome, TransitionRecord,
};
use crate::storage::permits::{ApplicationIssue, IssueOutcome};
use crate::views::{ImportPermitRef, IssueRequest, check_request};

/// Largest attachment.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
/// Longest comment on a transition.
const MAX_COMMENT: usize = 2000;

const STAFF: &[Role] = &[
    Role::Clerk,
    Role::ScientificAuthority,
    Role::Signatory,
    Role::AuthorityAdmin,
];
const ANY_USER: &[Role] = &Role::USER_ROLES;

/// Routes of this module.
pub fn api() -> Api {
    let api = Api::new("applications")
        .routes(Access::Roles(&[Role::Applicant]), routes!(create))
        .routes(Access::Roles(ANY_USER), routes!(list))
        .routes(Access::Roles(ANY_USER), routes!(fetch))
        .routes(Access::Roles(&[Role::Applicant]), routes!(update))
        .routes(
            Access::Roles(&[Role::Applicant]),
            with_limit(routes!(upload)),
        )
        .routes(Access::Roles(ANY_USER), routes!(download))
        .routes(
            Access::Roles(&[Role::Admin, Role::AuthorityAdmin]),
            routes!(put_settings),
        )
        .routes(
            Access::Roles(&[
                Role::Admin,
                Role::AuthorityAdmin,
                Role::Clerk,
                Role::Signatory,
            ]),
            routes!(get_settings),
        );
    api.routes(Access::Roles(&[Role::Applicant]), routes!(submit))
        .routes(Access::Roles(&[Role::Applicant]), routes!(withdraw))
        .routes(Access::Roles(&[Role::Clerk]), routes!(review))
        .routes(Access::Roles(&[Role::Clerk]), routes!(request_changes))
        .routes(Access::Roles(&[Role::Clerk]), routes!(request_advice))
        .routes(
            Access::Roles(&[Role::ScientificAuthority]),
            routes!(give_advice),
        )
        .routes(Access::Roles(&[Role::Signatory]), routes!(approve))
        .routes(Access::Roles(&[Role::Signatory]), routes!(issue))
        .routes(
            Access::Roles(&[Role::Clerk, Role::Signatory]),
            routes!(refuse),
        )
}

/// The upload route accepts bodies up to the attachment limit.
fn with_limit(
    (schemas, paths, router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    (
        schemas,
        paths,
        router.layer(DefaultBodyLimit::max(MAX_ATTACHMENT_BYTES)),
    )
}

/// `{authority}/applications/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ApplicationPath {
    /// The authority's short code.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    pub authority: String,
    /// The application's id.
    pub id: String,
}

/// `{authority}/applications/{id}/attachments/{attachment}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AttachmentPath {
    /// The authority's short code.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    pub authority: String,
    /// The application's id.
    pub id: String,
    /// The attachment's id.
    pub attachment: String,
}

/// Body of a new application.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApplication {
    /// The permit asked for, as an issuer would submit it but without `number`: the authority
    /// assigns the number at approval.
    #[schema(value_type = PermitDraft)]
    pub permit: serde_json::Value,
    /// The import permit an Appendix-I export is issued against.
    pub import_permit: Option<ImportPermitRef>,
}

/// Body of a changed draft.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangedApplication {
    /// The version the change was made on (409 if the application changed since).
    pub version: i64,
    /// The permit asked for, without `number`.
    #[schema(value_type = PermitDraft)]
    pub permit: serde_json::Value,
    /// The import permit an Appendix-I export is issued against.
    pub import_permit: Option<ImportPermitRef>,
}

/// Body of a transition.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Act {
    /// The version the decision was made on (409 if the application changed since).
    pub version: i64,
    /// Why: required to request changes and to refuse; shown to the trader.
    #[schema(max_length = 2000)]
    pub comment: Option<String>,
}

/// Body of the Scientific Authority's advice.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Advice {
    /// The version the advice was given on.
    pub version: i64,
    /// Positive, negative or with conditions.
    pub opinion: AdviceOpinion,
    /// The advice's text (the conditions, for a conditional opinion).
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
}

/// One transition in the history.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub at: String,
    /// The user who acted.
    pub actor: String,
    /// What they did.
    pub action: ApplicationAction,
    /// From.
    pub from_state: ApplicationState,
    /// To.
    pub to_state: ApplicationState,
    /// Their comment.
    pub comment: Option<String>,
}

impl From<EventRow> for Event {
    fn from(e: EventRow) -> Self {
        Self {
            at: format_time(e.at),
            actor: e.actor,
            action: e.action,
            from_state: e.from_state,
            to_state: e.to_state,
            comment: e.comment,
        }
    }
}

/// An attachment as listed.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Attachment {
    /// `att_…`.
    pub id: String,
    /// File name as uploaded.
    pub filename: String,
    /// Content type, from the bytes.
    pub content_type: String,
    /// Size in bytes.
    pub size: i64,
    /// Uploader.
    pub uploaded_by: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<AttachmentMeta> for Attachment {
    fn from(a: AttachmentMeta) -> Self {
        Self {
            id: a.id,
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            uploaded_by: a.uploaded_by,
            created_at: format_time(a.created_at),
        }
    }
}

/// The advice given.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GivenAdvice {
    /// The opinion.
    pub opinion: AdviceOpinion,
    /// Its text.
    pub text: String,
}

/// An application as answered.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApplicationView {
    /// `app_…`.
    pub id: String,
    /// The authority.
    pub authority_id: String,
    /// The trader's user id.
    pub applicant_id: String,
    /// Where it is.
    pub state: ApplicationState,
    /// State this when acting on it.
    pub version: i64,
    /// Document type code.
    #[schema(value_type = verifier_core::codes::DocumentType)]
    pub document_type: String,
    /// The permit asked for.
    #[schema(value_type = PermitDraft)]
    pub permit: serde_json::Value,
    /// The import permit referred to.
    pub import_permit: Option<ImportPermitRef>,
    /// What the rules found at the last change: empty when nothing.
    pub rules: Vec<RuleResult>,
    /// Whether the Scientific Authority's advice is required before approval.
    pub advice_required: bool,
    /// The advice, once given.
    pub advice: Option<GivenAdvice>,
    /// The permit's number: assigned at approval, the issued permit's number after issuance
    /// (`/api/v1/authorities/{authority}/permits/{number}`).
    pub permit_number: Option<String>,
    /// Users who reviewed it (and so may not approve or issue it).
    pub reviewed_by: Vec<String>,
    /// Every transition, oldest first (in the list: empty).
    pub history: Vec<Event>,
    /// Supporting documents (in the list: empty).
    pub attachments: Vec<Attachment>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// A page of applications.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ApplicationList {
    /// Newest first.
    pub applications: Vec<ApplicationView>,
    /// Pass as `after` for the next page; absent on the last.
    pub next_after: Option<String>,
}

/// An authority's application settings.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Permit numbers of issued applications: `{seq}` once (six digits), and optionally
    /// `{country}`, `{authority}`, `{year}`; e.g. `{country}/{year}/{seq}`.
    #[schema(min_length = 5, max_length = 35)]
    pub number_pattern: String,
    /// When the Scientific Authority's advice is required before approval.
    pub advice_policy: AdvicePolicy,
}

/// Query of the list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this state.
    #[param(value_type = Option<ApplicationState>, inline)]
    state: Option<String>,
    /// Only this trader's (a user id).
    applicant: Option<String>,
    /// Only applications with a line of this taxon (exact scientific name).
    taxon: Option<String>,
    /// Created at or after (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Created before (RFC 3339).
    #[param(format = DateTime)]
    until: Option<String>,
    /// Cursor from the previous page's `next_after`.
    after: Option<String>,
    /// At most this many (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

fn user_id(principal: &Principal) -> Result<&str, ApiError> {
    principal
        .user
        .as_ref()
        .map(|u| u.id.as_str())
        .ok_or_else(|| ApiError::forbidden("applications are worked on by users with a session"))
}

fn is_staff(principal: &Principal) -> bool {
    STAFF.iter().any(|r| principal.holds(*r))
}

fn roles_of(principal: &Principal) -> Vec<Role> {
    match &principal.user {
        Some(u) => u.roles.clone(),
        None => vec![principal.role],
    }
}

/// The application of a path, if the caller may see it: its applicant, or staff of its
/// authority. Another authority's users get 403, another trader's application is 404.
async fn visible(
    state: &AppState,
    principal: &Principal,
    authority: &str,
    id: &str,
) -> Result<(AuthorityId, ApplicationRow), ApiError> {
    let authority = AuthorityId::parse(authority)?;
    require_member(principal, &authority)?;
    let row = state
        .db
        .application(id)
        .await?
        .filter(|r| r.authority_id == authority.as_str())
        .ok_or_else(|| ApiError::not_found("application"))?;
    let mine = principal
        .user
        .as_ref()
        .is_some_and(|u| u.id == row.applicant_id);
    if !mine && !is_staff(principal) {
        return Err(ApiError::not_found("application"));
    }
    Ok((authority, row))
}

/// Parses a trader's draft: no number (the authority assigns it), then the core's draft type.
fn parse_draft(value: &serde_json::Value) -> Result<PermitDraft, ApiError> {
    let mut value = value.clone();
    let object = value
        .as_object_mut()
        .ok_or_else(|| ApiError::invalid("invalid_permit", "permit must be an object"))?;
    if object.contains_key("number") {
        return Err(ApiError::invalid(
            "number_assigned_by_authority",
            "permit.number is assigned by the authority at approval; leave it out",
        ));
    }
    object.insert(
        "number".to_owned(),
        serde_json::Value::String(String::new()),
    );
    serde_json::from_value(value)
        .map_err(|e| ApiError::invalid("invalid_permit", format!("permit: {e}")))
}

/// What a draft is stored with: its JSON (without number), its rule results and taxa.
struct Checked {
    draft_json: String,
    import_json: Option<String>,
    rules_json: String,
    taxa: Vec<String>,
    document_type: String,
}

impl Checked {
    fn record(&self) -> DraftRecord<'_> {
        DraftRecord {
            document_type: &self.document_type,
            draft: &self.draft_json,
            import_permit: self.import_json.as_deref(),
            rules: &self.rules_json,
            taxa: &self.taxa,
        }
    }
}

async fn check(
    state: &AppState,
    authority: &AuthorityId,
    draft: &PermitDraft,
    import_permit: Option<&ImportPermitRef>,
) -> Result<Checked, ApiError> {
    let now = state.clock.now();
    let country = state
        .db
        .authority(authority)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?
        .country;
    let mut taxa: Vec<String> = draft
        .lines
        .iter()
        .map(|l| l.scientific_name.clone())
        .collect();
    taxa.sort();
    taxa.dedup();
    if taxa
        .iter()
        .any(|t| t.contains('|') || t.chars().count() > 255)
    {
        return Err(ApiError::invalid(
            "invalid_permit",
            "a scientific name has at most 255 characters and no '|'",
        ));
    }
    let facts = state.db.rule_facts(authority, &taxa, now).await?;
    let rules = check_application(draft, import_permit.is_some(), &country, now, &facts);
    let mut stored = draft.clone();
    stored.number = String::new();
    Ok(Checked {
        draft_json: without_number(&stored)?,
        import_json: import_permit
            .map(serde_json::to_string)
            .transpose()
            .map_err(ApiError::internal)?,
        rules_json: serde_json::to_string(&rules).map_err(ApiError::internal)?,
        taxa,
        document_type: draft.document_type.clone(),
    })
}

fn without_number(draft: &PermitDraft) -> Result<String, ApiError> {
    let mut value = serde_json::to_value(draft).map_err(ApiError::internal)?;
    if let Some(object) = value.as_object_mut() {
        object.remove("number");
    }
    serde_json::to_string(&value).map_err(ApiError::internal)
}

fn stored_draft(row: &ApplicationRow) -> Result<PermitDraft, ApiError> {
    parse_draft(&serde_json::from_str(&row.draft).map_err(ApiError::internal)?)
        .map_err(|e| ApiError::internal(format!("stored draft of {}: {e}", row.id)))
}

fn stored_import(row: &ApplicationRow) -> Result<Option<ImportPermitRef>, ApiError> {
    row.import_permit
        .as_deref()
        .map(serde_json::from_str)
        .transpose()
        .map_err(|e| ApiError::internal(format!("stored import permit of {}: {e}", row.id)))
}

fn reviewers(events: &[EventRow]) -> Vec<String> {
    let mut out: Vec<String> = events
        .iter()
        .filter(|e| e.action.is_review())
        .map(|e| e.actor.clone())
        .collect();
    out.sort();
    out.dedup();
    out
}

fn advice_required(policy: AdvicePolicy, draft: &PermitDraft) -> bool {
    policy.requires_advice(
        draft
            .lines
            .iter()
            .map(|l| (l.appendix.as_str(), l.source.as_str())),
    )
}

async fn view(
    state: &AppState,
    row: ApplicationRow,
    detail: bool,
) -> Result<ApplicationView, ApiError> {
    let authority = AuthorityId::parse(&row.authority_id).map_err(ApiError::internal)?;
    let settings = state.db.application_settings(&authority).await?;
    let draft = stored_draft(&row)?;
    let events = state.db.application_events(&row.id).await?;
    let attachments = if detail {
        state
            .db
            .attachments(&row.id)
            .await?
            .into_iter()
            .map(Attachment::from)
            .collect()
    } else {
        Vec::new()
    };
    let advice = match (row.advice.as_deref(), row.advice_text.clone()) {
        (Some(o), Some(text)) => Some(GivenAdvice {
            opinion: o
                .parse()
                .map_err(|e: crate::domain::UnknownStoredValue| ApiError::internal(e))?,
            text,
        }),
        _ => None,
    };
    let rules: Vec<RuleResult> = serde_json::from_str(&row.rules)
        .map_err(|e| ApiError::internal(format!("stored rules of {}: {e}", row.id)))?;
    let mut permit: serde_json::Value =
        serde_json::from_str(&row.draft).map_err(ApiError::internal)?;
    if let Some(object) = permit.as_object_mut() {
        object.remove("number");
    }
    Ok(ApplicationView {
        import_permit: stored_import(&row)?,
        advice_required: advice_required(settings.advice_policy, &draft),
        reviewed_by: reviewers(&events),
        history: if detail {
            events.into_iter().map(Event::from).collect()
        } else {
            Vec::new()
        },
        attachments,
        advice,
        rules,
        permit,
        id: row.id,
        authority_id: row.authority_id,
        applicant_id: row.applicant_id,
        state: row.state,
        version: row.version,
        document_type: row.document_type,
        permit_number: row.permit_number,
        created_at: format_time(row.created_at),
        updated_at: format_time(row.updated_at),
    })
}

fn transition_error(e: TransitionError) -> ApiError {
    let status = match e {
        TransitionError::WrongState { .. }
        | TransitionError::AdviceRequired
        | TransitionError::NegativeAdvice => StatusCode::CONFLICT,
        TransitionError::WrongRole { .. }
        | TransitionError::NotApplicant { .. }
        | TransitionError::SeparationOfDuties { .. } => StatusCode::FORBIDDEN,
        TransitionError::CommentRequired { .. } => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, e.code(), e.to_string())
}

fn version_conflict() -> ApiError {
    ApiError::conflict(
        "version_conflict",
        "the application changed since you loaded it; reload and try again",
    )
}

/// Draft an application
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/applications", params(AuthorityPath),
    request_body = NewApplication, responses((status = 201, body = ApplicationView)))]
async fn create(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Json(body): Json<NewApplication>,
) -> Result<(StatusCode, Json<ApplicationView>), ApiError> {
    let authority = AuthorityId::parse(&authority)?;
    require_member(&principal, &authority)?;
    let actor = user_id(&principal)?;
    let draft = parse_draft(&body.permit)?;
    let c = check(&state, &authority, &draft, body.import_permit.as_ref()).await?;
    let row = state
        .db
        .create_application(actor, &authority, &c.record(), state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(view(&state, row, true).await?)))
}

/// Change a draft (in draft or changes requested); the rules run again
#[utoipa::path(put, path = "/api/v1/authorities/{authority}/applications/{id}", params(ApplicationPath),
    request_body = ChangedApplication, responses((status = 200, body = ApplicationView)))]
async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(ApplicationPath { authority, id }): Path<ApplicationPath>,
    Json(body): Json<ChangedApplication>,
) -> Result<Json<ApplicationView>, ApiError> {
    let (authority, row) = visible(&state, &principal, &authority, &id).await?;
    let actor = user_id(&principal)?;
    if row.applicant_id != actor {
        return Err(transition_error(TransitionError::NotApplicant {
            action: "change",
        }));
    }
    if !row.state.editable() {
        return Err(ApiError::conflict(
            "not_editable",
            format!("an application that is {} cannot be changed", row.state),
        ));
    }
    if body.version != row.version {
        return Err(version_conflict());
    }
    let draft = parse_draft(&body.permit)?;
    let c = check(&state, &authority, &draft, body.import_permit.as_ref()).await?;
    let outcome = state
        .db
        .update_application(actor, &id, body.version, &c.record(), state.clock.now())
        .await?;
    match outcome {
        TransitionOutcome::Done(row) => Ok(Json(view(&state, *row, true).await?)),
        TransitionOutcome::Conflict => Err(version_conflict()),
    }
}

/// One application with its rule results, history and attachments
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/applications/{id}", params(ApplicationPath),
    responses((status = 200, body = ApplicationView)))]
async fn fetch(
    State(state): State<AppState>,
    principal: Principal,
    Path(ApplicationPath { authority, id }): Path<ApplicationPath>,
) -> Result<Json<ApplicationView>, ApiError> {
    let (_, row) = visible(&state, &principal, &authority, &id).await?;
    Ok(Json(view(&state, row, true).await?))
}

/// The authority's applications (a trader sees their own), newest first, with filters
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/applications", params(AuthorityPath, ListQuery),
    responses((status = 200, body = ApplicationList)))]
async fn list(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Query(q): Query<ListQuery>,
) -> Result<Json<ApplicationList>, ApiError> {
    let authority = AuthorityId::parse(&authority)?;
    require_member(&principal, &authority)?;
    let bad = |m: &str| ApiError::bad_request("invalid_query", m.to_owned());
    let wanted = q
        .state
        .as_deref()
        .map(str::parse::<ApplicationState>)
        .transpose()
        .map_err(|e| bad(&e.to_string()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(bad("limit must be 1 to 500"));
    }
    let time = |t: &Option<String>, name: &'static str| {
        t.as_deref()
            .map(|s| parse_time(name, s).map_err(|e| bad(&e.message)))
            .transpose()
    };
    let after = q
        .after
        .as_deref()
        .map(|a| {
            a.split_once('.')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_owned())))
                .ok_or_else(|| bad("after must be a cursor from next_after"))
        })
        .transpose()?;
    // A trader sees their own applications only, whatever the filter says.
    let applicant = if is_staff(&principal) {
        q.applicant
    } else {
        Some(user_id(&principal)?.to_owned())
    };
    let filter = ApplicationFilter {
        state: wanted,
        applicant,
        taxon: q.taxon,
        from: time(&q.from, "from")?,
        until: time(&q.until, "until")?,
        after,
        limit,
    };
    let rows = state.db.list_applications(&authority, &filter).await?;
    let next_after = (rows.len() as i64 == limit)
        .then(|| rows.last().map(|r| format!("{}.{}", r.created_at, r.id)))
        .flatten();
    let mut applications = Vec::with_capacity(rows.len());
    for row in rows {
        applications.push(view(&state, row, false).await?);
    }
    Ok(Json(ApplicationList {
        applications,
        next_after,
    }))
}

/// Decides and records one transition (issuance goes through [`issue`]).
async fn act(
    state: &AppState,
    principal: &Principal,
    path: ApplicationPath,
    action: ApplicationAction,
    version: i64,
    comment: Option<&str>,
    advice: Option<(AdviceOpinion, &str)>,
) -> Result<Json<ApplicationView>, ApiError> {
    let (authority, row) = visible(state, principal, &path.authority, &path.id).await?;
    let actor = user_id(principal)?;
    let comment = comment
        .map(|c| text_field("comment", c, MAX_COMMENT))
        .transpose()?;
    let events = state.db.application_events(&row.id).await?;
    let settings = state.db.application_settings(&authority).await?;
    let draft = stored_draft(&row)?;
    let roles = roles_of(principal);
    let facts = TransitionFacts {
        state: row.state,
        actor_is_applicant: row.applicant_id == actor,
        actor_roles: &roles,
        actor_reviewed: reviewers(&events).iter().any(|r| r == actor),
        advice_required: advice_required(settings.advice_policy, &draft),
        advice: row
            .advice
            .as_deref()
            .map(str::parse::<AdviceOpinion>)
            .transpose()
            .map_err(ApiError::internal)?,
        has_comment: comment.is_some(),
    };
    let to = transition(action, &facts).map_err(transition_error)?;
    if version != row.version {
        return Err(version_conflict());
    }
    let applicant = state.db.user(&row.applicant_id).await?;
    let notify = applicant.as_ref().map(|u| u.email.as_str());
    if action == ApplicationAction::Issue {
        return issue_from(state, &authority, row, actor, comment.as_deref(), notify).await;
    }
    let record = TransitionRecord {
        id: &row.id,
        authority: authority.as_str(),
        version,
        actor,
        action,
        from: row.state,
        to,
        comment: comment.as_deref(),
        advice,
        notify,
    };
    match state
        .db
        .transition_application(&record, state.clock.now())
        .await?
    {
        TransitionOutcome::Done(row) => {
            tracing::info!(application = %row.id, action = action.as_str(), to = to.as_str(), "application moved");
            Ok(Json(view(state, *row, true).await?))
        }
        TransitionOutcome::Conflict => Err(version_conflict()),
    }
}

/// Issues the permit of an approved application through the issuing path of `POST …/permits`
/// (the same checks, signing and rules); the application's `issue` transition is recorded in
/// the same transaction.
async fn issue_from(
    state: &AppState,
    authority: &AuthorityId,
    row: ApplicationRow,
    actor: &str,
    comment: Option<&str>,
    notify: Option<&str>,
) -> Result<Json<ApplicationView>, ApiError> {
    let country = state
        .db
        .authority(authority)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?
        .country;
    let mut draft = stored_draft(&row)?;
    draft.number = row
        .permit_number
        .clone()
        .ok_or_else(|| ApiError::internal(format!("approved {} has no number", row.id)))?;
    let request = IssueRequest {
        permit: draft,
        import_permit: stored_import(&row)?,
        form: None,
    };
    let now = state.clock.now();
    let mut item = check_request(&request, &country, now, "")?;
    item.application = Some(ApplicationIssue {
        id: row.id.clone(),
        version: row.version,
        actor: actor.to_owned(),
        comment: comment.map(str::to_owned),
        notify: notify.map(str::to_owned),
    });
    let outcome = state
        .db
        .issue_permits(actor, authority, &[item], &state.master, now)
        .await?;
    state.sync_cache.invalidate();
    match outcome {
        IssueOutcome::Issued(permits) => {
            for p in &permits {
                tracing::info!(application = %row.id, number = %p.number, "permit issued from application");
            }
            let row = state
                .db
                .application(&row.id)
                .await?
                .ok_or_else(|| ApiError::not_found("application"))?;
            Ok(Json(view(state, row, true).await?))
        }
        IssueOutcome::Refused(r) => Err(crate::http::permits::refusal(r)),
    }
}

/// A route whose body is [`Act`] and whose handler only names its action: the path, the
/// summary and the action differ, the rest is [`act`].
macro_rules! action_route {
    (#[doc = $summary:literal] $name:ident, $path:literal, $action:ident) => {
        #[doc = $summary]
        #[utoipa::path(post, path = $path, params(ApplicationPath),
                            request_body = Act, responses((status = 200, body = ApplicationView)))]
        async fn $name(
            State(state): State<AppState>,
            principal: Principal,
            Path(path): Path<ApplicationPath>,
            Json(body): Json<Act>,
        ) -> Result<Json<ApplicationView>, ApiError> {
            let comment = body.comment.as_deref();
            act(
                &state,
                &principal,
                path,
                ApplicationAction::$action,
                body.version,
                comment,
                None,
            )
            .await
        }
    };
}

/// Submit (or resubmit after changes); the rules run again — applicant
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/applications/{id}/submit", params(ApplicationPath),
    request_body = Act, responses((status = 200, body = ApplicationView)))]
async fn submit(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<ApplicationPath>,
    Json(body): Json<Act>,
) -> Result<Json<ApplicationView>, ApiError> {
    // The rules run on submission: a draft last checked days ago is checked against today's
    // quotas and listings, and the trader sees the result in the answer.
    let (authority, row) = visible(&state, &principal, &path.authority, &path.id).await?;
    if row.state.editable() && body.version == row.version {
        let draft = stored_draft(&row)?;
        let import = stored_import(&row)?;
        let c = check(&state, &authority, &draft, import.as_ref()).await?;
        if c.rules_json != row.rules {
            let actor = user_id(&principal)?;
            let outcome = state
                .db
                .update_application(actor, &row.id, row.version, &c.record(), state.clock.now())
                .await?;
            return match outcome {
                TransitionOutcome::Done(updated) => {
                    act(
                        &state,
                        &principal,
                        path,
                        ApplicationAction::Submit,
                        updated.version,
                        body.comment.as_deref(),
                        None,
                    )
                    .await
                }
                TransitionOutcome::Conflict => Err(version_conflict()),
            };
        }
    }
    act(
        &state,
        &principal,
        path,
        ApplicationAction::Submit,
        body.version,
        body.comment.as_deref(),
        None,
    )
    .await
}

action_route!(
    /// Withdraw the application — applicant
    withdraw,
    "/api/v1/authorities/{authority}/applications/{id}/withdraw",
    Withdraw
);

action_route!(
    /// Start reviewing a submitted application — clerk
    review,
    "/api/v1/authorities/{authority}/applications/{id}/review",
    Review
);

action_route!(
    /// Send the application back to the trader with comments — clerk
    request_changes,
    "/api/v1/authorities/{authority}/applications/{id}/request-changes",
    RequestChanges
);

action_route!(
    /// Ask the Scientific Authority for its advice — clerk
    request_advice,
    "/api/v1/authorities/{authority}/applications/{id}/request-advice",
    RequestAdvice
);

/// Give the non-detriment advice — scientific authority
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/applications/{id}/advice", params(ApplicationPath),
    request_body = Advice, responses((status = 200, body = ApplicationView)))]
async fn give_advice(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<ApplicationPath>,
    Json(body): Json<Advice>,
) -> Result<Json<ApplicationView>, ApiError> {
    let text = text_field("text", &body.text, MAX_COMMENT)?;
    act(
        &state,
        &principal,
        path,
        ApplicationAction::GiveAdvice,
        body.version,
        Some(&text),
        Some((body.opinion, &text)),
    )
    .await
}

action_route!(
    /// Approve: assigns the permit number — signatory who did not review it
    approve,
    "/api/v1/authorities/{authority}/applications/{id}/approve",
    Approve
);

action_route!(
    /// Issue and sign the approved application's permit — signatory who did not review it
    issue,
    "/api/v1/authorities/{authority}/applications/{id}/issue",
    Issue
);

action_route!(
    /// Refuse with a reason — clerk or signatory
    refuse,
    "/api/v1/authorities/{authority}/applications/{id}/refuse",
    Refuse
);

/// What the bytes of an upload are, from their first bytes.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// Query of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, kept for the download.
    #[param(min_length = 1, max_length = 200)]
    filename: String,
}

/// Attach a supporting document (PDF, JPEG or PNG, at most 5 MiB) — applicant
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/applications/{id}/attachments",
    params(ApplicationPath, UploadQuery),
    request_body(content(
        (crate::http::openapi::Binary = "application/pdf"),
        (crate::http::openapi::Binary = "image/png"),
        (crate::http::openapi::Binary = "image/jpeg"))),
    responses((status = 201, body = Attachment)))]
async fn upload(
    State(state): State<AppState>,
    principal: Principal,
    Path(ApplicationPath { authority, id }): Path<ApplicationPath>,
    Query(q): Query<UploadQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Attachment>), ApiError> {
    let (_, row) = visible(&state, &principal, &authority, &id).await?;
    let actor = user_id(&principal)?;
    if row.applicant_id != actor {
        return Err(transition_error(TransitionError::NotApplicant {
            action: "attach documents to",
        }));
    }
    if !row.state.editable() {
        return Err(ApiError::conflict(
            "not_editable",
            format!(
                "documents are attached in draft or when changes are requested, not when {}",
                row.state
            ),
        ));
    }
    let filename = text_field("filename", &q.filename, 200)?;
    if filename.contains(['/', '\\', '"']) {
        return Err(ApiError::invalid(
            "invalid_field",
            "filename must not contain '/', '\\' or '\"'",
        ));
    }
    let claimed = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or(v).trim().to_ascii_lowercase())
        .unwrap_or_default();
    if body.is_empty() {
        return Err(ApiError::invalid("empty_attachment", "the file is empty"));
    }
    let Some(sniffed) = sniff(&body) else {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_attachment",
            "attachments are PDF, JPEG or PNG files",
        ));
    };
    if claimed != sniffed {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type_mismatch",
            format!("the file is {sniffed}, not {claimed:?} as claimed"),
        ));
    }
    let meta = state
        .db
        .add_attachment(actor, &row, &filename, sniffed, &body, state.clock.now())
        .await?;
    Ok((StatusCode::CREATED, Json(meta.into())))
}

/// Download a supporting document — its applicant or the authority's staff
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/applications/{id}/attachments/{attachment}",
    params(AttachmentPath),
    responses((status = 200, description = "The file as uploaded", content_type = "application/octet-stream",
        body = crate::http::openapi::Binary)))]
async fn download(
    State(state): State<AppState>,
    principal: Principal,
    Path(AttachmentPath {
        authority,
        id,
        attachment,
    }): Path<AttachmentPath>,
) -> Result<Response, ApiError> {
    let (_, row) = visible(&state, &principal, &authority, &id).await?;
    let (filename, content_type, bytes) = state
        .db
        .attachment_content(&row.id, &attachment)
        .await?
        .ok_or_else(|| ApiError::not_found("attachment"))?;
    let disposition = format!("attachment; filename=\"{filename}\"");
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}

/// The authority's application settings
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/application-settings", params(AuthorityPath),
    responses((status = 200, body = Settings)))]
async fn get_settings(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
) -> Result<Json<Settings>, ApiError> {
    let authority = AuthorityId::parse(&authority)?;
    require_member(&principal, &authority)?;
    let s = state.db.application_settings(&authority).await?;
    Ok(Json(Settings {
        number_pattern: s.number_pattern,
        advice_policy: s.advice_policy,
    }))
}

/// Set the numbering pattern and when advice is required
#[utoipa::path(put, path = "/api/v1/authorities/{authority}/application-settings", params(AuthorityPath),
    request_body = Settings, responses((status = 200, body = Settings)))]
async fn put_settings(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority }): Path<AuthorityPath>,
    Json(body): Json<Settings>,
) -> Result<Json<Settings>, ApiError> {
    let authority = AuthorityId::parse(&authority)?;
    require_member(&principal, &authority)?;
    if state.db.authority(&authority).await?.is_none() {
        return Err(ApiError::not_found("authority"));
    }
    check_number_pattern(&body.number_pattern)
        .map_err(|e| ApiError::invalid("invalid_pattern", e.to_string()))?;
    state
        .db
        .set_application_settings(
            &principal.token_id,
            &authority,
            &ApplicationSettings {
                number_pattern: body.number_pattern.clone(),
                advice_policy: body.advice_policy,
            },
            state.clock.now(),
        )
        .await?;
    Ok(Json(body))
}

/// What the portal's pages call: the routes' own functions, with the caller's session, so a
/// page and the API take the same decisions.
pub(crate) mod pages {
    use super::*;

    /// Drafts an application.
    pub(crate) async fn create(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        permit: serde_json::Value,
    ) -> Result<ApplicationView, ApiError> {
        let (_, Json(view)) = super::create(
            State(state.clone()),
            principal.clone(),
            Path(AuthorityPath {
                authority: authority.to_owned(),
            }),
            Json(NewApplication {
                permit,
                import_permit: None,
            }),
        )
        .await?;
        Ok(view)
    }

    /// Changes a draft.
    pub(crate) async fn update(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        id: &str,
        version: i64,
        permit: serde_json::Value,
        import_permit: Option<ImportPermitRef>,
    ) -> Result<ApplicationView, ApiError> {
        let Json(view) = super::update(
            State(state.clone()),
            principal.clone(),
            Path(ApplicationPath {
                authority: authority.to_owned(),
                id: id.to_owned(),
            }),
            Json(ChangedApplication {
                version,
                permit,
                import_permit,
            }),
        )
        .await?;
        Ok(view)
    }

    /// One application, if the caller may see it.
    pub(crate) async fn fetch(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        id: &str,
    ) -> Result<ApplicationView, ApiError> {
        let (_, row) = visible(state, principal, authority, id).await?;
        view(state, row, true).await
    }

    /// The caller's applications (a trader's own; staff: the authority's), newest first.
    pub(crate) async fn list(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        wanted: Option<ApplicationState>,
        taxon: Option<String>,
        limit: i64,
    ) -> Result<Vec<ApplicationView>, ApiError> {
        let Json(list) = super::list(
            State(state.clone()),
            principal.clone(),
            Path(AuthorityPath {
                authority: authority.to_owned(),
            }),
            Query(ListQuery {
                state: wanted.map(|s| s.as_str().to_owned()),
                applicant: None,
                taxon,
                from: None,
                until: None,
                after: None,
                limit: Some(limit),
            }),
        )
        .await?;
        Ok(list.applications)
    }

    /// Takes a step of the workflow (submission re-runs the rules, as its route does).
    pub(crate) async fn act(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        id: &str,
        action: ApplicationAction,
        version: i64,
        comment: Option<&str>,
    ) -> Result<ApplicationView, ApiError> {
        let path = ApplicationPath {
            authority: authority.to_owned(),
            id: id.to_owned(),
        };
        let Json(view) = match action {
            ApplicationAction::Submit => {
                super::submit(
                    State(state.clone()),
                    principal.clone(),
                    Path(path),
                    Json(Act {
                        version,
                        comment: comment.map(str::to_owned),
                    }),
                )
                .await?
            }
            ApplicationAction::GiveAdvice => {
                return Err(ApiError::invalid(
                    "advice_needs_opinion",
                    "advice is given with an opinion and its text",
                ));
            }
            other => super::act(state, principal, path, other, version, comment, None).await?,
        };
        Ok(view)
    }

    /// Gives the Scientific Authority's advice.
    pub(crate) async fn advise(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        id: &str,
        version: i64,
        opinion: AdviceOpinion,
        text: &str,
    ) -> Result<ApplicationView, ApiError> {
        let Json(view) = super::give_advice(
            State(state.clone()),
            principal.clone(),
            Path(ApplicationPath {
                authority: authority.to_owned(),
                id: id.to_owned(),
            }),
            Json(Advice {
                version,
                opinion,
                text: text.to_owned(),
            }),
        )
        .await?;
        Ok(view)
    }

    /// The steps the caller may take on an application now (reasons and comments aside).
    pub(crate) async fn actions(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        id: &str,
    ) -> Result<Vec<ApplicationAction>, ApiError> {
        let (authority, row) = visible(state, principal, authority, id).await?;
        let Some(actor) = principal.user.as_ref().map(|u| u.id.as_str()) else {
            return Ok(Vec::new());
        };
        let events = state.db.application_events(&row.id).await?;
        let settings = state.db.application_settings(&authority).await?;
        let draft = stored_draft(&row)?;
        let roles = roles_of(principal);
        let advice = row
            .advice
            .as_deref()
            .map(str::parse::<AdviceOpinion>)
            .transpose()
            .map_err(ApiError::internal)?;
        let facts = TransitionFacts {
            state: row.state,
            actor_is_applicant: row.applicant_id == actor,
            actor_roles: &roles,
            actor_reviewed: reviewers(&events).iter().any(|r| r == actor),
            advice_required: advice_required(settings.advice_policy, &draft),
            advice,
            has_comment: true,
        };
        Ok(ApplicationAction::ALL
            .into_iter()
            .filter(|a| transition(*a, &facts).is_ok())
            .collect())
    }
}

/// Attachments, for the portal's pages: the routes' own functions.
pub(crate) mod page_attachments {
    use super::*;

    /// Largest attachment.
    pub(crate) const MAX_BYTES: usize = MAX_ATTACHMENT_BYTES;

    /// Attaches a file the trader chose (`content_type` as the browser claims it).
    pub(crate) async fn attach(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        id: &str,
        filename: &str,
        content_type: &str,
        bytes: Bytes,
    ) -> Result<Attachment, ApiError> {
        let mut headers = HeaderMap::new();
        if let Ok(v) = axum::http::HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, v);
        }
        let (_, Json(meta)) = super::upload(
            State(state.clone()),
            principal.clone(),
            Path(ApplicationPath {
                authority: authority.to_owned(),
                id: id.to_owned(),
            }),
            Query(UploadQuery {
                filename: filename.to_owned(),
            }),
            headers,
            bytes,
        )
        .await?;
        Ok(meta)
    }

    /// One attachment's file, if the caller may see the application.
    pub(crate) async fn download(
        state: &AppState,
        principal: &Principal,
        authority: &str,
        id: &str,
        attachment: &str,
    ) -> Result<Response, ApiError> {
        super::download(
            State(state.clone()),
            principal.clone(),
            Path(AttachmentPath {
                authority: authority.to_owned(),
                id: id.to_owned(),
                attachment: attachment.to_owned(),
            }),
        )
        .await
    }
}
