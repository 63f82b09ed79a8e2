//! Rules a field report must meet against stored facts before it is stored: its date against
//! its permit's issue day.

use verifier_core::date::Date;

/// The issue day (UTC) of a permit issued at `issued_at`, when a report of it dated `at` is
/// earlier than that day: an endorsement or an import confirmation cannot precede the permit
/// it uses (a device with a wrong date, or a report made up after the fact).
pub fn dated_before_issue(at: i64, issued_at: i64) -> Option<Date> {
    let day = Date::from_unix(issued_at);
    (at < day.start_unix()).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;

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
