//! `process` runs: real programs under libfaketime on the scaled clock, judged by the server's
//! events and their exit status.
//!
//! Shell-script programs need only libfaketime's `faketime`; the boto3 ones need the venv too.
//! Without them the tests fail saying how to get them, unless `STS_LAB_SKIP_EXTERNAL_CLIENTS=1`
//! skips them on purpose.

use std::path::{Path, PathBuf};
use std::time::Duration;

use sts_harness::metrics;
use sts_harness::process::{Exit, ProcessOptions};
use sts_harness::report::{self, RunReport, ScenarioReport};
use sts_harness::runner;
use sts_harness::scenario::Scenario;

use crate::common::*;

/// A scenario file and its program in a fresh folder.
struct Fixture {
    dir: tempfile::TempDir,
    scenario: PathBuf,
}

impl Fixture {
    /// `script` is written as `program.sh` (executable); `run` is the rest of the `[[run]]`.
    fn new(length: &str, script: &str, run: &str) -> Fixture {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("sts-harness-process-")
            .tempdir()
            .unwrap();
        let program = dir.path().join("program.sh");
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let scenario = dir.path().join("scenario.toml");
        std::fs::write(
            &scenario,
            format!(
                r#"name = "program"
[clock]
mode = "scaled"
rate = 360
[workload]
length = "{length}"
every = "10s"
operations = ["GetCallerIdentity"]
[[run]]
name = "program"
strategy = "process"
{run}
"#
            ),
        )
        .unwrap();
        Fixture { dir, scenario }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn run(&self, options: &ProcessOptions) -> (ScenarioReport, String, String) {
        let scenario = Scenario::load(&self.scenario).unwrap();
        let results = runner::run_scenario_with(&scenario, None, None, None, options);
        let scenario_report = report::scenario_report(&scenario, &results);
        let whole = report::report(vec![scenario_report.clone()]);
        (
            scenario_report,
            report::table(&whole),
            report::junit(&whole).unwrap(),
        )
    }
}

/// The only testcase of a JUnit report, which must be a failure: its message and text.
fn junit_failure(xml: &str) -> (String, String) {
    let report = quick_junit::Report::deserialize_from_str(xml).unwrap();
    assert_eq!((report.tests, report.failures), (1, 1), "{xml}");
    let case = &report.test_suites[0].test_cases[0];
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind: quick_junit::NonSuccessKind::Failure,
            message: Some(message),
            description: Some(text),
            ..
        } => (message.as_str().to_owned(), text.as_str().to_owned()),
        other => panic!("not a failure: {other:?}\n{xml}"),
    }
}

fn only_run(report: &ScenarioReport) -> &RunReport {
    assert_eq!(report.runs.len(), 1);
    &report.runs[0]
}

fn check<'a>(run: &'a RunReport, what: &str) -> &'a metrics::Check {
    run.checks
        .iter()
        .find(|c| c.what == what)
        .unwrap_or_else(|| panic!("no `{what}` check: {:?}", run.checks))
}

#[test]
fn boto3_manual_env_expires_within_half_a_percent_of_the_hour() {
    let Some(options) = external_options() else {
        return;
    };
    let _guard = exclusive();
    let scenario = Scenario::load(&catalog_dir().join("10-boto3-manual-env.toml")).unwrap();
    let results = runner::run_scenario_with(&scenario, None, None, None, &options);
    let report = report::scenario_report(&scenario, &results);
    let run = only_run(&report);
    let failure = run.metrics.first_failure.as_ref().unwrap_or_else(|| {
        panic!("no failure: {}", departures(&report));
    });
    assert_eq!(failure.code, "ExpiredToken", "{}", departures(&report));
    assert_eq!(failure.action.as_str(), "PutObject");
    // The keys live 3600 s from the AssumeRole that starts the run; 0.5 % of that is 18 s.
    assert!(
        (failure.at_seconds - 3600.0).abs() <= 18.0,
        "first ExpiredToken at {} s",
        failure.at_seconds
    );
    assert!(run.met(), "{}", departures(&report));
    // The program saw the failure too and exited non-zero; its clock agreed with the server's.
    let process = run.process.as_ref().unwrap();
    assert!(
        matches!(process.exit, Exit::Code { code } if code != 0),
        "{:?}",
        process.exit
    );
    assert!(
        process
            .stdout
            .text
            .contains("PutObject failed: ExpiredToken"),
        "{}",
        process.stdout.text
    );
    let fidelity = run.metrics.fidelity.as_ref().unwrap();
    assert!(fidelity.skew_samples.unwrap() > 100, "{fidelity:?}");
    assert!(
        fidelity.max_clock_skew_seconds.unwrap() < 18.0,
        "{fidelity:?}"
    );
    assert!(!fidelity.could_decide_verdict, "{fidelity:?}");
}

