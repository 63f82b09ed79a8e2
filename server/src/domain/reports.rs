//! Rules a field report must meet against stored facts before it is stored: its date against
//! its permit's issue day and last day of validity, who may endorse, and what a customs
//! declaration's endorsement must meet.

use verifier_core::codes::DocumentType;
use verifier_core::date::Date;

use super::PermitState;
use super::alerts::{EndorsedLine, IssuedLine, endorsement_excess};
/// What the border rules need of a stored permit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorderFacts {
    /// Its document type.
    pub document_type: DocumentType,
    /// The exporter's (or re-exporter's, or owner's) country, box 4.
    pub export_country: String,
    /// The country of import, box 3a (none on a multi-use certificate).
    pub import_country: Option<String>,
    /// Its last day of validity.
    pub valid_until: Date,
}

impl BorderFacts {
    /// Whether an export endorsement records one crossing of several rather than using the
    /// document up: the multi-use certificates (ownership, travelling exhibition, musical
    /// instrument, sample collection) cross as often as their validity allows (Res. Conf.
    /// 16.8 §2, Res. Conf. 12.3 Annex on multi-use certificates).
    pub fn records_crossings(&self) -> bool {
        self.document_type.is_multi_use()
    }
}

/// Why an endorsement is refused against its permit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndorsementFault {
    /// Dated after the permit's last day of validity (given): an expired document is void
    /// and cannot be endorsed for export (Art. VI(2), Res. Conf. 12.3).
    AfterValidity(Date),
    /// Endorsed by an officer of another country than the exporting (or re-exporting) Party
    /// (given): box 14 is the exporting Party's inspection. A multi-use certificate is
    /// endorsed at each crossing by the country it leaves, so any country may.
    NotExportingParty(String),
}

impl EndorsementFault {
    /// The officer-facing phrase of the alert that records the refusal.
    pub fn detail(&self, endorser: &str) -> String {
        match self {
            Self::AfterValidity(until) => {
                format!("export endorsement dated after the permit's last valid day ({until})")
            }
            Self::NotExportingParty(exporting) => format!(
                "export endorsement by an officer of {endorser}; only {exporting}, the exporting                  Party, endorses this permit"
            ),
        }
    }
}

/// The alert detail for an import confirmed (received) at `at` after the last day of the
/// permit's validity: the document had to be presented for import before it expired (Art. VI;
/// 50 CFR 23.54). A multi-use certificate enters countries as often as it crosses, under the
/// same rule.
pub fn imported_after_validity(at: i64, permit: &BorderFacts) -> Option<String> {
    (at >= permit.valid_until.end_unix()).then(|| {
        format!(
            "import confirmed after the permit's last valid day ({})",
            permit.valid_until
        )
    })
}

/// The alert detail for a confirmation by `country` of a permit bound for another country
/// (refused).
pub fn not_destined(permit: &BorderFacts, country: &str) -> String {
    format!(
        "import confirmation by {country} of a permit bound for {}",
        permit
            .import_country
            .as_deref()
            .unwrap_or("no named country")
    )
}

