//! The fault-tolerance table (`sts-harness compare`): every strategy under the same
//! conditions, one cell per condition × strategy, each cell what the server saw of that run.
//!
//! Rows and columns are data ([`matrix`]): each condition becomes one [`Scenario`] (the same
//! 2-hour job, PutObject every 10 s, one-hour sessions, seed 7, plus the condition's
//! `[[fault]]` rule or client clock offset) and each strategy one run of it, run by
//! [`runner::run_one_with`] and measured by [`metrics::compute`]. A compare run has no
//! expectation to meet (its [`Expect`](crate::scenario::Expect) is empty, so no check is ever
//! made): a cell is a measurement, not a verdict.
//!
//! **Clocks.** In-process cells (aws-sdk-rust) run on the virtual clock and program cells
//! (boto3, JS v3) on a clock scaled ×360, the only one a program can follow. Both clocks give
//! the same simulated schedule, fault windows and expiry rules; the virtual one is also
//! deterministic (the in-process half of the table is identical run to run) and takes a
//! fraction of a second, where a scaled aws-sdk-rust cell would take 20 s and multiply real
//! socket latency by 360, which matters in the rows whose margin is seconds (8 s latency
//! against the SDK's 5-10 s refresh buffer). The cost: a program's cell carries its start-up
//! (an interpreter importing its SDK: simulated minutes at ×360) before its first request,
//! which shifts the fault windows (timed from the mock's start) earlier against the program's
//! first expiry; each cell's JSON says by how much (`start_offset_seconds`).
//!
//! **Order.** All in-process cells first (each condition's in parallel), then the program
//! cells one condition at a time (that condition's programs in parallel): a program at ×360
//! must not compete for the CPU with virtual replays, or its clock's fidelity suffers.
//!
//! **Shards.** `--partition k/n` numbers the selected matrix row by row (conditions in
//! order, then strategies in order; n/a cells included, they cost nothing) and cell `i` (from
//! 0) belongs to shard `i mod n + 1`, the rule `run` uses, so `1/n` … `n/n` cover every cell
//! once.
//!
//! **Did not run.** A cell whose client never reached the server measured nothing (the
//! harness could not start the mock, the program is missing or died before its first call):
//! it is reported with the reason, and `compare` exits 1.

pub mod matrix;
mod render;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mock_sts::clock::Stopwatch;
use mock_sts::faults::{RuleSpec, TimeBase};
use serde::Serialize;

use crate::metrics::{self, Metrics, Side};
use crate::partition::Partition;
use crate::process::{self, Exit, ProcessError, ProcessOptions};
use crate::runner::{self, RunResult};
use crate::scenario::{ClockSpec, Operation, RunSpec, Scenario, Workload};
use matrix::{CONDITIONS, Client, Condition, STRATEGIES, Source, Strategy};

pub use render::{cell_text, markdown, terminal};

/// The JSON schema version of [`Table`].
pub const SCHEMA_VERSION: u32 = 1;

/// Why a compare invocation cannot run: each names the flag at fault.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// `--condition` named no condition.
    #[error("--condition: unknown condition `{name}`; one of {known}")]
    UnknownCondition {
        /// What was given.
        name: String,
        /// The conditions there are.
        known: String,
    },
    /// `--strategy` named no strategy.
    #[error("--strategy: unknown strategy `{name}`; one of {known}")]
    UnknownStrategy {
        /// What was given.
        name: String,
        /// The strategies there are.
        known: String,
    },
    /// `--strategy` named a program whose client is not in the clients folder.
    #[error(
        "--strategy: `{name}` runs {path}, which does not exist (--clients DIR names the folder)"
    )]
    ClientMissing {
        /// The strategy.
        name: String,
        /// The script it runs.
        path: String,
    },
    /// The clients folder is not a folder (and a program column needs it).
    #[error("--clients: `{0}` is not a folder")]
    ClientsFolder(String),
    /// Program cells without libfaketime.
    #[error("{0}")]
    Process(#[from] ProcessError),
    /// A condition's fault rule is invalid (a harness bug: the rules are constants, tested).
    #[error("condition `{name}`: fault.{source}")]
    Fault {
        /// The condition.
        name: String,
        /// Why the rule was refused.
        source: mock_sts::faults::FaultError,
    },
}

