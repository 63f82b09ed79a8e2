//! The offline verifier object: pinned root keys, the current bundle and the time floor.

use std::sync::{Arc, PoisonError, RwLock};

use verifier_core::bundle::Bundle;
use verifier_core::keys::PublicKey;
use verifier_core::verify::{Checkpoint, Policy, Verdict, Verification, verify_with};

use crate::clock;
use crate::error::SdkFailure;
use crate::records::{CheckpointKind, Language, TreeHeadRecord, VerificationResult};

/// What `load_bundle` did with a bundle that verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum BundleLoad {
    /// The bundle is now the one used.
    Installed,
    /// The bundle verified but is older than the one in use, which stays.
    KeptNewer,
}

/// Verifies permit QR codes offline against a signed bundle.
///
/// Thread-safe: any number of threads may verify while another loads a bundle. A load
/// replaces the bundle atomically: a verification sees the old or the new bundle, never a mix.
#[derive(Debug, uniffi::Object)]
pub struct Verifier {
    roots: Vec<PublicKey>,
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    bundle: Option<Arc<Bundle>>,
    /// The newest signed time seen: from `set_time_floor`, bundles and verified permits.
    floor: Option<i64>,
    checkpoint: CheckpointKind,
}

// No critical section below can panic (they assign and clone), so a poisoned lock only means
// another thread panicked elsewhere while holding it; its data is still consistent.
impl Verifier {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The core's verification against the bundle in use and the clock floor.
    fn evaluate(
        &self,
        qr_text: &str,
        now: i64,
        checkpoint: CheckpointKind,
    ) -> Result<Evaluated, SdkFailure> {
        let (bundle, floor) = {
            let s = self.read();
            (s.bundle.clone().ok_or(SdkFailure::NoBundle)?, s.floor)
        };
        let policy = Policy {
            checkpoint: checkpoint.into(),
            ..Policy::default()
        };
        let v = verify_with(qr_text, now, &bundle.trust, &bundle.status, &policy, floor);
        Ok(Evaluated {
            v,
            bundle,
            floor,
            checkpoint: policy.checkpoint,
        })
    }

    fn verify_inner(
        &self,
        qr_text: &str,
        now: i64,
        checkpoint: CheckpointKind,
        lang: Language,
    ) -> Result<VerificationResult, SdkFailure> {
        let Evaluated { v, .. } = self.evaluate(qr_text, now, checkpoint)?;
        // A permit whose signature verified and which is not refused carries a signed issue
        // time: no later check may run before it.
        if let (Some(p), false) = (&v.permit, v.verdict == Verdict::Invalid) {
            self.raise_floor(p.issued_at);
        }
        Ok(VerificationResult::from_core(&v, lang.into()))
    }

    fn raise_floor(&self, t: i64) {
        let mut s = self.write();
        s.floor = Some(s.floor.map_or(t, |f| f.max(t)));
    }

    /// The bundle in use, for the sync client.
    pub(crate) fn current_bundle(&self) -> Option<Arc<Bundle>> {
        self.read().bundle.clone()
    }
}

#[uniffi::export]
impl Verifier {
    /// A verifier that accepts trust lists signed by any of these Ed25519 root keys (32 bytes
    /// each). Starts without a bundle.
    #[uniffi::constructor]
    pub fn new(root_public_keys: Vec<Vec<u8>>) -> Result<Arc<Verifier>, SdkFailure> {
        if root_public_keys.is_empty() {
            return Err(SdkFailure::invalid(
                "root_public_keys",
                "at least one root key is needed",
            ));
        }
        let mut roots = Vec::with_capacity(root_public_keys.len());
        for (i, k) in root_public_keys.iter().enumerate() {
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            let bytes: &[u8; 32] = k
                .as_slice()
                .try_into()
                .map_err(|_| SdkFailure::BadRootKey { index })?;
            roots.push(PublicKey::from_bytes(bytes).map_err(|_| SdkFailure::BadRootKey { index })?);
        }
        Ok(Arc::new(Verifier {
            roots,
            state: RwLock::new(State::default()),
        }))
    }

    /// Verifies a bundle (as downloaded or as stored by the app) and makes it the one used,
    /// unless the one in use is newer. A refused bundle changes nothing.
    pub fn load_bundle(&self, bytes: Vec<u8>) -> Result<BundleLoad, SdkFailure> {
        let bundle = Bundle::from_bytes(&bytes, &self.roots)?;
        let newest = bundle.newest_signed_time();
        let mut s = self.write();
        if let Some(have) = &s.bundle
            && is_older(&bundle, have)
        {
            return Ok(BundleLoad::KeptNewer);
        }
        s.bundle = Some(Arc::new(bundle));
        s.floor = Some(s.floor.map_or(newest, |f| f.max(newest)));
        Ok(BundleLoad::Installed)
    }

