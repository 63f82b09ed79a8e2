//! The Rust transport (feature `rust-http`): HTTP/1.1 over rustls (TLS 1.3, ring) or, to a
//! loopback host only, plain TCP. For tests and desktop use; phone builds leave it out and
//! give the sync client the platform's HTTP stack (`HttpTransport`).
//!
//! Written for the SDK rather than taken from a general client: it needs only what the sync
//! does: GET and POST with a body in memory, responses framed by `Content-Length`, chunked
//! coding or the end of the connection, a size limit on every response, one deadline per
//! request, and one kept-alive connection so that a long upload does not pay a TLS handshake
//! per batch. Response heads are parsed by `httparse` (the parser of hyper).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::origin::Origin;
use super::transport::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError,
};
use crate::error::SdkFailure;

/// Largest response head (status line and header fields), and of a chunked body's trailer.
const MAX_HEAD: usize = 16 * 1024;
/// Most header fields read from a response.
const MAX_HEADERS: usize = 64;
/// Longest chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 1024;
/// A kept-alive connection idle for longer is closed instead of reused: proxies commonly
/// drop idle connections after about a minute.
const MAX_IDLE: Duration = Duration::from_secs(30);

/// Which `TransportError` a failure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TransportKind {
    Offline,
    Timeout,
    Tls,
}

/// A failed exchange, in words for the app's support screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpError {
    kind: TransportKind,
    text: String,
}

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl HttpError {
    fn into_transport(self) -> TransportError {
        let reason = self.text;
        match self.kind {
            TransportKind::Offline => TransportError::Offline { reason },
            TransportKind::Timeout => TransportError::Timeout { reason },
            TransportKind::Tls => TransportError::Tls { reason },
        }
    }
}

fn fail(what: impl Into<String>) -> HttpError {
    HttpError {
        kind: TransportKind::Offline,
        text: what.into(),
    }
}

fn timed_out(context: &str) -> HttpError {
    HttpError {
        kind: TransportKind::Timeout,
        text: format!("{context}: timed out"),
    }
}

fn io_fail(context: &str, e: &io::Error) -> HttpError {
    match e.kind() {
        // A read timeout is `WouldBlock` on Unix and `TimedOut` elsewhere.
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => timed_out(context),
        _ => fail(format!("{context}: {e}")),
    }
}

/// The TLS settings: TLS 1.3 only, ring's algorithms, and the given roots.
fn tls_config(roots: RootCertStore) -> Result<Arc<ClientConfig>, SdkFailure> {
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| SdkFailure::invalid("tls", e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One request.
struct Request<'a> {
    /// `GET` or `POST`.
    method: &'static str,
    /// The path, starting with `/`.
    path: &'a str,
    /// Further header fields; values must be printable ASCII.
    headers: &'a [(&'a str, &'a str)],
    /// The body, for a POST.
    body: Option<&'a [u8]>,
    /// Largest response body accepted.
    max_body: u64,
}

/// A complete response.
#[derive(Debug, PartialEq, Eq)]
struct Response {
    status: u16,
    /// Header fields with printable values, names in lowercase.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[cfg(test)]
impl Response {
    /// The first field named `name` (lowercase).
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A TCP stream whose every read and write ends by the request's deadline.
struct Timed {
    sock: TcpStream,
    deadline: Instant,
}

impl Timed {
    fn left(&self) -> io::Result<Duration> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"))
        } else {
            Ok(left)
        }
    }
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.set_read_timeout(Some(self.left()?))?;
        self.sock.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sock.set_write_timeout(Some(self.left()?))?;
        self.sock.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sock.flush()
    }
}

/// An open connection.
enum Conn {
    Plain(Timed),
    Tls(Box<StreamOwned<ClientConnection, Timed>>),
}

