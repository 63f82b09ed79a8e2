//! Test harness: a real server on port 0 over a real database.
//!
//! SQLite runs in a temporary directory. PostgreSQL runs against the server at
//! `PERMITSEAL_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`): each test
//! creates its own database `ps_test_<random>` and drops it at the end. PostgreSQL tests do not
//! skip: if the server is not reachable they fail, saying so.

#![allow(dead_code)]
// Test helpers: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;

use permitseal_server::crypto::MasterKey;
use permitseal_server::model::{AuthorityId, CountryCode, Role};
use permitseal_server::startup::{MasterKeySource, ServeConfig};
use permitseal_server::storage::tokens::TokenScope;
use permitseal_server::storage::{DatabaseTarget, Db};
use permitseal_server::{AppState, launch, open_state};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named scenario `async fn name(Backend)` once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            )*
        }
    };
}

pub fn postgres_admin_url() -> String {
    std::env::var("PERMITSEAL_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn random_hex(n: usize) -> String {
    let mut raw = vec![0u8; n];
    getrandom::fill(&mut raw).unwrap();
    hex::encode(raw)
}

/// A database that lives as long as the test.
pub struct TestDb {
    pub target: DatabaseTarget,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn create(backend: Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        match backend {
            Backend::Sqlite => Self {
                target: DatabaseTarget::Sqlite(dir.path().join("permitseal.db")),
                dir,
                pg_name: None,
            },
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("ps_test_{}", random_hex(8));
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL tests need a server at {admin} (set PERMITSEAL_TEST_PG): {e}"
                    )
                });
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await
                    .unwrap();
                conn.close().await.unwrap();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
                Self {
                    target: DatabaseTarget::Postgres(format!("{base}/{name}")),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// A database this test does not create or drop (a private PostgreSQL cluster, say).
    pub fn existing(target: DatabaseTarget) -> Self {
        Self {
            target,
            dir: tempfile::tempdir().unwrap(),
            pg_name: None,
        }
    }

    pub fn url(&self) -> String {
        match &self.target {
            DatabaseTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseTarget::Postgres(url) => url.clone(),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime; use a thread with its own runtime.
        let admin = postgres_admin_url();
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// An HTTP client for the tests. reqwest is built without a TLS provider of its own (the
/// server gives its webhook client one explicitly), so the process-wide one is set first: ring,
/// as everywhere else.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A running server.
pub struct TestServer {
    pub backend: Backend,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    /// A platform admin token.
    pub admin: String,
    /// Direct handle on the server's database, for checks behind the API.
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    /// Set when the server is a `permitseal serve` process rather than a task of this test.
    process: Option<ServeProcess>,
    // Declared last: dropped after the server has stopped.
    pub db: TestDb,
}

/// The server's state over `db` (migrated) and a platform admin token minted in it.
async fn open_with_admin(db: &TestDb) -> (AppState, String) {
    let config = ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: db.dir.path().to_owned(),
        database: db.target.clone(),
        master_key: MasterKeySource::Text(zeroize::Zeroizing::new(master_key_text())),
        demo: false,
        verify_url: "https://permits.example.org/verify".to_owned(),
        secure_cookies: false,
        clock: permitseal_server::clock::Clock::shifted(0),
    };
    let (state, _notes) = open_state(&config).await.unwrap();
    let scope = TokenScope::new(Role::Admin, None, None).unwrap();
    let (_, minted) = state
        .db
        .create_token(
            "test",
            &scope,
            "test admin",
            permitseal_server::clock::Clock::system().now(),
        )
        .await
        .unwrap();
    (state, minted.secret.to_string())
}

/// A child `permitseal serve` process, killed (and reaped) when dropped.
struct ServeProcess(std::process::Child);

impl ServeProcess {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The file whose whole seconds shift the clock of `start_process` servers over `db`.
pub fn clock_offset_file(db: &TestDb) -> std::path::PathBuf {
    db.dir.path().join("clock-offset")
}

pub fn master_key_text() -> String {
    // A fixed test key: base64 of 32 bytes 0x2a.
    "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=".to_owned()
}

impl TestServer {
    pub async fn start(backend: Backend) -> Self {
        let db = TestDb::create(backend).await;
        Self::start_on(backend, db).await
    }

    pub async fn start_on(backend: Backend, db: TestDb) -> Self {
        let (state, admin) = open_with_admin(&db).await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(launch(listener, state.clone(), async move {
            let _ = rx.await;
        }));
        Self {
            backend,
            addr,
            client: http_client(),
            admin,
            state,
            shutdown: Some(tx),
            task: Some(task),
            process: None,
            db,
        }
    }

    /// A `permitseal serve` process (the real binary) on a free loopback port over `db`,
    /// answering `/readyz`. The test keeps its own handle on the database (`state`) and mints
    /// the admin token there. The process is killed when the server is stopped or dropped, so
    /// also when the test fails.
    pub async fn start_process(backend: Backend, db: TestDb) -> Self {
        Self::start_process_with(backend, db, &[]).await
    }

    /// [`Self::start_process`] with more arguments to `serve`.
    pub async fn start_process_with(backend: Backend, db: TestDb, args: &[&str]) -> Self {
        // Migrates the database before the process opens it.
        let (state, admin) = open_with_admin(&db).await;
        // A free port: bind port 0, read it back, release it for the process.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log_path = db.dir.path().join("serve.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_permitseal"))
            .args(["serve", "--listen", &addr.to_string()])
            .args(args)
            .env("DATABASE_URL", db.url())
            .env("PERMITSEAL_DATA_DIR", db.dir.path())
            .env("PERMITSEAL_MASTER_KEY", master_key_text())
            .env_remove("PERMITSEAL_MASTER_KEY_FILE")
            .env_remove("PERMITSEAL_LISTEN")
            // Absent, it reads as no shift; a test writes it to move the process's clock.
            .env("PERMITSEAL_CLOCK_OFFSET_FILE", clock_offset_file(&db))
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut process = ServeProcess(child);
        let client = http_client();
        let ready = format!("http://{addr}/readyz");
        for _ in 0..300 {
            if let Some(exit) = process.0.try_wait().unwrap() {
                panic!(
                    "permitseal serve exited with {exit}: {}",
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if let Ok(resp) = client.get(&ready).send().await
                && resp.status() == StatusCode::OK
            {
                return Self {
                    backend,
                    addr,
                    client,
                    admin,
                    state,
                    shutdown: None,
                    task: None,
                    process: Some(process),
                    db,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        process.kill();
        panic!(
            "permitseal serve not ready at {addr} after 30 s: {}",
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> TestDb {
        self.stop_inner().await;
        // Move the database out; `self` has nothing left to clean.
        std::mem::replace(
            &mut self.db,
            TestDb {
                target: DatabaseTarget::Sqlite("/nonexistent".into()),
                dir: tempfile::tempdir().unwrap(),
                pg_name: None,
            },
        )
    }

    async fn stop_inner(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{path}: {status} with a non-JSON body: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        if status.is_client_error() || status.is_server_error() {
            assert_error_shape(path, status, &value);
        }
        (status, value)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, token, Some(body))
            .await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PUT, path, token, Some(body))
            .await
    }

    pub async fn post_empty(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, token, None).await
    }

    pub async fn delete(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.call(reqwest::Method::DELETE, path, token, None).await
    }

    /// Sends raw bytes with a content type; returns status and parsed JSON body.
    pub async fn post_raw(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "{path}: {status} with a non-JSON body: {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        if !status.is_success() {
            assert_error_shape(path, status, &value);
        }
        (status, value)
    }

    /// Creates an authority through the API.
    pub async fn authority(&self, id: &str, country: &str) {
        let (status, body) = self
            .post(
                "/api/v1/authorities",
                Some(&self.admin),
                serde_json::json!({"id": id, "country": country, "name": format!("Authority {id}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Mints a token through the API.
    pub async fn token(
        &self,
        role: &str,
        authority: Option<&str>,
        country: Option<&str>,
    ) -> String {
        let (status, body) = self
            .post(
                "/api/v1/tokens",
                Some(&self.admin),
                serde_json::json!({"role": role, "authority_id": authority, "country": country, "label": format!("test {role}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    /// Mints a token directly in the database (like the CLI does).
    pub async fn direct_token(
        &self,
        role: Role,
        authority: Option<&str>,
        country: Option<&str>,
    ) -> String {
        let scope = TokenScope::new(
            role,
            authority.map(|a| AuthorityId::parse(a).unwrap()),
            country.map(|c| CountryCode::parse(c).unwrap()),
        )
        .unwrap();
        let (_, minted) = self
            .state
            .db
            .create_token(
                "test",
                &scope,
                "direct",
                permitseal_server::clock::Clock::system().now(),
            )
            .await
            .unwrap();
        minted.secret.to_string()
    }

    /// Number of audit events: every accepted change appends at least one.
    pub async fn audit_count(&self) -> i64 {
        count_rows(&self.state.db, "audit_events").await
    }
}

/// Rows in a table (test-only helper; the table name is a literal from the test).
pub async fn count_rows(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match db {
        Db::Sqlite { read, .. } => {
            let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(read)
                .await
                .unwrap();
            n
        }
        Db::Postgres(pool) => {
            let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(pool)
                .await
                .unwrap();
            n
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Every error answer is `{code, message}` with a snake_case code.
pub fn assert_error_shape(path: &str, status: StatusCode, body: &Value) {
    let code = body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("{path}: {status} without a code: {body}"));
    assert!(
        !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
        "{path}: code {code:?} is not snake_case"
    );
    assert!(
        body["message"].is_string(),
        "{path}: {status} without a message: {body}"
    );
}

/// A master key other than the test one.
pub fn other_master_key() -> MasterKey {
    MasterKey::generate().unwrap()
}

/// A valid one-line export permit draft from `exporter` to `importer`.
pub fn export_draft(number: &str, exporter: &str, importer: &str) -> Value {
    serde_json::json!({
        "document_type": "export", "number": number, "valid_until": valid_until(),
        "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": exporter},
        "importer": {"name": "Importer GmbH", "country": importer},
        "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
                   "appendix": "II", "source": "A", "quantity": "12.5", "unit": "KIL"}]
    })
}

/// A date about three months ahead (within every document type's validity limit).
pub fn valid_until() -> String {
    let now = permitseal_server::clock::Clock::system().now();
    verifier_core::date::Date::from_unix(now + 90 * 86_400).to_string()
}

/// Percent-encodes a permit number for a path segment.
pub fn enc(number: &str) -> String {
    number.replace('/', "%2F").replace(' ', "%20")
}

impl TestServer {
    /// Sets up authority `id` (country `id`) with a signing key and an issuer token.
    /// A new user of `authority` holding `roles`, created by the platform admin and logged in:
    /// the session token (also the portal's `ps_session` cookie).
    pub async fn user_session(&self, authority: &str, email: &str, roles: &[&str]) -> String {
        let password = "a long enough password";
        let (status, body) = self
            .post(
                &format!("/api/v1/authorities/{authority}/users"),
                Some(&self.admin),
                serde_json::json!({"email": email, "password": password, "name": email,
                                   "roles": roles}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let (status, body) = self
            .post(
                "/api/v1/sessions",
                None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn issuing_authority(&self, id: &str) -> String {
        self.authority(id, id).await;
        let issuer = self.token("issuer", Some(id), None).await;
        let (status, body) = self
            .post_empty(&format!("/api/v1/authorities/{id}/keys"), Some(&issuer))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        issuer
    }

    /// Issues a permit; returns the answer (with `qr_text`).
    pub async fn issue(&self, issuer: &str, authority: &str, draft: Value) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/v1/authorities/{authority}/permits"),
                Some(issuer),
                serde_json::json!({"permit": draft}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// GETs raw bytes with optional headers; returns status, headers, bytes.
    pub async fn get_bytes(
        &self,
        path: &str,
        token: Option<&str>,
        if_none_match: Option<&str>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(tag) = if_none_match {
            req = req.header("if-none-match", tag);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        (status, headers, resp.bytes().await.unwrap().to_vec())
    }

    /// The pinned root key, the verified trust list and every status list, as a phone would
    /// have them after a sync (through the bundle endpoint, status format 2 and container 2 as
    /// the SDK asks).
    pub async fn phone_sync(
        &self,
    ) -> (
        verifier_core::trust::TrustList,
        verifier_core::status::StatusSet,
    ) {
        self.phone_sync_from("/api/v1/bundle?format=2&container=2")
            .await
    }

    /// As [`TestServer::phone_sync`], from a given bundle path (`/api/v1/bundle` is what a
    /// reader of status format 1 fetches).
    pub async fn phone_sync_from(
        &self,
        path: &str,
    ) -> (
        verifier_core::trust::TrustList,
        verifier_core::status::StatusSet,
    ) {
        use base64::Engine as _;
        let (_, root) = self.get("/api/v1/trust/root-key", None).await;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(root["public_key"].as_str().unwrap())
            .unwrap();
        let root = verifier_core::keys::PublicKey::from_bytes(&raw.try_into().unwrap()).unwrap();
        let (status, _, bytes) = self.get_bytes(path, None, None).await;
        assert_eq!(status, StatusCode::OK);
        let bundle = verifier_core::bundle::Bundle::from_bytes(&bytes, &[root]).unwrap();
        (bundle.trust, bundle.status)
    }

    /// The offline verdict a phone would give right now.
    pub async fn phone_verify(&self, qr: &str) -> verifier_core::Verification {
        let (trust, status) = self.phone_sync().await;
        verifier_core::verify(
            qr,
            permitseal_server::clock::Clock::system().now(),
            &trust,
            &status,
        )
    }
}