    /// Applies a signed status delta (docs/FORMAT.md §5) to the bundle in use: the answer to
    /// `GET /api/v1/authorities/{id}/status?since=<version>`, including the refresh (same
    /// version, newer time) a server gives when nothing changed. Returns the authority's list
    /// version afterwards. A refused delta (`BadBundle`, `NotTrusted`) changes nothing. Deltas
    /// are not kept across a restart: store them after the bundle and apply them again in order.
    pub fn apply_status_delta(&self, bytes: Vec<u8>) -> Result<u64, SdkFailure> {
        let mut s = self.write();
        let mut next = Bundle::clone(s.bundle.as_ref().ok_or(SdkFailure::NoBundle)?);
        let list = next.status.apply_delta(&bytes, &next.trust)?;
        let (version, issued_at) = (list.version, list.issued_at);
        s.bundle = Some(Arc::new(next));
        s.floor = Some(s.floor.map_or(issued_at, |f| f.max(issued_at)));
        Ok(version)
    }

    /// True once a bundle is loaded.
    pub fn has_bundle(&self) -> bool {
        self.read().bundle.is_some()
    }

    /// Seconds between `now` and the oldest signed part of the bundle (its staler part);
    /// absent without a bundle. Show it so the officer knows how fresh the data is.
    pub fn bundle_age_seconds(&self, now: i64) -> Option<i64> {
        self.read()
            .bundle
            .as_ref()
            .map(|b| now.saturating_sub(b.oldest_signed_time()))
    }

    /// The transparency log's signed tree head in the bundle in use; absent without a bundle
    /// or when the bundle carries none (a server older than the log's tree head in bundles).
    pub fn log_tree_head(&self) -> Option<TreeHeadRecord> {
        self.read()
            .bundle
            .as_ref()
            .and_then(|b| b.tree_head.as_ref())
            .map(TreeHeadRecord::from)
    }

    /// The newest signed time seen (bundles, verified permits, `set_time_floor`). Store it
    /// and give it back with `set_time_floor` on the next start: setting the device clock back
    /// then cannot revive an expired permit.
    pub fn newest_signed_time(&self) -> Option<i64> {
        self.read().floor
    }

    /// Raises the time floor to `time` (a value stored from `newest_signed_time`). Never
    /// lowers it.
    pub fn set_time_floor(&self, time: i64) {
        self.raise_floor(time);
    }

    /// The checkpoint `verify` uses (export by default).
    pub fn set_checkpoint(&self, checkpoint: CheckpointKind) {
        self.write().checkpoint = checkpoint;
    }

    /// The checkpoint `verify` uses.
    pub fn checkpoint(&self) -> CheckpointKind {
        self.read().checkpoint
    }

    /// Verifies a scanned QR text now (device clock) at the configured checkpoint.
    pub fn verify(
        &self,
        qr_text: String,
        lang: Language,
    ) -> Result<VerificationResult, SdkFailure> {
        let checkpoint = self.read().checkpoint;
        self.verify_inner(&qr_text, clock::now(), checkpoint, lang)
    }

    /// A support report for the verdict on `qr_text` at `now` and `checkpoint` (as given to
    /// `verify_at`; use `clock::now` and `checkpoint()` for what `verify` did): compact JSON
    /// with the SDK and code format versions, the bundle's trust-list and status-list
    /// versions and ages, the clock floor, the verdict and reason codes, the key id the code
    /// names and whether its signature verified, the issuing authority's id and country, the
    /// status list's answer and a digest of the permit number. No names, addresses,
    /// species, quantities or document text: safe to send to a help desk. Changes nothing
    /// (the clock floor stays as it is).
    pub fn explain(
        &self,
        qr_text: String,
        now: i64,
        checkpoint: CheckpointKind,
    ) -> Result<String, SdkFailure> {
        let e = self.evaluate(&qr_text, now, checkpoint)?;
        Ok(crate::support::report(
            &qr_text,
            &e.v,
            &e.bundle,
            now,
            e.checkpoint,
            e.floor,
        ))
    }

    /// Verifies a scanned QR text at an explicit time (Unix seconds) and checkpoint.
    pub fn verify_at(
        &self,
        qr_text: String,
        now: i64,
        checkpoint: CheckpointKind,
        lang: Language,
    ) -> Result<VerificationResult, SdkFailure> {
        self.verify_inner(&qr_text, now, checkpoint, lang)
    }
}

/// A verification with what it was made against.
struct Evaluated {
    v: Verification,
    bundle: Arc<Bundle>,
    floor: Option<i64>,
    checkpoint: Checkpoint,
}

/// True when `new` is older than `have`: a lower trust-list version, or older signed data.
fn is_older(new: &Bundle, have: &Bundle) -> bool {
    new.trust.version < have.trust.version || new.newest_signed_time() < have.newest_signed_time()
}
