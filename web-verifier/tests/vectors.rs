//! The page's verifier over the shared conformance vectors (natively; the browser tests run
//! the same cases through the WebAssembly build), and the phone's rules for bundles and time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use permitseal_web::Verifier;
use permitseal_web::view::VerificationView;
use serde_json::Value;
use verifier_core::i18n::Lang;
use verifier_core::verify::{Checkpoint, Verdict};

fn vectors() -> Value {
    let path = format!(
        "{}/../test-vectors/v1/vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn roots(doc: &Value) -> String {
    let keys: Vec<&str> = doc["root_public_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    keys.join(",")
}

fn case<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()
}

fn checkpoint(c: &Value) -> Checkpoint {
    match c["checkpoint"].as_str().unwrap() {
        "export" => Checkpoint::Export,
        "import" => Checkpoint::Import,
        "inspection" => Checkpoint::Inspection,
        other => panic!("{other}"),
    }
}

/// A verifier pinned to the vector roots with the case's bundle, and the case checked with it.
fn run(doc: &Value, c: &Value, floor: Option<f64>) -> (Verifier, VerificationView) {
    let mut v = Verifier::with_roots(&roots(doc)).unwrap();
    let bundle = hex::decode(c["bundle"].as_str().unwrap()).unwrap();
    assert_eq!(v.install(&bundle).unwrap(), "installed");
    if let Some(floor) = floor {
        v.set_time_floor(floor).unwrap();
    }
    let view = v
        .check(
            c["qr"].as_str().unwrap(),
            c["now"].as_i64().unwrap(),
            checkpoint(c),
            Lang::Es,
        )
        .unwrap();
    (v, view)
}

#[test]
fn every_v1_vector_through_the_page_verifier() {
    let doc = vectors();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for (i, c) in cases.iter().enumerate() {
        let at = format!("case {i} ({})", c["name"].as_str().unwrap());
        let (_, view) = run(&doc, c, c["time_floor"].as_f64());
        let json = serde_json::to_value(&view).unwrap();
        let mut codes: Vec<&str> = view.reasons.iter().map(|r| r.code).collect();
        codes.sort_unstable();
        let want: Vec<&str> = c["expected"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(json["verdict"], c["expected"]["verdict"], "{at}");
        assert_eq!(codes, want, "{at}");
        assert_eq!(
            json["permit"]["number"].as_str(),
            c["expected"]["permit_number"].as_str(),
            "{at}"
        );
        for r in &view.reasons {
            assert!(
                !r.message.is_empty(),
                "{at}: {} has a Spanish message",
                r.code
            );
        }
    }
}

#[test]
fn stale_data_is_never_plain_valid_and_says_so() {
    let doc = vectors();
    for name in ["warning-stale-data", "warning-stale-data-appendix-i"] {
        let (_, view) = run(&doc, case(&doc, name), None);
        assert_eq!(view.verdict, Verdict::ValidWithWarnings, "{name}");
        assert!(view.stale, "{name}");
        assert!(view.data_age > 0, "{name}");
    }
    let (_, view) = run(&doc, case(&doc, "valid-export-1-line"), None);
    assert_eq!(view.verdict, Verdict::Valid);
    assert!(!view.stale);
}

#[test]
fn a_clock_set_back_after_a_verification_cannot_revive_an_expired_permit() {
    let doc = vectors();
    let c = case(&doc, "invalid-clock-behind-cannot-revive");
    // The floor the page stored earlier comes back on the next start.
    let (mut v, view) = run(&doc, c, c["time_floor"].as_f64());
    assert_eq!(v.newest_signed_time(), c["time_floor"].as_f64());
    assert_eq!(view.verdict, Verdict::Invalid);
    // Lowering is refused: the floor only rises.
    v.set_time_floor(0.0).unwrap();
    assert_eq!(v.newest_signed_time(), c["time_floor"].as_f64());
}

#[test]
fn a_bundle_for_other_roots_is_refused_and_changes_nothing() {
    let doc = vectors();
    let c = case(&doc, "valid-export-1-line");
    let bundle = hex::decode(c["bundle"].as_str().unwrap()).unwrap();
    // Pinned to another root (a test key of the vector file that is not a root).
    let other = doc["keys"]["ke-2026"].as_str().unwrap();
    let mut v = Verifier::with_roots(other).unwrap();
    assert_eq!(v.install(&bundle).unwrap_err().code, "bundle_refused");
    assert!(!v.has_bundle());
    // A flipped bit anywhere in a signed part is refused too.
    let mut v = Verifier::with_roots(&roots(&doc)).unwrap();
    let mut tampered = bundle.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(v.install(&tampered).unwrap_err().code, "bundle_refused");
    assert_eq!(v.install(&bundle).unwrap(), "installed");
    // The same bundle again is not older: it stays installed.
    assert_eq!(v.install(&bundle).unwrap(), "installed");
}
