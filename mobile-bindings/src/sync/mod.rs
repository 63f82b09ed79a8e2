//! The sync client: fetches the bundle (with `If-None-Match`) and uploads the outbox in
//! batches, over the transport the app gives (`HttpTransport`: the platform's HTTP stack on a
//! phone, `RustTransport` in tests and on a desktop).
//!
//! Calls block the calling thread: apps call them from a background thread (Kotlin
//! `Dispatchers.IO`, Swift a detached task). Upload resumes where it stopped: an item leaves
//! the outbox only after the server acknowledged its batch, and the server is idempotent on
//! item ids, so a batch repeated after a crash or a lost response never counts twice.

#[cfg(feature = "rust-http")]
mod http;
mod origin;
pub mod transport;
pub mod wire;

use std::sync::Arc;

#[cfg(feature = "rust-http")]
pub use http::RustTransport;
use origin::Origin;
use transport::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, SharedTransport, TransportError,
};

use crate::device::{self, DeviceSigner};
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

/// The result of enrolling the device's key.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum Enrolment {
    /// The server holds this key for the device token (now, or already from an earlier
    /// enrolment with the same key). Open the outbox with `Outbox.open_signed` from now on.
    Enrolled {
        /// The key's id, as the permit's history shows it.
        device_key_id: String,
    },
    /// Another key is already bound to this device token, or this key to another token. Only
    /// the server's admin can clear a binding; until then the device cannot report.
    Conflict {
        /// The server's explanation.
        reason: String,
    },
    /// No connection, a timeout, or a TLS failure. Retry later.
    Offline {
        /// What failed, for support.
        reason: String,
    },
    /// The server refused the device token (revoked, expired, or not an officer's).
    AuthFailed,
    /// The server answered with an unexpected status (a 4xx other than a conflict is a
    /// signer that is not ECDSA P-256 or an SDK and server that disagree).
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
    origin: Origin,
    transport: SharedTransport,
    timeout_millis: u64,
    token: String,
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncClient")
            .field("base", &self.origin.to_string())
            .field("timeout_millis", &self.timeout_millis)
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

