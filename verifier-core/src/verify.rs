//! The offline verdict: from QR text, a time, a trust list and status lists to what the
//! officer sees. No I/O and no clock: `now` is a parameter.

use serde::Serialize;

use crate::codes::Country;
use crate::date::{DAY_SECS, Date};
use crate::i18n::{Lang, message};
use crate::keys::{KeyId, Namespace};
use crate::payload::{DecodeError, decode};
use crate::permit::{Flag, Permit, PermitData};
use crate::status::{IndexStatus, PermitState, StatusSet};
use crate::trust::{KeyStatus, TrustList};

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Authentic, in force, and the data is fresh.
    Valid,
    /// Authentic and in force, but something needs the officer's attention.
    ValidWithWarnings,
    /// Do not accept.
    Invalid,
}

/// How much a reason weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For information; does not change the verdict.
    Info,
    /// Makes the verdict "valid with warnings".
    Warning,
    /// Makes the verdict "invalid".
    Error,
}

/// Where the check happens, which decides what "used" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checkpoint {
    /// At export (or a ranger's check before export): a used permit is being re-used.
    #[default]
    Export,
    /// At import: the export endorsement is expected; its absence is the warning (except on
    /// an import permit, which the importing country issued and no export office endorses).
    Import,
    /// A ranger's or an inland check: status and validity only, no export or import
    /// expectation (a used permit is shown as endorsed, a valid one as it is).
    Inspection,
}

/// Machine-readable reason codes. Their strings are stable: apps and vectors match them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "&'static str")]
#[non_exhaustive]
pub enum ReasonCode {
    /// Not a permitseal code at all.
    NotAPermit,
    /// A permitseal code of a format version this verifier does not know.
    UnsupportedVersion,
    /// The text is not strict Base45.
    BadEncoding,
    /// A field is malformed, truncated, or followed by extra bytes.
    Malformed,
    /// No key in the trust list has the payload's key id.
    UnknownKey,
    /// The signature does not verify with any key of that id.
    BadSignature,
    /// The signing key belongs to an authority of another country.
    IssuerMismatch,
    /// Signed before the key's validity began.
    KeyNotYetValid,
    /// Signed after the key was rotated out or retired.
    KeyRetired,
    /// Signed at or after the key's compromise time.
    KeyCompromised,
    /// Signed before the key's compromise time: authentic only if the issuer confirms.
    KeyCompromisedLater,
    /// Past its last day of validity.
    Expired,
    /// Before its first day of validity.
    NotYetValid,
    /// Revoked by the issuer.
    Revoked,
    /// Suspended by the issuer.
    Suspended,
    /// Its export endorsement is already recorded: re-use.
    Used,
    /// Export endorsement recorded (expected at import).
    Endorsed,
    /// At import, no export endorsement recorded as of the last sync.
    NotEndorsed,
    /// The importing Party's authority confirmed the import and cancelled the document: it
    /// serves no further crossing (FORMAT.md §7 step 8).
    CancelledOnImport,
    /// The issuer's status list says this index was never issued.
    NotIssued,
    /// The status list is older than the permit: its state is unknown.
    StatusOlderThanPermit,
    /// No status list for the issuing authority.
    StatusUnavailable,
    /// The status list is older than the policy allows.
    StaleStatus,
    /// The trust list is older than the policy allows.
    StaleTrust,
    /// The device clock is behind the newest signed time seen.
    ClockBehind,
    /// Appendix I, commercial purpose, wild-type source.
    AppendixICommercial,
    /// A name or number carries hidden characters, characters a number may not hold, or
    /// look-alike letters of another script (FORMAT.md §11): compare it with care.
    DeceptiveText,
}

