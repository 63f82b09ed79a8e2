//! Text that deceives (docs/FORMAT.md §11): what an issuer must not write in the fields an
//! officer compares with a shipment, and how a reader flags it.
//!
//! The reader's checks are cheap on purpose (a few range tables, no Unicode databases), so
//! the phone library stays small. Issuing services apply them too, and with the
//! `text-compare` feature also the stricter checks and the comparison key of §11.3, which need
//! the Unicode normalisation and confusable tables.

use std::fmt;

/// What kind of text a field holds, which decides the rules of §11.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A document number: permit number, security stamp, the numbers of box 12, 12a and 12b.
    Number,
    /// The name of a trade party.
    Name,
    /// A scientific name (box 7): no Greek, Cyrillic or Armenian letter (readers), Latin
    /// letters only (issuers).
    ScientificName,
    /// Other text an officer reads (addresses, common names): hidden characters and mixed
    /// scripts.
    Other,
    /// Free text (descriptions, justifications, special conditions): hidden characters only,
    /// since a description may quote a name in two scripts.
    FreeText,
}

/// Why a text breaks the rule of §11.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TextProblem {
    /// A character that is not shown, or that reorders or hides the text around it
    /// (format characters, default-ignorable code points, private use, line separators).
    #[error("has the hidden character {}", Code(*.0))]
    Hidden(char),
    /// A number with a character outside `0-9 A-Z a-z`, space, `-`, `.`, `/`.
    #[error("has {} outside the number characters (0-9 A-Z a-z space - . /)", Code(*.0))]
    NumberCharacter(char),
    /// Letters of two of the scripts Latin, Greek, Cyrillic and Armenian: look-alikes.
    #[error("mixes letters of the {0} and {1} scripts")]
    MixedScripts(Script, Script),
    /// A scientific name with a letter that is not Latin (readers flag the Greek, Cyrillic and
    /// Armenian ones; issuers refuse every other).
    #[error("has the letter {} that is not Latin", Code(*.0))]
    NotLatin(char),
    /// Letters the issuing service refuses (§11.4): outside the identifier profile of
    /// Unicode TR 39, a mix of scripts beyond "moderately restrictive", or text that NFKC
    /// changes.
    #[error("has letters of a form or mix of scripts that can be mistaken for others")]
    Confusable,
}

/// A character written as `U+XXXX`.
struct Code(char);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "U+{:04X}", u32::from(self.0))
    }
}

/// The scripts whose letters are confused with one another (§11.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Script {
    /// Latin.
    Latin,
    /// Greek.
    Greek,
    /// Cyrillic.
    Cyrillic,
    /// Armenian.
    Armenian,
}

impl fmt::Display for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Script::Latin => "Latin",
            Script::Greek => "Greek",
            Script::Cyrillic => "Cyrillic",
            Script::Armenian => "Armenian",
        })
    }
}

/// Hidden characters (§11.1): Unicode's format characters (Cf), default-ignorable code points,
/// private use, and the line and paragraph separators. Sorted, inclusive ranges.
const HIDDEN: &[(u32, u32)] = &[
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xE000, 0xF8FF),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
    (0xF0000, 0x10FFFF),
];

/// Letters of the scripts of [`Script`] (§11.2). Sorted, inclusive ranges; characters in no
/// range belong to none of them and are not counted.
const SCRIPTS: &[(u32, u32, Script)] = &[
    (0x0041, 0x005A, Script::Latin),
    (0x0061, 0x007A, Script::Latin),
    (0x00AA, 0x00AA, Script::Latin),
    (0x00BA, 0x00BA, Script::Latin),
    (0x00C0, 0x00D6, Script::Latin),
    (0x00D8, 0x00F6, Script::Latin),
    (0x00F8, 0x02AF, Script::Latin),
    (0x0370, 0x0373, Script::Greek),
    (0x0376, 0x0377, Script::Greek),
    (0x037B, 0x037D, Script::Greek),
    (0x037F, 0x037F, Script::Greek),
    (0x0386, 0x0386, Script::Greek),
    (0x0388, 0x03E1, Script::Greek),
    (0x03F0, 0x03FF, Script::Greek),
    (0x0400, 0x052F, Script::Cyrillic),
    (0x0531, 0x0556, Script::Armenian),
    (0x0560, 0x0588, Script::Armenian),
    (0x1C80, 0x1C8F, Script::Cyrillic),
    (0x1E00, 0x1EFF, Script::Latin),
    (0x1F00, 0x1FFF, Script::Greek),
    (0x2126, 0x2126, Script::Greek),
    (0x212A, 0x212B, Script::Latin),
    (0x2C60, 0x2C7F, Script::Latin),
    (0x2DE0, 0x2DFF, Script::Cyrillic),
    (0xA640, 0xA69F, Script::Cyrillic),
    (0xA720, 0xA7FF, Script::Latin),
    (0xAB30, 0xAB64, Script::Latin),
    (0xAB65, 0xAB65, Script::Greek),
    (0xFB00, 0xFB06, Script::Latin),
    (0xFB13, 0xFB17, Script::Armenian),
    (0xFF21, 0xFF3A, Script::Latin),
    (0xFF41, 0xFF5A, Script::Latin),
];

