//! The rules of webhooks: which permit events there are, when a failed delivery is tried again,
//! and the Standard Webhooks signature (`webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `id.timestamp.body`, with the subscription's secret).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit as _, Mac as _};

use super::PermitState;

/// What happened to a subscribed permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitEvent {
    /// Suspended by its authority.
    Suspended,
    /// Reinstated after a suspension.
    Reinstated,
    /// Revoked.
    Revoked,
    /// Its export was endorsed (by customs or an officer's phone).
    Endorsed,
    /// It became used (its first valid export endorsement).
    Used,
    /// Its import was confirmed by the importing authority.
    Confirmed,
}

impl PermitEvent {
    /// The event's `type` in the delivered JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspended => "permit.suspended",
            Self::Reinstated => "permit.reinstated",
            Self::Revoked => "permit.revoked",
            Self::Endorsed => "permit.endorsed",
            Self::Used => "permit.used",
            Self::Confirmed => "permit.confirmed",
        }
    }

    /// The event of a permit's change to `state` (a permit becomes valid only again); none
    /// for cancelled on import, which only the importing authority's confirmation causes: that
    /// is the one event, written by the ingest after the change (`permit.confirmed` with the
    /// state after it), not a second one.
    pub fn of_state(state: PermitState) -> Option<Self> {
        match state {
            PermitState::Valid => Some(Self::Reinstated),
            PermitState::Suspended => Some(Self::Suspended),
            PermitState::Revoked => Some(Self::Revoked),
            PermitState::Used => Some(Self::Used),
            PermitState::CancelledOnImport => None,
        }
    }
}

/// Seconds before the first retry; each further one doubles, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: i64 = 30;
/// The longest wait between two attempts.
pub const MAX_BACKOFF: i64 = 6 * 3600;

/// When to try again after the `attempts`-th failed attempt (1 for the first) at `now`:
/// exponential back-off, with `jitter` (a fraction in `0..1`, random in production) spreading
/// the retries of many subscribers over up to a quarter more. An event is retried for as long
/// as it takes: it is never dropped.
pub fn next_attempt(now: i64, attempts: i64, jitter: f64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 32) - 1).unwrap_or(0);
    let base = FIRST_BACKOFF
        .saturating_mul(1_i64 << exponent.min(20))
        .min(MAX_BACKOFF);
    // The product stays below MAX_BACKOFF / 4, far inside an f64's exact integers.
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let spread = (base as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
    now + base + spread
}

/// The `webhook-signature` header value: `v1,` and the base64 HMAC-SHA256 of
/// `id.timestamp.body` under `secret` (the raw bytes behind `whsec_`).
pub fn signature(secret: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The secret as shown to the subscriber: `whsec_` and its base64.
pub fn secret_text(secret: &[u8]) -> String {
    format!("whsec_{}", STANDARD.encode(secret))
}

/// Why a subscription URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefusal {
    /// Not an absolute URL.
    #[error("url is not an absolute URL")]
    NotAUrl,
    /// A scheme other than http or https (file:, gopher:, …).
    #[error("url must be http or https")]
    Scheme,
    /// User name or password in the URL (they would be sent to the receiver in the clear).
    #[error("url must not carry a user name or password")]
    Credentials,
    /// Longer than 2000 characters.
    #[error("url is longer than 2000 characters")]
    TooLong,
}

/// Checks a subscription URL: absolute, http or https, no credentials, at most 2000
/// characters. Which hosts it may name is the deployment's network policy (docs/INTEGRATION.md).
pub fn check_url(text: &str) -> Result<String, UrlRefusal> {
    if text.len() > 2000 {
        return Err(UrlRefusal::TooLong);
    }
    let url = url::Url::parse(text).map_err(|_| UrlRefusal::NotAUrl)?;
    match url.scheme() {
        "http" | "https" => {}
        _ => return Err(UrlRefusal::Scheme),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlRefusal::NotAUrl);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlRefusal::Credentials);
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_with_a_bounded_jitter_and_a_ceiling() {
        assert_eq!(next_attempt(1000, 1, 0.0), 1030);
        assert_eq!(next_attempt(1000, 2, 0.0), 1060);
        assert_eq!(next_attempt(1000, 3, 0.0), 1120);
        assert_eq!(next_attempt(1000, 3, 1.0), 1150);
        assert_eq!(next_attempt(0, 40, 0.0), MAX_BACKOFF);
        assert_eq!(next_attempt(0, 40, 1.0), MAX_BACKOFF + MAX_BACKOFF / 4);
        assert_eq!(next_attempt(0, 0, 5.0), FIRST_BACKOFF + FIRST_BACKOFF / 4);
    }

    #[test]
    fn standard_webhooks_signature() {
        // The example of the Standard Webhooks specification.
        let secret = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = signature(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(secret_text(&[0xff; 3]), "whsec_////");
    }

    #[test]
    fn only_http_and_https_urls_without_credentials() {
        assert_eq!(
            check_url("http://customs.example/hooks?x=1").unwrap(),
            "http://customs.example/hooks?x=1"
        );
        assert_eq!(
            check_url("https://customs.example/hooks").unwrap(),
            "https://customs.example/hooks"
        );
        assert_eq!(
            check_url("https://u:p@customs.example/"),
            Err(UrlRefusal::Credentials)
        );
        assert!(check_url("http://127.0.0.1:8080/").is_ok());
        assert_eq!(check_url("file:///etc/passwd"), Err(UrlRefusal::Scheme));
        assert_eq!(check_url("gopher://x/"), Err(UrlRefusal::Scheme));
        assert_eq!(check_url("/relative"), Err(UrlRefusal::NotAUrl));
        assert_eq!(
            check_url("http://u:p@customs.example/"),
            Err(UrlRefusal::Credentials)
        );
        assert_eq!(
            check_url(&format!("http://x.example/{}", "a".repeat(2000))),
            Err(UrlRefusal::TooLong)
        );
    }
}
