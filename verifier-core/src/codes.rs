//! CITES code lists used on permits and in the signed payload: document types, purpose and
//! source codes, appendices, specimen terms, units and ISO 3166-1 countries.
//!
//! Every code type parses exactly what is printed on the document (no case folding, no trimming),
//! so that a payload has one spelling per value and a signature never covers two spellings of the
//! same permit. Serde goes through the same parser, so an unknown code in JSON fails with the
//! [`CodeError`] message. Lookups never allocate; only a failed parse builds an error string.
//!
//! Source of truth: the project's CITES domain reference, sections 2 and 4.1–4.6. Legacy,
//! US-only and Trade-Database pseudo codes are deliberately absent: they may appear in historic
//! trade data but must never be issued or accepted on a new permit.

use core::fmt;
use core::marker::PhantomData;
use core::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// Error for an unknown or malformed code. The caller prefixes the field path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {list} code {value:?}")]
pub struct CodeError {
    /// Human name of the code list, such as `"purpose"`, `"term"` or `"country"`.
    pub list: &'static str,
    /// The offending input, cut to at most 16 characters.
    pub value: String,
}

/// Inputs come from scanned, untrusted payloads: keep enough to recognise the value in a
/// message, but never echo an arbitrarily long string back to the user or a log.
const MAX_ERROR_VALUE_CHARS: usize = 16;

impl CodeError {
    pub(crate) fn new(list: &'static str, value: &str) -> Self {
        Self {
            list,
            value: value.chars().take(MAX_ERROR_VALUE_CHARS).collect(),
        }
    }
}

/// Display and serde for a code type, both through its exact code text.
macro_rules! impl_code_text {
    ($name:ident, $list:literal, $text:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.$text())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.$text())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(CodeVisitor::<Self>::new($list))
            }
        }
    };
}

/// A closed code list: the enum, `ALL`, `code`, `name_en`, exact `FromStr`, `Display`, serde.
///
/// Keeping the variant, its code and its name on one line is what makes the long tables
/// reviewable against the reference; `aliases` adds extra accepted spellings that are never
/// printed.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident in $list:literal {
            $( $variant:ident $(= $disc:expr)? => $code:literal, $en:literal; )+
        }
        $( aliases { $( $alias:literal => $avariant:ident; )+ } )?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(
                #[doc = concat!("`", $code, "`: ", $en, ".")]
                $variant $(= $disc)?,
            )+
        }

        impl $name {
            /// Every variant, in the order of the reference table.
            pub const ALL: &[Self] = &[$(Self::$variant),+];

            /// The code as printed on the document and carried in the payload.
            pub const fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }

            /// English name of the code.
            pub const fn name_en(self) -> &'static str {
                match self {
                    $(Self::$variant => $en,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = CodeError;

            fn from_str(s: &str) -> Result<Self, CodeError> {
                match s {
                    $($code => Ok(Self::$variant),)+
                    $($($alias => Ok(Self::$avariant),)+)?
                    _ => Err(CodeError::new($list, s)),
                }
            }
        }

        impl_code_text!($name, $list, code);

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::code_list($list, &[$($code,)+ $($($alias,)+)?])
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

code_enum! {
    /// Kind of CITES document (§2). The form only has boxes for export, re-export and import;
    /// every certificate is "other" with its name written out, so the payload names it exactly.
    #[repr(u8)]
    pub enum DocumentType in "document type" {
        Export = 1 => "export", "Export permit";
        ReExport = 2 => "re_export", "Re-export certificate";
        Import = 3 => "import", "Import permit";
        CertificateOfOrigin = 4 => "certificate_of_origin", "Certificate of origin";
        IntroductionFromTheSea = 5 => "introduction_from_the_sea",
            "Certificate of introduction from the sea";
        PreConvention = 6 => "pre_convention", "Pre-Convention certificate";
        CaptiveBreeding = 7 => "captive_breeding",
            "Certificate of captive breeding or artificial propagation";
        Ownership = 8 => "ownership", "Certificate of ownership";
        TravellingExhibition = 9 => "travelling_exhibition", "Travelling-exhibition certificate";
        MusicalInstrument = 10 => "musical_instrument", "Musical instrument certificate";
        SampleCollection = 11 => "sample_collection", "Sample collection certificate";
        ScientificExchange = 12 => "scientific_exchange", "Scientific exchange label";
    }
}

impl DocumentType {
    /// One-byte tag in the binary payload (1..=12; 0 is never a document type).
    pub const fn wire(self) -> u8 {
        self as u8
    }

    /// Inverse of [`DocumentType::wire`]; `None` for 0 and anything above 12.
    pub fn from_wire(b: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|d| d.wire() == b)
    }

    /// The type box ticked on the paper form: `E`, `R`, `I`, or `O` ("other") for every
    /// certificate.
    pub const fn form_box_code(self) -> char {
        match self {
            Self::Export => 'E',
            Self::ReExport => 'R',
            Self::Import => 'I',
            _ => 'O',
        }
    }

    /// Longest validity the issuer may grant, in months from the date of issue.
    ///
    /// Pre-Convention and captive-breeding certificates stand in for an export permit, so they
    /// get the export ceiling; the multi-crossing certificates get the 3 years of Res. Conf.
    /// 16.8 and 50 CFR 23.54.
    pub const fn max_validity_months(self) -> u32 {
        match self {
            Self::Export | Self::ReExport | Self::PreConvention | Self::CaptiveBreeding => 6,
            Self::Import
            | Self::CertificateOfOrigin
            | Self::IntroductionFromTheSea
            | Self::SampleCollection
            | Self::ScientificExchange => 12,
            Self::Ownership | Self::TravellingExhibition | Self::MusicalInstrument => 36,
        }
    }

    /// Whether one document covers several border crossings, with no fixed importer.
    pub const fn is_multi_use(self) -> bool {
        matches!(
            self,
            Self::Ownership
                | Self::TravellingExhibition
                | Self::MusicalInstrument
                | Self::SampleCollection
        )
    }

    /// Whether the issuing authority is the importing country's (true only for import
    /// permits); every other document comes from the exporting, re-exporting or owner's country.
    pub const fn issuer_is_importer(self) -> bool {
        matches!(self, Self::Import)
    }

    /// Document name in French, the Convention's second working language.
    pub const fn name_fr(self) -> &'static str {
        match self {
            Self::Export => "Permis d'exportation",
            Self::ReExport => "Certificat de réexportation",
            Self::Import => "Permis d'importation",
            Self::CertificateOfOrigin => "Certificat d'origine",
            Self::IntroductionFromTheSea => "Certificat d'introduction en provenance de la mer",
            Self::PreConvention => "Certificat pré-Convention",
            Self::CaptiveBreeding => {
                "Certificat d'élevage en captivité ou de reproduction artificielle"
            }
            Self::Ownership => "Certificat de propriété",
            Self::TravellingExhibition => "Certificat pour exposition itinérante",
            Self::MusicalInstrument => "Certificat pour instrument de musique",
            Self::SampleCollection => "Certificat pour collection d'échantillons",
            Self::ScientificExchange => "Étiquette pour échange scientifique",
        }
    }

    /// Document name in Spanish, the Convention's third working language.
    pub const fn name_es(self) -> &'static str {
        match self {
            Self::Export => "Permiso de exportación",
            Self::ReExport => "Certificado de reexportación",
            Self::Import => "Permiso de importación",
            Self::CertificateOfOrigin => "Certificado de origen",
            Self::IntroductionFromTheSea => "Certificado de introducción procedente del mar",
            Self::PreConvention => "Certificado preconvención",
            Self::CaptiveBreeding => {
                "Certificado de cría en cautividad o de reproducción artificial"
            }
            Self::Ownership => "Certificado de propiedad",
            Self::TravellingExhibition => "Certificado de exhibición itinerante",
            Self::MusicalInstrument => "Certificado de instrumento musical",
            Self::SampleCollection => "Certificado de colección de muestras",
            Self::ScientificExchange => "Etiqueta para intercambio científico",
        }
    }
}

