//! Conflicting transitions of one permit, run concurrently through the real HTTP server on
//! SQLite and PostgreSQL; on PostgreSQL also through two servers (replicas with their own
//! connection pools) over one database. Every acknowledged revocation must hold in the permit's
//! record and in every replica's signed status list, every double endorsement must raise exactly
//! one `second_endorsement` alert, an endorsement that lands after a revocation must raise
//! `revoked_permit`, and nothing may be answered 5xx. The same rounds, fewer of them, run in
//! `processes::` against two `permitseal serve` processes over one PostgreSQL database, as a
//! deployment with several replicas runs.

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Backend, TestDb, TestServer, enc, export_draft};
use permitseal_server::storage::Db;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Each scenario `async fn(Replicas, rounds)` as a test on both backends (in-process replicas)
/// and in `processes::` against two server processes on PostgreSQL.
macro_rules! races {
    ($($name:ident),* $(,)?) => {
        mod in_process {
            use super::*;
            $(
                async fn $name(backend: Backend) {
                    super::$name(Replicas::start(backend).await, ROUNDS).await;
                }
            )*
            on_both_backends!($($name),*);
        }
        mod processes {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(Replicas::processes().await, PROCESS_ROUNDS).await;
                }
            )*
        }
    };
}

races!(
    revoke_races_reinstate,
    revoke_races_suspend,
    revoke_races_endorsement,
    two_endorsements_race,
    one_batch_in_two_orders,
);

/// PostgreSQL only: SQLite has one writer and no deadlocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_run_again_not_answered_5xx() {
    use sqlx::Connection as _;
    let s = TestServer::start(Backend::Postgres).await;
    let issuer = s.issuing_authority("KE").await;
    let (number, index, _) = permit(&s, &issuer, "KE/DL1").await;
    let mut other = sqlx::PgConnection::connect(&s.db.url()).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    // Another writer holds the authority's row…
    sqlx::query("SELECT id FROM authorities WHERE id = 'KE' FOR UPDATE")
        .execute(&mut *tx)
        .await
        .unwrap();
    // …the revocation locks the permit and waits for the authority…
    let revoke = {
        let client = s.client.clone();
        let url = s.url(&format!(
            "/api/v1/authorities/KE/permits/{}/revoke",
            enc(&number)
        ));
        let issuer = issuer.clone();
        tokio::spawn(async move {
            let resp = client
                .post(url)
                .bearer_auth(issuer)
                .json(&json!({"reason": "deadlock test"}))
                .send()
                .await
                .unwrap();
            (resp.status(), resp.text().await.unwrap())
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // …and the other writer now wants the permit: a deadlock. PostgreSQL cancels the
    // transaction that waited longest (the server's), which must run again by itself.
    sqlx::query(
        "SELECT state FROM permits WHERE authority_id = 'KE' AND status_index = $1 FOR UPDATE",
    )
    .bind(index)
    .execute(&mut *tx)
    .await
    .expect("the server's transaction is the one cancelled");
    tx.commit().await.unwrap();
    let (status, body) = revoke.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(state_of(&s, &issuer, &number).await, "revoked");
    s.stop().await;
}

/// Rounds of each pair: enough that an unlocked read-modify-write loses in most runs.
const ROUNDS: usize = 12;

/// Rounds of each pair against server processes, every one across the two: fewer, since each
/// test also starts two processes (CI has two cores).
const PROCESS_ROUNDS: usize = 4;

/// One server, and on PostgreSQL a second one (its own pool) over the same database.
struct Replicas {
    // Declared first so that it is dropped first (a failed test): the first server owns the
    // database.
    second: Option<TestServer>,
    first: TestServer,
    /// Whether every round's second request goes to the other replica (not only odd rounds).
    always_across: bool,
}

impl Replicas {
    async fn start(backend: Backend) -> Self {
        let first = TestServer::start(backend).await;
        let second = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                Some(TestServer::start_on(backend, TestDb::existing(first.db.target.clone())).await)
            }
        };
        Self {
            first,
            second,
            always_across: false,
        }
    }

    /// Two `permitseal serve` processes over one new PostgreSQL database.
    async fn processes() -> Self {
        let first =
            TestServer::start_process(Backend::Postgres, TestDb::create(Backend::Postgres).await)
                .await;
        let existing = TestDb::existing(first.db.target.clone());
        let second = TestServer::start_process(Backend::Postgres, existing).await;
        Self {
            first,
            second: Some(second),
            always_across: true,
        }
    }

    /// The server the second request of round `round` goes to: the other replica in odd
    /// rounds (where there is one), the same process in even ones; always the other one when
    /// the replicas are processes.
    fn other(&self, round: usize) -> &TestServer {
        match (&self.second, round % 2) {
            (Some(second), 1) => second,
            (Some(second), _) if self.always_across => second,
            _ => &self.first,
        }
    }

    fn all(&self) -> Vec<&TestServer> {
        std::iter::once(&self.first)
            .chain(self.second.as_ref())
            .collect()
    }

    async fn stop(self) {
        if let Some(second) = self.second {
            second.stop().await;
        }
        self.first.stop().await;
    }
}

