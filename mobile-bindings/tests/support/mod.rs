//! The real permitseal server, started in-process on port 0 over SQLite in a temporary
//! directory, and what the sync tests do with it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use permitseal_mobile::{
    HttpTransport, Outbox, Place, RustTransport, ScanReport, SyncClient, UploadOutcome,
    VerdictKind, clock,
};
use permitseal_server::model::{AuthorityId, CountryCode, Role};
use permitseal_server::startup::{MasterKeySource, ServeConfig};
use permitseal_server::storage::DatabaseTarget;
use permitseal_server::storage::tokens::TokenScope;
use serde_json::{Value, json};

/// A running server and what the demo data made.
pub struct Server {
    pub addr: SocketAddr,
    pub officer: String,
    /// A second officer's device token, labelled, for device-key enrolment.
    pub device_officer: String,
    pub issuer: String,
    pub rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Server {
    pub fn start() -> Server {
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
            verify_url: permitseal_server::state::DEFAULT_VERIFY_URL.to_owned(),
            clock: permitseal_server::clock::Clock::system(),
            secure_cookies: false,
        };
        let (addr, officer, device_officer, issuer) = rt.block_on(async {
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
            let token = |role, authority, country, label: &'static str| {
                let scope = TokenScope::new(role, authority, country).unwrap();
                async move {
                    let (_, minted) = db.create_token("test", &scope, label, t).await.unwrap();
                    minted.secret.as_str().to_string()
                }
            };
            let officer = token(Role::Officer, None, Some(country.clone()), "test").await;
            let device_officer = token(
                Role::Officer,
                None,
                Some(country.clone()),
                "enrolled handset",
            )
            .await;
            let issuer = token(Role::Issuer, Some(id.clone()), None, "test").await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            tokio::spawn(permitseal_server::launch(
                listener,
                state.clone(),
                std::future::pending(),
            ));
            (addr, officer, device_officer, issuer)
        });
        Server {
            addr,
            officer,
            device_officer,
            issuer,
            rt,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self, token: &str) -> Arc<SyncClient> {
        SyncClient::new(self.url(), token.into(), 10, rust()).unwrap()
    }

    /// A JSON call with ureq (the server's own API, for set-up and checks).
    pub fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> (u16, Value) {
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
    pub fn assert_each_stored_once(&self, ids: &[String], qr: &str) {
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

    /// The permit's usage history as its issuing authority sees it (`POST /api/v1/verify`).
    pub fn usage(&self, qr: &str) -> Value {
        let (status, v) = self.call(
            "POST",
            "/api/v1/verify",
            &self.issuer,
            Some(json!({"qr": qr})),
        );
        assert_eq!(status, 200, "{v}");
        v["usage"].clone()
    }

    /// Every endorsement of the permit in `ids` is shown as signed by `key_id` through the
    /// enrolled device token.
    pub fn assert_signed(&self, qr: &str, ids: &[String], key_id: &str) {
        let usage = self.usage(qr);
        for id in ids {
            let found = ["scans", "endorsements"]
                .iter()
                .flat_map(|k| usage[*k].as_array().cloned().unwrap_or_default())
                .find(|r| r["id"] == id.as_str())
                .unwrap_or_else(|| panic!("{id} not in the usage history: {usage}"));
            assert_eq!(found["device_key_id"], key_id, "{found}");
            assert_eq!(found["signature_verified"], true, "{found}");
            assert_eq!(found["token_label"], "enrolled handset", "{found}");
        }
    }

    pub fn root_key(&self) -> Vec<u8> {
        let (status, v) = self.call("GET", "/api/v1/trust/root-key", "", None);
        assert_eq!(status, 200, "{v}");
        base64::engine::general_purpose::STANDARD
            .decode(v["public_key"].as_str().unwrap())
            .unwrap()
    }

    /// Issues an export permit and returns its QR text.
    pub fn issue(&self, number: &str) -> String {
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

/// The Rust transport, trusting the public web roots.
pub fn rust() -> Arc<dyn HttpTransport> {
    RustTransport::new().unwrap()
}

/// Three months from now, as the issuer writes it.
pub fn valid_until() -> String {
    let d = verifier_core::date::Date::from_unix(clock::now()).add_days(90);
    d.to_string()
}

pub fn scan(qr: &str, i: i64) -> ScanReport {
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

pub fn outbox_dir(dir: &Path) -> String {
    dir.join("outbox").to_str().unwrap().to_string()
}

/// Queues `total` scans, then for each of `kills` starts an uploading child (`child(outbox
/// directory)`, which prints `DONE` when it finishes), lets it get that many more items
/// acknowledged and SIGKILLs it wherever it is: inside a request, waiting for an answer, or
/// writing an acknowledgement. Then uploads the rest and checks that every item is on the
/// server exactly once.
pub fn kill_mid_upload(
    server: &Server,
    total: i64,
    kills: &[u64],
    child: &dyn Fn(&str) -> Command,
) {
    let qr = server.issue("KE/2026/0003");
    let dir = tempfile::tempdir().unwrap();
    let path = outbox_dir(dir.path());
    let ids: Vec<String> = {
        let outbox = Outbox::open(path.clone()).unwrap();
        (0..total)
            .map(|i| outbox.enqueue_scan(scan(&qr, i)).unwrap())
            .collect()
    };
    let acks = Path::new(&path).join("acks.log");
    // One acknowledgement frame: 8 bytes of header and a 36-character id.
    let acked = || std::fs::metadata(&acks).map_or(0, |m| m.len()) / 44;
    let mut remaining = total as u64;
    for &more in kills {
        let before = acked();
        let mut running = child(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while acked() < before + more {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the child makes no progress"
            );
            std::thread::sleep(Duration::from_micros(500));
        }
        running.kill().unwrap(); // SIGKILL
        let out = BufReader::new(running.stdout.take().unwrap());
        let finished = out.lines().any(|l| l.unwrap().starts_with("DONE"));
        running.wait().unwrap();
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

/// A TLS 1.3 proxy in front of the test server, with a CA and a certificate for `localhost`
/// made for this run. It counts the connections it accepts and can drop them all at once
/// (as a proxy does with idle connections).
pub struct TlsFront {
    pub addr: SocketAddr,
    pub ca: Vec<u8>,
    pub accepted: Arc<AtomicUsize>,
    drop_all: tokio::sync::watch::Sender<u64>,
}

impl TlsFront {
    pub fn url(&self, host: &str) -> String {
        format!("https://{host}:{}", self.addr.port())
    }

    pub fn drop_connections(&self) {
        self.drop_all.send_modify(|n| *n += 1);
    }
}

impl Server {
    pub fn tls_front(&self) -> TlsFront {
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
            .rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let count = accepted.clone();
        self.rt.spawn(async move {
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
