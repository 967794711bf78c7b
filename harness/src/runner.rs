//! Runners: execute one run of a scenario on its clock and collect what happened.
//!
//! - **virtual**: one OS thread, one `current_thread` tokio runtime started paused, the mock in
//!   process ([`InProcessClient`]), the SDK on the same virtual clock. Time moves only when every
//!   task sleeps, so hours replay in milliseconds, and the same scenario and seed give the same
//!   events (the SDK's `fastrand` jitter is seeded on the thread; each run has its own retry
//!   partition). A virtual deadline bounds every run, so a client that waits on something that
//!   never comes ends with a verdict instead of hanging.
//! - **scaled**: the mock on a real loopback socket, simulated time `rate` times real time, the
//!   SDK over real HTTP on the same clock. Real latency is multiplied by the rate, so each run
//!   records the longest simulated span of one request (its fidelity).
//! - **process** runs (any clock but virtual): the mock on a loopback socket, scaled, and the
//!   run's program under libfaketime on the same clock ([`crate::process`]).
//! - **compressed** (`compressed:K`, in process or programs): the scaled path on the real
//!   clock, the mock dividing every lifetime it grants by K, the scenario's durations divided
//!   too, and what the run measured multiplied back into the scenario's time
//!   ([`crate::compressed`]). Programs run without libfaketime.
//!
//! Runs of a scenario execute in parallel, one OS thread each.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use mock_sts::MockAws;
use mock_sts::clock::{SimClock, SkewedClock, Stopwatch};
use mock_sts::events::{Event, EventLog, Retention};
use mock_sts::sdk::InProcessClient;
use mock_sts::timestamp;

use crate::compressed;
use crate::process::{self, ProcessOptions, ProcessOutcome};
use crate::scenario::{ClockSpec, Operation, Revocation, RunSpec, Scenario, StrategyKind};
use crate::sdk_log::{Capture, SdkLog};
use crate::strategy::{self, ClientEnv};
use crate::tally::{Recorder, Tally};
use crate::token_file::TokenFiles;
use crate::workload::{self, OpRecord, WorkerStop};

/// What a run keeps of what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every server event and every call, in [`RunResult::events`] and [`RunResult::ops`]
    /// (what the timeline, the comparison table and tests read).
    Everything,
    /// What the run's metrics need, taken as it goes ([`RunResult::tally`]): no events, and
    /// of the calls only those that failed in the client alone. For virtual runs, where the
    /// server records each request's event before its client sees the answer; other clocks
    /// keep everything.
    WhatMetricsNeed,
}

/// Everything one run left behind.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// The run.
    pub run: RunSpec,
    /// The clock it ran on.
    pub clock: ClockSpec,
    /// The seed.
    pub seed: u64,
    /// Simulated time of the run's first request (times in reports count from here).
    pub start: SystemTime,
    /// The workload's operations: the actions that count as the data plane.
    pub operations: Vec<Operation>,
    /// The server's events, in order (empty with [`Keep::WhatMetricsNeed`]).
    pub events: Vec<Event>,
    /// What the client saw, per operation (with [`Keep::WhatMetricsNeed`], only the calls that
    /// failed in the client alone).
    pub ops: Vec<OpRecord>,
    /// The run's tally, when it was taken as the run went ([`Keep::WhatMetricsNeed`]); then
    /// `events` is empty.
    pub tally: Option<Tally>,
    /// A failure before the workload started (e.g. STS refused the start-up AssumeRole).
    pub startup_error: Option<String>,
    /// Workers that panicked or stopped before the job's end.
    pub worker_stops: Vec<WorkerStop>,
    /// What the SDK logged (warnings and errors), in-process runs only.
    pub sdk_log: SdkLog,
    /// The run was cut off at its deadline.
    pub timed_out: bool,
    /// Wall time the run took.
    pub wall: Duration,
    /// For `process` runs: how the program ended and what it printed.
    pub process: Option<ProcessOutcome>,
}

impl RunResult {
    /// An empty result for `run` of `scenario`, before anything happened.
    fn new(scenario: &Scenario, run: &RunSpec, clock: ClockSpec, seed: u64) -> RunResult {
        RunResult {
            run: run.clone(),
            clock,
            seed,
            start: scenario.start,
            operations: scenario.workload.operations.clone(),
            events: Vec::new(),
            ops: Vec::new(),
            tally: None,
            startup_error: None,
            worker_stops: Vec::new(),
            sdk_log: SdkLog::default(),
            timed_out: false,
            wall: Duration::ZERO,
            process: None,
        }
    }

