//! Device keys and signed field reports (docs/FORMAT.md §10) against a real server on port 0,
//! on SQLite and PostgreSQL: every case of `test-vectors/v1/device-reports.json` answered as
//! published, the enrolment rules (proof of possession, first binding wins, the admin's
//! clear), forged, altered and replayed reports refused with nothing stored, a revoked token
//! stopped, and who signed shown in the permit's usage history to the exporting and importing
//! authorities.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, export_draft};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use reqwest::StatusCode;
use serde_json::{Value, json};
use verifier_core::device::{DeviceKeyId, endorsement_message, enrolment_message, scan_message};
use verifier_core::report::{Endorsement, EndorsementWire, Form, Scan, ScanWire};

on_both_backends!(
    vectors_are_answered_as_published,
    enrolment_rules,
    signed_reports_in_the_usage_history,
    an_authority_admin_enrols_its_countrys_field_tokens,
);

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../test-vectors/v1/device-reports.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A software device key, as the SDK's fallback signer holds one.
struct Device {
    key: SigningKey,
}

impl Device {
    fn new(label: &str) -> Device {
        use sha2::Digest as _;
        let scalar = sha2::Sha256::digest(format!("permitseal server test: {label}").as_bytes());
        Device {
            key: SigningKey::from_slice(&scalar).unwrap(),
        }
    }

    fn public(&self) -> [u8; 65] {
        self.key
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .try_into()
            .unwrap()
    }

    fn key_id(&self) -> DeviceKeyId {
        DeviceKeyId::of(&self.public())
    }

    fn sign(&self, message: &[u8]) -> String {
        let sig: Signature = self.key.sign(message);
        hex(&sig.normalize_s().to_bytes())
    }

    fn enrolment(&self) -> Value {
        json!({"public_key": hex(&self.public()),
               "proof": self.sign(&enrolment_message(&self.public()))})
    }

    /// Adds the device's signature to a scan report, over its checked values.
    fn sign_scan(&self, mut report: Value, now: i64) -> Value {
        let w: ScanWire = serde_json::from_value(report.clone()).unwrap();
        let checked = Scan::check(&w, Form::Received, now).unwrap();
        let id = self.key_id();
        report["device_key_id"] = json!(id.to_string());
        report["signature"] = json!(self.sign(&scan_message(&checked, &id)));
        report
    }

    fn sign_endorsement(&self, mut report: Value, now: i64) -> Value {
        let w: EndorsementWire = serde_json::from_value(report.clone()).unwrap();
        let checked = Endorsement::check(&w, Form::Received, now).unwrap();
        let id = self.key_id();
        report["device_key_id"] = json!(id.to_string());
        report["signature"] = json!(self.sign(&endorsement_message(&checked, &id)));
        report
    }
}

