//! The annual trade report against a real server on port 0, on SQLite and PostgreSQL: the CSV
//! a Party uploads to the CITES Trade Database, from actual trade (endorsements, import
//! confirmations) and from permits issued, and who may read which report.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, enc, valid_until};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    reports_from_trade_and_from_permits,
    who_may_read_which_report,
);

fn at(offset: i64) -> i64 {
    permitseal_server::clock::Clock::system().now() + offset
}

fn year_of(t: i64) -> i32 {
    verifier_core::date::Date::from_unix(t).ymd().0
}

const EXPORT_HEADER: &str = "appendix,species_name,term_code,quantity,unit_code,trading_partner,\
    country_of_origin,export_permit,origin_permit,ifs_permit,purpose_code,source_code,year\r\n";
const IMPORT_HEADER: &str = "appendix,species_name,term_code,quantity,unit_code,trading_partner,\
    country_of_origin,import_permit,export_permit,origin_permit,ifs_permit,purpose_code,\
    source_code,year\r\n";

/// The report as (status, body text, content type); an error body must be `{code, message}`.
async fn report(s: &TestServer, path: &str, token: &str) -> (StatusCode, String, String) {
    let resp = s
        .client
        .get(s.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.text().await.unwrap();
    if !status.is_success() {
        let v: Value = serde_json::from_str(&body).unwrap();
        common::assert_error_shape(path, status, &v);
    }
    (status, body, kind)
}

fn two_line_export(number: &str) -> Value {
    json!({
        "document_type": "export", "number": number, "valid_until": valid_until(),
        "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": "KE"},
        "importer": {"name": "Importer GmbH", "country": "DE"},
        "lines": [
            {"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
             "appendix": "II", "source": "A", "quantity": "12.5", "unit": "KIL"},
            {"scientific_name": "Python regius", "kingdom": "animal", "term": "SKI",
             "appendix": "II", "source": "W", "quantity": 3}
        ]
    })
}

fn re_export(number: &str) -> Value {
    json!({
        "document_type": "re_export", "number": number, "valid_until": valid_until(),
        "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": "KE"},
        "importer": {"name": "Importer Inc", "country": "US"},
        "lines": [
            {"scientific_name": "Chamaeleo calyptratus", "kingdom": "animal", "term": "LIV",
             "appendix": "II", "source": "C", "quantity": 5,
             "origin": {"country": "YE", "number": "YE/2025/77", "date": "2025-05-01"}}
        ]
    })
}

fn import_permit(number: &str) -> Value {
    json!({
        "document_type": "import", "number": number, "valid_until": valid_until(),
        "purpose": "Z", "exporter": {"name": "Exporter Ltd", "country": "KE"},
        "importer": {"name": "Zoo Berlin", "country": "DE"},
        "lines": [
            {"scientific_name": "Diceros bicornis", "kingdom": "animal", "term": "LIV",
             "appendix": "I", "source": "C", "quantity": 2}
        ]
    })
}

