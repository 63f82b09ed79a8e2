//! Faults of the database under a running server: a PostgreSQL that stops, restarts under load
//! and comes back. The cluster is private to the test (initdb into a temporary directory, its
//! own port), so stopping it disturbs nothing else.

// Scenarios run as tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Backend, TestDb, TestServer, export_draft};
use permitseal_server::storage::DatabaseTarget;
use reqwest::StatusCode;

/// A PostgreSQL cluster of this test's own.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    /// Holds the cluster's files; removed on drop, after the server is stopped.
    _dir: tempfile::TempDir,
}

/// Runs a PostgreSQL program as the `postgres` user when we are root (PostgreSQL refuses to
/// run as root), as ourselves otherwise.
fn pg_command(program: &Path) -> Command {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl PrivatePostgres {
    fn start() -> Self {
        let out = Command::new("pg_config").arg("--bindir").output().unwrap();
        let bin = PathBuf::from(String::from_utf8(out.stdout).unwrap().trim());
        let dir = tempfile::Builder::new()
            .prefix("permitseal-pg-")
            .tempdir_in("/tmp")
            .unwrap();
        let data = dir.path().join("data");
        // The postgres user must own the directory it initialises.
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(dir.path())
            .status();
        let status = pg_command(&bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(&data)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "initdb failed");
        let pg = Self {
            bin,
            data,
            port: free_port(),
            _dir: dir,
        };
        pg.ctl("start");
        pg
    }

    fn ctl(&self, action: &str) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.data.display()
        );
        let mut cmd = pg_command(&self.bin.join("pg_ctl"));
        cmd.args([action, "-w", "-m", "fast", "-D"]).arg(&self.data);
        if action != "stop" {
            cmd.args(["-o", &options, "-l"]).arg(self.data.join("log"));
        }
        let status = cmd.stdout(std::process::Stdio::null()).status().unwrap();
        assert!(status.success(), "pg_ctl {action} failed");
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = pg_command(&self.bin.join("pg_ctl"))
            .args(["stop", "-m", "immediate", "-D"])
            .arg(&self.data)
            .stdout(std::process::Stdio::null())
            .status();
    }
}

/// Every answer while the database is away is a 503 with a retry hint, never a 500;
/// readiness says "not ready" at once; and the server recovers by itself when the database
/// returns, including after a restart under load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_and_restarted_under_load() {
    let pg = PrivatePostgres::start();
    let db = TestDb::existing(DatabaseTarget::Postgres(pg.url()));
    let s = TestServer::start_on(Backend::Postgres, db).await;
    let issuer = s.issuing_authority("KE").await;
    s.issue(&issuer, "KE", export_draft("KE-F-1", "KE", "FR"))
        .await;
    let permit = "/api/v1/authorities/KE/permits/KE-F-1";
    assert_eq!(s.get(permit, Some(&issuer)).await.0, StatusCode::OK);

    // Restart under load: two clients keep reading and writing; every answer is a success or a
    // 503 with Retry-After.
    let load = |n: usize| {
        let client = s.client.clone();
        let url = s.url(permit);
        let issue_url = s.url("/api/v1/authorities/KE/permits");
        let token = issuer.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            for i in 0..n {
                let request = if i % 2 == 0 {
                    client.get(&url)
                } else {
                    client.post(&issue_url).json(&serde_json::json!({
                        "permit": export_draft(&format!("KE-L-{n}-{i}"), "KE", "FR")
                    }))
                };
                let resp = request.bearer_auth(&token).send().await.unwrap();
                let retry = resp.headers().contains_key("retry-after");
                let status = resp.status();
                let body: serde_json::Value = resp.json().await.unwrap_or_default();
                seen.push((status, retry, body));
            }
            seen
        })
    };
    let clients = [load(60), load(61)];
    tokio::time::sleep(Duration::from_millis(200)).await;
    pg.ctl("restart");
    for client in clients {
        for (status, retry, body) in client.await.unwrap() {
            assert!(
                status.is_success() || (status == StatusCode::SERVICE_UNAVAILABLE && retry),
                "{status} {body}"
            );
        }
    }
    // Recovered without a restart of the server.
    assert_eq!(s.get(permit, Some(&issuer)).await.0, StatusCode::OK);

    // Stopped: readiness answers at once; requests are 503 with a retry hint.
    pg.ctl("stop");
    let started = Instant::now();
    let ready = s.client.get(s.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "readiness took {:?}",
        started.elapsed()
    );
    let resp = s
        .client
        .get(s.url(permit))
        .bearer_auth(&issuer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");

    // Back: the same server answers again.
    pg.ctl("start");
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..100 {
        status = s.get(permit, Some(&issuer)).await.0;
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.get("/readyz", None).await.0, StatusCode::OK);
    s.stop().await;
}

/// A small file system of the test's own (tmpfs), unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(bytes: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}")])
            .arg("tmpfs")
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(
            status.success(),
            "the disk-full test mounts a tmpfs and needs root (CI runs as root)"
        );
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a filler file until the disk is full.
    fn fill(&self) {
        use std::io::Write as _;
        let mut file = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        // The last partial block: fill what is left byte by byte in small writes.
        while file.write_all(&block[..512]).is_ok() {}
        let _ = file.sync_all();
    }

    fn free(&self) {
        std::fs::remove_file(self.path().join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

/// SQLite on a disk that fills up: writes are refused with 503 (never 500), readiness says the
/// disk is full, nothing acknowledged before is lost, and writes resume by themselves when
/// space returns — without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_disk_full_and_freed() {
    let disk = SmallDisk::mount(8 * 1024 * 1024);
    let db = TestDb::existing(DatabaseTarget::Sqlite(disk.path().join("permitseal.db")));
    let s = TestServer::start_on(Backend::Sqlite, db).await;
    let issuer = s.issuing_authority("KE").await;
    s.issue(&issuer, "KE", export_draft("KE-D-0", "KE", "FR"))
        .await;

    disk.fill();
    let mut refused = 0;
    let mut acknowledged = vec!["KE-D-0".to_owned()];
    for i in 1..=20 {
        let (status, body) = s
            .post(
                "/api/v1/authorities/KE/permits",
                Some(&issuer),
                serde_json::json!({"permit": export_draft(&format!("KE-D-{i}"), "KE", "FR")}),
            )
            .await;
        assert!(
            status == StatusCode::CREATED || status == StatusCode::SERVICE_UNAVAILABLE,
            "{status} {body}"
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            refused += 1;
            assert_eq!(body["code"], "unavailable");
        } else {
            acknowledged.push(format!("KE-D-{i}"));
        }
    }
    assert!(refused > 0, "the full disk refused no write");
    let (status, body) = s.get("/readyz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");

    disk.free();
    let (status, body) = s.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Writes resume on the same server.
    let (status, body) = s
        .post(
            "/api/v1/authorities/KE/permits",
            Some(&issuer),
            serde_json::json!({"permit": export_draft("KE-D-after", "KE", "FR")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Everything acknowledged is there, also after a restart.
    let s = TestServer::start_on(Backend::Sqlite, s.stop().await).await;
    for number in acknowledged {
        let (status, _) = s
            .get(
                &format!("/api/v1/authorities/KE/permits/{number}"),
                Some(&issuer),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{number} was acknowledged and is gone"
        );
    }
    s.stop().await;
}
