//! The conformance pack (`sts-harness conformance`): every scenario of a folder
//! (`scenarios/conformance/`) run against one client, and a rule-by-rule table.
//!
//! Each pack scenario's first run is its template: the workload, faults, revocations and
//! client clock are the scenario's, the run's `duration_seconds` and clock faults are kept,
//! its `conforms` list names the rules the scenario exercises (the run departs when one of
//! them does not pass), and the strategy is replaced by the client under test
//! ([`Subject`]). A scenario whose template assumes its role from instance metadata
//! (`sdk-imds`, `spec-refresh-imds`) gets the client's instance-metadata variant, a program
//! the generated `imds` profile.
//!
//! **Clocks.** In-process clients run on the virtual clock (deterministic, fast); programs on
//! a clock scaled ×[`PROGRAM_RATE`], the only one they can follow (under libfaketime).
//!
//! A client that cannot run a scenario (aws-config's profile provider never sends
//! `DurationSeconds`, so `sdk-profile` cannot have 15-minute or 6-hour sessions) gets a
//! "cannot run" column with the reason rather than a verdict.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::{Rule, Verdict};
use crate::compare::matrix::{self, Client};
use crate::process::ProcessOptions;
use crate::report::{self, Report, ScenarioReport};
use crate::runner;
use crate::scenario::{
    ClockSpec, Expect, ProcessSpec, ProfileKind, RunSpec, Scenario, ScenarioError, StrategyKind,
};

/// The scaled clock's rate for programs: a 2-hour scenario in 20 s of wall time.
pub const PROGRAM_RATE: f64 = 360.0;

/// Program presets beyond the `compare` table's (`boto3`, `js-v3`): name, interpreter,
/// script in the clients folder.
pub const PRESETS: [(&str, &str, &str); 1] = [
    // Each `aws s3api put-object` a new CLI process on the profile, with its disk cache.
    ("aws-cli", "bash", "aws_cli_profile.sh"),
];

/// Why the pack cannot run: each names the flag at fault.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    /// `--strategy` named nothing known.
    #[error(
        "--strategy: unknown strategy `{0}`; an in-process strategy (sdk-profile, spec-refresh, …) or a program preset (boto3, js-v3, aws-cli); --command runs any program"
    )]
    UnknownStrategy(String),
    /// `--strategy process` without a program.
    #[error("--strategy process: name the program with --command \"python3 my_job.py\"")]
    NoProgram,
    /// A preset's client is not in the clients folder.
    #[error(
        "--strategy: `{name}` runs {path}, which does not exist (--clients DIR names the folder)"
    )]
    ClientMissing {
        /// The preset.
        name: String,
        /// Its script.
        path: String,
    },
    /// The pack could not be read.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// The pack folder has no scenario.
    #[error("--pack: no scenario file in {0}")]
    Empty(String),
}

/// The client under test.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// aws-sdk-rust in process, with this strategy.
    InProcess(StrategyKind),
    /// A program under libfaketime, through `process`, on the profile the harness writes.
    Program {
        /// What the table calls it (`boto3`, or the command).
        name: String,
        /// The command.
        command: Vec<String>,
        /// Where it runs.
        cwd: PathBuf,
    },
}

