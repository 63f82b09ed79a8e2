//! Writes the device-report vectors (docs/FORMAT.md §10) to `test-vectors/v1/device-reports.json`.
//!
//! `cargo run -p verifier-core --example make_device_vectors -- test-vectors/v1/device-reports.json`
//!
//! Append-only like the other vector files: ECDSA signatures here are deterministic (RFC 6979),
//! so the program refuses to write unless the file is absent or the bytes are identical.
//!
//! Each case is a report as uploaded (the JSON wire form), the device whose key is enrolled
//! for the token that uploads it (`uploader`, or `null` for a token with no key), the bytes a
//! verifier must build from the report (`message`, hex), and what the server must do with it.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use verifier_core::device::{
    DeviceKeyId, PUBLIC_KEY_LEN, endorsement_message, enrolment_message, scan_message,
};
use verifier_core::report::{Endorsement, EndorsementWire, Form, Scan, ScanWire};

/// 2026-11-29T08:00:00Z, as in `vectors.json`: the server clock the cases are checked at.
const NOW: i64 = 1_795_939_200;
/// The `PS1:` text of vector `valid-export-1-line` (a permit the device scanned).
const QR: &str = "PS1:O0K7MFV44%.2EB89*R:6D7Q10N5U30.00:GO-LK040A90:K4HZ4B5A$QIS4QC:BFKTY/PVRJ -TV6IESIWT5/8MADSQ.I*9E:.ELGEQNB2 RHLV80KNMV06DO+D PMHXJ$DOFJA:M88M6%3LO3G%XS+KMU.V3PM-%6/GDL+1ON9BLCM42%TSL1SW*9AA9REEX+OTMU-IK7A16QLEF7ZNRFGH22NTPVO/ASKLT+1NS2:TD9:TZO1PECT+VUAK0$A34TS629+O Y5N-6/$BW58-5436M92S60";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Test keys are public by construction: scalar = SHA-256("permitseal test key: " ‖ label).
struct Device {
    label: &'static str,
    key: SigningKey,
    public: [u8; PUBLIC_KEY_LEN],
    id: DeviceKeyId,
}

fn device(label: &'static str) -> Result<Device, Box<dyn std::error::Error>> {
    let scalar = Sha256::digest(format!("permitseal test key: {label}").as_bytes());
    let key = SigningKey::from_slice(&scalar)?;
    let sec1 = key.verifying_key().to_sec1_point(false);
    let public: [u8; PUBLIC_KEY_LEN] = sec1.as_bytes().try_into()?;
    Ok(Device {
        label,
        id: DeviceKeyId::of(&public),
        key,
        public,
    })
}

/// Low-S signature `r ‖ s` over `message`.
fn sign(d: &Device, message: &[u8]) -> [u8; 64] {
    let sig: Signature = d.key.sign(message);
    sig.normalize_s().to_bytes().into()
}

/// `(r, n − s)`: the same signature with the high `s` the wire refuses.
fn high_twin(sig: &[u8; 64]) -> Result<String, Box<dyn std::error::Error>> {
    let s = Signature::from_slice(sig)?;
    let (r, s) = s.split_scalars();
    let twin = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes())?;
    Ok(hex(&twin.to_bytes()))
}

fn scan_wire(id: &str) -> Result<ScanWire, serde_json::Error> {
    serde_json::from_value(json!({
        "id": id,
        "device_id": "KE-JKIA-HANDSET-07",
        "officer": "KRA-4471",
        "scanned_at": "2026-11-29T07:42:10Z",
        "place": {"locode": "KENBO", "lat": -1.319167, "lon": 36.9275},
        "verdict": "valid",
        "qr": QR
    }))
}

fn endorsement_wire(id: &str) -> Result<EndorsementWire, serde_json::Error> {
    serde_json::from_value(json!({
        "id": id,
        "device_id": "KE-MBA-HANDSET-02",
        "endorsed_at": "2026-11-29T06:15:00Z",
        "place": {"locode": "KEMBA"},
        "transport_document": "MSKU 4471202",
        "lines": [{"block": "A", "quantity": "240"}, {"block": "B", "quantity": "12.5"}],
        "qr": QR
    }))
}

fn scan_bytes(w: &ScanWire, key: &DeviceKeyId) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    Ok(scan_message(&Scan::check(w, Form::Received, NOW)?, key))
}

fn endorsement_bytes(
    w: &EndorsementWire,
    key: &DeviceKeyId,
) -> Result<Vec<u8>, Box<dyn std::error::Error>> {
    Ok(endorsement_message(
        &Endorsement::check(w, Form::Received, NOW)?,
        key,
    ))
}