#[test]
fn a_program_that_exits_nonzero_departs_with_its_status_and_output() {
    let Some(options) = faketime_options() else {
        return;
    };
    let _guard = exclusive();
    let script = "#!/bin/sh\necho 'starting the job'\necho 'something went wrong' >&2\nexit 3\n";
    let fixture = Fixture::new(
        "1h",
        script,
        // A shell script that calls nothing: no request reaches the server, and it says so.
        "command = \"./program.sh\"\nexpect = { passes = true, requests = 0 }",
    );
    let (report, table, junit) = fixture.run(&options);
    let run = only_run(&report);
    assert!(!run.met(), "{table}");
    let exit = check(run, "exit_code");
    assert_eq!(
        (exit.expected.as_str(), exit.actual.as_str()),
        ("exit 0", "exit 3")
    );
    assert!(!exit.ok);
    assert!(check(run, "passes").ok, "no request failed: {table}");
    assert!(
        table.contains("! program: exit_code expected exit 0, got exit 3"),
        "{table}"
    );
    assert!(
        table.contains("exited with status 3 although no request failed"),
        "{table}"
    );
    assert!(table.contains("    | starting the job"), "{table}");
    assert!(table.contains("    | something went wrong"), "{table}");
    let (message, text) = junit_failure(&junit);
    assert_eq!(message, "exit_code: expected exit 0, got exit 3");
    assert!(text.contains("stderr:\n| something went wrong"), "{text}");
    assert!(text.contains("stdout:\n| starting the job"), "{text}");

    // The same program meets `exit_code = 3` and `exits_nonzero = true`.
    for expect in [
        "{ passes = true, requests = 0, exit_code = 3 }",
        "{ passes = true, requests = 0, exits_nonzero = true }",
    ] {
        let fixture = Fixture::new(
            "1h",
            script,
            &format!("command = \"./program.sh\"\nexpect = {expect}"),
        );
        let (report, table, _) = fixture.run(&options);
        assert!(only_run(&report).met(), "{expect}: {table}");
        assert!(
            !table.contains("something went wrong"),
            "met runs keep output out: {table}"
        );
    }
}

/// The number a program printed as `name=N`.
fn stamp(stdout: &str, name: &str) -> i64 {
    stdout
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {stdout}"))
        .parse()
        .unwrap()
}

/// Whether a process is gone (or a zombie waiting for a reaper).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| rest.starts_with('Z')),
    }
}

