//! The authority's own pages: its users (approving traders' registrations) and the alerts
//! from the border, newest first.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::i18n::{Text, role_label};
use super::{Chrome, FieldErrors, PageResult, Posted, Visitor, html, see_other};
use crate::clock::format_time;
use crate::domain::AlertKind;
use crate::model::Role;
use crate::state::AppState;
use crate::storage::users::{UserChange, UserStatus};
use axum::http::StatusCode;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/a/{authority}/users", get(users))
        .route("/a/{authority}/users/new", post(create_user))
        .route("/a/{authority}/users/{user}/approve", post(approve))
        .route("/a/{authority}/users/{user}/disable", post(disable))
        .route("/a/{authority}/users/{user}/roles", post(set_roles))
        .route("/a/{authority}/alerts", get(alerts))
}

/// Who sees permits and alerts.
pub const PERMIT_READERS: &[Role] = &[Role::Clerk, Role::Signatory, Role::AuthorityAdmin];
/// Who sees users and approves registrations.
const USER_MANAGERS: &[Role] = &[Role::Clerk, Role::AuthorityAdmin];

/// An alert kind's label.
pub fn alert_label(t: &Text, k: AlertKind) -> &'static str {
    use AlertKind as A;
    match k {
        A::SecondEndorsement => t.al_second_endorsement,
        A::UsedPermitScanned => t.al_used_permit_scanned,
        A::QuantityExceeded => t.al_quantity_exceeded,
        A::ImpossibleTravel => t.al_impossible_travel,
        A::RevokedPermit => t.al_revoked_permit,
        A::UnknownPermit => t.al_unknown_permit,
        A::SecondImportConfirmation => t.al_second_import_confirmation,
        A::ImportWithoutEndorsement => t.al_import_without_endorsement,
        A::PlaceOutsideCountry => t.al_place_outside_country,
        A::UnloggedIssuance => t.al_unlogged_issuance,
        A::EndorsedAfterValidity => t.al_endorsed_after_validity,
        A::EndorsedByAnotherParty => t.al_endorsed_by_another_party,
        A::ImportedAfterValidity => t.al_imported_after_validity,
        A::ImportNotDestined => t.al_import_not_destined,
        A::ScannedAfterImport => t.al_scanned_after_import,
    }
}

struct UserLine {
    id: String,
    active: bool,
    staff: bool,
    held: Vec<&'static str>,
    name: String,
    company: String,
    email: String,
    roles: String,
    status: &'static str,
}

/// The new staff member's fields, kept to show the form again.
#[derive(Debug, Default)]
struct NewUserForm {
    name: String,
    email: String,
}

impl UserLine {
    /// Whether the user holds the role named `name`.
    fn holds(&self, name: &str) -> bool {
        self.held.contains(&name)
    }
}

#[derive(Template)]
#[template(path = "portal/users.html")]
struct UsersPage {
    c: Chrome,
    authority: String,
    pending: Vec<UserLine>,
    users: Vec<UserLine>,
    can_create: bool,
    f: NewUserForm,
    errors: FieldErrors,
    role_choices: Vec<(&'static str, &'static str)>,
}

async fn users(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    render_users(
        &state,
        &visitor,
        &authority,
        NewUserForm::default(),
        FieldErrors::default(),
        StatusCode::OK,
    )
    .await
}

async fn render_users(
    state: &AppState,
    visitor: &Visitor,
    authority: &str,
    f: NewUserForm,
    errors: FieldErrors,
    status: StatusCode,
) -> PageResult {
    let id = visitor.member_of(authority)?;
    let p = visitor.require(USER_MANAGERS)?;
    let t = visitor.t();
    let rows = state
        .db
        .list_users(&id)
        .await
        .map_err(|e| visitor.api(e.into()))?;
    let mut pending = Vec::new();
    let mut users = Vec::new();
    for row in rows {
        // A row whose status or roles this code does not know is an error, not a guess.
        let status = row.parsed_status().map_err(|e| visitor.api(e.into()))?;
        let roles = row
            .parsed_roles()
            .map_err(|e| visitor.api(crate::http::error::ApiError::internal(e)))?;
        let line = UserLine {
            staff: status == UserStatus::Active && !roles.contains(&Role::Applicant),
            held: roles.iter().map(|r| r.as_str()).collect(),
            active: status == UserStatus::Active
                && Some(row.id.as_str()) != p.user.as_ref().map(|u| u.id.as_str()),
            id: row.id,
            name: row.name,
            company: row.company.unwrap_or_default(),
            email: row.email,
            roles: roles
                .iter()
                .map(|r| role_label(t, *r))
                .collect::<Vec<_>>()
                .join(", "),
            status: match status {
                UserStatus::Active => t.us_active,
                UserStatus::Pending => t.us_pending,
                UserStatus::Disabled => t.us_disabled,
            },
        };
        if status == UserStatus::Pending {
            pending.push(line);
        } else {
            users.push(line);
        }
    }
    let mut r = html(&UsersPage {
        c: visitor.chrome(),
        authority: id.to_string(),
        pending,
        users,
        can_create: p.holds(Role::AuthorityAdmin),
        f,
        errors,
        role_choices: [
            Role::Clerk,
            Role::ScientificAuthority,
            Role::Signatory,
            Role::AuthorityAdmin,
        ]
        .iter()
        .map(|r| (r.as_str(), role_label(t, *r)))
        .collect(),
    });
    *r.status_mut() = status;
    Ok(r)
}

