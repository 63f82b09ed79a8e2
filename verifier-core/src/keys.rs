//! Keys, key ids and domain-separated Ed25519 signatures.
//!
//! Every signature the format defines is over `namespace || 0x00 || message`, with one
//! namespace per kind of object, so that no signed object can pass for another kind.
//! Verification is always `verify_strict`: canonical `S`, no small-order keys or `R`.

use std::fmt;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::wire::{Hex, parse_hex};

/// Length of a key id in bytes.
pub const KEY_ID_LEN: usize = 6;

/// The namespaces that separate what each signature can mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Namespace {
    /// A permit payload, signed by a Management Authority key.
    Permit,
    /// A trust list, signed by a root key.
    TrustList,
    /// A full status list, signed by a Management Authority key.
    StatusList,
    /// A status list delta, signed by a Management Authority key.
    StatusDelta,
    /// A status list of format 2 (five states, FORMAT.md §5), signed by a Management Authority key.
    StatusListV2,
    /// A status list delta of format 2, signed by a Management Authority key.
    StatusDeltaV2,
    /// A transparency log checkpoint (signed tree head), signed by a root key.
    LogCheckpoint,
}

impl Namespace {
    /// The namespace bytes that prefix the signed message.
    pub const fn as_bytes(self) -> &'static [u8] {
        match self {
            Namespace::Permit => b"permitseal/v1/permit",
            Namespace::TrustList => b"permitseal/v1/trust-list",
            Namespace::StatusList => b"permitseal/v1/status-list",
            Namespace::StatusDelta => b"permitseal/v1/status-delta",
            Namespace::StatusListV2 => b"permitseal/v2/status-list",
            Namespace::StatusDeltaV2 => b"permitseal/v2/status-delta",
            Namespace::LogCheckpoint => b"permitseal/v1/log-checkpoint",
        }
    }
}

const KEY_ID_NAMESPACE: &[u8] = b"permitseal/v1/key-id";

/// A short key id: the first 6 bytes of SHA-256(`"permitseal/v1/key-id" || 0x00 || key`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl KeyId {
    /// The key id of a 32-byte Ed25519 public key.
    pub fn of(public_key: &[u8; 32]) -> KeyId {
        let mut h = Sha256::new();
        h.update(KEY_ID_NAMESPACE);
        h.update([0u8]);
        h.update(public_key);
        let digest = h.finalize();
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Hex(&self.0).fmt(f)
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// The text was not 12 lower-case hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key id is 12 lower-case hex digits")]
pub struct KeyIdError;

impl std::str::FromStr for KeyId {
    type Err = KeyIdError;
    fn from_str(s: &str) -> Result<KeyId, KeyIdError> {
        parse_hex(s).map(KeyId).ok_or(KeyIdError)
    }
}

impl serde::Serialize for KeyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KeyId, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ed25519 public key that parsed, is not of small order, and carries its key id.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    id: KeyId,
}

/// The bytes are not a usable Ed25519 public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a usable Ed25519 public key")]
pub struct BadPublicKey;

impl PublicKey {
    /// Parses a 32-byte public key, rejecting non-canonical and small-order points.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, BadPublicKey> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| BadPublicKey)?;
        // Decompression reduces y modulo p, so 19 encodings name a point a second time; only
        // the point's own encoding is a key (FORMAT.md §4).
        if key.is_weak() || key.to_edwards().compress().to_bytes() != *bytes {
            return Err(BadPublicKey);
        }
        Ok(PublicKey {
            key,
            id: KeyId::of(bytes),
        })
    }

    /// The 32 bytes of the key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Its key id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Strictly verifies `signature` over `namespace || 0x00 || parts…`.
    pub fn verify(&self, ns: Namespace, parts: &[&[u8]], signature: &[u8; 64]) -> bool {
        let msg = message(ns, parts);
        self.key
            .verify_strict(&msg, &Signature::from_bytes(signature))
            .is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.id)
    }
}