    /// How many events the server recorded in the run (kept or tallied).
    pub fn event_count(&self) -> u64 {
        match &self.tally {
            Some(tally) => tally.events(),
            None => self.events.len() as u64,
        }
    }
}

/// Runs every run of `scenario` (or those named `only`), in parallel, on `clock` (default: the
/// scenario's) with `seed` (default: the scenario's); programs of `process` runs get
/// [`ProcessOptions::from_env`].
pub fn run_scenario(
    scenario: &Scenario,
    only: Option<&str>,
    clock: Option<ClockSpec>,
    seed: Option<u64>,
) -> Vec<RunResult> {
    run_scenario_with(scenario, only, clock, seed, &ProcessOptions::from_env())
}

/// [`run_scenario`] with explicit [`ProcessOptions`] for `process` runs.
pub fn run_scenario_with(
    scenario: &Scenario,
    only: Option<&str>,
    clock: Option<ClockSpec>,
    seed: Option<u64>,
    options: &ProcessOptions,
) -> Vec<RunResult> {
    run_scenario_keeping(scenario, only, clock, seed, options, Keep::Everything)
}

/// [`run_scenario_with`], keeping `keep` of each run (`sts-harness run` without a timeline
/// keeps [`Keep::WhatMetricsNeed`]).
pub fn run_scenario_keeping(
    scenario: &Scenario,
    only: Option<&str>,
    clock: Option<ClockSpec>,
    seed: Option<u64>,
    options: &ProcessOptions,
    keep: Keep,
) -> Vec<RunResult> {
    let clock = clock.unwrap_or(scenario.clock);
    let seed = seed.unwrap_or(scenario.seed);
    let runs: Vec<&RunSpec> = scenario
        .runs
        .iter()
        .filter(|r| only.is_none_or(|name| r.is_named(name)))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|run| {
                scope.spawn(move || run_one_keeping(scenario, run, clock, seed, options, keep))
            })
            .collect();
        handles
            .into_iter()
            .zip(&runs)
            .map(|(h, run)| {
                h.join().unwrap_or_else(|payload| {
                    let message = workload::panic_message(payload.as_ref());
                    let mut result = RunResult::new(scenario, run, clock, seed);
                    result.startup_error =
                        Some(format!("the run panicked (a harness bug): {message}"));
                    result
                })
            })
            .collect()
    })
}

/// Runs one run on its own thread's runtime.
pub fn run_one(scenario: &Scenario, run: &RunSpec, clock: ClockSpec, seed: u64) -> RunResult {
    run_one_with(scenario, run, clock, seed, &ProcessOptions::from_env())
}

/// [`run_one`] with explicit [`ProcessOptions`] for `process` runs.
pub fn run_one_with(
    scenario: &Scenario,
    run: &RunSpec,
    clock: ClockSpec,
    seed: u64,
    options: &ProcessOptions,
) -> RunResult {
    run_one_keeping(scenario, run, clock, seed, options, Keep::Everything)
}

/// [`run_one_with`], keeping `keep` of the run.
pub fn run_one_keeping(
    scenario: &Scenario,
    run: &RunSpec,
    clock: ClockSpec,
    seed: u64,
    options: &ProcessOptions,
    keep: Keep,
) -> RunResult {
    let stopwatch = Stopwatch::start();
    // The SDK draws refresh and retry jitter from fastrand's thread-local RNG.
    fastrand::seed(seed);
    let runtime = match clock {
        ClockSpec::Virtual => tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build(),
        ClockSpec::Scaled { .. } | ClockSpec::Compressed { .. } => {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        }
    };
    // A compressed run replays the scenario shrunk onto real time; its result keeps the run
    // as written (expectations in the scenario's time) and is stretched back at the end.
    let shrunk = clock.compression().map(|k| compressed::shrink(scenario, k));
    let (scenario, driven) = match &shrunk {
        Some(s) => (s, s.runs.iter().find(|r| r.name == run.name).unwrap_or(run)),
        None => (scenario, run),
    };
    let mut result = RunResult::new(scenario, run, clock, seed);
    match runtime {
        Ok(runtime) if run.strategy == StrategyKind::Process => {
            runtime.block_on(drive_program(scenario, driven, seed, options, &mut result));
        }
        Ok(runtime) => runtime.block_on(drive(scenario, driven, clock, seed, keep, &mut result)),
        Err(e) => result.startup_error = Some(format!("cannot start a runtime: {e}")),
    }
    if let Some(k) = clock.compression() {
        compressed::stretch(&mut result, k);
    }
    result.wall = stopwatch.elapsed();
    result
}