#[test]
fn a_hung_program_is_killed_with_its_children_at_its_timeout() {
    let Some(options) = faketime_options() else {
        return;
    };
    let _guard = exclusive();
    // `sleep 100000` is 278 real seconds at x360; the child outlives the shell unless killed.
    let script = "#!/bin/sh\nsleep 100000 &\necho $! > child.pid\necho 'waiting forever'\nwait\n";
    let fixture = Fixture::new(
        "1h",
        script,
        "command = [\"./program.sh\"]\ntimeout = \"2s\"\nexpect = { passes = true }",
    );
    let stopwatch = mock_sts::clock::Stopwatch::start();
    let (report, table, junit) = fixture.run(&options);
    let wall = stopwatch.elapsed();
    let run = only_run(&report);
    assert!(!run.met(), "{table}");
    assert!(wall < Duration::from_secs(10), "{wall:?}");
    assert_eq!(
        run.process.as_ref().unwrap().exit,
        Exit::TimedOut { limit_ms: 2000 }
    );
    let finishes = check(run, "finishes");
    assert_eq!(finishes.actual, "killed after the 2 s wall-clock limit");
    assert!(!finishes.ok);
    assert!(
        table.contains("! program: finishes expected the workload ends, got killed after the 2 s wall-clock limit"),
        "{table}"
    );
    assert!(
        table.contains("the harness killed it and its process group"),
        "{table}"
    );
    assert!(table.contains("    | waiting forever"), "{table}");
    let (message, text) = junit_failure(&junit);
    assert!(
        message.contains(
            "finishes: expected the workload ends, got killed after the 2 s wall-clock limit"
        ),
        "{message}"
    );
    assert!(text.contains("| waiting forever"), "{text}");
    // The child went with it.
    let pid: u32 = std::fs::read_to_string(fixture.path().join("child.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let deadline = mock_sts::clock::Stopwatch::start();
    while !gone(pid) && deadline.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        gone(pid),
        "child {pid} of the hung program is still running"
    );
}

#[test]
fn children_of_a_program_share_one_fake_clock() {
    let Some(options) = faketime_options() else {
        return;
    };
    let _guard = exclusive();
    // Two `date` processes a real second apart (sleep 360 at x360), the second a grandchild:
    // on one shared clock they are ~360 simulated seconds apart; children that each restarted
    // the fake clock at its start value would read about the same time.
    let script = "#!/bin/sh\nfirst=$(date +%s)\nsleep 360\nsecond=$(sh -c 'date +%s')\necho \"first=$first second=$second\"\n";
    let fixture = Fixture::new(
        "1h",
        script,
        "command = \"./program.sh\"\nexpect = { passes = true, requests = 0 }",
    );
    let (report, table, _) = fixture.run(&options);
    let run = only_run(&report);
    assert!(run.met(), "{table}");
    let stdout = &run.process.as_ref().unwrap().stdout.text;
    let read = |name: &str| stamp(stdout, name);
    let (first, second) = (read("first"), read("second"));
    // The scenario's clock starts at 2026-01-01T00:00:00Z.
    assert!((1_767_225_600..1_767_225_660).contains(&first), "{stdout}");
    assert!((350..=450).contains(&(second - first)), "{stdout}");
}

#[test]
fn boto3_calls_from_separate_child_processes_show_continuous_time() {
    let Some(options) = external_options() else {
        return;
    };
    let _guard = exclusive();
    let call = "python3 -c 'import boto3; boto3.client(\"sts\").get_caller_identity()'";
    let script = format!("#!/bin/sh\nset -e\n{call}\nsleep 360\n{call}\n");
    let fixture = Fixture::new(
        "1h",
        &script,
        "command = \"./program.sh\"\nprofile = \"static\"\nexpect = { passes = true }",
    );
    let (report, table, _) = fixture.run(&options);
    let run = only_run(&report);
    assert!(run.met(), "{table}");
    assert_eq!(run.metrics.requests, 2, "{table}");
    // Each child signed with the server's time (to X-Amz-Date's second and the call's span);
    // a child whose clock had restarted would be ~360 s behind.
    let fidelity = run.metrics.fidelity.as_ref().unwrap();
    assert_eq!(fidelity.skew_samples, Some(2), "{fidelity:?}");
    assert!(
        fidelity.max_clock_skew_seconds.unwrap() < 30.0,
        "{fidelity:?}"
    );
    assert!(table.contains("fidelity: its clock within"), "{table}");
}

#[test]
fn a_missing_command_is_refused_when_read_or_departs_when_run() {
    let Some(options) = faketime_options() else {
        return;
    };
    // A program named by a path must exist when the scenario is read (exit 2 from the CLI).
    let fixture = Fixture::new(
        "1h",
        "#!/bin/sh\n",
        "command = [\"./no-such-script.sh\", \"--flag\"]\nexpect = { passes = true }",
    );
    let error = Scenario::load(&fixture.scenario).unwrap_err().to_string();
    assert!(
        error.contains("scenario.toml:12:11: run.command: `./no-such-script.sh` does not exist"),
        "{error}"
    );
    // A bare name is looked up on the program's PATH when the run starts: a clear verdict.
    let fixture = Fixture::new(
        "1h",
        "#!/bin/sh\n",
        "command = \"no-such-program-for-sts-harness --flag\"\nexpect = { passes = true }",
    );
    let (report, table, _) = fixture.run(&options);
    let run = only_run(&report);
    assert!(!run.met(), "{table}");
    let startup = run.startup_error.as_deref().unwrap();
    assert!(
        startup.starts_with(
            "command `no-such-program-for-sts-harness` not found on the program's PATH ("
        ),
        "{startup}"
    );
    assert_eq!(check(run, "exit_code").actual, "did not start");
    assert!(
        table.contains("The run failed before its program started: command `no-such-program-for-sts-harness` not found"),
        "{table}"
    );
}

#[test]
fn a_programs_clock_offset_and_drift_come_through_faketime() {
    let Some(options) = faketime_options() else {
        return;
    };
    let _guard = exclusive();
    // `date` at start, and again after 360 fake seconds (1 real second at x360, x540 with the
    // drift): the start is 20 minutes behind the server's, and the clock runs 1.5 times fast.
    let script = "#!/bin/sh\nfirst=$(date +%s)\nsleep 360\nsecond=$(date +%s)\necho \"first=$first second=$second\"\n";
    let fixture = Fixture::new(
        "1h",
        script,
        "command = \"./program.sh\"\nclock_offset = \"-20m\"\nclock_drift = 0.5\nexpect = { passes = true, requests = 0 }",
    );
    let (report, table, _) = fixture.run(&options);
    let run = only_run(&report);
    assert!(run.met(), "{table}");
    let process = run.process.as_ref().unwrap();
    assert!(process.faketime.ends_with(" x540"), "{}", process.faketime);
    assert!(
        process.faketime.starts_with("@2025-12-31 23:40:0"),
        "{}",
        process.faketime
    );
    let stdout = &process.stdout.text;
    let read = |name: &str| stamp(stdout, name);
    // The server's clock starts at 2026-01-01T00:00:00Z; the program's 20 minutes earlier.
    let first = read("first");
    assert!(
        (1_767_225_600 - 1200..1_767_225_600 - 1200 + 60).contains(&first),
        "{stdout}"
    );
    // `sleep 360` is 360 fake seconds whatever the rate: the drift shows in how fast the
    // program's clock runs against the server's, which the report's signing skew would show.
    assert!((350..=450).contains(&(read("second") - first)), "{stdout}");
    assert_eq!(run.client_clock, "-20m00s offset, +50 % drift");
}
