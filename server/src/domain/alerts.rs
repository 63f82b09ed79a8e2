//! Which field reports raise which alert. Storage gathers the facts about a report inside the
//! upload's transaction (the permit it names, earlier reports of it) and records what these
//! rules return.
//!
//! A new alert kind: add a variant to [`AlertKind`] (its stored name in `as_str`), a rule here
//! with its unit test, and the call in `storage::field_reports` where its facts are at hand.

use serde::{Deserialize, Serialize};

use super::issuing::format_micro;
use super::stored_as_text;

/// Scans of one permit farther apart than this are checked for travel speed (km).
const TRAVEL_MIN_KM: f64 = 50.0;
/// Faster than this between two scans of one permit is not a plausible journey (km/h).
const TRAVEL_MAX_KMH: f64 = 1000.0;

/// What an alert is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A permit's export was endorsed a second time: one permit, one shipment.
    SecondEndorsement,
    /// A used permit was scanned again in the exporting country, at another port.
    UsedPermitScanned,
    /// Endorsed or received quantities exceed what was issued or endorsed.
    QuantityExceeded,
    /// Two scans of one permit too far apart for the time between them.
    ImpossibleTravel,
    /// A report of a suspended or revoked permit.
    RevokedPermit,
    /// A report of a code this deployment did not issue.
    UnknownPermit,
    /// A permit's import was confirmed a second time.
    SecondImportConfirmation,
    /// An import confirmed with no export endorsement recorded.
    ImportWithoutEndorsement,
    /// A scan or endorsement claims a place outside the uploading token's country: kept as a
    /// report, it changes no permit and raises nothing else.
    PlaceOutsideCountry,
    /// An issued permit whose issuance event is not in the transparency log.
    UnloggedIssuance,
    /// An export endorsement dated after the permit's last day of validity (refused).
    EndorsedAfterValidity,
    /// An export endorsement by an officer of a country other than the exporting Party
    /// (refused).
    EndorsedByAnotherParty,
    /// An import confirmed after the permit's last day of validity.
    ImportedAfterValidity,
    /// An import confirmation by a country the permit is not bound for (refused).
    ImportNotDestined,
    /// A scan of a document after the importing authority confirmed its import and so
    /// cancelled it: a spent document presented again (RULES.md B10).
    ScannedAfterImport,
}

impl AlertKind {
    /// Every kind.
    pub const ALL: [Self; 15] = [
        Self::SecondEndorsement,
        Self::UsedPermitScanned,
        Self::QuantityExceeded,
        Self::ImpossibleTravel,
        Self::RevokedPermit,
        Self::UnknownPermit,
        Self::SecondImportConfirmation,
        Self::ImportWithoutEndorsement,
        Self::PlaceOutsideCountry,
        Self::UnloggedIssuance,
        Self::EndorsedAfterValidity,
        Self::EndorsedByAnotherParty,
        Self::ImportedAfterValidity,
        Self::ImportNotDestined,
        Self::ScannedAfterImport,
    ];

    /// The stored and wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecondEndorsement => "second_endorsement",
            Self::UsedPermitScanned => "used_permit_scanned",
            Self::QuantityExceeded => "quantity_exceeded",
            Self::ImpossibleTravel => "impossible_travel",
            Self::RevokedPermit => "revoked_permit",
            Self::UnknownPermit => "unknown_permit",
            Self::SecondImportConfirmation => "second_import_confirmation",
            Self::ImportWithoutEndorsement => "import_without_endorsement",
            Self::PlaceOutsideCountry => "place_outside_country",
            Self::UnloggedIssuance => "unlogged_issuance",
            Self::EndorsedAfterValidity => "endorsed_after_validity",
            Self::EndorsedByAnotherParty => "endorsed_by_another_party",
            Self::ImportedAfterValidity => "imported_after_validity",
            Self::ImportNotDestined => "import_not_destined",
            Self::ScannedAfterImport => "scanned_after_import",
        }
    }
}

stored_as_text!(AlertKind, "alert kind");

/// An alert to record: its kind and the text that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    /// Its kind.
    pub kind: AlertKind,
    /// What an officer reads.
    pub detail: String,
}

/// The alert for an issued permit that the log does not show being issued: it was written
/// past the log (by hand in the database, or by a fault), so nothing can prove when or by whom.
pub fn unlogged_issuance(number: &str) -> NewAlert {
    NewAlert {
        kind: AlertKind::UnloggedIssuance,
        detail: format!(
            "permit {number} is issued but its issuance is not in the transparency log"
        ),
    }
}

/// One reported line: block letter and quantity in millionths of the permit's unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct EndorsedLine {
    /// Block letter.
    pub block: String,
    /// Quantity in millionths.
    pub quantity_micro: i64,
}

impl From<&verifier_core::report::Line> for EndorsedLine {
    fn from(line: &verifier_core::report::Line) -> Self {
        Self {
            block: line.block.to_string(),
            // Only compared with what the field reports: a quantity beyond 64 bits of
            // millionths (a permit signed before the issuing bound) compares as the largest.
            quantity_micro: super::issuing::micro(line.quantity).unwrap_or(i64::MAX),
        }
    }
}

