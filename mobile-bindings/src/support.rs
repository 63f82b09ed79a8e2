//! The support report for a verdict: what a help desk needs to tell why a scan came out as it
//! did, and nothing about the people or goods on the permit.
//!
//! It carries versions, times, reason codes and key ids: the SDK and code format version,
//! the trust list's and every status list's version and age, the clock floor, the verdict and
//! reason codes, the id of the key the code names and whether it verified, the issuing
//! authority's trust-list id and country, the status list's answer, and a digest of the permit
//! number. It never carries the QR text, a name, an address, a species, a quantity or a
//! document number in clear: those are the permit's, and the report is meant to leave the
//! device by e-mail or chat.

use serde::Serialize;
use sha2::{Digest, Sha256};
use verifier_core::bundle::Bundle;
use verifier_core::date::format_unix;
use verifier_core::payload;
use verifier_core::status::PermitState;
use verifier_core::verify::{Checkpoint, Verification};

use crate::records::VerdictKind;

/// Identifies the report's layout; a new field keeps it, a changed meaning bumps it.
pub const REPORT_FORMAT: &str = "permitseal-support/1";
/// Domain separation for the permit-number digest.
const NUMBER_DIGEST_DOMAIN: &[u8] = b"permitseal/support/permit-number/v1\0";

/// The digest that stands for a permit number in a support report: the first 16 bytes of
/// SHA-256 over the domain string and the number, in hex. The help desk computes the same
/// over the numbers it can see on the server to find the permit. Permit numbers follow
/// guessable patterns, so the digest hides the number from a casual reader, not from someone
/// who tries candidates; it is there because the number is the permit's, not because it is a
/// secret.
pub fn permit_number_digest(number: &str) -> String {
    let mut h = Sha256::new();
    h.update(NUMBER_DIGEST_DOMAIN);
    h.update(number.as_bytes());
    let d = h.finalize();
    d.iter().take(16).map(|b| format!("{b:02x}")).collect()
}

// The report's shape. Fields are in alphabetical order, so the JSON text has its keys sorted
// (as the report has always been written); typed structs rather than `serde_json::Value` keep
// the JSON tree and its map out of the phone library.

#[derive(Serialize)]
struct Report<'a> {
    authority: Option<AuthorityFacts<'a>>,
    bundle: BundleFacts,
    checked_at: String,
    checkpoint: &'static str,
    clock_floor: Option<String>,
    code_format: &'static str,
    device_time: String,
    key_id: Option<String>,
    permit_number_digest: Option<String>,
    reasons: Vec<&'static str>,
    report: &'static str,
    sdk: &'static str,
    signature_verified: bool,
    status: Option<StatusFacts>,
    status_age_seconds: Option<i64>,
    verdict: &'static str,
}

#[derive(Serialize)]
struct AuthorityFacts<'a> {
    country: &'a str,
    id: u32,
}

#[derive(Serialize)]
struct BundleFacts {
    status_lists: Vec<StatusListFacts>,
    trust_age_seconds: i64,
    trust_signed_at: String,
    trust_version: u64,
}

#[derive(Serialize)]
struct StatusListFacts {
    age_seconds: i64,
    authority: u32,
    signed_at: String,
    version: u64,
}

#[derive(Serialize)]
struct StatusFacts {
    list_signed_at: String,
    list_version: u64,
    state: Option<PermitState>,
}

/// The report for `v`, the verification of `qr_text` at `now` against `bundle`, as JSON text.
pub(crate) fn report(
    qr_text: &str,
    v: &Verification,
    bundle: &Bundle,
    now: i64,
    checkpoint: Checkpoint,
    floor: Option<i64>,
) -> String {
    // The key id the code names, verified or not: the most useful fact for a bad signature
    // or an unknown key.
    let key_id = payload::decode(qr_text)
        .ok()
        .map(|env| env.key_id.to_string());
    let mut lists: Vec<_> = bundle.status.iter().collect();
    lists.sort_by_key(|l| l.authority);
    let status_lists = lists
        .into_iter()
        .map(|l| StatusListFacts {
            age_seconds: now.saturating_sub(l.issued_at),
            authority: l.authority,
            signed_at: format_unix(l.issued_at),
            version: l.version,
        })
        .collect();
    let report = Report {
        authority: v.issuer.as_ref().map(|i| AuthorityFacts {
            country: i.country.as_str(),
            id: i.authority_id,
        }),
        bundle: BundleFacts {
            status_lists,
            trust_age_seconds: now.saturating_sub(bundle.trust.issued_at),
            trust_signed_at: format_unix(bundle.trust.issued_at),
            trust_version: bundle.trust.version,
        },
        checked_at: format_unix(v.checked_at),
        checkpoint: match checkpoint {
            Checkpoint::Export => "export",
            Checkpoint::Import => "import",
            Checkpoint::Inspection => "inspection",
        },
        clock_floor: floor.map(format_unix),
        code_format: payload::PREFIX.trim_end_matches(':'),
        device_time: format_unix(now),
        key_id,
        permit_number_digest: v.permit.as_ref().map(|p| permit_number_digest(&p.number)),
        reasons: v.codes(),
        report: REPORT_FORMAT,
        sdk: env!("CARGO_PKG_VERSION"),
        signature_verified: v.permit.is_some(),
        status: v.status.as_ref().map(|s| StatusFacts {
            list_signed_at: format_unix(s.list_issued_at),
            list_version: s.list_version,
            state: s.state,
        }),
        status_age_seconds: v.status_age,
        verdict: VerdictKind::from(v.verdict).as_str(),
    };
    // serde_json fails only on a map key that is not a string or a `Serialize` impl that
    // returns an error; the report has no map, and its fields are strings, integers, booleans,
    // options and a derived unit-variant enum, none of which can fail.
    #[allow(clippy::expect_used)]
    serde_json::to_string(&report).expect("the support report always serializes")
}
