//! The permit model: what an issuer submits ([`PermitDraft`]), the checked permit
//! ([`Permit`]) and the plain data an officer compares with the shipment ([`PermitData`]).
//!
//! A [`Permit`] exists only once every rule that needs no database holds; its data is
//! reachable read-only, so nothing can change a checked permit before it is signed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::codes::{
    Appendix, CodeError, Country, DocumentType, Kingdom, Purpose, Source, Term, Unit,
};
use crate::date::{DAY_SECS, Date};
use crate::text::{self, FieldKind, TextProblem};
use crate::wire::{MAX_TEXT, Writer, text_ok};

/// Most line items (blocks A–Z) one permit carries.
pub const MAX_LINES: usize = 26;
/// Longest permit number (the WCO/toolkit limit).
pub const MAX_NUMBER_LEN: usize = 35;
/// Longest party or taxon name.
pub const MAX_NAME_LEN: usize = 255;
/// Length of the digest that binds the details not carried in the QR.
pub const DETAILS_DIGEST_LEN: usize = 16;

const DETAILS_NAMESPACE: &[u8] = b"permitseal/v1/details";

/// A decimal quantity greater than zero, kept exactly (no floating point).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quantity {
    mantissa: u64,
    scale: u8,
}

/// Largest mantissa a quantity may have (it is shifted left by three bits on the wire).
pub const MAX_MANTISSA: u64 = (1 << 60) - 1;
/// Most decimal places a quantity may have.
pub const MAX_SCALE: u8 = 6;
/// Largest quantity an issuer may write on a line (FORMAT.md §3.4): a million million units.
/// In millionths that is 10¹⁸, so sums of quantities in millionths stay inside 64 bits for
/// any realistic count of lines, and checked sums catch the rest.
pub const MAX_ISSUED_QUANTITY: u64 = 1_000_000_000_000;
/// Earliest date of acquisition an issuer may write (box 12b): older specimens are dated by
/// century in the description, not by day.
pub const EARLIEST_ACQUISITION: (i32, u32, u32) = (1000, 1, 1);
/// Earliest date of a CITES document referred to in box 12 or 12a: the Convention's entry
/// into force.
pub const EARLIEST_DOCUMENT: (i32, u32, u32) = (1975, 7, 1);

/// The text was not a positive decimal with at most six decimal places.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a positive decimal quantity with at most 6 decimal places")]
pub struct QuantityError;

impl Quantity {
    /// `mantissa × 10^-scale`, normalised (no trailing zero decimals); `None` if zero or out
    /// of range.
    pub fn new(mut mantissa: u64, mut scale: u8) -> Option<Quantity> {
        while scale > 0 && mantissa != 0 && mantissa.is_multiple_of(10) {
            mantissa /= 10;
            scale -= 1;
        }
        (mantissa > 0 && mantissa <= MAX_MANTISSA && scale <= MAX_SCALE)
            .then_some(Quantity { mantissa, scale })
    }

    /// The digits without the decimal point.
    pub fn mantissa(self) -> u64 {
        self.mantissa
    }

    /// The number of decimal places.
    pub fn scale(self) -> u8 {
        self.scale
    }

    /// True when the quantity is at most [`MAX_ISSUED_QUANTITY`].
    pub fn within_issuing_bound(self) -> bool {
        let bound = Quantity {
            mantissa: MAX_ISSUED_QUANTITY,
            scale: 0,
        };
        self.le(bound)
    }

    /// Compares exactly: true when `self ≤ other`.
    pub fn le(self, other: Quantity) -> bool {
        let (a, b) = (u128::from(self.mantissa), u128::from(other.mantissa));
        let (sa, sb) = (u32::from(self.scale), u32::from(other.scale));
        let s = sa.max(sb);
        a * 10u128.pow(s - sa) <= b * 10u128.pow(s - sb)
    }

    /// A floating-point approximation, for sums in reports only.
    pub fn to_f64(self) -> f64 {
        self.mantissa as f64 / 10f64.powi(i32::from(self.scale))
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Quantity, QuantityError> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty()
            || (s.contains('.') && frac.is_empty())
            || !int.bytes().all(|c| c.is_ascii_digit())
            || !frac.bytes().all(|c| c.is_ascii_digit())
            || frac.len() > usize::from(MAX_SCALE)
            || int.len() > 19
        {
            return Err(QuantityError);
        }
        let digits = format!("{int}{frac}");
        let mantissa: u64 = digits.parse().map_err(|_| QuantityError)?;
        Quantity::new(mantissa, frac.len() as u8).ok_or(QuantityError)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.mantissa);
        }
        let p = 10u64.pow(u32::from(self.scale));
        write!(
            f,
            "{}.{:0width$}",
            self.mantissa / p,
            self.mantissa % p,
            width = usize::from(self.scale)
        )
    }
}

impl fmt::Debug for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        QuantityInput::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A quantity as JSON gives it: a string (exact), an integer, or a number.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum QuantityInput {
    /// An integer such as `250`.
    Integer(u64),
    /// A JSON number such as `12.5`, read through its shortest decimal form.
    Number(f64),
    /// A decimal string such as `"12.5"`.
    Text(String),
}

