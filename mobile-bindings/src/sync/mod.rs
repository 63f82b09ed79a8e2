//! The sync client: fetches the bundle (with `If-None-Match`) and uploads the outbox in
//! batches. One HTTP implementation (ureq over rustls) for both platforms.
//!
//! Calls block the calling thread: apps call them from a background thread (Kotlin
//! `Dispatchers.IO`, Swift a detached task). Upload resumes where it stopped: an item leaves
//! the outbox only after the server acknowledged its batch, and the server is idempotent on
//! item ids, so a batch repeated after a crash or a lost response never counts twice.

mod wire;

use std::sync::Arc;
use std::time::Duration;

use crate::error::SdkFailure;
use crate::outbox::{Outbox, Payload, RejectedItem, StoredItem};
use crate::verifier::{BundleLoad, Verifier};

/// Largest bundle accepted from the server.
const MAX_BUNDLE: u64 = 64 << 20;
/// Largest upload response read.
const MAX_RESPONSE: u64 = 1 << 20;
/// Default and largest batch size.
const DEFAULT_BATCH: u32 = 100;
const MAX_BATCH: u32 = 500;

/// The result of a bundle fetch.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum BundleSync {
    /// The server has nothing newer than the ETag given.
    UpToDate,
    /// A new bundle was downloaded, verified and given to the verifier. Store `bundle` and
    /// `etag` (replacing the old ones atomically) to load on the next start.
    Updated {
        /// The bundle bytes as served.
        bundle: Vec<u8>,
        /// The ETag to send next time.
        etag: Option<String>,
        /// Its newest signed time.
        newest_signed_time: i64,
        /// Whether the verifier now uses it (or kept a newer one).
        load: BundleLoad,
    },
    /// No connection, a timeout, or a TLS failure (a captive portal looks like this). Retry
    /// later; verification goes on with the bundle in use.
    Offline {
        /// What failed, for support.
        reason: String,
    },
    /// The server refused the device token (revoked or expired). Enrol the device again.
    AuthFailed,
    /// The server answered with an unexpected status. Retry later; report if it persists.
    ServerError {
        /// The HTTP status.
        status: u16,
    },
}

/// How an upload ended.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum UploadOutcome {
    /// The outbox is empty.
    Done,
    /// The connection failed part-way; what is left stays queued. Retry later.
    Offline {
        /// What failed, for support.
        reason: String,
    },
    /// The server refused the device token (revoked, expired, or not an officer's). Enrol the
    /// device again; nothing is lost.
    AuthFailed,
    /// The server answered with an unexpected status; what is left stays queued. Retry later.
    ServerError {
        /// The HTTP status.
        status: u16,
    },
}

/// The result of an upload.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct UploadReport {
    /// How it ended.
    pub outcome: UploadOutcome,
    /// Items the server acknowledged in this call; they have left the outbox.
    pub uploaded: u64,
    /// Items the server refused as invalid in this call; they moved to the outbox's
    /// `rejected.log` (see `OutboxStats.rejected`) so they no longer block the queue.
    pub rejected: u64,
    /// Alerts the server raised on this upload (re-use, quantity exceeded…).
    pub alerts: u64,
}

/// Talks to the permitseal server.
#[derive(uniffi::Object)]
pub struct SyncClient {
    base: String,
    token: String,
    agent: ureq::Agent,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// A bundle as served.
struct Fetched {
    body: Vec<u8>,
    etag: Option<String>,
}

/// A failed exchange, before it becomes a result.
enum Failure {
    Offline(String),
    Auth,
    Status(u16),
    /// The server refused the content (400, 413 or 422), with its answer.
    Refused(u16, String),
}

/// Largest part of a refusal kept with a rejected item.
const MAX_ANSWER: usize = 1024;

fn transport(e: &ureq::Error) -> Failure {
    Failure::Offline(e.to_string())
}

/// Checks the base URL: `https://host…`, or `http://` to a loopback host. Returns it
/// without a trailing slash.
fn check_base_url(url: &str) -> Result<String, SdkFailure> {
    let bad = |why: &str| SdkFailure::invalid("base_url", why);
    let trimmed = url.trim_end_matches('/');
    if let Some(rest) = trimmed.strip_prefix("https://") {
        if rest.is_empty() {
            return Err(bad("has no host"));
        }
        return Ok(trimmed.to_string());
    }
    let Some(rest) = trimmed.strip_prefix("http://") else {
        return Err(bad("must start with https://"));
    };
    let host = rest.split('/').next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    if matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        Ok(trimmed.to_string())
    } else {
        Err(bad("plain http is allowed only to a loopback host"))
    }
}