/// The run's clock: virtual (inside a paused runtime) or scaled, from the scenario's start.
fn make_clock(scenario: &Scenario, spec: ClockSpec) -> Result<SimClock, String> {
    match spec {
        ClockSpec::Virtual => Ok(SimClock::virtual_at(scenario.start)),
        ClockSpec::Scaled { rate } => {
            SimClock::scaled(rate, scenario.start).map_err(|e| e.to_string())
        }
        // The real clock: the one a program that libfaketime cannot reach reads.
        ClockSpec::Compressed { .. } => Ok(SimClock::wall()),
    }
}

/// Starts the run's mock, the one way both paths start it: on `clock`, with the scenario's
/// world, seed and `[[fault]]` rules (a program's rules later: `drive_program`); in process
/// for a virtual clock, on a loopback socket for a scaled one (the SDK over real HTTP, or a
/// program).
async fn start_mock(
    scenario: &Scenario,
    clock: &SimClock,
    spec: ClockSpec,
    seed: u64,
    process_run: bool,
) -> Result<MockAws, String> {
    // Every event stays in memory: the run's metrics, timeline and report read all of them
    // (`collect`), and the log goes when the run ends. (A served mock keeps a window.)
    let builder = MockAws::builder()
        .clock(clock.clone())
        .world(scenario.world.clone())
        .events(EventLog::retaining(Retention::All))
        .seed(seed);
    let builder = match spec.compression() {
        Some(k) => builder.compress_lifetimes(compressed::compression(k)),
        None => builder,
    };
    let aws = match spec {
        ClockSpec::Virtual => builder.build(),
        ClockSpec::Scaled { .. } | ClockSpec::Compressed { .. } => builder
            .start()
            .await
            .map_err(|e| format!("cannot start the mock: {e}"))?,
    };
    // A program's rules wait for its first request (`drive_program`).
    if !process_run {
        install_faults(&aws, scenario, Duration::ZERO);
    }
    Ok(aws)
}

/// Moves the mock's events into the result, times them from the run's first request, and
/// stops the mock.
async fn collect(result: &mut RunResult, aws: &MockAws) {
    // Moved, not copied: the log and a snapshot of it would be two copies of every event at
    // the run's end, its peak.
    // (A tallied run has taken its events already: the log is empty.)
    result.events = aws.event_log().drain().0;
    // Times are reported from the run's first request: on a scaled clock, starting the server
    // and the client takes real milliseconds that are simulated seconds.
    let first = match &result.tally {
        Some(tally) => tally.first_event(),
        None => result.events.first().map(|e| e.sim_time),
    };
    if let Some(first) = first {
        // To the millisecond: credentials carry millisecond times, so an issue time never
        // reads as a hair before the request that issued it.
        result.start = timestamp::from_unix_millis(timestamp::unix_millis(first));
    }
    aws.shutdown().await;
}

