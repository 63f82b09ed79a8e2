//! Input that deceives or overflows, against a real server on SQLite and PostgreSQL: text an
//! officer would misread (FORMAT.md §11) refused at issuance and compared by its key in the
//! listing check and the quota; permits whose QR does not fit the printing level; quantities
//! near 2⁶³; implausible dates; what the public verify answer keeps to the parties; the one
//! answer of the import-permit check; the limit on key rotations; the JSON 414.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, enc, export_draft, valid_until};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    deceptive_text_is_refused_and_names_compare_by_their_key,
    a_permit_whose_code_does_not_fit_is_refused,
    quantities_near_two_to_the_63_are_bounded,
    dates_of_a_draft_are_plausible,
    the_public_verify_answer_keeps_the_reason_to_the_parties,
    the_import_permit_check_answers_one_way,
    key_rotations_are_limited,
    retired_keys_leave_the_trust_list_once_what_they_signed_has_lapsed,
);

fn year() -> i32 {
    let now = permitseal_server::clock::Clock::system().now();
    verifier_core::date::Date::from_unix(now).ymd().0
}

async fn put(s: &TestServer, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    s.call(reqwest::Method::PUT, path, Some(token), Some(body))
        .await
}

async fn issue_raw(s: &TestServer, token: &str, body: Value) -> (StatusCode, Value) {
    s.post("/api/v1/authorities/KE/permits", Some(token), body)
        .await
}

fn assert_refused(status: StatusCode, err: &Value, code: &str, field: &str) {
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some(code)),
        "{err}"
    );
    assert!(
        err["message"].as_str().unwrap().contains(field),
        "{field} in {err}"
    );
}

