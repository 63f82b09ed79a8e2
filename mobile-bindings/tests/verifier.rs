//! The verifier object over the shared vectors and over bundles made here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use permitseal_mobile::{
    BundleLoad, CheckpointKind, Language, ReasonSeverity, SdkFailure, VerdictKind, Verifier,
    all_reason_codes, language_for_tag, reason_message,
};
use serde_json::Value;
use verifier_core::bundle;
use verifier_core::keys::SecretKey;
use verifier_core::payload;
use verifier_core::permit::{IssueContext, Permit, PermitDraft};
use verifier_core::status::{PermitState, StatusList};
use verifier_core::trust::{Authority, KeyStatus, TrustList, TrustedKey};

fn vectors_file(name: &str) -> Value {
    let path = format!("{}/../test-vectors/v1/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vectors() -> Value {
    let path = format!(
        "{}/../test-vectors/v1/vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn roots(doc: &Value) -> Vec<Vec<u8>> {
    doc["root_public_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| hex::decode(k.as_str().unwrap()).unwrap())
        .collect()
}

/// A verifier with the case's bundle and time floor, and the case's checkpoint.
fn loaded(doc: &Value, case: &Value, at: &str) -> (std::sync::Arc<Verifier>, CheckpointKind) {
    let v = Verifier::new(roots(doc)).unwrap();
    let bytes = hex::decode(case["bundle"].as_str().unwrap()).unwrap();
    assert_eq!(v.load_bundle(bytes).unwrap(), BundleLoad::Installed, "{at}");
    if let Some(floor) = case["time_floor"].as_i64() {
        v.set_time_floor(floor);
    }
    let checkpoint = match case["checkpoint"].as_str().unwrap() {
        "export" => CheckpointKind::Export,
        "import" => CheckpointKind::Import,
        "inspection" => CheckpointKind::Inspection,
        other => panic!("{at}: {other}"),
    };
    (v, checkpoint)
}

#[test]
fn every_v1_vector_through_the_sdk() {
    // One line per case, in the format the Kotlin and Python tests write, so that
    // scripts/test-foreign.sh can compare all three: `name verdict codes [deltas]`, or
    // `name refused` for a refused bundle.
    let mut listing = String::new();
    for (file, at_least) in [
        ("vectors.json", 30),
        ("vectors-2.json", 33),
        ("vectors-3.json", 16),
        ("vectors-4.json", 6),
        ("vectors-5.json", 5),
        ("vectors-6.json", 12),
    ] {
        let doc = vectors_file(file);
        let cases = doc["cases"].as_array().unwrap();
        assert!(cases.len() >= at_least, "{file}");
        for (i, case) in cases.iter().enumerate() {
            let at = format!("{file} case {i} ({})", case["name"].as_str().unwrap());
            listing.push_str(&check_case(&doc, case, &at));
        }
    }
    if let Ok(out) = std::env::var("PERMITSEAL_VERDICTS_OUT") {
        std::fs::write(out, listing).unwrap();
    }
}

fn check_case(doc: &Value, case: &Value, at: &str) -> String {
    let want = &case["expected"];
    let name = case["name"].as_str().unwrap();
    let v = Verifier::new(roots(doc)).unwrap();
    let bytes = hex::decode(case["bundle"].as_str().unwrap()).unwrap();
    match v.load_bundle(bytes) {
        Ok(load) => {
            assert_eq!(load, BundleLoad::Installed, "{at}");
            assert_ne!(want["bundle"].as_str(), Some("refused"), "{at}");
        }
        Err(SdkFailure::BadBundle { .. } | SdkFailure::NotTrusted { .. }) => {
            assert_eq!(want["bundle"].as_str(), Some("refused"), "{at}");
            return format!("{name} refused\n");
        }
        Err(e) => panic!("{at}: {e}"),
    }
    if let Some(head) = want.get("tree_head") {
        let got = v
            .log_tree_head()
            .map(|h| serde_json::json!({"size": h.size, "root": h.root_hex, "time": h.signed_at}));
        assert_eq!(
            got.as_ref().unwrap_or(&Value::Null),
            head,
            "{at}: tree head"
        );
    }
    let deltas: Vec<&str> = case["deltas"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[])
        .iter()
        .map(
            |d| match v.apply_status_delta(hex::decode(d.as_str().unwrap()).unwrap()) {
                Ok(_) => "applied",
                Err(SdkFailure::BadBundle { .. } | SdkFailure::NotTrusted { .. }) => "refused",
                Err(e) => panic!("{at}: {e}"),
            },
        )
        .collect();
    let want_deltas: Vec<&str> = want["deltas"]
        .as_array()
        .map(|a| a.iter().map(|d| d.as_str().unwrap()).collect())
        .unwrap_or_default();
    assert_eq!(deltas, want_deltas, "{at}");
    if let Some(floor) = case["time_floor"].as_i64() {
        v.set_time_floor(floor);
    }
    let checkpoint = match case["checkpoint"].as_str().unwrap() {
        "export" => CheckpointKind::Export,
        "import" => CheckpointKind::Import,
        "inspection" => CheckpointKind::Inspection,
        other => panic!("{at}: {other}"),
    };
    let r = v
        .verify_at(
            case["qr"].as_str().unwrap().to_string(),
            case["now"].as_i64().unwrap(),
            checkpoint,
            Language::Fr,
        )
        .unwrap();
    let want = &case["expected"];
    assert_eq!(
        r.verdict.as_str(),
        want["verdict"].as_str().unwrap(),
        "{at}"
    );
    let mut codes: Vec<&str> = r.reasons.iter().map(|r| r.code.as_str()).collect();
    codes.sort_unstable();
    let expected: Vec<&str> = want["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(codes, expected, "{at}");
    let mut line = format!("{name} {} {}", r.verdict.as_str(), codes.join(","));
    if !deltas.is_empty() {
        line.push_str(&format!(" {}", deltas.join(",")));
    }
    assert_eq!(
        r.permit.as_ref().map(|p| p.number.as_str()),
        want["permit_number"].as_str(),
        "{at}"
    );
    for reason in &r.reasons {
        assert_eq!(
            Some(reason.message.clone()),
            reason_message(reason.code.clone(), Language::Fr),
            "{at}"
        );
    }
    // Reasons come most severe first, and the verdict follows the first.
    let severities: Vec<u8> = r
        .reasons
        .iter()
        .map(|r| match r.severity {
            ReasonSeverity::Error => 0,
            ReasonSeverity::Warning => 1,
            ReasonSeverity::Info => 2,
        })
        .collect();
    assert!(severities.is_sorted(), "{at}");
    if let Some(p) = &r.permit {
        assert!(!p.issuing_authority.is_empty(), "{at}");
        assert!(!p.lines.is_empty(), "{at}");
    }
    line + "\n"
}

// ---------------------------------------------------------------------------------------
// Bundles made here: a root, one authority, a permit.

const NOW: i64 = 1_796_000_000; // 2026-11-29

struct World {
    root: SecretKey,
    ma: SecretKey,
}

impl World {
    fn new() -> World {
        World {
            root: SecretKey::from_seed(&[1; 32]),
            ma: SecretKey::from_seed(&[2; 32]),
        }
    }

    fn roots(&self) -> Vec<Vec<u8>> {
        vec![self.root.public().to_bytes().to_vec()]
    }

    fn trust(&self, version: u64, at: i64) -> TrustList {
        TrustList::new(
            version,
            at,
            vec![Authority {
                id: 1,
                country: "KE".parse().unwrap(),
                name: "Kenya Wildlife Service".into(),
                keys: vec![TrustedKey {
                    key: self.ma.public().clone(),
                    valid_from: 0,
                    valid_until: None,
                    status: KeyStatus::Good,
                }],
            }],
        )
        .unwrap()
    }

    /// A bundle signed at `at` whose list says index 0 is in `state`.
    fn bundle(&self, version: u64, at: i64, state: PermitState) -> Vec<u8> {
        let trust = self.trust(version, at).sign(&[&self.root]);
        let mut list = StatusList::new(1, version, at);
        list.set(0, state);
        bundle::encode(&trust, &[&list.sign(&self.ma)])
    }

    fn permit(&self, issued_at: i64) -> String {
        let draft: PermitDraft = serde_json::from_str(
            r#"{"document_type": "export", "number": "KE/2026/0001", "valid_until": "2027-05-01",
                "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": "KE"},
                "importer": {"name": "Importer GmbH", "country": "DE"},
                "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
                           "appendix": "II", "source": "A", "quantity": "12.50", "unit": "KIL"}]}"#,
        )
        .unwrap();
        let ctx = IssueContext {
            issuing_country: "KE".parse().unwrap(),
            issued_at,
            status_index: 0,
        };
        payload::sign(&Permit::new(&draft, ctx).unwrap(), &self.ma)
    }
}

