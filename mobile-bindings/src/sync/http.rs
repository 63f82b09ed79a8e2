//! The HTTP/1.1 client the sync uses: requests to one origin, over rustls (TLS 1.3, ring) or,
//! to a loopback host only, plain TCP.
//!
//! Written for this SDK rather than taken from a general client because the SDK ships inside
//! phone apps, where every byte of the library is downloaded by every officer: a general
//! client (ureq, with TLS 1.2, logging and its own protocol crates) made the library 0.6 MB
//! larger (docs/PERFORMANCE.md § Mobile). It needs only what the sync does: GET and POST with
//! a body in memory, responses framed by `Content-Length`, chunked coding or the end of the
//! connection, a size limit on every response, one deadline per request, and one kept-alive
//! connection so that a long upload does not pay a TLS handshake per batch. Response heads are
//! parsed by `httparse` (the parser of hyper).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv6Addr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// Largest response head (status line and header fields), and of a chunked body's trailer.
const MAX_HEAD: usize = 16 * 1024;
/// Most header fields read from a response.
const MAX_HEADERS: usize = 64;
/// Longest chunk-size line (size and extensions).
const MAX_CHUNK_LINE: usize = 1024;
/// A kept-alive connection idle for longer is closed instead of reused: proxies commonly
/// drop idle connections after about a minute.
const MAX_IDLE: Duration = Duration::from_secs(30);

/// A failed exchange, in words for the app's support screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HttpError(pub(crate) String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn fail(what: impl Into<String>) -> HttpError {
    HttpError(what.into())
}

fn io_fail(context: &str, e: &io::Error) -> HttpError {
    match e.kind() {
        // A read timeout is `WouldBlock` on Unix and `TimedOut` elsewhere.
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            fail(format!("{context}: timed out"))
        }
        _ => fail(format!("{context}: {e}")),
    }
}

/// Where requests go, from the base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Origin {
    /// `https`, or plain `http` to a loopback host.
    pub(crate) tls: bool,
    /// The host as written in the URL, lowercase (an IPv6 address keeps its brackets).
    pub(crate) host: String,
    /// The port, given or the scheme's default.
    pub(crate) port: u16,
    /// The path before the API's routes: empty or `/…` without a trailing slash.
    pub(crate) prefix: String,
}

impl Origin {
    /// Parses `https://host[:port][/prefix]`, or `http://` to `localhost`, `127.0.0.1` or
    /// `[::1]`. No user info, query or fragment.
    pub(crate) fn parse(url: &str) -> Result<Origin, &'static str> {
        let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(url, "https://") {
            (true, rest)
        } else if let Some(rest) = strip_prefix_ignore_case(url, "http://") {
            (false, rest)
        } else {
            return Err("must start with https://");
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err("has no host");
        }
        if authority.contains('@') {
            return Err("must not carry a user name or password");
        }
        let (host, port) = split_host_port(authority)?;
        let port = match port {
            None if tls => 443,
            None => 80,
            Some(p) => p,
        };
        let prefix = path.trim_end_matches('/');
        if !prefix
            .bytes()
            .all(|c| c.is_ascii_graphic() && c != b'?' && c != b'#')
        {
            return Err("path may hold only printable ASCII, without a query or fragment");
        }
        if !tls && !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Err("plain http is allowed only to a loopback host");
        }
        Ok(Origin {
            tls,
            host,
            port,
            prefix: prefix.to_string(),
        })
    }

    /// The `Host` header: the host, and the port unless it is the scheme's default.
    fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The host without IPv6 brackets: for name resolution and certificate names.
    fn bare_host(&self) -> &str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&self.host)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        write!(f, "{scheme}://{}{}", self.host_header(), self.prefix)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Splits `host[:port]` or `[v6][:port]`; lowercases the host and checks its characters.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), &'static str> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']').ok_or("has an unclosed IPv6 bracket")?;
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err("has a malformed IPv6 address");
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or("has text after the IPv6 address")?,
            ),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if host.is_empty()
            || !host
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.')
        {
            return Err("has a malformed host name");
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 && p.bytes().all(|c| c.is_ascii_digit()) => Some(n),
            _ => return Err("has a malformed port"),
        },
    };
    Ok((host, port))
}

