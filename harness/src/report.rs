//! Reports: the terminal table, the JSON document (`--json`) and JUnit XML (`--junit`).
//!
//! Every run gets a verdict against its expectation and, when anything failed, one paragraph
//! that explains the failure the way the seed's investigation did: which credential signed the
//! failing request, how and when it was issued (action, `DurationSeconds` asked and granted,
//! the role's maximum), when it expired, whether a refresh was attempted, and the remedy.
//!
//! `process` runs add how the program ended and the tail of what it printed; departed ones
//! show that output in the table and in JUnit.
//!
//! The JSON schema is stable (`schema_version` 1; fields are only ever added). Wall-clock
//! fields are `wall_ms` and `metrics.refresh_latency_wall_ms`; everything else is a function
//! of the scenario and seed alone on a virtual clock.

use std::fmt::Write as _;
use std::path::Path;

use mock_sts::aws_error::ErrorCode;
use mock_sts::xml::escape;
use serde::Serialize;

use crate::metrics::{self, Check, Metrics, Side, hms};
use crate::outcome::ClientFailure;
use crate::process::{Exit, OutputTail, ProcessOutcome};
use crate::runner::RunResult;
use crate::scenario::{Operation, Scenario, StrategyKind};
use crate::strategy;

/// The JSON schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// A whole invocation's results.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema version of this document.
    pub schema_version: u32,
    /// `sts-harness`.
    pub tool: &'static str,
    /// One entry per scenario file.
    pub scenarios: Vec<ScenarioReport>,
    /// Totals.
    pub summary: Summary,
}

/// Totals over a report.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Scenarios run.
    pub scenarios: usize,
    /// Runs.
    pub runs: usize,
    /// Runs that met their expectation.
    pub met: usize,
    /// Runs that departed from it.
    pub departed: usize,
}

/// One scenario's results.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Its name.
    pub name: String,
    /// Its file.
    pub file: String,
    /// What it shows.
    pub description: String,
    /// The seed used.
    pub seed: u64,
    /// The clock used (`virtual` or `scaled:RATE`).
    pub clock: String,
    /// Its runs.
    pub runs: Vec<RunReport>,
}

/// One run's results.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The run's name.
    pub name: String,
    /// The strategy.
    pub strategy: String,
    /// The role it assumed.
    pub role_arn: String,
    /// `DurationSeconds` it asked for.
    pub duration_seconds: Option<u32>,
    /// `met` or `departed`.
    pub verdict: &'static str,
    /// Each expectation, expected against actual.
    pub checks: Vec<Check>,
    /// What was measured.
    pub metrics: Metrics,
    /// A failure before the workload started.
    pub startup_error: Option<String>,
    /// The failure, explained.
    pub explanation: Option<String>,
    /// The command that reruns exactly this run.
    pub rerun: String,
    /// Wall time, milliseconds.
    pub wall_ms: f64,
    /// `process` runs: the program, how it ended, and the tail of its output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessOutcome>,
    /// The client's clock faults, as the scenario states them (`-20m offset`), or `exact`.
    pub client_clock: String,
    /// What the SDK logged (warnings and errors, one line each, counted), in-process runs.
    pub sdk_log: Vec<SdkLogLine>,
    /// Distinct SDK log lines not kept (past the per-run cap).
    pub sdk_log_dropped: u64,
}

/// One distinct line the SDK logged during a run.
#[derive(Debug, Clone, Serialize)]
pub struct SdkLogLine {
    /// `WARN` or `ERROR`.
    pub level: String,
    /// The module that logged it.
    pub target: String,
    /// The message and its fields.
    pub message: String,
    /// How many times.
    pub count: u64,
    /// Simulated seconds since the run's start when it was first logged.
    pub first_at_seconds: f64,
}

impl RunReport {
    /// Whether the run met its expectation.
    pub fn met(&self) -> bool {
        self.verdict == "met"
    }
}