/// What to run: the selected rows and columns, and this shard's cells.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The rows, in order.
    pub conditions: Vec<&'static Condition>,
    /// The columns, in order.
    pub strategies: Vec<&'static Strategy>,
    /// Columns left out of an unfiltered table because their client is not there.
    pub left_out: Vec<LeftOut>,
    /// The shard, if any.
    pub partition: Option<Partition>,
    /// The folder programs run in.
    pub clients: PathBuf,
    /// This shard's cells: (row, column, number in the matrix).
    pub cells: Vec<(usize, usize, usize)>,
}

/// A column left out, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    /// The strategy.
    pub strategy: &'static str,
    /// Why.
    pub reason: String,
}

impl Plan {
    /// Selects the rows (`conditions`; empty: all) and columns (`strategies`; empty: all whose
    /// client exists in `clients`) and this `partition`'s cells. When a program cell is
    /// selected, libfaketime's `faketime` must be on the program's `PATH` (`options`).
    ///
    /// # Errors
    /// [`PlanError`] naming the flag at fault.
    pub fn new(
        conditions: &[String],
        strategies: &[String],
        partition: Option<Partition>,
        clients: &Path,
        options: &ProcessOptions,
    ) -> Result<Plan, PlanError> {
        let rows = select(conditions, &CONDITIONS, |c| c.name).map_err(|name| {
            PlanError::UnknownCondition {
                name,
                known: names(CONDITIONS.iter().map(|c| c.name)),
            }
        })?;
        let columns = select(strategies, &STRATEGIES, |s| s.name).map_err(|name| {
            PlanError::UnknownStrategy {
                name,
                known: names(STRATEGIES.iter().map(|s| s.name)),
            }
        })?;
        let given = clients;
        let clients = std::path::absolute(clients).unwrap_or_else(|_| clients.to_path_buf());
        let mut kept = Vec::new();
        let mut left_out = Vec::new();
        for s in columns {
            let Client::Program { script, .. } = s.client else {
                kept.push(s);
                continue;
            };
            let file = clients.join(script);
            if file.is_file() {
                kept.push(s);
                continue;
            }
            if !strategies.is_empty() {
                if !clients.is_dir() {
                    return Err(PlanError::ClientsFolder(clients.display().to_string()));
                }
                return Err(PlanError::ClientMissing {
                    name: s.name.to_string(),
                    path: file.display().to_string(),
                });
            }
            left_out.push(LeftOut {
                strategy: s.name,
                // As the flag gave it, so the note reads the same on every machine.
                reason: format!("{} is not there", given.join(script).display()),
            });
        }
        let mut cells = Vec::new();
        for (r, _) in rows.iter().enumerate() {
            for (c, _) in kept.iter().enumerate() {
                let i = r * kept.len() + c;
                if partition.is_none_or(|p| p.owns(i)) {
                    cells.push((r, c, i));
                }
            }
        }
        for c in &rows {
            if let Some(fault) = c.fault {
                fault
                    .rule_spec()
                    .validate(TimeBase::SinceStart(
                        mock_sts::clock::default_virtual_start(),
                    ))
                    .map_err(|source| PlanError::Fault {
                        name: c.name.to_string(),
                        source,
                    })?;
            }
        }
        let plan = Plan {
            conditions: rows,
            strategies: kept,
            left_out,
            partition,
            clients,
            cells,
        };
        if plan
            .cells
            .iter()
            .any(|&(_, c, _)| plan.strategies[c].is_program())
        {
            process::find_faketime(options)?;
        }
        Ok(plan)
    }
}

/// The entries of `all` named in `wanted` (all of them when it is empty), in `all`'s order;
/// `Err` with the first name that is none of them.
fn select<T>(
    wanted: &[String],
    all: &'static [T],
    name: impl Fn(&T) -> &'static str,
) -> Result<Vec<&'static T>, String> {
    if let Some(unknown) = wanted.iter().find(|w| !all.iter().any(|x| name(x) == *w)) {
        return Err(unknown.clone());
    }
    Ok(all
        .iter()
        .filter(|x| wanted.is_empty() || wanted.iter().any(|w| name(x) == w))
        .collect())
}

fn names(all: impl Iterator<Item = &'static str>) -> String {
    all.collect::<Vec<_>>().join(", ")
}

/// The whole table (or one shard's share of it): what `--json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Schema version of this document.
    pub schema_version: u32,
    /// `sts-harness compare`.
    pub tool: &'static str,
    /// The job every cell runs.
    pub job: Job,
    /// The clock of each kind of cell.
    pub clocks: Clocks,
    /// `k/n` when this is one shard.
    pub partition: Option<String>,
    /// The rows.
    pub conditions: Vec<ConditionInfo>,
    /// The columns.
    pub strategies: Vec<StrategyInfo>,
    /// Columns left out because their client is not there.
    pub left_out: Vec<LeftOut>,
    /// This shard's cells, row by row.
    pub cells: Vec<Cell>,
    /// Totals.
    pub summary: Summary,
    /// Wall time of the whole command, milliseconds.
    pub wall_ms: u64,
}

