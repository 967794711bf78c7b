//! Every scenario file is a test: its expectations are the assertions.

use crate::common::*;

#[test]
fn every_scenario_in_the_catalog_meets_its_expectations() {
    let _guard = exclusive();
    let scenarios = catalog();
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|s| scope.spawn(move || run(s, None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failures = String::new();
    for report in &reports {
        failures.push_str(&departures(report));
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
