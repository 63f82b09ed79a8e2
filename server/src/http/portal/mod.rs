//! The portal: the pages traders and the Management Authority's staff work in, rendered on the
//! server from compile-time-checked templates (`server/templates/portal/`, askama), working
//! without JavaScript, in English, French or Spanish (`i18n`). docs/PORTAL.md describes them.
//!
//! Pages call the same functions as the API's routes (the application workflow, permit state
//! changes, the paper document), so a rule holds alike in both; what differs is the transport:
//! a session in an HttpOnly, SameSite=Strict cookie instead of a bearer header, a CSRF token in
//! every form that changes something ([`Posted`]), and errors shown on the page, beside the
//! field they concern, instead of as JSON. The pages are not in the OpenAPI document.
//!
//! Each page checks on the server who may see it: a session (else the login page), a role
//! ([`Visitor::require`]) and the authority in its path ([`Visitor::member_of`], 403 for
//! another authority's pages).

use std::net::SocketAddr;

use askama::Template;
use axum::Router;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;

use crate::crypto;
use crate::http::error::ApiError;
use crate::model::{AuthorityId, Principal, Role};
use crate::state::AppState;

mod account;
mod admin;
mod applications;
pub mod i18n;
mod permits;
mod staff;

use i18n::{Lang, Text};

/// The session cookie: the session secret (`pss_…`), HttpOnly, SameSite=Strict.
pub const SESSION_COOKIE: &str = "ps_session";
/// Before login: a random value the login and registration forms' CSRF token is made from.
pub const PRE_SESSION_COOKIE: &str = "ps_pre";
/// The chosen language.
pub const LANG_COOKIE: &str = "ps_lang";

/// The policy of every page: nothing but this origin's style sheet and images, no script,
/// forms only to this origin, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE: &[u8] = include_bytes!("../../../assets/portal/style.css");

pub use crate::state::PortalSettings;

/// The portal's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/portal/style.css", axum::routing::get(style))
        .merge(account::routes())
        .merge(admin::routes())
        .merge(applications::routes())
        .merge(permits::routes())
        .merge(staff::routes())
}

async fn style() -> Response {
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/css"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    (h, STYLE).into_response()
}

/// One link of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Where.
    pub href: String,
    /// Its label.
    pub label: &'static str,
}

/// What every page shows around its content: the labels, the user, the navigation and the
/// CSRF token its forms carry.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The labels in the chosen language.
    pub t: &'static Text,
    /// The chosen language.
    pub lang: Lang,
    /// The token every form of the page carries.
    pub csrf: String,
    /// The signed-in user's name, empty for a visitor.
    pub user_name: String,
    /// The navigation for the user's roles.
    pub nav: Vec<NavLink>,
    /// This page's path and query, for the language links to come back to.
    pub here: String,
}

/// Who is asking, from the request's cookies: a session (with its user's principal and CSRF
/// secret) or a visitor, and the chosen language.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The signed-in user, if any.
    pub principal: Option<Principal>,
    /// The user's name.
    pub name: String,
    /// The session secret (to end it at logout).
    session: Option<String>,
    /// The token forms must carry: from the session's CSRF secret, or from the pre-session
    /// cookie before login.
    csrf: Option<String>,
    /// The language.
    pub lang: Lang,
    /// The peer's address.
    pub address: Option<std::net::IpAddr>,
    /// The request's path and query.
    pub here: String,
    /// Whether cookies are marked Secure.
    pub secure: bool,
}

/// Reads a cookie from the request's `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

