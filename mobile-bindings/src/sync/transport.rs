//! The HTTP transport: the one thing the sync client asks of the platform.
//!
//! The SDK builds every request (URL, header fields, body, deadline, largest answer) and reads
//! every answer; everything that is protocol — conditional fetch with `ETag`, batching,
//! splitting a refused batch, acknowledgements, the retry of a failed exchange — stays in the
//! SDK. The app implements `HttpTransport` with its platform's HTTP stack (the SDK's sources
//! ship one over `HttpURLConnection` for Android and one over `URLSession` for iOS), which
//! brings the platform's trust store (including CAs installed by the ministry's device
//! management), certificate pinning as configured for the app, proxies, IPv4/IPv6 racing
//! and HTTP/2. A Rust transport (`RustTransport`, feature `rust-http`) serves tests and
//! desktop use.

use std::sync::Arc;

/// An HTTP method the sync uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    /// Fetching the bundle.
    Get,
    /// Uploading a batch.
    Post,
}

impl HttpMethod {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

/// One header field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// The field name (`Authorization`, `If-None-Match`…); compare case-insensitively.
    pub name: String,
    /// The value, printable ASCII.
    pub value: String,
}

/// A request for the transport to send as it is. The device token is not in it (see
/// `HttpTransport::send`), so printing a request prints no secret.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: HttpMethod,
    /// The absolute URL (`https://…`, or `http://` to a loopback host).
    pub url: String,
    /// Header fields to send, in order, besides `Authorization` (the transport adds `Host`,
    /// `Content-Length` and its own `User-Agent`).
    pub headers: Vec<HttpHeader>,
    /// The body; empty for `GET`.
    pub body: Vec<u8>,
    /// The whole exchange (connecting, TLS, sending, the complete answer) must end within
    /// this many milliseconds, or fail with `TransportError::Timeout`.
    pub timeout_millis: u64,
    /// The largest response body the SDK accepts: the transport may stop reading beyond it
    /// and fail with `Offline`; a longer body given back is refused by the SDK anyway.
    pub max_response_bytes: u64,
}

impl std::fmt::Debug for HttpRequest {
    /// Without the body (it holds permit texts).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .field("timeout_millis", &self.timeout_millis)
            .finish()
    }
}

/// A complete answer, whatever its status: a 4xx or 5xx is an answer, not an error.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// The final status (not an interim 1xx; redirects are not followed).
    pub status: u16,
    /// Header fields as received (at least `ETag` when there is one).
    pub headers: Vec<HttpHeader>,
    /// The body, decoded from any transfer or content coding.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first field named `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
}

/// Why no answer came. The app maps its platform's failures onto these; the SDK reports each
/// as the sync's `Offline` result with the reason, and retries only `Offline` (once: the
/// bundle fetch changes nothing and uploads are idempotent on item ids).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TransportError {
    /// No connection: no network, the name does not resolve, refused or reset, closed
    /// before the answer was complete, or an answer larger than allowed.
    #[error("{reason}")]
    Offline {
        /// What failed, for support (never header values or bodies).
        reason: String,
    },
    /// The deadline passed.
    #[error("timed out: {reason}")]
    Timeout {
        /// Where it was, for support.
        reason: String,
    },
    /// TLS failed: a certificate that does not chain to a trusted root or fails the app's
    /// pin, a name mismatch, a handshake failure. A captive portal or an intercepting proxy
    /// looks like this; it is never data.
    #[error("TLS failure: {reason}")]
    Tls {
        /// The platform's reason, for support.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    /// A foreign transport that threw something other than a `TransportError`: no answer.
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> TransportError {
        TransportError::Offline {
            reason: format!("the transport failed: {}", e.reason),
        }
    }
}

/// Sends one request and returns the complete answer. Implemented by the app with its
/// platform's HTTP stack; called from the thread that called the sync (never the main
/// thread, if the app follows the SDK's rule). It must not follow redirects, must not cache,
/// and must give the status and body of 4xx and 5xx answers as answers.
#[uniffi::export(with_foreign)]
pub trait HttpTransport: Send + Sync {
    /// Sends `request` within its `timeout_millis`, with an `Authorization` field whose value
    /// is `authorization` (`Bearer <device token>`). It is an argument, not a field of the
    /// record, so that no generated `toString`/`description` prints it; never log it.
    fn send(
        &self,
        request: HttpRequest,
        authorization: String,
    ) -> Result<HttpResponse, TransportError>;
}

/// A shared transport, as the sync client holds it.
pub type SharedTransport = Arc<dyn HttpTransport>;
