//! Writes the shared conformance vectors to `test-vectors/v1/vectors.json`.
//!
//! `cargo run -p verifier-core --example make_vectors -- test-vectors/v1/vectors.json`
//!
//! Vectors are append-only: the program refuses to overwrite an existing file unless the
//! new content is identical (signatures are deterministic, so re-running proves the
//! generator still agrees with what was published). New cases go into a new file:
//! `vectors-2.json` beside the first (the errata of FORMAT.md §9, see `errata.rs`), and
//! `vectors-3.json` (text that deceives, FORMAT.md §11, see `text.rs`), and `vectors-4.json`
//! (checkpoints at the border, FORMAT.md §7, see `border.rs`), and `vectors-5.json` (cancelled
//! on import, status format 2, see `imports.rs`), and `vectors-6.json` (the log's signed tree
//! head in bundles of container 2, see `tree_heads.rs`).

mod border;
mod errata;
mod imports;
mod text;
mod tree_heads;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verifier_core::bundle;
use verifier_core::date::Date;
use verifier_core::keys::{Namespace, SecretKey};
use verifier_core::permit::{IssueContext, Permit, PermitDraft};
use verifier_core::status::{PermitState, StatusList, StatusSet};
use verifier_core::trust::{Authority, KeyStatus, TrustList, TrustedKey};
use verifier_core::verify::{Checkpoint, Policy, verify_with};
use verifier_core::wire::{base45_decode, base45_encode};
use verifier_core::{Verdict, payload};

/// 2026-11-29T08:00:00Z: the moment most vectors are checked at.
pub(crate) const T: i64 = 1_795_939_200;
pub(crate) const HOUR: i64 = 3600;
pub(crate) const DAY: i64 = 86_400;

