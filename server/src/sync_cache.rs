//! The signed lists devices download: the trust list (signed by the root key), each authority's
//! status list and deltas (signed by the authority's active key), and the offline bundle.
//!
//! Signing is deterministic: a list's content depends only on database versions, and its signing
//! time is `max(last change, start of the current hour, signing key's start)`. So every server
//! process produces the same bytes (and ETag) for the same versions within an hour, lists are
//! re-signed at least hourly to stay fresh on devices, and the in-process cache here is only a
//! cache: it is keyed by those versions and never decides anything.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use sha2::{Digest, Sha256};
use verifier_core::keys::{PublicKey, SecretKey};
use verifier_core::status::{PermitState, StatusDelta, StatusList, StatusSet};
use verifier_core::trust::{Authority, KeyStatus, TrustList, TrustedKey};

use crate::crypto::MasterKey;
use crate::model::{AuthorityId, InvalidValue};
use crate::storage::keys::KeyState;
use crate::storage::sync::Versions;
use crate::storage::{Db, StorageError};

/// How long a version check is reused before asking the database again.
const VERSION_TTL: Duration = Duration::from_millis(1000);
/// Lists are re-signed at least this often, so devices see fresh signing times.
const RESIGN_PERIOD: i64 = 3600;

/// Why a signed list could not be served.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The database failed, or holds something this code cannot read.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The authority id asked for is malformed.
    #[error(transparent)]
    Invalid(#[from] InvalidValue),
    /// The authority has no active signing key, so its status list cannot be signed.
    #[error("the authority has no active signing key, so it cannot sign a status list")]
    NoActiveKey,
    /// A delta was asked from a version the list has not reached.
    #[error("since={since} is ahead of the current version {current}")]
    VersionAhead {
        /// The version asked from.
        since: i64,
        /// The list's version.
        current: i64,
    },
    /// Stored data does not make a valid list (out of range, not a key, not a country).
    #[error("stored data does not make a valid list: {0}")]
    Corrupt(String),
}

/// Which status format a reader takes (FORMAT.md §5): readers that did not ask for format 2
/// are told a cancelled-on-import permit as used, the state they know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusFormat {
    /// Format 1 only (the default: every reader knows it).
    V1,
    /// Format 2 where a list or delta needs it, format 1 otherwise.
    V2,
}

/// Which bundle container a reader takes (FORMAT.md §6): 2 carries the transparency log's
/// signed tree head after the lists; readers that did not ask for it get container 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BundleContainer {
    /// `PSB1`: the trust list and status lists (the default: every reader knows it).
    V1,
    /// `PSB2`: the same, then the log's newest signed tree head.
    V2,
}

/// A signed object ready to serve.
#[derive(Debug, Clone)]
pub struct SignedBlob {
    /// The bytes.
    pub bytes: Bytes,
    /// Strong ETag (quoted).
    pub etag: String,
    /// Version of the list.
    pub version: i64,
    /// Signing time.
    pub issued_at: i64,
}

#[derive(Debug)]
struct TrustEntry {
    key: (i64, i64),
    blob: SignedBlob,
    list: TrustList,
}

/// An authority's cached status list: handed out shared, so a GET that hits the cache copies
/// neither the signed bytes' metadata nor the parsed list.
#[derive(Debug)]
pub struct StatusEntry {
    key: (i64, i64, String),
    /// The list as format 2 readers take it.
    blob: SignedBlob,
    /// The list as format 1 readers take it (the same bytes when it needs no format 2).
    blob_v1: SignedBlob,
    /// The same list, parsed.
    pub list: StatusList,
    /// Permits per state (wire order), to keep the default state right when applying changes.
    counts: [u64; STATES],
}

impl StatusEntry {
    /// The signed list in the format the reader takes.
    pub fn blob(&self, format: StatusFormat) -> &SignedBlob {
        match format {
            StatusFormat::V1 => &self.blob_v1,
            StatusFormat::V2 => &self.blob,
        }
    }
}

const STATES: usize = PermitState::ALL.len();

