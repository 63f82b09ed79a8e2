//! The one HTTP error type, and extractors whose rejections are JSON errors too.
//!
//! Every error leaves the server as `{"code": "...", "message": "..."}` with a 4xx or 5xx status.
//! Codes are stable snake_case identifiers that clients may match on; messages are for people.
//! Internal failures are logged with their cause and answered with a generic message.

use std::borrow::Cow;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::InvalidValue;
use crate::storage::StorageError;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: Cow<'static, str>,
    message: String,
    /// Seconds the client should wait before trying again (`Retry-After`), where that is known.
    retry_after: Option<u64>,
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// An error with an explicit status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429: this caller sent too much; it may try again after `retry_after` seconds.
    pub fn too_many_requests(
        code: &'static str,
        message: impl Into<String>,
        retry_after: u64,
    ) -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, code, message).retry_after(retry_after)
    }

    /// Tells the client when to try again (`Retry-After`, in seconds).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 422: well-formed but unacceptable input.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }

    /// 401: no or unknown credentials.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    /// 403: known caller, action not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 for a named thing.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// 500: logs the cause, tells the client nothing about it.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "internal error; the server logged the cause",
        )
    }

    /// 503: a dependency (the database) is not answering.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %cause, "service unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "service temporarily unavailable",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.into_owned(),
            message: self.message,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        } else if self.status == StatusCode::SERVICE_UNAVAILABLE {
            // Phones' outboxes and customs systems retry after this many seconds.
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<InvalidValue> for ApiError {
    fn from(err: InvalidValue) -> Self {
        Self::invalid(err.code, err.message)
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Conflict(what) => {
                Self::conflict("conflict", format!("{what} already exists"))
            }
            StorageError::NotFound(what) => Self::not_found(what),
            StorageError::State(why) => Self::conflict("invalid_state", why),
            StorageError::Database(e) if database_unavailable(&e) => Self::unavailable(e),
            StorageError::Unavailable(why) => Self::unavailable(why),
            // Not the server's failure, nor the database's: concurrent changes of the same
            // rows kept cancelling this one, and it changed nothing. A 409 to retry, not a 5xx.
            e @ StorageError::WriteConflict => {
                Self::conflict("write_conflict", e.to_string()).retry_after(1)
            }
            other => Self::internal(other),
        }
    }
}

/// Whether a database error means "not now" rather than "wrong": the database is away,
/// restarting, out of connections or out of space, or the transaction lost a conflict it may
/// win on a retry. The client is told to retry (503 with `Retry-After`); nothing was changed.
fn database_unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            let code = code.as_ref();
            // PostgreSQL: connection exceptions (08…), shutting down or starting (57P01-03),
            // serialization failure and deadlock (40001, 40P01), out of disk or memory
            // (53100, 53200), too many connections (53300).
            code.starts_with("08")
                || matches!(
                    code,
                    "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "53100" | "53200" | "53300"
                )
                // SQLite: busy, locked, out of memory, disk I/O, disk full (primary codes,
                // and their extended forms).
                || matches!(sqlite_primary(code), Some(5 | 6 | 7 | 10 | 13))
        }),
        _ => false,
    }
}

/// The primary result code of a SQLite (extended) result code, if `code` is one.
fn sqlite_primary(code: &str) -> Option<u32> {
    code.parse::<u32>().ok().map(|c| c & 0xff)
}

impl From<crate::sync_cache::SyncError> for ApiError {
    fn from(err: crate::sync_cache::SyncError) -> Self {
        use crate::sync_cache::SyncError;
        match err {
            SyncError::Storage(e) => e.into(),
            SyncError::Invalid(e) => e.into(),
            e @ SyncError::NoActiveKey => Self::conflict("no_active_key", e.to_string()),
            e @ SyncError::VersionAhead { .. } => Self::invalid("version_ahead", e.to_string()),
            e @ SyncError::Corrupt(_) => Self::internal(e),
        }
    }
}

/// The code and status for a request whose body could not be read.
fn body_error(status: StatusCode, detail: String) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            "request body is larger than the server accepts",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "expected a body with Content-Type: application/json",
        ),
        s if s.is_client_error() => ApiError::new(s, "bad_body", detail),
        _ => ApiError::bad_request("bad_body", detail),
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(match rejection {
                JsonRejection::JsonSyntaxError(e) => {
                    ApiError::bad_request("malformed_json", e.body_text())
                }
                JsonRejection::JsonDataError(e) => ApiError::invalid("invalid_body", e.body_text()),
                JsonRejection::MissingJsonContentType(e) => body_error(e.status(), e.body_text()),
                JsonRejection::BytesRejection(e) => body_error(e.status(), e.body_text()),
                other => body_error(other.status(), other.body_text()),
            }),
        }
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Parses an optional JSON body: empty → `T::default()`. For endpoints whose body is optional.
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::bad_request("malformed_json", format!("malformed JSON: {e}"))
        } else {
            ApiError::invalid("invalid_body", format!("invalid body: {e}"))
        }
    })
}

/// `axum::extract::Path` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection @ PathRejection::FailedToDeserializePathParams(_)) => {
                Err(ApiError::bad_request("invalid_path", rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::internal(rejection.body_text())),
        }
    }
}

/// `axum::extract::Query` whose rejections are [`ApiError`]s.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection @ QueryRejection::FailedToDeserializeQueryString(_)) => Err(
                ApiError::bad_request("invalid_query", rejection.body_text()),
            ),
            Err(rejection) => Err(ApiError::bad_request(
                "invalid_query",
                rejection.body_text(),
            )),
        }
    }
}

/// Safety net: turns any error response without a JSON body (axum's 405, a timeout, a caught
/// panic) into a `{code, message}` body with the same status.
pub fn json_errors(mut response: Response) -> Response {
    let status = response.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        // The unread rest of the body is still on the wire: do not reuse this connection.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "method not allowed on this path"),
        StatusCode::NOT_FOUND => ("not_found", "no such resource"),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "payload_too_large",
            "request body is larger than the server accepts",
        ),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "request took too long"),
        StatusCode::SERVICE_UNAVAILABLE => ("unavailable", "service temporarily unavailable"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported_media_type", "unsupported media type"),
        s if s.is_server_error() => (
            "internal_error",
            "internal error; the server logged the cause",
        ),
        _ => ("bad_request", "bad request"),
    };
    let mut out = ApiError::new(status, code, message).into_response();
    if let Some(close) = response.headers().get(header::CONNECTION) {
        out.headers_mut().insert(header::CONNECTION, close.clone());
    }
    if let Some(allow) = response.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}
