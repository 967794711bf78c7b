//! Properties of the harness, each case a real replay (aws-sdk-rust in process on a virtual
//! clock) of a generated scenario:
//!
//! - for any workload length, interval, operations, workers, jitter, latency and
//!   `DurationSeconds`, `manual-env`'s first failure is the first request that reaches the
//!   server at or after the credentials' expiry, every request before it succeeds and every one
//!   after it fails with `ExpiredToken`;
//! - `sdk-profile` never fails while STS is healthy, and refreshes before every expiry;
//! - the same scenario and seed give the same events and metrics, for every strategy.
//!
//! Scenarios are generated as TOML and parsed, as a user's file would be. Workloads are kept
//! to a few hundred requests, so each property costs seconds on two cores; `PROPTEST_CASES`
//! raises the case count for deeper runs.

use std::path::Path;
use std::time::{Duration, SystemTime};

use mock_sts::aws_error::ErrorCode;
use mock_sts::events::Event;
use proptest::prelude::*;
use sts_harness::metrics;
use sts_harness::runner::{self, RunResult};
use sts_harness::scenario::Scenario;

use crate::common::exclusive;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/it/props.txt"
);

/// The most requests one generated run makes (intervals × operations × workers), to keep a case
/// under a second or two of debug-build SDK time.
const MAX_REQUESTS: u64 = 360;

fn config(default_cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(REGRESSIONS),
        )),
        ..mock_sts::testing::config(default_cases)
    }
}

/// A generated workload, written out as a scenario file.
#[derive(Debug, Clone)]
struct Generated {
    strategy: &'static str,
    seed: u64,
    length_seconds: u64,
    every_seconds: u64,
    operations: Vec<&'static str>,
    workers: u32,
    jitter: f64,
    latency_ms: u64,
    duration_seconds: Option<u32>,
}

impl Generated {
    fn toml(&self) -> String {
        let operations: Vec<String> = self.operations.iter().map(|o| format!("{o:?}")).collect();
        let duration = self
            .duration_seconds
            .map(|d| format!("duration_seconds = {d}\n"))
            .unwrap_or_default();
        format!(
            "name = \"generated\"\nseed = {seed}\n\n[workload]\nlength = \"{length}s\"\n\
             every = \"{every}s\"\noperations = [{ops}]\nworkers = {workers}\njitter = {jitter}\n\
             latency = \"{latency}ms\"\n\n[[run]]\nstrategy = \"{strategy}\"\n{duration}\
             expect = {{ passes = true }}\n",
            seed = self.seed,
            length = self.length_seconds,
            every = self.every_seconds,
            ops = operations.join(", "),
            workers = self.workers,
            jitter = self.jitter,
            latency = self.latency_ms,
            strategy = self.strategy,
        )
    }

    fn scenario(&self) -> Scenario {
        let text = self.toml();
        match Scenario::parse(&text, Path::new("generated.toml")) {
            Ok(s) => s,
            Err(e) => panic!("generated an invalid scenario: {e}\n{text}"),
        }
    }

    /// Lockstep: one worker, no jitter, no latency, so requests reach the server exactly every
    /// interval from the start.
    fn lockstep(&self) -> bool {
        self.workers == 1 && self.jitter == 0.0 && self.latency_ms == 0
    }
}

fn operations() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(
        vec![
            "PutObject",
            "GetObject",
            "HeadObject",
            "ListObjectsV2",
            "GetCallerIdentity",
        ],
        1..=2,
    )
}

/// A workload of at most [`MAX_REQUESTS`] requests, `every` 1 s to 30 min, up to 8 hours long.
fn workload(
    strategy: &'static str,
    duration: impl Strategy<Value = Option<u32>>,
) -> impl Strategy<Value = Generated> {
    (
        any::<u64>(),
        1u64..=1800,
        operations(),
        1u32..=2,
        prop_oneof![Just(0.0), (0u32..50).prop_map(|p| f64::from(p) / 100.0)],
        prop_oneof![Just(0u64), 0u64..=2000],
        duration,
    )
        .prop_flat_map(
            move |(seed, every, operations, workers, jitter, latency_ms, duration_seconds)| {
                let per_interval = operations.len() as u64 * u64::from(workers);
                let most = (MAX_REQUESTS / per_interval * every).clamp(every, 8 * 3600);
                (every..=most).prop_map(move |length_seconds| Generated {
                    strategy,
                    seed,
                    length_seconds,
                    every_seconds: every,
                    operations: operations.clone(),
                    workers,
                    jitter,
                    latency_ms,
                    duration_seconds,
                })
            },
        )
}

fn run(generated: &Generated) -> RunResult {
    let scenario = generated.scenario();
    let mut results = runner::run_scenario(&scenario, None, None, None);
    assert_eq!(results.len(), 1);
    results.remove(0)
}

/// The workload's own requests (not set-up, not credential calls).
fn data_plane<'a>(generated: &Generated, result: &'a RunResult) -> Vec<&'a Event> {
    result
        .events
        .iter()
        .filter(|e| generated.operations.contains(&e.action.as_str()))
        .collect()
}

