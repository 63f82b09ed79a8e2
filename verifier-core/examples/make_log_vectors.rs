//! Writes the transparency log vectors (docs/FORMAT.md §12) to `test-vectors/v1/log.json`.
//!
//! `cargo run -p verifier-core --example make_log_vectors -- test-vectors/v1/log.json`
//!
//! Roots and proofs are computed here by RFC 9162's recursive definitions straight from the
//! leaf list (not by the server's stored-subtree code), so the vectors check both. Ed25519 is
//! deterministic: the program refuses to write unless the file is absent or the bytes are
//! identical (the files are append-only).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verifier_core::keys::SecretKey;
use verifier_core::log::{
    Checkpoint, Hash, Leaf, digest, empty_root, leaf_hash, node_hash, verify_consistency,
    verify_inclusion,
};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn split(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if leaves.len() <= 1 {
        return Vec::new();
    }
    let k = split(leaves.len());
    let (mut p, sibling) = if m < k {
        (path(m, &leaves[..k]), mth(&leaves[k..]))
    } else {
        (path(m - k, &leaves[k..]), mth(&leaves[..k]))
    };
    p.push(sibling);
    p
}

fn subproof(m: usize, leaves: &[Hash], whole: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if whole { Vec::new() } else { vec![mth(leaves)] };
    }
    let k = split(n);
    let (mut p, sibling) = if m <= k {
        (subproof(m, &leaves[..k], whole), mth(&leaves[k..]))
    } else {
        (subproof(m - k, &leaves[k..], false), mth(&leaves[..k]))
    };
    p.push(sibling);
    p
}

fn hexes(v: &[Hash]) -> Vec<String> {
    v.iter().map(|h| hex(h)).collect()
}