/// The job.
#[derive(Debug, Clone, Serialize)]
pub struct Job {
    /// Simulated length.
    pub length_seconds: u64,
    /// Pause between rounds.
    pub every_seconds: u64,
    /// Each round's operations.
    pub operations: Vec<&'static str>,
    /// The seed of every cell.
    pub seed: u64,
}

/// Which clock each kind of cell runs on.
#[derive(Debug, Clone, Serialize)]
pub struct Clocks {
    /// aws-sdk-rust in process.
    pub in_process: String,
    /// Programs through `process`.
    pub program: String,
}

/// A row, described.
#[derive(Debug, Clone, Serialize)]
pub struct ConditionInfo {
    /// Its name.
    pub name: &'static str,
    /// What it is.
    pub label: &'static str,
    /// The `[[fault]]` rule, as a scenario writes it.
    pub fault: Option<RuleSpec>,
    /// The client's clock offset, seconds.
    pub clock_offset_seconds: f64,
    /// `user-keys` or `instance-metadata`.
    pub source: &'static str,
}

/// A column, described.
#[derive(Debug, Clone, Serialize)]
pub struct StrategyInfo {
    /// Its name.
    pub name: &'static str,
    /// What it is.
    pub label: &'static str,
}

/// One cell.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The row.
    pub condition: &'static str,
    /// The column.
    pub strategy: &'static str,
    /// Its number in the matrix (what shards split).
    pub index: usize,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// A cell's outcome.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// The run ran and the server saw it.
    Measured(Box<Measured>),
    /// The strategy cannot run under the condition.
    NotApplicable {
        /// Why.
        reason: String,
    },
    /// The run could not run: its client never reached the server.
    DidNotRun {
        /// What ran (`sdk-profile`, `python3 config_provider.py`).
        run: String,
        /// Why.
        reason: String,
    },
}

/// A measured cell.
#[derive(Debug, Clone, Serialize)]
pub struct Measured {
    /// What ran: the strategy (`sdk-imds`), or the program and its profile.
    pub run: String,
    /// `virtual` or `scaled:360`.
    pub clock: String,
    /// Failed requests the server saw plus calls that failed in the client alone.
    pub failures: u64,
    /// The first failure.
    pub first_failure: Option<FirstFailure>,
    /// Credential-issuing STS calls.
    pub sts_calls: u64,
    /// Credential changes on the data plane.
    pub refreshes: u64,
    /// Refresh lead, seconds: minimum.
    pub refresh_lead_min_seconds: Option<f64>,
    /// Refresh lead, seconds: median.
    pub refresh_lead_median_seconds: Option<f64>,
    /// Data-plane requests the server saw.
    pub requests: u64,
    /// Programs: how they ended (they stop at their first failed call, in-process strategies
    /// carry on).
    pub exit: Option<Exit>,
    /// The client failed before its workload started (a measurement, not a harness error).
    pub startup_error: Option<String>,
    /// Simulated seconds from the mock's start (where fault windows count from) to the
    /// run's first request: a program's start-up.
    pub start_offset_seconds: f64,
    /// Wall time of the run, milliseconds.
    pub wall_ms: u64,
    /// Everything measured (the `run` report's metrics).
    pub metrics: Metrics,
}

/// A cell's first failure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstFailure {
    /// The AWS error code, or the client-side failure's kind.
    pub code: String,
    /// Simulated seconds since the run's first request.
    pub at_seconds: f64,
    /// Who saw it.
    pub side: Side,
    /// The call.
    pub action: String,
    /// Its message.
    pub message: String,
}

/// Totals over the cells.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Cells in this shard.
    pub cells: usize,
    /// Cells measured.
    pub measured: usize,
    /// Cells that do not apply.
    pub not_applicable: usize,
    /// Cells that could not run.
    pub did_not_run: usize,
}

impl Table {
    /// The cell at (condition, strategy), if this shard has it.
    pub fn cell(&self, condition: &str, strategy: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|c| c.condition == condition && c.strategy == strategy)
    }
}

