//! Proptest strategies for credential-expiry properties (feature `proptest`): role limits,
//! `DurationSeconds`, simulated clocks, start times, probe instants around an expiry and server
//! keys, so you can property-test your own credential handling against [`MockAws`](crate::MockAws).
//!
//! Every value is one AWS allows, with the boundaries drawn more often than their share
//! (3600 and 43200 for a role's maximum, 900 and the maximum for `DurationSeconds`, the
//! millisecond either side of an expiry), because that is where credential code breaks.
//!
//! Case counts: [`config`] builds a [`ProptestConfig`] with your default number of cases that
//! still honours `PROPTEST_CASES`, so a quick CI run and a deep local run
//! (`PROPTEST_CASES=1000 cargo test`) use the same test. (`ProptestConfig::with_cases(n)`
//! ignores the variable.)
//!
//! Clocks: [`ClockKind`] is frozen, scaled or virtual. Frozen and virtual clocks move only when
//! told, so an instant you choose is the instant the server judges. A scaled clock keeps moving
//! while a request is in flight, so a property on it must read the time the server judged from
//! its event ([`Event::sim_time`](crate::events::Event::sim_time)), not assume its own.
//!
//! # Example
//!
//! Each case gets a world whose role allows the generated maximum, a clock of the generated
//! kind, and a mock on both; the property then drives your code against it.
//! `examples/expiry_properties.rs` is a complete one: a user's own refresh-ahead cache on
//! aws-sdk-sts, checked never to sign with credentials the server would call expired.
//!
//! ```
//! use std::time::Duration;
//! use mock_sts::testing::{self, ClockKind, RoleLimits};
//! use proptest::prelude::*;
//! use proptest::test_runner::TestRunner;
//!
//! let mut runner = TestRunner::new(testing::config(4));
//! let cases = (testing::role_limits(), testing::clock_kind(), testing::start_time());
//! runner
//!     .run(&cases, |(limits, clock, start): (RoleLimits, ClockKind, _)| {
//!         clock.block_on(start, |clock| async move {
//!             let aws = mock_sts::MockAws::builder()
//!                 .clock(clock.clone())
//!                 .world(limits.world())
//!                 .seed(1)
//!                 .build();
//!             // ... AssumeRole with limits.duration_seconds through your SDK or signer,
//!             // then move time with testing::advance_to(&clock, instant) and call again.
//!             let granted = Duration::from_secs(u64::from(limits.granted_seconds()));
//!             prop_assert!(granted <= Duration::from_secs(u64::from(limits.max_session_duration)));
//!             prop_assert_eq!(aws.world().roles[0].max_session_duration, limits.max_session_duration);
//!             Ok(())
//!         })
//!     })
//!     .unwrap();
//! ```

use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

use crate::clock::{ClockError, SimClock};
use crate::credentials::ServerKey;
use crate::world::World;

/// IAM's smallest `MaxSessionDuration` for a role, seconds (IAM `CreateRole` reference).
pub const MIN_ROLE_MAX_SESSION_SECONDS: u32 = 3600;
/// IAM's largest `MaxSessionDuration` for a role: 12 hours.
pub const MAX_ROLE_MAX_SESSION_SECONDS: u32 = 43_200;
/// The smallest `DurationSeconds` `AssumeRole` accepts (AssumeRole API reference).
pub const MIN_DURATION_SECONDS: u32 = 900;
/// What `AssumeRole` grants when no `DurationSeconds` is sent, whatever the role allows.
pub const DEFAULT_DURATION_SECONDS: u32 = 3600;
/// The name of the role in [`RoleLimits::world`].
pub const ROLE_NAME: &str = "prop-role";
/// The account of [`RoleLimits::world`].
pub const ACCOUNT_ID: &str = "123456789012";
/// The world's IAM user's access key id (AWS's documented example key; it works nowhere else).
pub const USER_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Its secret.
pub const USER_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The environment variable proptest reads for its number of cases.
pub const CASES_VARIABLE: &str = "PROPTEST_CASES";

/// The number of cases to run: `PROPTEST_CASES` when it is set to a number, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var(CASES_VARIABLE)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Proptest's default configuration (which reads every `PROPTEST_*` variable) with
/// [`cases`]`(default_cases)` cases: the test's own size unless `PROPTEST_CASES` says otherwise.
pub fn config(default_cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases(default_cases),
        ..ProptestConfig::default()
    }
}

/// A role's `MaxSessionDuration`, 3600..=43200 seconds, the two bounds drawn often.
pub fn role_max_session_duration() -> impl Strategy<Value = u32> {
    prop_oneof![
        1 => Just(MIN_ROLE_MAX_SESSION_SECONDS),
        1 => Just(MAX_ROLE_MAX_SESSION_SECONDS),
        4 => MIN_ROLE_MAX_SESSION_SECONDS..=MAX_ROLE_MAX_SESSION_SECONDS,
    ]
}

