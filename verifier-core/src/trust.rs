//! The trust list: which Management Authorities exist and which keys sign for them,
//! signed by one or more root keys that verifiers pin.

use std::collections::HashMap;

use serde::Serialize;

use crate::codes::Country;
use crate::keys::{KEY_ID_LEN, KeyId, Namespace, PublicKey, SecretKey};
use crate::wire::{Problem, Reader, WireError, Writer, err};

/// Format number of the trust list body.
pub const TRUST_FORMAT: u8 = 1;
/// Most root signatures one trust list carries.
pub const MAX_ROOT_SIGNATURES: usize = 4;

/// The state of an authority key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyStatus {
    /// In use, or retired with an end given by `valid_until`.
    Good,
    /// The private key leaked at `since`: nothing it signed at or after that time counts.
    Compromised {
        /// Unix seconds from which signatures are void.
        since: i64,
    },
}

/// One signing key of an authority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustedKey {
    /// The key (its id is `key.id()`).
    #[serde(serialize_with = "ser_key")]
    pub key: PublicKey,
    /// First second it may sign (Unix seconds). Permits are compared with it at minute
    /// precision, as they carry their issue time in minutes.
    pub valid_from: i64,
    /// Last second it may sign, once rotated or retired.
    pub valid_until: Option<i64>,
    /// Good or compromised.
    pub status: KeyStatus,
}

fn ser_key<S: serde::Serializer>(k: &PublicKey, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&k.id())
}

/// A Management Authority and its keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authority {
    /// Deployment-wide id; status lists name it.
    pub id: u32,
    /// Country of the authority.
    pub country: Country,
    /// Name as in the CITES Directory.
    pub name: String,
    /// Its signing keys.
    pub keys: Vec<TrustedKey>,
}

/// A verified (or about to be signed) trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustList {
    /// Increases with every list the deployment publishes.
    pub version: u64,
    /// When it was signed (Unix seconds): a floor for the verifier's idea of now.
    pub issued_at: i64,
    /// Authorities, by ascending id.
    pub authorities: Vec<Authority>,
    #[serde(skip)]
    index: HashMap<KeyId, Vec<(usize, usize)>>,
}

/// Why a trust list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// Exhaustive on purpose: the mobile bindings map every variant, so a new one forces a decision.
pub enum TrustError {
    /// The bytes are malformed.
    #[error("malformed trust list: {0}")]
    Malformed(#[from] WireError),
    /// No pinned root signed it, or a pinned root's signature is bad.
    #[error("trust list is not signed by a pinned root key")]
    NotSigned,
    /// Authorities out of order, duplicated, or keys not matching their ids.
    #[error("trust list is inconsistent: {0}")]
    Inconsistent(&'static str),
}

/// A key the verifier pins to accept trust lists.
pub type RootKey = PublicKey;

/// A key found for a payload's key id.
#[derive(Debug, Clone, Copy)]
pub struct KeyMatch<'a> {
    /// The authority the key signs for.
    pub authority: &'a Authority,
    /// The key.
    pub key: &'a TrustedKey,
}

impl TrustList {
    /// A list to sign. Authorities are sorted by id; keys by id.
    pub fn new(
        version: u64,
        issued_at: i64,
        mut authorities: Vec<Authority>,
    ) -> Result<TrustList, TrustError> {
        authorities.sort_by_key(|a| a.id);
        for a in &mut authorities {
            a.keys.sort_by_key(|k| k.key.id());
        }
        let mut list = TrustList {
            version,
            issued_at,
            authorities,
            index: HashMap::new(),
        };
        list.check_and_index()?;
        Ok(list)
    }

    fn check_and_index(&mut self) -> Result<(), TrustError> {
        let mut index: HashMap<KeyId, Vec<(usize, usize)>> = HashMap::new();
        for (ai, a) in self.authorities.iter().enumerate() {
            if ai > 0 && self.authorities[ai - 1].id >= a.id {
                return Err(TrustError::Inconsistent(
                    "authority ids not strictly increasing",
                ));
            }
            if !crate::wire::text_ok(&a.name) {
                return Err(TrustError::Inconsistent("authority name"));
            }
            for (ki, k) in a.keys.iter().enumerate() {
                if ki > 0 && a.keys[ki - 1].key.id() >= k.key.id() {
                    return Err(TrustError::Inconsistent("key ids not strictly increasing"));
                }
                if k.valid_from < 0 || k.valid_until.is_some_and(|u| u < k.valid_from) {
                    return Err(TrustError::Inconsistent("key validity"));
                }
                index.entry(k.key.id()).or_default().push((ai, ki));
            }
        }
        self.index = index;
        Ok(())
    }

