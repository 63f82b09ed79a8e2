//! Device keys: what an officer's device signs for the scan reports and export endorsements it
//! uploads (docs/FORMAT.md §10), so that the server and anyone reading a permit's history can
//! tell which enrolled device recorded a report and that nobody changed it since.
//!
//! The algorithm is ECDSA over P-256 with SHA-256: the one key type that both Android Keystore
//! (StrongBox or TEE) and the iOS Secure Enclave keep in hardware. This module builds the exact
//! bytes to sign and reads and normalises signatures; it holds no elliptic-curve arithmetic, so
//! that the phone library stays small (the phone signs with its platform's crypto; the server
//! verifies with a P-256 implementation).
//!
//! Sans-I/O, like the rest of the core: no randomness, no clock, no keys.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::report::{Endorsement, Place, Scan};
use crate::verify::Verdict;
use crate::wire::{Hex, parse_hex};

/// Length of a SEC1 uncompressed P-256 public key: `0x04 ‖ x ‖ y`.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a device key id.
pub const DEVICE_KEY_ID_LEN: usize = 16;
/// Length of a signature on the wire: `r ‖ s`, 32 bytes each, big-endian.
pub const SIGNATURE_LEN: usize = 64;
/// The algorithm's name where one is written down (enrolment, history).
pub const ALGORITHM: &str = "ecdsa-p256-sha256";

const KEY_ID_NAMESPACE: &[u8] = b"permitseal/v1/device-key-id";
const SCAN_NAMESPACE: &[u8] = b"permitseal/v1/device-scan";
const ENDORSEMENT_NAMESPACE: &[u8] = b"permitseal/v1/device-endorsement";
const ENROLMENT_NAMESPACE: &[u8] = b"permitseal/v1/device-enrolment";

/// The order `n` of the P-256 group, big-endian.
const ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];
/// `⌊n / 2⌋`: the largest `s` a signature on the wire may carry.
const HALF_ORDER: [u8; 32] = [
    0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
];

/// A device key id: the first 16 bytes of
/// SHA-256(`"permitseal/v1/device-key-id" ‖ 0x00 ‖ public key`), written as 32 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceKeyId(pub [u8; DEVICE_KEY_ID_LEN]);

impl DeviceKeyId {
    /// The id of a SEC1 uncompressed public key.
    pub fn of(public_key: &[u8; PUBLIC_KEY_LEN]) -> DeviceKeyId {
        let mut h = Sha256::new();
        h.update(KEY_ID_NAMESPACE);
        h.update([0u8]);
        h.update(public_key);
        let digest = h.finalize();
        let mut id = [0u8; DEVICE_KEY_ID_LEN];
        id.copy_from_slice(&digest[..DEVICE_KEY_ID_LEN]);
        DeviceKeyId(id)
    }

    /// Reads the wire form: exactly 32 lower-case hex digits.
    pub fn parse(s: &str) -> Option<DeviceKeyId> {
        parse_hex(s).map(DeviceKeyId)
    }
}

impl fmt::Display for DeviceKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Hex(&self.0).fmt(f)
    }
}

impl fmt::Debug for DeviceKeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceKeyId({self})")
    }
}

/// The shape of a public key as the device gives it: 65 bytes starting with `0x04`. Whether
/// the point is on the curve is for a P-256 implementation to say (the server checks it at
/// enrolment).
pub fn public_key_shape(bytes: &[u8]) -> Option<[u8; PUBLIC_KEY_LEN]> {
    let key: [u8; PUBLIC_KEY_LEN] = bytes.try_into().ok()?;
    (key[0] == 0x04).then_some(key)
}

/// A report's device signature as it travels: which key, and `r ‖ s`.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceSignature {
    /// The signing key's id.
    pub key_id: DeviceKeyId,
    /// `r ‖ s`, big-endian, `s` at most `⌊n / 2⌋` (see [`is_low_s`]).
    pub signature: [u8; SIGNATURE_LEN],
}

