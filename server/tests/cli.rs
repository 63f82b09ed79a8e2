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

on_both_backends!(operator_bootstraps_without_http, serve_demo_then_sigterm);

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

async fn serve_demo_then_sigterm(backend: Backend) {
    let db = TestDb::create(backend).await;
    let mut child = permitseal(&db)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
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
    let (addr, lines) = rx.recv_timeout(Duration::from_secs(60)).unwrap();
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
    let client = reqwest::Client::new();
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
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
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