/// Signs a list for both kinds of reader.
fn signed_lists(list: &StatusList, signer: &SecretKey, version: i64) -> (SignedBlob, SignedBlob) {
    let blob = |bytes: Vec<u8>| SignedBlob {
        etag: etag(&[&bytes]),
        bytes: Bytes::from(bytes),
        version,
        issued_at: list.issued_at,
    };
    let current = blob(list.sign(signer));
    let v1 = if list.format() == verifier_core::status::STATUS_FORMAT {
        current.clone()
    } else {
        blob(list.in_format_1().sign(signer))
    };
    (current, v1)
}

/// The state a list leaves implicit: the most common one, ties to the lower wire value (as the
/// database snapshot chooses it, so both ways of building give the same bytes).
fn default_state(counts: &[u64; STATES]) -> PermitState {
    PermitState::ALL
        .iter()
        .copied()
        .max_by_key(|s| (counts[usize::from(s.wire())], std::cmp::Reverse(s.wire())))
        .unwrap_or(PermitState::Valid)
}

/// The cached bundle: the versions and re-signing period it was built for.
type BundleEntry = (Arc<Versions>, i64, Arc<SignedBlob>);

/// Per-process cache of signed lists, keyed by database versions.
#[derive(Debug)]
pub struct SyncCache {
    db: Db,
    master: Arc<MasterKey>,
    versions: Mutex<Option<(Instant, Arc<Versions>)>>,
    trust: Mutex<Option<Arc<TrustEntry>>>,
    status: Mutex<HashMap<String, Arc<StatusEntry>>>,
    bundle: Mutex<HashMap<(StatusFormat, BundleContainer), BundleEntry>>,
    /// Held while (re)building, one per kind of object (the bundle's builder takes the other
    /// two in turn, never the reverse): a burst of requests that miss the cache builds once
    /// instead of once per request.
    trust_build: tokio::sync::Mutex<()>,
    status_build: tokio::sync::Mutex<()>,
    bundle_build: tokio::sync::Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Entries are replaced whole; a panic elsewhere cannot leave one half-written.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Signing time of a list: never before its last change or its key's start, and at least the
/// start of the current re-signing period.
pub fn signing_time(changed_at: i64, key_from: i64, now: i64) -> i64 {
    changed_at
        .max(key_from)
        .max(now - now.rem_euclid(RESIGN_PERIOD))
}

fn etag(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    format!("\"{}\"", hex::encode(&h.finalize()[..12]))
}

fn to_u32(v: i64, what: &'static str) -> Result<u32, SyncError> {
    u32::try_from(v).map_err(|_| SyncError::Corrupt(format!("{what} out of range: {v}")))
}

fn to_u64(v: i64, what: &'static str) -> Result<u64, SyncError> {
    u64::try_from(v).map_err(|_| SyncError::Corrupt(format!("{what} out of range: {v}")))
}

impl SyncCache {
    /// An empty cache over the database and the key that opens the signing keys.
    pub fn new(db: Db, master: Arc<MasterKey>) -> Self {
        Self {
            db,
            master,
            versions: Mutex::default(),
            trust: Mutex::default(),
            status: Mutex::default(),
            bundle: Mutex::default(),
            trust_build: tokio::sync::Mutex::default(),
            status_build: tokio::sync::Mutex::default(),
            bundle_build: tokio::sync::Mutex::default(),
        }
    }

    async fn authority_signer(
        &self,
        authority: &str,
    ) -> Result<(crate::storage::keys::KeyRow, SecretKey), SyncError> {
        let id = AuthorityId::parse(authority)?;
        let (row, seed) = self
            .db
            .active_signer(&id, &self.master)
            .await
            .map_err(|e| match e {
                StorageError::State(_) => SyncError::NoActiveKey,
                other => other.into(),
            })?;
        Ok((row, SecretKey::from_seed(seed.expose())))
    }

    /// Version stamps, reused for up to a second.
    pub async fn versions(&self) -> Result<Arc<Versions>, SyncError> {
        if let Some((at, v)) = lock(&self.versions).as_ref()
            && at.elapsed() < VERSION_TTL
        {
            return Ok(v.clone());
        }
        let v = Arc::new(self.db.versions().await?);
        *lock(&self.versions) = Some((Instant::now(), v.clone()));
        Ok(v)
    }

    /// Forgets the version stamps (after this process changed something).
    pub fn invalidate(&self) {
        *lock(&self.versions) = None;
    }