code_enum! {
    /// Kingdom of the listed taxon; it decides which source codes are admissible.
    pub enum Kingdom in "kingdom" {
        Animal => "animal", "Animals";
        Plant => "plant", "Plants";
    }
}

code_enum! {
    /// CITES Appendix of the listing (§4.1). The Trade Database's `N` (not listed) is absent:
    /// a CITES permit is only issued for a listed species.
    #[repr(u8)]
    pub enum Appendix in "appendix" {
        I = 1 => "I", "Appendix I";
        II = 2 => "II", "Appendix II";
        III = 3 => "III", "Appendix III";
    }
}

impl Appendix {
    /// One-byte tag in the binary payload (1, 2, 3).
    pub const fn wire(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Appendix::wire`]; `None` for anything but 1, 2, 3.
    pub fn from_wire(b: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|a| a.wire() == b)
    }
}

code_enum! {
    /// Purpose of the transaction, box 5a (§4.2, the complete list).
    #[repr(u8)]
    pub enum Purpose in "purpose" {
        B = b'B' => "B", "Breeding in captivity or artificial propagation";
        E = b'E' => "E", "Educational";
        G = b'G' => "G", "Botanical garden";
        H = b'H' => "H", "Hunting trophy";
        L = b'L' => "L", "Law enforcement / judicial / forensic";
        M = b'M' => "M", "Medical (including biomedical research)";
        N = b'N' => "N", "Reintroduction or introduction into the wild";
        P = b'P' => "P", "Personal";
        Q = b'Q' => "Q", "Circus or travelling exhibition";
        S = b'S' => "S", "Scientific";
        T = b'T' => "T", "Commercial";
        Z = b'Z' => "Z", "Zoo";
    }
}

impl Purpose {
    /// The code letter as an ASCII byte, as carried in the binary payload.
    pub const fn letter(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Purpose::letter`]; exact, so lower case is `None`.
    pub fn from_letter(b: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.letter() == b)
    }
}

code_enum! {
    /// Source of the specimens, box 10 (§4.3, the complete list).
    #[repr(u8)]
    pub enum Source in "source" {
        W = b'W' => "W", "Taken from the wild";
        X = b'X' => "X",
            "Taken in the marine environment not under the jurisdiction of any State";
        R = b'R' => "R", "Ranched";
        D = b'D' => "D",
            "Appendix-I specimens bred or propagated commercially in a registered operation";
        A = b'A' => "A", "Artificially propagated plants";
        C = b'C' => "C", "Animals bred in captivity";
        F = b'F' => "F", "Animals born in captivity (F1 or later), not bred in captivity";
        Y = b'Y' => "Y", "Assisted production (plants)";
        I = b'I' => "I", "Confiscated or seized specimens";
        O = b'O' => "O", "Pre-Convention specimens";
        U = b'U' => "U", "Source unknown";
    }
}

