//! The shared conformance vectors: every case's verdict and reasons, from the file alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::Value;
use verifier_core::Verdict;
use verifier_core::bundle::Bundle;
use verifier_core::keys::PublicKey;
use verifier_core::verify::{Checkpoint, Policy, verify_with};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn load(name: &str) -> Value {
    let path = format!("{}/../test-vectors/v1/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[test]
fn every_v1_vector_gets_its_expected_verdict_and_reasons() {
    let doc = load("vectors.json");
    let roots: Vec<PublicKey> = doc["root_public_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| PublicKey::from_bytes(&unhex(k.as_str().unwrap()).try_into().unwrap()).unwrap())
        .collect();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let at = format!("case {i} ({name})");
        let bundle = Bundle::from_bytes(&unhex(case["bundle"].as_str().unwrap()), &roots)
            .unwrap_or_else(|e| panic!("{at}: bundle refused: {e}"));
        let checkpoint = match case["checkpoint"].as_str().unwrap() {
            "export" => Checkpoint::Export,
            "import" => Checkpoint::Import,
            other => panic!("{at}: checkpoint {other}"),
        };
        let policy = Policy {
            checkpoint,
            ..Policy::default()
        };
        let v = verify_with(
            case["qr"].as_str().unwrap(),
            case["now"].as_i64().unwrap(),
            &bundle.trust,
            &bundle.status,
            &policy,
            case["time_floor"].as_i64(),
        );
        let verdict = match v.verdict {
            Verdict::Valid => "valid",
            Verdict::ValidWithWarnings => "valid_with_warnings",
            Verdict::Invalid => "invalid",
        };
        let expected = &case["expected"];
        assert_eq!(verdict, expected["verdict"].as_str().unwrap(), "{at}");
        let mut got = v.codes();
        got.sort_unstable();
        let want: Vec<&str> = expected["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{at}");
        assert_eq!(
            v.permit.as_ref().map(|p| p.number.as_str()),
            expected["permit_number"].as_str(),
            "{at}"
        );
        // Decoded fields are shown only when the signature verified.
        assert_eq!(v.permit.is_some(), v.issuer.is_some(), "{at}");
    }
}
