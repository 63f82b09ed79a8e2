//! Field reports: the scan reports and export endorsements an officer's device uploads, and the
//! import confirmations an importing authority sends. Their JSON wire form, their limits, and
//! the one validation both ends run, so that a device refuses at record time exactly what the
//! server would refuse on upload (a report the server refuses can never leave the device's
//! queue, so it must never enter it).
//!
//! Sans-I/O: `now` is a parameter. The server passes its clock; the device passes its own,
//! which is the best it knows when the officer records.
//!
//! Text arrives in one of two [`Form`]s. A device records canonical values (no surrounding
//! space, codes in upper case) and is refused anything else, so what it stores is what it
//! sends; the server reads what clients send leniently (trims, upper-cases codes) and stores
//! the canonical value. Canonical input passes both the same way.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codes::Country;
use crate::date::parse_rfc3339;
use crate::device::{DeviceSignature, is_low_s};
use crate::payload::MAX_TEXT_LEN;
use crate::permit::{MAX_LINES, Quantity, QuantityError, QuantityInput};
use crate::verify::Verdict;

/// Most reports in one upload.
pub const MAX_REPORTS: usize = 1000;
/// Longest report id.
pub const MAX_ID_LEN: usize = 64;
/// Longest device id.
pub const MAX_DEVICE_ID_LEN: usize = 64;
/// Longest officer id.
pub const MAX_OFFICER_LEN: usize = 100;
/// Longest transport document number (bill of lading, air waybill).
pub const MAX_TRANSPORT_DOCUMENT_LEN: usize = 70;
/// How far ahead of the checking clock a report's time may be: device clocks drift, and a
/// report from a time zone ahead that was mis-stamped as UTC must still land.
pub const FUTURE_SLACK_SECONDS: i64 = 24 * 3600;
/// Earliest plausible report time: 2000-01-01T00:00:00Z. Earlier means a reset device clock.
pub const EARLIEST: i64 = 946_684_800;

// ---------------------------------------------------------------------------------------
// Wire form (JSON), as a device sends it and the server reads it.

/// A place as sent: a UN/LOCODE, coordinates, or both.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlaceWire {
    /// UN/LOCODE, e.g. `KEMBA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locode: Option<String>,
    /// Latitude, WGS 84 degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = -90, maximum = 90))]
    pub lat: Option<f64>,
    /// Longitude, WGS 84 degrees.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = -180, maximum = 180))]
    pub lon: Option<f64>,
}

/// A scan report as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanWire {
    /// Made on the device; the server ignores an id it already has.
    pub id: String,
    /// The device's id.
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub device_id: String,
    /// The officer, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub officer: Option<String>,
    /// RFC 3339 time of the scan.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub scanned_at: String,
    /// Where.
    pub place: PlaceWire,
    /// `valid`, `valid_with_warnings` or `invalid`: what the officer saw.
    #[cfg_attr(feature = "openapi", schema(value_type = crate::openapi::VerdictName))]
    pub verdict: String,
    /// The scanned text, `PS1:…`.
    #[cfg_attr(feature = "openapi", schema(max_length = 4296))]
    pub qr: String,
    /// The id of the device key that signed the report (32 hex digits), with `signature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{32}$"))]
    pub device_key_id: Option<String>,
    /// The device's signature over the report (FORMAT.md §10), 128 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{128}$"))]
    pub signature: Option<String>,
}

/// The quantity under one block of a permit, as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineWire {
    /// Block letter `A`–`Z`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^[A-Za-z]$"))]
    pub block: String,
    /// Exact positive decimal in the block's unit.
    pub quantity: QuantityInput,
}

/// An export endorsement as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndorsementWire {
    /// Made on the device; the server ignores an id it already has.
    pub id: String,
    /// The device's id.
    #[cfg_attr(feature = "openapi", schema(max_length = 64))]
    pub device_id: String,
    /// The officer endorsing, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub officer: Option<String>,
    /// RFC 3339 time of the endorsement.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub endorsed_at: String,
    /// Port of export.
    pub place: PlaceWire,
    /// Bill of lading or air waybill number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 70))]
    pub transport_document: Option<String>,
    /// Quantity actually exported per block.
    pub lines: Vec<LineWire>,
    /// The permit's QR text.
    #[cfg_attr(feature = "openapi", schema(max_length = 4296))]
    pub qr: String,
    /// The id of the device key that signed the endorsement (32 hex digits), with `signature`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{32}$"))]
    pub device_key_id: Option<String>,
    /// The device's signature over the endorsement (FORMAT.md §10), 128 hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^[0-9a-f]{128}$"))]
    pub signature: Option<String>,
}