fn message(ns: Namespace, parts: &[&[u8]]) -> Vec<u8> {
    let ns = ns.as_bytes();
    let len = ns.len() + 1 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(ns);
    msg.push(0);
    for p in parts {
        msg.extend_from_slice(p);
    }
    msg
}

/// An Ed25519 private key. Its secret is zeroized on drop and never shown by `Debug`.
pub struct SecretKey {
    key: SigningKey,
    public: PublicKey,
}

impl SecretKey {
    /// The key whose 32-byte secret seed is `seed`. Fresh seeds come from the caller's
    /// CSPRNG: the core has no randomness of its own.
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        let key = SigningKey::from_bytes(seed);
        let vk = key.verifying_key();
        SecretKey {
            public: PublicKey {
                key: vk,
                id: KeyId::of(vk.as_bytes()),
            },
            key,
        }
    }

    /// The 32-byte seed, for storing the key encrypted. Wrapped so it is wiped after use.
    pub fn seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// Its key id.
    pub fn id(&self) -> KeyId {
        self.public.id
    }

    /// Signs `namespace || 0x00 || parts…`.
    pub fn sign(&self, ns: Namespace, parts: &[&[u8]]) -> [u8; 64] {
        self.key.sign(&message(ns, parts)).to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({}, secret redacted)", self.public.id)
    }
}

/// The signature did not verify. Deliberately says nothing about why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("bad signature")]
pub struct BadSignature;

/// Plain Ed25519 strict verification of `signature` over `message` with no namespace:
/// the primitive the format builds on, exposed so it can be checked against published
/// vectors. Wrong lengths, unusable keys and non-canonical signatures all fail.
pub fn verify_ed25519_strict(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), BadSignature> {
    let pk: &[u8; 32] = public_key.try_into().map_err(|_| BadSignature)?;
    let sig: &[u8; 64] = signature.try_into().map_err(|_| BadSignature)?;
    let key = VerifyingKey::from_bytes(pk).map_err(|_| BadSignature)?;
    key.verify_strict(message, &Signature::from_bytes(sig))
        .map_err(|_| BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_separate_signatures() {
        let sk = SecretKey::from_seed(&[7u8; 32]);
        let sig = sk.sign(Namespace::Permit, &[b"hello"]);
        assert!(sk.public().verify(Namespace::Permit, &[b"hello"], &sig));
        assert!(!sk.public().verify(Namespace::StatusList, &[b"hello"], &sig));
        assert!(!sk.public().verify(Namespace::Permit, &[b"hellO"], &sig));
        // Splitting the message differently signs the same bytes: parts are a convenience.
        assert!(
            sk.public()
                .verify(Namespace::Permit, &[b"hel", b"lo"], &sig)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let seed = [0x42u8; 32];
        let sk = SecretKey::from_seed(&seed);
        let shown = format!("{sk:?}");
        assert!(shown.contains("redacted"));
        assert!(!shown.contains("42, 42"));
        assert!(!shown.contains("4242"));
    }

    #[test]
    fn key_id_is_stable_hex() {
        let sk = SecretKey::from_seed(&[1u8; 32]);
        let id = sk.id();
        assert_eq!(id.to_string().len(), 12);
        assert_eq!(id.to_string().parse::<KeyId>(), Ok(id));
        assert!("ABCDEF012345".parse::<KeyId>().is_err());
    }

    #[test]
    fn small_order_keys_are_refused() {
        // The identity point encodes as 1 followed by zeros: small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(BadPublicKey));
    }

    #[test]
    fn non_canonical_keys_are_refused() {
        // y = 3 written as 3 + p: a point of large order under a second name.
        let mut y3 = [0xff; 32];
        y3[0] = 0xf0;
        y3[31] = 0x7f;
        assert!(VerifyingKey::from_bytes(&y3).is_ok_and(|k| !k.is_weak()));
        assert_eq!(PublicKey::from_bytes(&y3), Err(BadPublicKey));
        let mut canonical = [0u8; 32];
        canonical[0] = 3;
        assert!(VerifyingKey::from_bytes(&canonical).is_ok());
    }
}