#[test]
fn new_refuses_bad_root_keys() {
    assert!(matches!(
        Verifier::new(vec![]),
        Err(SdkFailure::InvalidInput { .. })
    ));
    let w = World::new();
    let mut keys = w.roots();
    keys.push(vec![0; 31]);
    assert_eq!(
        Verifier::new(keys).unwrap_err(),
        SdkFailure::BadRootKey { index: 1 }
    );
    // The identity point is a small-order key.
    let mut identity = vec![0u8; 32];
    identity[0] = 1;
    assert_eq!(
        Verifier::new(vec![identity]).unwrap_err(),
        SdkFailure::BadRootKey { index: 0 }
    );
}

#[test]
fn verify_needs_a_bundle() {
    let w = World::new();
    let v = Verifier::new(w.roots()).unwrap();
    assert!(!v.has_bundle());
    assert_eq!(v.bundle_age_seconds(NOW), None);
    assert_eq!(v.newest_signed_time(), None);
    assert_eq!(
        v.verify(w.permit(NOW), Language::En).unwrap_err(),
        SdkFailure::NoBundle
    );
}

#[test]
fn a_permit_verifies_with_every_field_converted() {
    let w = World::new();
    let v = Verifier::new(w.roots()).unwrap();
    v.load_bundle(w.bundle(1, NOW - 3600, PermitState::Valid))
        .unwrap();
    assert!(v.has_bundle());
    assert_eq!(v.bundle_age_seconds(NOW), Some(3600));
    let r = v
        .verify_at(
            w.permit(NOW - 7200),
            NOW,
            CheckpointKind::Export,
            Language::En,
        )
        .unwrap();
    assert_eq!(r.verdict, VerdictKind::Valid, "{:?}", r.reasons);
    assert_eq!(r.checked_at, NOW);
    assert_eq!(r.status_age_seconds, Some(3600));
    let p = r.permit.unwrap();
    assert_eq!(p.number, "KE/2026/0001");
    assert_eq!(p.issuing_country.code, "KE");
    assert_eq!(p.issuing_country.name, "Kenya");
    assert_eq!(p.issuing_authority, "Kenya Wildlife Service");
    assert_eq!(p.document_type.code, "export");
    assert_eq!(p.valid_until, "2027-05-01");
    assert_eq!(p.purpose.code, "T");
    assert_eq!(p.exporter.name, "Exporter Ltd");
    assert_eq!(p.importer.unwrap().country.code, "DE");
    let l = &p.lines[0];
    assert_eq!(l.block, "A");
    assert_eq!(l.scientific_name, "Aloe ferox");
    assert_eq!(
        (l.term.code.as_str(), l.term.name.as_str()),
        ("EXT", "extract")
    );
    assert_eq!(l.appendix.code, "II");
    assert_eq!(l.source.code, "A");
    assert_eq!(l.quantity, "12.5");
    assert_eq!(l.unit.code, "KIL");
    assert_eq!(r.status.unwrap().state.as_deref(), Some("valid"));
    // The verified permit's signed issue time raised the floor only to the bundle's time.
    assert_eq!(v.newest_signed_time(), Some(NOW - 3600));

    // The configured checkpoint: at import a valid (not yet endorsed) permit warns.
    assert_eq!(v.checkpoint(), CheckpointKind::Export);
    v.set_checkpoint(CheckpointKind::Import);
    assert_eq!(v.checkpoint(), CheckpointKind::Import);
    let r = v.verify(w.permit(NOW - 7200), Language::Es).unwrap();
    assert!(r.reasons.iter().any(|r| r.code == "NOT_ENDORSED"));

    // Garbage is a verdict, not an error.
    let r = v
        .verify_at("hello".into(), NOW, CheckpointKind::Export, Language::En)
        .unwrap();
    assert_eq!(r.verdict, VerdictKind::Invalid);
    assert_eq!(r.reasons[0].code, "NOT_A_PERMIT");
    assert!(r.permit.is_none());
}