/// Builds the report for a scenario's results.
pub fn scenario_report(scenario: &Scenario, results: &[RunResult]) -> ScenarioReport {
    let clock = results
        .first()
        .map_or_else(|| scenario.clock.label(), |r| r.clock.label());
    let seed = results.first().map_or(scenario.seed, |r| r.seed);
    let runs = results
        .iter()
        .map(|result| {
            let m = metrics::compute(result);
            let checks = metrics::verdict(&result.run.expect, result, &m);
            let met = checks.iter().all(|c| c.ok);
            RunReport {
                name: result.run.name.clone(),
                strategy: result.run.strategy.as_str().to_string(),
                role_arn: result.run.role_arn.clone(),
                duration_seconds: result.run.duration_seconds,
                verdict: if met { "met" } else { "departed" },
                explanation: explain(scenario, result, &m),
                checks,
                startup_error: result.startup_error.clone(),
                metrics: m,
                rerun: format!(
                    "sts-harness run {} --run {} --seed {} --clock {}",
                    scenario.path.display(),
                    result.run.name,
                    result.seed,
                    result.clock.label()
                ),
                wall_ms: result.wall.as_secs_f64() * 1000.0,
                process: result.process.clone(),
                sdk_log: sdk_log_lines(result),
                client_clock: clock_faults_label(&result.run.clock_faults),
                sdk_log_dropped: result.sdk_log.dropped,
            }
        })
        .collect();
    ScenarioReport {
        name: scenario.name.clone(),
        file: scenario.path.display().to_string(),
        description: scenario.description.clone(),
        seed,
        clock,
        runs,
    }
}

/// `-20m00s offset, +0.1 % drift, jumps +2h00m00s at 30m00s`, or `exact`.
pub fn clock_faults_label(f: &mock_sts::clock::ClockFaults) -> String {
    let signed = |s: f64| {
        if s < 0.0 {
            format!("-{}", hms(-s))
        } else {
            format!("+{}", hms(s))
        }
    };
    let mut parts = Vec::new();
    if f.offset_seconds != 0.0 {
        parts.push(format!("{} offset", signed(f.offset_seconds)));
    }
    if f.drift != 0.0 {
        parts.push(format!("{:+} % drift", f.drift * 100.0));
    }
    for j in &f.jumps {
        parts.push(format!(
            "jumps {} at {}",
            signed(j.by_seconds),
            hms(j.at.as_secs_f64())
        ));
    }
    if parts.is_empty() {
        "exact".to_string()
    } else {
        parts.join(", ")
    }
}

fn sdk_log_lines(result: &RunResult) -> Vec<SdkLogLine> {
    result
        .sdk_log
        .lines
        .iter()
        .map(|l| SdkLogLine {
            level: l.level.clone(),
            target: l.target.clone(),
            message: l.message.clone(),
            count: l.count,
            first_at_seconds: metrics::since(result.start, l.first),
        })
        .collect()
}

/// The SDK log line that best explains a failure at `at_seconds`: the last distinct line first
/// logged at or before it, else the first line. Quoted as `"…" (×N, first at +T)`.
fn quote_sdk_log(result: &RunResult, at_seconds: f64) -> Option<String> {
    let lines = &result.sdk_log.lines;
    let line = lines
        .iter()
        .rfind(|l| metrics::since(result.start, l.first) <= at_seconds + 0.001)
        .or_else(|| lines.first())?;
    Some(format!(
        "The SDK logged: \"{}\" (×{}, first at +{}).",
        line.message,
        line.count,
        hms(metrics::since(result.start, line.first))
    ))
}

/// What to do about a failure only the client saw.
fn client_remedy(kind: ClientFailure) -> &'static str {
    match kind {
        ClientFailure::Timeout => {
            "a call, or the credential load behind it, took longer than the SDK waits: stalled-stream protection fails a transfer that moves no bytes for its grace period, the identity cache bounds a credential load (from the retry and timeout config), and configured operation or attempt timeouts bound each call; the server never sees those calls. Find the slow hop, or give the SDK's timeouts room for it"
        }
        ClientFailure::DispatchFailure => {
            "the connection failed before any response: the SDK retries transient I/O errors a few times (standard retry mode, 3 attempts); a longer outage reaches the caller"
        }
        ClientFailure::CredentialsNotLoaded => {
            "the credentials provider failed, so the SDK had nothing to sign with: the refresh itself failed (its STS or metadata call was refused or unreachable); see the SDK's log line and the server's failed issuing calls"
        }
        ClientFailure::ResponseError => {
            "a response came back that the SDK could not parse as the service's answer"
        }
        ClientFailure::ConstructionFailure => "the SDK could not build the request",
        ClientFailure::WorkerStopped => "a worker stopped before the job's end",
        ClientFailure::Other => "the SDK failed the call on its own; see its message",
    }
}

