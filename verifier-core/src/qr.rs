//! QR images: render payload text to PNG or SVG and read it back from an image file or a
//! grayscale camera frame.
//!
//! Decoding grayscale frames ([`decode_luma`]) needs only the `qr-decode` feature (no image
//! codecs: the browser verify page's WebAssembly build); rendering and reading PNG/JPEG files
//! need `image`. Mobile builds leave both off: phones scan with the platform scanner and pass
//! the decoded text to the core.

#[cfg(feature = "image")]
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

#[cfg(feature = "image")]
impl Ecc {
    fn level(self) -> EcLevel {
        match self {
            Ecc::L => EcLevel::L,
            Ecc::M => EcLevel::M,
            Ecc::Q => EcLevel::Q,
            Ecc::H => EcLevel::H,
        }
    }

    /// Most characters of QR text (`PS1:` and Base45, all in the QR alphanumeric mode) one
    /// code of version 40 holds at this level.
    pub fn max_text_len(self) -> usize {
        match self {
            Ecc::L => 4296,
            Ecc::M => 3391,
            Ecc::Q => 2420,
            Ecc::H => 1852,
        }
    }

    /// The level's letter.
    pub fn letter(self) -> char {
        match self {
            Ecc::L => 'L',
            Ecc::M => 'M',
            Ecc::Q => 'Q',
            Ecc::H => 'H',
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

#[cfg(feature = "image")]
fn code(text: &str, ecc: Ecc) -> Result<QrCode, QrError> {
    QrCode::with_error_correction_level(text.as_bytes(), ecc.level()).map_err(|_| QrError::TooLong)
}

#[cfg(feature = "image")]
/// The smallest QR version (1–40) that holds `text` at `ecc`.
pub fn version(text: &str, ecc: Ecc) -> Result<u8, QrError> {
    match code(text, ecc)?.version() {
        qrcode::Version::Normal(v) => Ok(v as u8),
        qrcode::Version::Micro(v) => Ok(v as u8),
    }
}

#[cfg(feature = "image")]
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

#[cfg(feature = "image")]
/// Renders an SVG document that scales to any print size.
pub fn render_svg(text: &str, ecc: Ecc) -> Result<String, QrError> {
    Ok(code(text, ecc)?
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build())
}

/// The modules of a code, for drawing it as vector squares (a printed document).
#[cfg(feature = "image")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matrix {
    width: usize,
    dark: Vec<bool>,
}

#[cfg(feature = "image")]
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
///
/// The same modules as [`QrCode`] makes (a test holds them equal), with the mask chosen by
/// [`mask_penalty`], which scores the same four rules on plain booleans: the library's own
/// scoring was most of the time of printing a permit.
#[cfg(feature = "image")]
pub fn matrix(text: &str, ecc: Ecc) -> Result<Matrix, QrError> {
    use qrcode::canvas::{Canvas, MaskPattern};
    let level = ecc.level();
    let bits = qrcode::bits::encode_auto(text.as_bytes(), level).map_err(|_| QrError::TooLong)?;
    let version = bits.version();
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, level)
        .map_err(|_| QrError::TooLong)?;
    let width = usize::try_from(version.width()).map_err(|_| QrError::TooLong)?;
    let mut canvas = Canvas::new(version, level);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    let mut best: Option<(u32, Vec<bool>)> = None;
    for mask in [
        MaskPattern::Checkerboard,
        MaskPattern::HorizontalLines,
        MaskPattern::VerticalLines,
        MaskPattern::DiagonalLines,
        MaskPattern::LargeCheckerboard,
        MaskPattern::Fields,
        MaskPattern::Diamonds,
        MaskPattern::Meadow,
    ] {
        let mut masked = canvas.clone();
        masked.apply_mask(mask);
        let dark: Vec<bool> = masked
            .into_colors()
            .into_iter()
            .map(|c| c == qrcode::Color::Dark)
            .collect();
        let score = mask_penalty(width, &dark);
        // The first mask of the lowest score wins, as in the library.
        if best.as_ref().is_none_or(|(b, _)| score < *b) {
            best = Some((score, dark));
        }
    }
    let (_, dark) = best.ok_or(QrError::TooLong)?;
    Ok(Matrix { width, dark })
}

/// The mask penalty of ISO/IEC 18004 §7.8.3 as the `qrcode` library computes it: runs of five
/// or more like modules in a row or column (length − 2 each), 2×2 blocks of one colour (3
/// each), the finder-like 1:1:3:1:1 pattern without four light modules on one side (40
/// each), and the distance of the dark share from one half.
#[cfg(feature = "image")]
fn mask_penalty(n: usize, dark: &[bool]) -> u32 {
    const FINDER: [bool; 7] = [true, false, true, true, true, false, true];
    let transposed: Vec<bool> = (0..n * n).map(|i| dark[(i % n) * n + i / n]).collect();
    let mut score = 0u32;
    for line in dark.chunks_exact(n).chain(transposed.chunks_exact(n)) {
        for run in line.chunk_by(|a, b| a == b) {
            if run.len() >= 5 {
                score += run.len() as u32 - 2;
            }
        }
        for (j, window) in line.windows(7).enumerate() {
            if window == FINDER {
                let before = line[j.saturating_sub(4)..j].contains(&true);
                let after = line[j + 7..(j + 11).min(n)].contains(&true);
                if !before || !after {
                    score += 40;
                }
            }
        }
    }
    for (top, bottom) in dark.chunks_exact(n).zip(dark.chunks_exact(n).skip(1)) {
        for x in 0..n - 1 {
            let c = top[x];
            if top[x + 1] == c && bottom[x] == c && bottom[x + 1] == c {
                score += 3;
            }
        }
    }
    let ratio = dark.iter().filter(|&&d| d).count() * 200 / dark.len();
    score + ratio.abs_diff(100) as u32
}

/// Upscale factors tried, in turn, when the image as given does not read.
const UPSCALES: [f32; 4] = [2.0, 1.5, 3.0, 2.5];

/// Largest image read: 40 megapixels (a phone photo is 12–50; downscale bigger ones first).
pub const MAX_PIXELS: u64 = 40_000_000;

/// Reads the text of the first QR code found in a PNG or JPEG image (see [`decode_luma`]).
#[cfg(feature = "image")]
pub fn decode_image(bytes: &[u8]) -> Result<String, QrError> {
    let img = image::load_from_memory(bytes).map_err(|_| QrError::BadImage)?;
    if u64::from(img.width()) * u64::from(img.height()) > MAX_PIXELS {
        return Err(QrError::BadImage);
    }
    let img = img.to_luma8();
    decode_luma(img.width(), img.height(), img.as_raw())
}

/// Reads the text of the first QR code in a grayscale image: `luma` is `width × height`
/// bytes, row by row, 0 black and 255 white (a camera frame's Y plane).
///
/// Tries the image as given, then with its own adaptive threshold, then 3×3 median
/// filtered (speckle), at twice the size (codes photographed small) and at half the size
/// (large, noisy photos), each with both thresholds; stops at the first code that decodes.
/// A code decodes only when its Reed–Solomon check passes, so what it returns is the code's
/// content or nothing. Measured on `test-vectors/qr-images` (docs/PERFORMANCE.md).
pub fn decode_luma(width: u32, height: u32, luma: &[u8]) -> Result<String, QrError> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 || pixels > MAX_PIXELS || luma.len() as u64 != pixels {
        return Err(QrError::BadImage);
    }
    let img = Luma {
        w: width as usize,
        h: height as usize,
        px: luma.to_vec(),
    };
    if let Some(text) = attempt(&img) {
        return Ok(text);
    }
    let median = img.median3();
    if let Some(text) = attempt(&median) {
        return Ok(text);
    }
    for f in UPSCALES {
        if (img.w.max(img.h) as f32) * f <= 3200.0
            && let Some(text) = attempt(&img.scale(f))
        {
            return Ok(text);
        }
    }
    if img.w.min(img.h) >= 160 {
        for base in [&img, &median] {
            if let Some(text) = attempt(&base.half()) {
                return Ok(text);
            }
        }
    }
    Err(QrError::NoCode)
}

