//! Device signing in the outbox: every item is signed at record time through the foreign
//! signer, the signature survives a restart, travels in the upload body, and verifies over
//! the bytes of FORMAT.md §10 with a strict P-256 verifier. The signer here is a software
//! P-256 key (the `p256` crate); on a phone it is the platform's key store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod support;

use std::sync::{Arc, Mutex};

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use permitseal_mobile::outbox::Payload;
use permitseal_mobile::{
    DeviceSigner, EndorsedLine, ExportEndorsement, Outbox, Place, ScanReport, SdkFailure,
    SignerError, VerdictKind, device_key_id,
};
use verifier_core::device::{DeviceKeyId, endorsement_message, scan_message};
use verifier_core::report::{Endorsement, EndorsementWire, Form, Scan, ScanWire};

const T: i64 = 1_796_000_000;

/// A software signer; `high_s` makes it answer with the high-s twin of each signature (as
/// platforms may), `broken` makes it fail.
struct SoftSigner {
    key: SigningKey,
    high_s: bool,
    broken: Mutex<bool>,
}

impl SoftSigner {
    fn new(label: &str, high_s: bool) -> Arc<SoftSigner> {
        use sha2::Digest as _;
        let scalar = sha2::Sha256::digest(format!("permitseal test key: {label}").as_bytes());
        Arc::new(SoftSigner {
            key: SigningKey::from_slice(&scalar).unwrap(),
            high_s,
            broken: Mutex::new(false),
        })
    }

    fn public(&self) -> Vec<u8> {
        self.key
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec()
    }
}

impl DeviceSigner for SoftSigner {
    fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        Ok(self.public())
    }

    fn sign(&self, message: Vec<u8>) -> Result<Vec<u8>, SignerError> {
        if *self.broken.lock().unwrap() {
            return Err(SignerError::UserActionRequired {
                reason: "device locked".into(),
            });
        }
        let sig: Signature = self.key.sign(&message);
        let low = sig.normalize_s();
        let out = if self.high_s {
            let (r, s) = low.split_scalars();
            Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap()
        } else {
            low
        };
        Ok(out.to_der().as_bytes().to_vec())
    }
}

fn scan(i: i64) -> ScanReport {
    ScanReport {
        qr_text: format!("PS1:SCAN{i}"),
        scanned_at: T + i,
        place: Place::Coordinates {
            latitude: -4.05,
            longitude: 39.66,
        },
        verdict: VerdictKind::ValidWithWarnings,
        device_id: "device-1".into(),
        officer_id: Some("officer-7".into()),
    }
}

fn endorsement() -> ExportEndorsement {
    ExportEndorsement {
        qr_text: "PS1:ABC".into(),
        lines: vec![EndorsedLine {
            block: "A".into(),
            quantity: "12.50".into(),
        }],
        port: "KEMBA".into(),
        transport_document: Some("MSKU1234567".into()),
        endorsed_at: T,
        device_id: "device-1".into(),
        officer_id: None,
    }
}

/// Checks every item of the upload bodies as the server reads them.
fn verify_bodies(outbox: &Outbox, public: &[u8]) -> usize {
    let key = VerifyingKey::from_sec1_bytes(public).unwrap();
    let id = DeviceKeyId::of(&public.try_into().unwrap());
    let mut n = 0;
    for item in outbox.peek(100) {
        let (_, body) =
            permitseal_mobile::sync::wire::batch_body(std::slice::from_ref(&item)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let (message, sig) = match &item.payload {
            Payload::Scan(_) => {
                let w: ScanWire = serde_json::from_value(v["scans"][0].clone()).unwrap();
                let s = Scan::check(&w, Form::Received, T).unwrap();
                (scan_message(&s, &id), s.signature.unwrap())
            }
            Payload::Endorsement(_) => {
                let w: EndorsementWire =
                    serde_json::from_value(v["endorsements"][0].clone()).unwrap();
                let e = Endorsement::check(&w, Form::Received, T).unwrap();
                (endorsement_message(&e, &id), e.signature.unwrap())
            }
        };
        assert_eq!(sig.key_id, id);
        let sig = Signature::from_slice(&sig.signature).unwrap();
        assert_eq!(sig.normalize_s(), sig, "low s on the wire");
        key.verify(&message, &sig).unwrap();
        let mut altered = message.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(key.verify(&altered, &sig).is_err());
        n += 1;
    }
    n
}

#[test]
fn items_are_signed_when_recorded_and_stay_signed_across_restarts() {
    for high_s in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox").to_str().unwrap().to_string();
        let signer = SoftSigner::new("device-a", high_s);
        let public = signer.public();
        let ob = Outbox::open_signed(path.clone(), signer.clone()).unwrap();
        let key_id = device_key_id(public.clone()).unwrap();
        assert_eq!(ob.device_key_id(), Some(key_id.clone()));
        ob.enqueue_scan(scan(1)).unwrap();
        ob.enqueue_endorsement(endorsement()).unwrap();
        let pending = ob.list_pending(10);
        assert!(
            pending
                .iter()
                .all(|p| p.device_key_id.as_deref() == Some(&key_id))
        );
        assert_eq!(verify_bodies(&ob, &public), 2);
        drop(ob);
        // Reopened without a signer: what was signed stays signed, new items are not.
        let ob = Outbox::open(path.clone()).unwrap();
        assert_eq!(verify_bodies(&ob, &public), 2);
        ob.enqueue_scan(scan(2)).unwrap();
        assert_eq!(ob.list_pending(10)[2].device_key_id, None);
    }
}