impl Source {
    /// The code letter as an ASCII byte, as carried in the binary payload.
    pub const fn letter(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Source::letter`]; exact, so lower case is `None`.
    pub fn from_letter(b: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.letter() == b)
    }

    /// Whether the code may be used for a taxon of `kingdom`.
    ///
    /// `A` and `Y` describe plant propagation, `C`, `R` and `F` animal rearing; a permit that
    /// mixes them up is either a data-entry error or laundering, so the verifier rejects it.
    pub const fn allowed_for(self, kingdom: Kingdom) -> bool {
        match kingdom {
            Kingdom::Animal => !matches!(self, Self::A | Self::Y),
            Kingdom::Plant => !matches!(self, Self::C | Self::R | Self::F),
        }
    }
}

/// An officially assigned ISO 3166-1 alpha-2 country code (§4.6).
///
/// Only the 249 assigned codes construct: user-assigned `XK` and the Trade Database's pseudo
/// codes (`XX`, `XV`, `ZZ`, `KV`, …) and withdrawn codes (`ZR`, `YD`, …) are rejected, because
/// they are never valid on a newly issued permit.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Country([u8; 2]);

impl Country {
    /// Every assigned code, sorted.
    pub const ALL_CODES: &[&str] = &COUNTRY_CODES;

    /// The two upper-case letters.
    pub fn as_str(&self) -> &str {
        // Only table entries construct a Country, and those are ASCII, so this cannot fail.
        core::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// The two ASCII bytes, as carried in the binary payload.
    pub const fn bytes(self) -> [u8; 2] {
        self.0
    }

    /// Validated constructor from the payload bytes; `None` for an unassigned code.
    pub fn from_bytes(b: [u8; 2]) -> Option<Self> {
        country_entry(b).map(|_| Self(b))
    }

    /// English short name, e.g. "Kenya" or "Viet Nam".
    pub fn name_en(self) -> &'static str {
        country_entry(self.0).map_or("", |&(_, name)| name)
    }
}

// Manual so that logs and test failures show "KE" rather than [75, 69].
impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Country").field(&self.as_str()).finish()
    }
}

impl FromStr for Country {
    type Err = CodeError;

    fn from_str(s: &str) -> Result<Self, CodeError> {
        match *s.as_bytes() {
            [a, b] => Self::from_bytes([a, b]),
            _ => None,
        }
        .ok_or_else(|| CodeError::new("country", s))
    }
}

impl_code_text!(Country, "country", as_str);

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Country {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::openapi::code_list("ISO 3166-1 alpha-2 country", Country::ALL_CODES)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Country {}

// ---------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------

code_enum! {
    /// Description of the specimens, box 9 (§4.4 table).
    ///
    /// Excluded on purpose: `WOO` (marked legacy in the table; `WPR` is the current wood-products code), the sub-type codes the
    /// Trade Database folds into others (`BAK`, `BSK`, `HRN`, `SKD`, `TIS`) and the US-only LEMIS
    /// codes (`DEA`, `FPT`, `NES`, `PIV`, `ROC`, `RUG`, `TRI`, `WNG`).
    pub enum Term in "term" {
        Bal => "BAL", "baleen";
        Bar => "BAR", "bark";
        Bel => "BEL", "belts";
        Boc => "BOC", "bone carvings";
        Bod => "BOD", "bodies (whole dead animals)";
        Bon => "BON", "bones";
        Bop => "BOP", "bone pieces";
        Bpr => "BPR", "bone products";
        Bul => "BUL", "bulbs, corms, tubers";
        Cal => "CAL", "calipee (turtle cartilage)";
        Cap => "CAP", "carapaces";
        Car => "CAR", "carvings";
        Cav => "CAV", "caviar";
        Chp => "CHP", "(timber) chips";
        Cla => "CLA", "claws";
        Clo => "CLO", "cloth";
        Cor => "COR", "raw coral";
        Cpr => "CPR", "coral products";
        Cst => "CST", "chess sets";
        Cul => "CUL", "cultures (artificially propagated plants)";
        Cut => "CUT", "cuttings";
        Der => "DER", "derivatives";
        Dpl => "DPL", "dried plants";
        Ear => "EAR", "ears";
        Egg => "EGG", "eggs";
        Egl => "EGL", "eggs (live)";
        Ext => "EXT", "extract";
        Fea => "FEA", "feathers";
        Fib => "FIB", "fibres";
        Fig => "FIG", "fingerlings";
        Fin => "FIN", "fins";
        Flo => "FLO", "flowers";
        Foo => "FOO", "feet";
        Fra => "FRA", "(spectacle) frames";
        Frn => "FRN", "furniture";
        Fru => "FRU", "fruit";
        Gab => "GAB", "gall bladders";
        Gal => "GAL", "gall";
        Gar => "GAR", "garments";
        Gen => "GEN", "genitalia";
        Grs => "GRS", "graft rootstocks";
        Hai => "HAI", "hair";
        Han => "HAN", "handbags";
        Hap => "HAP", "hair products";
        Hea => "HEA", "heads";
        Hoc => "HOC", "horn carvings";
        Hop => "HOP", "horn pieces";
        Hor => "HOR", "horns";
        Hos => "HOS", "horn scraps";
        Ijw => "IJW", "ivory jewellery";
        Ivc => "IVC", "ivory carvings";
        Ivp => "IVP", "ivory pieces";
        Ivs => "IVS", "ivory scraps";
        Jwl => "JWL", "jewellery";
        Key => "KEY", "piano keys";
        Lea => "LEA", "leather";
        Leg => "LEG", "frog legs";
        Liv => "LIV", "live";
        Log => "LOG", "logs";
        Lpl => "LPL", "leather products (large)";
        Lps => "LPS", "leather products (small)";
        Lvs => "LVS", "leaves";
        Mea => "MEA", "meat";
        Med => "MED", "medicine";
        Mus => "MUS", "musk";
        Oil => "OIL", "oil";
        Pky => "PKY", "sets of piano keys";
        Pla => "PLA", "plates (of fur skins)";
        Ply => "PLY", "plywood";
        Pow => "POW", "powder";
        Qui => "QUI", "quills";
        Roo => "ROO", "roots";
        Saw => "SAW", "sawn wood";
        Sca => "SCA", "scales";
        Sdl => "SDL", "seedlings";
        See => "SEE", "seeds";
        She => "SHE", "shells";
        Sho => "SHO", "shoes";
        Sid => "SID", "sides (of skins)";
        Ske => "SKE", "skeletons";
        Ski => "SKI", "skins";
        Sko => "SKO", "leather items";
        Skp => "SKP", "skin pieces";
        Sks => "SKS", "skin scraps";
        Sku => "SKU", "skulls";
        Sou => "SOU", "soup";
        Spe => "SPE", "specimens (scientific)";
        Ste => "STE", "stems";
        Swi => "SWI", "swim bladders";
        Tai => "TAI", "tails";
        Tee => "TEE", "teeth";
        Tic => "TIC", "timber carvings";
        Tim => "TIM", "timber";
        Tip => "TIP", "timber pieces";
        Tro => "TRO", "trophies";
        Tus => "TUS", "tusks";
        Uns => "UNS", "unspecified";
        Ven => "VEN", "veneer";
        Vnm => "VNM", "venom";
        Wal => "WAL", "wallets";
        Wat => "WAT", "watchstraps";
        Wax => "WAX", "wax";
        Wpr => "WPR", "wood products";
    }
}

code_enum! {
    /// Unit of the quantity, box 11 (§4.5, codes marked standard or seen).
    ///
    /// [`Unit::Number`] prints as `NAR` and also parses from the empty string, the blank unit
    /// box. Non-metric units and UN/ECE Rec. 20 look-alikes (`KGM`, `MTK`, `CUM`, `CMQ`) are
    /// rejected: the Trade Database only normalises them for historic data.
    pub enum Unit in "unit" {
        Number => "NAR", "number of specimens";
        Kil => "KIL", "kg";
        Grm => "GRM", "g";
        Mgm => "MGM", "mg";
        Myg => "MYG", "microgrammes";
        Ton => "TON", "metric tonnes";
        Ltr => "LTR", "litres";
        Mlt => "MLT", "ml";
        Mtr => "MTR", "m";
        Ctm => "CTM", "cm";
        Sqm => "SQM", "m²";
        Sqd => "SQD", "dm²";
        Sqc => "SQC", "cm²";
        Mtq => "MTQ", "m³";
        Ccm => "CCM", "cm³";
        Bag => "BAG", "bags";
        Bot => "BOT", "bottles";
        Box => "BOX", "boxes";
        Can => "CAN", "cans";
        Cas => "CAS", "cases";
        Crt => "CRT", "cartons";
        Fla => "FLA", "flasks";
        Pai => "PAI", "pairs";
        Set => "SET", "sets";
        Shp => "SHP", "shipments";
        Sid => "SID", "sides";
        Ite => "ITE", "items";
        Pcs => "PCS", "pieces";
    }
    // The form leaves the unit box blank for a count of specimens.
    aliases {
        "" => Number;
    }
}

/// French and Spanish names for a code table, one line per variant. The match is exhaustive,
/// so a code added to a table without its translations does not compile.
macro_rules! code_names {
    ($name:ident { $( $variant:ident => $fr:literal, $es:literal; )+ }) => {
        impl $name {
            /// French name of the code (CITES annual-report guidelines terminology).
            pub const fn name_fr(self) -> &'static str {
                match self {
                    $(Self::$variant => $fr,)+
                }
            }

            /// Spanish name of the code (CITES annual-report guidelines terminology).
            pub const fn name_es(self) -> &'static str {
                match self {
                    $(Self::$variant => $es,)+
                }
            }
        }
    };
}

code_names!(Purpose {
    B => "Élevage en captivité ou reproduction artificielle",
        "Cría en cautividad o reproducción artificial";
    E => "Éducation", "Educativo";
    G => "Jardin botanique", "Jardín botánico";
    H => "Trophée de chasse", "Trofeo de caza";
    L => "Application de la loi / judiciaire / criminalistique",
        "Aplicación de la ley / judicial / forense";
    M => "Médical (y compris la recherche biomédicale)",
        "Médico (incluida la investigación biomédica)";
    N => "Réintroduction ou introduction dans la nature",
        "Reintroducción o introducción en el medio silvestre";
    P => "Personnel", "Personal";
    Q => "Cirque ou exposition itinérante", "Circo o exhibición itinerante";
    S => "Scientifique", "Científico";
    T => "Commercial", "Comercial";
    Z => "Parc zoologique", "Parque zoológico";
});

code_names!(Source {
    W => "Spécimens prélevés dans la nature", "Especímenes capturados en el medio silvestre";
    X => "Spécimens capturés dans le milieu marin qui n'est pas sous la juridiction d'un État",
        "Especímenes capturados en el medio marino fuera de la jurisdicción de cualquier Estado";
    R => "Spécimens d'élevage en ranch", "Especímenes criados en granjas";
    D => "Spécimens de l'Annexe I élevés en captivité ou reproduits artificiellement à des fins commerciales dans un établissement enregistré",
        "Especímenes del Apéndice I criados en cautividad o reproducidos artificialmente con fines comerciales en un establecimiento registrado";
    A => "Plantes reproduites artificiellement", "Plantas reproducidas artificialmente";
    C => "Animaux élevés en captivité", "Animales criados en cautividad";
    F => "Animaux nés en captivité (F1 ou générations suivantes), non élevés en captivité",
        "Animales nacidos en cautividad (F1 o generaciones posteriores), no criados en cautividad";
    Y => "Production assistée (plantes)", "Producción asistida (plantas)";
    I => "Spécimens confisqués ou saisis", "Especímenes decomisados o confiscados";
    O => "Spécimens pré-Convention", "Especímenes preconvención";
    U => "Source inconnue", "Origen desconocido";
});

code_names!(Term {
    Bal => "fanons", "barbas de ballena";
    Bar => "écorce", "corteza";
    Bel => "ceintures", "cinturones";
    Boc => "sculptures en os", "tallas de hueso";
    Bod => "corps (animaux morts entiers)", "cuerpos (animales muertos enteros)";
    Bon => "os", "huesos";
    Bop => "morceaux d'os", "trozos de hueso";
    Bpr => "produits en os", "productos de hueso";
    Bul => "bulbes, cormus, tubercules", "bulbos, cormos, tubérculos";
    Cal => "calipee (cartilage de tortue)", "calipee (cartílago de tortuga)";
    Cap => "carapaces", "caparazones";
    Car => "sculptures", "tallas";
    Cav => "caviar", "caviar";
    Chp => "copeaux (de bois)", "virutas (de madera)";
    Cla => "griffes", "garras";
    Clo => "tissu", "tejido";
    Cor => "corail brut", "coral en bruto";
    Cpr => "produits en corail", "productos de coral";
    Cst => "jeux d'échecs", "juegos de ajedrez";
    Cul => "cultures (plantes reproduites artificiellement)",
        "cultivos (plantas reproducidas artificialmente)";
    Cut => "boutures", "esquejes";
    Der => "produits dérivés", "derivados";
    Dpl => "plantes séchées", "plantas secas";
    Ear => "oreilles", "orejas";
    Egg => "œufs", "huevos";
    Egl => "œufs (vivants)", "huevos (vivos)";
    Ext => "extrait", "extracto";
    Fea => "plumes", "plumas";
    Fib => "fibres", "fibras";
    Fig => "alevins", "alevines";
    Fin => "ailerons", "aletas";
    Flo => "fleurs", "flores";
    Foo => "pattes", "patas";
    Fra => "montures (de lunettes)", "monturas (de gafas)";
    Frn => "meubles", "muebles";
    Fru => "fruits", "frutos";
    Gab => "vésicules biliaires", "vesículas biliares";
    Gal => "bile", "bilis";
    Gar => "vêtements", "prendas de vestir";
    Gen => "organes génitaux", "genitales";
    Grs => "porte-greffes", "portainjertos";
    Hai => "poils", "pelo";
    Han => "sacs à main", "bolsos";
    Hap => "produits en poils", "productos de pelo";
    Hea => "têtes", "cabezas";
    Hoc => "sculptures en corne", "tallas de cuerno";
    Hop => "morceaux de corne", "trozos de cuerno";
    Hor => "cornes", "cuernos";
    Hos => "déchets de corne", "desechos de cuerno";
    Ijw => "bijoux en ivoire", "joyas de marfil";
    Ivc => "sculptures en ivoire", "tallas de marfil";
    Ivp => "morceaux d'ivoire", "trozos de marfil";
    Ivs => "déchets d'ivoire", "desechos de marfil";
    Jwl => "bijoux", "joyas";
    Key => "touches de piano", "teclas de piano";
    Lea => "cuir", "cuero";
    Leg => "cuisses de grenouilles", "ancas de rana";
    Liv => "vivants", "vivos";
    Log => "grumes", "trozas";
    Lpl => "grands articles de maroquinerie", "artículos de cuero grandes";
    Lps => "petits articles de maroquinerie", "artículos de cuero pequeños";
    Lvs => "feuilles", "hojas";
    Mea => "viande", "carne";
    Med => "médicaments", "medicinas";
    Mus => "musc", "almizcle";
    Oil => "huile", "aceite";
    Pky => "jeux de touches de piano", "juegos de teclas de piano";
    Pla => "nappes (de peaux)", "planchas (de pieles)";
    Ply => "contreplaqué", "madera contrachapada";
    Pow => "poudre", "polvo";
    Qui => "piquants", "púas";
    Roo => "racines", "raíces";
    Saw => "bois sciés", "madera aserrada";
    Sca => "écailles", "escamas";
    Sdl => "plantules", "plántulas";
    See => "graines", "semillas";
    She => "coquillages", "conchas";
    Sho => "chaussures", "zapatos";
    Sid => "flancs (de peaux)", "flancos (de pieles)";
    Ske => "squelettes", "esqueletos";
    Ski => "peaux", "pieles";
    Sko => "articles en cuir", "artículos de cuero";
    Skp => "morceaux de peaux", "trozos de piel";
    Sks => "déchets de peaux", "desechos de piel";
    Sku => "crânes", "cráneos";
    Sou => "soupe", "sopa";
    Spe => "spécimens (scientifiques)", "especímenes (científicos)";
    Ste => "tiges", "tallos";
    Swi => "vessies natatoires", "vejigas natatorias";
    Tai => "queues", "colas";
    Tee => "dents", "dientes";
    Tic => "sculptures en bois", "tallas de madera";
    Tim => "bois", "madera";
    Tip => "morceaux de bois", "trozos de madera";
    Tro => "trophées", "trofeos";
    Tus => "défenses", "colmillos";
    Uns => "non spécifié", "no especificado";
    Ven => "placages", "chapas";
    Vnm => "venin", "veneno";
    Wal => "portefeuilles", "billeteras";
    Wat => "bracelets de montres", "correas de reloj";
    Wax => "cire", "cera";
    Wpr => "produits en bois", "productos de madera";
});

code_names!(Unit {
    Number => "nombre de spécimens", "número de especímenes";
    Kil => "kg", "kg";
    Grm => "g", "g";
    Mgm => "mg", "mg";
    Myg => "microgrammes", "microgramos";
    Ton => "tonnes métriques", "toneladas métricas";
    Ltr => "litres", "litros";
    Mlt => "ml", "ml";
    Mtr => "m", "m";
    Ctm => "cm", "cm";
    Sqm => "m²", "m²";
    Sqd => "dm²", "dm²";
    Sqc => "cm²", "cm²";
    Mtq => "m³", "m³";
    Ccm => "cm³", "cm³";
    Bag => "sacs", "bolsas";
    Bot => "bouteilles", "botellas";
    Box => "boîtes", "cajas";
    Can => "canettes", "latas";
    Cas => "caisses", "estuches";
    Crt => "cartons", "cartones";
    Fla => "flacons", "frascos";
    Pai => "paires", "pares";
    Set => "jeux", "juegos";
    Shp => "envois", "envíos";
    Sid => "flancs", "flancos";
    Ite => "articles", "artículos";
    Pcs => "pièces", "piezas";
});

/// ISO 3166-1 alpha-2 codes with their English short names, sorted by code for binary search.
/// Taken from the ISO 3166-1 list as shipped by Debian's iso-codes 4.15.
const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AF", "Afghanistan"),
    ("AG", "Antigua and Barbuda"),
    ("AI", "Anguilla"),
    ("AL", "Albania"),
    ("AM", "Armenia"),
    ("AO", "Angola"),
    ("AQ", "Antarctica"),
    ("AR", "Argentina"),
    ("AS", "American Samoa"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("AW", "Aruba"),
    ("AX", "Åland Islands"),
    ("AZ", "Azerbaijan"),
    ("BA", "Bosnia and Herzegovina"),
    ("BB", "Barbados"),
    ("BD", "Bangladesh"),
    ("BE", "Belgium"),
    ("BF", "Burkina Faso"),
    ("BG", "Bulgaria"),
    ("BH", "Bahrain"),
    ("BI", "Burundi"),
    ("BJ", "Benin"),
    ("BL", "Saint Barthélemy"),
    ("BM", "Bermuda"),
    ("BN", "Brunei Darussalam"),
    ("BO", "Bolivia, Plurinational State of"),
    ("BQ", "Bonaire, Sint Eustatius and Saba"),
    ("BR", "Brazil"),
    ("BS", "Bahamas"),
    ("BT", "Bhutan"),
    ("BV", "Bouvet Island"),
    ("BW", "Botswana"),
    ("BY", "Belarus"),
    ("BZ", "Belize"),
    ("CA", "Canada"),
    ("CC", "Cocos (Keeling) Islands"),
    ("CD", "Congo, The Democratic Republic of the"),
    ("CF", "Central African Republic"),
    ("CG", "Congo"),
    ("CH", "Switzerland"),
    ("CI", "Côte d'Ivoire"),
    ("CK", "Cook Islands"),
    ("CL", "Chile"),
    ("CM", "Cameroon"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CR", "Costa Rica"),
    ("CU", "Cuba"),
    ("CV", "Cabo Verde"),
    ("CW", "Curaçao"),
    ("CX", "Christmas Island"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DE", "Germany"),
    ("DJ", "Djibouti"),
    ("DK", "Denmark"),
    ("DM", "Dominica"),
    ("DO", "Dominican Republic"),
    ("DZ", "Algeria"),
    ("EC", "Ecuador"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("EH", "Western Sahara"),
    ("ER", "Eritrea"),
    ("ES", "Spain"),
    ("ET", "Ethiopia"),
    ("FI", "Finland"),
    ("FJ", "Fiji"),
    ("FK", "Falkland Islands (Malvinas)"),
    ("FM", "Micronesia, Federated States of"),
    ("FO", "Faroe Islands"),
    ("FR", "France"),
    ("GA", "Gabon"),
    ("GB", "United Kingdom"),
    ("GD", "Grenada"),
    ("GE", "Georgia"),
    ("GF", "French Guiana"),
    ("GG", "Guernsey"),
    ("GH", "Ghana"),
    ("GI", "Gibraltar"),
    ("GL", "Greenland"),
    ("GM", "Gambia"),
    ("GN", "Guinea"),
    ("GP", "Guadeloupe"),
    ("GQ", "Equatorial Guinea"),
    ("GR", "Greece"),
    ("GS", "South Georgia and the South Sandwich Islands"),
    ("GT", "Guatemala"),
    ("GU", "Guam"),
    ("GW", "Guinea-Bissau"),
    ("GY", "Guyana"),
    ("HK", "Hong Kong"),
    ("HM", "Heard Island and McDonald Islands"),
    ("HN", "Honduras"),
    ("HR", "Croatia"),
    ("HT", "Haiti"),
    ("HU", "Hungary"),
    ("ID", "Indonesia"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IM", "Isle of Man"),
    ("IN", "India"),
    ("IO", "British Indian Ocean Territory"),
    ("IQ", "Iraq"),
    ("IR", "Iran, Islamic Republic of"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JE", "Jersey"),
    ("JM", "Jamaica"),
    ("JO", "Jordan"),
    ("JP", "Japan"),
    ("KE", "Kenya"),
    ("KG", "Kyrgyzstan"),
    ("KH", "Cambodia"),
    ("KI", "Kiribati"),
    ("KM", "Comoros"),
    ("KN", "Saint Kitts and Nevis"),
    ("KP", "Korea, Democratic People's Republic of"),
    ("KR", "Korea, Republic of"),
    ("KW", "Kuwait"),
    ("KY", "Cayman Islands"),
    ("KZ", "Kazakhstan"),
    ("LA", "Lao People's Democratic Republic"),
    ("LB", "Lebanon"),
    ("LC", "Saint Lucia"),
    ("LI", "Liechtenstein"),
    ("LK", "Sri Lanka"),
    ("LR", "Liberia"),
    ("LS", "Lesotho"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("LY", "Libya"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MD", "Moldova, Republic of"),
    ("ME", "Montenegro"),
    ("MF", "Saint Martin (French part)"),
    ("MG", "Madagascar"),
    ("MH", "Marshall Islands"),
    ("MK", "North Macedonia"),
    ("ML", "Mali"),
    ("MM", "Myanmar"),
    ("MN", "Mongolia"),
    ("MO", "Macao"),
    ("MP", "Northern Mariana Islands"),
    ("MQ", "Martinique"),
    ("MR", "Mauritania"),
    ("MS", "Montserrat"),
    ("MT", "Malta"),
    ("MU", "Mauritius"),
    ("MV", "Maldives"),
    ("MW", "Malawi"),
    ("MX", "Mexico"),
    ("MY", "Malaysia"),
    ("MZ", "Mozambique"),
    ("NA", "Namibia"),
    ("NC", "New Caledonia"),
    ("NE", "Niger"),
    ("NF", "Norfolk Island"),
    ("NG", "Nigeria"),
    ("NI", "Nicaragua"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NP", "Nepal"),
    ("NR", "Nauru"),
    ("NU", "Niue"),
    ("NZ", "New Zealand"),
    ("OM", "Oman"),
    ("PA", "Panama"),
    ("PE", "Peru"),
    ("PF", "French Polynesia"),
    ("PG", "Papua New Guinea"),
    ("PH", "Philippines"),
    ("PK", "Pakistan"),
    ("PL", "Poland"),
    ("PM", "Saint Pierre and Miquelon"),
    ("PN", "Pitcairn"),
    ("PR", "Puerto Rico"),
    ("PS", "Palestine, State of"),
    ("PT", "Portugal"),
    ("PW", "Palau"),
    ("PY", "Paraguay"),
    ("QA", "Qatar"),
    ("RE", "Réunion"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("RU", "Russian Federation"),
    ("RW", "Rwanda"),
    ("SA", "Saudi Arabia"),
    ("SB", "Solomon Islands"),
    ("SC", "Seychelles"),
    ("SD", "Sudan"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SH", "Saint Helena, Ascension and Tristan da Cunha"),
    ("SI", "Slovenia"),
    ("SJ", "Svalbard and Jan Mayen"),
    ("SK", "Slovakia"),
    ("SL", "Sierra Leone"),
    ("SM", "San Marino"),
    ("SN", "Senegal"),
    ("SO", "Somalia"),
    ("SR", "Suriname"),
    ("SS", "South Sudan"),
    ("ST", "Sao Tome and Principe"),
    ("SV", "El Salvador"),
    ("SX", "Sint Maarten (Dutch part)"),
    ("SY", "Syrian Arab Republic"),
    ("SZ", "Eswatini"),
    ("TC", "Turks and Caicos Islands"),
    ("TD", "Chad"),
    ("TF", "French Southern Territories"),
    ("TG", "Togo"),
    ("TH", "Thailand"),
    ("TJ", "Tajikistan"),
    ("TK", "Tokelau"),
    ("TL", "Timor-Leste"),
    ("TM", "Turkmenistan"),
    ("TN", "Tunisia"),
    ("TO", "Tonga"),
    ("TR", "Türkiye"),
    ("TT", "Trinidad and Tobago"),
    ("TV", "Tuvalu"),
    ("TW", "Taiwan, Province of China"),
    ("TZ", "Tanzania, United Republic of"),
    ("UA", "Ukraine"),
    ("UG", "Uganda"),
    ("UM", "United States Minor Outlying Islands"),
    ("US", "United States"),
    ("UY", "Uruguay"),
    ("UZ", "Uzbekistan"),
    ("VA", "Holy See (Vatican City State)"),
    ("VC", "Saint Vincent and the Grenadines"),
    ("VE", "Venezuela, Bolivarian Republic of"),
    ("VG", "Virgin Islands, British"),
    ("VI", "Virgin Islands, U.S."),
    ("VN", "Viet Nam"),
    ("VU", "Vanuatu"),
    ("WF", "Wallis and Futuna"),
    ("WS", "Samoa"),
    ("YE", "Yemen"),
    ("YT", "Mayotte"),
    ("ZA", "South Africa"),
    ("ZM", "Zambia"),
    ("ZW", "Zimbabwe"),
];

const COUNTRY_CODES: [&str; COUNTRIES.len()] = {
    let mut out = [""; COUNTRIES.len()];
    let mut i = 0;
    while i < COUNTRIES.len() {
        out[i] = COUNTRIES[i].0;
        i += 1;
    }
    out
};

// Binary search is only correct on a strictly sorted table, and Country::as_str relies on
// every code being two ASCII capitals: check both when compiling rather than at run time.
const _: () = {
    let mut i = 0;
    while i < COUNTRIES.len() {
        let code = COUNTRIES[i].0.as_bytes();
        assert!(
            code.len() == 2 && code[0].is_ascii_uppercase() && code[1].is_ascii_uppercase(),
            "country code must be two ASCII capitals"
        );
        if i > 0 {
            let prev = COUNTRIES[i - 1].0.as_bytes();
            assert!(
                prev[0] < code[0] || (prev[0] == code[0] && prev[1] < code[1]),
                "country table must be strictly sorted"
            );
        }
        i += 1;
    }
};

fn country_entry(b: [u8; 2]) -> Option<&'static (&'static str, &'static str)> {
    COUNTRIES
        .binary_search_by(|(code, _)| code.as_bytes().cmp(&b[..]))
        .ok()
        .and_then(|i| COUNTRIES.get(i))
}

/// Deserializes any code type through its exact `FromStr`, borrowing the input when it can.
struct CodeVisitor<T> {
    list: &'static str,
    target: PhantomData<fn() -> T>,
}

impl<T> CodeVisitor<T> {
    const fn new(list: &'static str) -> Self {
        Self {
            list,
            target: PhantomData,
        }
    }
}

impl<T: FromStr<Err = CodeError>> Visitor<'_> for CodeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a CITES {} code", self.list)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        v.parse().map_err(E::custom)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use std::collections::HashSet;
    use std::fmt::{Debug, Display};

    /// Names that are the same word in English and the other language, or SI symbols; any
    /// other French or Spanish name equal to the English one is an untranslated entry.
    const SAME_AS_ENGLISH: &[&str] = &[
        "Commercial",
        "Personal",
        "caviar",
        "carapaces",
        "fibres",
        "cartons",
        "kg",
        "g",
        "mg",
        "ml",
        "m",
        "cm",
        "microgrammes",
        "litres",
        "litres",
        "m²",
        "dm²",
        "cm³",
        "m³",
        "cm²",
    ];

    fn check_names(list: &str, names: impl Iterator<Item = (&'static str, [&'static str; 3])>) {
        for (code, [en, fr, es]) in names {
            for (lang, n) in [("en", en), ("fr", fr), ("es", es)] {
                assert!(!n.trim().is_empty(), "{list} {code}: no {lang} name");
            }
            for (lang, n) in [("fr", fr), ("es", es)] {
                assert!(
                    n != en || SAME_AS_ENGLISH.contains(&n),
                    "{list} {code}: {lang} name is the English one ({n})"
                );
            }
        }
    }

    #[test]
    fn every_code_has_english_french_and_spanish_names() {
        check_names(
            "purpose",
            Purpose::ALL
                .iter()
                .map(|c| (c.code(), [c.name_en(), c.name_fr(), c.name_es()])),
        );
        check_names(
            "source",
            Source::ALL
                .iter()
                .map(|c| (c.code(), [c.name_en(), c.name_fr(), c.name_es()])),
        );
        check_names(
            "term",
            Term::ALL
                .iter()
                .map(|c| (c.code(), [c.name_en(), c.name_fr(), c.name_es()])),
        );
        check_names(
            "unit",
            Unit::ALL
                .iter()
                .map(|c| (c.code(), [c.name_en(), c.name_fr(), c.name_es()])),
        );
        // Spot checks against the guidelines' wording.
        assert_eq!(Source::W.name_fr(), "Spécimens prélevés dans la nature");
        assert_eq!(Purpose::Z.name_es(), "Parque zoológico");
        assert_eq!(Term::Liv.name_fr(), "vivants");
    }

    /// Round trips and rejections shared by every code enum.
    fn check_list<T>(all: &[T], code: fn(T) -> &'static str, list: &str)
    where
        T: Copy + Eq + Debug + Display + FromStr<Err = CodeError> + Serialize + DeserializeOwned,
    {
        assert!(!all.is_empty());
        let variants: HashSet<String> = all.iter().map(|v| format!("{v:?}")).collect();
        assert_eq!(variants.len(), all.len(), "{list}: duplicate variant");
        let codes: HashSet<&str> = all.iter().map(|&v| code(v)).collect();
        assert_eq!(codes.len(), all.len(), "{list}: duplicate code");

        for &v in all {
            let c = code(v);
            assert_eq!(c.parse::<T>(), Ok(v), "{list} {c}");
            assert_eq!(v.to_string(), c);
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), v);

            let mut wrong_case = vec![c.to_ascii_lowercase(), c.to_ascii_uppercase()];
            wrong_case.retain(|w| w != c);
            let padded = [format!(" {c}"), format!("{c} "), format!("\t{c}\n")];
            for bad in wrong_case.iter().chain(padded.iter()) {
                let err = bad.parse::<T>().unwrap_err();
                assert_eq!(err.list, list, "{bad:?}");
                assert_eq!(err.value, bad.chars().take(16).collect::<String>());
            }
        }

        for bad in ["QQQQ", "?", "0", "ZZ9"] {
            assert_eq!(
                bad.parse::<T>(),
                Err(CodeError {
                    list: list_static(list),
                    value: bad.to_owned()
                })
            );
        }
        let err = serde_json::from_str::<T>("\"QQQQ\"")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("unknown {list} code \"QQQQ\"")),
            "{err}"
        );
        assert!(serde_json::from_str::<T>("7").is_err());
    }

    /// `CodeError::list` is `&'static str`; map the test's name onto the module's literal.
    fn list_static(list: &str) -> &'static str {
        [
            "document type",
            "kingdom",
            "appendix",
            "purpose",
            "source",
            "term",
            "unit",
            "country",
        ]
        .into_iter()
        .find(|l| *l == list)
        .unwrap()
    }

