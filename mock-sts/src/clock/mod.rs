//! The simulated clock: the one source of "now" for the server, the harness and the SDK under test.
//!
//! Credentials expire on this clock, signatures are judged against it, and the `Date` header
//! every response carries comes from it, so a client that shares it (in-process through the
//! [`TimeSource`]/[`AsyncSleep`] adapters, or as a subprocess under libfaketime with
//! [`SimClock::faketime`]) sees exactly the expiry the server enforces.
//!
//! Three modes (DESIGN.md §2):
//! - **wall**: system time, real sleeps. Cannot be advanced or scaled.
//! - **scaled**: `anchor + real_elapsed × rate`, re-anchored on every jump or rate change.
//!   Rate 0 is a *frozen* clock that moves only when advanced.
//! - **virtual**: tokio's paused clock mapped onto a start time. Only meaningful inside a
//!   `current_thread` runtime started paused, where sleeps complete instantly once every task
//!   waits, so hours replay in milliseconds, deterministically.
//!
//! Invariants: `now()` never goes backwards (advances are forward only; rate changes re-anchor
//! at the current instant), and every sleeper wakes when the clock is advanced or re-rated, so a
//! jump past a deadline fires it at once.
//!
//! A client's own clock can be wrong where the server's is right: [`SkewedClock`] decorates a
//! `SimClock` with an offset, a drift and jumps ([`ClockFaults`]) that only the client sees.
//!
//! This module holds the workspace's only reads of the system clock (`SystemTime::now` for
//! `wall`, `Instant::now` for `scaled` and `virtual`).

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_smithy_async::rt::sleep::{AsyncSleep, Sleep};
use aws_smithy_async::time::TimeSource;
use tokio::sync::Notify;

mod real;
mod skewed;

pub use real::{Elapsed, RealSleep, real_sleep, real_timeout};
pub use skewed::{ClockFaultError, ClockFaults, ClockJump, SkewedClock};

/// The start of simulated time when none is given for a virtual clock: 2026-01-01T00:00:00Z.
///
/// A fixed epoch keeps virtual runs reproducible across days.
pub fn default_virtual_start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// The configured behaviour of a [`SimClock`], as reported by the control API.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockMode {
    /// System time, real sleeps.
    Wall,
    /// Accelerated (or slowed, or frozen at rate 0) simulated time over real elapsed time.
    Scaled {
        /// Simulated seconds per real second at this moment.
        rate: f64,
    },
    /// tokio's paused clock mapped onto a start time.
    Virtual,
}

impl ClockMode {
    /// The name used on the wire (`GET /_mock/clock`): `wall`, `scaled`, `frozen` or `virtual`.
    pub fn name(&self) -> &'static str {
        match self {
            ClockMode::Wall => "wall",
            ClockMode::Scaled { rate } if *rate == 0.0 => "frozen",
            ClockMode::Scaled { .. } => "scaled",
            ClockMode::Virtual => "virtual",
        }
    }

    /// Simulated seconds per real (or, for virtual, per tokio) second.
    pub fn rate(&self) -> f64 {
        match self {
            ClockMode::Wall | ClockMode::Virtual => 1.0,
            ClockMode::Scaled { rate } => *rate,
        }
    }
}

/// Why a clock operation was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClockError {
    /// `advance` or `set_rate` on a wall clock, which follows the system clock and nothing else.
    #[error("a wall clock follows the system clock and cannot be {0}")]
    NotAdjustable(&'static str),
    /// `set_rate` on a virtual clock, whose pace is set by the paused runtime.
    #[error("a virtual clock runs at the pace of its paused runtime; its rate cannot be changed")]
    VirtualRate,
    /// A rate that is negative, NaN or infinite.
    #[error("rate must be a finite number >= 0, got {0}")]
    BadRate(f64),
    /// An advance by a negative or non-finite number of seconds.
    #[error("can only advance by a finite, non-negative number of seconds, got {0}")]
    BadAdvance(f64),
}

/// Where real elapsed time is measured from.
#[derive(Debug, Clone, Copy)]
enum Source {
    Wall,
    /// `std::time::Instant`: real time even inside a paused runtime.
    Real(std::time::Instant),
    /// `tokio::time::Instant`: paused (virtual) time inside a paused runtime.
    Tokio(tokio::time::Instant),
}

#[derive(Debug)]
struct State {
    source: Source,
    /// Simulated time at the anchor instant.
    anchor_sim: SystemTime,
    rate: f64,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    /// Woken on every advance and rate change so sleepers recompute their deadline.
    changed: Notify,
}