impl Subject {
    /// The client named `name`: an in-process strategy, or a program preset of the
    /// `compare` table (`boto3`, `js-v3`) in `clients`.
    ///
    /// # Errors
    /// [`PackError`] naming the flag.
    pub fn named(name: &str, clients: &Path) -> Result<Subject, PackError> {
        if let Some(kind) = StrategyKind::ALL
            .into_iter()
            .find(|k| k.as_str() == name && *k != StrategyKind::Process)
        {
            return Ok(Subject::InProcess(kind));
        }
        if name == StrategyKind::Process.as_str() {
            return Err(PackError::NoProgram);
        }
        let preset = match matrix::strategy(name).map(|s| s.client) {
            Some(Client::Program {
                interpreter,
                script,
            }) => Some((interpreter, script)),
            _ => PRESETS
                .iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, interpreter, script)| (*interpreter, *script)),
        };
        match preset {
            Some((interpreter, script)) => {
                let clients = std::path::absolute(clients).unwrap_or_else(|_| clients.into());
                if !clients.join(script).is_file() {
                    return Err(PackError::ClientMissing {
                        name: name.to_string(),
                        path: clients.join(script).display().to_string(),
                    });
                }
                Ok(Subject::Program {
                    name: name.to_string(),
                    command: vec![interpreter.to_string(), script.to_string()],
                    cwd: clients,
                })
            }
            _ => Err(PackError::UnknownStrategy(name.to_string())),
        }
    }

    /// Any program: `command` (whitespace-separated) run in `cwd`.
    pub fn program(command: &str, cwd: &Path) -> Subject {
        Subject::Program {
            name: command.to_string(),
            command: command.split_whitespace().map(str::to_string).collect(),
            cwd: std::path::absolute(cwd).unwrap_or_else(|_| cwd.into()),
        }
    }

    /// What the table calls it.
    pub fn name(&self) -> String {
        match self {
            Subject::InProcess(kind) => kind.as_str().to_string(),
            Subject::Program { name, .. } => name.clone(),
        }
    }

    /// The clock its runs use.
    pub fn clock(&self) -> ClockSpec {
        match self {
            Subject::InProcess(_) => ClockSpec::Virtual,
            Subject::Program { .. } => ClockSpec::Scaled { rate: PROGRAM_RATE },
        }
    }

    /// The run this client makes of a scenario whose first run is `template`, or why it
    /// cannot.
    ///
    /// # Errors
    /// Why the client cannot run the scenario.
    pub fn run_for(&self, template: &RunSpec) -> Result<RunSpec, String> {
        let imds = matches!(
            template.strategy,
            StrategyKind::SdkImds | StrategyKind::SpecRefreshImds
        ) || template
            .process
            .as_ref()
            .is_some_and(|p| p.profile == ProfileKind::Imds);
        let (strategy, process) = match self {
            Subject::InProcess(kind) => (imds_variant(*kind, imds)?, None),
            Subject::Program { command, cwd, .. } => (
                StrategyKind::Process,
                Some(ProcessSpec {
                    command: command.clone(),
                    cwd: cwd.clone(),
                    profile: if imds {
                        ProfileKind::Imds
                    } else {
                        ProfileKind::AssumeRole
                    },
                    timeout: None,
                    // The pack runs programs on a scaled clock: no compression to warn about.
                    client: None,
                    refresh_window: None,
                    packages: None,
                }),
            ),
        };
        if template.duration_seconds.is_some() && !strategy.takes_duration() {
            return Err(format!(
                "{} never sends DurationSeconds (aws-config's profile provider does not read duration_seconds), so it cannot have these sessions",
                strategy.as_str()
            ));
        }
        Ok(RunSpec {
            name: self.name(),
            strategy,
            role_arn: template.role_arn.clone(),
            duration_seconds: template.duration_seconds,
            source: None,
            process,
            clock_faults: template.clock_faults.clone(),
            expect: Expect {
                within: Duration::from_secs(1),
                conforms: template.expect.conforms.clone(),
                ..Expect::default()
            },
            line: template.line,
        })
    }
}

/// `kind`, or its instance-metadata variant when the scenario's source is IMDS.
fn imds_variant(kind: StrategyKind, imds: bool) -> Result<StrategyKind, String> {
    Ok(match (kind, imds) {
        (StrategyKind::SdkProfile | StrategyKind::SdkImds, true) => StrategyKind::SdkImds,
        (StrategyKind::SpecRefresh | StrategyKind::SpecRefreshImds, true) => {
            StrategyKind::SpecRefreshImds
        }
        (StrategyKind::SdkImds, false) => StrategyKind::SdkProfile,
        (StrategyKind::SpecRefreshImds, false) => StrategyKind::SpecRefresh,
        (other, true) => {
            return Err(format!(
                "{} has no instance-metadata variant (sdk-profile and spec-refresh do)",
                other.as_str()
            ));
        }
        (other, false) => other,
    })
}

