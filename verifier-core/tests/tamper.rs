//! Every single-bit flip and every truncation of a signed payload is rejected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use proptest::prelude::*;
use verifier_core::keys::SecretKey;
use verifier_core::permit::{IssueContext, Permit, PermitDraft};
use verifier_core::status::StatusSet;
use verifier_core::trust::TrustList;
use verifier_core::wire::{base45_decode, base45_encode};
use verifier_core::{Verdict, payload, verify};

const NOW: i64 = 1_795_939_200;

fn world() -> (String, TrustList, StatusSet) {
    let ma = SecretKey::from_seed(&[2; 32]);
    let draft: PermitDraft = serde_json::from_value(serde_json::json!({
        "document_type": "export", "number": "KE/2026/004512", "valid_until": "2027-05-01",
        "purpose": "T", "security_stamp": "KE0012345",
        "exporter": {"name": "Kenya Aloe Growers Ltd", "country": "KE", "address": "PO Box 1, Nanyuki"},
        "importer": {"name": "Phyto Extrakte GmbH", "country": "DE"},
        "lines": [
            {"scientific_name": "Aloe ferox", "kingdom": "plant", "term": "EXT", "appendix": "II",
             "source": "A", "quantity": "12.5", "unit": "KIL"},
            {"scientific_name": "Prunus africana", "kingdom": "plant", "term": "BAR", "appendix": "II",
             "source": "W", "quantity": "900", "unit": "KIL"}
        ]
    }))
    .unwrap();
    let ctx = IssueContext {
        issuing_country: "KE".parse().unwrap(),
        issued_at: NOW - 86_400,
        status_index: 17,
    };
    let text = payload::sign(&Permit::new(&draft, ctx).unwrap(), &ma);
    let (trust, set) = common::one_authority(&ma, "KE", "Kenya Wildlife Service", 40, NOW - 3600);
    (text, trust, set)
}

#[test]
fn the_untampered_payload_is_valid() {
    let (text, trust, status) = world();
    assert_eq!(verify(&text, NOW, &trust, &status).verdict, Verdict::Valid);
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let (text, trust, status) = world();
    let bytes = base45_decode(&text[4..]).unwrap();
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[i / 8] ^= 1 << (i % 8);
        let v = verify(&format!("PS1:{}", base45_encode(&b)), NOW, &trust, &status);
        assert_eq!(
            v.verdict,
            Verdict::Invalid,
            "bit {i} flipped: {:?}",
            v.codes()
        );
        assert!(
            v.permit.is_none(),
            "bit {i}: tampered data must not be shown"
        );
    }
}

#[test]
fn every_truncation_is_rejected() {
    let (text, trust, status) = world();
    for n in 0..text.len() {
        let v = verify(&text[..n], NOW, &trust, &status);
        assert_eq!(v.verdict, Verdict::Invalid, "truncated to {n} chars");
    }
    let bytes = base45_decode(&text[4..]).unwrap();
    for n in 0..bytes.len() {
        let v = verify(
            &format!("PS1:{}", base45_encode(&bytes[..n])),
            NOW,
            &trust,
            &status,
        );
        assert_eq!(v.verdict, Verdict::Invalid, "truncated to {n} bytes");
    }
}

proptest! {
    #[test]
    fn any_change_of_one_character_is_rejected(pos in 4usize..300, c in "[0-9A-Z $%*+./:-]") {
        let (text, trust, status) = world();
        let pos = pos.min(text.len() - 1);
        let mut chars: Vec<char> = text.chars().collect();
        let new = c.chars().next().unwrap();
        prop_assume!(chars[pos] != new);
        chars[pos] = new;
        let changed: String = chars.into_iter().collect();
        prop_assert_eq!(verify(&changed, NOW, &trust, &status).verdict, Verdict::Invalid);
    }
}
