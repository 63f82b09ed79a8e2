//! The transparency log over a real server and database: after a day of events the log
//! recomputes, the signed tree head verifies with the root key, inclusion and consistency
//! proofs check with the core's RFC 9162 verifier, and editing, deleting or reordering any
//! stored row is named at that row.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestServer, assert_error_shape, enc, export_draft};
use permitseal_server::storage::Db;
use reqwest::StatusCode;
use serde_json::{Value, json};
use verifier_core::keys::PublicKey;
use verifier_core::log::{Checkpoint, Hash, Leaf, verify_consistency, verify_inclusion};

on_both_backends!(
    a_day_of_events_verifies_and_proves,
    tampering_is_named_at_the_row,
    concurrent_appends_get_distinct_positions,
    bad_proof_requests_are_refused,
    the_command_line_names_the_first_bad_entry,
    two_replicas_append_to_one_log,
    events_from_before_the_log_are_placed_at_start,
    field_reports_and_accounts_are_in_the_log,
    the_bundle_carries_a_signed_tree_head,
    a_batch_of_permits_is_a_leaf_each,
);

async fn exec(db: &Db, sql: &str) -> u64 {
    match db {
        Db::Sqlite { write, .. } => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(write)
            .await
            .unwrap()
            .rows_affected(),
        Db::Postgres(pool) => sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(pool)
            .await
            .unwrap()
            .rows_affected(),
    }
}

/// The text columns of the rows `sql` selects.
async fn texts(db: &Db, sql: &str) -> Vec<(String, String)> {
    let q = sqlx::AssertSqlSafe(sql.to_owned());
    match db {
        Db::Sqlite { write, .. } => sqlx::query_as(q).fetch_all(write).await.unwrap(),
        Db::Postgres(pool) => sqlx::query_as(q).fetch_all(pool).await.unwrap(),
    }
}

async fn roots(server: &TestServer) -> Vec<PublicKey> {
    let (status, body) = server.get("/api/v1/trust/root-key", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            use base64::Engine as _;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(k["public_key"].as_str().unwrap())
                .unwrap();
            PublicKey::from_bytes(&raw.try_into().unwrap()).unwrap()
        })
        .collect()
}

