//! `vectors-5.json`: a document cancelled on import (FORMAT.md §5 format 2, §7 step 8). ZA's
//! status list holds index 4603 in state 4; it is carried by a format-2 list in the bundle, or
//! reached by a format-2 delta from the format-1 list every earlier file uses.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use verifier_core::bundle::{self, Bundle};
use verifier_core::payload;
use verifier_core::status::{PermitState, StatusDelta, StatusList};
use verifier_core::verify::Checkpoint;

use super::{Case, DAY, HOUR, T, World, draft, hex, permit};

/// ZA's list of `World::za_status` with 4603 cancelled on import: a format-2 list.
fn za_cancelled(w: &World, issued_at: i64) -> Vec<u8> {
    let mut l = StatusList::new(1, 43, issued_at);
    l.set(4999, PermitState::Valid);
    l.set(4600, PermitState::Revoked);
    l.set(4601, PermitState::Suspended);
    l.set(4602, PermitState::Used);
    l.set(4603, PermitState::CancelledOnImport);
    l.sign(&w.za)
}

pub(crate) fn document(w: &World) -> Result<(Value, usize), Box<dyn std::error::Error>> {
    let issued = T - 3 * DAY;
    let export =
        |index: u32| payload::sign(&permit(&draft(1, "II", "C"), "ZA", issued, index), &w.za);
    let at = T - HOUR;
    let cancelled = bundle::encode(&w.trust(at), &[&za_cancelled(w, at), &w.ke_status(at)]);
    // The format-1 list of the earlier files (version 42, 4602 used), then the import of 4602
    // confirmed: a delta 42 → 43 to state 4, which format 2 writes in three bits.
    let old = w.bundle(T - 2 * HOUR);
    let delta = StatusDelta {
        authority: 1,
        from_version: 42,
        to_version: 43,
        issued_at: at,
        size: 5000,
        changes: BTreeMap::from([(4602, PermitState::CancelledOnImport)]),
    }
    .sign(&w.za);

    let mut cases = vec![];
    let mut case =
        |name, description, qr: String, bundle: &[u8], deltas: Vec<Vec<u8>>, checkpoint| {
            let mut c = Case::at_t(name, description, qr, bundle, checkpoint);
            c.deltas = deltas;
            cases.push(c);
        };
    case(
        "invalid-cancelled-on-import-at-import",
        "An export permit whose import the importing authority confirmed, presented at an import checkpoint again: CANCELLED_ON_IMPORT (a format-2 status list).",
        export(4603),
        &cancelled,
        vec![],
        Checkpoint::Import,
    );
    case(
        "invalid-cancelled-on-import-at-export",
        "The same permit presented for export again: CANCELLED_ON_IMPORT.",
        export(4603),
        &cancelled,
        vec![],
        Checkpoint::Export,
    );
    case(
        "warning-cancelled-on-import-at-inspection",
        "The same permit checked inland: the specimen was imported, the document serves no further trade; a warning.",
        export(4603),
        &cancelled,
        vec![],
        Checkpoint::Inspection,
    );
    case(
        "valid-other-permit-in-format-2-list",
        "Another permit of the same format-2 list, not endorsed, at export: valid (format 2 changes nothing else).",
        export(4511),
        &cancelled,
        vec![],
        Checkpoint::Export,
    );
    case(
        "invalid-cancelled-on-import-by-delta",
        "A used permit (format-1 list, version 42) whose import is then confirmed: the format-2 delta 42 → 43 cancels it; at import, CANCELLED_ON_IMPORT.",
        export(4602),
        &old,
        vec![delta],
        Checkpoint::Import,
    );

    let pins = [w.roots[0].public().clone()];
    let mut names = BTreeSet::new();
    let mut out = vec![];
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case {}", c.name);
        let mut b = Bundle::from_bytes(&c.bundle, &pins)?;
        let deltas: Vec<&str> = c
            .deltas
            .iter()
            .map(|d| match b.status.apply_delta(d, &b.trust) {
                Ok(_) => "applied",
                Err(_) => "refused",
            })
            .collect();
        assert!(!deltas.contains(&"refused"), "{}: {deltas:?}", c.name);
        let mut e = c.expected(&b.trust, &b.status);
        e["bundle"] = "accepted".into();
        e["deltas"] = deltas.into();
        let mut v = c.to_json(e);
        v["deltas"] = c.deltas.iter().map(|d| hex(d)).collect();
        out.push(v);
    }
    let n = out.len();
    Ok((
        json!({
            "format": "permitseal test vectors, format version 1 (cancelled on import: status lists and deltas of format 2, FORMAT.md §5, §7 step 8)",
            "note": "Append-only. Fields as in vectors-2.json (bundle, then deltas applied in turn, then the QR text verified). Status lists and deltas here may be of format 2 (state 4, cancelled on import). Keys are test keys: seed = SHA-256(\"permitseal test key: \" + label).",
            "root_public_keys": [hex(&w.roots[0].public().to_bytes())],
            "keys": w.keys(),
            "cases": out,
        }),
        n,
    ))
}
