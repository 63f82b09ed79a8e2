//! `vectors-3.json`: text that deceives (FORMAT.md §11). Each case is a well-signed permit in
//! which one field (or two) was written with hidden characters, a character a number may not
//! hold, or look-alike letters of another script; the issuing code refuses every one of them,
//! so the fields are replaced in the signed bytes and the permit signed again. Readers verify
//! them and add the warning `DECEPTIVE_TEXT` per field. A few cases hold text that is honest
//! although not ASCII, and must stay valid.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use verifier_core::bundle::Bundle;
use verifier_core::payload;
use verifier_core::verify::Checkpoint;

use super::errata::{mode1, resign};
use super::{Case, DAY, HOUR, T, World, draft, hex, permit};

const UPPER40: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -./";
const MIXED64: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz .";

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Text in its canonical mode (FORMAT.md §2): the fewest bytes among the modes whose alphabet
/// holds every character, the lowest mode on a tie.
fn text(s: &str) -> Vec<u8> {
    let n = s.len();
    let in1 = s.chars().all(|c| UPPER40.contains(c));
    let in2 = s.chars().all(|c| MIXED64.contains(c));
    let bytes1 = 2 * (n / 3) + n % 3;
    let bytes2 = (6 * n).div_ceil(8);
    // (bytes, mode): the smallest wins, the lower mode on a tie.
    let mut best = (n, 0);
    if in1 && (bytes1, 1) < best {
        best = (bytes1, 1);
    }
    if in2 && (bytes2, 2) < best {
        best = (bytes2, 2);
    }
    if best.1 == 1 {
        return mode1(s);
    }
    if best.1 == 2 {
        let mut out = vec![];
        varint(((n as u64) << 2) | 2, &mut out);
        let mut acc: u32 = 0;
        let mut bits = 0;
        for c in s.chars() {
            let i = MIXED64.find(c).unwrap_or_else(|| unreachable!()) as u32;
            acc = (acc << 6) | i;
            bits += 6;
            while bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
            }
        }
        if bits > 0 {
            out.push((acc << (8 - bits)) as u8);
        }
        return out;
    }
    let mut out = vec![];
    varint((n as u64) << 2, &mut out);
    out.extend_from_slice(s.as_bytes());
    out
}

const NUMBER: &str = "ZA/GP/2026/004512";
const STAMP: &str = "ZA0123456";
const EXPORTER: &str = "Nile Crocodile Farming Pty Ltd";
const IMPORTER: &str = "Tanneries du Puy Industrie SAS";
const SPECIES: &str = "Crocodylus niloticus";