impl QuantityInput {
    /// The exact quantity this input stands for.
    pub fn parse(&self) -> Result<Quantity, QuantityError> {
        match self {
            QuantityInput::Integer(n) => Quantity::new(*n, 0).ok_or(QuantityError),
            QuantityInput::Number(x) if x.is_finite() => x.to_string().parse(),
            QuantityInput::Number(_) => Err(QuantityError),
            QuantityInput::Text(s) => s.parse(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// What an issuer submits.

/// A permit as an issuer submits it (JSON). Codes are strings here so that an unknown code
/// is reported with the path of the field that holds it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PermitDraft {
    /// Document type, e.g. `export` (see [`DocumentType`]).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::DocumentType))]
    pub document_type: String,
    /// Permit number (box 1), unique per authority.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 35))]
    pub number: String,
    /// First day of validity; the issue date when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub valid_from: Option<String>,
    /// Last day of validity (box 2).
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub valid_until: String,
    /// Purpose code (box 5a).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::Purpose))]
    pub purpose: String,
    /// Security stamp number (box 5b).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 35))]
    pub security_stamp: Option<String>,
    /// Exporter or re-exporter (box 4).
    pub exporter: PartyDraft,
    /// Importer (box 3); optional only for multi-use certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub importer: Option<PartyDraft>,
    /// Special conditions (box 5), bound by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_conditions: Option<String>,
    /// Line items, blocks A, B, … in order.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 26))]
    pub lines: Vec<LineDraft>,
}

/// A trade party as submitted.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartyDraft {
    /// Name.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 255))]
    pub name: String,
    /// ISO 3166-1 alpha-2 country.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::Country))]
    pub country: String,
    /// Postal address, bound by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A line item as submitted.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineDraft {
    /// Scientific name (box 7).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 255))]
    pub scientific_name: String,
    /// Common name (box 8), bound by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 255))]
    pub common_name: Option<String>,
    /// `animal` or `plant`: decides which source codes are allowed.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::Kingdom))]
    pub kingdom: String,
    /// Description including marks (box 9), bound by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Term code (box 9), e.g. `SKI`.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::Term))]
    pub term: String,
    /// Appendix `I`, `II` or `III` (box 10).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::Appendix))]
    pub appendix: String,
    /// Source code (box 10).
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::Source))]
    pub source: String,
    /// Quantity (box 11).
    pub quantity: QuantityInput,
    /// Unit code (box 11); number of specimens when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::codes::Unit>))]
    pub unit: Option<String>,
    /// Country of origin, permit number and date (box 12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<DocRefDraft>,
    /// Country of last re-export, certificate number and date (box 12a).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reexport: Option<DocRefDraft>,
    /// Registered operation number (box 12b), required for source D.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 35))]
    pub operation_number: Option<String>,
    /// Date of acquisition (box 12b), required for source O.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub acquisition_date: Option<String>,
    /// Why source U is used or box 12 is unknown; bound by digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
}

/// A reference to an earlier document as submitted.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocRefDraft {
    /// Country that issued it.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::codes::Country))]
    pub country: String,
    /// Its number.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 35))]
    pub number: String,
    /// Its issue date.
    #[cfg_attr(feature = "openapi", schema(format = Date))]
    pub date: String,
}

/// What the issuing service assigns when it issues a permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IssueContext {
    /// The issuing authority's country.
    pub issuing_country: Country,
    /// Issue time, Unix seconds; the format keeps it to the minute.
    pub issued_at: i64,
    /// Index of the permit in its authority's status list.
    pub status_index: u32,
}

// ---------------------------------------------------------------------------------------
// The checked permit.

/// The data a permit carries in its QR payload: everything an officer compares with the
/// shipment. Read it through [`Permit::data`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PermitData {
    /// Document type.
    pub document_type: DocumentType,
    /// Permit number.
    pub number: String,
    /// Country of the issuing Management Authority.
    pub issuing_country: Country,
    /// Issue time, Unix seconds, a whole minute.
    pub issued_at: i64,
    /// First day of validity.
    pub valid_from: Date,
    /// Last day of validity.
    pub valid_until: Date,
    /// Purpose code.
    pub purpose: Purpose,
    /// Security stamp number.
    pub security_stamp: Option<String>,
    /// Index in the authority's status list.
    pub status_index: u32,
    /// Exporter or re-exporter.
    pub exporter: Party,
    /// Importer (absent only on multi-use certificates).
    pub importer: Option<Party>,
    /// Line items.
    pub lines: Vec<LineItem>,
    /// Digest of the [`Details`] not carried, when there are any.
    #[serde(serialize_with = "ser_digest")]
    pub details_digest: Option<[u8; DETAILS_DIGEST_LEN]>,
}

fn ser_digest<S: serde::Serializer>(
    d: &Option<[u8; DETAILS_DIGEST_LEN]>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.collect_str(&crate::wire::Hex(d)),
        None => s.serialize_none(),
    }
}

/// A trade party: name and country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// Name.
    pub name: String,
    /// Country.
    pub country: Country,
}

/// One block of the permit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineItem {
    /// Block letter, `A` for the first line.
    pub block: char,
    /// Scientific name.
    pub scientific_name: String,
    /// Animal or plant.
    pub kingdom: Kingdom,
    /// Term code.
    pub term: Term,
    /// Appendix.
    pub appendix: Appendix,
    /// Source code.
    pub source: Source,
    /// Quantity.
    pub quantity: Quantity,
    /// Unit.
    pub unit: Unit,
    /// Origin document (box 12).
    pub origin: Option<DocRef>,
    /// Last re-export document (box 12a).
    pub last_reexport: Option<DocRef>,
    /// Registered operation number (box 12b).
    pub operation_number: Option<String>,
    /// Date of acquisition (box 12b).
    pub acquisition_date: Option<Date>,
}