/// The index of the range of `table` (sorted, inclusive, disjoint) that holds `c`.
fn find<T>(table: &[T], bounds: impl Fn(&T) -> (u32, u32), c: char) -> Option<usize> {
    let c = u32::from(c);
    table
        .binary_search_by(|r| {
            let (lo, hi) = bounds(r);
            if hi < c {
                std::cmp::Ordering::Less
            } else if lo > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .ok()
}

/// True for a hidden character (§11.1).
pub fn is_hidden(c: char) -> bool {
    find(HIDDEN, |&(lo, hi)| (lo, hi), c).is_some()
}

/// The script of a letter, when it is one of [`Script`].
pub fn script_of(c: char) -> Option<Script> {
    find(SCRIPTS, |&(lo, hi, _)| (lo, hi), c).map(|i| SCRIPTS[i].2)
}

/// True for a character a number may hold (§11.2).
pub fn is_number_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | '/')
}

/// The first way `s` breaks the reader's rules of §11 for a field of `kind`; `None` when
/// it keeps them. This is what a verifier flags (`DECEPTIVE_TEXT`) and what an issuer
/// refuses at the least.
pub fn check(kind: FieldKind, s: &str) -> Option<TextProblem> {
    if let Some(c) = s.chars().find(|&c| is_hidden(c)) {
        return Some(TextProblem::Hidden(c));
    }
    match kind {
        FieldKind::Number => {
            if let Some(c) = s.chars().find(|&c| !is_number_char(c)) {
                return Some(TextProblem::NumberCharacter(c));
            }
        }
        FieldKind::ScientificName => {
            if let Some(c) = s
                .chars()
                .find(|&c| script_of(c).is_some_and(|s| s != Script::Latin))
            {
                return Some(TextProblem::NotLatin(c));
            }
        }
        FieldKind::FreeText => return None,
        FieldKind::Name | FieldKind::Other => {}
    }
    let mut first = None;
    for script in s.chars().filter_map(script_of) {
        match first {
            None => first = Some(script),
            Some(f) if f != script => return Some(TextProblem::MixedScripts(f, script)),
            Some(_) => {}
        }
    }
    None
}

/// The stricter rules an issuing service applies beyond [`check`] (§11.4): every letter in
/// the identifier profile of Unicode TR 39 with at most a "moderately restrictive" mix of
/// scripts (Latin with one other recommended script that is not Greek or Cyrillic, or the
/// Chinese, Japanese and Korean combinations), and text that NFKC leaves unchanged.
#[cfg(feature = "text-compare")]
pub fn check_issuing(kind: FieldKind, s: &str) -> Option<TextProblem> {
    use unicode_normalization::UnicodeNormalization as _;
    use unicode_security::RestrictionLevelDetection as _;
    use unicode_security::{GeneralSecurityProfile as _, RestrictionLevel};

    if let Some(p) = check(kind, s) {
        return Some(p);
    }
    if kind == FieldKind::FreeText {
        return None;
    }
    if kind == FieldKind::ScientificName
        && let Some(c) = s
            .chars()
            .find(|&c| c.is_alphabetic() && script_of(c) != Some(Script::Latin))
    {
        return Some(TextProblem::NotLatin(c));
    }
    if !s.nfkc().eq(s.chars()) {
        return Some(TextProblem::Confusable);
    }
    let letters: String = s.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.chars().any(|c| !c.identifier_allowed())
        || !letters
            .as_str()
            .check_restriction_level(RestrictionLevel::ModeratelyRestrictive)
    {
        return Some(TextProblem::Confusable);
    }
    None
}

