//! Scan reports, export endorsements, alerts and online verification against a real server on
//! port 0, on SQLite and PostgreSQL: idempotent and durable uploads, every alert kind, the
//! "used" state reaching phones, and who sees usage history.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, export_draft};
use reqwest::StatusCode;
use serde_json::{Value, json};
use verifier_core::Verdict;

on_both_backends!(
    scan_upload_is_idempotent_and_durable,
    every_alert_kind,
    endorsement_marks_used_for_phones,
    online_verify_and_usage_visibility,
    bad_reports_change_nothing,
    importing_country_confirms_receipt,
);

fn ts(offset: i64) -> String {
    permitseal_server::http::format_time(permitseal_server::clock::Clock::system().now() + offset)
}

fn scan(id: &str, qr: &str, at: String, place: Value) -> Value {
    json!({"id": id, "device_id": "dev-1", "officer": "Officer Wanjiru", "scanned_at": at,
           "place": place, "verdict": "valid", "qr": qr})
}

fn endorsement(id: &str, qr: &str, quantity: &str) -> Value {
    json!({"id": id, "device_id": "dev-9", "endorsed_at": ts(-60), "place": {"locode": "KEMBA"},
           "transport_document": "AWB 176-12345675", "lines": [{"block": "A", "quantity": quantity}],
           "qr": qr})
}

async fn scan_upload_is_idempotent_and_durable(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let batch = json!({"scans": [
        scan("a1b2-1", qr, ts(-3600), json!({"locode": "KENBO"})),
        scan("a1b2-2", qr, ts(-1800), json!({"lat": -1.3, "lon": 36.9})),
        scan("a1b2-3", "PS1:NOT-A-REAL-CODE", ts(-60), json!({"locode": "kemba"})),
    ]});
    let (status, first) = s.post("/api/v1/scans", Some(&officer), batch.clone()).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(
        (first["accepted"].as_i64(), first["duplicates"].as_i64()),
        (Some(3), Some(0))
    );
    assert_eq!(
        first["alerts"].as_array().unwrap().len(),
        1,
        "the unreadable code: {first}"
    );
    // The same batch again (a phone that lost the answer): nothing is created twice.
    let (status, again) = s.post("/api/v1/scans", Some(&officer), batch.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (again["accepted"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(3))
    );
    assert!(again["alerts"].as_array().unwrap().is_empty());
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 3);
    assert_eq!(common::count_rows(&s.state.db, "alerts").await, 1);

    // Acknowledged means committed: a restarted server has every report.
    let db = s.stop().await;
    let s = TestServer::start_on(backend, db).await;
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 3);
    // The same phone (token) re-sending: report ids are unique per token.
    let (_, after) = s.post("/api/v1/scans", Some(&officer), batch).await;
    assert_eq!(after["duplicates"], 3);
    s.stop().await;
}

