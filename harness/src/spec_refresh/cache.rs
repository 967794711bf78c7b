//! The credentials cache of the specification: one cached set in front of any provider, with
//! the advisory and mandatory windows, static stability and a single refresh in flight.
//!
//! Every rule, as this cache reads aws-facts §6.8 (botocore PR #3733 and #3760, smithy-rs
//! #4766 and #4774, aws-sdk-java-v2 #7053, Go v2's `aws/credential_cache.go`, aws-facts §6.6):
//!
//! 1. **Windows from the lifetime** ([`super::windows`]): chosen when a set is obtained, kept
//!    with it, never recomputed after a failed refresh.
//! 2. **Advisory refresh**: in the advisory window the first caller that finds no refresh in
//!    flight refreshes (it waits for it; the others are served the cached set at once, as
//!    botocore's non-blocking lock does). A failure is logged and tolerated: the cached set is
//!    served and the back-off starts.
//! 3. **Mandatory refresh**: in the last minute, or past expiry, every caller waits for the
//!    one refresh.
//! 4. **Static stability**: a failed refresh with a set in hand serves that set, even past its
//!    expiry, and no caller asks the source again for 300-600 s (uniform, from the cache's
//!    seeded generator). A source that answers with an already-expired set has failed too
//!    (botocore raises "the refreshed credentials are still expired"; Go rejects them).
//! 5. **Invalidation** ([`SpecRefresh::invalidate`]): a server's refusal that proves the
//!    cached set bad marks it refused: it is never served again, and the next caller refreshes
//!    at once, unless a back-off from a failed refresh is running (then callers get an error
//!    until it ends). A refusal of a set the cache no longer holds changes nothing (Go's
//!    `InvalidateCredentials(rejected)`, aws-facts §6.6, "marks credentials for refresh").
//! 6. **Single flight**: one refresh at a time (a `tokio::sync::Mutex`); a caller that waited
//!    for it looks at the cache again before refreshing, so N waiting callers make one call.
//!
//! Decisions the specification leaves open, taken here:
//! - Invalidation keeps the back-off: during an outage the source is asked once per 5-10
//!   minutes whatever the servers say (the harness's first version dropped the set and its
//!   back-off, and a job whose keys expired mid-outage made an `AssumeRole` for every
//!   refused request, 160 in 20 minutes). A refused set is not served past the refusal: the
//!   caller gets a [`CredentialsError`] instead of a request the server will refuse.
//! - With nothing cached at all (start-up) a failed fetch is the caller's error and starts no
//!   back-off (there is nothing to be stable with; the SDK's retries pace the callers).
//! - No error is treated as terminal yet ("some errors are terminal and skip static
//!   stability" names none).
//!
//! Time is the SDK's [`TimeSource`](aws_smithy_async::time::TimeSource) (the client's
//! clock), so the cache judges expiry on the same clock the client signs with.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_smithy_async::time::SharedTimeSource;

use super::windows::{self, Window, Windows};

/// A credentials provider that caches `inner`'s credentials by the specification's rules
/// (see the module doc). Clones share one cache.
///
/// Build the SDK client with `identity_cache(IdentityCache::no_cache())`: the SDK's own lazy
/// cache would otherwise sit in front and refresh on its own 5-10 s buffer.
#[derive(Clone)]
pub struct SpecRefresh {
    shared: Arc<Shared>,
}

struct Shared {
    inner: SharedCredentialsProvider,
    time: SharedTimeSource,
    state: Mutex<State>,
    /// Held for the whole of a refresh: the single flight.
    refresh: tokio::sync::Mutex<()>,
}

struct State {
    cached: Option<Cached>,
    /// After a failed refresh: no caller asks the source before this.
    retry_after: Option<SystemTime>,
    rng: fastrand::Rng,
}