    /// The signed trust list and its parsed form.
    pub async fn trust(&self, now: i64) -> Result<(SignedBlob, TrustList), SyncError> {
        let v = self.versions().await?;
        let wanted = (v.trust.0, signing_time(v.trust.1, 0, now));
        if let Some(e) = lock(&self.trust).as_ref()
            && e.key == wanted
        {
            return Ok((e.blob.clone(), e.list.clone()));
        }
        let _building = self.trust_build.lock().await;
        if let Some(e) = lock(&self.trust).as_ref()
            && e.key == wanted
        {
            return Ok((e.blob.clone(), e.list.clone()));
        }
        // Before each new list: retired keys whose permits have all lapsed leave it, so that
        // rotations do not grow every phone's bundle for ever (that bumps the version).
        if self.db.prune_retired_keys(now).await? > 0 {
            self.invalidate();
        }
        let snap = self.db.trust_snapshot().await?;
        let issued_at = signing_time(snap.changed_at, 0, now);
        let mut authorities = Vec::with_capacity(snap.authorities.len());
        for (a, keys) in &snap.authorities {
            let mut trusted = Vec::with_capacity(keys.len());
            for k in keys {
                let bytes: [u8; 32] = k.public_key.as_slice().try_into().map_err(|_| {
                    SyncError::Corrupt("a stored public key is not 32 bytes".into())
                })?;
                let key = PublicKey::from_bytes(&bytes)
                    .map_err(|_| SyncError::Corrupt("a stored public key is invalid".into()))?;
                let status = match (k.state(), k.compromised_since) {
                    (KeyState::Compromised, Some(since)) => KeyStatus::Compromised { since },
                    // A compromised key without a time is void from its start.
                    (KeyState::Compromised, None) => KeyStatus::Compromised {
                        since: k.valid_from,
                    },
                    _ => KeyStatus::Good,
                };
                trusted.push(TrustedKey {
                    key,
                    valid_from: k.valid_from,
                    valid_until: k.valid_until,
                    status,
                });
            }
            authorities.push(Authority {
                id: to_u32(a.trust_id, "authority trust id")?,
                country: a.country.parse().map_err(|_| {
                    SyncError::Corrupt("a stored country is not an ISO code".into())
                })?,
                name: a.name.clone(),
                keys: trusted,
            });
        }
        let list = TrustList::new(
            to_u64(snap.version, "trust version")?,
            issued_at,
            authorities,
        )
        .map_err(|e| SyncError::Corrupt(e.to_string()))?;
        // During a root key rotation the list carries both roots' signatures, so phones
        // pinning either accept it.
        let roots: Vec<SecretKey> = self
            .db
            .root_signers(&self.master)
            .await?
            .iter()
            .map(|signer| SecretKey::from_seed(signer.seed.expose()))
            .collect();
        let bytes = list.sign(&roots.iter().collect::<Vec<_>>());
        let blob = SignedBlob {
            etag: etag(&[&bytes]),
            bytes: Bytes::from(bytes),
            version: snap.version,
            issued_at,
        };
        let entry = Arc::new(TrustEntry {
            key: (snap.version, issued_at),
            blob: blob.clone(),
            list: list.clone(),
        });
        *lock(&self.trust) = Some(entry);
        Ok((blob, list))
    }

