//! Where the server reads the time, and how it writes and reads times on the wire.
//!
//! Every rule that depends on the time (validity, quotas per year, signing times, compromise
//! boundaries) takes `now` as a value; the one place that asks the operating system is
//! [`Clock::now`], held in the application state. Production runs the system clock. Tests and
//! rehearsals of time-dependent rules shift it: in process with [`Clock::set_offset`], or for a
//! running binary with an offset file (`--clock-offset-file`), so nothing waits for the wall
//! clock to reach a boundary.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::model::InvalidValue;

/// The server's clock: the system clock, optionally shifted by a number of seconds.
#[derive(Clone, Debug)]
pub struct Clock(Source);

#[derive(Clone, Debug)]
enum Source {
    /// The operating system's clock.
    System,
    /// The system clock plus an offset the owner of the handle sets.
    Shifted(Arc<AtomicI64>),
    /// The system clock plus the offset written in a file, read at every use.
    OffsetFile(Arc<Path>),
}

impl Clock {
    /// The operating system's clock.
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// The system clock shifted by an offset that [`Clock::set_offset`] changes; clones share
    /// the offset.
    pub fn shifted(offset: i64) -> Self {
        Self(Source::Shifted(Arc::new(AtomicI64::new(offset))))
    }

    /// The system clock shifted by the whole seconds written in `path` (e.g. `-61`), read at
    /// every use. A missing or unreadable file reads as no shift; so does a file that does not
    /// hold a number, which is logged.
    pub fn offset_file(path: PathBuf) -> Self {
        Self(Source::OffsetFile(path.into()))
    }

    /// True unless this is the plain system clock (startup logs it).
    pub fn is_shifted(&self) -> bool {
        !matches!(self.0, Source::System)
    }

    /// Sets the shift of a [`Clock::shifted`] clock (and of its clones). Returns false, changing
    /// nothing, for the other kinds.
    pub fn set_offset(&self, seconds: i64) -> bool {
        match &self.0 {
            Source::Shifted(offset) => {
                offset.store(seconds, Ordering::Relaxed);
                true
            }
            Source::System | Source::OffsetFile(_) => false,
        }
    }

    /// The current time as unix seconds.
    pub fn now(&self) -> i64 {
        let offset = match &self.0 {
            Source::System => 0,
            Source::Shifted(offset) => offset.load(Ordering::Relaxed),
            Source::OffsetFile(path) => read_offset(path),
        };
        system_now().saturating_add(offset)
    }
}

fn read_offset(path: &Path) -> i64 {
    let Ok(text) = std::fs::read_to_string(path) else {
        return 0;
    };
    match text.trim().parse() {
        Ok(seconds) => seconds,
        Err(_) => {
            tracing::warn!(path = %path.display(), "clock offset file does not hold whole seconds");
            0
        }
    }
}

/// The operating system's time as unix seconds.
fn system_now() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Formats unix seconds as RFC 3339 UTC (`2026-11-29T08:15:00Z`): the one formatter of the
/// workspace, the core's, so that the server writes times exactly as phones and signed objects
/// do.
pub use verifier_core::date::format_unix as format_time;

/// Parses an RFC 3339 time (any offset) to unix seconds.
pub fn parse_time(field: &'static str, text: &str) -> Result<i64, InvalidValue> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            InvalidValue::new(
                "invalid_time",
                format!("{field} must be an RFC 3339 time such as 2026-01-31T12:00:00Z"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_time(1_769_860_800), "2026-01-31T12:00:00Z");
        assert_eq!(
            parse_time("t", "2026-01-31T12:00:00Z").unwrap(),
            1_769_860_800
        );
        assert_eq!(
            parse_time("t", "2026-01-31T14:00:00+02:00").unwrap(),
            1_769_860_800
        );
        assert_eq!(
            parse_time("t", "yesterday").unwrap_err().code,
            "invalid_time"
        );
    }

    #[test]
    fn a_shifted_clock_moves_with_its_clones_and_the_system_one_does_not() {
        let clock = Clock::shifted(0);
        let copy = clock.clone();
        let before = copy.now();
        assert!(clock.set_offset(-3600));
        let after = copy.now();
        assert!(
            (before - 3601..=before - 3599).contains(&after),
            "{before} {after}"
        );
        assert!(!Clock::system().set_offset(10));
        assert!(!Clock::system().is_shifted());
    }

    #[test]
    fn an_offset_file_is_read_at_every_use() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offset");
        let clock = Clock::offset_file(path.clone());
        let base = clock.now();
        std::fs::write(&path, "-120\n").unwrap();
        let shifted = clock.now();
        assert!(
            (base - 121..=base - 119).contains(&shifted),
            "{base} {shifted}"
        );
        std::fs::write(&path, "soon").unwrap();
        assert!((base - 1..=base + 1).contains(&clock.now()));
    }
}
