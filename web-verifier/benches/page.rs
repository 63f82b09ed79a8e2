//! `cargo bench -p permitseal-web --bench page`
//!
//! The page's two hot calls, natively, to set beside the same calls in the browser
//! (`web-verifier/browser-tests/bench.mjs`): `page/verify_json` is one conformance vector's QR
//! text to the JSON verdict the page parses (what `Verifier.verify` does in WebAssembly);
//! `page/verify_unknown_key_json` is the same for a code whose key is unknown (everything but
//! the Ed25519 check); `page/decode_640x480` reads the QR code of a 640×480 RGBA camera frame.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use permitseal_web::{Verifier, decode_rgba_frame};
use serde_json::Value;
use verifier_core::i18n::Lang;
use verifier_core::qr::{Ecc, render_png};
use verifier_core::verify::Checkpoint;

fn bench(c: &mut Criterion) {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-vectors/v1/vectors.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let case = &doc["cases"][0];
    let roots = doc["root_public_keys"][0].as_str().unwrap();
    let mut v = Verifier::with_roots(roots).unwrap();
    v.install(&hex::decode(case["bundle"].as_str().unwrap()).unwrap())
        .unwrap();
    let qr = case["qr"].as_str().unwrap();
    let now = case["now"].as_i64().unwrap();
    c.bench_function("page/verify_json", |b| {
        b.iter(|| {
            let view = v
                .check(black_box(qr), now, Checkpoint::Export, Lang::En)
                .unwrap();
            serde_json::to_string(&view).unwrap()
        })
    });

    // Decoded but no signature check (its key is not in the trust list): everything but
    // Ed25519, as bench.mjs measures it in the browser.
    let unknown = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "invalid-unknown-key")
        .unwrap();
    let mut w = Verifier::with_roots(roots).unwrap();
    w.install(&hex::decode(unknown["bundle"].as_str().unwrap()).unwrap())
        .unwrap();
    let (uqr, unow) = (
        unknown["qr"].as_str().unwrap(),
        unknown["now"].as_i64().unwrap(),
    );
    c.bench_function("page/verify_unknown_key_json", |b| {
        b.iter(|| {
            let view = w
                .check(black_box(uqr), unow, Checkpoint::Export, Lang::En)
                .unwrap();
            serde_json::to_string(&view).unwrap()
        })
    });

    let frame = camera_frame(qr);
    assert_eq!(decode_rgba_frame(640, 480, &frame).unwrap(), qr);
    c.bench_function("page/decode_640x480", |b| {
        b.iter(|| decode_rgba_frame(640, 480, black_box(&frame)).unwrap())
    });
}

/// The permit's QR code rendered at 3 px per module in the middle of a light-grey 640×480
/// RGBA frame, as the camera test's video shows it.
fn camera_frame(text: &str) -> Vec<u8> {
    let png = render_png(text, Ecc::Q, 3).unwrap();
    let grey = image::load_from_memory(&png).unwrap().to_luma8();
    let (w, h) = (640u32, 480u32);
    let (ox, oy) = ((w - grey.width()) / 2, (h - grey.height()) / 2);
    let mut frame = vec![230u8; (w * h * 4) as usize];
    for (x, y, p) in grey.enumerate_pixels() {
        let i = (((y + oy) * w + x + ox) * 4) as usize;
        frame[i..i + 3].fill(p.0[0]);
    }
    frame
}

criterion_group!(benches, bench);
criterion_main!(benches);
