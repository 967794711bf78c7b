//! Reports: the terminal table, the JSON document (`--json`) and JUnit XML (`--junit`).
//!
//! This module owns the report's data (what the JSON serialises) and builds it from a
//! scenario's results; `explain` words a failure, `table` and `junit` render the report.
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

mod explain;
mod junit;
mod table;

use serde::Serialize;

use crate::metrics::{self, Check, Metrics, hms};
use crate::process::ProcessOutcome;
use crate::runner::RunResult;
use crate::scenario::{PackageSet, Scenario};
use explain::explain;

pub use junit::junit;
pub use table::table;

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
    /// The clock used (`virtual`, `scaled:RATE` or `compressed:K`).
    pub clock: String,
    /// K of a `compressed:K` clock: every lifetime and duration was divided by it, and every
    /// simulated time in this report was multiplied back by it (scenario time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compression: Option<u32>,
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
    /// A version matrix row: the run it is a row of and its packages' versions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<PackageSet>,
    /// The client's clock faults, as the scenario states them (`-20m offset`), or `exact`.
    pub client_clock: String,
    /// What the SDK logged (warnings and errors, one line each, counted), in-process runs.
    pub sdk_log: Vec<SdkLogLine>,
    /// Distinct SDK log lines not kept (past the per-run cap).
    pub sdk_log_dropped: u64,
    /// `compressed:K` runs: where compression itself changed what the client does (a
    /// lifetime inside its refresh window, a lifetime the mock floored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub compression_warnings: Vec<String>,
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
                    shell_word(&result.run.name),
                    result.seed,
                    result.clock.label()
                ),
                wall_ms: result.wall.as_secs_f64() * 1000.0,
                process: result.process.clone(),
                versions: result.run.process.as_ref().and_then(|p| p.packages.clone()),
                sdk_log: sdk_log_lines(result),
                client_clock: clock_faults_label(&result.run.clock_faults),
                sdk_log_dropped: result.sdk_log.dropped,
                compression_warnings: crate::compressed::warnings(scenario, result),
            }
        })
        .collect();
    let compression = results
        .first()
        .map_or(scenario.clock, |r| r.clock)
        .compression();
    ScenarioReport {
        name: scenario.name.clone(),
        file: scenario.path.display().to_string(),
        description: scenario.description.clone(),
        seed,
        clock,
        compression,
        runs,
    }
}

/// `name`, or `'name [boto3 1.35.99]'` when the shell would split it (a version matrix row).
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_.,/:=@+".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
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
