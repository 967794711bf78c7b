//! The binary: exit codes, bad scenario files, reports.

use std::path::{Path, PathBuf};
use std::process::Command;

use sts_lab_test_support::redact;

use crate::common::*;

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

    // The whole table, JSON and JUnit as snapshots: the run is virtual and seeded, so only
    // wall-clock fields and the scratch folder's path differ between runs.
    let folder = dir.to_str().unwrap();
    let scratch = |text: &str| redact::values(text, &[(folder, "[dir]")]);
    insta::assert_snapshot!("departed_table", scratch(&stdout));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["schema_version"], 1);
    let runs = &report["scenarios"][0]["runs"];
    assert_eq!(runs[0]["verdict"], "departed");
    assert_eq!(runs[0]["metrics"]["first_failure"]["code"], "ExpiredToken");
    let report = redact::json(report, &redact::WALL_FIELDS);
    insta::assert_snapshot!(
        "departed_json",
        scratch(&serde_json::to_string_pretty(&report).unwrap())
    );
    // JUnit, read back as a JUnit consumer would: counts, one testcase per run, the failed
    // check as the failure's message and the rerun command in its text.
    let xml = std::fs::read_to_string(&junit).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&xml).unwrap();
    assert_eq!(
        parsed.name.as_ref().map(|n| n.as_str()),
        Some("sts-harness")
    );
    assert_eq!((parsed.tests, parsed.failures, parsed.errors), (2, 1, 0));
    assert_eq!(parsed.test_suites.len(), 1, "{xml}");
    let suite = &parsed.test_suites[0];
    assert_eq!(suite.name.as_str(), "small");
    assert_eq!((suite.tests, suite.failures), (2, 1));
    let cases: Vec<(&str, Option<&str>)> = suite
        .test_cases
        .iter()
        .map(|c| (c.name.as_str(), c.classname.as_ref().map(|n| n.as_str())))
        .collect();
    assert_eq!(
        cases,
        [
            ("manual-env", Some("small")),
            ("sdk-profile", Some("small"))
        ]
    );
    assert!(suite.test_cases.iter().all(|c| c.time.is_some()), "{xml}");
    let quick_junit::TestCaseStatus::NonSuccess {
        kind: quick_junit::NonSuccessKind::Failure,
        message,
        ty,
        description,
        ..
    } = &suite.test_cases[0].status
    else {
        panic!("manual-env is not a failure: {xml}");
    };
    assert_eq!(
        message.as_ref().map(|m| m.as_str()),
        Some("passes: expected no failure, got ExpiredToken on GetCallerIdentity at 1h00m00s")
    );
    assert_eq!(ty.as_ref().map(|t| t.as_str()), Some("departed"));
    let text = description.as_ref().unwrap().as_str();
    assert!(text.contains("rerun: sts-harness run "), "{text}");
    assert!(
        text.contains("--run manual-env --seed 5 --clock virtual"),
        "{text}"
    );
    // The explanation's quotes survive escaping.
    assert!(
        text.contains("failed with ExpiredToken: \"The security token included"),
        "{text}"
    );
    assert!(matches!(
        suite.test_cases[1].status,
        quick_junit::TestCaseStatus::Success { .. }
    ));
    insta::assert_snapshot!(
        "departed_junit",
        scratch(&redact::xml_attributes(&xml, &["time"]))
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

const PROCESS: &str = r#"name = "process"
[clock]
mode = "scaled"
rate = 360
[workload]
length = "1h"
every = "10s"
operations = ["PutObject"]
[[run]]
strategy = "process"
command = ["sh", "-c", "exit 0"]
expect = { passes = true }
"#;

const SDK_RUN: &str = "[[run]]\nstrategy = \"sdk-profile\"\n";

#[test]
fn bad_process_runs_exit_2_naming_file_line_and_key() {
    let dir = temp_dir("bad-process");
    let command = "command = [\"sh\", \"-c\", \"exit 0\"]\n";
    let with = |extra: &str| PROCESS.replace(command, &format!("{command}{extra}\n"));
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "virtual.toml",
            PROCESS.replace("mode = \"scaled\"\nrate = 360", "mode = \"virtual\""),
            ":9:12: run.strategy: `process` runs a real program, which needs a scaled clock",
        ),
        (
            "no-command.toml",
            PROCESS.replace(command, ""),
            ":10:12: run.command: strategy `process` needs a command",
        ),
        (
            "command-elsewhere.toml",
            format!("{PROCESS}{SDK_RUN}command = [\"python3\"]\nexpect = {{ passes = true }}\n"),
            ":15:11: run.command: only strategy `process` runs a program; `sdk-profile` runs aws-sdk-rust",
        ),
        (
            "timeout-elsewhere.toml",
            format!("{PROCESS}{SDK_RUN}timeout = \"1m\"\nexpect = {{ passes = true }}\n"),
            ":15:11: run.timeout: only strategy `process`",
        ),
        (
            "unknown-profile.toml",
            with("profile = \"sso\""),
            ":12:11: run.profile: unknown profile `sso` (static, assume-role, imds, container, web-identity, credential-process)",
        ),
        (
            "exit-code-elsewhere.toml",
            format!("{PROCESS}{SDK_RUN}expect = {{ passes = true, exit_code = 0 }}\n"),
            ":15:10: expect: `exit_code` and `exits_nonzero` are for `process` runs",
        ),
        (
            "exit-both.toml",
            PROCESS.replace(
                "{ passes = true }",
                "{ fails_with = \"ExpiredToken\", exit_code = 1, exits_nonzero = true }",
            ),
            ":12:10: expect: `exit_code` and `exits_nonzero` both say how the program exits",
        ),
        (
            "exit-range.toml",
            PROCESS.replace("{ passes = true }", "{ passes = true, exit_code = 300 }"),
            ":12:10: expect: `exit_code` must be 0..=255, got 300",
        ),
        (
            "zero-timeout.toml",
            with("timeout = \"0s\""),
            ":12:11: run.timeout: must be more than 0",
        ),
        (
            "bad-timeout.toml",
            with("timeout = \"soon\""),
            ":12:11: `soon` is not a duration",
        ),
        (
            "missing-cwd.toml",
            with("cwd = \"nowhere\""),
            ":12:7: run.cwd: `nowhere` is not a directory",
        ),
        (
            "quoted-command.toml",
            PROCESS.replace(command, "command = \"sh -c 'exit 0'\"\n"),
            ":11:11: run.command: a command string is split on spaces, without quoting",
        ),
        (
            "empty-command.toml",
            PROCESS.replace(command, "command = []\n"),
            ":11:11: run.command: the command is empty",
        ),
        (
            "numeric-command.toml",
            PROCESS.replace(command, "command = 5\n"),
            ":11:11: a command: an array of strings, or a string",
        ),
        (
            "missing-program.toml",
            PROCESS.replace(command, "command = [\"./missing.sh\"]\n"),
            ":11:11: run.command: `./missing.sh` does not exist",
        ),
        (
            "misspelt-key.toml",
            with("comand = \"true\""),
            ":12:1: unknown field `comand`",
        ),
        (
            "latency.toml",
            PROCESS.replace("every = \"10s\"", "every = \"10s\"\nlatency = \"1s\""),
            ":11:12: workload.latency: the harness cannot add latency to a program's requests",
        ),
    ];
    for (name, text, expected) in &cases {
        assert_bad(&dir, name, text, expected);
    }
    // A script that is there but not executable.
    std::fs::write(dir.join("plain.sh"), "#!/bin/sh\n").unwrap();
    assert_bad(
        &dir,
        "not-executable.toml",
        &PROCESS.replace(command, "command = \"./plain.sh\"\n"),
        ":11:11: run.command: `./plain.sh` is not executable (chmod +x, or name its interpreter",
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn process_runs_without_faketime_or_on_a_virtual_clock_exit_2_in_one_line() {
    let dir = temp_dir("no-faketime");
    let scenario = dir.join("process.toml");
    std::fs::write(&scenario, PROCESS).unwrap();
    // A PATH with no faketime on it.
    let empty = dir.join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sts-harness"))
        .args(["run", scenario.to_str().unwrap()])
        .env("CI", "true")
        .env("PATH", &empty)
        .env_remove("STS_LAB_VENV")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: faketime not found on PATH: `process` runs need libfaketime's wrapper"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());

    let (code, _, stderr) = harness(&["run", scenario.to_str().unwrap(), "--clock", "virtual"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--clock virtual: ")
            && stderr.contains(
                "process.toml:10: run `process` runs a program, which needs a scaled clock"
            ),
        "{stderr}"
    );
    // `check` and `list` need neither.
    let (code, stdout, stderr) = harness(&["list", scenario.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("process: sh -c exit 0"), "{stdout}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_reader_that_goes_away_is_not_a_panic() {
    // `sts-harness list scenarios/ | head -1`: the pipe closes before the listing is written.
    let mut child = Command::new(env!("CARGO_BIN_EXE_sts-harness"))
        .args(["list", catalog_dir().to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// The `credential_process` helper against a served mock: the JSON SDKs read, one `AssumeRole`
/// per run recorded with its session name; refused keys exit 1 naming STS's error.
#[test]
fn the_credential_process_helper_prints_keys_with_their_expiration() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let start = mock_sts::clock::default_virtual_start();
    let aws = runtime.block_on(async {
        mock_sts::MockAws::builder()
            .clock(mock_sts::clock::SimClock::frozen(start))
            // The helper signs with the real clock; the frozen server's skew check is off.
            .max_skew(None)
            .start()
            .await
            .unwrap()
    });
    let endpoint = aws.endpoint_url();
    let helper = move |secret: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_sts-harness"))
            .args([
                "credential-process",
                "--endpoint",
                &endpoint,
                "--role-arn",
                "arn:aws:iam::123456789012:role/cross-account-s3",
                "--access-key-id",
                "AKIAIOSFODNN7EXAMPLE",
                "--secret-access-key",
                secret,
                "--duration-seconds",
                "7200",
            ])
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // The server answers on its runtime's thread while the helper runs.
    let (ok, refused) = runtime.block_on(async {
        let ok = tokio::task::spawn_blocking(move || {
            let ok = helper("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
            let refused = helper("wrong-secret");
            (ok, refused)
        });
        ok.await.unwrap()
    });
    let (code, stdout, stderr) = ok;
    assert_eq!(code, 0, "{stderr}");
    let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(json["Version"], 1);
    assert!(json["AccessKeyId"].as_str().unwrap().starts_with("ASIA"));
    assert!(json["SessionToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(json["Expiration"], "2026-01-01T02:00:00Z");
    let (code, stdout, stderr) = refused;
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("AssumeRole failed: SignatureDoesNotMatch"),
        "{stderr}"
    );
    let sessions: Vec<Option<String>> = aws
        .events()
        .0
        .iter()
        .map(|e| e.issued.as_ref().and_then(|i| i.session_name.clone()))
        .collect();
    // The refused call may be retried by the helper's SDK: it issued nothing either way.
    assert_eq!(sessions[0].as_deref(), Some("credential-process"));
    assert!(
        sessions.len() >= 2 && sessions[1..].iter().all(Option::is_none),
        "{sessions:?}"
    );
    runtime.block_on(aws.shutdown());
}
