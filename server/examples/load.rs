//! Load generator for a running permitseal server (loopback only; bounded in count and time).
//!
//! ```text
//! cargo run --release -p permitseal-server --example load -- \
//!     --url http://127.0.0.1:8080 --admin-token "$PERMITSEAL_ADMIN_TOKEN" all
//! ```
//!
//! It creates its own authority (`LOAD<n>`), signing key and tokens through the API, then runs
//! the scenarios and prints one line per scenario. `issue` issues permits in batches and also
//! reports the time one million would take at that rate; `scans` uploads durable scan-report
//! batches, each worker with its own officer token (uploads are budgeted per token, see the
//! `rate_limits` table; a refused upload ends the run with the server's message); `status` and `bundle` GET the signed lists; `static` serves the bundle's bytes from
//! memory with a bare axum handler on another loopback port, as the static-file baseline;
//! `report` issues `--permits` permits and times one annual report (permits basis) of them.

// A load tool: failing loudly on a broken setup is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(about = "Load generator for permitseal (loopback only)")]
struct Args {
    /// Server base URL (must be a loopback address).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// An admin token.
    #[arg(long, env = "PERMITSEAL_ADMIN_TOKEN")]
    admin_token: String,
    /// Seconds per timed scenario.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent requests.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Scan reports per upload.
    #[arg(long, default_value_t = 500)]
    scan_batch: usize,
    /// Permits per issuance batch.
    #[arg(long, default_value_t = 500)]
    issue_batch: usize,
    /// Permits to issue in the `issue` scenario.
    #[arg(long, default_value_t = 50_000)]
    permits: usize,
    /// What to run.
    #[arg(value_enum)]
    scenario: Scenario,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Scenario {
    Issue,
    Scans,
    Status,
    Bundle,
    Static,
    Report,
    All,
}

struct Ctx {
    url: String,
    client: reqwest::Client,
    authority: String,
    issuer: String,
    /// One officer token per concurrent worker: the upload budget is per token.
    officers: Vec<String>,
}

fn draft(authority: &str, n: usize) -> Value {
    let until = verifier_core::date::Date::from_unix(now() + 90 * 86_400).to_string();
    json!({"permit": {
        "document_type": "export", "number": format!("{authority}/{n}"), "valid_until": until,
        "purpose": "T", "exporter": {"name": "Exporter Ltd", "country": "KE"},
        "importer": {"name": "Importer GmbH", "country": "DE"},
        "lines": [{"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT",
                   "appendix": "II", "source": "A", "quantity": "12.5", "unit": "KIL"}]}})
}

fn now() -> i64 {
    permitseal_server::clock::Clock::system().now()
}

/// POSTs `body`; an answer other than 2xx is an error naming the path, the status and the
/// server's `{code, message}` (e.g. a `rate_limited` upload).
async fn try_post(ctx: &Ctx, path: &str, token: &str, body: &Value) -> Result<Value, String> {
    let resp = ctx
        .client
        .post(format!("{}{path}", ctx.url))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("POST {path}: {e}"))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| format!("POST {path}: {status}, body unreadable: {e}"))?;
    if !status.is_success() {
        return Err(format!("POST {path}: {status} {text}"));
    }
    serde_json::from_str(&text)
        .map_err(|e| format!("POST {path}: {status}, not JSON ({e}): {text}"))
}

/// `try_post` for the setup, where any refusal means the run cannot start.
async fn post(ctx: &Ctx, path: &str, token: &str, body: &Value) -> Value {
    try_post(ctx, path, token, body)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn setup(args: &Args, client: reqwest::Client) -> Ctx {
    let url = args.url.trim_end_matches('/').to_owned();
    let host = url.split("://").nth(1).unwrap_or_default();
    assert!(
        host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]"),
        "the load generator only targets loopback addresses"
    );
    let authority = format!("LOAD{}", now() % 100_000);
    let mut ctx = Ctx {
        url,
        client,
        authority: authority.clone(),
        issuer: String::new(),
        officers: Vec::new(),
    };
    let admin = args.admin_token.clone();
    post(
        &ctx,
        "/api/v1/authorities",
        &admin,
        &json!({"id": authority, "country": "KE", "name": "Load test"}),
    )
    .await;
    ctx.issuer = post(
        &ctx,
        "/api/v1/tokens",
        &admin,
        &json!({"role": "issuer", "authority_id": authority, "label": "load"}),
    )
    .await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for worker in 0..args.concurrency.max(1) {
        let officer = post(
            &ctx,
            "/api/v1/tokens",
            &admin,
            &json!({"role": "officer", "country": "KE", "label": format!("load worker {worker}")}),
        )
        .await["token"]
            .as_str()
            .unwrap()
            .to_owned();
        ctx.officers.push(officer);
    }
    post(
        &ctx,
        &format!("/api/v1/authorities/{authority}/keys"),
        &ctx.issuer.clone(),
        &json!({}),
    )
    .await;
    ctx
}