impl ReasonCode {
    /// Every code.
    pub const ALL: &'static [ReasonCode] = &[
        ReasonCode::NotAPermit,
        ReasonCode::UnsupportedVersion,
        ReasonCode::BadEncoding,
        ReasonCode::Malformed,
        ReasonCode::UnknownKey,
        ReasonCode::BadSignature,
        ReasonCode::IssuerMismatch,
        ReasonCode::KeyNotYetValid,
        ReasonCode::KeyRetired,
        ReasonCode::KeyCompromised,
        ReasonCode::KeyCompromisedLater,
        ReasonCode::Expired,
        ReasonCode::NotYetValid,
        ReasonCode::Revoked,
        ReasonCode::Suspended,
        ReasonCode::Used,
        ReasonCode::Endorsed,
        ReasonCode::NotEndorsed,
        ReasonCode::CancelledOnImport,
        ReasonCode::NotIssued,
        ReasonCode::StatusOlderThanPermit,
        ReasonCode::StatusUnavailable,
        ReasonCode::StaleStatus,
        ReasonCode::StaleTrust,
        ReasonCode::ClockBehind,
        ReasonCode::AppendixICommercial,
        ReasonCode::DeceptiveText,
    ];

    /// The stable string, e.g. `REVOKED`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::NotAPermit => "NOT_A_PERMIT",
            ReasonCode::UnsupportedVersion => "UNSUPPORTED_VERSION",
            ReasonCode::BadEncoding => "BAD_ENCODING",
            ReasonCode::Malformed => "MALFORMED",
            ReasonCode::UnknownKey => "UNKNOWN_KEY",
            ReasonCode::BadSignature => "BAD_SIGNATURE",
            ReasonCode::IssuerMismatch => "ISSUER_MISMATCH",
            ReasonCode::KeyNotYetValid => "KEY_NOT_YET_VALID",
            ReasonCode::KeyRetired => "KEY_RETIRED",
            ReasonCode::KeyCompromised => "KEY_COMPROMISED",
            ReasonCode::KeyCompromisedLater => "KEY_COMPROMISED_LATER",
            ReasonCode::Expired => "EXPIRED",
            ReasonCode::NotYetValid => "NOT_YET_VALID",
            ReasonCode::Revoked => "REVOKED",
            ReasonCode::Suspended => "SUSPENDED",
            ReasonCode::Used => "USED",
            ReasonCode::Endorsed => "ENDORSED",
            ReasonCode::NotEndorsed => "NOT_ENDORSED",
            ReasonCode::CancelledOnImport => "CANCELLED_ON_IMPORT",
            ReasonCode::NotIssued => "NOT_ISSUED",
            ReasonCode::StatusOlderThanPermit => "STATUS_OLDER_THAN_PERMIT",
            ReasonCode::StatusUnavailable => "STATUS_UNAVAILABLE",
            ReasonCode::StaleStatus => "STALE_STATUS",
            ReasonCode::StaleTrust => "STALE_TRUST",
            ReasonCode::ClockBehind => "CLOCK_BEHIND",
            ReasonCode::AppendixICommercial => "APPENDIX_I_COMMERCIAL",
            ReasonCode::DeceptiveText => "DECEPTIVE_TEXT",
        }
    }

    /// The code for a stable string.
    pub fn parse(s: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl From<ReasonCode> for &'static str {
    fn from(c: ReasonCode) -> &'static str {
        c.as_str()
    }
}

/// One finding of the verifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// What.
    pub code: ReasonCode,
    /// How much it weighs.
    pub severity: Severity,
    /// Technical detail for support (field name, times); never personal data.
    pub detail: Option<String>,
}

impl Reason {
    fn new(code: ReasonCode, severity: Severity) -> Reason {
        Reason {
            code,
            severity,
            detail: None,
        }
    }

    fn with(code: ReasonCode, severity: Severity, detail: impl Into<String>) -> Reason {
        Reason {
            code,
            severity,
            detail: Some(detail.into()),
        }
    }

    /// The message for the officer in a language.
    pub fn message(&self, lang: Lang) -> &'static str {
        message(self.code, lang)
    }
}

/// The issuing authority, from the trust list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issuer {
    /// Trust-list id of the authority.
    pub authority_id: u32,
    /// Its name.
    pub authority_name: String,
    /// Its country.
    pub country: Country,
    /// The key that signed.
    pub key_id: KeyId,
}

/// The status list's answer for this permit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusSeen {
    /// The state, if the index is issued.
    pub state: Option<PermitState>,
    /// The list version consulted.
    pub list_version: u64,
    /// When that list was signed.
    pub list_issued_at: i64,
}

