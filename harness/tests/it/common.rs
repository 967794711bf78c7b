//! Shared helpers.

use std::sync::{Mutex, MutexGuard};

use sts_harness::process::{self, ProcessOptions};
use sts_harness::report::{self, ScenarioReport};
use sts_harness::runner;
use sts_harness::scenario::{ClockSpec, Scenario, StrategyKind};

pub(crate) use sts_lab_test_support::external::{missing, venv};
pub(crate) use sts_lab_test_support::seeds::catalog_dir;
use sts_lab_test_support::{external, seeds};

/// Every scenario in the catalog.
pub(crate) fn catalog() -> Vec<Scenario> {
    let files = sts_harness::scenario::discover(&[catalog_dir()]).unwrap();
    assert!(!files.is_empty());
    files.iter().map(|f| Scenario::load(f).unwrap()).collect()
}

/// Runs a scenario and builds its report (programs of `process` runs get the venv's `bin`
/// first on their PATH, when there is a venv).
pub(crate) fn run(scenario: &Scenario, clock: Option<ClockSpec>) -> ScenarioReport {
    let options = ProcessOptions {
        path_prefix: venv().map(|v| vec![v.join("bin")]).unwrap_or_default(),
        // The `credential_process` helper of `profile = "credential-process"` runs.
        harness_binary: Some(env!("CARGO_BIN_EXE_sts-harness").into()),
    };
    let results = runner::run_scenario_with(scenario, None, clock, None, &options);
    report::scenario_report(scenario, &results)
}

/// Whether a scenario has `process` runs (they need faketime, and boto3 or the AWS CLI).
pub(crate) fn has_process_runs(scenario: &Scenario) -> bool {
    scenario
        .runs
        .iter()
        .any(|r| r.strategy == StrategyKind::Process)
}

/// Options for programs that need only libfaketime's `faketime` (shell scripts); `None`
/// (after saying so) when it is missing.
pub(crate) fn faketime_options() -> Option<ProcessOptions> {
    let options = ProcessOptions::default();
    if process::find_faketime(&options).is_err() {
        missing("libfaketime's `faketime` is not on PATH");
        return None;
    }
    Some(options)
}

/// Options for programs that need faketime and the venv's boto3 and AWS CLI; `None` (after
/// saying so) when either is missing.
pub(crate) fn external_options() -> Option<ProcessOptions> {
    let options = faketime_options()?;
    let venv = external::require_venv()?;
    Some(ProcessOptions {
        path_prefix: [vec![venv.join("bin")], options.path_prefix].concat(),
        harness_binary: Some(env!("CARGO_BIN_EXE_sts-harness").into()),
    })
}

/// Whether a scenario runs `node` (the JS v3 example clients in `scenarios/clients/js`).
pub(crate) fn runs_node(scenario: &Scenario) -> bool {
    scenario.runs.iter().any(|r| {
        r.process
            .as_ref()
            .is_some_and(|p| p.command.first().is_some_and(|c| c == "node"))
    })
}

/// Whether `node` and the JS clients' pinned packages (`scenarios/clients/js/node_modules`,
/// installed by scripts/test with `npm ci`) are there; `false` after saying which is missing.
pub(crate) fn node_clients_ready() -> bool {
    let path = ProcessOptions::default().program_path();
    if process::find_on_path("node", &path).is_none() {
        missing(
            "`node` is not on PATH: install Node.js 20 or later with npm for the JS v3 scenarios (Debian 12's nodejs is 18, too old for the pinned SDK)",
        );
        return false;
    }
    let js = catalog_dir().join("clients/js");
    if !js
        .join("node_modules/@aws-sdk/client-s3/package.json")
        .exists()
    {
        missing(&format!(
            "the JS v3 clients' packages are not installed in {}/node_modules (npm ci --prefix {})",
            js.display(),
            js.display()
        ));
        return false;
    }
    true
}

/// The seed scenarios ([`seeds::SEED_FILES`]; `catalog` checks they are the `seed:` ones).
pub(crate) fn seed_scenarios() -> Vec<Scenario> {
    seeds::seed_files()
        .iter()
        .map(|f| Scenario::load(f).unwrap())
        .collect()
}

/// A failure message listing every departed run with its checks and explanation.
pub(crate) fn departures(report: &ScenarioReport) -> String {
    departures_where(report, |_| true)
}

/// [`departures`] of the runs for which `include` holds.
pub(crate) fn departures_where(
    report: &ScenarioReport,
    include: impl Fn(&report::RunReport) -> bool,
) -> String {
    let mut out = String::new();
    for r in report.runs.iter().filter(|r| !r.met() && include(r)) {
        out.push_str(&format!("{} / {}:\n", report.name, r.name));
        for c in &r.checks {
            out.push_str(&format!(
                "  {} {}: expected {}, actual {}\n",
                if c.ok { "ok  " } else { "FAIL" },
                c.what,
                c.expected,
                c.actual
            ));
        }
        if let Some(e) = &r.explanation {
            out.push_str(&format!("  {e}\n"));
        }
        if let Some(p) = &r.process {
            out.push_str(&format!(
                "  {}\n  stdout:\n{}\n  stderr:\n{}\n",
                p.exit.describe(),
                p.stdout.text,
                p.stderr.text
            ));
        }
    }
    out
}

/// Serialises the CPU-heavy tests: a scaled run's fidelity suffers when virtual replays compete
/// for the two cores.
pub(crate) fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the `sts-harness` binary with `args` (as CI does, `CI=true`): exit code, stdout, stderr.
pub(crate) fn harness<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sts-harness"))
        .args(args)
        .env("CI", "true")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
