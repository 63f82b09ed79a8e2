//! The offline bundle a device downloads: one trust list and the status lists of every
//! authority, in one file, and (container 2) the transparency log's signed tree head. Each
//! part carries its own signature; the container adds none.

use crate::keys::PublicKey;
use crate::log::{Checkpoint, CheckpointError};
use crate::status::{StatusError, StatusList, StatusSet};
use crate::trust::{TrustError, TrustList};
use crate::wire::{Problem, Reader, WireError, Writer, err};

/// The four bytes a bundle of container 1 starts with: no tree head.
pub const MAGIC: &[u8; 4] = b"PSB1";
/// The four bytes a bundle of container 2 starts with: the parts of container 1, then the
/// log's signed tree head (docs/FORMAT.md §6).
pub const MAGIC_2: &[u8; 4] = b"PSB2";
/// Largest part accepted (a trust list or one status list).
pub const MAX_PART: u64 = 64 << 20;
/// Longest signed tree head accepted, in bytes: its body and four signature lines need 420.
pub const MAX_TREE_HEAD: u64 = 4096;

/// A verified bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bundle {
    /// The trust list.
    pub trust: TrustList,
    /// The status lists, by authority.
    pub status: StatusSet,
    /// The transparency log's tree head, verified against the pinned roots; `None` for a
    /// bundle of container 1 (a server before the log, or a reader that did not ask for it).
    pub tree_head: Option<Checkpoint>,
}

/// The signed parts of a bundle, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts<'a> {
    /// The signed trust list.
    pub trust: &'a [u8],
    /// The signed status lists, in bundle order.
    pub status: Vec<&'a [u8]>,
    /// The signed note of the log's tree head (container 2 only).
    pub tree_head: Option<&'a str>,
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
    /// The log's signed tree head is malformed or no pinned root signed it.
    #[error("tree head: {0}")]
    TreeHead(CheckpointError),
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

/// Packs signed parts with the log's signed tree head `tree_head` (a note of §12.4):
/// `PSB2 ‖` the parts as [`encode`] writes them `‖ varint len ‖ tree head`.
pub fn encode_with_tree_head(
    trust_list: &[u8],
    status_lists: &[&[u8]],
    tree_head: &str,
) -> Vec<u8> {
    let mut out = encode(trust_list, status_lists);
    out[..4].copy_from_slice(MAGIC_2);
    let mut w = Writer::default();
    w.varint(tree_head.len() as u64);
    w.bytes(tree_head.as_bytes());
    out.extend_from_slice(&w.buf);
    out
}

/// The signed parts of a bundle of either container, not yet verified.
pub fn split(bytes: &[u8]) -> Result<Parts<'_>, WireError> {
    let mut r = Reader::new(bytes);
    let magic = r.take(4, "magic")?;
    let with_head = match magic {
        m if m == MAGIC => false,
        m if m == MAGIC_2 => true,
        _ => return Err(err("magic", Problem::Reserved)),
    };
    let n = r.varint_max("trust_list", MAX_PART)? as usize;
    let trust = r.take(n, "trust_list")?;
    let count = r.varint_max("status_lists", 100_000)? as usize;
    let mut status = Vec::with_capacity(count.min(1024));
    for i in 0..count {
        let field = format!("status_lists[{i}]");
        let n = r.varint_max(&field, MAX_PART)? as usize;
        status.push(r.take(n, &field)?);
    }
    let tree_head = if with_head {
        let n = r.varint_max("tree_head", MAX_TREE_HEAD)? as usize;
        if n == 0 {
            return Err(err("tree_head", Problem::BadValue));
        }
        let note = r.take(n, "tree_head")?;
        Some(std::str::from_utf8(note).map_err(|_| err("tree_head", Problem::BadText))?)
    } else {
        None
    };
    r.finish("bundle")?;
    Ok(Parts {
        trust,
        status,
        tree_head,
    })
}