/// The TLS settings: TLS 1.3 only, ring's algorithms, and either the public web roots
/// (Mozilla's list, from `webpki-roots`) or the certificate authorities the app pins.
pub(crate) fn tls_config(
    pinned: Option<Vec<CertificateDer<'static>>>,
) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    match pinned {
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Some(certificates) => {
            for (i, der) in certificates.into_iter().enumerate() {
                roots
                    .add(der)
                    .map_err(|e| format!("certificate {i} is not a usable CA certificate: {e}"))?;
            }
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One request.
pub(crate) struct Request<'a> {
    /// `GET` or `POST`.
    pub(crate) method: &'static str,
    /// The route after the origin's prefix, starting with `/`.
    pub(crate) path: &'a str,
    /// Further header fields; values must be printable ASCII.
    pub(crate) headers: &'a [(&'a str, &'a str)],
    /// Content type and body.
    pub(crate) body: Option<(&'a str, &'a [u8])>,
    /// Largest response body accepted.
    pub(crate) max_body: u64,
}

/// A complete response.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Response {
    pub(crate) status: u16,
    /// Header fields with printable values, names in lowercase.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// The first field named `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
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

/// The client for one origin.
pub(crate) struct Http {
    origin: Origin,
    host_header: String,
    tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    timeout: Duration,
    idle: Mutex<Option<(Conn, Instant)>>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("origin", &self.origin.to_string())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Http {
    /// A client for `origin`; `tls` is needed for an `https` origin.
    pub(crate) fn new(
        origin: Origin,
        tls: Arc<ClientConfig>,
        timeout: Duration,
    ) -> Result<Http, String> {
        let tls = if origin.tls {
            let name = ServerName::try_from(origin.bare_host().to_string())
                .map_err(|e| format!("host is not a valid server name: {e}"))?;
            Some((tls, name))
        } else {
            None
        };
        Ok(Http {
            host_header: origin.host_header(),
            origin,
            tls,
            timeout,
            idle: Mutex::new(None),
        })
    }

    /// The origin, for display.
    pub(crate) fn origin(&self) -> &Origin {
        &self.origin
    }

    /// Sends `req` and reads the whole response, within the client's timeout. A kept-alive
    /// connection that the server closed while idle is replaced once; repeating the request
    /// is safe because the sync's GET changes nothing and its uploads are idempotent on item
    /// ids.
    pub(crate) fn send(&self, req: &Request<'_>) -> Result<Response, HttpError> {
        let deadline = Instant::now() + self.timeout;
        let head = self.encode(req)?;
        if let Some(mut conn) = self.take_idle() {
            conn.set_deadline(deadline);
            match exchange(&mut conn, &head, req) {
                Ok((response, reusable)) => {
                    if reusable {
                        self.keep(conn);
                    }
                    return Ok(response);
                }
                Err(Failed::BeforeAnswer(_)) => {}
                Err(Failed::During(e)) => return Err(e),
            }
        }
        let mut conn = self.connect(deadline)?;
        match exchange(&mut conn, &head, req) {
            Ok((response, reusable)) => {
                if reusable {
                    self.keep(conn);
                }
                Ok(response)
            }
            Err(Failed::BeforeAnswer(e) | Failed::During(e)) => Err(e),
        }
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut slot = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.take() {
            Some((conn, since)) if since.elapsed() < MAX_IDLE => Some(conn),
            _ => None,
        }
    }

    fn keep(&self, conn: Conn) {
        let mut slot = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        *slot = Some((conn, Instant::now()));
    }

    /// The request line and header fields; refuses a value that could split the head.
    fn encode(&self, req: &Request<'_>) -> Result<Vec<u8>, HttpError> {
        let printable = |s: &str| s.bytes().all(|c| c == b' ' || c.is_ascii_graphic());
        if !req.path.starts_with('/') || !req.path.bytes().all(|c| c.is_ascii_graphic()) {
            return Err(fail(format!("bad request path {:?}", req.path)));
        }
        let mut head = format!(
            "{} {}{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: permitseal-mobile/{}\r\n",
            req.method,
            self.origin.prefix,
            req.path,
            self.host_header,
            env!("CARGO_PKG_VERSION"),
        );
        for (name, value) in req.headers {
            if !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-') || !printable(value) {
                return Err(fail(format!(
                    "header {name:?} has a value that cannot be sent"
                )));
            }
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        match req.body {
            Some((content_type, body)) => {
                if !printable(content_type) {
                    return Err(fail("content type cannot be sent"));
                }
                head.push_str(&format!(
                    "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                    body.len()
                ));
            }
            None if req.method == "POST" => head.push_str("Content-Length: 0\r\n"),
            None => {}
        }
        head.push_str("\r\n");
        Ok(head.into_bytes())
    }

    fn connect(&self, deadline: Instant) -> Result<Conn, HttpError> {
        let host = self.origin.bare_host();
        let port = self.origin.port;
        // Name resolution uses the system resolver, which has its own timeout.
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| io_fail(&format!("cannot resolve {host}"), &e))?;
        let mut last = None;
        let mut sock = None;
        for addr in addrs {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                last = Some(format!("{addr}: timed out"));
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(e) => last = Some(io_fail(&addr.to_string(), &e).0),
            }
        }
        let Some(sock) = sock else {
            let why = last.unwrap_or_else(|| "no address".into());
            return Err(fail(format!("cannot connect to {host}:{port}: {why}")));
        };
        // Small requests go out at once; failing to set this only costs latency.
        let _ = sock.set_nodelay(true);
        let timed = Timed { sock, deadline };
        let Some((config, name)) = &self.tls else {
            return Ok(Conn::Plain(timed));
        };
        let conn = ClientConnection::new(config.clone(), name.clone())
            .map_err(|e| fail(format!("tls: {e}")))?;
        let mut stream = StreamOwned::new(conn, timed);
        // Finish the handshake here, so that a certificate problem is reported as one.
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|e| io_fail("tls", &e))?;
        }
        Ok(Conn::Tls(Box::new(stream)))
    }
}