    fn rejects_empty<T: FromStr<Err = CodeError> + Debug>(list: &str) {
        let err = "".parse::<T>().unwrap_err();
        assert_eq!(err.list, list);
        assert_eq!(err.value, "");
    }

    #[test]
    fn every_list_round_trips_and_rejects_garbage() {
        check_list(DocumentType::ALL, DocumentType::code, "document type");
        check_list(Kingdom::ALL, Kingdom::code, "kingdom");
        check_list(Appendix::ALL, Appendix::code, "appendix");
        check_list(Purpose::ALL, Purpose::code, "purpose");
        check_list(Source::ALL, Source::code, "source");
        check_list(Term::ALL, Term::code, "term");
        check_list(Unit::ALL, Unit::code, "unit");

        rejects_empty::<DocumentType>("document type");
        rejects_empty::<Kingdom>("kingdom");
        rejects_empty::<Appendix>("appendix");
        rejects_empty::<Purpose>("purpose");
        rejects_empty::<Source>("source");
        rejects_empty::<Term>("term");
        rejects_empty::<Country>("country");
    }

    #[test]
    fn list_sizes_match_the_reference() {
        assert_eq!(DocumentType::ALL.len(), 12);
        assert_eq!(Purpose::ALL.len(), 12);
        assert_eq!(Source::ALL.len(), 11);
        assert_eq!(Appendix::ALL.len(), 3);
        assert_eq!(Term::ALL.len(), 103);
        assert_eq!(Unit::ALL.len(), 28);
        assert_eq!(Country::ALL_CODES.len(), 249);
    }

