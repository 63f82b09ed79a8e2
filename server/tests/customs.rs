//! The customs interface against a real server on port 0, on SQLite and PostgreSQL: a customs
//! token of one country looks permits up by issuing country and number or by QR text and gets
//! the public verify endpoint's answer, and records the export endorsement of a declaration
//! through the phone's ingest, once, within the issued quantities and only for its exports.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, count_rows, export_draft};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    customs_looks_permits_up_like_the_verify_endpoint,
    customs_endorses_once_within_the_issued_quantities,
    customs_endorses_only_its_own_countrys_valid_exports,
    customs_endorses_every_crossing_of_a_multi_use_certificate,
);

async fn endorse(s: &TestServer, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    s.post("/api/v1/customs/endorsements", token, body).await
}

/// Suspends, reinstates or revokes a permit of KE; the answer's status.
async fn change(s: &TestServer, issuer: &str, number: &str, action: &str) -> StatusCode {
    let path = format!("/api/v1/authorities/KE/permits/{number}/{action}");
    s.post(&path, Some(issuer), json!({"reason": "inquiry"}))
        .await
        .0
}

fn declaration(id: &str, qr: &str, quantity: &str) -> Value {
    json!({"declaration": id, "qr": qr, "officer": "KRA Kilindini",
           "place": {"locode": "KEMBA"}, "transport_document": "MSKU1234567",
           "lines": [{"block": "A", "quantity": quantity}]})
}

