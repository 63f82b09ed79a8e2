//! The service layer every request passes first and every answer passes last, written as one
//! tower [`Layer`] with a named future so that a request costs no box, no clone of a boxed
//! service and no label string of its own:
//!
//! - refuses a path and query longer than [`MAX_URI_BYTES`] (414) or holding a control character
//!   (400), before any handler runs;
//! - turns a panic in the layers and handler below into a JSON 500;
//! - turns any error answer without a JSON body into one (`error::json_errors`);
//! - records the request in the process's [`Metrics`] under its route template;
//! - adds the fixed security headers where the handler did not set its own.
//!
//! It is applied with `Router::layer`, so it wraps each route after routing: the route's
//! [`MatchedPath`] is in the request's extensions.

use std::convert::Infallible;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::BoxError;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::http::MAX_URI_BYTES;
use crate::http::error::{ApiError, json_errors};
use crate::metrics::Metrics;

/// The content security policy of every answer that does not set its own (the verify page
/// does): JSON, CSV and PDF run nothing and may not be framed.
const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Headers on every answer, errors included. A handler's own value wins: the verify page has
/// its own policy, and the public sync lists are `no-cache` with an ETag. Everything else
/// defaults to `no-store`: answers carry permits, tokens and alerts, which no shared cache or
/// browser history may keep.
const FIXED_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(API_CSP),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
];

/// The layer; holds the metrics it records into.
#[derive(Debug, Clone)]
pub struct EdgeLayer {
    metrics: Arc<Metrics>,
}

impl EdgeLayer {
    /// A layer recording into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Edge {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// The service of [`EdgeLayer`].
#[derive(Debug, Clone)]
pub struct Edge<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = EdgeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let method = method_label(request.method());
        let route = request.extensions().get::<MatchedPath>().cloned();
        let (inner, early) = match refusal(request.uri()) {
            Some(refused) => (None, Some(refused.into_response())),
            None => match catch_unwind(AssertUnwindSafe(|| self.inner.call(request))) {
                Ok(future) => (Some(future), None),
                Err(panic) => (None, Some(panicked(&*panic))),
            },
        };
        EdgeFuture {
            inner,
            early,
            started,
            method,
            route,
            metrics: self.metrics.clone(),
        }
    }
}

pin_project! {
    /// The future of [`Edge`]: the inner service's answer, finished on the way out.
    pub struct EdgeFuture<F> {
        #[pin]
        inner: Option<F>,
        // The answer given without calling the inner service (a refused URI, a panic in `call`).
        early: Option<Response>,
        started: Instant,
        method: &'static str,
        route: Option<MatchedPath>,
        metrics: Arc<Metrics>,
    }
}

impl<F, B> Future for EdgeFuture<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
    B: HttpBody<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = match (this.inner.as_pin_mut(), this.early.take()) {
            (_, Some(early)) => early,
            (Some(inner), None) => match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(Ok(response))) => response.map(Body::new),
                Ok(Poll::Ready(Err(never))) => match never {},
                Err(panic) => panicked(&*panic),
            },
            // Polled again after it was ready: a caller's bug, which gets an error answer.
            (None, None) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        let mut response = json_errors(response);
        this.metrics.observe(
            this.method,
            this.route.as_ref().map_or("unmatched", MatchedPath::as_str),
            response.status().as_u16(),
            this.started.elapsed().as_secs_f64(),
        );
        let headers = response.headers_mut();
        for (name, value) in FIXED_HEADERS {
            headers.entry(name).or_insert(value);
        }
        Poll::Ready(Ok(response))
    }
}

/// The method as a metric label: the standard ones by name, any other as `OTHER`, so a client
/// cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

/// Why a request is refused before any handler: a path and query longer than
/// [`MAX_URI_BYTES`] (414), or a path or query whose percent-decoding holds a control character
/// (a NUL, say). No identifier, code or parameter of the API has one, and PostgreSQL cannot
/// even store a NUL, so it is refused here, with the same answer on both databases.
fn refusal(uri: &Uri) -> Option<ApiError> {
    let length = uri.path().len() + uri.query().map_or(0, |q| q.len() + 1);
    if length > MAX_URI_BYTES {
        return Some(ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri_too_long",
            format!("the path and query are longer than {MAX_URI_BYTES} bytes"),
        ));
    }
    // `+` is a space in a query; control bytes are the same in any decoding.
    let has_control =
        |text: &str| percent_encoding::percent_decode_str(text).any(|b| b < 0x20 || b == 0x7f);
    if has_control(uri.path()) || uri.query().is_some_and(has_control) {
        return Some(ApiError::new(
            StatusCode::BAD_REQUEST,
            "control_character",
            "the path or query contains a control character",
        ));
    }
    None
}

/// The answer to a panic below this layer: logged with its message, answered as a plain 500,
/// which `json_errors` turns into the generic JSON internal error.
fn panicked(panic: &(dyn std::any::Any + Send)) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    async fn boom() -> &'static str {
        panic!("boom")
    }

    fn app(metrics: &Arc<Metrics>) -> Router {
        Router::new()
            .route("/boom/{n}", get(boom))
            .route(
                "/cached",
                get(|| async { ([(header::CACHE_CONTROL, "no-cache")], "list") }),
            )
            .layer(EdgeLayer::new(metrics.clone()))
    }

    async fn call(metrics: &Arc<Metrics>, uri: &str) -> (Response, serde_json::Value) {
        let request = Request::builder().uri(uri).body(Body::empty()).unwrap();
        let response = app(metrics).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
        (Response::from_parts(parts, Body::empty()), json)
    }

    #[tokio::test]
    async fn a_panic_is_a_json_500_with_the_headers_and_is_counted() {
        let metrics = Arc::new(Metrics::default());
        let (response, body) = call(&metrics, "/boom/1").await;
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body["code"], "internal_error", "{body}");
        assert_eq!(
            response.headers()[header::X_CONTENT_TYPE_OPTIONS],
            "nosniff"
        );
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        call(&metrics, "/boom/2").await;
        let text = metrics.render();
        assert!(
            text.contains(
                "permitseal_http_requests_total{method=\"GET\",route=\"/boom/{n}\",status=\"500\"} 2"
            ),
            "{text}"
        );
    }

    #[tokio::test]
    async fn the_handlers_caching_wins_and_control_characters_are_refused() {
        let metrics = Arc::new(Metrics::default());
        let (response, _) = call(&metrics, "/cached").await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-cache");
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        let (response, body) = call(&metrics, "/cached?q=a%00b").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(body["code"], "control_character", "{body}");
        assert_eq!(response.headers()[header::REFERRER_POLICY], "no-referrer");
        let (response, body) = call(&metrics, "/no/such").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(body["code"], "not_found", "{body}");
        assert!(
            metrics
                .render()
                .contains("route=\"unmatched\",status=\"404\"")
        );
    }
}