/// A reference to an earlier document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocRef {
    /// Issuing country.
    pub country: Country,
    /// Document number.
    pub number: String,
    /// Issue date.
    pub date: Date,
}

/// Text printed on the paper permit but not carried in the QR; the QR binds it by digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    /// Exporter's address.
    pub exporter_address: Option<String>,
    /// Importer's address.
    pub importer_address: Option<String>,
    /// Special conditions.
    pub special_conditions: Option<String>,
    /// Per line: common name, description, justification.
    pub lines: Vec<LineDetails>,
}

/// The details of one line item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDetails {
    /// Common name.
    pub common_name: Option<String>,
    /// Description including identifying marks.
    pub description: Option<String>,
    /// Justification for source U or an unknown origin.
    pub justification: Option<String>,
}

impl Details {
    fn is_empty(&self) -> bool {
        self.exporter_address.is_none()
            && self.importer_address.is_none()
            && self.special_conditions.is_none()
            && self.lines.iter().all(|l| {
                l.common_name.is_none() && l.description.is_none() && l.justification.is_none()
            })
    }

    /// The 16-byte digest the payload carries: SHA-256 over the namespace and the canonical
    /// encoding of every field (docs/FORMAT.md, "Details digest"), truncated.
    pub fn digest(&self) -> [u8; DETAILS_DIGEST_LEN] {
        let mut w = Writer::default();
        let opt = |w: &mut Writer, s: &Option<String>| match s {
            Some(s) => {
                w.u8(1);
                w.text(s);
            }
            None => w.u8(0),
        };
        opt(&mut w, &self.exporter_address);
        opt(&mut w, &self.importer_address);
        opt(&mut w, &self.special_conditions);
        w.u8(self.lines.len() as u8);
        for l in &self.lines {
            opt(&mut w, &l.common_name);
            opt(&mut w, &l.description);
            opt(&mut w, &l.justification);
        }
        let mut h = Sha256::new();
        h.update(DETAILS_NAMESPACE);
        h.update([0u8]);
        h.update(&w.buf);
        let full = h.finalize();
        let mut out = [0u8; DETAILS_DIGEST_LEN];
        out.copy_from_slice(&full[..DETAILS_DIGEST_LEN]);
        out
    }
}

/// A permit whose every database-free rule holds: ready to sign, or decoded from a signed
/// payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    data: PermitData,
    details: Option<Details>,
}

/// Something the verifier shows although the permit is well-formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Flag {
    /// Appendix I specimens for commercial purposes from a wild-type source (W, X, F or R):
    /// commercial Appendix-I trade is legitimate mainly under source D.
    AppendixICommercial {
        /// The block concerned.
        block: char,
    },
    /// A name or number an officer compares breaks the text rule (FORMAT.md §11): hidden
    /// characters, a number outside its characters, look-alike letters of another script.
    DeceptiveText {
        /// The block concerned, for a field of a line item.
        block: Option<char>,
        /// The field, as in the draft (`number`, `exporter.name`, `scientific_name`, …).
        field: &'static str,
        /// What is wrong with it.
        #[serde(skip)]
        problem: TextProblem,
    },
}

/// The fields of a permit's data that an officer compares, with their kind of text
/// (FORMAT.md §11.2), in payload order.
fn compared_fields(d: &PermitData) -> Vec<(Option<char>, &'static str, FieldKind, &str)> {
    let mut out = vec![(None, "number", FieldKind::Number, d.number.as_str())];
    if let Some(s) = &d.security_stamp {
        out.push((None, "security_stamp", FieldKind::Number, s));
    }
    out.push((None, "exporter.name", FieldKind::Name, &d.exporter.name));
    if let Some(i) = &d.importer {
        out.push((None, "importer.name", FieldKind::Name, &i.name));
    }
    for l in &d.lines {
        let b = Some(l.block);
        out.push((
            b,
            "scientific_name",
            FieldKind::ScientificName,
            &l.scientific_name,
        ));
        if let Some(r) = &l.origin {
            out.push((b, "origin.number", FieldKind::Number, &r.number));
        }
        if let Some(r) = &l.last_reexport {
            out.push((b, "last_reexport.number", FieldKind::Number, &r.number));
        }
        if let Some(n) = &l.operation_number {
            out.push((b, "operation_number", FieldKind::Number, n));
        }
    }
    out
}

