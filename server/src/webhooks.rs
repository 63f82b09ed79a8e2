//! Delivering the webhook outbox (`storage/webhooks.rs`) per the Standard Webhooks convention:
//! each message is POSTed as JSON with `webhook-id`, `webhook-timestamp` (the attempt's time)
//! and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` under the
//! subscription's secret. A 2xx answer delivers it; anything else is retried with exponential
//! back-off and jitter (`domain::webhooks::next_attempt`), for as long as it takes. Every
//! replica runs a deliverer; leases make one of them send each message, and a lease that
//! expires (a replica killed mid-delivery) lets another send it again: delivery is at least
//! once, and receivers dedupe by `webhook-id`. The schedule follows the injected clock.

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

/// Why a deliverer could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DelivererError {
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
    /// A deliverer with a random replica name, which its leases carry.
    pub fn new(db: Db, master: Arc<MasterKey>) -> Result<Self, DelivererError> {
        let client = reqwest::Client::builder()
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
            .map_err(|e| format!("sending: {e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", answer.status()))
        }
    }
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