/// Freshness and clock policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Policy {
    /// Where the check happens.
    pub checkpoint: Checkpoint,
    /// Status data older than this (seconds) gives `STALE_STATUS`.
    pub max_status_age: i64,
    /// The stricter limit when any line is of Appendix I.
    pub max_status_age_appendix_i: i64,
    /// Trust data older than this gives `STALE_TRUST`.
    pub max_trust_age: i64,
    /// How far the clock may lag the newest signed time before `CLOCK_BEHIND`.
    pub clock_tolerance: i64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            checkpoint: Checkpoint::Export,
            max_status_age: 72 * 3600,
            max_status_age_appendix_i: 24 * 3600,
            max_trust_age: 30 * DAY_SECS,
            clock_tolerance: 5 * 60,
        }
    }
}

/// Everything the officer's screen needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verification {
    /// The overall answer.
    pub verdict: Verdict,
    /// Every finding, most severe first.
    pub reasons: Vec<Reason>,
    /// The signed data, present only when the signature verified.
    pub permit: Option<PermitData>,
    /// Who issued it, when the key is known and the signature verified.
    pub issuer: Option<Issuer>,
    /// What the status list says.
    pub status: Option<StatusSeen>,
    /// The time the checks used: the device time, or the newest signed time when the
    /// device clock is behind it.
    pub checked_at: i64,
    /// Age in seconds of the status data used, when there was any.
    pub status_age: Option<i64>,
}

impl Verification {
    fn invalid(reason: Reason, checked_at: i64) -> Verification {
        Verification {
            verdict: Verdict::Invalid,
            reasons: vec![reason],
            permit: None,
            issuer: None,
            status: None,
            checked_at,
            status_age: None,
        }
    }

    /// True when any reason has this code.
    pub fn has(&self, code: ReasonCode) -> bool {
        self.reasons.iter().any(|r| r.code == code)
    }

    /// The reason codes, most severe first.
    pub fn codes(&self) -> Vec<&'static str> {
        self.reasons.iter().map(|r| r.code.as_str()).collect()
    }
}

/// Verifies with the default policy.
pub fn verify(text: &str, now: i64, trust: &TrustList, status: &StatusSet) -> Verification {
    verify_with(text, now, trust, status, &Policy::default(), None)
}

