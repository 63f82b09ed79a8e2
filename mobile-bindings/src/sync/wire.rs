//! The server's routes for sync (server `http/sync.rs` and `http/reports.rs`) and the upload
//! bodies, in the field-report wire form of `verifier_core::report` that the server reads.

use serde::Deserialize;
use verifier_core::report::{EndorsementBatch, ScanBatch};

use crate::outbox::report::{endorsement_wire, scan_wire};
use crate::outbox::{Payload, StoredItem};

/// The offline bundle (public; `ETag` / `If-None-Match`).
pub const BUNDLE_PATH: &str = "/api/v1/bundle?format=2&container=2";
/// Scan reports, in batches (officer token).
pub const SCANS_PATH: &str = "/api/v1/scans";
/// Export endorsements, in batches (officer token).
pub const ENDORSEMENTS_PATH: &str = "/api/v1/endorsements";
/// The device key's enrolment (officer token).
pub const DEVICE_KEY_PATH: &str = "/api/v1/devices/key";

/// The enrolment body.
#[derive(Debug, serde::Serialize)]
pub struct EnrolmentBody {
    /// SEC1 uncompressed, hex.
    pub public_key: String,
    /// Signature over the enrolment message (FORMAT.md §10.4), hex.
    pub proof: String,
}

/// The server's answer to an enrolment.
#[derive(Debug, Deserialize)]
pub struct EnrolmentAnswer {
    /// The key id the server computed.
    pub device_key_id: String,
}

/// The server's answer to an upload.
#[derive(Debug, Deserialize)]
pub struct UploadAnswer {
    /// Items stored by this upload.
    pub accepted: u64,
    /// Items the server already had (a batch re-sent after a lost answer).
    pub duplicates: u64,
    /// Alerts the upload raised (shown by the server's consoles, not on the device): only
    /// counted, so each is skipped over rather than built into a JSON value.
    #[serde(default)]
    pub alerts: Vec<serde::de::IgnoredAny>,
}

/// The path and JSON body for a batch. The caller gives items of one kind; an item of the
/// other kind would be left out, so the caller's run-of-one-kind rule is what makes this
/// total.
pub fn batch_body(batch: &[StoredItem]) -> Result<(&'static str, Vec<u8>), serde_json::Error> {
    let scans: Vec<_> = batch
        .iter()
        .filter_map(|i| match &i.payload {
            Payload::Scan(s) => Some(scan_wire(&i.id, s, i.signature.as_ref())),
            Payload::Endorsement(_) => None,
        })
        .collect();
    if !scans.is_empty() {
        return Ok((SCANS_PATH, serde_json::to_vec(&ScanBatch { scans })?));
    }
    let endorsements: Vec<_> = batch
        .iter()
        .filter_map(|i| match &i.payload {
            Payload::Endorsement(e) => Some(endorsement_wire(&i.id, e, i.signature.as_ref())),
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
    use crate::outbox::{EndorsedLine, ExportEndorsement, Place, ScanReport};
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
            signature: None,
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
            signature: None,
        };
        let (path, body) = batch_body(&[e]).unwrap();
        assert_eq!(path, ENDORSEMENTS_PATH);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"endorsements":[{"id":"id-2","device_id":"d","officer":"o","endorsed_at":"2026-11-30T00:53:20Z","place":{"locode":"KEMBA"},"transport_document":"MSKU123","lines":[{"block":"A","quantity":"12.5"}],"qr":"PS1:Y"}]}"#
        );
    }
}
