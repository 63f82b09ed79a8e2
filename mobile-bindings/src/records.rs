//! What crosses the boundary: plain records and enums converted from the core's types.
//! Conversion only; every rule lives in `verifier-core`.

use serde::{Deserialize, Serialize};
use verifier_core::codes::Country;
use verifier_core::i18n::Lang;
use verifier_core::permit::{DocRef, LineItem, Party, PermitData};
use verifier_core::status::PermitState;
use verifier_core::verify::{
    Checkpoint, Issuer, Reason, Severity, StatusSeen, Verdict, Verification,
};

/// The overall answer shown to the officer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Authentic, in force, and the data is fresh.
    Valid,
    /// Authentic and in force, but a reason needs the officer's attention.
    ValidWithWarnings,
    /// Do not accept.
    Invalid,
}

impl From<Verdict> for VerdictKind {
    fn from(v: Verdict) -> VerdictKind {
        match v {
            Verdict::Valid => VerdictKind::Valid,
            Verdict::ValidWithWarnings => VerdictKind::ValidWithWarnings,
            Verdict::Invalid => VerdictKind::Invalid,
        }
    }
}

impl VerdictKind {
    /// The snake-case name the server and the vectors use.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::Valid => "valid",
            VerdictKind::ValidWithWarnings => "valid_with_warnings",
            VerdictKind::Invalid => "invalid",
        }
    }
}

/// How much a reason weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ReasonSeverity {
    /// For information; does not change the verdict.
    Info,
    /// Makes the verdict "valid with warnings".
    Warning,
    /// Makes the verdict "invalid".
    Error,
}

impl From<Severity> for ReasonSeverity {
    fn from(s: Severity) -> ReasonSeverity {
        match s {
            Severity::Info => ReasonSeverity::Info,
            Severity::Warning => ReasonSeverity::Warning,
            Severity::Error => ReasonSeverity::Error,
        }
    }
}

/// Where the check happens, which decides what "used" means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum CheckpointKind {
    /// At export (or a check before export): a used permit is being re-used.
    #[default]
    Export,
    /// At import: the export endorsement is expected.
    Import,
    /// A ranger's or an inland check: status and validity only.
    Inspection,
}

impl From<CheckpointKind> for Checkpoint {
    fn from(c: CheckpointKind) -> Checkpoint {
        match c {
            CheckpointKind::Export => Checkpoint::Export,
            CheckpointKind::Import => Checkpoint::Import,
            CheckpointKind::Inspection => Checkpoint::Inspection,
        }
    }
}

/// The language of officer-facing messages: the three working languages of CITES.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, uniffi::Enum)]
pub enum Language {
    /// English.
    #[default]
    En,
    /// French.
    Fr,
    /// Spanish.
    Es,
}

impl From<Language> for Lang {
    fn from(l: Language) -> Lang {
        match l {
            Language::En => Lang::En,
            Language::Fr => Lang::Fr,
            Language::Es => Lang::Es,
        }
    }
}

impl From<Lang> for Language {
    fn from(l: Lang) -> Language {
        match l {
            Lang::En => Language::En,
            Lang::Fr => Language::Fr,
            Lang::Es => Language::Es,
        }
    }
}

/// One finding of the verifier.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReasonRecord {
    /// Stable machine code such as `REVOKED`; apps match on it.
    pub code: String,
    /// How much it weighs.
    pub severity: ReasonSeverity,
    /// The message for the officer in the requested language.
    pub message: String,
    /// Technical detail for support (a field name, times); never personal data.
    pub detail: Option<String>,
}

/// A code and its English name, e.g. `SKI` / `skins`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodedValue {
    /// The code as printed on the permit.
    pub code: String,
    /// Its English name.
    pub name: String,
}

/// A trade party.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PartyRecord {
    /// Name.
    pub name: String,
    /// ISO 3166-1 country.
    pub country: CodedValue,
}

/// A reference to an earlier document (origin or last re-export).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DocumentRefRecord {
    /// Issuing country.
    pub country: CodedValue,
    /// Document number.
    pub number: String,
    /// Issue date, `YYYY-MM-DD`.
    pub date: String,
}

/// One block of the permit: what the officer compares with the shipment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LineRecord {
    /// Block letter, `A` for the first line.
    pub block: String,
    /// Scientific name.
    pub scientific_name: String,
    /// `animal` or `plant`.
    pub kingdom: CodedValue,
    /// Specimen term, e.g. `SKI`.
    pub term: CodedValue,
    /// Appendix `I`, `II` or `III`.
    pub appendix: CodedValue,
    /// Source code, e.g. `W`.
    pub source: CodedValue,
    /// The exact decimal quantity, e.g. `12.5` (a string: never rounded).
    pub quantity: String,
    /// Unit, e.g. `KIL`; `NUM` for a number of specimens.
    pub unit: CodedValue,
    /// Origin document (box 12).
    pub origin: Option<DocumentRefRecord>,
    /// Last re-export document (box 12a).
    pub last_reexport: Option<DocumentRefRecord>,
    /// Registered operation number (box 12b).
    pub operation_number: Option<String>,
    /// Date of acquisition (box 12b), `YYYY-MM-DD`.
    pub acquisition_date: Option<String>,
}

