//! The transparency log: leaves, RFC 9162 Merkle hashing, inclusion and consistency proof
//! checking, and the signed checkpoint (tree head). docs/FORMAT.md §12 specifies each byte.
//!
//! Sans-I/O like the rest of the core: a verifier passes in the leaf it was shown, the proof
//! and a checkpoint it trusts; building trees and proofs is the server's business.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::keys::{KeyId, Namespace, PublicKey, SecretKey};
use crate::wire::{Hex, parse_hex};

/// A SHA-256 output.
pub type Hash = [u8; 32];

/// The version byte that starts every leaf of this format.
pub const LEAF_VERSION: u8 = 1;

/// The origin line of every checkpoint this format defines.
pub const ORIGIN: &str = "permitseal/v1/log";

/// The longest text field of a leaf, in bytes.
pub const MAX_LEAF_TEXT: usize = 1024;

/// One event as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf<'a> {
    /// Its index in the log, from 0.
    pub seq: u64,
    /// When, unix seconds.
    pub at: i64,
    /// The authority concerned, empty for deployment-wide events.
    pub authority: &'a str,
    /// Who: a token id, `server`, or the command line's name.
    pub actor: &'a str,
    /// What kind of event, e.g. `permit.issue`.
    pub kind: &'a str,
    /// What it is about, e.g. `permit/ke-mwa/KE/2026/0001`; empty when nothing in particular.
    pub subject: &'a str,
    /// SHA-256 of the event's particulars (what changed).
    pub digest: Hash,
}

/// A leaf text field is longer than [`MAX_LEAF_TEXT`] bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("log leaf field `{0}` is longer than 1024 bytes")]
pub struct LeafTooLong(pub &'static str);

impl Leaf<'_> {
    /// The canonical leaf bytes: version, seq (u64 BE), at (i64 BE), then authority, actor,
    /// kind and subject each as a u16 BE byte length and UTF-8, then the 32-byte digest.
    pub fn encode(&self) -> Result<Vec<u8>, LeafTooLong> {
        let texts = [
            ("authority", self.authority),
            ("actor", self.actor),
            ("kind", self.kind),
            ("subject", self.subject),
        ];
        let mut out =
            Vec::with_capacity(17 + 8 + 32 + texts.iter().map(|(_, t)| t.len()).sum::<usize>());
        out.push(LEAF_VERSION);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at.to_be_bytes());
        for (name, text) in texts {
            if text.len() > MAX_LEAF_TEXT {
                return Err(LeafTooLong(name));
            }
            // At most 1024, so it fits in 16 bits.
            out.extend_from_slice(&(text.len() as u16).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(&self.digest);
        Ok(out)
    }

    /// The RFC 9162 leaf hash of [`Leaf::encode`].
    pub fn hash(&self) -> Result<Hash, LeafTooLong> {
        Ok(leaf_hash(&self.encode()?))
    }
}

/// SHA-256 of the particulars of an event, the leaf's `digest`.
pub fn digest(particulars: &[u8]) -> Hash {
    Sha256::digest(particulars).into()
}

/// RFC 9162 §2.1.1: `SHA-256(0x00 ‖ leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// RFC 9162 §2.1.1: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256()` of no bytes.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A proof does not prove what it was asked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// The index or sizes are out of range (index ≥ size, first size > second, …).
    #[error("index or tree size out of range")]
    Range,
    /// The proof has the wrong number of hashes for these sizes.
    #[error("proof has the wrong length")]
    Length,
    /// The hashes do not lead to the expected root.
    #[error("proof does not match the root")]
    Mismatch,
}

/// RFC 9162 §2.1.3.2: checks that `leaf` is entry `index` of the tree of `size` leaves with
/// root `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::Range);
    }
    let mut fnode = index;
    let mut snode = size - 1;
    let mut r = *leaf;
    for p in proof {
        if snode == 0 {
            return Err(ProofError::Length);
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::Length);
    }
    if r == *root {
        Ok(())
    } else {
        Err(ProofError::Mismatch)
    }
}

