//! The CITES rules at the border, against a real server on port 0, on SQLite and PostgreSQL
//! (docs/RULES.md, rows B1–B8): each rule with a report that breaks it and one that obeys it.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, export_draft};
use reqwest::StatusCode;
use serde_json::{Value, json};
use verifier_core::Verdict;
use verifier_core::date::Date;
use verifier_core::verify::{Checkpoint, Policy, verify_with};

on_both_backends!(
    multi_use_certificate_records_each_crossing,
    only_the_exporting_party_endorses,
    endorsement_after_validity_is_refused,
    import_permit_and_inspection_checkpoints,
    import_confirmation_rules,
    confirmation_cancels_a_single_use_document,
    a_scan_after_import_cancelled_the_document_raises_an_alert,
);

fn now() -> i64 {
    permitseal_server::clock::Clock::system().now()
}

fn at(t: i64) -> String {
    permitseal_server::http::format_time(t)
}

fn endorsement(id: &str, qr: &str, locode: &str, t: i64) -> Value {
    json!({"id": id, "device_id": "dev-9", "endorsed_at": at(t), "place": {"locode": locode},
           "transport_document": "AWB 176-12345675", "lines": [{"block": "A", "quantity": "10"}],
           "qr": qr})
}

fn confirmation(id: &str, qr: &str, locode: &str) -> Value {
    confirmation_at(id, qr, locode, now() - 30, "10")
}

fn confirmation_at(id: &str, qr: &str, locode: &str, t: i64, quantity: &str) -> Value {
    json!({"id": id, "received_at": at(t), "place": {"locode": locode},
           "lines": [{"block": "A", "quantity": quantity}], "qr": qr})
}

async fn confirm(s: &TestServer, token: &str, c: Value) -> (StatusCode, Value) {
    s.post(
        "/api/v1/confirmations",
        Some(token),
        json!({"confirmations": [c]}),
    )
    .await
}

fn kinds(r: &Value) -> Vec<String> {
    let mut k: Vec<String> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect();
    k.sort();
    k
}