fn cases(w: &World) -> Vec<Case> {
    let fresh = w.bundle(T - HOUR);
    let issued = T - 3 * DAY;
    let signed =
        |index: u32| payload::sign(&permit(&draft(1, "II", "C"), "ZA", issued, index), &w.za);
    // The permit at `index` with each (original, replacement) written in instead.
    let with = |index: u32, edits: &[(&str, &str)]| {
        let mut qr = signed(index);
        for (from, to) in edits {
            qr = resign(&qr, &text(from), &text(to), &w.za);
        }
        qr
    };
    let mut cases = vec![];
    let mut case = |name, description, qr: String| {
        cases.push(Case::at_t(
            name,
            description,
            qr,
            &fresh,
            Checkpoint::Export,
        ));
    };
    case(
        "warning-number-zero-width-space",
        "A zero-width space (U+200B) in the permit number: it looks like ZA/GP/2026/004512.",
        with(4511, &[(NUMBER, "ZA/GP/2026/0045\u{200B}12")]),
    );
    case(
        "warning-number-right-to-left-override",
        "A right-to-left override (U+202E) reorders the end of the number on screen.",
        with(4511, &[(NUMBER, "ZA/GP/2026/\u{202E}215400")]),
    );
    case(
        "warning-number-full-width-digit",
        "A full-width digit two (U+FF12) at the end of the number.",
        with(4511, &[(NUMBER, "ZA/GP/2026/00451\u{FF12}")]),
    );
    case(
        "warning-number-outside-number-characters",
        "A '#' in the number: only 0-9 A-Z a-z, space, '-', '.', '/'.",
        with(4511, &[(NUMBER, "ZA/GP/2026#004512")]),
    );
    case(
        "warning-security-stamp-soft-hyphen",
        "A soft hyphen (U+00AD, not shown) in the security stamp.",
        with(4511, &[(STAMP, "ZA0123\u{00AD}456")]),
    );
    case(
        "warning-exporter-cyrillic-a",
        "The exporter's name with a Cyrillic a (U+0430) among Latin letters.",
        with(4511, &[(EXPORTER, "Nile Crocodile F\u{0430}rming Pty Ltd")]),
    );
    case(
        "warning-exporter-byte-order-mark",
        "A byte order mark (U+FEFF) before the exporter's name.",
        with(
            4511,
            &[(EXPORTER, "\u{FEFF}Nile Crocodile Farming Pty Ltd")],
        ),
    );
    case(
        "warning-importer-greek-omicron",
        "The importer's name with a Greek omicron (U+03BF) for an o.",
        with(
            4511,
            &[(IMPORTER, "Tanneries du Puy Industrie SAS G\u{03BF}ld")],
        ),
    );
    case(
        "warning-scientific-name-cyrillic-o",
        "Crocodylus niloticus with a Cyrillic o (U+043E): the listing check and quota must not miss it.",
        with(4511, &[(SPECIES, "Cr\u{043E}codylus niloticus")]),
    );
    case(
        "warning-scientific-name-zero-width-joiner",
        "A zero-width joiner (U+200D) inside the scientific name.",
        with(4511, &[(SPECIES, "Crocodylus\u{200D} niloticus")]),
    );
    case(
        "warning-two-fields",
        "A hidden character in the number and a look-alike letter in the exporter: one warning each.",
        with(
            4511,
            &[
                (NUMBER, "ZA/GP/2026/0045\u{200B}12"),
                (EXPORTER, "Nile Crocodile F\u{0430}rming Pty Ltd"),
            ],
        ),
    );
    case(
        "invalid-revoked-with-deceptive-number",
        "The warning does not hide an error: a revoked permit with a zero-width space in its number.",
        with(4600, &[(NUMBER, "ZA/GP/2026/0045\u{200B}12")]),
    );
    case(
        "valid-exporter-cyrillic-only",
        "A name wholly in Cyrillic is one script: no warning.",
        with(4511, &[(EXPORTER, "ООО Нильский крокодил")]),
    );
    case(
        "valid-importer-japanese-and-latin",
        "Japanese with Latin letters: the scripts of §11.2 are not mixed.",
        with(4511, &[(IMPORTER, "株式会社 Tokyo Zoo")]),
    );
    case(
        "valid-importer-accented-latin",
        "Accented Latin letters are Latin.",
        with(4511, &[(IMPORTER, "Tanneries du Puy-en-Velay Société")]),
    );
    case(
        "valid-scientific-name-hybrid-sign",
        "The multiplication sign of a hybrid is not a letter.",
        with(4511, &[(SPECIES, "Crocodylus niloticus × porosus")]),
    );
    cases
}

/// The document for `vectors-3.json` and its number of cases.
pub(crate) fn document(w: &World) -> Result<(Value, usize), Box<dyn std::error::Error>> {
    let cases = cases(w);
    let pins = [w.roots[0].public().clone()];
    let mut names = BTreeSet::new();
    let mut out = vec![];
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case {}", c.name);
        let b = Bundle::from_bytes(&c.bundle, &pins)?;
        let expected = c.expected(&b.trust, &b.status);
        let deceptive = expected["reasons"]
            .as_array()
            .map_or(0, |r| r.iter().filter(|r| *r == "DECEPTIVE_TEXT").count());
        let want = match c.name {
            "warning-two-fields" => 2,
            n if n.starts_with("valid-") => 0,
            _ => 1,
        };
        assert_eq!(deceptive, want, "{}: {expected}", c.name);
        out.push(c.to_json(expected));
    }
    let doc = json!({
        "format": "permitseal test vectors, format version 1, text that deceives (FORMAT.md §11)",
        "note": "Append-only. Keys as in vectors.json (seed = SHA-256(\"permitseal test key: \" + label)); each permit was signed, a field replaced in its signed bytes and signed again with the same key. Times are Unix seconds; reasons are sorted; default policy with the given checkpoint.",
        "root_public_keys": [hex(&w.roots[0].public().to_bytes())],
        "keys": w.keys(),
        "cases": out,
    });
    Ok((doc, cases.len()))
}
