//! What the client saw counts: calls that fail inside the SDK depart a run even when the
//! server's log is empty, and the SDK's own warnings are captured per run, one line each.

use std::path::Path;

use sts_harness::scenario::Scenario;

use crate::common::run;

/// The issue's example: 8 s of latency each way, longer than the SDK will wait for the STS
/// call behind its credentials. Nothing reaches the server.
const SLOW_NETWORK: &str = r#"
name = "slow network"
seed = 3
[workload]
length = "30m"
every = "10s"
operations = ["PutObject"]
latency = "8s"
[[run]]
strategy = "sdk-profile"
expect = { passes = true }
[[run]]
name = "expected"
strategy = "sdk-profile"
expect = { fails_with = "timeout", requests = 0 }
"#;

#[test]
fn calls_that_time_out_in_the_sdk_depart_a_passing_run() {
    let scenario = Scenario::parse(SLOW_NETWORK, Path::new("slow.toml")).unwrap();
    let report = run(&scenario, None);
    let passing = &report.runs[0];
    assert!(!passing.met(), "{passing:#?}");
    let m = &passing.metrics;
    assert_eq!(m.requests, 0);
    assert!(m.calls > 10, "{m:?}");
    assert_eq!(m.client_failures.get("timeout"), Some(&m.calls), "{m:?}");
    assert_eq!(m.failure_count(), m.calls);
    let failed: Vec<_> = passing.checks.iter().filter(|c| !c.ok).collect();
    assert!(
        failed.iter().any(|c| c.what == "requests"
            && c.actual.starts_with("no request reached the server: ")
            && c.actual.contains("calls timed out in the SDK")),
        "{failed:#?}"
    );
    let explanation = passing.explanation.as_deref().unwrap();
    assert!(
        explanation.contains("failed in the client, with no answer from the server: timeout"),
        "{explanation}"
    );
    // The SDK's warning is quoted, one line, without the provider's Debug dump.
    assert!(
        explanation.contains("The SDK logged: \"failed to load assume role credentials"),
        "{explanation}"
    );
    assert!(!passing.sdk_log.is_empty());
    for line in &passing.sdk_log {
        assert!(!line.message.contains("SimClock"), "{}", line.message);
        assert!(!line.message.contains('\n'));
    }

    // Saying so in the expectation meets it.
    let expected = &report.runs[1];
    assert!(expected.met(), "{:#?}", expected.checks);
}