impl Conn {
    fn set_deadline(&mut self, deadline: Instant) {
        match self {
            Conn::Plain(t) => t.deadline = deadline,
            Conn::Tls(s) => s.sock.deadline = deadline,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(t) => t.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(t) => t.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// Counts the bytes read through it: a kept-alive connection that fails before any byte of
/// an answer was closed by the server while idle, and the request can go again.
struct Counted<'a> {
    inner: &'a mut Conn,
    read: u64,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// How an exchange on a connection failed.
enum Failed {
    /// Before any byte of an answer: on a reused connection, worth one more try.
    BeforeAnswer(HttpError),
    /// Part-way through the answer.
    During(HttpError),
}

/// The Rust transport: HTTP/1.1 over rustls (TLS 1.3, ring), for tests and desktop use.
/// Phones give the sync client their platform's stack instead (see `HttpTransport`).
///
/// Keeps one connection alive between requests to the same origin, so that a long upload
/// pays one TLS handshake.
pub struct RustTransport {
    tls: Arc<ClientConfig>,
    idle: Mutex<Option<(Origin, Conn, Instant)>>,
}

impl std::fmt::Debug for RustTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RustTransport").finish_non_exhaustive()
    }
}

impl RustTransport {
    /// A transport that trusts the public web roots (Mozilla's list, built in).
    pub fn new() -> Result<Arc<RustTransport>, SdkFailure> {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        Ok(Arc::new(RustTransport::with_config(tls_config(roots)?)))
    }

    /// A transport that trusts only `certificate_authorities` (DER-encoded X.509 CA
    /// certificates): a national or private CA, or the deployment's own, pinned.
    pub fn with_certificate_authorities(
        certificate_authorities: Vec<Vec<u8>>,
    ) -> Result<Arc<RustTransport>, SdkFailure> {
        if certificate_authorities.is_empty() {
            return Err(SdkFailure::invalid(
                "certificate_authorities",
                "give at least one CA certificate",
            ));
        }
        let mut roots = RootCertStore::empty();
        for (i, der) in certificate_authorities.into_iter().enumerate() {
            roots.add(CertificateDer::from(der)).map_err(|e| {
                SdkFailure::invalid(
                    "certificate_authorities",
                    format!("certificate {i} is not a usable CA certificate: {e}"),
                )
            })?;
        }
        Ok(Arc::new(RustTransport::with_config(tls_config(roots)?)))
    }

    fn with_config(tls: Arc<ClientConfig>) -> RustTransport {
        RustTransport {
            tls,
            idle: Mutex::new(None),
        }
    }

    /// Sends `req` to `origin` and reads the whole response by `deadline`. A kept-alive
    /// connection that the server closed while idle is replaced once; repeating the request
    /// is safe because the sync's GET changes nothing and its uploads are idempotent on item
    /// ids.
    fn exchange_with(
        &self,
        origin: &Origin,
        req: &Request<'_>,
        deadline: Instant,
    ) -> Result<Response, HttpError> {
        let head = encode(origin, req)?;
        if let Some(mut conn) = self.take_idle(origin) {
            conn.set_deadline(deadline);
            match exchange(&mut conn, &head, req) {
                Ok((response, reusable)) => {
                    if reusable {
                        self.keep(origin, conn);
                    }
                    return Ok(response);
                }
                Err(Failed::BeforeAnswer(_)) => {}
                Err(Failed::During(e)) => return Err(e),
            }
        }
        let mut conn = self.connect(origin, deadline)?;
        match exchange(&mut conn, &head, req) {
            Ok((response, reusable)) => {
                if reusable {
                    self.keep(origin, conn);
                }
                Ok(response)
            }
            Err(Failed::BeforeAnswer(e) | Failed::During(e)) => Err(e),
        }
    }

    fn take_idle(&self, origin: &Origin) -> Option<Conn> {
        let mut slot = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.take() {
            Some((o, conn, since)) if o.same_server(origin) && since.elapsed() < MAX_IDLE => {
                Some(conn)
            }
            _ => None,
        }
    }

    fn keep(&self, origin: &Origin, conn: Conn) {
        let mut slot = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some((origin.clone(), conn, Instant::now()));
    }

