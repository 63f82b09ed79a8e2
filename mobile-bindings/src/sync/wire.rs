//! The server's routes and JSON for sync (server `http/sync.rs` and `http/reports.rs`): the
//! only place that knows them.

use serde::{Deserialize, Serialize};
use verifier_core::date::format_unix;

use crate::outbox::{ExportEndorsement, Payload, Place, ScanReport, StoredItem};

/// The offline bundle (public; `ETag` / `If-None-Match`).
pub const BUNDLE_PATH: &str = "/api/v1/bundle";
/// Scan reports, in batches (officer token).
pub const SCANS_PATH: &str = "/api/v1/scans";
/// Export endorsements, in batches (officer token).
pub const ENDORSEMENTS_PATH: &str = "/api/v1/endorsements";

#[derive(Serialize)]
struct PlaceDto<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    locode: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lat: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lon: Option<f64>,
}

impl<'a> From<&'a Place> for PlaceDto<'a> {
    fn from(p: &'a Place) -> PlaceDto<'a> {
        match p {
            Place::Locode { code } => PlaceDto {
                locode: Some(code),
                lat: None,
                lon: None,
            },
            Place::Coordinates {
                latitude,
                longitude,
            } => PlaceDto {
                locode: None,
                lat: Some(*latitude),
                lon: Some(*longitude),
            },
        }
    }
}

#[derive(Serialize)]
struct ScanDto<'a> {
    id: &'a str,
    device_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    officer: Option<&'a str>,
    scanned_at: String,
    place: PlaceDto<'a>,
    verdict: &'static str,
    qr: &'a str,
}

#[derive(Serialize)]
struct LineDto<'a> {
    block: &'a str,
    quantity: &'a str,
}

#[derive(Serialize)]
struct EndorsementDto<'a> {
    id: &'a str,
    device_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    officer: Option<&'a str>,
    endorsed_at: String,
    place: PlaceDto<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transport_document: Option<&'a str>,
    lines: Vec<LineDto<'a>>,
    qr: &'a str,
}

#[derive(Serialize)]
struct ScanBatch<'a> {
    scans: Vec<ScanDto<'a>>,
}

#[derive(Serialize)]
struct EndorsementBatch<'a> {
    endorsements: Vec<EndorsementDto<'a>>,
}

/// The server's answer to an upload.
#[derive(Debug, Deserialize)]
pub struct UploadAnswer {
    /// Items stored by this upload.
    pub accepted: u64,
    /// Items the server already had (a batch re-sent after a lost answer).
    pub duplicates: u64,
    /// Alerts the upload raised (shown by the server's consoles, not on the device).
    #[serde(default)]
    pub alerts: Vec<serde_json::Value>,
}

fn scan<'a>(id: &'a str, s: &'a ScanReport) -> ScanDto<'a> {
    ScanDto {
        id,
        device_id: &s.device_id,
        officer: s.officer_id.as_deref(),
        scanned_at: format_unix(s.scanned_at),
        place: (&s.place).into(),
        verdict: s.verdict.as_str(),
        qr: &s.qr_text,
    }
}

fn endorsement<'a>(id: &'a str, e: &'a ExportEndorsement) -> EndorsementDto<'a> {
    EndorsementDto {
        id,
        device_id: &e.device_id,
        officer: e.officer_id.as_deref(),
        endorsed_at: format_unix(e.endorsed_at),
        place: PlaceDto {
            locode: Some(&e.port),
            lat: None,
            lon: None,
        },
        transport_document: e.transport_document.as_deref(),
        lines: e
            .lines
            .iter()
            .map(|l| LineDto {
                block: &l.block,
                quantity: &l.quantity,
            })
            .collect(),
        qr: &e.qr_text,
    }
}

/// The path and JSON body for a batch. The caller gives items of one kind; an item of the
/// other kind would be left out, so the caller's run-of-one-kind rule is what makes this
/// total.
pub fn batch_body(batch: &[StoredItem]) -> Result<(&'static str, Vec<u8>), serde_json::Error> {
    let scans: Vec<ScanDto<'_>> = batch
        .iter()
        .filter_map(|i| match &i.payload {
            Payload::Scan(s) => Some(scan(&i.id, s)),
            Payload::Endorsement(_) => None,
        })
        .collect();
    if !scans.is_empty() {
        return Ok((SCANS_PATH, serde_json::to_vec(&ScanBatch { scans })?));
    }
    let endorsements: Vec<EndorsementDto<'_>> = batch
        .iter()
        .filter_map(|i| match &i.payload {
            Payload::Endorsement(e) => Some(endorsement(&i.id, e)),
            Payload::Scan(_) => None,
        })
        .collect();
    Ok((
        ENDORSEMENTS_PATH,
        serde_json::to_vec(&EndorsementBatch { endorsements })?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::EndorsedLine;
    use crate::records::VerdictKind;

    #[test]
    fn bodies_match_the_server_schema() {
        let scan = StoredItem {
            id: "id-1".into(),
            queued_at: 0,
            payload: Payload::Scan(ScanReport {
                qr_text: "PS1:X".into(),
                scanned_at: 1_796_000_000,
                place: Place::Coordinates {
                    latitude: -4.05,
                    longitude: 39.66,
                },
                verdict: VerdictKind::ValidWithWarnings,
                device_id: "d".into(),
                officer_id: None,
            }),
        };
        let (path, body) = batch_body(std::slice::from_ref(&scan)).unwrap();
        assert_eq!(path, SCANS_PATH);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"scans":[{"id":"id-1","device_id":"d","scanned_at":"2026-11-30T00:53:20Z","place":{"lat":-4.05,"lon":39.66},"verdict":"valid_with_warnings","qr":"PS1:X"}]}"#
        );
        let e = StoredItem {
            id: "id-2".into(),
            queued_at: 0,
            payload: Payload::Endorsement(ExportEndorsement {
                qr_text: "PS1:Y".into(),
                lines: vec![EndorsedLine {
                    block: "A".into(),
                    quantity: "12.5".into(),
                }],
                port: "KEMBA".into(),
                transport_document: Some("MSKU123".into()),
                endorsed_at: 1_796_000_000,
                device_id: "d".into(),
                officer_id: Some("o".into()),
            }),
        };
        let (path, body) = batch_body(&[e]).unwrap();
        assert_eq!(path, ENDORSEMENTS_PATH);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"endorsements":[{"id":"id-2","device_id":"d","officer":"o","endorsed_at":"2026-11-30T00:53:20Z","place":{"locode":"KEMBA"},"transport_document":"MSKU123","lines":[{"block":"A","quantity":"12.5"}],"qr":"PS1:Y"}]}"#
        );
    }
}
