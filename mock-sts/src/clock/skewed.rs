//! Client clock faults: a clock that is ahead or behind, runs fast or slow, or jumps, seen by
//! the client alone while the server keeps the true simulated time.
//!
//! AWS judges a request by its own clock: a client whose clock is 20 minutes behind signs
//! requests that STS calls "Signature expired" and S3 `RequestTimeTooSkewed`, and its credential
//! cache believes keys live 20 minutes longer than they do. A laptop that sleeps and wakes, a VM
//! restored from a snapshot, an NTP step: each moves the client's wall clock at once. The
//! decorator reproduces these on the simulated clock (TigerBeetle's `testing/time.zig` has the
//! same three: offset, drift, step):
//!
//! `client = server + offset + drift × (server − origin) + Σ jumps whose time has come`
//!
//! where `origin` is the server time the faults start from (the run's start) and each jump
//! happens when the *server's* elapsed time reaches its `at`. Only readings change: sleeps pass
//! on the server clock, as a machine's monotonic timers do not move when its wall clock is
//! stepped (and a drift of a few parts per thousand is immaterial to a timer).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_smithy_async::rt::sleep::{AsyncSleep, Sleep};
use aws_smithy_async::time::TimeSource;

use super::{ClockMode, SimClock, round_to_second};

/// One step of a client's wall clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClockJump {
    /// When it happens: server time since the faults' origin.
    pub at: Duration,
    /// By how much, seconds: positive jumps forward (a resume after sleep), negative back.
    pub by_seconds: f64,
}

/// How wrong a client's clock is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClockFaults {
    /// Seconds the client's clock is ahead of the server's (negative: behind).
    pub offset_seconds: f64,
    /// Rate error: `0.001` runs 0.1 % fast (gains 3.6 s an hour), `-0.001` slow.
    pub drift: f64,
    /// Steps, in any order.
    pub jumps: Vec<ClockJump>,
}

/// Why a `FAKETIME` value cannot carry a client's clock faults.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ClockFaultError {
    /// libfaketime's start-and-rate form is fixed when the program starts (see
    /// [`ClockFaults::faketime`]).
    #[error(
        "clock_jumps cannot be applied to a program already running under libfaketime: its start-and-rate clock is fixed when it starts (use clock_offset, or an in-process strategy)"
    )]
    JumpsInProcess,
    /// A drift that would stop or reverse the client's clock.
    #[error("clock_drift must be greater than -1 (the clock would stop or run backwards), got {0}")]
    BadDrift(f64),
}

impl ClockFaults {
    /// Whether the clock is exact.
    pub fn is_none(&self) -> bool {
        self.offset_seconds == 0.0 && self.drift == 0.0 && self.jumps.is_empty()
    }

    /// The error of a clock `elapsed` (server time) after the origin, seconds.
    pub fn error_at(&self, elapsed: Duration) -> f64 {
        let jumps: f64 = self
            .jumps
            .iter()
            .filter(|j| elapsed >= j.at)
            .map(|j| j.by_seconds)
            .sum();
        self.offset_seconds + self.drift * elapsed.as_secs_f64() + jumps
    }

    /// The libfaketime `FAKETIME` value for a program started now that should see `clock` with
    /// these faults: the start moved by the offset, the rate scaled by `1 + drift`.
    ///
    /// # Errors
    /// [`ClockFaultError::JumpsInProcess`] when there are jumps: the harness starts programs
    /// with an absolute start and a rate (`@START xRATE`, so that every child shares one
    /// clock); measured with libfaketime 0.9.10, a running program re-reads
    /// `FAKETIME_TIMESTAMP_FILE` (with `FAKETIME_NO_CACHE=1`) and follows a *relative* offset
    /// changed there ("+0" to "+2h" stepped a running Python), but the start-and-rate form was
    /// not shown to re-anchor, so jumps are refused rather than faked.
    /// [`ClockFaultError::BadDrift`] for a drift of -1 or less.
    pub fn faketime(&self, clock: &SimClock) -> Result<Option<String>, ClockFaultError> {
        if !self.jumps.is_empty() {
            return Err(ClockFaultError::JumpsInProcess);
        }
        if self.drift <= -1.0 || !self.drift.is_finite() {
            return Err(ClockFaultError::BadDrift(self.drift));
        }
        if self.is_none() {
            return Ok(clock.faketime());
        }
        let start = round_to_second(shift(clock.now(), self.offset_seconds));
        let absolute = crate::timestamp::faketime_absolute(start);
        Ok(match clock.mode() {
            ClockMode::Virtual => None,
            ClockMode::Wall if self.drift == 0.0 => {
                Some(format!("{:+}", self.offset_seconds.round() as i64))
            }
            ClockMode::Wall => Some(format!("@{absolute} x{}", 1.0 + self.drift)),
            ClockMode::Scaled { rate: 0.0 } => Some(absolute),
            ClockMode::Scaled { rate } => {
                Some(format!("@{absolute} x{}", rate * (1.0 + self.drift)))
            }
        })
    }
}

fn shift(t: SystemTime, seconds: f64) -> SystemTime {
    let d = Duration::try_from_secs_f64(seconds.abs()).unwrap_or(Duration::MAX);
    if seconds >= 0.0 {
        t.checked_add(d).unwrap_or(t)
    } else {
        t.checked_sub(d).unwrap_or(SystemTime::UNIX_EPOCH)
    }
}

