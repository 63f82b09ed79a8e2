//! The scan outbox: a durable on-device queue of scan reports and export endorsements that
//! waits for a connection.
//!
//! Append-only frame files in the directory the app gives: `items.log` (every item
//! enqueued), `acks.log` (ids the server has acknowledged) and `rejected.log` (items the
//! server refused as invalid, with its answer, kept for support instead of blocking the queue). `enqueue_*` returns only once
//! the item is written and synced (file, and directory when the file is new), so an item whose
//! id the app received survives a crash or kill at any later point. An item leaves the queue
//! only when its id is in `acks.log`, which is written only after the server acknowledged the
//! batch. When everything is acknowledged (or acks pile up) the files are compacted. Ids are
//! random UUIDs made here; the server is idempotent on them, so an upload repeated after a
//! crash never counts twice.
//!
//! A `lock` file held with an exclusive lock keeps a second `Outbox` (in this or another
//! process) off the same directory.

mod frames;
pub mod report;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use verifier_core::device::{DeviceSignature, endorsement_message, scan_message};

use crate::device::{BoundSigner, DeviceSigner};
use crate::error::SdkFailure;
use crate::records::VerdictKind;
use frames::FrameFile;

pub use frames::{Tail, decode_all, encode};

/// Acknowledged ids kept before the item file is rewritten without them.
const COMPACT_AFTER_ACKS: usize = 256;

/// Where a scan happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, uniffi::Enum)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    /// A UN/LOCODE such as `KEMBA` (Mombasa).
    Locode {
        /// Five characters: country code and location code.
        code: String,
    },
    /// WGS 84 coordinates, degrees.
    Coordinates {
        /// −90 to 90.
        latitude: f64,
        /// −180 to 180.
        longitude: f64,
    },
}

/// A scan the officer made, to be reported to the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, uniffi::Record)]
pub struct ScanReport {
    /// The QR text as scanned (`PS1:…`): the server identifies the permit from it.
    pub qr_text: String,
    /// When, Unix seconds.
    pub scanned_at: i64,
    /// Where.
    pub place: Place,
    /// The verdict the officer saw.
    pub verdict: VerdictKind,
    /// The device's id (up to 64 characters).
    pub device_id: String,
    /// The officer, when the app knows who is signed in (up to 100 characters).
    pub officer_id: Option<String>,
}

/// The quantity actually exported under one block of the permit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct EndorsedLine {
    /// Block letter, `A`–`Z`.
    pub block: String,
    /// Exact positive decimal in the permit's unit for that block, e.g. `12.5`.
    pub quantity: String,
}

/// The export endorsement (box 14) an officer records when the shipment leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct ExportEndorsement {
    /// The QR text of the permit endorsed (`PS1:…`).
    pub qr_text: String,
    /// Quantity actually exported per block; blocks not listed were not exported.
    pub lines: Vec<EndorsedLine>,
    /// Port of export, UN/LOCODE.
    pub port: String,
    /// Bill of lading or air waybill number (up to 70 characters).
    pub transport_document: Option<String>,
    /// When, Unix seconds.
    pub endorsed_at: i64,
    /// The device's id (up to 64 characters).
    pub device_id: String,
    /// The officer endorsing (up to 100 characters).
    pub officer_id: Option<String>,
}

/// What an item is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Payload {
    /// A scan report.
    Scan(ScanReport),
    /// An export endorsement.
    Endorsement(ExportEndorsement),
}

/// The kind of a queued item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OutboxItemKind {
    /// A scan report.
    ScanReport,
    /// An export endorsement.
    ExportEndorsement,
}

/// An item as stored: its id, when it was queued, and what it says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredItem {
    /// Random UUID (version 4), the server's idempotency key.
    pub id: String,
    /// Device time it was queued, Unix seconds.
    pub queued_at: i64,
    /// The report or endorsement.
    pub payload: Payload,
    /// The device's signature over it, made when it was recorded (absent in an outbox opened
    /// without a signer, and in items written before signing existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<StoredSignature>,
}