#[test]
fn a_signer_that_fails_queues_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox").to_str().unwrap().to_string();
    let signer = SoftSigner::new("device-a", false);
    let ob = Outbox::open_signed(path, signer.clone()).unwrap();
    *signer.broken.lock().unwrap() = true;
    match ob.enqueue_scan(scan(1)) {
        Err(SdkFailure::Signing { reason }) => assert!(reason.contains("locked"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(ob.pending_count(), 0);
}

/// A signer whose public key or signature is not P-256 DER is refused with `Signing`.
struct Garbage(Vec<u8>, Vec<u8>);

impl DeviceSigner for Garbage {
    fn public_key(&self) -> Result<Vec<u8>, SignerError> {
        Ok(self.0.clone())
    }
    fn sign(&self, _message: Vec<u8>) -> Result<Vec<u8>, SignerError> {
        Ok(self.1.clone())
    }
}

#[test]
fn signers_that_are_not_p256_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("outbox").to_str().unwrap().to_string();
    let ed25519_sized = Arc::new(Garbage(vec![7; 32], vec![0; 64]));
    assert!(matches!(
        Outbox::open_signed(path.clone(), ed25519_sized),
        Err(SdkFailure::Signing { .. })
    ));
    let good = SoftSigner::new("device-a", false).public();
    // A raw 64-byte signature instead of DER.
    let raw = Arc::new(Garbage(good, vec![1; 64]));
    let ob = Outbox::open_signed(path, raw).unwrap();
    assert!(matches!(
        ob.enqueue_endorsement(endorsement()),
        Err(SdkFailure::Signing { .. })
    ));
    assert_eq!(ob.pending_count(), 0);
}

/// Against the real server (in-process, SQLite) through the Rust transport: enrolment with
/// proof of possession, signed items accepted and shown as signed in the permit's history,
/// an unsigned item refused once the key is enrolled (and set aside, not blocking the queue).
#[test]
fn enrol_then_upload_signed_items_to_the_real_server() {
    let server = support::Server::start();
    let qr = server.issue("KE/2026/0700");
    let client = server.client(&server.device_officer);
    let signer = SoftSigner::new("device-real-server", true);
    let key_id = device_key_id(signer.public()).unwrap();
    for _ in 0..2 {
        match client.enrol_device(signer.clone()).unwrap() {
            permitseal_mobile::Enrolment::Enrolled { device_key_id } => {
                assert_eq!(device_key_id, key_id)
            }
            other => panic!("{other:?}"),
        }
    }
    let other = SoftSigner::new("another key", false);
    assert!(matches!(
        client.enrol_device(other).unwrap(),
        permitseal_mobile::Enrolment::Conflict { .. }
    ));

    let dir = tempfile::tempdir().unwrap();
    // Queued unsigned before the outbox had the signer: refused now, set aside.
    let ob = Outbox::open(support::outbox_dir(dir.path())).unwrap();
    ob.enqueue_scan(support::scan(&qr, 0)).unwrap();
    drop(ob);
    let ob = Outbox::open_signed(support::outbox_dir(dir.path()), signer.clone()).unwrap();
    let mut ids = vec![];
    for i in 1..4 {
        ids.push(ob.enqueue_scan(support::scan(&qr, i)).unwrap());
    }
    let now = permitseal_mobile::clock::now();
    let mut e = endorsement();
    e.qr_text = qr.clone();
    e.endorsed_at = now - 30;
    ids.push(ob.enqueue_endorsement(e).unwrap());
    let report = client.upload(ob.clone(), 10).unwrap();
    assert_eq!(report.outcome, permitseal_mobile::UploadOutcome::Done);
    assert_eq!((report.uploaded, report.rejected), (4, 1), "{report:?}");
    server.assert_signed(&qr, &ids, &key_id);
}
