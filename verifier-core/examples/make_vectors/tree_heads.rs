//! `vectors-6.json`: bundles of container 2 (FORMAT.md §6), which carry the transparency log's
//! signed tree head (§12.4) after the status lists. A reader verifies the head against its
//! pinned roots when it loads the bundle and refuses the whole bundle if it does not verify; a
//! bundle of container 1 carries none and stays valid.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verifier_core::bundle::{self, Bundle};
use verifier_core::keys::{Namespace, SecretKey};
use verifier_core::log::Checkpoint as TreeHead;
use verifier_core::payload;
use verifier_core::verify::Checkpoint;

use super::{Case, DAY, HOUR, T, World, draft, hex, key, permit, refused};

/// A note whose body is `body` as given (well-formed or not), signed by `signers`.
fn note(body: &str, signers: &[&SecretKey]) -> String {
    let mut out = format!("{body}\n");
    for k in signers {
        let sig = k.sign(Namespace::LogCheckpoint, &[body.as_bytes()]);
        out.push_str(&format!("\u{2014} {} {}\n", k.id(), hex(&sig)));
    }
    out
}

pub(crate) fn document(w: &World) -> Result<(Value, usize), Box<dyn std::error::Error>> {
    let at = T - HOUR;
    let trust = w.trust(at);
    let (za, ke) = (w.za_status(at), w.ke_status(at));
    let lists: [&[u8]; 2] = [&za, &ke];
    let head = TreeHead {
        size: 1_000_003,
        root: Sha256::digest(b"permitseal test tree of 1000003 leaves").into(),
        time: at + 120,
    };
    let root = &w.roots[0];
    let other = key("root-2");
    let with = |note: &str| bundle::encode_with_tree_head(&trust, &lists, note);
    let good = with(&head.sign(&[root]));
    let body = head.body();
    // The container-2 prefix with the lists and nothing after them.
    let mut bare = bundle::encode(&trust, &lists);
    bare[..4].copy_from_slice(bundle::MAGIC_2);
    let mut empty = bare.clone();
    empty.push(0);
    let mut trailing = good.clone();
    trailing.push(0);
    let valid = payload::sign(
        &permit(&draft(1, "II", "C"), "ZA", T - 3 * DAY, 4511),
        &w.za,
    );

    let mut cases = vec![];
    let mut case = |name, description, bundle: &[u8]| {
        cases.push(Case::at_t(
            name,
            description,
            valid.clone(),
            bundle,
            Checkpoint::Export,
        ));
    };
    case(
        "valid-bundle-with-tree-head",
        "A bundle of container 2 whose tree head the pinned root signed: accepted, the head is size 1000003 with its root and time; the permit verifies as with container 1.",
        &good,
    );
    case(
        "valid-bundle-tree-head-two-roots",
        "The head signed by an unpinned root and then by the pinned one (a root rotation): the unpinned line is skipped, accepted.",
        &with(&head.sign(&[&other, root])),
    );
    case(
        "valid-bundle-container-1-without-tree-head",
        "The same lists in container 1: accepted, no tree head (a server before the log, or a reader that did not ask).",
        &w.bundle(at),
    );
    case(
        "refused-bundle-tree-head-unpinned-root",
        "The head signed only by a root the reader does not pin: the whole bundle is refused.",
        &with(&head.sign(&[&other])),
    );
    case(
        "refused-bundle-tree-head-altered-size",
        "The head's size changed after signing: its signature fails, the whole bundle is refused.",
        &with(&head.sign(&[root]).replacen("\n1000003\n", "\n1000004\n", 1)),
    );
    case(
        "refused-bundle-tree-head-leading-zero",
        "A head whose size has a leading zero, validly signed: not canonical, refused.",
        &with(&note(
            &body.replacen("\n1000003\n", "\n01000003\n", 1),
            &[root],
        )),
    );
    case(
        "refused-bundle-tree-head-other-origin",
        "A head of another origin line (permitseal/v2/log), validly signed: refused.",
        &with(&note(&body.replacen("/v1/", "/v2/", 1), &[root])),
    );
    case(
        "refused-bundle-tree-head-upper-case-root",
        "A head whose root is written in upper-case hex, validly signed: refused.",
        &with(&note(
            &body.replace(&hex(&head.root), &hex(&head.root).to_uppercase()),
            &[root],
        )),
    );
    case(
        "refused-bundle-tree-head-no-signature",
        "A head with its body and the empty line but no signature line: refused.",
        &with(&note(&body, &[])),
    );
    case(
        "refused-bundle-tree-head-empty",
        "Container 2 with a tree head of length 0: refused.",
        &empty,
    );
    case(
        "refused-bundle-tree-head-missing",
        "Container 2 that ends after the status lists: refused.",
        &bare,
    );
    case(
        "refused-bundle-tree-head-trailing-byte",
        "A byte after the tree head: refused.",
        &trailing,
    );

    let pins = [root.public().clone()];
    let mut names = BTreeSet::new();
    let mut out = vec![];
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case {}", c.name);
        let expected = match Bundle::from_bytes(&c.bundle, &pins) {
            Err(_) => {
                let mut e = refused(c);
                e["tree_head"] = Value::Null;
                e
            }
            Ok(b) => {
                assert!(
                    !c.name.starts_with("refused-"),
                    "{}: bundle accepted",
                    c.name
                );
                let mut e = c.expected(&b.trust, &b.status);
                e["bundle"] = "accepted".into();
                e["deltas"] = json!([]);
                e["tree_head"] = b.tree_head.map_or(
                    Value::Null,
                    |h| json!({"size": h.size, "root": hex(&h.root), "time": h.time}),
                );
                e
            }
        };
        let mut v = c.to_json(expected);
        v["deltas"] = json!([]);
        out.push(v);
    }
    let n = out.len();
    Ok((
        json!({
            "format": "permitseal test vectors, format version 1 (bundles of container 2: the transparency log's signed tree head, FORMAT.md §6, §12.4)",
            "note": "Append-only. Fields as in vectors-2.json, and expected.tree_head: the head a reader gets from an accepted bundle ({size, root as lower-case hex, time}), null for container 1; a bundle whose head does not verify against root_public_keys is refused whole. Keys are test keys: seed = SHA-256(\"permitseal test key: \" + label).",
            "root_public_keys": [hex(&w.roots[0].public().to_bytes())],
            "keys": {
                "root-1": hex(&w.roots[0].public().to_bytes()),
                "root-2": hex(&other.public().to_bytes()),
                "za-2026": hex(&w.za.public().to_bytes()),
                "ke-2026": hex(&w.ke_new.public().to_bytes()),
            },
            "cases": out,
        }),
        n,
    ))
}