/// The fault of an endorsement dated `at` by an officer of `endorser`, if any (the issue day
/// is [`dated_before_issue`]'s).
pub fn endorsement_fault(
    at: i64,
    permit: &BorderFacts,
    endorser: &str,
) -> Option<EndorsementFault> {
    if at >= permit.valid_until.end_unix() {
        return Some(EndorsementFault::AfterValidity(permit.valid_until));
    }
    if !permit.records_crossings() && permit.export_country != endorser {
        return Some(EndorsementFault::NotExportingParty(
            permit.export_country.clone(),
        ));
    }
    None
}

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
    /// Whether it is a multi-use certificate ([`BorderFacts::records_crossings`]): each
    /// endorsement records one crossing, by the customs of the country it leaves.
    pub records_crossings: bool,
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
/// the quantities. A multi-use certificate is endorsed at every crossing by the customs of
/// the country it leaves, as a phone's endorsement of it is ([`endorsement_fault`]), each
/// crossing within the quantities issued.
pub fn customs_endorsement(
    customs_country: &str,
    permit: EndorsedPermit<'_>,
    endorsed: &[EndorsedLine],
) -> Option<CustomsRefusal> {
    if !permit.records_crossings && permit.export_country != customs_country {
        return Some(CustomsRefusal::NotExportedFromHere);
    }
    if permit.state.is_withdrawn() {
        return Some(CustomsRefusal::Withdrawn(permit.state));
    }
    if !permit.records_crossings && (permit.endorsed_before || permit.state.is_used_up()) {
        return Some(CustomsRefusal::AlreadyEndorsed);
    }
    endorsement_excess(permit.issued, endorsed).map(CustomsRefusal::ExceedsIssued)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(document_type: DocumentType) -> BorderFacts {
        BorderFacts {
            document_type,
            export_country: "ZA".into(),
            import_country: Some("FR".into()),
            valid_until: Date::from_ymd(2027, 5, 28).unwrap(),
        }
    }

    #[test]
    fn an_endorsement_lies_within_validity() {
        let p = facts(DocumentType::Export);
        let over = p.valid_until.end_unix();
        assert_eq!(endorsement_fault(over - 1, &p, "ZA"), None);
        assert_eq!(
            endorsement_fault(over, &p, "ZA"),
            Some(EndorsementFault::AfterValidity(p.valid_until))
        );
    }

    #[test]
    fn an_import_after_validity_is_noted() {
        let p = facts(DocumentType::Export);
        let over = p.valid_until.end_unix();
        assert_eq!(imported_after_validity(over - 1, &p), None);
        assert!(
            imported_after_validity(over, &p)
                .unwrap()
                .contains("2027-05-28")
        );
        assert_eq!(
            not_destined(&p, "US"),
            "import confirmation by US of a permit bound for FR"
        );
    }

    #[test]
    fn only_the_exporting_party_endorses_a_single_use_document() {
        for ty in [
            DocumentType::Export,
            DocumentType::ReExport,
            DocumentType::Import,
        ] {
            let p = facts(ty);
            assert_eq!(endorsement_fault(ISSUED, &p, "ZA"), None);
            assert_eq!(
                endorsement_fault(ISSUED, &p, "FR"),
                Some(EndorsementFault::NotExportingParty("ZA".into()))
            );
        }
        let p = facts(DocumentType::MusicalInstrument);
        assert!(p.records_crossings());
        assert_eq!(endorsement_fault(ISSUED, &p, "FR"), None);
        assert!(!facts(DocumentType::Export).records_crossings());
    }

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
            records_crossings: false,
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

    #[test]
    fn customs_endorses_every_crossing_of_a_multi_use_certificate() {
        let issued = [IssuedLine {
            block: "A".to_owned(),
            quantity_micro: 1_000_000,
            unit: "NAR".to_owned(),
        }];
        let crossed = EndorsedPermit {
            export_country: "KE",
            state: PermitState::Valid,
            endorsed_before: true,
            records_crossings: true,
            issued: &issued,
        };
        let one = [EndorsedLine {
            block: "A".to_owned(),
            quantity_micro: 1_000_000,
        }];
        assert_eq!(customs_endorsement("KE", crossed, &one), None);
        assert_eq!(customs_endorsement("DE", crossed, &one), None);
        let two = [EndorsedLine {
            quantity_micro: 2_000_000,
            ..one[0].clone()
        }];
        assert!(matches!(
            customs_endorsement("DE", crossed, &two),
            Some(CustomsRefusal::ExceedsIssued(_))
        ));
        let revoked = EndorsedPermit {
            state: PermitState::Revoked,
            ..crossed
        };
        assert_eq!(
            customs_endorsement("DE", revoked, &one),
            Some(CustomsRefusal::Withdrawn(PermitState::Revoked))
        );
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