/// Every text field of a draft with its kind of text (FORMAT.md §11.2) and its path: what
/// an issuer checks before signing. Free text (descriptions, justifications, special
/// conditions) is [`FieldKind::FreeText`].
pub fn draft_text_fields(d: &PermitDraft) -> Vec<(String, FieldKind, &str)> {
    fn opt<'a>(
        out: &mut Vec<(String, FieldKind, &'a str)>,
        path: String,
        kind: FieldKind,
        s: &'a Option<String>,
    ) {
        if let Some(s) = s {
            out.push((path, kind, s.as_str()));
        }
    }
    let mut out = vec![("number".to_owned(), FieldKind::Number, d.number.as_str())];
    opt(
        &mut out,
        "security_stamp".into(),
        FieldKind::Number,
        &d.security_stamp,
    );
    let parties = [
        ("exporter", Some(&d.exporter)),
        ("importer", d.importer.as_ref()),
    ];
    for (name, p) in parties {
        if let Some(p) = p {
            out.push((format!("{name}.name"), FieldKind::Name, p.name.as_str()));
            opt(
                &mut out,
                format!("{name}.address"),
                FieldKind::Other,
                &p.address,
            );
        }
    }
    opt(
        &mut out,
        "special_conditions".into(),
        FieldKind::FreeText,
        &d.special_conditions,
    );
    for (i, l) in d.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        out.push((
            f("scientific_name"),
            FieldKind::ScientificName,
            &l.scientific_name,
        ));
        opt(&mut out, f("common_name"), FieldKind::Other, &l.common_name);
        opt(
            &mut out,
            f("description"),
            FieldKind::FreeText,
            &l.description,
        );
        opt(
            &mut out,
            f("justification"),
            FieldKind::FreeText,
            &l.justification,
        );
        opt(
            &mut out,
            f("operation_number"),
            FieldKind::Number,
            &l.operation_number,
        );
        for (name, r) in [("origin", &l.origin), ("last_reexport", &l.last_reexport)] {
            if let Some(r) = r {
                out.push((
                    format!("{}.number", f(name)),
                    FieldKind::Number,
                    r.number.as_str(),
                ));
            }
        }
    }
    out
}

impl Permit {
    /// Checks a draft against every rule that needs no database and builds the permit.
    pub fn new(draft: &PermitDraft, ctx: IssueContext) -> Result<Permit, PermitError> {
        build(draft, ctx)
    }

    /// The same permit under another status index, without checking the draft again: no
    /// rule depends on the index.
    pub fn with_status_index(&self, status_index: u32) -> Permit {
        let mut permit = self.clone();
        permit.data.status_index = status_index;
        permit
    }

    /// Wraps data decoded from a verified payload. Decoding has checked the field formats;
    /// this re-checks the cross-field rules so a decoded permit obeys what a built one does.
    pub(crate) fn from_decoded(data: PermitData) -> Result<Permit, PermitError> {
        check_rules(&data, None)?;
        Ok(Permit {
            data,
            details: None,
        })
    }

    /// The data carried in the QR payload.
    pub fn data(&self) -> &PermitData {
        &self.data
    }

    /// The details bound by digest, when this permit was built from a draft.
    pub fn details(&self) -> Option<&Details> {
        self.details.as_ref()
    }

    /// True when `details` are the ones this permit's digest binds.
    pub fn binds(&self, details: &Details) -> bool {
        if details.is_empty() {
            return self.data.details_digest.is_none();
        }
        self.data.details_digest == Some(details.digest())
    }

    /// What an officer should be told about although nothing is invalid.
    pub fn flags(&self) -> Vec<Flag> {
        self.data
            .lines
            .iter()
            .filter(|l| {
                l.appendix == Appendix::I
                    && self.data.purpose == Purpose::T
                    && matches!(l.source, Source::W | Source::X | Source::F | Source::R)
            })
            .map(|l| Flag::AppendixICommercial { block: l.block })
            .chain(
                compared_fields(&self.data)
                    .into_iter()
                    .filter_map(|(block, field, kind, s)| {
                        text::check(kind, s).map(|problem| Flag::DeceptiveText {
                            block,
                            field,
                            problem,
                        })
                    }),
            )
            .collect()
    }

    /// True if any line is of Appendix I: such permits get the stricter freshness limit.
    pub fn has_appendix_i(&self) -> bool {
        self.data.lines.iter().any(|l| l.appendix == Appendix::I)
    }
}

