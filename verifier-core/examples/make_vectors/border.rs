//! `vectors-4.json`: the checkpoints at the border (FORMAT.md §7 step 8): an import permit and
//! a multi-use certificate at an import checkpoint (not "not endorsed"), a multi-use
//! certificate whose crossings are recorded still valid at export, and the inspection
//! checkpoint (status and validity only).

use std::collections::BTreeSet;

use serde_json::{Value, json};
use verifier_core::bundle::Bundle;
use verifier_core::payload;
use verifier_core::permit::PermitDraft;
use verifier_core::verify::Checkpoint;

use super::{Case, DAY, HOUR, T, World, draft, hex, permit};

/// The fixture draft with another document type; `edit` changes its JSON further.
fn retyped(document_type: &str, edit: impl FnOnce(&mut Value)) -> PermitDraft {
    let mut v = serde_json::to_value(draft(1, "II", "C")).unwrap_or_else(|e| unreachable!("{e}"));
    v["document_type"] = json!(document_type);
    edit(&mut v);
    serde_json::from_value(v).unwrap_or_else(|e| unreachable!("fixture draft: {e}"))
}

pub(crate) fn document(w: &World) -> Result<(Value, usize), Box<dyn std::error::Error>> {
    let fresh = w.bundle(T - HOUR);
    let issued = T - 3 * DAY;
    // ZA imports from FR: the importing country issues the import permit.
    let import = retyped("import", |v| {
        v["exporter"]["country"] = json!("FR");
        v["importer"]["country"] = json!("ZA");
    });
    let import = payload::sign(&permit(&import, "ZA", issued, 4511), &w.za);
    // A musical instrument certificate of a ZA owner: no importer.
    let instrument = retyped("musical_instrument", |v| {
        v["purpose"] = json!("Q");
        if let Some(o) = v.as_object_mut() {
            o.remove("importer");
        }
    });
    let instrument = payload::sign(&permit(&instrument, "ZA", issued, 4511), &w.za);
    let export =
        |index: u32| payload::sign(&permit(&draft(1, "II", "C"), "ZA", issued, index), &w.za);

    let mut cases = vec![];
    let mut case = |name, description, qr: String, checkpoint| {
        cases.push(Case::at_t(name, description, qr, &fresh, checkpoint));
    };
    case(
        "valid-import-permit-at-import",
        "An import permit (type 3, issued by the importing country) at an import checkpoint: no export endorsement is expected, so no NOT_ENDORSED.",
        import,
        Checkpoint::Import,
    );
    case(
        "valid-multi-use-at-import",
        "A musical instrument certificate (type 10) entering a country: its crossings never use it up, so no NOT_ENDORSED.",
        instrument.clone(),
        Checkpoint::Import,
    );
    case(
        "valid-multi-use-crossing-at-export",
        "The same certificate leaving again after recorded crossings: its state stays valid, it is accepted.",
        instrument,
        Checkpoint::Export,
    );
    case(
        "valid-inspection-not-endorsed",
        "An export permit not yet endorsed, checked inland: no export or import expectation.",
        export(4511),
        Checkpoint::Inspection,
    );
    case(
        "valid-inspection-endorsed",
        "A used (export-endorsed) permit checked inland: info ENDORSED, not USED.",
        export(4602),
        Checkpoint::Inspection,
    );
    case(
        "invalid-inspection-revoked",
        "A revoked permit checked inland is refused as anywhere.",
        export(4600),
        Checkpoint::Inspection,
    );

    let pins = [w.roots[0].public().clone()];
    let mut names = BTreeSet::new();
    let mut out = vec![];
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case {}", c.name);
        let b = Bundle::from_bytes(&c.bundle, &pins)?;
        out.push(c.to_json(c.expected(&b.trust, &b.status)));
    }
    let n = out.len();
    Ok((
        json!({
            "format": "permitseal test vectors, format version 1 (checkpoints at the border, FORMAT.md §7 step 8)",
            "note": "Append-only. Fields as in vectors.json; checkpoint may also be \"inspection\". Keys are test keys: seed = SHA-256(\"permitseal test key: \" + label).",
            "root_public_keys": [hex(&w.roots[0].public().to_bytes())],
            "keys": w.keys(),
            "cases": out,
        }),
        n,
    ))
}
