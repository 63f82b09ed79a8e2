//! Rules a field report must meet against stored facts before it is stored: its date against
//! its permit's issue day, and what a customs declaration's endorsement must meet.

use verifier_core::date::Date;

use super::PermitState;
use super::alerts::{EndorsedLine, IssuedLine, endorsement_excess};

/// The issue day (UTC) of a permit issued at `issued_at`, when a report of it dated `at` is
/// earlier than that day: an endorsement or an import confirmation cannot precede the permit
/// it uses (a device with a wrong date, or a report made up after the fact).
pub fn dated_before_issue(at: i64, issued_at: i64) -> Option<Date> {
    let day = Date::from_unix(issued_at);
    (at < day.start_unix()).then_some(day)
}

/// What is stored of the permit a customs declaration endorses.
#[derive(Debug, Clone, Copy)]
pub struct EndorsedPermit<'a> {
    /// Its exporting country (box 4).
    pub export_country: &'a str,
    /// Its state now.
    pub state: PermitState,
    /// Whether an export endorsement of it is stored already (from a phone or customs).
    pub endorsed_before: bool,
    /// Its lines as issued.
    pub issued: &'a [IssuedLine],
}

/// Why customs may not record an export endorsement. A phone's endorsement is kept whatever
/// it shows and raises an alert (the officer is offline and the shipment has moved); a customs
/// system asks online and can be told no, so what would be an alert is a refusal and nothing
/// is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomsRefusal {
    /// The permit leaves from another country than the customs token's.
    NotExportedFromHere,
    /// The permit is suspended or revoked (given).
    Withdrawn(PermitState),
    /// The permit was endorsed before: one permit, one shipment.
    AlreadyEndorsed,
    /// A line is above what was issued or names a block not on the permit (the phrases).
    ExceedsIssued(String),
}

/// The rules of a customs endorsement against the stored permit, in the order a customs
/// officer would act on them: the wrong country, a withdrawn permit, a second shipment, then
/// the quantities.
pub fn customs_endorsement(
    customs_country: &str,
    permit: EndorsedPermit<'_>,
    endorsed: &[EndorsedLine],
) -> Option<CustomsRefusal> {
    if permit.export_country != customs_country {
        return Some(CustomsRefusal::NotExportedFromHere);
    }
    if permit.state.is_withdrawn() {
        return Some(CustomsRefusal::Withdrawn(permit.state));
    }
    if permit.endorsed_before || permit.state == PermitState::Used {
        return Some(CustomsRefusal::AlreadyEndorsed);
    }
    endorsement_excess(permit.issued, endorsed).map(CustomsRefusal::ExceedsIssued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customs_endorses_once_within_the_issued_quantities_of_its_own_exports() {
        let issued = [IssuedLine {
            block: "A".to_owned(),
            quantity_micro: 12_500_000,
            unit: "KIL".to_owned(),
        }];
        let permit = EndorsedPermit {
            export_country: "KE",
            state: PermitState::Valid,
            endorsed_before: false,
            issued: &issued,
        };
        let line = |block: &str, quantity_micro| EndorsedLine {
            block: block.to_owned(),
            quantity_micro,
        };
        assert_eq!(
            customs_endorsement("KE", permit, &[line("A", 12_500_000)]),
            None
        );
        assert_eq!(customs_endorsement("KE", permit, &[line("A", 1)]), None);
        assert_eq!(
            customs_endorsement("TZ", permit, &[line("A", 1)]),
            Some(CustomsRefusal::NotExportedFromHere)
        );
        assert!(matches!(
            customs_endorsement("KE", permit, &[line("A", 12_500_001)]),
            Some(CustomsRefusal::ExceedsIssued(why)) if why.contains("block A")
        ));
        assert!(matches!(
            customs_endorsement("KE", permit, &[line("B", 1)]),
            Some(CustomsRefusal::ExceedsIssued(why)) if why.contains("not on the permit")
        ));
        let again = EndorsedPermit {
            endorsed_before: true,
            ..permit
        };
        assert_eq!(
            customs_endorsement("KE", again, &[line("A", 1)]),
            Some(CustomsRefusal::AlreadyEndorsed)
        );
        let used = EndorsedPermit {
            state: PermitState::Used,
            ..permit
        };
        assert_eq!(
            customs_endorsement("KE", used, &[line("A", 1)]),
            Some(CustomsRefusal::AlreadyEndorsed)
        );
        for state in [PermitState::Suspended, PermitState::Revoked] {
            let held = EndorsedPermit { state, ..permit };
            assert_eq!(
                customs_endorsement("KE", held, &[line("A", 1)]),
                Some(CustomsRefusal::Withdrawn(state))
            );
        }
    }

    // 2026-12-02T10:00:00Z.
    const ISSUED: i64 = 1_796_205_600;

    #[test]
    fn a_report_may_be_dated_from_the_issue_day_on() {
        let day = Date::from_unix(ISSUED);
        assert_eq!(dated_before_issue(day.start_unix(), ISSUED), None);
        assert_eq!(dated_before_issue(ISSUED - 3600, ISSUED), None);
        assert_eq!(dated_before_issue(ISSUED + 86_400, ISSUED), None);
        assert_eq!(dated_before_issue(day.start_unix() - 1, ISSUED), Some(day));
        assert_eq!(
            dated_before_issue(Date::from_ymd(2005, 6, 1).unwrap().start_unix(), ISSUED),
            Some(day)
        );
    }
}
