//! The refresh strategies, side by side: what each costs per data-plane call, how often it
//! calls STS, how early it refreshes, and what the call that triggers a refresh pays.
//!
//! ```text
//! cargo bench -p benches --bench strategies
//! ```
//!
//! First a table, from virtual replays (sts-harness, in process, deterministic): a 13-hour job,
//! two workers each making a `GetObject` every 4 s over a network with 50 ms of latency each way,
//! for each strategy (and the "hard-code 12 h" variants that send `DurationSeconds=43200`):
//! requests, failures, STS calls per data-plane call, refreshes, the refresh lead (how long
//! before the old credentials' expiry the new ones were fetched) and how much longer, in
//! simulated time, the calls that carried new credentials took. A second table replays a slow
//! network (8 workers, 1 s each way, scenario 07's conditions) for two hours.
//!
//! Then criterion, on a frozen clock through the in-process HTTP client (the real aws-sdk-sts
//! and aws-config; no sockets): for each strategy, a `GetCallerIdentity` in steady state (the
//! credentials cached) and the call that triggers a refresh (the clock moved one hour, so the
//! cached credentials are at or past their refresh point and the call first fetches new ones).
//! The difference is the extra latency of the refreshing call.

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{SharedHttpClient, SharedHttpConnector};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mock_sts::MockAws;
use mock_sts::clock::{ClockFaults, SimClock, SkewedClock, default_virtual_start};
use mock_sts::sdk::InProcessClient;
use sts_harness::metrics;
use sts_harness::runner;
use sts_harness::scenario::{DEFAULT_ROLE, Expect, RunSpec, Scenario, StrategyKind};
use sts_harness::strategy::{ClientEnv, Clients, build_clients};

/// The replayed job: 13 hours, two workers each making a GetObject every 4 s, 50 ms of
/// simulated network latency each way.
const JOB: &str = r#"
name = "strategy comparison"
seed = 7
[workload]
length = "13h"
every = "4s"
operations = ["GetObject"]
workers = 2
latency = "50ms"
[[run]]
name = "manual-env (default 1 h)"
strategy = "manual-env"
expect = { passes = true }
[[run]]
name = "manual-env, DurationSeconds=43200"
strategy = "manual-env"
duration_seconds = 43200
expect = { passes = true }
[[run]]
name = "sdk-profile"
strategy = "sdk-profile"
expect = { passes = true }
[[run]]
name = "sdk-imds"
strategy = "sdk-imds"
expect = { passes = true }
[[run]]
name = "spec-refresh"
strategy = "spec-refresh"
expect = { passes = true }
[[run]]
name = "naive-refresh (default 1 h)"
strategy = "naive-refresh"
expect = { passes = true }
[[run]]
name = "naive-refresh, DurationSeconds=43200"
strategy = "naive-refresh"
duration_seconds = 43200
expect = { passes = true }
"#;

/// A harder network: 8 workers sharing one client, a call every 2 s with ±20 % jitter, 1 s of
/// latency each way (scenario 07's conditions), for 2 hours.
const SLOW_JOB: &str = r#"
name = "strategy comparison, slow network"
seed = 1
[workload]
length = "2h"
every = "2s"
jitter = 0.2
workers = 8
latency = "1s"
operations = ["GetObject"]
[[run]]
name = "manual-env (default 1 h)"
strategy = "manual-env"
expect = { passes = true }
[[run]]
name = "sdk-profile"
strategy = "sdk-profile"
expect = { passes = true }
[[run]]
name = "sdk-imds"
strategy = "sdk-imds"
expect = { passes = true }
[[run]]
name = "spec-refresh"
strategy = "spec-refresh"
expect = { passes = true }
[[run]]
name = "naive-refresh (default 1 h)"
strategy = "naive-refresh"
expect = { passes = true }
"#;

fn seconds(s: f64) -> String {
    if s.abs() >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.1} s")
    }
}

