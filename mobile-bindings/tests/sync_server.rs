//! The sync client against the real permitseal server, started in-process on port 0 over
//! SQLite in a temporary directory (its demo data gives an authority, a signing key and an
//! officer token). No stand-in: every request is answered by the server's own handlers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use permitseal_mobile::{
    BundleLoad, BundleSync, CheckpointKind, EndorsedLine, ExportEndorsement, Language, Outbox,
    Place, ScanReport, SdkFailure, SyncClient, UploadOutcome, VerdictKind, Verifier, clock,
};
use permitseal_server::model::{AuthorityId, CountryCode, Role};
use permitseal_server::startup::{MasterKeySource, ServeConfig};
use permitseal_server::storage::DatabaseTarget;
use permitseal_server::storage::tokens::TokenScope;
use serde_json::{Value, json};

/// A running server and what the demo data made.
struct Server {
    addr: SocketAddr,
    officer: String,
    issuer: String,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let config = ServeConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_owned(),
            database: DatabaseTarget::Sqlite(dir.path().join("permitseal.db")),
            // A fixed test master key: base64 of 32 bytes 0x2a.
            master_key: MasterKeySource::Text(zeroize::Zeroizing::new(
                "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=".into(),
            )),
            demo: false,
            clock: permitseal_server::clock::Clock::system(),
        };
        let (addr, officer, issuer) = rt.block_on(async {
            let (state, _) = permitseal_server::open_state(&config).await.unwrap();
            // An authority with a signing key made just now (a permit issued in the key's first
            // minute must still verify), an officer's device token and an issuer's token.
            let t = state.clock.now();
            let id = AuthorityId::parse("KE").unwrap();
            let country = CountryCode::parse("KE").unwrap();
            let db = &state.db;
            db.create_authority("test", &id, &country, "Kenya Wildlife Service", t)
                .await
                .unwrap();
            db.generate_key("test", &id, &state.master, t)
                .await
                .unwrap();
            let token = |role, authority, country| {
                let scope = TokenScope::new(role, authority, country).unwrap();
                async move {
                    let (_, minted) = db.create_token("test", &scope, "test", t).await.unwrap();
                    minted.secret.as_str().to_string()
                }
            };
            let officer = token(Role::Officer, None, Some(country.clone())).await;
            let issuer = token(Role::Issuer, Some(id.clone()), None).await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(permitseal_server::launch(
                listener,
                state.clone(),
                std::future::pending(),
            ));
            (addr, officer, issuer)
        });
        Server {
            addr,
            officer,
            issuer,
            _rt: rt,
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn client(&self, token: &str) -> Arc<SyncClient> {
        SyncClient::new(self.url(), token.into(), 10).unwrap()
    }

    /// A JSON call with ureq (the server's own API, for set-up and checks).
    fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.url());
        let auth = format!("Bearer {token}");
        let mut resp = match (method, body) {
            ("GET", _) => agent.get(&url).header("Authorization", &auth).call(),
            (_, Some(b)) => agent
                .post(&url)
                .header("Authorization", &auth)
                .header("Content-Type", "application/json")
                .send(serde_json::to_vec(&b).unwrap().as_slice()),
            (_, None) => agent.post(&url).header("Authorization", &auth).send_empty(),
        }
        .unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Every scan id in `ids` is on the server exactly once: re-sending all of them stores
    /// nothing new.
    fn assert_each_stored_once(&self, ids: &[String], qr: &str) {
        let scans: Vec<Value> = ids
            .iter()
            .map(|id| {
                json!({"id": id, "device_id": "test-device",
                       "scanned_at": verifier_core::date::format_unix(clock::now() - 600),
                       "place": {"locode": "KEMBA"}, "verdict": "valid", "qr": qr})
            })
            .collect();
        let (status, v) = self.call(
            "POST",
            "/api/v1/scans",
            &self.officer,
            Some(json!({ "scans": scans })),
        );
        assert_eq!(status, 200, "{v}");
        assert_eq!(
            (v["accepted"].as_u64(), v["duplicates"].as_u64()),
            (Some(0), Some(ids.len() as u64)),
            "{v}"
        );
    }

    fn root_key(&self) -> Vec<u8> {
        let (status, v) = self.call("GET", "/api/v1/trust/root-key", "", None);
        assert_eq!(status, 200, "{v}");
        base64::engine::general_purpose::STANDARD
            .decode(v["public_key"].as_str().unwrap())
            .unwrap()
    }

    /// Issues an export permit and returns its QR text.
    fn issue(&self, number: &str) -> String {
        let body = json!({"permit": {
            "document_type": "export", "number": number, "valid_until": valid_until(),
            "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": "KE"},
            "importer": {"name": "Importer GmbH", "country": "DE"},
            "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
                       "appendix": "II", "source": "A", "quantity": "12.5", "unit": "KIL"}]}});
        let (status, v) = self.call(
            "POST",
            "/api/v1/authorities/KE/permits",
            &self.issuer,
            Some(body),
        );
        assert_eq!(status, 201, "{v}");
        v["qr_text"].as_str().unwrap().to_string()
    }
}

