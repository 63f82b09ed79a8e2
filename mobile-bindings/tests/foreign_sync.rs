//! The sync client over the foreign transports, against the real server: the Kotlin one the
//! SDK ships for Android (`HttpUrlConnectionTransport`, on the JVM) and a Python one over
//! `http.client`. `scripts/test-foreign.sh` builds them and runs this test with
//! `PERMITSEAL_FOREIGN_SYNC` holding one `name=command` line per language; the command gets a
//! spec file (`key=value` lines) as its last argument.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::Command;
use std::time::Duration;

mod support;
use support::Server;

/// The spec a foreign program reads.
fn write_spec(path: &str, pairs: &[(&str, String)]) -> String {
    let spec = format!("{path}.spec");
    let text: String = pairs.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(&spec, text).unwrap();
    spec
}

fn command(cmd: &str, spec: &str) -> Command {
    let mut c = Command::new("sh");
    // `exec`: the program itself is the child, so that a kill reaches it.
    c.arg("-c").arg(format!("exec {cmd} \"$0\"")).arg(spec);
    c
}

/// The whole scenario in the foreign language: bundle and ETag, batches with a refused item
/// set aside, the endorsement in the next bundle, a stranger's token, nothing listening, a
/// server that never answers, a certificate the platform does not trust, a transport that
/// throws something unexpected.
fn scenario(name: &str, cmd: &str) {
    let server = Server::start();
    let front = server.tls_front();
    let qr = server.issue("KE/2026/0100");
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut open = Vec::new();
        for conn in silent.incoming().take(4) {
            open.push(conn);
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = support::outbox_dir(dir.path());
    let now = permitseal_mobile::clock::now();
    let spec = write_spec(
        &path,
        &[
            ("mode", "scenario".into()),
            ("url", server.url()),
            ("token", server.officer.clone()),
            ("stranger", "pst_not_a_real_token".into()),
            ("root_key", hex::encode(server.root_key())),
            ("qr", qr.clone()),
            ("now", now.to_string()),
            ("silent_url", format!("http://127.0.0.1:{silent_port}")),
            ("closed_url", format!("http://{closed}")),
            ("untrusted_url", front.url("localhost")),
            ("dir", path.clone()),
            ("device_token", server.device_officer.clone()),
            (
                "device_dir",
                support::outbox_dir(&dir.path().join("device")),
            ),
        ],
    );
    let out = command(cmd, &spec).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name}: {}\n{stdout}\n{stderr}",
        out.status
    );
    let summary = stdout
        .lines()
        .find_map(|l| l.strip_prefix("sync: "))
        .unwrap_or_else(|| panic!("{name}: no summary\n{stdout}"));
    assert!(summary.ends_with(" passed, 0 failed"), "{name}: {summary}");
    // What the foreign side says it uploaded is on the server, each once.
    let ids: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("STORED "))
        .map(str::to_string)
        .collect();
    assert_eq!(ids.len(), 6, "{name}: {stdout}");
    server.assert_each_stored_once(&ids, &qr);
    // What the foreign signer signed is on the server as signed by its key.
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("DEVICE_KEY "))
        .unwrap_or_else(|| panic!("{name}: no device key\n{stdout}"));
    let signed: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("SIGNED "))
        .map(str::to_string)
        .collect();
    assert_eq!(signed.len(), 4, "{name}: {stdout}");
    server.assert_signed(&qr, &signed, key);
    println!("{name}: scenario {summary}");
}

/// Killed mid-upload (SIGKILL) twice while uploading one item per request through the
/// foreign transport; nothing lost, nothing doubled.
fn killed(name: &str, cmd: &str) {
    let server = Server::start();
    support::kill_mid_upload(&server, 60, &[10, 20], &|path: &str| {
        let spec = write_spec(
            path,
            &[
                ("mode", "child".into()),
                ("url", server.url()),
                ("token", server.officer.clone()),
                ("dir", path.to_string()),
            ],
        );
        command(cmd, &spec)
    });
    println!("{name}: killed mid-upload twice, every item on the server once");
}

#[test]
#[ignore = "needs the Kotlin and Python transports, built and run by scripts/test-foreign.sh"]
fn foreign_transports_against_the_real_server() {
    let commands = std::env::var("PERMITSEAL_FOREIGN_SYNC")
        .expect("PERMITSEAL_FOREIGN_SYNC: name=command lines, set by scripts/test-foreign.sh");
    let mut ran = 0;
    for line in commands.lines().filter(|l| !l.trim().is_empty()) {
        let (name, cmd) = line.split_once('=').expect("name=command");
        scenario(name, cmd);
        killed(name, cmd);
        ran += 1;
    }
    assert!(ran >= 2, "expected the Kotlin and the Python transport");
}
