//! The verdict as the page shows it: the core's `Verification` as the core serializes it, with
//! the reasons' messages in the officer's language and the English name of every code the
//! permit uses. Conversion only.

use std::collections::BTreeMap;

use serde::Serialize;
use verifier_core::i18n::Lang;
use verifier_core::permit::PermitData;
use verifier_core::verify::{Issuer, ReasonCode, Severity, StatusSeen, Verdict, Verification};

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonView {
    /// Stable code, e.g. `REVOKED`.
    pub code: &'static str,
    /// `info`, `warning` or `error`.
    pub severity: Severity,
    /// The message for the officer.
    pub message: &'static str,
    /// Technical detail (field names, times); never personal data.
    pub detail: Option<String>,
}

/// Everything the page shows after a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerificationView {
    /// `valid`, `valid_with_warnings` or `invalid`.
    pub verdict: Verdict,
    /// Findings, most severe first.
    pub reasons: Vec<ReasonView>,
    /// The signed data, when the signature verified (the core's JSON form: codes as printed,
    /// dates `YYYY-MM-DD`, quantities as exact decimal strings, the details digest in hex).
    pub permit: Option<PermitData>,
    /// Who issued it, from the trust list.
    pub issuer: Option<Issuer>,
    /// What the status list says.
    pub status: Option<StatusSeen>,
    /// English names of the codes the permit uses, keyed `list:code` (`term:EXT`,
    /// `country:KE`, `purpose:T`, `source:W`, `unit:KIL`, `appendix:II`, `kingdom:plant`,
    /// `document_type:export`).
    pub names: BTreeMap<String, &'static str>,
    /// The time the checks used.
    pub checked_at: i64,
    /// Age of the status data used, seconds.
    pub status_age: Option<i64>,
    /// Age of the bundle's oldest signed part, seconds.
    pub data_age: i64,
    /// True when the data is too old or missing for this permit: the verdict cannot be a
    /// plain `valid` then, and the page says why.
    pub stale: bool,
}

/// Reasons that mean the device's data cannot confirm the permit's current state.
const STALE: [ReasonCode; 4] = [
    ReasonCode::StaleStatus,
    ReasonCode::StaleTrust,
    ReasonCode::StatusUnavailable,
    ReasonCode::StatusOlderThanPermit,
];

fn names(p: &PermitData) -> BTreeMap<String, &'static str> {
    let mut out = BTreeMap::new();
    let mut add = |list: &str, code: String, name: &'static str| {
        out.insert(format!("{list}:{code}"), name);
    };
    add(
        "document_type",
        p.document_type.to_string(),
        p.document_type.name_en(),
    );
    add("purpose", p.purpose.to_string(), p.purpose.name_en());
    let parties = std::iter::once(&p.exporter).chain(p.importer.as_ref());
    for c in parties
        .map(|party| party.country)
        .chain([p.issuing_country])
    {
        add("country", c.as_str().to_string(), c.name_en());
    }
    for l in &p.lines {
        add("kingdom", l.kingdom.to_string(), l.kingdom.name_en());
        add("term", l.term.to_string(), l.term.name_en());
        add("appendix", l.appendix.to_string(), l.appendix.name_en());
        add("source", l.source.to_string(), l.source.name_en());
        add("unit", l.unit.to_string(), l.unit.name_en());
        for d in l.origin.iter().chain(l.last_reexport.iter()) {
            add(
                "country",
                d.country.as_str().to_string(),
                d.country.name_en(),
            );
        }
    }
    out
}

impl VerificationView {
    /// The view of `v` with messages in `lang`; `data_age` is the bundle's age.
    pub fn new(v: &Verification, lang: Lang, data_age: i64) -> VerificationView {
        VerificationView {
            verdict: v.verdict,
            reasons: v
                .reasons
                .iter()
                .map(|r| ReasonView {
                    code: r.code.as_str(),
                    severity: r.severity,
                    message: r.message(lang),
                    detail: r.detail.clone(),
                })
                .collect(),
            permit: v.permit.clone(),
            issuer: v.issuer.clone(),
            status: v.status.clone(),
            names: v.permit.as_ref().map(names).unwrap_or_default(),
            checked_at: v.checked_at,
            status_age: v.status_age,
            data_age,
            stale: STALE.iter().any(|c| v.has(*c)),
        }
    }
}