/// RFC 9162 §2.1.4.2: checks that the tree of `size1` leaves with root `root1` is a prefix of
/// the tree of `size2` leaves with root `root2`.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    root1: &Hash,
    root2: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::Range);
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::Length);
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::Mismatch)
        };
    }
    if size1 == 0 {
        // The empty tree is a prefix of every tree; RFC 9162 proves nothing for it.
        return if proof.is_empty() {
            Ok(())
        } else {
            Err(ProofError::Length)
        };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return Err(ProofError::Length);
    };
    let mut fnode = size1 - 1;
    let mut snode = size2 - 1;
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let mut fr = *first;
    let mut sr = *first;
    for c in rest {
        if snode == 0 {
            return Err(ProofError::Length);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fnode & 1 == 0 {
                while fnode & 1 == 0 && fnode != 0 {
                    fnode >>= 1;
                    snode >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(ProofError::Length);
    }
    if fr == *root1 && sr == *root2 {
        Ok(())
    } else {
        Err(ProofError::Mismatch)
    }
}

/// A tree head: the log had `size` entries with root `root` at `time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Number of leaves.
    pub size: u64,
    /// RFC 9162 root of those leaves.
    pub root: Hash,
    /// When it was signed, unix seconds.
    pub time: i64,
}

/// Why a signed checkpoint was refused. Signature failures are not told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
// Exhaustive on purpose, like `BundleError`: the mobile bindings map every variant.
pub enum CheckpointError {
    /// The text is not a checkpoint of this format.
    #[error("malformed checkpoint")]
    Malformed,
    /// No signature by a trusted root key verifies.
    #[error("checkpoint not signed by a trusted root key")]
    BadSignature,
}

impl Checkpoint {
    /// The signed body: four lines, each ending in `\n`: the origin, the size in decimal, the
    /// root in lower-case hex and the time in decimal.
    pub fn body(&self) -> String {
        format!(
            "{ORIGIN}\n{}\n{}\n{}\n",
            self.size,
            Hex(&self.root),
            self.time
        )
    }

    /// The signed note: the body, an empty line, then one line per signer,
    /// `— <key id hex> <signature hex>\n` (U+2014, a space, 12 hex digits, a space, 128).
    pub fn sign(&self, signers: &[&SecretKey]) -> String {
        let body = self.body();
        let mut note = body.clone();
        note.push('\n');
        for key in signers {
            let sig = key.sign(Namespace::LogCheckpoint, &[body.as_bytes()]);
            note.push_str(&format!("\u{2014} {} {}\n", key.id(), Hex(&sig)));
        }
        note
    }

    /// Parses a signed note and checks that a key in `roots` signed it.
    pub fn from_signed(note: &str, roots: &[PublicKey]) -> Result<Checkpoint, CheckpointError> {
        let (body, signatures) = note.split_once("\n\n").ok_or(CheckpointError::Malformed)?;
        let body = &note[..body.len() + 1];
        let checkpoint = Checkpoint::parse_body(body)?;
        if signatures.is_empty() || !signatures.ends_with('\n') {
            return Err(CheckpointError::Malformed);
        }
        let mut good = false;
        for line in signatures[..signatures.len() - 1].split('\n') {
            let rest = line
                .strip_prefix("\u{2014} ")
                .ok_or(CheckpointError::Malformed)?;
            let (kid, sig) = rest.split_once(' ').ok_or(CheckpointError::Malformed)?;
            let kid: KeyId = kid.parse().map_err(|_| CheckpointError::Malformed)?;
            let sig: [u8; 64] = parse_hex(sig).ok_or(CheckpointError::Malformed)?;
            if let Some(key) = roots.iter().find(|k| k.id() == kid)
                && key.verify(Namespace::LogCheckpoint, &[body.as_bytes()], &sig)
            {
                good = true;
            }
        }
        if good {
            Ok(checkpoint)
        } else {
            Err(CheckpointError::BadSignature)
        }
    }

    /// Reads what a signed note says without checking its signatures: for a log auditing the
    /// heads it signed and stored itself. Anything received from elsewhere goes through
    /// [`Checkpoint::from_signed`].
    pub fn read_unverified(note: &str) -> Result<Checkpoint, CheckpointError> {
        let (body, _) = note.split_once("\n\n").ok_or(CheckpointError::Malformed)?;
        Checkpoint::parse_body(&note[..body.len() + 1])
    }

    fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let lines: Vec<&str> = body
            .strip_suffix('\n')
            .ok_or(CheckpointError::Malformed)?
            .split('\n')
            .collect();
        let [origin, size, root, time] = lines[..] else {
            return Err(CheckpointError::Malformed);
        };
        if origin != ORIGIN {
            return Err(CheckpointError::Malformed);
        }
        let checkpoint = Checkpoint {
            size: canonical_decimal(size)?,
            root: parse_hex(root).ok_or(CheckpointError::Malformed)?,
            time: i64::try_from(canonical_decimal(time)?)
                .map_err(|_| CheckpointError::Malformed)?,
        };
        Ok(checkpoint)
    }
}

