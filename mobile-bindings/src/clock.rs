//! The device clock, read once per call. The core takes `now` as a parameter; only the
//! bindings read the clock.

use std::time::{SystemTime, UNIX_EPOCH};

/// The device time in Unix seconds. A clock set before 1970 gives a negative time (which the
/// verifier's time floor then overrides) rather than an error; an absurdly far one saturates.
pub fn now() -> i64 {
    unix_seconds(SystemTime::now())
}

/// Unix seconds of a `SystemTime`, saturating at the ends of `i64`.
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_secs()).map_or(i64::MIN, |s| -s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn converts_both_sides_of_the_epoch() {
        assert_eq!(
            unix_seconds(UNIX_EPOCH + Duration::from_secs(1_796_000_000)),
            1_796_000_000
        );
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_secs(90)), -90);
        assert_eq!(unix_seconds(UNIX_EPOCH - Duration::from_millis(500)), 0);
        assert!(now() > 1_700_000_000);
    }
}