impl Visitor {
    async fn from_parts(parts: &Parts, state: &AppState) -> Result<Visitor, PageError> {
        let lang = cookie(&parts.headers, LANG_COOKIE)
            .and_then(Lang::parse)
            .or_else(|| {
                parts
                    .headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(Lang::from_accept_language)
            })
            .unwrap_or(Lang::En);
        let here = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let secure = state.portal.secure_cookies;
        let mut visitor = Visitor {
            principal: None,
            name: String::new(),
            session: None,
            csrf: None,
            lang,
            address,
            here,
            secure,
        };
        let now = state.clock.now();
        if let Some(secret) = cookie(&parts.headers, SESSION_COOKIE)
            .filter(|s| s.starts_with(crypto::SESSION_PREFIX) && s.len() <= 128)
        {
            let principal = state
                .db
                .principal_for_session(secret, now)
                .await
                .map_err(|e| PageError::from_api(ApiError::from(e), lang))?;
            let csrf = state
                .db
                .session_csrf_secret(secret, now)
                .await
                .map_err(|e| PageError::from_api(ApiError::from(e), lang))?;
            if let (Some(principal), Some(csrf)) = (principal, csrf) {
                if let Some(user) = &principal.user {
                    let row = state
                        .db
                        .user(&user.id)
                        .await
                        .map_err(|e| PageError::from_api(ApiError::from(e), lang))?;
                    visitor.name = row.map(|r| r.name).unwrap_or_default();
                }
                visitor.principal = Some(principal);
                visitor.session = Some(secret.to_owned());
                visitor.csrf = Some(crypto::csrf_token(&csrf));
            }
        }
        if visitor.csrf.is_none() {
            visitor.csrf = cookie(&parts.headers, PRE_SESSION_COOKIE)
                .filter(|v| {
                    v.len() == 43
                        && v.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                })
                .map(|v| crypto::csrf_token(v.as_bytes()));
        }
        Ok(visitor)
    }

    /// Before login, a visitor without the pre-session cookie gets one, so the login and
    /// registration forms have a CSRF token: the `Set-Cookie` to send with the page.
    pub fn ensure_pre_session(&mut self) -> Result<Option<HeaderValue>, PageError> {
        if self.csrf.is_some() {
            return Ok(None);
        }
        use base64::Engine as _;
        let mut raw = [0u8; 32];
        crypto::random_bytes(&mut raw)
            .map_err(|e| PageError::from_api(ApiError::internal(e), self.lang))?;
        let value = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw);
        self.csrf = Some(crypto::csrf_token(value.as_bytes()));
        Ok(Some(set_cookie(
            PRE_SESSION_COOKIE,
            &value,
            None,
            self.secure,
        )))
    }

    /// Checks a token sent in a form this module does not parse itself (a file upload) and
    /// where the request comes from, as [`Posted`] does.
    pub fn check_form(&self, headers: &HeaderMap, sent: &str) -> Result<(), PageError> {
        let refuse = || self.error(StatusCode::FORBIDDEN, self.t().err_csrf);
        if let Some(site) = headers.get("sec-fetch-site")
            && !matches!(site.as_bytes(), b"same-origin" | b"none")
        {
            return Err(refuse());
        }
        match self.csrf.as_deref() {
            Some(expected) if crypto::constant_time_eq(sent.as_bytes(), expected.as_bytes()) => {
                Ok(())
            }
            _ => Err(refuse()),
        }
    }

    /// The session secret, when signed in.
    pub fn session_secret(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The labels.
    pub fn t(&self) -> &'static Text {
        self.lang.text()
    }

    /// The page chrome for this visitor.
    pub fn chrome(&self) -> Chrome {
        Chrome {
            t: self.t(),
            lang: self.lang,
            csrf: self.csrf.clone().unwrap_or_default(),
            user_name: self.name.clone(),
            nav: self.nav(),
            here: self.here.clone(),
        }
    }

    fn nav(&self) -> Vec<NavLink> {
        let t = self.t();
        let Some(p) = &self.principal else {
            return Vec::new();
        };
        let Some(a) = &p.authority else {
            return Vec::new();
        };
        let mut nav = vec![NavLink {
            href: format!("/a/{a}/"),
            label: t.nav_home,
        }];
        if p.holds(Role::Applicant) {
            nav.push(NavLink {
                href: format!("/a/{a}/applications"),
                label: t.nav_my_applications,
            });
        }
        if [Role::Clerk, Role::Signatory, Role::ScientificAuthority]
            .iter()
            .any(|r| p.holds(*r))
        {
            nav.push(NavLink {
                href: format!("/a/{a}/applications"),
                label: t.nav_queue,
            });
        }
        if staff::PERMIT_READERS.iter().any(|r| p.holds(*r)) {
            nav.push(NavLink {
                href: format!("/a/{a}/permits"),
                label: t.nav_permits,
            });
            nav.push(NavLink {
                href: format!("/a/{a}/alerts"),
                label: t.nav_alerts,
            });
        }
        if [Role::Clerk, Role::AuthorityAdmin]
            .iter()
            .any(|r| p.holds(*r))
        {
            nav.push(NavLink {
                href: format!("/a/{a}/users"),
                label: t.nav_users,
            });
        }
        if p.holds(Role::AuthorityAdmin) {
            for (path, label) in [
                ("keys", t.nav_keys),
                ("quotas", t.nav_quotas),
                ("taxa", t.nav_taxa),
                ("report", t.nav_report),
            ] {
                nav.push(NavLink {
                    href: format!("/a/{a}/{path}"),
                    label,
                });
            }
        }
        nav
    }

    /// The signed-in user, or a redirect to the login page that comes back here.
    pub fn signed_in(&self) -> Result<&Principal, PageError> {
        self.principal.as_ref().ok_or_else(|| PageError::Login {
            next: self.here.clone(),
        })
    }

    /// The signed-in user if they hold one of `roles`; else 403.
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, PageError> {
        let p = self.signed_in()?;
        if roles.iter().any(|r| p.holds(*r)) {
            Ok(p)
        } else {
            Err(self.error(StatusCode::FORBIDDEN, self.t().err_role))
        }
    }

    /// The authority of a page's path, if the signed-in user belongs to it; else 403.
    pub fn member_of(&self, authority: &str) -> Result<AuthorityId, PageError> {
        let p = self.signed_in()?;
        let id = AuthorityId::parse(authority)
            .map_err(|_| self.error(StatusCode::NOT_FOUND, self.t().err_not_found))?;
        if p.authority.as_ref() == Some(&id) && p.user.is_some() {
            Ok(id)
        } else {
            Err(self.error(StatusCode::FORBIDDEN, self.t().err_other_authority))
        }
    }

    /// An error page for this visitor.
    pub fn error(&self, status: StatusCode, message: &str) -> PageError {
        PageError::Page {
            status,
            message: message.to_owned(),
            lang: self.lang,
        }
    }

    /// An API error as this visitor's error page.
    pub fn api(&self, e: ApiError) -> PageError {
        PageError::from_api(e, self.lang)
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        Visitor::from_parts(parts, state).await
    }
}

