//! The offline bundle a device downloads: one trust list and the status lists of every
//! authority, in one file. Each part carries its own signature; the container adds none.

use crate::keys::PublicKey;
use crate::status::{StatusError, StatusList, StatusSet};
use crate::trust::{TrustError, TrustList};
use crate::wire::{Problem, Reader, WireError, Writer, err};

/// The four bytes a bundle starts with.
pub const MAGIC: &[u8; 4] = b"PSB1";
/// Largest part accepted (a trust list or one status list).
pub const MAX_PART: u64 = 64 << 20;

/// A verified bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The trust list.
    pub trust: TrustList,
    /// The status lists, by authority.
    pub status: StatusSet,
}

/// Why a bundle was refused. Nothing of a refused bundle is used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Exhaustive on purpose: the mobile bindings map every variant, so a new one forces a decision.
pub enum BundleError {
    /// The container is malformed.
    #[error("malformed bundle: {0}")]
    Malformed(#[from] WireError),
    /// The trust list was refused.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// Two status lists of one authority: which one counts would be the reader's guess.
    #[error("status list {index}: a second list for authority {authority}")]
    DuplicateStatus {
        /// Position of the second list in the bundle.
        index: usize,
        /// The authority named twice.
        authority: u32,
    },
    /// A status list was refused.
    #[error("status list {index}: {error}")]
    Status {
        /// Position in the bundle.
        index: usize,
        /// Why.
        error: StatusError,
    },
}

/// Packs signed parts: `PSB1 ‖ varint len ‖ trust list ‖ varint n ‖ (varint len ‖ status list)…`.
pub fn encode(trust_list: &[u8], status_lists: &[&[u8]]) -> Vec<u8> {
    let mut w = Writer::default();
    w.bytes(MAGIC);
    w.varint(trust_list.len() as u64);
    w.bytes(trust_list);
    w.varint(status_lists.len() as u64);
    for s in status_lists {
        w.varint(s.len() as u64);
        w.bytes(s);
    }
    w.buf
}

/// The signed parts of a bundle, not yet verified.
pub fn split(bytes: &[u8]) -> Result<(&[u8], Vec<&[u8]>), WireError> {
    let mut r = Reader::new(bytes);
    if r.take(4, "magic")? != MAGIC {
        return Err(err("magic", Problem::Reserved));
    }
    let n = r.varint_max("trust_list", MAX_PART)? as usize;
    let trust = r.take(n, "trust_list")?;
    let count = r.varint_max("status_lists", 100_000)? as usize;
    let mut lists = Vec::with_capacity(count.min(1024));
    for i in 0..count {
        let field = format!("status_lists[{i}]");
        let n = r.varint_max(&field, MAX_PART)? as usize;
        lists.push(r.take(n, &field)?);
    }
    r.finish("bundle")?;
    Ok((trust, lists))
}

impl Bundle {
    /// Parses and verifies every part against the pinned roots.
    pub fn from_bytes(bytes: &[u8], roots: &[PublicKey]) -> Result<Bundle, BundleError> {
        let (trust, lists) = split(bytes)?;
        let trust = TrustList::from_signed(trust, roots)?;
        let mut status = StatusSet::new();
        for (index, l) in lists.into_iter().enumerate() {
            let list = StatusList::from_signed(l, &trust)
                .map_err(|error| BundleError::Status { index, error })?;
            if status.get(list.authority).is_some() {
                return Err(BundleError::DuplicateStatus {
                    index,
                    authority: list.authority,
                });
            }
            status.insert(list);
        }
        Ok(Bundle { trust, status })
    }

    /// The newest signed time in the bundle: a floor for the device's idea of now.
    pub fn newest_signed_time(&self) -> i64 {
        self.status
            .newest_issued_at()
            .unwrap_or(i64::MIN)
            .max(self.trust.issued_at)
    }

    /// The oldest signed time in the bundle: its age is the age of the staler part.
    pub fn oldest_signed_time(&self) -> i64 {
        self.status
            .iter()
            .map(|l| l.issued_at)
            .min()
            .unwrap_or(self.trust.issued_at)
            .min(self.trust.issued_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use crate::trust::tests::authority;

    #[test]
    fn round_trip_and_refusals() {
        let root = SecretKey::from_seed(&[1; 32]);
        let ma = SecretKey::from_seed(&[2; 32]);
        let trust = TrustList::new(1, 1000, vec![authority(3, "KE", "KWS", &[&ma])]).unwrap();
        let t = trust.sign(&[&root]);
        let s = StatusList::new(3, 4, 1200).sign(&ma);
        let bytes = encode(&t, &[&s]);
        let b = Bundle::from_bytes(&bytes, &[root.public().clone()]).unwrap();
        assert_eq!(b.status.get(3).map(|l| l.version), Some(4));
        assert_eq!(b.newest_signed_time(), 1200);
        assert_eq!(b.oldest_signed_time(), 1000);
        // A status list signed by a key not in the trust list poisons the whole bundle.
        let stranger = SecretKey::from_seed(&[9; 32]);
        let bad = encode(&t, &[&s, &StatusList::new(3, 5, 1300).sign(&stranger)]);
        assert!(matches!(
            Bundle::from_bytes(&bad, &[root.public().clone()]),
            Err(BundleError::Status { index: 1, .. })
        ));
        let mut extra = bytes.clone();
        extra.push(0);
        assert!(Bundle::from_bytes(&extra, &[root.public().clone()]).is_err());
        assert!(Bundle::from_bytes(b"PSB2", &[root.public().clone()]).is_err());
    }
}