    #[test]
    fn every_variant_has_names() {
        for d in DocumentType::ALL {
            assert!(!d.name_en().is_empty() && !d.name_fr().is_empty());
            assert!(!d.name_es().is_empty());
        }
        assert!(Term::ALL.iter().all(|t| !t.name_en().is_empty()));
        assert!(Unit::ALL.iter().all(|u| !u.name_en().is_empty()));
        assert!(Purpose::ALL.iter().all(|p| !p.name_en().is_empty()));
        assert!(Source::ALL.iter().all(|s| !s.name_en().is_empty()));
        assert_eq!(DocumentType::Export.name_en(), "Export permit");
        assert_eq!(DocumentType::Export.name_fr(), "Permis d'exportation");
        assert_eq!(DocumentType::Export.name_es(), "Permiso de exportación");
        assert_eq!(Purpose::T.name_en(), "Commercial");
        assert_eq!(Term::Liv.name_en(), "live");
        assert_eq!(Unit::Mtq.name_en(), "m³");
    }

    #[test]
    fn error_value_is_truncated_to_16_chars() {
        let err = "ABCDEFGHIJKLMNOPQRSTUVWXYZ".parse::<Term>().unwrap_err();
        assert_eq!(err.value, "ABCDEFGHIJKLMNOP");
        // Characters, not bytes: never split a UTF-8 sequence.
        let err = "ééééééééééééééééééé".parse::<Country>().unwrap_err();
        assert_eq!(err.value.chars().count(), 16);
        assert_eq!(
            err.to_string(),
            format!("unknown country code {:?}", err.value)
        );
        assert_eq!(
            "xyz".parse::<Purpose>().unwrap_err().to_string(),
            "unknown purpose code \"xyz\""
        );
    }