/// The alert kinds stored for an authority's permits.
async fn stored_kinds(s: &TestServer, authority: &str, token: &str) -> Vec<String> {
    let (status, body) = s
        .get(
            &format!("/api/v1/authorities/{authority}/alerts"),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    kinds(&body)
}

async fn endorse(s: &TestServer, token: &str, e: Value) -> (StatusCode, Value) {
    s.post(
        "/api/v1/endorsements",
        Some(token),
        json!({"endorsements": [e]}),
    )
    .await
}

fn scan(id: &str, qr: &str, locode: &str, t: i64) -> Value {
    json!({"id": id, "device_id": "dev-1", "scanned_at": at(t), "place": {"locode": locode},
           "verdict": "valid", "qr": qr})
}

async fn upload_scan(s: &TestServer, token: &str, scan: Value) -> (StatusCode, Value) {
    s.post("/api/v1/scans", Some(token), json!({"scans": [scan]}))
        .await
}

/// The phone's verdict at a checkpoint with the server's current bundle.
async fn phone_at(s: &TestServer, qr: &str, checkpoint: Checkpoint) -> verifier_core::Verification {
    let (trust, status) = s.phone_sync().await;
    let policy = Policy {
        checkpoint,
        ..Policy::default()
    };
    verify_with(qr, now(), &trust, &status, &policy, None)
}

/// A musical instrument certificate (Res. Conf. 16.8): owned in KE, no fixed importer.
fn instrument_draft(number: &str) -> Value {
    let mut d = export_draft(number, "KE", "DE");
    d["document_type"] = json!("musical_instrument");
    d["purpose"] = json!("Q");
    d.as_object_mut().unwrap().remove("importer");
    d
}

/// A musical instrument certificate crosses as often as its validity allows: every
/// endorsement is a crossing (no second-endorsement alert, the state stays valid, phones keep
/// accepting it at export), the crossings are listed, and every country it enters may confirm
/// it. An export permit endorsed twice is re-used.
async fn multi_use_certificate_records_each_crossing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let ke_officer = s.token("officer", None, Some("KE")).await;
    let de_officer = s.token("officer", None, Some("DE")).await;
    let de_importer = s.token("importer", None, Some("DE")).await;
    let cert = s.issue(&ke, "KE", instrument_draft("KE/MI/1")).await;
    let qr = cert["qr_text"].as_str().unwrap();
    for (token, id, locode) in [
        (&ke_officer, "x-1", "KEMBA"),
        (&de_officer, "x-2", "DEFRA"),
        (&ke_officer, "x-3", "KEMBA"),
    ] {
        let (status, r) = endorse(&s, token, endorsement(id, qr, locode, now() - 60)).await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(kinds(&r), Vec::<String>::new(), "{id}: {r}");
    }
    let (status, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&de_importer),
            json!({"confirmations": [confirmation("c-1", qr, "DEFRA")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (_, p) = s
        .get("/api/v1/authorities/KE/permits/KEMI1", Some(&ke))
        .await;
    assert_eq!(p["state"], "valid", "{p}");
    let v = phone_at(&s, qr, Checkpoint::Export).await;
    assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());
    let (status, v) = s.post("/api/v1/verify", Some(&ke), json!({"qr": qr})).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let crossings: Vec<&str> = v["usage"]["endorsements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["locode"].as_str().unwrap())
        .collect();
    assert_eq!(crossings, ["KEMBA", "DEFRA", "KEMBA"], "{v}");

    // The single-use export permit: the second endorsement is re-use.
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let (_, r) = endorse(&s, &ke_officer, endorsement("e-1", qr, "KEMBA", now() - 60)).await;
    assert_eq!(kinds(&r), Vec::<String>::new(), "{r}");
    let (_, r) = endorse(&s, &ke_officer, endorsement("e-2", qr, "KEMBA", now() - 30)).await;
    assert_eq!(kinds(&r), ["second_endorsement"], "{r}");
    let v = phone_at(&s, qr, Checkpoint::Export).await;
    assert_eq!(v.codes(), ["USED"]);
    s.stop().await;
}

/// Box 14 is the exporting Party's: an officer of another country is refused (403, nothing
/// stored, the permit stays valid) and the attempt is an alert; the exporting Party's officer
/// endorses.
async fn only_the_exporting_party_endorses(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let ke_officer = s.token("officer", None, Some("KE")).await;
    let de_officer = s.token("officer", None, Some("DE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let (status, r) = endorse(&s, &de_officer, endorsement("e-1", qr, "DEFRA", now() - 60)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{r}");
    assert_eq!(r["code"], "not_exporting_party", "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("endorsements[0]"),
        "{r}"
    );
    let (_, p) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(p["state"], "valid");
    assert_eq!(
        stored_kinds(&s, "KE", &ke).await,
        ["endorsed_by_another_party"]
    );
    let (status, r) = endorse(&s, &ke_officer, endorsement("e-2", qr, "KEMBA", now() - 60)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["accepted"], 1);
    let (_, p) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(p["state"], "used");
    s.stop().await;
}

/// An endorsement dated after the last day of validity is refused with its reason and an
/// alert; one on the last day is stored.
async fn endorsement_after_validity_is_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let today = Date::from_unix(now());
    let mut draft = export_draft("KE/1", "KE", "DE");
    draft["valid_until"] = json!(today.to_string());
    let p = s.issue(&ke, "KE", draft).await;
    let qr = p["qr_text"].as_str().unwrap();
    // The first second of tomorrow: within the device clock's slack, past the validity.
    let (status, r) = endorse(
        &s,
        &officer,
        endorsement("e-1", qr, "KEMBA", today.end_unix()),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["code"], "after_validity", "{r}");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("endorsements[0].endorsed_at"),
        "{r}"
    );
    let (_, p) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(p["state"], "valid");
    assert_eq!(
        stored_kinds(&s, "KE", &ke).await,
        ["endorsed_after_validity"]
    );
    let (status, r) = endorse(&s, &officer, endorsement("e-2", qr, "KEMBA", now() - 60)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["accepted"], 1);
    s.stop().await;
}

/// At an import checkpoint an import permit (the importing country's own document) is not
/// "not endorsed" while an export permit is; an inspection checkpoint expects no endorsement
/// and shows a used permit as endorsed.
async fn import_permit_and_inspection_checkpoints(backend: Backend) {
    let s = TestServer::start(backend).await;
    let de = s.issuing_authority("DE").await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let mut import = export_draft("DE/I/1", "KE", "DE");
    import["document_type"] = json!("import");
    let import = s.issue(&de, "DE", import).await;
    let import = import["qr_text"].as_str().unwrap();
    let v = phone_at(&s, import, Checkpoint::Import).await;
    assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());
    let export = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let export = export["qr_text"].as_str().unwrap();
    let v = phone_at(&s, export, Checkpoint::Import).await;
    assert_eq!(v.codes(), ["NOT_ENDORSED"]);
    let v = phone_at(&s, export, Checkpoint::Inspection).await;
    assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());
    let (status, r) = endorse(
        &s,
        &officer,
        endorsement("e-1", export, "KEMBA", now() - 60),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let v = phone_at(&s, export, Checkpoint::Inspection).await;
    assert_eq!((v.verdict, v.codes()), (Verdict::Valid, vec!["ENDORSED"]));
    let v = phone_at(&s, export, Checkpoint::Export).await;
    assert_eq!(v.codes(), ["USED"]);
    s.stop().await;
}

/// On import: a confirmation by a country the permit is not bound for is refused and an alert;
/// one received after the last valid day, or above the endorsed quantity, is stored with an
/// alert; the destination's timely confirmation of what was endorsed raises nothing.
async fn import_confirmation_rules(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let de = s.token("importer", None, Some("DE")).await;
    let us = s.token("importer", None, Some("US")).await;
    let today = Date::from_unix(now());
    let mut draft = export_draft("KE/1", "KE", "DE");
    draft["valid_until"] = json!(today.to_string());
    let p = s.issue(&ke, "KE", draft).await;
    let qr = p["qr_text"].as_str().unwrap();
    let (status, r) = endorse(&s, &officer, endorsement("e-1", qr, "KEMBA", now() - 60)).await;
    assert_eq!(status, StatusCode::OK, "{r}");

    let (status, r) = confirm(&s, &us, confirmation("c-1", qr, "USJFK")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{r}");
    assert_eq!(stored_kinds(&s, "KE", &ke).await, ["import_not_destined"]);

    let late = confirmation_at("c-2", qr, "DEHAM", today.end_unix(), "10");
    let (status, r) = confirm(&s, &de, late).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(kinds(&r), ["imported_after_validity"], "{r}");

    // Another permit: received on time, first what was endorsed, then more than that.
    let p = s.issue(&ke, "KE", export_draft("KE/2", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    endorse(&s, &officer, endorsement("e-2", qr, "KEMBA", now() - 60)).await;
    let (status, r) = confirm(&s, &de, confirmation("c-3", qr, "DEHAM")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(kinds(&r), Vec::<String>::new(), "{r}");
    let p = s.issue(&ke, "KE", export_draft("KE/3", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    endorse(&s, &officer, endorsement("e-3", qr, "KEMBA", now() - 60)).await;
    let more = confirmation_at("c-4", qr, "DEHAM", now() - 30, "12");
    let (_, r) = confirm(&s, &de, more).await;
    assert_eq!(kinds(&r), ["quantity_exceeded"], "{r}");
    s.stop().await;
}

/// The state a phone that syncs from `path` holds for a permit.
async fn synced_state(
    s: &TestServer,
    path: &str,
    qr: &str,
) -> Option<verifier_core::status::PermitState> {
    let (trust, status) = s.phone_sync_from(path).await;
    let v = verify_with(qr, now(), &trust, &status, &Policy::default(), None);
    v.status.and_then(|seen| seen.state)
}

/// The importing authority's confirmation cancels a single-use document (Res. Conf. 12.3; Art.
/// VI): the permit's state becomes `cancelled_on_import`, the status list of format 2 carries
/// it, phones refuse the permit at any border (`CANCELLED_ON_IMPORT`) and only warn inland;
/// readers of format 1 are told it is used. A revoked permit is not revived by a confirmation,
/// and a multi-use certificate stays valid after entering a country.
async fn confirmation_cancels_a_single_use_document(backend: Backend) {
    use verifier_core::status::PermitState;
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let de = s.token("importer", None, Some("DE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    endorse(&s, &officer, endorsement("e-1", qr, "KEMBA", now() - 60)).await;
    let v = phone_at(&s, qr, Checkpoint::Import).await;
    assert_eq!((v.verdict, v.codes()), (Verdict::Valid, vec!["ENDORSED"]));

    let (status, r) = confirm(&s, &de, confirmation("c-1", qr, "DEHAM")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (_, view) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(view["state"], "cancelled_on_import", "{view}");
    for (checkpoint, verdict) in [
        (Checkpoint::Import, Verdict::Invalid),
        (Checkpoint::Export, Verdict::Invalid),
        (Checkpoint::Inspection, Verdict::ValidWithWarnings),
    ] {
        let v = phone_at(&s, qr, checkpoint).await;
        assert_eq!(
            (v.verdict, v.codes()),
            (verdict, vec!["CANCELLED_ON_IMPORT"]),
            "{checkpoint:?}"
        );
    }
    let (status, body) = s.post("/api/v1/verify", Some(&ke), json!({"qr": qr})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["server"]["state"], "cancelled_on_import", "{body}");
    assert_eq!(
        body["verification"]["reasons"][0]["code"], "CANCELLED_ON_IMPORT",
        "{body}"
    );
    // The wire: format 2 when asked (list and delta), used for a reader of format 1.
    let (status, _, list) = s
        .get_bytes("/api/v1/authorities/KE/status?format=2", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list[verifier_core::keys::KEY_ID_LEN], 2);
    let (_, _, old) = s
        .get_bytes("/api/v1/authorities/KE/status", None, None)
        .await;
    assert_eq!(old[verifier_core::keys::KEY_ID_LEN], 1);
    let (_, _, delta) = s
        .get_bytes("/api/v1/authorities/KE/status?since=0&format=2", None, None)
        .await;
    assert_eq!(delta[verifier_core::keys::KEY_ID_LEN], 2);
    assert_eq!(
        synced_state(&s, "/api/v1/bundle", qr).await,
        Some(PermitState::Used)
    );
    assert_eq!(
        synced_state(&s, "/api/v1/bundle?format=2", qr).await,
        Some(PermitState::CancelledOnImport)
    );
    let (status, body) = s.get("/api/v1/bundle?format=3", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query"))
    );

    // Confirmed without an endorsement: cancelled as well (and an alert, as before).
    let p = s.issue(&ke, "KE", export_draft("KE/2", "KE", "DE")).await;
    let qr2 = p["qr_text"].as_str().unwrap();
    let (_, r) = confirm(&s, &de, confirmation("c-2", qr2, "DEHAM")).await;
    assert_eq!(kinds(&r), ["import_without_endorsement"], "{r}");
    let (_, view) = s.get("/api/v1/authorities/KE/permits/KE2", Some(&ke)).await;
    assert_eq!(view["state"], "cancelled_on_import", "{view}");

    // A revoked permit stays revoked; the authority may still revoke a cancelled one.
    let p = s.issue(&ke, "KE", export_draft("KE/3", "KE", "DE")).await;
    let qr3 = p["qr_text"].as_str().unwrap();
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/permits/KE3/revoke",
            Some(&ke),
            json!({"reason": "fraud"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    confirm(&s, &de, confirmation("c-3", qr3, "DEHAM")).await;
    let (_, view) = s.get("/api/v1/authorities/KE/permits/KE3", Some(&ke)).await;
    assert_eq!(view["state"], "revoked", "{view}");
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/permits/KE1/revoke",
            Some(&ke),
            json!({"reason": "found forged after import"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        synced_state(&s, "/api/v1/bundle?format=2", qr).await,
        Some(PermitState::Revoked)
    );

    // A multi-use certificate entering a country is one crossing: it stays valid.
    let cert = s.issue(&ke, "KE", instrument_draft("KE/MI/1")).await;
    let cqr = cert["qr_text"].as_str().unwrap();
    let (status, r) = confirm(&s, &de, confirmation("c-4", cqr, "DEFRA")).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        synced_state(&s, "/api/v1/bundle?format=2", cqr).await,
        Some(PermitState::Valid)
    );
    s.stop().await;
}

/// B10: a document the importing authority cancelled on import, scanned again after that
/// confirmation, raises `scanned_after_import` for the issuing authority (in the upload's
/// answer and its alerts, filtered by kind); a scan taken before the confirmation (uploaded
/// late) and a scan of a permit that was not cancelled raise nothing, nor does a multi-use
/// certificate that entered a country (it is not cancelled).
async fn a_scan_after_import_cancelled_the_document_raises_an_alert(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let de = s.token("importer", None, Some("DE")).await;
    let de_officer = s.token("officer", None, Some("DE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let other = s.issue(&ke, "KE", export_draft("KE/2", "KE", "DE")).await;
    let other_qr = other["qr_text"].as_str().unwrap();
    endorse(&s, &officer, endorsement("e-1", qr, "KEMBA", now() - 600)).await;
    let (status, r) = upload_scan(&s, &de_officer, scan("s-0", qr, "DEHAM", now() - 300)).await;
    assert_eq!((status, kinds(&r)), (StatusCode::OK, vec![]), "{r}");
    let (status, r) = confirm(
        &s,
        &de,
        confirmation_at("c-1", qr, "DEHAM", now() - 200, "10"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");

    // Taken before the confirmation, uploaded after it: nothing.
    let (status, r) = upload_scan(&s, &de_officer, scan("s-1", qr, "DEHAM", now() - 250)).await;
    assert_eq!((status, kinds(&r)), (StatusCode::OK, vec![]), "{r}");
    // After it: the spent document is presented again.
    let (status, r) = upload_scan(&s, &de_officer, scan("s-2", qr, "DEMUC", now() - 10)).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(kinds(&r), ["scanned_after_import"], "{r}");
    let detail = r["alerts"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("DEMUC") && detail.contains("import into DE"),
        "{detail}"
    );
    // A permit never confirmed: nothing.
    let (_, r) = upload_scan(&s, &de_officer, scan("s-3", other_qr, "DEHAM", now() - 5)).await;
    assert_eq!(kinds(&r), Vec::<String>::new(), "{r}");

    let (status, body) = s
        .get(
            "/api/v1/authorities/KE/alerts?kind=scanned_after_import",
            Some(&ke),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{body}");
    assert_eq!(alerts[0]["permit_number"], "KE/1", "{body}");

    // A multi-use certificate entering a country is not cancelled: its scans raise nothing.
    let cert = s.issue(&ke, "KE", instrument_draft("KE/MI/1")).await;
    let cqr = cert["qr_text"].as_str().unwrap();
    confirm(
        &s,
        &de,
        confirmation_at("c-2", cqr, "DEFRA", now() - 100, "10"),
    )
    .await;
    let (_, r) = upload_scan(&s, &de_officer, scan("s-4", cqr, "DEFRA", now() - 5)).await;
    assert_eq!(kinds(&r), Vec::<String>::new(), "{r}");
    s.stop().await;
}
