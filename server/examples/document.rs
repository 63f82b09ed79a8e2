//! Renders the sample permits of `server/tests/data` as PDFs and measures the renderer.
//!
//! ```text
//! cargo run --release -p permitseal-server --example document -- [OUT_DIR] [SECONDS]
//! ```
//!
//! Writes `permit-1-line.<lang>.pdf` and `permit-6-lines.<lang>.pdf` (and a revoked copy) into
//! OUT_DIR (default `target/documents`), then renders each sample on one thread for SECONDS
//! (default 3) and prints documents per second (per core, from the thread's CPU time, and by
//! the wall clock) and bytes per document. These are the numbers
//! in docs/PERFORMANCE.md.

// A measuring tool over fixed inputs: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use permitseal_server::document::{IssuingAuthority, PermitDocument, QuotaUse, render};
use verifier_core::i18n::Lang;
use verifier_core::keys::SecretKey;
use verifier_core::permit::{IssueContext, Permit, PermitDraft};

/// 2026-12-01T09:30:00Z: inside the samples' validity.
const ISSUED_AT: i64 = 1_796_117_400;

fn sample(json: &str, index: u32) -> (Permit, String) {
    let draft: PermitDraft = serde_json::from_str(json).unwrap();
    let ctx = IssueContext {
        issuing_country: "KE".parse().unwrap(),
        issued_at: ISSUED_AT,
        status_index: index,
    };
    let permit = Permit::new(&draft, ctx).unwrap();
    let key = SecretKey::from_seed(&[7; 32]);
    let qr = verifier_core::payload::sign(&permit, &key);
    (permit, qr)
}

/// CPU time this thread has run (Linux: `/proc/thread-self/schedstat`, nanoseconds). On a
/// machine shared with other work the wall clock counts the time others run too; this does
/// not, so it is the rate one core gives.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let out = std::path::PathBuf::from(args.next().unwrap_or_else(|| "target/documents".into()));
    let seconds: u64 = args.next().map_or(3, |s| s.parse().unwrap());
    std::fs::create_dir_all(&out).unwrap();
    let samples = [
        (
            "permit-1-line",
            include_str!("../tests/data/permit-1-line.json"),
        ),
        (
            "permit-6-lines",
            include_str!("../tests/data/permit-6-lines.json"),
        ),
    ];
    for (i, (name, json)) in samples.iter().enumerate() {
        let (permit, qr) = sample(json, i as u32);
        let details = permit.details().cloned().unwrap_or_default();
        let quotas: Vec<Option<QuotaUse>> = (0..permit.data().lines.len())
            .map(|b| {
                (b == 0).then(|| QuotaUse {
                    used: "125.5".into(),
                    total: "2000".into(),
                })
            })
            .collect();
        let mut doc = PermitDocument {
            permit: permit.data(),
            details: &details,
            qr_text: &qr,
            authority: IssuingAuthority {
                name: "Kenya Wildlife Service",
                country: "KE".parse().unwrap(),
                address: Some("P.O. Box 40241-00100, Langata Road, Nairobi"),
                issue_place: Some("Nairobi"),
            },
            import_permit: None,
            quotas: &quotas,
            revoked: false,
            verify_url: "https://permits.example.org/verify",
        };
        for lang in Lang::ALL {
            let pdf = render(&doc, lang).unwrap();
            let tag = format!("{lang:?}").to_lowercase();
            std::fs::write(out.join(format!("{name}.{tag}.pdf")), &pdf).unwrap();
        }
        doc.revoked = true;
        std::fs::write(
            out.join(format!("{name}.revoked.pdf")),
            render(&doc, Lang::En).unwrap(),
        )
        .unwrap();
        doc.revoked = false;

        let version = verifier_core::qr::version(&qr, verifier_core::qr::Ecc::Q).unwrap();
        let start = Instant::now();
        let cpu_start = thread_cpu();
        let mut n = 0u64;
        let mut bytes = 0;
        while start.elapsed() < Duration::from_secs(seconds) {
            bytes = render(&doc, Lang::En).unwrap().len();
            n += 1;
        }
        let wall = n as f64 / start.elapsed().as_secs_f64();
        let cpu = match (cpu_start, thread_cpu()) {
            (Some(a), Some(b)) if b > a => format!("{:.0}", n as f64 / (b - a).as_secs_f64()),
            _ => "?".to_owned(),
        };
        println!(
            "{name}: {cpu} documents/s per core (CPU time), {wall:.0}/s wall clock, {bytes} bytes, QR version {version} ({} chars)",
            qr.len()
        );
    }
}