/// A form posted to a page, after its CSRF token was checked against the session's (or, before
/// login, the pre-session cookie's) and the request was found to come from this site.
pub struct Posted<T> {
    /// Who posted it.
    pub visitor: Visitor,
    /// The fields.
    pub form: T,
}

/// Largest form a page accepts.
const MAX_FORM_BYTES: usize = 64 * 1024;

impl<T: DeserializeOwned> FromRequest<AppState> for Posted<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        let (parts, body) = request.into_parts();
        let visitor = Visitor::from_parts(&parts, state).await?;
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| visitor.error(StatusCode::PAYLOAD_TOO_LARGE, visitor.t().err_form))?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form))?;
        let sent = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map_or("", |(_, v)| v.as_str());
        // A browser says where a request comes from; another site's form is refused whatever
        // it carries.
        visitor.check_form(&parts.headers, sent)?;
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| visitor.error(StatusCode::BAD_REQUEST, visitor.t().err_form))?;
        Ok(Posted { visitor, form })
    }
}

/// Why a page is not shown: the login page for a visitor, or an error page.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: to the login page, then back to `next`.
    Login {
        /// Where to come back to.
        next: String,
    },
    /// An error page.
    Page {
        /// Its status.
        status: StatusCode,
        /// What went wrong, for people.
        message: String,
        /// In which language.
        lang: Lang,
    },
}

impl PageError {
    /// An API error shown as a page: its status and message (a 5xx says nothing of its cause,
    /// which the API error has logged).
    pub fn from_api(e: ApiError, lang: Lang) -> PageError {
        let status = e.status();
        let message = if status.is_server_error() {
            lang.text().err_internal.to_owned()
        } else {
            said(lang.text(), &e)
        };
        PageError::Page {
            status,
            message,
            lang,
        }
    }
}

/// A page that says one thing and links on.
#[derive(Template)]
#[template(path = "portal/message.html")]
pub struct MessagePage {
    /// Chrome.
    pub c: Chrome,
    /// Heading.
    pub title: &'static str,
    /// What happened.
    pub message: &'static str,
    /// Where to go next.
    pub link: String,
    /// Its label.
    pub link_label: &'static str,
}

#[derive(Template)]
#[template(path = "portal/error.html")]
struct ErrorPage<'a> {
    c: Chrome,
    status: u16,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::Login { next } => {
                let next = if safe_next(&next) { next } else { "/".into() };
                let to = format!(
                    "/login?next={}",
                    percent_encoding::utf8_percent_encode(
                        &next,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                );
                Redirect::to(&to).into_response()
            }
            PageError::Page {
                status,
                message,
                lang,
            } => {
                let c = Chrome {
                    t: lang.text(),
                    lang,
                    csrf: String::new(),
                    user_name: String::new(),
                    nav: Vec::new(),
                    here: "/".into(),
                };
                let page = ErrorPage {
                    c,
                    status: status.as_u16(),
                    message: &message,
                };
                let mut response = html(&page);
                *response.status_mut() = status;
                response
            }
        }
    }
}

