//! Permits against a real server on port 0, on SQLite and PostgreSQL: issuance and its database
//! rules, fetch/list/search, QR images, state changes with status lists and deltas checked by the
//! core exactly as a phone checks them, key rotation and compromise, and scoping.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, enc, export_draft, valid_until};
use reqwest::StatusCode;
use serde_json::json;
use verifier_core::Verdict;
use verifier_core::status::{IndexStatus, PermitState, StatusDelta, StatusList};

on_both_backends!(
    issue_fetch_list_and_qr,
    issuance_rules_need_the_database,
    state_changes_bump_status_and_deltas,
    permits_are_scoped_to_their_authority,
    key_rotation_and_compromise_reach_phones,
    batch_issuance_is_all_or_nothing,
    an_unknown_stored_state_fails_verification,
);

async fn issue_fetch_list_and_qr(backend: Backend) {
    let s = TestServer::start(backend).await;
    let issuer = s.issuing_authority("KE").await;
    let me = Some(issuer.as_str());
    let issued = s
        .issue(&issuer, "KE", export_draft("KE/2026/0001", "KE", "DE"))
        .await;
    assert_eq!(issued["state"], "valid");
    assert_eq!(issued["status_index"], 0);
    assert_eq!(issued["import_country"], "DE");
    let qr = issued["qr_text"].as_str().unwrap().to_owned();
    assert!(qr.starts_with("PS1:"));

    // The phone's verdict over what the server publishes.
    let v = s.phone_verify(&qr).await;
    assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());

    // Fetch by number as printed or without punctuation.
    for number in [
        enc("KE/2026/0001"),
        "ke20260001".to_owned(),
        "KE-2026-0001".to_owned(),
    ] {
        let (status, p) = s
            .get(&format!("/api/v1/authorities/KE/permits/{number}"), me)
            .await;
        assert_eq!(status, StatusCode::OK, "{number}");
        assert_eq!(p["qr_text"], qr.as_str());
        assert_eq!(p["draft"]["lines"][0]["scientific_name"], "Aloe ferox");
    }
    let (status, _) = s.get("/api/v1/authorities/KE/permits/NOPE", me).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // List and search.
    s.issue(&issuer, "KE", export_draft("KE/2026/0002", "KE", "US"))
        .await;
    s.issue(&issuer, "KE", export_draft("KE/2027/0003", "KE", "DE"))
        .await;
    let (_, all) = s.get("/api/v1/authorities/KE/permits", me).await;
    assert_eq!(all["permits"].as_array().unwrap().len(), 3);
    let (_, found) = s
        .get("/api/v1/authorities/KE/permits?number=KE/2026", me)
        .await;
    assert_eq!(found["permits"].as_array().unwrap().len(), 2);
    let (_, to_de) = s
        .get("/api/v1/authorities/KE/permits?import_country=de", me)
        .await;
    assert_eq!(to_de["permits"].as_array().unwrap().len(), 2);
    let (_, page) = s.get("/api/v1/authorities/KE/permits?limit=2", me).await;
    assert_eq!(page["next_after"], 1);
    let (_, rest) = s.get("/api/v1/authorities/KE/permits?after=1", me).await;
    assert_eq!(rest["permits"][0]["number"], "KE/2027/0003");
    for bad in [
        "?state=lost",
        "?limit=0",
        "?limit=abc",
        "?bogus=1",
        "?import_country=XX",
    ] {
        let (status, _) = s
            .get(&format!("/api/v1/authorities/KE/permits{bad}"), me)
            .await;
        assert!(status.is_client_error(), "{bad} → {status}");
    }

    // QR as PNG decodes back to the signed text; SVG is an SVG.
    let path = format!(
        "/api/v1/authorities/KE/permits/{}/qr.png",
        enc("KE/2026/0001")
    );
    let (status, headers, png) = s.get_bytes(&path, me, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(verifier_core::qr::decode_image(&png).unwrap(), qr);
    let (status, headers, svg) = s
        .get_bytes(
            "/api/v1/authorities/KE/permits/KE20260001/qr.svg?ecc=H",
            me,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert!(String::from_utf8(svg).unwrap().contains("<svg"));
    let (status, _) = s
        .get("/api/v1/authorities/KE/permits/KE20260001/qr.png?ecc=Z", me)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    s.stop().await;
}

async fn issuance_rules_need_the_database(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    s.issue(&ke, "KE", export_draft("KE/2026/0001", "KE", "DE"))
        .await;
    let before = version(&s).await;
    let post = |body: serde_json::Value| {
        let s = &s;
        let ke = ke.clone();
        async move {
            s.post("/api/v1/authorities/KE/permits", Some(&ke), body)
                .await
        }
    };

    // Unique number per authority, compared without punctuation or case.
    let (status, err) = post(json!({"permit": export_draft("ke-2026-0001", "KE", "DE")})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate_number"))
    );
    // Another authority may use the same number.
    s.issue(&de, "DE", export_draft("KE/2026/0001", "DE", "KE"))
        .await;

    // The core's rules, reported with the field path.
    let mut bad = export_draft("KE/2026/0100", "KE", "DE");
    bad["lines"][0]["source"] = json!("Q");
    let (status, err) = post(json!({"permit": bad})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unknown_code"))
    );
    assert!(
        err["message"].as_str().unwrap().contains("lines[0].source"),
        "{err}"
    );
    let mut bad = export_draft("KE/2026/0101", "KE", "DE");
    bad["exporter"]["country"] = json!("TZ");
    let (status, err) = post(json!({"permit": bad})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_permit"))
    );
    let (status, _) = post(json!({"permit": export_draft("X", "KE", "DE"), "extra": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Appendix I export: needs an import permit, checked when its country is on the deployment.
    let mut app1 = export_draft("KE/2026/0200", "KE", "DE");
    app1["lines"][0] = json!({"scientific_name": "Crocodylus niloticus", "kingdom": "animal",
        "term": "SKI", "appendix": "I", "source": "D", "quantity": 2, "unit": "NAR",
        "operation_number": "A-KE-501"});
    let (status, err) = post(json!({"permit": app1.clone()})).await;
    assert_eq!(err["code"], "import_permit_required", "{err}");
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let reference = json!({"country": "DE", "number": "DE/IMP/7"});
    let (status, err) = post(json!({"permit": app1.clone(), "import_permit": reference})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import_permit_invalid")
        ),
        "{err}"
    );
    let (status, err) =
        post(json!({"permit": app1.clone(), "import_permit": {"country": "US", "number": "x"}}))
            .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("import_permit_mismatch")
        )
    );
    let import = json!({
        "document_type": "import", "number": "DE/IMP/7", "valid_until": valid_until(),
        "purpose": "Z", "exporter": {"name": "Exporter Ltd", "country": "KE"},
        "importer": {"name": "Zoo Berlin", "country": "DE"},
        "lines": [{"scientific_name": "Crocodylus niloticus", "kingdom": "animal", "term": "SKI",
                   "appendix": "I", "source": "D", "quantity": 2, "unit": "NAR",
                   "operation_number": "A-KE-501"}]
    });
    s.issue(&de, "DE", import).await;
    let (status, ok) = post(json!({"permit": app1, "import_permit": reference})).await;
    assert_eq!(status, StatusCode::CREATED, "{ok}");
    assert_eq!(ok["import_permit"]["number"], "DE/IMP/7");

    // Quota ledger.
    let (status, q) = s
        .call(
            reqwest::Method::PUT,
            "/api/v1/authorities/KE/quotas",
            Some(&ke),
            Some(json!({"year": current_year().parse::<i32>().unwrap(), "scientific_name": "Aloe ferox", "unit": "KIL", "quantity": "20"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{q}");
    // The quota counts what was already issued this year: KE/2026/0001 holds 12.5 kg.
    assert_eq!(q["used"], "12.5");
    let (status, err) = post(json!({"permit": export_draft("KE/2026/0300", "KE", "DE")})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("quota_exceeded")),
        "{err}"
    );
    // Revoking an unused permit gives its quantity back.
    let (status, _) = s
        .post(
            &format!(
                "/api/v1/authorities/KE/permits/{}/revoke",
                enc("KE/2026/0001")
            ),
            Some(&ke),
            json!({"reason": "issued in error"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = post(json!({"permit": export_draft("KE/2026/0300", "KE", "DE")})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, quotas) = s.get("/api/v1/authorities/KE/quotas", Some(&ke)).await;
    assert_eq!(quotas["quotas"][0]["used"], "12.5");
    let (status, _) = s
        .call(reqwest::Method::PUT, "/api/v1/authorities/KE/quotas", Some(&ke),
            Some(json!({"year": 2026, "scientific_name": "Aloe ferox", "unit": "XYZ", "quantity": "1"})))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Refusals left no trace: only the three accepted issuances and the revocation moved the list.
    let after = version(&s).await;
    assert_eq!(
        after.1 - before.1,
        2,
        "two permits issued after the baseline"
    );
    assert_eq!(after.0 - before.0, 3, "two issuances and one revocation");
    s.stop().await;
}

async fn version(s: &TestServer) -> (i64, i64) {
    let (_, a) = s.get("/api/v1/authorities/KE", Some(&s.admin)).await;
    (
        a["status_version"].as_i64().unwrap(),
        a["permits_issued"].as_i64().unwrap(),
    )
}

fn current_year() -> String {
    verifier_core::date::Date::from_unix(permitseal_server::clock::Clock::system().now())
        .to_string()[..4]
        .to_owned()
}

async fn state_changes_bump_status_and_deltas(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let me = Some(ke.as_str());
    let mut qrs = Vec::new();
    for i in 0..3 {
        let p = s
            .issue(&ke, "KE", export_draft(&format!("KE/26/{i}"), "KE", "DE"))
            .await;
        qrs.push(p["qr_text"].as_str().unwrap().to_owned());
    }
    let (trust, _) = s.phone_sync().await;
    let (status, headers, old_bytes) = s
        .get_bytes("/api/v1/authorities/KE/status", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let old = StatusList::from_signed(&old_bytes, &trust).unwrap();
    assert_eq!(old.size, 3);
    // Unchanged → 304.
    let (status, _, body) = s
        .get_bytes("/api/v1/authorities/KE/status", None, Some(&etag))
        .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());

    let change = |action: &'static str, n: usize| {
        let s = &s;
        async move {
            s.post(
                &format!("/api/v1/authorities/KE/permits/KE%2F26%2F{n}/{action}"),
                me,
                json!({"reason": format!("{action} for test")}),
            )
            .await
        }
    };
    let (status, p) = change("revoke", 0).await;
    assert_eq!(
        (status, p["state"].as_str()),
        (StatusCode::OK, Some("revoked"))
    );
    assert_eq!(p["state_reason"], "revoke for test");
    let (status, _) = change("suspend", 1).await;
    assert_eq!(status, StatusCode::OK);
    let (status, p) = change("reinstate", 1).await;
    assert_eq!(
        (status, p["state"].as_str()),
        (StatusCode::OK, Some("valid"))
    );
    let (status, _) = change("suspend", 2).await;
    assert_eq!(status, StatusCode::OK);
    // Transitions that make no sense.
    for (action, n, code) in [
        ("reinstate", 0, "invalid_state"),
        ("revoke", 0, "invalid_state"),
        ("reinstate", 1, "invalid_state"),
        ("suspend", 2, "invalid_state"),
    ] {
        let (status, err) = change(action, n).await;
        assert_eq!(
            (status, err["code"].as_str()),
            (StatusCode::CONFLICT, Some(code)),
            "{action} {n}"
        );
    }
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE%2F26%2F1/revoke",
            me,
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // The new full list, and the delta from the old version, agree.
    let (_, headers, new_bytes) = s
        .get_bytes("/api/v1/authorities/KE/status", None, Some(&etag))
        .await;
    assert_ne!(headers["etag"].to_str().unwrap(), etag);
    let new = StatusList::from_signed(&new_bytes, &trust).unwrap();
    assert_eq!(new.version, old.version + 4);
    assert_eq!(new.get(0), IndexStatus::Issued(PermitState::Revoked));
    assert_eq!(new.get(1), IndexStatus::Issued(PermitState::Valid));
    assert_eq!(new.get(2), IndexStatus::Issued(PermitState::Suspended));
    let (status, headers, delta_bytes) = s
        .get_bytes(
            &format!("/api/v1/authorities/KE/status?since={}", old.version),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-type"],
        "application/vnd.permitseal.status-delta"
    );
    let delta = StatusDelta::from_signed(&delta_bytes, &trust).unwrap();
    let applied = old.apply(&delta).unwrap();
    assert_eq!(applied.version, new.version);
    for i in 0..3 {
        assert_eq!(applied.get(i), new.get(i), "index {i}");
    }
    // Nothing changed since the current version: a refresh (from = to, no changes) that a
    // reader following FORMAT.md §5 applies to the list it holds.
    let (status, _, refresh_bytes) = s
        .get_bytes(
            &format!("/api/v1/authorities/KE/status?since={}", new.version),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let refresh = StatusDelta::from_signed(&refresh_bytes, &trust).unwrap();
    assert_eq!(
        (
            refresh.from_version,
            refresh.to_version,
            refresh.changes.len()
        ),
        (new.version, new.version, 0)
    );
    let refreshed = new.apply(&refresh).unwrap();
    assert_eq!((refreshed.version, refreshed.size), (new.version, new.size));
    assert!(refreshed.issued_at >= new.issued_at);
    // A delta from a version the server never had, or bad input.
    let (status, err) = s
        .get(
            &format!("/api/v1/authorities/KE/status?since={}", new.version + 5),
            None,
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("version_ahead"))
    );
    for bad in ["?since=-1", "?since=abc", "?other=1"] {
        let (status, _) = s
            .get(&format!("/api/v1/authorities/KE/status{bad}"), None)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _) = s.get("/api/v1/authorities/ZZ/status", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Another server process on the same database, building from scratch, signs the very
    // same bytes as this one, which moved its cached list forward by the recorded changes.
    let config = permitseal_server::ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: s.db.dir.path().to_owned(),
        database: s.db.target.clone(),
        master_key: permitseal_server::startup::MasterKeySource::Text(zeroize::Zeroizing::new(
            common::master_key_text(),
        )),
        demo: false,
        verify_url: permitseal_server::state::DEFAULT_VERIFY_URL.to_owned(),
        secure_cookies: false,
        clock: permitseal_server::clock::Clock::system(),
    };
    let (other, _) = permitseal_server::open_state(&config).await.unwrap();
    let now = permitseal_server::clock::Clock::system().now();
    let fresh = other.sync_cache.status("KE", now).await.unwrap();
    let (_, _, served) = s
        .get_bytes("/api/v1/authorities/KE/status", None, None)
        .await;
    assert_eq!(
        fresh
            .blob(permitseal_server::sync_cache::StatusFormat::V1)
            .bytes
            .as_ref(),
        served.as_slice()
    );
    let (fresh_bundle, served_bundle) = (
        other
            .sync_cache
            .bundle(
                permitseal_server::sync_cache::StatusFormat::V1,
                permitseal_server::sync_cache::BundleContainer::V1,
                now,
            )
            .await
            .unwrap(),
        s.get_bytes("/api/v1/bundle", None, None).await.2,
    );
    assert_eq!(fresh_bundle.bytes.as_ref(), served_bundle.as_slice());
    other.db.close().await;

    // A phone sees it.
    let v = s.phone_verify(&qrs[0]).await;
    assert_eq!(v.verdict, Verdict::Invalid);
    assert!(v.codes().contains(&"REVOKED"), "{:?}", v.codes());
    let v = s.phone_verify(&qrs[2]).await;
    assert!(v.codes().contains(&"SUSPENDED"), "{:?}", v.codes());
    let v = s.phone_verify(&qrs[1]).await;
    assert_eq!(v.verdict, Verdict::Valid);
    s.stop().await;
}

async fn permits_are_scoped_to_their_authority(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let de = s.issuing_authority("DE").await;
    let officer = s.token("officer", None, Some("KE")).await;
    let importer = s.token("importer", None, Some("DE")).await;
    s.issue(&ke, "KE", export_draft("KE/1", "KE", "DE")).await;
    let body = json!({"permit": export_draft("KE/2", "KE", "DE")});
    for (who, token, want) in [
        ("issuer DE", Some(de.as_str()), 403),
        ("officer", Some(officer.as_str()), 403),
        ("importer", Some(importer.as_str()), 403),
        ("anonymous", None, 401),
    ] {
        let (status, _) = s
            .post("/api/v1/authorities/KE/permits", token, body.clone())
            .await;
        assert_eq!(status.as_u16(), want, "{who} issuing for KE");
        for path in [
            "/api/v1/authorities/KE/permits",
            "/api/v1/authorities/KE/permits/KE1",
            "/api/v1/authorities/KE/permits/KE1/qr.png",
            "/api/v1/authorities/KE/quotas",
            "/api/v1/authorities/KE/alerts",
        ] {
            let (status, _, _) = s.get_bytes(path, token, None).await;
            assert_eq!(status.as_u16(), want, "{who} GET {path}");
        }
        let (status, _) = s
            .post(
                "/api/v1/authorities/KE/permits/KE1/revoke",
                token,
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(status.as_u16(), want, "{who} revoking");
    }
    let (_, p) = s.get("/api/v1/authorities/KE/permits/KE1", Some(&ke)).await;
    assert_eq!(p["state"], "valid");
    // The admin may act for any authority.
    let (status, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KE1/suspend",
            Some(&s.admin),
            json!({"reason": "platform hold"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // Without a signing key nothing can be issued.
    s.authority("TZ", "TZ").await;
    let tz = s.token("issuer", Some("TZ"), None).await;
    let (status, err) = s
        .post(
            "/api/v1/authorities/TZ/permits",
            Some(&tz),
            json!({"permit": export_draft("TZ/1", "TZ", "DE")}),
        )
        .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_state"))
    );
    s.stop().await;
}

async fn key_rotation_and_compromise_reach_phones(backend: Backend) {
    let s = TestServer::start(backend).await;
    // The key is made two minutes back: a permit carries its time in minutes, and one issued
    // two seconds back must not fall in the minute before its key existed (which it did when
    // the test started in the first two seconds of a minute).
    s.state.clock.set_offset(-120);
    let ke = s.issuing_authority("KE").await;
    let me = Some(ke.as_str());
    // Rotation in the same second as issuance would make the boundary ambiguous for a reader
    // of this test (the rule itself is inclusive: issued_at <= valid_until), so the first
    // permit is issued two seconds in the past.
    s.state.clock.set_offset(-2);
    let first = s.issue(&ke, "KE", export_draft("KE/A", "KE", "DE")).await;
    s.state.clock.set_offset(0);
    let first_qr = first["qr_text"].as_str().unwrap().to_owned();
    let first_kid = first["kid"].as_str().unwrap().to_owned();
    let (status, rotation) = s.post_empty("/api/v1/authorities/KE/keys/rotate", me).await;
    assert_eq!(status, StatusCode::OK);
    let second = s.issue(&ke, "KE", export_draft("KE/B", "KE", "DE")).await;
    assert_eq!(second["kid"], rotation["active"]["kid"]);
    assert_ne!(second["kid"].as_str().unwrap(), first_kid);
    // Both verify: the retired key still vouches for what it signed before rotation.
    assert_eq!(s.phone_verify(&first_qr).await.verdict, Verdict::Valid);
    let second_qr = second["qr_text"].as_str().unwrap().to_owned();
    assert_eq!(s.phone_verify(&second_qr).await.verdict, Verdict::Valid);
    // The status list is now signed by the new key and still verifies.
    let (trust, statuses) = s.phone_sync().await;
    assert!(statuses.get(trust.authorities[0].id).is_some());

    // Compromise of the old key from before the first permit: that permit is void for phones.
    let since = permitseal_server::http::format_time(
        first["issued_at"]
            .as_str()
            .map(|t| {
                time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                    .unwrap()
                    .unix_timestamp()
                    - 60
            })
            .unwrap(),
    );
    let (status, _) = s
        .post(
            &format!("/api/v1/authorities/KE/keys/{first_kid}/compromise"),
            me,
            json!({"since": since}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let v = s.phone_verify(&first_qr).await;
    assert_eq!(v.verdict, Verdict::Invalid);
    assert!(v.codes().contains(&"KEY_COMPROMISED"), "{:?}", v.codes());
    assert_eq!(s.phone_verify(&second_qr).await.verdict, Verdict::Valid);
    // The trust list JSON shows it too.
    let (_, tl) = s.get("/api/v1/trust-list.json", None).await;
    let keys = tl["authorities"][0]["keys"].as_array().unwrap();
    assert!(keys.iter().any(|k| k["status"]["state"] == "compromised"));
    s.stop().await;
}

async fn batch_issuance_is_all_or_nothing(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let path = "/api/v1/authorities/KE/permits/batch";
    let batch: Vec<_> = (0..50)
        .map(|i| json!({"permit": export_draft(&format!("KE/B/{i}"), "KE", "DE")}))
        .collect();
    let (status, body) = s.post(path, Some(&ke), json!({"permits": batch})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["issued"], 50);
    assert_eq!(body["permits"][49]["status_index"], 49);
    let (_, a) = s.get("/api/v1/authorities/KE", Some(&ke)).await;
    let version = a["status_version"].as_i64().unwrap();

    // One bad permit refuses the batch; so does a duplicate inside it.
    let mut bad: Vec<_> = (50..60)
        .map(|i| json!({"permit": export_draft(&format!("KE/B/{i}"), "KE", "DE")}))
        .collect();
    bad[7]["permit"]["purpose"] = json!("?");
    let (status, err) = s.post(path, Some(&ke), json!({"permits": bad})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        err["message"].as_str().unwrap().starts_with("permits[7]."),
        "{err}"
    );
    let dup: Vec<_> = ["KE/B/60", "KE/B/61", "KE/B/60"]
        .iter()
        .map(|n| json!({"permit": export_draft(n, "KE", "DE")}))
        .collect();
    let (status, err) = s.post(path, Some(&ke), json!({"permits": dup})).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (StatusCode::CONFLICT, Some("duplicate_number"))
    );
    let (status, _) = s.post(path, Some(&ke), json!({"permits": []})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, a) = s.get("/api/v1/authorities/KE", Some(&ke)).await;
    assert_eq!(a["status_version"].as_i64().unwrap(), version);
    assert_eq!(a["permits_issued"], 50);
    let (trust, statuses) = s.phone_sync().await;
    assert_eq!(statuses.get(trust.authorities[0].id).unwrap().size, 50);
    s.stop().await;
}

/// A permit state this code does not know (written by a newer version, or damaged) must not
/// read as valid: online verification, the status list and the permit itself fail instead.
async fn an_unknown_stored_state_fails_verification(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let issued = s.issue(&ke, "KE", export_draft("KE/X", "KE", "DE")).await;
    assert_eq!(issued["status_index"], 0);
    let qr = issued["qr_text"].as_str().unwrap().to_owned();
    let (status, v) = s.post("/api/v1/verify", None, json!({"qr": qr})).await;
    assert_eq!(
        (status, v["server"]["state"].as_str()),
        (StatusCode::OK, Some("valid"))
    );

    // As a newer version would write it: a state outside today's constraint, and a new version
    // of the authority's list.
    let corrupt = [
        "UPDATE permits SET state = 'lost' WHERE authority_id = 'KE'",
        "UPDATE authorities SET status_version = status_version + 1 WHERE id = 'KE'",
        "INSERT INTO status_changes (authority_id, version, status_index, state, at) \
         SELECT id, status_version, 0, 'lost', status_changed_at FROM authorities WHERE id = 'KE'",
    ];
    match &s.state.db {
        permitseal_server::storage::Db::Sqlite { write, .. } => {
            let mut conn = write.acquire().await.unwrap();
            sqlx::query("PRAGMA ignore_check_constraints = ON")
                .execute(&mut *conn)
                .await
                .unwrap();
            for sql in corrupt {
                sqlx::query(sql).execute(&mut *conn).await.unwrap();
            }
            sqlx::query("PRAGMA ignore_check_constraints = OFF")
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        permitseal_server::storage::Db::Postgres(pool) => {
            sqlx::query("ALTER TABLE permits DROP CONSTRAINT permits_state_check")
                .execute(pool)
                .await
                .unwrap();
            for sql in corrupt {
                sqlx::query(sql).execute(pool).await.unwrap();
            }
        }
    }
    s.state.sync_cache.invalidate();

    let (status, v) = s.post("/api/v1/verify", None, json!({"qr": qr})).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{v}");
    assert_eq!(v["code"], "internal_error", "{v}");
    assert!(
        v.get("verification").is_none(),
        "no verdict from unreadable data: {v}"
    );
    let (status, _, _) = s
        .get_bytes("/api/v1/authorities/KE/status", None, None)
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _) = s
        .get(
            &format!("/api/v1/authorities/KE/permits/{}", enc("KE/X")),
            Some(&ke),
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    s.stop().await;
}