/// A `DurationSeconds` `AssumeRole` accepts for a role whose maximum is `max`: `None` (not sent,
/// so 3600 is granted) or 900..=`max`, with 900 and `max` drawn often.
pub fn duration_seconds(max: u32) -> impl Strategy<Value = Option<u32>> {
    let max = max.max(MIN_DURATION_SECONDS);
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(MIN_DURATION_SECONDS)),
        1 => Just(Some(max)),
        3 => (MIN_DURATION_SECONDS..=max).prop_map(Some),
    ]
}

/// A role's maximum session and the `DurationSeconds` a caller asks for within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoleLimits {
    /// The role's `MaxSessionDuration`, seconds (3600..=43200).
    pub max_session_duration: u32,
    /// `DurationSeconds` to send, or `None` to send none.
    pub duration_seconds: Option<u32>,
}

impl RoleLimits {
    /// The lifetime `AssumeRole` grants: the `DurationSeconds` sent, else 3600.
    pub fn granted_seconds(&self) -> u32 {
        self.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS)
    }

    /// The ARN of [`ROLE_NAME`] in [`world`](Self::world).
    pub fn role_arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT_ID}:role/{ROLE_NAME}")
    }

    /// The world file text: one account, the user [`USER_ACCESS_KEY_ID`], and the role
    /// [`ROLE_NAME`] with this maximum, trusted by the account.
    pub fn world_toml(&self) -> String {
        format!(
            "[[account]]\nid = \"{ACCOUNT_ID}\"\n\n\
             [[user]]\nname = \"prop-user\"\naccess_key_id = \"{USER_ACCESS_KEY_ID}\"\n\
             secret_access_key = \"{USER_SECRET_ACCESS_KEY}\"\n\n\
             [[role]]\nname = \"{ROLE_NAME}\"\nmax_session_duration = {}\n\
             trusted = [\"arn:aws:iam::{ACCOUNT_ID}:root\"]\n",
            self.max_session_duration
        )
    }

    /// The world of [`world_toml`](Self::world_toml), for [`MockAwsBuilder::world`](crate::MockAwsBuilder::world).
    ///
    /// # Panics
    /// Never for limits from [`role_limits`]; a `max_session_duration` outside 3600..=43200
    /// is refused by the world parser, as IAM refuses it.
    pub fn world(&self) -> World {
        match World::from_toml_str(&self.world_toml(), "<testing::RoleLimits>") {
            Ok(world) => world,
            Err(e) => panic!("RoleLimits {self:?} make no valid world: {e}"),
        }
    }
}

/// A role maximum (3600..=43200) and a `DurationSeconds` within it (or none).
pub fn role_limits() -> impl Strategy<Value = RoleLimits> {
    role_max_session_duration().prop_flat_map(|max| {
        duration_seconds(max).prop_map(move |duration_seconds| RoleLimits {
            max_session_duration: max,
            duration_seconds,
        })
    })
}

/// Which kind of simulated clock a case runs on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockKind {
    /// Stopped; moves only when advanced.
    Frozen,
    /// Runs `rate` times real time (and jumps when advanced).
    Scaled {
        /// Simulated seconds per real second.
        rate: f64,
    },
    /// tokio's paused clock: moves when advanced, or when every task sleeps.
    Virtual,
}

impl fmt::Display for ClockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClockKind::Frozen => f.write_str("frozen"),
            ClockKind::Scaled { rate } => write!(f, "scaled:{rate}"),
            ClockKind::Virtual => f.write_str("virtual"),
        }
    }
}

impl ClockKind {
    /// Whether the clock stands still unless told to move, so that the instant a test chooses
    /// is the instant the server judges (frozen and virtual clocks).
    pub fn is_exact(&self) -> bool {
        !matches!(self, ClockKind::Scaled { .. })
    }

    /// A clock of this kind at `start`. A virtual clock must be created inside the runtime
    /// that drives it: use [`block_on`](Self::block_on), or call this inside
    /// [`runtime`](Self::runtime)'s `block_on`.
    ///
    /// # Panics
    /// For a scaled rate that is negative or not finite ([`clock_kind`] draws none).
    pub fn clock(&self, start: SystemTime) -> SimClock {
        match self {
            ClockKind::Frozen => SimClock::frozen(start),
            ClockKind::Scaled { rate } => match SimClock::scaled(*rate, start) {
                Ok(clock) => clock,
                Err(e) => panic!("ClockKind::Scaled: {e}"),
            },
            ClockKind::Virtual => SimClock::virtual_at(start),
        }
    }

