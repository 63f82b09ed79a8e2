//! CITES units of quantity and their UN/ECE Recommendation 20 codes: the one table.
//!
//! The exchange format's `unitCode` attributes are Rec. 20 codes, the permit's units are the
//! CITES annual-report codes (docs/FEDERATION.md has the table with the reasons). A CITES unit
//! without a Rec. 20 code (shipments, sides) cannot be written: [`rec20`] answers `None` and the
//! writer refuses, never a default.

use verifier_core::codes::Unit;

/// Each CITES unit with its Rec. 20 code, or `None` where Rec. 20 has no unit for it.
/// Every code appears once, so the table reads both ways.
pub const UNITS: &[(Unit, Option<&str>)] = &[
    // A count of specimens: "one" (C62), the unit of a pure number.
    (Unit::Number, Some("C62")),
    (Unit::Kil, Some("KGM")),
    (Unit::Grm, Some("GRM")),
    (Unit::Mgm, Some("MGM")),
    (Unit::Myg, Some("MC")),
    (Unit::Ton, Some("TNE")),
    (Unit::Ltr, Some("LTR")),
    (Unit::Mlt, Some("MLT")),
    (Unit::Mtr, Some("MTR")),
    (Unit::Ctm, Some("CMT")),
    (Unit::Sqm, Some("MTK")),
    (Unit::Sqd, Some("DMK")),
    (Unit::Sqc, Some("CMK")),
    (Unit::Mtq, Some("MTQ")),
    (Unit::Ccm, Some("CMQ")),
    // Packages: the Rec. 21 package codes as Rec. 20 carries them, with the prefix X.
    (Unit::Bag, Some("XBG")),
    (Unit::Bot, Some("XBO")),
    (Unit::Box, Some("XBX")),
    (Unit::Can, Some("XCA")),
    (Unit::Cas, Some("XCS")),
    (Unit::Crt, Some("XCT")),
    (Unit::Fla, Some("XFL")),
    (Unit::Pai, Some("PR")),
    (Unit::Set, Some("SET")),
    (Unit::Shp, None),
    (Unit::Sid, None),
    (Unit::Ite, Some("EA")),
    (Unit::Pcs, Some("H87")),
];

/// The Rec. 20 code of a CITES unit; `None`: the unit has none and is not written.
pub fn rec20(unit: Unit) -> Option<&'static str> {
    UNITS.iter().find(|(u, _)| *u == unit).and_then(|(_, c)| *c)
}

/// The CITES unit of a Rec. 20 code; `None` for a code the table does not hold.
pub fn from_rec20(code: &str) -> Option<Unit> {
    UNITS
        .iter()
        .find(|(_, c)| *c == Some(code))
        .map(|(u, _)| *u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_is_in_the_table_once_and_every_code_reads_back() {
        for unit in Unit::ALL {
            let rows = UNITS.iter().filter(|(u, _)| u == unit).count();
            assert_eq!(rows, 1, "{unit}");
            if let Some(code) = rec20(*unit) {
                assert_eq!(from_rec20(code), Some(*unit), "{code}");
            }
        }
        assert_eq!(rec20(Unit::Kil), Some("KGM"));
        assert_eq!(rec20(Unit::Shp), None);
        assert_eq!(from_rec20("KIL"), None, "CITES codes are not Rec. 20 codes");
        assert_eq!(from_rec20("PCS"), None);
    }
}
