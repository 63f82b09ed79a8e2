//! The device-report vectors (`test-vectors/v1/device-reports.json`, FORMAT.md §10): the bytes
//! built from each report equal the published ones, and the rule of §10.5 with a strict P-256
//! verifier gives each case's expected answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;
use verifier_core::device::{
    DeviceKeyId, check_signature, endorsement_message, enrolment_message, public_key_shape,
    scan_message,
};
use verifier_core::report::{Endorsement, EndorsementWire, Form, Scan, ScanWire};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn load() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/v1/device-reports.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Strict verification as the server does it: a valid point, `r, s` in `[1, n − 1]`, low `s`.
fn verify(public: &[u8], message: &[u8], sig: &[u8; 64]) -> bool {
    let Ok(key) = VerifyingKey::from_sec1_bytes(public) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(sig) else {
        return false;
    };
    sig.normalize_s() == sig && key.verify(message, &sig).is_ok()
}

#[test]
fn every_case_builds_the_published_bytes_and_gets_its_answer() {
    let doc = load();
    let now = doc["now"].as_i64().unwrap();
    let devices = doc["devices"].as_array().unwrap();
    let public_of = |label: &str| {
        let d = devices.iter().find(|d| d["label"] == label).unwrap();
        unhex(d["public_key"].as_str().unwrap())
    };
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let mut codes = std::collections::BTreeSet::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let uploader = case["uploader"].as_str().map(public_of);
        let enrolled = uploader
            .as_deref()
            .map(|p| DeviceKeyId::of(&public_key_shape(p).unwrap()));
        let checked = match case["kind"].as_str().unwrap() {
            "scan" => {
                let w: ScanWire = serde_json::from_value(case["report"].clone()).unwrap();
                Scan::check(&w, Form::Received, now).map(|s| {
                    let sig = s.signature.clone();
                    (
                        sig,
                        Box::new(move |k: &DeviceKeyId| scan_message(&s, k))
                            as Box<dyn Fn(&DeviceKeyId) -> Vec<u8>>,
                    )
                })
            }
            "endorsement" => {
                let w: EndorsementWire = serde_json::from_value(case["report"].clone()).unwrap();
                Endorsement::check(&w, Form::Received, now).map(|e| {
                    let sig = e.signature.clone();
                    (
                        sig,
                        Box::new(move |k: &DeviceKeyId| endorsement_message(&e, k))
                            as Box<dyn Fn(&DeviceKeyId) -> Vec<u8>>,
                    )
                })
            }
            other => panic!("{name}: unknown kind {other}"),
        };
        let outcome = match checked {
            Err(e) => Err(e.code()),
            Ok((sig, build)) => {
                if let (Some(expected), Some(sig)) = (case["message"].as_str(), &sig) {
                    assert_eq!(hex(&build(&sig.key_id)), expected, "{name}: message bytes");
                }
                check_signature(sig.as_ref(), enrolled.as_ref(), &build, |m, s| {
                    verify(uploader.as_deref().unwrap(), m, s)
                })
                .map(|_| ())
                .map_err(|r| r.code())
            }
        };
        let expected = &case["expected"];
        if expected["accepted"].as_bool().unwrap() {
            assert_eq!(outcome, Ok(()), "{name}");
        } else {
            let code = expected["code"].as_str().unwrap();
            assert_eq!(outcome, Err(code), "{name}");
            codes.insert(code);
        }
    }
    for code in [
        "signature_required",
        "device_not_enrolled",
        "device_key_mismatch",
        "bad_device_signature",
        "invalid_signature",
    ] {
        assert!(codes.contains(code), "no case is refused with {code}");
    }
}

#[test]
fn enrolment_proofs_verify_over_their_message() {
    for d in load()["devices"].as_array().unwrap() {
        let public = unhex(d["public_key"].as_str().unwrap());
        let key = public_key_shape(&public).unwrap();
        assert_eq!(d["key_id"], DeviceKeyId::of(&key).to_string());
        let message = enrolment_message(&key);
        assert_eq!(d["enrolment_message"], hex(&message));
        let proof: [u8; 64] = unhex(d["enrolment_proof"].as_str().unwrap())
            .try_into()
            .unwrap();
        assert!(verify(&public, &message, &proof));
        assert!(!verify(&public, &message[1..], &proof));
    }
}