    #[test]
    fn document_type_wire_round_trips() {
        for (i, &d) in DocumentType::ALL.iter().enumerate() {
            assert_eq!(usize::from(d.wire()), i + 1);
            assert_eq!(DocumentType::from_wire(d.wire()), Some(d));
        }
        for b in std::iter::once(0).chain(13..=u8::MAX) {
            assert_eq!(DocumentType::from_wire(b), None);
        }
    }

    #[test]
    fn appendix_wire_round_trips() {
        assert_eq!(Appendix::I.wire(), 1);
        assert_eq!(Appendix::II.wire(), 2);
        assert_eq!(Appendix::III.wire(), 3);
        for &a in Appendix::ALL {
            assert_eq!(Appendix::from_wire(a.wire()), Some(a));
        }
        for b in std::iter::once(0).chain(4..=u8::MAX) {
            assert_eq!(Appendix::from_wire(b), None);
        }
        // The Trade Database's "not listed" never appears on a permit.
        assert!("N".parse::<Appendix>().is_err());
        assert!("IV".parse::<Appendix>().is_err());
    }

    #[test]
    fn document_type_rules() {
        use DocumentType::*;
        assert_eq!(Export.code(), "export");
        assert_eq!(
            "re_export".parse::<DocumentType>(),
            Ok(ReExport),
            "snake_case codes"
        );
        assert!("EXPORT".parse::<DocumentType>().is_err());
        assert!("re-export".parse::<DocumentType>().is_err());

        for d in DocumentType::ALL {
            let expected = match d {
                Export => 'E',
                ReExport => 'R',
                Import => 'I',
                _ => 'O',
            };
            assert_eq!(d.form_box_code(), expected);
            assert_eq!(d.issuer_is_importer(), *d == Import);
        }

        let months: Vec<u32> = DocumentType::ALL
            .iter()
            .map(|d| d.max_validity_months())
            .collect();
        assert_eq!(months, [6, 6, 12, 12, 12, 6, 6, 36, 36, 36, 12, 12]);

        let multi: Vec<DocumentType> = DocumentType::ALL
            .iter()
            .copied()
            .filter(|d| d.is_multi_use())
            .collect();
        assert_eq!(
            multi,
            [
                Ownership,
                TravellingExhibition,
                MusicalInstrument,
                SampleCollection
            ]
        );
    }

