//! Same scenario, same seed: identical events and report.

use sts_harness::scenario::Scenario;
use sts_lab_test_support::redact;

use crate::common::*;

#[test]
fn a_seed_scenario_twice_gives_byte_identical_json() {
    let _guard = exclusive();
    let scenario = Scenario::load(&catalog_dir().join("01-seed-default-duration.toml")).unwrap();
    let first = serde_json::to_value(run(&scenario, None)).unwrap();
    let second = serde_json::to_value(run(&scenario, None)).unwrap();
    let a = serde_json::to_string_pretty(&redact::json(first, &redact::WALL_FIELDS)).unwrap();
    let b = serde_json::to_string_pretty(&redact::json(second, &redact::WALL_FIELDS)).unwrap();
    assert_eq!(a, b);
    assert!(a.contains("\"ExpiredToken\""), "{a}");
}

#[test]
fn the_same_seed_gives_the_same_events_even_with_jitter_and_workers() {
    let _guard = exclusive();
    let scenario = Scenario::load(&catalog_dir().join("07-naive-refresh-at-expiry.toml")).unwrap();
    let events = |s: &Scenario| {
        let results = sts_harness::runner::run_scenario(s, Some("naive-refresh"), None, None);
        results[0]
            .events
            .iter()
            .map(|e| {
                (
                    e.seq,
                    e.sim_time,
                    e.action.clone(),
                    e.request_id.clone(),
                    e.outcome().to_string(),
                    e.signed_by.as_ref().map(|s| s.access_key_id.clone()),
                )
            })
            .collect::<Vec<_>>()
    };
    let a = events(&scenario);
    assert!(a.len() > 1000);
    assert_eq!(a, events(&scenario));
}