impl SyncClient {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn fetch_bundle(&self, etag: Option<&str>) -> Result<Option<Fetched>, Failure> {
        let mut req = self
            .agent
            .get(self.url(wire::BUNDLE_PATH))
            .header("Authorization", self.auth())
            .header("Accept", "application/octet-stream");
        if let Some(tag) = etag {
            req = req.header("If-None-Match", tag);
        }
        let mut resp = req.call().map_err(|e| transport(&e))?;
        match resp.status().as_u16() {
            200 => {
                let tag = resp
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body = resp
                    .body_mut()
                    .with_config()
                    .limit(MAX_BUNDLE)
                    .read_to_vec()
                    .map_err(|e| transport(&e))?;
                Ok(Some(Fetched { body, etag: tag }))
            }
            304 => Ok(None),
            401 | 403 => Err(Failure::Auth),
            s => Err(Failure::Status(s)),
        }
    }

    /// Posts one batch of same-kind items; `Ok` means the server stored every one of them
    /// (new or already there) and gives the number of alerts raised.
    fn post_batch(&self, batch: &[StoredItem]) -> Result<u64, Failure> {
        let (path, body) = wire::batch_body(batch).map_err(|e| Failure::Offline(e.to_string()))?;
        let mut resp = self
            .agent
            .post(self.url(path))
            .header("Authorization", self.auth())
            .header("Content-Type", "application/json")
            .send(&body[..])
            .map_err(|e| transport(&e))?;
        let status = resp.status().as_u16();
        let text = resp
            .body_mut()
            .with_config()
            .limit(MAX_RESPONSE)
            .read_to_vec()
            .map_err(|e| transport(&e))?;
        match status {
            200 => {
                let answer: wire::UploadAnswer =
                    serde_json::from_slice(&text).map_err(|_| Failure::Status(status))?;
                // The server answers for the whole batch or not at all.
                if answer.accepted.checked_add(answer.duplicates) != Some(batch.len() as u64) {
                    return Err(Failure::Status(status));
                }
                Ok(answer.alerts.len() as u64)
            }
            401 | 403 => Err(Failure::Auth),
            400 | 413 | 422 => {
                let mut answer = String::from_utf8_lossy(&text).into_owned();
                if answer.len() > MAX_ANSWER {
                    let cut = (0..=MAX_ANSWER)
                        .rev()
                        .find(|&i| answer.is_char_boundary(i))
                        .unwrap_or(0);
                    answer.truncate(cut);
                }
                Err(Failure::Refused(status, answer))
            }
            s => Err(Failure::Status(s)),
        }
    }

    /// Sends `batch`; on a content refusal, sends its items one by one so that only the
    /// items the server refuses are set aside. Updates `report`; `Err` ends the upload.
    fn send(
        &self,
        outbox: &Outbox,
        batch: &[StoredItem],
        report: &mut UploadReport,
    ) -> Result<(), Stop> {
        match self.post_batch(batch) {
            Ok(alerts) => {
                let ids: Vec<String> = batch.iter().map(|i| i.id.clone()).collect();
                outbox.ack(&ids).map_err(Stop::Storage)?;
                report.uploaded += ids.len() as u64;
                report.alerts += alerts;
                Ok(())
            }
            Err(Failure::Refused(status, answer)) => match batch {
                [item] => {
                    outbox
                        .reject(RejectedItem {
                            item: item.clone(),
                            status,
                            answer,
                        })
                        .map_err(Stop::Storage)?;
                    report.rejected += 1;
                    Ok(())
                }
                items => {
                    for item in items {
                        self.send(outbox, std::slice::from_ref(item), report)?;
                    }
                    Ok(())
                }
            },
            Err(Failure::Offline(reason)) => Err(Stop::Outcome(UploadOutcome::Offline { reason })),
            Err(Failure::Auth) => Err(Stop::Outcome(UploadOutcome::AuthFailed)),
            Err(Failure::Status(status)) => {
                Err(Stop::Outcome(UploadOutcome::ServerError { status }))
            }
        }
    }
}