#[test]
fn refused_and_older_bundles_leave_the_current_one() {
    let w = World::new();
    let v = Verifier::new(w.roots()).unwrap();
    v.load_bundle(w.bundle(2, NOW, PermitState::Revoked))
        .unwrap();
    let revoked = |v: &Verifier| {
        v.verify_at(
            w.permit(NOW - 7200),
            NOW,
            CheckpointKind::Export,
            Language::En,
        )
        .unwrap()
        .reasons
        .iter()
        .any(|r| r.code == "REVOKED")
    };
    assert!(revoked(&v));

    // Signed by another root: not trusted, nothing changes.
    let stranger = SecretKey::from_seed(&[9; 32]);
    let trust = w.trust(3, NOW + 10).sign(&[&stranger]);
    let bad = bundle::encode(&trust, &[]);
    assert!(matches!(
        v.load_bundle(bad).unwrap_err(),
        SdkFailure::NotTrusted { .. }
    ));
    // Malformed: refused, nothing changes.
    let mut cut = w.bundle(3, NOW + 10, PermitState::Valid);
    cut.truncate(cut.len() - 1);
    assert!(matches!(
        v.load_bundle(cut).unwrap_err(),
        SdkFailure::BadBundle { .. }
    ));
    // Older: verified, kept out.
    assert_eq!(
        v.load_bundle(w.bundle(1, NOW - 100, PermitState::Valid))
            .unwrap(),
        BundleLoad::KeptNewer
    );
    assert!(revoked(&v));
    assert_eq!(v.newest_signed_time(), Some(NOW));

    // Newer: replaces.
    assert_eq!(
        v.load_bundle(w.bundle(3, NOW + 60, PermitState::Valid))
            .unwrap(),
        BundleLoad::Installed
    );
    assert!(!revoked(&v));
    assert_eq!(v.newest_signed_time(), Some(NOW + 60));
}