/// A cheap, cloneable handle on one simulated clock.
///
/// ```
/// use std::time::Duration;
/// use mock_sts::clock::SimClock;
///
/// let clock = SimClock::frozen(mock_sts::clock::default_virtual_start());
/// let before = clock.now();
/// clock.advance(Duration::from_secs(3600)).unwrap();
/// assert_eq!(clock.now().duration_since(before).unwrap(), Duration::from_secs(3600));
/// ```
#[derive(Clone, Debug)]
pub struct SimClock {
    inner: Arc<Inner>,
}

impl SimClock {
    fn with(source: Source, anchor_sim: SystemTime, rate: f64) -> Self {
        SimClock {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    source,
                    anchor_sim,
                    rate,
                }),
                changed: Notify::new(),
            }),
        }
    }

    /// A clock that is the system clock.
    pub fn wall() -> Self {
        Self::with(Source::Wall, UNIX_EPOCH, 1.0)
    }

    /// A clock that starts at `start` and runs `rate` times faster than real time.
    ///
    /// # Errors
    /// [`ClockError::BadRate`] for a negative or non-finite rate.
    pub fn scaled(rate: f64, start: SystemTime) -> Result<Self, ClockError> {
        check_rate(rate)?;
        Ok(Self::with(Source::Real(real_now()), start, rate))
    }

    /// A clock stopped at `start`: it moves only when advanced (a scaled clock at rate 0).
    pub fn frozen(start: SystemTime) -> Self {
        Self::with(Source::Real(real_now()), start, 0.0)
    }

    /// A virtual clock at `start`, driven by tokio's clock.
    ///
    /// Create it inside the runtime that drives it: in a runtime started paused
    /// (`tokio::runtime::Builder::start_paused(true)`), time advances only when every task
    /// waits on a timer, so sleeps cost no wall time. Outside such a runtime it runs at real
    /// speed.
    pub fn virtual_at(start: SystemTime) -> Self {
        Self::with(Source::Tokio(tokio_now()), start, 1.0)
    }

    /// The wall-clock time now: the one system-clock read of the workspace. Other crates read
    /// the wall clock as everything else, through [`SimClock::wall`]`().now()`.
    #[allow(clippy::disallowed_methods)] // the one system-clock read of the workspace
    pub(crate) fn system_now() -> SystemTime {
        SystemTime::now()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means a panic elsewhere; the state (three plain fields) is
        // always consistent, so keep going rather than cascade the panic.
        self.inner
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Simulated time now.
    pub fn now(&self) -> SystemTime {
        let state = self.lock();
        now_locked(&state)
    }

    /// The clock's mode and current rate.
    pub fn mode(&self) -> ClockMode {
        let state = self.lock();
        match state.source {
            Source::Wall => ClockMode::Wall,
            Source::Real(_) => ClockMode::Scaled { rate: state.rate },
            Source::Tokio(_) => ClockMode::Virtual,
        }
    }

    /// Jumps simulated time forward by `d` and wakes every sleeper.
    ///
    /// # Errors
    /// [`ClockError::NotAdjustable`] on a wall clock.
    pub fn advance(&self, d: Duration) -> Result<(), ClockError> {
        {
            let mut state = self.lock();
            if matches!(state.source, Source::Wall) {
                return Err(ClockError::NotAdjustable("advanced"));
            }
            state.anchor_sim += d;
        }
        self.inner.changed.notify_waiters();
        Ok(())
    }

    /// [`advance`](Self::advance) by a number of seconds (fractions allowed), as the control API takes it.
    ///
    /// # Errors
    /// [`ClockError::BadAdvance`] for a negative or non-finite number; otherwise as `advance`.
    pub fn advance_secs_f64(&self, seconds: f64) -> Result<(), ClockError> {
        let d =
            Duration::try_from_secs_f64(seconds).map_err(|_| ClockError::BadAdvance(seconds))?;
        self.advance(d)
    }

    /// Changes the rate of a scaled clock from now on (0 freezes it) and wakes every sleeper.
    ///
    /// # Errors
    /// [`ClockError::BadRate`], [`ClockError::NotAdjustable`] (wall), [`ClockError::VirtualRate`].
    pub fn set_rate(&self, rate: f64) -> Result<(), ClockError> {
        check_rate(rate)?;
        {
            let mut state = self.lock();
            match state.source {
                Source::Wall => return Err(ClockError::NotAdjustable("re-rated")),
                Source::Tokio(_) => return Err(ClockError::VirtualRate),
                Source::Real(_) => {}
            }
            let now = now_locked(&state);
            state.anchor_sim = now;
            state.source = Source::Real(real_now());
            state.rate = rate;
        }
        self.inner.changed.notify_waiters();
        Ok(())
    }

    /// Stops a scaled clock (rate 0); it then moves only when advanced.
    ///
    /// # Errors
    /// As [`set_rate`](Self::set_rate).
    pub fn freeze(&self) -> Result<(), ClockError> {
        self.set_rate(0.0)
    }

    /// Waits `d` of simulated time.
    pub async fn sleep(&self, d: Duration) {
        let deadline = self.now() + d;
        self.sleep_until(deadline).await;
    }

    /// Waits until simulated time reaches `deadline` (at once if it has).
    ///
    /// Re-evaluates after every advance or rate change, so a jump past the deadline wakes the
    /// sleeper immediately and a frozen clock sleeps until someone advances it.
    pub async fn sleep_until(&self, deadline: SystemTime) {
        loop {
            let notified = self.inner.changed.notified();
            tokio::pin!(notified);
            // Register before reading the clock, so a change between the read and the wait
            // still wakes us.
            notified.as_mut().enable();
            let (remaining, rate) = {
                let state = self.lock();
                let now = now_locked(&state);
                match deadline.duration_since(now) {
                    Ok(d) if !d.is_zero() => (d, state.rate),
                    _ => return,
                }
            };
            if rate == 0.0 {
                notified.await;
                continue;
            }
            let real = if rate == 1.0 {
                remaining
            } else {
                // Round up to at least 1 µs so a sub-nanosecond remainder cannot spin.
                Duration::from_secs_f64(remaining.as_secs_f64() / rate)
                    .max(Duration::from_micros(1))
            };
            // tokio's timer is real time, or virtual time in a paused runtime: either way the
            // loop re-reads the simulated clock when it wakes.
            #[allow(clippy::disallowed_methods)] // the clock's own timer: re-checked on wake
            let timer = tokio::time::sleep(real);
            tokio::select! {
                () = timer => {}
                () = &mut notified => {}
            }
        }
    }

    /// The libfaketime `FAKETIME` value that makes a process started *now* see this clock.
    ///
    /// - scaled: `@YYYY-MM-DD hh:mm:ss xRATE` (start at now, run at the rate);
    /// - frozen: `YYYY-MM-DD hh:mm:ss` (an absolute, stopped time);
    /// - wall: `+0`.
    ///
    /// libfaketime takes whole seconds, so the value is rounded to the nearest second, and a
    /// process's fake clock starts when it starts: compute the value immediately before
    /// spawning and wrap the client (and its children) in one `faketime` so they share it.
    /// `None` for a virtual clock, which no external process can follow. Later advances or
    /// rate changes are not seen by a process already started.
    pub fn faketime(&self) -> Option<String> {
        let (now, mode) = {
            let state = self.lock();
            let mode = match state.source {
                Source::Wall => ClockMode::Wall,
                Source::Real(_) => ClockMode::Scaled { rate: state.rate },
                Source::Tokio(_) => ClockMode::Virtual,
            };
            (now_locked(&state), mode)
        };
        let rounded = round_to_second(now);
        match mode {
            ClockMode::Wall => Some("+0".to_string()),
            ClockMode::Virtual => None,
            ClockMode::Scaled { rate: 0.0 } => Some(crate::timestamp::faketime_absolute(rounded)),
            ClockMode::Scaled { rate } => Some(format!(
                "@{} x{}",
                crate::timestamp::faketime_absolute(rounded),
                rate
            )),
        }
    }
}

