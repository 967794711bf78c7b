//! `compressed:K` on real time: the Go client (`scenarios/clients/go`, aws-sdk-go-v2 built
//! offline from Debian's packages, which `scripts/test` installs) through a compressed hour
//! (scenario 45), beside aws-sdk-rust and spec-refresh in process; and bad factors from the
//! command line.

use std::path::Path;
use std::process::Command;

use mock_sts::aws_error::ErrorCode;
use sts_harness::process::ProcessOptions;
use sts_harness::report;
use sts_harness::runner;
use sts_harness::scenario::Scenario;

use crate::common::*;

/// Go and Debian's aws-sdk-go-v2, and the lab binary built (`run.sh --build`); `false`,
/// after saying so loudly, when either is missing.
fn go_client_ready() -> bool {
    let has_go = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_go || !Path::new("/usr/share/gocode/src/github.com/aws/aws-sdk-go-v2/config").is_dir() {
        missing(
            "Go and aws-sdk-go-v2 are missing (Debian: apt-get install golang-go golang-github-aws-aws-sdk-go-v2-dev)",
        );
        return false;
    }
    let built = Command::new("sh")
        .arg(catalog_dir().join("clients/go/run.sh"))
        .arg("--build")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "go build failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    true
}

#[test]
fn a_go_client_on_real_time_meets_a_compressed_hour_in_a_minute() {
    if !go_client_ready() {
        return;
    }
    let _guard = exclusive();
    let scenario =
        Scenario::load(&catalog_dir().join("45-go-expiry-window-compressed.toml")).unwrap();
    // No faketime, no venv: the programs run on the real clock.
    let results =
        runner::run_scenario_with(&scenario, None, None, None, &ProcessOptions::default());
    let report = report::scenario_report(&scenario, &results);
    assert_eq!(departures(&report), "");
    assert_eq!(report.clock, "compressed:60");
    assert_eq!(report.compression, Some(60));

    // The pinned keys die a minute of wall time after AssumeRole issued them: the one-hour
    // session at K = 60 (Expiration has whole seconds, and the next request comes within the
    // 2 s interval).
    let manual = results
        .iter()
        .find(|r| r.run.name == "go-manual-env")
        .unwrap();
    let issued = manual
        .events
        .iter()
        .find(|e| e.issued.is_some())
        .expect("AssumeRole");
    let expired = manual
        .events
        .iter()
        .find(|e| e.error_code == Some(ErrorCode::ExpiredToken))
        .expect("ExpiredToken");
    let wall = expired
        .wall_time
        .duration_since(issued.wall_time)
        .unwrap()
        .as_secs_f64();
    eprintln!(
        "go-manual-env: ExpiredToken {wall:.2} s of wall time after its AssumeRole; runs took {:?}",
        results
            .iter()
            .map(|r| (r.run.name.as_str(), r.wall.as_secs_f64().round()))
            .collect::<Vec<_>>()
    );
    assert!(
        (58.0..=63.0).contains(&wall),
        "{wall} s: the compressed hour is a minute"
    );
    // Stretched back into the scenario's time: an hour granted, not a minute.
    assert_eq!(
        issued.issued.as_ref().unwrap().duration_seconds_granted,
        3600
    );

    // The warning fires for spec-refresh (a 60 s set inside its 5-minute advisory window),
    // which then renews on every call, and for none of the others.
    for r in &report.runs {
        let warned = !r.compression_warnings.is_empty();
        assert_eq!(
            warned,
            r.name == "spec-refresh",
            "{}: {:?}",
            r.name,
            r.compression_warnings
        );
    }
    let spec = report
        .runs
        .iter()
        .find(|r| r.name == "spec-refresh")
        .unwrap();
    assert!(spec.metrics.sts_calls >= 20, "{}", spec.metrics.sts_calls);
    // The Go cache with an ExpiryWindow of 10 s renews 8-10 real seconds early: 8-10
    // scenario minutes; with the default of 0, after the expiry.
    let lead = |name: &str| {
        report
            .runs
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.metrics.refresh_lead_min_seconds)
            .unwrap()
    };
    assert!((420.0..=660.0).contains(&lead("go-expiry-window-10s")));
    assert!(
        lead("go-default-chain") <= 0.0,
        "{}",
        lead("go-default-chain")
    );

    // Every output states the factor, and the warning.
    let full = report::report(vec![report.clone()]);
    let table = report::table(&full);
    assert!(
        table.contains("compressed:60)\n  lifetimes and durations divided by 60"),
        "{table}"
    );
    assert!(
        table.contains("spec-refresh: warning: compressed:60: "),
        "{table}"
    );
    // Started without faketime: the table says `real clock` where a FAKETIME value would be.
    assert!(
        table.contains("profile static, real clock): exit 1"),
        "{table}"
    );
    let json = serde_json::to_value(&full).unwrap();
    assert_eq!(json["scenarios"][0]["compression"], 60);
    let xml = report::junit(&full).unwrap();
    assert!(
        xml.contains(r#"<property name="compression" value="60"/>"#),
        "{xml}"
    );
    assert!(
        xml.contains("warning: compressed:60: its 3600 s credentials last 60 s here"),
        "{xml}"
    );
}

/// A scenario file in a temporary folder.
fn scenario_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

const SHORT_SESSION: &str = r#"name = "short"
[workload]
length = "2h"
every = "1m"
operations = ["PutObject"]
[[run]]
strategy = "manual-env"
duration_seconds = 900
expect = { fails_with = "ExpiredToken", at = "15m" }
"#;

#[test]
fn bad_factors_and_lifetimes_under_a_minute_are_refused_naming_file_line_and_key() {
    let (_dir, path) = scenario_file(SHORT_SESSION);
    let file = path.to_str().unwrap();
    // A 15-minute session at K = 20 would be 45 s: floored, not scaled.
    let (code, _, err) = harness(&["run", file, "--clock", "compressed:20"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains(&format!(
            "--clock compressed:20: {file}:8: run.duration_seconds: "
        )),
        "{err}"
    );
    for bad in ["compressed:0", "compressed:61", "compressed:ten"] {
        let (code, _, err) = harness(&["run", file, "--clock", bad]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(err.contains("--clock: "), "{err}");
    }
    // The same in the file.
    let (_dir, path) = scenario_file(&SHORT_SESSION.replace(
        "[workload]",
        "[clock]\nmode = \"compressed\"\nfactor = 61\n[workload]",
    ));
    let (code, _, err) = harness(&["check", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("s.toml:4:10: clock.factor: 61 is above 60"),
        "{err}"
    );
}