/// An import confirmation as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmationWire {
    /// Made by the sender; the server ignores an id it already has.
    pub id: String,
    /// RFC 3339 time the shipment was received.
    #[cfg_attr(feature = "openapi", schema(format = DateTime))]
    pub received_at: String,
    /// Port of entry.
    pub place: PlaceWire,
    /// Quantity actually received per block.
    pub lines: Vec<LineWire>,
    /// The permit's QR text.
    #[cfg_attr(feature = "openapi", schema(max_length = 4296))]
    pub qr: String,
}

/// An upload of scan reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScanBatch {
    /// 1 to [`MAX_REPORTS`] reports.
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub scans: Vec<ScanWire>,
}

/// An upload of export endorsements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EndorsementBatch {
    /// 1 to [`MAX_REPORTS`] endorsements.
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub endorsements: Vec<EndorsementWire>,
}

/// An upload of import confirmations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmationBatch {
    /// 1 to [`MAX_REPORTS`] confirmations.
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub confirmations: Vec<ConfirmationWire>,
}

// ---------------------------------------------------------------------------------------
// Checked values.

/// How text fields are read (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// As a device records it: only canonical values pass.
    Recorded,
    /// As the server receives it: surrounding space is trimmed and codes are upper-cased.
    Received,
}

/// A checked place: a UN/LOCODE, coordinates, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Canonical UN/LOCODE (upper case).
    pub locode: Option<String>,
    /// Latitude and longitude in degrees, within ±90 and ±180.
    pub coords: Option<(f64, f64)>,
}

/// A checked scan report.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// Report id.
    pub id: String,
    /// Device id.
    pub device_id: String,
    /// Officer id.
    pub officer: Option<String>,
    /// Unix seconds.
    pub scanned_at: i64,
    /// Where.
    pub place: Place,
    /// What the officer saw.
    pub verdict: Verdict,
    /// The scanned text.
    pub qr: String,
    /// The device's signature, when the report carries one (its validity against the
    /// device's enrolled key is the server's to check).
    pub signature: Option<DeviceSignature>,
}

/// A checked quantity under one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Block letter `A`–`Z`.
    pub block: char,
    /// The quantity, normalised.
    pub quantity: Quantity,
}

/// A checked export endorsement.
#[derive(Debug, Clone, PartialEq)]
pub struct Endorsement {
    /// Report id.
    pub id: String,
    /// Device id.
    pub device_id: String,
    /// Officer id.
    pub officer: Option<String>,
    /// Unix seconds.
    pub endorsed_at: i64,
    /// Port of export.
    pub place: Place,
    /// Transport document number.
    pub transport_document: Option<String>,
    /// 1 to 26 blocks, each once.
    pub lines: Vec<Line>,
    /// The permit's QR text.
    pub qr: String,
    /// The device's signature, when the endorsement carries one.
    pub signature: Option<DeviceSignature>,
}

/// A checked import confirmation.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirmation {
    /// Report id.
    pub id: String,
    /// Unix seconds.
    pub received_at: i64,
    /// Port of entry.
    pub place: Place,
    /// 1 to 26 blocks, each once.
    pub lines: Vec<Line>,
    /// The permit's QR text.
    pub qr: String,
}

// ---------------------------------------------------------------------------------------
// Errors.

/// The kind of report a field belongs to (it decides the name of its time field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// A scan report.
    Scan,
    /// An export endorsement.
    Endorsement,
    /// An import confirmation.
    Confirmation,
}

/// The field of a report that was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The report id.
    Id,
    /// The device id.
    DeviceId,
    /// The officer id.
    Officer,
    /// The report's time (`scanned_at`, `endorsed_at` or `received_at`).
    Time,
    /// The place as a whole.
    Place,
    /// The place's UN/LOCODE.
    Locode,
    /// The place's latitude.
    Latitude,
    /// The place's longitude.
    Longitude,
    /// The scan's verdict.
    Verdict,
    /// The transport document number.
    TransportDocument,
    /// The list of lines as a whole.
    Lines,
    /// The block letter of the line at this position.
    Block(usize),
    /// The quantity of the line at this position.
    Quantity(usize),
    /// The QR text.
    Qr,
    /// The device key id and signature, together.
    Signature,
}

