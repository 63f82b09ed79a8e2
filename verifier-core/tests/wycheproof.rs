//! Project Wycheproof's 151 Ed25519 verification vectors against the core's primitive.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::Value;
use verifier_core::keys::verify_ed25519_strict;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn all_151_vectors_are_classified_as_wycheproof_does() {
    let path = format!(
        "{}/../test-vectors/wycheproof/ed25519_test.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for group in doc["testGroups"].as_array().unwrap() {
        let pk = unhex(group["publicKey"]["pk"].as_str().unwrap());
        for t in group["tests"].as_array().unwrap() {
            let id = t["tcId"].as_u64().unwrap();
            let msg = unhex(t["msg"].as_str().unwrap());
            let sig = unhex(t["sig"].as_str().unwrap());
            let accepted = verify_ed25519_strict(&pk, &msg, &sig).is_ok();
            let expected = match t["result"].as_str().unwrap() {
                "valid" => true,
                "invalid" => false,
                other => panic!("tcId {id}: result {other} needs a decision"),
            };
            assert_eq!(
                accepted, expected,
                "tcId {id} ({}): flags {}",
                t["comment"], t["flags"]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 151);
}