/// Test keys are public by construction: seed = SHA-256("permitseal test key: " ‖ label).
pub(crate) fn key(label: &str) -> SecretKey {
    let seed: [u8; 32] = Sha256::digest(format!("permitseal test key: {label}").as_bytes()).into();
    SecretKey::from_seed(&seed)
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub(crate) fn draft(lines: usize, appendix: &str, source: &str) -> PermitDraft {
    let items = [
        ("Crocodylus niloticus", "animal", "SKI", "250", None),
        ("Python reticulatus", "animal", "SKI", "1200", None),
        (
            "Aquilaria malaccensis",
            "plant",
            "CHP",
            "350.5",
            Some("KIL"),
        ),
        (
            "Pterocarpus santalinus",
            "plant",
            "LOG",
            "12.75",
            Some("MTQ"),
        ),
    ];
    let lines: Vec<Value> = items[..lines]
        .iter()
        .enumerate()
        .map(|(i, (name, kingdom, term, qty, unit))| {
            let (app, src) = if i == 0 {
                (appendix, source)
            } else {
                ("II", if *kingdom == "plant" { "A" } else { "C" })
            };
            json!({"scientific_name": name, "kingdom": kingdom, "term": term, "appendix": app,
                   "source": src, "quantity": qty, "unit": unit,
                   "description": format!("block {} as printed", (b'A' + i as u8) as char)})
        })
        .collect();
    let v = json!({
        "document_type": "export", "number": "ZA/GP/2026/004512", "valid_until": "2027-05-28",
        "purpose": "T", "security_stamp": "ZA0123456",
        "exporter": {"name": "Nile Crocodile Farming Pty Ltd", "country": "ZA",
                     "address": "Plot 14, Hartbeespoort, South Africa"},
        "importer": {"name": "Tanneries du Puy Industrie SAS", "country": "FR",
                     "address": "12 rue des Tanneurs, 43000 Le Puy-en-Velay, France"},
        "lines": lines,
    });
    serde_json::from_value(v).unwrap_or_else(|e| unreachable!("fixture draft: {e}"))
}

/// Builds a fixture permit; without an explicit `valid_from` it is valid for the full six
/// months from its issue day.
pub(crate) fn permit(d: &PermitDraft, country: &str, issued_at: i64, index: u32) -> Permit {
    let mut d = d.clone();
    if d.valid_from.is_none() {
        d.valid_until = Date::from_unix(issued_at)
            .add_months(6)
            .add_days(-1)
            .to_string();
    }
    let d = &d;
    let ctx = IssueContext {
        issuing_country: country.parse().unwrap_or_else(|_| unreachable!()),
        issued_at,
        status_index: index,
    };
    Permit::new(d, ctx).unwrap_or_else(|e| unreachable!("fixture permit: {e}"))
}

pub(crate) struct World {
    pub(crate) roots: Vec<SecretKey>,
    pub(crate) za: SecretKey,
    pub(crate) za_old: SecretKey,
    pub(crate) ke: SecretKey,
    pub(crate) ke_new: SecretKey,
}

impl World {
    /// The test keys by label, as every vector file lists them.
    pub(crate) fn keys(&self) -> Value {
        json!({
            "root-1": hex(&self.roots[0].public().to_bytes()),
            "za-2026": hex(&self.za.public().to_bytes()),
            "za-2024": hex(&self.za_old.public().to_bytes()),
            "ke-2025": hex(&self.ke.public().to_bytes()),
            "ke-2026": hex(&self.ke_new.public().to_bytes()),
        })
    }

    pub(crate) fn trust(&self, issued_at: i64) -> Vec<u8> {
        let good = |k: &SecretKey, from: i64, until: Option<i64>| TrustedKey {
            key: k.public().clone(),
            valid_from: from,
            valid_until: until,
            status: KeyStatus::Good,
        };
        let authorities = vec![
            Authority {
                id: 1,
                country: "ZA".parse().unwrap_or_else(|_| unreachable!()),
                name: "Department of Forestry, Fisheries and the Environment".into(),
                keys: vec![
                    good(&self.za, T - 200 * DAY, None),
                    good(&self.za_old, T - 900 * DAY, Some(T - 200 * DAY)),
                ],
            },
            Authority {
                id: 2,
                country: "KE".parse().unwrap_or_else(|_| unreachable!()),
                name: "Kenya Wildlife Service".into(),
                keys: vec![
                    TrustedKey {
                        key: self.ke.public().clone(),
                        valid_from: T - 400 * DAY,
                        valid_until: None,
                        status: KeyStatus::Compromised {
                            since: T - 10 * DAY,
                        },
                    },
                    good(&self.ke_new, T - 10 * DAY, None),
                ],
            },
        ];
        TrustList::new(7, issued_at, authorities)
            .unwrap_or_else(|e| unreachable!("{e}"))
            .sign(&[&self.roots[0]])
    }

    /// ZA's list: indexes 0..5000 issued; 4600 revoked, 4601 suspended, 4602 used.
    pub(crate) fn za_status(&self, issued_at: i64) -> Vec<u8> {
        let mut l = StatusList::new(1, 42, issued_at);
        l.set(4999, PermitState::Valid);
        l.set(4600, PermitState::Revoked);
        l.set(4601, PermitState::Suspended);
        l.set(4602, PermitState::Used);
        l.sign(&self.za)
    }

    pub(crate) fn ke_status(&self, issued_at: i64) -> Vec<u8> {
        let mut l = StatusList::new(2, 9, issued_at);
        l.set(299, PermitState::Valid);
        // The compromised key can no longer sign status: its replacement does.
        l.sign(&self.ke_new)
    }

    pub(crate) fn bundle(&self, at: i64) -> Vec<u8> {
        bundle::encode(&self.trust(at), &[&self.za_status(at), &self.ke_status(at)])
    }
}

pub(crate) struct Case {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) qr: String,
    pub(crate) now: i64,
    pub(crate) bundle: Vec<u8>,
    /// Signed deltas applied in turn after the bundle (`vectors-2.json` only).
    pub(crate) deltas: Vec<Vec<u8>>,
    pub(crate) checkpoint: Checkpoint,
    pub(crate) time_floor: Option<i64>,
}

impl Case {
    /// A case checked at `T` with `bundle`, no deltas and no time floor.
    pub(crate) fn at_t(
        name: &'static str,
        description: &'static str,
        qr: String,
        bundle: &[u8],
        checkpoint: Checkpoint,
    ) -> Case {
        Case {
            name,
            description,
            qr,
            now: T,
            bundle: bundle.to_vec(),
            deltas: vec![],
            checkpoint,
            time_floor: None,
        }
    }