async fn every_alert_kind(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let o = Some(officer.as_str());
    let p1 = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let p2 = s.issue(&ke, "KE", export_draft("KE/2", "KE", "DE")).await;
    let p3 = s.issue(&ke, "KE", export_draft("KE/3", "KE", "DE")).await;
    let (q1, q2, q3) = (
        p1["qr_text"].as_str().unwrap(),
        p2["qr_text"].as_str().unwrap(),
        p3["qr_text"].as_str().unwrap(),
    );
    let kinds = |r: &Value| -> Vec<String> {
        r["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_owned())
            .collect()
    };

    // impossible_travel: Nairobi, then Frankfurt an hour later.
    let (_, r) = s
        .post(
            "/api/v1/scans",
            o,
            json!({"scans": [scan("t-1", q1, ts(-7200), json!({"locode": "KENBO"}))]}),
        )
        .await;
    assert!(kinds(&r).is_empty());
    let (_, r) = s
        .post(
            "/api/v1/scans",
            o,
            json!({"scans": [scan("t-2", q1, ts(-3600), json!({"lat": 50.11, "lon": 8.68}))]}),
        )
        .await;
    assert_eq!(kinds(&r), ["impossible_travel"], "{r}");
    // A place the operator adds is used from then on: Arusha by LOCODE, 30 min after Frankfurt.
    let (status, _) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/locations/TZARK",
            Some(&officer),
            Some(json!({"name": "Arusha", "lat": -3.37, "lon": 36.68})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for bad in [
        json!({"name": "x", "lat": 100.0, "lon": 0.0}),
        json!({"name": "", "lat": 1.0, "lon": 1.0}),
        json!({"lat": 1.0, "lon": 1.0}),
    ] {
        let (status, _) = s
            .call(
                reqwest::Method::PUT,
                "/api/v1/locations/TZARK",
                Some(&s.admin),
                Some(bad),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let (status, _) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/locations/TZARK",
            Some(&s.admin),
            Some(json!({"name": "Arusha", "lat": -3.37, "lon": 36.68})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, places) = s.get("/api/v1/locations", None).await;
    assert!(
        places["locations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["locode"] == "TZARK")
    );
    // Scanned by a Tanzanian officer: a place in the uploader's own country.
    let tz_officer = s.token("officer", None, Some("TZ")).await;
    let (_, r) = s
        .post(
            "/api/v1/scans",
            Some(&tz_officer),
            json!({"scans": [scan("t-3", q1, ts(-1800), json!({"locode": "TZARK"}))]}),
        )
        .await;
    assert_eq!(kinds(&r), ["impossible_travel"], "{r}");
    // Mombasa four hours after Nairobi is fine (checked on a second permit).
    let (_, r) = s
        .post(
            "/api/v1/scans",
            o,
            json!({"scans": [
                scan("m-1", q2, ts(-20000), json!({"locode": "KENBO"})),
                scan("m-2", q2, ts(-5600), json!({"locode": "KEMBA"})),
            ]}),
        )
        .await;
    assert!(kinds(&r).is_empty(), "{r}");

    // revoked_permit: a scan of a revoked permit.
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE3/revoke",
            Some(&ke),
            json!({"reason": "stolen"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, r) = s
        .post(
            "/api/v1/scans",
            o,
            json!({"scans": [scan("r-1", q3, ts(-10), json!({"locode": "KEMBA"}))]}),
        )
        .await;
    assert_eq!(kinds(&r), ["revoked_permit"]);

    // unknown_permit: an altered code (valid prefix, one character changed), and garbage.
    let mut altered = q2.to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == '0' { '1' } else { '0' });
    let (_, r) = s
        .post(
            "/api/v1/scans",
            o,
            json!({"scans": [
                scan("u-1", &altered, ts(-10), json!({"locode": "KEMBA"})),
                scan("u-2", "hello", ts(-10), json!({"locode": "KEMBA"})),
            ]}),
        )
        .await;
    assert_eq!(kinds(&r), ["unknown_permit", "unknown_permit"], "{r}");

    // Export endorsement: the first one is fine, with a quantity within the issued 12.5 kg.
    let (_, r) = s
        .post(
            "/api/v1/endorsements",
            o,
            json!({"endorsements": [endorsement("e-1", q1, "12.5")]}),
        )
        .await;
    assert_eq!(r["accepted"], 1);
    assert!(kinds(&r).is_empty(), "{r}");
    // second_endorsement + quantity_exceeded: the same permit again, with more than issued.
    let (_, r) = s
        .post(
            "/api/v1/endorsements",
            o,
            json!({"endorsements": [endorsement("e-2", q1, "13")]}),
        )
        .await;
    let mut k = kinds(&r);
    k.sort();
    assert_eq!(k, ["quantity_exceeded", "second_endorsement"], "{r}");
    // An endorsement naming a block the permit does not have.
    let mut e = endorsement("e-3", q2, "1");
    e["lines"] = json!([{"block": "A", "quantity": "1"}, {"block": "C", "quantity": "1"}]);
    let (_, r) = s
        .post("/api/v1/endorsements", o, json!({"endorsements": [e]}))
        .await;
    assert_eq!(kinds(&r), ["quantity_exceeded"]);
    assert!(
        r["alerts"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("block C")
    );

    // used_permit_scanned: an endorsed (used) permit turns up again at another port of the
    // exporting country. Scans at the endorsing port or in the importing country are expected.
    let q4 = s.issue(&ke, "KE", export_draft("KE/4", "KE", "DE")).await["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    let q5 = s.issue(&ke, "KE", export_draft("KE/5", "KE", "DE")).await["qr_text"]
        .as_str()
        .unwrap()
        .to_owned();
    // Endorsed just after issue (a report cannot be dated before its permit's issue day); the
    // scans follow, the last one two hours ahead (the report contract admits a day's skew).
    let e4 = endorsement("e-4", &q4, "12.5");
    let e5 = endorsement("e-5", &q5, "12.5");
    let (_, r) = s
        .post("/api/v1/endorsements", o, json!({"endorsements": [e4, e5]}))
        .await;
    assert!(kinds(&r).is_empty(), "{r}");
    let (_, r) = s
        .post(
            "/api/v1/scans",
            o,
            json!({"scans": [scan("x-1", &q4, ts(-30), json!({"locode": "KEMBA"}))]}),
        )
        .await;
    assert!(kinds(&r).is_empty(), "endorsing port: {r}");
    // The importing country's officers scan at their own ports.
    let de_officer = s.token("officer", None, Some("DE")).await;
    let (_, r) = s
        .post(
            "/api/v1/scans",
            Some(&de_officer),
            json!({"scans": [scan("x-2", &q5, ts(-10), json!({"locode": "DEFRA"}))]}),
        )
        .await;
    assert!(kinds(&r).is_empty(), "importing country: {r}");
    let (_, r) = s
        .post(
            "/api/v1/scans",
            o,
            json!({"scans": [scan("x-3", &q4, ts(7_200), json!({"locode": "KENBO"}))]}),
        )
        .await;
    assert_eq!(kinds(&r), ["used_permit_scanned"], "{r}");

    // Listed per authority; scoped.
    let (status, list) = s.get("/api/v1/authorities/KE/alerts", Some(&ke)).await;
    assert_eq!(status, StatusCode::OK);
    let mut all: Vec<String> = list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect();
    all.sort();
    all.dedup();
    assert_eq!(
        all,
        [
            "impossible_travel",
            "quantity_exceeded",
            "revoked_permit",
            "second_endorsement",
            "unknown_permit",
            "used_permit_scanned"
        ]
    );
    let (_, only) = s
        .get(
            "/api/v1/authorities/KE/alerts?kind=second_endorsement",
            Some(&ke),
        )
        .await;
    assert_eq!(only["alerts"].as_array().unwrap().len(), 1);
    assert_eq!(only["alerts"][0]["permit_number"], "KE/1");
    let (status, _) = s.get("/api/v1/authorities/KE/alerts", Some(&de)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s.get("/api/v1/alerts", Some(&ke)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .get("/api/v1/authorities/KE/alerts?kind=bogus", Some(&ke))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The garbage code belongs to no authority: only the platform view has it.
    let (_, platform) = s
        .get("/api/v1/alerts?kind=unknown_permit", Some(&s.admin))
        .await;
    let platform = platform["alerts"].as_array().unwrap();
    assert_eq!(platform.len(), 2);
    assert!(platform.iter().any(|a| a["authority_id"].is_null()));
    assert!(
        platform.iter().any(|a| a["authority_id"] == "KE"),
        "the altered code names KE's key"
    );
    s.stop().await;
}

async fn endorsement_marks_used_for_phones(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    assert_eq!(s.phone_verify(qr).await.verdict, Verdict::Valid);
    let (_, a) = s.get("/api/v1/authorities/KE", Some(&ke)).await;
    let before = a["status_version"].as_i64().unwrap();
    let (status, r) = s
        .post(
            "/api/v1/endorsements",
            Some(&officer),
            json!({"endorsements": [endorsement("e-1", qr, "10")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    let (_, p) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(p["state"], "used");
    let (_, a) = s.get("/api/v1/authorities/KE", Some(&ke)).await;
    assert_eq!(a["status_version"].as_i64().unwrap(), before + 1);
    // Re-sending the endorsement changes nothing.
    let (_, r) = s
        .post(
            "/api/v1/endorsements",
            Some(&officer),
            json!({"endorsements": [endorsement("e-1", qr, "10")]}),
        )
        .await;
    assert_eq!(r["duplicates"], 1);
    let (_, a) = s.get("/api/v1/authorities/KE", Some(&ke)).await;
    assert_eq!(a["status_version"].as_i64().unwrap(), before + 1);
    // A phone at another export point now sees re-use.
    let v = s.phone_verify(qr).await;
    assert_eq!(v.verdict, Verdict::Invalid);
    assert!(v.codes().contains(&"USED"), "{:?}", v.codes());
    s.stop().await;
}

async fn online_verify_and_usage_visibility(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de_issuer = s.issuing_authority("DE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer_de = s.token("importer", None, Some("DE")).await;
    let importer_us = s.token("importer", None, Some("US")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    s.post(
        "/api/v1/scans",
        Some(&officer),
        json!({"scans": [scan("s-1", qr, ts(-100), json!({"locode": "KENBO"}))]}),
    )
    .await;

    let ask = |token: Option<String>, body: Value| {
        let s = &s;
        async move { s.post("/api/v1/verify", token.as_deref(), body).await }
    };
    let (status, v) = ask(None, json!({"qr": qr})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["verification"]["verdict"], "valid", "{v}");
    assert_eq!(v["server"]["state"], "valid");
    assert_eq!(v["server"]["number"], "KE/1");
    assert!(v["usage"].is_null(), "public callers see no usage");
    for (who, token, sees) in [
        ("issuer KE", Some(ke.clone()), true),
        ("importer DE (destination)", Some(importer_de.clone()), true),
        ("admin", Some(s.admin.clone()), true),
        ("importer US", Some(importer_us.clone()), false),
        ("issuer DE", Some(de_issuer.clone()), false),
        ("officer", Some(officer.clone()), false),
    ] {
        let (status, v) = ask(token, json!({"qr": qr})).await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert_eq!(!v["usage"].is_null(), sees, "{who}: {v}");
        if sees {
            assert_eq!(v["usage"]["scans"][0]["id"], "s-1");
        }
    }
    // Same verdict as a phone, before and after revocation.
    s.post(
        "/api/v1/authorities/KE/permits/KE1/revoke",
        Some(&ke),
        json!({"reason": "lost"}),
    )
    .await;
    let (_, v) = ask(None, json!({"qr": qr})).await;
    assert_eq!(v["verification"]["verdict"], "invalid");
    assert_eq!(v["server"]["state"], "revoked");
    // The reason is the issuer's note: for the parties to the permit, not the public.
    assert_eq!(v["server"]["state_reason"], serde_json::Value::Null);
    let (_, own) = ask(Some(ke.clone()), json!({"qr": qr})).await;
    assert_eq!(own["server"]["state_reason"], "lost");
    let phone = s.phone_verify(qr).await;
    assert_eq!(
        serde_json::to_value(phone.codes()).unwrap(),
        serde_json::to_value(
            v["verification"]["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap())
                .collect::<Vec<_>>()
        )
        .unwrap()
    );
    // Garbage is a verdict, not an error.
    let (status, v) = ask(None, json!({"qr": "hello"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["verification"]["verdict"], "invalid");
    assert!(v["server"].is_null());
    // Bad requests are.
    let (status, _) = ask(None, json!({"qr": qr, "checkpoint": "border"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = ask(None, json!({"text": qr})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = ask(Some("pst_bogus".into()), json!({"qr": qr})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    s.stop().await;
}

async fn bad_reports_change_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer = s.token("importer", None, Some("DE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let good = scan("ok-1", qr, ts(-10), json!({"locode": "KEMBA"}));
    // Only officers upload.
    for token in [
        Some(ke.as_str()),
        Some(importer.as_str()),
        Some(s.admin.as_str()),
    ] {
        let (status, _) = s
            .post("/api/v1/scans", token, json!({"scans": [good.clone()]}))
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, _) = s
            .post(
                "/api/v1/endorsements",
                token,
                json!({"endorsements": [endorsement("x", qr, "1")]}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = s
        .post("/api/v1/scans", None, json!({"scans": [good.clone()]}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let with = |field: &str, value: Value| {
        let mut bad = good.clone();
        bad[field] = value;
        json!({"scans": [good.clone(), bad]})
    };
    let cases = vec![
        (with("place", json!({})), "invalid_place"),
        (with("place", json!({"locode": "NAIROBI"})), "invalid_place"),
        (
            with("place", json!({"lat": 91.0, "lon": 0.0})),
            "invalid_place",
        ),
        (with("place", json!({"lat": 1.0})), "invalid_place"),
        (
            with("scanned_at", json!("2999-01-01T00:00:00Z")),
            "invalid_time",
        ),
        (with("scanned_at", json!("yesterday")), "invalid_time"),
        (with("verdict", json!("green")), "invalid_field"),
        (with("id", json!("has spaces")), "invalid_field"),
        (with("id", json!("x".repeat(65))), "invalid_field"),
        (with("qr", json!("")), "invalid_field"),
        (with("extra", json!(1)), "invalid_body"),
        (json!({"scans": []}), "invalid_batch"),
        (json!({"scans": vec![good.clone(); 1001]}), "invalid_batch"),
    ];
    for (body, code) in cases {
        let (status, err) = s.post("/api/v1/scans", Some(&officer), body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{code}: {err}");
        assert_eq!(err["code"], code, "{err}");
    }
    let (status, err) = s
        .post_raw(
            "/api/v1/scans",
            Some(&officer),
            "application/json",
            b"{\"scans\": [".to_vec(),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let huge = format!(
        "{{\"scans\": [{{\"qr\": \"{}\"}}]}}",
        "A".repeat(5 * 1024 * 1024)
    );
    // The server stops reading at the limit and answers 413. It then closes the connection
    // with the rest of the body unread, so a client still sending may see the connection reset
    // before it reads the answer (HTTP allows the close; a loaded machine makes it likely).
    // Either way nothing is stored.
    let scans_before = common::count_rows(&s.state.db, "scans").await;
    let sent = s
        .client
        .post(s.url("/api/v1/scans"))
        .bearer_auth(&officer)
        .header("content-type", "application/json")
        .body(huge.into_bytes())
        .send()
        .await;
    match sent {
        Ok(resp) => {
            assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
            let v: Value = resp.json().await.unwrap();
            assert_eq!(v["code"], "payload_too_large", "{v}");
        }
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    assert_eq!(common::count_rows(&s.state.db, "scans").await, scans_before);
    let mut bad_e = endorsement("e-1", qr, "1");
    bad_e["lines"] = json!([{"block": "A", "quantity": "-1"}]);
    let (status, _) = s
        .post(
            "/api/v1/endorsements",
            Some(&officer),
            json!({"endorsements": [bad_e]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let mut bad_e = endorsement("e-1", qr, "1");
    bad_e["lines"] = json!([{"block": "A", "quantity": "1"}, {"block": "a", "quantity": "1"}]);
    let (status, _) = s
        .post(
            "/api/v1/endorsements",
            Some(&officer),
            json!({"endorsements": [bad_e]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Nothing of any refused batch was stored, and the permit is untouched.
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 0);
    assert_eq!(common::count_rows(&s.state.db, "endorsements").await, 0);
    assert_eq!(common::count_rows(&s.state.db, "alerts").await, 0);
    let (_, p) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(p["state"], "valid");
    s.stop().await;
}

/// An import confirmation at the port of Hamburg.
fn confirmation(id: &str, qr: &str, quantity: &str) -> Value {
    json!({"id": id, "received_at": ts(-30), "place": {"locode": "DEHAM"}, "lines": [{"block": "A", "quantity": quantity}], "qr": qr})
}

async fn importing_country_confirms_receipt(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer_de = s.token("importer", None, Some("DE")).await;
    let importer_us = s.token("importer", None, Some("US")).await;
    let p1 = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let p2 = s.issue(&ke, "KE", export_draft("KE/2", "KE", "DE")).await;
    let (q1, q2) = (
        p1["qr_text"].as_str().unwrap(),
        p2["qr_text"].as_str().unwrap(),
    );
    s.post(
        "/api/v1/endorsements",
        Some(&officer),
        json!({"endorsements": [endorsement("e-1", q1, "10")]}),
    )
    .await;
    let kinds = |r: &Value| -> Vec<String> {
        let mut k: Vec<String> = r["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["kind"].as_str().unwrap().to_owned())
            .collect();
        k.sort();
        k
    };
    // Only the destination's importing authority may confirm; a refused batch stores nothing.
    // (The US authority names a US port: a port outside its own country is refused first.)
    let mut at_new_york = confirmation("c-1", q1, "10");
    at_new_york["place"] = json!({"locode": "USJFK"});
    for (token, body, want) in [
        (Some(importer_us.as_str()), &at_new_york, 403),
        (Some(officer.as_str()), &confirmation("c-1", q1, "10"), 403),
        (Some(ke.as_str()), &confirmation("c-1", q1, "10"), 403),
        (None, &confirmation("c-1", q1, "10"), 401),
    ] {
        let (status, _) = s
            .post(
                "/api/v1/confirmations",
                token,
                json!({"confirmations": [body]}),
            )
            .await;
        assert_eq!(status.as_u16(), want);
    }
    assert_eq!(common::count_rows(&s.state.db, "confirmations").await, 0);
    // The port of entry is checked as an endorsement's port is, and must be in the importing
    // country; a confirmation without one is refused.
    let mut bad_port = confirmation("c-1", q1, "10");
    for (place, field) in [
        (json!({"locode": "DEHA"}), "confirmations[0].place.locode"),
        (json!({"lat": 53.5}), "confirmations[0].place"),
        (json!({}), "confirmations[0].place"),
        (json!({"locode": "KEMBA"}), "confirmations[0].place.locode"),
    ] {
        bad_port["place"] = place;
        let (status, r) = s
            .post(
                "/api/v1/confirmations",
                Some(&importer_de),
                json!({"confirmations": [bad_port.clone()]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
        assert_eq!(r["code"], "invalid_place", "{r}");
        assert!(r["message"].as_str().unwrap().starts_with(field), "{r}");
    }
    bad_port.as_object_mut().unwrap().remove("place");
    let (status, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer_de),
            json!({"confirmations": [bad_port]}),
        )
        .await;
    assert!(status.is_client_error(), "{status} {r}");
    assert_eq!(common::count_rows(&s.state.db, "confirmations").await, 0);
    // Within what was endorsed: no alert; idempotent.
    let (status, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer_de),
            json!({"confirmations": [confirmation("c-1", q1, "10")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert!(kinds(&r).is_empty(), "{r}");
    let (_, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer_de),
            json!({"confirmations": [confirmation("c-1", q1, "10")]}),
        )
        .await;
    assert_eq!(r["duplicates"], 1);
    // More than endorsed, and a second confirmation of the same permit.
    let (_, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer_de),
            json!({"confirmations": [confirmation("c-2", q1, "11")]}),
        )
        .await;
    assert_eq!(
        kinds(&r),
        ["quantity_exceeded", "second_import_confirmation"],
        "{r}"
    );
    // A permit never endorsed for export, received at a port given by its coordinates and a
    // lower-case code (trimmed and upper-cased as received).
    let mut by_coords = confirmation("c-3", q2, "1");
    by_coords["place"] = json!({"locode": " defra", "lat": 50.03, "lon": 8.57});
    let (_, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer_de),
            json!({"confirmations": [by_coords]}),
        )
        .await;
    assert_eq!(kinds(&r), ["import_without_endorsement"], "{r}");
    // The destination sees the whole history online.
    let (_, v) = s
        .post(
            "/api/v1/verify",
            Some(&importer_de),
            json!({"qr": q1, "checkpoint": "import"}),
        )
        .await;
    assert_eq!(v["usage"]["endorsements"][0]["id"], "e-1");
    assert_eq!(v["usage"]["confirmations"].as_array().unwrap().len(), 2);
    // The port of entry is in the history, for the importing and the exporting authority.
    for token in [&importer_de, &ke] {
        for (qr, id, port) in [
            // A UN/LOCODE alone is placed from the known places, as a port of export is.
            (
                q1,
                "c-1",
                json!({"locode": "DEHAM", "lat": 53.55, "lon": 9.99}),
            ),
            (
                q2,
                "c-3",
                json!({"locode": "DEFRA", "lat": 50.03, "lon": 8.57}),
            ),
        ] {
            let (_, v) = s
                .post("/api/v1/verify", Some(token), json!({"qr": qr}))
                .await;
            let c = &v["usage"]["confirmations"][0];
            assert_eq!(c["id"], id, "{v}");
            assert_eq!(c["country"], "DE", "{v}");
            for field in ["locode", "lat", "lon"] {
                assert_eq!(c[field], port[field], "{field}: {v}");
            }
        }
    }
    // White space around the text is not part of it (FORMAT.md §3.1): the same verdict and
    // the same record as the bare text, as the desk CLI and the phone give.
    let (_, padded) = s
        .post(
            "/api/v1/verify",
            Some(&importer_de),
            json!({"qr": format!(" \t{q1}\r\n"), "checkpoint": "import"}),
        )
        .await;
    for field in ["verdict", "reasons", "permit"] {
        assert_eq!(
            padded["verification"][field], v["verification"][field],
            "{padded}"
        );
    }
    assert_eq!(padded["server"], v["server"]);
    assert_eq!(padded["usage"], v["usage"]);
    s.stop().await;
}