fn now_text() -> String {
    permitseal_server::http::format_time(permitseal_server::clock::Clock::system().now())
}

fn endorsement(id: &str, qr: &str) -> Value {
    json!({"id": id, "device_id": "dev-race", "endorsed_at": now_text(),
           "place": {"locode": "KEMBA"}, "transport_document": "AWB 176-12345675",
           "lines": [{"block": "A", "quantity": "10"}], "qr": qr})
}

/// A fresh permit of KE: its number, status index and QR text.
async fn permit(s: &TestServer, issuer: &str, number: &str) -> (String, i64, String) {
    let p = s
        .issue(issuer, "KE", export_draft(number, "KE", "DE"))
        .await;
    (
        number.to_owned(),
        p["status_index"].as_i64().unwrap(),
        p["qr_text"].as_str().unwrap().to_owned(),
    )
}

async fn act(s: &TestServer, issuer: &str, number: &str, action: &str) -> (StatusCode, Value) {
    s.post(
        &format!("/api/v1/authorities/KE/permits/{}/{action}", enc(number)),
        Some(issuer),
        json!({"reason": format!("race test: {action}")}),
    )
    .await
}

async fn endorse(s: &TestServer, officer: &str, items: Vec<Value>) -> (StatusCode, Value) {
    s.post(
        "/api/v1/endorsements",
        Some(officer),
        json!({"endorsements": items}),
    )
    .await
}

fn no_server_error(what: &str, (status, body): &(StatusCode, Value)) {
    assert!(
        !status.is_server_error(),
        "{what}: answered {status}: {body}"
    );
}