    fn connect(&self, origin: &Origin, deadline: Instant) -> Result<Conn, HttpError> {
        let host = origin.bare_host();
        let port = origin.port;
        // Name resolution uses the system resolver, which has its own timeout.
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| io_fail(&format!("cannot resolve {host}"), &e))?;
        let mut last = None;
        let mut sock = None;
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                last = Some(timed_out(&addr.to_string()));
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(e) => last = Some(io_fail(&addr.to_string(), &e)),
            }
        }
        let Some(sock) = sock else {
            let why = last.unwrap_or_else(|| fail("no address"));
            return Err(HttpError {
                kind: why.kind,
                text: format!("cannot connect to {host}:{port}: {}", why.text),
            });
        };
        // Small requests go out at once; failing to set this only costs latency.
        let _ = sock.set_nodelay(true);
        let timed = Timed { sock, deadline };
        if !origin.tls {
            return Ok(Conn::Plain(timed));
        }
        let name = ServerName::try_from(host.to_string()).map_err(|e| HttpError {
            kind: TransportKind::Tls,
            text: format!("host is not a valid server name: {e}"),
        })?;
        let conn = ClientConnection::new(self.tls.clone(), name).map_err(|e| HttpError {
            kind: TransportKind::Tls,
            text: e.to_string(),
        })?;
        let mut stream = StreamOwned::new(conn, timed);
        // Finish the handshake here, so that a certificate problem is reported as one.
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|e| match io_fail("tls", &e) {
                    HttpError {
                        kind: TransportKind::Offline,
                        text,
                    } => HttpError {
                        kind: TransportKind::Tls,
                        text,
                    },
                    other => other,
                })?;
        }
        Ok(Conn::Tls(Box::new(stream)))
    }
}

impl HttpTransport for RustTransport {
    fn send(
        &self,
        request: HttpRequest,
        authorization: String,
    ) -> Result<HttpResponse, TransportError> {
        let deadline = Instant::now() + Duration::from_millis(request.timeout_millis);
        // The routes' URLs may carry a query (`/api/v1/bundle?format=2`): the origin is what
        // comes before it, the request target keeps it.
        let (address, query) = match request.url.split_once('?') {
            Some((address, query)) => (address, Some(query)),
            None => (request.url.as_str(), None),
        };
        let origin = Origin::parse(address).map_err(|why| TransportError::Offline {
            reason: format!("the URL {why}"),
        })?;
        if query.is_some_and(|q| !q.bytes().all(|c| c.is_ascii_graphic() && c != b'#')) {
            return Err(TransportError::Offline {
                reason: "the URL query may hold only printable ASCII, without a fragment".into(),
            });
        }
        let target = match (origin.prefix.as_str(), query) {
            ("", None) => "/".to_owned(),
            (prefix, None) => prefix.to_owned(),
            ("", Some(q)) => format!("/?{q}"),
            (prefix, Some(q)) => format!("{prefix}?{q}"),
        };
        let headers: Vec<(&str, &str)> = std::iter::once(("Authorization", authorization.as_str()))
            .chain(
                request
                    .headers
                    .iter()
                    .map(|h| (h.name.as_str(), h.value.as_str())),
            )
            .collect();
        let req = Request {
            method: request.method.as_str(),
            path: &target,
            headers: &headers,
            body: match request.method {
                HttpMethod::Get => None,
                HttpMethod::Post => Some(&request.body),
            },
            max_body: request.max_response_bytes,
        };
        let response = self
            .exchange_with(&origin, &req, deadline)
            .map_err(HttpError::into_transport)?;
        Ok(HttpResponse {
            status: response.status,
            headers: response
                .headers
                .into_iter()
                .map(|(name, value)| HttpHeader { name, value })
                .collect(),
            body: response.body,
        })
    }
}

/// The request line and header fields; refuses a value that could split the head.
fn encode(origin: &Origin, req: &Request<'_>) -> Result<Vec<u8>, HttpError> {
    let printable = |s: &str| s.bytes().all(|c| c == b' ' || c.is_ascii_graphic());
    if !req.path.starts_with('/') || !req.path.bytes().all(|c| c.is_ascii_graphic()) {
        return Err(fail(format!("bad request path {:?}", req.path)));
    }
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: permitseal-mobile/{}\r\n",
        req.method,
        req.path,
        origin.host_header(),
        env!("CARGO_PKG_VERSION"),
    );
    for (name, value) in req.headers {
        let own = ["host", "content-length", "user-agent", "transfer-encoding"]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n));
        if own
            || name.is_empty()
            || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
            || !printable(value)
        {
            return Err(fail(format!(
                "header {name:?} has a value that cannot be sent"
            )));
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    match req.body {
        Some(body) => head.push_str(&format!("Content-Length: {}\r\n", body.len())),
        None if req.method == "POST" => head.push_str("Content-Length: 0\r\n"),
        None => {}
    }
    head.push_str("\r\n");
    Ok(head.into_bytes())
}