/// A `process` run: the program under libfaketime against the mock on a loopback socket.
async fn drive_program(
    scenario: &Scenario,
    run: &RunSpec,
    seed: u64,
    options: &ProcessOptions,
    result: &mut RunResult,
) {
    // What can fail before anything starts (no faketime, no such program, a virtual clock).
    let prepared = match process::prepare(run, result.clock, options) {
        Ok(p) => p,
        Err(e) => {
            result.startup_error = Some(e.to_string());
            return;
        }
    };
    let clock = match make_clock(scenario, result.clock) {
        Ok(c) => c,
        Err(e) => {
            result.startup_error = Some(e);
            return;
        }
    };
    let aws = match start_mock(scenario, &clock, result.clock, seed, true).await {
        Ok(aws) => aws,
        Err(e) => {
            result.startup_error = Some(e);
            return;
        }
    };
    // A program's fault windows and revocations count from its first request, as every time
    // in its report does: an interpreter's start-up alone takes simulated minutes at ×360,
    // and more on a loaded machine. The rules go in once that request has been answered.
    let anchored = async {
        aws.event_log().wait_beyond(0).await;
        let first = aws
            .events()
            .0
            .first()
            .map_or_else(|| clock.now(), |e| e.sim_time);
        let offset = first.duration_since(scenario.start).unwrap_or_default();
        install_faults(&aws, scenario, offset);
        revoke_on_schedule(&aws, &clock, first, &scenario.revocations).await
    };
    let outcome = tokio::select! {
        outcome = process::run(&prepared, scenario, run, &aws, &clock, seed) => outcome,
        never = anchored => match never {},
    };
    collect(result, &aws).await;
    match outcome {
        Ok(outcome) => {
            result.timed_out = matches!(outcome.exit, process::Exit::TimedOut { .. });
            result.process = Some(outcome);
        }
        Err(e) => result.startup_error = Some(e.to_string()),
    }
}

async fn drive(
    scenario: &Scenario,
    run: &RunSpec,
    clock_spec: ClockSpec,
    seed: u64,
    keep: Keep,
    result: &mut RunResult,
) {
    let clock = match make_clock(scenario, clock_spec) {
        Ok(c) => c,
        Err(e) => {
            result.startup_error = Some(e);
            return;
        }
    };
    // The SDK's warnings go to this run's report, not to stderr.
    let capture = Capture::new(clock.clone());
    let _log_guard = capture.install();
    // The job's length counts from here, its start-up (see `workload::run_until`); so do
    // `[[revoke]]` times.
    let origin = clock.now();
    let job_end = origin + scenario.workload.length;
    let aws = match start_mock(scenario, &clock, clock_spec, seed, false).await {
        Ok(aws) => aws,
        Err(e) => {
            result.startup_error = Some(e);
            return;
        }
    };
    let (http, direct): (SharedHttpClient, SharedHttpConnector) = match clock_spec {
        ClockSpec::Virtual => {
            let client = InProcessClient::new(&aws);
            (
                SharedHttpClient::new(client.clone()),
                SharedHttpConnector::new(client),
            )
        }
        ClockSpec::Scaled { .. } | ClockSpec::Compressed { .. } => (
            aws_smithy_http_client::Builder::new().build_http(),
            SharedHttpConnector::new(aws_smithy_http_client::Connector::builder().build_http()),
        ),
    };
    let latency = scenario.workload.latency;
    let (http, direct) = if latency.is_zero() {
        (http, direct)
    } else {
        (
            SharedHttpClient::new(Latency {
                inner: http,
                clock: clock.clone(),
                latency,
            }),
            SharedHttpConnector::new(LatencyConnector {
                inner: direct,
                clock: clock.clone(),
                latency,
            }),
        )
    };
    let Some(user) = scenario.world.users.first() else {
        result.startup_error = Some("the world has no IAM user to use as source keys".into());
        return;
    };
    let tokens = match TokenFiles::create(scenario, run, &aws, None) {
        Ok(tokens) => tokens,
        Err(e) => {
            result.startup_error = Some(e.to_string());
            return;
        }
    };
    let env = ClientEnv {
        clock: clock.clone(),
        client_clock: SkewedClock::new(clock.clone(), run.clock_faults.clone()),
        http,
        direct,
        endpoint: aws.endpoint_url(),
        source_access_key_id: user.access_key_id.clone(),
        source_secret_access_key: user.secret_access_key.clone(),
        partition: format!("{}::{}::{seed}", scenario.name, run.name),
        container: scenario.world.container.as_ref().map(|c| {
            // aws-config takes only loopback full URIs and resolves a host name by DNS to
            // check it; in process the host is never dialled, so name the loopback address.
            let base = match aws.addr() {
                Some(_) => aws.endpoint_url(),
                None => "http://127.0.0.1".to_string(),
            };
            (
                format!("{base}{}", c.relative_uri),
                c.authorization_token.clone(),
            )
        }),
        projected: tokens.as_ref().map(TokenFiles::client_env),
    };

    let recorder = match (keep, clock_spec) {
        // Conformance rules read the events themselves.
        (Keep::WhatMetricsNeed, ClockSpec::Virtual) if !run.expect.states_conformance() => {
            Recorder::tallying(
                aws.event_log().clone(),
                Tally::new(&scenario.workload.operations, !run.clock_faults.is_none()),
            )
        }
        _ => Recorder::keeping(),
    };
    let records = Arc::new(Mutex::new(recorder));
    // Generous: twice the workload plus an hour of simulated time for start-up and retries.
    let deadline =
        scenario.workload.length * 2 + Duration::from_secs(3600) + scenario.workload.overrun();
    let revocations = async {
        match &tokens {
            // The kubelet's rotation runs beside the revocations, both for ever.
            Some(tokens) => tokio::select! {
                never = revoke_on_schedule(&aws, &clock, origin, &scenario.revocations) => never,
                never = tokens.rotate(&aws, &clock) => never,
            },
            None => revoke_on_schedule(&aws, &clock, origin, &scenario.revocations).await,
        }
    };
    let work = async {
        let clients = strategy::build_clients(&env, run).await?;
        let stops = workload::run_until(
            &clients,
            &scenario.workload,
            &clock,
            seed,
            &records,
            job_end,
        )
        .await;
        Ok::<_, strategy::StartupError>(stops)
    };
    let work = async {
        tokio::select! {
            out = work => out,
            never = revocations => match never {},
        }
    };
    match with_deadline(&clock, deadline, work).await {
        Some(Ok(stops)) => result.worker_stops = stops,
        Some(Err(e)) => result.startup_error = Some(e.message),
        None => result.timed_out = true,
    }
    result.sdk_log = capture.log();
    let mut recorder = std::mem::replace(
        &mut *records.lock().unwrap_or_else(|p| p.into_inner()),
        Recorder::keeping(),
    );
    recorder.drain_events();
    result.ops = recorder.ops;
    result.tally = recorder.live.map(|(_, tally)| tally);
    collect(result, &aws).await;
}