    /// Every key with this id (normally one; a verifier tries each).
    pub fn keys_for(&self, id: KeyId) -> impl Iterator<Item = KeyMatch<'_>> {
        self.index.get(&id).into_iter().flatten().map(|&(ai, ki)| {
            let authority = &self.authorities[ai];
            KeyMatch {
                authority,
                key: &authority.keys[ki],
            }
        })
    }

    /// The authority with this id.
    pub fn authority(&self, id: u32) -> Option<&Authority> {
        self.authorities
            .binary_search_by_key(&id, |a| a.id)
            .ok()
            .map(|i| &self.authorities[i])
    }

    fn encode_body(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u8(TRUST_FORMAT);
        w.varint(self.version);
        w.varint(self.issued_at.max(0) as u64);
        w.varint(self.authorities.len() as u64);
        for a in &self.authorities {
            w.varint(u64::from(a.id));
            w.bytes(&a.country.bytes());
            w.text(&a.name);
            w.varint(a.keys.len() as u64);
            for k in &a.keys {
                w.bytes(&k.key.id().0);
                w.bytes(&k.key.to_bytes());
                let mut flags = 0u8;
                if k.valid_until.is_some() {
                    flags |= 1;
                }
                if matches!(k.status, KeyStatus::Compromised { .. }) {
                    flags |= 2;
                }
                w.u8(flags);
                w.varint(k.valid_from as u64);
                if let Some(u) = k.valid_until {
                    w.varint(u as u64);
                }
                if let KeyStatus::Compromised { since } = k.status {
                    w.varint(since.max(0) as u64);
                }
            }
        }
        w.buf
    }

    /// Signs the list with each root key: `body ‖ count ‖ (root kid ‖ signature)…`.
    pub fn sign(&self, roots: &[&SecretKey]) -> Vec<u8> {
        let body = self.encode_body();
        let mut w = Writer { buf: body };
        let n = roots.len().min(MAX_ROOT_SIGNATURES);
        let sigs: Vec<_> = roots[..n]
            .iter()
            .map(|r| (r.id(), r.sign(Namespace::TrustList, &[&w.buf])))
            .collect();
        w.u8(n as u8);
        for (id, sig) in sigs {
            w.bytes(&id.0);
            w.bytes(&sig);
        }
        w.buf
    }

    /// Parses a signed list and accepts it only if at least one pinned root signed it and
    /// every signature by a pinned root verifies. Signatures by unknown roots are skipped,
    /// so a list signed by an old and a new root works on phones pinning either.
    pub fn from_signed(bytes: &[u8], roots: &[RootKey]) -> Result<TrustList, TrustError> {
        let mut r = Reader::new(bytes);
        let list = decode_body(&mut r)?;
        let body_len = bytes.len() - r.remaining();
        let body = &bytes[..body_len];
        let count = usize::from(r.u8("signatures")?);
        if count == 0 || count > MAX_ROOT_SIGNATURES {
            return Err(err("signatures", Problem::BadValue).into());
        }
        let mut good = 0;
        for i in 0..count {
            let id = KeyId(r.array::<KEY_ID_LEN>(&format!("signatures[{i}].key_id"))?);
            let sig: [u8; 64] = r.array(&format!("signatures[{i}].signature"))?;
            for root in roots.iter().filter(|k| k.id() == id) {
                if !root.verify(Namespace::TrustList, &[body], &sig) {
                    return Err(TrustError::NotSigned);
                }
                good += 1;
            }
        }
        r.finish("signatures")?;
        if good == 0 {
            return Err(TrustError::NotSigned);
        }
        Ok(list)
    }
}