/// Writes the request and reads its response; says whether the connection can serve another.
fn exchange(conn: &mut Conn, head: &[u8], req: &Request<'_>) -> Result<(Response, bool), Failed> {
    let sent = conn
        .write_all(head)
        .and_then(|()| match req.body {
            Some(body) => conn.write_all(body),
            None => Ok(()),
        })
        .and_then(|()| conn.flush());
    if let Err(e) = sent {
        return Err(Failed::BeforeAnswer(io_fail("sending the request", &e)));
    }
    let mut counted = Counted {
        inner: conn,
        read: 0,
    };
    let mut reader = BufReader::new(&mut counted);
    let result = read_response(&mut reader, req.max_body);
    // Bytes beyond the response mean the two sides disagree on framing: do not reuse.
    let leftover = !reader.buffer().is_empty();
    drop(reader);
    match result {
        Ok((response, reusable)) => Ok((response, reusable && !leftover)),
        Err(e) if counted.read == 0 => Err(Failed::BeforeAnswer(e)),
        Err(e) => Err(Failed::During(e)),
    }
}

/// Reads one response (skipping interim 1xx answers); says whether the connection may be
/// reused (HTTP/1.1, delimited body, no `Connection: close`).
fn read_response<R: BufRead>(r: &mut R, max_body: u64) -> Result<(Response, bool), HttpError> {
    loop {
        let head = read_head(r)?;
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut fields);
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(fail("malformed response head")),
            Err(e) => return Err(fail(format!("malformed response head: {e}"))),
        }
        let status = parsed
            .code
            .ok_or_else(|| fail("response without a status"))?;
        if (100..200).contains(&status) {
            if status == 101 {
                return Err(fail("the server switched protocols"));
            }
            continue;
        }
        let mut headers = Vec::with_capacity(parsed.headers.len());
        let mut length: Option<u64> = None;
        let mut chunked = false;
        let mut encoded = false;
        let mut close = parsed.version != Some(1);
        for field in parsed.headers.iter() {
            let name = field.name.to_ascii_lowercase();
            let value = std::str::from_utf8(field.value).ok().filter(|v| {
                v.bytes()
                    .all(|c| c == b' ' || c == b'\t' || c.is_ascii_graphic())
            });
            match name.as_str() {
                "content-length" => {
                    let v = value.ok_or_else(|| fail("malformed Content-Length"))?;
                    for part in v.split(',') {
                        let part = part.trim();
                        let n = part
                            .parse::<u64>()
                            .ok()
                            .filter(|_| part.bytes().all(|c| c.is_ascii_digit()))
                            .ok_or_else(|| fail("malformed Content-Length"))?;
                        if length.is_some_and(|l| l != n) {
                            return Err(fail("conflicting Content-Length"));
                        }
                        length = Some(n);
                    }
                }
                "transfer-encoding" => {
                    let v = value.ok_or_else(|| fail("malformed Transfer-Encoding"))?;
                    encoded = true;
                    chunked = v
                        .rsplit(',')
                        .next()
                        .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
                }
                "connection"
                    if value.is_some_and(|v| {
                        v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close"))
                    }) =>
                {
                    close = true;
                }
                _ => {}
            }
            if let Some(v) = value {
                headers.push((name, v.trim().to_string()));
            }
        }
        let (body, delimited) = if status == 204 || status == 304 {
            (Vec::new(), true)
        } else if encoded {
            // Transfer coding wins over a length; with both, the connection is not reused.
            if chunked {
                (read_chunked(r, max_body)?, length.is_none())
            } else {
                (read_to_close(r, max_body)?, false)
            }
        } else if let Some(n) = length {
            (read_exact_body(r, n, max_body)?, true)
        } else {
            (read_to_close(r, max_body)?, false)
        };
        let response = Response {
            status,
            headers,
            body,
        };
        return Ok((response, delimited && !close));
    }
}

/// Reads up to and including the empty line that ends a head.
fn read_head<R: BufRead>(r: &mut R) -> Result<Vec<u8>, HttpError> {
    let mut head = Vec::new();
    loop {
        let line_start = head.len();
        read_line_into(r, &mut head, MAX_HEAD)?;
        let line = head.get(line_start..).unwrap_or_default();
        if line == b"\r\n" || line == b"\n" {
            return Ok(head);
        }
    }
}