/// Decimal without sign, leading zeros or spaces.
fn canonical_decimal(s: &str) -> Result<u64, CheckpointError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return Err(CheckpointError::Malformed);
    }
    s.parse().map_err(|_| CheckpointError::Malformed)
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "size {} root {}", self.size, Hex(&self.root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9162's definition, recomputed from all the leaves: the reference the checks below
    /// are held to.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    fn split(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
        let n = leaves.len();
        if n <= 1 {
            return Vec::new();
        }
        let k = split(n);
        if m < k {
            let mut p = path(m, &leaves[..k]);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(m - k, &leaves[k..]);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
        let n = leaves.len();
        if m == n {
            return if whole { Vec::new() } else { vec![mth(leaves)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &leaves[..k], whole);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = subproof(m - k, &leaves[k..], false);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn inclusion_proofs_check_for_every_index_and_size() {
        let all = leaves(20);
        for n in 1..=all.len() {
            let root = mth(&all[..n]);
            for m in 0..n {
                let p = path(m, &all[..n]);
                assert_eq!(
                    verify_inclusion(m as u64, n as u64, &all[m], &p, &root),
                    Ok(())
                );
                let other = all[(m + 1) % n];
                if other != all[m] && n > 1 {
                    assert!(verify_inclusion(m as u64, n as u64, &other, &p, &root).is_err());
                }
                assert!(verify_inclusion(n as u64, n as u64, &all[m], &p, &root).is_err());
                if !p.is_empty() {
                    assert!(verify_inclusion(m as u64, n as u64, &all[m], &p[1..], &root).is_err());
                }
            }
        }
    }

    #[test]
    fn consistency_proofs_check_for_every_pair_of_sizes() {
        let all = leaves(20);
        for n in 1..=all.len() {
            for m in 1..=n {
                let p = subproof(m, &all[..n], true);
                let (r1, r2) = (mth(&all[..m]), mth(&all[..n]));
                assert_eq!(
                    verify_consistency(m as u64, n as u64, &r1, &r2, &p),
                    Ok(()),
                    "{m} → {n}"
                );
                if m < n {
                    let mut bad = p.clone();
                    bad[0][0] ^= 1;
                    assert!(verify_consistency(m as u64, n as u64, &r1, &r2, &bad).is_err());
                    assert!(verify_consistency(m as u64, n as u64, &r2, &r1, &p).is_err());
                }
            }
        }
        assert!(verify_consistency(3, 2, &mth(&all[..3]), &mth(&all[..2]), &[]).is_err());
    }

    #[test]
    fn leaf_bytes_are_as_specified() {
        let leaf = Leaf {
            seq: 1,
            at: 2,
            authority: "a",
            actor: "cli",
            kind: "k",
            subject: "",
            digest: [7; 32],
        };
        let mut want = vec![1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2];
        want.extend_from_slice(&[0, 1, b'a', 0, 3, b'c', b'l', b'i', 0, 1, b'k', 0, 0]);
        want.extend_from_slice(&[7; 32]);
        assert_eq!(leaf.encode().unwrap(), want);
        let long = "x".repeat(MAX_LEAF_TEXT + 1);
        assert_eq!(
            Leaf {
                subject: &long,
                ..leaf
            }
            .encode(),
            Err(LeafTooLong("subject"))
        );
    }

    #[test]
    fn checkpoints_sign_and_refuse_tampering() {
        let root = SecretKey::from_seed(&[9; 32]);
        let other = SecretKey::from_seed(&[8; 32]);
        let cp = Checkpoint {
            size: 5,
            root: [3; 32],
            time: 1_796_000_000,
        };
        let note = cp.sign(&[&root]);
        assert_eq!(
            Checkpoint::from_signed(&note, &[root.public().clone()]),
            Ok(cp)
        );
        assert_eq!(
            Checkpoint::from_signed(&note, &[other.public().clone()]),
            Err(CheckpointError::BadSignature)
        );
        let forged = note.replacen("\n5\n", "\n6\n", 1);
        assert_eq!(
            Checkpoint::from_signed(&forged, &[root.public().clone()]),
            Err(CheckpointError::BadSignature)
        );
        let padded = note.replacen("\n5\n", "\n05\n", 1);
        assert_eq!(
            Checkpoint::from_signed(&padded, &[root.public().clone()]),
            Err(CheckpointError::Malformed)
        );
        let two = cp.sign(&[&other, &root]);
        assert_eq!(
            Checkpoint::from_signed(&two, &[root.public().clone()]),
            Ok(cp)
        );
        assert!(Checkpoint::from_signed("", &[root.public().clone()]).is_err());
    }
}
