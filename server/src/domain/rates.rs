//! Per-token budgets of field report uploads and of the alerts they raise, so that one device
//! (or a stolen token) cannot flood the service or an authority's alert list. The counts live
//! in the database (`rate_windows`, with the limits in `rate_limits`), so every replica
//! spends from the same budget; this module only decides.

use super::stored_as_text;

/// What a budget counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// Upload requests (scans, endorsements, confirmations).
    Uploads,
    /// Alerts raised (or raised again) by a token's reports.
    Alerts,
}

impl Budget {
    /// Every budget.
    pub const ALL: [Self; 2] = [Self::Uploads, Self::Alerts];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uploads => "uploads",
            Self::Alerts => "alerts",
        }
    }
}

stored_as_text!(Budget, "rate budget");

/// A budget's limit: at most `allowed` in a window of `seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Limit {
    /// How many per window.
    pub allowed: i64,
    /// The window's length in seconds.
    pub window_seconds: i64,
}

/// A token's window of a budget: when it started and how much of it is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Window {
    /// Start, unix seconds.
    pub window_start: i64,
    /// Spent so far.
    pub used: i64,
}

/// Spends `n` of a budget at `now`: the window as it then stands, or, when that would pass the
/// limit, the seconds until the window ends (at least 1), and nothing is spent. A window that
/// ended starts anew at `now`; a window that starts after `now` (a clock set back) too.
pub fn spend(window: Window, n: i64, now: i64, limit: Limit) -> Result<Window, u64> {
    let seconds = limit.window_seconds.max(1);
    let current = if now >= window.window_start && now - window.window_start < seconds {
        window
    } else {
        Window {
            window_start: now,
            used: 0,
        }
    };
    let used = current.used.saturating_add(n);
    if used > limit.allowed {
        let left = current
            .window_start
            .saturating_add(seconds)
            .saturating_sub(now);
        return Err(u64::try_from(left.max(1)).unwrap_or(1));
    }
    Ok(Window {
        window_start: current.window_start,
        used,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Limit = Limit {
        allowed: 3,
        window_seconds: 60,
    };

    #[test]
    fn a_budget_is_spent_within_its_window_and_renewed_after() {
        let fresh = Window {
            window_start: 1000,
            used: 0,
        };
        let w = spend(fresh, 2, 1000, LIMIT).unwrap();
        assert_eq!(w.used, 2);
        let w = spend(w, 1, 1030, LIMIT).unwrap();
        assert_eq!((w.window_start, w.used), (1000, 3));
        assert_eq!(spend(w, 1, 1045, LIMIT), Err(15));
        assert_eq!(spend(w, 1, 1059, LIMIT), Err(1));
        let renewed = spend(w, 1, 1060, LIMIT).unwrap();
        assert_eq!((renewed.window_start, renewed.used), (1060, 1));
        // A window from the future (a clock set back) starts anew.
        assert_eq!(spend(w, 1, 900, LIMIT).unwrap().window_start, 900);
        // More at once than a whole window allows is refused.
        assert!(spend(fresh, 4, 1000, LIMIT).is_err());
    }
}