/// A grayscale image being prepared for the detector.
struct Luma {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Luma {
    fn at(&self, x: usize, y: usize) -> u8 {
        self.px[y * self.w + x]
    }

    /// Each pixel the median of its 3×3 neighbourhood (edges clamp): removes speckle and
    /// keeps edges, which a blur would soften.
    fn median3(&self) -> Luma {
        let mut px = Vec::with_capacity(self.px.len());
        for y in 0..self.h {
            for x in 0..self.w {
                let mut v = [0u8; 9];
                let mut n = 0;
                for dy in [-1isize, 0, 1] {
                    for dx in [-1isize, 0, 1] {
                        let xx = x.saturating_add_signed(dx).min(self.w - 1);
                        let yy = y.saturating_add_signed(dy).min(self.h - 1);
                        v[n] = self.at(xx, yy);
                        n += 1;
                    }
                }
                v.sort_unstable();
                px.push(v[4]);
            }
        }
        Luma {
            w: self.w,
            h: self.h,
            px,
        }
    }

    /// Scaled by `f`, bilinear: upscaling gives the detector's grid sampling more than a
    /// pixel or two a module, and lands fractional module sizes nearer whole ones.
    fn scale(&self, f: f32) -> Luma {
        let (w, h) = (
            ((self.w as f32) * f) as usize,
            ((self.h as f32) * f) as usize,
        );
        let mut px = Vec::with_capacity(w * h);
        for y in 0..h {
            let sy = (y as f32 + 0.5) / f - 0.5;
            let y0 = (sy.max(0.0) as usize).min(self.h - 1);
            let y1 = (y0 + 1).min(self.h - 1);
            let fy = (sy - y0 as f32).clamp(0.0, 1.0);
            for x in 0..w {
                let sx = (x as f32 + 0.5) / f - 0.5;
                let x0 = (sx.max(0.0) as usize).min(self.w - 1);
                let x1 = (x0 + 1).min(self.w - 1);
                let fx = (sx - x0 as f32).clamp(0.0, 1.0);
                let p = |x, y| f32::from(self.at(x, y));
                let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
                let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
                px.push((top * (1.0 - fy) + bottom * fy).round() as u8);
            }
        }
        Luma { w, h, px }
    }

