//! QR images: render payload text to PNG or SVG and read it back from an image file.
//!
//! Behind the `image` feature, which mobile builds leave off: phones scan with the
//! platform scanner and pass the decoded text to the core.

use qrcode::{EcLevel, QrCode};

/// Error-correction level of a rendered code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ecc {
    /// About 7 % recovery.
    L,
    /// About 15 %.
    M,
    /// About 25 %: recommended for printed permits that get stamped and folded.
    #[default]
    Q,
    /// About 30 %.
    H,
}

impl Ecc {
    fn level(self) -> EcLevel {
        match self {
            Ecc::L => EcLevel::L,
            Ecc::M => EcLevel::M,
            Ecc::Q => EcLevel::Q,
            Ecc::H => EcLevel::H,
        }
    }

    /// Parses `L`, `M`, `Q` or `H`.
    pub fn parse(s: &str) -> Option<Ecc> {
        match s {
            "L" => Some(Ecc::L),
            "M" => Some(Ecc::M),
            "Q" => Some(Ecc::Q),
            "H" => Some(Ecc::H),
            _ => None,
        }
    }
}

/// Why a code could not be rendered or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The text does not fit any QR version at that level.
    #[error("text too long for a QR code at this error-correction level")]
    TooLong,
    /// The bytes are not a PNG or JPEG image this decoder reads.
    #[error("not a readable PNG or JPEG image")]
    BadImage,
    /// No QR code was found or it could not be decoded.
    #[error("no readable QR code in the image")]
    NoCode,
}

fn code(text: &str, ecc: Ecc) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), ecc.level()).map_err(|_| QrError::TooLong)
}

/// The smallest QR version (1–40) that holds `text` at `ecc`.
pub fn version(text: &str, ecc: Ecc) -> Result<u8, QrError> {
    match code(text, ecc)?.version() {
        qrcode::Version::Normal(v) => Ok(v as u8),
        qrcode::Version::Micro(v) => Ok(v as u8),
    }
}

/// Renders a PNG with `module_px` pixels per module and the standard 4-module quiet zone.
pub fn render_png(text: &str, ecc: Ecc, module_px: u32) -> Result<Vec<u8>, QrError> {
    let img = code(text, ecc)?
        .render::<image::Luma<u8>>()
        .module_dimensions(module_px.max(1), module_px.max(1))
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|_| QrError::BadImage)?;
    Ok(out.into_inner())
}

/// Renders an SVG document that scales to any print size.
pub fn render_svg(text: &str, ecc: Ecc) -> Result<String, QrError> {
    Ok(code(text, ecc)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build())
}

/// Reads the text of the first QR code found in a PNG or JPEG image.
pub fn decode_image(bytes: &[u8]) -> Result<String, QrError> {
    let img = image::load_from_memory(bytes).map_err(|_| QrError::BadImage)?;
    first_text(rqrr::PreparedImage::prepare(img.to_luma8()).detect_grids())
}

/// Reads the text of the first QR code found in a greyscale frame: `luma` holds
/// `width × height` bytes, row by row, 0 black to 255 white (a camera frame's Y plane, or a
/// canvas converted to grey).
pub fn decode_luma(width: u32, height: u32, luma: &[u8]) -> Result<String, QrError> {
    let (w, h) = (width as usize, height as usize);
    if w == 0 || h == 0 || w.checked_mul(h) != Some(luma.len()) {
        return Err(QrError::BadImage);
    }
    // The length check above keeps every index `y * w + x` inside `luma`.
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
        luma.get(y * w + x).copied().unwrap_or(255)
    });
    first_text(prepared.detect_grids())
}

fn first_text<G: rqrr::BitGrid>(grids: Vec<rqrr::Grid<G>>) -> Result<String, QrError> {
    for grid in grids {
        let mut raw = Vec::new();
        if grid.decode_to(&mut raw).is_ok() {
            return String::from_utf8(raw).map_err(|_| QrError::NoCode);
        }
    }
    Err(QrError::NoCode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip() {
        let text = "PS1:ABC DEF$%*+-./:0123456789";
        let png = render_png(text, Ecc::Q, 4).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(decode_image(&png).unwrap(), text);
        let svg = render_svg(text, Ecc::Q).unwrap();
        assert!(svg.contains("<svg"));
        assert_eq!(decode_image(b"not an image"), Err(QrError::BadImage));
    }

    #[test]
    fn luma_frame_round_trip() {
        let text = "PS1:ABC DEF$%*+-./:0123456789";
        let png = render_png(text, Ecc::Q, 4).unwrap();
        let grey = image::load_from_memory(&png).unwrap().to_luma8();
        // The code in the middle of a larger grey frame, as a camera sees it.
        let (w, h) = (grey.width() + 80, grey.height() + 60);
        let mut frame = vec![200u8; (w * h) as usize];
        for (x, y, p) in grey.enumerate_pixels() {
            frame[((y + 30) * w + x + 40) as usize] = p.0[0];
        }
        assert_eq!(decode_luma(w, h, &frame).unwrap(), text);
        assert_eq!(decode_luma(w, h, &frame[1..]), Err(QrError::BadImage));
        assert_eq!(decode_luma(0, 0, &[]), Err(QrError::BadImage));
        assert_eq!(decode_luma(4, 4, &[255; 16]), Err(QrError::NoCode));
    }
}
