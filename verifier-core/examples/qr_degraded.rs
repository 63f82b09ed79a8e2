//! Writes the degraded-image set the QR decoder is measured on: permit codes rendered as
//! printed, then downscaled, blurred, rotated, skewed, JPEG-compressed, speckled and stained,
//! the way officers' photographs and scans of creased paper come out.
//!
//! `cargo run -p verifier-core --example qr_degraded -- test-vectors/qr-images`
//!
//! Deterministic (a fixed pseudo-random sequence), so running it again writes the same files.
//! `manifest.json` lists each image with the exact text its code holds.

use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, Luma, imageops};
use serde_json::json;
use verifier_core::qr::{Ecc, render_png};

/// Permit texts of QR versions 12, 13 and 15 at ECC Q, from the conformance vectors.
fn texts() -> Result<Vec<String>, Box<dyn std::error::Error>> {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("test-vectors/v1/vectors.json")?)?;
    let cases = doc["cases"].as_array().ok_or("no cases")?;
    let qr = |name: &str| -> Result<String, Box<dyn std::error::Error>> {
        Ok(cases
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["qr"].as_str())
            .ok_or(name.to_string())?
            .to_string())
    };
    Ok(vec![
        qr("valid-export-1-line")?,
        qr("warning-compromised-later")?,
        qr("valid-export-4-lines")?,
    ])
}

/// xorshift64: the same "random" noise on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn bilinear(img: &GrayImage, x: f64, y: f64) -> u8 {
    let (w, h) = img.dimensions();
    if x < 0.0 || y < 0.0 || x > f64::from(w - 1) || y > f64::from(h - 1) {
        return 255;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - f64::from(x0), y - f64::from(y0));
    let p = |x, y| f64::from(img.get_pixel(x, y)[0]);
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    (top * (1.0 - fy) + bottom * fy).round() as u8
}

/// Maps every output pixel back through `inverse` (output → source coordinates), on a canvas
/// `grow` times the source size, white outside.
fn warp(img: &GrayImage, grow: f64, inverse: impl Fn(f64, f64) -> (f64, f64)) -> GrayImage {
    let (w, h) = img.dimensions();
    let (ow, oh) = ((f64::from(w) * grow) as u32, (f64::from(h) * grow) as u32);
    GrayImage::from_fn(ow, oh, |x, y| {
        let (sx, sy) = inverse(f64::from(x), f64::from(y));
        Luma([bilinear(img, sx, sy)])
    })
}

fn rotate(img: &GrayImage, degrees: f64) -> GrayImage {
    let (w, h) = img.dimensions();
    let grow = 1.45;
    let (cx, cy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let (ox, oy) = (cx * grow, cy * grow);
    let (s, c) = degrees.to_radians().sin_cos();
    warp(img, grow, |x, y| {
        let (dx, dy) = (x - ox, y - oy);
        (cx + c * dx + s * dy, cy - s * dx + c * dy)
    })
}

/// A perspective view: the top edge narrower than the bottom by `k`, plus a horizontal shear.
fn skew(img: &GrayImage, k: f64, shear: f64) -> GrayImage {
    let (w, h) = img.dimensions();
    let grow = 1.3;
    let (cx, cy) = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let (ox, oy) = (cx * grow, cy * grow);
    warp(img, grow, |x, y| {
        let v = (y - oy) / f64::from(h);
        let scale = 1.0 + k * (0.5 - v);
        let sx = cx + (x - ox) * scale - shear * (y - oy);
        (sx, cy + (y - oy))
    })
}

fn noise(img: &GrayImage, fraction: f64, rng: &mut Rng) -> GrayImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        if rng.unit() < fraction {
            p[0] = if rng.unit() < 0.5 { 0 } else { 255 };
        }
    }
    out
}

