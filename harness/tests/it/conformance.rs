//! Conformance rules on the real SDK: `spec-refresh` (the reference cache) passes every rule a
//! scenario can test, aws-sdk-rust's own cache (`sdk-profile`) fails the ones it should; the
//! `conforms`/`violates` expectations, their bad input, and the JSON of runs that state none.

use std::path::Path;

use sts_harness::conformance::{Rule, Verdict};
use sts_harness::report::RunReport;
use sts_harness::scenario::{Scenario, ScenarioError};

use crate::common::run;

const OUTAGE: &str = r#"
name = "STS down from 40m to 1h10m"
seed = 7
[workload]
length = "2h"
every = "10s"
operations = ["PutObject"]
[[fault]]
service = "sts"
actions = ["AssumeRole"]
from = "40m"
until = "1h10m"
effect = { error = "ServiceUnavailable" }
[[run]]
strategy = "spec-refresh"
expect = { conforms = ["advisory-window", "mandatory-window", "static-stability", "outage-backoff", "single-flight", "invalidate-on-auth-failure"] }
[[run]]
strategy = "sdk-profile"
expect = { violates = ["advisory-window", "mandatory-window", "static-stability", "outage-backoff"] }
"#;

fn runs(text: &str) -> Vec<RunReport> {
    let scenario = Scenario::parse(text, Path::new("conformance.toml")).unwrap();
    run(&scenario, None).runs
}

fn verdict(r: &RunReport, rule: Rule) -> Verdict {
    r.metrics
        .conformance
        .as_ref()
        .and_then(|c| c.get(rule))
        .map(|x| x.verdict)
        .unwrap()
}

#[test]
fn spec_refresh_conforms_through_an_sts_outage_and_sdk_profile_does_not() {
    let runs = runs(OUTAGE);
    for r in &runs {
        assert!(r.met(), "{}: {:#?}", r.name, r.checks);
    }
    let (spec, sdk) = (&runs[0], &runs[1]);
    for rule in Rule::ALL {
        assert_eq!(verdict(spec, rule), Verdict::Pass, "spec-refresh {rule}");
    }
    assert_eq!(verdict(sdk, Rule::SingleFlight), Verdict::Pass);
    // The figures behind the verdicts, in the JSON.
    let json = serde_json::to_value(&spec.metrics).unwrap();
    let rules = json["conformance"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 6);
    let backoff = &rules[3];
    assert_eq!(backoff["rule"], "outage-backoff");
    assert_eq!(backoff["verdict"], "pass");
    assert!(backoff["figures"]["gap_min_seconds"].as_f64().unwrap() >= 298.0);
    let stability = serde_json::to_value(&sdk.metrics).unwrap()["conformance"]["rules"][2].clone();
    assert_eq!(stability["verdict"], "fail");
    assert!(
        stability["figures"]["credential_load_failures"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    assert!(stability["reason"].as_str().unwrap().ends_with('.'));
}

#[test]
fn a_stated_rule_that_does_not_hold_departs() {
    // spec-refresh does not violate static stability: the expectation departs.
    let text = OUTAGE.replace(
        r#"conforms = ["advisory-window", "mandatory-window", "static-stability", "outage-backoff", "single-flight", "invalidate-on-auth-failure"]"#,
        r#"violates = ["static-stability"]"#,
    );
    let runs = runs(&text);
    assert!(!runs[0].met());
    let failed: Vec<_> = runs[0].checks.iter().filter(|c| !c.ok).collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].what, "violates");
    assert!(
        failed[0].actual.starts_with("static-stability pass"),
        "{failed:#?}"
    );
}

