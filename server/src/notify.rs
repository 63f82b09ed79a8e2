//! Delivering the notification outbox by SMTP (`lettre`). Off unless a mail server is
//! configured (`--smtp-url` / `PERMITSEAL_SMTP_URL`, e.g. `smtp://mail.internal:25`, and
//! `PERMITSEAL_SMTP_FROM`); messages then wait in the outbox table, where a deployment may also
//! deliver them by other means. The server speaks plain SMTP to the deployment's relay, which
//! owns TLS to the outside, as the load balancer owns TLS for HTTP.

use std::time::Duration;

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use crate::clock::Clock;
use crate::storage::{Db, StorageError};

/// Why a sender could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The SMTP URL does not parse.
    #[error("SMTP URL: {0}")]
    Url(String),
    /// The sender address does not parse.
    #[error("sender address: {0}")]
    From(String),
}

/// An SMTP connection setting and the sender address.
#[derive(Clone)]
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry credentials: only the sender is shown.
        f.debug_struct("SmtpSender")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpSender {
    /// A sender over `url` (`smtp://[user:password@]host[:port]`, port 25 by default),
    /// writing as `from`.
    pub fn new(url: &str, from: &str) -> Result<Self, NotifyError> {
        let rest = url
            .strip_prefix("smtp://")
            .ok_or_else(|| NotifyError::Url("must start with smtp://".to_owned()))?
            .trim_end_matches('/');
        let (credentials, server) = match rest.rsplit_once('@') {
            Some((userinfo, server)) => {
                let (user, password) = userinfo
                    .split_once(':')
                    .ok_or_else(|| NotifyError::Url("credentials are user:password".to_owned()))?;
                let decode = |t: &str| {
                    percent_encoding::percent_decode_str(t)
                        .decode_utf8_lossy()
                        .into_owned()
                };
                (
                    Some(Credentials::new(decode(user), decode(password))),
                    server,
                )
            }
            None => (None, rest),
        };
        let (host, port) = match server.rsplit_once(':') {
            Some((host, port)) => (
                host,
                port.parse::<u16>()
                    .map_err(|_| NotifyError::Url("the port is not a number".to_owned()))?,
            ),
            None => (server, 25),
        };
        if host.is_empty() || host.contains(['/', '?', '#']) {
            return Err(NotifyError::Url("expected smtp://host:port".to_owned()));
        }
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(Duration::from_secs(20)));
        if let Some(c) = credentials {
            builder = builder.credentials(c);
        }
        let transport = builder.build();
        let from = from
            .parse()
            .map_err(|e: lettre::address::AddressError| NotifyError::From(e.to_string()))?;
        Ok(Self { transport, from })
    }

    async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("recipient: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body.to_owned())
            .map_err(|e| format!("message: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Delivers up to `limit` pending messages; returns how many were sent. A failure is recorded
/// on its message, which is retried on a later run.
pub async fn deliver_pending(
    db: &Db,
    sender: &SmtpSender,
    limit: i64,
    now: i64,
) -> Result<usize, StorageError> {
    let mut sent = 0;
    for m in db.pending_messages(limit).await? {
        match sender.send(&m.recipient, &m.subject, &m.body).await {
            Ok(()) => {
                if db.mark_delivery(m.id, None, now).await? {
                    sent += 1;
                }
            }
            Err(e) => {
                tracing::warn!(message = m.id, attempts = m.attempts + 1, error = %e, "notification not delivered");
                db.mark_delivery(m.id, Some(&e), now).await?;
            }
        }
    }
    Ok(sent)
}

/// Delivers the outbox every `every` until the process ends.
pub async fn run(db: Db, sender: SmtpSender, clock: Clock, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(e) = deliver_pending(&db, &sender, 100, clock.now()).await {
            tracing::warn!(error = %e, "outbox delivery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(SmtpSender::new("smtp://mail.internal:2525", "a@b.example").is_ok());
        assert!(SmtpSender::new("smtp://u:p%40ss@mail.internal", "a@b.example").is_ok());
        assert!(SmtpSender::new("smtps://mail.internal", "a@b.example").is_err());
        assert!(SmtpSender::new("smtp://mail.internal:x", "a@b.example").is_err());
        assert!(SmtpSender::new("smtp://:25", "a@b.example").is_err());
        assert!(SmtpSender::new("smtp://mail.internal", "not an address").is_err());
        let s = SmtpSender::new("smtp://u:secret@mail.internal", "a@b.example").unwrap();
        assert!(!format!("{s:?}").contains("secret"));
    }
}
