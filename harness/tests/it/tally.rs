//! A run that keeps only what its metrics need (`Keep::WhatMetricsNeed`, `sts-harness run`
//! without a timeline) reports exactly what a run that keeps every event and call reports.

use sts_harness::metrics;
use sts_harness::process::ProcessOptions;
use sts_harness::runner::{self, Keep};
use sts_harness::scenario::Scenario;
use sts_lab_test_support::redact;

use crate::common::*;

fn metrics_json(scenario: &Scenario, keep: Keep) -> Vec<String> {
    runner::run_scenario_keeping(
        scenario,
        None,
        None,
        None,
        &ProcessOptions::from_env(),
        keep,
    )
    .iter()
    .map(|result| {
        if keep == Keep::WhatMetricsNeed {
            assert!(result.events.is_empty(), "a tallied run keeps no events");
            assert!(result.tally.is_some());
            assert!(
                result
                    .ops
                    .iter()
                    .all(|o| o.outcome.client_failure().is_some())
            );
        }
        let m = serde_json::to_value(metrics::compute(result)).unwrap();
        let text = serde_json::to_string_pretty(&redact::json(m, &redact::WALL_FIELDS));
        format!("{} events: {}", result.event_count(), text.unwrap())
    })
    .collect()
}

#[test]
fn tallied_runs_report_what_runs_that_keep_everything_report() {
    let _guard = exclusive();
    // Refreshes and a herd (07: 8 workers, jitter), server failures (01: ExpiredToken),
    // injected faults and their retries (30), client clock faults (34: signing skew).
    for file in [
        "01-seed-default-duration.toml",
        "07-naive-refresh-at-expiry.toml",
        "30-sts-throttled-around-expiry.toml",
        "34-client-clock-behind.toml",
    ] {
        let scenario = Scenario::load(&catalog_dir().join(file)).unwrap();
        let kept = metrics_json(&scenario, Keep::Everything);
        let tallied = metrics_json(&scenario, Keep::WhatMetricsNeed);
        assert!(kept.iter().all(|m| !m.starts_with("0 events")), "{file}");
        assert_eq!(kept, tallied, "{file}");
    }
}
