//! Client clock faults: the client's clock is wrong, the server's is right, and the real SDK
//! shows what it does about it (aws-runtime 1.10 corrects its signing time from a skew
//! error's `Date`, but its identity cache keeps judging expiry by the wrong clock).

use std::path::Path;

use sts_harness::scenario::Scenario;

use crate::common::run;

const SCENARIO: &str = r#"
name = "client clock faults"
seed = 5
[workload]
length = "2h"
every = "10s"
operations = ["PutObject"]
[[run]]
name = "behind-20m"
strategy = "sdk-profile"
clock_offset = "-20m"
expect = { fails_with = "SignatureDoesNotMatch", at = "0s", message = "Signature expired" }
[[run]]
name = "jump-ahead"
strategy = "manual-env"
clock_jumps = [{ at = "30m", by = "+2h" }]
expect = { fails_with = "RequestTimeTooSkewed", at = "30m", within = "10s" }
"#;

#[test]
fn a_client_clock_behind_or_jumping_is_judged_by_the_servers_clock() {
    let scenario = Scenario::parse(SCENARIO, Path::new("clock.toml")).unwrap();
    let report = run(&scenario, None);
    for r in &report.runs {
        assert!(r.met(), "{}: {:#?}", r.name, r.checks);
    }
    let behind = &report.runs[0];
    let skew = behind.metrics.signing_skew.as_ref().unwrap();
    // Signed 20 minutes behind at first; corrected by the SDK after the skew error.
    assert!((skew.first_seconds + 1200.0).abs() <= 1.0, "{skew:?}");
    assert!(skew.last_seconds.abs() <= 1.0, "{skew:?}");
    assert!(skew.skew_errors >= 1, "{skew:?}");
    // ...while its credential cache still believes the keys live 20 minutes longer.
    let expired = behind
        .metrics
        .failures
        .get("ExpiredToken")
        .copied()
        .unwrap_or(0);
    assert!(
        (100..=130).contains(&expired),
        "{:?}",
        behind.metrics.failures
    );
    assert_eq!(behind.client_clock, "-20m00s offset");

    let jump = &report.runs[1];
    assert_eq!(jump.client_clock, "jumps +2h00m00s at 30m00s");
}

#[test]
fn clock_faults_that_cannot_apply_are_refused_naming_line_and_key() {
    let bad = |run: &str| {
        let text = format!(
            "name = \"x\"\n[clock]\nmode = \"scaled\"\nrate = 360\n[workload]\nlength = \"1h\"\nevery = \"10s\"\noperations = [\"PutObject\"]\n[[run]]\n{run}\nexpect = {{ passes = true }}\n"
        );
        Scenario::parse(&text, Path::new("bad.toml"))
            .unwrap_err()
            .to_string()
    };
    let e = bad(
        "strategy = \"process\"\ncommand = \"true\"\nclock_jumps = [{ at = \"1m\", by = \"+1h\" }]",
    );
    assert!(e.starts_with("bad.toml:12:"), "{e}");
    assert!(
        e.contains("run.clock_jumps: a `process` run's clock is libfaketime's"),
        "{e}"
    );
    let e = bad("strategy = \"sdk-profile\"\nclock_drift = -1.5");
    assert!(e.contains("bad.toml:11:15: run.clock_drift"), "{e}");
    let e = bad("strategy = \"sdk-profile\"\nclock_offset = \"ten minutes\"");
    assert!(
        e.contains("bad.toml:11:") && e.contains("not a signed duration"),
        "{e}"
    );
    let e = bad("strategy = \"sdk-profile\"\nclock_jumps = [{ at = \"2h\", by = \"+1h\" }]");
    assert!(e.contains("comes after the job's"), "{e}");
}