/// Verifies a QR text offline.
///
/// `now` is the device's Unix time. `time_floor` is the newest signed time the caller has
/// seen before (for example in an earlier bundle); the trust list, status lists and the
/// permit's own issue time raise it further. Checks run at `max(now, floor)`, so setting the
/// clock back cannot revive an expired permit; a clock behind the floor is reported.
pub fn verify_with(
    text: &str,
    now: i64,
    trust: &TrustList,
    status: &StatusSet,
    policy: &Policy,
    time_floor: Option<i64>,
) -> Verification {
    let mut floor = time_floor.unwrap_or(i64::MIN).max(trust.issued_at);
    if let Some(t) = status.newest_issued_at() {
        floor = floor.max(t);
    }
    let env = match decode(text) {
        Ok(env) => env,
        Err(e) => return Verification::invalid(decode_reason(&e), now.max(floor)),
    };

    // Signature: try every key with this id; a verifier must not stop at the first.
    let mut matched = None;
    let mut any_key = false;
    for m in trust.keys_for(env.key_id) {
        any_key = true;
        if m.key
            .key
            .verify(Namespace::Permit, &[&env.signed], &env.signature)
        {
            matched = Some(m);
            break;
        }
    }
    let Some(m) = matched else {
        let code = if any_key {
            ReasonCode::BadSignature
        } else {
            ReasonCode::UnknownKey
        };
        return Verification::invalid(Reason::new(code, Severity::Error), now.max(floor));
    };
    let permit = match Permit::from_decoded(env.data) {
        Ok(p) => p,
        Err(e) => {
            let r = Reason::with(ReasonCode::Malformed, Severity::Error, e.to_string());
            return Verification::invalid(r, now.max(floor));
        }
    };
    let data = permit.data();
    floor = floor.max(data.issued_at);
    let checked_at = now.max(floor);
    let mut reasons = Vec::new();
    if now + policy.clock_tolerance < floor {
        reasons.push(Reason::with(
            ReasonCode::ClockBehind,
            Severity::Warning,
            format!(
                "device {} behind signed time {}",
                crate::date::format_unix(now),
                crate::date::format_unix(floor)
            ),
        ));
    }

    // Issuer and key validity at the permit's signing time.
    if m.authority.country != data.issuing_country {
        reasons.push(Reason::new(ReasonCode::IssuerMismatch, Severity::Error));
    }
    // Permits carry their issue time to the minute (rounded down), so key times are compared
    // at that precision too: a key that came into use at 10:00:30 may have signed a permit
    // that says 10:00, and a compromise at 10:00:30 voids what says 10:00 (the strict side).
    let k = m.key;
    let minute = |t: i64| t - t.rem_euclid(60);
    if data.issued_at < minute(k.valid_from) {
        reasons.push(Reason::new(ReasonCode::KeyNotYetValid, Severity::Error));
    }
    // `issued_at` is a whole minute, so this is `issued_at > ⌊valid_until⌋`: a permit of the
    // key's last minute is not retired.
    if k.valid_until.is_some_and(|u| data.issued_at > u) {
        reasons.push(Reason::new(ReasonCode::KeyRetired, Severity::Error));
    }
    if let KeyStatus::Compromised { since } = k.status {
        if data.issued_at >= minute(since) {
            reasons.push(Reason::new(ReasonCode::KeyCompromised, Severity::Error));
        } else {
            reasons.push(Reason::with(
                ReasonCode::KeyCompromisedLater,
                Severity::Warning,
                format!("key compromised since {}", crate::date::format_unix(since)),
            ));
        }
    }

    // Validity window, in UTC calendar days.
    let today = Date::from_unix(checked_at);
    if today > data.valid_until {
        reasons.push(Reason::new(ReasonCode::Expired, Severity::Error));
    }
    if today < data.valid_from {
        reasons.push(Reason::new(ReasonCode::NotYetValid, Severity::Error));
    }

    // Status.
    let mut seen = None;
    let mut status_age = None;
    match status.get(m.authority.id) {
        None => reasons.push(Reason::new(
            ReasonCode::StatusUnavailable,
            Severity::Warning,
        )),
        Some(list) => {
            let age = checked_at - list.issued_at;
            status_age = Some(age);
            let state = match list.get(data.status_index) {
                IndexStatus::Issued(s) => Some(s),
                IndexStatus::NotIssued => None,
            };
            seen = Some(StatusSeen {
                state,
                list_version: list.version,
                list_issued_at: list.issued_at,
            });
            match (state, policy.checkpoint) {
                // The permit's time is a whole minute and the list's a second: a permit
                // issued in the list's own minute may be newer than the list (FORMAT.md §7.8).
                (None, _) if data.issued_at >= minute(list.issued_at) => {
                    reasons.push(Reason::new(
                        ReasonCode::StatusOlderThanPermit,
                        Severity::Warning,
                    ));
                }
                (None, _) => reasons.push(Reason::new(ReasonCode::NotIssued, Severity::Error)),
                (Some(PermitState::Valid), Checkpoint::Export | Checkpoint::Inspection) => {}
                // An import permit is the importing country's own document and a multi-use
                // certificate records its crossings instead of being used up (FORMAT.md §7.9):
                // neither carries an export endorsement in the status list.
                (Some(PermitState::Valid), Checkpoint::Import)
                    if data.document_type.issuer_is_importer()
                        || data.document_type.is_multi_use() => {}
                (Some(PermitState::Valid), Checkpoint::Import) => {
                    reasons.push(Reason::new(ReasonCode::NotEndorsed, Severity::Warning));
                }
                (Some(PermitState::Revoked), _) => {
                    reasons.push(Reason::new(ReasonCode::Revoked, Severity::Error))
                }
                (Some(PermitState::Suspended), _) => {
                    reasons.push(Reason::new(ReasonCode::Suspended, Severity::Error));
                }
                (Some(PermitState::Used), Checkpoint::Export) => {
                    reasons.push(Reason::new(ReasonCode::Used, Severity::Error));
                }
                (Some(PermitState::Used), Checkpoint::Import | Checkpoint::Inspection) => {
                    reasons.push(Reason::new(ReasonCode::Endorsed, Severity::Info));
                }
                // Cancelled by the importing authority: presented again at a border it is
                // re-use; inland, the specimen it covered was imported and the document is
                // only evidence of that, so the officer is warned, not refused.
                (Some(PermitState::CancelledOnImport), Checkpoint::Export | Checkpoint::Import) => {
                    reasons.push(Reason::new(ReasonCode::CancelledOnImport, Severity::Error));
                }
                (Some(PermitState::CancelledOnImport), Checkpoint::Inspection) => {
                    reasons.push(Reason::new(
                        ReasonCode::CancelledOnImport,
                        Severity::Warning,
                    ));
                }
            }
            let limit = if permit.has_appendix_i() {
                policy.max_status_age_appendix_i
            } else {
                policy.max_status_age
            };
            if age > limit {
                reasons.push(Reason::with(
                    ReasonCode::StaleStatus,
                    Severity::Warning,
                    format!("status data {} h old, limit {} h", age / 3600, limit / 3600),
                ));
            }
        }
    }
    if checked_at - trust.issued_at > policy.max_trust_age {
        reasons.push(Reason::new(ReasonCode::StaleTrust, Severity::Warning));
    }
    for f in permit.flags() {
        match f {
            Flag::AppendixICommercial { block } => reasons.push(Reason::with(
                ReasonCode::AppendixICommercial,
                Severity::Warning,
                format!("block {block}"),
            )),
            Flag::DeceptiveText {
                block,
                field,
                problem,
            } => reasons.push(Reason::with(
                ReasonCode::DeceptiveText,
                Severity::Warning,
                match block {
                    Some(b) => format!("block {b} {field}: {problem}"),
                    None => format!("{field}: {problem}"),
                },
            )),
        }
    }

    reasons.sort_by_key(|r| std::cmp::Reverse(r.severity));
    let verdict = match reasons.first().map(|r| r.severity) {
        Some(Severity::Error) => Verdict::Invalid,
        Some(Severity::Warning) => Verdict::ValidWithWarnings,
        _ => Verdict::Valid,
    };
    Verification {
        verdict,
        reasons,
        issuer: Some(Issuer {
            authority_id: m.authority.id,
            authority_name: m.authority.name.clone(),
            country: m.authority.country,
            key_id: k.key.id(),
        }),
        permit: Some(permit.data().clone()),
        status: seen,
        checked_at,
        status_age,
    }
}