/// Three months from now, as the issuer writes it.
fn valid_until() -> String {
    let d = verifier_core::date::Date::from_unix(clock::now()).add_days(90);
    d.to_string()
}

fn scan(qr: &str, i: i64) -> ScanReport {
    ScanReport {
        qr_text: qr.into(),
        scanned_at: clock::now() - 600 + i,
        place: Place::Locode {
            code: "KEMBA".into(),
        },
        verdict: VerdictKind::Valid,
        device_id: "test-device".into(),
        officer_id: Some("officer-1".into()),
    }
}

fn outbox_dir(dir: &Path) -> String {
    dir.join("outbox").to_str().unwrap().to_string()
}

#[test]
fn bundle_sync_verify_upload_and_reuse_detection() {
    let server = Server::start();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let client = server.client(&server.officer);
    let qr = server.issue("KE/2026/0001");

    // First fetch: a new bundle, verified and installed.
    let etag = match client.sync_bundle(verifier.clone(), None).unwrap() {
        BundleSync::Updated {
            etag,
            load,
            newest_signed_time,
            bundle,
        } => {
            assert_eq!(load, BundleLoad::Installed);
            assert!(newest_signed_time > 0);
            assert!(!bundle.is_empty());
            etag.expect("the server sends an ETag")
        }
        other => panic!("{other:?}"),
    };
    let r = verifier.verify(qr.clone(), Language::En).unwrap();
    assert_eq!(r.verdict, VerdictKind::Valid, "{:?}", r.reasons);
    assert_eq!(r.permit.unwrap().issuing_country.code, "KE");
    // Same ETag: nothing to download.
    assert_eq!(
        client
            .sync_bundle(verifier.clone(), Some(etag.clone()))
            .unwrap(),
        BundleSync::UpToDate
    );

    // Queue scans and the export endorsement; upload in batches of 2.
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    for i in 0..5 {
        outbox.enqueue_scan(scan(&qr, i)).unwrap();
    }
    let endorsement_id = outbox
        .enqueue_endorsement(ExportEndorsement {
            qr_text: qr.clone(),
            lines: vec![EndorsedLine {
                block: "A".into(),
                quantity: "12.5".into(),
            }],
            port: "KEMBA".into(),
            transport_document: Some("MSKU1234567".into()),
            endorsed_at: clock::now() - 60,
            device_id: "test-device".into(),
            officer_id: Some("officer-1".into()),
        })
        .unwrap();
    outbox.enqueue_scan(scan(&qr, 9)).unwrap();
    let report = client.upload(outbox.clone(), 2).unwrap();
    assert_eq!(report.outcome, UploadOutcome::Done);
    assert_eq!((report.uploaded, report.rejected), (7, 0));
    assert_eq!(outbox.pending_count(), 0);

    // The endorsement marked the permit used: the next bundle says so, and a second export
    // of the same permit is refused as re-use.
    match client.sync_bundle(verifier.clone(), Some(etag)).unwrap() {
        BundleSync::Updated { load, .. } => assert_eq!(load, BundleLoad::Installed),
        other => panic!("{other:?}"),
    }
    let r = verifier
        .verify_at(
            qr.clone(),
            clock::now(),
            CheckpointKind::Export,
            Language::En,
        )
        .unwrap();
    assert_eq!(r.verdict, VerdictKind::Invalid);
    assert!(
        r.reasons.iter().any(|x| x.code == "USED"),
        "{:?}",
        r.reasons
    );
    let r = verifier
        .verify_at(
            qr.clone(),
            clock::now(),
            CheckpointKind::Import,
            Language::En,
        )
        .unwrap();
    assert!(
        r.reasons.iter().any(|x| x.code == "ENDORSED"),
        "{:?}",
        r.reasons
    );

    // Sending the same endorsement again (a batch whose answer was lost) is not counted twice.
    let again = json!({"endorsements": [{
        "id": endorsement_id, "device_id": "test-device",
        "endorsed_at": verifier_core::date::format_unix(clock::now() - 60),
        "place": {"locode": "KEMBA"}, "lines": [{"block": "A", "quantity": "12.5"}], "qr": qr}]});
    let (status, v) = server.call("POST", "/api/v1/endorsements", &server.officer, Some(again));
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["accepted"].as_u64(), v["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
}

#[test]
fn refusals_and_failures_are_results() {
    let server = Server::start();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let qr = server.issue("KE/2026/0002");
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    outbox.enqueue_scan(scan(&qr, 0)).unwrap();

    // A token the server does not know: nothing leaves the queue.
    let stranger = server.client("pst_not_a_real_token");
    let report = stranger.upload(outbox.clone(), 10).unwrap();
    assert_eq!(report.outcome, UploadOutcome::AuthFailed);
    assert_eq!(outbox.pending_count(), 1);
    // An issuer's token may not upload scans.
    let report = server
        .client(&server.issuer)
        .upload(outbox.clone(), 10)
        .unwrap();
    assert_eq!(report.outcome, UploadOutcome::AuthFailed);
    assert_eq!(outbox.pending_count(), 1);

    // An item the server refuses (a time more than a day ahead of the server's clock) is
    // set aside; the good items around it go through. Such an item is refused when recorded,
    // so it is put in the queue's file as an earlier app version (that did not check) left it.
    let mut future = scan(&qr, 0);
    future.scanned_at = clock::now() + 3 * 86_400;
    assert!(outbox.enqueue_scan(future.clone()).is_err());
    drop(outbox);
    let bad = "0b0e0a0d-0000-4000-8000-000000000001".to_string();
    let stored = permitseal_mobile::outbox::StoredItem {
        id: bad.clone(),
        queued_at: future.scanned_at,
        payload: permitseal_mobile::outbox::Payload::Scan(future),
    };
    let frame = permitseal_mobile::outbox::encode(&serde_json::to_vec(&stored).unwrap());
    let mut items = std::fs::OpenOptions::new()
        .append(true)
        .open(dir.path().join("outbox").join("items.log"))
        .unwrap();
    std::io::Write::write_all(&mut items, &frame).unwrap();
    drop(items);
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    outbox.enqueue_scan(scan(&qr, 1)).unwrap();
    let report = server
        .client(&server.officer)
        .upload(outbox.clone(), 10)
        .unwrap();
    assert_eq!(report.outcome, UploadOutcome::Done);
    assert_eq!((report.uploaded, report.rejected), (2, 1));
    assert_eq!(outbox.stats().rejected, 1);
    let kept = std::fs::read(dir.path().join("outbox").join("rejected.log")).unwrap();
    let (frames, _) = permitseal_mobile::outbox::decode_all(&kept);
    let item: permitseal_mobile::outbox::RejectedItem = serde_json::from_slice(frames[0]).unwrap();
    assert_eq!((item.item.id.as_str(), item.status), (bad.as_str(), 422));

    // Nothing listens: offline, for both calls.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let offline = SyncClient::new(format!("http://{closed}"), "pst_x".into(), 2).unwrap();
    assert!(matches!(
        offline.sync_bundle(verifier.clone(), None).unwrap(),
        BundleSync::Offline { .. }
    ));
    outbox.enqueue_scan(scan(&qr, 2)).unwrap();
    assert!(matches!(
        offline.upload(outbox.clone(), 10).unwrap().outcome,
        UploadOutcome::Offline { .. }
    ));
    assert_eq!(outbox.pending_count(), 1);

    // A path the server does not have: a server error with its status.
    let wrong = SyncClient::new(
        format!("{}/nothing-here", server.url()),
        server.officer.clone(),
        5,
    )
    .unwrap();
    assert_eq!(
        wrong.sync_bundle(verifier.clone(), None).unwrap(),
        BundleSync::ServerError { status: 404 }
    );
    assert!(!verifier.has_bundle());
}

// ---------------------------------------------------------------------------------------
// Over TLS: the server behind a TLS-terminating proxy, as deployed.

/// A TLS 1.3 proxy in front of the test server, with a CA and a certificate for `localhost`
/// made for this run. It counts the connections it accepts and can drop them all at once
/// (as a proxy does with idle connections).
struct TlsFront {
    addr: SocketAddr,
    ca: Vec<u8>,
    accepted: Arc<AtomicUsize>,
    drop_all: tokio::sync::watch::Sender<u64>,
}

impl TlsFront {
    fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.addr.port())
    }

    fn drop_connections(&self) {
        self.drop_all.send_modify(|n| *n += 1);
    }
}