#[test]
fn the_time_floor_defeats_a_clock_set_back() {
    let w = World::new();
    let v = Verifier::new(w.roots()).unwrap();
    v.load_bundle(w.bundle(1, NOW - 3600, PermitState::Valid))
        .unwrap();
    // Stored from an earlier session: after the permit's last day.
    let after_expiry = 1_830_000_000; // 2027-12-28
    v.set_time_floor(after_expiry);
    v.set_time_floor(0); // never lowers
    assert_eq!(v.newest_signed_time(), Some(after_expiry));
    let r = v
        .verify_at(
            w.permit(NOW - 7200),
            NOW,
            CheckpointKind::Export,
            Language::En,
        )
        .unwrap();
    let codes: Vec<&str> = r.reasons.iter().map(|r| r.code.as_str()).collect();
    assert!(codes.contains(&"EXPIRED"), "{codes:?}");
    assert!(codes.contains(&"CLOCK_BEHIND"), "{codes:?}");
    assert_eq!(r.checked_at, after_expiry);
}

#[test]
fn verify_reads_the_device_clock() {
    let w = World::new();
    let v = Verifier::new(w.roots()).unwrap();
    let now = permitseal_mobile::clock::now();
    v.load_bundle(w.bundle(1, now - 60, PermitState::Valid))
        .unwrap();
    let r = v.verify(w.permit(now - 120), Language::En).unwrap();
    assert!((r.checked_at - now).abs() < 60);
    assert_eq!(v.bundle_age_seconds(now), Some(60));
}

#[test]
fn free_functions() {
    assert_eq!(language_for_tag("fr-CA".into()), Language::Fr);
    assert_eq!(language_for_tag("es".into()), Language::Es);
    assert_eq!(language_for_tag("sw".into()), Language::En);
    let codes = all_reason_codes();
    assert!(codes.len() >= 25);
    assert!(codes.iter().any(|c| c == "REVOKED"));
    for c in &codes {
        for l in [Language::En, Language::Fr, Language::Es] {
            assert!(!reason_message(c.clone(), l).unwrap().is_empty());
        }
    }
    assert_eq!(reason_message("NOPE".into(), Language::En), None);
}

