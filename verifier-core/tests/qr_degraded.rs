//! The image decoder on the degraded-image set in `test-vectors/qr-images` (downscaled,
//! blurred, rotated, skewed, JPEG, speckled, stained): it must read at least as many as ZBar
//! does on the same files, and never return text other than the code's.
#![cfg(feature = "image")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::Command;

use serde_json::Value;
use verifier_core::qr::decode_image;

fn dir() -> String {
    format!("{}/../test-vectors/qr-images", env!("CARGO_MANIFEST_DIR"))
}

fn manifest() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{}/manifest.json", dir())).unwrap())
        .unwrap()
}

/// What ZBar reads from one file, or `None` when it reads nothing.
fn zbar(path: &str) -> Option<String> {
    let out = Command::new("zbarimg")
        .args(["-q", "--raw", "-Sdisable", "-Sqrcode.enable", path])
        .output()
        .expect("zbarimg (apt package zbar-tools) is needed for this comparison");
    out.status.success().then(|| {
        String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .to_owned()
    })
}

#[test]
fn reads_at_least_what_zbar_reads_and_never_misreads() {
    let m = manifest();
    let texts: Vec<&str> = m["texts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    let images = m["images"].as_array().unwrap();
    assert!(images.len() >= 60);
    let (mut ours, mut theirs) = (0, 0);
    let mut report = String::new();
    for e in images {
        let file = e["file"].as_str().unwrap();
        let path = format!("{}/{file}", dir());
        let want = texts[e["text"].as_u64().unwrap() as usize];
        let got = decode_image(&std::fs::read(&path).unwrap()).ok();
        if let Some(text) = &got {
            assert_eq!(text, want, "{file}: read text that is not the code's");
            ours += 1;
        }
        let z = zbar(&path);
        if let Some(text) = &z {
            assert_eq!(text, want, "{file}: zbar misread");
            theirs += 1;
        }
        report.push_str(&format!(
            "{file}: ours {} zbar {}\n",
            if got.is_some() { "read" } else { "-" },
            if z.is_some() { "read" } else { "-" }
        ));
    }
    println!(
        "{report}ours {ours}/{n}, zbar {theirs}/{n}",
        n = images.len()
    );
    assert!(ours >= theirs, "{report}ours {ours} < zbar {theirs}");
}
