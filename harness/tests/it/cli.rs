//! The binary: exit codes, bad scenario files, reports.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

fn harness(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sts-harness"))
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

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sts-harness-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const SMALL: &str = r#"name = "small"
seed = 5
[workload]
length = "2h"
every = "60s"
operations = ["GetCallerIdentity"]
[[run]]
strategy = "manual-env"
expect = { passes = true }
[[run]]
strategy = "sdk-profile"
expect = { passes = true }
"#;

#[test]
fn a_departed_run_exits_1_with_json_and_junit_that_explain_it() {
    let dir = temp_dir("departed");
    let scenario = dir.join("small.toml");
    std::fs::write(&scenario, SMALL).unwrap();
    let json = dir.join("report.json");
    let junit = dir.join("junit.xml");
    let (code, stdout, stderr) = harness(&[
        "run",
        scenario.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("DEPARTED"), "{stdout}");
    assert!(stdout.contains("2 run(s): 1 met, 1 departed"), "{stdout}");

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    let runs = &report["scenarios"][0]["runs"];
    assert_eq!(runs[0]["name"], "manual-env");
    assert_eq!(runs[0]["verdict"], "departed");
    assert_eq!(runs[0]["metrics"]["first_failure"]["code"], "ExpiredToken");
    assert_eq!(runs[0]["metrics"]["first_failure"]["at_seconds"], 3600.0);
    assert_eq!(runs[1]["verdict"], "met");
    let explanation = runs[0]["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("no DurationSeconds sent, 3600 s granted; the role allows 43200 s"),
        "{explanation}"
    );
    assert!(
        explanation.contains("role_arn` + `source_profile"),
        "{explanation}"
    );

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuites name=\"sts-harness\" tests=\"2\" failures=\"1\">"),
        "{xml}"
    );
    assert!(
        xml.contains("<testcase name=\"manual-env\" classname=\"small\""),
        "{xml}"
    );
    assert!(xml.contains("<failure message=\"passes: expected no failure, got ExpiredToken on GetCallerIdentity at 1h00m00s\""), "{xml}");
    assert!(xml.contains("rerun: sts-harness run "), "{xml}");
    assert!(
        xml.contains("--run manual-env --seed 5 --clock virtual"),
        "{xml}"
    );

    // --run picks one run, and a met run exits 0; --json - puts JSON on stdout.
    let (code, stdout, stderr) = harness(&[
        "run",
        scenario.to_str().unwrap(),
        "--run",
        "sdk-profile",
        "--json",
        "-",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["summary"]["runs"], 1);
    assert!(stderr.contains("1 met, 0 departed"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

fn assert_bad(dir: &Path, name: &str, text: &str, expected: &str) {
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    for command in ["check", "run"] {
        let (code, stdout, stderr) = harness(&[command, file.to_str().unwrap()]);
        assert_eq!(code, 2, "{command} {name}: {stdout}{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(&format!("{}:", file.display())), "{stderr}");
        assert!(stderr.contains(expected), "{command} {name}: {stderr}");
    }
}

#[test]
fn bad_scenario_files_exit_2_naming_file_line_and_key() {
    let dir = temp_dir("bad");
    assert_bad(
        &dir,
        "unknown-key.toml",
        &SMALL.replace("seed = 5", "seed = 5\nsede = 6"),
        ":3:1: unknown field `sede`",
    );
    assert_bad(
        &dir,
        "bad-duration.toml",
        &SMALL.replace("\"2h\"", "\"two hours\""),
        ":4:10: `two hours` is not a duration",
    );
    assert_bad(
        &dir,
        "unknown-strategy.toml",
        &SMALL.replace("\"sdk-profile\"", "\"sdk-prof\""),
        ":11:12: run.strategy: unknown strategy `sdk-prof`",
    );
    assert_bad(
        &dir,
        "contradiction.toml",
        &SMALL.replace(
            "{ passes = true }\n[[run]]",
            "{ passes = true, fails_with = \"ExpiredToken\" }\n[[run]]",
        ),
        ":9:10: expect: `passes = true` contradicts `fails_with`",
    );
    let (code, _, stderr) = harness(&["run", "/nonexistent/scenarios"]);
    assert_eq!(code, 2, "{stderr}");
    let (code, _, stderr) = harness(&[
        "run",
        dir.join("missing.toml").to_str().unwrap(),
        "--clock",
        "fast",
    ]);
    assert_eq!(code, 2, "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn check_and_list_accept_the_catalog() {
    let dir = catalog_dir();
    let (code, stdout, stderr) = harness(&["check", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("01-seed-default-duration.toml: ok (2 run(s))"),
        "{stdout}"
    );
    let (code, stdout, _) = harness(&["list", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(stdout.contains("manual-env"), "{stdout}");
}
