//! `cargo run --release -p permitseal-web --example timing`
//!
//! The page's verification natively, timed exactly as `browser-tests/bench.mjs` times it in
//! the browser: one second of warm-up, then ten rounds of 500 calls, the fastest round and the
//! median round reported in microseconds per call. `browser-tests/ratio.sh` runs the two back
//! to back to give the browser/native ratio of docs/PERFORMANCE.md. Prints one JSON line.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use permitseal_web::Verifier;
use serde_json::{Value, json};
use verifier_core::i18n::Lang;
use verifier_core::verify::Checkpoint;

const CALLS: u32 = 5000;

fn time(mut call: impl FnMut()) -> Value {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_secs(1) {
        call();
    }
    let mut rounds: Vec<f64> = (0..10)
        .map(|_| {
            let t0 = Instant::now();
            for _ in 0..CALLS / 10 {
                call();
            }
            t0.elapsed().as_secs_f64() * 1e6 / f64::from(CALLS / 10)
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    json!({ "min": (rounds[0] * 10.0).round() / 10.0, "median": (rounds[5] * 10.0).round() / 10.0 })
}

fn verifier(doc: &Value, case: &Value) -> Verifier {
    let mut v = Verifier::with_roots(doc["root_public_keys"][0].as_str().unwrap()).unwrap();
    v.install(&hex::decode(case["bundle"].as_str().unwrap()).unwrap())
        .unwrap();
    v
}

/// What the page's `Verifier.verify` does: the verdict for a QR text, as JSON text.
fn check(v: &mut Verifier, qr: &str, now: i64) {
    let view = v
        .check(black_box(qr), now, Checkpoint::Export, Lang::En)
        .unwrap();
    black_box(serde_json::to_string(&view).unwrap());
}

fn main() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-vectors/v1/vectors.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let case = &doc["cases"][0];
    let unknown = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "invalid-unknown-key")
        .unwrap();
    let (mut v, mut w) = (verifier(&doc, case), verifier(&doc, unknown));
    let fields = |c: &Value| {
        (
            c["qr"].as_str().unwrap().to_owned(),
            c["now"].as_i64().unwrap(),
        )
    };
    let ((qr, now), (uqr, unow)) = (fields(case), fields(unknown));
    let out = json!({
        "verifyUs": time(|| check(&mut v, &qr, now)),
        "unknownKeyUs": time(|| check(&mut w, &uqr, unow)),
    });
    println!("{out}");
}