#[test]
fn many_threads_verify_while_bundles_load() {
    let w = std::sync::Arc::new(World::new());
    let v = Verifier::new(w.roots()).unwrap();
    v.load_bundle(w.bundle(1, NOW, PermitState::Valid)).unwrap();
    let qr = w.permit(NOW - 7200);
    std::thread::scope(|s| {
        for _ in 0..4 {
            let (v, qr) = (v.clone(), qr.clone());
            s.spawn(move || {
                for _ in 0..50 {
                    let r = v
                        .verify_at(qr.clone(), NOW, CheckpointKind::Export, Language::En)
                        .unwrap();
                    assert!(r.permit.is_some());
                }
            });
        }
        let (v, w) = (v.clone(), w.clone());
        s.spawn(move || {
            for version in 2..20 {
                v.load_bundle(w.bundle(version, NOW + version as i64, PermitState::Valid))
                    .unwrap();
            }
        });
    });
    assert_eq!(v.newest_signed_time(), Some(NOW + 19));
}

/// Every string and number in a JSON value.
fn leaves(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Number(n) => out.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| leaves(x, out)),
        Value::Object(o) => o.values().for_each(|x| leaves(x, out)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The support report of every vector's verdict says what the verdict was and why, and
/// carries none of the permit's personal fields: no party name, species, quantity, permit,
/// document or operation number, security stamp, nor the code's text.
#[test]
fn support_report_of_every_vector_holds_no_personal_field() {
    use permitseal_mobile::support::{REPORT_FORMAT, permit_number_digest};
    let doc = vectors();
    let mut checked_fields = 0;
    for (i, case) in doc["cases"].as_array().unwrap().iter().enumerate() {
        let at = format!("case {i} ({})", case["name"].as_str().unwrap());
        let (v, checkpoint) = loaded(&doc, case, &at);
        let qr = case["qr"].as_str().unwrap();
        let now = case["now"].as_i64().unwrap();
        let text = v.explain(qr.to_string(), now, checkpoint).unwrap();
        let report: Value = serde_json::from_str(&text).unwrap();

        // What it is for.
        let want = &case["expected"];
        assert_eq!(report["report"], REPORT_FORMAT, "{at}");
        assert_eq!(report["verdict"], want["verdict"], "{at}");
        let mut codes: Vec<String> = report["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        codes.sort_unstable();
        let expected: Vec<String> = want["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_string())
            .collect();
        assert_eq!(codes, expected, "{at}");
        match want["permit_number"].as_str() {
            Some(n) => assert_eq!(
                report["permit_number_digest"].as_str(),
                Some(permit_number_digest(n).as_str()),
                "{at}"
            ),
            None => assert!(report["permit_number_digest"].is_null(), "{at}"),
        }
        assert!(report["bundle"]["trust_version"].as_u64().is_some(), "{at}");
        assert!(
            report["sdk"].as_str().is_some_and(|s| !s.is_empty()),
            "{at}"
        );

        // What it must not hold.
        assert!(
            !text.contains(qr.trim_start_matches("PS1:")),
            "{at}: the code's text"
        );
        let Ok(env) = payload::decode(qr) else {
            assert!(report["key_id"].is_null(), "{at}");
            continue;
        };
        assert_eq!(report["key_id"], env.key_id.to_string(), "{at}");
        let p = &env.data;
        let mut personal: Vec<String> = vec![p.number.clone(), p.exporter.name.clone()];
        personal.extend(p.importer.iter().map(|i| i.name.clone()));
        personal.extend(p.security_stamp.clone());
        let mut quantities = Vec::new();
        for line in &p.lines {
            personal.push(line.scientific_name.clone());
            personal.extend(line.origin.iter().map(|d| d.number.clone()));
            personal.extend(line.last_reexport.iter().map(|d| d.number.clone()));
            personal.extend(line.operation_number.clone());
            quantities.push(line.quantity.to_string());
        }
        for field in &personal {
            assert!(!field.is_empty(), "{at}");
            assert!(!text.contains(field.as_str()), "{at}: {field:?} in {text}");
            checked_fields += 1;
        }
        let mut values = Vec::new();
        leaves(&report, &mut values);
        for q in &quantities {
            assert!(!values.contains(q), "{at}: quantity {q} in {text}");
            checked_fields += 1;
        }
    }
    assert!(checked_fields > 100, "only {checked_fields} fields checked");
}

/// The digest is the one specified: SHA-256 over the domain string and the number, 16 bytes.
#[test]
fn permit_number_digest_is_as_specified() {
    assert_eq!(
        permitseal_mobile::support::permit_number_digest("ZA/GP/2026/004512"),
        "b29e03c8bbb84b814223ef81984c219b"
    );
}
