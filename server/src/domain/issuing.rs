//! What issuing a permit must satisfy beyond the core's own checks of the draft: the taxon's
//! listing in the reference table, the import permit an Appendix-I export refers to, and the
//! annual quota. Storage runs these inside the issuing transaction, with the facts it read.

use verifier_core::date::Date;
use verifier_core::permit::{MAX_SCALE, Quantity};

use super::PermitState;

/// Quantity in millionths of its unit (the format allows at most six decimals).
pub fn micro(q: Quantity) -> i64 {
    let factor = 10u64.pow(u32::from(MAX_SCALE - q.scale().min(6)));
    i64::try_from(q.mantissa().saturating_mul(factor)).unwrap_or(i64::MAX)
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

/// Why an export cannot rely on the import permit it names, when that import permit's country
/// issues on this deployment (`found` is what was found under its number); `None` when it
/// can. Import permits of other countries cannot be checked here and are taken as declared.
pub fn import_permit_problem(found: Option<&ImportPermitFound>, now: i64) -> Option<&'static str> {
    match found {
        None => Some("not issued on this deployment"),
        Some(p) if p.document_type != "import" => Some("not an import permit"),
        Some(p) if p.state != PermitState::Valid => Some("not valid"),
        Some(p) if p.valid_until < Date::from_unix(now).to_string() => Some("expired"),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micro_units() {
        let q: Quantity = "12.5".parse().unwrap();
        assert_eq!(micro(q), 12_500_000);
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
        assert_eq!(
            import_permit_problem(Some(&good), now),
            None,
            "last day counts"
        );
        assert_eq!(
            import_permit_problem(None, now),
            Some("not issued on this deployment")
        );
        let export = ImportPermitFound {
            document_type: "export".into(),
            ..good.clone()
        };
        assert_eq!(
            import_permit_problem(Some(&export), now),
            Some("not an import permit")
        );
        let used = ImportPermitFound {
            state: PermitState::Used,
            ..good.clone()
        };
        assert_eq!(import_permit_problem(Some(&used), now), Some("not valid"));
        let old = ImportPermitFound {
            valid_until: "2026-05-31".into(),
            ..good
        };
        assert_eq!(import_permit_problem(Some(&old), now), Some("expired"));
    }
}
