//! The refresh windows and the back-off of the cross-SDK "Credential Refresh Behavior"
//! specification (aws-facts §6.8), as numbers: which window a credential set gets from its
//! lifetime, and how long to wait after a failed refresh.
//!
//! The windows are fixed when a set is obtained and kept with it ([`Windows::for_set`]): a
//! failed refresh does not recompute them (botocore PR #3760's reading, aws-facts §6.8).

use std::time::{Duration, SystemTime};

/// The mandatory (blocking) window: within the last minute before expiry every caller waits
/// for a refresh (aws-facts §6.8; botocore PR #3760 `_DEFAULT_MANDATORY_REFRESH_TIMEOUT`, Java
/// v2 PR #7053 "stale time 1 min"; Go v2's `aws/credential_cache.go`, aws-facts §6.6, takes
/// `min(1 min, advisory)`, the same here since the advisory window is at least 5 min).
pub const MANDATORY_WINDOW: Duration = Duration::from_secs(60);

/// The shortest back-off after a failed refresh (aws-facts §6.8: "back off 5-10 minutes";
/// botocore PR #3760 `random.uniform(300, 600)`).
pub const BACKOFF_MIN: Duration = Duration::from_secs(300);

/// The longest back-off after a failed refresh.
pub const BACKOFF_MAX: Duration = Duration::from_secs(600);

/// The advisory window for a credential set that lives `lifetime` from when it was obtained
/// (aws-facts §6.8, botocore PR #3760, Go v2 `aws/credential_cache.go`):
///
/// | lifetime | advisory window |
/// |---|---|
/// | ≤ 20 min | 5 min |
/// | 20-90 min | 15 min |
/// | ≥ 90 min | 60 min |
///
/// The specification's bands meet at 20 and 90 minutes; Go's code reads them as `≤ 20 min`,
/// `< 90 min`, otherwise, and so does this.
pub fn advisory_window(lifetime: Duration) -> Duration {
    const MINUTE: u64 = 60;
    if lifetime <= Duration::from_secs(20 * MINUTE) {
        Duration::from_secs(5 * MINUTE)
    } else if lifetime < Duration::from_secs(90 * MINUTE) {
        Duration::from_secs(15 * MINUTE)
    } else {
        Duration::from_secs(60 * MINUTE)
    }
}

/// A back-off drawn uniformly from [`BACKOFF_MIN`]..=[`BACKOFF_MAX`] (millisecond steps), from
/// the cache's seeded generator so a run replays.
pub fn backoff(rng: &mut fastrand::Rng) -> Duration {
    let min = u64::try_from(BACKOFF_MIN.as_millis()).unwrap_or(u64::MAX);
    let max = u64::try_from(BACKOFF_MAX.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rng.u64(min..=max))
}

/// When a credential set enters its windows, fixed when it was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    /// The set's expiry.
    pub expiry: SystemTime,
    /// The advisory window chosen from its lifetime.
    pub advisory: Duration,
    /// From here a caller that finds no refresh in flight refreshes, and failures are
    /// tolerated.
    pub advisory_from: SystemTime,
    /// From here every caller waits for a refresh.
    pub mandatory_from: SystemTime,
}

impl Windows {
    /// The windows of a set obtained at `obtained_at` that expires at `expiry`. A set that
    /// is already expired when obtained gets a zero lifetime (the shortest band).
    pub fn for_set(obtained_at: SystemTime, expiry: SystemTime) -> Windows {
        let lifetime = expiry.duration_since(obtained_at).unwrap_or_default();
        let advisory = advisory_window(lifetime);
        let mandatory = MANDATORY_WINDOW.min(advisory);
        Windows {
            expiry,
            advisory,
            advisory_from: expiry.checked_sub(advisory).unwrap_or(obtained_at),
            mandatory_from: expiry.checked_sub(mandatory).unwrap_or(obtained_at),
        }
    }

    /// Which window `now` is in.
    pub fn at(&self, now: SystemTime) -> Window {
        if now < self.advisory_from {
            Window::Fresh
        } else if now < self.mandatory_from {
            Window::Advisory
        } else {
            Window::Mandatory
        }
    }
}

/// Where a cached set stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Before the advisory window: serve it.
    Fresh,
    /// In the advisory window: one caller tries a refresh, the others are served the set.
    Advisory,
    /// In the mandatory window or past expiry: every caller waits for a refresh.
    Mandatory,
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: u64 = 60;

    fn mins(m: u64) -> Duration {
        Duration::from_secs(m * MIN)
    }

    #[test]
    fn the_advisory_window_follows_the_lifetime_bands() {
        // 15 min (STS's shortest session), 1 h (its default), 6 h.
        assert_eq!(advisory_window(mins(15)), mins(5));
        assert_eq!(advisory_window(mins(60)), mins(15));
        assert_eq!(advisory_window(mins(360)), mins(60));
        // The band edges.
        assert_eq!(advisory_window(mins(20)), mins(5));
        assert_eq!(advisory_window(mins(20) + Duration::from_secs(1)), mins(15));
        assert_eq!(advisory_window(mins(90) - Duration::from_secs(1)), mins(15));
        assert_eq!(advisory_window(mins(90)), mins(60));
        assert_eq!(advisory_window(Duration::ZERO), mins(5));
    }

    #[test]
    fn windows_are_placed_before_the_expiry() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let w = Windows::for_set(t0, t0 + mins(60));
        assert_eq!(w.advisory, mins(15));
        assert_eq!(w.advisory_from, t0 + mins(45));
        assert_eq!(w.mandatory_from, t0 + mins(59));
        assert_eq!(w.at(t0 + mins(45) - Duration::from_secs(1)), Window::Fresh);
        assert_eq!(w.at(t0 + mins(45)), Window::Advisory);
        assert_eq!(
            w.at(t0 + mins(59) - Duration::from_secs(1)),
            Window::Advisory
        );
        assert_eq!(w.at(t0 + mins(59)), Window::Mandatory);
        assert_eq!(w.at(t0 + mins(600)), Window::Mandatory);
    }

    #[test]
    fn a_set_shorter_than_its_window_is_in_it_from_the_start() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let w = Windows::for_set(t0, t0 + mins(3));
        assert_eq!(w.at(t0), Window::Advisory);
        assert_eq!(w.at(t0 + mins(2)), Window::Mandatory);
        let expired = Windows::for_set(t0, t0 - mins(1));
        assert_eq!(expired.at(t0), Window::Mandatory);
    }

    #[test]
    fn backoff_stays_within_five_to_ten_minutes_and_replays_from_its_seed() {
        let mut a = fastrand::Rng::with_seed(7);
        let mut b = fastrand::Rng::with_seed(7);
        let draws: Vec<Duration> = (0..1000).map(|_| backoff(&mut a)).collect();
        assert!(
            draws
                .iter()
                .all(|d| (BACKOFF_MIN..=BACKOFF_MAX).contains(d))
        );
        // Spread over the range, not stuck at one end.
        assert!(draws.iter().any(|d| *d < mins(6)));
        assert!(draws.iter().any(|d| *d > mins(9)));
        let again: Vec<Duration> = (0..1000).map(|_| backoff(&mut b)).collect();
        assert_eq!(draws, again);
    }
}
