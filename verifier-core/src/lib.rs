//! permitseal verifier core: the signed permit format, trust and status data, and the
//! offline verifier.
//!
//! Sans-I/O: no network, storage, randomness or system clock inside. `now` is a parameter;
//! trust and status data are passed in as values. The same code signs (on the server) and
//! verifies (on phones and desks), so the bytes signed are the bytes checked.
//!
//! ```
//! use verifier_core::{keys::SecretKey, payload, permit::*, status::*, trust::*, verify};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let root = SecretKey::from_seed(&[1; 32]);
//! let ma = SecretKey::from_seed(&[2; 32]);
//! let now = 1_796_000_000; // 2026-11-29
//! let draft: PermitDraft = serde_json::from_str(r#"{
//!   "document_type": "export", "number": "KE/2026/0001", "valid_until": "2027-05-01",
//!   "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": "KE"},
//!   "importer": {"name": "Importer GmbH", "country": "DE"},
//!   "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
//!              "appendix": "II", "source": "A", "quantity": "12.5", "unit": "KIL"}]}"#)?;
//! let ctx = IssueContext { issuing_country: "KE".parse()?, issued_at: now, status_index: 0 };
//! let text = payload::sign(&Permit::new(&draft, ctx)?, &ma);
//!
//! let authority = Authority { id: 1, country: "KE".parse()?, name: "KWS".into(),
//!     keys: vec![TrustedKey { key: ma.public().clone(), valid_from: 0, valid_until: None,
//!                             status: KeyStatus::Good }] };
//! let trust_bytes = TrustList::new(1, now, vec![authority])?.sign(&[&root]);
//! let trust = TrustList::from_signed(&trust_bytes, &[root.public().clone()])?;
//! let mut list = StatusList::new(1, 1, now);
//! list.set(0, PermitState::Valid);
//! let mut statuses = StatusSet::new();
//! statuses.insert(StatusList::from_signed(&list.sign(&ma), &trust)?);
//!
//! let v = verify::verify(&text, now + 60, &trust, &statuses);
//! assert_eq!(v.verdict, verify::Verdict::Valid);
//! # Ok(()) }
//! ```

pub mod bundle;
pub mod codes;
pub mod date;
pub mod device;
pub mod i18n;
pub mod keys;
pub mod log;
#[cfg(feature = "openapi")]
mod openapi;
pub mod payload;
pub mod permit;
#[cfg(feature = "qr-decode")]
pub mod qr;
pub mod report;
pub mod status;
pub mod text;
pub mod trust;
pub mod verify;
pub mod wire;

pub use verify::{Policy, Verdict, Verification, verify, verify_with};