#[derive(Clone)]
struct Cached {
    credentials: Credentials,
    /// `None` for a set without an expiry: served until invalidated.
    windows: Option<Windows>,
    /// A server refused it (rule 5): never served again.
    refused: bool,
}

/// What a caller must do at a moment.
enum Need {
    /// Serve this set.
    Serve(Credentials),
    /// Try a refresh if none is in flight; serve this set either way.
    Advisory(Credentials),
    /// Wait for a refresh; this set is the fallback if it fails.
    Mandatory(Option<Credentials>),
    /// The cached set was refused and a back-off is running: nothing to serve, nobody to ask.
    Refused(SystemTime),
}

impl SpecRefresh {
    /// A cache in front of `inner` on the clock `time`, drawing its back-off jitter from a
    /// generator seeded with `seed`.
    pub fn new(inner: SharedCredentialsProvider, time: SharedTimeSource, seed: u64) -> Self {
        SpecRefresh {
            shared: Arc::new(Shared {
                inner,
                time,
                state: Mutex::new(State {
                    cached: None,
                    retry_after: None,
                    rng: fastrand::Rng::with_seed(seed),
                }),
                refresh: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Rule 5: a server refused a request signed with `access_key_id` in a way that proves
    /// those credentials bad (see [`super::invalidate`]). When that is the cached set, mark it
    /// refused: it is not served again and the next caller outside a back-off refreshes.
    /// Returns whether the cached set was that one.
    pub fn invalidate(&self, access_key_id: &str) -> bool {
        let mut state = self.shared.state();
        let Some(cached) = state
            .cached
            .as_mut()
            .filter(|c| c.credentials.access_key_id() == access_key_id)
        else {
            return false;
        };
        if !cached.refused {
            cached.refused = true;
            tracing::info!("cached credentials refused by the server: invalidated");
        }
        true
    }

    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let shared = &*self.shared;
        match shared.need(shared.time.now()) {
            Need::Serve(c) => Ok(c),
            Need::Refused(until) => Err(refused(until)),
            Need::Advisory(c) => {
                // Rule 2: only the caller that finds no refresh in flight refreshes.
                let Ok(_flight) = shared.refresh.try_lock() else {
                    return Ok(c);
                };
                match shared.need(shared.time.now()) {
                    Need::Serve(c) => Ok(c),
                    Need::Refused(until) => Err(refused(until)),
                    Need::Advisory(c) => shared.refresh(Some(c)).await,
                    Need::Mandatory(fallback) => shared.refresh(fallback).await,
                }
            }
            Need::Mandatory(_) => {
                // Rules 3 and 6: wait for the one refresh, then look again: it may have
                // succeeded, or failed and started a back-off.
                let _flight = shared.refresh.lock().await;
                match shared.need(shared.time.now()) {
                    Need::Serve(c) | Need::Advisory(c) => Ok(c),
                    Need::Refused(until) => Err(refused(until)),
                    Need::Mandatory(fallback) => shared.refresh(fallback).await,
                }
            }
        }
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every statement; a panic elsewhere cannot tear it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn need(&self, now: SystemTime) -> Need {
        let state = self.state();
        let Some(cached) = &state.cached else {
            return Need::Mandatory(None);
        };
        let credentials = cached.credentials.clone();
        let backing_off = state.retry_after.filter(|t| now < *t);
        // Rule 5: a refused set is never served; the back-off still holds (module doc).
        if cached.refused {
            return match backing_off {
                Some(until) => Need::Refused(until),
                None => Need::Mandatory(None),
            };
        }
        // Rule 4: within the back-off, whatever the windows say.
        if backing_off.is_some() {
            return Need::Serve(credentials);
        }
        match cached.windows.map(|w| w.at(now)) {
            None | Some(Window::Fresh) => Need::Serve(credentials),
            Some(Window::Advisory) => Need::Advisory(credentials),
            Some(Window::Mandatory) => Need::Mandatory(Some(credentials)),
        }
    }

    /// One call to the source, by the caller that holds the flight. `fallback` is served if
    /// it fails (rule 4); without one the failure is the caller's. A failure with a set in
    /// the cache, refused or not, starts the back-off.
    async fn refresh(
        &self,
        fallback: Option<Credentials>,
    ) -> Result<Credentials, CredentialsError> {
        let fetched = self.inner.provide_credentials().await;
        let now = self.time.now();
        let failure = match fetched {
            Ok(fresh) if fresh.expiry().is_some_and(|e| e <= now) => {
                CredentialsError::provider_error(
                    "the source returned credentials that are already expired",
                )
            }
            Ok(fresh) => {
                let windows = fresh.expiry().map(|e| Windows::for_set(now, e));
                let mut state = self.state();
                state.cached = Some(Cached {
                    credentials: fresh.clone(),
                    windows,
                    refused: false,
                });
                state.retry_after = None;
                return Ok(fresh);
            }
            Err(e) => e,
        };
        let mut state = self.state();
        let Some(cached) = &state.cached else {
            return Err(failure);
        };
        let expired = cached.windows.is_some_and(|w| w.expiry <= now);
        let backoff = windows::backoff(&mut state.rng);
        state.retry_after = Some(now + backoff);
        tracing::warn!(
            error = %aws_smithy_types::error::display::DisplayErrorContext(&failure),
            backoff_seconds = backoff.as_secs(),
            expired,
            stale_served = fallback.is_some(),
            "credential refresh failed: backing off"
        );
        fallback.ok_or(failure)
    }
}

impl fmt::Debug for SpecRefresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the credentials (their Debug redacts the secret, but the key id is enough
        // to leave out of logs), nor the inner provider's dump (clock and all).
        let state = self.shared.state();
        f.debug_struct("SpecRefresh")
            .field("windows", &state.cached.as_ref().map(|c| c.windows))
            .field("refused", &state.cached.as_ref().is_some_and(|c| c.refused))
            .field("retry_after", &state.retry_after)
            .finish_non_exhaustive()
    }
}

impl ProvideCredentials for SpecRefresh {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }

    fn fallback_on_interrupt(&self) -> Option<Credentials> {
        self.shared
            .state()
            .cached
            .as_ref()
            .filter(|c| !c.refused)
            .map(|c| c.credentials.clone())
    }
}

/// The error of a caller that finds the cached set refused during a back-off.
fn refused(until: SystemTime) -> CredentialsError {
    let seconds = until
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    CredentialsError::not_loaded(format!(
        "the server refused the cached credentials and the last refresh failed; the next attempt comes after {}",
        aws_smithy_types::DateTime::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX))
    ))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::time::Duration;

