//! A permit's QR rendered as a real PNG, SVG and JPEG reads back to the exact payload text,
//! and the text read from the image verifies.
#![cfg(feature = "image")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use verifier_core::keys::SecretKey;
use verifier_core::permit::{IssueContext, Permit, PermitDraft};
use verifier_core::qr::{Ecc, decode_image, render_png, render_svg, version};
use verifier_core::{Verdict, payload, verify};

const NOW: i64 = 1_795_939_200;

fn permit_text(key: &SecretKey) -> String {
    let draft: PermitDraft = serde_json::from_value(serde_json::json!({
        "document_type": "export", "number": "ID/BKSDA/2026/00871", "valid_until": "2027-04-30",
        "purpose": "T",
        "exporter": {"name": "CV Reptil Nusantara", "country": "ID"},
        "importer": {"name": "Exotic Leather Works Srl", "country": "IT"},
        "lines": [{"scientific_name": "Python reticulatus", "kingdom": "animal", "term": "SKI",
                   "appendix": "II", "source": "W", "quantity": 1200}]
    }))
    .unwrap();
    let ctx = IssueContext {
        issuing_country: "ID".parse().unwrap(),
        issued_at: NOW - 7200,
        status_index: 3,
    };
    payload::sign(&Permit::new(&draft, ctx).unwrap(), key)
}

#[test]
fn png_and_jpeg_images_read_back_and_verify() {
    let key = SecretKey::from_seed(&[4; 32]);
    let text = permit_text(&key);
    assert!(version(&text, Ecc::Q).unwrap() <= 12);

    let png = render_png(&text, Ecc::Q, 4).unwrap();
    assert_eq!(decode_image(&png).unwrap(), text);

    // A JPEG, as a phone photo or a scanner would save it.
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let mut jpeg = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageLuma8(img)
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    let read = decode_image(jpeg.get_ref()).unwrap();
    assert_eq!(read, text);

    let (trust, status) =
        common::one_authority(&key, "ID", "Direktorat Jenderal KSDAE", 3, NOW - 60);
    assert_eq!(verify(&read, NOW, &trust, &status).verdict, Verdict::Valid);
}

#[test]
fn svg_is_a_scalable_document_and_oversize_text_is_refused() {
    let key = SecretKey::from_seed(&[4; 32]);
    let svg = render_svg(&permit_text(&key), Ecc::Q).unwrap();
    assert!(svg.starts_with("<?xml") && svg.contains("<svg") && svg.contains("viewBox"));
    assert!(render_png(&"A".repeat(5000), Ecc::Q, 2).is_err());
    assert!(decode_image(&render_png("hello", Ecc::L, 1).unwrap()).is_ok());
}
