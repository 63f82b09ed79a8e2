//! Webhooks against a real server and a real HTTP receiver on 127.0.0.1, on SQLite and
//! PostgreSQL: events written in the transaction of their change, delivered signed per Standard
//! Webhooks (checked here with an HMAC of the test's own, not the server's function), retried
//! on the injected clock's schedule and in order per permit, retaken when a replica's lease
//! expires, and sent by one replica of two.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{
    Backend, TestDb, TestServer, assert_error_shape, clock_offset_file, count_rows, export_draft,
};
use hmac::{KeyInit as _, Mac as _};
use permitseal_server::storage::Db;
use permitseal_server::webhooks::{Deliverer, LEASE_SECONDS, WebhookTrust};
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(
    a_server_killed_mid_delivery_resends_on_restart,
    events_arrive_signed_once_and_in_order_after_failures,
    endorsements_and_confirmations_are_events,
    an_expired_lease_is_taken_again,
    a_deleted_subscription_gets_nothing_more,
    https_receivers_are_reached_when_their_ca_is_trusted,
    a_served_deliverer_trusts_its_ca_file,
);

/// What a receiver got: (webhook-id, webhook-timestamp, webhook-signature, body) of every
/// request it answered 2xx.
type Received = Arc<Mutex<Vec<(String, String, String, String)>>>;

/// The receiver's routes: `/hook` fails the first `failures` requests with 503 and records
/// the others.
fn hook_app(failures: usize) -> (axum::Router, Received) {
    let got: Received = Arc::default();
    let left = Arc::new(Mutex::new(failures));
    let (g, l) = (got.clone(), left.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let (g, l) = (g.clone(), l.clone());
            async move {
                let mut left = l.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                }
                let h = |n: &str| headers[n].to_str().unwrap().to_owned();
                g.lock().unwrap().push((
                    h("webhook-id"),
                    h("webhook-timestamp"),
                    h("webhook-signature"),
                    body,
                ));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    (app, got)
}

/// A receiver on 127.0.0.1 that fails the first `failures` requests with 503; its URL.
async fn receiver(failures: usize) -> (String, Received) {
    let (app, got) = hook_app(failures);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got)
}

/// An https receiver on 127.0.0.1 (TLS 1.3 and 1.2, rustls) whose certificate, for the DNS
/// names or IP addresses `names`, a fresh test CA issued.
struct TlsReceiver {
    /// `https://127.0.0.1:PORT/hook`.
    url: String,
    got: Received,
    /// The test CA's certificate, PEM: what a deployment puts in its webhook CA file.
    ca_pem: String,
}

async fn tls_receiver(names: &[&str]) -> TlsReceiver {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "customs network test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf =
        rcgen::CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(
        vec![leaf.der().clone()],
        rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
    )
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let (app, got) = hook_app(0);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    TlsReceiver {
        url: format!("https://{addr}/hook"),
        got,
        ca_pem: ca.pem(),
    }
}

/// Checks a delivery's signature as a receiver would, with its own HMAC.
fn verify(secret: &str, (id, ts, sig, body): &(String, String, String, String)) {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let want = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(sig, &want, "signature of {id}");
}