impl TestServer {
    /// An officer token with its own label.
    async fn officer(&self, label: &str, country: &str) -> (String, String) {
        let (status, body) = self
            .post(
                "/api/v1/tokens",
                Some(&self.admin),
                json!({"role": "officer", "country": country, "label": label}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        (
            body["token"].as_str().unwrap().to_owned(),
            body["id"].as_str().unwrap().to_owned(),
        )
    }
}

fn now(s: &TestServer) -> i64 {
    s.state.clock.now()
}

fn ts(t: i64) -> String {
    permitseal_server::http::format_time(t)
}

async fn vectors_are_answered_as_published(backend: Backend) {
    let s = TestServer::start(backend).await;
    let doc = vectors();
    let system = permitseal_server::clock::Clock::system().now();
    assert!(
        s.state
            .clock
            .set_offset(doc["now"].as_i64().unwrap() - system)
    );
    let mut tokens = std::collections::HashMap::new();
    for d in doc["devices"].as_array().unwrap() {
        let label = d["label"].as_str().unwrap();
        let (token, _) = s.officer(label, "KE").await;
        let (status, body) = s
            .post(
                "/api/v1/devices/key",
                Some(&token),
                json!({"public_key": d["public_key"], "proof": d["enrolment_proof"]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{label}: {body}");
        assert_eq!(body["device_key_id"], d["key_id"]);
        tokens.insert(label.to_owned(), token);
    }
    let (unenrolled, _) = s.officer("no key yet", "KE").await;
    // In file order on one database: a replay of a stored report under another device
    // must be refused, not counted as a duplicate.
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let token = match case["uploader"].as_str() {
            Some(label) => tokens[label].clone(),
            None => unenrolled.clone(),
        };
        let (path, body) = match case["kind"].as_str().unwrap() {
            "scan" => ("/api/v1/scans", json!({"scans": [case["report"]]})),
            _ => (
                "/api/v1/endorsements",
                json!({"endorsements": [case["report"]]}),
            ),
        };
        let (status, answer) = s.post(path, Some(&token), body).await;
        if case["expected"]["accepted"].as_bool().unwrap() {
            assert_eq!(status, StatusCode::OK, "{name}: {answer}");
            // Stored now, or already (the non-canonical twin of a stored endorsement).
            let stored =
                answer["accepted"].as_i64().unwrap() + answer["duplicates"].as_i64().unwrap();
            assert_eq!(stored, 1, "{name}: {answer}");
        } else {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {answer}");
            assert_eq!(answer["code"], case["expected"]["code"], "{name}: {answer}");
            common::assert_error_shape(path, status, &answer);
        }
    }
    // Accepted: scan-signed, scan-unsigned-no-key; endorsement-signed (its non-canonical
    // twin is the same id, a duplicate).
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 2);
    assert_eq!(common::count_rows(&s.state.db, "endorsements").await, 1);
    s.stop().await;
}

async fn enrolment_rules(backend: Backend) {
    let s = TestServer::start(backend).await;
    let (token_a, id_a) = s.officer("handset A", "KE").await;
    let (token_b, _) = s.officer("handset B", "KE").await;
    let a = Device::new("a");
    let b = Device::new("b");
    let key = "/api/v1/devices/key";

    // Proof of possession: a proof by another key, over another message, or a point off the
    // curve is refused, and nothing is bound.
    let mut wrong = a.enrolment();
    wrong["proof"] = b.enrolment()["proof"].clone();
    let (status, body) = s.post(key, Some(&token_a), wrong).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("bad_device_signature")
        ),
        "{body}"
    );
    let mut off_curve = a.enrolment();
    off_curve["public_key"] = json!(format!("04{}", "11".repeat(64)));
    let (status, body) = s.post(key, Some(&token_a), off_curve).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let mut upper = a.enrolment();
    upper["public_key"] = json!(upper["public_key"].as_str().unwrap().to_uppercase());
    let (status, body) = s.post(key, Some(&token_a), upper).await;
    assert_eq!(body["code"], "invalid_public_key", "{status} {body}");
    let (status, body) = s
        .post(
            key,
            Some(&token_a),
            json!({"public_key": "04", "proof": "00", "x": 1}),
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(common::count_rows(&s.state.db, "device_keys").await, 0);

    // Only officer tokens enrol; an anonymous caller is refused.
    let importer = s.token("importer", None, Some("DE")).await;
    let (status, _) = s.post(key, Some(&importer), a.enrolment()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.post(key, None, a.enrolment()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // First binding wins; the same key again is 200; another key, or A's key on B, is 409.
    let (status, body) = s.post(key, Some(&token_a), a.enrolment()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["device_key_id"], a.key_id().to_string());
    assert_eq!(body["algorithm"], "ecdsa-p256-sha256");
    let (status, _) = s.post(key, Some(&token_a), a.enrolment()).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = s.post(key, Some(&token_a), b.enrolment()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("device_key_bound"))
    );
    let (status, body) = s.post(key, Some(&token_b), a.enrolment()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("device_key_in_use"))
    );

    // From now on A's reports must be signed by A's key.
    let t = now(&s);
    let report = json!({"id": "r-1", "device_id": "KE-A", "scanned_at": ts(t - 60),
                        "place": {"locode": "KEMBA"}, "verdict": "valid", "qr": "PS1:UNKNOWN"});
    let (status, body) = s
        .post("/api/v1/scans", Some(&token_a), json!({"scans": [report]}))
        .await;
    assert_eq!(body["code"], "signature_required", "{status} {body}");
    let by_b = b.sign_scan(report.clone(), t);
    let (_, body) = s
        .post("/api/v1/scans", Some(&token_a), json!({"scans": [by_b]}))
        .await;
    assert_eq!(
        body["code"], "device_key_mismatch",
        "signed by another device: {body}"
    );
    let signed = a.sign_scan(report.clone(), t);
    let (status, body) = s
        .post(
            "/api/v1/scans",
            Some(&token_a),
            json!({"scans": [signed.clone()]}),
        )
        .await;
    assert_eq!(
        (status, body["accepted"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );

    // The officer cannot clear its own binding; the admin can, and the device enrols anew.
    let clear = format!("/api/v1/tokens/{id_a}/device-key");
    let (status, _) = s.delete(&clear, Some(&token_a)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = s.delete(&clear, Some(&s.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cleared"], a.key_id().to_string());
    let (status, body) = s
        .delete("/api/v1/tokens/tok_nope/device-key", Some(&s.admin))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let c = Device::new("c");
    let (status, _) = s.post(key, Some(&token_a), c.enrolment()).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut r2 = report.clone();
    r2["id"] = json!("r-2");
    let again = a.sign_scan(r2, t);
    let (_, body) = s
        .post("/api/v1/scans", Some(&token_a), json!({"scans": [again]}))
        .await;
    assert_eq!(
        body["code"], "device_key_mismatch",
        "the old key no longer counts: {body}"
    );

    // Revoking the token stops the device whatever it signs.
    let (status, _) = s
        .delete(&format!("/api/v1/tokens/{id_a}"), Some(&s.admin))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut r3 = report.clone();
    r3["id"] = json!("r-3");
    let (status, _) = s
        .post(
            "/api/v1/scans",
            Some(&token_a),
            json!({"scans": [c.sign_scan(r3, t)]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 1);
    s.stop().await;
}

async fn signed_reports_in_the_usage_history(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let importer_de = s.token("importer", None, Some("DE")).await;
    let importer_us = s.token("importer", None, Some("US")).await;
    let (port_officer, _) = s.officer("Mombasa port, handset 2", "KE").await;
    let (old_phone, _) = s.officer("airport desk, not enrolled", "KE").await;
    let device = Device::new("mombasa-2");
    let (status, _) = s
        .post(
            "/api/v1/devices/key",
            Some(&port_officer),
            device.enrolment(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let p = s.issue(&ke, "KE", export_draft("KE/77", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let t = now(&s);

    let endorsement = json!({"id": "e-1", "device_id": "KE-MBA-02", "officer": "KRA-4471",
        "endorsed_at": ts(t - 120), "place": {"locode": "KEMBA"},
        "transport_document": "MSKU 4471202", "lines": [{"block": "A", "quantity": "12.50"}],
        "qr": qr});
    let signed = device.sign_endorsement(endorsement.clone(), t);

    // Altered after signing: each field the server stores is covered.
    for (field, value) in [
        ("lines", json!([{"block": "A", "quantity": "13"}])),
        ("place", json!({"locode": "KELAU"})),
        ("endorsed_at", json!(ts(t - 121))),
        ("transport_document", json!("MSKU 0000000")),
        ("officer", json!("someone else")),
        ("device_id", json!("KE-MBA-03")),
        ("id", json!("e-2")),
    ] {
        let mut altered = signed.clone();
        altered[field] = value;
        let (status, body) = s
            .post(
                "/api/v1/endorsements",
                Some(&port_officer),
                json!({"endorsements": [altered]}),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("bad_device_signature")
            ),
            "{field}: {body}"
        );
    }
    // A batch with one forged item stores nothing of it.
    let mut forged = signed.clone();
    forged["id"] = json!("e-3");
    let (status, body) = s
        .post(
            "/api/v1/endorsements",
            Some(&port_officer),
            json!({"endorsements": [signed.clone(), forged]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("endorsements[1]."),
        "{body}"
    );
    assert_eq!(common::count_rows(&s.state.db, "endorsements").await, 0);

    let (status, body) = s
        .post(
            "/api/v1/endorsements",
            Some(&port_officer),
            json!({"endorsements": [signed.clone()]}),
        )
        .await;
    assert_eq!(
        (status, body["accepted"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
    // Replayed by another device token: refused, though the id is stored.
    let (status, body) = s
        .post(
            "/api/v1/endorsements",
            Some(&old_phone),
            json!({"endorsements": [signed]}),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("device_not_enrolled")
        ),
        "{body}"
    );
    let scan = json!({"id": "s-1", "device_id": "KE-JKIA-01", "scanned_at": ts(t - 60),
                      "place": {"lat": -1.319167, "lon": 36.9275}, "verdict": "valid", "qr": qr});
    let (status, _) = s
        .post("/api/v1/scans", Some(&old_phone), json!({"scans": [scan]}))
        .await;
    assert_eq!(status, StatusCode::OK);

    // Who endorsed, for the exporting authority and the importing country; nobody else.
    for (who, token) in [("issuer KE", &ke), ("importer DE", &importer_de)] {
        let (status, v) = s
            .post("/api/v1/verify", Some(token), json!({"qr": qr}))
            .await;
        assert_eq!(status, StatusCode::OK, "{who}");
        let e = &v["usage"]["endorsements"][0];
        assert_eq!(e["id"], "e-1", "{who}: {v}");
        assert_eq!(e["device_key_id"], device.key_id().to_string(), "{who}");
        assert_eq!(e["token_label"], "Mombasa port, handset 2", "{who}");
        assert_eq!(e["token_country"], "KE", "{who}");
        assert_eq!(e["signature_verified"], true, "{who}");
        let sc = &v["usage"]["scans"][0];
        assert_eq!(sc["id"], "s-1", "{who}: {v}");
        assert_eq!(sc["token_label"], "airport desk, not enrolled");
        assert!(sc["device_key_id"].is_null());
        assert_eq!(sc["signature_verified"], false);
    }
    let (_, v) = s
        .post("/api/v1/verify", Some(&importer_us), json!({"qr": qr}))
        .await;
    assert!(v["usage"].is_null());
    s.stop().await;
}

/// An authority's administrator mints officer (phone) and importer tokens of its own
/// country, lists and revokes them; a minted officer token uploads and enrols like one the
/// platform admin minted. Other roles, other authorities' administrators, issuer tokens and
/// other countries' tokens are refused.
async fn an_authority_admin_enrols_its_countrys_field_tokens(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke_issuer = s.issuing_authority("KE").await;
    s.issuing_authority("TZ").await;
    let ke_admin = s
        .user_session("KE", "admin@ke.example", &["authority_admin"])
        .await;
    let tz_admin = s
        .user_session("TZ", "admin@tz.example", &["authority_admin"])
        .await;
    let clerk = s.user_session("KE", "clerk@ke.example", &["clerk"]).await;
    let path = "/api/v1/authorities/KE/field-tokens";

    let (status, officer) = s
        .post(
            path,
            Some(&ke_admin),
            json!({"role": "officer", "label": "phone 7, Mombasa"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{officer}");
    assert_eq!(
        (&officer["role"], &officer["country"]),
        (&json!("officer"), &json!("KE")),
        "{officer}"
    );
    let (status, importer) = s
        .post(
            path,
            Some(&ke_admin),
            json!({"role": "importer", "label": "import desk"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{importer}");
    for role in ["issuer", "admin", "customs", "pilot"] {
        let (status, body) = s
            .post(path, Some(&ke_admin), json!({"role": role, "label": "x"}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{role}: {body}");
    }
    for (who, token) in [
        ("TZ admin", &tz_admin),
        ("KE clerk", &clerk),
        ("KE issuer", &ke_issuer),
    ] {
        let (status, body) = s
            .post(path, Some(token), json!({"role": "officer", "label": "x"}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {body}");
    }
    // The platform admin's officer token of TZ is not KE's to see or revoke.
    let tz_officer = s.token("officer", None, Some("TZ")).await;
    let (_, whoami) = s.get("/api/v1/whoami", Some(&tz_officer)).await;
    let (status, list) = s.get(path, Some(&ke_admin)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let mut ids: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut expected = [
        officer["id"].as_str().unwrap(),
        importer["id"].as_str().unwrap(),
    ];
    expected.sort_unstable();
    assert_eq!(ids, expected, "{list}");
    let (status, _) = s
        .delete(
            &format!("{path}/{}", whoami["token_id"].as_str().unwrap()),
            Some(&ke_admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The minted officer token works as an officer's: it uploads a scan.
    let secret = officer["token"].as_str().unwrap();
    let p = s
        .issue(&ke_issuer, "KE", export_draft("KE/FT/1", "KE", "DE"))
        .await;
    let scan = json!({"id": "s-1", "device_id": "phone-7",
        "scanned_at": permitseal_server::http::format_time(
            permitseal_server::clock::Clock::system().now() - 10),
        "place": {"locode": "KEMBA"}, "verdict": "valid", "qr": p["qr_text"]});
    let (status, body) = s
        .post(
            "/api/v1/scans",
            Some(secret),
            json!({"scans": [scan.clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Revoked, it is refused.
    let (status, body) = s
        .delete(
            &format!("{path}/{}", officer["id"].as_str().unwrap()),
            Some(&ke_admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        body["revoked_at"].is_string() || body["revoked_at"].is_number(),
        "{body}"
    );
    let (status, _) = s
        .post("/api/v1/scans", Some(secret), json!({"scans": [scan]}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}