fn decode_body(r: &mut Reader<'_>) -> Result<TrustList, TrustError> {
    if r.u8("format")? != TRUST_FORMAT {
        return Err(err("format", Problem::Reserved).into());
    }
    let version = r.varint("version")?;
    let issued_at = r.varint_max("issued_at", i64::MAX as u64)? as i64;
    let n = r.varint_max("authorities", 100_000)? as usize;
    let mut authorities = Vec::with_capacity(n.min(1024));
    for i in 0..n {
        let f = |name: &str| format!("authorities[{i}].{name}");
        let id = r.varint_max(&f("id"), u64::from(u32::MAX))? as u32;
        let country = Country::from_bytes(r.array(&f("country"))?)
            .ok_or_else(|| err(f("country"), Problem::BadValue))?;
        let name = r.text(&f("name"))?;
        let nk = r.varint_max(&f("keys"), 1000)? as usize;
        let mut keys = Vec::with_capacity(nk);
        for j in 0..nk {
            let g = |name: &str| format!("authorities[{i}].keys[{j}].{name}");
            let id = KeyId(r.array(&g("key_id"))?);
            let key = PublicKey::from_bytes(&r.array(&g("public_key"))?)
                .map_err(|_| err(g("public_key"), Problem::BadValue))?;
            if key.id() != id {
                return Err(err(g("key_id"), Problem::BadValue).into());
            }
            let flags = r.u8(&g("flags"))?;
            if flags & !3 != 0 {
                return Err(err(g("flags"), Problem::Reserved).into());
            }
            let valid_from = r.varint_max(&g("valid_from"), i64::MAX as u64)? as i64;
            let valid_until = (flags & 1 != 0)
                .then(|| {
                    r.varint_max(&g("valid_until"), i64::MAX as u64)
                        .map(|v| v as i64)
                })
                .transpose()?;
            let status = if flags & 2 != 0 {
                KeyStatus::Compromised {
                    since: r.varint_max(&g("compromised_since"), i64::MAX as u64)? as i64,
                }
            } else {
                KeyStatus::Good
            };
            keys.push(TrustedKey {
                key,
                valid_from,
                valid_until,
                status,
            });
        }
        authorities.push(Authority {
            id,
            country,
            name,
            keys,
        });
    }
    let mut list = TrustList {
        version,
        issued_at,
        authorities,
        index: HashMap::new(),
    };
    list.check_and_index()?;
    Ok(list)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn authority(id: u32, country: &str, name: &str, keys: &[&SecretKey]) -> Authority {
        Authority {
            id,
            country: country.parse().unwrap(),
            name: name.into(),
            keys: keys
                .iter()
                .map(|k| TrustedKey {
                    key: k.public().clone(),
                    valid_from: 0,
                    valid_until: None,
                    status: KeyStatus::Good,
                })
                .collect(),
        }
    }

    #[test]
    fn sign_and_verify_with_rotating_roots() {
        let old_root = SecretKey::from_seed(&[1; 32]);
        let new_root = SecretKey::from_seed(&[2; 32]);
        let other = SecretKey::from_seed(&[9; 32]);
        let ma = SecretKey::from_seed(&[5; 32]);
        let list = TrustList::new(
            3,
            1_800_000_000,
            vec![authority(
                7,
                "ZA",
                "Department of Forestry, Fisheries and the Environment",
                &[&ma],
            )],
        )
        .unwrap();
        let both = list.sign(&[&old_root, &new_root]);
        let old_phone = TrustList::from_signed(&both, &[old_root.public().clone()]).unwrap();
        assert_eq!(old_phone, list);
        let new_phone = TrustList::from_signed(&both, &[new_root.public().clone()]).unwrap();
        assert_eq!(new_phone.keys_for(ma.id()).count(), 1);
        assert_eq!(
            TrustList::from_signed(&both, &[other.public().clone()]),
            Err(TrustError::NotSigned)
        );
        // A status-list signature by the root is not a trust-list signature.
        let mut forged = list.encode_body();
        let sig = old_root.sign(Namespace::StatusList, &[&forged]);
        forged.push(1);
        forged.extend_from_slice(&old_root.id().0);
        forged.extend_from_slice(&sig);
        assert_eq!(
            TrustList::from_signed(&forged, &[old_root.public().clone()]),
            Err(TrustError::NotSigned)
        );
    }

    #[test]
    fn tampering_is_refused() {
        let root = SecretKey::from_seed(&[1; 32]);
        let ma = SecretKey::from_seed(&[5; 32]);
        let list = TrustList::new(
            1,
            1_800_000_000,
            vec![authority(1, "KE", "Kenya Wildlife Service", &[&ma])],
        )
        .unwrap();
        let signed = list.sign(&[&root]);
        let pins = [root.public().clone()];
        for i in 0..signed.len() {
            let mut bad = signed.clone();
            bad[i] ^= 0x01;
            assert!(
                TrustList::from_signed(&bad, &pins).is_err(),
                "flip at byte {i}"
            );
        }
        for n in 0..signed.len() {
            assert!(
                TrustList::from_signed(&signed[..n], &pins).is_err(),
                "truncated to {n}"
            );
        }
    }
}