/// 2026-11-29T08:00:00Z, as in the other vector files.
const NOW: i64 = 1_795_939_200;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "test-vectors/v1/log.json".to_owned());
    let seed: [u8; 32] = Sha256::digest(b"permitseal test key: log root").into();
    let root_key = SecretKey::from_seed(&seed);
    let other: [u8; 32] = Sha256::digest(b"permitseal test key: log other").into();
    let other = SecretKey::from_seed(&other);

    // A morning at one authority, in the kinds the server records.
    let events: [(&str, &str, &str, &str, String); 13] = [
        (
            "",
            "server",
            "root_key.create",
            "",
            "kid=0f1e2d3c4b5a".into(),
        ),
        (
            "",
            "cli",
            "authority.create",
            "",
            "country=KE name=KWS".into(),
        ),
        ("KE", "cli", "key.generate", "", "kid=a1b2c3d4e5f6".into()),
        (
            "KE",
            "cli",
            "token.create",
            "",
            "role=issuer authority=KE".into(),
        ),
        (
            "KE",
            "tok_3f",
            "permit.issue",
            "permit/KE/KE/2026/0001",
            "index=0 version=1".into(),
        ),
        (
            "KE",
            "tok_3f",
            "permit.issue",
            "permit/KE/KE/2026/0002",
            "index=1 version=2".into(),
        ),
        (
            "KE",
            "tok_3f",
            "permit.suspend",
            "permit/KE/KE/2026/0001",
            "number=KE/2026/0001 index=0 version=3 reason=query".into(),
        ),
        (
            "KE",
            "tok_3f",
            "permit.reinstate",
            "permit/KE/KE/2026/0001",
            "number=KE/2026/0001 index=0 version=4 reason=cleared".into(),
        ),
        (
            "KE",
            "tok_3f",
            "permit.issue",
            "permit/KE/KE/2026/0003",
            "index=2 version=5".into(),
        ),
        (
            "KE",
            "tok_3f",
            "key.rotate",
            "",
            "old=a1b2c3d4e5f6 new=b2c3d4e5f6a7".into(),
        ),
        (
            "KE",
            "tok_3f",
            "permit.revoke",
            "permit/KE/KE/2026/0002",
            "number=KE/2026/0002 index=1 version=6 reason=fraud".into(),
        ),
        (
            "",
            "tok_9a",
            "location.set",
            "",
            "KEMBA -4.05 39.67 Mombasa, Kenya".into(),
        ),
        (
            "KE",
            "tok_3f",
            "permit.issue",
            "permit/KE/KE/2026/0004 \u{e9}",
            "index=3 version=7".into(),
        ),
    ];
    let mut leaves = Vec::new();
    let mut hashes = Vec::new();
    for (seq, (authority, actor, kind, subject, particulars)) in events.iter().enumerate() {
        let leaf = Leaf {
            seq: seq as u64,
            at: NOW + 60 * seq as i64,
            authority,
            actor,
            kind,
            subject,
            digest: digest(particulars.as_bytes()),
        };
        let bytes = leaf.encode()?;
        let h = leaf_hash(&bytes);
        assert_eq!(leaf.hash()?, h);
        hashes.push(h);
        leaves.push(json!({
            "seq": leaf.seq, "at": leaf.at, "authority": authority, "actor": actor,
            "kind": kind, "subject": subject, "particulars": particulars,
            "digest": hex(&leaf.digest), "leaf": hex(&bytes), "leaf_hash": hex(&h),
        }));
    }
    let n = hashes.len();
    let roots: Vec<Value> = (0..=n)
        .map(|size| json!({"size": size, "root": hex(&mth(&hashes[..size]))}))
        .collect();
    let mut inclusion = Vec::new();
    for size in 1..=n {
        for index in 0..size {
            let p = path(index, &hashes[..size]);
            verify_inclusion(
                index as u64,
                size as u64,
                &hashes[index],
                &p,
                &mth(&hashes[..size]),
            )
            .map_err(|e| format!("inclusion {index}/{size}: {e}"))?;
            inclusion
                .push(json!({"index": index, "size": size, "proof": hexes(&p), "valid": true}));
        }
    }
    let mut consistency = Vec::new();
    for second in 1..=n {
        for first in 1..=second {
            let p = subproof(first, &hashes[..second], true);
            verify_consistency(
                first as u64,
                second as u64,
                &mth(&hashes[..first]),
                &mth(&hashes[..second]),
                &p,
            )
            .map_err(|e| format!("consistency {first}/{second}: {e}"))?;
            consistency
                .push(json!({"first": first, "second": second, "proof": hexes(&p), "valid": true}));
        }
    }
    // Proofs that must fail: a flipped bit, a dropped hash, the wrong index.
    let mut bad = path(5, &hashes[..11]);
    bad[1][0] ^= 1;
    inclusion.push(json!({"index": 5, "size": 11, "proof": hexes(&bad), "valid": false}));
    let short = path(5, &hashes[..11]);
    inclusion.push(
        json!({"index": 5, "size": 11, "proof": hexes(&short[..short.len() - 1]), "valid": false}),
    );
    inclusion.push(
        json!({"index": 6, "size": 11, "proof": hexes(&path(5, &hashes[..11])), "valid": false}),
    );
    let mut bad = subproof(6, &hashes[..13], true);
    bad[0][31] ^= 0x80;
    consistency.push(json!({"first": 6, "second": 13, "proof": hexes(&bad), "valid": false}));
    consistency.push(json!({"first": 7, "second": 13, "proof": hexes(&subproof(6, &hashes[..13], true)), "valid": false}));

    let mut checkpoints = Vec::new();
    for (size, time) in [(7usize, NOW + 400), (13, NOW + 800), (0, NOW)] {
        let cp = Checkpoint {
            size: size as u64,
            root: mth(&hashes[..size]),
            time,
        };
        checkpoints.push(json!({"note": cp.sign(&[&root_key]), "size": size, "root": hex(&cp.root), "time": time, "valid": true}));
    }
    let cp = Checkpoint {
        size: 13,
        root: mth(&hashes[..13]),
        time: NOW + 800,
    };
    checkpoints.push(json!({"note": cp.sign(&[&other, &root_key]), "size": 13, "root": hex(&cp.root), "time": NOW + 800, "valid": true,
        "description": "signed by an unknown key and by the root: the root's signature suffices"}));
    checkpoints.push(json!({"note": cp.sign(&[&other]), "valid": false, "description": "signed by a key that is not a root"}));
    checkpoints.push(json!({"note": cp.sign(&[&root_key]).replacen("\n13\n", "\n12\n", 1), "valid": false, "description": "size changed after signing"}));
    checkpoints.push(json!({"note": cp.sign(&[&root_key]).replacen("\n13\n", "\n013\n", 1), "valid": false, "description": "size not in canonical decimal"}));

    let doc = json!({
        "note": "Transparency log vectors (docs/FORMAT.md §12). Test key: seed = SHA-256(\"permitseal test key: log root\"); never trust it. `leaf` is the canonical leaf (§12.1) and `leaf_hash` = SHA-256(0x00 || leaf); roots, inclusion and consistency proofs follow RFC 9162 §2.1 (proof hashes in the RFC's order); each checkpoint note is verified with `root_public_key`.",
        "origin": verifier_core::log::ORIGIN,
        "root_public_key": hex(&root_key.public().to_bytes()),
        "root_key_id": root_key.id().to_string(),
        "leaves": leaves,
        "roots": roots,
        "inclusion": inclusion,
        "consistency": consistency,
        "checkpoints": checkpoints,
    });
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    match std::fs::read_to_string(&out) {
        Ok(existing) if existing == text => println!("{out}: unchanged"),
        Ok(_) => {
            return Err(format!(
                "{out} exists and differs: vectors are append-only; add a new file"
            )
            .into());
        }
        Err(_) => {
            std::fs::write(&out, text)?;
            println!("{out}: wrote {n} leaves");
        }
    }
    Ok(())
}
