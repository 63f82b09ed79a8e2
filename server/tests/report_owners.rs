//! Field reports belong to the token that uploads them, on SQLite and PostgreSQL: report ids
//! are unique per token (a re-send stays idempotent, another token's report with the same id
//! is another report), every report and alert names its uploader and country, places outside
//! the uploader's country change nothing, repeated alerts are grouped, and reports dated
//! before their permit's issue day are refused.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestDb, TestServer, export_draft};
use permitseal_server::storage::Db;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    report_ids_are_per_token,
    places_outside_the_uploader_country_change_nothing,
    repeated_alerts_are_grouped,
    reports_dated_before_issue_are_refused,
    uploads_and_alerts_are_limited_per_token,
);

fn ts(offset: i64) -> String {
    permitseal_server::http::format_time(permitseal_server::clock::Clock::system().now() + offset)
}

fn scan(id: &str, qr: &str, locode: &str) -> Value {
    json!({"id": id, "device_id": "dev-1", "scanned_at": ts(-60), "place": {"locode": locode},
           "verdict": "valid", "qr": qr})
}

fn endorsement(id: &str, qr: &str, locode: &str, at: String) -> Value {
    json!({"id": id, "device_id": "dev-9", "endorsed_at": at, "place": {"locode": locode},
           "lines": [{"block": "A", "quantity": "10"}], "qr": qr})
}

async fn usage(s: &TestServer, issuer: &str, qr: &str) -> Value {
    let (status, v) = s
        .post("/api/v1/verify", Some(issuer), json!({"qr": qr}))
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    v["usage"].clone()
}

