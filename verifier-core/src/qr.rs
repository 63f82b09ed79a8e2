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

/// The modules of a code, for drawing it as vector squares (a printed document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    width: usize,
    dark: Vec<bool>,
}

impl Matrix {
    /// Modules per side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether the module at column `x`, row `y` is dark; modules outside are light.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.dark[y * self.width + x]
    }
}

/// The module matrix of `text` at `ecc`. The standard quiet zone (4 modules on each side) is
/// not part of it: whoever draws the code leaves that margin light.
pub fn matrix(text: &str, ecc: Ecc) -> Result<Matrix, QrError> {
    let code = code(text, ecc)?;
    Ok(Matrix {
        width: code.width(),
        dark: code
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect(),
    })
}

/// Reads the text of the first QR code found in a PNG or JPEG image.
pub fn decode_image(bytes: &[u8]) -> Result<String, QrError> {
    let img = image::load_from_memory(bytes).map_err(|_| QrError::BadImage)?;
    let mut prepared = rqrr::PreparedImage::prepare(img.to_luma8());
    for grid in prepared.detect_grids() {
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
    fn matrix_has_finder_patterns_and_no_quiet_zone() {
        let m = matrix("PS1:ABC", Ecc::Q).unwrap();
        assert_eq!(m.width(), 21, "version 1");
        // The top-left finder: a dark 7-module ring around a light ring and a dark 3x3 centre.
        assert!(m.is_dark(0, 0) && m.is_dark(6, 6) && m.is_dark(3, 3));
        assert!(!m.is_dark(1, 1) && !m.is_dark(7, 7));
        assert!(!m.is_dark(21, 0) && !m.is_dark(0, 21));
    }
}
