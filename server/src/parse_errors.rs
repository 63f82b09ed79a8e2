//! The API's JSON error in place of the empty answers hyper writes on its own.
//!
//! A request head that hyper cannot parse never reaches a service: hyper answers it itself,
//! with a status line, a date and `content-length: 0`, and closes the connection. That happens
//! for a malformed head (400), a request line beyond the 64 KiB the `http` crate can hold (414)
//! and headers beyond hyper's read buffer (431). A client of this API expects `{code, message}`
//! with every 4xx, so the connection's writer recognises those canned answers — a 400, 414 or
//! 431 status line whose head ends the buffer and declares an empty body, which no answer of
//! the API has (every 4xx it sends carries its JSON error) — and writes the JSON error in
//! their place.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A connection whose writer replaces hyper's canned parse-error answers (see the module).
pub struct JsonParseErrors<S> {
    inner: S,
    replacing: Option<Replacing>,
}

/// A replacement being written: its bytes, how many have gone, and the length of hyper's
/// buffer it stands for (reported as written once the replacement is out).
struct Replacing {
    bytes: Vec<u8>,
    written: usize,
    stands_for: usize,
}

impl<S> JsonParseErrors<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            replacing: None,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for JsonParseErrors<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> JsonParseErrors<S> {
    /// Writes the replacement in progress; `Ready(Ok(n))` with the length it stands for once
    /// all of it is out.
    fn poll_replacing(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let Some(r) = self.replacing.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        while r.written < r.bytes.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &r.bytes[r.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            r.written += n;
        }
        let stands_for = r.stands_for;
        self.replacing = None;
        Poll::Ready(Ok(stands_for))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for JsonParseErrors<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.replacing.is_none() {
            match json_answer(buf) {
                Some(bytes) => {
                    this.replacing = Some(Replacing {
                        bytes,
                        written: 0,
                        stands_for: buf.len(),
                    });
                }
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        this.poll_replacing(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        // hyper encodes a head into one buffer: a canned answer is the first slice, alone.
        if this.replacing.is_some() {
            return this.poll_replacing(cx);
        }
        if let Some(first) = bufs.iter().find(|b| !b.is_empty())
            && let Some(bytes) = json_answer(first)
        {
            this.replacing = Some(Replacing {
                bytes,
                written: 0,
                stands_for: first.len(),
            });
            return this.poll_replacing(cx);
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacing(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_replacing(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The JSON answer that replaces `buf`, when `buf` is one of hyper's canned parse-error
/// answers: a 400, 414 or 431 head, whole, declaring an empty body, with nothing after it.
fn json_answer(buf: &[u8]) -> Option<Vec<u8>> {
    let (code, message) = match buf.get(..13)? {
        b"HTTP/1.1 400 " => (
            "bad_request",
            "the request head is not valid HTTP/1.1".into(),
        ),
        b"HTTP/1.1 414 " => (
            "uri_too_long",
            format!(
                "the path and query are longer than {} bytes",
                crate::http::MAX_URI_BYTES
            ),
        ),
        b"HTTP/1.1 431 " => (
            "headers_too_large",
            "the request headers are too large".into(),
        ),
        _ => return None,
    };
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    if end + 4 != buf.len() {
        return None;
    }
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut kept = Vec::new();
    let mut empty_body = false;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        if name.eq_ignore_ascii_case("content-length") {
            empty_body = value.trim() == "0";
        } else {
            kept.push(line);
        }
    }
    if !empty_body {
        return None;
    }
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    let mut out = format!("{status_line}\r\n");
    for line in kept {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(&format!(
        "content-type: application/json\r\ncontent-length: {}\r\n\
         x-content-type-options: nosniff\r\ncache-control: no-store\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    ));
    Some(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_answers_become_json() {
        let canned = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 06:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(json_answer(canned).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(head.contains("date: Wed, 02 Dec 2026"), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(json["code"], "uri_too_long");
        for (status, code) in [
            ("400 Bad Request", "bad_request"),
            ("431 Request Header Fields Too Large", "headers_too_large"),
        ] {
            let canned = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n");
            let out = String::from_utf8(json_answer(canned.as_bytes()).unwrap()).unwrap();
            assert!(out.contains(&format!("\"code\":\"{code}\"")), "{out}");
        }
    }

    #[test]
    fn other_answers_pass_untouched() {
        // An answer with a body, a status hyper does not can, a head with more after it.
        for buf in [
            &b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 2\r\n\r\n{}"[..],
            b"HTTP/1.1 414 URI Too Long\r\ncontent-type: application/json\r\ncontent-length: 44\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\nHTTP/1.1 200 OK",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n",
            b"HTTP/1.1 400",
        ] {
            assert!(json_answer(buf).is_none(), "{}", String::from_utf8_lossy(buf));
        }
    }
}