/// Prints a replay table (markdown, for BENCHMARKS.md).
fn replay_table(job: &str, title: &str) {
    let scenario = match Scenario::parse(job, Path::new("strategies.toml")) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    println!("\nVirtual replay: {title} (seed {})\n", scenario.seed);
    println!(
        "| strategy | requests | failures | first failure | STS calls | STS calls per call | refreshes | refresh lead min / median | refreshing call, extra sim latency p50 / max |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for result in runner::run_scenario(&scenario, None, None, None) {
        let m = metrics::compute(&result);
        let first = m.first_failure.as_ref().map_or_else(
            || "-".to_owned(),
            |f| format!("{} at {}", f.code, seconds(f.at_seconds)),
        );
        let lead = match (m.refresh_lead_min_seconds, m.refresh_lead_median_seconds) {
            (Some(min), Some(median)) => format!("{} / {}", seconds(min), seconds(median)),
            _ => "-".to_owned(),
        };
        let extra = m.refresh_latency_sim_ms.as_ref().map_or_else(
            || "-".to_owned(),
            |p| format!("{:.0} / {:.0} ms", p.p50, p.max),
        );
        println!(
            "| {} | {} | {} | {} | {} | {:.5} | {} | {} | {} |",
            result.run.name,
            m.requests,
            m.failure_count(),
            first,
            m.sts_calls,
            m.sts_calls_per_request,
            m.refreshes,
            lead,
            extra
        );
    }
    println!();
}

/// A mock on a frozen clock and a strategy's clients against it, in process.
struct Setup {
    aws: MockAws,
    clock: SimClock,
    clients: Clients,
}

async fn setup(strategy: StrategyKind) -> Setup {
    let clock = SimClock::frozen(default_virtual_start());
    let aws = MockAws::builder().clock(clock.clone()).seed(7).build();
    let user = &aws.world().users[0];
    let env = ClientEnv {
        clock: clock.clone(),
        client_clock: SkewedClock::new(clock.clone(), ClockFaults::default()),
        http: SharedHttpClient::new(InProcessClient::new(&aws)),
        direct: SharedHttpConnector::new(InProcessClient::new(&aws)),
        endpoint: aws.endpoint_url(),
        source_access_key_id: user.access_key_id.clone(),
        source_secret_access_key: user.secret_access_key.clone(),
        partition: format!("bench::{}", strategy.as_str()),
        container: None,
        projected: None,
    };
    let run = RunSpec {
        name: strategy.as_str().to_owned(),
        strategy,
        role_arn: DEFAULT_ROLE.to_owned(),
        duration_seconds: None,
        source: None,
        process: None,
        clock_faults: ClockFaults::default(),
        expect: Expect::default(),
        line: 0,
    };
    let clients = match build_clients(&env, &run).await {
        Ok(c) => c,
        Err(e) => panic!("{}: {e}", strategy.as_str()),
    };
    Setup {
        aws,
        clock,
        clients,
    }
}

async fn call(clients: &Clients) -> bool {
    clients.sts.get_caller_identity().send().await.is_ok()
}

fn bench(c: &mut Criterion) {
    replay_table(
        JOB,
        "13 h job, 2 workers, one GetObject each every 4 s, 50 ms latency each way",
    );
    replay_table(
        SLOW_JOB,
        "2 h job, 8 workers, a GetObject each every 2 s ± 20 %, 1 s latency each way",
    );
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("runtime: {e}"),
    };
    let mut group = c.benchmark_group("strategies");
    group.measurement_time(Duration::from_secs(4));
    // The strategies built on aws-sdk-rust (`process` runs a program of its own).
    for strategy in [
        StrategyKind::ManualEnv,
        StrategyKind::SdkProfile,
        StrategyKind::SdkImds,
        StrategyKind::SpecRefresh,
        StrategyKind::NaiveRefresh,
    ] {
        let s = runtime.block_on(setup(strategy));
        // The first call loads the credentials; from then on they are cached.
        assert!(runtime.block_on(call(&s.clients)), "{}", strategy.as_str());
        group.bench_function(format!("{}/steady", strategy.as_str()), |b| {
            b.iter(|| black_box(runtime.block_on(call(&s.clients))));
        });
        if strategy != StrategyKind::ManualEnv {
            // One simulated hour later the default one-hour credentials are at (naive) or
            // past (the SDK's 5-10 s buffer) their refresh point: this call refreshes first.
            group.bench_function(format!("{}/refresh", strategy.as_str()), |b| {
                b.iter_batched(
                    || {
                        if let Err(e) = s.clock.advance(Duration::from_secs(3600)) {
                            panic!("{e}");
                        }
                    },
                    |()| black_box(runtime.block_on(call(&s.clients))),
                    BatchSize::PerIteration,
                );
            });
        }
        let failed: Vec<String> = s
            .aws
            .events()
            .errors()
            .map(|e| format!("{} {}", e.action, e.outcome()))
            .take(3)
            .collect();
        assert!(failed.is_empty(), "{}: {failed:?}", strategy.as_str());
        let issuing = s.aws.events().iter().filter(|e| e.issued.is_some()).count();
        println!(
            "{}: {} requests served, {issuing} credential sets issued, no failures",
            strategy.as_str(),
            s.aws.events().len()
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
