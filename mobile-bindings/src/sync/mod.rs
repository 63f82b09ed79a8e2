//! The sync client: fetches the bundle (with `If-None-Match`) and uploads the outbox in
//! batches. One HTTP implementation (HTTP/1.1 over rustls, `http.rs`) for both platforms.
//!
//! Calls block the calling thread: apps call them from a background thread (Kotlin
//! `Dispatchers.IO`, Swift a detached task). Upload resumes where it stopped: an item leaves
//! the outbox only after the server acknowledged its batch, and the server is idempotent on
//! item ids, so a batch repeated after a crash or a lost response never counts twice.

mod http;
mod wire;

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

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
    http: http::Http,
    token: String,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("base", &self.http.origin().to_string())
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

/// A client for `base_url` with the given trust anchors (`None`: the public web roots).
fn client(
    base_url: &str,
    device_token: String,
    timeout_seconds: u32,
    pinned: Option<Vec<CertificateDer<'static>>>,
) -> Result<Arc<SyncClient>, SdkFailure> {
    let origin =
        http::Origin::parse(base_url).map_err(|why| SdkFailure::invalid("base_url", why))?;
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
    let tls = http::tls_config(pinned)
        .map_err(|why| SdkFailure::invalid("certificate_authorities", why))?;
    let http = http::Http::new(origin, tls, Duration::from_secs(u64::from(timeout)))
        .map_err(|why| SdkFailure::invalid("base_url", why))?;
    Ok(Arc::new(SyncClient {
        http,
        token: device_token,
    }))
}

impl SyncClient {
    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    fn fetch_bundle(&self, etag: Option<&str>) -> Result<Option<Fetched>, Failure> {
        let auth = self.auth();
        let mut headers = vec![
            ("Authorization", auth.as_str()),
            ("Accept", "application/octet-stream"),
        ];
        if let Some(tag) = etag {
            headers.push(("If-None-Match", tag));
        }
        let resp = self
            .http
            .send(&http::Request {
                method: "GET",
                path: wire::BUNDLE_PATH,
                headers: &headers,
                body: None,
                max_body: MAX_BUNDLE,
            })
            .map_err(|e| Failure::Offline(e.to_string()))?;
        match resp.status {
            200 => Ok(Some(Fetched {
                etag: resp.header("etag").map(str::to_string),
                body: resp.body,
            })),
            304 => Ok(None),
            401 | 403 => Err(Failure::Auth),
            s => Err(Failure::Status(s)),
        }
    }

    /// Posts one batch of same-kind items; `Ok` means the server stored every one of them
    /// (new or already there) and gives the number of alerts raised.
    fn post_batch(&self, batch: &[StoredItem]) -> Result<u64, Failure> {
        let (path, body) = wire::batch_body(batch).map_err(|e| Failure::Offline(e.to_string()))?;
        let auth = self.auth();
        let resp = self
            .http
            .send(&http::Request {
                method: "POST",
                path,
                headers: &[("Authorization", auth.as_str())],
                body: Some(("application/json", &body)),
                max_body: MAX_RESPONSE,
            })
            .map_err(|e| Failure::Offline(e.to_string()))?;
        let (status, text) = (resp.status, resp.body);
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
    /// is accepted only for loopback hosts (a server on the same machine, in tests). The
    /// server's certificate must chain to a public web root (Mozilla's list, built in).
    /// `timeout_seconds` bounds each request; 0 means 30. The token is a separate argument,
    /// not a record field, so that no generated `toString`/`description` can print it.
    #[uniffi::constructor]
    pub fn new(
        base_url: String,
        device_token: String,
        timeout_seconds: u32,
    ) -> Result<Arc<SyncClient>, SdkFailure> {
        client(&base_url, device_token, timeout_seconds, None)
    }

    /// As `new`, but the server's certificate must chain to one of `certificate_authorities`
    /// (DER-encoded X.509 CA certificates) instead of the public web roots: for a Management
    /// Authority whose server uses a national or private CA, or to pin the deployment's CA.
    #[uniffi::constructor]
    pub fn with_certificate_authorities(
        base_url: String,
        device_token: String,
        timeout_seconds: u32,
        certificate_authorities: Vec<Vec<u8>>,
    ) -> Result<Arc<SyncClient>, SdkFailure> {
        if certificate_authorities.is_empty() {
            return Err(SdkFailure::invalid(
                "certificate_authorities",
                "give at least one CA certificate",
            ));
        }
        let pinned = certificate_authorities
            .into_iter()
            .map(CertificateDer::from)
            .collect();
        client(&base_url, device_token, timeout_seconds, Some(pinned))
    }

    /// Fetches the bundle unless the server's matches `etag`, verifies it and loads it into
    /// `verifier`. A bundle the verifier refuses is an error (`BadBundle`, `NotTrusted`) and
    /// changes nothing.
    pub fn sync_bundle(
        &self,
        verifier: Arc<Verifier>,
        etag: Option<String>,
    ) -> Result<BundleSync, SdkFailure> {
        if let Some(tag) = &etag
            && !tag.bytes().all(|c| c == b' ' || c.is_ascii_graphic())
        {
            return Err(SdkFailure::invalid(
                "etag",
                "must be printable ASCII, as the server sent it",
            ));
        }
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