impl fmt::Display for SimClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mode = self.mode();
        write!(
            f,
            "{} clock at {} (rate {})",
            mode.name(),
            crate::timestamp::rfc3339_millis(self.now()),
            mode.rate()
        )
    }
}

/// The SDK reads time through this: signing time, identity-cache expiry, IMDS token TTLs.
impl TimeSource for SimClock {
    fn now(&self) -> SystemTime {
        SimClock::now(self)
    }
}

/// The SDK sleeps through this: retry back-off, timeouts, identity load timeouts. Sleeping on
/// the simulated clock keeps a frozen or accelerated clock consistent with the SDK's timers.
impl AsyncSleep for SimClock {
    fn sleep(&self, duration: Duration) -> Sleep {
        let clock = self.clone();
        Sleep::new(async move { SimClock::sleep(&clock, duration).await })
    }
}

/// Parses a duration as the CLI and scenario files write it: `90`, `90s`, `15m`, `4h`,
/// `1h30m`, `1.5h`, `250ms`, `2d` (a bare number is seconds).
///
/// # Errors
/// A message naming the text when it is not such a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let bad = || format!("`{text}` is not a duration (e.g. 90s, 15m, 4h, 1h30m, 250ms)");
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = t.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut total = 0f64;
    let mut rest = t;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (number, tail) = rest.split_at(split);
        let value: f64 = number.parse().map_err(|_| bad())?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_len);
        let scale = match unit {
            "ms" => 0.001,
            "s" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = next;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Measures real elapsed time, for wall-clock latency figures (never for credential decisions).
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    /// Starts measuring.
    pub fn start() -> Self {
        Stopwatch(real_now())
    }

    /// Real time since [`start`](Self::start).
    pub fn elapsed(&self) -> Duration {
        real_now().saturating_duration_since(self.0)
    }
}