/// The pack's scenarios: every `*.toml` in `dir`, in name order.
///
/// # Errors
/// [`PackError`] when one is invalid or there is none.
pub fn load(dir: &Path) -> Result<Vec<Scenario>, PackError> {
    let files = crate::scenario::discover(&[dir.to_path_buf()])?;
    if files.is_empty() {
        return Err(PackError::Empty(dir.display().to_string()));
    }
    files
        .iter()
        .map(|f| Scenario::load(f).map_err(PackError::from))
        .collect()
}

/// One scenario of the pack, as a column.
#[derive(Debug, Clone, Serialize)]
pub struct Column {
    /// The file's stem (`lifetime-1h`): the column's header.
    pub id: String,
    /// The scenario's name.
    pub name: String,
    /// The rules it exercises (its template's `conforms`).
    pub exercises: Vec<Rule>,
    /// Why the client could not run it, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cannot_run: Option<String>,
}

/// One rule's cell in one column.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The column's id.
    pub scenario: String,
    /// The verdict (`None`: the client cannot run the scenario, or its requests never reached
    /// the server).
    pub verdict: Option<Verdict>,
    /// Why.
    pub reason: String,
}

/// One rule's row: its cells and a summary verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The rule.
    pub rule: Rule,
    /// Fail when any scenario failed it, pass when one passed it and none failed, not
    /// applicable when no scenario could test it.
    pub verdict: Verdict,
    /// The first failing scenario and its reason, or the count of passes.
    pub reason: String,
    /// One per column.
    pub cells: Vec<Cell>,
}

/// The pack's result: what `--json` writes.
#[derive(Debug, Clone, Serialize)]
pub struct PackResult {
    /// Schema version of this document.
    pub schema_version: u32,
    /// `sts-harness conformance`.
    pub tool: &'static str,
    /// The client under test.
    pub subject: String,
    /// Its clock (`virtual`, `scaled:360`).
    pub clock: String,
    /// The columns.
    pub scenarios: Vec<Column>,
    /// The rows, in [`Rule::ALL`]'s order.
    pub rules: Vec<Row>,
    /// Every run's full report (metrics, checks, explanations).
    pub report: Report,
}

impl PackResult {
    /// Whether no rule failed.
    pub fn conforms(&self) -> bool {
        self.rules.iter().all(|r| r.verdict != Verdict::Fail)
    }

    /// The row of `rule`.
    pub fn row(&self, rule: Rule) -> Option<&Row> {
        self.rules.iter().find(|r| r.rule == rule)
    }
}