async fn alerts(s: &TestServer, issuer: &str, kind: &str) -> Vec<Value> {
    let (status, body) = s
        .get(
            &format!("/api/v1/authorities/KE/alerts?kind={kind}"),
            Some(issuer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["alerts"].as_array().unwrap().clone()
}

async fn report_ids_are_per_token(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let mombasa = s.token("officer", None, Some("KE")).await;
    let nairobi = s.token("officer", None, Some("KE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    // A revoked permit's scan and an endorsement, under ids another token used first.
    let (_, r) = s
        .post(
            "/api/v1/scans",
            Some(&mombasa),
            json!({"scans": [scan("r-1", qr, "KEMBA")]}),
        )
        .await;
    assert_eq!(r["accepted"], 1);
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE1/revoke",
            Some(&ke),
            json!({"reason": "forged shipment"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, r) = s
        .post(
            "/api/v1/scans",
            Some(&nairobi),
            json!({"scans": [scan("r-1", qr, "KEMBA")]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["accepted"].as_i64(), r["duplicates"].as_i64()),
        (Some(1), Some(0)),
        "another token's report is not a duplicate: {r}"
    );
    let raised = r["alerts"].as_array().unwrap();
    assert_eq!(raised.len(), 1, "{r}");
    assert_eq!(raised[0]["kind"], "revoked_permit");
    assert_eq!(raised[0]["uploader_country"], "KE");
    assert!(raised[0]["token_id"].as_str().unwrap().starts_with("tok"));
    // The same re-send from the same token stays idempotent.
    let (_, again) = s
        .post(
            "/api/v1/scans",
            Some(&nairobi),
            json!({"scans": [scan("r-1", qr, "KEMBA")]}),
        )
        .await;
    assert_eq!(
        (again["accepted"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 2);
    // Both scans are in the permit's history, each with its uploader.
    let u = usage(&s, &ke, qr).await;
    let scans = u["scans"].as_array().unwrap();
    assert_eq!(scans.len(), 2, "{u}");
    let tokens: std::collections::BTreeSet<&str> = scans
        .iter()
        .map(|s| s["token_id"].as_str().unwrap())
        .collect();
    assert_eq!(tokens.len(), 2, "two uploaders: {u}");
    assert!(scans.iter().all(|s| s["uploader_country"] == "KE"), "{u}");
    s.stop().await;
}

async fn places_outside_the_uploader_country_change_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let tz_officer = s.token("officer", None, Some("TZ")).await;
    let ke_officer = s.token("officer", None, Some("KE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    // A Tanzanian token claims an export endorsement at Mombasa (Kenya).
    let (status, r) = s
        .post(
            "/api/v1/endorsements",
            Some(&tz_officer),
            json!({"endorsements": [endorsement("x-1", qr, "KEMBA", ts(-60))]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["accepted"], 1);
    let kinds: Vec<&str> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["place_outside_country"], "{r}");
    assert_eq!(r["alerts"][0]["uploader_country"], "TZ");
    let (_, permit) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(
        permit["state"], "valid",
        "a foreign claim changes no permit"
    );
    // The Kenyan endorsement that follows is the first that counts: no second_endorsement.
    let (_, r) = s
        .post(
            "/api/v1/endorsements",
            Some(&ke_officer),
            json!({"endorsements": [endorsement("x-1", qr, "KEMBA", ts(-30))]}),
        )
        .await;
    assert_eq!(r["accepted"], 1);
    assert!(r["alerts"].as_array().unwrap().is_empty(), "{r}");
    let (_, permit) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(permit["state"], "used");
    let u = usage(&s, &ke, qr).await;
    let e = u["endorsements"].as_array().unwrap();
    assert_eq!(e.len(), 2, "both are kept: {u}");
    let outside: Vec<bool> = e
        .iter()
        .map(|e| e["outside_country"].as_bool().unwrap())
        .collect();
    assert_eq!(outside, [true, false], "{u}");
    // The annual trade report counts the Kenyan endorsement only.
    let year = &ts(0)[..4];
    let resp = s
        .client
        .get(s.url(&format!(
            "/api/v1/authorities/KE/reports/annual?year={year}"
        )))
        .bearer_auth(&ke)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let csv = resp.text().await.unwrap();
    assert_eq!(
        csv.lines().filter(|l| l.contains("KE/1")).count(),
        1,
        "{csv}"
    );
    // A scan from elsewhere is kept with the alert, and raises nothing else.
    let (_, r) = s
        .post(
            "/api/v1/scans",
            Some(&tz_officer),
            json!({"scans": [scan("x-2", qr, "KENBO")]}),
        )
        .await;
    assert_eq!(r["accepted"], 1);
    let only: Vec<&str> = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(only, ["place_outside_country"], "{r}");
    // Places in the uploader's own country raise nothing of the kind.
    let (_, r) = s
        .post(
            "/api/v1/scans",
            Some(&tz_officer),
            json!({"scans": [scan("x-3", qr, "TZDAR")]}),
        )
        .await;
    assert!(
        r["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["kind"] != "place_outside_country"),
        "{r}"
    );
    s.stop().await;
}

async fn repeated_alerts_are_grouped(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE1/suspend",
            Some(&ke),
            json!({"reason": "inquiry"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // One device scans the suspended permit 30 times, in three uploads.
    for upload in 0..3 {
        let scans: Vec<Value> = (0..10)
            .map(|i| scan(&format!("g-{upload}-{i}"), qr, "KEMBA"))
            .collect();
        let (status, r) = s
            .post("/api/v1/scans", Some(&officer), json!({"scans": scans}))
            .await;
        assert_eq!(status, StatusCode::OK, "{r}");
        assert_eq!(r["accepted"], 10);
        let answered = r["alerts"].as_array().unwrap();
        assert_eq!(answered.len(), 1, "one alert per upload, as it stands: {r}");
        assert_eq!(answered[0]["occurrences"], 10 * (upload + 1));
    }
    let listed = alerts(&s, &ke, "revoked_permit").await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let a = &listed[0];
    assert_eq!(a["occurrences"], 30);
    assert_eq!(
        a["source_id"], "scan:g-0-0",
        "the first report stays the source"
    );
    assert!(a["last_at"].as_str().unwrap() >= a["created_at"].as_str().unwrap());
    // Another permit's alert is another row.
    let p2 = s.issue(&ke, "KE", export_draft("KE/2", "KE", "DE")).await;
    let q2 = p2["qr_text"].as_str().unwrap();
    s.post(
        "/api/v1/authorities/KE/permits/KE2/revoke",
        Some(&ke),
        json!({"reason": "void"}),
    )
    .await;
    s.post(
        "/api/v1/scans",
        Some(&officer),
        json!({"scans": [scan("g-x", q2, "KEMBA")]}),
    )
    .await;
    assert_eq!(alerts(&s, &ke, "revoked_permit").await.len(), 2);
    assert_eq!(common::count_rows(&s.state.db, "alerts").await, 2);
    s.stop().await;
}

async fn reports_dated_before_issue_are_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer = s.token("importer", None, Some("DE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    let _ = de;
    // 2005, as in the finding; and the day before the permit was issued.
    for (i, at) in ["2005-06-01T10:00:00Z".to_owned(), ts(-2 * 86_400)]
        .into_iter()
        .enumerate()
    {
        let (status, r) = s
            .post(
                "/api/v1/endorsements",
                Some(&officer),
                json!({"endorsements": [
                    endorsement(&format!("ok-{i}"), qr, "KEMBA", ts(-60)),
                    endorsement(&format!("early-{i}"), qr, "KEMBA", at),
                ]}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
        assert_eq!(r["code"], "before_issue_day");
        let message = r["message"].as_str().unwrap();
        assert!(
            message.starts_with("endorsements[1].endorsed_at is before the permit's issue day"),
            "{message}"
        );
    }
    assert_eq!(common::count_rows(&s.state.db, "endorsements").await, 0);
    let (_, permit) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(
        permit["state"], "valid",
        "nothing of a refused upload is stored"
    );
    // Confirmations too.
    let confirmation = |at: String| {
        json!({"confirmations": [{"id": "c-1", "received_at": at, "place": {"locode": "DEFRA"},
               "lines": [{"block": "A", "quantity": "10"}], "qr": qr}]})
    };
    let (status, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer),
            confirmation(ts(-3 * 86_400)),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["code"], "before_issue_day");
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .starts_with("confirmations[0].received_at is before"),
        "{r}"
    );
    let (status, r) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer),
            confirmation(ts(-60)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    // Far ahead of the clock, or before 2000: refused by the report contract already.
    let (status, r) = s
        .post(
            "/api/v1/endorsements",
            Some(&officer),
            json!({"endorsements": [endorsement("late", qr, "KEMBA", ts(3 * 86_400))]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["code"], "invalid_time");
    s.stop().await;
}

/// Lowers a budget in the deployment's table of limits (as an operator would).
async fn set_limit(db: &Db, budget: &str, allowed: i64, window_seconds: i64) {
    let sql = "UPDATE rate_limits SET allowed = $1, window_seconds = $2 WHERE budget = $3";
    let done = match db {
        Db::Sqlite { write, .. } => sqlx::query(sql)
            .bind(allowed)
            .bind(window_seconds)
            .bind(budget)
            .execute(write)
            .await
            .unwrap()
            .rows_affected(),
        Db::Postgres(pool) => sqlx::query(sql)
            .bind(allowed)
            .bind(window_seconds)
            .bind(budget)
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
    };
    assert_eq!(done, 1, "the migration stores a limit for {budget}");
}

async fn scans_of(s: &TestServer, token: &str, ids: &[String], qr: &str) -> reqwest::Response {
    let scans: Vec<Value> = ids.iter().map(|id| scan(id, qr, "KEMBA")).collect();
    s.client
        .post(s.url("/api/v1/scans"))
        .bearer_auth(token)
        .json(&json!({"scans": scans}))
        .send()
        .await
        .unwrap()
}

async fn assert_limited(resp: reqwest::Response, window: u64) {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=window).contains(&retry), "Retry-After {retry}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(body["message"].is_string());
}

async fn uploads_and_alerts_are_limited_per_token(backend: Backend) {
    let s = TestServer::start(backend).await;
    // On PostgreSQL a second server on the same database spends from the same budget.
    let replica = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            Some(TestServer::start_on(backend, TestDb::existing(s.db.target.clone())).await)
        }
    };
    let other = replica.as_ref().unwrap_or(&s);
    let ke = s.issuing_authority("KE").await;
    let phone = s.token("officer", None, Some("KE")).await;
    let another = s.token("officer", None, Some("KE")).await;
    let p = s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let qr = p["qr_text"].as_str().unwrap();
    set_limit(&s.state.db, "uploads", 4, 3600).await;
    for i in 0..4 {
        let server = if i % 2 == 0 { &s } else { other };
        let resp = scans_of(server, &phone, &[format!("u-{i}")], qr).await;
        assert_eq!(resp.status(), StatusCode::OK, "upload {i}");
    }
    assert_limited(scans_of(other, &phone, &["u-4".to_owned()], qr).await, 3600).await;
    assert_limited(scans_of(&s, &phone, &["u-4".to_owned()], qr).await, 3600).await;
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 4);
    // Another token has its own budget; so have endorsements' and confirmations' uploaders.
    let resp = scans_of(&s, &another, &["u-4".to_owned()], qr).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Alerts: a batch that would raise more than the budget stores nothing.
    set_limit(&s.state.db, "uploads", 600, 60).await;
    set_limit(&s.state.db, "alerts", 2, 3600).await;
    let flood = s.token("officer", None, Some("KE")).await;
    let forged: Vec<Value> = (0..3)
        .map(|i| scan(&format!("f-{i}"), &format!("PS1:FORGED-{i}"), "KEMBA"))
        .collect();
    let resp = s
        .client
        .post(s.url("/api/v1/scans"))
        .bearer_auth(&flood)
        .json(&json!({"scans": forged}))
        .send()
        .await
        .unwrap();
    assert_limited(resp, 3600).await;
    assert_eq!(common::count_rows(&s.state.db, "scans").await, 5);
    let (status, r) = s
        .post("/api/v1/scans", Some(&flood), json!({"scans": forged[..2]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["alerts"].as_array().unwrap().len(), 2);
    let (status, _) = other
        .post(
            "/api/v1/scans",
            Some(&flood),
            json!({"scans": [forged[2].clone()]}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    if let Some(replica) = replica {
        replica.stop().await;
    }
    s.stop().await;
}