fn check_rate(rate: f64) -> Result<(), ClockError> {
    if rate.is_finite() && rate >= 0.0 {
        Ok(())
    } else {
        Err(ClockError::BadRate(rate))
    }
}

fn now_locked(state: &State) -> SystemTime {
    let elapsed = match state.source {
        Source::Wall => return SimClock::system_now(),
        Source::Real(anchor) => real_now().saturating_duration_since(anchor),
        Source::Tokio(anchor) => tokio_now().saturating_duration_since(anchor),
    };
    if state.rate == 1.0 {
        state.anchor_sim + elapsed
    } else if state.rate == 0.0 {
        state.anchor_sim
    } else {
        state.anchor_sim + Duration::from_secs_f64(elapsed.as_secs_f64() * state.rate)
    }
}

#[allow(clippy::disallowed_methods)] // the clock module owns real-time reads
fn real_now() -> std::time::Instant {
    std::time::Instant::now()
}

#[allow(clippy::disallowed_methods)] // the clock module owns real-time reads
fn tokio_now() -> tokio::time::Instant {
    tokio::time::Instant::now()
}

pub(crate) fn round_to_second(t: SystemTime) -> SystemTime {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() + u64::from(since.subsec_nanos() >= 500_000_000);
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> SystemTime {
        default_virtual_start()
    }

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let clock = SimClock::frozen(start());
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), start());
        clock.advance_secs_f64(1.5).unwrap();
        assert_eq!(clock.now(), start() + Duration::from_millis(1500));
        assert_eq!(clock.mode().name(), "frozen");
    }

    #[test]
    fn scaled_clock_runs_at_its_rate_and_rerates_without_jumping() {
        let clock = SimClock::scaled(1000.0, start()).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let t1 = clock.now();
        assert!(t1 >= start() + Duration::from_secs(20), "{t1:?}");
        clock.set_rate(0.0).unwrap();
        let t2 = clock.now();
        assert!(t2 >= t1);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(clock.now(), t2);
    }

    #[test]
    fn wall_clock_refuses_adjustment() {
        let clock = SimClock::wall();
        assert_eq!(
            clock.advance(Duration::from_secs(1)),
            Err(ClockError::NotAdjustable("advanced"))
        );
        assert_eq!(
            clock.set_rate(2.0),
            Err(ClockError::NotAdjustable("re-rated"))
        );
    }

    #[test]
    fn bad_rates_and_advances_are_refused() {
        assert!(SimClock::scaled(-1.0, start()).is_err());
        assert!(SimClock::scaled(f64::NAN, start()).is_err());
        let clock = SimClock::frozen(start());
        assert_eq!(
            clock.set_rate(f64::INFINITY),
            Err(ClockError::BadRate(f64::INFINITY))
        );
        assert!(matches!(
            clock.advance_secs_f64(-1.0),
            Err(ClockError::BadAdvance(_))
        ));
        assert!(clock.advance_secs_f64(f64::NAN).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn virtual_clock_sleeps_without_wall_time() {
        let clock = SimClock::virtual_at(start());
        clock.sleep(Duration::from_secs(4 * 3600)).await;
        assert_eq!(clock.now(), start() + Duration::from_secs(4 * 3600));
        assert_eq!(clock.set_rate(2.0), Err(ClockError::VirtualRate));
    }

    #[tokio::test]
    async fn advancing_past_a_deadline_wakes_a_frozen_sleeper() {
        let clock = SimClock::frozen(start());
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep(Duration::from_secs(60)).await })
        };
        tokio::task::yield_now().await;
        clock.advance(Duration::from_secs(61)).unwrap();
        real_timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("sleeper woke")
            .unwrap();
    }

    #[test]
    fn faketime_values_match_the_mode() {
        let frozen = SimClock::frozen(start());
        assert_eq!(frozen.faketime().unwrap(), "2026-01-01 00:00:00");
        let scaled = SimClock::scaled(360.0, start()).unwrap();
        let value = scaled.faketime().unwrap();
        assert!(value.starts_with("@2026-01-01 00:00:0"), "{value}");
        assert!(value.ends_with(" x360"), "{value}");
        assert_eq!(SimClock::wall().faketime().unwrap(), "+0");
    }

    #[tokio::test(start_paused = true)]
    async fn virtual_clock_has_no_faketime() {
        assert_eq!(SimClock::virtual_at(start()).faketime(), None);
    }

    #[test]
    fn durations_parse_like_the_cli_writes_them() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        for bad in ["", "h", "5x", "-5", "1h-", "abc"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn time_source_adapter_reads_the_same_clock() {
        let clock = SimClock::frozen(start());
        let source: &dyn TimeSource = &clock;
        assert_eq!(source.now(), start());
    }
}