impl DeviceSignature {
    /// The signature as 128 lower-case hex digits.
    pub fn signature_hex(&self) -> String {
        Hex(&self.signature).to_string()
    }

    /// Reads the wire form (32 and 128 lower-case hex digits).
    pub fn parse(key_id: &str, signature: &str) -> Option<DeviceSignature> {
        Some(DeviceSignature {
            key_id: DeviceKeyId::parse(key_id)?,
            signature: parse_hex(signature)?,
        })
    }
}

impl fmt::Debug for DeviceSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSignature")
            .field("key_id", &self.key_id)
            .field("signature", &self.signature_hex())
            .finish()
    }
}

/// Canonical field encodings of §10.
struct Message(Vec<u8>);

impl Message {
    fn new(namespace: &[u8], key_id: &DeviceKeyId) -> Message {
        let mut m = Message(Vec::with_capacity(256));
        m.0.extend_from_slice(namespace);
        m.0.push(0);
        m.0.extend_from_slice(&key_id.0);
        m
    }

    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8 & 0x7f) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    /// `varint(byte length) ‖ UTF-8`.
    fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    /// `0x00` when absent, `0x01 ‖ str` when present.
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            None => self.0.push(0),
            Some(s) => {
                self.0.push(1);
                self.str(s);
            }
        }
    }

    fn time(&mut self, t: i64) {
        self.0.extend_from_slice(&t.to_be_bytes());
    }

    fn place(&mut self, p: &Place) {
        self.opt_str(p.locode.as_deref());
        match p.coords {
            None => self.0.push(0),
            Some((lat, lon)) => {
                self.0.push(1);
                self.0.extend_from_slice(&lat.to_bits().to_be_bytes());
                self.0.extend_from_slice(&lon.to_bits().to_be_bytes());
            }
        }
    }
}

fn verdict_byte(v: Verdict) -> u8 {
    match v {
        Verdict::Valid => 0,
        Verdict::ValidWithWarnings => 1,
        Verdict::Invalid => 2,
    }
}

/// The bytes a device signs for a checked scan report (FORMAT.md §10.2). Built from the
/// checked (canonical) values, so the device and the server build the same bytes.
pub fn scan_message(s: &Scan, key_id: &DeviceKeyId) -> Vec<u8> {
    let mut m = Message::new(SCAN_NAMESPACE, key_id);
    m.str(&s.id);
    m.str(&s.device_id);
    m.opt_str(s.officer.as_deref());
    m.time(s.scanned_at);
    m.place(&s.place);
    m.0.push(verdict_byte(s.verdict));
    m.str(&s.qr);
    m.0
}

/// The bytes a device signs for a checked export endorsement (FORMAT.md §10.3).
pub fn endorsement_message(e: &Endorsement, key_id: &DeviceKeyId) -> Vec<u8> {
    let mut m = Message::new(ENDORSEMENT_NAMESPACE, key_id);
    m.str(&e.id);
    m.str(&e.device_id);
    m.opt_str(e.officer.as_deref());
    m.time(e.endorsed_at);
    m.place(&e.place);
    m.opt_str(e.transport_document.as_deref());
    // At most 26 lines (the check refuses more), so the count fits a byte.
    m.0.push(e.lines.len() as u8);
    for l in &e.lines {
        // Block letters are `A`–`Z` (checked), one byte each.
        let mut letter = [0u8; 4];
        m.0.extend_from_slice(l.block.encode_utf8(&mut letter).as_bytes());
        m.str(&l.quantity.to_string());
    }
    m.str(&e.qr);
    m.0
}

/// The bytes a device signs to enrol its key (FORMAT.md §10.4): proof that it holds the
/// private key of the public key it binds to its token.
pub fn enrolment_message(public_key: &[u8; PUBLIC_KEY_LEN]) -> Vec<u8> {
    let mut m = Vec::with_capacity(ENROLMENT_NAMESPACE.len() + 1 + PUBLIC_KEY_LEN);
    m.extend_from_slice(ENROLMENT_NAMESPACE);
    m.push(0);
    m.extend_from_slice(public_key);
    m
}