    #[test]
    fn letters_round_trip() {
        for &p in Purpose::ALL {
            assert_eq!(p.letter(), p.code().as_bytes()[0]);
            assert_eq!(Purpose::from_letter(p.letter()), Some(p));
            assert_eq!(Purpose::from_letter(p.letter().to_ascii_lowercase()), None);
        }
        for &s in Source::ALL {
            assert_eq!(s.letter(), s.code().as_bytes()[0]);
            assert_eq!(Source::from_letter(s.letter()), Some(s));
            assert_eq!(Source::from_letter(s.letter().to_ascii_lowercase()), None);
        }
        let purposes: String = Purpose::ALL
            .iter()
            .map(|p| char::from(p.letter()))
            .collect();
        assert_eq!(purposes, "BEGHLMNPQSTZ");
        let sources: String = Source::ALL.iter().map(|s| char::from(s.letter())).collect();
        assert_eq!(sources, "WXRDACFYIOU");
        for b in [b'A', b'C', b'D', b'F', b'O', b'W', 0, b' '] {
            assert_eq!(Purpose::from_letter(b), None);
        }
        for b in [b'B', b'E', b'N', b'T', b'Z', 0] {
            assert_eq!(Source::from_letter(b), None);
        }
    }

    #[test]
    fn kingdom_rules_for_sources() {
        for &s in Source::ALL {
            let animal = !matches!(s, Source::A | Source::Y);
            let plant = !matches!(s, Source::C | Source::R | Source::F);
            assert_eq!(s.allowed_for(Kingdom::Animal), animal, "{s}");
            assert_eq!(s.allowed_for(Kingdom::Plant), plant, "{s}");
        }
        assert!(Source::W.allowed_for(Kingdom::Animal) && Source::W.allowed_for(Kingdom::Plant));
        assert!(Source::D.allowed_for(Kingdom::Animal) && Source::D.allowed_for(Kingdom::Plant));
        assert!("Animal".parse::<Kingdom>().is_err());
        assert_eq!("plant".parse::<Kingdom>(), Ok(Kingdom::Plant));
    }

