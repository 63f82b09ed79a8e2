//! Calendar dates and times as the format carries them.
//!
//! Dates are proleptic Gregorian days in UTC, counted from 1970-01-01; times are Unix
//! seconds. The conversions follow Howard Hinnant's `days_from_civil` / `civil_from_days`
//! algorithms so that the core needs no date crate and no system clock.

use std::fmt;
use std::str::FromStr;

/// Seconds in one day.
pub const DAY_SECS: i64 = 86_400;

/// A calendar date in UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// The text was not a `YYYY-MM-DD` date between years 1 and 9999.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a date in the form YYYY-MM-DD")]
pub struct DateError;

impl Date {
    /// The date `days` days after 1970-01-01 (negative: before).
    pub const fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i32 {
        self.0
    }

    /// The date from year, month (1–12) and day (1–31); `None` when it does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=9999).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// Year, month (1–12) and day (1–31).
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The UTC date that contains the Unix time `secs`.
    pub fn from_unix(secs: i64) -> Date {
        let days = secs.div_euclid(DAY_SECS);
        Date(days.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    }

    /// Unix time of 00:00:00 UTC on this date.
    pub fn start_unix(self) -> i64 {
        i64::from(self.0) * DAY_SECS
    }

    /// Unix time of 00:00:00 UTC on the following date: the first second this date is over.
    pub fn end_unix(self) -> i64 {
        self.start_unix() + DAY_SECS
    }

    /// This date moved by `days` days.
    pub fn add_days(self, days: i32) -> Date {
        Date(self.0.saturating_add(days))
    }

    /// The same day `months` calendar months later, clamped to the end of a shorter month
    /// (31 August + 6 months = 28 or 29 February).
    pub fn add_months(self, months: u32) -> Date {
        let (y, m, d) = self.ymd();
        let total = i64::from(y) * 12 + i64::from(m - 1) + i64::from(months);
        let year = total.div_euclid(12) as i32;
        let month = total.rem_euclid(12) as u32 + 1;
        let day = d.min(days_in_month(year, month));
        Date(days_from_civil(year, month, day))
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

fn days_from_civil(year: i32, month: u32, day: u32) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(s: &str) -> Result<Date, DateError> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(DateError);
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateError> {
            let part = &b[r];
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(DateError);
            }
            Ok(part.iter().fold(0, |acc, c| acc * 10 + u32::from(c - b'0')))
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        Date::from_ymd(y as i32, m, d).ok_or(DateError)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Formats Unix seconds as an RFC 3339 UTC time, e.g. `2026-11-29T08:15:00Z`.
pub fn format_unix(secs: i64) -> String {
    let date = Date::from_unix(secs);
    let rem = secs - date.start_unix();
    format!(
        "{date}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Parses an RFC 3339 UTC time with a `Z` suffix (`2026-11-29T08:15:00Z`) into Unix seconds.
pub fn parse_unix(s: &str) -> Option<i64> {
    let (date, rest) = s.split_once('T')?;
    let date: Date = date.parse().ok()?;
    let rest = rest.strip_suffix('Z')?;
    let b = rest.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let part = |i: usize| -> Option<i64> {
        let (a, c) = (b[i], b[i + 1]);
        (a.is_ascii_digit() && c.is_ascii_digit()).then(|| i64::from((a - b'0') * 10 + (c - b'0')))
    };
    let (h, m, sec) = (part(0)?, part(3)?, part(6)?);
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some(date.start_unix() + h * 3600 + m * 60 + sec)
}

/// Parses any RFC 3339 time (`2026-11-29T08:15:00Z`, `2026-11-29T10:15:00.5+02:00`) into Unix
/// seconds; a fraction of a second is dropped.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // Date, `T`, hh:mm:ss: 19 bytes, all ASCII when well-formed.
    if b.len() < 20 || !s.is_char_boundary(19) || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let (head, zone) = s.split_at(19);
    let mut base = parse_unix(&format!("{}T{}Z", &head[..10], &head[11..]))?;
    let zone = match zone.strip_prefix('.') {
        Some(rest) => {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            &rest[digits..]
        }
        None => zone,
    };
    match zone.as_bytes() {
        [b'Z' | b'z'] => {}
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, c: u8| {
                (a.is_ascii_digit() && c.is_ascii_digit())
                    .then(|| i64::from((a - b'0') * 10 + (c - b'0')))
            };
            let (h, m) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let offset = h * 3600 + m * 60;
            base = if *sign == b'+' {
                base - offset
            } else {
                base + offset
            };
        }
        _ => return None,
    }
    Some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_over_centuries() {
        for days in (-719_162..2_932_896).step_by(97) {
            let d = Date::from_days(days);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d), "days {days}");
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1).map(Date::days), Some(0));
        assert_eq!(Date::from_ymd(2000, 3, 1).map(Date::days), Some(11_017));
        assert_eq!("2026-11-29".parse::<Date>().map(Date::days), Ok(20_786));
        assert_eq!(Date::from_days(20_786).to_string(), "2026-11-29");
        assert!("2026-02-29".parse::<Date>().is_err());
        assert!("2024-02-29".parse::<Date>().is_ok());
        assert!("2026-1-29".parse::<Date>().is_err());
        assert!("2026-11-29 ".parse::<Date>().is_err());
    }

    #[test]
    fn month_arithmetic_clamps() {
        let d: Date = "2026-08-31".parse().unwrap();
        assert_eq!(d.add_months(6).to_string(), "2027-02-28");
        let d: Date = "2027-08-31".parse().unwrap();
        assert_eq!(d.add_months(6).to_string(), "2028-02-29");
        let d: Date = "2026-11-29".parse().unwrap();
        assert_eq!(d.add_months(36).to_string(), "2029-11-29");
    }

    #[test]
    fn unix_times() {
        assert_eq!(format_unix(0), "1970-01-01T00:00:00Z");
        let t = parse_unix("2026-11-29T08:15:07Z").unwrap();
        assert_eq!(format_unix(t), "2026-11-29T08:15:07Z");
        assert_eq!(Date::from_unix(t).to_string(), "2026-11-29");
        assert_eq!(Date::from_unix(-1).to_string(), "1969-12-31");
        assert!(parse_unix("2026-11-29T24:00:00Z").is_none());
        assert!(parse_unix("2026-11-29T08:15:07").is_none());
    }

    #[test]
    fn rfc3339_times_with_offsets_and_fractions() {
        let t = parse_unix("2026-01-31T12:00:00Z").unwrap();
        for text in [
            "2026-01-31T12:00:00Z",
            "2026-01-31t12:00:00z",
            "2026-01-31T14:00:00+02:00",
            "2026-01-31T09:30:00-02:30",
            "2026-01-31T12:00:00.999Z",
        ] {
            assert_eq!(parse_rfc3339(text), Some(t), "{text}");
        }
        for text in [
            "yesterday",
            "2026-01-31T12:00:00",
            "2026-01-31 12:00:00Z",
            "2026-01-31T12:00:00.Z",
            "2026-01-31T12:00:00+2:00",
            "2026-01-31T12:00:00+24:00",
            "2026-02-30T12:00:00Z",
            "2026-01-31T12:00:00Zjunk",
            "2026-01-31T12:00:0\u{e9}Z",
        ] {
            assert_eq!(parse_rfc3339(text), None, "{text}");
        }
    }
}
