//! People: a trader's registration with an authority and its approval, staff accounts created
//! by the authority's admin, and sessions (login, the current session, logout). A session is a
//! bearer secret (`pss_…`) accepted wherever a token is; its row also holds a CSRF secret, so a
//! browser can later carry the same session in an HttpOnly cookie with a CSRF token.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa_axum::routes;

use super::{Access, Api};
use crate::clock::format_time;
use crate::crypto;
use crate::http::error::{ApiError, Json, Path};
use crate::http::params::AuthorityPath;
use crate::model::{AuthorityId, CountryCode, Principal, Role, text_field};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::users::{NewUser, OpenedSession, ThrottleKey, UserChange, UserRow, UserStatus};

/// How long a session lasts.
pub const SESSION_LIFETIME_SECS: i64 = 8 * 3600;
/// Shortest password accepted.
const MIN_PASSWORD: usize = 12;
/// Longest password accepted (Argon2 takes any length; this bounds the work per request).
const MAX_PASSWORD: usize = 256;

/// Every role a user account can hold.
pub const USER_ROLES: &[Role] = &Role::USER_ROLES;
/// Who may see and approve an authority's users.
const USER_MANAGERS: &[Role] = &[Role::Admin, Role::AuthorityAdmin, Role::Clerk];

/// Routes of this module.
pub fn api() -> Api {
    Api::new("sessions")
        .routes(Access::Public, routes!(register))
        .routes(
            Access::Roles(&[Role::Admin, Role::AuthorityAdmin]),
            routes!(create_user),
        )
        .routes(Access::Roles(USER_MANAGERS), routes!(list_users))
        .routes(Access::Roles(USER_MANAGERS), routes!(approve))
        .routes(
            Access::Roles(&[Role::Admin, Role::AuthorityAdmin]),
            routes!(disable),
        )
        .routes(
            Access::Roles(&[Role::Admin, Role::AuthorityAdmin]),
            routes!(set_roles),
        )
        .routes(Access::Public, routes!(login))
        .routes(Access::Roles(USER_ROLES), routes!(current, logout))
}

/// A user as answered.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct User {
    /// `usr_…`.
    pub id: String,
    /// The authority the user belongs to.
    pub authority_id: String,
    /// Login name.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Account status.
    pub status: UserStatus,
    /// A trader's company.
    pub company: Option<String>,
    /// A trader's address.
    pub address: Option<String>,
    /// A trader's country.
    pub country: Option<String>,
    /// A phone number.
    pub phone: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Who approved the registration.
    pub approved_by: Option<String>,
}

impl TryFrom<UserRow> for User {
    type Error = ApiError;

    fn try_from(row: UserRow) -> Result<Self, ApiError> {
        let roles = row.parsed_roles().map_err(ApiError::internal)?;
        let status = row.parsed_status()?;
        Ok(Self {
            id: row.id,
            authority_id: row.authority_id,
            email: row.email,
            name: row.name,
            roles,
            status,
            company: row.company,
            address: row.address,
            country: row.country,
            phone: row.phone,
            created_at: format_time(row.created_at),
            approved_by: row.approved_by,
        })
    }
}

/// Body of a trader's registration.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// Login name.
    #[schema(format = Email, max_length = 254)]
    pub(crate) email: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub(crate) password: String,
    /// Contact person.
    #[schema(min_length = 1, max_length = 200)]
    pub(crate) name: String,
    /// The registered company.
    #[schema(min_length = 1, max_length = 200)]
    pub(crate) company: String,
    /// Its address.
    #[schema(min_length = 1, max_length = 300)]
    pub(crate) address: String,
    /// Its country: the authority's.
    #[schema(value_type = verifier_core::codes::Country)]
    pub(crate) country: String,
    /// A phone number.
    #[schema(max_length = 50)]
    pub(crate) phone: Option<String>,
}

/// Body of a staff account.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// Login name.
    #[schema(format = Email, max_length = 254)]
    pub(crate) email: String,
    /// At least 12 characters.
    #[schema(min_length = 12, max_length = 256)]
    pub(crate) password: String,
    /// Full name.
    #[schema(min_length = 1, max_length = 200)]
    pub(crate) name: String,
    /// One or more user roles.
    #[schema(min_items = 1)]
    pub(crate) roles: Vec<Role>,
}