    /// The runtime a case of this kind runs in: current-thread, timers enabled, and for a
    /// virtual clock started paused (sleeps then cost no wall time).
    ///
    /// # Errors
    /// When tokio cannot build the runtime.
    pub fn runtime(&self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_time();
        if matches!(self, ClockKind::Virtual) {
            builder.start_paused(true);
        }
        builder.build()
    }

    /// Runs `f` with a clock of this kind at `start`, in [`runtime`](Self::runtime).
    ///
    /// # Panics
    /// When tokio cannot build a runtime.
    pub fn block_on<F, Fut>(&self, start: SystemTime, f: F) -> Fut::Output
    where
        F: FnOnce(SimClock) -> Fut,
        Fut: Future,
    {
        let runtime = match self.runtime() {
            Ok(runtime) => runtime,
            Err(e) => panic!("cannot build a tokio runtime: {e}"),
        };
        let kind = *self;
        runtime.block_on(async move { f(kind.clock(start)).await })
    }
}

/// Frozen, scaled (×1 to ×360: the README's advice for in-process SDKs) or virtual.
pub fn clock_kind() -> impl Strategy<Value = ClockKind> {
    prop_oneof![
        Just(ClockKind::Frozen),
        (1.0f64..=360.0).prop_map(|rate| ClockKind::Scaled { rate }),
        Just(ClockKind::Virtual),
    ]
}

/// A simulated start between 2024-01-01 and 2035-01-01, on a whole second or with milliseconds
/// (credentials expire on whole seconds, so a fractional issue time lives a little longer).
pub fn start_time() -> impl Strategy<Value = SystemTime> {
    const FROM: u64 = 1_704_067_200; // 2024-01-01T00:00:00Z
    const TO: u64 = 2_051_222_400; // 2035-01-01T00:00:00Z
    (FROM..TO, prop_oneof![Just(0u64), 0u64..1000]).prop_map(|(secs, millis)| {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    })
}

/// An instant relative to a credential's expiry, in milliseconds: negative before it, zero at
/// it (already expired: AWS refuses at `now >= Expiration`), positive after.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Offset(pub i64);

impl Offset {
    /// The instant `self` away from `expiry`.
    pub fn from(self, expiry: SystemTime) -> SystemTime {
        let magnitude = Duration::from_millis(self.0.unsigned_abs());
        if self.0 < 0 {
            expiry.checked_sub(magnitude).unwrap_or(UNIX_EPOCH)
        } else {
            expiry + magnitude
        }
    }

    /// Whether credentials are expired at this instant.
    pub fn is_expired(self) -> bool {
        self.0 >= 0
    }
}

/// Probe instants around an expiry for credentials that live `lifetime`: always the
/// boundary (−1 s, −1 ms, 0, +1 ms, +1 s), plus up to `extra` instants anywhere from the issue
/// to one lifetime past the expiry. Sorted and without duplicates, so a clock that never goes
/// backwards can visit them in order.
pub fn offsets_around_expiry(
    lifetime: Duration,
    extra: usize,
) -> impl Strategy<Value = Vec<Offset>> {
    let span = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
    prop::collection::vec(-span..=span, 0..=extra).prop_map(|mut offsets| {
        offsets.extend([-1000, -1, 0, 1, 1000]);
        offsets.sort_unstable();
        offsets.dedup();
        offsets.into_iter().map(Offset).collect()
    })
}

/// Moves `clock` forward to `t`; does nothing when it is already there or past it (simulated
/// time never goes backwards).
///
/// # Errors
/// [`ClockError::NotAdjustable`] for a wall clock.
pub fn advance_to(clock: &SimClock, t: SystemTime) -> Result<(), ClockError> {
    match t.duration_since(clock.now()) {
        Ok(d) if !d.is_zero() => clock.advance(d),
        _ => Ok(()),
    }
}

/// One expiry-boundary case: where time starts, the role's limits, the clock and the probe
/// instants around the credentials' expiry.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpiryCase {
    /// Simulated start (the `AssumeRole` is sent then).
    pub start: SystemTime,
    /// The role's maximum and the `DurationSeconds` asked for.
    pub limits: RoleLimits,
    /// The clock.
    pub clock: ClockKind,
    /// Instants to call at, relative to the expiry.
    pub offsets: Vec<Offset>,
}

impl ExpiryCase {
    /// The `Expiration` AWS stamps on credentials issued at [`start`](Self::start):
    /// `floor(start + granted)`, on whole seconds, so they may live up to a second less than
    /// granted.
    pub fn expected_expiry(&self) -> SystemTime {
        crate::sts::session_expiration(self.start, self.limits.granted_seconds())
    }
}