#[test]
fn runs_that_state_no_rule_report_no_conformance() {
    let text = OUTAGE
        .replace(
            r#"expect = { conforms = ["advisory-window", "mandatory-window", "static-stability", "outage-backoff", "single-flight", "invalidate-on-auth-failure"] }"#,
            r#"expect = { fails_with = "ExpiredToken" }"#,
        )
        .replace(
            r#"expect = { violates = ["advisory-window", "mandatory-window", "static-stability", "outage-backoff"] }"#,
            r#"expect = { fails_with = "credentials-not-loaded" }"#,
        );
    for r in runs(&text) {
        assert!(r.met(), "{}: {:#?}", r.name, r.checks);
        assert!(r.metrics.conformance.is_none());
        let json = serde_json::to_string(&r.metrics).unwrap();
        assert!(!json.contains("conformance"), "{json}");
    }
}

fn parse_error(expect: &str) -> String {
    let text = format!(
        "name = \"x\"\n[workload]\nlength = \"1h\"\nevery = \"10s\"\noperations = [\"PutObject\"]\n\n[[run]]\nstrategy = \"spec-refresh\"\nexpect = {expect}\n"
    );
    match Scenario::parse(&text, Path::new("bad.toml")) {
        Err(e @ ScenarioError::Invalid { .. }) => e.to_string(),
        other => panic!("{expect}: {other:?}"),
    }
}