    use mock_sts::clock::SimClock;

    use super::*;
    use crate::spec_refresh::windows::{BACKOFF_MAX, BACKOFF_MIN};

    const MIN: u64 = 60;

    fn mins(m: u64) -> Duration {
        Duration::from_secs(m * MIN)
    }

    /// The credential source, scripted: it issues numbered sets that live `lifetime` from
    /// the clock's now, or fails while `failing` is set, and records when it was asked.
    #[derive(Debug, Clone)]
    struct Source {
        inner: Arc<SourceState>,
    }

    #[derive(Debug)]
    struct SourceState {
        clock: SimClock,
        lifetime: Mutex<Duration>,
        failing: AtomicBool,
        /// Answers already expired (a broken source).
        expired: AtomicBool,
        /// How long each call takes, on a virtual clock of its own (the test's runtime is
        /// paused, so it costs no wall time; the cache's clock stays where the test put it).
        latency: Duration,
        timer: SimClock,
        issued: AtomicU32,
        calls: Mutex<Vec<SystemTime>>,
    }

    impl Source {
        fn new(clock: &SimClock, lifetime: Duration, latency: Duration) -> Source {
            Source {
                inner: Arc::new(SourceState {
                    clock: clock.clone(),
                    lifetime: Mutex::new(lifetime),
                    failing: AtomicBool::new(false),
                    expired: AtomicBool::new(false),
                    latency,
                    timer: SimClock::virtual_at(start()),
                    issued: AtomicU32::new(0),
                    calls: Mutex::new(Vec::new()),
                }),
            }
        }

