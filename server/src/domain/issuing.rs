//! What issuing a permit must satisfy beyond the core's own checks of the draft: the taxon's
//! listing in the reference table, the import permit an Appendix-I export refers to, and the
//! annual quota. Storage runs these inside the issuing transaction, with the facts it read.

use verifier_core::date::Date;
use verifier_core::permit::{MAX_SCALE, Quantity};

use super::PermitState;

/// Quantity in millionths of its unit (the format allows at most six decimals); `None` when
/// that does not fit 64 bits. A quantity within `MAX_ISSUED_QUANTITY` always fits (10¹⁸).
pub fn micro(q: Quantity) -> Option<i64> {
    let factor = 10u64.checked_pow(u32::from(MAX_SCALE.checked_sub(q.scale())?))?;
    i64::try_from(q.mantissa().checked_mul(factor)?).ok()
}

/// Formats millionths as a decimal.
pub fn format_micro(v: i64) -> String {
    let whole = v / 1_000_000;
    let frac = (v % 1_000_000).abs();
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:06}")
            .trim_end_matches('0')
            .to_owned()
    }
}

/// A taxon's listing in the reference table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Listing {
    /// `plant` or `animal`.
    pub kingdom: String,
    /// Appendices, `/`-separated (e.g. `I/II` for split listings).
    pub appendices: String,
}

/// The contradiction between a permit line and the taxon's listing, described as the table
/// lists it (`animal, Appendix I`); `None` when the line fits.
pub fn listing_contradiction(listing: &Listing, kingdom: &str, appendix: &str) -> Option<String> {
    let fits = listing.kingdom == kingdom && listing.appendices.split('/').any(|a| a == appendix);
    (!fits).then(|| format!("{}, Appendix {}", listing.kingdom, listing.appendices))
}

/// An import permit as found on this deployment.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportPermitFound {
    /// Its state.
    pub state: PermitState,
    /// Last day of validity (YYYY-MM-DD).
    pub valid_until: String,
    /// Document type code.
    pub document_type: String,
}

/// True when an export can rely on the import permit it names, when that import permit's
/// country issues on this deployment (`found` is what was found under its number): an import
/// permit, valid, not past its last day. Import permits of other countries cannot be checked
/// here and are taken as declared. Which of these fails is not told: the document is another
/// Party's.
pub fn import_permit_usable(found: Option<&ImportPermitFound>, now: i64) -> bool {
    found.is_some_and(|p| {
        p.document_type == "import"
            && p.state == PermitState::Valid
            && p.valid_until >= Date::from_unix(now).to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_units() {
        let q: Quantity = "12.5".parse().unwrap();
        assert_eq!(micro(q), Some(12_500_000));
        let most: Quantity = verifier_core::permit::MAX_ISSUED_QUANTITY
            .to_string()
            .parse()
            .unwrap();
        assert_eq!(micro(most), Some(1_000_000_000_000_000_000));
        let huge = Quantity::new(verifier_core::permit::MAX_MANTISSA, 0).unwrap();
        assert_eq!(micro(huge), None, "2^60 units are 2^60 * 10^6 millionths");
        assert_eq!(format_micro(12_500_000), "12.5");
        assert_eq!(format_micro(3_000_000), "3");
        assert_eq!(format_micro(1), "0.000001");
    }

    #[test]
    fn listings() {
        let parrot = Listing {
            kingdom: "animal".into(),
            appendices: "I".into(),
        };
        assert_eq!(listing_contradiction(&parrot, "animal", "I"), None);
        assert_eq!(
            listing_contradiction(&parrot, "animal", "II").as_deref(),
            Some("animal, Appendix I")
        );
        assert!(listing_contradiction(&parrot, "plant", "I").is_some());
        let split = Listing {
            kingdom: "plant".into(),
            appendices: "I/II".into(),
        };
        assert_eq!(listing_contradiction(&split, "plant", "II"), None);
    }

    #[test]
    fn import_permits() {
        let now = Date::from_ymd(2026, 6, 1).unwrap().start_unix();
        let good = ImportPermitFound {
            state: PermitState::Valid,
            valid_until: "2026-06-01".into(),
            document_type: "import".into(),
        };
        assert!(import_permit_usable(Some(&good), now), "last day counts");
        assert!(!import_permit_usable(None, now));
        let export = ImportPermitFound {
            document_type: "export".into(),
            ..good.clone()
        };
        assert!(!import_permit_usable(Some(&export), now));
        let used = ImportPermitFound {
            state: PermitState::Used,
            ..good.clone()
        };
        assert!(!import_permit_usable(Some(&used), now));
        let old = ImportPermitFound {
            valid_until: "2026-05-31".into(),
            ..good
        };
        assert!(!import_permit_usable(Some(&old), now));
    }
}
