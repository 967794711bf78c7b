//! Every scenario file is a test: its expectations are the assertions.
//!
//! In-process scenarios run all at once, as before. Scenarios with `process` runs (boto3, the
//! AWS CLI, JS v3 under libfaketime at ×360) follow, two at a time: each is tens of seconds of
//! real programs on an accelerated clock, and on two cores more at once would starve them. They
//! need faketime and the venv, the JS ones node and `scenarios/clients/js/node_modules` too;
//! without them the test fails saying how to get them, unless
//! `STS_LAB_SKIP_EXTERNAL_CLIENTS=1` skips them on purpose.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sts_harness::report::ScenarioReport;
use sts_harness::scenario::Scenario;

use crate::common::*;

/// Scenarios with `process` runs running at once.
const PROCESS_SCENARIOS_AT_ONCE: usize = 2;

#[test]
fn every_scenario_in_the_catalog_meets_its_expectations() {
    let _guard = exclusive();
    // Compressed scenarios run on real time (a minute per compressed hour) with their own
    // clients (Go): `compressed` runs them.
    let (external, in_process): (Vec<Scenario>, Vec<Scenario>) = catalog()
        .into_iter()
        .filter(|s| s.clock.compression().is_none())
        .partition(has_process_runs);
    let mut reports: Vec<ScenarioReport> = std::thread::scope(|scope| {
        let handles: Vec<_> = in_process
            .iter()
            .map(|s| scope.spawn(move || run(s, None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(
        !external.is_empty(),
        "the catalog has boto3 and CLI scenarios"
    );
    if external_options().is_some() {
        // JS v3 scenarios also need node and their node_modules (checked once: a missing one
        // fails the test, or is skipped on purpose, while the others still run).
        let node = external.iter().any(runs_node) && node_clients_ready();
        let external: Vec<&Scenario> = external.iter().filter(|s| node || !runs_node(s)).collect();
        let next = AtomicUsize::new(0);
        let done = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..PROCESS_SCENARIOS_AT_ONCE {
                scope.spawn(|| {
                    while let Some(s) = external.get(next.fetch_add(1, Ordering::SeqCst)) {
                        let report = run(s, None);
                        done.lock().unwrap().push(report);
                    }
                });
            }
        });
        reports.extend(done.into_inner().unwrap());
    }
    let mut failures = String::new();
    for report in &reports {
        // A run whose report says the clock's speed could have decided it is exempt, as the
        // scaled test does; it says so here too.
        failures.push_str(&departures_where(report, |r| {
            let exempt = r
                .metrics
                .fidelity
                .as_ref()
                .is_some_and(|f| f.could_decide_verdict);
            if exempt {
                eprintln!(
                    "{} / {}: departed, but its fidelity says the clock's speed could have decided it: {:?}",
                    report.name, r.name, r.metrics.fidelity
                );
            }
            !exempt
        }));
    }
    assert!(failures.is_empty(), "{failures}");
    // The seed's three cases are all there.
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert!(
        names.iter().any(|n| n.contains("default duration")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains("14400 on a 4-hour")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.contains("14400 on a 5-hour")),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n.contains("50000")), "{names:?}");
}

#[test]
fn the_seed_list_is_the_catalogs_seed_scenarios() {
    // Benches and `scaled` use sts-lab-test-support's list; this keeps it the catalog's.
    let by_name: Vec<String> = catalog()
        .into_iter()
        .filter(|s| s.name.starts_with("seed:"))
        .map(|s| s.name)
        .collect();
    let listed: Vec<String> = seed_scenarios().into_iter().map(|s| s.name).collect();
    assert_eq!(listed, by_name);
    assert_eq!(listed.len(), sts_lab_test_support::seeds::SEED_FILES.len());
}