impl Server {
    fn tls_front(&self) -> TlsFront {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "permitseal test CA");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::from_params(&ca_params, &ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf.der().clone(), ca.der().clone()],
                rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
            )
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let backend = self.addr;
        let accepted = Arc::new(AtomicUsize::new(0));
        let (drop_all, watch) = tokio::sync::watch::channel(0u64);
        let listener = self
            ._rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let count = accepted.clone();
        self._rt.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let acceptor = acceptor.clone();
                let mut stop = watch.clone();
                stop.mark_unchanged();
                tokio::spawn(async move {
                    // A refused handshake (an untrusting client) just ends the connection.
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut plain = tokio::net::TcpStream::connect(backend).await.unwrap();
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut tls, &mut plain) => {}
                        _ = stop.changed() => {}
                    }
                });
            }
        });
        TlsFront {
            addr,
            ca: ca.der().to_vec(),
            accepted,
            drop_all,
        }
    }
}

#[test]
fn sync_over_tls_with_a_pinned_ca_reuses_one_connection() {
    let server = Server::start();
    let front = server.tls_front();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let qr = server.issue("KE/2026/0003");
    let client = SyncClient::with_certificate_authorities(
        front.url("localhost"),
        server.officer.clone(),
        10,
        vec![front.ca.clone()],
    )
    .unwrap();

    let etag = match client.sync_bundle(verifier.clone(), None).unwrap() {
        BundleSync::Updated { etag, load, .. } => {
            assert_eq!(load, BundleLoad::Installed);
            etag.unwrap()
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(
        verifier.verify(qr.clone(), Language::En).unwrap().verdict,
        VerdictKind::Valid
    );
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    let mut ids: Vec<String> = (0..6)
        .map(|i| outbox.enqueue_scan(scan(&qr, i)).unwrap())
        .collect();
    // Six batches of one and the bundle check: one TLS connection, kept alive.
    let report = client.upload(outbox.clone(), 1).unwrap();
    assert_eq!((report.outcome, report.uploaded), (UploadOutcome::Done, 6));
    assert_eq!(
        client
            .sync_bundle(verifier.clone(), Some(etag.clone()))
            .unwrap(),
        BundleSync::UpToDate
    );
    assert_eq!(front.accepted.load(Ordering::SeqCst), 1);

    // The proxy drops its idle connections: the next call notices before any answer and
    // goes again on a new connection, and nothing is lost or doubled.
    front.drop_connections();
    std::thread::sleep(Duration::from_millis(100));
    ids.extend((6..9).map(|i| outbox.enqueue_scan(scan(&qr, i)).unwrap()));
    let report = client.upload(outbox.clone(), 10).unwrap();
    assert_eq!((report.outcome, report.uploaded), (UploadOutcome::Done, 3));
    assert_eq!(front.accepted.load(Ordering::SeqCst), 2);
    server.assert_each_stored_once(&ids, &qr);
}

#[test]
fn a_server_the_phone_cannot_authenticate_is_offline_not_trusted() {
    let server = Server::start();
    let front = server.tls_front();
    let verifier = Verifier::new(vec![server.root_key()]).unwrap();
    let offline_reason =
        |client: Arc<SyncClient>| match client.sync_bundle(verifier.clone(), None).unwrap() {
            BundleSync::Offline { reason } => reason,
            other => panic!("{other:?}"),
        };

    // The public web roots do not include the test CA (an interception proxy looks alike).
    let public = SyncClient::new(front.url("localhost"), server.officer.clone(), 5).unwrap();
    let reason = offline_reason(public);
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    // The right CA, but the certificate is for `localhost`, not `127.0.0.1`.
    let pinned = |host: &str| {
        SyncClient::with_certificate_authorities(
            front.url(host),
            server.officer.clone(),
            5,
            vec![front.ca.clone()],
        )
        .unwrap()
    };
    let reason = offline_reason(pinned("127.0.0.1"));
    assert!(reason.contains("not valid for name"), "{reason}");
    // Plain HTTP to the TLS port: the proxy's refusal is not mistaken for an answer.
    let plain = SyncClient::new(
        format!("http://127.0.0.1:{}", front.addr.port()),
        server.officer.clone(),
        5,
    )
    .unwrap();
    assert!(matches!(
        plain.sync_bundle(verifier.clone(), None).unwrap(),
        BundleSync::Offline { .. }
    ));
    assert!(!verifier.has_bundle());
    // A CA list that is not a certificate is refused when the client is made.
    let bad = SyncClient::with_certificate_authorities(
        front.url("localhost"),
        server.officer.clone(),
        5,
        vec![b"not a certificate".to_vec()],
    );
    assert!(
        matches!(bad, Err(SdkFailure::InvalidInput { .. })),
        "{bad:?}"
    );
    assert!(matches!(
        SyncClient::with_certificate_authorities(front.url("localhost"), "t".into(), 5, vec![]),
        Err(SdkFailure::InvalidInput { .. })
    ));
}

/// A server that accepts connections and never answers (a black-holed network, a stuck
/// proxy): every call ends by its timeout as `Offline`, over plain HTTP and in the TLS handshake.
#[test]
fn a_server_that_never_answers_is_offline_after_the_timeout() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut open = Vec::new();
        for conn in silent.incoming().take(2) {
            open.push(conn.unwrap());
        }
        std::thread::sleep(Duration::from_secs(4));
    });
    // Any valid root key: the Ed25519 base point.
    let mut base_point = vec![0x66u8; 32];
    base_point[0] = 0x58;
    let verifier = Verifier::new(vec![base_point]).unwrap();
    for url in [
        format!("http://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
    ] {
        let client = SyncClient::new(url.clone(), "pst_x".into(), 1).unwrap();
        let start = Instant::now();
        let result = client.sync_bundle(verifier.clone(), None).unwrap();
        let took = start.elapsed();
        match result {
            BundleSync::Offline { reason } => {
                assert!(reason.contains("timed out"), "{url}: {reason}")
            }
            other => panic!("{url}: {other:?}"),
        }
        assert!(took < Duration::from_secs(3), "{url}: {took:?}");
    }
    held.join().unwrap();
}