/// A stain covering `fraction` of the code's area: a dark disc in the data region, between
/// the finder patterns, with a softer rim.
fn blot(img: &GrayImage, fraction: f64, quiet: f64, rng: &mut Rng) -> GrayImage {
    let (w, h) = img.dimensions();
    let code = f64::from(w) - 2.0 * quiet;
    let r = (fraction * code * code / std::f64::consts::PI).sqrt();
    let (cx, cy) = (
        f64::from(w) * (0.55 + 0.1 * rng.unit()),
        f64::from(h) * (0.55 + 0.1 * rng.unit()),
    );
    let mut out = img.clone();
    for (x, y, p) in out.enumerate_pixels_mut() {
        let d = ((f64::from(x) - cx).powi(2) + (f64::from(y) - cy).powi(2)).sqrt();
        if d < r {
            p[0] = 40;
        } else if d < r + 3.0 {
            p[0] = p[0].min(120);
        }
    }
    out
}

fn scaled(img: &GrayImage, f: f64) -> GrayImage {
    let (w, h) = img.dimensions();
    imageops::resize(
        img,
        (f64::from(w) * f).round() as u32,
        (f64::from(h) * f).round() as u32,
        imageops::FilterType::Triangle,
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "test-vectors/qr-images".into());
    std::fs::create_dir_all(&dir)?;
    let mut rng = Rng(0x05EE_D0FC_0DE5);
    let mut entries = vec![];
    let texts = texts()?;
    for (t, text) in texts.iter().enumerate() {
        let module = 4u32;
        let png = render_png(text, Ecc::Q, module)?;
        let clean = image::load_from_memory(&png)?.to_luma8();
        let quiet = f64::from(4 * module);
        let mut out: Vec<(String, GrayImage, bool)> = vec![];
        for f in [0.75, 0.6, 0.5, 0.4, 0.33, 0.25] {
            out.push((
                format!("downscale-{:02}", (f * 100.0) as u32),
                scaled(&clean, f),
                false,
            ));
        }
        for sigma in [1.0f32, 1.5, 2.0, 2.5] {
            out.push((
                format!("blur-{:02}", (sigma * 10.0) as u32),
                imageops::blur(&clean, sigma),
                false,
            ));
        }
        for deg in [3.0, 10.0, 22.0, 45.0] {
            out.push((format!("rotate-{deg:02}"), rotate(&clean, deg), false));
        }
        for (k, shear) in [(0.1, 0.05), (0.2, 0.1), (0.3, 0.15)] {
            out.push((
                format!("skew-{:02}", (k * 100.0) as u32),
                skew(&clean, k, shear),
                false,
            ));
        }
        for q in [40u8, 20, 10] {
            out.push((format!("jpeg-{q:02}"), scaled(&clean, 0.6), true));
        }
        for p in [0.05, 0.1, 0.15] {
            out.push((
                format!("noise-{:02}", (p * 100.0) as u32),
                noise(&clean, p, &mut rng),
                false,
            ));
        }
        for p in [0.05, 0.1, 0.15] {
            out.push((
                format!("blot-{:02}", (p * 100.0) as u32),
                blot(&clean, p, quiet, &mut rng),
                false,
            ));
        }
        out.push((
            "photo-rotate-blur-jpeg".into(),
            imageops::blur(&rotate(&scaled(&clean, 0.7), 8.0), 1.2),
            true,
        ));
        for (name, img, jpeg) in out {
            let file = if jpeg {
                let q = name
                    .strip_prefix("jpeg-")
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(50);
                let file = format!("t{t}-{name}.jpg");
                let mut buf = vec![];
                JpegEncoder::new_with_quality(&mut buf, q).encode_image(&img)?;
                std::fs::write(format!("{dir}/{file}"), buf)?;
                file
            } else {
                let file = format!("t{t}-{name}.png");
                img.save_with_format(format!("{dir}/{file}"), ImageFormat::Png)?;
                file
            };
            entries.push(json!({"file": file, "text": t, "degradation": name}));
        }
    }
    let manifest = json!({
        "note": "Written by `cargo run -p verifier-core --example qr_degraded -- test-vectors/qr-images`. Each image holds texts[text] exactly.",
        "texts": texts,
        "images": entries,
    });
    std::fs::write(
        format!("{dir}/manifest.json"),
        serde_json::to_string_pretty(&manifest)? + "\n",
    )?;
    println!("{dir}: {} images", entries.len());
    Ok(())
}