/// What is wrong with a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Empty (or only space).
    Empty,
    /// Longer than allowed.
    TooLong {
        /// The most allowed, in characters.
        max: usize,
    },
    /// Holds a control character.
    ControlCharacter,
    /// Starts or ends with space (recorded values only).
    SurroundingSpace,
    /// A report id outside `[A-Za-z0-9-_.:]{1,64}`.
    BadId,
    /// Not an RFC 3339 time.
    NotATime,
    /// More than [`FUTURE_SLACK_SECONDS`] ahead of the checking clock.
    InTheFuture,
    /// Before [`EARLIEST`].
    TooEarly,
    /// Not a UN/LOCODE: an assigned ISO country code and three of `A-Z 2-9`.
    BadLocode,
    /// A coordinate outside ±90 (latitude) or ±180 (longitude).
    OutOfRange,
    /// Latitude without longitude or the other way round.
    HalfCoordinates,
    /// Neither a UN/LOCODE nor coordinates.
    NoPlace,
    /// Not `valid`, `valid_with_warnings` or `invalid`.
    BadVerdict,
    /// No lines or more than 26.
    LineCount,
    /// Not a letter `A`–`Z`.
    BadBlock,
    /// The same block twice.
    RepeatedBlock,
    /// Not a positive decimal with at most six places.
    BadQuantity,
    /// Not a device key id (32 hex digits) with a signature (128 hex digits, low `s`), or
    /// one without the other.
    BadSignature,
    /// An endorsement dated before its permit's issue day (given).
    BeforeIssueDay(crate::date::Date),
    /// An endorsement dated after its permit's last day of validity (given).
    AfterValidity(crate::date::Date),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Empty => f.write_str("must not be empty"),
            Problem::TooLong { max } => write!(f, "is longer than {max} characters"),
            Problem::ControlCharacter => f.write_str("contains control characters"),
            Problem::SurroundingSpace => f.write_str("starts or ends with space"),
            Problem::BadId => write!(
                f,
                "must be 1-{MAX_ID_LEN} characters of A-Z a-z 0-9 - _ . :"
            ),
            Problem::NotATime => {
                f.write_str("must be an RFC 3339 time such as 2026-01-31T12:00:00Z")
            }
            Problem::InTheFuture => f.write_str(
                "is more than 24 hours ahead of the clock: check the device's date and time",
            ),
            Problem::TooEarly => f.write_str("is before 2000: check the device's date and time"),
            Problem::BeforeIssueDay(d) => write!(
                f,
                "is before the permit's issue day ({d}): check the device's date and time"
            ),
            Problem::AfterValidity(d) => write!(
                f,
                "is after the permit's last valid day ({d}): an expired permit cannot be endorsed"
            ),
            Problem::BadLocode => {
                f.write_str("must be a UN/LOCODE: an ISO country code and 3 letters or digits 2-9")
            }
            Problem::OutOfRange => f.write_str("is outside ±90 (latitude) or ±180 (longitude)"),
            Problem::HalfCoordinates => f.write_str("needs both lat and lon"),
            Problem::NoPlace => f.write_str("needs a locode or lat and lon"),
            Problem::BadVerdict => f.write_str("must be valid, valid_with_warnings or invalid"),
            Problem::LineCount => write!(f, "must hold 1 to {MAX_LINES} blocks"),
            Problem::BadBlock => f.write_str("must be a letter A-Z"),
            Problem::RepeatedBlock => f.write_str("appears twice"),
            Problem::BadQuantity => f.write_str("must be a positive decimal with at most 6 places"),
            Problem::BadSignature => f.write_str(
                "must be device_key_id (32 lower-case hex digits) and signature (128, r || s with low s), both or neither",
            ),
        }
    }
}

/// A refused report: which field and why. Shown to the officer by the app and returned to
/// clients by the server; it never holds the field's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} {problem}", self.wire_name())]
pub struct ReportError {
    /// The kind of report.
    pub report: ReportKind,
    /// The field.
    pub field: Field,
    /// What is wrong with it.
    pub problem: Problem,
}

impl ReportError {
    fn new(report: ReportKind, field: Field, problem: Problem) -> ReportError {
        ReportError {
            report,
            field,
            problem,
        }
    }

    /// The field's path in the wire form, e.g. `place.locode` or `lines[1].block`.
    pub fn wire_name(&self) -> String {
        match self.field {
            Field::Id => "id".into(),
            Field::DeviceId => "device_id".into(),
            Field::Officer => "officer".into(),
            Field::Time => match self.report {
                ReportKind::Scan => "scanned_at".into(),
                ReportKind::Endorsement => "endorsed_at".into(),
                ReportKind::Confirmation => "received_at".into(),
            },
            Field::Place => "place".into(),
            Field::Locode => "place.locode".into(),
            Field::Latitude => "place.lat".into(),
            Field::Longitude => "place.lon".into(),
            Field::Verdict => "verdict".into(),
            Field::TransportDocument => "transport_document".into(),
            Field::Lines => "lines".into(),
            Field::Block(i) => format!("lines[{i}].block"),
            Field::Quantity(i) => format!("lines[{i}].quantity"),
            Field::Qr => "qr".into(),
            Field::Signature => "signature".into(),
        }
    }