/// Why a report's device signature is refused (FORMAT.md §10.5). The server answers each
/// with HTTP 422 and [`SignatureRefusal::code`], which a device files as a refused item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureRefusal {
    /// The uploading token has an enrolled key and the report carries no signature.
    #[error("the device's key is enrolled, so its reports must be signed")]
    Required,
    /// The report is signed but the uploading token has no enrolled key to check it with.
    #[error("the report is signed but this device token has no enrolled key")]
    NotEnrolled,
    /// The report names another key than the one enrolled for the uploading token: it was
    /// signed by another device.
    #[error("the report was signed by another device's key")]
    KeyMismatch,
    /// The signature does not verify over the report as received.
    #[error("the signature does not verify over the report")]
    Bad,
}

impl SignatureRefusal {
    /// The stable error code.
    pub fn code(self) -> &'static str {
        match self {
            SignatureRefusal::Required => "signature_required",
            SignatureRefusal::NotEnrolled => "device_not_enrolled",
            SignatureRefusal::KeyMismatch => "device_key_mismatch",
            SignatureRefusal::Bad => "bad_device_signature",
        }
    }
}

/// The rule of FORMAT.md §10.5 for one report: `enrolled` is the key id bound to the
/// uploading token, `message` builds the report's signed bytes, `verify` checks a signature
/// over them with the enrolled key (strict ECDSA P-256, see §10.1). Returns the key id that
/// signed, or `None` for an unsigned report from a token without a key.
pub fn check_signature(
    signature: Option<&DeviceSignature>,
    enrolled: Option<&DeviceKeyId>,
    message: impl FnOnce(&DeviceKeyId) -> Vec<u8>,
    verify: impl FnOnce(&[u8], &[u8; SIGNATURE_LEN]) -> bool,
) -> Result<Option<DeviceKeyId>, SignatureRefusal> {
    match (signature, enrolled) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(SignatureRefusal::Required),
        (Some(_), None) => Err(SignatureRefusal::NotEnrolled),
        (Some(sig), Some(key)) if sig.key_id != *key => Err(SignatureRefusal::KeyMismatch),
        (Some(sig), Some(key)) => {
            if verify(&message(key), &sig.signature) {
                Ok(Some(*key))
            } else {
                Err(SignatureRefusal::Bad)
            }
        }
    }
}

/// Whether `s` (big-endian) is at most `⌊n / 2⌋`. ECDSA signatures come in pairs `(r, s)`
/// and `(r, n − s)` that both verify; the wire admits only the low one, so a signed report
/// has exactly one signature.
pub fn is_low_s(s: &[u8; 32]) -> bool {
    *s <= HALF_ORDER
}

/// A signature as platforms produce it (X9.62 DER: `SEQUENCE { INTEGER r, INTEGER s }`, what
/// `java.security`'s `SHA256withECDSA`, Android Keystore and CryptoKit's `derRepresentation`
/// give) turned into the wire form: `r ‖ s`, `s` replaced by `n − s` when it is high. `None`
/// for anything that is not a strict DER encoding of two integers in `[1, n − 1]`.
pub fn signature_from_der(der: &[u8]) -> Option<[u8; SIGNATURE_LEN]> {
    let (&tag, rest) = der.split_first()?;
    let (&len, body) = rest.split_first()?;
    if tag != 0x30 || len >= 0x80 || usize::from(len) != body.len() {
        return None;
    }
    let (r, rest) = der_integer(body)?;
    let (mut s, rest) = der_integer(rest)?;
    if !rest.is_empty() {
        return None;
    }
    if !is_low_s(&s) {
        s = sub(&ORDER, &s);
    }
    let mut out = [0u8; SIGNATURE_LEN];
    out[..32].copy_from_slice(&r);
    out[32..].copy_from_slice(&s);
    Some(out)
}