async fn subscribe(s: &TestServer, token: &str, number: &str, url: &str) -> Value {
    let (status, body) = s
        .post(
            "/api/v1/webhooks/subscriptions",
            Some(token),
            json!({"issuing_country": "KE", "number": number, "url": url}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn change(s: &TestServer, issuer: &str, number: &str, action: &str) {
    let (status, body) = s
        .post(
            &format!("/api/v1/authorities/KE/permits/{number}/{action}"),
            Some(issuer),
            json!({"reason": format!("{action} for the test")}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

fn now() -> i64 {
    permitseal_server::clock::Clock::system().now()
}

fn types(got: &Received) -> Vec<String> {
    got.lock()
        .unwrap()
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.3).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn events_arrive_signed_once_and_in_order_after_failures(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    s.issue(&ke, "KE", export_draft("KE-1", "KE", "DE")).await;
    let customs = s.token("customs", None, Some("KE")).await;
    let (url, got) = receiver(3).await;

    // Only http(s) URLs, only permits of the token's country.
    for bad in [
        "file:///etc/passwd",
        "gopher://x/",
        "not a url",
        "https://u:p@x.example/",
    ] {
        let (status, body) = s
            .post(
                "/api/v1/webhooks/subscriptions",
                Some(&customs),
                json!({"issuing_country": "KE", "number": "KE-1", "url": bad}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {body}");
        assert_eq!(body["code"], "invalid_url");
    }
    let fr = s.token("customs", None, Some("FR")).await;
    let (status, _) = s
        .post(
            "/api/v1/webhooks/subscriptions",
            Some(&fr),
            json!({"issuing_country": "KE", "number": "KE-1", "url": url}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let sub = subscribe(&s, &customs, "KE-1", &url).await;
    let secret = sub["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    change(&s, &ke, "KE-1", "suspend").await;
    change(&s, &ke, "KE-1", "reinstate").await;
    change(&s, &ke, "KE-1", "revoke").await;

    // The receiver fails three times: the first event waits out its back-off (on the clock the
    // deliverer is given, no sleeping), the later ones wait behind it.
    let deliverer = Deliverer::new(
        s.state.db.clone(),
        s.state.master.clone(),
        &WebhookTrust::public(),
    )
    .unwrap();
    let mut t = now();
    for _ in 0..3 {
        assert_eq!(deliverer.deliver_due(t).await.unwrap(), 0);
        assert_eq!(
            deliverer.deliver_due(t).await.unwrap(),
            0,
            "not due again yet"
        );
        t += 8 * 3600;
    }
    assert!(got.lock().unwrap().is_empty());
    let mut delivered = 0;
    for _ in 0..3 {
        delivered += deliverer.deliver_due(t).await.unwrap();
    }
    assert_eq!(delivered, 3);
    assert_eq!(
        deliverer.deliver_due(t + 8 * 3600).await.unwrap(),
        0,
        "nothing twice"
    );
    assert_eq!(
        types(&got),
        ["permit.suspended", "permit.reinstated", "permit.revoked"]
    );
    let got = got.lock().unwrap();
    let ids: Vec<&str> = got.iter().map(|r| r.0.as_str()).collect();
    let sub_id = sub["id"].as_str().unwrap();
    assert_eq!(
        ids,
        [1, 2, 3].map(|n| format!("{sub_id}.{n}")),
        "each event once, in order"
    );
    for r in got.iter() {
        verify(secret, r);
        assert_eq!(r.1, t.to_string(), "the attempt's time");
    }
    let last: Value = serde_json::from_str(&got[2].3).unwrap();
    assert_eq!(last["data"]["number"], "KE-1");
    assert_eq!(last["data"]["state"], "revoked");
    assert_eq!(last["data"]["state_reason"], "revoke for the test");
}

async fn endorsements_and_confirmations_are_events(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    let permit = s.issue(&ke, "KE", export_draft("KE-2", "KE", "DE")).await;
    let customs = s.token("customs", None, Some("KE")).await;
    let (url, got) = receiver(0).await;
    let sub = subscribe(&s, &ke, "KE-2", &url).await;
    let (status, body) = s
        .post(
            "/api/v1/customs/endorsements",
            Some(&customs),
            json!({"declaration": "C-1", "qr": permit["qr_text"], "place": {"locode": "KEMBA"},
                   "lines": [{"block": "A", "quantity": "12.5"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let importer = s
        .direct_token(permitseal_server::model::Role::Importer, None, Some("DE"))
        .await;
    let (status, body) = s
        .post(
            "/api/v1/confirmations",
            Some(&importer),
            json!({"confirmations": [{"id": "i-1",
                "received_at": permitseal_server::http::format_time(now()),
                "place": {"locode": "DEHAM"}, "lines": [{"block": "A", "quantity": "12.5"}],
                "qr": permit["qr_text"]}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let deliverer = Deliverer::new(
        s.state.db.clone(),
        s.state.master.clone(),
        &WebhookTrust::public(),
    )
    .unwrap();
    let mut delivered = 0;
    for _ in 0..4 {
        delivered += deliverer.deliver_due(now()).await.unwrap();
    }
    assert_eq!(delivered, 3);
    assert_eq!(
        types(&got),
        ["permit.endorsed", "permit.used", "permit.confirmed"],
        "one event for the confirmation and the cancellation it makes"
    );
    let confirmed: Value = serde_json::from_str(&got.lock().unwrap()[2].3).unwrap();
    assert_eq!(
        confirmed["data"]["state"], "cancelled_on_import",
        "the state after it"
    );
    let secret = sub["secret"].as_str().unwrap();
    for r in got.lock().unwrap().iter() {
        verify(secret, r);
    }
}

async fn an_expired_lease_is_taken_again(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    s.issue(&ke, "KE", export_draft("KE-3", "KE", "DE")).await;
    let (url, got) = receiver(0).await;
    subscribe(&s, &ke, "KE-3", &url).await;
    change(&s, &ke, "KE-3", "suspend").await;
    let t = now();
    // A replica leases the event and dies before sending it.
    let dead = s
        .state
        .db
        .lease_webhooks("dead", t, t + LEASE_SECONDS, 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    let deliverer = Deliverer::new(
        s.state.db.clone(),
        s.state.master.clone(),
        &WebhookTrust::public(),
    )
    .unwrap();
    assert_eq!(
        deliverer.deliver_due(t + LEASE_SECONDS - 1).await.unwrap(),
        0
    );
    assert_eq!(deliverer.deliver_due(t + LEASE_SECONDS).await.unwrap(), 1);
    assert_eq!(types(&got), ["permit.suspended"]);
    // The dead replica's late report changes nothing.
    assert!(
        !s.state
            .db
            .webhook_attempted("dead", &dead[0].id, t, None)
            .await
            .unwrap()
    );

    // A revoked token's subscriptions get nothing more.
    let (_, me) = s.get("/api/v1/whoami", Some(&ke)).await;
    let (status, _) = s
        .delete(
            &format!("/api/v1/tokens/{}", me["token_id"].as_str().unwrap()),
            Some(&s.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let issuer = s.token("issuer", Some("KE"), None).await;
    change(&s, &issuer, "KE-3", "reinstate").await;
    assert_eq!(deliverer.deliver_due(t + 8 * 3600).await.unwrap(), 0);
    assert_eq!(types(&got), ["permit.suspended"]);
}

/// A `permitseal serve` process is killed while its delivery hangs at the receiver; the next
/// process (its clock past the lease) sends the same event again, and the receiver, deduping by
/// `webhook-id`, keeps it once.
async fn a_server_killed_mid_delivery_resends_on_restart(backend: Backend) {
    // Every request is seen; the first one is never answered.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::unbounded_channel::<String>();
    let seen2 = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap| {
            let (seen, arrived_tx) = (seen2.clone(), arrived_tx.clone());
            async move {
                let id = headers["webhook-id"].to_str().unwrap().to_owned();
                let first = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(id.clone());
                    seen.len() == 1
                };
                arrived_tx.send(id).unwrap();
                if first {
                    std::future::pending::<()>().await;
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let s = TestServer::start_process(backend, TestDb::create(backend).await).await;
    let ke = s.issuing_authority("KE").await;
    s.issue(&ke, "KE", export_draft("KE-9", "KE", "DE")).await;
    subscribe(&s, &ke, "KE-9", &url).await;
    change(&s, &ke, "KE-9", "suspend").await;
    let first = tokio::time::timeout(std::time::Duration::from_secs(30), arrived.recv())
        .await
        .expect("the serving process delivers")
        .unwrap();
    // Killed (SIGKILL) with the delivery in flight: it is recorded nowhere.
    let db = s.stop().await;
    std::fs::write(clock_offset_file(&db), (LEASE_SECONDS + 1).to_string()).unwrap();
    let _s = TestServer::start_process(backend, db).await;
    let again = tokio::time::timeout(std::time::Duration::from_secs(30), arrived.recv())
        .await
        .expect("the restarted process resends")
        .unwrap();
    assert_eq!(again, first, "the same event, by its webhook-id");
    let mut kept = seen.lock().unwrap().clone();
    kept.dedup();
    assert_eq!(
        kept,
        [first],
        "deduped by webhook-id, the receiver has it once"
    );
}

/// Two replicas (two connection pools on one PostgreSQL) delivering at once: every event
/// reaches the receiver exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_on_postgres_deliver_each_event_once() {
    let s = TestServer::start(Backend::Postgres).await;
    let ke = s.issuing_authority("KE").await;
    let (url, got) = receiver(0).await;
    for n in 0..12 {
        let number = format!("KE-R{n}");
        s.issue(&ke, "KE", export_draft(&number, "KE", "DE")).await;
        subscribe(&s, &ke, &number, &url).await;
        change(&s, &ke, &number, "suspend").await;
        change(&s, &ke, &number, "reinstate").await;
    }
    let other = Db::open(&s.db.target).await.unwrap();
    let a = Deliverer::new(
        s.state.db.clone(),
        s.state.master.clone(),
        &WebhookTrust::public(),
    )
    .unwrap();
    let b = Deliverer::new(other, s.state.master.clone(), &WebhookTrust::public()).unwrap();
    let t = now();
    let mut delivered = 0;
    for _ in 0..4 {
        let (x, y) = tokio::join!(a.deliver_due(t), b.deliver_due(t));
        delivered += x.unwrap() + y.unwrap();
    }
    assert_eq!(delivered, 24);
    let got = got.lock().unwrap();
    let mut ids: Vec<&str> = got.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(ids.len(), 24, "no event twice");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 24);
}

async fn listed(s: &TestServer, token: &str) -> Vec<Value> {
    let (status, body) = s.get("/api/v1/webhooks/subscriptions", Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["subscriptions"].as_array().unwrap().clone()
}

/// Two subscriptions to one permit; one is listed by its token and deleted: it gets no event
/// after, its undelivered one is marked cancelled (not deleted), and the other subscription
/// gets every event as before.
async fn a_deleted_subscription_gets_nothing_more(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    s.issue(&ke, "KE", export_draft("KE-3", "KE", "DE")).await;
    let customs = s.token("customs", None, Some("KE")).await;
    let other_customs = s.token("customs", None, Some("KE")).await;
    let (url_a, got_a) = receiver(0).await;
    let (url_b, got_b) = receiver(0).await;
    let a = subscribe(&s, &customs, "KE-3", &url_a).await;
    let b = subscribe(&s, &ke, "KE-3", &url_b).await;
    let (a_id, b_id) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let deliverer = Deliverer::new(
        s.state.db.clone(),
        s.state.master.clone(),
        &WebhookTrust::public(),
    )
    .unwrap();
    change(&s, &ke, "KE-3", "suspend").await;
    assert_eq!(deliverer.deliver_due(now()).await.unwrap(), 2);
    change(&s, &ke, "KE-3", "reinstate").await;

    // Each token lists its own, with what is delivered and what waits; the admin, all.
    let mine = listed(&s, &customs).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["id"], a_id);
    assert_eq!(mine[0]["number"], "KE-3");
    assert_eq!(mine[0]["url"], url_a);
    assert_eq!(
        (mine[0]["delivered"].as_i64(), mine[0]["pending"].as_i64()),
        (Some(1), Some(1))
    );
    assert!(
        mine[0].get("secret").is_none(),
        "the secret is shown once only"
    );
    assert_eq!(listed(&s, &ke).await[0]["id"], b_id);
    assert!(listed(&s, &other_customs).await.is_empty());
    assert_eq!(listed(&s, &s.admin).await.len(), 2);

    // Only the token that made it (or the admin) deletes it; to others it does not exist.
    let path = format!("/api/v1/webhooks/subscriptions/{a_id}");
    for token in [&other_customs, &ke] {
        let (status, body) = s.delete(&path, Some(token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        assert_error_shape(&path, status, &body);
    }
    let (status, body) = s.delete(&path, Some(&customs)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], a_id);
    assert_eq!(
        body["cancelled"], 1,
        "the reinstatement was not delivered yet"
    );
    let (status, body) = s.delete(&path, Some(&customs)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleted once: {body}");
    assert!(listed(&s, &customs).await.is_empty());
    assert_eq!(listed(&s, &s.admin).await.len(), 1);

    change(&s, &ke, "KE-3", "revoke").await;
    let mut delivered = 0;
    for _ in 0..4 {
        delivered += deliverer.deliver_due(now()).await.unwrap();
    }
    assert_eq!(delivered, 2, "the other subscription's two events");
    assert_eq!(types(&got_a), ["permit.suspended"]);
    assert_eq!(
        types(&got_b),
        ["permit.suspended", "permit.reinstated", "permit.revoked"]
    );
    // The deleted subscription's rows stay: one delivered, one marked cancelled, none after.
    let db = &s.state.db;
    let rows = |cond: &str| format!("webhook_outbox WHERE subscription_id = '{a_id}' AND {cond}");
    assert_eq!(count_rows(db, &rows("1 = 1")).await, 2);
    assert_eq!(count_rows(db, &rows("delivered_at IS NOT NULL")).await, 1);
    assert_eq!(count_rows(db, &rows("cancelled_at IS NOT NULL")).await, 1);
    assert_eq!(
        count_rows(
            db,
            &format!("webhook_subscriptions WHERE id = '{a_id}' AND deleted_at IS NOT NULL")
        )
        .await,
        1
    );

    // The admin deletes anyone's.
    let (status, body) = s
        .delete(
            &format!("/api/v1/webhooks/subscriptions/{b_id}"),
            Some(&s.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["cancelled"], 0);
    let (status, body) = s
        .delete("/api/v1/webhooks/subscriptions/whk_nothing", Some(&s.admin))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

/// The one subscription (of the permit's authority) a test made: its delivery counts and the
/// last failure of its oldest pending event.
async fn only_subscription(s: &TestServer, token: &str) -> Value {
    let mine = listed(s, token).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    mine[0].clone()
}

/// A receiver behind a certificate of a CA the deliverer does not know: each attempt fails and
/// says why; once the deployment's CA file holds that CA, the event is delivered, signed, once.
/// A certificate for another name fails even with its CA trusted.
async fn https_receivers_are_reached_when_their_ca_is_trusted(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    s.issue(&ke, "KE", export_draft("KE-T1", "KE", "DE")).await;
    let r = tls_receiver(&["127.0.0.1", "localhost"]).await;
    let sub = subscribe(&s, &ke, "KE-T1", &r.url).await;
    assert_eq!(sub["url"], r.url.as_str(), "an https URL is accepted");
    change(&s, &ke, "KE-T1", "suspend").await;

    // Only the public roots: the test CA is not among them.
    let public = Deliverer::new(
        s.state.db.clone(),
        s.state.master.clone(),
        &WebhookTrust::public(),
    )
    .unwrap();
    let t = now();
    assert_eq!(public.deliver_due(t).await.unwrap(), 0);
    let listed_now = only_subscription(&s, &ke).await;
    assert_eq!(listed_now["pending"], 1);
    let why = listed_now["last_error"].as_str().unwrap();
    assert!(
        why.contains("certificate") && why.contains("UnknownIssuer"),
        "the failure names the certificate: {why}"
    );
    assert!(r.got.lock().unwrap().is_empty());

    // The deployment adds its customs network's CA.
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("customs-ca.pem");
    std::fs::write(&ca_file, &r.ca_pem).unwrap();
    let trust = WebhookTrust::with_ca_file(&ca_file).unwrap();
    assert_eq!(trust.added(), 1);
    let trusting = Deliverer::new(s.state.db.clone(), s.state.master.clone(), &trust).unwrap();
    assert_eq!(
        trusting.deliver_due(t).await.unwrap(),
        0,
        "not due again yet"
    );
    let later = t + 8 * 3600;
    assert_eq!(trusting.deliver_due(later).await.unwrap(), 1);
    assert_eq!(
        trusting.deliver_due(later).await.unwrap(),
        0,
        "nothing twice"
    );
    assert_eq!(types(&r.got), ["permit.suspended"]);
    verify(sub["secret"].as_str().unwrap(), &r.got.lock().unwrap()[0]);
    let listed_now = only_subscription(&s, &ke).await;
    assert_eq!(
        (
            listed_now["delivered"].as_i64(),
            listed_now["pending"].as_i64()
        ),
        (Some(1), Some(0))
    );

    // A certificate of the trusted CA, but for another host than the URL's.
    let elsewhere = tls_receiver(&["customs.example"]).await;
    std::fs::write(&ca_file, &elsewhere.ca_pem).unwrap();
    let trust = WebhookTrust::with_ca_file(&ca_file).unwrap();
    let trusting = Deliverer::new(s.state.db.clone(), s.state.master.clone(), &trust).unwrap();
    s.issue(&ke, "KE", export_draft("KE-T2", "KE", "DE")).await;
    let admin_subs = {
        subscribe(&s, &ke, "KE-T2", &elsewhere.url).await;
        change(&s, &ke, "KE-T2", "suspend").await;
        assert_eq!(trusting.deliver_due(later).await.unwrap(), 0);
        listed(&s, &ke).await
    };
    let wrong_host = admin_subs.iter().find(|x| x["number"] == "KE-T2").unwrap();
    let why = wrong_host["last_error"].as_str().unwrap();
    assert!(
        why.contains("certificate") && why.contains("not valid for name"),
        "the failure names the host: {why}"
    );
    assert!(elsewhere.got.lock().unwrap().is_empty());
}

/// `permitseal serve --webhook-ca-file` (the real process) delivers to an https receiver of
/// that CA; a CA file it cannot use stops `serve` at once with the reason.
async fn a_served_deliverer_trusts_its_ca_file(backend: Backend) {
    let r = tls_receiver(&["127.0.0.1"]).await;
    let db = TestDb::create(backend).await;
    let ca_file = db.dir.path().join("customs-ca.pem");
    std::fs::write(&ca_file, &r.ca_pem).unwrap();
    let s = TestServer::start_process_with(
        backend,
        db,
        &["--webhook-ca-file", ca_file.to_str().unwrap()],
    )
    .await;
    let ke = s.issuing_authority("KE").await;
    s.issue(&ke, "KE", export_draft("KE-T3", "KE", "DE")).await;
    let sub = subscribe(&s, &ke, "KE-T3", &r.url).await;
    change(&s, &ke, "KE-T3", "revoke").await;
    let mut waited = 0;
    while r.got.lock().unwrap().is_empty() {
        assert!(
            waited < 300,
            "the serving process delivers: {}",
            only_subscription(&s, &ke).await
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert_eq!(types(&r.got), ["permit.revoked"]);
    verify(sub["secret"].as_str().unwrap(), &r.got.lock().unwrap()[0]);
    let db = s.stop().await;

    for (content, says) in [
        ("not a certificate at all\n", "no certificate in it"),
        (
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            "certificate 1 is not a usable CA certificate",
        ),
        (
            "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
            "not PEM certificates",
        ),
    ] {
        std::fs::write(&ca_file, content).unwrap();
        let ca = ca_file.to_str().unwrap();
        let stderr = serve_fails(&db, &["--webhook-ca-file", ca], &[]).await;
        assert!(
            stderr.contains("webhook CA file") && stderr.contains(says),
            "{content:?}: {stderr}"
        );
    }
    let missing = db.dir.path().join("no-such.pem");
    let stderr = serve_fails(
        &db,
        &[],
        &[("PERMITSEAL_WEBHOOK_CA_FILE", missing.to_str().unwrap())],
    )
    .await;
    assert!(
        stderr.contains("webhook CA file") && stderr.contains("no-such.pem"),
        "{stderr}"
    );
}

/// Runs `permitseal serve` over `db` with `args` and `env`, which must make it exit with a
/// failure within 30 s; its standard error.
async fn serve_fails(db: &TestDb, args: &[&str], env: &[(&str, &str)]) -> String {
    let log = db.dir.path().join("failed-serve.log");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_permitseal"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .env("DATABASE_URL", db.url())
        .env("PERMITSEAL_DATA_DIR", db.dir.path())
        .env("PERMITSEAL_MASTER_KEY", common::master_key_text())
        .env_remove("PERMITSEAL_MASTER_KEY_FILE")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    for _ in 0..300 {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "serve {args:?} {env:?} should fail");
            return std::fs::read_to_string(&log).unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    child.kill().unwrap();
    panic!("serve {args:?} {env:?} did not stop");
}