    /// The server's stable error code for it.
    pub fn code(&self) -> &'static str {
        match self.problem {
            Problem::NotATime | Problem::InTheFuture | Problem::TooEarly => "invalid_time",
            Problem::BeforeIssueDay(_) => "before_issue_day",
            Problem::AfterValidity(_) => "after_validity",
            Problem::BadLocode
            | Problem::OutOfRange
            | Problem::HalfCoordinates
            | Problem::NoPlace => "invalid_place",
            Problem::Empty
            | Problem::TooLong { .. }
            | Problem::ControlCharacter
            | Problem::SurroundingSpace
            | Problem::BadId
            | Problem::BadVerdict
            | Problem::LineCount
            | Problem::BadBlock
            | Problem::RepeatedBlock
            | Problem::BadQuantity => "invalid_field",
            Problem::BadSignature => "invalid_signature",
        }
    }
}

/// An upload of `n` reports: 1 to [`MAX_REPORTS`].
pub fn batch_size_ok(n: usize) -> bool {
    (1..=MAX_REPORTS).contains(&n)
}

// ---------------------------------------------------------------------------------------
// Checks.

/// The checks of one report: its kind, the form its text is in, and the checking clock.
struct Check {
    report: ReportKind,
    form: Form,
    now: i64,
}

impl Check {
    fn err(&self, field: Field, problem: Problem) -> ReportError {
        ReportError::new(self.report, field, problem)
    }

    /// A free text: non-empty, at most `max` characters, no control characters.
    fn text(&self, field: Field, s: &str, max: usize) -> Result<String, ReportError> {
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return Err(self.err(field, Problem::Empty));
        }
        if self.form == Form::Recorded && trimmed.len() != s.len() {
            return Err(self.err(field, Problem::SurroundingSpace));
        }
        if trimmed.chars().count() > max {
            return Err(self.err(field, Problem::TooLong { max }));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(self.err(field, Problem::ControlCharacter));
        }
        Ok(trimmed.to_owned())
    }

    fn optional_text(
        &self,
        field: Field,
        s: Option<&str>,
        max: usize,
    ) -> Result<Option<String>, ReportError> {
        s.map(|t| self.text(field, t, max)).transpose()
    }

    /// The QR text as the core reads it (FORMAT.md §3.1: the white space a scanner adds around
    /// it is not part of it), so that the server finds the permit from it. The phone records
    /// canonical text only.
    fn qr(&self, s: &str) -> Result<String, ReportError> {
        let text = crate::payload::scanned_text(s);
        if self.form == Form::Recorded && text.len() != s.len() {
            return Err(self.err(Field::Qr, Problem::SurroundingSpace));
        }
        if text.is_empty() {
            return Err(self.err(Field::Qr, Problem::Empty));
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(self.err(Field::Qr, Problem::TooLong { max: MAX_TEXT_LEN }));
        }
        if text.chars().any(char::is_control) {
            return Err(self.err(Field::Qr, Problem::ControlCharacter));
        }
        Ok(text.to_owned())
    }

    fn id(&self, s: &str) -> Result<String, ReportError> {
        let ok = (1..=MAX_ID_LEN).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if ok {
            Ok(s.to_owned())
        } else {
            Err(self.err(Field::Id, Problem::BadId))
        }
    }

    /// A report time in Unix seconds: from 2000 to a day ahead of the checking clock.
    fn time(&self, t: i64) -> Result<i64, ReportError> {
        if t < EARLIEST {
            return Err(self.err(Field::Time, Problem::TooEarly));
        }
        if t > self.now.saturating_add(FUTURE_SLACK_SECONDS) {
            return Err(self.err(Field::Time, Problem::InTheFuture));
        }
        Ok(t)
    }

    fn time_text(&self, s: &str) -> Result<i64, ReportError> {
        let t = parse_rfc3339(s).ok_or_else(|| self.err(Field::Time, Problem::NotATime))?;
        self.time(t)
    }

    /// A code: canonical when recorded, upper-cased and trimmed when received.
    fn code(&self, field: Field, s: &str, bad: Problem) -> Result<String, ReportError> {
        let canonical = s.trim().to_ascii_uppercase();
        if self.form == Form::Recorded && canonical != s {
            return Err(self.err(field, bad));
        }
        Ok(canonical)
    }

    fn locode(&self, field: Field, s: &str) -> Result<String, ReportError> {
        let code = self.code(field, s, Problem::BadLocode)?;
        let ok = code.len() == 5
            && code.is_char_boundary(2)
            && code[..2].parse::<Country>().is_ok()
            && code.as_bytes()[2..]
                .iter()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'9').contains(b));
        if ok {
            Ok(code)
        } else {
            Err(self.err(field, Problem::BadLocode))
        }
    }

    fn place(&self, p: &PlaceWire) -> Result<Place, ReportError> {
        let locode = p
            .locode
            .as_deref()
            .map(|c| self.locode(Field::Locode, c))
            .transpose()?;
        let coords = match (p.lat, p.lon) {
            (None, None) => None,
            (Some(lat), Some(lon)) => Some(self.coordinates(lat, lon)?),
            _ => return Err(self.err(Field::Place, Problem::HalfCoordinates)),
        };
        if locode.is_none() && coords.is_none() {
            return Err(self.err(Field::Place, Problem::NoPlace));
        }
        Ok(Place { locode, coords })
    }

    fn coordinates(&self, lat: f64, lon: f64) -> Result<(f64, f64), ReportError> {
        if !(-90.0..=90.0).contains(&lat) {
            return Err(self.err(Field::Latitude, Problem::OutOfRange));
        }
        if !(-180.0..=180.0).contains(&lon) {
            return Err(self.err(Field::Longitude, Problem::OutOfRange));
        }
        Ok((lat, lon))
    }

    /// A device signature: key id and signature both present and well-formed, or both absent.
    fn signature(
        &self,
        key_id: Option<&str>,
        signature: Option<&str>,
    ) -> Result<Option<DeviceSignature>, ReportError> {
        let bad = || self.err(Field::Signature, Problem::BadSignature);
        match (key_id, signature) {
            (None, None) => Ok(None),
            (Some(k), Some(s)) => {
                let sig = DeviceSignature::parse(k, s).ok_or_else(bad)?;
                let mut s_part = [0u8; 32];
                s_part.copy_from_slice(&sig.signature[32..]);
                if is_low_s(&s_part) {
                    Ok(Some(sig))
                } else {
                    Err(bad())
                }
            }
            _ => Err(bad()),
        }
    }

    fn verdict(&self, s: &str) -> Result<Verdict, ReportError> {
        match s {
            "valid" => Ok(Verdict::Valid),
            "valid_with_warnings" => Ok(Verdict::ValidWithWarnings),
            "invalid" => Ok(Verdict::Invalid),
            _ => Err(self.err(Field::Verdict, Problem::BadVerdict)),
        }
    }

    fn lines(&self, input: &[LineWire]) -> Result<Vec<Line>, ReportError> {
        if input.is_empty() || input.len() > MAX_LINES {
            return Err(self.err(Field::Lines, Problem::LineCount));
        }
        let mut seen = HashSet::new();
        let mut lines = Vec::with_capacity(input.len());
        for (i, l) in input.iter().enumerate() {
            let code = self.code(Field::Block(i), &l.block, Problem::BadBlock)?;
            let mut chars = code.chars();
            let block = match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_uppercase() => c,
                _ => return Err(self.err(Field::Block(i), Problem::BadBlock)),
            };
            if !seen.insert(block) {
                return Err(self.err(Field::Block(i), Problem::RepeatedBlock));
            }
            let quantity = l
                .quantity
                .parse()
                .map_err(|_: QuantityError| self.err(Field::Quantity(i), Problem::BadQuantity))?;
            lines.push(Line { block, quantity });
        }
        Ok(lines)
    }
}