/// `{authority}/users/{user}`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The authority's short code.
    #[param(pattern = "^[A-Za-z][A-Za-z0-9-]{1,15}$")]
    pub authority: String,
    /// The user's id.
    pub user: String,
}

/// The users of an authority.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserList {
    users: Vec<User>,
}

/// Body of a login.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    /// Login name.
    #[schema(max_length = 254)]
    email: String,
    /// Password.
    #[schema(max_length = 256)]
    password: String,
}

/// A session just opened: the secret is in this answer only.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Session {
    /// The bearer secret (`Authorization: Bearer pss_…`).
    pub token: String,
    /// The token a browser form of this session carries against CSRF.
    pub csrf_token: String,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Who is logged in.
    pub user: User,
}

fn email(text: &str) -> Result<String, ApiError> {
    let e = text_field("email", text, 254)?.to_lowercase();
    let ok = e.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
    }) && !e.contains(char::is_whitespace);
    if ok {
        Ok(e)
    } else {
        Err(ApiError::invalid(
            "invalid_field",
            "email is not an email address",
        ))
    }
}

/// Hashed on the blocking pool: Argon2 spends tens of milliseconds of CPU on purpose.
async fn password_hash(password: &str) -> Result<String, ApiError> {
    let n = password.chars().count();
    if !(MIN_PASSWORD..=MAX_PASSWORD).contains(&n) {
        return Err(ApiError::invalid(
            "weak_password",
            format!("a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters"),
        ));
    }
    let password = zeroize::Zeroizing::new(password.to_owned());
    tokio::task::spawn_blocking(move || crypto::hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

/// The authority of a path, checked to exist.
async fn authority(state: &AppState, text: &str) -> Result<(AuthorityId, String), ApiError> {
    let id = AuthorityId::parse(text)?;
    let row = state
        .db
        .authority(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("authority"))?;
    Ok((id, row.country))
}

/// 403 unless the caller is the platform admin or a user of `authority`.
pub fn require_member(principal: &Principal, authority: &AuthorityId) -> Result<(), ApiError> {
    if principal.role == Role::Admin
        || (principal.user.is_some() && principal.authority.as_ref() == Some(authority))
    {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "other_authority",
            format!("you may not act for authority {authority}"),
        ))
    }
}

/// Register as a trader with an authority (waits for the authority's approval)
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/registrations", params(AuthorityPath),
    request_body = Registration, responses((status = 201, body = User)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    Path(AuthorityPath { authority: a }): Path<AuthorityPath>,
    Json(body): Json<Registration>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let (id, country) = authority(&state, &a).await?;
    let email = email(&body.email)?;
    let name = text_field("name", &body.name, 200)?;
    let company = text_field("company", &body.company, 200)?;
    let address = text_field("address", &body.address, 300)?;
    let trader_country = CountryCode::parse(&body.country)?;
    if trader_country.as_str() != country {
        return Err(ApiError::invalid(
            "wrong_authority",
            format!(
                "traders of {trader_country} register with their own country's authority, not {id}"
            ),
        ));
    }
    let phone = body
        .phone
        .as_deref()
        .map(|p| text_field("phone", p, 50))
        .transpose()?;
    let hash = password_hash(&body.password).await?;
    let row = state
        .db
        .create_user(
            "registration",
            &NewUser {
                authority: &id,
                email: &email,
                name: &name,
                password_hash: &hash,
                roles: &[Role::Applicant],
                status: UserStatus::Pending,
                company: Some(&company),
                address: Some(&address),
                country: Some(trader_country.as_str()),
                phone: phone.as_deref(),
            },
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.try_into()?)))
}