/// A line of a permit as issued.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IssuedLine {
    /// Block letter.
    pub block: String,
    /// Quantity in millionths.
    pub quantity_micro: i64,
    /// Unit code.
    pub unit: String,
}

/// Great-circle distance in km.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().min(1.0).asin()
}

/// `(km, km/h)` when going from `a` to `b` in `seconds` is not plausible.
pub fn implausible_travel(a: (f64, f64), b: (f64, f64), seconds: i64) -> Option<(f64, f64)> {
    let km = distance_km(a, b);
    if km <= TRAVEL_MIN_KM {
        return None;
    }
    // Clocks of two devices disagree by minutes; never divide by less than ten minutes.
    let hours = (seconds.unsigned_abs() as f64 / 3600.0).max(1.0 / 6.0);
    let kmh = km / hours;
    (kmh > TRAVEL_MAX_KMH).then_some((km, kmh))
}

/// The first export endorsement recorded for a permit, as the re-use rule needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FirstEndorsement {
    /// Port of export.
    pub locode: Option<String>,
    /// When.
    pub endorsed_at: i64,
    /// Country of the issuing authority.
    pub country: String,
}

/// Re-use: a used permit scanned at `here` (a UN/LOCODE) at `scanned_at`, after its export
/// endorsement, in the exporting country at another port. Scans in other countries (the
/// importing one, transit) are expected after export and raise nothing.
pub fn used_permit_rescanned(
    endorsement: &FirstEndorsement,
    here: &str,
    scanned_at: i64,
) -> Option<String> {
    (here.get(..2) == Some(endorsement.country.as_str())
        && endorsement.locode.as_deref() != Some(here)
        && scanned_at >= endorsement.endorsed_at)
        .then(|| {
            format!(
                "scanned at {here} after its export endorsement at {} on {}",
                endorsement.locode.as_deref().unwrap_or("an unnamed place"),
                crate::clock::format_time(endorsement.endorsed_at)
            )
        })
}

/// The import confirmation that cancelled a permit, as the scan rule needs it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CancellingConfirmation {
    /// The confirming (importing) country.
    pub country: String,
    /// When the shipment was received.
    pub confirmed_at: i64,
}

/// A scan at `scanned_at` of a document cancelled on import by `confirmation`: the alert's
/// detail, or `None` for a scan taken before the import (a phone uploading late).
pub fn scanned_after_import(
    confirmation: &CancellingConfirmation,
    place: Option<&str>,
    scanned_at: i64,
) -> Option<String> {
    (scanned_at >= confirmation.confirmed_at).then(|| {
        format!(
            "scanned at {} on {} after its import into {} was confirmed on {}: the document \
             was cancelled on import",
            place.unwrap_or("an unnamed place"),
            crate::clock::format_time(scanned_at),
            confirmation.country,
            crate::clock::format_time(confirmation.confirmed_at)
        )
    })
}

/// Endorsed quantities above the issued ones, or blocks not on the permit: one phrase each,
/// joined; `None` when every line fits.
pub fn endorsement_excess(issued: &[IssuedLine], endorsed: &[EndorsedLine]) -> Option<String> {
    let excess: Vec<String> = endorsed
        .iter()
        .filter_map(|line| match issued.iter().find(|i| i.block == line.block) {
            None => Some(format!("block {} is not on the permit", line.block)),
            Some(i) if line.quantity_micro > i.quantity_micro => Some(format!(
                "block {}: endorsed {} {unit} > issued {} {unit}",
                i.block,
                format_micro(line.quantity_micro),
                format_micro(i.quantity_micro),
                unit = i.unit
            )),
            Some(_) => None,
        })
        .collect();
    (!excess.is_empty()).then(|| excess.join("; "))
}

/// What received quantities are checked against: the export endorsement when one is recorded,
/// else the permit as issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Against {
    /// The first export endorsement.
    Endorsed,
    /// The lines issued.
    Issued,
}

/// Received quantities above the `limits` (endorsed or issued), or blocks not among them.
pub fn confirmation_excess(
    limits: &[EndorsedLine],
    against: Against,
    received: &[EndorsedLine],
) -> Option<String> {
    let against = match against {
        Against::Endorsed => "endorsed",
        Against::Issued => "issued",
    };
    let excess: Vec<String> = received
        .iter()
        .filter_map(|l| match limits.iter().find(|b| b.block == l.block) {
            None => Some(format!("block {} was not {against}", l.block)),
            Some(b) if l.quantity_micro > b.quantity_micro => Some(format!(
                "block {}: received {} > {against} {}",
                b.block,
                format_micro(l.quantity_micro),
                format_micro(b.quantity_micro)
            )),
            Some(_) => None,
        })
        .collect();
    (!excess.is_empty()).then(|| excess.join("; "))
}