// ---------------------------------------------------------------------------------------
// One contract for field reports.

/// Each report is recorded on the phone and, whatever the phone said, also posted as the
/// phone would send it to the server: whatever the server refuses the phone refused when the
/// officer recorded it (a fast clock's report among them), and whatever the phone queued the
/// server stores.
#[test]
fn the_phone_refuses_at_record_time_what_the_server_would_refuse() {
    use permitseal_mobile::outbox::report::{endorsement_wire, scan_wire};
    let server = Server::start();
    let qr = server.issue("KE/2026/0009");
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::open(outbox_dir(dir.path())).unwrap();
    let now = clock::now();
    let hour = 3600;
    let scans: Vec<(&str, ScanReport)> = vec![
        ("good", scan(&qr, 0)),
        (
            "23 h ahead",
            ScanReport {
                scanned_at: now + 23 * hour,
                ..scan(&qr, 0)
            },
        ),
        (
            "25 h ahead",
            ScanReport {
                scanned_at: now + 25 * hour,
                ..scan(&qr, 0)
            },
        ),
        (
            "a year ahead",
            ScanReport {
                scanned_at: now + 365 * 24 * hour,
                ..scan(&qr, 0)
            },
        ),
        (
            "1999",
            ScanReport {
                scanned_at: 946_684_799,
                ..scan(&qr, 0)
            },
        ),
        (
            "unassigned country",
            ScanReport {
                place: Place::Locode {
                    code: "XXMBA".into(),
                },
                ..scan(&qr, 0)
            },
        ),
        (
            "latitude",
            ScanReport {
                place: Place::Coordinates {
                    latitude: 90.5,
                    longitude: 0.0,
                },
                ..scan(&qr, 0)
            },
        ),
        (
            "coordinates",
            ScanReport {
                place: Place::Coordinates {
                    latitude: -4.05,
                    longitude: 39.66,
                },
                ..scan(&qr, 0)
            },
        ),
        (
            "long device id",
            ScanReport {
                device_id: "d".repeat(65),
                ..scan(&qr, 0)
            },
        ),
        (
            "long officer",
            ScanReport {
                officer_id: Some("o".repeat(101)),
                ..scan(&qr, 0)
            },
        ),
        (
            "control character",
            ScanReport {
                officer_id: Some("a\tb".into()),
                ..scan(&qr, 0)
            },
        ),
        (
            "empty qr",
            ScanReport {
                qr_text: String::new(),
                ..scan(&qr, 0)
            },
        ),
        (
            "long qr",
            ScanReport {
                qr_text: "A".repeat(4297),
                ..scan(&qr, 0)
            },
        ),
    ];
    let mut refused_by_both = 0;
    for (i, (name, report)) in scans.into_iter().enumerate() {
        let id = format!("contract-scan-{i}");
        let phone = outbox.enqueue_scan(report.clone());
        let (status, answer) = server.call(
            "POST",
            "/api/v1/scans",
            &server.officer,
            Some(json!({ "scans": [scan_wire(&id, &report)] })),
        );
        match (&phone, status) {
            (Ok(_), 200) => assert_eq!(answer["accepted"], 1, "{name}: {answer}"),
            (Err(SdkFailure::InvalidInput { .. }), 422) => refused_by_both += 1,
            _ => panic!("{name}: phone {phone:?}, server {status} {answer}"),
        }
    }
    assert_eq!(refused_by_both, 10);

    let endorsement = |lines: &[(&str, &str)], at: i64| ExportEndorsement {
        qr_text: qr.clone(),
        lines: lines
            .iter()
            .map(|(b, q)| EndorsedLine {
                block: (*b).into(),
                quantity: (*q).into(),
            })
            .collect(),
        port: "KEMBA".into(),
        transport_document: None,
        endorsed_at: at,
        device_id: "test-device".into(),
        officer_id: None,
    };
    let cases = [
        (
            "25 h ahead",
            endorsement(&[("A", "1")], now + 25 * hour),
            false,
        ),
        (
            "repeated block",
            endorsement(&[("A", "1"), ("A", "2")], now),
            false,
        ),
        (
            "seven decimals",
            endorsement(&[("A", "0.0000001")], now),
            false,
        ),
        ("good", endorsement(&[("A", "12.50")], now - 60), true),
    ];
    for (i, (name, e, ok)) in cases.into_iter().enumerate() {
        let phone = outbox.enqueue_endorsement(e.clone());
        let (status, answer) = server.call(
            "POST",
            "/api/v1/endorsements",
            &server.officer,
            Some(json!({ "endorsements": [endorsement_wire(&format!("contract-e-{i}"), &e)] })),
        );
        assert_eq!(
            (phone.is_ok(), status == 200),
            (ok, ok),
            "{name}: {phone:?} {answer}"
        );
        if !ok {
            assert_eq!(status, 422, "{name}: {answer}");
        }
    }
    // The phone queued exactly what it accepted, and all of it uploads.
    assert_eq!(outbox.pending_count(), 4);
    let report = server.client(&server.officer).upload(outbox, 10).unwrap();
    assert_eq!((report.uploaded, report.rejected), (4, 0));
}