/// Create a staff account of the authority (its admin, or the platform admin)
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/users", params(AuthorityPath),
    request_body = NewStaff, responses((status = 201, body = User)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority: a }): Path<AuthorityPath>,
    Json(body): Json<NewStaff>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    let (id, _) = authority(&state, &a).await?;
    require_member(&principal, &id)?;
    if body.roles.is_empty() || body.roles.iter().any(|r| !r.is_user_role()) {
        return Err(ApiError::invalid(
            "invalid_roles",
            "a user holds one or more of applicant, clerk, scientific_authority, signatory, authority_admin",
        ));
    }
    let mut roles = body.roles.clone();
    roles.sort_by_key(|r| r.as_str());
    roles.dedup();
    let email = email(&body.email)?;
    let name = text_field("name", &body.name, 200)?;
    let hash = password_hash(&body.password).await?;
    let row = state
        .db
        .create_user(
            &principal.token_id,
            &NewUser {
                authority: &id,
                email: &email,
                name: &name,
                password_hash: &hash,
                roles: &roles,
                status: UserStatus::Active,
                company: None,
                address: None,
                country: None,
                phone: None,
            },
            state.clock.now(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(row.try_into()?)))
}

/// The authority's users, pending registrations first
#[utoipa::path(get, path = "/api/v1/authorities/{authority}/users", params(AuthorityPath),
    responses((status = 200, body = UserList)))]
async fn list_users(
    State(state): State<AppState>,
    principal: Principal,
    Path(AuthorityPath { authority: a }): Path<AuthorityPath>,
) -> Result<Json<UserList>, ApiError> {
    let (id, _) = authority(&state, &a).await?;
    require_member(&principal, &id)?;
    let users = state
        .db
        .list_users(&id)
        .await?
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    Ok(Json(UserList { users }))
}

/// Approve a trader's registration (the authority's admin or a clerk)
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/users/{user}/approve", params(UserPath),
    responses((status = 200, body = User)))]
async fn approve(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<UserPath>,
) -> Result<Json<User>, ApiError> {
    change_user(&state, &principal, path, UserChange::Approve).await
}

/// Body of a change of roles.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRoles {
    /// The staff roles the user holds from now on (clerk, scientific_authority, signatory,
    /// authority_admin).
    #[schema(min_items = 1)]
    pub(crate) roles: Vec<Role>,
}

/// Set a staff member's roles (the authority's admin); their open sessions end
#[utoipa::path(put, path = "/api/v1/authorities/{authority}/users/{user}/roles", params(UserPath),
    request_body = NewRoles, responses((status = 200, body = User)))]
pub(crate) async fn set_roles(
    State(state): State<AppState>,
    principal: Principal,
    Path(UserPath { authority: a, user }): Path<UserPath>,
    Json(body): Json<NewRoles>,
) -> Result<Json<User>, ApiError> {
    let (id, _) = authority(&state, &a).await?;
    require_member(&principal, &id)?;
    if body.roles.is_empty()
        || body
            .roles
            .iter()
            .any(|r| !r.is_user_role() || *r == Role::Applicant)
    {
        return Err(ApiError::invalid(
            "invalid_roles",
            "a staff member holds one or more of clerk, scientific_authority, signatory, authority_admin",
        ));
    }
    let mut roles = body.roles;
    roles.sort_by_key(|r| r.as_str());
    roles.dedup();
    let row = state
        .db
        .set_user_roles(&principal.token_id, &id, &user, &roles, state.clock.now())
        .await
        .map_err(|e| match e {
            StorageError::State(why) => ApiError::conflict("not_staff", why),
            other => other.into(),
        })?;
    Ok(Json(row.try_into()?))
}

/// Disable a user (the authority's admin): they can no longer log in, and their sessions end
#[utoipa::path(post, path = "/api/v1/authorities/{authority}/users/{user}/disable", params(UserPath),
    responses((status = 200, body = User)))]
async fn disable(
    State(state): State<AppState>,
    principal: Principal,
    Path(path): Path<UserPath>,
) -> Result<Json<User>, ApiError> {
    change_user(&state, &principal, path, UserChange::Disable).await
}