/// Name of a verdict on the wire.
pub fn verdict_name(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "valid",
        Verdict::ValidWithWarnings => "valid_with_warnings",
        Verdict::Invalid => "invalid",
    }
}

impl Scan {
    /// Checks a scan report against the clock `now` (Unix seconds).
    pub fn check(w: &ScanWire, form: Form, now: i64) -> Result<Scan, ReportError> {
        let c = Check {
            report: ReportKind::Scan,
            form,
            now,
        };
        Ok(Scan {
            id: c.id(&w.id)?,
            device_id: c.text(Field::DeviceId, &w.device_id, MAX_DEVICE_ID_LEN)?,
            officer: c.optional_text(Field::Officer, w.officer.as_deref(), MAX_OFFICER_LEN)?,
            scanned_at: c.time_text(&w.scanned_at)?,
            place: c.place(&w.place)?,
            verdict: c.verdict(&w.verdict)?,
            qr: c.qr(&w.qr)?,
            signature: c.signature(w.device_key_id.as_deref(), w.signature.as_deref())?,
        })
    }
}

impl Endorsement {
    /// Checks an export endorsement against the clock `now` (Unix seconds). Its place is the
    /// port of export.
    pub fn check(w: &EndorsementWire, form: Form, now: i64) -> Result<Endorsement, ReportError> {
        let c = Check {
            report: ReportKind::Endorsement,
            form,
            now,
        };
        Ok(Endorsement {
            lines: c.lines(&w.lines)?,
            id: c.id(&w.id)?,
            device_id: c.text(Field::DeviceId, &w.device_id, MAX_DEVICE_ID_LEN)?,
            officer: c.optional_text(Field::Officer, w.officer.as_deref(), MAX_OFFICER_LEN)?,
            endorsed_at: c.time_text(&w.endorsed_at)?,
            place: c.place(&w.place)?,
            transport_document: c.optional_text(
                Field::TransportDocument,
                w.transport_document.as_deref(),
                MAX_TRANSPORT_DOCUMENT_LEN,
            )?,
            qr: c.qr(&w.qr)?,
            signature: c.signature(w.device_key_id.as_deref(), w.signature.as_deref())?,
        })
    }
}