impl Cell {
    /// The measurement, when the cell ran.
    pub fn measured(&self) -> Option<&Measured> {
        match &self.outcome {
            Outcome::Measured(m) => Some(m),
            _ => None,
        }
    }
}

/// The scenario a condition becomes: the job, the condition's fault, and `runs`.
fn scenario(condition: &Condition, runs: Vec<RunSpec>) -> Result<Scenario, PlanError> {
    let start = mock_sts::clock::default_virtual_start();
    let faults = match condition.fault {
        Some(fault) => vec![
            fault
                .rule_spec()
                .validate(TimeBase::SinceStart(start))
                .map_err(|source| PlanError::Fault {
                    name: condition.name.to_string(),
                    source,
                })?,
        ],
        None => Vec::new(),
    };
    Ok(Scenario {
        path: PathBuf::from(format!("compare/{}", condition.name)),
        name: condition.label.to_string(),
        description: String::new(),
        seed: matrix::SEED,
        clock: ClockSpec::Virtual,
        start,
        world: mock_sts::World::default(),
        workload: Workload {
            length: matrix::JOB_LENGTH,
            every: matrix::JOB_EVERY,
            operations: vec![Operation::PutObject],
            workers: 1,
            object_size: 1024,
            latency: Duration::ZERO,
            bucket: "pipeline-data".to_string(),
            jitter: matrix::JOB_JITTER,
            multipart: None,
            presign: None,
        },
        runs,
        faults,
        revocations: Vec::new(),
        projected_token: None,
    })
}

/// What a run is, in words: `sdk-imds`, `python3 config_provider.py (profile assume-role)`.
fn run_label(run: &RunSpec) -> String {
    match &run.process {
        Some(p) => format!("{} (profile {})", p.command.join(" "), p.profile.as_str()),
        None => run.strategy.as_str().to_string(),
    }
}

/// One run's cell.
fn measure(result: &RunResult, scenario: &Scenario) -> Outcome {
    let run = run_label(&result.run);
    if result.events.is_empty() {
        let reason = match (&result.startup_error, &result.process) {
            (Some(e), _) => e.clone(),
            (None, Some(p)) => {
                let tail = p.stderr.last_lines(3, 200).join(" / ");
                format!(
                    "{} before its first request (stderr: {tail}); programs get $STS_LAB_VENV/bin first on their PATH",
                    p.exit.describe()
                )
            }
            (None, None) => "no request reached the server".to_string(),
        };
        return Outcome::DidNotRun { run, reason };
    }
    let m = metrics::compute(result);
    Outcome::Measured(Box::new(Measured {
        run,
        clock: result.clock.label(),
        failures: m.failure_count(),
        first_failure: m.first_failure.as_ref().map(|f| FirstFailure {
            code: f.code.clone(),
            at_seconds: f.at_seconds,
            side: f.side,
            action: f.action.clone(),
            message: f.message.clone(),
        }),
        sts_calls: m.sts_calls,
        refreshes: m.refreshes,
        refresh_lead_min_seconds: m.refresh_lead_min_seconds,
        refresh_lead_median_seconds: m.refresh_lead_median_seconds,
        requests: m.requests,
        exit: result.process.as_ref().map(|p| p.exit),
        startup_error: result.startup_error.clone(),
        start_offset_seconds: seconds_between(scenario.start, result.start),
        wall_ms: u64::try_from(result.wall.as_millis()).unwrap_or(u64::MAX),
        metrics: m,
    }))
}

fn seconds_between(a: SystemTime, b: SystemTime) -> f64 {
    b.duration_since(a).map_or(0.0, |d| d.as_secs_f64())
}

/// A cell to run: its place, its scenario (by row) and its run.
struct Job1 {
    slot: usize,
    row: usize,
    run: RunSpec,
    clock: ClockSpec,
}