/// Assembles the report.
pub fn report(scenarios: Vec<ScenarioReport>) -> Report {
    let runs = scenarios.iter().map(|s| s.runs.len()).sum();
    let met = scenarios
        .iter()
        .flat_map(|s| &s.runs)
        .filter(|r| r.met())
        .count();
    Report {
        schema_version: SCHEMA_VERSION,
        tool: "sts-harness",
        summary: Summary {
            scenarios: scenarios.len(),
            runs,
            met,
            departed: runs - met,
        },
        scenarios,
    }
}

/// The paragraph that explains a run's first failure, or `None` when nothing failed; for a
/// `process` run, also how its program ended when that matters.
fn explain(scenario: &Scenario, result: &RunResult, m: &Metrics) -> Option<String> {
    let mut text = explain_failure(scenario, result, m);
    for stop in &result.worker_stops {
        let note = format!(
            "Worker {} stopped at +{}: {}; the calls it had left were never made, so this run did not do its work.",
            stop.worker,
            hms(metrics::since(result.start, stop.at)),
            stop.reason
        );
        text = Some(match text {
            Some(t) => format!("{t} {note}"),
            None => note,
        });
    }
    let Some(process) = &result.process else {
        return text;
    };
    let note = match process.exit {
        Exit::TimedOut { limit_ms } => Some(format!(
            "The program was still running at its {} wall-clock limit ({}), so the harness killed it and its process group; a program that waits on something that never comes, or a rate too high for its start-up, ends this way.",
            hms(limit_ms as f64 / 1000.0),
            if result
                .run
                .process
                .as_ref()
                .is_some_and(|p| p.timeout.is_some())
            {
                "the run's `timeout`"
            } else {
                "the workload's length at the clock's rate, ×2, plus 60 s"
            }
        )),
        Exit::Code { code } if code != 0 && m.first_failure.is_none() => Some(format!(
            "The program exited with status {code} although no request failed on the server: see its output."
        )),
        Exit::Code { .. } => None,
    };
    match (text, note) {
        (Some(t), Some(n)) => Some(format!("{t} {n}")),
        (t, n) => t.or(n),
    }
}

