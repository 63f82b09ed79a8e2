//! The shared conformance vectors: every case's verdict and reasons, from the file alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::Value;
use verifier_core::Verdict;
use verifier_core::bundle::Bundle;
use verifier_core::keys::PublicKey;
use verifier_core::verify::{Checkpoint, Policy, ReasonCode, verify_with};

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

fn roots(doc: &Value) -> Vec<PublicKey> {
    doc["root_public_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| PublicKey::from_bytes(&unhex(k.as_str().unwrap()).try_into().unwrap()).unwrap())
        .collect()
}

/// Runs one case as FORMAT.md and test-vectors/README.md say: load the bundle, apply the
/// deltas in turn, verify. A case of `vectors.json` has no deltas and its bundle loads.
fn check(case: &Value, roots: &[PublicKey], at: &str) {
    let expected = &case["expected"];
    let want_bundle = expected["bundle"].as_str().unwrap_or("accepted");
    let mut bundle = match Bundle::from_bytes(&unhex(case["bundle"].as_str().unwrap()), roots) {
        Ok(b) => b,
        Err(e) => {
            assert_eq!(want_bundle, "refused", "{at}: bundle refused: {e}");
            return;
        }
    };
    assert_eq!(want_bundle, "accepted", "{at}: bundle accepted");
    // Files from vectors-6.json on say the tree head an accepted bundle carries.
    if let Some(want) = expected.get("tree_head") {
        let got = bundle.tree_head.map(
            |h| serde_json::json!({"size": h.size, "root": hex::encode(h.root), "time": h.time}),
        );
        assert_eq!(
            got.as_ref().unwrap_or(&Value::Null),
            want,
            "{at}: tree head"
        );
    }
    let deltas = case["deltas"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let got: Vec<&str> = deltas
        .iter()
        .map(|d| {
            match bundle
                .status
                .apply_delta(&unhex(d.as_str().unwrap()), &bundle.trust)
            {
                Ok(_) => "applied",
                Err(_) => "refused",
            }
        })
        .collect();
    let want: Vec<&str> = expected["deltas"]
        .as_array()
        .map(|a| a.iter().map(|d| d.as_str().unwrap()).collect())
        .unwrap_or_default();
    assert_eq!(got, want, "{at}: deltas");
    let checkpoint = match case["checkpoint"].as_str().unwrap() {
        "export" => Checkpoint::Export,
        "import" => Checkpoint::Import,
        "inspection" => Checkpoint::Inspection,
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

fn check_file(file: &str, at_least: usize) {
    let doc = load(file);
    let roots = roots(&doc);
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= at_least, "{file}: {} cases", cases.len());
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        check(case, &roots, &format!("{file} case {i} ({name})"));
    }
}

#[test]
fn every_v1_vector_gets_its_expected_verdict_and_reasons() {
    check_file("vectors.json", 30);
}

#[test]
fn every_errata_vector_gets_its_expected_bundle_deltas_verdict_and_reasons() {
    check_file("vectors-2.json", 33);
}

#[test]
fn every_deceptive_text_vector_gets_its_expected_verdict_and_reasons() {
    check_file("vectors-3.json", 16);
}

#[test]
fn every_border_checkpoint_vector_gets_its_expected_verdict_and_reasons() {
    check_file("vectors-4.json", 6);
}

#[test]
fn every_cancelled_on_import_vector_gets_its_expected_verdict_and_reasons() {
    check_file("vectors-5.json", 5);
}

#[test]
fn every_tree_head_vector_gets_its_expected_bundle_head_and_verdict() {
    check_file("vectors-6.json", 12);
}

/// Each reason code of FORMAT.md §7 is named there and is the expected reason of at least
/// one vector; and each code the spec names is one the core knows.
#[test]
fn every_reason_code_of_section_7_has_a_vector() {
    let mut seen = std::collections::BTreeSet::new();
    for file in [
        "vectors.json",
        "vectors-2.json",
        "vectors-3.json",
        "vectors-4.json",
        "vectors-5.json",
        "vectors-6.json",
    ] {
        for case in load(file)["cases"].as_array().unwrap() {
            for r in case["expected"]["reasons"].as_array().unwrap() {
                seen.insert(r.as_str().unwrap().to_owned());
            }
        }
    }
    let spec = std::fs::read_to_string(format!("{}/../docs/FORMAT.md", env!("CARGO_MANIFEST_DIR")))
        .unwrap();
    let start = spec.find("## 7. Verification").unwrap();
    let end = start + spec[start..].find("\n## 8.").unwrap();
    let section = &spec[start..end];
    let mut named = std::collections::BTreeSet::new();
    for part in section.split('`').skip(1).step_by(2) {
        if part.len() > 3 && part.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
            named.insert(part.to_owned());
        }
    }
    let all: std::collections::BTreeSet<String> = ReasonCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(named, all, "codes named in FORMAT.md §7 vs the core's");
    let missing: Vec<&String> = all.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "reason codes without a vector: {missing:?}"
    );
}