impl Endorsement {
    /// The permit's dates that a phone can hold an endorsement to at record time, from the
    /// code itself: the endorsement lies within issue day … valid until (FORMAT.md §7; the
    /// server refuses the rest too and raises an alert). A code that does not decode is left
    /// to the verifier, which shows it invalid.
    pub fn within_validity(&self) -> Result<(), ReportError> {
        let Ok(env) = crate::payload::decode(&self.qr) else {
            return Ok(());
        };
        let fail = |p| Err(ReportError::new(ReportKind::Endorsement, Field::Time, p));
        let issue_day = crate::date::Date::from_unix(env.data.issued_at);
        if self.endorsed_at < issue_day.start_unix() {
            return fail(Problem::BeforeIssueDay(issue_day));
        }
        if self.endorsed_at >= env.data.valid_until.end_unix() {
            return fail(Problem::AfterValidity(env.data.valid_until));
        }
        Ok(())
    }
}

impl Confirmation {
    /// Checks an import confirmation against the clock `now` (Unix seconds). Its place is the
    /// port of entry.
    pub fn check(w: &ConfirmationWire, form: Form, now: i64) -> Result<Confirmation, ReportError> {
        let c = Check {
            report: ReportKind::Confirmation,
            form,
            now,
        };
        Ok(Confirmation {
            id: c.id(&w.id)?,
            received_at: c.time_text(&w.received_at)?,
            place: c.place(&w.place)?,
            lines: c.lines(&w.lines)?,
            qr: c.qr(&w.qr)?,
        })
    }
}

/// Checks a report time given as Unix seconds, as a device holds it, before it is formatted
/// for the wire.
pub fn check_time(report: ReportKind, t: i64, now: i64) -> Result<i64, ReportError> {
    Check {
        report,
        form: Form::Recorded,
        now,
    }
    .time(t)
}