fn explain_failure(scenario: &Scenario, result: &RunResult, m: &Metrics) -> Option<String> {
    let strategy = result.run.strategy;
    if let Some(error) = &result.startup_error
        && strategy == StrategyKind::Process
    {
        return Some(format!(
            "The run failed before its program started: {error}."
        ));
    }
    if let Some(error) = &result.startup_error {
        let role_max = scenario
            .world
            .role_by_arn(&result.run.role_arn)
            .map(|r| r.max_session_duration);
        let mut text = format!("The run failed before its workload started: {error}. ");
        if let (Some(asked), Some(max)) = (result.run.duration_seconds, role_max)
            && (asked > max || asked > 43200)
        {
            let _ = write!(
                text,
                "It asked for DurationSeconds={asked}, but the role allows at most {max} s (and STS at most 43200 s). Ask for at most the role's MaxSessionDuration, or better, "
            );
            text.push_str(strategy::remedy(StrategyKind::ManualEnv));
            text.push('.');
            return Some(text);
        }
        let _ = write!(text, "Remedy: {}.", strategy::remedy(strategy));
        return Some(text);
    }
    let f = m.first_failure.as_ref()?;
    if f.side == Side::Client {
        return Some(explain_client_failure(result, m, f));
    }
    let mut text = format!(
        "{} at +{} failed with {}: \"{}\". ",
        f.action,
        hms(f.at_seconds),
        f.code,
        f.message
    );
    if let Some(effect) = &f.injected {
        let _ = write!(
            text,
            "The mock injected it (fault rule `{effect}`), and the SDK's retries did not absorb it. "
        );
    }
    if let Some(effect) = &f.delayed {
        let _ = write!(
            text,
            "It was held in flight by a fault rule (`{effect}`) and judged when it arrived. "
        );
    }
    match (&f.signed_by, &f.issued) {
        (Some(signer), Some(issued)) => {
            let asked = match issued.duration_seconds_requested {
                Some(d) => format!("DurationSeconds={d} asked"),
                None => "no DurationSeconds sent".to_string(),
            };
            let max = issued
                .max_session_duration
                .map_or(String::new(), |m| format!("; the role allows {m} s"));
            let _ = write!(
                text,
                "It was signed with {}, issued by {} at +{} ({asked}, {} s granted{max}), which expired at +{}. ",
                signer.access_key_id,
                signer.issued_by.map_or("STS", |by| by.as_str()),
                f.issued_at_seconds.map_or("?".into(), hms),
                issued.duration_seconds_granted,
                f.expired_at_seconds.map_or("?".into(), hms),
            );
        }
        (Some(signer), None) => {
            let _ = write!(
                text,
                "It was signed with {} ({}). ",
                signer.access_key_id,
                signer
                    .principal_arn
                    .as_deref()
                    .unwrap_or("unknown principal")
            );
        }
        (None, _) => text.push_str("It carried no signature the server could attribute. "),
    }
    if f.error_code == Some(ErrorCode::ExpiredToken) {
        if f.refresh_attempts == 0 {
            text.push_str("No refresh was attempted after those credentials were issued. ");
        } else {
            let _ = write!(
                text,
                "{} credential refresh call(s) came after they were issued, yet this request still carried the expired credential. ",
                f.refresh_attempts
            );
        }
    }
    let clock = &result.run.clock_faults;
    let presigned_use = scenario.workload.presign.is_some()
        && result.operations.iter().any(|op| {
            matches!(
                op,
                Operation::PresignedGetObject | Operation::PresignedPutObject
            ) && op.actions().iter().any(|a| a.as_str() == f.action)
        });
    let advice = match (strategy, f.error_code, result.run.duration_seconds) {
        (_, Some(ErrorCode::ExpiredToken), _) if presigned_use => {
            "A presigned URL carries the credentials it was signed with, session token included: it works until its X-Amz-Expires or until that session expires, whichever comes first, and refreshing the client's credentials afterwards does not renew it (aws-sdk-rust warns when it presigns: see its log line). Presign with credentials that live as long as the URL must (an IAM user's keys, or a role session as long as the role allows), or presign just before the URL is used.".to_string()
        }
        (_, Some(ErrorCode::AccessDenied), _) if presigned_use => {
            "The URL's X-Amz-Expires ran out before it was used: presign closer to its use, or with a longer validity (at most 7 days, and never longer than the session that signs it).".to_string()
        }
        _ if !clock.is_none() => format!(
            "The client's clock is wrong ({}) while AWS judges every request by its own: keep it synchronised (NTP, chrony; re-sync after a resume). aws-runtime 1.10 learns the skew from a skew error's Date header and re-signs, but its credential cache still judges expiry by the local clock: behind, it keeps keys past their expiry (ExpiredToken until it catches up); ahead, it thinks fresh keys have expired and calls STS before every request.",
            clock_faults_label(clock)
        ),
        (StrategyKind::ManualEnv, Some(ErrorCode::ExpiredToken), None) => format!(
            "Credentials from one AssumeRole at start-up, with the 3600 s default although the role allows {} s, are never refreshed; {}.",
            f.issued
                .as_ref()
                .and_then(|i| i.max_session_duration)
                .unwrap_or(3600),
            strategy::remedy(strategy)
        ),
        (StrategyKind::ManualEnv, Some(ErrorCode::ExpiredToken), Some(d)) => format!(
            "A hard-coded DurationSeconds={d} only moves the cliff to +{}: any job longer than that, or a role with a lower maximum, fails the same way; {}.",
            hms(f64::from(d)),
            strategy::remedy(strategy)
        ),
        (StrategyKind::Process, Some(ErrorCode::ExpiredToken), _) if f.refresh_attempts == 0 => {
            format!(
                "The program kept signing with the keys it had at start-up, as keys copied into its environment are{}; {}.",
                result
                    .run
                    .duration_seconds
                    .map_or(String::new(), |d| format!(
                        " (DurationSeconds={d} only moves the cliff to +{})",
                        hms(f64::from(d))
                    )),
                strategy::remedy(strategy)
            )
        }
        _ if f.injected.is_some() => format!(
            "This is the failure the scenario's fault rule causes on {}, and it reached the caller. What rides it out: renewing early enough that a short outage falls between refreshes (botocore's 15-minute advisory window, JS v3's 5 minutes), keeping cached credentials that are still valid when a refresh fails (static stability, as the 2026 cross-SDK refresh rules ask), and retrying throttled calls with backoff.",
            f.action
        ),
        (_, Some(ErrorCode::AccessDenied), _) if !scenario.revocations.is_empty() => {
            let r = &scenario.revocations[0];
            format!(
                "The scenario revoked {}'s sessions at +{} (those issued before +{}), as IAM's \"Revoke active sessions\" does: only credentials issued after that instant work. aws-sdk-rust and botocore do not drop cached credentials on AccessDenied, so a refreshing provider keeps failing until its next scheduled refresh, and keys copied at start-up never recover; after a revocation, restart the job or build a new client.",
                r.role_arn,
                hms(r.at.as_secs_f64()),
                hms(r.issued_before.as_secs_f64())
            )
        }
        _ => format!("Remedy: {}.", strategy::remedy(strategy)),
    };
    text.push_str(&advice);
    if let Some(fid) = &m.fidelity
        && fid.could_decide_verdict
    {
        let _ = write!(
            text,
            " Note: on this scaled clock one call spanned {:.1} simulated seconds, more than the strategy's {:.0} s refresh buffer, so the clock's speed alone could have caused this; rerun at a lower rate or with --clock virtual.",
            fid.max_call_span_seconds, fid.refresh_buffer_seconds
        );
    }
    Some(text)
}