/// Runs the plan's cells and builds the table; `progress` is called after each cell (in the
/// order they finish, by group).
pub fn run(plan: &Plan, options: &ProcessOptions, mut progress: impl FnMut(&Cell)) -> Table {
    let stopwatch = Stopwatch::start();
    let mut cells: Vec<Option<Cell>> = vec![None; plan.cells.len()];
    let mut in_process: Vec<Job1> = Vec::new();
    let mut programs: Vec<Job1> = Vec::new();
    for (slot, &(r, c, index)) in plan.cells.iter().enumerate() {
        let condition = plan.conditions[r];
        let strategy = plan.strategies[c];
        match strategy.run_spec(condition, &plan.clients) {
            Err(reason) => {
                let cell = Cell {
                    condition: condition.name,
                    strategy: strategy.name,
                    index,
                    outcome: Outcome::NotApplicable { reason },
                };
                progress(&cell);
                cells[slot] = Some(cell);
            }
            Ok(run) if strategy.is_program() => programs.push(Job1 {
                slot,
                row: r,
                run,
                clock: ClockSpec::Scaled {
                    rate: matrix::PROCESS_RATE,
                },
            }),
            Ok(run) => in_process.push(Job1 {
                slot,
                row: r,
                run,
                clock: ClockSpec::Virtual,
            }),
        }
    }
    // One scenario per row, holding that row's runs (what reports and runs need of it).
    let scenarios: Vec<Result<Scenario, String>> = plan
        .conditions
        .iter()
        .enumerate()
        .map(|(r, c)| {
            let runs = in_process
                .iter()
                .chain(&programs)
                .filter(|j| j.row == r)
                .map(|j| j.run.clone())
                .collect();
            scenario(c, runs).map_err(|e| e.to_string())
        })
        .collect();
    for group in [in_process, programs] {
        for (r, scenario) in scenarios.iter().enumerate() {
            let jobs: Vec<&Job1> = group.iter().filter(|j| j.row == r).collect();
            if jobs.is_empty() {
                continue;
            }
            let outcomes = run_group(scenario, &jobs, options);
            for (job, outcome) in jobs.iter().zip(outcomes) {
                let (_, c, index) = plan.cells[job.slot];
                let cell = Cell {
                    condition: plan.conditions[r].name,
                    strategy: plan.strategies[c].name,
                    index,
                    outcome,
                };
                progress(&cell);
                cells[job.slot] = Some(cell);
            }
        }
    }
    let cells: Vec<Cell> = cells.into_iter().flatten().collect();
    let count = |f: fn(&Outcome) -> bool| cells.iter().filter(|c| f(&c.outcome)).count();
    let summary = Summary {
        cells: cells.len(),
        measured: count(|o| matches!(o, Outcome::Measured(_))),
        not_applicable: count(|o| matches!(o, Outcome::NotApplicable { .. })),
        did_not_run: count(|o| matches!(o, Outcome::DidNotRun { .. })),
    };
    Table {
        schema_version: SCHEMA_VERSION,
        tool: "sts-harness compare",
        job: Job {
            length_seconds: matrix::JOB_LENGTH.as_secs(),
            every_seconds: matrix::JOB_EVERY.as_secs(),
            operations: vec![Operation::PutObject.as_str()],
            seed: matrix::SEED,
        },
        clocks: Clocks {
            in_process: ClockSpec::Virtual.label(),
            program: ClockSpec::Scaled {
                rate: matrix::PROCESS_RATE,
            }
            .label(),
        },
        partition: plan.partition.map(|p| p.to_string()),
        conditions: plan
            .conditions
            .iter()
            .map(|c| ConditionInfo {
                name: c.name,
                label: c.label,
                fault: c.fault.map(|f| f.rule_spec()),
                clock_offset_seconds: c.clock_offset_seconds,
                source: match c.source {
                    Source::UserKeys => "user-keys",
                    Source::InstanceMetadata => "instance-metadata",
                },
            })
            .collect(),
        strategies: plan
            .strategies
            .iter()
            .map(|s| StrategyInfo {
                name: s.name,
                label: s.label,
            })
            .collect(),
        left_out: plan.left_out.clone(),
        cells,
        summary,
        wall_ms: u64::try_from(stopwatch.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// Runs one row's cells of one kind in parallel, one OS thread each (as `run` runs a
/// scenario's runs).
fn run_group(
    scenario: &Result<Scenario, String>,
    jobs: &[&Job1],
    options: &ProcessOptions,
) -> Vec<Outcome> {
    let scenario = match scenario {
        Ok(s) => s,
        Err(e) => {
            return jobs
                .iter()
                .map(|j| Outcome::DidNotRun {
                    run: run_label(&j.run),
                    reason: e.clone(),
                })
                .collect();
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|j| {
                scope.spawn(move || {
                    runner::run_one_with(scenario, &j.run, j.clock, scenario.seed, options)
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(jobs)
            .map(|(h, j)| match h.join() {
                Ok(result) => measure(&result, scenario),
                Err(payload) => Outcome::DidNotRun {
                    run: run_label(&j.run),
                    reason: format!(
                        "the run panicked (a harness bug): {}",
                        crate::workload::panic_message(payload.as_ref())
                    ),
                },
            })
            .collect()
    })
}