fn seconds_since(start: SystemTime, t: SystemTime) -> f64 {
    t.duration_since(start).unwrap_or_default().as_secs_f64()
}

proptest! {
    #![proptest_config(config(12))]

    #[test]
    fn manual_env_first_fails_on_the_first_request_at_or_after_expiry(
        generated in workload("manual-env", mock_sts::testing::duration_seconds(43_200)),
    ) {
        let _guard = exclusive();
        let result = run(&generated);
        prop_assert!(result.startup_error.is_none(), "{:?}", result.startup_error);
        prop_assert!(!result.timed_out);
        let issued: Vec<&Event> = result.events.iter().filter(|e| e.issued.is_some()).collect();
        prop_assert_eq!(issued.len(), 1, "manual-env assumes the role once");
        let expiry = issued[0].issued.as_ref().unwrap().expires_at;
        let granted = u64::from(generated.duration_seconds.unwrap_or(3600));
        // STS: Expiration = floor(arrival + granted) (latency delays the arrival).
        prop_assert_eq!(
            expiry,
            mock_sts::timestamp::floor_to_second(issued[0].sim_time + Duration::from_secs(granted))
        );

        let requests = data_plane(&generated, &result);
        prop_assert!(!requests.is_empty());
        for e in &requests {
            if e.sim_time < expiry {
                prop_assert_eq!(e.error_code, None, "{} before the expiry", e.action);
            } else {
                prop_assert_eq!(e.error_code, Some(ErrorCode::ExpiredToken), "{} after the expiry", e.action);
            }
        }
        let first_late = requests.iter().find(|e| e.sim_time >= expiry);
        let m = metrics::compute(&result);
        match (first_late, &m.first_failure) {
            (None, None) => {}
            (Some(e), Some(f)) => {
                prop_assert_eq!(&f.code, "ExpiredToken");
                prop_assert_eq!(f.action.as_str(), e.action.as_str());
                prop_assert!((f.at_seconds - seconds_since(result.start, e.sim_time)).abs() < 0.001);
                let expired_at = f.expired_at_seconds.unwrap();
                prop_assert!((expired_at - seconds_since(result.start, expiry)).abs() < 0.001);
                if generated.lockstep() {
                    // Requests go out every interval from the start: the first at or after the
                    // expiry is the next multiple of the interval.
                    let every = generated.every_seconds;
                    let at = granted.div_ceil(every) * every;
                    prop_assert!(at < generated.length_seconds);
                    prop_assert_eq!(f.at_seconds, at as f64);
                }
            }
            (late, failure) => {
                return Err(TestCaseError::fail(format!(
                    "first late request {late:?}, first failure {failure:?}"
                )));
            }
        }
        if generated.lockstep() && first_late.is_none() {
            // Every request came before the expiry: the job was shorter than the credentials.
            let every = generated.every_seconds;
            prop_assert!(granted.div_ceil(every) * every >= generated.length_seconds);
        }
    }

    #[test]
    fn sdk_profile_never_fails_while_sts_is_healthy(
        generated in workload("sdk-profile", Just(None)),
    ) {
        let _guard = exclusive();
        let result = run(&generated);
        prop_assert!(result.startup_error.is_none(), "{:?}", result.startup_error);
        prop_assert!(!result.timed_out);
        let m = metrics::compute(&result);
        prop_assert_eq!(m.failure_count(), 0, "{:?}", m.first_failure);
        let requests = data_plane(&generated, &result);
        for e in &requests {
            let signer = e.signed_by.as_ref().unwrap();
            prop_assert!(signer.expires_at.unwrap() > e.sim_time);
        }
        // Requests past the first hour were signed by a refreshed credential.
        let last = requests.last().unwrap().sim_time;
        if last >= result.start + Duration::from_secs(3600) {
            prop_assert!(m.sts_calls >= 2 && m.refreshes >= 1, "{} STS calls", m.sts_calls);
        }
    }

    #[test]
    fn the_same_scenario_and_seed_give_the_same_events(
        generated in prop_oneof![
            workload("manual-env", mock_sts::testing::duration_seconds(43_200)),
            workload("sdk-profile", Just(None)),
            workload("sdk-imds", Just(None)),
            workload("naive-refresh", mock_sts::testing::duration_seconds(43_200)),
        ],
    ) {
        let _guard = exclusive();
        let replay = || {
            let result = run(&generated);
            // Everything but the wall-clock fields.
            let events: Vec<serde_json::Value> = result
                .events
                .iter()
                .map(|e| {
                    let mut v = serde_json::to_value(e).unwrap();
                    let map = v.as_object_mut().unwrap();
                    map.remove("wall_time");
                    map.remove("latency_ms");
                    v
                })
                .collect();
            let mut m = metrics::compute(&result);
            m.refresh_latency_wall_ms = None;
            (events, m)
        };
        let (first_events, first_metrics) = replay();
        let (second_events, second_metrics) = replay();
        prop_assert!(!first_events.is_empty());
        prop_assert_eq!(first_events, second_events);
        prop_assert_eq!(first_metrics, second_metrics);
    }
}