async fn state_of(s: &TestServer, issuer: &str, number: &str) -> String {
    let (status, p) = s
        .get(
            &format!("/api/v1/authorities/KE/permits/{}", enc(number)),
            Some(issuer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{p}");
    p["state"].as_str().unwrap().to_owned()
}

/// Checks that the permit is revoked in its record and in every replica's signed status list.
async fn assert_revoked(r: &Replicas, issuer: &str, number: &str, qr: &str, round: usize) {
    assert_eq!(
        state_of(&r.first, issuer, number).await,
        "revoked",
        "round {round}: an acknowledged revocation of {number} was lost"
    );
    // A replica's cache of signed lists follows the database within a second (its version
    // check is reused that long); poll a little longer than that.
    for s in r.all() {
        let mut codes = Vec::new();
        for _ in 0..40 {
            codes = s
                .phone_verify(qr)
                .await
                .codes()
                .into_iter()
                .map(str::to_owned)
                .collect();
            if codes.iter().any(|c| c == "REVOKED") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(
            codes.iter().any(|c| c == "REVOKED"),
            "round {round}: a replica's status list shows {number} as {codes:?}"
        );
    }
}

/// The states a permit took, in status list order (from the change log that deltas read).
async fn changes(db: &Db, index: i64) -> Vec<String> {
    let sql = "SELECT state FROM status_changes WHERE authority_id = 'KE' AND status_index = $1 \
               ORDER BY version";
    let rows: Vec<(String,)> = match db {
        Db::Sqlite { read, .. } => sqlx::query_as(sql).bind(index).fetch_all(read).await,
        Db::Postgres(pool) => sqlx::query_as(sql).bind(index).fetch_all(pool).await,
    }
    .unwrap();
    rows.into_iter().map(|(s,)| s).collect()
}

/// KE's alerts of `kind` about the permit at `index`.
async fn alerts(s: &TestServer, issuer: &str, kind: &str, index: i64) -> Vec<Value> {
    let (status, body) = s
        .get(
            &format!("/api/v1/authorities/KE/alerts?kind={kind}&limit=1000"),
            Some(issuer),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status_index"].as_i64() == Some(index))
        .cloned()
        .collect()
}

async fn revoke_races_reinstate(r: Replicas, rounds: usize) {
    let issuer = r.first.issuing_authority("KE").await;
    for round in 0..rounds {
        let (number, _, qr) = permit(&r.first, &issuer, &format!("KE/RR{round}")).await;
        let suspended = act(&r.first, &issuer, &number, "suspend").await;
        assert_eq!(suspended.0, StatusCode::OK, "{}", suspended.1);
        let (revoked, reinstated) = tokio::join!(
            act(&r.first, &issuer, &number, "revoke"),
            act(r.other(round), &issuer, &number, "reinstate"),
        );
        no_server_error("revoke", &revoked);
        no_server_error("reinstate", &reinstated);
        assert_eq!(revoked.0, StatusCode::OK, "{}", revoked.1);
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT].contains(&reinstated.0),
            "{reinstated:?}"
        );
        assert_revoked(&r, &issuer, &number, &qr, round).await;
    }
    r.stop().await;
}

async fn revoke_races_suspend(r: Replicas, rounds: usize) {
    let issuer = r.first.issuing_authority("KE").await;
    for round in 0..rounds {
        let (number, _, qr) = permit(&r.first, &issuer, &format!("KE/RS{round}")).await;
        let (revoked, suspended) = tokio::join!(
            act(&r.first, &issuer, &number, "revoke"),
            act(r.other(round), &issuer, &number, "suspend"),
        );
        no_server_error("revoke", &revoked);
        no_server_error("suspend", &suspended);
        assert!(
            [StatusCode::OK, StatusCode::CONFLICT].contains(&suspended.0),
            "{suspended:?}"
        );
        // A revocation that lands after the suspension still revokes; one before it makes the
        // suspension a conflict. Either way the answer was 200.
        assert_eq!(revoked.0, StatusCode::OK, "{}", revoked.1);
        assert_revoked(&r, &issuer, &number, &qr, round).await;
    }
    r.stop().await;
}

async fn revoke_races_endorsement(r: Replicas, rounds: usize) {
    let issuer = r.first.issuing_authority("KE").await;
    let officer = r.first.token("officer", None, Some("KE")).await;
    for round in 0..rounds {
        let (number, index, qr) = permit(&r.first, &issuer, &format!("KE/RE{round}")).await;
        let (revoked, endorsed) = tokio::join!(
            act(&r.first, &issuer, &number, "revoke"),
            endorse(
                r.other(round),
                &officer,
                vec![endorsement(&format!("re-{round}"), &qr)]
            ),
        );
        no_server_error("revoke", &revoked);
        no_server_error("endorsement", &endorsed);
        assert_eq!(revoked.0, StatusCode::OK, "{}", revoked.1);
        assert_eq!(endorsed.0, StatusCode::OK, "{}", endorsed.1);
        assert_eq!(endorsed.1["accepted"], 1, "{}", endorsed.1);
        assert_revoked(&r, &issuer, &number, &qr, round).await;
        let states = changes(&r.first.state.db, index).await;
        let endorsed_first = match states.as_slice() {
            [v, used, revoked] if v == "valid" && used == "used" && revoked == "revoked" => true,
            [v, revoked] if v == "valid" && revoked == "revoked" => false,
            other => panic!("round {round}: {number} went through {other:?}"),
        };
        let raised = alerts(&r.first, &issuer, "revoked_permit", index).await;
        if endorsed_first {
            assert!(
                raised.is_empty(),
                "round {round}: endorsed before the revocation, yet {raised:?}"
            );
        } else {
            assert_eq!(
                raised.len(),
                1,
                "round {round}: an endorsement after the revocation must raise revoked_permit"
            );
        }
    }
    r.stop().await;
}

async fn two_endorsements_race(r: Replicas, rounds: usize) {
    let issuer = r.first.issuing_authority("KE").await;
    let mombasa = r.first.token("officer", None, Some("KE")).await;
    let nairobi = r.first.token("officer", None, Some("KE")).await;
    for round in 0..rounds {
        let (number, index, qr) = permit(&r.first, &issuer, &format!("KE/EE{round}")).await;
        let (one, two) = tokio::join!(
            endorse(
                &r.first,
                &mombasa,
                vec![endorsement(&format!("ee-a-{round}"), &qr)]
            ),
            endorse(
                r.other(round),
                &nairobi,
                vec![endorsement(&format!("ee-b-{round}"), &qr)]
            ),
        );
        no_server_error("first endorsement", &one);
        no_server_error("second endorsement", &two);
        assert_eq!((one.0, two.0), (StatusCode::OK, StatusCode::OK));
        assert_eq!(state_of(&r.first, &issuer, &number).await, "used");
        assert_eq!(
            changes(&r.first.state.db, index).await,
            ["valid", "used"],
            "round {round}: one permit, one use"
        );
        let raised = alerts(&r.first, &issuer, "second_endorsement", index).await;
        assert_eq!(
            raised.len(),
            1,
            "round {round}: two endorsements of {number} at once: {raised:?}"
        );
        assert_eq!(raised[0]["occurrences"], 1, "{raised:?}");
    }
    r.stop().await;
}

async fn one_batch_in_two_orders(r: Replicas, rounds: usize) {
    let issuer = r.first.issuing_authority("KE").await;
    let officer = r.first.token("officer", None, Some("KE")).await;
    let other_officer = r.first.token("officer", None, Some("KE")).await;
    for round in 0..rounds {
        let mut permits = Vec::new();
        for p in 0..4 {
            permits.push(permit(&r.first, &issuer, &format!("KE/B{round}P{p}")).await);
        }
        // The same reports (one phone's outbox sent twice) in two orders at once, and another
        // phone's reports of the same permits, in the reverse order too.
        let forward: Vec<Value> = permits
            .iter()
            .map(|(_, i, qr)| endorsement(&format!("b-{round}-{i}"), qr))
            .collect();
        let backward: Vec<Value> = forward.iter().rev().cloned().collect();
        let another: Vec<Value> = permits
            .iter()
            .rev()
            .map(|(_, i, qr)| endorsement(&format!("b2-{round}-{i}"), qr))
            .collect();
        let (a, b, c) = tokio::join!(
            endorse(&r.first, &officer, forward),
            endorse(r.other(round), &officer, backward),
            endorse(r.other(round + 1), &other_officer, another),
        );
        for (what, answer) in [("forward", &a), ("backward", &b), ("another", &c)] {
            no_server_error(what, answer);
            assert_eq!(answer.0, StatusCode::OK, "{what}: {}", answer.1);
        }
        let accepted = a.1["accepted"].as_i64().unwrap() + b.1["accepted"].as_i64().unwrap();
        let duplicates = a.1["duplicates"].as_i64().unwrap() + b.1["duplicates"].as_i64().unwrap();
        assert_eq!(
            (accepted, duplicates),
            (4, 4),
            "round {round}: one outbox sent twice is stored once: {a:?} {b:?}"
        );
        assert_eq!(c.1["accepted"], 4);
        for (number, index, _) in &permits {
            assert_eq!(state_of(&r.first, &issuer, number).await, "used");
            assert_eq!(changes(&r.first.state.db, *index).await, ["valid", "used"]);
            let raised = alerts(&r.first, &issuer, "second_endorsement", *index).await;
            assert_eq!(
                raised.len(),
                1,
                "round {round}: {number} endorsed by two phones: {raised:?}"
            );
        }
    }
    r.stop().await;
}