    /// Half the size, each pixel the mean of a 2×2 block.
    fn half(&self) -> Luma {
        let (w, h) = (self.w / 2, self.h / 2);
        let mut px = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let sum: u16 = [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .map(|(dx, dy)| u16::from(self.at(2 * x + dx, 2 * y + dy)))
                    .sum();
                px.push((sum / 4) as u8);
            }
        }
        Luma { w, h, px }
    }

    /// Dark where a pixel is clearly below the mean of the square around it (a window an
    /// eighth of the image wide): survives uneven light, blur and grey stains better than
    /// the detector's own running threshold.
    fn threshold(&self) -> Vec<bool> {
        let (w, h) = (self.w, self.h);
        let mut integral = vec![0u64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0u64;
            for x in 0..w {
                row += u64::from(self.at(x, y));
                integral[(y + 1) * (w + 1) + x + 1] = integral[y * (w + 1) + x + 1] + row;
            }
        }
        let r = (w.min(h) / 16).max(4);
        let mut dark = Vec::with_capacity(w * h);
        for y in 0..h {
            let (y0, y1) = (y.saturating_sub(r), (y + r + 1).min(h));
            for x in 0..w {
                let (x0, x1) = (x.saturating_sub(r), (x + r + 1).min(w));
                let sum = integral[y1 * (w + 1) + x1] + integral[y0 * (w + 1) + x0]
                    - integral[y0 * (w + 1) + x1]
                    - integral[y1 * (w + 1) + x0];
                let n = ((x1 - x0) * (y1 - y0)) as u64;
                // v < 0.85 · mean, in integers.
                dark.push(u64::from(self.at(x, y)) * n * 100 < sum * 85);
            }
        }
        dark
    }
}

/// The first grid of a prepared image that decodes to UTF-8 text.
macro_rules! first_code {
    ($prepared:expr) => {
        $prepared.detect_grids().into_iter().find_map(|grid| {
            let mut raw = Vec::new();
            grid.decode_to(&mut raw).ok()?;
            String::from_utf8(raw).ok()
        })
    };
}

/// The detector's own threshold, then the adaptive one.
fn attempt(img: &Luma) -> Option<String> {
    let mut own = rqrr::PreparedImage::prepare_from_greyscale(img.w, img.h, |x, y| img.at(x, y));
    if let Some(text) = first_code!(own) {
        return Some(text);
    }
    let dark = img.threshold();
    let mut adaptive =
        rqrr::PreparedImage::prepare_from_bitmap(img.w, img.h, |x, y| dark[y * img.w + x]);
    first_code!(adaptive)
}

#[cfg(all(test, feature = "image"))]
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
    fn luma_frames_are_checked_before_reading() {
        assert_eq!(decode_luma(0, 0, &[]), Err(QrError::BadImage));
        assert_eq!(decode_luma(3, 3, &[255; 8]), Err(QrError::BadImage));
        assert_eq!(decode_luma(100_000, 100_000, &[]), Err(QrError::BadImage));
        assert_eq!(decode_luma(64, 64, &[255; 64 * 64]), Err(QrError::NoCode));
        let png = render_png("PS1:FRAME", Ecc::Q, 3).unwrap();
        let img = image::load_from_memory(&png).unwrap().to_luma8();
        assert_eq!(
            decode_luma(img.width(), img.height(), img.as_raw()).unwrap(),
            "PS1:FRAME"
        );
    }

    #[test]
    fn matrix_is_the_librarys_code() {
        let texts = [
            "PS1:ABC".to_owned(),
            "PS1:ABC DEF$%*+-./:0123456789".repeat(3),
            "PS1:".to_owned() + &"6BFOXN*PQ$8".repeat(45),
            "lower case, byte mode: ñ ç ő".to_owned(),
        ];
        for text in &texts {
            for ecc in [Ecc::L, Ecc::M, Ecc::Q, Ecc::H] {
                let ours = matrix(text, ecc).unwrap();
                let theirs = code(text, ecc).unwrap();
                assert_eq!(ours.width(), theirs.width(), "{text} {ecc:?}");
                let colors = theirs.to_colors();
                for y in 0..ours.width() {
                    for x in 0..ours.width() {
                        let dark = colors[y * ours.width() + x] == qrcode::Color::Dark;
                        assert_eq!(ours.is_dark(x, y), dark, "{text} {ecc:?} ({x}, {y})");
                    }
                }
            }
        }
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

    #[test]
    fn the_stated_capacity_is_the_largest_text_that_fits() {
        for ecc in [Ecc::L, Ecc::M, Ecc::Q, Ecc::H] {
            let n = ecc.max_text_len();
            let fits = format!("PS1:{}", "A".repeat(n - 4));
            assert_eq!(version(&fits, ecc), Ok(40), "{ecc:?}");
            let over = format!("PS1:{}", "A".repeat(n - 3));
            assert_eq!(version(&over, ecc), Err(QrError::TooLong), "{ecc:?}");
        }
    }
}