    /// The signed status list of an authority, shared: `blob(format)` is the list in the
    /// format the reader takes, `list` its parsed form.
    pub async fn status(&self, authority: &str, now: i64) -> Result<Arc<StatusEntry>, SyncError> {
        let v = self.versions().await?;
        let cached = || {
            let (_, version, changed, kid, from) =
                v.authorities.iter().find(|a| a.0 == authority)?;
            let signed = signing_time(*changed, *from, now);
            lock(&self.status)
                .get(authority)
                .filter(|e| e.key.0 == *version && e.key.1 == signed && e.key.2 == *kid)
                .cloned()
        };
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let _building = self.status_build.lock().await;
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let (key, signer) = self.authority_signer(authority).await?;
        // A cached list of an earlier version, signed by the same key, moves forward by the
        // recorded changes: cost by changes, not by the list's size.
        let previous = lock(&self.status)
            .get(authority)
            .filter(|e| e.key.2 == key.kid)
            .cloned();
        if let Some(prev) = previous
            && let Some(hit) = self.advance(authority, &prev, &key, &signer, now).await?
        {
            return Ok(hit);
        }
        let snap = self.db.status_snapshot(authority).await?;
        let a = &snap.authority;
        let issued_at = signing_time(a.status_changed_at, key.valid_from, now);
        let list = StatusList {
            authority: to_u32(a.trust_id, "authority trust id")?,
            version: to_u64(a.status_version, "status version")?,
            issued_at,
            size: to_u32(a.next_status_index, "status list size")?,
            default_state: snap.default_state.to_core(),
            exceptions: snap
                .exceptions
                .iter()
                .filter_map(|(i, s)| u32::try_from(*i).ok().map(|i| (i, s.to_core())))
                .collect(),
        };
        let (blob, blob_v1) = signed_lists(&list, &signer, a.status_version);
        let mut counts = [0u64; STATES];
        for (permit_state, n) in &snap.counts {
            counts[usize::from(permit_state.to_core().wire())] = u64::try_from(*n).unwrap_or(0);
        }
        let entry = Arc::new(StatusEntry {
            key: (a.status_version, issued_at, key.kid.clone()),
            blob,
            blob_v1,
            list,
            counts,
        });
        lock(&self.status).insert(authority.to_owned(), entry.clone());
        Ok(entry)
    }

    /// Applies the changes recorded since `prev` to it. `None` when that would change which
    /// state the list leaves implicit (then a full build gives the canonical bytes).
    async fn advance(
        &self,
        authority: &str,
        prev: &StatusEntry,
        key: &crate::storage::keys::KeyRow,
        signer: &SecretKey,
        now: i64,
    ) -> Result<Option<Arc<StatusEntry>>, SyncError> {
        let from = i64::try_from(prev.list.version).unwrap_or(i64::MAX);
        let ch = self.db.status_changes_since(authority, from).await?;
        let a = &ch.authority;
        let mut list = prev.list.clone();
        let mut counts = prev.counts;
        for (i, s) in &ch.changes {
            let Ok(i) = u32::try_from(*i) else { continue };
            let new = s.to_core();
            if let verifier_core::status::IndexStatus::Issued(old) = list.get(i) {
                let slot = &mut counts[usize::from(old.wire())];
                *slot = slot.saturating_sub(1);
            }
            counts[usize::from(new.wire())] += 1;
            list.set(i, new);
        }
        if default_state(&counts) != list.default_state {
            return Ok(None);
        }
        list.size = to_u32(a.next_status_index, "status list size")?;
        list.version = to_u64(a.status_version, "status version")?;
        list.issued_at = signing_time(a.status_changed_at, key.valid_from, now);
        let (blob, blob_v1) = signed_lists(&list, signer, a.status_version);
        let entry = Arc::new(StatusEntry {
            key: (a.status_version, list.issued_at, key.kid.clone()),
            blob,
            blob_v1,
            list,
            counts,
        });
        lock(&self.status).insert(authority.to_owned(), entry.clone());
        Ok(Some(entry))
    }

    /// A signed delta from version `since` to the current version of an authority's list,
    /// in the format the reader takes.
    pub async fn delta(
        &self,
        authority: &str,
        since: i64,
        format: StatusFormat,
        now: i64,
    ) -> Result<SignedBlob, SyncError> {
        let (key, signer) = self.authority_signer(authority).await?;
        let ch = self.db.status_changes_since(authority, since).await?;
        let a = &ch.authority;
        if since > a.status_version {
            return Err(SyncError::VersionAhead {
                since,
                current: a.status_version,
            });
        }
        let issued_at = signing_time(a.status_changed_at, key.valid_from, now);
        let mut changes = std::collections::BTreeMap::new();
        for (i, s) in &ch.changes {
            if let Ok(i) = u32::try_from(*i) {
                changes.insert(i, s.to_core());
            }
        }
        let delta = StatusDelta {
            authority: to_u32(a.trust_id, "authority trust id")?,
            from_version: to_u64(since, "since")?,
            to_version: to_u64(a.status_version, "status version")?,
            issued_at,
            size: to_u32(a.next_status_index, "status list size")?,
            changes,
        };
        let bytes = match format {
            StatusFormat::V1 => delta.in_format_1().sign(&signer),
            StatusFormat::V2 => delta.sign(&signer),
        };
        Ok(SignedBlob {
            etag: etag(&[&bytes]),
            bytes: Bytes::from(bytes),
            version: a.status_version,
            issued_at,
        })
    }

