//! `vectors-2.json`: the cases of the format v1 errata (FORMAT.md §9). Besides a QR text, a
//! case may carry deltas to apply after the bundle, and may expect the bundle or a delta to
//! be refused. Every reason code of §7 has a case in `vectors.json` or here.

use std::collections::{BTreeMap, BTreeSet};

use curve25519_dalek::scalar::Scalar;
use serde_json::{Value, json};
use sha2::{Digest, Sha256, Sha512};
use verifier_core::bundle::{self, Bundle};
use verifier_core::keys::{Namespace, SecretKey};
use verifier_core::payload;
use verifier_core::status::{PermitState, StatusDelta, StatusList};
use verifier_core::trust::{Authority, KeyStatus, TrustList, TrustedKey};
use verifier_core::verify::Checkpoint;
use verifier_core::wire::{base45_decode, base45_encode};

use super::{Case, DAY, HOUR, T, World, draft, hex, key, permit, refused};

/// A minute that starts two hours before `T`: the same-minute cases sit on it.
const M: i64 = T - 2 * HOUR;

fn country(c: &str) -> verifier_core::codes::Country {
    c.parse()
        .unwrap_or_else(|_| unreachable!("fixture country {c}"))
}

fn good(k: &SecretKey, from: i64, until: Option<i64>) -> TrustedKey {
    TrustedKey {
        key: k.public().clone(),
        valid_from: from,
        valid_until: until,
        status: KeyStatus::Good,
    }
}

fn za_authority(keys: Vec<TrustedKey>) -> Authority {
    Authority {
        id: 1,
        country: country("ZA"),
        name: "Department of Forestry, Fisheries and the Environment".into(),
        keys,
    }
}

fn signed_trust(w: &World, issued_at: i64, authorities: Vec<Authority>) -> Vec<u8> {
    TrustList::new(7, issued_at, authorities)
        .unwrap_or_else(|e| unreachable!("{e}"))
        .sign(&[&w.roots[0]])
}

