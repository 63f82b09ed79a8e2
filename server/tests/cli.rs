//! The `permitseal` binary itself: operator bootstrap commands on the database, and `serve --demo`
//! as a newcomer would run it (prints where it listens, writes demo tokens, stops on SIGTERM).

// Scenarios run as tests through `on_both_backends!`: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Backend, TestDb, TestServer};
use reqwest::StatusCode;

on_both_backends!(
    operator_bootstraps_without_http,
    serve_demo_then_sigterm,
    serve_creates_a_private_data_directory,
    slow_and_idle_clients_hold_nothing,
    issue_on_the_command_line_and_verify_offline_at_a_desk,
    root_key_rotation_keeps_phones_working,
    taxa_import_on_the_command_line,
);

fn permitseal(db: &TestDb) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_permitseal"));
    cmd.env("DATABASE_URL", db.url())
        .env("PERMITSEAL_DATA_DIR", db.dir.path())
        .env_remove("PERMITSEAL_MASTER_KEY")
        .env_remove("PERMITSEAL_MASTER_KEY_FILE")
        .env_remove("PERMITSEAL_LISTEN");
    cmd
}

async fn operator_bootstraps_without_http(backend: Backend) {
    let db = TestDb::create(backend).await;
    let out = permitseal(&db)
        .args([
            "authority",
            "create",
            "--country",
            "ke",
            "--name",
            "Kenya MA",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let authority: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(authority["id"], "KE");

    let out = permitseal(&db)
        .args([
            "token",
            "create",
            "--role",
            "issuer",
            "--authority",
            "KE",
            "--label",
            "ops",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(token.starts_with("pst_"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(&token));

    // Refusals: bad scope, unknown authority, duplicate authority.
    for args in [
        &["token", "create", "--role", "issuer"][..],
        &["token", "create", "--role", "issuer", "--authority", "ZZ"][..],
        &["authority", "create", "--country", "KE", "--name", "again"][..],
        &["authority", "create", "--country", "KEN", "--name", "bad"][..],
    ] {
        let out = permitseal(&db).args(args).output().unwrap();
        assert!(!out.status.success(), "{args:?} should fail");
        assert!(out.stdout.is_empty(), "{args:?} printed a token");
    }

    // The token works against a server on the same database.
    let s = TestServer::start_on(backend, db).await;
    let (status, me) = s.get("/api/v1/whoami", Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "issuer");
    assert_eq!(me["authority_id"], "KE");
    s.stop().await;
}

/// Starts `cmd` (a `serve`), waits until it prints where it listens, and returns the child, the
/// address and what it printed up to then.
fn spawn_serve(cmd: &mut Command) -> (std::process::Child, String, Vec<String>) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            all.push(line.clone());
            if let Some(rest) = line.strip_prefix("permitseal listening on http://") {
                let addr = rest
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let _ = tx.send((addr, all.clone()));
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok((addr, lines)) => (child, addr, lines),
        Err(_) => {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "serve did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Sends SIGTERM and expects a graceful stop; returns what the server logged.
fn sigterm(mut child: std::process::Child) -> String {
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    stderr
}

async fn serve_demo_then_sigterm(backend: Backend) {
    let db = TestDb::create(backend).await;
    let (child, addr, lines) =
        spawn_serve(permitseal(&db).args(["serve", "--demo", "--listen", "127.0.0.1:0"]));
    let text = lines.join("\n");
    assert!(text.contains("generated a master key"), "{text}");
    assert!(text.contains("demo-tokens.env"), "{text}");

    let tokens = std::fs::read_to_string(db.dir.path().join("demo-tokens.env")).unwrap();
    let admin = tokens
        .lines()
        .find_map(|l| l.strip_prefix("export PERMITSEAL_ADMIN_TOKEN="))
        .unwrap()
        .to_owned();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        for file in ["demo-tokens.env", "master.key"] {
            let mode = std::fs::metadata(db.dir.path().join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
    }
    let client = common::http_client();
    let resp = client
        .get(format!("http://{addr}/api/v1/authorities/KE/keys"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let keys: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(keys["keys"][0]["status"], "active");

    // SIGTERM: graceful stop with exit status 0.
    let stderr = sigterm(child);
    assert!(!stderr.contains(&admin), "a token reached the log");
    let master = std::fs::read_to_string(db.dir.path().join("master.key")).unwrap();
    assert!(
        !stderr.contains(master.trim()),
        "the master key reached the log"
    );

    // A second start reuses the master key and the demo data.
    let out = permitseal(&db)
        .args(["token", "create", "--role", "officer", "--country", "KE"])
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// An operator who keeps the master key elsewhere starts a demo into a data directory that does
/// not exist yet: the server creates it, readable by its own user only, and the database files
/// too.
async fn serve_creates_a_private_data_directory(backend: Backend) {
    let db = TestDb::create(backend).await;
    let key_file = db.dir.path().join("operator.key");
    // base64 of 32 bytes, as `openssl rand -base64 32` writes it.
    std::fs::write(&key_file, "q83vASNFZ4mrze8BI0VniavN7wEjRWeJq83vASNFZ4k=\n").unwrap();
    let data = db.dir.path().join("new").join("data");
    let mut cmd = permitseal(&db);
    cmd.env("PERMITSEAL_DATA_DIR", &data);
    if backend == Backend::Sqlite {
        cmd.env_remove("DATABASE_URL");
    }
    cmd.args([
        "serve",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--master-key-file",
    ])
    .arg(&key_file);
    let (child, addr, _) = spawn_serve(&mut cmd);
    let ready = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    assert!(data.join("demo-tokens.env").exists());
    sigterm(child);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700, "data directory");
        // Secrets and the database; the sample drafts are ordinary files in the private
        // directory.
        let mut private = vec!["demo-tokens.env".to_owned()];
        if backend == Backend::Sqlite {
            assert!(data.join("permitseal.db").exists());
            for entry in std::fs::read_dir(&data).unwrap() {
                let name = entry.unwrap().file_name().to_string_lossy().into_owned();
                if name.starts_with("permitseal.db") {
                    private.push(name);
                }
            }
        }
        for name in private {
            assert_eq!(mode(&data.join(&name)), 0o600, "{name}");
        }
    }
}

/// Reads from `stream` until the server closes it (or it errors); false if it is still open
/// after `within`.
fn closed_by_server(stream: &mut std::net::TcpStream, within: Duration) -> bool {
    use std::io::Read as _;
    stream.set_read_timeout(Some(within)).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            // A 408 or other answer before the close is fine: keep reading to the close.
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false;
            }
            Err(_) => return true,
        }
    }
}

/// A client that sends half a request head, or nothing, loses its connection after the header
/// timeout; connections beyond the cap are closed at once and the service recovers when they
/// go; and a stop is not held up by a half-sent request beyond the configured grace.
async fn slow_and_idle_clients_hold_nothing(backend: Backend) {
    use std::io::Write as _;
    use std::net::TcpStream;
    let db = TestDb::create(backend).await;
    let (child, addr, _) = spawn_serve(permitseal(&db).args([
        "serve",
        "--demo",
        "--listen",
        "127.0.0.1:0",
        "--header-timeout-secs",
        "1",
        "--max-connections",
        "8",
        "--shutdown-grace-secs",
        "1",
    ]));
    let connect = || TcpStream::connect(&addr).unwrap();

    // Half a head, and nothing at all: both closed after the 1 s header timeout.
    let mut half = connect();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut idle = connect();
    assert!(
        !closed_by_server(&mut half, Duration::from_millis(300)),
        "closed too early"
    );
    assert!(
        closed_by_server(&mut half, Duration::from_secs(5)),
        "half a head kept open"
    );
    assert!(
        closed_by_server(&mut idle, Duration::from_secs(5)),
        "idle connection kept open"
    );

    // A kept-alive connection after a complete request is closed too once idle.
    let mut kept = connect();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    assert!(
        closed_by_server(&mut kept, Duration::from_secs(5)),
        "kept-alive idle connection kept open"
    );

    // Eight open connections fill the cap: the ninth is closed at once.
    let mut held: Vec<TcpStream> = (0..8).map(|_| connect()).collect();
    // Each of the eight is answered, so all are accepted and counted before the ninth.
    for stream in &mut held {
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 12];
        std::io::Read::read_exact(stream, &mut buf).unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200");
    }
    let mut ninth = connect();
    assert!(
        closed_by_server(&mut ninth, Duration::from_millis(500)),
        "a connection beyond the cap was kept"
    );
    drop(held);
    // Once they are gone the service answers again, and counted the refusal.
    let mut text = String::new();
    for _ in 0..50 {
        if let Ok(resp) = reqwest::get(format!("http://{addr}/metrics")).await {
            text = resp.text().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // At least the ninth; a retry of this scrape before the server saw the eight close counts
    // too.
    let refused: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("permitseal_http_connections_refused_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(refused >= 1, "{text}");

    // A stop with a half-sent request open: done within the 1 s grace (plus the database
    // closing), not held until the client gives up.
    let mut stuck = connect();
    stuck
        .write_all(b"POST /api/v1/authorities HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = std::time::Instant::now();
    sigterm(child);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "stop took {:?}",
        started.elapsed()
    );
    drop(stuck);
}

async fn issue_on_the_command_line_and_verify_offline_at_a_desk(backend: Backend) {
    let db = TestDb::create(backend).await;
    let dir = db.dir.path().to_owned();
    let with_key = |cmd: &mut Command| {
        cmd.env("PERMITSEAL_MASTER_KEY", common::master_key_text());
    };
    let run = |args: &[&str]| {
        let mut cmd = permitseal(&db);
        with_key(&mut cmd);
        let out = cmd.args(args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, _, err) = run(&[
        "authority",
        "create",
        "--country",
        "KE",
        "--name",
        "Kenya MA",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = run(&["key", "generate", "--authority", "KE"]);
    assert!(ok, "{err}");
    assert!(!out.contains("seed"), "{out}");
    let draft = dir.join("draft.json");
    std::fs::write(
        &draft,
        common::export_draft("KE/CLI/1", "KE", "DE").to_string(),
    )
    .unwrap();
    let png = dir.join("qr.png");
    let (ok, out, err) = run(&[
        "permit",
        "issue",
        "--authority",
        "KE",
        "--file",
        draft.to_str().unwrap(),
        "--qr-png",
        png.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let issued: serde_json::Value = serde_json::from_str(&out).unwrap();
    let qr = issued["qr_text"].as_str().unwrap().to_owned();
    // The clerk's annual report of permits issued, from the database.
    let year =
        verifier_core::date::Date::from_unix(permitseal_server::clock::Clock::system().now())
            .ymd()
            .0
            .to_string();
    let (ok, out, err) = run(&[
        "report",
        "annual",
        "--authority",
        "KE",
        "--year",
        &year,
        "--basis",
        "permits",
    ]);
    assert!(ok, "{err}");
    assert_eq!(
        out.lines().nth(1),
        Some(format!("II,Aloe ferox,EXT,12.5,KIL,DE,,KE/CLI/1,,,T,A,{year}").as_str()),
        "{out}"
    );
    let (ok, _, err) = run(&["report", "annual", "--authority", "KE", "--year", "26"]);
    assert!(!ok && err.contains("four digits"), "{err}");
    // A bad draft is refused with the field named.
    std::fs::write(&draft, r#"{"document_type": "export"}"#).unwrap();
    let (ok, _, err) = run(&[
        "permit",
        "issue",
        "--authority",
        "KE",
        "--file",
        draft.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.contains("not a permit request") || err.contains("permit."),
        "{err}"
    );

    // The desk downloads the bundle and the root key once, then checks offline.
    let s = TestServer::start_on(backend, db).await;
    let (_, root) = s.get("/api/v1/trust/root-key", None).await;
    let root = root["public_key"].as_str().unwrap().to_owned();
    let fetch = |path: &'static str, file: &'static str| {
        let s = &s;
        let dir = dir.clone();
        async move {
            let (status, _, bytes) = s.get_bytes(path, None, None).await;
            assert_eq!(status, StatusCode::OK);
            let p = dir.join(file);
            std::fs::write(&p, bytes).unwrap();
            p.to_str().unwrap().to_owned()
        }
    };
    let bundle = fetch("/api/v1/bundle", "bundle.bin").await;
    let trust = fetch("/api/v1/trust-list", "trust.bin").await;
    let status = fetch("/api/v1/authorities/KE/status", "status.bin").await;
    let verify = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_permitseal"))
            .arg("verify")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (ok, out) = verify(&[
        "--image",
        png.to_str().unwrap(),
        "--bundle",
        &bundle,
        "--root-key",
        &root,
    ]);
    assert!(ok, "{out}");
    assert!(out.starts_with("VALID"), "{out}");
    assert!(out.contains("KE/CLI/1"), "{out}");
    // The desk officer sees what to compare with the shipment.
    assert!(
        out.contains("block A   12.5 kg extract (EXT) of Aloe ferox, Appendix II, source A"),
        "{out}"
    );
    assert!(
        out.contains("exporter") && out.contains("importer"),
        "{out}"
    );
    let (ok, out) = verify(&[
        "--text",
        &qr,
        "--trust",
        &trust,
        "--status",
        &status,
        "--root-key",
        &root,
        "--json",
    ]);
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "valid");
    // A wrong root key refuses the data; a revoked permit is invalid once the desk re-syncs.
    let (ok, _) = verify(&[
        "--text",
        &qr,
        "--bundle",
        &bundle,
        "--root-key",
        "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=",
    ]);
    assert!(!ok);
    let admin = s.admin.clone();
    let (code, _) = s
        .post(
            "/api/v1/authorities/KE/permits/KECLI1/revoke",
            Some(&admin),
            serde_json::json!({"reason": "test"}),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let bundle = fetch("/api/v1/bundle", "bundle2.bin").await;
    let (ok, out) = verify(&["--text", &qr, "--bundle", &bundle, "--root-key", &root]);
    assert!(!ok);
    assert!(
        out.starts_with("INVALID") && out.contains("REVOKED"),
        "{out}"
    );
    s.stop().await;
}

/// The bundle as served now, if phones pinning only `root` accept it.
async fn bundle_accepted_by(s: &TestServer, root: &[u8; 32]) -> bool {
    let root = verifier_core::keys::PublicKey::from_bytes(root).unwrap();
    let (status, _, bytes) = s.get_bytes("/api/v1/bundle", None, None).await;
    assert_eq!(status, StatusCode::OK);
    verifier_core::bundle::Bundle::from_bytes(&bytes, &[root]).is_ok()
}

/// Waits (up to 10 s) until the served bundle is accepted, or not, by phones pinning `root`:
/// signed lists are cached per process and follow database changes within about a second.
async fn wait_for_bundle(s: &TestServer, root: &[u8; 32], accepted: bool) {
    for _ in 0..100 {
        if bundle_accepted_by(s, root).await == accepted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the bundle never became {}",
        if accepted { "accepted" } else { "refused" }
    );
}

fn decode_key(text: &str) -> [u8; 32] {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
        .try_into()
        .unwrap()
}

async fn root_key_rotation_keeps_phones_working(backend: Backend) {
    let s = TestServer::start(backend).await;
    let ke = s.issuing_authority("KE").await;
    s.issue(&ke, "KE", common::export_draft("KE/ROOT/1", "KE", "DE"))
        .await;
    let root_cli = |args: &[&str]| {
        let out = permitseal(&s.db)
            .env("PERMITSEAL_MASTER_KEY", common::master_key_text())
            .arg("root")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (_, before) = s.get("/api/v1/trust/root-key", None).await;
    let old = decode_key(before["public_key"].as_str().unwrap());
    assert_eq!(before["keys"].as_array().unwrap().len(), 1, "{before}");
    assert!(bundle_accepted_by(&s, &old).await);

    // Begin: the incoming key is published beside the active one and signs the trust list
    // too, so phones pinning the old key and updated phones pinning the new one both accept it.
    let (ok, out, err) = root_cli(&["rotate"]);
    assert!(ok, "{err}");
    let incoming: serde_json::Value = serde_json::from_str(&out).unwrap();
    let new = decode_key(incoming["public_key"].as_str().unwrap());
    assert!(!out.contains("seed"), "{out}");
    let (_, during) = s.get("/api/v1/trust/root-key", None).await;
    assert_eq!(during["public_key"], before["public_key"], "{during}");
    assert_eq!(during["keys"][1]["kid"], incoming["kid"], "{during}");
    assert_eq!(during["keys"][1]["status"], "incoming", "{during}");
    wait_for_bundle(&s, &new, true).await;
    assert!(bundle_accepted_by(&s, &old).await);
    // A phone pinning only the new key verifies permits issued before the rotation.
    let (status, _, bytes) = s.get_bytes("/api/v1/bundle", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let pinned_new = verifier_core::keys::PublicKey::from_bytes(&new).unwrap();
    let bundle = verifier_core::bundle::Bundle::from_bytes(&bytes, &[pinned_new]).unwrap();
    let (_, qr) = s
        .get("/api/v1/authorities/KE/permits/KE-ROOT-1", Some(&ke))
        .await;
    let v = verifier_core::verify(
        qr["qr_text"].as_str().unwrap(),
        permitseal_server::clock::Clock::system().now(),
        &bundle.trust,
        &bundle.status,
    );
    assert_eq!(v.verdict, verifier_core::Verdict::Valid, "{:?}", v.reasons);
    // One rotation at a time.
    let (ok, _, err) = root_cli(&["rotate"]);
    assert!(!ok && err.contains("already under way"), "{err}");

    // Finish: the new key alone signs; phones still pinning only the old key refuse new lists.
    let (ok, out, err) = root_cli(&["finish"]);
    assert!(ok, "{err}");
    let finished: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(finished["active"], incoming["kid"], "{out}");
    assert_eq!(finished["retired"], before["kid"], "{out}");
    wait_for_bundle(&s, &old, false).await;
    assert!(bundle_accepted_by(&s, &new).await);
    let (_, after) = s.get("/api/v1/trust/root-key", None).await;
    assert_eq!(after["kid"], incoming["kid"], "{after}");
    assert_eq!(after["keys"].as_array().unwrap().len(), 1, "{after}");
    let (ok, _, err) = root_cli(&["finish"]);
    assert!(!ok && err.contains("no root key rotation"), "{err}");
}

/// `permitseal taxa import FILE`: counts as JSON on stdout, again unchanged; a file with bad
/// rows fails with each row's line and reason and stores nothing.
async fn taxa_import_on_the_command_line(backend: Backend) {
    let db = TestDb::create(backend).await;
    let data = format!("{}/tests/data", env!("CARGO_MANIFEST_DIR"));
    let run = |file: &str| {
        permitseal(&db)
            .args(["taxa", "import", &format!("{data}/{file}")])
            .output()
            .unwrap()
    };
    let out = run("checklist-bad.csv");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 3: Kingdom") && err.contains("nothing imported"),
        "{err}"
    );
    for expected in [
        serde_json::json!({"added": 5, "updated": 0, "unchanged": 0, "skipped": 1}),
        serde_json::json!({"added": 0, "updated": 0, "unchanged": 5, "skipped": 1}),
    ] {
        let out = run("checklist-small.csv");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let counts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(counts, expected);
    }
    let out = run("missing.csv");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