/// Adds a staff member with the roles ticked, through the API's own function.
async fn create_user(
    State(state): State<AppState>,
    Path(authority): Path<String>,
    posted: Posted<Vec<(String, String)>>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::AuthorityAdmin])?.clone();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut roles = Vec::new();
    for (k, v) in &form {
        if k == "role" {
            match Role::parse(v) {
                Ok(r) => roles.push(r),
                Err(_) => {
                    return Err(visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form));
                }
            }
        }
    }
    let kept = NewUserForm {
        name: field("name"),
        email: field("email"),
    };
    if roles.is_empty() {
        let mut errors = FieldErrors::default();
        errors.add("roles", visitor.t().err_required);
        return render_users(
            &state,
            &visitor,
            &authority,
            kept,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let body = crate::http::session::NewStaff {
        email: kept.email.clone(),
        password: field("password"),
        name: kept.name.clone(),
        roles,
    };
    match crate::http::session::create_user(
        State(state.clone()),
        p,
        crate::http::error::Path(crate::http::params::AuthorityPath {
            authority: id.to_string(),
        }),
        crate::http::error::Json(body),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/a/{id}/users"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::FORBIDDEN => {
            let status = e.status();
            let errors = if e.code() == "weak_password" {
                let mut x = FieldErrors::default();
                x.add("password", super::said(visitor.t(), &e));
                x
            } else {
                FieldErrors::from_api(visitor.t(), &e, &["email", "name", "password", "roles"])
            };
            render_users(&state, &visitor, &authority, kept, errors, status).await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn approve(
    state: State<AppState>,
    path: Path<(String, String)>,
    posted: Posted<Empty>,
) -> PageResult {
    change(state, path, posted, UserChange::Approve, USER_MANAGERS).await
}

async fn disable(
    state: State<AppState>,
    path: Path<(String, String)>,
    posted: Posted<Empty>,
) -> PageResult {
    change(
        state,
        path,
        posted,
        UserChange::Disable,
        &[Role::AuthorityAdmin],
    )
    .await
}

/// Approves a registration or disables an account (its sessions end with it).
async fn change(
    State(state): State<AppState>,
    Path((authority, user)): Path<(String, String)>,
    posted: Posted<Empty>,
    what: UserChange,
    roles: &[Role],
) -> PageResult {
    let visitor = posted.visitor;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(roles)?;
    state
        .db
        .change_user(&p.token_id, &id, &user, what, state.clock.now())
        .await
        .map_err(|e| match e {
            crate::storage::StorageError::State(why) => visitor.error(StatusCode::CONFLICT, why),
            other => visitor.api(other.into()),
        })?;
    Ok(see_other(&format!("/a/{id}/users")))
}

/// Gives a staff member the roles ticked (their sessions end), through the API's function.
async fn set_roles(
    State(state): State<AppState>,
    Path((authority, user)): Path<(String, String)>,
    posted: Posted<Vec<(String, String)>>,
) -> PageResult {
    let Posted { visitor, form } = posted;
    let id = visitor.member_of(&authority)?;
    let p = visitor.require(&[Role::AuthorityAdmin])?.clone();
    let mut roles = Vec::new();
    for (k, v) in &form {
        if k == "role" {
            roles.push(
                Role::parse(v)
                    .map_err(|_| visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form))?,
            );
        }
    }
    let answer = crate::http::session::set_roles(
        State(state.clone()),
        p,
        crate::http::error::Path(crate::http::session::UserPath {
            authority: id.to_string(),
            user,
        }),
        crate::http::error::Json(crate::http::session::NewRoles { roles }),
    )
    .await;
    match answer {
        Ok(_) => Ok(see_other(&format!("/a/{id}/users"))),
        Err(e) if e.status().is_client_error() && e.status() != StatusCode::NOT_FOUND => {
            let status = e.status();
            let mut errors = FieldErrors::default();
            errors.add("table", super::said(visitor.t(), &e));
            render_users(
                &state,
                &visitor,
                &authority,
                NewUserForm::default(),
                errors,
                status,
            )
            .await
        }
        Err(e) => Err(visitor.api(e)),
    }
}

struct AlertLine {
    at: String,
    kind: &'static str,
    number: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "portal/alerts.html")]
struct AlertsPage {
    c: Chrome,
    authority: String,
    rows: Vec<AlertLine>,
}

async fn alerts(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(authority): Path<String>,
) -> PageResult {
    let id = visitor.member_of(&authority)?;
    visitor.require(PERMIT_READERS)?;
    let t = visitor.t();
    let rows = state
        .db
        .newest_alerts(id.as_str(), None, 200)
        .await
        .map_err(|e| visitor.api(e.into()))?
        .into_iter()
        .map(|a| {
            let at = format_time(a.last_at);
            AlertLine {
                at: at.get(..16).unwrap_or(&at).replace('T', " "),
                kind: alert_label(t, a.kind),
                number: a.permit_number.unwrap_or_default(),
                detail: if a.occurrences > 1 {
                    format!("{} (×{})", a.detail, a.occurrences)
                } else {
                    a.detail
                },
            }
        })
        .collect();
    Ok(html(&AlertsPage {
        c: visitor.chrome(),
        authority: id.to_string(),
        rows,
    }))
}
