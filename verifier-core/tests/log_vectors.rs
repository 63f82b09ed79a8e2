//! The transparency log vectors (`test-vectors/v1/log.json`, FORMAT.md §12): leaf bytes and
//! hashes, and the core's inclusion, consistency and checkpoint checks give each case's answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::Value;
use verifier_core::keys::PublicKey;
use verifier_core::log::{Checkpoint, Hash, Leaf, digest, verify_consistency, verify_inclusion};

fn hash(v: &Value) -> Hash {
    hex::decode(v.as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap()
}

fn hashes(v: &Value) -> Vec<Hash> {
    v.as_array().unwrap().iter().map(hash).collect()
}

fn load() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-vectors/v1/log.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn log_vectors() {
    let doc = load();
    let mut leaves = Vec::new();
    for (i, l) in doc["leaves"].as_array().unwrap().iter().enumerate() {
        let leaf = Leaf {
            seq: l["seq"].as_u64().unwrap(),
            at: l["at"].as_i64().unwrap(),
            authority: l["authority"].as_str().unwrap(),
            actor: l["actor"].as_str().unwrap(),
            kind: l["kind"].as_str().unwrap(),
            subject: l["subject"].as_str().unwrap(),
            digest: digest(l["particulars"].as_str().unwrap().as_bytes()),
        };
        assert_eq!(leaf.seq, i as u64);
        assert_eq!(hex::encode(leaf.encode().unwrap()), l["leaf"], "leaf {i}");
        assert_eq!(leaf.hash().unwrap(), hash(&l["leaf_hash"]), "leaf {i}");
        leaves.push(leaf.hash().unwrap());
    }
    let roots: Vec<Hash> = doc["roots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| hash(&r["root"]))
        .collect();
    for c in doc["inclusion"].as_array().unwrap() {
        let (index, size) = (c["index"].as_u64().unwrap(), c["size"].as_u64().unwrap());
        let ok = verify_inclusion(
            index,
            size,
            &leaves[index as usize],
            &hashes(&c["proof"]),
            &roots[size as usize],
        )
        .is_ok();
        assert_eq!(ok, c["valid"].as_bool().unwrap(), "{c}");
    }
    for c in doc["consistency"].as_array().unwrap() {
        let (first, second) = (c["first"].as_u64().unwrap(), c["second"].as_u64().unwrap());
        let ok = verify_consistency(
            first,
            second,
            &roots[first as usize],
            &roots[second as usize],
            &hashes(&c["proof"]),
        )
        .is_ok();
        assert_eq!(ok, c["valid"].as_bool().unwrap(), "{c}");
    }
    let key: [u8; 32] = hash(&doc["root_public_key"]);
    let root = PublicKey::from_bytes(&key).unwrap();
    assert_eq!(root.id().to_string(), doc["root_key_id"]);
    for c in doc["checkpoints"].as_array().unwrap() {
        let got = Checkpoint::from_signed(c["note"].as_str().unwrap(), std::slice::from_ref(&root));
        assert_eq!(got.is_ok(), c["valid"].as_bool().unwrap(), "{c}");
        if let Ok(cp) = got {
            assert_eq!(cp.size, c["size"].as_u64().unwrap());
            assert_eq!(cp.root, hash(&c["root"]));
            assert_eq!(cp.root, roots[cp.size as usize]);
            assert_eq!(cp.time, c["time"].as_i64().unwrap());
        }
    }
}