/// Appends one line (with its end) to `buf`, keeping `buf` within `limit` bytes.
fn read_line_into<R: BufRead>(r: &mut R, buf: &mut Vec<u8>, limit: usize) -> Result<(), HttpError> {
    loop {
        let available = r
            .fill_buf()
            .map_err(|e| io_fail("reading the response", &e))?;
        if available.is_empty() {
            return Err(fail(if buf.is_empty() {
                "the server closed the connection without answering"
            } else {
                "the connection closed inside the response"
            }));
        }
        let (take, done) = match available.iter().position(|&c| c == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if buf.len() + take > limit {
            return Err(fail("response head too large"));
        }
        buf.extend_from_slice(available.get(..take).unwrap_or_default());
        r.consume(take);
        if done {
            return Ok(());
        }
    }
}

/// One line without its end.
fn read_line<R: BufRead>(r: &mut R, limit: usize) -> Result<Vec<u8>, HttpError> {
    let mut line = Vec::new();
    read_line_into(r, &mut line, limit)?;
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    Ok(line)
}

fn too_large(max: u64) -> HttpError {
    fail(format!("response larger than {max} bytes"))
}

fn read_exact_body<R: BufRead>(r: &mut R, n: u64, max: u64) -> Result<Vec<u8>, HttpError> {
    if n > max {
        return Err(too_large(max));
    }
    let mut body = Vec::new();
    r.take(n)
        .read_to_end(&mut body)
        .map_err(|e| io_fail("reading the response", &e))?;
    if (body.len() as u64) < n {
        return Err(fail("the connection closed before the end of the response"));
    }
    Ok(body)
}

fn read_to_close<R: BufRead>(r: &mut R, max: u64) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    r.take(max.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| io_fail("reading the response", &e))?;
    if body.len() as u64 > max {
        return Err(too_large(max));
    }
    Ok(body)
}

fn read_chunked<R: BufRead>(r: &mut R, max: u64) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r, MAX_CHUNK_LINE)?;
        let size = line.split(|&c| c == b';').next().unwrap_or_default();
        let size = size.trim_ascii();
        if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
            return Err(fail("malformed chunk size"));
        }
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|s| u64::from_str_radix(s, 16).ok())
            .ok_or_else(|| fail("malformed chunk size"))?;
        if size == 0 {
            // Trailer fields end with an empty line, like a head; read and dropped.
            read_head(r)?;
            return Ok(body);
        }
        if body.len() as u64 + size > max {
            return Err(too_large(max));
        }
        let start = body.len();
        r.take(size)
            .read_to_end(&mut body)
            .map_err(|e| io_fail("reading the response", &e))?;
        if ((body.len() - start) as u64) < size {
            return Err(fail("the connection closed inside a chunk"));
        }
        read_chunk_end(r)?;
    }
}