/// Issues `count` permits in batches from `concurrency` workers; returns permits/s.
async fn issue(
    ctx: &Arc<Ctx>,
    count: usize,
    batch: usize,
    concurrency: usize,
) -> (f64, Vec<String>) {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let ctx = ctx.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut sample = Vec::new();
            loop {
                let first = next.fetch_add(batch as u64, Ordering::Relaxed) as usize;
                if first >= count {
                    break;
                }
                let n = batch.min(count - first);
                let permits: Vec<Value> = (first..first + n)
                    .map(|i| draft(&ctx.authority, i))
                    .collect();
                let path = format!("/api/v1/authorities/{}/permits/batch", ctx.authority);
                post(&ctx, &path, &ctx.issuer, &json!({"permits": permits})).await;
                if sample.len() < 200 {
                    sample.push(format!("{}/{first}", ctx.authority));
                }
            }
            sample
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        numbers.extend(t.await.unwrap());
    }
    (count as f64 / started.elapsed().as_secs_f64(), numbers)
}

async fn qr_texts(ctx: &Ctx, numbers: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for n in numbers.iter().take(200) {
        let resp = ctx
            .client
            .get(format!(
                "{}/api/v1/authorities/{}/permits/{}",
                ctx.url,
                ctx.authority,
                n.replace('/', "%2F")
            ))
            .bearer_auth(&ctx.issuer)
            .send()
            .await
            .unwrap();
        let v: Value = resp.json().await.unwrap();
        out.push(v["qr_text"].as_str().unwrap().to_owned());
    }
    out
}

struct Timed {
    ops: u64,
    requests: u64,
    bytes: u64,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Timed {
    fn line(&self, what: &str, unit: &str) -> String {
        let mut l = self.latencies.clone();
        l.sort();
        let pct = |p: f64| {
            l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        format!(
            "{what:<28} {:>10.0} {unit}/s  ({} requests, {:.1} MB/s, p50 {:.2} ms, p99 {:.2} ms)",
            self.ops as f64 / self.seconds,
            self.requests,
            self.bytes as f64 / self.seconds / 1e6,
            pct(0.5).as_secs_f64() * 1e3,
            pct(0.99).as_secs_f64() * 1e3,
        )
    }
}

/// Runs `f(worker, call)` from `concurrency` workers for `seconds`; each call returns
/// (ops, bytes). The first failed call stops its worker and is the run's error.
async fn timed<F, Fut>(seconds: u64, concurrency: usize, f: F) -> Result<Timed, String>
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(u64, u64), String>> + Send,
{
    let f = Arc::new(f);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let f = f.clone();
        let counter = counter.clone();
        tasks.push(tokio::spawn(async move {
            let (mut ops, mut bytes, mut reqs, mut lat) = (0, 0, 0, Vec::new());
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let (o, b) = f(worker, i).await?;
                lat.push(t.elapsed());
                ops += o;
                bytes += b;
                reqs += 1;
            }
            Ok::<_, String>((ops, bytes, reqs, lat))
        }));
    }
    let mut out = Timed {
        ops: 0,
        requests: 0,
        bytes: 0,
        seconds: 0.0,
        latencies: Vec::new(),
    };
    for t in tasks {
        let (o, b, r, l) = t.await.unwrap()?;
        out.ops += o;
        out.bytes += b;
        out.requests += r;
        out.latencies.extend(l);
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(out)
}

async fn get_bytes(client: &reqwest::Client, url: &str) -> Result<u64, String> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = resp.status();
    if !status.is_success() {
        let text = resp.text().await.unwrap_or_default();
        return Err(format!("GET {url}: {status} {text}"));
    }
    let body = resp
        .bytes()
        .await
        .map_err(|e| format!("GET {url}: {status}, body unreadable: {e}"))?;
    Ok(body.len() as u64)
}