/// Installs the scenario's `[[fault]]` rules with their windows moved `offset` later.
fn install_faults(aws: &MockAws, scenario: &Scenario, offset: Duration) {
    let faults = aws.faults();
    for rule in &scenario.faults {
        let mut rule = rule.clone();
        rule.from = rule.from.map(|t| t + offset);
        rule.until = rule.until.map(|t| t + offset);
        faults.add(rule);
    }
}

/// Revokes sessions as the scenario's `[[revoke]]` entries say, each at its time since
/// `origin`; then waits for ever (the caller races it against the job).
async fn revoke_on_schedule(
    aws: &MockAws,
    clock: &SimClock,
    origin: SystemTime,
    revocations: &[Revocation],
) -> std::convert::Infallible {
    let mut ordered: Vec<&Revocation> = revocations.iter().collect();
    ordered.sort_by_key(|r| r.at);
    for r in ordered {
        clock.sleep_until(origin + r.at).await;
        // The scenario checked the role against the world when it was read.
        if let Err(e) = aws.revoke(&r.role_arn, Some(origin + r.issued_before)) {
            tracing::error!(error = %e, "cannot revoke sessions");
        }
    }
    std::future::pending().await
}

/// Runs `f` for at most `d` of simulated time.
async fn with_deadline<F: Future>(clock: &SimClock, d: Duration, f: F) -> Option<F::Output> {
    tokio::select! {
        out = f => Some(out),
        () = clock.sleep(d) => None,
    }
}

/// Adds simulated one-way latency in each direction to every request.
#[derive(Debug, Clone)]
struct Latency {
    inner: SharedHttpClient,
    clock: SimClock,
    latency: Duration,
}

#[derive(Debug, Clone)]
struct LatencyConnector {
    inner: SharedHttpConnector,
    clock: SimClock,
    latency: Duration,
}

impl HttpConnector for LatencyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let this = self.clone();
        HttpConnectorFuture::new(async move {
            this.clock.sleep(this.latency).await;
            let response = this.inner.call(request).await;
            this.clock.sleep(this.latency).await;
            response
        })
    }
}

impl HttpClient for Latency {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LatencyConnector {
            inner: self.inner.http_connector(settings, components),
            clock: self.clock.clone(),
            latency: self.latency,
        })
    }
}