/// The line end after a chunk's data.
fn read_chunk_end<R: BufRead>(r: &mut R) -> Result<(), HttpError> {
    let mut byte = [0u8; 1];
    let mut next = |r: &mut R| {
        r.read_exact(&mut byte)
            .map(|()| byte[0])
            .map_err(|e| io_fail("reading the response", &e))
    };
    match next(r)? {
        b'\n' => Ok(()),
        b'\r' if next(r)? == b'\n' => Ok(()),
        _ => Err(fail("malformed chunk end")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8], max: u64) -> Result<(Response, bool), HttpError> {
        let mut r = raw;
        read_response(&mut r, max)
    }

    #[test]
    fn length_framed_response_is_reusable() {
        let raw = b"HTTP/1.1 200 OK\r\nETag: \"v7\"\r\nContent-Length: 5\r\n\r\nhello";
        let (resp, reuse) = parse(raw, 100).unwrap();
        assert_eq!(
            (resp.status, resp.body.as_slice(), reuse),
            (200, &b"hello"[..], true)
        );
        assert_eq!(resp.header("etag"), Some("\"v7\""));
    }

    #[test]
    fn chunked_body_with_extensions_and_trailer() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
            4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: t\r\n\r\n";
        let (resp, reuse) = parse(raw, 100).unwrap();
        assert_eq!((resp.body.as_slice(), reuse), (&b"Wikipedia"[..], true));
        // The limit counts decoded bytes.
        assert!(parse(raw, 8).unwrap_err().text.contains("larger than 8"));
    }

    #[test]
    fn interim_answers_are_skipped() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n";
        let (resp, reuse) = parse(raw, 0).unwrap();
        assert_eq!((resp.status, resp.body.len(), reuse), (204, 0, true));
    }

    #[test]
    fn unframed_and_closing_responses_are_not_reused() {
        let (resp, reuse) = parse(b"HTTP/1.1 200 OK\r\n\r\nto the end", 100).unwrap();
        assert_eq!((resp.body.as_slice(), reuse), (&b"to the end"[..], false));
        let raw = b"HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n";
        assert!(!parse(raw, 100).unwrap().1);
        let raw = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        assert!(!parse(raw, 100).unwrap().1);
        let raw = b"HTTP/1.1 304 Not Modified\r\nETag: \"v7\"\r\n\r\n";
        assert_eq!(parse(raw, 100).unwrap().0.status, 304);
    }

    #[test]
    fn malformed_and_oversized_responses_are_errors() {
        for (raw, why) in [
            (&b""[..], "without answering"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
                "before the end",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
                "conflicting",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
                "Content-Length",
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n",
                "larger than 100",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                "chunk size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
                "chunk size",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
                "chunk end",
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
                "inside a chunk",
            ),
            (b"SMTP ready\r\n\r\n", "malformed response head"),
            (b"HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched"),
            (b"HTTP/1.1 200 OK\r\nX: y", "inside the response"),
        ] {
            let e = parse(raw, 100).unwrap_err();
            assert!(
                e.text.contains(why),
                "{:?}: {e}",
                String::from_utf8_lossy(raw)
            );
        }
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b"X-Pad: 0123456789abcdef\r\n", 1000).flatten());
        assert!(
            parse(&huge, 100)
                .unwrap_err()
                .text
                .contains("head too large")
        );
        let unterminated = [b'a'; 20_000];
        assert!(
            parse(&unterminated, 100)
                .unwrap_err()
                .text
                .contains("head too large")
        );
    }

    #[test]
    fn mutated_responses_give_an_answer_or_an_error_never_a_panic() {
        let seeds: [&[u8]; 3] = [
            b"HTTP/1.1 200 OK\r\nETag: \"v7\"\r\nContent-Length: 5\r\n\r\nhello",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x\r\nWiki\r\n0\r\nT: 1\r\n\r\n",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n",
        ];
        // xorshift: a fixed sequence, so a failure reproduces.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let alphabet = b"\r\n :;0123456789abcdefHTP/.,-chunkedlosCLTE";
        for round in 0..20_000 {
            let mut raw = seeds[round % seeds.len()].to_vec();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() % (raw.len() as u64 + 1)) as usize;
                let byte = alphabet[(next() % alphabet.len() as u64) as usize];
                match next() % 3 {
                    0 if at < raw.len() => raw[at] = byte,
                    1 if at < raw.len() => {
                        raw.remove(at);
                    }
                    _ => raw.insert(at, byte),
                }
            }
            if let Ok((resp, _)) = parse(&raw, 64) {
                assert!(resp.body.len() <= 64);
            }
        }
    }

    #[test]
    fn header_values_that_could_split_the_request_are_refused() {
        let origin = Origin::parse("http://127.0.0.1:9").unwrap();
        let req = |headers: &'static [(&'static str, &'static str)], path: &'static str| Request {
            method: "GET",
            path,
            headers,
            body: None,
            max_body: 10,
        };
        let encode = |r: &Request<'_>| encode(&origin, r);
        assert!(encode(&req(&[("If-None-Match", "\"a\"\r\nX: 1")], "/x")).is_err());
        assert!(encode(&req(&[("Bad Name", "v")], "/x")).is_err());
        assert!(encode(&req(&[("Host", "elsewhere")], "/x")).is_err());
        assert!(encode(&req(&[("content-length", "0")], "/x")).is_err());
        assert!(encode(&req(&[], "/x y")).is_err());
        let head = encode(&req(&[("If-None-Match", "\"a\"")], "/x")).unwrap();
        let head = String::from_utf8(head).unwrap();
        assert!(
            head.starts_with("GET /x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"),
            "{head}"
        );
        assert!(head.ends_with("If-None-Match: \"a\"\r\n\r\n"), "{head}");
    }
}