/// A device signature as stored and sent: the wire form of FORMAT.md §10.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSignature {
    /// The signing key's id, 32 hex digits.
    pub device_key_id: String,
    /// `r ‖ s`, 128 hex digits, low `s`.
    pub signature: String,
}

impl From<DeviceSignature> for StoredSignature {
    fn from(s: DeviceSignature) -> StoredSignature {
        StoredSignature {
            device_key_id: s.key_id.to_string(),
            signature: s.signature_hex(),
        }
    }
}

/// A queued item as the app lists it.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PendingItem {
    /// Its id.
    pub id: String,
    /// Scan report or endorsement.
    pub kind: OutboxItemKind,
    /// Device time it was queued, Unix seconds.
    pub queued_at: i64,
    /// The id of the device key that signed it; absent when it is unsigned.
    pub device_key_id: Option<String>,
}

/// How much is waiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct OutboxStats {
    /// Items not yet acknowledged by the server.
    pub pending: u64,
    /// When the oldest of them was queued, Unix seconds.
    pub oldest_queued_at: Option<i64>,
    /// Items the server refused as invalid, kept in `rejected.log` for support.
    pub rejected: u64,
}

/// An item the server refused, as kept in `rejected.log`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectedItem {
    /// The item.
    pub item: StoredItem,
    /// The HTTP status of the refusal.
    pub status: u16,
    /// The server's explanation (its JSON error, cut to 1 KB).
    pub answer: String,
}

/// The durable on-device queue. Thread-safe; one per directory.
#[derive(Debug, uniffi::Object)]
pub struct Outbox {
    inner: Mutex<Inner>,
    /// Signs every item at record time, when the outbox was opened with a signer.
    signer: Option<BoundSigner>,
}

#[derive(Debug)]
struct Inner {
    items: FrameFile,
    acks: FrameFile,
    rejected: FrameFile,
    rejected_count: u64,
    pending: Vec<StoredItem>,
    acked: HashSet<String>,
    /// Holds the directory's exclusive lock for as long as the outbox lives.
    _lock: File,
}

impl Outbox {
    // Every critical section leaves `Inner` consistent before any step that can fail, and
    // none can panic, so a poisoned lock's data is usable.
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn enqueue(
        &self,
        id: String,
        payload: Payload,
        queued_at: i64,
        signature: Option<DeviceSignature>,
    ) -> Result<String, SdkFailure> {
        let item = StoredItem {
            id,
            queued_at,
            payload,
            signature: signature.map(StoredSignature::from),
        };
        let bytes = serde_json::to_vec(&item).map_err(|e| SdkFailure::Storage {
            reason: format!("encode item: {e}"),
        })?;
        if bytes.len() > frames::MAX_PAYLOAD {
            return Err(SdkFailure::invalid("item", "too large"));
        }
        let mut inner = self.lock();
        inner
            .items
            .append(&[&bytes])
            .map_err(|e| SdkFailure::storage("append item", &e))?;
        let id = item.id.clone();
        inner.pending.push(item);
        Ok(id)
    }

    /// The oldest `limit` pending items, in queue order.
    pub fn peek(&self, limit: usize) -> Vec<StoredItem> {
        self.lock().pending.iter().take(limit).cloned().collect()
    }

    /// Moves an item the server refused as invalid out of the queue into `rejected.log`. The
    /// record there is durable before the item leaves the queue.
    pub fn reject(&self, item: RejectedItem) -> Result<(), SdkFailure> {
        let bytes = serde_json::to_vec(&item).map_err(|e| SdkFailure::Storage {
            reason: format!("encode rejected item: {e}"),
        })?;
        {
            let mut inner = self.lock();
            inner
                .rejected
                .append(&[&bytes])
                .map_err(|e| SdkFailure::storage("append rejected item", &e))?;
            inner.rejected_count += 1;
        }
        self.ack(&[item.item.id])
    }