async fn change_user(
    state: &AppState,
    principal: &Principal,
    UserPath { authority: a, user }: UserPath,
    change: UserChange,
) -> Result<Json<User>, ApiError> {
    let (id, _) = authority(state, &a).await?;
    require_member(principal, &id)?;
    // Named once, as a `code` binding, so the portal's translation test finds both codes.
    let code = match change {
        UserChange::Approve => "not_pending",
        UserChange::Disable => "already_disabled",
    };
    let row = state
        .db
        .change_user(&principal.token_id, &id, &user, change, state.clock.now())
        .await
        .map_err(|e| match e {
            StorageError::State(why) => ApiError::conflict(code, why),
            other => other.into(),
        })?;
    Ok(Json(row.try_into()?))
}

/// Log in: opens a session
#[utoipa::path(post, path = "/api/v1/sessions", request_body = Login,
    responses((status = 201, body = Session)))]
async fn login(
    State(state): State<AppState>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    Json(body): Json<Login>,
) -> Result<(StatusCode, Json<Session>), ApiError> {
    let (minted, opened) = open_session(
        &state,
        &body.email,
        &body.password,
        peer.map(|p| p.0.0.ip()),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(Session {
            token: minted.token.secret.to_string(),
            csrf_token: crypto::csrf_token(minted.csrf_secret.as_slice()),
            expires_at: format_time(opened.expires_at),
            user: opened.user.try_into()?,
        }),
    ))
}

/// Failed logins an account may have in the window before it must wait.
pub const ACCOUNT_FAILURES: i64 = 5;
/// Failed logins one address may have in the window (a clerks' office shares one address).
pub const ADDRESS_FAILURES: i64 = 50;

/// Checks a password and opens a session, for the API and the portal alike: 429 while the
/// account or the address has failed too often in the window, 401 on a wrong email or
/// password (counted), 403 for an account that may not log in.
pub(crate) async fn open_session(
    state: &AppState,
    email: &str,
    password: &str,
    address: Option<std::net::IpAddr>,
) -> Result<(crypto::NewSession, OpenedSession), ApiError> {
    if password.chars().count() > MAX_PASSWORD || email.chars().count() > 254 {
        return Err(ApiError::unauthorized("wrong email or password"));
    }
    let account = format!("account:{}", email.trim().to_lowercase());
    let address = address.map(|a| format!("address:{a}"));
    let mut keys = vec![ThrottleKey {
        key: &account,
        limit: ACCOUNT_FAILURES,
    }];
    if let Some(a) = &address {
        keys.push(ThrottleKey {
            key: a,
            limit: ADDRESS_FAILURES,
        });
    }
    let now = state.clock.now();
    if let Some(wait) = state.db.login_wait(&keys, now).await? {
        return Err(ApiError::too_many_requests(
            "too_many_logins",
            format!(
                "too many failed logins for this account or address; try again in {} minutes",
                (wait + 59) / 60
            ),
            u64::try_from(wait).unwrap_or(1),
        ));
    }
    let minted = crypto::new_session().map_err(ApiError::internal)?;
    let opened = state
        .db
        .login(email, password, &minted, SESSION_LIFETIME_SECS, now)
        .await
        .map_err(|e| match e {
            StorageError::State(why) => ApiError::forbidden(why),
            other => other.into(),
        })?;
    let Some(opened) = opened else {
        state.db.record_login_failure(&keys, now).await?;
        return Err(ApiError::unauthorized("wrong email or password"));
    };
    state.db.clear_login_failures(&account).await?;
    tracing::info!(user = %opened.user.id, "session opened");
    Ok((minted, opened))
}

/// The user of the current session
#[utoipa::path(get, path = "/api/v1/sessions/current", responses((status = 200, body = User)))]
async fn current(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<User>, ApiError> {
    let user = principal
        .user
        .as_ref()
        .ok_or_else(|| ApiError::forbidden("this is not a session"))?;
    let row = state
        .db
        .user(&user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("user"))?;
    Ok(Json(row.try_into()?))
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let text = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    text.strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map(str::trim)
}

/// Log out: the session ends on every replica at once
#[utoipa::path(delete, path = "/api/v1/sessions/current", responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let user = principal
        .user
        .as_ref()
        .ok_or_else(|| ApiError::forbidden("this is not a session"))?;
    let secret = bearer(&headers).ok_or_else(|| ApiError::unauthorized("no session"))?;
    state
        .db
        .delete_session(secret, &user.id, state.clock.now())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
