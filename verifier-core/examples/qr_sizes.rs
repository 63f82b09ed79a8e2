//! Prints the payload and QR sizes of realistic permits of 1, 2, 4 and 8 lines, and the size
//! of a signed status list for one million permits with 1 % revoked.
//!
//! `cargo run -p verifier-core --example qr_sizes`

use verifier_core::keys::SecretKey;
use verifier_core::payload;
use verifier_core::permit::{IssueContext, Permit, PermitDraft};
use verifier_core::qr::{Ecc, version};
use verifier_core::status::{PermitState, StatusList};
use verifier_core::wire::base45_decode;

/// Real-world-length line items: names, terms and quantities as they appear on permits.
const LINES: &[(&str, &str, &str, &str, &str, &str, &str)] = &[
    (
        "Crocodylus niloticus",
        "animal",
        "SKI",
        "II",
        "C",
        "250",
        "NAR",
    ),
    (
        "Python reticulatus",
        "animal",
        "SKI",
        "II",
        "W",
        "1200",
        "NAR",
    ),
    (
        "Aquilaria malaccensis",
        "plant",
        "CHP",
        "II",
        "W",
        "350.5",
        "KIL",
    ),
    (
        "Pterocarpus santalinus",
        "plant",
        "LOG",
        "II",
        "W",
        "12.75",
        "MTQ",
    ),
    (
        "Varanus salvator",
        "animal",
        "SKP",
        "II",
        "W",
        "3400",
        "NAR",
    ),
    ("Psittacus erithacus", "animal", "LIV", "I", "C", "6", "NAR"),
    (
        "Dalbergia cochinchinensis",
        "plant",
        "SAW",
        "II",
        "A",
        "4.2",
        "MTQ",
    ),
    (
        "Hippopotamus amphibius",
        "animal",
        "TEE",
        "II",
        "W",
        "18.4",
        "KIL",
    ),
];

fn draft(lines: usize) -> PermitDraft {
    let items: Vec<serde_json::Value> = LINES[..lines]
        .iter()
        .map(|(name, kingdom, term, app, src, qty, unit)| {
            serde_json::json!({
                "scientific_name": name, "kingdom": kingdom, "term": term,
                "appendix": app, "source": src, "quantity": qty, "unit": unit,
                "common_name": "as printed in box 8",
                "description": "as printed in box 9, with marks",
            })
        })
        .collect();
    let value = serde_json::json!({
        "document_type": "export",
        "number": "ZA/GP/2026/004512",
        "valid_until": "2027-05-28",
        "purpose": "T",
        "security_stamp": "ZA0123456",
        "exporter": {"name": "Nile Crocodile Farming Pty Ltd", "country": "ZA",
                     "address": "Plot 14, Hartbeespoort, North West, South Africa"},
        "importer": {"name": "Tanneries du Puy Industrie SAS", "country": "FR",
                     "address": "12 rue des Tanneurs, 43000 Le Puy-en-Velay, France"},
        "lines": items,
    });
    match serde_json::from_value(value) {
        Ok(d) => d,
        Err(e) => unreachable!("example draft is well-formed: {e}"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = SecretKey::from_seed(&[7; 32]);
    let ctx = IssueContext {
        issuing_country: "ZA".parse()?,
        // 2026-11-29T08:15:00Z
        issued_at: 1_795_940_100,
        status_index: 418_207,
    };
    println!("| lines | payload_bytes | qr_chars | version_M | version_Q |");
    println!("|---|---|---|---|---|");
    for lines in [1, 2, 4, 8] {
        let permit = Permit::new(&draft(lines), ctx)?;
        let text = payload::sign(&permit, &key);
        let bytes = base45_decode(&text[payload::PREFIX.len()..])?.len();
        println!(
            "| {lines} | {bytes} | {} | {} | {} |",
            text.len(),
            version(&text, Ecc::M)?,
            version(&text, Ecc::Q)?
        );
    }

    let mut states = vec![PermitState::Valid; 1_000_000];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for s in states.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x.is_multiple_of(100) {
            *s = PermitState::Revoked;
        }
    }
    let revoked = states
        .iter()
        .filter(|s| **s == PermitState::Revoked)
        .count();
    let signed = StatusList::from_states(1, 1, ctx.issued_at, &states).sign(&key);
    println!();
    println!(
        "status list: 1,000,000 permits, {revoked} revoked ({:.2} %): {} bytes signed",
        revoked as f64 / 10_000.0,
        signed.len()
    );
    Ok(())
}
