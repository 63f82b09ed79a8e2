//! The server's address: the base URL the app gives, checked once, and the URLs of the
//! API's routes under it.

use std::net::Ipv6Addr;

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
    pub(crate) fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether `other` is the same server (scheme, host, port), whatever the path.
    #[cfg_attr(not(feature = "rust-http"), allow(dead_code))]
    pub(crate) fn same_server(&self, other: &Origin) -> bool {
        (self.tls, &self.host, self.port) == (other.tls, &other.host, other.port)
    }

    /// The URL of a route (`/api/…`) under this origin and its prefix.
    pub(crate) fn url(&self, route: &str) -> String {
        format!("{self}{route}")
    }

    /// The host without IPv6 brackets: for name resolution and certificate names.
    #[cfg_attr(not(feature = "rust-http"), allow(dead_code))]
    pub(crate) fn bare_host(&self) -> &str {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