struct Case {
    name: &'static str,
    description: &'static str,
    kind: &'static str,
    uploader: Option<&'static str>,
    report: Value,
    /// The bytes built from the report as given (absent when the report does not pass the
    /// field checks).
    message: Option<Vec<u8>>,
    /// `None`: accepted; `Some(code)`: refused with this error code.
    refused: Option<&'static str>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "test-vectors/v1/device-reports.json".into());
    let a = device("device-a")?;
    let b = device("device-b")?;
    let mut cases = Vec::new();

    // A signed scan, accepted.
    let mut scan = scan_wire("7d0c3a52-3f5e-4d4b-9a43-1c2b7f0e5a01")?;
    let msg = scan_bytes(&scan, &a.id)?;
    let sig = sign(&a, &msg);
    scan.device_key_id = Some(a.id.to_string());
    scan.signature = Some(hex(&sig));
    cases.push(Case {
        name: "scan-signed",
        description: "a scan signed by the uploading device's enrolled key",
        kind: "scan",
        uploader: Some(a.label),
        report: serde_json::to_value(&scan)?,
        message: Some(msg.clone()),
        refused: None,
    });

    // The same scan with its verdict changed after signing.
    let mut altered = scan.clone();
    altered.verdict = "invalid".into();
    cases.push(Case {
        name: "scan-altered-verdict",
        description: "the verdict was changed after signing",
        kind: "scan",
        uploader: Some(a.label),
        message: Some(scan_bytes(&altered, &a.id)?),
        report: serde_json::to_value(&altered)?,
        refused: Some("bad_device_signature"),
    });

    // The same scan with the place moved after signing.
    let mut moved = scan.clone();
    moved.place.lat = Some(-4.05);
    cases.push(Case {
        name: "scan-altered-place",
        description: "the latitude was changed after signing",
        kind: "scan",
        uploader: Some(a.label),
        message: Some(scan_bytes(&moved, &a.id)?),
        report: serde_json::to_value(&moved)?,
        refused: Some("bad_device_signature"),
    });

    // Uploaded by another enrolled device.
    cases.push(Case {
        name: "scan-replayed-by-another-device",
        description: "device A's signed scan uploaded with device B's token (B's key is enrolled)",
        kind: "scan",
        uploader: Some(b.label),
        report: serde_json::to_value(&scan)?,
        message: Some(msg.clone()),
        refused: Some("device_key_mismatch"),
    });

    // Signed by another key while naming the enrolled one.
    let mut forged = scan_wire("7d0c3a52-3f5e-4d4b-9a43-1c2b7f0e5a02")?;
    let forged_msg = scan_bytes(&forged, &a.id)?;
    forged.device_key_id = Some(a.id.to_string());
    forged.signature = Some(hex(&sign(&b, &forged_msg)));
    cases.push(Case {
        name: "scan-wrong-key",
        description: "names device A's key id but is signed by device B's key",
        kind: "scan",
        uploader: Some(a.label),
        report: serde_json::to_value(&forged)?,
        message: Some(forged_msg),
        refused: Some("bad_device_signature"),
    });

    // High s.
    let mut high = scan.clone();
    high.signature = Some(high_twin(&sig)?);
    cases.push(Case {
        name: "scan-high-s",
        description: "the valid signature's twin (r, n - s): verifies in plain ECDSA, refused by the wire's low-s rule",
        kind: "scan",
        uploader: Some(a.label),
        report: serde_json::to_value(&high)?,
        message: None,
        refused: Some("invalid_signature"),
    });

    // Unsigned from an enrolled device.
    let unsigned = scan_wire("7d0c3a52-3f5e-4d4b-9a43-1c2b7f0e5a03")?;
    cases.push(Case {
        name: "scan-unsigned-from-enrolled-device",
        description: "no signature, from a token with an enrolled key",
        kind: "scan",
        uploader: Some(a.label),
        report: serde_json::to_value(&unsigned)?,
        message: None,
        refused: Some("signature_required"),
    });

    // Unsigned from a device without a key: accepted (the deployment before enrolment).
    cases.push(Case {
        name: "scan-unsigned-no-key",
        description: "no signature, from a token with no enrolled key: accepted and shown as unsigned",
        kind: "scan",
        uploader: None,
        report: serde_json::to_value(&unsigned)?,
        message: None,
        refused: None,
    });

    // Signed, from a token with no key.
    cases.push(Case {
        name: "scan-signed-no-key",
        description: "signed, from a token with no enrolled key: nothing to check it against",
        kind: "scan",
        uploader: None,
        report: serde_json::to_value(&scan)?,
        message: Some(msg.clone()),
        refused: Some("device_not_enrolled"),
    });