// ---------------------------------------------------------------------------------------
// Killed mid-upload.

const CHILD_ENV: &str = "PERMITSEAL_TEST_UPLOAD_CHILD";

/// Child: uploads the outbox in `dir` to `url` one item per request, then says so.
#[test]
fn child_upload() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.splitn(3, '\n');
    let (dir, url, token) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let outbox = Outbox::open(dir.into()).unwrap();
    let client = SyncClient::new(url.into(), token.into(), 10).unwrap();
    println!("\nSTARTED {}", outbox.pending_count());
    let report = client.upload(outbox, 1).unwrap();
    println!("DONE {report:?}");
}

#[test]
fn sigkill_mid_upload_loses_nothing_and_doubles_nothing_on_the_server() {
    let server = Server::start();
    let qr = server.issue("KE/2026/0003");
    let dir = tempfile::tempdir().unwrap();
    let path = outbox_dir(dir.path());
    let total = 120;
    let ids: Vec<String> = {
        let outbox = Outbox::open(path.clone()).unwrap();
        (0..total)
            .map(|i| outbox.enqueue_scan(scan(&qr, i)).unwrap())
            .collect()
    };
    let exe = std::env::current_exe().unwrap();
    let spec = format!("{path}\n{}\n{}", server.url(), server.officer);
    let acks = Path::new(&path).join("acks.log");
    // One acknowledgement frame: 8 bytes of header and a 36-character id.
    let acked = || std::fs::metadata(&acks).map_or(0, |m| m.len()) / 44;
    let mut remaining = total as u64;
    for more in [10u64, 25, 40] {
        let before = acked();
        let mut child = Command::new(&exe)
            .args([
                "child_upload",
                "--exact",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD_ENV, &spec)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Let the child get `more` items acknowledged, then kill it wherever it is: inside a
        // request, waiting for an answer, or writing an acknowledgement.
        let start = Instant::now();
        while acked() < before + more {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the child makes no progress"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        child.kill().unwrap(); // SIGKILL
        let out = BufReader::new(child.stdout.take().unwrap());
        let finished = out.lines().any(|l| l.unwrap().starts_with("DONE"));
        child.wait().unwrap();
        assert!(!finished, "the child finished before it was killed");
        let left = Outbox::open(path.clone()).unwrap().pending_count();
        assert!(
            left <= remaining - more,
            "{left} left after {more} more acknowledged"
        );
        assert!(left > 0);
        remaining = left;
    }

    // Restart: the rest goes up.
    let outbox = Outbox::open(path).unwrap();
    let report = server
        .client(&server.officer)
        .upload(outbox.clone(), 7)
        .unwrap();
    assert_eq!(report.outcome, UploadOutcome::Done);
    assert_eq!(report.uploaded, remaining);
    assert_eq!(outbox.pending_count(), 0);

    server.assert_each_stored_once(&ids, &qr);
}
