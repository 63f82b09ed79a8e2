//! Delivering the webhook outbox (`storage/webhooks.rs`) per the Standard Webhooks convention:
//! each message is POSTed as JSON with `webhook-id`, `webhook-timestamp` (the attempt's time)
//! and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` under the
//! subscription's secret. A 2xx answer delivers it; anything else is retried with exponential
//! back-off and jitter (`domain::webhooks::next_attempt`), for as long as it takes. Every
//! replica runs a deliverer; leases make one of them send each message, and a lease that
//! expires (a replica killed mid-delivery) lets another send it again: delivery is at least
//! once, and receivers dedupe by `webhook-id`. The schedule follows the injected clock.
//!
//! Receivers are reached over http or https. For https the deliverer speaks TLS 1.2 or 1.3
//! (rustls with ring) and trusts the Mozilla roots plus, for receivers inside a government
//! network, the certificate authorities of the deployment's CA file ([`WebhookTrust`]). A
//! certificate it does not trust fails the attempt like any other failure: it is recorded on
//! the message, which is retried until the receiver's certificate is trusted.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::crypto::{self, MasterKey};
use crate::domain::webhooks::{next_attempt, signature};
use crate::storage::webhooks::LeasedMessage;
use crate::storage::{Db, StorageError};

/// How long a replica holds a message it is sending: longer than [`SEND_TIMEOUT`].
pub const LEASE_SECONDS: i64 = 60;
/// How long one delivery may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);
/// Messages leased at once.
const BATCH: i64 = 50;

/// The certificate authorities the deliverer trusts for https receivers.
#[derive(Clone)]
pub struct WebhookTrust {
    roots: Arc<rustls::RootCertStore>,
    /// How many of them came from the deployment's CA file.
    added: usize,
}

impl std::fmt::Debug for WebhookTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookTrust")
            .field("roots", &self.roots.len())
            .field("added", &self.added)
            .finish()
    }
}

/// Why the deployment's CA file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaFileError {
    /// It cannot be read.
    #[error("webhook CA file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is not PEM, or a PEM block is damaged.
    #[error("webhook CA file {path}: not PEM certificates ({reason})")]
    Pem {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// It holds no certificate.
    #[error("webhook CA file {path}: no certificate in it (PEM blocks 'BEGIN CERTIFICATE')")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A certificate in it is not a usable trust anchor.
    #[error(
        "webhook CA file {path}: certificate {index} is not a usable CA certificate ({reason})"
    )]
    Certificate {
        /// The file.
        path: PathBuf,
        /// Its place in the file, from 1.
        index: usize,
        /// Why.
        reason: String,
    },
}

impl WebhookTrust {
    /// The Mozilla root program's CAs (as webpki-roots ships them): receivers with a public
    /// certificate.
    pub fn public() -> Self {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        Self {
            roots: Arc::new(roots),
            added: 0,
        }
    }

    /// The public CAs and every certificate of the PEM file at `path` (a government or
    /// customs network's own CA).
    pub fn with_ca_file(path: &Path) -> Result<Self, CaFileError> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let pem = std::fs::read(path).map_err(|source| CaFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut added = 0;
        for (i, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
            let cert = cert.map_err(|e| CaFileError::Pem {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
            roots.add(cert).map_err(|e| CaFileError::Certificate {
                path: path.to_owned(),
                index: i + 1,
                reason: e.to_string(),
            })?;
            added += 1;
        }
        if added == 0 {
            return Err(CaFileError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(Self {
            roots: Arc::new(roots),
            added,
        })
    }

    /// How many CAs came from the deployment's file.
    pub fn added(&self) -> usize {
        self.added
    }

    /// The TLS client configuration: ring, TLS 1.2 and 1.3, these roots, no client certificate.
    fn client_config(&self) -> Result<rustls::ClientConfig, rustls::Error> {
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_root_certificates(self.roots.clone())
        .with_no_client_auth())
    }
}

/// Why a deliverer could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DelivererError {
    /// The TLS configuration did not build.
    #[error("TLS client: {0}")]
    Tls(#[from] rustls::Error),
    /// The HTTP client did not build.
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    /// The random source failed (for the replica's name).
    #[error(transparent)]
    Random(#[from] crypto::CryptoError),
}

/// One replica's deliverer.
#[derive(Clone)]
pub struct Deliverer {
    db: Db,
    master: Arc<MasterKey>,
    client: reqwest::Client,
    replica: String,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("replica", &self.replica)
            .finish_non_exhaustive()
    }
}

impl Deliverer {
    /// A deliverer with a random replica name, which its leases carry, trusting `trust` for
    /// https receivers.
    pub fn new(
        db: Db,
        master: Arc<MasterKey>,
        trust: &WebhookTrust,
    ) -> Result<Self, DelivererError> {
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(trust.client_config()?)
            .timeout(SEND_TIMEOUT)
            // A redirect would send the signed event somewhere the subscriber did not name.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            db,
            master,
            client,
            replica: crypto::random_id("replica")?,
        })
    }

    /// Sends every message due at `now` (one per subscription: the oldest undelivered);
    /// returns how many were delivered. Failures are recorded on their messages.
    pub async fn deliver_due(&self, now: i64) -> Result<usize, StorageError> {
        let leased = self
            .db
            .lease_webhooks(&self.replica, now, now + LEASE_SECONDS, BATCH)
            .await?;
        let mut delivered = 0;
        for m in leased {
            match self.send(&m, now).await {
                Ok(()) => {
                    if self
                        .db
                        .webhook_attempted(&self.replica, &m.id, now, None)
                        .await?
                    {
                        delivered += 1;
                    }
                }
                Err(error) => {
                    let mut jitter = [0u8; 1];
                    crypto::random_bytes(&mut jitter).map_err(StorageError::from)?;
                    let retry_at = next_attempt(now, m.attempts + 1, f64::from(jitter[0]) / 256.0);
                    tracing::warn!(message = %m.id, attempts = m.attempts + 1, %error, "webhook not delivered");
                    self.db
                        .webhook_attempted(&self.replica, &m.id, now, Some((&error, retry_at)))
                        .await?;
                }
            }
        }
        Ok(delivered)
    }

    /// One attempt; the error says why it failed, without the secret.
    async fn send(&self, m: &LeasedMessage, now: i64) -> Result<(), String> {
        let secret = self
            .master
            .open(&m.subscription_id, &m.secret)
            .map_err(|_| "the subscription's secret does not open".to_owned())?;
        let answer = self
            .client
            .post(&m.url)
            .header("content-type", "application/json")
            .header("webhook-id", &m.id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature(&secret, &m.id, now, &m.body))
            .body(m.body.clone())
            .send()
            .await
            .map_err(|e| format!("sending: {}", with_causes(&e)))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", answer.status()))
        }
    }
}

/// An error and its causes, outermost first: reqwest's own message names only the URL, its
/// causes say why (an untrusted certificate, a refused connection).
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let next = c.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = c.source();
    }
    text
}

/// Delivers the webhook outbox every `every` until the process ends.
pub async fn run(deliverer: Deliverer, clock: Clock, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(e) = deliverer.deliver_due(clock.now()).await {
            tracing::warn!(error = %e, "webhook delivery failed");
        }
    }
}
