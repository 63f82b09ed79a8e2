//! Harness for the end-to-end field stories: a real `permitseal` process on its own SQLite
//! directory or PostgreSQL database, its command line, its HTTP API, and phones built from the
//! mobile SDK's Rust API. Nothing here reaches into the server's internals.
//!
//! Every step logs one line (`[story | backend] …`) so a person can follow a run with
//! `cargo test -p permitseal-e2e -- --nocapture`.

// A failed step is a failed test: the harness panics with the reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use permitseal_mobile::{
    BundleSync, CheckpointKind, EndorsedLine, ExportEndorsement, Language, Outbox, Place,
    RustTransport, ScanReport, SdkFailure, SyncClient, UploadReport, VerdictKind,
    VerificationResult, Verifier,
};
use serde_json::{Value, json};

/// Which database a story runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An SQLite file in the deployment's data directory.
    Sqlite,
    /// A fresh database on the PostgreSQL at `PERMITSEAL_TEST_PG`.
    Postgres,
}

/// Runs each story function `fn name(Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() { super::$name($crate::Backend::Sqlite) } )*
        }
        mod postgres {
            $( #[test] fn $name() { super::$name($crate::Backend::Postgres) } )*
        }
    };
}

/// The story being told, for the step log.
#[derive(Clone)]
pub struct Story {
    name: String,
}

impl Story {
    /// Starts the log of a story.
    pub fn new(name: &str, backend: Backend) -> Story {
        let b = match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        };
        Story {
            name: format!("{name} | {b}"),
        }
    }

    /// Logs one step.
    pub fn step(&self, text: impl AsRef<str>) {
        println!("[{}] {}", self.name, text.as_ref());
    }
}

/// Unix seconds now.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn random_hex(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    getrandom::fill(&mut raw).unwrap();
    hex::encode(raw)
}

/// The `permitseal` binary of this build: built by `cargo test --workspace` beside the test
/// executables (`target/<profile>/permitseal`); built on demand when a story runs alone.
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf();
    let bin = profile_dir.join("permitseal");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "-p", "permitseal-server", "--bin", "permitseal"])
            .status()
            .unwrap();
        assert!(status.success(), "building the permitseal binary failed");
    }
    bin
}