/// Why an upload stopped early.
enum Stop {
    /// A network or server condition, reported as the upload's outcome.
    Outcome(UploadOutcome),
    /// The outbox could not record an acknowledgement or a refusal. What the server stored
    /// but the outbox could not mark is sent again later and counted once by the server.
    Storage(SdkFailure),
}

#[uniffi::export]
impl SyncClient {
    /// A client for one server and device token. `base_url` is `https://…`; plain `http://`
    /// is accepted only for loopback hosts (a server on the same machine, in tests).
    /// `timeout_seconds` bounds each request; 0 means 30. The token is a separate argument,
    /// not a record field, so that no generated `toString`/`description` can print it.
    #[uniffi::constructor]
    pub fn new(
        base_url: String,
        device_token: String,
        timeout_seconds: u32,
    ) -> Result<Arc<SyncClient>, SdkFailure> {
        let base = check_base_url(&base_url)?;
        if device_token.is_empty() || !device_token.bytes().all(|c| c.is_ascii_graphic()) {
            return Err(SdkFailure::invalid(
                "device_token",
                "must be non-empty printable ASCII",
            ));
        }
        let timeout = match timeout_seconds {
            0 => 30,
            t => t,
        };
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(u64::from(timeout))))
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .into();
        Ok(Arc::new(SyncClient {
            base,
            token: device_token,
            agent,
        }))
    }

    /// Fetches the bundle unless the server's matches `etag`, verifies it and loads it into
    /// `verifier`. A bundle the verifier refuses is an error (`BadBundle`, `NotTrusted`) and
    /// changes nothing.
    pub fn sync_bundle(
        &self,
        verifier: Arc<Verifier>,
        etag: Option<String>,
    ) -> Result<BundleSync, SdkFailure> {
        match self.fetch_bundle(etag.as_deref()) {
            Ok(None) => Ok(BundleSync::UpToDate),
            Ok(Some(Fetched { body: bundle, etag })) => {
                let load = verifier.load_bundle(bundle.clone())?;
                let newest_signed_time = verifier
                    .current_bundle()
                    .map(|b| b.newest_signed_time())
                    .unwrap_or_default();
                Ok(BundleSync::Updated {
                    bundle,
                    etag,
                    newest_signed_time,
                    load,
                })
            }
            Err(Failure::Offline(reason)) => Ok(BundleSync::Offline { reason }),
            Err(Failure::Auth) => Ok(BundleSync::AuthFailed),
            Err(Failure::Status(status) | Failure::Refused(status, _)) => {
                Ok(BundleSync::ServerError { status })
            }
        }
    }

    /// Uploads everything queued in `outbox`, `batch_size` items per request (0 means 100),
    /// oldest first. Stops at the first failure; what is left stays queued for the next call.
    /// Network and server conditions are the report's outcome; only a failure of the outbox's
    /// own storage is an error (`Storage`).
    pub fn upload(&self, outbox: Arc<Outbox>, batch_size: u32) -> Result<UploadReport, SdkFailure> {
        let size = match batch_size {
            0 => DEFAULT_BATCH,
            n => n.min(MAX_BATCH),
        } as usize;
        let mut report = UploadReport {
            outcome: UploadOutcome::Done,
            uploaded: 0,
            rejected: 0,
            alerts: 0,
        };
        loop {
            let window = outbox.peek(size);
            let Some(first) = window.first() else {
                return Ok(report);
            };
            // One request carries items of one kind: the run at the head of the queue.
            let same = |i: &StoredItem| {
                matches!(
                    (&i.payload, &first.payload),
                    (Payload::Scan(_), Payload::Scan(_))
                        | (Payload::Endorsement(_), Payload::Endorsement(_))
                )
            };
            let run = window.iter().take_while(|i| same(i)).count();
            let batch = window.get(..run).unwrap_or_default();
            match self.send(&outbox, batch, &mut report) {
                Ok(()) => {}
                Err(Stop::Outcome(outcome)) => {
                    report.outcome = outcome;
                    return Ok(report);
                }
                Err(Stop::Storage(e)) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        assert_eq!(
            check_base_url("https://permits.example.org/").unwrap(),
            "https://permits.example.org"
        );
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("http://localhost/api").is_ok());
        assert!(check_base_url("http://[::1]:9").is_ok());
        for bad in [
            "http://permits.example.org",
            "ftp://x",
            "https://",
            "permits.example.org",
            "http://127.0.0.1.evil.org",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }
}