/// A first failure only the client saw: what it was, how many calls it hit, whether any
/// request reached the server, what the SDK logged, and the remedy.
fn explain_client_failure(result: &RunResult, m: &Metrics, f: &metrics::FirstFailure) -> String {
    let mut text = format!(
        "{} at +{} failed in the client, with no answer from the server: {}",
        f.action,
        hms(f.at_seconds),
        f.code
    );
    if !f.message.is_empty() {
        let _ = write!(text, " (\"{}\")", f.message);
    }
    text.push_str(". ");
    if m.requests == 0 {
        let _ = write!(
            text,
            "{}. ",
            capitalise(&metrics::no_request_reached(result, m))
        );
    } else {
        let kinds: Vec<String> = m
            .client_failures
            .iter()
            .map(|(k, n)| format!("{} {k}", metrics::thousands(*n)))
            .collect();
        let _ = write!(
            text,
            "{} of {} calls failed in the client ({}); {} requests reached the server. ",
            metrics::thousands(m.client_failures.values().sum()),
            metrics::thousands(m.calls),
            kinds.join(", "),
            metrics::thousands(m.requests)
        );
    }
    if let Some(quote) = quote_sdk_log(result, f.at_seconds) {
        text.push_str(&quote);
        text.push(' ');
    }
    let kind = ClientFailure::parse(&f.code).unwrap_or(ClientFailure::Other);
    let _ = write!(text, "Remedy: {}.", client_remedy(kind));
    text
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The terminal table (and explanations).
pub fn table(report: &Report) -> String {
    let header = [
        "run",
        "verdict",
        "requests",
        "failures",
        "client-only",
        "first failure",
        "STS",
        "refreshes",
        "lead min/med",
        "refresh latency p50/p99",
    ];
    let mut out = String::new();
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "{}  ({}, seed {}, {})",
            s.name, s.file, s.seed, s.clock
        );
        let rows: Vec<[String; 10]> = s
            .runs
            .iter()
            .map(|r| {
                let m = &r.metrics;
                [
                    r.name.clone(),
                    if r.met() {
                        "ok".into()
                    } else {
                        "DEPARTED".into()
                    },
                    m.requests.to_string(),
                    m.failures.values().sum::<u64>().to_string(),
                    if m.calls == 0 {
                        "-".into()
                    } else {
                        m.client_failures.values().sum::<u64>().to_string()
                    },
                    match (&r.startup_error, &m.first_failure) {
                        (_, Some(f)) => format!("{} +{}", f.code, hms(f.at_seconds)),
                        (Some(_), None) => "start-up".into(),
                        (None, None) => "-".into(),
                    },
                    m.sts_calls.to_string(),
                    m.refreshes.to_string(),
                    match (m.refresh_lead_min_seconds, m.refresh_lead_median_seconds) {
                        (Some(a), Some(b)) => format!("{a:.1}s/{b:.1}s"),
                        _ => "-".into(),
                    },
                    m.refresh_latency_sim_ms
                        .as_ref()
                        .map_or("-".into(), |p| format!("{:.0}/{:.0} ms", p.p50, p.p99)),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut l = String::from("  ");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w - cell.chars().count();
                if (2..=4).contains(&i) || (6..=7).contains(&i) {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(cell);
                } else {
                    l.push_str(cell);
                    l.push_str(&" ".repeat(pad));
                }
                l.push_str("  ");
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&header.map(String::from)));
        for row in &rows {
            let _ = writeln!(out, "{}", line(row));
        }
        for r in &s.runs {
            if !r.met() {
                for c in r.checks.iter().filter(|c| !c.ok) {
                    let _ = writeln!(
                        out,
                        "  ! {}: {} expected {}, got {}",
                        r.name, c.what, c.expected, c.actual
                    );
                }
                let _ = writeln!(out, "    rerun: {}", r.rerun);
            }
            if let Some(text) = &r.explanation {
                let _ = writeln!(out, "  {}: {}", r.name, text);
            }
            if let Some(line) = failure_line(r) {
                let _ = writeln!(out, "  {}: {line}", r.name);
            }
            if let Some(skew) = &r.metrics.signing_skew {
                let _ = writeln!(
                    out,
                    "  {}: client clock {}: requests signed {:+} s from the server's time at first, {:+} s at the end (median {:+} s; {} refused for their time)",
                    r.name,
                    r.client_clock,
                    skew.first_seconds.round() as i64,
                    skew.last_seconds.round() as i64,
                    skew.median_seconds.round() as i64,
                    skew.skew_errors
                );
            }
            if !r.met() {
                for l in r.sdk_log.iter().take(TABLE_LOG_LINES) {
                    let _ = writeln!(
                        out,
                        "    sdk {} {} (×{}, first at +{}): {}",
                        l.level,
                        l.target,
                        l.count,
                        hms(l.first_at_seconds),
                        l.message
                    );
                }
            }
            if let Some(process) = &r.process {
                process_lines(&mut out, r, process);
                continue;
            }
            if let Some(fid) = &r.metrics.fidelity {
                let _ = writeln!(
                    out,
                    "  {}: fidelity: longest call spanned {:.2} simulated s (refresh buffer {:.0} s){}",
                    r.name,
                    fid.max_call_span_seconds,
                    fid.refresh_buffer_seconds,
                    if fid.could_decide_verdict {
                        " — the clock's speed could decide this verdict"
                    } else {
                        ""
                    }
                );
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} scenario(s), {} run(s): {} met, {} departed",
        report.summary.scenarios, report.summary.runs, report.summary.met, report.summary.departed
    );
    out
}

/// SDK log lines the table shows for a departed run.
const TABLE_LOG_LINES: usize = 3;

/// `failures: server ExpiredToken×2160 · client-only timeout×1347`, when the run has failures
/// of more than one code or kind; a single code is already in the table's first-failure column.
fn failure_line(r: &RunReport) -> Option<String> {
    let m = &r.metrics;
    let server: Vec<String> = m.failures.iter().map(|(c, n)| format!("{c}×{n}")).collect();
    let client: Vec<String> = m
        .client_failures
        .iter()
        .map(|(c, n)| format!("{c}×{n}"))
        .collect();
    let injected: Vec<String> = m
        .injected_failures
        .iter()
        .map(|(c, n)| format!("{c}×{n}"))
        .collect();
    if server.len() + client.len() < 2 && client.is_empty() && injected.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !server.is_empty() {
        parts.push(format!("server {}", server.join(", ")));
    }
    if !client.is_empty() {
        parts.push(format!(
            "client-only {} (of {} calls)",
            client.join(", "),
            metrics::thousands(m.calls)
        ));
    }
    if !injected.is_empty() {
        parts.push(format!("injected {}", injected.join(", ")));
    }
    Some(format!("failures: {}", parts.join(" · ")))
}

/// Lines of program output the table shows for a departed `process` run, per stream.
const TABLE_OUTPUT_LINES: usize = 20;
/// ...and JUnit's failure text.
const JUNIT_OUTPUT_LINES: usize = 60;
/// Characters kept of each output line.
const OUTPUT_LINE_WIDTH: usize = 240;

/// A `process` run's lines under the table: the program and its exit, its clock's fidelity,
/// and, when it departed, the tail of its output.
fn process_lines(out: &mut String, r: &RunReport, process: &ProcessOutcome) {
    let _ = writeln!(
        out,
        "  {}: program: {} (cwd {}, profile {}, FAKETIME=\"{}\"): {}",
        r.name,
        process.command.join(" "),
        process.cwd,
        process.profile,
        process.faketime,
        process.exit.describe()
    );
    if let Some(fid) = &r.metrics.fidelity {
        let skew = match (fid.max_clock_skew_seconds, fid.median_clock_skew_seconds) {
            (Some(max), Some(median)) => format!(
                "its clock within {max:.1} simulated s of the server's (median {median:+.1} s, {} signed requests; X-Amz-Date has whole seconds)",
                fid.skew_samples.unwrap_or(0)
            ),
            _ => "no signed request to compare its clock with".to_string(),
        };
        let _ = writeln!(
            out,
            "  {}: fidelity: {skew}; margin {} s{}",
            r.name,
            fid.refresh_buffer_seconds,
            if fid.could_decide_verdict {
                " — the clock's speed could decide this verdict: rerun at a lower rate"
            } else {
                ""
            }
        );
    }
    if !r.met() {
        for (name, tail) in [("stdout", &process.stdout), ("stderr", &process.stderr)] {
            out.push_str(&output_block(name, tail, TABLE_OUTPUT_LINES, "    "));
        }
    }
}

/// `stdout (last N of M lines):` and the lines, indented; empty output says so.
fn output_block(name: &str, tail: &OutputTail, lines: usize, indent: &str) -> String {
    let shown = tail.last_lines(lines, OUTPUT_LINE_WIDTH);
    if shown.is_empty() {
        return format!("{indent}{name}: (empty)\n");
    }
    let omitted = tail.omitted_lines(lines);
    let mut block = if omitted > 0 || tail.dropped_bytes > 0 {
        format!(
            "{indent}{name} (last {} lines; {omitted} earlier lines{} not shown):\n",
            shown.len(),
            if tail.dropped_bytes > 0 {
                format!(" and {} earlier bytes", tail.dropped_bytes)
            } else {
                String::new()
            }
        )
    } else {
        format!("{indent}{name}:\n")
    };
    for line in shown {
        let _ = writeln!(block, "{indent}| {line}");
    }
    block
}

/// JUnit XML: one testsuite per scenario, one testcase per run.
pub fn junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sts-harness\" tests=\"{}\" failures=\"{}\">",
        report.summary.runs, report.summary.departed
    );
    for s in &report.scenarios {
        let failures = s.runs.iter().filter(|r| !r.met()).count();
        let time: f64 = s.runs.iter().map(|r| r.wall_ms / 1000.0).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" time=\"{time:.3}\">",
            escape(&s.name),
            s.runs.len()
        );
        let classname = Path::new(&s.file)
            .file_stem()
            .map_or_else(|| s.name.clone(), |f| f.to_string_lossy().into_owned());
        for r in &s.runs {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\">",
                escape(&r.name),
                escape(&classname),
                r.wall_ms / 1000.0
            );
            if !r.met() {
                let failed: Vec<&Check> = r.checks.iter().filter(|c| !c.ok).collect();
                let summary = failed
                    .iter()
                    .map(|c| format!("{}: expected {}, got {}", c.what, c.expected, c.actual))
                    .collect::<Vec<_>>()
                    .join("; ");
                let mut body = String::new();
                for c in &r.checks {
                    let _ = writeln!(
                        body,
                        "{} {}: expected {}, actual {}",
                        if c.ok { "ok  " } else { "FAIL" },
                        c.what,
                        c.expected,
                        c.actual
                    );
                }
                let _ = writeln!(body, "seed: {}, clock: {}", s.seed, s.clock);
                let _ = writeln!(body, "rerun: {}", r.rerun);
                if let Some(text) = &r.explanation {
                    let _ = writeln!(body, "{text}");
                }
                if let Some(process) = &r.process {
                    let _ = writeln!(
                        body,
                        "program: {} (cwd {}, FAKETIME=\"{}\"): {}",
                        process.command.join(" "),
                        process.cwd,
                        process.faketime,
                        process.exit.describe()
                    );
                    for (name, tail) in [("stdout", &process.stdout), ("stderr", &process.stderr)] {
                        body.push_str(&output_block(name, tail, JUNIT_OUTPUT_LINES, ""));
                    }
                }
                let _ = write!(
                    out,
                    "\n      <failure message=\"{}\" type=\"departed\">{}</failure>\n    ",
                    escape(&summary),
                    escape(&body)
                );
            } else if let Some(text) = &r.explanation {
                let _ = write!(
                    out,
                    "\n      <system-out>{}</system-out>\n    ",
                    escape(text)
                );
            }
            out.push_str("</testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