    #[test]
    fn terms_are_three_capitals_in_order_and_exclude_legacy_codes() {
        for t in Term::ALL {
            let c = t.code();
            assert!(
                c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()),
                "{c}"
            );
            // Variant names follow the code in CamelCase.
            let camel = format!("{}{}", &c[..1], c[1..].to_ascii_lowercase());
            assert_eq!(format!("{t:?}"), camel);
        }
        let codes: Vec<&str> = Term::ALL.iter().map(|t| t.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
        assert_eq!(codes.first(), Some(&"BAL"));
        assert_eq!(codes.last(), Some(&"WPR"));
        for legacy in [
            "BAK", "BSK", "HRN", "SKD", "TIS", "DEA", "FPT", "NES", "PIV", "ROC", "RUG", "TRI",
            "WNG", "WOO",
        ] {
            assert_eq!(legacy.parse::<Term>().unwrap_err().list, "term", "{legacy}");
        }
        assert_eq!("LPS".parse::<Term>(), Ok(Term::Lps));
        assert_eq!("SKI".parse::<Term>(), Ok(Term::Ski));
        assert_eq!("CUL".parse::<Term>(), Ok(Term::Cul));
    }

    #[test]
    fn unit_number_and_rejected_units() {
        assert_eq!(Unit::Number.code(), "NAR");
        assert_eq!("NAR".parse::<Unit>(), Ok(Unit::Number));
        assert_eq!("".parse::<Unit>(), Ok(Unit::Number));
        assert_eq!(serde_json::from_str::<Unit>("\"\"").unwrap(), Unit::Number);
        assert_eq!(serde_json::to_string(&Unit::Number).unwrap(), "\"NAR\"");
        assert_eq!(Unit::Number.to_string(), "NAR");
        for bad in [
            "FEE", "INC", "YAR", "SQF", "CUF", "OUN", "PND", "KGM", "MTK", "CUM", "CMQ", " ", "kil",
        ] {
            assert_eq!(bad.parse::<Unit>().unwrap_err().list, "unit", "{bad:?}");
        }
    }

    #[test]
    fn country_table_is_sorted_unique_and_complete() {
        let codes = Country::ALL_CODES;
        assert_eq!(codes.len(), 249);
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        let unique: HashSet<&&str> = codes.iter().collect();
        assert_eq!(unique.len(), 249);
        assert_eq!(codes.first(), Some(&"AD"));
        assert_eq!(codes.last(), Some(&"ZW"));
        for &c in codes {
            let country: Country = c.parse().unwrap();
            assert_eq!(country.as_str(), c);
            assert_eq!(country.to_string(), c);
            assert_eq!(Country::from_bytes(country.bytes()), Some(country));
            assert!(!country.name_en().is_empty(), "{c}");
            let json = serde_json::to_string(&country).unwrap();
            assert_eq!(json, format!("\"{c}\""));
            assert_eq!(serde_json::from_str::<Country>(&json).unwrap(), country);
        }
    }

    #[test]
    fn country_lookups() {
        for c in ["KE", "FR", "ZA", "VN", "CN", "US", "BR", "ID", "SS"] {
            assert!(c.parse::<Country>().is_ok(), "{c}");
        }
        let ke: Country = "KE".parse().unwrap();
        assert_eq!(ke.name_en(), "Kenya");
        assert_eq!(ke.bytes(), *b"KE");
        assert_eq!(format!("{ke:?}"), "Country(\"KE\")");
        assert_eq!(Country::from_bytes(*b"FR").unwrap().name_en(), "France");
        assert_eq!(Country::from_bytes(*b"VN").unwrap().name_en(), "Viet Nam");

        for bad in [
            "XK", "ZZ", "XX", "XV", "KV", "ZR", "YD", "NT", "ke", "Ke", "K", "KEN", " KE", "KE ",
            "",
        ] {
            let err = bad.parse::<Country>().unwrap_err();
            assert_eq!(err.list, "country", "{bad:?}");
            assert_eq!(err.value, bad);
        }
        assert_eq!(Country::from_bytes(*b"XK"), None);
        assert_eq!(Country::from_bytes([0, 0]), None);
        assert_eq!(Country::from_bytes([0xC3, 0xA9]), None);
        let err = serde_json::from_str::<Country>("\"XK\"")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown country code \"XK\""), "{err}");
    }

    #[test]
    fn display_honours_padding() {
        assert_eq!(format!("{:<5}|", Term::Liv), "LIV  |");
        assert_eq!(
            format!("{:>4}", Country::from_bytes(*b"KE").unwrap()),
            "  KE"
        );
    }
}