/// One DER INTEGER holding a value in `[1, n − 1]`, left-padded to 32 bytes, and what follows.
fn der_integer(b: &[u8]) -> Option<([u8; 32], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let len = usize::from(len);
    if tag != 0x02 || !(1..=33).contains(&len) || rest.len() < len {
        return None;
    }
    let (mut v, rest) = rest.split_at(len);
    // Minimal two's complement: positive, and a leading zero only before a high bit.
    let first = *v.first()?;
    if first & 0x80 != 0 {
        return None;
    }
    if first == 0 {
        match v.get(1) {
            Some(next) if next & 0x80 != 0 => v = &v[1..],
            _ => return None,
        }
    }
    if v.len() > 32 {
        return None;
    }
    let mut out = [0u8; 32];
    out[32 - v.len()..].copy_from_slice(v);
    if out == [0u8; 32] || out >= ORDER {
        return None;
    }
    Some((out, rest))
}

/// `a − b` for big-endian 256-bit values with `a > b`.
fn sub(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = d as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn der(r: &[u8], s: &[u8]) -> Vec<u8> {
        let int = |v: &[u8]| {
            let mut out = vec![0x02, v.len() as u8];
            out.extend_from_slice(v);
            out
        };
        let body = [int(r), int(s)].concat();
        let mut out = vec![0x30, body.len() as u8];
        out.extend(body);
        out
    }

    #[test]
    fn half_order_is_half_the_order() {
        // 2·⌊n/2⌋ + 1 = n for odd n.
        let mut twice = [0u8; 32];
        let mut carry = 1u16;
        for i in (0..32).rev() {
            let v = u16::from(HALF_ORDER[i]) * 2 + carry;
            twice[i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
        assert_eq!(twice, ORDER);
    }

    #[test]
    fn high_s_is_replaced_by_its_low_twin() {
        let r = [0x11u8; 32];
        let mut high = HALF_ORDER;
        high[31] += 1;
        let fixed = signature_from_der(&der(&r, &high)).unwrap();
        assert_eq!(&fixed[..32], &r);
        assert_eq!(fixed[32..], HALF_ORDER);
        let mut top = ORDER;
        top[31] -= 1;
        let fixed = signature_from_der(&der(&r, &[&[0u8][..], &top[..]].concat())).unwrap();
        assert_eq!(fixed[63], 1, "n - 1 becomes 1");
        assert!(fixed[32..63].iter().all(|&b| b == 0));
        let low = signature_from_der(&der(&r, &[1])).unwrap();
        assert_eq!(low[63], 1);
        assert!(low[32..63].iter().all(|&b| b == 0));
    }

    #[test]
    fn non_strict_der_is_refused() {
        let r = [0x11u8; 32];
        assert!(signature_from_der(&der(&r, &[0])).is_none(), "zero s");
        assert!(
            signature_from_der(&der(&r, &[0, 1])).is_none(),
            "padding zero"
        );
        assert!(signature_from_der(&der(&r, &[0x80])).is_none(), "negative");
        assert!(signature_from_der(&der(&r, &ORDER)).is_none(), "negative n");
        let mut n = vec![0u8];
        n.extend_from_slice(&ORDER);
        assert!(signature_from_der(&der(&r, &n)).is_none(), "s = n");
        let mut long = der(&r, &[1]);
        long.push(0);
        assert!(signature_from_der(&long).is_none(), "trailing byte");
        assert!(signature_from_der(&[0x30, 0x00]).is_none());
        assert!(signature_from_der(&[]).is_none());
    }

    #[test]
    fn key_ids_are_namespaced_hashes() {
        let mut key = [7u8; PUBLIC_KEY_LEN];
        key[0] = 4;
        let id = DeviceKeyId::of(&key);
        let mut h = Sha256::new();
        h.update(b"permitseal/v1/device-key-id\0");
        h.update(key);
        assert_eq!(id.0[..], h.finalize()[..16]);
        assert_eq!(DeviceKeyId::parse(&id.to_string()), Some(id));
        assert_eq!(DeviceKeyId::parse(&id.to_string().to_uppercase()), None);
        assert!(public_key_shape(&key).is_some());
        assert!(public_key_shape(&key[1..]).is_none());
        key[0] = 2;
        assert!(public_key_shape(&key).is_none());
    }
}