    /// Records that the server acknowledged these ids: they leave the queue durably. Unknown
    /// ids are ignored (an acknowledgement repeated after a restart).
    pub fn ack(&self, ids: &[String]) -> Result<(), SdkFailure> {
        let mut inner = self.lock();
        let known: Vec<&String> = ids
            .iter()
            .filter(|id| inner.pending.iter().any(|p| &p.id == *id))
            .collect();
        if known.is_empty() {
            return Ok(());
        }
        let frames: Vec<&[u8]> = known.iter().map(|id| id.as_bytes()).collect();
        inner
            .acks
            .append(&frames)
            .map_err(|e| SdkFailure::storage("append ack", &e))?;
        let done: HashSet<String> = known.into_iter().cloned().collect();
        inner.pending.retain(|p| !done.contains(&p.id));
        inner.acked.extend(done);
        inner
            .compact_if_due()
            .map_err(|e| SdkFailure::storage("compact", &e))
    }
}

impl Inner {
    /// Drops acknowledged items from the files. Each step leaves a state that reads back
    /// the same pending items: the item file is rewritten (or emptied) first; acks of items
    /// no longer present are ignored on open, so clearing the ack file last is safe.
    fn compact_if_due(&mut self) -> std::io::Result<()> {
        if self.acked.is_empty() {
            return Ok(());
        }
        if self.pending.is_empty() {
            self.items.clear()?;
        } else if self.acked.len() >= COMPACT_AFTER_ACKS {
            let encoded: Vec<Vec<u8>> = self
                .pending
                .iter()
                .filter_map(|p| serde_json::to_vec(p).ok())
                .collect();
            if encoded.len() != self.pending.len() {
                // Cannot happen (these items were encoded once already); never drop one.
                return Ok(());
            }
            let refs: Vec<&[u8]> = encoded.iter().map(Vec::as_slice).collect();
            self.items.replace(&refs)?;
        } else {
            return Ok(());
        }
        self.acks.clear()?;
        self.acked.clear();
        Ok(())
    }
}

#[uniffi::export]
impl Outbox {
    /// Opens (creating if needed) the queue in `directory`, an app-private directory that
    /// survives app updates. Recovers from a crash: a record cut short is dropped (it was never
    /// acknowledged to the caller).
    #[uniffi::constructor]
    pub fn open(directory: String) -> Result<Arc<Outbox>, SdkFailure> {
        Outbox::open_with(directory, None)
    }

    /// Opens the queue as `open` does, signing every scan report and endorsement enqueued
    /// from now on with the device key (`signer`, over the platform's key store) before it is
    /// written: the signature is stored with the item, survives restarts and is uploaded with
    /// it. Use this once the device's key is enrolled (`SyncClient.enrol_device`): the server
    /// then refuses unsigned reports from this device, so items queued unsigned before
    /// enrolment end in `rejected.log`.
    #[uniffi::constructor]
    pub fn open_signed(
        directory: String,
        signer: Arc<dyn DeviceSigner>,
    ) -> Result<Arc<Outbox>, SdkFailure> {
        let signer = BoundSigner::new(signer)?;
        Outbox::open_with(directory, Some(signer))
    }

    /// The id of the key that signs this outbox's items, if it signs.
    pub fn device_key_id(&self) -> Option<String> {
        self.signer.as_ref().map(|s| s.key_id().to_string())
    }
}

impl Outbox {
    fn open_with(
        directory: String,
        signer: Option<BoundSigner>,
    ) -> Result<Arc<Outbox>, SdkFailure> {
        let dir = PathBuf::from(&directory);
        std::fs::create_dir_all(&dir).map_err(|e| SdkFailure::storage("create directory", &e))?;
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("lock"))
            .map_err(|e| SdkFailure::storage("open lock file", &e))?;
        lock.try_lock().map_err(|e| SdkFailure::Storage {
            reason: format!("outbox directory is in use by another instance: {e}"),
        })?;
        let (items, item_frames) = FrameFile::open(&dir.join("items.log"))
            .map_err(|e| SdkFailure::storage("open items.log", &e))?;
        let (acks, ack_frames) = FrameFile::open(&dir.join("acks.log"))
            .map_err(|e| SdkFailure::storage("open acks.log", &e))?;
        let (rejected, rejected_frames) = FrameFile::open(&dir.join("rejected.log"))
            .map_err(|e| SdkFailure::storage("open rejected.log", &e))?;
        let acked: HashSet<String> = ack_frames
            .into_iter()
            .filter_map(|b| String::from_utf8(b).ok())
            .collect();
        let mut pending = Vec::new();
        let mut seen = HashSet::new();
        for frame in item_frames {
            let item: StoredItem =
                serde_json::from_slice(&frame).map_err(|e| SdkFailure::Storage {
                    reason: format!("items.log holds an unreadable record: {e}"),
                })?;
            if !acked.contains(&item.id) && seen.insert(item.id.clone()) {
                pending.push(item);
            }
        }
        let mut inner = Inner {
            items,
            acks,
            rejected,
            rejected_count: rejected_frames.len() as u64,
            pending,
            acked,
            _lock: lock,
        };
        inner
            .compact_if_due()
            .map_err(|e| SdkFailure::storage("compact", &e))?;
        Ok(Arc::new(Outbox {
            inner: Mutex::new(inner),
            signer,
        }))
    }
}