async fn deceptive_text_is_refused_and_names_compare_by_their_key(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;

    // Hidden characters, characters a number may not hold, look-alike letters, forms that
    // NFKC changes: refused with the field's path, in every field an officer compares.
    let cases: Vec<(&str, Value, &str)> = vec![
        ("number", json!("KE/2026/00\u{200B}01"), "permit.number"),
        ("number", json!("KE/2026/\u{202E}1000"), "permit.number"),
        ("number", json!("KE#2026#0001"), "permit.number"),
        ("number", json!("КЕ/2026/0001"), "permit.number"),
        (
            "exporter",
            json!({"name": "Exp\u{043E}rter Ltd", "country": "KE"}),
            "exporter.name",
        ),
        (
            "exporter",
            json!({"name": "\u{FEFF}Exporter Ltd", "country": "KE"}),
            "exporter.name",
        ),
        (
            "importer",
            json!({"name": "Ｉmporter GmbH", "country": "DE"}),
            "importer.name",
        ),
        (
            "importer",
            json!({"name": "Importer GmbH", "country": "DE", "address": "Hauptstra\u{00DF}e 1\u{2066}"}),
            "importer.address",
        ),
        (
            "security_stamp",
            json!("KE\u{00AD}123"),
            "permit.security_stamp",
        ),
    ];
    for (i, (field, value, path)) in cases.into_iter().enumerate() {
        let mut d = export_draft(&format!("KE/2026/{i:04}"), "KE", "DE");
        d[field] = value;
        let (status, err) = issue_raw(&s, &ke, json!({"permit": d})).await;
        assert_refused(status, &err, "deceptive_text", path);
    }
    for (name, path) in [
        ("Aloe fer\u{043E}x", "lines[0].scientific_name"),
        ("Aloe\u{200D} ferox", "lines[0].scientific_name"),
        ("Αloe ferox", "lines[0].scientific_name"),
        ("Ａloe ferox", "lines[0].scientific_name"),
    ] {
        let mut d = export_draft("KE/2026/0100", "KE", "DE");
        d["lines"][0]["scientific_name"] = json!(name);
        let (status, err) = issue_raw(&s, &ke, json!({"permit": d})).await;
        assert_refused(status, &err, "deceptive_text", path);
    }
    // Honest names in other scripts and accents are issued.
    let mut d = export_draft("KE/2026/0200", "KE", "DE");
    d["exporter"]["name"] = json!("Société Générale du Kenya");
    d["importer"]["name"] = json!("株式会社 Tokyo Zoo");
    s.issue(&ke, "KE", d).await;

    // The reference and the quota refuse what is written differently and reads the same.
    let (status, body) = put(
        &s,
        &format!("/api/v1/taxa/{}", enc("Aloe ferox")),
        &s.admin,
        json!({"kingdom": "plant", "appendices": ["I"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = put(
        &s,
        &format!("/api/v1/taxa/{}", enc("Aloe fer\u{043E}x")),
        &s.admin,
        json!({"kingdom": "plant", "appendices": ["II"]}),
    )
    .await;
    assert_refused(status, &body, "deceptive_text", "scientific_name");
    for (i, name) in ["aloe ferox", "ALOE FEROX", "Aloe  ferox", "Aloe Ferox"]
        .into_iter()
        .enumerate()
    {
        let mut d = export_draft(&format!("KE/2026/03{i:02}"), "KE", "DE");
        d["lines"][0]["scientific_name"] = json!(name);
        let (status, err) = issue_raw(&s, &ke, json!({"permit": d})).await;
        assert_refused(status, &err, "taxon_listing_mismatch", "block A");
    }
    let (status, body) = put(
        &s,
        &format!("/api/v1/taxa/{}", enc("Aloe ferox")),
        &s.admin,
        json!({"kingdom": "plant", "appendices": ["II"]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, q) = put(
        &s,
        "/api/v1/authorities/KE/quotas",
        &ke,
        json!({"year": year(), "scientific_name": "ALOE FEROX", "unit": "KIL", "quantity": "20"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{q}");
    // KE/2026/0200 (12.5 kg of "Aloe ferox") counts against the quota set as "ALOE FEROX".
    assert_eq!(q["used"], "12.5");
    let mut d = export_draft("KE/2026/0400", "KE", "DE");
    d["lines"][0]["scientific_name"] = json!("aloe   ferox");
    let (status, err) = issue_raw(&s, &ke, json!({"permit": d})).await;
    assert_refused(status, &err, "quota_exceeded", "block A");
    let (status, q) = put(&s, "/api/v1/authorities/KE/quotas", &ke, json!({"year": year(), "scientific_name": "Aloe fer\u{043E}x", "unit": "KIL", "quantity": "20"})).await;
    assert_refused(status, &q, "deceptive_text", "scientific_name");
    s.stop().await;
}

/// A draft of 26 lines whose scientific names are `len` characters long.
fn long_draft(number: &str, len: usize) -> Value {
    let mut d = export_draft(number, "KE", "DE");
    let lines: Vec<Value> = (0..26)
        .map(|i| {
            let mut l = d["lines"][0].clone();
            let name = format!("Aloe ferox {}{}", (b'a' + i as u8) as char, "x".repeat(len));
            l["scientific_name"] = json!(name);
            l
        })
        .collect();
    d["lines"] = json!(lines);
    d
}

async fn a_permit_whose_code_does_not_fit_is_refused(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    // Within the documented limits (26 lines, names of at most 255 characters), too long for
    // one code at the printing level Q.
    let (status, err) = issue_raw(&s, &ke, json!({"permit": long_draft("KE/1", 120)})).await;
    assert_refused(status, &err, "qr_too_large", "at most 2420");
    // One that fits Q but not H: its code at H is refused with the limit, not a 500.
    let issued = s.issue(&ke, "KE", long_draft("KE/2", 40)).await;
    let len = issued["qr_text"].as_str().unwrap().len();
    assert!((1853..=2420).contains(&len), "QR text of {len} characters");
    for ext in ["png", "svg"] {
        let path = format!("/api/v1/authorities/KE/permits/KE%2F2/qr.{ext}");
        let (status, _, body) = s.get_bytes(&format!("{path}?ecc=H"), Some(&ke), None).await;
        let err: Value = serde_json::from_slice(&body).unwrap();
        assert_refused(status, &err, "qr_too_large", "at most 1852");
        let (status, _, _) = s.get_bytes(&format!("{path}?ecc=Q"), Some(&ke), None).await;
        assert_eq!(status, StatusCode::OK);
    }
    s.stop().await;
}

async fn quantities_near_two_to_the_63_are_bounded(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let put_quota = |quantity: &str| {
        let s = &s;
        let ke = ke.clone();
        let quantity = quantity.to_owned();
        async move {
            put(
                s,
                "/api/v1/authorities/KE/quotas",
                &ke,
                json!({"year": year(), "scientific_name": "Aloe ferox", "unit": "KIL", "quantity": quantity}),
            )
            .await
        }
    };
    // 2⁶³ millionths and more: above the bound, refused as input, on a line and on a quota.
    for q in [
        "9223372036854.775807",
        "9223372036855",
        "1000000000000.000001",
    ] {
        let mut d = export_draft("KE/Q/1", "KE", "DE");
        d["lines"][0]["quantity"] = json!(q);
        let (status, err) = issue_raw(&s, &ke, json!({"permit": d})).await;
        assert_refused(status, &err, "invalid_permit", "lines[0].quantity");
        let (status, err) = put_quota(q).await;
        assert_refused(status, &err, "invalid_field", "quantity");
    }
    // Ten lines of the largest quantity under no quota: 10¹⁹ millionths, more than 2⁶³.
    let mut big = export_draft("KE/Q/2", "KE", "DE");
    let line = big["lines"][0].clone();
    big["lines"] = json!(
        (0..10)
            .map(|_| {
                let mut l = line.clone();
                l["quantity"] = json!("1000000000000");
                l
            })
            .collect::<Vec<_>>()
    );
    s.issue(&ke, "KE", big).await;
    // A quota set afterwards counts them (the sum is checked, and stops at the largest value).
    let (status, q) = put_quota("1000000000000").await;
    assert_eq!(status, StatusCode::OK, "{q}");
    assert_eq!(q["used"], "9223372036854.775807");
    let (status, err) = issue_raw(
        &s,
        &ke,
        json!({"permit": export_draft("KE/Q/3", "KE", "DE")}),
    )
    .await;
    assert_refused(status, &err, "quota_exceeded", "block A");
    // Revoking gives them back without overflowing either way.
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/permits/KE%2FQ%2F2/revoke",
            Some(&ke),
            json!({"reason": "issued in error"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, quotas) = s.get("/api/v1/authorities/KE/quotas", Some(&ke)).await;
    assert_eq!(quotas["quotas"][0]["used"], "0");
    // The largest quota filled exactly by the largest line, then one gram more.
    let mut most = export_draft("KE/Q/4", "KE", "DE");
    most["lines"][0]["quantity"] = json!("1000000000000");
    s.issue(&ke, "KE", most).await;
    let mut more = export_draft("KE/Q/5", "KE", "DE");
    more["lines"][0]["quantity"] = json!("0.001");
    let (status, err) = issue_raw(&s, &ke, json!({"permit": more})).await;
    assert_refused(
        status,
        &err,
        "quota_exceeded",
        "1000000000000 used of 1000000000000",
    );
    s.stop().await;
}

async fn dates_of_a_draft_are_plausible(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let today =
        verifier_core::date::Date::from_unix(permitseal_server::clock::Clock::system().now());
    let tomorrow = today.add_days(1).to_string();
    let origin = |date: &str| json!({"country": "TZ", "number": "TZ/2020/1", "date": date});
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "acquisition_date",
            json!(tomorrow),
            "lines[0].acquisition_date",
            "after the issue date",
        ),
        (
            "acquisition_date",
            json!("0999-12-31"),
            "lines[0].acquisition_date",
            "before 1000-01-01",
        ),
        (
            "origin",
            origin(&tomorrow),
            "lines[0].origin.date",
            "after the issue date",
        ),
        (
            "origin",
            origin("1975-06-30"),
            "lines[0].origin.date",
            "before 1975-07-01",
        ),
        (
            "last_reexport",
            origin("1900-01-01"),
            "lines[0].last_reexport.date",
            "before 1975-07-01",
        ),
    ];
    for (field, value, path, why) in cases {
        let mut d = export_draft("KE/D/1", "KE", "DE");
        d["lines"][0]["source"] = json!("O");
        d["lines"][0]["acquisition_date"] = json!("1970-05-01");
        d["lines"][0][field] = value;
        let (status, err) = issue_raw(&s, &ke, json!({"permit": d})).await;
        assert_refused(status, &err, "invalid_permit", path);
        assert!(err["message"].as_str().unwrap().contains(why), "{err}");
    }
    // valid_from and valid_until keep their bounds, with the field.
    for (field, value) in [
        ("valid_from", today.add_days(-1).to_string()),
        ("valid_until", today.add_days(-1).to_string()),
        ("valid_until", today.add_months(7).to_string()),
    ] {
        let mut d = export_draft("KE/D/2", "KE", "DE");
        d[field] = json!(value);
        let (status, err) = issue_raw(&s, &ke, json!({"permit": d})).await;
        assert_refused(status, &err, "invalid_permit", field);
    }
    // The oldest plausible dates are accepted.
    let mut d = export_draft("KE/D/3", "KE", "DE");
    d["lines"][0]["source"] = json!("O");
    d["lines"][0]["acquisition_date"] = json!("1000-01-01");
    d["lines"][0]["origin"] = origin("1975-07-01");
    s.issue(&ke, "KE", d).await;
    s.stop().await;
}

async fn the_public_verify_answer_keeps_the_reason_to_the_parties(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let issued = s.issue(&ke, "KE", export_draft("KE/V/1", "KE", "DE")).await;
    let qr = issued["qr_text"].as_str().unwrap();
    let reason = "investigation 4411: exporter under suspicion";
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE%2FV%2F1/suspend",
            Some(&ke),
            json!({"reason": reason}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let officer = s.token("officer", None, Some("DE")).await;
    for token in [None, Some(officer.as_str())] {
        let (status, v) = s.post("/api/v1/verify", token, json!({"qr": qr})).await;
        assert_eq!(status, StatusCode::OK, "{v}");
        assert_eq!(v["server"]["state"], "suspended");
        assert_eq!(v["server"]["state_reason"], Value::Null, "{v}");
        assert!(!v.to_string().contains("4411"), "{v}");
        assert_eq!(v["usage"], Value::Null);
    }
    let (_, v) = s.post("/api/v1/verify", Some(&ke), json!({"qr": qr})).await;
    assert_eq!(v["server"]["state_reason"], reason);
    s.stop().await;
}

async fn the_import_permit_check_answers_one_way(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    let import = |number: &str| {
        json!({
            "document_type": "import", "number": number, "valid_until": valid_until(),
            "purpose": "Z", "exporter": {"name": "Exporter Ltd", "country": "KE"},
            "importer": {"name": "Zoo Berlin", "country": "DE"},
            "lines": [{"scientific_name": "Crocodylus niloticus", "kingdom": "animal", "term": "SKI",
                       "appendix": "I", "source": "D", "quantity": 2, "unit": "NAR",
                       "operation_number": "A-KE-501"}]
        })
    };
    // DE/2 exists and is revoked; DE/3 exists and is an export permit; DE/1 does not exist.
    s.issue(&de, "DE", import("DE/2")).await;
    let (status, _) = s
        .post(
            "/api/v1/authorities/DE/permits/DE%2F2/revoke",
            Some(&de),
            json!({"reason": "withdrawn"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    s.issue(&de, "DE", export_draft("DE/3", "DE", "KE")).await;
    let mut answers = Vec::new();
    for number in ["DE/1", "DE/2", "DE/3"] {
        let mut app1 = export_draft(&format!("KE/A/{number}"), "KE", "DE");
        app1["lines"][0] = import("x")["lines"][0].clone();
        let (status, err) = issue_raw(
            &s,
            &ke,
            json!({"permit": app1, "import_permit": {"country": "DE", "number": number}}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
        assert_eq!(err["code"], "import_permit_invalid");
        answers.push(err["message"].as_str().unwrap().replace(number, "N"));
    }
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    s.stop().await;
}

async fn key_rotations_are_limited(backend: Backend) {
    let s = TestServer::start(backend).await;
    // The first key counts: with four rotations that makes five keys in 24 hours.
    let ke = s.issuing_authority("KE").await;
    for _ in 0..4 {
        let (status, body) = s
            .post_empty("/api/v1/authorities/KE/keys/rotate", Some(&ke))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = s
        .post_empty("/api/v1/authorities/KE/keys/rotate", Some(&ke))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("24 hours"),
        "{body}"
    );
    let (_, keys) = s.get("/api/v1/authorities/KE/keys", Some(&ke)).await;
    assert_eq!(keys["keys"].as_array().unwrap().len(), 5);
    // Another authority is not held back by this one.
    s.issuing_authority("DE").await;

    // An oversized query is answered with the JSON error.
    let long = "a".repeat(9000);
    let (status, body) = s.get(&format!("/api/v1/taxa?x={long}"), None).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert_eq!(body["code"], "uri_too_long", "{body}");
    // Beyond what the HTTP parser holds (64 KiB), and heads it cannot parse: the parser answers
    // before any handler, still with the JSON error.
    let huge = format!(
        "GET /api/v1/taxa?x={} HTTP/1.1\r\nHost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    // More headers than the parser keeps (100): small, so the server reads all of it and the
    // answer is not lost to a reset.
    let pads: String = (0..120).map(|i| format!("X-Pad-{i}: b\r\n")).collect();
    let big_header = format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{pads}\r\n");
    for (request, status, code) in [
        (huge.as_str(), 414, "uri_too_long"),
        (big_header.as_str(), 431, "headers_too_large"),
        (
            "GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n",
            400,
            "bad_request",
        ),
    ] {
        let (got, head, body) = raw_exchange(&s, request.as_bytes()).await;
        assert_eq!(got, status, "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{head}"
        );
        let body: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(body["code"], code, "{body}");
    }
    s.stop().await;
}

/// Sends `request` on a new connection and reads the answer to its end: status, head, body.
async fn raw_exchange(s: &TestServer, request: &[u8]) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // The server may answer and close before reading all of it.
    let _ = conn.write_all(request).await;
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

/// The key ids the phone's trust list holds for the authority of `country`, in order.
async fn trusted_kids(s: &TestServer, country: &str) -> Vec<String> {
    let (trust, _) = s.phone_sync().await;
    let a = trust
        .authorities
        .iter()
        .find(|a| a.country.to_string() == country)
        .unwrap();
    let mut kids: Vec<String> = a.keys.iter().map(|k| k.key.id().to_string()).collect();
    kids.sort();
    kids
}

async fn retired_keys_leave_the_trust_list_once_what_they_signed_has_lapsed(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let issued = s.issue(&ke, "KE", export_draft("KE/P/1", "KE", "DE")).await;
    let first = issued["kid"].as_str().unwrap().to_owned();
    let rotate = || async {
        let (status, body) = s
            .post_empty("/api/v1/authorities/KE/keys/rotate", Some(&ke))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["active"]["kid"].as_str().unwrap().to_owned()
    };
    let second = rotate().await;
    let third = rotate().await;
    let mut all = vec![first.clone(), second.clone(), third.clone()];
    all.sort();
    // Within the grace after their retirement every key stays.
    assert_eq!(trusted_kids(&s, "KE").await, all);
    // Two hours on: the second signed nothing and leaves; the first signed a permit still
    // valid and stays.
    s.state.clock.set_offset(2 * 3600);
    let mut kept = vec![first.clone(), third.clone()];
    kept.sort();
    assert_eq!(trusted_kids(&s, "KE").await, kept);
    // (The phone's clock is behind the server's shifted one: only the key matters here.)
    let v = s.phone_verify(issued["qr_text"].as_str().unwrap()).await;
    assert_ne!(
        v.verdict,
        verifier_core::Verdict::Invalid,
        "{:?}",
        v.codes()
    );
    // Once that permit is revoked, nothing the first key signed is valid: it leaves at the
    // next list, which has a new version.
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE%2FP%2F1/revoke",
            Some(&ke),
            json!({"reason": "issued in error"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (before, _) = s.phone_sync().await;
    s.state.clock.set_offset(4 * 3600);
    let (after, _) = s.phone_sync().await;
    assert!(
        after.version > before.version,
        "{} then {}",
        before.version,
        after.version
    );
    assert_eq!(trusted_kids(&s, "KE").await, vec![third]);
    s.stop().await;
}