    /// The case's verdict, reasons and number, after checking that its name's first word
    /// (`valid`, `warning`, `invalid`) says the verdict it got.
    pub(crate) fn expected(&self, trust: &TrustList, status: &StatusSet) -> Value {
        let policy = Policy {
            checkpoint: self.checkpoint,
            ..Policy::default()
        };
        let v = verify_with(&self.qr, self.now, trust, status, &policy, self.time_floor);
        let mut reasons: Vec<&str> = v.codes();
        reasons.sort_unstable();
        let verdict = verdict_name(v.verdict);
        let consistent = matches!(
            (self.name.split('-').next().unwrap_or(""), v.verdict),
            ("valid", Verdict::Valid)
                | ("warning", Verdict::ValidWithWarnings)
                | ("invalid", Verdict::Invalid)
        );
        assert!(consistent, "{}: got {verdict} {reasons:?}", self.name);
        json!({
            "verdict": verdict,
            "reasons": reasons,
            "permit_number": v.permit.as_ref().map(|p| p.number.clone()),
        })
    }

    /// The case as written to the file, with `expected` as given.
    pub(crate) fn to_json(&self, expected: Value) -> Value {
        json!({
            "name": self.name,
            "description": self.description,
            "qr": self.qr,
            "now": self.now,
            "checkpoint": match self.checkpoint { Checkpoint::Export => "export", Checkpoint::Import => "import", Checkpoint::Inspection => "inspection" },
            "time_floor": self.time_floor,
            "bundle": hex(&self.bundle),
            "expected": expected,
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "test-vectors/v1/vectors.json".into());
    let w = World {
        roots: vec![key("root-1")],
        za: key("za-2026"),
        za_old: key("za-2024"),
        ke: key("ke-2025"),
        ke_new: key("ke-2026"),
    };
    let fresh = w.bundle(T - HOUR);
    let issued = T - 3 * DAY;
    let good = permit(&draft(1, "II", "C"), "ZA", issued, 4511);
    let good_text = payload::sign(&good, &w.za);
    let four = payload::sign(&permit(&draft(4, "II", "C"), "ZA", issued, 4512), &w.za);
    let app1 = payload::sign(&permit(&draft(1, "I", "W"), "ZA", issued, 4513), &w.za);
    let at = |index: u32| payload::sign(&permit(&draft(1, "II", "C"), "ZA", issued, index), &w.za);
    let body = base45_decode(&good_text[4..])?;
    let (signed, _) = body.split_at(body.len() - 64);
    let stranger = key("stranger");

    let mut cases = vec![];
    let mut case = |name, description, qr: String, now, bundle: &[u8], checkpoint, time_floor| {
        cases.push(Case {
            name,
            description,
            qr,
            now,
            bundle: bundle.to_vec(),
            deltas: vec![],
            checkpoint,
            time_floor,
        });
    };
    let ex = Checkpoint::Export;
    case(
        "valid-export-1-line",
        "Appendix II export, fresh data, checked at export.",
        good_text.clone(),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "valid-export-4-lines",
        "Four blocks, two of them plants with units.",
        four,
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "valid-import-endorsed",
        "A used (export-endorsed) permit checked at import: expected.",
        at(4602),
        T,
        &fresh,
        Checkpoint::Import,
        None,
    );
    case(
        "warning-import-not-endorsed",
        "At import, no export endorsement recorded.",
        good_text.clone(),
        T,
        &fresh,
        Checkpoint::Import,
        None,
    );
    case(
        "warning-appendix-i-commercial-wild",
        "Appendix I, purpose T, source W is flagged.",
        app1,
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-bad-prefix",
        "Another scheme's prefix.",
        format!("HC1:{}", &good_text[4..]),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-unsupported-version",
        "A later permitseal format version.",
        format!("PS2:{}", &good_text[4..]),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-bad-base45-character",
        "A lower-case letter is not Base45.",
        format!("{}a", &good_text[..good_text.len() - 1]),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-bad-base45-group",
        "A three-character group above 65535.",
        format!("{}ZZZ", &good_text[..good_text.len() - 3]),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-truncated",
        "The last 30 characters are missing.",
        good_text[..good_text.len() - 30].to_string(),
        T,
        &fresh,
        ex,
        None,
    );
    let mut extra = body.clone();
    extra.push(0x00);
    case(
        "invalid-trailing-bytes",
        "One extra byte after the signature.",
        format!("PS1:{}", base45_encode(&extra)),
        T,
        &fresh,
        ex,
        None,
    );
    let mut wrong_ns = signed.to_vec();
    wrong_ns.extend_from_slice(&w.za.sign(Namespace::StatusList, &[signed]));
    case(
        "invalid-wrong-namespace",
        "The right key signed the permit bytes as a status list.",
        format!("PS1:{}", base45_encode(&wrong_ns)),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-unknown-key",
        "Signed by a key in no trust list.",
        payload::sign(&good, &stranger),
        T,
        &fresh,
        ex,
        None,
    );
    let mut flipped = body.clone();
    let n = flipped.len();
    flipped[n - 1] ^= 0x01;
    case(
        "invalid-bad-signature",
        "One bit of the signature flipped.",
        format!("PS1:{}", base45_encode(&flipped)),
        T,
        &fresh,
        ex,
        None,
    );
    let mut altered = body.clone();
    // Byte 10 sits inside the permit number: "one changed character".
    altered[10] ^= 0x01;
    case(
        "invalid-altered-body",
        "One bit of the body changed after signing.",
        format!("PS1:{}", base45_encode(&altered)),
        T,
        &fresh,
        ex,
        None,
    );
    let ke_draft = {
        let mut d = draft(1, "II", "C");
        d.number = "KE/2026/000277".into();
        d.exporter.country = "KE".into();
        d
    };
    let after = payload::sign(&permit(&ke_draft, "KE", T - 5 * DAY, 277), &w.ke);
    case(
        "invalid-compromised-key",
        "Signed after its key's compromise time.",
        after,
        T,
        &fresh,
        ex,
        None,
    );
    let before = payload::sign(&permit(&ke_draft, "KE", T - 20 * DAY, 250), &w.ke);
    case(
        "warning-compromised-later",
        "Signed before its key's compromise time: warn, confirm online.",
        before,
        T,
        &fresh,
        ex,
        None,
    );
    let retired = payload::sign(
        &permit(&draft(1, "II", "C"), "ZA", T - 100 * DAY, 4400),
        &w.za_old,
    );
    case(
        "invalid-key-retired",
        "Signed by a rotated-out key after its end.",
        retired,
        T,
        &fresh,
        ex,
        None,
    );
    let old = payload::sign(
        &permit(&draft(1, "II", "C"), "ZA", T - 300 * DAY, 100),
        &w.za_old,
    );
    case(
        "invalid-expired-old-key",
        "Signed by the previous key while it was valid, but expired since.",
        old,
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-expired",
        "Checked the day after its last day.",
        good_text.clone(),
        T + 200 * DAY,
        &w.bundle(T + 200 * DAY - HOUR),
        ex,
        None,
    );
    let later = {
        let mut d = draft(1, "II", "C");
        d.valid_from = Some("2026-12-20".into());
        d.valid_until = "2027-05-20".into();
        payload::sign(&permit(&d, "ZA", issued, 4514), &w.za)
    };
    case(
        "invalid-not-yet-valid",
        "Valid from a later date.",
        later,
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-revoked",
        "Revoked in the status list.",
        at(4600),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-suspended",
        "Suspended in the status list.",
        at(4601),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-used",
        "Export endorsement already recorded: re-use at export.",
        at(4602),
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-not-issued",
        "An index the authority never issued, older than the list.",
        at(7000),
        T,
        &fresh,
        ex,
        None,
    );
    let newer = payload::sign(
        &permit(&draft(1, "II", "C"), "ZA", T - 30 * 60, 5000),
        &w.za,
    );
    case(
        "warning-status-older-than-permit",
        "Issued after the phone's last sync.",
        newer,
        T,
        &fresh,
        ex,
        None,
    );
    case(
        "warning-stale-data",
        "Status data four days old.",
        good_text.clone(),
        T,
        &w.bundle(T - 4 * DAY),
        ex,
        None,
    );
    let stale_i = payload::sign(&permit(&draft(1, "I", "C"), "ZA", T - 5 * DAY, 4515), &w.za);
    case(
        "warning-stale-data-appendix-i",
        "Appendix I gets the stricter 24 h limit: 30 h old data.",
        stale_i,
        T,
        &w.bundle(T - 30 * HOUR),
        ex,
        None,
    );
    case(
        "warning-clock-behind",
        "Device clock two days behind the data it holds.",
        good_text.clone(),
        T - 2 * DAY,
        &fresh,
        ex,
        None,
    );
    case(
        "invalid-clock-behind-cannot-revive",
        "A clock set back does not revive an expired permit.",
        good_text,
        T - 2 * DAY,
        &w.bundle(T + 200 * DAY),
        ex,
        Some(T + 200 * DAY),
    );

    let mut out_cases = vec![];
    let pins = [w.roots[0].public().clone()];
    let mut names = BTreeSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case {}", c.name);
        let b = bundle::Bundle::from_bytes(&c.bundle, &pins)?;
        out_cases.push(c.to_json(c.expected(&b.trust, &b.status)));
    }
    let doc = json!({
        "format": "permitseal test vectors, format version 1",
        "note": "Append-only. Keys are test keys: seed = SHA-256(\"permitseal test key: \" + label). Times are Unix seconds. Reasons are sorted. Policy is the default policy with the given checkpoint.",
        "root_public_keys": [hex(&w.roots[0].public().to_bytes())],
        "keys": w.keys(),
        "cases": out_cases,
    });
    publish(&out, &doc, cases.len())?;
    let second = std::path::Path::new(&out).with_file_name("vectors-2.json");
    let (doc, n) = errata::document(&w)?;
    publish(&second.to_string_lossy(), &doc, n)?;
    let third = std::path::Path::new(&out).with_file_name("vectors-3.json");
    let (doc, n) = text::document(&w)?;
    publish(&third.to_string_lossy(), &doc, n)?;
    let fourth = std::path::Path::new(&out).with_file_name("vectors-4.json");
    let (doc, n) = border::document(&w)?;
    publish(&fourth.to_string_lossy(), &doc, n)?;
    let fifth = std::path::Path::new(&out).with_file_name("vectors-5.json");
    let (doc, n) = imports::document(&w)?;
    publish(&fifth.to_string_lossy(), &doc, n)?;
    let sixth = std::path::Path::new(&out).with_file_name("vectors-6.json");
    let (doc, n) = tree_heads::document(&w)?;
    publish(&sixth.to_string_lossy(), &doc, n)
}

/// What a case whose bundle is refused expects (nothing else is checked), after checking
/// that its name says so.
pub(crate) fn refused(c: &Case) -> Value {
    assert!(c.name.starts_with("refused-"), "{}: bundle refused", c.name);
    json!({"bundle": "refused", "deltas": [], "verdict": null, "reasons": [],
           "permit_number": null})
}

/// The verdict's name in the vector files.
pub(crate) fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::ValidWithWarnings => "valid_with_warnings",
        Verdict::Invalid => "invalid",
    }
}

/// Writes a vector file once; afterwards only checks that it would be written the same.
fn publish(out: &str, doc: &Value, cases: usize) -> Result<(), Box<dyn std::error::Error>> {
    let text = serde_json::to_string_pretty(doc)? + "\n";
    match std::fs::read_to_string(out) {
        Ok(existing) if existing == text => println!("{out}: unchanged ({cases} cases)"),
        Ok(_) => {
            return Err(format!(
                "{out} exists and differs: vectors are append-only; add a new file"
            )
            .into());
        }
        Err(_) => {
            std::fs::write(out, text)?;
            println!("{out}: wrote {cases} cases");
        }
    }
    Ok(())
}