async fn customs_looks_permits_up_like_the_verify_endpoint(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let permit = s
        .issue(&ke, "KE", export_draft("KE/2026/7", "KE", "DE"))
        .await;
    let qr = permit["qr_text"].as_str().unwrap();
    let customs_ke = s.token("customs", None, Some("KE")).await;
    let customs_de = s.token("customs", None, Some("DE")).await;
    let customs_fr = s.token("customs", None, Some("FR")).await;

    // By issuing country and number (the number as printed, percent-encoded; case and
    // spacing as the stored number key normalises them).
    let (status, by_number) = s
        .get(
            "/api/v1/customs/permits/ke/KE%2F2026%2F7",
            Some(&customs_ke),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{by_number}");
    assert_eq!(by_number["verification"]["verdict"], "valid", "{by_number}");
    assert_eq!(by_number["server"]["state"], "valid");
    assert_eq!(by_number["server"]["number"], "KE/2026/7");
    assert!(
        by_number["usage"].is_object(),
        "exporting customs sees usage"
    );

    // By QR text: the same answer as the public endpoint gives the same caller.
    let (status, by_qr) = s
        .post(
            "/api/v1/customs/verify",
            Some(&customs_de),
            json!({"qr": qr, "checkpoint": "import"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{by_qr}");
    let (_, public) = s
        .post(
            "/api/v1/verify",
            Some(&customs_de),
            json!({"qr": qr, "checkpoint": "import"}),
        )
        .await;
    assert_eq!(by_qr, public);
    assert!(by_qr["usage"].is_object(), "importing customs sees usage");

    // Customs of a third country gets the verdict and the state, not the history.
    let (status, third) = s
        .post(
            "/api/v1/customs/verify",
            Some(&customs_fr),
            json!({"qr": qr}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(third["verification"]["verdict"], "valid");
    assert!(third["usage"].is_null(), "{third}");
    assert!(third["server"]["state_reason"].is_null());

    // A revocation shows at once.
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE%2F2026%2F7/revoke",
            Some(&ke),
            json!({"reason": "issued in error"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, revoked) = s
        .get(
            "/api/v1/customs/permits/KE/KE%2F2026%2F7",
            Some(&customs_ke),
        )
        .await;
    assert_eq!(revoked["verification"]["verdict"], "invalid", "{revoked}");
    assert_eq!(revoked["server"]["state"], "revoked");
    assert_eq!(revoked["server"]["state_reason"], "issued in error");

    // What is not there, or not well formed, is a specific 4xx.
    for (path, want, code) in [
        (
            "/api/v1/customs/permits/KE/KE%2F2026%2F8",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/customs/permits/TZ/KE%2F2026%2F7",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        (
            "/api/v1/customs/permits/K1/KE%2F2026%2F7",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_country",
        ),
        (
            "/api/v1/customs/permits/KE/KE%2F2026%2F7?checkpoint=transit",
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
    ] {
        let (status, body) = s.get(path, Some(&customs_ke)).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (want, Some(code)),
            "{path}: {body}"
        );
    }
    let (status, body) = s
        .post(
            "/api/v1/customs/verify",
            Some(&customs_ke),
            json!({"qr": "PS1:not a permit"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["verification"]["verdict"], "invalid");
    assert!(body["server"].is_null());

    // Two authorities of one country with the same number: the number alone is ambiguous.
    s.authority("US-FWS", "US").await;
    s.authority("US-NOAA", "US").await;
    for authority in ["US-FWS", "US-NOAA"] {
        let issuer = s.token("issuer", Some(authority), None).await;
        let (status, _) = s
            .post_empty(
                &format!("/api/v1/authorities/{authority}/keys"),
                Some(&issuer),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        s.issue(&issuer, authority, export_draft("US-1", "US", "DE"))
            .await;
    }
    let (status, body) = s
        .get("/api/v1/customs/permits/US/US-1", Some(&customs_ke))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "ambiguous_number");
}

async fn customs_endorses_once_within_the_issued_quantities(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let permit = s.issue(&ke, "KE", export_draft("KE-100", "KE", "DE")).await;
    let qr = permit["qr_text"].as_str().unwrap();
    let customs = s.token("customs", None, Some("KE")).await;
    let c = Some(customs.as_str());

    // Above the 12.5 kg issued: refused, nothing stored, the permit stays valid.
    let (status, body) = endorse(&s, c, declaration("C-1", qr, "12.6")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "quantity_exceeded");
    assert!(body["message"].as_str().unwrap().contains("block A"));
    assert_eq!(count_rows(&s.state.db, "endorsements").await, 0);

    // Within: recorded, and the permit is used (for phones too: its status list moved).
    let (status, body) = endorse(&s, c, declaration("C-1", qr, "12.5")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(body["alerts"], json!([]));
    let (_, p) = s
        .get("/api/v1/authorities/KE/permits/KE-100", Some(&ke))
        .await;
    assert_eq!(p["state"], "used", "{p}");
    assert_eq!(
        s.phone_verify(qr).await.verdict,
        verifier_core::Verdict::Invalid,
        "a used permit does not pass again at export"
    );

    // The declaration sent again is a duplicate; another declaration is a second shipment.
    let (status, body) = endorse(&s, c, declaration("C-1", qr, "12.5")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
    let (status, body) = endorse(&s, c, declaration("C-2", qr, "1")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "already_endorsed");
    assert_eq!(count_rows(&s.state.db, "endorsements").await, 1);

    // The usage the issuer sees names the customs declaration.
    let (_, v) = s.post("/api/v1/verify", Some(&ke), json!({"qr": qr})).await;
    let endorsements = v["usage"]["endorsements"].as_array().unwrap();
    assert_eq!(endorsements.len(), 1, "{v}");
    assert_eq!(endorsements[0]["id"], "C-1");

    // A permit named by issuing country and number; a phone's endorsement before it counts.
    let second = s.issue(&ke, "KE", export_draft("KE-101", "KE", "DE")).await;
    let officer = s.token("officer", None, Some("KE")).await;
    let (status, body) = s
        .post(
            "/api/v1/endorsements",
            Some(&officer),
            json!({"endorsements": [{"id": "e-1", "device_id": "dev-1",
                "endorsed_at": permitseal_server::http::format_time(
                    permitseal_server::clock::Clock::system().now()),
                "place": {"locode": "KEMBA"}, "lines": [{"block": "A", "quantity": "2"}],
                "qr": second["qr_text"]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut by_number = declaration("C-3", "", "2");
    by_number.as_object_mut().unwrap().remove("qr");
    by_number["issuing_country"] = json!("KE");
    by_number["number"] = json!("KE-101");
    let (status, body) = endorse(&s, c, by_number.clone()).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "already_endorsed");
    let third = s.issue(&ke, "KE", export_draft("KE-102", "KE", "DE")).await;
    by_number["number"] = json!("KE-102");
    let (status, body) = endorse(&s, c, by_number.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, p) = s
        .get("/api/v1/authorities/KE/permits/KE-102", Some(&ke))
        .await;
    assert_eq!(p["state"], "used");
    assert_eq!(p["qr_text"], third["qr_text"]);
}

async fn customs_endorses_only_its_own_countrys_valid_exports(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let permit = s.issue(&ke, "KE", export_draft("KE-200", "KE", "DE")).await;
    let qr = permit["qr_text"].as_str().unwrap();
    let customs_ke = s.token("customs", None, Some("KE")).await;
    let customs_tz = s.token("customs", None, Some("TZ")).await;
    let before = count_rows(&s.state.db, "endorsements").await;

    // Another country's customs: not its export (its own office, so the place is not the
    // reason).
    let mut tz = declaration("T-1", qr, "1");
    tz["place"] = json!({"locode": "TZDAR"});
    let (status, body) = endorse(&s, Some(&customs_tz), tz).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("not exported from TZ")
    );

    // Bad declarations: each a specific 4xx, nothing stored.
    let c = Some(customs_ke.as_str());
    let with = |key: &str, value: Value| {
        let mut d = declaration("K-1", qr, "1");
        d[key] = value;
        d
    };
    let mut neither = declaration("K-1", qr, "1");
    neither.as_object_mut().unwrap().remove("qr");
    for (body, want, code) in [
        (
            with("place", json!({"locode": "TZDAR"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_place",
        ),
        (
            with("declaration", json!("KE/2026/C 1")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            with("lines", json!([{"block": "A", "quantity": "-1"}])),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (
            with("number", json!("KE-200")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
        ),
        (neither, StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
        (
            with("qr", json!("PS1:not a permit")),
            StatusCode::NOT_FOUND,
            "unknown_permit",
        ),
    ] {
        let (status, answer) = endorse(&s, c, body.clone()).await;
        assert_eq!(
            (status, answer["code"].as_str()),
            (want, Some(code)),
            "{body}: {answer}"
        );
    }

    // A suspended permit cannot be endorsed; once reinstated it can.
    assert_eq!(change(&s, &ke, "KE-200", "suspend").await, StatusCode::OK);
    let (status, body) = endorse(&s, c, declaration("K-2", qr, "1")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "permit_withdrawn");
    assert_eq!(count_rows(&s.state.db, "endorsements").await, before);
    assert_eq!(change(&s, &ke, "KE-200", "reinstate").await, StatusCode::OK);
    let (status, body) = endorse(&s, c, declaration("K-2", qr, "1")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Customs cannot upload as a phone or an importer.
    let (status, _) = s
        .post("/api/v1/endorsements", c, json!({"endorsements": []}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

/// A musical instrument certificate (Res. Conf. 16.8) crosses as often as its validity
/// allows: customs of each country it leaves endorses it, every time, within the quantities
/// issued, and it stays valid; an export permit is refused at its second shipment.
async fn customs_endorses_every_crossing_of_a_multi_use_certificate(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let mut draft = export_draft("KE/MI/9", "KE", "DE");
    draft["document_type"] = json!("musical_instrument");
    draft["purpose"] = json!("Q");
    draft.as_object_mut().unwrap().remove("importer");
    let cert = s.issue(&ke, "KE", draft).await;
    let qr = cert["qr_text"].as_str().unwrap();
    let customs_ke = s.token("customs", None, Some("KE")).await;
    let customs_de = s.token("customs", None, Some("DE")).await;

    let at_hamburg = |id: &str, quantity: &str| {
        let mut d = declaration(id, qr, quantity);
        d["place"] = json!({"locode": "DEHAM"});
        d
    };
    for (token, body) in [
        (&customs_ke, declaration("MI-1", qr, "1")),
        (&customs_de, at_hamburg("MI-2", "1")),
        (&customs_ke, declaration("MI-3", qr, "12.5")),
    ] {
        let (status, answer) = endorse(&s, Some(token), body.clone()).await;
        assert_eq!(status, StatusCode::OK, "{body}: {answer}");
        assert_eq!(answer["accepted"].as_u64(), Some(1), "{answer}");
        assert_eq!(answer["alerts"], json!([]), "{answer}");
    }
    // Each crossing stays within what was issued.
    let (status, body) = endorse(&s, Some(&customs_de), at_hamburg("MI-4", "12.6")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "quantity_exceeded");
    assert_eq!(count_rows(&s.state.db, "endorsements").await, 3);

    let (_, p) = s
        .get("/api/v1/authorities/KE/permits/KE%2FMI%2F9", Some(&ke))
        .await;
    assert_eq!(p["state"], "valid", "{p}");
    let (_, v) = s.post("/api/v1/verify", Some(&ke), json!({"qr": qr})).await;
    let crossings = v["usage"]["endorsements"].as_array().unwrap();
    assert_eq!(crossings.len(), 3, "{v}");
    assert_eq!(
        s.phone_verify(qr).await.verdict,
        verifier_core::Verdict::Valid,
        "a multi-use certificate passes again at its next crossing"
    );

    // Revoked, it crosses no more.
    assert_eq!(
        change(&s, &ke, "KE%2FMI%2F9", "revoke").await,
        StatusCode::OK
    );
    let (status, body) = endorse(&s, Some(&customs_de), at_hamburg("MI-5", "1")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "permit_withdrawn");
}
