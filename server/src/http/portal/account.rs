//! Signing in and out, a trader's registration, and the language.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use serde::Deserialize;

use super::{
    Chrome, FieldErrors, LANG_COOKIE, PRE_SESSION_COOKIE, PageError, PageResult, Posted,
    SESSION_COOKIE, Visitor, html, safe_next, see_other, set_cookie,
};
use crate::http::error::{Json, Path as ApiPath};
use crate::http::params::AuthorityPath;
use crate::http::session::{self, Registration, SESSION_LIFETIME_SECS};
use crate::state::AppState;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/register", get(register_page).post(register))
        .route("/language/{lang}", get(language))
}

/// `/`: a signed-in user's authority home, else the login page.
async fn home(visitor: Visitor) -> PageResult {
    match visitor
        .principal
        .as_ref()
        .and_then(|p| p.authority.as_ref())
    {
        Some(a) => Ok(see_other(&format!("/a/{a}/"))),
        None => Ok(see_other("/login")),
    }
}

#[derive(Template)]
#[template(path = "portal/login.html")]
struct LoginPage {
    c: Chrome,
    next: String,
    email: String,
    errors: FieldErrors,
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(mut visitor: Visitor, Query(q): Query<NextQuery>) -> PageResult {
    let cookie = visitor.ensure_pre_session()?;
    let page = LoginPage {
        c: visitor.chrome(),
        next: q.next.filter(|n| safe_next(n)).unwrap_or_default(),
        email: String::new(),
        errors: FieldErrors::default(),
    };
    let mut response = html(&page);
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(State(state): State<AppState>, posted: Posted<LoginForm>) -> PageResult {
    let Posted { visitor, form } = posted;
    match session::open_session(&state, &form.email, &form.password, visitor.address).await {
        Ok((minted, opened)) => {
            let to = if safe_next(&form.next) && form.next != "/" {
                form.next
            } else {
                format!("/a/{}/", opened.user.authority_id)
            };
            let mut response = see_other(&to);
            let h = response.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    SESSION_COOKIE,
                    minted.token.secret.as_str(),
                    Some(SESSION_LIFETIME_SECS),
                    visitor.secure,
                ),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(PRE_SESSION_COOKIE, "", Some(0), visitor.secure),
            );
            Ok(response)
        }
        Err(e) => {
            let status = e.status();
            let t = visitor.t();
            let message = match status {
                StatusCode::UNAUTHORIZED => t.err_login.to_owned(),
                s if s.is_server_error() => t.err_internal.to_owned(),
                _ => super::said(t, &e),
            };
            let page = LoginPage {
                c: visitor.chrome(),
                next: form.next,
                email: form.email,
                errors: FieldErrors {
                    general: Some(message),
                    ..FieldErrors::default()
                },
            };
            let mut response = html(&page);
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

#[derive(Debug, Deserialize)]
struct Empty {}

async fn logout(State(state): State<AppState>, posted: Posted<Empty>) -> PageResult {
    let visitor = posted.visitor;
    if let (Some(secret), Some(user)) = (
        visitor.session_secret(),
        visitor.principal.as_ref().and_then(|p| p.user.as_ref()),
    ) {
        state
            .db
            .delete_session(secret, &user.id, state.clock.now())
            .await
            .map_err(|e| visitor.api(e.into()))?;
    }
    let mut response = see_other("/login");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), visitor.secure),
    );
    Ok(response)
}

/// The registration form's fields, kept to show the form again.
#[derive(Debug, Default, Deserialize)]
struct RegisterForm {
    #[serde(default)]
    authority: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

#[derive(Template)]
#[template(path = "portal/register.html")]
struct RegisterPage {
    c: Chrome,
    authorities: Vec<(String, String)>,
    form: RegisterForm,
    errors: FieldErrors,
}

async fn authorities(state: &AppState, v: &Visitor) -> Result<Vec<(String, String)>, PageError> {
    Ok(state
        .db
        .list_authorities()
        .await
        .map_err(|e| v.api(e.into()))?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect())
}

async fn register_page(State(state): State<AppState>, mut visitor: Visitor) -> PageResult {
    let cookie = visitor.ensure_pre_session()?;
    let page = RegisterPage {
        c: visitor.chrome(),
        authorities: authorities(&state, &visitor).await?,
        form: RegisterForm::default(),
        errors: FieldErrors::default(),
    };
    let mut response = html(&page);
    if let Some(c) = cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    Ok(response)
}

async fn register(State(state): State<AppState>, posted: Posted<RegisterForm>) -> PageResult {
    let Posted { visitor, mut form } = posted;
    let t = visitor.t();
    let body = Registration {
        email: form.email.clone(),
        password: std::mem::take(&mut form.password),
        name: form.name.clone(),
        company: form.company.clone(),
        address: form.address.clone(),
        country: form.country.trim().to_uppercase(),
        phone: Some(form.phone.clone()).filter(|p| !p.trim().is_empty()),
    };
    let answer = session::register(
        State(state.clone()),
        ApiPath(AuthorityPath {
            authority: form.authority.clone(),
        }),
        Json(body),
    )
    .await;
    match answer {
        Ok(_) => Ok(html(&super::MessagePage {
            c: visitor.chrome(),
            title: t.register_done_title,
            message: t.register_done,
            link: "/login".into(),
            link_label: t.login,
        })),
        Err(e) => {
            let status = e.status();
            let mut errors = FieldErrors::from_api(
                t,
                &e,
                &[
                    "email",
                    "password",
                    "name",
                    "company",
                    "address",
                    "country",
                    "authority",
                ],
            );
            if e.code() == "weak_password" {
                errors = FieldErrors::default();
                errors.add("password", super::said(visitor.t(), &e));
            } else if e.code() == "wrong_authority" {
                errors = FieldErrors::default();
                errors.add("country", super::said(visitor.t(), &e));
            }
            let page = RegisterPage {
                c: visitor.chrome(),
                authorities: authorities(&state, &visitor).await?,
                form,
                errors,
            };
            let mut response = html(&page);
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

#[derive(Debug, Deserialize)]
struct BackQuery {
    back: Option<String>,
}

/// Remembers the language (a year) and goes back to the page it was chosen on.
async fn language(
    visitor: Visitor,
    Path(lang): Path<String>,
    Query(q): Query<BackQuery>,
) -> PageResult {
    let Some(lang) = super::i18n::Lang::parse(&lang) else {
        return Err(visitor.error(StatusCode::NOT_FOUND, visitor.t().err_not_found));
    };
    let back = q
        .back
        .filter(|b| safe_next(b) && !b.starts_with("/language/"))
        .unwrap_or_else(|| "/".into());
    let mut headers = HeaderMap::new();
    headers.insert(
        header::SET_COOKIE,
        set_cookie(LANG_COOKIE, lang.code(), Some(365 * 86_400), visitor.secure),
    );
    Ok((headers, see_other(&back)).into_response())
}