fn postgres_admin_url() -> String {
    std::env::var("PERMITSEAL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg(postgres_admin_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql must be installed: PostgreSQL stories do not skip");
    assert!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One deployment: a data directory, a database, a master key and (when started) a server
/// process listening on a fixed loopback port that survives restarts.
pub struct Deployment {
    /// The story log.
    pub story: Story,
    dir: tempfile::TempDir,
    database_url: Option<String>,
    pg_name: Option<String>,
    master_key: String,
    server: Option<Child>,
    port: u16,
    /// The platform admin's token.
    pub admin: String,
}

/// File in the data directory holding the shift of the deployment's clock, in seconds.
const CLOCK_OFFSET_FILE: &str = "clock-offset";

impl Deployment {
    /// A new, empty deployment with an admin token minted on the command line, and its server
    /// started.
    pub fn start(story: &Story, backend: Backend) -> Deployment {
        Self::start_with_clock_offset(story, backend, 0)
    }

    /// As [`Deployment::start`], with the server's clock (and the command line's) shifted by
    /// `seconds` from the start, so that what it does first lies in the past.
    pub fn start_with_clock_offset(story: &Story, backend: Backend, seconds: i64) -> Deployment {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CLOCK_OFFSET_FILE), seconds.to_string()).unwrap();
        let (database_url, pg_name) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let name = format!("ps_e2e_{}", random_hex(6));
                psql(&format!("CREATE DATABASE {name}"));
                let admin = postgres_admin_url();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                (Some(format!("{base}/{name}")), Some(name))
            }
        };
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).unwrap();
        let mut d = Deployment {
            story: story.clone(),
            dir,
            database_url,
            pg_name,
            master_key: STANDARD.encode(raw),
            server: None,
            port: 0,
            admin: String::new(),
        };
        let out = d.cli(&[
            "token",
            "create",
            "--role",
            "admin",
            "--label",
            "e2e operator",
        ]);
        d.admin = out.lines().last().unwrap_or_default().trim().to_owned();
        assert!(!d.admin.is_empty(), "no admin token printed");
        story.step("operator minted an admin token with `permitseal token create`");
        d.boot();
        d
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(binary());
        cmd.env("PERMITSEAL_DATA_DIR", self.dir.path())
            .env("PERMITSEAL_MASTER_KEY", &self.master_key)
            .env("RUST_LOG", "warn")
            .env(
                "PERMITSEAL_CLOCK_OFFSET_FILE",
                self.dir.path().join(CLOCK_OFFSET_FILE),
            )
            .env_remove("DATABASE_URL")
            .env_remove("PERMITSEAL_LISTEN");
        if let Some(url) = &self.database_url {
            cmd.env("DATABASE_URL", url);
        }
        cmd
    }

    /// Shifts the clock of the running server and of later commands by `seconds` from the
    /// system clock: time-dependent steps set the time instead of waiting for it.
    pub fn set_clock_offset(&self, seconds: i64) {
        std::fs::write(self.dir.path().join(CLOCK_OFFSET_FILE), seconds.to_string()).unwrap();
    }

    /// Runs a `permitseal` subcommand against this deployment's data; returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.command().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "permitseal {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs a `permitseal` subcommand and returns (success, stdout, stderr).
    pub fn cli_raw(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.command().args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// A path inside the deployment's data directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn boot(&mut self) {
        let listen = format!("127.0.0.1:{}", self.port);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut child = self
                .command()
                .args(["serve", "--listen", &listen])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on http://").nth(1) {
                        let addr = rest.split_whitespace().next().unwrap_or("").to_owned();
                        let _ = tx.send(addr);
                    }
                }
            });
            match rx.recv_timeout(Duration::from_secs(20)) {
                Ok(addr) => {
                    self.port = addr.rsplit(':').next().unwrap().parse().unwrap();
                    self.server = Some(child);
                    self.story
                        .step(format!("server listening on 127.0.0.1:{}", self.port));
                    return;
                }
                Err(_) => {
                    // The port may still be held by the process just killed: try again.
                    let _ = child.kill();
                    let _ = child.wait();
                    assert!(
                        Instant::now() < deadline,
                        "server did not start on {listen}"
                    );
                    std::thread::sleep(Duration::from_millis(200));
                }
            }
        }
    }

    /// Kills the server with SIGKILL, as a power cut would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.server.take() {
            child.kill().unwrap();
            child.wait().unwrap();
            self.story.step("server killed (SIGKILL)");
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        self.boot();
    }

    /// The API base URL.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends a request; returns the status and the JSON body (`Null` when not JSON).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (status, bytes) = self.call_bytes(method, path, token, body);
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Sends a request; returns the status and the raw body.
    pub fn call_bytes(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Vec<u8>) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        let url = format!("{}{path}", self.base());
        let auth = token.map(|t| format!("Bearer {t}"));
        let mut resp = match (method, body) {
            ("GET", _) => {
                let mut r = agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            (_, body) => {
                let mut r = agent.post(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.send_json(body.unwrap_or_else(|| json!({})))
            }
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_vec()
            .unwrap();
        (status, bytes)
    }

    /// A request that must succeed (2xx); returns the JSON body.
    pub fn ok(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, token, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        v
    }

    /// Creates an authority as the admin; returns its id.
    pub fn create_authority(&self, country: &str, name: &str) -> String {
        let v = self.ok(
            "POST",
            "/api/v1/authorities",
            Some(&self.admin),
            Some(json!({"country": country, "name": name})),
        );
        self.story.step(format!(
            "admin created the Management Authority {name} ({country})"
        ));
        v["id"].as_str().unwrap().to_owned()
    }

    /// Mints a token as the admin; returns the secret.
    pub fn token(
        &self,
        role: &str,
        authority: Option<&str>,
        country: Option<&str>,
        label: &str,
    ) -> String {
        let v = self.ok(
            "POST",
            "/api/v1/tokens",
            Some(&self.admin),
            Some(json!({"role": role, "authority_id": authority, "country": country, "label": label})),
        );
        v["token"].as_str().unwrap().to_owned()
    }

    /// The deployment's root public key, as a phone pins it at enrolment.
    pub fn root_key(&self) -> Vec<u8> {
        let v = self.ok("GET", "/api/v1/trust/root-key", None, None);
        STANDARD.decode(v["public_key"].as_str().unwrap()).unwrap()
    }

    /// Every root key the deployment publishes now (two during a root rotation).
    pub fn root_keys(&self) -> Vec<Vec<u8>> {
        let v = self.ok("GET", "/api/v1/trust/root-key", None, None);
        v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| STANDARD.decode(k["public_key"].as_str().unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(name) = &self.pg_name {
            psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// An officer's phone: the SDK's verifier, a durable outbox in its own directory, and the sync
/// client with the device's token.
pub struct Phone {
    /// Who, for the log.
    pub name: String,
    /// The verifier.
    pub verifier: Arc<Verifier>,
    /// The durable outbox.
    pub outbox: Arc<Outbox>,
    client: Arc<SyncClient>,
    etag: Option<String>,
    _dir: tempfile::TempDir,
}

impl Phone {
    /// Enrols a phone: pins the deployment's root key and takes a device token.
    pub fn enrol(d: &Deployment, name: &str, token: &str) -> Phone {
        Phone::enrol_pinning(d, name, token, vec![d.root_key()])
    }

    /// Enrols a phone whose app pins the given root keys.
    pub fn enrol_pinning(d: &Deployment, name: &str, token: &str, roots: Vec<Vec<u8>>) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let verifier = Verifier::new(roots).unwrap();
        let outbox =
            Outbox::open(dir.path().join("outbox").to_string_lossy().into_owned()).unwrap();
        let client = SyncClient::new(
            d.base(),
            token.to_owned(),
            10,
            RustTransport::new().unwrap(),
        )
        .unwrap();
        d.story.step(format!(
            "{name}'s phone enrolled (root key pinned, device token set)"
        ));
        Phone {
            name: name.to_owned(),
            verifier,
            outbox,
            client,
            etag: None,
            _dir: dir,
        }
    }

    /// Downloads the bundle if it changed; panics unless the phone now holds a bundle.
    pub fn sync(&mut self, story: &Story) {
        match self
            .client
            .sync_bundle(self.verifier.clone(), self.etag.clone())
            .unwrap()
        {
            BundleSync::Updated { etag, .. } => {
                self.etag = etag;
                story.step(format!("{}'s phone synced a new bundle", self.name));
            }
            BundleSync::UpToDate => story.step(format!("{}'s phone: bundle up to date", self.name)),
            other => panic!("{}: sync failed: {other:?}", self.name),
        }
    }

    /// One bundle sync as the app sees it: the result, or the SDK's refusal of the bundle.
    pub fn try_sync(&mut self) -> Result<BundleSync, SdkFailure> {
        let r = self
            .client
            .sync_bundle(self.verifier.clone(), self.etag.clone());
        if let Ok(BundleSync::Updated { etag, .. }) = &r {
            self.etag = etag.clone();
        }
        r
    }

    /// Verifies offline at a given time and checkpoint.
    pub fn check(&self, qr: &str, at: i64, checkpoint: CheckpointKind) -> VerificationResult {
        self.verifier
            .verify_at(qr.to_owned(), at, checkpoint, Language::En)
            .unwrap()
    }

    /// Verifies offline at an export checkpoint now, and logs the verdict.
    pub fn scan(&self, story: &Story, qr: &str) -> VerificationResult {
        let v = self.check(qr, now(), CheckpointKind::Export);
        story.step(format!("{} scans: {}", self.name, describe(&v)));
        v
    }

    /// Queues a scan report.
    pub fn report_scan(&self, qr: &str, locode: &str, verdict: VerdictKind) -> String {
        self.outbox
            .enqueue_scan(ScanReport {
                qr_text: qr.to_owned(),
                scanned_at: now(),
                place: Place::Locode {
                    code: locode.to_owned(),
                },
                verdict,
                device_id: self.name.replace(' ', "-"),
                officer_id: Some(format!("officer of {}", self.name)),
            })
            .unwrap()
    }

    /// Queues an export endorsement of the given (block, quantity) lines.
    pub fn endorse(&self, qr: &str, port: &str, lines: &[(&str, &str)]) -> String {
        self.outbox
            .enqueue_endorsement(ExportEndorsement {
                qr_text: qr.to_owned(),
                lines: lines
                    .iter()
                    .map(|(b, q)| EndorsedLine {
                        block: (*b).to_owned(),
                        quantity: (*q).to_owned(),
                    })
                    .collect(),
                port: port.to_owned(),
                transport_document: Some("AWB 235-81234567".into()),
                endorsed_at: now(),
                device_id: self.name.replace(' ', "-"),
                officer_id: Some(format!("officer of {}", self.name)),
            })
            .unwrap()
    }

    /// Uploads the outbox.
    pub fn upload(&self, story: &Story) -> UploadReport {
        let r = self.client.upload(self.outbox.clone(), 10).unwrap();
        story.step(format!(
            "{} uploads its outbox: {:?}, {} acknowledged, {} pending",
            self.name,
            r.outcome,
            r.uploaded,
            self.outbox.pending_count()
        ));
        r
    }
}

/// One line for the log: the verdict and its reason codes.
pub fn describe(v: &VerificationResult) -> String {
    let codes: Vec<&str> = v.reasons.iter().map(|r| r.code.as_str()).collect();
    format!("{:?} {codes:?}", v.verdict)
}

/// The reason codes of a result.
pub fn codes(v: &VerificationResult) -> Vec<String> {
    v.reasons.iter().map(|r| r.code.clone()).collect()
}

/// A realistic Appendix II export: farmed Nile crocodile skins, South Africa to France.
pub fn croc_export(number: &str) -> Value {
    json!({
        "document_type": "export",
        "number": number,
        // Five months, not the six allowed: a story may sign an hour ago or with a server clock
        // behind, and just after midnight that is yesterday, whose six months end a day sooner.
        "valid_until": verifier_core::date::Date::from_unix(now()).add_months(5).to_string(),
        "purpose": "T",
        "security_stamp": "ZA0123456",
        "exporter": {"name": "Nile Crocodile Farming Pty Ltd", "country": "ZA",
                     "address": "Plot 14, Hartbeespoort, North West, South Africa"},
        "importer": {"name": "Tanneries du Puy Industrie SAS", "country": "FR",
                     "address": "12 rue des Tanneurs, 43000 Le Puy-en-Velay, France"},
        "lines": [{
            "scientific_name": "Crocodylus niloticus", "common_name": "Nile crocodile",
            "kingdom": "animal", "description": "Raw salted skins, tags ZA 2026 000001-000250",
            "term": "SKI", "appendix": "II", "source": "C", "quantity": 250
        }]
    })
}

/// The South African authority with a signing key, its clerk's token, and officers' and
/// importers' tokens: what most stories start from.
pub struct World {
    /// The deployment.
    pub d: Deployment,
    /// The South African authority's id.
    pub za: String,
    /// Its permit clerk.
    pub clerk: String,
    /// A South African officer's device token.
    pub officer_za: String,
    /// The French importing authority's token.
    pub importer_fr: String,
    /// A third country's (Germany's) importing authority token.
    pub importer_de: String,
}

impl World {
    /// Builds the world on a backend.
    pub fn new(story: &Story, backend: Backend) -> World {
        Self::with_clock_offset(story, backend, 0)
    }

    /// Builds the world on a deployment whose clock is shifted by `seconds`.
    pub fn with_clock_offset(story: &Story, backend: Backend, seconds: i64) -> World {
        let d = Deployment::start_with_clock_offset(story, backend, seconds);
        let za = d.create_authority(
            "ZA",
            "Department of Forestry, Fisheries and the Environment",
        );
        let clerk = d.token("issuer", Some(&za), None, "permit clerk, Pretoria");
        let officer_za = d.token("officer", None, Some("ZA"), "Durban port handhelds");
        let importer_fr = d.token(
            "importer",
            None,
            Some("FR"),
            "French CITES Management Authority",
        );
        let importer_de = d.token(
            "importer",
            None,
            Some("DE"),
            "German CITES Management Authority",
        );
        let key = d.ok(
            "POST",
            &format!("/api/v1/authorities/{za}/keys"),
            Some(&clerk),
            None,
        );
        story.step(format!(
            "the authority generated its signing key {}",
            key["kid"].as_str().unwrap_or("?")
        ));
        World {
            d,
            za,
            clerk,
            officer_za,
            importer_fr,
            importer_de,
        }
    }

    /// Issues a permit as the clerk; returns the server's view of it.
    pub fn issue(&self, draft: Value) -> Value {
        let v = self.d.ok(
            "POST",
            &format!("/api/v1/authorities/{}/permits", self.za),
            Some(&self.clerk),
            Some(json!({"permit": draft})),
        );
        self.d.story.step(format!(
            "clerk issued permit {} (status index {}, key {})",
            v["number"].as_str().unwrap_or("?"),
            v["status_index"],
            v["kid"].as_str().unwrap_or("?")
        ));
        v
    }

    /// The permit's URL path segment: its number without punctuation.
    pub fn permit_path(&self, number: &str) -> String {
        format!(
            "/api/v1/authorities/{}/permits/{}",
            self.za,
            verifier_core::permit::normalize_number(number)
        )
    }
}