        fn fail(&self, failing: bool) {
            self.inner.failing.store(failing, Ordering::SeqCst);
        }

        fn calls(&self) -> Vec<SystemTime> {
            self.inner.calls.lock().unwrap().clone()
        }

        async fn answer(&self) -> Result<Credentials, CredentialsError> {
            if !self.inner.latency.is_zero() {
                self.inner.timer.sleep(self.inner.latency).await;
            }
            let now = self.inner.clock.now();
            self.inner.calls.lock().unwrap().push(now);
            if self.inner.failing.load(Ordering::SeqCst) {
                return Err(CredentialsError::provider_error("ServiceUnavailable"));
            }
            let n = self.inner.issued.fetch_add(1, Ordering::SeqCst) + 1;
            let expiry = if self.inner.expired.load(Ordering::SeqCst) {
                now - Duration::from_secs(1)
            } else {
                now + *self.inner.lifetime.lock().unwrap()
            };
            Ok(Credentials::new(
                format!("ASIASCRIPTED{n:08}"),
                "secret",
                Some("token".into()),
                Some(expiry),
                "scripted",
            ))
        }
    }

    impl ProvideCredentials for Source {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::new(self.answer())
        }
    }

    fn start() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)
    }

    /// A cache on a frozen clock at the start, in front of a source of `lifetime` sets.
    fn cache(lifetime: Duration, latency: Duration) -> (SimClock, Source, SpecRefresh) {
        let clock = SimClock::frozen(start());
        let source = Source::new(&clock, lifetime, latency);
        let cache = SpecRefresh::new(
            SharedCredentialsProvider::new(source.clone()),
            SharedTimeSource::new(clock.clone()),
            7,
        );
        (clock, source, cache)
    }

    async fn key(cache: &SpecRefresh) -> String {
        let c = cache.provide_credentials().await.expect("credentials");
        c.access_key_id().to_string()
    }

    /// Moves the clock to `at` after the start.
    fn set(clock: &SimClock, at: Duration) {
        let now = clock.now().duration_since(start()).unwrap();
        clock.advance(at.saturating_sub(now)).unwrap();
    }

    #[tokio::test]
    async fn the_advisory_window_is_chosen_from_each_sets_lifetime() {
        // 15 min -> 5 min, 1 h -> 15 min, 6 h -> 60 min.
        for (lifetime, advisory) in [
            (mins(15), mins(5)),
            (mins(60), mins(15)),
            (mins(360), mins(60)),
        ] {
            let (clock, source, cache) = cache(lifetime, Duration::ZERO);
            let first = key(&cache).await;
            set(&clock, lifetime - advisory - Duration::from_secs(1));
            assert_eq!(
                key(&cache).await,
                first,
                "{lifetime:?}: fresh before the window"
            );
            assert_eq!(source.calls().len(), 1);
            set(&clock, lifetime - advisory);
            assert_ne!(
                key(&cache).await,
                first,
                "{lifetime:?}: refreshed in the window"
            );
            assert_eq!(source.calls().len(), 2);
        }
    }

    #[tokio::test]
    async fn a_failed_advisory_refresh_keeps_the_cached_set_and_backs_off() {
        let (clock, source, cache) = cache(mins(60), Duration::ZERO);
        let first = key(&cache).await;
        source.fail(true);
        set(&clock, mins(46));
        assert_eq!(key(&cache).await, first);
        assert_eq!(source.calls().len(), 2);
        // Within the back-off nobody asks again, though the window says refresh.
        set(&clock, mins(46) + BACKOFF_MIN - Duration::from_secs(1));
        assert_eq!(key(&cache).await, first);
        assert_eq!(source.calls().len(), 2);
        // After it, the next caller asks, and gets the new set.
        source.fail(false);
        set(&clock, mins(46) + BACKOFF_MAX);
        assert_ne!(key(&cache).await, first);
        assert_eq!(source.calls().len(), 3);
    }

    #[tokio::test]
    async fn the_mandatory_window_waits_for_the_refresh() {
        let (clock, source, cache) = cache(mins(60), Duration::ZERO);
        let first = key(&cache).await;
        // Nobody called in the advisory window: the first call in the last minute refreshes
        // before it returns.
        set(&clock, mins(59) + Duration::from_secs(30));
        let second = key(&cache).await;
        assert_ne!(second, first);
        assert_eq!(source.calls().len(), 2);
        // The new set's windows start over from its own lifetime.
        set(&clock, mins(59) + mins(44));
        assert_eq!(key(&cache).await, second);
        assert_eq!(source.calls().len(), 2);
    }

    /// The static stability trace of a source that fails from 44m to 3h, called every 10 s.
    async fn outage_trace(seed: u64) -> (Vec<Duration>, Vec<String>, String) {
        let clock = SimClock::frozen(start());
        let source = Source::new(&clock, mins(60), Duration::ZERO);
        let cache = SpecRefresh::new(
            SharedCredentialsProvider::new(source.clone()),
            SharedTimeSource::new(clock.clone()),
            seed,
        );
        let first = key(&cache).await;
        set(&clock, mins(44));
        source.fail(true);
        let mut served = Vec::new();
        while clock.now() < start() + mins(180) {
            served.push(key(&cache).await);
            clock.advance(Duration::from_secs(10)).unwrap();
        }
        let calls = source
            .calls()
            .iter()
            .map(|t| t.duration_since(start()).unwrap())
            .collect();
        (calls, served, first)
    }

    #[tokio::test]
    async fn static_stability_serves_the_cached_set_past_expiry_and_spaces_attempts() {
        let (calls, served, first) = outage_trace(7).await;
        // Every call of the outage, past the expiry at 1h too, got the set in hand.
        assert!(served.iter().all(|k| *k == first));
        // The first attempt at the advisory window (45m), then one every 5-10 minutes.
        assert_eq!(calls[0], Duration::ZERO);
        assert_eq!(calls[1], mins(45));
        assert!(calls.len() >= 2 + 135 / 10, "{calls:?}");
        for pair in calls[1..].windows(2) {
            let gap = pair[1] - pair[0];
            // Calls come every 10 s, so an attempt follows the back-off's end by < 10 s.
            assert!(
                gap >= BACKOFF_MIN && gap < BACKOFF_MAX + Duration::from_secs(10),
                "{calls:?}"
            );
        }
        // The same seed draws the same back-offs; another seed other ones.
        assert_eq!(outage_trace(7).await.0, calls);
        assert_ne!(outage_trace(8).await.0, calls);
    }

    #[tokio::test]
    async fn a_source_answering_expired_credentials_has_failed() {
        let (clock, source, cache) = cache(mins(60), Duration::ZERO);
        let first = key(&cache).await;
        source.inner.expired.store(true, Ordering::SeqCst);
        set(&clock, mins(59) + Duration::from_secs(30));
        assert_eq!(key(&cache).await, first);
        set(&clock, mins(59) + Duration::from_secs(40));
        assert_eq!(key(&cache).await, first);
        assert_eq!(
            source.calls().len(),
            2,
            "backed off after the expired answer"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn many_callers_share_one_refresh() {
        let (clock, source, cache) = cache(mins(60), Duration::from_secs(2));
        // At start-up, with nothing cached: 16 callers, one fetch.
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let cache = cache.clone();
            callers.spawn(async move { key(&cache).await });
        }
        let keys: Vec<String> = callers.join_all().await;
        assert_eq!(source.calls().len(), 1);
        assert!(keys.iter().all(|k| *k == keys[0]));

        // In the mandatory window: all wait for the one refresh and get its set.
        set(&clock, mins(59) + Duration::from_secs(30));
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let cache = cache.clone();
            callers.spawn(async move { key(&cache).await });
        }
        let fresh: Vec<String> = callers.join_all().await;
        assert_eq!(source.calls().len(), 2);
        assert!(fresh.iter().all(|k| *k == fresh[0] && *k != keys[0]));

        // In the advisory window: one caller refreshes, the others get the cached set at
        // once (they finish before the 2 s refresh does).
        set(&clock, mins(59) + Duration::from_secs(30) + mins(46));
        let mut callers = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let cache = cache.clone();
            callers.spawn(async move { key(&cache).await });
        }
        let mixed: Vec<String> = callers.join_all().await;
        assert_eq!(source.calls().len(), 3);
        assert_eq!(mixed.iter().filter(|k| **k == fresh[0]).count(), 15);
        assert_eq!(mixed.iter().filter(|k| **k != fresh[0]).count(), 1);
    }

    #[tokio::test]
    async fn invalidation_drops_the_cached_set() {
        let (clock, source, cache) = cache(mins(60), Duration::ZERO);
        let first = key(&cache).await;
        // A refusal of keys the cache does not hold changes nothing.
        assert!(!cache.invalidate("ASIAOTHER"));
        assert_eq!(key(&cache).await, first);
        assert_eq!(source.calls().len(), 1);
        // An early refusal of the cached keys: the next call fetches.
        set(&clock, mins(10));
        assert!(cache.invalidate(&first));
        let second = key(&cache).await;
        assert_ne!(second, first);
        assert_eq!(source.calls().len(), 2);
        // A refusal during an outage: the refused set is not served, and the back-off of the
        // failed refresh still spaces the attempts.
        source.fail(true);
        let outage = mins(10) + mins(59) + Duration::from_secs(30);
        set(&clock, outage);
        assert_eq!(key(&cache).await, second, "static stability");
        assert_eq!(source.calls().len(), 3);
        assert!(cache.invalidate(&second));
        assert!(cache.provide_credentials().await.is_err());
        assert!(cache.fallback_on_interrupt().is_none());
        assert_eq!(source.calls().len(), 3, "no attempt within the back-off");
        // After the back-off the next caller asks at once; failing, it backs off again.
        set(&clock, outage + BACKOFF_MAX);
        assert!(cache.provide_credentials().await.is_err());
        assert_eq!(source.calls().len(), 4);
        assert!(cache.provide_credentials().await.is_err());
        assert_eq!(source.calls().len(), 4);
        source.fail(false);
        set(&clock, outage + 2 * BACKOFF_MAX);
        let third = key(&cache).await;
        assert_ne!(third, second);
        assert_eq!(source.calls().len(), 5);
    }

    #[tokio::test]
    async fn with_nothing_cached_a_failure_is_the_callers() {
        let (_clock, source, cache) = cache(mins(60), Duration::ZERO);
        source.fail(true);
        assert!(cache.provide_credentials().await.is_err());
        assert!(cache.fallback_on_interrupt().is_none());
        // No back-off without a set in hand: the next caller asks again.
        source.fail(false);
        let first = key(&cache).await;
        assert_eq!(source.calls().len(), 2);
        assert_eq!(
            cache
                .fallback_on_interrupt()
                .map(|c| c.access_key_id().to_string()),
            Some(first)
        );
    }

    #[test]
    fn debug_shows_no_credentials() {
        let (_clock, _source, cache) = cache(mins(60), Duration::ZERO);
        let text = format!("{cache:?}");
        assert!(text.starts_with("SpecRefresh"), "{text}");
        assert!(!text.contains("secret"), "{text}");
    }
}