/// The signed permit data, present only when the signature verified.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PermitRecord {
    /// Permit number.
    pub number: String,
    /// Document type, e.g. `export` / `Export permit`.
    pub document_type: CodedValue,
    /// Country of the issuing Management Authority.
    pub issuing_country: CodedValue,
    /// Name of the issuing authority, from the trust list.
    pub issuing_authority: String,
    /// Issue time, Unix seconds.
    pub issued_at: i64,
    /// First day of validity, `YYYY-MM-DD`.
    pub valid_from: String,
    /// Last day of validity, `YYYY-MM-DD`.
    pub valid_until: String,
    /// Purpose code, e.g. `T` / `Commercial`.
    pub purpose: CodedValue,
    /// Security stamp number.
    pub security_stamp: Option<String>,
    /// Exporter or re-exporter.
    pub exporter: PartyRecord,
    /// Importer (absent only on multi-use certificates).
    pub importer: Option<PartyRecord>,
    /// Line items, block A first.
    pub lines: Vec<LineRecord>,
    /// Index in the authority's status list.
    pub status_index: u32,
}

/// The transparency log's signed tree head that came with the bundle in use (docs/FORMAT.md
/// §6, §12.4), verified against the pinned roots when the bundle was loaded. An auditor's app
/// checks a permit's inclusion proofs against it; two heads of one size with different roots
/// prove the log was forked.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TreeHeadRecord {
    /// Entries in the log.
    pub size: u64,
    /// Its RFC 9162 root, 64 lower-case hex digits.
    pub root_hex: String,
    /// When the root key signed it, Unix seconds.
    pub signed_at: i64,
}

impl From<&verifier_core::log::Checkpoint> for TreeHeadRecord {
    fn from(c: &verifier_core::log::Checkpoint) -> Self {
        Self {
            size: c.size,
            root_hex: c.root.iter().map(|b| format!("{b:02x}")).collect(),
            signed_at: c.time,
        }
    }
}

/// What the issuer's status list says of the permit.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StatusRecord {
    /// `valid`, `suspended`, `revoked` or `used`; absent when the index is not issued.
    pub state: Option<String>,
    /// The list version consulted.
    pub list_version: u64,
    /// When that list was signed, Unix seconds.
    pub list_issued_at: i64,
}

/// Everything the officer's screen needs after a scan.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerificationResult {
    /// The overall answer.
    pub verdict: VerdictKind,
    /// Every finding, most severe first.
    pub reasons: Vec<ReasonRecord>,
    /// The signed data, present only when the signature verified.
    pub permit: Option<PermitRecord>,
    /// The status list's answer, when there was one.
    pub status: Option<StatusRecord>,
    /// The time the checks used, Unix seconds: the device time, or the newest signed time
    /// when the device clock is behind it.
    pub checked_at: i64,
    /// Age in seconds of the status data used, when there was any.
    pub status_age_seconds: Option<i64>,
}

fn country(c: Country) -> CodedValue {
    CodedValue {
        code: c.as_str().to_string(),
        name: c.name_en().to_string(),
    }
}

macro_rules! coded {
    ($v:expr) => {
        CodedValue {
            code: $v.code().to_string(),
            name: $v.name_en().to_string(),
        }
    };
}

fn party(p: &Party) -> PartyRecord {
    PartyRecord {
        name: p.name.clone(),
        country: country(p.country),
    }
}

fn doc_ref(d: &DocRef) -> DocumentRefRecord {
    DocumentRefRecord {
        country: country(d.country),
        number: d.number.clone(),
        date: d.date.to_string(),
    }
}

fn line(l: &LineItem) -> LineRecord {
    LineRecord {
        block: l.block.to_string(),
        scientific_name: l.scientific_name.clone(),
        kingdom: coded!(l.kingdom),
        term: coded!(l.term),
        appendix: coded!(l.appendix),
        source: coded!(l.source),
        quantity: l.quantity.to_string(),
        unit: coded!(l.unit),
        origin: l.origin.as_ref().map(doc_ref),
        last_reexport: l.last_reexport.as_ref().map(doc_ref),
        operation_number: l.operation_number.clone(),
        acquisition_date: l.acquisition_date.map(|d| d.to_string()),
    }
}

fn permit(p: &PermitData, issuer: Option<&Issuer>) -> PermitRecord {
    PermitRecord {
        number: p.number.clone(),
        document_type: coded!(p.document_type),
        issuing_country: country(p.issuing_country),
        issuing_authority: issuer.map(|i| i.authority_name.clone()).unwrap_or_default(),
        issued_at: p.issued_at,
        valid_from: p.valid_from.to_string(),
        valid_until: p.valid_until.to_string(),
        purpose: coded!(p.purpose),
        security_stamp: p.security_stamp.clone(),
        exporter: party(&p.exporter),
        importer: p.importer.as_ref().map(party),
        lines: p.lines.iter().map(line).collect(),
        status_index: p.status_index,
    }
}

fn state_name(s: PermitState) -> String {
    s.name().to_string()
}

fn status(s: &StatusSeen) -> StatusRecord {
    StatusRecord {
        state: s.state.map(state_name),
        list_version: s.list_version,
        list_issued_at: s.list_issued_at,
    }
}

fn reason(r: &Reason, lang: Lang) -> ReasonRecord {
    ReasonRecord {
        code: r.code.as_str().to_string(),
        severity: r.severity.into(),
        message: r.message(lang).to_string(),
        detail: r.detail.clone(),
    }
}

impl VerificationResult {
    /// Converts the core's verification, with messages in `lang`.
    pub fn from_core(v: &Verification, lang: Lang) -> VerificationResult {
        VerificationResult {
            verdict: v.verdict.into(),
            reasons: v.reasons.iter().map(|r| reason(r, lang)).collect(),
            permit: v.permit.as_ref().map(|p| permit(p, v.issuer.as_ref())),
            status: v.status.as_ref().map(status),
            checked_at: v.checked_at,
            status_age_seconds: v.status_age,
        }
    }
}