#[test]
fn bad_rule_names_are_errors_naming_file_line_and_key() {
    let e = parse_error(r#"{ conforms = ["advisory-windows"] }"#);
    assert!(e.starts_with("bad.toml:9:"), "{e}");
    assert!(
        e.contains(
            "expect.conforms: unknown conformance rule `advisory-windows`; one of advisory-window, "
        ),
        "{e}"
    );
    let e = parse_error(r#"{ passes = true, violates = ["single-flight", "single-flight"] }"#);
    assert!(
        e.contains("expect.violates: `single-flight` is listed twice"),
        "{e}"
    );
    let e = parse_error(r#"{ conforms = ["single-flight"], violates = ["single-flight"] }"#);
    assert!(e.contains("in both `conforms` and `violates`"), "{e}");
    let e = parse_error(r#"{ conforms = "single-flight" }"#);
    assert!(e.starts_with("bad.toml:9:"), "{e}");
}

/// Every scenario of the conformance pack meets its expectations: spec-refresh (and
/// spec-refresh-imds) conform to each rule it exercises, sdk-profile (sdk-imds) violates the
/// ones stated.
#[test]
fn the_pack_scenarios_meet_their_expectations() {
    let dir = crate::common::catalog_dir().join("conformance");
    let files = sts_harness::scenario::discover(&[dir]).unwrap();
    assert!(files.len() >= 8, "{files:?}");
    let scenarios: Vec<Scenario> = files.iter().map(|f| Scenario::load(f).unwrap()).collect();
    let reports: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = scenarios
            .iter()
            .map(|s| scope.spawn(move || run(s, None)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for report in &reports {
        for r in &report.runs {
            assert!(r.met(), "{} / {}: {:#?}", report.file, r.name, r.checks);
            if r.strategy.starts_with("spec-refresh") {
                let c = r.metrics.conformance.as_ref().unwrap();
                for rule in &c.rules {
                    assert_ne!(rule.verdict, Verdict::Fail, "{}: {rule:?}", report.file);
                }
            }
        }
    }
}

/// `sts-harness conformance`'s pack, in process: spec-refresh passes every rule (none fails,
/// each is tested somewhere); sdk-profile (aws-sdk-rust 1.x: no advisory window, no static
/// stability, no invalidation) fails those, passes single flight, and cannot have the 15-minute
/// and 6-hour sessions.
#[test]
fn the_pack_passes_spec_refresh_and_fails_sdk_profile_where_it_should() {
    use sts_harness::conformance::pack::{self, Subject};
    use sts_harness::process::ProcessOptions;
    use sts_harness::scenario::StrategyKind;

    let scenarios = pack::load(&crate::common::catalog_dir().join("conformance")).unwrap();
    let options = ProcessOptions::default();
    let spec = pack::run(
        &Subject::InProcess(StrategyKind::SpecRefresh),
        &scenarios,
        &options,
    );
    for row in &spec.rules {
        assert_eq!(row.verdict, Verdict::Pass, "{row:#?}");
    }
    assert!(spec.conforms());
    assert_eq!(spec.report.summary.departed, 0, "{}", pack::render(&spec));
    let sdk = pack::run(
        &Subject::InProcess(StrategyKind::SdkProfile),
        &scenarios,
        &options,
    );
    let table = pack::render(&sdk);
    for rule in [
        Rule::AdvisoryWindow,
        Rule::MandatoryWindow,
        Rule::StaticStability,
        Rule::OutageBackoff,
        Rule::InvalidateOnAuthFailure,
    ] {
        assert_eq!(sdk.row(rule).unwrap().verdict, Verdict::Fail, "{table}");
    }
    assert_eq!(sdk.row(Rule::SingleFlight).unwrap().verdict, Verdict::Pass);
    assert!(!sdk.conforms());
    let cannot: Vec<_> = sdk
        .scenarios
        .iter()
        .filter(|c| c.cannot_run.is_some())
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(cannot, ["lifetime-15m", "lifetime-6h"], "{table}");
    assert!(table.contains("static-stability FAIL: sts-"), "{table}");
    // The JSON names every rule and cell.
    let json = serde_json::to_value(&sdk).unwrap();
    assert_eq!(json["rules"].as_array().unwrap().len(), 6);
    assert_eq!(json["rules"][0]["rule"], "advisory-window");
    assert_eq!(json["rules"][0]["verdict"], "fail");
}

#[test]
fn the_conformance_command_exits_2_on_bad_flags_and_writes_junit() {
    let bin = env!("CARGO_BIN_EXE_sts-harness");
    let root = crate::common::catalog_dir().join("..");
    let out = std::process::Command::new(bin)
        .args(["conformance", "--strategy", "boto4"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown strategy `boto4`"));
    let out = std::process::Command::new(bin)
        .args(["conformance"])
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = std::env::temp_dir().join(format!("conformance-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junit = dir.join("pack.xml");
    let out = std::process::Command::new(bin)
        .args(["conformance", "--strategy", "spec-refresh", "--junit"])
        .arg(&junit)
        .current_dir(&root)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("advisory-window             pass"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("spec-refresh::advisory-window"), "{xml}");
    assert!(xml.contains("<skipped"), "{xml}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Two pack scenarios against boto3 (botocore 1.44.8, legacy refresh) through the real
/// program at ×360: 15-minute keys sit in botocore's 15-minute advisory window from the start
/// (a refresh on every call, against the rules' 5 minutes), and through an STS outage it asks on
/// every call, then raises in its 10-minute mandatory window and the program exits.
#[test]
fn the_pack_fails_botocore_legacy_where_it_should() {
    use sts_harness::conformance::pack::{self, Subject};

    let Some(options) = crate::common::external_options() else {
        return;
    };
    let dir = crate::common::catalog_dir().join("conformance");
    let scenarios: Vec<Scenario> = ["lifetime-15m", "sts-outage-across-the-mandatory-window"]
        .iter()
        .map(|f| Scenario::load(&dir.join(format!("{f}.toml"))).unwrap())
        .collect();
    let clients = crate::common::catalog_dir().join("clients");
    let boto3 = Subject::named("boto3", &clients).unwrap();
    let result = pack::run(&boto3, &scenarios, &options);
    let table = pack::render(&result);
    let cell = |rule: Rule, column: usize| result.row(rule).unwrap().cells[column].verdict;
    assert_eq!(
        cell(Rule::AdvisoryWindow, 0),
        Some(Verdict::Fail),
        "{table}"
    );
    assert_eq!(
        cell(Rule::StaticStability, 1),
        Some(Verdict::Fail),
        "{table}"
    );
    assert_eq!(cell(Rule::OutageBackoff, 1), Some(Verdict::Fail), "{table}");
    assert_eq!(cell(Rule::SingleFlight, 0), Some(Verdict::Pass), "{table}");
    assert_eq!(result.clock, "scaled:360");
}
