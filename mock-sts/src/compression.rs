//! Lifetime compression: every lifetime the mock grants divided by a factor k, on a clock that
//! runs at wall speed.
//!
//! An accelerated clock (`--clock scaled`) needs the client's clock accelerated too, which
//! libfaketime does for dynamically linked programs only: Go binaries (Terraform, s5cmd, most
//! Go tools) read the time through the vDSO and sign with the real time, which an accelerated
//! server refuses as skewed. Compression keeps server and client on the same real time and
//! shortens what expires instead: with k = 60 a one-hour `AssumeRole` session lasts one
//! minute, so a client meets its first expiry in a minute without any clock trickery.
//!
//! What is compressed: the lifetime of every session STS issues (`AssumeRole*`,
//! `GetSessionToken`; validation of `DurationSeconds` against the role's maximum still uses
//! the requested value, as AWS's would), the instance and container credentials' lifetime and
//! rotation period, and IMDSv2 token TTLs (the granted TTL is echoed). Nothing the client
//! chooses on its own clock is: its refresh windows, timeouts and retry delays stay real, and
//! that is the catch. A compressed lifetime that falls inside a client's refresh window (one
//! hour at k = 60 is 60 s, against botocore's 15-minute advisory window) makes the client
//! refresh on every call, which it would never do on real lifetimes; the harness warns about
//! exactly that.
//!
//! No compressed lifetime is shorter than [`MIN_LIFETIME`] (or the uncompressed one, when that
//! is shorter): below a minute, request latency and clock granularity would decide what
//! expires.

use std::num::NonZeroU32;
use std::time::Duration;

/// The shortest lifetime compression produces: one minute.
pub const MIN_LIFETIME: Duration = Duration::from_secs(60);

/// The factor k every granted lifetime is divided by; 1 is no compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LifetimeCompression(NonZeroU32);

impl LifetimeCompression {
    /// No compression (k = 1).
    pub const NONE: LifetimeCompression = LifetimeCompression(NonZeroU32::MIN);

    /// Divides lifetimes by `factor`.
    pub fn new(factor: NonZeroU32) -> Self {
        LifetimeCompression(factor)
    }

    /// The factor k.
    pub fn factor(self) -> u32 {
        self.0.get()
    }

    /// `lifetime / k`, at least [`MIN_LIFETIME`] (or `lifetime`, when shorter), whole
    /// seconds.
    pub fn compress(self, lifetime: Duration) -> Duration {
        if self.0.get() == 1 {
            return lifetime;
        }
        let divided = Duration::from_secs(lifetime.as_secs() / u64::from(self.0.get()));
        divided.max(MIN_LIFETIME.min(lifetime))
    }

    /// [`compress`](Self::compress) for whole seconds.
    pub fn compress_seconds(self, seconds: u32) -> u32 {
        let compressed = self
            .compress(Duration::from_secs(u64::from(seconds)))
            .as_secs();
        u32::try_from(compressed).unwrap_or(seconds)
    }
}

impl Default for LifetimeCompression {
    fn default() -> Self {
        LifetimeCompression::NONE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(factor: u32) -> LifetimeCompression {
        LifetimeCompression::new(NonZeroU32::new(factor).expect("a non-zero factor"))
    }

    #[test]
    fn one_is_the_identity() {
        for seconds in [0, 1, 59, 60, 900, 3600, 43_200] {
            assert_eq!(LifetimeCompression::NONE.compress_seconds(seconds), seconds);
        }
    }

    #[test]
    fn lifetimes_are_divided_down_to_a_minute() {
        assert_eq!(k(60).compress_seconds(3600), 60);
        assert_eq!(k(12).compress_seconds(3600), 300);
        assert_eq!(k(10).compress_seconds(43_200), 4320);
        // 900 s / 60 would be 15 s: a minute is the floor.
        assert_eq!(k(60).compress_seconds(900), 60);
        // Already shorter than a minute: never lengthened.
        assert_eq!(k(60).compress_seconds(30), 30);
        // Truncated to whole seconds.
        assert_eq!(k(7).compress_seconds(3600), 514);
    }
}