/// Writes the request and reads its response; says whether the connection can serve another.
fn exchange(conn: &mut Conn, head: &[u8], req: &Request<'_>) -> Result<(Response, bool), Failed> {
    let sent = conn
        .write_all(head)
        .and_then(|()| match req.body {
            Some((_, body)) => conn.write_all(body),
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
pub(crate) fn read_response<R: BufRead>(
    r: &mut R,
    max_body: u64,
) -> Result<(Response, bool), HttpError> {
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
    fn origins() {
        let o = Origin::parse("https://Permits.Example.org/").unwrap();
        assert_eq!(
            (o.tls, o.host.as_str(), o.port, o.prefix.as_str()),
            (true, "permits.example.org", 443, "")
        );
        assert_eq!(o.to_string(), "https://permits.example.org");
        let o = Origin::parse("HTTP://localhost:8080/api/").unwrap();
        assert_eq!((o.tls, o.port, o.prefix.as_str()), (false, 8080, "/api"));
        assert_eq!(o.host_header(), "localhost:8080");
        let o = Origin::parse("http://[::1]:9").unwrap();
        assert_eq!(
            (o.host.as_str(), o.bare_host(), o.port),
            ("[::1]", "::1", 9)
        );
        let o = Origin::parse("https://10.1.2.3:8443").unwrap();
        assert_eq!(o.to_string(), "https://10.1.2.3:8443");
        for (bad, why) in [
            ("http://permits.example.org", "loopback"),
            ("http://127.0.0.1.evil.org", "loopback"),
            ("ftp://x", "https://"),
            ("https://", "no host"),
            ("permits.example.org", "https://"),
            ("https://user:pw@permits.example.org", "user name"),
            ("https://permits.example.org:0", "port"),
            ("https://permits.example.org:70000", "port"),
            ("https://permits.example.org:+1", "port"),
            ("https://permits example.org", "host name"),
            ("https://[::1", "bracket"),
            ("https://[zz::1]", "IPv6"),
            ("https://permits.example.org/a?b=c", "query"),
            ("https://permits.example.org/a b", "printable"),
            ("https://permits.example.org/a\r\nX: y", "printable"),
        ] {
            let e = Origin::parse(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
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
        assert!(parse(raw, 8).unwrap_err().0.contains("larger than 8"));
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
            assert!(e.0.contains(why), "{:?}: {e}", String::from_utf8_lossy(raw));
        }
        let mut huge = b"HTTP/1.1 200 OK\r\n".to_vec();
        huge.extend(std::iter::repeat_n(b"X-Pad: 0123456789abcdef\r\n", 1000).flatten());
        assert!(parse(&huge, 100).unwrap_err().0.contains("head too large"));
        let unterminated = [b'a'; 20_000];
        assert!(
            parse(&unterminated, 100)
                .unwrap_err()
                .0
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
        let http = Http::new(
            Origin::parse("http://127.0.0.1:9").unwrap(),
            tls_config(None).unwrap(),
            Duration::from_secs(1),
        )
        .unwrap();
        let req = |headers: &'static [(&'static str, &'static str)], path: &'static str| Request {
            method: "GET",
            path,
            headers,
            body: None,
            max_body: 10,
        };
        assert!(
            http.encode(&req(&[("If-None-Match", "\"a\"\r\nX: 1")], "/x"))
                .is_err()
        );
        assert!(http.encode(&req(&[("Bad Name", "v")], "/x")).is_err());
        assert!(http.encode(&req(&[], "/x y")).is_err());
        let head = http
            .encode(&req(&[("If-None-Match", "\"a\"")], "/x"))
            .unwrap();
        let head = String::from_utf8(head).unwrap();
        assert!(
            head.starts_with("GET /x HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"),
            "{head}"
        );
        assert!(head.ends_with("If-None-Match: \"a\"\r\n\r\n"), "{head}");
    }
}