impl Bundle {
    /// Parses and verifies every part against the pinned roots: the trust list and the tree
    /// head by a pinned root, each status list by its authority's key in that trust list.
    pub fn from_bytes(bytes: &[u8], roots: &[PublicKey]) -> Result<Bundle, BundleError> {
        let parts = split(bytes)?;
        let trust = TrustList::from_signed(parts.trust, roots)?;
        let tree_head = parts
            .tree_head
            .map(|note| Checkpoint::from_signed(note, roots))
            .transpose()
            .map_err(BundleError::TreeHead)?;
        let mut status = StatusSet::new();
        for (index, l) in parts.status.into_iter().enumerate() {
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
        Ok(Bundle {
            trust,
            status,
            tree_head,
        })
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
        assert!(Bundle::from_bytes(b"PSB3", &[root.public().clone()]).is_err());
        assert_eq!(b.tree_head, None);
    }

    #[test]
    fn a_tree_head_travels_in_container_2_and_is_checked() {
        let root = SecretKey::from_seed(&[1; 32]);
        let ma = SecretKey::from_seed(&[2; 32]);
        let pins = [root.public().clone()];
        let t = TrustList::new(1, 1000, vec![authority(3, "KE", "KWS", &[&ma])])
            .unwrap()
            .sign(&[&root]);
        let s = StatusList::new(3, 4, 1200).sign(&ma);
        let head = Checkpoint {
            size: 13,
            root: [5; 32],
            time: 1300,
        };
        let note = head.sign(&[&root]);
        let bytes = encode_with_tree_head(&t, &[&s], &note);
        assert_eq!(&bytes[..4], MAGIC_2);
        assert_eq!(
            &bytes[4..],
            &{
                let mut v = encode(&t, &[&s])[4..].to_vec();
                // The note is 128 to 16383 bytes long: a two-byte varint.
                assert!((128..16384).contains(&note.len()));
                v.push(note.len() as u8 | 0x80);
                v.push((note.len() >> 7) as u8);
                v.extend_from_slice(note.as_bytes());
                v
            }[..]
        );
        let b = Bundle::from_bytes(&bytes, &pins).unwrap();
        assert_eq!(b.tree_head, Some(head));
        // The tree head is not a signed time of the status data: ages and floors ignore it.
        assert_eq!(b.newest_signed_time(), 1200);

        let stranger = SecretKey::from_seed(&[9; 32]);
        let unpinned = encode_with_tree_head(&t, &[&s], &head.sign(&[&stranger]));
        assert_eq!(
            Bundle::from_bytes(&unpinned, &pins),
            Err(BundleError::TreeHead(CheckpointError::BadSignature))
        );
        let forged = encode_with_tree_head(&t, &[&s], &note.replacen("\n13\n", "\n14\n", 1));
        assert_eq!(
            Bundle::from_bytes(&forged, &pins),
            Err(BundleError::TreeHead(CheckpointError::BadSignature))
        );
        let garbled = encode_with_tree_head(&t, &[&s], "permitseal/v1/log\n");
        assert_eq!(
            Bundle::from_bytes(&garbled, &pins),
            Err(BundleError::TreeHead(CheckpointError::Malformed))
        );
        let mut empty = encode(&t, &[&s]);
        empty[..4].copy_from_slice(MAGIC_2);
        empty.push(0);
        assert!(matches!(
            Bundle::from_bytes(&empty, &pins),
            Err(BundleError::Malformed(_))
        ));
        let mut missing = encode(&t, &[&s]);
        missing[..4].copy_from_slice(MAGIC_2);
        assert!(matches!(
            Bundle::from_bytes(&missing, &pins),
            Err(BundleError::Malformed(_))
        ));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(Bundle::from_bytes(&trailing, &pins).is_err());
        let mut not_utf8 = encode(&t, &[&s]);
        not_utf8[..4].copy_from_slice(MAGIC_2);
        not_utf8.extend_from_slice(&[2, 0xc3, 0x28]);
        assert!(matches!(
            Bundle::from_bytes(&not_utf8, &pins),
            Err(BundleError::Malformed(_))
        ));
    }
}