/// A page's result.
pub type PageResult = Result<Response, PageError>;

/// A rendered page with the portal's headers.
pub fn html(page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => (page_headers(), body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                page_headers(),
                "internal error".to_owned(),
            )
                .into_response()
        }
    }
}

fn page_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h
}

/// A redirect after a form was handled (303: the browser fetches the page with GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Whether `next` is a path on this site (not `//elsewhere` or a scheme).
pub fn safe_next(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.bytes().all(|b| b.is_ascii_graphic())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, on every path, Secure when configured.
pub fn set_cookie(name: &str, value: &str, max_age_secs: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = cookie::Cookie::new(name, value);
    c.set_http_only(true);
    c.set_same_site(cookie::SameSite::Strict);
    c.set_path("/");
    c.set_secure(secure);
    if let Some(age) = max_age_secs {
        c.set_max_age(cookie::time::Duration::seconds(age));
    }
    // The name and value are ours (a fixed name; base64url, a language code or empty), so
    // the header is always valid; an invalid one would drop the cookie, not the answer.
    HeaderValue::from_str(&c.to_string()).unwrap_or(HeaderValue::from_static(""))
}

/// A JSON string or number as text (empty for anything else): the draft's fields as shown.
pub fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// An exporter or importer of a draft on one line: name, address, country.
pub fn party_line(p: &serde_json::Value) -> String {
    [
        value_text(&p["name"]),
        value_text(&p["address"]),
        value_text(&p["country"]),
    ]
    .into_iter()
    .filter(|x| !x.is_empty())
    .collect::<Vec<_>>()
    .join(", ")
}

/// One error beside a form's field.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors {
    errors: Vec<(String, String)>,
    /// An error that belongs to no field.
    pub general: Option<String>,
}

impl FieldErrors {
    /// The message beside `field`, empty if none.
    pub fn of(&self, field: &str) -> &str {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map_or("", |(_, m)| m.as_str())
    }

    /// Adds a message for `field`.
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push((field.to_owned(), message.into()));
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.general.is_none()
    }

    /// An API error placed beside the first of `fields` its (English) message names, or at
    /// the top, in the reader's language.
    pub fn from_api(t: &Text, e: &ApiError, fields: &[&str]) -> FieldErrors {
        let mut out = FieldErrors::default();
        match fields.iter().find(|f| mentions(e.message(), f)) {
            Some(f) => out.add(f, said(t, e)),
            None => out.general = Some(said(t, e)),
        }
        out
    }
}

/// What an API error says to a reader of `t`'s language (see [`Text::explain`]).
pub fn said(t: &Text, e: &ApiError) -> String {
    match t.explain(e.code(), e.message()) {
        (m, d) if d.is_empty() => m,
        (m, d) => format!("{m} ({}: {d})", t.details_in_english),
    }
}

/// Whether an error message is about `field` (`permit.importer.country …`, `email is …`).
fn mentions(message: &str, field: &str) -> bool {
    message.match_indices(field).any(|(i, _)| {
        let before = message[..i].chars().next_back();
        let after = message[i + field.len()..].chars().next();
        before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            && after.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        assert!(safe_next("/a/KE/applications?state=submitted"));
        assert!(!safe_next("//evil.example/"));
        assert!(!safe_next("/\\evil.example"));
        assert!(!safe_next("https://evil.example/"));
        assert!(!safe_next("/a b"));
    }

    #[test]
    fn messages_name_their_field() {
        assert!(mentions("email is not an email address", "email"));
        assert!(mentions(
            "permit: importer.country: unknown",
            "importer.country"
        ));
        assert!(!mentions("emails are sent", "email"));
    }

    #[test]
    fn cookies_are_strict_and_http_only() {
        let v = set_cookie(SESSION_COOKIE, "pss_x", Some(60), true);
        let v = v.to_str().unwrap();
        assert!(v.contains("HttpOnly") && v.contains("SameSite=Strict") && v.contains("Secure"));
        let v = set_cookie(LANG_COOKIE, "fr", None, false);
        assert!(!v.to_str().unwrap().contains("Secure"));
    }
}