/// A client's clock: the server's [`SimClock`] as a client with [`ClockFaults`] reads it.
///
/// ```
/// use std::time::Duration;
/// use mock_sts::clock::{ClockFaults, ClockJump, SimClock, SkewedClock};
///
/// let server = SimClock::frozen(mock_sts::clock::default_virtual_start());
/// let faults = ClockFaults {
///     offset_seconds: -1200.0,
///     jumps: vec![ClockJump { at: Duration::from_secs(600), by_seconds: 7200.0 }],
///     ..ClockFaults::default()
/// };
/// let client = SkewedClock::new(server.clone(), faults);
/// assert_eq!(server.now().duration_since(client.now()).unwrap(), Duration::from_secs(1200));
/// server.advance(Duration::from_secs(600)).unwrap();
/// assert_eq!(client.now().duration_since(server.now()).unwrap(), Duration::from_secs(6000));
/// ```
#[derive(Debug, Clone)]
pub struct SkewedClock {
    inner: SimClock,
    faults: Arc<ClockFaults>,
    origin: SystemTime,
}

impl SkewedClock {
    /// `inner` as a client with `faults` sees it, from now on (the origin of drift and jumps).
    pub fn new(inner: SimClock, faults: ClockFaults) -> SkewedClock {
        let origin = inner.now();
        SkewedClock {
            inner,
            faults: Arc::new(faults),
            origin,
        }
    }

    /// The client's time now.
    pub fn now(&self) -> SystemTime {
        let server = self.inner.now();
        let elapsed = server.duration_since(self.origin).unwrap_or_default();
        shift(server, self.faults.error_at(elapsed))
    }

    /// The server's clock underneath.
    pub fn server(&self) -> &SimClock {
        &self.inner
    }

    /// The faults.
    pub fn faults(&self) -> &ClockFaults {
        &self.faults
    }
}

/// The SDK signs and judges expiry with the client's (wrong) time.
impl TimeSource for SkewedClock {
    fn now(&self) -> SystemTime {
        SkewedClock::now(self)
    }
}

/// Timers run on the server's clock: a wall-clock step does not move a monotonic timer.
impl AsyncSleep for SkewedClock {
    fn sleep(&self, duration: Duration) -> Sleep {
        AsyncSleep::sleep(&self.inner, duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> SystemTime {
        super::super::default_virtual_start()
    }

    #[test]
    fn offset_drift_and_jumps_add_up() {
        let server = SimClock::frozen(start());
        let client = SkewedClock::new(
            server.clone(),
            ClockFaults {
                offset_seconds: 30.0,
                drift: 0.01,
                jumps: vec![
                    ClockJump {
                        at: Duration::from_secs(100),
                        by_seconds: -10.0,
                    },
                    ClockJump {
                        at: Duration::from_secs(50),
                        by_seconds: 3600.0,
                    },
                ],
            },
        );
        assert_eq!(client.now(), start() + Duration::from_secs(30));
        server.advance(Duration::from_secs(50)).unwrap();
        // 50 s + 30 s offset + 0.5 s drift + 3600 s jump.
        assert_eq!(
            client.now(),
            start() + Duration::from_millis(50_000 + 30_000 + 500 + 3_600_000)
        );
        server.advance(Duration::from_secs(50)).unwrap();
        assert_eq!(
            client.now(),
            start() + Duration::from_millis(100_000 + 30_000 + 1_000 + 3_600_000 - 10_000)
        );
    }

    #[test]
    fn faketime_moves_the_start_and_scales_the_rate() {
        let scaled = SimClock::scaled(360.0, start()).unwrap();
        let faults = ClockFaults {
            offset_seconds: -1200.0,
            drift: 0.5,
            jumps: vec![],
        };
        let value = faults.faketime(&scaled).unwrap().unwrap();
        assert!(value.starts_with("@2025-12-31 23:40:0"), "{value}");
        assert!(value.ends_with(" x540"), "{value}");
        let frozen = SimClock::frozen(start());
        let behind = ClockFaults {
            offset_seconds: -60.0,
            ..ClockFaults::default()
        };
        assert_eq!(
            behind.faketime(&frozen).unwrap().unwrap(),
            "2025-12-31 23:59:00"
        );
        assert_eq!(behind.faketime(&SimClock::wall()).unwrap().unwrap(), "-60");
        let jumping = ClockFaults {
            jumps: vec![ClockJump {
                at: Duration::from_secs(1),
                by_seconds: 1.0,
            }],
            ..ClockFaults::default()
        };
        assert_eq!(
            jumping.faketime(&scaled),
            Err(ClockFaultError::JumpsInProcess)
        );
        let stopped = ClockFaults {
            drift: -1.0,
            ..ClockFaults::default()
        };
        assert!(stopped.faketime(&scaled).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn sleeps_pass_on_the_server_clock() {
        let server = SimClock::virtual_at(start());
        let client = SkewedClock::new(
            server.clone(),
            ClockFaults {
                offset_seconds: 7200.0,
                ..ClockFaults::default()
            },
        );
        AsyncSleep::sleep(&client, Duration::from_secs(10)).await;
        assert_eq!(server.now(), start() + Duration::from_secs(10));
    }
}