#[uniffi::export]
impl Outbox {
    /// Queues a scan report durably and returns its id. The report carries its own time,
    /// which is also its queue time. A report the server would refuse is refused here
    /// (`InvalidInput`, naming the field), checked by the same rules against the device clock:
    /// among them, a time more than 24 hours ahead of the clock or before 2000. An outbox
    /// opened with a signer signs the report before writing it (`Signing` if it cannot: then
    /// nothing is queued).
    pub fn enqueue_scan(&self, report: ScanReport) -> Result<String, SdkFailure> {
        let id = new_id()?;
        let checked = report::check_scan(&id, &report, crate::clock::now())?;
        let signature = self
            .signer
            .as_ref()
            .map(|s| s.sign(scan_message(&checked, &s.key_id())))
            .transpose()?;
        let at = report.scanned_at;
        self.enqueue(id, Payload::Scan(report), at, signature)
    }

    /// Queues an export endorsement durably and returns its id, refusing what the server
    /// would refuse as `enqueue_scan` does, and signed as `enqueue_scan` is. Quantities are stored in their normalised form
    /// (`12.50` → `12.5`).
    pub fn enqueue_endorsement(
        &self,
        endorsement: ExportEndorsement,
    ) -> Result<String, SdkFailure> {
        let id = new_id()?;
        let (endorsement, checked) =
            report::check_endorsement(&id, endorsement, crate::clock::now())?;
        let signature = self
            .signer
            .as_ref()
            .map(|s| s.sign(endorsement_message(&checked, &s.key_id())))
            .transpose()?;
        let at = endorsement.endorsed_at;
        self.enqueue(id, Payload::Endorsement(endorsement), at, signature)
    }

    /// How many items wait and since when.
    pub fn stats(&self) -> OutboxStats {
        let inner = self.lock();
        OutboxStats {
            pending: inner.pending.len() as u64,
            oldest_queued_at: inner.pending.iter().map(|p| p.queued_at).min(),
            rejected: inner.rejected_count,
        }
    }

    /// Items not yet acknowledged by the server.
    pub fn pending_count(&self) -> u64 {
        self.lock().pending.len() as u64
    }

    /// Seconds since the oldest pending item was queued; absent when the queue is empty.
    pub fn oldest_pending_age_seconds(&self, now: i64) -> Option<i64> {
        self.stats().oldest_queued_at.map(|t| now.saturating_sub(t))
    }

    /// The first `limit` pending items, oldest first.
    pub fn list_pending(&self, limit: u32) -> Vec<PendingItem> {
        self.peek(limit as usize)
            .into_iter()
            .map(|i| PendingItem {
                kind: match i.payload {
                    Payload::Scan(_) => OutboxItemKind::ScanReport,
                    Payload::Endorsement(_) => OutboxItemKind::ExportEndorsement,
                },
                id: i.id,
                queued_at: i.queued_at,
                device_key_id: i.signature.map(|s| s.device_key_id),
            })
            .collect()
    }
}

/// A random version-4 UUID in its usual lower-case text form.
fn new_id() -> Result<String, SdkFailure> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| SdkFailure::Storage {
        reason: format!("no system randomness for an id: {e}"),
    })?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    // `h` is 32 ASCII hex digits, so these ranges are in bounds.
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}