async fn reports_from_trade_and_from_permits(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer_de = s.token("importer", None, Some("DE")).await;
    let issued_year = year_of(at(0));

    let p1 = s.issue(&ke, "KE", two_line_export("KE/1")).await;
    s.issue(&ke, "KE", re_export("KE/2")).await;
    s.issue(&ke, "KE", two_line_export("KE/3")).await;
    let (status, v) = s
        .post(
            &format!("/api/v1/authorities/KE/permits/{}/revoke", enc("KE/3")),
            Some(&ke),
            json!({"reason": "issued in error"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    s.issue(&de, "DE", import_permit("DE/I/1")).await;

    // Block A leaves with less than allowed, block B in full; the importer receives less of B.
    let qr = p1["qr_text"].as_str().unwrap();
    let endorsed_at = at(-120);
    let (status, v) = s
        .post(
            "/api/v1/endorsements",
            Some(&officer),
            json!({"endorsements": [{
                "id": "e-1", "device_id": "dev-1",
                "endorsed_at": permitseal_server::http::format_time(endorsed_at),
                "place": {"locode": "KEMBA"},
                "lines": [{"block": "A", "quantity": "10"}, {"block": "B", "quantity": "3"}],
                "qr": qr}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    let confirmed_at = at(-60);
    let (status, v) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer_de),
            json!({"confirmations": [{
                "id": "c-1", "received_at": permitseal_server::http::format_time(confirmed_at),
                "place": {"locode": "DEHAM"},
                "lines": [{"block": "A", "quantity": "10"}, {"block": "B", "quantity": "2"}],
                "qr": qr}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");

    // Exports, actual trade: the endorsed quantities, in the year they left.
    let y = year_of(endorsed_at);
    let (status, body, kind) = report(
        &s,
        &format!("/api/v1/authorities/KE/reports/annual?year={y}"),
        &ke,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(kind, "text/csv; charset=utf-8");
    assert_eq!(
        body,
        format!(
            "{EXPORT_HEADER}\
             II,Aloe ferox,EXT,10,KIL,DE,,KE/1,,,T,A,{y}\r\n\
             II,Python regius,SKI,3,,DE,,KE/1,,,T,W,{y}\r\n"
        )
    );

    // Exports, permits issued: every line as allowed, the re-export with its origin, the
    // revoked permit left out, the import permit not an export.
    let y = issued_year;
    let (status, body, _) = report(
        &s,
        &format!("/api/v1/authorities/KE/reports/annual?year={y}&basis=permits"),
        &ke,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        format!(
            "{EXPORT_HEADER}\
             II,Aloe ferox,EXT,12.5,KIL,DE,,KE/1,,,T,A,{y}\r\n\
             II,Python regius,SKI,3,,DE,,KE/1,,,T,W,{y}\r\n\
             II,Chamaeleo calyptratus,LIV,5,,US,YE,KE/2,YE/2025/77,,T,C,{y}\r\n"
        )
    );

    // Imports, actual trade, as the importing country reports it: what it received, from
    // whom, against which export permit.
    let y = year_of(confirmed_at);
    let (status, body, _) = report(
        &s,
        &format!("/api/v1/authorities/DE/reports/annual?year={y}&view=imports"),
        &importer_de,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        format!(
            "{IMPORT_HEADER}\
             II,Aloe ferox,EXT,10,KIL,KE,,,KE/1,,,T,A,{y}\r\n\
             II,Python regius,SKI,2,,KE,,,KE/1,,,T,W,{y}\r\n"
        )
    );
    // Imports, permits issued: DE's import permit.
    let y = issued_year;
    let (status, body, _) = report(
        &s,
        &format!("/api/v1/authorities/DE/reports/annual?year={y}&view=imports&basis=permits"),
        &de,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        format!("{IMPORT_HEADER}I,Diceros bicornis,LIV,2,,KE,,DE/I/1,,,,Z,C,{y}\r\n")
    );

    // Another year: a file with the header only (a report of no trade).
    let (status, body, _) = report(
        &s,
        &format!("/api/v1/authorities/KE/reports/annual?year={}", y - 1),
        &ke,
    )
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, EXPORT_HEADER));
}

async fn who_may_read_which_report(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer_de = s.token("importer", None, Some("DE")).await;
    let importer_us = s.token("importer", None, Some("US")).await;
    let path = |authority: &str, query: &str| {
        format!("/api/v1/authorities/{authority}/reports/annual?year=2026{query}")
    };
    for (p, token, want) in [
        (path("KE", ""), &ke, 200),
        (path("KE", ""), &s.admin, 200),
        (path("KE", ""), &de, 403),
        (path("KE", ""), &officer, 403),
        (path("KE", ""), &importer_de, 403),
        (path("DE", "&view=imports"), &importer_de, 200),
        (path("DE", "&view=imports&basis=permits"), &importer_de, 200),
        (path("DE", "&view=imports"), &importer_us, 403),
        (path("DE", ""), &importer_de, 403),
        (path("ZZ", ""), &s.admin, 404),
    ] {
        let (status, body, _) = report(&s, &p, token).await;
        assert_eq!(status.as_u16(), want, "{p}: {body}");
    }
    let (status, _, _) = report(&s, "/api/v1/authorities/KE/reports/annual?year=2026", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    for (query, code) in [
        ("", "invalid_year"),
        ("?year=26", "invalid_year"),
        ("?year=1974", "invalid_year"),
        ("?year=２０２６", "invalid_year"),
        ("?year=2026&view=both", "invalid_view"),
        ("?year=2026&basis=issued", "invalid_basis"),
        ("?year=2026&format=xml", "invalid_query"),
    ] {
        let p = format!("/api/v1/authorities/KE/reports/annual{query}");
        let (status, body, _) = report(&s, &p, &ke).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{p}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["code"], code, "{p}: {body}");
    }
}
