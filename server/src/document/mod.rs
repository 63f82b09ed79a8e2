//! The paper permit: one A4 PDF laid out like the CITES standard form (Res. Conf. 12.3
//! (Rev. CoP19) Annex 2), in English, French or Spanish, with the signed QR code drawn as vector
//! squares. [`render`] is a pure function from the permit record to PDF bytes: no I/O, no clock.
//!
//! The PDF is PDF/A-2b (checked by krilla's validator on every render): permits are archived
//! for five years after they expire. Text is real text in an embedded subset of DejaVu Sans
//! Condensed, so copy-paste, search and screen readers get the record's values. A value with a
//! character the font cannot draw is refused ([`DocumentError::Unprintable`]), never dropped.
//! The box-by-box mapping is in docs/DOCUMENT.md.

mod labels;
mod layout;
pub mod stored;

use std::sync::LazyLock;

use krilla::configure::{Archival, ConfigurationBuilder};
use krilla::metadata::{DateTime, Metadata};
use krilla::text::Font;
use krilla::{Document, SerializeSettings};
use verifier_core::codes::Country;
use verifier_core::i18n::Lang;
use verifier_core::permit::{Details, PermitData};
use verifier_core::qr::{self, Ecc};

use layout::{Face, Fonts};

/// The regular face: DejaVu Sans Condensed (Bitstream Vera licence, see
/// `assets/fonts/LICENSE-DejaVu.txt`). Condensed, so long names fit the form's boxes.
const REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed.ttf");
/// The bold face, for labels and headings.
const BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansCondensed-Bold.ttf");

/// Size of one QR module on paper. A mid-range phone previews at 1920 px across a field of
/// view about 56 cm wide at 40 cm (a 70° lens): 0.29 mm per pixel there. Decoders want two to
/// three pixels per module; 0.9 mm gives 3.1 at 40 cm, margin for focus blur at 25 cm, and 3.5
/// px per module even in a 100 dpi copy. 0.6 mm failed the degraded copy once blurred, and
/// 0.8 mm let zbar miss it on the whole page for some codes. The codes of 1 to 6 blocks
/// (versions 12 to 17) are then 65 to 84 mm wide with the quiet zone.
pub const MODULE_MM: f32 = 0.9;
/// Light modules around the code, as ISO/IEC 18004 requires.
pub const QUIET_ZONE_MODULES: usize = 4;
/// Error correction of the printed code: Q survives a stamp or a fold across it.
pub const PRINTED_ECC: Ecc = Ecc::Q;

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| {
    Some(Fonts {
        regular: Face::new(REGULAR, Font::new(REGULAR.into(), 0)?)?,
        bold: Face::new(BOLD, Font::new(BOLD.into(), 0)?)?,
    })
});

/// The Management Authority as printed in box 6.
#[derive(Debug, Clone)]
pub struct IssuingAuthority<'a> {
    /// Official name, as in the CITES Directory.
    pub name: &'a str,
    /// Its country.
    pub country: Country,
    /// Postal address, when the authority record has one.
    pub address: Option<&'a str>,
    /// Where its permits are issued (box 13), when the record has it.
    pub issue_place: Option<&'a str>,
}

/// Box 11a of one block: exported so far this calendar year including this permit, and the
/// annual quota, both in the block's unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaUse {
    /// Used to date, including this permit.
    pub used: String,
    /// The annual quota.
    pub total: String,
}

/// Everything a printed permit shows.
#[derive(Debug, Clone)]
pub struct PermitDocument<'a> {
    /// The signed data, as decoded from the QR text.
    pub permit: &'a PermitData,
    /// The details the QR binds by digest (the caller checks the binding).
    pub details: &'a Details,
    /// The signed QR text (`PS1:…`).
    pub qr_text: &'a str,
    /// Box 6 and the place of box 13.
    pub authority: IssuingAuthority<'a>,
    /// The import permit an Appendix-I export was issued against: (country, number).
    pub import_permit: Option<(&'a str, &'a str)>,
    /// Box 11a per block, in block order (`None`: no quota applies).
    pub quotas: &'a [Option<QuotaUse>],
    /// Revoked permits say so across every page.
    pub revoked: bool,
    /// The deployment's verify page, printed beside the code.
    pub verify_url: &'a str,
}

/// Why a document could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// A value holds a character the embedded font has no glyph for. Printing it otherwise
    /// would show a box or drop it, and the paper would not say what the record says.
    #[error("{field} holds {ch:?} (U+{code:04X}), which the document font cannot print", code = u32::from(*ch))]
    Unprintable {
        /// Which value, e.g. `exporter.name` or `lines[1].description`.
        field: String,
        /// The character.
        ch: char,
    },
    /// The QR text does not fit a QR code (it was signed, so this is a stored-data fault).
    #[error("QR code: {0}")]
    Qr(#[from] qr::QrError),
    /// The embedded fonts could not be read (a build fault).
    #[error("the embedded document fonts cannot be read")]
    Fonts,
    /// The PDF library refused the document (PDF/A validation included).
    #[error("PDF: {0}")]
    Pdf(String),
}

/// Renders the permit as an A4 PDF/A-2b document in `lang`.
pub fn render(doc: &PermitDocument<'_>, lang: Lang) -> Result<Vec<u8>, DocumentError> {
    let fonts = FONTS.as_ref().ok_or(DocumentError::Fonts)?;
    let content = layout::Content::new(doc, lang);
    content.check_printable(&fonts.regular)?;
    let matrix = qr::matrix(doc.qr_text, PRINTED_ECC)?;

    let configuration = ConfigurationBuilder::new()
        .with_archival_validator(Archival::A2_B)
        .finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))?;
    let settings = SerializeSettings {
        configuration,
        enable_tagging: false,
        ..SerializeSettings::default()
    };
    let mut pdf = Document::new_with(settings);
    pdf.set_metadata(metadata(doc, lang));
    layout::draw(&mut pdf, fonts, &content, &matrix)?;
    pdf.finish()
        .map_err(|e| DocumentError::Pdf(format!("{e:?}")))
}

fn metadata(doc: &PermitDocument<'_>, lang: Lang) -> Metadata {
    let (y, m, d) = verifier_core::date::Date::from_unix(doc.permit.issued_at).ymd();
    let secs = doc.permit.issued_at.rem_euclid(86_400);
    // The document date is the permit's issue time, so one permit always renders to the same
    // bytes in one language.
    let date = DateTime::new(u16::try_from(y).unwrap_or(1970))
        .month(m as u8)
        .day(d as u8)
        .hour((secs / 3600) as u8)
        .minute((secs % 3600 / 60) as u8)
        .second((secs % 60) as u8)
        .utc_offset_hour(0)
        .utc_offset_minute(0);
    let tag = lang_tag(lang);
    Metadata::new()
        .title(format!("CITES {}", doc.permit.number))
        .language(tag.to_owned())
        .creator("permitseal".to_owned())
        .producer("permitseal (krilla)".to_owned())
        .creation_date(date)
}

/// Parses a document language: exactly `en`, `fr` or `es`.
pub fn parse_lang(text: &str) -> Option<Lang> {
    match text {
        "en" => Some(Lang::En),
        "fr" => Some(Lang::Fr),
        "es" => Some(Lang::Es),
        _ => None,
    }
}

/// The stored and wire name of a language.
pub fn lang_tag(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "en",
        Lang::Fr => "fr",
        Lang::Es => "es",
    }
}