fn decode_reason(e: &DecodeError) -> Reason {
    match e {
        DecodeError::NotAPermit => Reason::new(ReasonCode::NotAPermit, Severity::Error),
        DecodeError::UnsupportedVersion(v) => Reason::with(
            ReasonCode::UnsupportedVersion,
            Severity::Error,
            format!("version {v}"),
        ),
        DecodeError::Base45(e) => {
            Reason::with(ReasonCode::BadEncoding, Severity::Error, e.to_string())
        }
        DecodeError::TooShort => Reason::with(ReasonCode::Malformed, Severity::Error, "too short"),
        DecodeError::Malformed(e) => {
            Reason::with(ReasonCode::Malformed, Severity::Error, e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SecretKey;
    use crate::permit::{IssueContext, Permit};
    use crate::status::StatusList;
    use crate::trust::{Authority, TrustedKey};

    /// A key created half a minute in and a permit signed a quarter of a minute later, then the
    /// same key reported stolen at 10:00:30.
    #[test]
    fn key_times_are_compared_to_the_minute() {
        let ten = crate::date::parse_unix("2026-11-29T10:00:00Z").unwrap();
        let key = SecretKey::from_seed(&[8; 32]);
        let ctx = IssueContext {
            issuing_country: "ZA".parse().unwrap(),
            issued_at: ten + 45,
            status_index: 0,
        };
        let text = crate::payload::sign(
            &Permit::new(&crate::permit::tests::croc_draft(), ctx).unwrap(),
            &key,
        );
        let trust_with = |status| {
            let authority = Authority {
                id: 1,
                country: "ZA".parse().unwrap(),
                name: "DFFE".into(),
                keys: vec![TrustedKey {
                    key: key.public().clone(),
                    valid_from: ten + 30,
                    valid_until: None,
                    status,
                }],
            };
            TrustList::new(1, ten + 50, vec![authority]).unwrap()
        };
        let mut list = StatusList::new(1, 1, ten + 50);
        list.set(0, PermitState::Valid);
        let mut status = StatusSet::new();
        status.insert(list);
        let v = verify(&text, ten + 60, &trust_with(KeyStatus::Good), &status);
        assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());
        let v = verify(
            &text,
            ten + 60,
            &trust_with(KeyStatus::Compromised { since: ten + 30 }),
            &status,
        );
        assert_eq!(v.codes(), ["KEY_COMPROMISED"]);
    }

    /// A permit of `draft` issued by ZA, checked at `checkpoint` against a status list that
    /// gives it `state`.
    fn checked(
        draft: &crate::permit::PermitDraft,
        country: &str,
        state: PermitState,
        checkpoint: Checkpoint,
    ) -> Verification {
        let at = crate::date::parse_unix("2026-11-29T10:00:00Z").unwrap();
        let key = SecretKey::from_seed(&[9; 32]);
        let ctx = IssueContext {
            issuing_country: country.parse().unwrap(),
            issued_at: at,
            status_index: 0,
        };
        let text = crate::payload::sign(&Permit::new(draft, ctx).unwrap(), &key);
        let authority = Authority {
            id: 1,
            country: country.parse().unwrap(),
            name: "MA".into(),
            keys: vec![TrustedKey {
                key: key.public().clone(),
                valid_from: at - 60,
                valid_until: None,
                status: KeyStatus::Good,
            }],
        };
        let trust = TrustList::new(1, at + 60, vec![authority]).unwrap();
        let mut list = StatusList::new(1, 1, at + 60);
        list.set(0, state);
        let mut status = StatusSet::new();
        status.insert(list);
        let policy = Policy {
            checkpoint,
            ..Policy::default()
        };
        verify_with(&text, at + 120, &trust, &status, &policy, None)
    }

    fn draft_of(document_type: &str) -> crate::permit::PermitDraft {
        let mut d = crate::permit::tests::croc_draft();
        d.document_type = document_type.into();
        d
    }

    #[test]
    fn an_export_permit_at_import_is_expected_endorsed() {
        let v = checked(
            &draft_of("export"),
            "ZA",
            PermitState::Valid,
            Checkpoint::Import,
        );
        assert_eq!(v.codes(), ["NOT_ENDORSED"]);
        let v = checked(
            &draft_of("export"),
            "ZA",
            PermitState::Used,
            Checkpoint::Import,
        );
        assert_eq!(v.codes(), ["ENDORSED"]);
        assert_eq!(v.verdict, Verdict::Valid);
    }

    /// The importing country issues an import permit; no export office endorses it.
    #[test]
    fn an_import_permit_at_import_is_not_missing_an_endorsement() {
        let v = checked(
            &draft_of("import"),
            "FR",
            PermitState::Valid,
            Checkpoint::Import,
        );
        assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());
        assert!(v.codes().is_empty());
    }

    #[test]
    fn a_multi_use_certificate_at_import_is_not_missing_an_endorsement() {
        let v = checked(
            &draft_of("musical_instrument"),
            "ZA",
            PermitState::Valid,
            Checkpoint::Import,
        );
        assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());
    }

    /// Inland, neither the export nor the import expectation holds: a valid permit is valid,
    /// a used one is shown as endorsed, withdrawn ones stay refused.
    #[test]
    fn an_inspection_checks_status_and_validity_only() {
        let d = draft_of("export");
        let v = checked(&d, "ZA", PermitState::Valid, Checkpoint::Inspection);
        assert_eq!(v.verdict, Verdict::Valid, "{:?}", v.codes());
        let v = checked(&d, "ZA", PermitState::Used, Checkpoint::Inspection);
        assert_eq!((v.verdict, v.codes()), (Verdict::Valid, vec!["ENDORSED"]));
        let v = checked(&d, "ZA", PermitState::Revoked, Checkpoint::Inspection);
        assert_eq!(v.codes(), ["REVOKED"]);
        let v = checked(&d, "ZA", PermitState::Used, Checkpoint::Export);
        assert_eq!(v.codes(), ["USED"]);
    }

    /// Cancelled by the importing authority: refused at any border, a warning inland.
    #[test]
    fn a_document_cancelled_on_import_serves_no_further_crossing() {
        let d = draft_of("export");
        for checkpoint in [Checkpoint::Export, Checkpoint::Import] {
            let v = checked(&d, "ZA", PermitState::CancelledOnImport, checkpoint);
            assert_eq!(
                (v.verdict, v.codes()),
                (Verdict::Invalid, vec!["CANCELLED_ON_IMPORT"])
            );
        }
        let v = checked(
            &d,
            "ZA",
            PermitState::CancelledOnImport,
            Checkpoint::Inspection,
        );
        assert_eq!(
            (v.verdict, v.codes()),
            (Verdict::ValidWithWarnings, vec!["CANCELLED_ON_IMPORT"])
        );
    }
}