async fn checkpoint(server: &TestServer) -> Checkpoint {
    let resp = server
        .client
        .get(server.url("/api/v1/log/checkpoint"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let note = resp.text().await.unwrap();
    Checkpoint::from_signed(&note, &roots(server).await).unwrap()
}

fn hash(v: &Value) -> Hash {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hash).collect()
}

/// A day at one authority: keys, tokens, permits issued, suspended, reinstated and revoked.
async fn a_day(server: &TestServer) -> (String, Vec<String>) {
    let issuer = server.issuing_authority("KE").await;
    server.authority("TZ", "TZ").await;
    server.token("officer", None, Some("KE")).await;
    let mut numbers = Vec::new();
    for i in 0..24 {
        let number = format!("KE/2026/{i:04}");
        server
            .issue(&issuer, "KE", export_draft(&number, "KE", "DE"))
            .await;
        numbers.push(number);
    }
    for (action, i) in [
        ("suspend", 1),
        ("reinstate", 1),
        ("revoke", 2),
        ("suspend", 5),
        ("revoke", 7),
    ] {
        let (status, body) = server
            .post(
                &format!(
                    "/api/v1/authorities/KE/permits/{}/{action}",
                    enc(&numbers[i])
                ),
                Some(&issuer),
                json!({"reason": format!("{action} in a day's work")}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = server
        .post_empty("/api/v1/authorities/KE/keys/rotate", Some(&issuer))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (issuer, numbers)
}

async fn verify(server: &TestServer) -> Value {
    let (status, body) = server
        .post_empty("/api/v1/log/verify", Some(&server.admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn a_day_of_events_verifies_and_proves(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (issuer, numbers) = a_day(&server).await;
    let early = checkpoint(&server).await;
    assert_eq!(early.size as i64, server.audit_count().await);

    // More events after the first head, then the second head.
    let (status, _) = server
        .post(
            &format!("/api/v1/authorities/KE/permits/{}/revoke", enc(&numbers[1])),
            Some(&issuer),
            json!({"reason": "late revocation"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let late = checkpoint(&server).await;
    assert!(late.size > early.size);

    let (status, body) = server
        .get(
            &format!(
                "/api/v1/log/consistency?first={}&second={}",
                early.size, late.size
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    verify_consistency(
        early.size,
        late.size,
        &early.root,
        &late.root,
        &hashes(&body["proof"]),
    )
    .unwrap();

    // Permit 1: issued, suspended, reinstated, revoked; every event proves into the head.
    let kinds: Vec<String> = proven_events(&server, &issuer, &numbers[1])
        .await
        .into_iter()
        .map(|e| e.0)
        .collect();
    assert_eq!(
        kinds,
        [
            "permit.issue",
            "permit.suspend",
            "permit.reinstate",
            "permit.revoke"
        ]
    );

    // An issuer of another authority does not see KE's events.
    let tz = server.token("issuer", Some("TZ"), None).await;
    let (status, body) = server
        .get(
            &format!("/api/v1/authorities/KE/permits/{}/events", enc(&numbers[1])),
            Some(&tz),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let report = verify(&server).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checked"], report["size"]);
    assert!(report["heads_checked"].as_u64().unwrap() >= 2, "{report}");
}

/// Each tampering, its undoing, and the position the report must name.
struct Tamper {
    what: &'static str,
    apply: String,
    undo: String,
    at: u64,
}

async fn tampering_is_named_at_the_row(backend: Backend) {
    let server = TestServer::start(backend).await;
    a_day(&server).await;
    checkpoint(&server).await;
    assert_eq!(verify(&server).await["ok"], true);
    let size = server.audit_count().await as u64;
    let (a, b) = (size / 3, size / 3 + 4);
    let cases = [
        Tamper {
            what: "edit the particulars",
            apply: format!("UPDATE audit_events SET detail = detail || ' ' WHERE seq = {a}"),
            undo: format!(
                "UPDATE audit_events SET detail = substr(detail, 1, length(detail) - 1) WHERE seq = {a}"
            ),
            at: a,
        },
        Tamper {
            what: "edit the actor",
            apply: format!("UPDATE audit_events SET actor = actor || 'x' WHERE seq = {b}"),
            undo: format!(
                "UPDATE audit_events SET actor = substr(actor, 1, length(actor) - 1) WHERE seq = {b}"
            ),
            at: b,
        },
        Tamper {
            what: "edit the time",
            apply: format!("UPDATE audit_events SET at = at - 3600 WHERE seq = {a}"),
            undo: format!("UPDATE audit_events SET at = at + 3600 WHERE seq = {a}"),
            at: a,
        },
        Tamper {
            what: "reorder two events",
            apply: format!(
                "UPDATE audit_events SET seq = -1 WHERE seq = {a}; \
                 UPDATE audit_events SET seq = {a} WHERE seq = {b}; \
                 UPDATE audit_events SET seq = {b} WHERE seq = -1"
            ),
            undo: format!(
                "UPDATE audit_events SET seq = -1 WHERE seq = {a}; \
                 UPDATE audit_events SET seq = {a} WHERE seq = {b}; \
                 UPDATE audit_events SET seq = {b} WHERE seq = -1"
            ),
            at: a,
        },
        Tamper {
            what: "delete an event",
            apply: format!(
                "INSERT INTO audit_events (at, actor, authority_id, action, detail, seq, subject) \
                 SELECT at, actor, authority_id, action, detail, -2, subject FROM audit_events WHERE seq = {b}; \
                 DELETE FROM audit_events WHERE seq = {b}"
            ),
            undo: format!("UPDATE audit_events SET seq = {b} WHERE seq = -2"),
            at: b,
        },
        Tamper {
            what: "delete the last event",
            apply: format!("UPDATE audit_events SET seq = -3 WHERE seq = {}", size - 1),
            undo: format!("UPDATE audit_events SET seq = {} WHERE seq = -3", size - 1),
            at: size - 1,
        },
        Tamper {
            what: "rewrite a leaf hash",
            apply: format!("UPDATE log_nodes SET idx = 999999999 WHERE level = 0 AND idx = {b}"),
            undo: format!("UPDATE log_nodes SET idx = {b} WHERE level = 0 AND idx = 999999999"),
            at: b,
        },
        Tamper {
            what: "drop an inner subtree",
            apply: "UPDATE log_nodes SET idx = 999999999 WHERE level = 2 AND idx = 1".into(),
            undo: "UPDATE log_nodes SET idx = 1 WHERE level = 2 AND idx = 999999999".into(),
            // (2, 1) covers leaves 4..8 and is completed by leaf 7.
            at: 7,
        },
    ];
    for case in &cases {
        for statement in case.apply.split("; ") {
            exec(&server.state.db, statement).await;
        }
        let report = verify(&server).await;
        assert_eq!(report["ok"], false, "{}: {report}", case.what);
        assert_eq!(
            report["first_bad"]["seq"].as_u64(),
            Some(case.at),
            "{}: {report}",
            case.what
        );
        assert_eq!(report["checked"].as_u64(), Some(case.at), "{}", case.what);
        for statement in case.undo.split("; ") {
            exec(&server.state.db, statement).await;
        }
        assert_eq!(
            verify(&server).await["ok"],
            true,
            "after undoing {}",
            case.what
        );
    }

    // An issuance moved off its permit: the log no longer shows that permit issued.
    exec(
        &server.state.db,
        "UPDATE audit_events SET subject = 'permit/KE/elsewhere' \
         WHERE subject = 'permit/KE/KE/2026/0003' AND action = 'permit.issue'",
    )
    .await;
    let report = verify(&server).await;
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["unlogged_permits"],
        json!(["permit/KE/KE/2026/0003"])
    );
    let (status, alerts) = server.get("/api/v1/alerts", Some(&server.admin)).await;
    assert_eq!(status, StatusCode::OK, "{alerts}");
    let unlogged: Vec<&Value> = alerts["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "unlogged_issuance")
        .collect();
    assert_eq!(unlogged.len(), 1, "{alerts}");
    assert_eq!(unlogged[0]["permit_number"], "KE/2026/0003");
}

async fn concurrent_appends_get_distinct_positions(backend: Backend) {
    let server = TestServer::start(backend).await;
    let issuer = server.issuing_authority("KE").await;
    let before = server.audit_count().await;
    let mut tasks = Vec::new();
    for i in 0..32 {
        let client = server.client.clone();
        let url = server.url("/api/v1/authorities/KE/permits");
        let issuer = issuer.clone();
        tasks.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(issuer)
                .json(&json!({"permit": export_draft(&format!("KE/C/{i}"), "KE", "DE")}))
                .send()
                .await
                .unwrap();
            resp.status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(server.audit_count().await, before + 32);
    let head = checkpoint(&server).await;
    assert_eq!(head.size as i64, before + 32);
    let report = verify(&server).await;
    assert_eq!(report["ok"], true, "{report}");
}

async fn bad_proof_requests_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let size = checkpoint(&server).await.size;
    for query in [
        "first=0&second=1".to_owned(),
        format!("first=1&second={}", size + 1),
        "first=2&second=1".to_owned(),
        "first=x&second=1".to_owned(),
        "first=1".to_owned(),
        "first=1&second=1&third=2".to_owned(),
        "first=-1&second=1".to_owned(),
    ] {
        let path = format!("/api/v1/log/consistency?{query}");
        let (status, body) = server.get(&path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert_error_shape(&path, status, &body);
    }
    let (status, body) = server
        .get(
            &format!("/api/v1/log/consistency?first=1&second={size}"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = server.post_empty("/api/v1/log/verify", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = server
        .get(
            "/api/v1/authorities/KE/permits/none/events",
            Some(&server.admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

fn audit_verify(db: &common::TestDb) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_permitseal"))
        .args(["audit", "verify", "--database-url", &db.url()])
        .arg("--data-dir")
        .arg(db.dir.path())
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

async fn the_command_line_names_the_first_bad_entry(backend: Backend) {
    let server = TestServer::start(backend).await;
    a_day(&server).await;
    checkpoint(&server).await;
    let size = server.audit_count().await;
    let db = server.stop().await;
    let (ok, out) = audit_verify(&db);
    assert!(ok, "{out}");
    assert!(out.contains("the log verifies"), "{out}");
    assert!(
        out.contains(&format!("log size {size}: {size} entries")),
        "{out}"
    );

    let handle = Db::open(&db.target).await.unwrap();
    exec(
        &handle,
        "UPDATE audit_events SET detail = 'count=0' WHERE seq = 9",
    )
    .await;
    handle.close().await;
    let (ok, out) = audit_verify(&db);
    assert!(!ok, "{out}");
    assert!(
        out.contains("first entry that does not match: 9: the event does not match its leaf hash"),
        "{out}"
    );
}

/// Two server processes' worth of state (own pools) on one database issue at once: every event
/// gets its own position and the log verifies.
async fn two_replicas_append_to_one_log(backend: Backend) {
    let first = TestServer::start(backend).await;
    let second =
        TestServer::start_on(backend, common::TestDb::existing(first.db.target.clone())).await;
    let issuer = first.issuing_authority("KE").await;
    let before = first.audit_count().await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let server = if i % 2 == 0 { &first } else { &second };
        let client = server.client.clone();
        let url = server.url("/api/v1/authorities/KE/permits");
        let issuer = issuer.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(issuer)
                .json(&json!({"permit": export_draft(&format!("KE/R/{i}"), "KE", "DE")}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(first.audit_count().await, before + 40);
    let a = checkpoint(&first).await;
    let b = checkpoint(&second).await;
    assert_eq!((a.size, a.root), (b.size, b.root));
    assert_eq!(a.size as i64, before + 40);
    let report = verify(&second).await;
    assert_eq!(report["ok"], true, "{report}");
    drop(second);
}

/// An event row without a position (written before the log existed) is appended at the next
/// start, and until then the recomputation reports it.
async fn events_from_before_the_log_are_placed_at_start(backend: Backend) {
    let server = TestServer::start(backend).await;
    let size = server.audit_count().await;
    exec(
        &server.state.db,
        "INSERT INTO audit_events (at, actor, authority_id, action, detail) \
         VALUES (1700000000, 'cli', NULL, 'authority.create', 'country=KE name=old')",
    )
    .await;
    let report = verify(&server).await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["first_bad"]["seq"].as_i64(), Some(size), "{report}");
    let db = server.stop().await;
    let server = TestServer::start_on(backend, db).await;
    let report = verify(&server).await;
    assert_eq!(report["ok"], true, "{report}");
    // The placed event, then the new admin token of this start.
    assert_eq!(report["size"].as_i64(), Some(size + 2), "{report}");
}

/// The events of a permit, each checked: its leaf hash recomputed from the fields shown, its
/// inclusion proof against the signed tree head (and a proof with one bit flipped refused), its
/// digest against the stored particulars.
/// Returns (kind, actor, particulars) in log order.
async fn proven_events(
    server: &TestServer,
    token: &str,
    number: &str,
) -> Vec<(String, String, String)> {
    let (status, body) = server
        .get(
            &format!("/api/v1/authorities/KE/permits/{}/events", enc(number)),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let signed =
        Checkpoint::from_signed(body["checkpoint"].as_str().unwrap(), &roots(server).await)
            .unwrap();
    let mut out = Vec::new();
    for e in body["events"].as_array().unwrap() {
        let leaf = Leaf {
            seq: e["seq"].as_u64().unwrap(),
            at: e["at"].as_i64().unwrap(),
            authority: e["authority"].as_str().unwrap(),
            actor: e["actor"].as_str().unwrap(),
            kind: e["kind"].as_str().unwrap(),
            subject: e["subject"].as_str().unwrap(),
            digest: hash(&e["digest"]),
        };
        assert_eq!(leaf.subject, format!("permit/KE/{number}"));
        assert_eq!(leaf.hash().unwrap(), hash(&e["leaf_hash"]));
        verify_inclusion(
            leaf.seq,
            signed.size,
            &leaf.hash().unwrap(),
            &hashes(&e["proof"]),
            &signed.root,
        )
        .unwrap();
        let mut wrong = hashes(&e["proof"]);
        if let Some(first) = wrong.first_mut() {
            first[5] ^= 0x40;
            assert!(
                verify_inclusion(
                    leaf.seq,
                    signed.size,
                    &leaf.hash().unwrap(),
                    &wrong,
                    &signed.root
                )
                .is_err()
            );
        }
        let stored = texts(
            &server.state.db,
            &format!(
                "SELECT action, detail FROM audit_events WHERE seq = {}",
                leaf.seq
            ),
        )
        .await;
        let [(kind, detail)] = &stored[..] else {
            panic!("no row at {}", leaf.seq)
        };
        assert_eq!(kind, leaf.kind);
        assert_eq!(verifier_core::log::digest(detail.as_bytes()), leaf.digest);
        out.push((leaf.kind.to_owned(), leaf.actor.to_owned(), detail.clone()));
    }
    out
}

/// A permit endorsed by customs and confirmed on import, another endorsed by a phone: each
/// report and the state it leads to is a leaf of the permit, with the quantities and the
/// reporting token in its particulars, and proves into the signed head; a user created and
/// disabled and a token created and revoked are leaves too; the log verifies.
async fn field_reports_and_accounts_are_in_the_log(backend: Backend) {
    let server = TestServer::start(backend).await;
    let issuer = server.issuing_authority("KE").await;
    server.authority("DE", "DE").await;
    let now = permitseal_server::clock::Clock::system().now();
    let when = |t: i64| permitseal_server::http::format_time(t);
    let first = server
        .issue(&issuer, "KE", export_draft("KE/2026/T1", "KE", "DE"))
        .await;
    let second = server
        .issue(&issuer, "KE", export_draft("KE/2026/T2", "KE", "DE"))
        .await;

    let customs = server.token("customs", None, Some("KE")).await;
    let (status, body) = server
        .post(
            "/api/v1/customs/endorsements",
            Some(&customs),
            json!({"declaration": "C-77", "qr": first["qr_text"], "officer": "KRA Kilindini",
                   "place": {"locode": "KEMBA"}, "transport_document": "MSKU1234567",
                   "lines": [{"block": "A", "quantity": "12.5"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let importer = server.token("importer", None, Some("DE")).await;
    let (status, body) = server
        .post(
            "/api/v1/confirmations",
            Some(&importer),
            json!({"confirmations": [{"id": "c-9", "received_at": when(now - 30),
                "place": {"locode": "DEHAM"}, "lines": [{"block": "A", "quantity": "12"}],
                "qr": first["qr_text"]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let officer = server.token("officer", None, Some("KE")).await;
    let upload = json!({"endorsements": [{"id": "e-5", "device_id": "dev-1",
        "endorsed_at": when(now - 60), "place": {"locode": "KEMBA"},
        "lines": [{"block": "A", "quantity": "3.25"}], "qr": second["qr_text"]}]});
    // Sent twice: the second is a duplicate, stored once and logged once.
    for _ in 0..2 {
        let (status, body) = server
            .post("/api/v1/endorsements", Some(&officer), upload.clone())
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let events = proven_events(&server, &issuer, "KE/2026/T1").await;
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "permit.issue",
            "permit.endorse",
            "permit.used",
            "permit.confirm_import",
            "permit.cancelled_on_import"
        ]
    );
    let (_, customs_actor, endorsed) = &events[1];
    assert!(
        endorsed.starts_with(&format!(
            "id=C-77 token={customs_actor} country=KE endorsed_at="
        )),
        "{endorsed}"
    );
    assert!(
        endorsed.contains(" place=KEMBA lines=A:12500000 "),
        "{endorsed}"
    );
    assert_eq!(events[2].1, *customs_actor);
    assert!(events[2].2.contains("state=used"), "{}", events[2].2);
    let (_, importer_actor, confirmed) = &events[3];
    assert_ne!(importer_actor, customs_actor);
    assert!(
        confirmed.starts_with(&format!(
            "id=c-9 token={importer_actor} country=DE received_at={}",
            now - 30
        )),
        "{confirmed}"
    );
    assert!(
        confirmed.contains(" place=DEHAM lines=A:12000000 qr_sha256="),
        "{confirmed}"
    );
    assert!(
        events[4]
            .2
            .contains("state=cancelled_on_import reason=cancelled on import by DE"),
        "{}",
        events[4].2
    );

    let events = proven_events(&server, &issuer, "KE/2026/T2").await;
    let kinds: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(kinds, ["permit.issue", "permit.endorse", "permit.used"]);
    assert!(
        events[1]
            .2
            .contains(" lines=A:3250000 device_key=- outside_country=0 "),
        "{}",
        events[1].2
    );

    // Accounts: a user created and disabled, a token created and revoked.
    let (status, user) = server
        .post(
            "/api/v1/authorities/KE/users",
            Some(&server.admin),
            json!({"email": "clerk@kws.example", "password": "a long enough password",
                   "name": "A Clerk", "roles": ["clerk"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let user_id = user["id"].as_str().unwrap();
    let (status, session) = server
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": "clerk@kws.example", "password": "a long enough password"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    let session = session["token"].as_str().unwrap();
    let disable = format!("/api/v1/authorities/KE/users/{user_id}/disable");
    let (status, body) = server.post_empty(&disable, Some(session)).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a clerk disables no one: {body}"
    );
    let (status, body) = server.post_empty(&disable, Some(&server.admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "disabled");
    let (status, body) = server.post_empty(&disable, Some(&server.admin)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_error_shape(&disable, status, &body);
    assert_eq!(body["code"], "already_disabled");
    let (status, _) = server.get("/api/v1/sessions/current", Some(session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    let (status, body) = server
        .post_empty(
            "/api/v1/authorities/KE/users/usr_nobody/disable",
            Some(&server.admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // A disabled account's roles do not change; an active staff member's do, and their
    // session ends so the new roles hold from the next login.
    let roles_of = |id: &str| format!("/api/v1/authorities/KE/users/{id}/roles");
    let (status, body) = server
        .put(
            &roles_of(user_id),
            Some(&server.admin),
            json!({"roles": ["signatory"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "not_staff");
    let (status, second) = server
        .post(
            "/api/v1/authorities/KE/users",
            Some(&server.admin),
            json!({"email": "second@kws.example", "password": "a long enough password",
                   "name": "Second Clerk", "roles": ["clerk"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    let second_id = second["id"].as_str().unwrap();
    let (_, second_session) = server
        .post(
            "/api/v1/sessions",
            None,
            json!({"email": "second@kws.example", "password": "a long enough password"}),
        )
        .await;
    let second_session = second_session["token"].as_str().unwrap();
    let (status, body) = server
        .put(
            &roles_of(second_id),
            Some(second_session),
            json!({"roles": ["authority_admin"]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a clerk gives no roles: {body}"
    );
    let (status, body) = server
        .put(
            &roles_of(second_id),
            Some(&server.admin),
            json!({"roles": ["applicant"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["code"], "invalid_roles");
    let (status, body) = server
        .put(
            &roles_of(second_id),
            Some(&server.admin),
            json!({"roles": ["signatory", "clerk", "clerk"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["roles"], json!(["clerk", "signatory"]));
    let (status, _) = server
        .get("/api/v1/sessions/current", Some(second_session))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the session ended with the change"
    );

    let (status, minted) = server
        .post(
            "/api/v1/tokens",
            Some(&server.admin),
            json!({"role": "officer", "country": "KE", "label": "lost phone"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    let minted_id = minted["id"].as_str().unwrap();
    let (status, body) = server
        .delete(&format!("/api/v1/tokens/{minted_id}"), Some(&server.admin))
        .await;
    assert!(status.is_success(), "{status} {body}");
    let accounts = texts(
        &server.state.db,
        "SELECT action, detail FROM audit_events WHERE action IN \
         ('user.create', 'user.disable', 'user.roles', 'token.create', 'token.revoke') ORDER BY seq",
    )
    .await;
    let logged =
        |action: &str, id: &str| accounts.iter().any(|(a, d)| a == action && d.contains(id));
    assert!(logged("user.create", user_id), "{accounts:?}");
    assert!(logged("user.disable", user_id), "{accounts:?}");
    assert!(logged("user.roles", second_id), "{accounts:?}");
    assert!(logged("token.create", minted_id), "{accounts:?}");
    assert!(logged("token.revoke", minted_id), "{accounts:?}");

    let report = verify(&server).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checked"], report["size"]);
    let db = server.stop().await;
    let (ok, out) = audit_verify(&db);
    assert!(ok, "{out}");
}

/// The phones' bundle of container 2 carries the newest signed tree head, which verifies with
/// the pinned root; a permit's events prove into it; a later bundle carries a later head,
/// consistent with the first. Container 1 stays as it was.
async fn the_bundle_carries_a_signed_tree_head(backend: Backend) {
    use verifier_core::bundle::Bundle;
    let server = TestServer::start(backend).await;
    let (issuer, numbers) = a_day(&server).await;
    let pins = roots(&server).await;
    let (status, _, plain) = server
        .get_bytes("/api/v1/bundle?format=2", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&plain[..4], b"PSB1");
    assert_eq!(Bundle::from_bytes(&plain, &pins).unwrap().tree_head, None);

    let path = "/api/v1/bundle?format=2&container=2";
    let (status, headers, bytes) = server.get_bytes(path, None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(&bytes[..4], b"PSB2");
    let bundle = Bundle::from_bytes(&bytes, &pins).unwrap();
    let head = bundle.tree_head.expect("container 2 carries the tree head");
    assert_eq!(head.size as i64, server.audit_count().await);
    assert_eq!(head, checkpoint(&server).await);
    // Everything but the head is the container-1 bundle's.
    assert_eq!(
        bundle.trust,
        Bundle::from_bytes(&plain, &pins).unwrap().trust
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, _, _) = server.get_bytes(path, None, Some(&etag)).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);

    // The issuance of a permit proves into the head the phone holds.
    let (status, events) = server
        .get(
            &format!("/api/v1/authorities/KE/permits/{}/events", enc(&numbers[3])),
            Some(&issuer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{events}");
    assert_eq!(events["size"].as_u64(), Some(head.size));
    let issued = &events["events"][0];
    assert_eq!(issued["kind"], "permit.issue");
    verify_inclusion(
        issued["seq"].as_u64().unwrap(),
        head.size,
        &hash(&issued["leaf_hash"]),
        &hashes(&issued["proof"]),
        &head.root,
    )
    .unwrap();

    // A revocation changes a status list: the next bundle is rebuilt with a later head.
    let (status, body) = server
        .post(
            &format!("/api/v1/authorities/KE/permits/{}/revoke", enc(&numbers[3])),
            Some(&issuer),
            json!({"reason": "after the sync"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, later) = server.get_bytes(path, None, Some(&etag)).await;
    assert_eq!(status, StatusCode::OK);
    let later = Bundle::from_bytes(&later, &pins)
        .unwrap()
        .tree_head
        .unwrap();
    assert!(later.size > head.size, "{later} after {head}");
    let (status, body) = server
        .get(
            &format!(
                "/api/v1/log/consistency?first={}&second={}",
                head.size, later.size
            ),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    verify_consistency(
        head.size,
        later.size,
        &head.root,
        &later.root,
        &hashes(&body["proof"]),
    )
    .unwrap();

    for bad in ["0", "3", "two"] {
        let path = format!("/api/v1/bundle?container={bad}");
        let (status, body) = server.get(&path, None).await;
        assert!(status.is_client_error(), "{path}: {status}");
        assert_error_shape(&path, status, &body);
    }
}

/// A batch's leaves are written together: batches of 13 and 6 permits, starting at log
/// positions that are not on a subtree boundary, give one `permit.issue` leaf each, in batch
/// order, each proving into the signed head, and the whole log recomputes.
async fn a_batch_of_permits_is_a_leaf_each(backend: Backend) {
    let server = TestServer::start(backend).await;
    let issuer = server.issuing_authority("KE").await;
    server
        .issue(&issuer, "KE", export_draft("KE/2026/single", "KE", "DE"))
        .await;
    let path = "/api/v1/authorities/KE/permits/batch";
    let mut numbers = Vec::new();
    for (from, count) in [(0, 13), (13, 6)] {
        let before = server.audit_count().await;
        let batch: Vec<String> = (from..from + count).map(|i| format!("KE/B/{i}")).collect();
        let permits: Vec<Value> = batch
            .iter()
            .map(|n| json!({"permit": export_draft(n, "KE", "DE")}))
            .collect();
        let (status, body) = server
            .post(path, Some(&issuer), json!({"permits": permits}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(server.audit_count().await, before + count);
        numbers.extend(batch);
    }
    let mut seqs = Vec::new();
    for number in &numbers {
        let events = proven_events(&server, &issuer, number).await;
        assert_eq!(events.len(), 1, "{number}: {events:?}");
        assert_eq!(events[0].0, "permit.issue");
        let rows = texts(
            &server.state.db,
            &format!(
                "SELECT CAST(seq AS TEXT), detail FROM audit_events \
                 WHERE subject = 'permit/KE/{number}'"
            ),
        )
        .await;
        seqs.push(rows[0].0.parse::<u64>().unwrap());
    }
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    let report = verify(&server).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["checked"], report["size"]);
}