/// The alert detail for a scan or endorsement whose UN/LOCODE names a country other than the
/// uploading token's: an officer reports what happens at the ports of the country whose token
/// they hold. A place given only by coordinates names no country and is not held against it.
pub fn place_outside_country(locode: Option<&str>, uploader_country: &str) -> Option<String> {
    let code = locode?;
    let country = code.get(..2)?;
    (country != uploader_country).then(|| {
        format!(
            "claims {code} in {country}, outside the uploader's country {uploader_country}: \
             kept as a report, the permit is unchanged"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(block: &str, quantity_micro: i64) -> EndorsedLine {
        EndorsedLine {
            block: block.into(),
            quantity_micro,
        }
    }

    #[test]
    fn travel_plausibility() {
        let nairobi = (-1.28, 36.82);
        let mombasa = (-4.05, 39.67);
        let frankfurt = (50.11, 8.68);
        let d = distance_km(nairobi, mombasa);
        assert!((430.0..450.0).contains(&d), "{d}");
        // Nairobi → Mombasa in 30 min: ~880 km/h, plausible by air.
        assert!(implausible_travel(nairobi, mombasa, 1800).is_none());
        // Nairobi → Frankfurt in one hour: not plausible.
        assert!(implausible_travel(nairobi, frankfurt, 3600).is_some());
        // Within the same city: never an alert.
        assert!(implausible_travel(nairobi, (-1.3, 36.9), 1).is_none());
        // Order of the scans does not matter.
        assert!(implausible_travel(frankfurt, nairobi, -3600).is_some());
    }

    #[test]
    fn re_use_is_another_port_of_the_exporting_country_after_the_endorsement() {
        let e = FirstEndorsement {
            locode: Some("ZADUR".into()),
            endorsed_at: 1_000,
            country: "ZA".into(),
        };
        let alert = used_permit_rescanned(&e, "ZACPT", 2_000).unwrap();
        assert_eq!(
            alert,
            "scanned at ZACPT after its export endorsement at ZADUR on 1970-01-01T00:16:40Z"
        );
        assert_eq!(used_permit_rescanned(&e, "ZADUR", 2_000), None, "same port");
        assert_eq!(
            used_permit_rescanned(&e, "FRMRS", 2_000),
            None,
            "importing country"
        );
        assert_eq!(
            used_permit_rescanned(&e, "ZACPT", 999),
            None,
            "before the endorsement"
        );
    }

    #[test]
    fn endorsed_and_received_quantities() {
        let issued = [IssuedLine {
            block: "A".into(),
            quantity_micro: 12_500_000,
            unit: "KIL".into(),
        }];
        assert_eq!(endorsement_excess(&issued, &[line("A", 12_500_000)]), None);
        assert_eq!(
            endorsement_excess(&issued, &[line("A", 13_000_000), line("B", 1)]).as_deref(),
            Some("block A: endorsed 13 KIL > issued 12.5 KIL; block B is not on the permit")
        );
        let endorsed = [line("A", 10_000_000)];
        assert_eq!(
            confirmation_excess(&endorsed, Against::Endorsed, &[line("A", 10_000_000)]),
            None
        );
        assert_eq!(
            confirmation_excess(&endorsed, Against::Issued, &[line("A", 11_000_000)]).as_deref(),
            Some("block A: received 11 > issued 10")
        );
        assert_eq!(
            confirmation_excess(&endorsed, Against::Endorsed, &[line("C", 1)]).as_deref(),
            Some("block C was not endorsed")
        );
    }

    #[test]
    fn kinds_round_trip_and_unknown_ones_are_errors() {
        for k in AlertKind::ALL {
            assert_eq!(k.as_str().parse::<AlertKind>(), Ok(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        assert!("forgery".parse::<AlertKind>().is_err());
    }

    #[test]
    fn scans_after_the_import_that_cancelled_a_permit() {
        let c = CancellingConfirmation {
            country: "DE".into(),
            confirmed_at: 1_000,
        };
        let detail = scanned_after_import(&c, Some("DEHAM"), 2_000).unwrap();
        assert_eq!(
            detail,
            "scanned at DEHAM on 1970-01-01T00:33:20Z after its import into DE was confirmed \
             on 1970-01-01T00:16:40Z: the document was cancelled on import"
        );
        assert!(
            scanned_after_import(&c, None, 1_000).is_some(),
            "same second"
        );
        assert_eq!(scanned_after_import(&c, None, 999), None, "taken before");
    }

    #[test]
    fn places_outside_the_uploader_country() {
        assert_eq!(place_outside_country(Some("KEMBA"), "KE"), None);
        assert_eq!(place_outside_country(None, "KE"), None);
        let detail = place_outside_country(Some("TZDAR"), "KE").unwrap();
        assert!(detail.contains("TZDAR in TZ"), "{detail}");
    }

    #[test]
    fn an_unlogged_issuance_names_the_permit() {
        let a = unlogged_issuance("KE/2026/0001");
        assert_eq!(a.kind, AlertKind::UnloggedIssuance);
        assert!(a.detail.contains("KE/2026/0001"));
    }
}