/// Permit numbers compared the way the CITES Trade Database keys them: upper case, with
/// everything but letters and digits removed. Uniqueness per authority uses this form.
pub fn normalize_number(number: &str) -> String {
    number
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Errors.

/// A rule the draft breaks, with the path of the field concerned (e.g. `lines[1].source`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {kind}")]
pub struct PermitError {
    /// Path of the offending field.
    pub field: String,
    /// What is wrong.
    pub kind: PermitErrorKind,
}

/// The rules a permit can break.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PermitErrorKind {
    /// A code outside its CITES code list.
    #[error(transparent)]
    UnknownCode(#[from] CodeError),
    /// A required field is missing or empty.
    #[error("is required")]
    Missing,
    /// Text longer than the field allows.
    #[error("is longer than {0} characters")]
    TooLong(usize),
    /// Text with control characters or leading/trailing white space.
    #[error("has control characters or leading/trailing white space")]
    BadText,
    /// Not a `YYYY-MM-DD` date.
    #[error("is not a date in the form YYYY-MM-DD")]
    BadDate,
    /// Not a positive decimal quantity.
    #[error("{0}")]
    BadQuantity(#[from] QuantityError),
    /// A quantity above [`MAX_ISSUED_QUANTITY`].
    #[error("is more than {MAX_ISSUED_QUANTITY}")]
    QuantityTooLarge,
    /// A date before the earliest one the field may hold.
    #[error("is before {0}")]
    DateTooEarly(Date),
    /// A date of acquisition or of an earlier document after the issue date.
    #[error("is after the issue date")]
    DateAfterIssue,
    /// Validity longer than the document type allows.
    #[error("is more than {0} months after the issue date")]
    ValidityTooLong(u32),
    /// The validity window ends before it starts.
    #[error("is before valid_from")]
    EndsBeforeStart,
    /// Validity starts before the issue date.
    #[error("is before the issue date")]
    StartsBeforeIssue,
    /// The source code is not allowed for the kingdom.
    #[error("source {0} is not allowed for this kingdom")]
    SourceNotForKingdom(Source),
    /// Source D needs the registered operation number.
    #[error("is required for source D (registered operation)")]
    OperationNumberRequired,
    /// Source O needs the date of acquisition.
    #[error("is required for source O (pre-Convention)")]
    AcquisitionDateRequired,
    /// Source U, or a re-export without box 12, needs a justification.
    #[error("is required for source U or a re-export without an origin document")]
    JustificationRequired,
    /// Exporter and importer in one country.
    #[error("must differ from the exporter's country")]
    SameCountry,
    /// The issuing country is not the exporting (or, for an import permit, importing) one.
    #[error("must be the issuing authority's country ({0})")]
    NotIssuingCountry(Country),
    /// More lines than blocks A–Z.
    #[error("has more than {MAX_LINES} lines")]
    TooManyLines,
    /// The issue time is before 1970 or implausibly far ahead.
    #[error("is out of range")]
    OutOfRange,
    /// Text an officer could misread: hidden characters, a number outside its characters,
    /// look-alike letters (FORMAT.md §11).
    #[error("{0}")]
    DeceptiveText(#[from] TextProblem),
}

fn fail<T>(field: impl Into<String>, kind: impl Into<PermitErrorKind>) -> Result<T, PermitError> {
    Err(PermitError {
        field: field.into(),
        kind: kind.into(),
    })
}

// ---------------------------------------------------------------------------------------
// Construction.

fn text(field: &str, s: &str, max: usize) -> Result<String, PermitError> {
    if s.is_empty() {
        return fail(field, PermitErrorKind::Missing);
    }
    if s.chars().count() > max || s.len() > MAX_TEXT {
        return fail(field, PermitErrorKind::TooLong(max));
    }
    if !text_ok(s) {
        return fail(field, PermitErrorKind::BadText);
    }
    Ok(s.to_string())
}

fn opt_text(field: &str, s: &Option<String>, max: usize) -> Result<Option<String>, PermitError> {
    s.as_deref().map(|s| text(field, s, max)).transpose()
}

fn code<T: FromStr<Err = CodeError>>(field: &str, s: &str) -> Result<T, PermitError> {
    s.parse().or_else(|e: CodeError| fail(field, e))
}

fn date(field: &str, s: &str) -> Result<Date, PermitError> {
    s.parse().or_else(|_| fail(field, PermitErrorKind::BadDate))
}

fn party(field: &str, p: &PartyDraft) -> Result<(Party, Option<String>), PermitError> {
    Ok((
        Party {
            name: text(&format!("{field}.name"), &p.name, MAX_NAME_LEN)?,
            country: code(&format!("{field}.country"), &p.country)?,
        },
        opt_text(&format!("{field}.address"), &p.address, MAX_TEXT)?,
    ))
}

/// A date of the past: not before `earliest`, not after the issue day.
fn past_date(
    field: &str,
    s: &str,
    earliest: (i32, u32, u32),
    issue_day: Date,
) -> Result<Date, PermitError> {
    let d = date(field, s)?;
    let (y, m, day) = earliest;
    let earliest = Date::from_ymd(y, m, day).unwrap_or(d);
    if d < earliest {
        return fail(field, PermitErrorKind::DateTooEarly(earliest));
    }
    if d > issue_day {
        return fail(field, PermitErrorKind::DateAfterIssue);
    }
    Ok(d)
}

fn doc_ref(
    field: &str,
    r: &Option<DocRefDraft>,
    issue_day: Date,
) -> Result<Option<DocRef>, PermitError> {
    r.as_ref()
        .map(|r| {
            Ok(DocRef {
                country: code(&format!("{field}.country"), &r.country)?,
                number: text(&format!("{field}.number"), &r.number, MAX_NUMBER_LEN)?,
                date: past_date(
                    &format!("{field}.date"),
                    &r.date,
                    EARLIEST_DOCUMENT,
                    issue_day,
                )?,
            })
        })
        .transpose()
}

fn build(d: &PermitDraft, ctx: IssueContext) -> Result<Permit, PermitError> {
    // The format keeps issue times to the minute, in 1970..=9999.
    if !(0..253_402_300_800).contains(&ctx.issued_at) {
        return fail("issued_at", PermitErrorKind::OutOfRange);
    }
    let issued_at = ctx.issued_at - ctx.issued_at.rem_euclid(60);
    let issue_day = Date::from_unix(issued_at);
    let document_type: DocumentType = code("document_type", &d.document_type)?;
    let valid_from = match &d.valid_from {
        Some(s) => date("valid_from", s)?,
        None => issue_day,
    };
    let (exporter, exporter_address) = party("exporter", &d.exporter)?;
    let (importer, importer_address) = match &d.importer {
        Some(p) => {
            let (p, a) = party("importer", p)?;
            (Some(p), a)
        }
        None => (None, None),
    };
    if d.lines.len() > MAX_LINES {
        return fail("lines", PermitErrorKind::TooManyLines);
    }
    let mut lines = Vec::with_capacity(d.lines.len());
    let mut line_details = Vec::with_capacity(d.lines.len());
    for (i, l) in d.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        let unit = match &l.unit {
            Some(u) => code(&f("unit"), u)?,
            None => Unit::Number,
        };
        let acquisition_date = l
            .acquisition_date
            .as_deref()
            .map(|s| past_date(&f("acquisition_date"), s, EARLIEST_ACQUISITION, issue_day))
            .transpose()?;
        let quantity: Quantity = l.quantity.parse().or_else(|e| fail(f("quantity"), e))?;
        if !quantity.within_issuing_bound() {
            return fail(f("quantity"), PermitErrorKind::QuantityTooLarge);
        }
        lines.push(LineItem {
            block: char::from(b'A' + i as u8),
            scientific_name: text(&f("scientific_name"), &l.scientific_name, MAX_NAME_LEN)?,
            kingdom: code(&f("kingdom"), &l.kingdom)?,
            term: code(&f("term"), &l.term)?,
            appendix: code(&f("appendix"), &l.appendix)?,
            source: code(&f("source"), &l.source)?,
            quantity,
            unit,
            origin: doc_ref(&f("origin"), &l.origin, issue_day)?,
            last_reexport: doc_ref(&f("last_reexport"), &l.last_reexport, issue_day)?,
            operation_number: opt_text(
                &f("operation_number"),
                &l.operation_number,
                MAX_NUMBER_LEN,
            )?,
            acquisition_date,
        });
        line_details.push(LineDetails {
            common_name: opt_text(&f("common_name"), &l.common_name, MAX_NAME_LEN)?,
            description: opt_text(&f("description"), &l.description, MAX_TEXT)?,
            justification: opt_text(&f("justification"), &l.justification, MAX_TEXT)?,
        });
    }
    let details = Details {
        exporter_address,
        importer_address,
        special_conditions: opt_text("special_conditions", &d.special_conditions, MAX_TEXT)?,
        lines: line_details,
    };
    let data = PermitData {
        document_type,
        number: text("number", &d.number, MAX_NUMBER_LEN)?,
        issuing_country: ctx.issuing_country,
        issued_at,
        valid_from,
        valid_until: date("valid_until", &d.valid_until)?,
        purpose: code("purpose", &d.purpose)?,
        security_stamp: opt_text("security_stamp", &d.security_stamp, MAX_NUMBER_LEN)?,
        status_index: ctx.status_index,
        exporter,
        importer,
        lines,
        details_digest: (!details.is_empty()).then(|| details.digest()),
    };
    // Issuers do not write what readers flag (FORMAT.md §11); decoding does not refuse it,
    // so permits signed before the rule still verify, with the warning.
    for (field, kind, s) in draft_text_fields(d) {
        if let Some(problem) = text::check(kind, s) {
            return fail(field, problem);
        }
    }
    check_rules(&data, Some(&details))?;
    Ok(Permit {
        data,
        details: Some(details),
    })
}

/// The cross-field rules. `details` is `None` for a permit decoded from a QR, whose
/// justifications are bound by digest and so cannot be re-checked offline.
fn check_rules(d: &PermitData, details: Option<&Details>) -> Result<(), PermitError> {
    // Readers enforce the number limits too (FORMAT.md §3.6): a longer number cannot be keyed
    // into the trade database or a customs declaration, so no issuer may sign one.
    let long = |s: &str| s.chars().count() > MAX_NUMBER_LEN;
    if long(&d.number) {
        return fail("number", PermitErrorKind::TooLong(MAX_NUMBER_LEN));
    }
    if d.security_stamp.as_deref().is_some_and(long) {
        return fail("security_stamp", PermitErrorKind::TooLong(MAX_NUMBER_LEN));
    }
    for (i, l) in d.lines.iter().enumerate() {
        let refs = [("origin", &l.origin), ("last_reexport", &l.last_reexport)];
        for (name, r) in refs {
            if r.as_ref().is_some_and(|r| long(&r.number)) {
                return fail(
                    format!("lines[{i}].{name}.number"),
                    PermitErrorKind::TooLong(MAX_NUMBER_LEN),
                );
            }
        }
        if l.operation_number.as_deref().is_some_and(long) {
            return fail(
                format!("lines[{i}].operation_number"),
                PermitErrorKind::TooLong(MAX_NUMBER_LEN),
            );
        }
    }
    let issue_day = Date::from_unix(d.issued_at);
    if d.valid_from < issue_day {
        return fail("valid_from", PermitErrorKind::StartsBeforeIssue);
    }
    if d.valid_until < d.valid_from {
        return fail("valid_until", PermitErrorKind::EndsBeforeStart);
    }
    // "Six months from issue": issued 29 November, last valid day 28 May.
    let months = d.document_type.max_validity_months();
    if d.valid_until >= issue_day.add_months(months) {
        return fail("valid_until", PermitErrorKind::ValidityTooLong(months));
    }
    let ty = d.document_type;
    match (&d.importer, ty.is_multi_use()) {
        (None, false) => return fail("importer", PermitErrorKind::Missing),
        (Some(i), _) if i.country == d.exporter.country => {
            return fail("importer.country", PermitErrorKind::SameCountry);
        }
        _ => {}
    }
    let (issuer_field, issuer_country) = if ty.issuer_is_importer() {
        ("importer.country", d.importer.as_ref().map(|p| p.country))
    } else {
        ("exporter.country", Some(d.exporter.country))
    };
    if issuer_country != Some(d.issuing_country) {
        return fail(
            issuer_field,
            PermitErrorKind::NotIssuingCountry(d.issuing_country),
        );
    }
    if d.lines.is_empty() {
        return fail("lines", PermitErrorKind::Missing);
    }
    if d.lines.len() > MAX_LINES {
        return fail("lines", PermitErrorKind::TooManyLines);
    }
    for (i, l) in d.lines.iter().enumerate() {
        let f = |name: &str| format!("lines[{i}].{name}");
        if !l.source.allowed_for(l.kingdom) {
            return fail(f("source"), PermitErrorKind::SourceNotForKingdom(l.source));
        }
        if l.source == Source::D && l.operation_number.is_none() {
            return fail(
                f("operation_number"),
                PermitErrorKind::OperationNumberRequired,
            );
        }
        if l.source == Source::O && l.acquisition_date.is_none() {
            return fail(
                f("acquisition_date"),
                PermitErrorKind::AcquisitionDateRequired,
            );
        }
        if let Some(details) = details {
            let justified = details
                .lines
                .get(i)
                .is_some_and(|x| x.justification.is_some());
            let needs =
                l.source == Source::U || (ty == DocumentType::ReExport && l.origin.is_none());
            if needs && !justified {
                return fail(f("justification"), PermitErrorKind::JustificationRequired);
            }
        }
    }
    // A valid_until this far out would not fit the wire's day count; the month rule above
    // already bounds it, this keeps the invariant explicit for decoders.
    debug_assert!(d.valid_until.end_unix() - d.issued_at < 40 * 366 * DAY_SECS);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A realistic Appendix II export: farmed Nile crocodile skins from South Africa to France.
    pub(crate) fn croc_draft() -> PermitDraft {
        serde_json::from_value(serde_json::json!({
            "document_type": "export",
            "number": "ZA/GP/2026/004512",
            "valid_until": "2027-05-28",
            "purpose": "T",
            "security_stamp": "ZA0123456",
            "exporter": {"name": "Nile Crocodile Farming Pty Ltd", "country": "ZA",
                         "address": "Plot 14, Hartbeespoort, North West, South Africa"},
            "importer": {"name": "Tanneries du Puy Industrie SAS", "country": "FR",
                         "address": "12 rue des Tanneurs, 43000 Le Puy-en-Velay, France"},
            "lines": [{
                "scientific_name": "Crocodylus niloticus",
                "common_name": "Nile crocodile",
                "kingdom": "animal",
                "description": "Raw salted skins, belly width 35-45 cm, tagged ZA 2026 000001-000250",
                "term": "SKI", "appendix": "II", "source": "C",
                "quantity": 250
            }]
        }))
        .unwrap()
    }

    pub(crate) fn ctx() -> IssueContext {
        IssueContext {
            issuing_country: "ZA".parse().unwrap(),
            issued_at: crate::date::parse_unix("2026-11-29T08:15:42Z").unwrap(),
            status_index: 4511,
        }
    }

    #[test]
    fn with_status_index_changes_the_index_only() {
        let p = Permit::new(&croc_draft(), ctx()).unwrap();
        let moved = p.with_status_index(u32::MAX);
        let again = Permit::new(
            &croc_draft(),
            IssueContext {
                status_index: u32::MAX,
                ..ctx()
            },
        )
        .unwrap();
        assert_eq!(moved, again);
        assert_ne!(moved, p);
    }

    fn err(d: &PermitDraft) -> PermitError {
        Permit::new(d, ctx()).unwrap_err()
    }

    #[test]
    fn a_realistic_export_permit_builds() {
        let p = Permit::new(&croc_draft(), ctx()).unwrap();
        let d = p.data();
        assert_eq!(d.issued_at % 60, 0);
        assert_eq!(d.valid_from.to_string(), "2026-11-29");
        assert_eq!(d.lines[0].block, 'A');
        assert_eq!(d.lines[0].quantity.to_string(), "250");
        assert!(d.details_digest.is_some());
        assert!(p.binds(p.details().unwrap()));
        let mut other = p.details().unwrap().clone();
        other.importer_address = Some("Somewhere else".into());
        assert!(!p.binds(&other));
        assert!(p.flags().is_empty());
    }

    #[test]
    fn unknown_codes_name_their_field() {
        let mut d = croc_draft();
        d.lines[0].source = "K".into();
        let e = err(&d);
        assert_eq!(e.field, "lines[0].source");
        assert!(e.to_string().contains("unknown source code"), "{e}");
        let mut d = croc_draft();
        d.importer.as_mut().unwrap().country = "XK".into();
        assert_eq!(err(&d).field, "importer.country");
        let mut d = croc_draft();
        d.purpose = "t".into();
        assert_eq!(err(&d).field, "purpose");
        let mut d = croc_draft();
        d.lines[0].unit = Some("LBS".into());
        assert_eq!(err(&d).field, "lines[0].unit");
    }

    #[test]
    fn validity_length_follows_the_document_type() {
        let mut d = croc_draft();
        d.valid_until = "2027-05-29".into();
        assert_eq!(err(&d).kind, PermitErrorKind::ValidityTooLong(6));
        d.valid_until = "2027-05-29".into();
        d.document_type = "import".into();
        // An import permit is issued by the importing country: here ZA is the exporter.
        assert_eq!(err(&d).field, "importer.country");
        let mut d = croc_draft();
        d.document_type = "travelling_exhibition".into();
        d.valid_until = "2029-11-28".into();
        d.importer = None;
        assert!(Permit::new(&d, ctx()).is_ok());
        d.valid_until = "2029-11-29".into();
        assert_eq!(err(&d).kind, PermitErrorKind::ValidityTooLong(36));
        let mut d = croc_draft();
        d.valid_from = Some("2026-11-28".into());
        assert_eq!(err(&d).kind, PermitErrorKind::StartsBeforeIssue);
        d.valid_from = Some("2027-06-01".into());
        assert_eq!(err(&d).kind, PermitErrorKind::EndsBeforeStart);
    }

    #[test]
    fn source_rules() {
        let mut d = croc_draft();
        d.lines[0].source = "A".into();
        assert_eq!(
            err(&d).kind,
            PermitErrorKind::SourceNotForKingdom(Source::A)
        );
        d.lines[0].kingdom = "plant".into();
        d.lines[0].term = "LIV".into();
        assert!(Permit::new(&d, ctx()).is_ok());
        let mut d = croc_draft();
        d.lines[0].source = "D".into();
        assert_eq!(err(&d).kind, PermitErrorKind::OperationNumberRequired);
        d.lines[0].operation_number = Some("A-ZA-501".into());
        assert!(Permit::new(&d, ctx()).is_ok());
        d.lines[0].source = "O".into();
        assert_eq!(err(&d).kind, PermitErrorKind::AcquisitionDateRequired);
        d.lines[0].acquisition_date = Some("1968-04-02".into());
        let p = Permit::new(&d, ctx()).unwrap();
        assert_eq!(
            p.data().lines[0].acquisition_date.unwrap().to_string(),
            "1968-04-02"
        );
        d.lines[0].source = "U".into();
        assert_eq!(err(&d).kind, PermitErrorKind::JustificationRequired);
        d.lines[0].justification =
            Some("Seized stock of unknown provenance, court order 12/2026".into());
        assert!(Permit::new(&d, ctx()).is_ok());
    }

    #[test]
    fn appendix_i_commercial_wild_is_flagged_not_refused() {
        let mut d = croc_draft();
        d.lines[0].appendix = "I".into();
        d.lines[0].source = "W".into();
        let p = Permit::new(&d, ctx()).unwrap();
        assert_eq!(p.flags(), vec![Flag::AppendixICommercial { block: 'A' }]);
        d.purpose = "S".into();
        assert!(Permit::new(&d, ctx()).unwrap().flags().is_empty());
    }

    #[test]
    fn parties_and_countries() {
        let mut d = croc_draft();
        d.importer.as_mut().unwrap().country = "ZA".into();
        assert_eq!(err(&d).kind, PermitErrorKind::SameCountry);
        let mut d = croc_draft();
        d.importer = None;
        assert_eq!(err(&d).field, "importer");
        let mut d = croc_draft();
        d.exporter.country = "BW".into();
        assert_eq!(err(&d).field, "exporter.country");
        let mut d = croc_draft();
        d.exporter.name = " Leading space".into();
        assert_eq!(err(&d).kind, PermitErrorKind::BadText);
        let mut d = croc_draft();
        d.number = "X".repeat(36);
        assert_eq!(err(&d).kind, PermitErrorKind::TooLong(35));
    }

    #[test]
    fn re_export_needs_origin_or_justification() {
        let mut d = croc_draft();
        d.document_type = "re_export".into();
        assert_eq!(err(&d).kind, PermitErrorKind::JustificationRequired);
        d.lines[0].origin = Some(DocRefDraft {
            country: "ZW".into(),
            number: "ZW-2025-01188".into(),
            date: "2025-03-14".into(),
        });
        assert!(Permit::new(&d, ctx()).is_ok());
    }

    #[test]
    fn quantities_are_exact() {
        assert_eq!("12.50".parse::<Quantity>().unwrap().to_string(), "12.5");
        assert_eq!(
            "0.000001".parse::<Quantity>().unwrap().to_string(),
            "0.000001"
        );
        for bad in ["0", "0.0", "-1", "1.", ".5", "1e3", "1.0000001", "", "12 "] {
            assert!(bad.parse::<Quantity>().is_err(), "{bad}");
        }
        let a: Quantity = "2.5".parse().unwrap();
        let b: Quantity = "2.50001".parse().unwrap();
        assert!(a.le(b) && !b.le(a) && a.le(a));
        let q: QuantityInput = serde_json::from_str("12.5").unwrap();
        assert_eq!(q.parse().unwrap().to_string(), "12.5");
        let q: QuantityInput = serde_json::from_str("\"7\"").unwrap();
        assert_eq!(q.parse().unwrap().to_string(), "7");
    }

    #[test]
    fn numbers_normalise_for_uniqueness() {
        assert_eq!(normalize_number("za/gp/2026-004512"), "ZAGP2026004512");
        assert_eq!(normalize_number(" 04762~LN-2000 "), "04762LN2000");
    }
}