/// The form in which names are compared (§11.3): hidden characters removed, NFKC, lower
/// case, runs of white space as one space, then the confusable skeleton of Unicode TR 39, so
/// that `Acinonyx jubatus`, `ACINONYX JUBATUS`, the same with a zero-width space and the same
/// with a Cyrillic `а` have one key.
#[cfg(feature = "text-compare")]
pub fn comparison_key(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;

    let visible: String = s.chars().filter(|&c| !is_hidden(c)).collect();
    let folded: String = visible.nfkc().flat_map(char::to_lowercase).collect();
    let spaced = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    let skeleton: String = unicode_security::skeleton(&spaced).collect();
    skeleton.nfkc().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_disjoint() {
        for w in HIDDEN.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:x?}");
        }
        for w in SCRIPTS.windows(2) {
            assert!(
                w[0].0 <= w[0].1 && w[0].1 < w[1].0,
                "{:x?}",
                (w[0].0, w[1].0)
            );
        }
    }

    #[test]
    fn hidden_characters_are_flagged_everywhere() {
        for c in [
            '\u{200B}',
            '\u{202E}',
            '\u{FEFF}',
            '\u{2066}',
            '\u{00AD}',
            '\u{E0041}',
        ] {
            let s = format!("Acinonyx{c} jubatus");
            assert_eq!(
                check(FieldKind::Other, &s),
                Some(TextProblem::Hidden(c)),
                "{c:?}"
            );
        }
        assert_eq!(check(FieldKind::Name, "Société Générale du Bénin"), None);
        assert_eq!(check(FieldKind::Name, "株式会社 Tokyo Zoo"), None);
    }

    #[test]
    fn numbers_keep_to_their_characters() {
        assert_eq!(check(FieldKind::Number, "ZA/GP/2026/004512"), None);
        assert_eq!(check(FieldKind::Number, "ZW-2025-01188"), None);
        assert_eq!(
            check(FieldKind::Number, "ZA/GP/2026/00451２"),
            Some(TextProblem::NumberCharacter('２'))
        );
        assert_eq!(
            check(FieldKind::Number, "ZA#1"),
            Some(TextProblem::NumberCharacter('#'))
        );
    }

    #[test]
    fn look_alike_letters_of_another_script_are_flagged() {
        // Cyrillic а (U+0430) in a Latin name.
        assert_eq!(
            check(FieldKind::Name, "Nile Crocodile F\u{0430}rming"),
            Some(TextProblem::MixedScripts(Script::Latin, Script::Cyrillic))
        );
        assert_eq!(
            check(FieldKind::ScientificName, "Acinonyx jub\u{0430}tus"),
            Some(TextProblem::NotLatin('\u{0430}'))
        );
        // A wholly Cyrillic look-alike is one script, but not a scientific name.
        assert_eq!(check(FieldKind::Name, "Ассоциация"), None);
        assert!(check(FieldKind::ScientificName, "Асinоnух").is_some());
        assert_eq!(check(FieldKind::ScientificName, "Aloe ×delaetii"), None);
        assert_eq!(check(FieldKind::Name, "Ωmega Ltd").map(|_| ()), Some(()));
    }

    #[cfg(feature = "text-compare")]
    #[test]
    fn one_key_for_every_disguise_of_a_name() {
        let key = comparison_key("Acinonyx jubatus");
        for s in [
            "acinonyx jubatus",
            "ACINONYX JUBATUS",
            "Acinonyx\u{200B} jubatus",
            "Acinonyx  jubatus",
            "Acinonyx jub\u{0430}tus",
            "Ａcinonyx jubatus",
            "\u{FEFF}Acinonyx jubatus",
        ] {
            assert_eq!(comparison_key(s), key, "{s:?}");
        }
        assert_ne!(comparison_key("Acinonyx rex"), key);
    }

    #[cfg(feature = "text-compare")]
    #[test]
    fn the_issuing_service_refuses_more() {
        assert_eq!(
            check_issuing(FieldKind::Name, "Ｔokyo Zoo"),
            Some(TextProblem::Confusable)
        );
        assert_eq!(check_issuing(FieldKind::Name, "株式会社 Tokyo Zoo"), None);
        assert_eq!(
            check_issuing(FieldKind::Name, "Tanneries du Puy Industrie SAS"),
            None
        );
        assert_eq!(check_issuing(FieldKind::Name, "Société Générale"), None);
        assert_eq!(
            check_issuing(FieldKind::ScientificName, "Crocodylus ᏂᎥloticus"),
            Some(TextProblem::NotLatin('Ꮒ'))
        );
        // Latin with one other script is a name; two scripts besides Latin are not.
        assert_eq!(check_issuing(FieldKind::Name, "Shalom שלום"), None);
        assert_eq!(
            check_issuing(FieldKind::Name, "שלום سلام"),
            Some(TextProblem::Confusable)
        );
        // Decomposed accents: NFKC would change the text.
        assert_eq!(
            check_issuing(FieldKind::Name, "Socie\u{301}te\u{301}"),
            Some(TextProblem::Confusable)
        );
    }
}