    // Key id without signature.
    let mut half = unsigned.clone();
    half.device_key_id = Some(a.id.to_string());
    cases.push(Case {
        name: "scan-key-id-without-signature",
        description: "a device key id and no signature",
        kind: "scan",
        uploader: Some(a.label),
        report: serde_json::to_value(&half)?,
        message: None,
        refused: Some("invalid_signature"),
    });

    // A scan's signature presented on an endorsement (namespaces differ).
    // An endorsement, signed; then altered quantity; then received in a lenient form.
    let mut e = endorsement_wire("c1f0b3de-88a2-4f0e-b7a1-5d3c2e9f4b10")?;
    let e_msg = endorsement_bytes(&e, &b.id)?;
    let e_sig = sign(&b, &e_msg);
    e.device_key_id = Some(b.id.to_string());
    e.signature = Some(hex(&e_sig));
    cases.push(Case {
        name: "endorsement-signed",
        description: "an export endorsement signed by the uploading device's enrolled key",
        kind: "endorsement",
        uploader: Some(b.label),
        report: serde_json::to_value(&e)?,
        message: Some(e_msg.clone()),
        refused: None,
    });

    let mut more = e.clone();
    more.lines[0].quantity = verifier_core::permit::QuantityInput::Text("250".into());
    cases.push(Case {
        name: "endorsement-altered-quantity",
        description: "block A's quantity was raised after signing",
        kind: "endorsement",
        uploader: Some(b.label),
        message: Some(endorsement_bytes(&more, &b.id)?),
        report: serde_json::to_value(&more)?,
        refused: Some("bad_device_signature"),
    });

    let mut lenient = e.clone();
    lenient.lines[1].quantity = verifier_core::permit::QuantityInput::Text("12.500".into());
    lenient.place.locode = Some("kemba".into());
    cases.push(Case {
        name: "endorsement-non-canonical-form",
        description: "the signed endorsement sent as `12.500` and `kemba`: the signature covers the canonical values (12.5, KEMBA), so it still verifies",
        kind: "endorsement",
        uploader: Some(b.label),
        message: Some(endorsement_bytes(&lenient, &b.id)?),
        report: serde_json::to_value(&lenient)?,
        refused: None,
    });

    // A scan signature moved onto the endorsement.
    let mut swapped = e.clone();
    swapped.device_key_id = Some(a.id.to_string());
    swapped.signature = Some(hex(&sig));
    cases.push(Case {
        name: "endorsement-with-a-scan-signature",
        description: "device A's valid scan signature attached to an endorsement uploaded by A: the namespaces differ",
        kind: "endorsement",
        uploader: Some(a.label),
        message: Some(endorsement_bytes(&swapped, &a.id)?),
        report: serde_json::to_value(&swapped)?,
        refused: Some("bad_device_signature"),
    });

    let proof = |d: &Device| hex(&sign(d, &enrolment_message(&d.public)));
    let devices: Vec<Value> = [&a, &b]
        .iter()
        .map(|d| {
            json!({
                "label": d.label,
                "private_key": hex(&d.key.to_bytes()),
                "public_key": hex(&d.public),
                "key_id": d.id.to_string(),
                "enrolment_message": hex(&enrolment_message(&d.public)),
                "enrolment_proof": proof(d),
            })
        })
        .collect();
    let n = cases.len();
    let doc = json!({
        "format": "permitseal device reports v1 (docs/FORMAT.md §10)",
        "note": "Test keys (scalar = SHA-256(\"permitseal test key: \" || label)); never trust them. `now` is the server clock; `uploader` is the device whose key is enrolled for the uploading token (null: none). `message` is the hex of the bytes a verifier builds from `report`; `expected.accepted` false comes with the error code.",
        "algorithm": "ecdsa-p256-sha256",
        "now": NOW,
        "devices": devices,
        "cases": cases.into_iter().map(|c| json!({
            "name": c.name,
            "description": c.description,
            "kind": c.kind,
            "uploader": c.uploader,
            "report": c.report,
            "message": c.message.map(|m| hex(&m)),
            "expected": match c.refused {
                None => json!({"accepted": true}),
                Some(code) => json!({"accepted": false, "code": code}),
            },
        })).collect::<Vec<_>>(),
    });
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    match std::fs::read_to_string(&out) {
        Ok(existing) if existing == text => println!("{out}: unchanged ({n} cases)"),
        Ok(_) => {
            return Err(format!(
                "{out} exists and differs: vectors are append-only; add a new file"
            )
            .into());
        }
        Err(_) => {
            std::fs::write(&out, text)?;
            println!("{out}: wrote {n} cases");
        }
    }
    Ok(())
}
