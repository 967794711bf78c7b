//! Shared helpers.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use sts_harness::report::{self, ScenarioReport};
use sts_harness::runner;
use sts_harness::scenario::{ClockSpec, Scenario};

/// The workspace's `scenarios/` folder.
pub fn catalog_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

/// Every scenario in the catalog.
pub fn catalog() -> Vec<Scenario> {
    let files = sts_harness::scenario::discover(&[catalog_dir()]).unwrap();
    assert!(!files.is_empty());
    files.iter().map(|f| Scenario::load(f).unwrap()).collect()
}

/// Runs a scenario and builds its report.
pub fn run(scenario: &Scenario, clock: Option<ClockSpec>) -> ScenarioReport {
    let results = runner::run_scenario(scenario, None, clock, None);
    report::scenario_report(scenario, &results)
}

/// The scenarios whose names start with "seed:".
pub fn seed_scenarios() -> Vec<Scenario> {
    catalog()
        .into_iter()
        .filter(|s| s.name.starts_with("seed:"))
        .collect()
}

/// A failure message listing every departed run with its checks and explanation.
pub fn departures(report: &ScenarioReport) -> String {
    let mut out = String::new();
    for r in report.runs.iter().filter(|r| !r.met()) {
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
    }
    out
}

/// Serialises the CPU-heavy tests: a scaled run's fidelity suffers when virtual replays compete
/// for the two cores.
pub fn exclusive() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}