/// Checks a place given apart from a report (the server's list of known places): a UN/LOCODE
/// and coordinates, both required.
pub fn check_location(locode: &str, lat: f64, lon: f64) -> Result<(String, f64, f64), ReportError> {
    let c = Check {
        report: ReportKind::Scan,
        form: Form::Received,
        now: 0,
    };
    let code = c.locode(Field::Locode, locode)?;
    let (lat, lon) = c.coordinates(lat, lon)?;
    Ok((code, lat, lon))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000;

    fn scan() -> ScanWire {
        ScanWire {
            id: "id-1".into(),
            device_id: "dev".into(),
            officer: None,
            scanned_at: "2026-11-30T00:53:20Z".into(),
            place: PlaceWire {
                locode: Some("KEMBA".into()),
                lat: None,
                lon: None,
            },
            verdict: "valid".into(),
            qr: "PS1:X".into(),
            device_key_id: None,
            signature: None,
        }
    }

    fn endorsement() -> EndorsementWire {
        EndorsementWire {
            id: "id-2".into(),
            device_id: "dev".into(),
            officer: Some("o".into()),
            endorsed_at: "2026-11-30T00:53:20Z".into(),
            place: PlaceWire {
                locode: Some("KEMBA".into()),
                lat: None,
                lon: None,
            },
            transport_document: None,
            lines: vec![LineWire {
                block: "A".into(),
                quantity: QuantityInput::Text("12.50".into()),
            }],
            qr: "PS1:Y".into(),
            device_key_id: None,
            signature: None,
        }
    }

    /// A real permit (issued 2026-11-29, valid until 2027-05-28) endorsed at `at`, checked
    /// against its dates.
    fn endorsed_within(at: &str) -> Result<(), ReportError> {
        let key = crate::keys::SecretKey::from_seed(&[3; 32]);
        let permit = crate::permit::Permit::new(
            &crate::permit::tests::croc_draft(),
            crate::permit::tests::ctx(),
        )
        .unwrap();
        let mut w = endorsement();
        w.qr = crate::payload::sign(&permit, &key);
        w.endorsed_at = at.into();
        let now = crate::date::parse_unix("2027-05-29T12:00:00Z").unwrap();
        Endorsement::check(&w, Form::Recorded, now)
            .unwrap()
            .within_validity()
    }

    #[test]
    fn an_endorsement_lies_within_its_permits_dates() {
        assert_eq!(endorsed_within("2026-11-29T00:00:00Z"), Ok(()));
        assert_eq!(endorsed_within("2027-05-28T23:59:59Z"), Ok(()));
        let e = endorsed_within("2027-05-29T00:00:00Z").unwrap_err();
        assert_eq!((e.field, e.code()), (Field::Time, "after_validity"));
        assert!(e.to_string().contains("2027-05-28"), "{e}");
        let e = endorsed_within("2026-11-28T23:59:59Z").unwrap_err();
        assert_eq!(e.code(), "before_issue_day");
        // A code that does not decode is the verifier's to judge, not this rule's.
        let w = endorsement();
        let e = Endorsement::check(&w, Form::Recorded, NOW).unwrap();
        assert_eq!(e.within_validity(), Ok(()));
    }

    fn refused(w: &ScanWire, form: Form) -> (String, &'static str) {
        let e = Scan::check(w, form, NOW).unwrap_err();
        (e.wire_name(), e.code())
    }

    #[test]
    fn a_good_scan_passes_both_forms_alike() {
        let a = Scan::check(&scan(), Form::Recorded, NOW).unwrap();
        let b = Scan::check(&scan(), Form::Received, NOW).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.scanned_at, NOW);
        assert_eq!(a.verdict, Verdict::Valid);
        assert_eq!(a.place.locode.as_deref(), Some("KEMBA"));
    }

    #[test]
    fn times_more_than_a_day_ahead_or_before_2000_are_refused() {
        let mut w = scan();
        w.scanned_at = "2026-12-01T00:53:20Z".into(); // exactly 24 h ahead
        assert!(Scan::check(&w, Form::Recorded, NOW).is_ok());
        w.scanned_at = "2026-12-01T00:53:21Z".into();
        for form in [Form::Recorded, Form::Received] {
            let e = Scan::check(&w, form, NOW).unwrap_err();
            assert_eq!(
                (e.field, e.problem.clone()),
                (Field::Time, Problem::InTheFuture)
            );
            assert_eq!(e.code(), "invalid_time");
            assert!(
                e.to_string()
                    .starts_with("scanned_at is more than 24 hours ahead")
            );
        }
        w.scanned_at = "1999-12-31T23:59:59Z".into();
        assert_eq!(
            refused(&w, Form::Received),
            ("scanned_at".into(), "invalid_time")
        );
        w.scanned_at = "yesterday".into();
        assert_eq!(
            refused(&w, Form::Received),
            ("scanned_at".into(), "invalid_time")
        );
    }

    #[test]
    fn received_text_is_normalised_recorded_text_must_already_be() {
        let mut w = scan();
        w.place.locode = Some(" kemba".into());
        w.device_id = "dev ".into();
        let s = Scan::check(&w, Form::Received, NOW).unwrap();
        assert_eq!(s.place.locode.as_deref(), Some("KEMBA"));
        assert_eq!(s.device_id, "dev");
        assert_eq!(
            refused(&w, Form::Recorded),
            ("device_id".into(), "invalid_field")
        );
        w.device_id = "dev".into();
        assert_eq!(
            refused(&w, Form::Recorded),
            ("place.locode".into(), "invalid_place")
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        type Change = fn(&mut ScanWire);
        let cases: Vec<(Change, &str, &str)> = vec![
            (|w| w.id = "has spaces".into(), "id", "invalid_field"),
            (|w| w.id = "x".repeat(65), "id", "invalid_field"),
            (
                |w| w.device_id = "d".repeat(65),
                "device_id",
                "invalid_field",
            ),
            (
                |w| w.officer = Some("a\u{7}b".into()),
                "officer",
                "invalid_field",
            ),
            (|w| w.verdict = "green".into(), "verdict", "invalid_field"),
            (|w| w.qr = String::new(), "qr", "invalid_field"),
            (
                |w| w.qr = "A".repeat(MAX_TEXT_LEN + 1),
                "qr",
                "invalid_field",
            ),
            (|w| w.place = PlaceWire::default(), "place", "invalid_place"),
            (
                |w| w.place.locode = Some("NAIROBI".into()),
                "place.locode",
                "invalid_place",
            ),
            (
                |w| w.place.locode = Some("XXMBA".into()),
                "place.locode",
                "invalid_place",
            ),
            (
                |w| w.place.locode = Some("KEMB1".into()),
                "place.locode",
                "invalid_place",
            ),
            (|w| w.place.lat = Some(1.0), "place", "invalid_place"),
            (
                |w| {
                    w.place.lat = Some(91.0);
                    w.place.lon = Some(0.0);
                },
                "place.lat",
                "invalid_place",
            ),
            (
                |w| {
                    w.place.lat = Some(0.0);
                    w.place.lon = Some(-180.5);
                },
                "place.lon",
                "invalid_place",
            ),
        ];
        for (change, field, code) in cases {
            let mut w = scan();
            change(&mut w);
            assert_eq!(refused(&w, Form::Received), (field.into(), code), "{w:?}");
            assert_eq!(refused(&w, Form::Recorded), (field.into(), code), "{w:?}");
        }
    }

    #[test]
    fn endorsement_lines_are_checked_and_normalised() {
        let e = Endorsement::check(&endorsement(), Form::Recorded, NOW).unwrap();
        assert_eq!(e.lines[0].block, 'A');
        assert_eq!(e.lines[0].quantity.to_string(), "12.5");
        let name = |w: &EndorsementWire| {
            Endorsement::check(w, Form::Received, NOW)
                .unwrap_err()
                .wire_name()
        };
        let mut w = endorsement();
        w.lines.push(w.lines[0].clone());
        assert_eq!(name(&w), "lines[1].block");
        w.lines.clear();
        assert_eq!(name(&w), "lines");
        w.lines = vec![LineWire {
            block: "AB".into(),
            quantity: QuantityInput::Integer(1),
        }];
        assert_eq!(name(&w), "lines[0].block");
        w.lines[0] = LineWire {
            block: "b".into(),
            quantity: QuantityInput::Text("0".into()),
        };
        assert_eq!(name(&w), "lines[0].quantity");
        w = endorsement();
        w.transport_document = Some("x".repeat(71));
        assert_eq!(name(&w), "transport_document");
        w = endorsement();
        w.endorsed_at = "2030-01-01T00:00:00Z".into();
        assert_eq!(name(&w), "endorsed_at");
    }

    #[test]
    fn confirmations_name_their_time_field() {
        let w = ConfirmationWire {
            id: "c-1".into(),
            received_at: "2999-01-01T00:00:00Z".into(),
            place: endorsement().place,
            lines: endorsement().lines,
            qr: "PS1:Y".into(),
        };
        let e = Confirmation::check(&w, Form::Received, NOW).unwrap_err();
        assert_eq!(
            (e.wire_name().as_str(), e.code()),
            ("received_at", "invalid_time")
        );
    }

    #[test]
    fn confirmations_carry_their_port_of_entry() {
        let mut w = ConfirmationWire {
            id: "c-1".into(),
            received_at: "2026-11-30T00:00:00Z".into(),
            place: PlaceWire {
                locode: Some(" defra ".into()),
                ..PlaceWire::default()
            },
            lines: endorsement().lines,
            qr: "PS1:Y".into(),
        };
        let c = Confirmation::check(&w, Form::Received, NOW).unwrap();
        assert_eq!(c.place.locode.as_deref(), Some("DEFRA"));
        assert_eq!(c.place.coords, None);
        let refused = |w: &ConfirmationWire, form| {
            let e = Confirmation::check(w, form, NOW).unwrap_err();
            (e.wire_name(), e.code())
        };
        assert_eq!(
            refused(&w, Form::Recorded),
            ("place.locode".to_owned(), "invalid_place")
        );
        w.place.locode = Some("XXFRA".into());
        assert_eq!(
            refused(&w, Form::Received),
            ("place.locode".to_owned(), "invalid_place")
        );
        w.place = PlaceWire::default();
        assert_eq!(refused(&w, Form::Received).0, "place");
        // A confirmation without a port is not a confirmation.
        let text = r#"{"id":"c-1","received_at":"2026-11-30T00:00:00Z","lines":[{"block":"A","quantity":"1"}],"qr":"PS1:Y"}"#;
        assert!(serde_json::from_str::<ConfirmationWire>(text).is_err());
    }

    #[test]
    fn wire_form_is_stable() {
        let text = serde_json::to_string(&ScanBatch {
            scans: vec![scan()],
        })
        .unwrap();
        assert_eq!(
            text,
            r#"{"scans":[{"id":"id-1","device_id":"dev","scanned_at":"2026-11-30T00:53:20Z","place":{"locode":"KEMBA"},"verdict":"valid","qr":"PS1:X"}]}"#
        );
        let back: ScanBatch = serde_json::from_str(&text).unwrap();
        assert_eq!(back.scans[0], scan());
        assert!(serde_json::from_str::<ScanWire>(&text.replace("\"qr\"", "\"qr2\"")).is_err());
        assert!(batch_size_ok(1) && batch_size_ok(MAX_REPORTS));
        assert!(!batch_size_ok(0) && !batch_size_ok(MAX_REPORTS + 1));
    }

    #[test]
    fn locations_need_a_locode_and_coordinates_in_range() {
        assert_eq!(
            check_location("tzark", -3.37, 36.68).unwrap(),
            ("TZARK".into(), -3.37, 36.68)
        );
        assert!(check_location("TZAR", 0.0, 0.0).is_err());
        assert!(check_location("TZARK", 0.0, 200.0).is_err());
    }
}