/// Runs every scenario of the pack against `subject` (in-process ones in parallel, programs
/// two at a time) and builds the table.
pub fn run(subject: &Subject, pack: &[Scenario], options: &ProcessOptions) -> PackResult {
    let clock = subject.clock();
    let planned: Vec<(Scenario, Result<RunSpec, String>)> = pack
        .iter()
        .map(|s| {
            let run = s
                .runs
                .first()
                .ok_or_else(|| "the scenario has no run".to_string())
                .and_then(|t| subject.run_for(t));
            let mut scenario = s.clone();
            scenario.runs = run.iter().cloned().collect();
            (scenario, run)
        })
        .collect();
    let at_once = match subject {
        Subject::InProcess(_) => planned.len().max(1),
        Subject::Program { .. } => 2,
    };
    let mut reports: Vec<Option<ScenarioReport>> = vec![None; planned.len()];
    for (chunk_index, chunk) in planned.chunks(at_once).enumerate() {
        let done: Vec<Option<ScenarioReport>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|(scenario, run)| {
                    scope.spawn(move || {
                        run.as_ref().ok()?;
                        let results =
                            runner::run_scenario_with(scenario, None, Some(clock), None, options);
                        Some(report::scenario_report(scenario, &results))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        });
        for (i, r) in done.into_iter().enumerate() {
            reports[chunk_index * at_once + i] = r;
        }
    }
    let columns: Vec<Column> = pack
        .iter()
        .zip(&planned)
        .map(|(s, (_, run))| Column {
            id: s
                .path
                .file_stem()
                .map_or_else(|| s.name.clone(), |f| f.to_string_lossy().into_owned()),
            name: s.name.clone(),
            exercises: s
                .runs
                .first()
                .map(|r| r.expect.conforms.clone())
                .unwrap_or_default(),
            cannot_run: run.as_ref().err().cloned(),
        })
        .collect();
    let rules = Rule::ALL
        .into_iter()
        .map(|rule| row(rule, &columns, &reports))
        .collect();
    PackResult {
        schema_version: 1,
        tool: "sts-harness conformance",
        subject: subject.name(),
        clock: clock.label(),
        scenarios: columns,
        rules,
        report: report::report(reports.into_iter().flatten().collect()),
    }
}

fn row(rule: Rule, columns: &[Column], reports: &[Option<ScenarioReport>]) -> Row {
    let cells: Vec<Cell> = columns
        .iter()
        .zip(reports)
        .map(|(c, r)| {
            let run = r.as_ref().and_then(|r| r.runs.first());
            // A client whose requests never reached the server measured nothing.
            if let Some(run) = run.filter(|run| run.metrics.requests == 0) {
                return Cell {
                    scenario: c.id.clone(),
                    verdict: None,
                    reason: format!("did not run: {}", did_not_run(run)),
                };
            }
            let result = run
                .and_then(|run| run.metrics.conformance.as_ref())
                .and_then(|conf| conf.get(rule));
            match (result, &c.cannot_run) {
                (Some(x), _) => Cell {
                    scenario: c.id.clone(),
                    verdict: Some(x.verdict),
                    reason: x.reason.clone(),
                },
                (None, Some(why)) => Cell {
                    scenario: c.id.clone(),
                    verdict: None,
                    reason: format!("cannot run: {why}"),
                },
                (None, None) => Cell {
                    scenario: c.id.clone(),
                    verdict: None,
                    reason: "the run kept no events".into(),
                },
            }
        })
        .collect();
    let failed = cells.iter().find(|c| c.verdict == Some(Verdict::Fail));
    let passed = cells
        .iter()
        .filter(|c| c.verdict == Some(Verdict::Pass))
        .count();
    let (verdict, reason) = match failed {
        Some(c) => (Verdict::Fail, format!("{}: {}", c.scenario, c.reason)),
        None if passed > 0 => (
            Verdict::Pass,
            format!("passed in {passed} scenario(s), failed in none"),
        ),
        None => (
            Verdict::NotApplicable,
            "no scenario could test it for this client".into(),
        ),
    };
    Row {
        rule,
        verdict,
        reason,
        cells,
    }
}

/// Why a run's requests never reached the server: its start-up error, or how its program
/// ended and the last line it printed on stderr.
fn did_not_run(run: &report::RunReport) -> String {
    match (&run.startup_error, &run.process) {
        (Some(e), _) => e.clone(),
        (None, Some(p)) => format!(
            "{} before its first request ({})",
            p.exit.describe(),
            p.stderr.last_lines(1, 160).join(" ").trim()
        ),
        (None, None) => "no request reached the server".into(),
    }
}

/// The rule-by-rule table: a row per rule, a column per scenario (`pass`, `FAIL`, `n.a.`,
/// `-` for a scenario the client could not run, `*` marking the rules a scenario exercises),
/// the summary, and the one-sentence reason of each failing rule.
pub fn render(result: &PackResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "conformance of {} to the 2026 refresh rules ({} scenarios, {})",
        result.subject,
        result.scenarios.len(),
        result.clock
    );
    for (i, c) in result.scenarios.iter().enumerate() {
        let _ = writeln!(out, "  [{}] {}: {}", i + 1, c.id, c.name);
    }
    let rule_width = Rule::ALL
        .iter()
        .map(|r| r.as_str().len())
        .max()
        .unwrap_or(0);
    let mut header = format!("  {:<rule_width$}  summary", "rule");
    for i in 0..result.scenarios.len() {
        let _ = write!(header, "  {:<5}", format!("[{}]", i + 1));
    }
    let _ = writeln!(out, "{}", header.trim_end());
    for row in &result.rules {
        let mut line = format!(
            "  {:<rule_width$}  {:<7}",
            row.rule.as_str(),
            row.verdict.short()
        );
        for (cell, column) in row.cells.iter().zip(&result.scenarios) {
            let mark = if column.exercises.contains(&row.rule) {
                "*"
            } else {
                ""
            };
            let text = cell.verdict.map_or("-", Verdict::short);
            let _ = write!(line, "  {:<5}", format!("{text}{mark}"));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "  (* the scenario exercises the rule; - the client cannot run it or did not reach the server)"
    );
    for row in result.rules.iter().filter(|r| r.verdict == Verdict::Fail) {
        let _ = writeln!(out, "  {} FAIL: {}", row.rule, row.reason);
    }
    for c in &result.scenarios {
        if let Some(why) = &c.cannot_run {
            let _ = writeln!(out, "  {} cannot run: {why}", c.id);
        }
    }
    if let Some(row) = result.rules.first() {
        for cell in row
            .cells
            .iter()
            .filter(|c| c.reason.starts_with("did not run"))
        {
            let _ = writeln!(out, "  {} {}", cell.scenario, cell.reason);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(strategy: StrategyKind, duration: Option<u32>) -> RunSpec {
        RunSpec {
            name: "t".into(),
            strategy,
            role_arn: crate::scenario::DEFAULT_ROLE.into(),
            duration_seconds: duration,
            source: None,
            process: None,
            clock_faults: Default::default(),
            expect: Expect {
                conforms: vec![Rule::AdvisoryWindow],
                ..Expect::default()
            },
            line: 3,
        }
    }

    #[test]
    fn the_client_replaces_the_templates_strategy_keeping_what_the_scenario_needs() {
        let sdk = Subject::InProcess(StrategyKind::SdkProfile);
        let run = sdk
            .run_for(&template(StrategyKind::SpecRefresh, None))
            .unwrap();
        assert_eq!(run.strategy, StrategyKind::SdkProfile);
        assert_eq!(run.expect.conforms, vec![Rule::AdvisoryWindow]);
        assert!(!run.expect.passes);
        let imds = sdk
            .run_for(&template(StrategyKind::SpecRefreshImds, None))
            .unwrap();
        assert_eq!(imds.strategy, StrategyKind::SdkImds);
        let e = sdk
            .run_for(&template(StrategyKind::SpecRefresh, Some(900)))
            .unwrap_err();
        assert!(e.contains("never sends DurationSeconds"), "{e}");
        let manual = Subject::InProcess(StrategyKind::ManualEnv);
        let e = manual
            .run_for(&template(StrategyKind::SdkImds, None))
            .unwrap_err();
        assert!(e.contains("no instance-metadata variant"), "{e}");
        let program = Subject::program("python3 job.py", Path::new("/tmp"));
        let run = program
            .run_for(&template(StrategyKind::SpecRefreshImds, Some(900)))
            .unwrap();
        assert_eq!(run.strategy, StrategyKind::Process);
        assert_eq!(run.process.unwrap().profile, ProfileKind::Imds);
        assert_eq!(run.duration_seconds, Some(900));
    }

    #[test]
    fn names_are_strategies_or_presets() {
        let clients = Path::new("does-not-exist");
        assert_eq!(
            Subject::named("spec-refresh", clients).unwrap(),
            Subject::InProcess(StrategyKind::SpecRefresh)
        );
        assert!(matches!(
            Subject::named("boto3", clients),
            Err(PackError::ClientMissing { .. })
        ));
        assert!(matches!(
            Subject::named("process", clients),
            Err(PackError::NoProgram)
        ));
        assert!(matches!(
            Subject::named("boto4", clients),
            Err(PackError::UnknownStrategy(_))
        ));
    }
}