/// A measurement's line, or its error and exit status 1.
fn report(r: Result<Timed, String>, what: &str, unit: &str) {
    match r {
        Ok(r) => println!("{}", r.line(what, unit)),
        Err(e) => {
            eprintln!("load: {what}: {e}");
            std::process::exit(1);
        }
    }
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    // reqwest has no TLS provider of its own here (the server gives its webhook client one):
    // the process-wide one is ring's.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let ctx = Arc::new(setup(&args, client.clone()).await);
    let all = args.scenario == Scenario::All;
    println!(
        "permitseal load: {} ({}s per scenario, concurrency {})",
        ctx.url, args.seconds, args.concurrency
    );

    // Issue permits (needed by every other scenario too).
    let count = if all || matches!(args.scenario, Scenario::Issue | Scenario::Report) {
        args.permits
    } else {
        2_000
    };
    let (rate, numbers) = issue(&ctx, count, args.issue_batch, 2).await;
    if all || args.scenario == Scenario::Issue {
        println!(
            "{:<28} {rate:>10.0} permits/s  ({count} permits in batches of {}; 1M would take {:.1} min)",
            "issue (batch, signed)",
            args.issue_batch,
            1e6 / rate / 60.0
        );
    }
    let qrs = Arc::new(qr_texts(&ctx, &numbers).await);

    if all || args.scenario == Scenario::Report {
        // The annual report of every permit just issued: one request, timed whole.
        let year = verifier_core::date::Date::from_unix(now()).ymd().0;
        let url = format!(
            "{}/api/v1/authorities/{}/reports/annual?year={year}&basis=permits",
            ctx.url, ctx.authority
        );
        let started = Instant::now();
        let resp = client
            .get(&url)
            .bearer_auth(&ctx.issuer)
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.status());
        let body = resp.bytes().await.unwrap();
        let took = started.elapsed().as_secs_f64();
        let rows = body
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            .saturating_sub(1);
        println!(
            "{:<28} {rows:>10} rows in {took:.2} s ({:.1} MB of CSV, {:.0} rows/s)",
            "annual report (permits)",
            body.len() as f64 / 1e6,
            rows as f64 / took
        );
    }

    if all || args.scenario == Scenario::Scans {
        let ctx2 = ctx.clone();
        let qrs = qrs.clone();
        let batch = args.scan_batch;
        let base = now();
        let r = timed(args.seconds, args.concurrency, move |worker, i| {
            let ctx = ctx2.clone();
            let qrs = qrs.clone();
            async move {
                let scans: Vec<Value> = (0..batch)
                    .map(|j| {
                        let k = i as usize * batch + j;
                        json!({"id": format!("load-{base}-{k}"), "device_id": format!("dev-{}", k % 50),
                               "scanned_at": permitseal_server::http::format_time(base - 3600 + (k % 3000) as i64),
                               "place": {"locode": "KEMBA"}, "verdict": "valid", "qr": qrs[k % qrs.len()]})
                    })
                    .collect();
                let officer = &ctx.officers[worker % ctx.officers.len()];
                let v = try_post(&ctx, "/api/v1/scans", officer, &json!({"scans": scans})).await?;
                let accepted = v["accepted"]
                    .as_u64()
                    .ok_or_else(|| format!("POST /api/v1/scans: no `accepted` count in {v}"))?;
                Ok((accepted, 0))
            }
        })
        .await;
        report(r, &format!("scans (durable, {batch}/upload)"), "reports");
    }

    let status_url = format!("{}/api/v1/authorities/{}/status", ctx.url, ctx.authority);
    if all || args.scenario == Scenario::Status {
        let c = client.clone();
        let url = status_url.clone();
        let r = timed(args.seconds, args.concurrency, move |_, _| {
            let c = c.clone();
            let url = url.clone();
            async move { Ok((1, get_bytes(&c, &url).await?)) }
        })
        .await;
        report(r, "status list GET", "GETs");
    }
    let bundle_url = format!("{}/api/v1/bundle", ctx.url);
    if all || args.scenario == Scenario::Bundle {
        let c = client.clone();
        let url = bundle_url.clone();
        let r = timed(args.seconds, args.concurrency, move |_, _| {
            let c = c.clone();
            let url = url.clone();
            async move { Ok((1, get_bytes(&c, &url).await?)) }
        })
        .await;
        report(r, "bundle GET", "GETs");
    }
    if all || args.scenario == Scenario::Static {
        let bytes = client
            .get(&bundle_url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let size = bytes.len();
        let app = axum::Router::new().route(
            "/bundle",
            axum::routing::get(move || {
                let b = bytes.clone();
                async move { b }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        let c = client.clone();
        let url = format!("http://{addr}/bundle");
        let r = timed(args.seconds, args.concurrency, move |_, _| {
            let c = c.clone();
            let url = url.clone();
            async move { Ok((1, get_bytes(&c, &url).await?)) }
        })
        .await;
        server.abort();
        report(r, &format!("static baseline ({size} B)"), "GETs");
    }
}