/// Permit-number characters in text mode 1 (FORMAT.md §2), to write a field the issuing
/// code refuses.
pub(crate) fn mode1(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ -./";
    let v: Vec<u16> = s
        .bytes()
        .map(|c| {
            ALPHABET
                .iter()
                .position(|a| *a == c)
                .unwrap_or_else(|| unreachable!("{c} is not mode 1")) as u16
        })
        .collect();
    let n = v.len() as u64;
    let mut out = vec![];
    let mut header = (n << 2) | 1;
    loop {
        let b = (header & 0x7f) as u8;
        header >>= 7;
        if header == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    for c in v.chunks(3) {
        match c {
            [a, b, c] => out.extend_from_slice(&(a * 1600 + b * 40 + c).to_be_bytes()),
            [a, b] => out.extend_from_slice(&(a * 40 + b).to_be_bytes()),
            [a] => out.push(*a as u8),
            _ => {}
        }
    }
    out
}

/// Replaces `from` (once) in the permit's signed bytes and signs again: a well-signed
/// payload the issuing code would never have produced.
pub(crate) fn resign(text: &str, from: &[u8], to: &[u8], key: &SecretKey) -> String {
    let bytes = base45_decode(&text[4..]).unwrap_or_else(|e| unreachable!("{e}"));
    let signed = &bytes[..bytes.len() - 64];
    let at = signed
        .windows(from.len())
        .position(|x| x == from)
        .unwrap_or_else(|| unreachable!("pattern not in the permit"));
    let mut out = signed[..at].to_vec();
    out.extend_from_slice(to);
    out.extend_from_slice(&signed[at + from.len()..]);
    let sig = key.sign(Namespace::Permit, &[&out]);
    out.extend_from_slice(&sig);
    format!("PS1:{}", base45_encode(&out))
}

/// The permit's bytes with an Ed25519 signature whose `R` is the given encoding and
/// `S = k·a`: it satisfies the group equation for a small-order `R`, so only a strict
/// verifier refuses it.
fn sign_with_r(text: &str, r: [u8; 32], label: &str) -> String {
    let bytes = base45_decode(&text[4..]).unwrap_or_else(|e| unreachable!("{e}"));
    let signed = &bytes[..bytes.len() - 64];
    let seed: [u8; 32] = Sha256::digest(format!("permitseal test key: {label}").as_bytes()).into();
    let h = Sha512::digest(seed);
    let mut a = [0u8; 32];
    a.copy_from_slice(&h[..32]);
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    let a = Scalar::from_bytes_mod_order(a);
    let public = key(label).public().to_bytes();
    let mut k = Sha512::new();
    k.update(r);
    k.update(public);
    k.update(b"permitseal/v1/permit\0");
    k.update(signed);
    let k = Scalar::from_bytes_mod_order_wide(&k.finalize().into());
    let mut out = signed.to_vec();
    out.extend_from_slice(&r);
    out.extend_from_slice((k * a).as_bytes());
    format!("PS1:{}", base45_encode(&out))
}

/// The signature's `S` plus ℓ: the same value modulo ℓ, not the canonical encoding.
fn s_plus_l(text: &str) -> String {
    const L: [u8; 32] = [
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde,
        0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
    ];
    let mut bytes = base45_decode(&text[4..]).unwrap_or_else(|e| unreachable!("{e}"));
    let n = bytes.len();
    let s = &mut bytes[n - 32..];
    let mut carry = 0u16;
    for (x, l) in s.iter_mut().zip(L) {
        let v = u16::from(*x) + u16::from(l) + carry;
        *x = v as u8;
        carry = v >> 8;
    }
    format!("PS1:{}", base45_encode(&bytes))
}

/// A trust list whose only TZ key is replaced by `bytes` (with its key id): what a root that
/// signs whatever it is given would publish.
fn trust_with_raw_key(w: &World, issued_at: i64, raw: [u8; 32]) -> Vec<u8> {
    let placeholder = key("tz-2026");
    let tz = Authority {
        id: 3,
        country: country("TZ"),
        name: "Wildlife Division".into(),
        keys: vec![good(&placeholder, T - 100 * DAY, None)],
    };
    let za = za_authority(vec![good(&w.za, T - 200 * DAY, None)]);
    let signed = signed_trust(w, issued_at, vec![za, tz]);
    let body = &signed[..signed.len() - 1 - 70];
    let mut from = placeholder.id().0.to_vec();
    from.extend_from_slice(&placeholder.public().to_bytes());
    let mut kid = Sha256::new();
    kid.update(b"permitseal/v1/key-id\0");
    kid.update(raw);
    let mut to = kid.finalize()[..6].to_vec();
    to.extend_from_slice(&raw);
    let at = body
        .windows(from.len())
        .position(|x| x == from)
        .unwrap_or_else(|| unreachable!("key not in the list"));
    let mut out = body.to_vec();
    out[at..at + from.len()].copy_from_slice(&to);
    let sig = w.roots[0].sign(Namespace::TrustList, &[&out]);
    out.push(1);
    out.extend_from_slice(&w.roots[0].id().0);
    out.extend_from_slice(&sig);
    out
}

fn delta(
    from: u64,
    to: u64,
    issued_at: i64,
    size: u32,
    changes: &[(u32, PermitState)],
) -> StatusDelta {
    StatusDelta {
        authority: 1,
        from_version: from,
        to_version: to,
        issued_at,
        size,
        changes: changes.iter().copied().collect::<BTreeMap<_, _>>(),
    }
}

#[allow(clippy::too_many_lines)]
fn cases(w: &World) -> Vec<Case> {
    let mut cases = vec![];
    let mut case = |name, description, qr: String, now, bundle: Vec<u8>, deltas| {
        cases.push(Case {
            name,
            description,
            qr,
            now,
            bundle,
            deltas,
            checkpoint: Checkpoint::Export,
            time_floor: None,
        });
    };
    let fresh = w.bundle(T - HOUR);
    let issued = T - 3 * DAY;
    let good_text = payload::sign(&permit(&draft(1, "II", "C"), "ZA", issued, 4511), &w.za);
    let za_at =
        |at: i64, index: u32| payload::sign(&permit(&draft(1, "II", "C"), "ZA", at, index), &w.za);

    // 1. Minute against second (§7.6, §7.8).
    let synced = w.bundle(M + 30);
    case(
        "warning-status-older-same-minute",
        "Issued 15 s after the list was signed, in the same minute: the list cannot know it.",
        za_at(M + 45, 5000),
        T,
        synced.clone(),
        vec![],
    );
    case(
        "invalid-not-issued-minute-before",
        "An index beyond the list, in the minute before the list's: never issued.",
        za_at(M - 1, 5000),
        T,
        synced,
        vec![],
    );
    let late_key = signed_trust(
        w,
        T - HOUR,
        vec![za_authority(vec![good(&w.za, M + 30, None)])],
    );
    let late_bundle = bundle::encode(&late_key, &[&w.za_status(T - HOUR)]);
    case(
        "valid-key-from-same-minute",
        "The key's validity starts at :30 and the permit says the same minute: in force.",
        za_at(M + 45, 4511),
        T,
        late_bundle.clone(),
        vec![],
    );
    case(
        "invalid-key-not-yet-valid",
        "Signed in the minute before the key's validity began.",
        za_at(M - 15, 4511),
        T,
        late_bundle,
        vec![],
    );

    // 5. Reason codes without a case in vectors.json.
    let ke_number = {
        let mut d = draft(1, "II", "C");
        d.number = "KE/2026/000311".into();
        d.exporter.country = "KE".into();
        payload::sign(&permit(&d, "KE", issued, 4511), &w.za)
    };
    case(
        "invalid-issuer-mismatch",
        "A South African key signed a permit that names Kenya as its issuer.",
        ke_number,
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "warning-status-unavailable",
        "The bundle has no status list for the signer's authority.",
        good_text.clone(),
        T,
        bundle::encode(&w.trust(T - HOUR), &[&w.ke_status(T - HOUR)]),
        vec![],
    );
    case(
        "warning-stale-trust",
        "Trust list 40 days old, status lists fresh.",
        good_text.clone(),
        T,
        bundle::encode(
            &w.trust(T - 40 * DAY),
            &[&w.za_status(T - HOUR), &w.ke_status(T - HOUR)],
        ),
        vec![],
    );
    let bad = |text: &str| format!("{}{}", &good_text[..4], text);
    case(
        "invalid-rule-validity-too-long",
        "Well signed, but valid for 200 days: longer than an export permit may be.",
        resign(
            &good_text,
            &[0x00, 0xb4, 0x01, 0x9f, 0x23],
            &[0x00, 0xc8, 0x01, 0x9f, 0x23],
            &w.za,
        ),
        T,
        fresh.clone(),
        vec![],
    );

    // Strict Ed25519 (§3.2).
    case(
        "invalid-signature-s-not-reduced",
        "The valid signature with S + ℓ: the same value, not the canonical encoding.",
        s_plus_l(&good_text),
        T,
        fresh.clone(),
        vec![],
    );
    let mut identity = [0u8; 32];
    identity[0] = 1;
    case(
        "invalid-signature-small-order-r",
        "R is the identity and S = k·a: the group equation holds, strict verification refuses.",
        sign_with_r(&good_text, identity, "za-2026"),
        T,
        fresh.clone(),
        vec![],
    );
    let mut identity_p = [0xff; 32];
    identity_p[0] = 0xee;
    identity_p[31] = 0x7f;
    case(
        "invalid-signature-non-canonical-r",
        "R is the identity written as y = 1 + p, with S = k·a over those bytes.",
        sign_with_r(&good_text, identity_p, "za-2026"),
        T,
        fresh.clone(),
        vec![],
    );

    // 4. Reader rules.
    let number35 = "ZA/GP/2026/004512/LOT/0000000000001";
    let stamp35 = "ZA012345678901234567890123456789012";
    let long = {
        let mut d = draft(1, "II", "C");
        d.number = number35.into();
        d.security_stamp = Some(stamp35.into());
        payload::sign(&permit(&d, "ZA", issued, 4516), &w.za)
    };
    case(
        "valid-number-and-stamp-35-characters",
        "Permit number and security stamp at the 35-character limit.",
        long.clone(),
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "invalid-number-36-characters",
        "Well signed, with a 36-character permit number.",
        resign(
            &long,
            &mode1(number35),
            &mode1(&format!("{number35}2")),
            &w.za,
        ),
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "invalid-security-stamp-36-characters",
        "Well signed, with a 36-character security stamp.",
        resign(
            &long,
            &mode1(stamp35),
            &mode1(&format!("{stamp35}3")),
            &w.za,
        ),
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "valid-white-space-around-text",
        "Spaces, a tab and a line end around the text are not part of it.",
        format!("  \t{good_text} \r\n"),
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "invalid-no-break-space-before-text",
        "U+00A0 is not white space a reader removes.",
        format!("\u{a0}{good_text}"),
        T,
        fresh.clone(),
        vec![],
    );
    let mut inner = good_text.clone();
    inner.insert(100, '\n');
    case(
        "invalid-line-break-inside-text",
        "A line break inside the text is not Base45.",
        inner,
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "invalid-over-length",
        "4297 characters: refused for its length before Base45 is read.",
        bad(&"a".repeat(payload::MAX_TEXT_LEN - 3)),
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "invalid-over-length-other-scheme",
        "Another scheme's prefix wins over the length.",
        format!("HC1:{}", "A".repeat(payload::MAX_TEXT_LEN)),
        T,
        fresh.clone(),
        vec![],
    );
    case(
        "invalid-longest-text-bad-base45",
        "4296 characters and a line end: not over-length, so Base45 is read and refused.",
        format!("{}\r\n", bad(&"a".repeat(payload::MAX_TEXT_LEN - 4))),
        T,
        fresh.clone(),
        vec![],
    );

    // 2. Deltas (§5).
    let old = w.bundle(T - 4 * DAY);
    let signed_by = |d: StatusDelta, k: &SecretKey| d.sign(k);
    case(
        "valid-refresh-delta",
        "Nothing changed: a delta from version 42 to 42 renews four-day-old status data.",
        good_text.clone(),
        T,
        old.clone(),
        vec![signed_by(delta(42, 42, T - HOUR, 5000, &[]), &w.za)],
    );
    case(
        "invalid-revoked-by-delta",
        "A delta 42 → 43 revokes the permit.",
        good_text.clone(),
        T,
        old.clone(),
        vec![signed_by(
            delta(42, 43, T - HOUR, 5000, &[(4511, PermitState::Revoked)]),
            &w.za,
        )],
    );
    case(
        "valid-deltas-in-turn",
        "Revoked by 42 → 43, reinstated by 43 → 44, then a refresh of 44.",
        good_text.clone(),
        T,
        old.clone(),
        vec![
            signed_by(
                delta(42, 43, T - 3 * DAY, 5000, &[(4511, PermitState::Revoked)]),
                &w.za,
            ),
            signed_by(
                delta(43, 44, T - 2 * DAY, 5001, &[(4511, PermitState::Valid)]),
                &w.za,
            ),
            signed_by(delta(44, 44, T - HOUR, 5001, &[]), &w.za),
        ],
    );
    case(
        "warning-delta-wrong-base-refused",
        "A delta from version 41 does not apply to 42: refused, the old data stays.",
        good_text.clone(),
        T,
        old.clone(),
        vec![signed_by(delta(41, 43, T - HOUR, 5000, &[]), &w.za)],
    );
    case(
        "warning-delta-other-authority-refused",
        "A delta for South Africa's list signed by Kenya's key: refused.",
        good_text.clone(),
        T,
        old.clone(),
        vec![signed_by(delta(42, 42, T - HOUR, 5000, &[]), &w.ke_new)],
    );
    case(
        "warning-delta-retired-key-refused",
        "A delta signed by South Africa's key after it was rotated out: refused.",
        good_text.clone(),
        T,
        old.clone(),
        vec![signed_by(delta(42, 42, T - HOUR, 5000, &[]), &w.za_old)],
    );
    case(
        "warning-refresh-delta-grows-refused",
        "A refresh of version 42 with another size: one version has one content, refused.",
        good_text.clone(),
        T,
        old.clone(),
        vec![signed_by(delta(42, 42, T - HOUR, 5001, &[]), &w.za)],
    );
    case(
        "warning-delta-older-than-list-refused",
        "A delta signed before the list it would apply to: refused.",
        good_text.clone(),
        T,
        old,
        vec![signed_by(
            delta(42, 43, T - 5 * DAY, 5000, &[(4511, PermitState::Revoked)]),
            &w.za,
        )],
    );

    // 4 and 5: refused bundles.
    let trust = w.trust(T - HOUR);
    case(
        "refused-bundle-two-lists-one-authority",
        "Two status lists for South Africa in one bundle.",
        good_text.clone(),
        T,
        bundle::encode(
            &trust,
            &[
                &w.za_status(T - HOUR),
                &w.za_status(T - 2 * HOUR),
                &w.ke_status(T - HOUR),
            ],
        ),
        vec![],
    );
    let mut y3 = [0xff; 32];
    y3[0] = 0xf0;
    y3[31] = 0x7f;
    case(
        "refused-bundle-non-canonical-key",
        "The trust list holds a key written as y = 3 + p: the whole list is refused.",
        good_text.clone(),
        T,
        bundle::encode(
            &trust_with_raw_key(w, T - HOUR, y3),
            &[&w.za_status(T - HOUR)],
        ),
        vec![],
    );
    case(
        "refused-bundle-small-order-key",
        "The trust list holds the identity point as a key: the whole list is refused.",
        good_text.clone(),
        T,
        bundle::encode(
            &trust_with_raw_key(w, T - HOUR, identity),
            &[&w.za_status(T - HOUR)],
        ),
        vec![],
    );
    let other_root = {
        let list = TrustList::new(
            7,
            T - HOUR,
            vec![za_authority(vec![good(&w.za, T - 200 * DAY, None)])],
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        list.sign(&[&key("root-2")])
    };
    case(
        "refused-bundle-unpinned-root",
        "The trust list is signed by a root the verifier does not pin.",
        good_text.clone(),
        T,
        bundle::encode(&other_root, &[&w.za_status(T - HOUR)]),
        vec![],
    );
    let mut foreign = StatusList::new(1, 42, T - HOUR);
    foreign.set(4999, PermitState::Valid);
    case(
        "refused-bundle-status-signed-by-other-authority",
        "South Africa's status list signed by Kenya's key.",
        good_text,
        T,
        bundle::encode(&trust, &[&foreign.sign(&w.ke_new)]),
        vec![],
    );
    cases
}

/// The document for `vectors-2.json` and its number of cases.
pub(crate) fn document(w: &World) -> Result<(Value, usize), Box<dyn std::error::Error>> {
    let cases = cases(w);
    let pins = [w.roots[0].public().clone()];
    let mut names = BTreeSet::new();
    let mut out = vec![];
    for c in &cases {
        assert!(names.insert(c.name), "duplicate case {}", c.name);
        let expected = match Bundle::from_bytes(&c.bundle, &pins) {
            Err(_) => refused(c),
            Ok(mut b) => {
                let deltas: Vec<&str> = c
                    .deltas
                    .iter()
                    .map(|d| match b.status.apply_delta(d, &b.trust) {
                        Ok(_) => "applied",
                        Err(_) => "refused",
                    })
                    .collect();
                let refused = deltas.contains(&"refused");
                assert_eq!(
                    refused,
                    c.name.ends_with("-refused"),
                    "{}: {deltas:?}",
                    c.name
                );
                let mut e = c.expected(&b.trust, &b.status);
                e["bundle"] = "accepted".into();
                e["deltas"] = deltas.into();
                e
            }
        };
        let mut v = c.to_json(expected);
        v["deltas"] = c.deltas.iter().map(|d| hex(d)).collect();
        out.push(v);
    }
    let doc = json!({
        "format": "permitseal test vectors, format version 1, errata cases (FORMAT.md §9)",
        "note": "Append-only. Keys as in vectors.json (seed = SHA-256(\"permitseal test key: \" + label)). Load the bundle; if it is refused, expected.bundle is \"refused\" and nothing else is checked. Otherwise apply each delta in order (each \"applied\" or \"refused\"; a refused delta changes nothing), then verify the QR text. Times are Unix seconds; reasons are sorted; default policy with the given checkpoint.",
        "root_public_keys": [hex(&w.roots[0].public().to_bytes())],
        "keys": {
            "root-1": hex(&w.roots[0].public().to_bytes()),
            "root-2": hex(&key("root-2").public().to_bytes()),
            "za-2026": hex(&w.za.public().to_bytes()),
            "za-2024": hex(&w.za_old.public().to_bytes()),
            "ke-2025": hex(&w.ke.public().to_bytes()),
            "ke-2026": hex(&w.ke_new.public().to_bytes()),
            "tz-2026": hex(&key("tz-2026").public().to_bytes()),
        },
        "cases": out,
    });
    Ok((doc, cases.len()))
}
