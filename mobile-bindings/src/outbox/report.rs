//! The outbox's items in the core's field-report wire form, and the record-time check: the
//! core's rules (`verifier_core::report`), the same the server applies on upload, so that an
//! item the app was told is queued is never refused by the server.

use verifier_core::date::format_unix;
use verifier_core::permit::QuantityInput;
use verifier_core::report::{
    self, EndorsementWire, Field, Form, LineWire, PlaceWire, Problem, ReportError, ReportKind,
    ScanWire,
};

use super::{ExportEndorsement, Place, ScanReport, StoredSignature};
use crate::error::SdkFailure;

fn place(p: &Place) -> PlaceWire {
    match p {
        Place::Locode { code } => PlaceWire {
            locode: Some(code.clone()),
            lat: None,
            lon: None,
        },
        Place::Coordinates {
            latitude,
            longitude,
        } => PlaceWire {
            locode: None,
            lat: Some(*latitude),
            lon: Some(*longitude),
        },
    }
}

/// A scan report as uploaded under `id`, with its device signature when it has one.
pub fn scan_wire(id: &str, s: &ScanReport, sig: Option<&StoredSignature>) -> ScanWire {
    ScanWire {
        device_key_id: sig.map(|g| g.device_key_id.clone()),
        signature: sig.map(|g| g.signature.clone()),
        id: id.to_owned(),
        device_id: s.device_id.clone(),
        officer: s.officer_id.clone(),
        scanned_at: format_unix(s.scanned_at),
        place: place(&s.place),
        verdict: s.verdict.as_str().to_owned(),
        qr: s.qr_text.clone(),
    }
}

/// An export endorsement as uploaded under `id`, with its device signature when it has one;
/// its place is the port of export.
pub fn endorsement_wire(
    id: &str,
    e: &ExportEndorsement,
    sig: Option<&StoredSignature>,
) -> EndorsementWire {
    EndorsementWire {
        device_key_id: sig.map(|g| g.device_key_id.clone()),
        signature: sig.map(|g| g.signature.clone()),
        id: id.to_owned(),
        device_id: e.device_id.clone(),
        officer: e.officer_id.clone(),
        endorsed_at: format_unix(e.endorsed_at),
        place: PlaceWire {
            locode: Some(e.port.clone()),
            lat: None,
            lon: None,
        },
        transport_document: e.transport_document.clone(),
        lines: e
            .lines
            .iter()
            .map(|l| LineWire {
                block: l.block.clone(),
                quantity: QuantityInput::Text(l.quantity.clone()),
            })
            .collect(),
        qr: e.qr_text.clone(),
    }
}

/// Refuses, at record time, a scan the server would refuse; returns it checked (what a
/// device signature covers).
pub fn check_scan(id: &str, s: &ScanReport, now: i64) -> Result<report::Scan, SdkFailure> {
    // The time is checked as a number first, so that only a plausible one is formatted.
    report::check_time(ReportKind::Scan, s.scanned_at, now).map_err(|e| refusal(&e))?;
    report::Scan::check(&scan_wire(id, s, None), Form::Recorded, now).map_err(|e| refusal(&e))
}

/// Refuses, at record time, an endorsement the server would refuse; returns it with its
/// quantities normalised, and checked (what a device signature covers).
pub fn check_endorsement(
    id: &str,
    mut e: ExportEndorsement,
    now: i64,
) -> Result<(ExportEndorsement, report::Endorsement), SdkFailure> {
    report::check_time(ReportKind::Endorsement, e.endorsed_at, now).map_err(|e| refusal(&e))?;
    let checked = report::Endorsement::check(&endorsement_wire(id, &e, None), Form::Recorded, now)
        .map_err(|e| refusal(&e))?;
    checked.within_validity().map_err(|e| refusal(&e))?;
    for (line, ok) in e.lines.iter_mut().zip(&checked.lines) {
        line.quantity = ok.quantity.to_string();
    }
    Ok((e, checked))
}

/// The field as the app named it in the record it gave.
fn field_name(e: &ReportError) -> &'static str {
    let endorsement = e.report == ReportKind::Endorsement;
    match e.field {
        Field::Id => "id",
        Field::DeviceId => "device_id",
        Field::Officer => "officer_id",
        Field::Time => match e.report {
            ReportKind::Scan => "scanned_at",
            ReportKind::Endorsement => "endorsed_at",
            ReportKind::Confirmation => "received_at",
        },
        Field::Place | Field::Locode if endorsement => "port",
        Field::Place => "place",
        Field::Locode => "place.code",
        Field::Latitude => "place.latitude",
        Field::Longitude => "place.longitude",
        Field::Verdict => "verdict",
        Field::TransportDocument => "transport_document",
        Field::Lines => "lines",
        Field::Block(_) => "lines.block",
        Field::Quantity(_) => "lines.quantity",
        Field::Qr => "qr_text",
        Field::Signature => "signature",
    }
}

/// Every refusal is something the officer or the app corrects before recording again (the
/// time ones name the device clock in their reason), so each maps to `InvalidInput`; the match
/// has no catch-all so that a new core problem forces a decision here.
fn refusal(e: &ReportError) -> SdkFailure {
    let field = field_name(e);
    let reason = e.problem.to_string();
    match e.problem {
        Problem::Empty
        | Problem::TooLong { .. }
        | Problem::ControlCharacter
        | Problem::SurroundingSpace
        | Problem::BadId
        | Problem::NotATime
        | Problem::InTheFuture
        | Problem::TooEarly
        | Problem::BadLocode
        | Problem::OutOfRange
        | Problem::HalfCoordinates
        | Problem::NoPlace
        | Problem::BadVerdict
        | Problem::LineCount
        | Problem::BadBlock
        | Problem::RepeatedBlock
        | Problem::BadQuantity
        | Problem::BeforeIssueDay(_)
        | Problem::AfterValidity(_)
        // The outbox builds signatures itself; a bad one is a programming error.
        | Problem::BadSignature => SdkFailure::invalid(field, reason),
    }
}