/// [`ExpiryCase`]s: any role limits, clock and start, and up to `extra` probes besides the
/// boundary ones.
pub fn expiry_case(extra: usize) -> impl Strategy<Value = ExpiryCase> {
    (role_limits(), clock_kind(), start_time()).prop_flat_map(move |(limits, clock, start)| {
        let lifetime = Duration::from_secs(u64::from(limits.granted_seconds()));
        offsets_around_expiry(lifetime, extra).prop_map(move |offsets| ExpiryCase {
            start,
            limits,
            clock,
            offsets,
        })
    })
}

/// A server key from any 32 bytes.
pub fn server_key() -> impl Strategy<Value = ServerKey> {
    any::<[u8; 32]>().prop_map(ServerKey::from_bytes)
}

/// Two different server keys.
pub fn distinct_server_keys() -> impl Strategy<Value = (ServerKey, ServerKey)> {
    (any::<[u8; 32]>(), any::<[u8; 32]>())
        .prop_filter("two different keys", |(a, b)| a != b)
        .prop_map(|(a, b)| (ServerKey::from_bytes(a), ServerKey::from_bytes(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::test_runner::TestRunner;

    #[test]
    fn cases_default_unless_the_variable_is_a_number() {
        // The variable is process-wide: read it, do not set it (tests run in parallel).
        let expected = std::env::var(CASES_VARIABLE)
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(17);
        assert_eq!(cases(17), expected);
        assert_eq!(config(17).cases, expected);
    }

    #[test]
    fn generated_limits_are_within_iam_and_sts_bounds_and_make_worlds() {
        let mut runner = TestRunner::new(config(64));
        runner
            .run(&role_limits(), |limits| {
                prop_assert!((3600..=43200).contains(&limits.max_session_duration));
                if let Some(d) = limits.duration_seconds {
                    prop_assert!((900..=limits.max_session_duration).contains(&d));
                }
                let world = limits.world();
                let role = world.role_by_arn(&limits.role_arn());
                prop_assert_eq!(
                    role.map(|r| r.max_session_duration),
                    Some(limits.max_session_duration)
                );
                prop_assert!(world.user_by_access_key(USER_ACCESS_KEY_ID).is_some());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn offsets_are_sorted_and_hold_the_boundary() {
        let mut runner = TestRunner::new(config(64));
        runner
            .run(
                &offsets_around_expiry(Duration::from_secs(900), 8),
                |offsets| {
                    prop_assert!(offsets.windows(2).all(|w| w[0] < w[1]));
                    for boundary in [-1, 0, 1] {
                        prop_assert!(offsets.contains(&Offset(boundary)));
                    }
                    prop_assert!(offsets.iter().all(|o| o.0.abs() <= 900_000));
                    Ok(())
                },
            )
            .unwrap();
    }

    #[test]
    fn offsets_place_instants_and_judge_expiry() {
        let expiry = UNIX_EPOCH + Duration::from_secs(10);
        assert_eq!(Offset(-1).from(expiry), expiry - Duration::from_millis(1));
        assert_eq!(
            Offset(250).from(expiry),
            expiry + Duration::from_millis(250)
        );
        assert!(!Offset(-1).is_expired());
        assert!(Offset(0).is_expired());
        let case = ExpiryCase {
            start: UNIX_EPOCH + Duration::from_millis(1500),
            limits: RoleLimits {
                max_session_duration: 3600,
                duration_seconds: None,
            },
            clock: ClockKind::Frozen,
            offsets: Vec::new(),
        };
        // 1.5 s + 3600 s, truncated to the second.
        assert_eq!(
            case.expected_expiry(),
            UNIX_EPOCH + Duration::from_secs(3601)
        );
    }

    #[test]
    fn every_clock_kind_runs_and_advances() {
        let start = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        for kind in [
            ClockKind::Frozen,
            ClockKind::Scaled { rate: 2.0 },
            ClockKind::Virtual,
        ] {
            let moved = kind.block_on(start, |clock| async move {
                advance_to(&clock, start + Duration::from_secs(60)).unwrap();
                // Never backwards.
                advance_to(&clock, start).unwrap();
                clock.now()
            });
            assert!(moved >= start + Duration::from_secs(60), "{kind}");
            if kind.is_exact() {
                assert_eq!(moved, start + Duration::from_secs(60), "{kind}");
            }
        }
        // A wall clock cannot be advanced, but asking for the past is no move at all.
        assert!(advance_to(&SimClock::wall(), UNIX_EPOCH).is_ok());
        assert!(advance_to(&SimClock::wall(), start).is_err());
    }

    #[test]
    fn distinct_keys_differ() {
        let mut runner = TestRunner::new(config(32));
        runner
            .run(&distinct_server_keys(), |(a, b)| {
                prop_assert_ne!(a.to_hex(), b.to_hex());
                Ok(())
            })
            .unwrap();
    }
}
