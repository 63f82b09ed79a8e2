//! `cargo bench -p verifier-core --bench verify`
//!
//! `verify/raw_ed25519_strict` is ed25519-dalek's `verify_strict` alone on the exact message
//! a permit signature covers; `verify/full_offline` is text to verdict: prefix, Base45,
//! decoding, key lookup, signature, rules, status lookup and the result the screen shows.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signature, VerifyingKey};
use verifier_core::keys::{Namespace, SecretKey};
use verifier_core::permit::{IssueContext, Permit, PermitDraft};
use verifier_core::status::{PermitState, StatusList, StatusSet};
use verifier_core::trust::{Authority, KeyStatus, TrustList, TrustedKey};
use verifier_core::{Verdict, payload, verify};

const NOW: i64 = 1_795_939_200;

fn bench(c: &mut Criterion) {
    let ma = SecretKey::from_seed(&[2; 32]);
    let draft: PermitDraft = serde_json::from_value(serde_json::json!({
        "document_type": "export", "number": "ZA/GP/2026/004512", "valid_until": "2027-05-01",
        "purpose": "T", "security_stamp": "ZA0123456",
        "exporter": {"name": "Nile Crocodile Farming Pty Ltd", "country": "ZA", "address": "Plot 14, Hartbeespoort"},
        "importer": {"name": "Tanneries du Puy Industrie SAS", "country": "FR"},
        "lines": [{"scientific_name": "Crocodylus niloticus", "kingdom": "animal", "term": "SKI",
                   "appendix": "II", "source": "C", "quantity": 250}]
    }))
    .unwrap();
    let ctx = IssueContext {
        issuing_country: "ZA".parse().unwrap(),
        issued_at: NOW - 86_400,
        status_index: 418_207,
    };
    let text = payload::sign(&Permit::new(&draft, ctx).unwrap(), &ma);
    // A realistic trust list: 184 Parties with two keys each, ours among them.
    let mut authorities = vec![];
    for i in 0..184u32 {
        let k1 = SecretKey::from_seed(&[
            (i % 250) as u8 + 3,
            1,
            (i / 250) as u8,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            9,
        ]);
        let k2 = SecretKey::from_seed(&[
            (i % 250) as u8 + 3,
            2,
            (i / 250) as u8,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            9,
        ]);
        let mut keys = vec![k1, k2];
        if i == 100 {
            keys.push(SecretKey::from_seed(&[2; 32]));
        }
        authorities.push(Authority {
            id: i + 1,
            country: if i == 100 {
                "ZA".parse().unwrap()
            } else {
                "FR".parse().unwrap()
            },
            name: format!("Authority {i}"),
            keys: keys
                .iter()
                .map(|k| TrustedKey {
                    key: k.public().clone(),
                    valid_from: 0,
                    valid_until: None,
                    status: KeyStatus::Good,
                })
                .collect(),
        });
    }
    let trust = TrustList::new(1, NOW - 3600, authorities).unwrap();
    let mut states = vec![PermitState::Valid; 1_000_000];
    for i in (0..1_000_000).step_by(97) {
        states[i] = PermitState::Revoked;
    }
    let mut status = StatusSet::new();
    status.insert(StatusList::from_states(101, 1, NOW - 3600, &states));
    assert_eq!(verify(&text, NOW, &trust, &status).verdict, Verdict::Valid);

    let env = payload::decode(&text).unwrap();
    let mut msg = Namespace::Permit.as_bytes().to_vec();
    msg.push(0);
    msg.extend_from_slice(&env.signed);
    let vk = VerifyingKey::from_bytes(&ma.public().to_bytes()).unwrap();
    let sig = Signature::from_bytes(&env.signature);

    let mut g = c.benchmark_group("verify");
    g.bench_function("raw_ed25519_strict", |b| {
        b.iter(|| vk.verify_strict(black_box(&msg), black_box(&sig)).unwrap())
    });
    g.bench_function("full_offline", |b| {
        b.iter(|| verify(black_box(&text), NOW, &trust, &status))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