impl SyncClient {
    fn header(name: &str, value: &str) -> HttpHeader {
        HttpHeader {
            name: name.to_string(),
            value: value.to_string(),
        }
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token)
    }

    /// Sends through the transport and checks what came back. An `Offline` failure is tried
    /// once more (a pooled connection the server closed while idle often fails this way);
    /// repeating is safe because the bundle fetch changes nothing and uploads are idempotent
    /// on item ids. A timeout or a TLS failure is not repeated: the first spent the whole
    /// deadline, and the second would fail alike.
    fn exchange(&self, request: HttpRequest) -> Result<HttpResponse, Failure> {
        let max = request.max_response_bytes;
        let first = self.transport.send(request.clone(), self.auth());
        let response = match first {
            Err(TransportError::Offline { .. }) => self.transport.send(request, self.auth()),
            other => other,
        }
        .map_err(|e| Failure::Offline(e.to_string()))?;
        if !(200..=599).contains(&response.status) {
            return Err(Failure::Offline(format!(
                "the transport gave status {}, not a final answer",
                response.status
            )));
        }
        if response.body.len() as u64 > max {
            return Err(Failure::Offline(format!(
                "response larger than {max} bytes"
            )));
        }
        Ok(response)
    }

    fn request(
        &self,
        method: HttpMethod,
        route: &str,
        headers: Vec<HttpHeader>,
        body: Vec<u8>,
        max: u64,
    ) -> HttpRequest {
        HttpRequest {
            method,
            url: self.origin.url(route),
            headers,
            body,
            timeout_millis: self.timeout_millis,
            max_response_bytes: max,
        }
    }

    fn fetch_bundle(&self, etag: Option<&str>) -> Result<Option<Fetched>, Failure> {
        let mut headers = vec![SyncClient::header("Accept", "application/octet-stream")];
        if let Some(tag) = etag {
            headers.push(SyncClient::header("If-None-Match", tag));
        }
        let resp = self.exchange(self.request(
            HttpMethod::Get,
            wire::BUNDLE_PATH,
            headers,
            Vec::new(),
            MAX_BUNDLE,
        ))?;
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
        let headers = vec![
            SyncClient::header("Content-Type", "application/json"),
            SyncClient::header("Accept", "application/json"),
        ];
        let resp =
            self.exchange(self.request(HttpMethod::Post, path, headers, body, MAX_RESPONSE))?;
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
    /// A client for one server and device token, over `transport` (the platform's HTTP
    /// stack; the SDK's sources ship `HttpUrlConnectionTransport` for Android and
    /// `URLSessionTransport` for iOS). `base_url` is `https://…`; plain `http://` is accepted
    /// only for loopback hosts (a server on the same machine, in tests). Which certificates
    /// the server may present is the transport's setting (the platform's trust store, the
    /// app's network security configuration or pinned keys). `timeout_seconds` bounds each
    /// request; 0 means 30. The token is a separate argument, not a record field, so that no
    /// generated `toString`/`description` can print it.
    #[uniffi::constructor]
    pub fn new(
        base_url: String,
        device_token: String,
        timeout_seconds: u32,
        transport: Arc<dyn transport::HttpTransport>,
    ) -> Result<Arc<SyncClient>, SdkFailure> {
        let origin =
            Origin::parse(&base_url).map_err(|why| SdkFailure::invalid("base_url", why))?;
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
        Ok(Arc::new(SyncClient {
            origin,
            transport,
            timeout_millis: u64::from(timeout) * 1000,
            token: device_token,
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

    /// Binds the device's public key to this device token on the server (FORMAT.md §10.4):
    /// sends the key and a signature over it, made by `signer`, so the server knows the device
    /// holds the private key. The first binding of a token wins; enrolling again with the same
    /// key is answered `Enrolled` again. Call it once after the app generated its key, before
    /// recording with `Outbox.open_signed`. Only a signer failure is an error (`Signing`).
    pub fn enrol_device(&self, signer: Arc<dyn DeviceSigner>) -> Result<Enrolment, SdkFailure> {
        let request = device::enrolment(signer.as_ref())?;
        let hex = |b: &[u8]| -> String { b.iter().map(|x| format!("{x:02x}")).collect() };
        let body = serde_json::to_vec(&wire::EnrolmentBody {
            public_key: hex(&request.public_key),
            proof: hex(&request.proof),
        })
        .map_err(|e| SdkFailure::invalid("public_key", e.to_string()))?;
        let headers = vec![
            SyncClient::header("Content-Type", "application/json"),
            SyncClient::header("Accept", "application/json"),
        ];
        let resp = match self.exchange(self.request(
            HttpMethod::Post,
            wire::DEVICE_KEY_PATH,
            headers,
            body,
            MAX_RESPONSE,
        )) {
            Ok(resp) => resp,
            Err(Failure::Offline(reason)) => return Ok(Enrolment::Offline { reason }),
            Err(Failure::Auth) => return Ok(Enrolment::AuthFailed),
            Err(Failure::Status(status) | Failure::Refused(status, _)) => {
                return Ok(Enrolment::ServerError { status });
            }
        };
        let expected = request.key_id.to_string();
        Ok(match resp.status {
            200 | 201 => match serde_json::from_slice::<wire::EnrolmentAnswer>(&resp.body) {
                Ok(a) if a.device_key_id == expected => Enrolment::Enrolled {
                    device_key_id: expected,
                },
                _ => Enrolment::ServerError {
                    status: resp.status,
                },
            },
            401 | 403 => Enrolment::AuthFailed,
            409 => Enrolment::Conflict {
                reason: String::from_utf8_lossy(&resp.body)
                    .chars()
                    .take(MAX_ANSWER)
                    .collect(),
            },
            status => Enrolment::ServerError { status },
        })
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