    /// The offline bundle: the trust list and the status list of every authority with an
    /// active key, each list in the format the reader takes; in container 2, then the log's
    /// newest signed tree head as of the build (a bundle is rebuilt when a list changes, as
    /// every permit event changes one, and each re-signing period).
    pub async fn bundle(
        &self,
        format: StatusFormat,
        container: BundleContainer,
        now: i64,
    ) -> Result<Arc<SignedBlob>, SyncError> {
        let v = self.versions().await?;
        let period = now - now.rem_euclid(RESIGN_PERIOD);
        let cached = || {
            lock(&self.bundle)
                .get(&(format, container))
                .filter(|(cv, cp, _)| **cv == *v && *cp == period)
                .map(|(_, _, blob)| blob.clone())
        };
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let _building = self.bundle_build.lock().await;
        if let Some(hit) = cached() {
            return Ok(hit);
        }
        let (trust, _) = self.trust(now).await?;
        let mut lists = Vec::with_capacity(v.authorities.len());
        for (id, ..) in &v.authorities {
            match self.status(id, now).await {
                Ok(entry) => lists.push(entry.blob(format).clone()),
                // Rotated away between the version check and now: leave it out this time.
                Err(SyncError::NoActiveKey) => {}
                Err(e) => return Err(e),
            }
        }
        let parts: Vec<&[u8]> = lists.iter().map(|b| b.bytes.as_ref()).collect();
        let bytes = match container {
            BundleContainer::V1 => verifier_core::bundle::encode(&trust.bytes, &parts),
            BundleContainer::V2 => {
                let head = self.db.log_head(&self.master, now).await?;
                verifier_core::bundle::encode_with_tree_head(&trust.bytes, &parts, &head.note)
            }
        };
        let blob = Arc::new(SignedBlob {
            etag: etag(&[&bytes]),
            bytes: Bytes::from(bytes),
            version: trust.version,
            issued_at: trust.issued_at,
        });
        lock(&self.bundle).insert((format, container), (v, period, blob.clone()));
        Ok(blob)
    }

    /// The current trust list and every status list, parsed, for verifying on the server.
    pub async fn verification_data(&self, now: i64) -> Result<(TrustList, StatusSet), SyncError> {
        let (_, trust) = self.trust(now).await?;
        let v = self.versions().await?;
        let mut set = StatusSet::new();
        for (id, ..) in &v.authorities {
            match self.status(id, now).await {
                Ok(entry) => set.insert(entry.list.clone()),
                Err(SyncError::NoActiveKey) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((trust, set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_state_matches_the_core() {
        for counts in [
            [0, 0, 0, 0, 0],
            [5, 1, 1, 9, 0],
            [3, 3, 0, 0, 0],
            [0, 2, 2, 1, 0],
            [1, 0, 0, 1, 0],
            [1, 0, 0, 2, 4],
            [4, 0, 0, 1, 4],
        ] {
            let states: Vec<PermitState> = PermitState::ALL
                .iter()
                .flat_map(|s| std::iter::repeat_n(*s, counts[usize::from(s.wire())] as usize))
                .collect();
            let built = StatusList::from_states(1, 1, 0, &states);
            if !states.is_empty() {
                assert_eq!(default_state(&counts), built.default_state, "{counts:?}");
            }
        }
    }

    #[test]
    fn signing_time_is_deterministic_within_the_hour() {
        let now = 1_796_000_123;
        let floor = now - now % 3600;
        assert_eq!(signing_time(0, 0, now), floor);
        assert_eq!(signing_time(0, 0, now + 60), floor);
        assert_eq!(signing_time(floor + 5, 0, now), floor + 5);
        assert_eq!(signing_time(0, floor + 9, now), floor + 9);
        assert_eq!(signing_time(0, 0, floor + 3600), floor + 3600);
    }
}
