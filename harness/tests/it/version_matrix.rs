//! SDK version matrices (`versions = { … }` on a `process` run): scenario 46 over two boto3
//! releases, each in a venv the harness installs once under the target directory; scenario 47
//! over two JS v3 releases, each row's ES-module client loading its row's SDK; a version
//! that cannot be installed departs alone; an npm row finds its packages through `NODE_PATH`;
//! an interrupted install is redone.
//!
//! They need what the other boto3 tests need (faketime, the venv's Python) plus the package
//! registries (pip's, npm's) for a first install; the npm ones need `npm` and `node`. Without
//! them the tests fail saying how to get them, unless `STS_LAB_SKIP_EXTERNAL_CLIENTS=1`.

use std::path::{Path, PathBuf};

use sts_harness::environments::{self, MARKER};
use sts_harness::process::{self, ProcessOptions};
use sts_harness::report::{self, RunReport, ScenarioReport};
use sts_harness::runner;
use sts_harness::scenario::{Ecosystem, PackageSet, Pin, Scenario};

use crate::common::*;

/// A scenario of one `process` run (`run`: its other keys) with its program beside it.
fn fixture(dir: &Path, program: (&str, &str), run: &str) -> PathBuf {
    std::fs::write(dir.join(program.0), program.1).unwrap();
    let scenario = dir.join("scenario.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "matrix"
[clock]
mode = "scaled"
rate = 360
[workload]
length = "10m"
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
    scenario
}

/// Runs every run of `path`, or the rows of run `only`: the report, its table and JUnit XML.
fn run_file(
    path: &Path,
    only: Option<&str>,
    options: &ProcessOptions,
) -> (ScenarioReport, String, String) {
    let scenario = Scenario::load(path).unwrap();
    let results = runner::run_scenario_with(&scenario, only, None, None, options);
    let scenario_report = report::scenario_report(&scenario, &results);
    let whole = report::report(vec![scenario_report.clone()]);
    (
        scenario_report,
        report::table(&whole),
        report::junit(&whole).unwrap(),
    )
}

fn row<'a>(report: &'a ScenarioReport, name: &str) -> &'a RunReport {
    report
        .runs
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no row `{name}`: {:?}",
                report.runs.iter().map(|r| &r.name).collect::<Vec<_>>()
            )
        })
}

/// `npm` and `node` on the PATH, or `false` after saying so.
fn npm_ready() -> bool {
    let path = ProcessOptions::default().program_path();
    for program in ["npm", "node"] {
        if process::find_on_path(program, &path).is_none() {
            missing(&format!(
                "`{program}` is not on PATH: npm version matrices install with npm and run under node"
            ));
            return false;
        }
    }
    true
}

#[test]
fn scenario_46_runs_two_botocore_releases_side_by_side() {
    let Some(options) = external_options() else {
        return;
    };
    let _guard = exclusive();
    let path = catalog_dir().join("46-boto3-version-matrix.toml");
    // `--run boto3-profile` names the run as written: every row of its matrix.
    let (report, table, junit) = run_file(&path, Some("boto3-profile"), &options);
    eprintln!("{table}");
    assert_eq!(report.runs.len(), 2, "{table}");
    for (name, version) in [
        ("boto3-profile [boto3 1.35.99]", "1.35.99"),
        ("boto3-profile [boto3 1.44.8]", "1.44.8"),
    ] {
        let run = row(&report, name);
        assert!(run.met(), "{}", departures(&report));
        let set = run.versions.as_ref().unwrap();
        assert_eq!(set.run, "boto3-profile");
        assert_eq!(set.ecosystem, Ecosystem::Python);
        assert_eq!(set.packages[0].version, version);
        // Each row ran in its own venv, whose botocore is the one its boto3 requires.
        let env = run.process.as_ref().unwrap().environment.as_ref().unwrap();
        assert_eq!(env.installed["boto3"], version, "{env:?}");
        assert_eq!(env.installed["botocore"], version, "{env:?}");
        assert!(
            env.dir
                .ends_with(format!("sts-lab-envs/py-boto3-{version}")),
            "{env:?}"
        );
        assert!(env.dir.join(MARKER).is_file());
        eprintln!("{name}: {} ({})", env.dir.display(), env.how());
        // Both renew in botocore's 15-minute advisory window, before the outage.
        let lead = run.metrics.refresh_lead_min_seconds.unwrap();
        assert!(lead >= 14.0 * 60.0, "{name}: lead {lead} s");
        assert!(
            table.contains(&format!("  {name}: environment ")),
            "{table}"
        );
        assert!(
            run.rerun.contains(&format!("--run '{name}'")),
            "{}",
            run.rerun
        );
        assert!(
            junit.contains(&format!("<testcase name=\"{name}\"")),
            "{junit}"
        );
    }
    // The JSON records each row's versions.
    let json = serde_json::to_value(report::report(vec![report.clone()])).unwrap();
    let runs = json["scenarios"][0]["runs"].as_array().unwrap();
    assert_eq!(runs[0]["versions"]["packages"]["boto3"], "1.35.99");
    assert_eq!(runs[1]["versions"]["packages"]["boto3"], "1.44.8");
    assert_eq!(
        runs[1]["process"]["environment"]["installed"]["botocore"],
        "1.44.8"
    );
}

#[test]
fn scenario_47_runs_two_js_v3_releases_each_loading_its_own() {
    let Some(options) = faketime_options() else {
        return;
    };
    if !npm_ready() {
        return;
    }
    let _guard = exclusive();
    let path = catalog_dir().join("47-js-v3-version-matrix.toml");
    let (report, table, _) = run_file(&path, None, &options);
    eprintln!("{table}");
    assert_eq!(report.runs.len(), 2, "{table}");
    for (name, version) in [
        (
            "js-default-chain-2025 [@aws-sdk/client-s3 3.723.0]",
            "3.723.0",
        ),
        ("js-default-chain [@aws-sdk/client-s3 3.1175.0]", "3.1175.0"),
    ] {
        let run = row(&report, name);
        assert!(run.met(), "{}", departures(&report));
        let set = run.versions.as_ref().unwrap();
        assert_eq!(set.ecosystem, Ecosystem::Node);
        assert_eq!(set.packages[0].name, "@aws-sdk/client-s3");
        assert_eq!(set.packages[0].version, version);
        let process = run.process.as_ref().unwrap();
        let env = process.environment.as_ref().unwrap();
        assert_eq!(env.installed["@aws-sdk/client-s3"], version, "{env:?}");
        eprintln!("{name}: {} ({})", env.dir.display(), env.how());
        // The ES-module client loaded the row's release, not its own pinned one: it says which
        // client-s3 and which credential chain it loaded, and from where.
        let chain = env
            .installed
            .get("@aws-sdk/credential-provider-node")
            .unwrap_or_else(|| {
                panic!(
                    "{} does not record its default chain (installed by an older harness?): {env:?}",
                    env.dir.display()
                )
            });
        let loaded = format!(
            "sts-lab sdk: @aws-sdk/client-s3 {version}, @aws-sdk/credential-provider-node {chain}"
        );
        let stderr = &process.stderr.text;
        assert!(stderr.contains(&loaded), "{loaded}\n{stderr}");
        let from = format!(" from {}\n", env.dir.join("node_modules").display());
        assert!(stderr.contains(&from), "{from}\n{stderr}");
        assert!(
            table.contains(&format!("  {name}: environment ")) && table.contains(chain),
            "{table}"
        );
    }
    // The release from January 2025 hands its failed refresh to the call; the pinned one
    // refreshes in the background and keeps signing with the keys it has.
    let old = row(
        &report,
        "js-default-chain-2025 [@aws-sdk/client-s3 3.723.0]",
    );
    let failure = old.metrics.first_failure.as_ref().unwrap();
    assert_eq!(
        (failure.action.as_str(), failure.code.as_str()),
        ("AssumeRole", "ServiceUnavailable"),
        "{table}"
    );
    assert_eq!(old.metrics.refreshes, 0, "{table}");
    let pinned = row(&report, "js-default-chain [@aws-sdk/client-s3 3.1175.0]");
    assert!(pinned.metrics.first_failure.is_none(), "{table}");
    assert!(pinned.metrics.refreshes >= 1, "{table}");
}

#[test]
fn a_js_row_without_the_sts_client_fails_naming_the_package_not_loading_the_pinned_one() {
    let Some(options) = faketime_options() else {
        return;
    };
    if !npm_ready() {
        return;
    }
    let _guard = exclusive();
    let dir = tempfile::tempdir().unwrap();
    // client-s3 3.1175.0 does not bring @aws-sdk/client-sts; the pinned node_modules beside
    // the client has it, and must not be where it comes from.
    let client = catalog_dir().join("clients/js/default-chain.mjs");
    let scenario = dir.path().join("scenario.toml");
    std::fs::write(
        &scenario,
        format!(
            r#"name = "matrix"
[clock]
mode = "scaled"
rate = 360
[workload]
length = "10m"
every = "10s"
operations = ["GetCallerIdentity"]
[[run]]
name = "js"
strategy = "process"
command = ["node", "{}"]
profile = "assume-role"
versions = {{ "@aws-sdk/client-s3" = ["3.1175.0"] }}
expect = {{ passes = true }}
"#,
            client.display()
        ),
    )
    .unwrap();
    let (report, table, _) = run_file(&scenario, None, &options);
    let run = row(&report, "js [@aws-sdk/client-s3 3.1175.0]");
    assert!(!run.met(), "{table}");
    let process = run.process.as_ref().unwrap();
    assert!(
        matches!(process.exit, process::Exit::Code { code: 1 }),
        "{table}"
    );
    let stderr = &process.stderr.text;
    assert!(
        stderr.contains("sts-lab sdk: @aws-sdk/client-s3 3.1175.0,")
            && stderr.contains("@aws-sdk/client-sts is not in this row's environment"),
        "{stderr}"
    );
}

#[test]
fn a_version_that_cannot_be_installed_departs_alone_naming_the_package_and_pips_error() {
    let Some(options) = external_options() else {
        return;
    };
    let _guard = exclusive();
    let dir = tempfile::tempdir().unwrap();
    let program = "import os, sys\nimport boto3, botocore\nprint('boto3', boto3.__version__, 'botocore', botocore.__version__, 'python', sys.prefix, 'VIRTUAL_ENV', os.environ.get('VIRTUAL_ENV'))\nboto3.client('sts').get_caller_identity()\n";
    let path = fixture(
        dir.path(),
        ("versions.py", program),
        "command = [\"python3\", \"versions.py\"]\nversions = { boto3 = [\"1.44.8\", \"99.0.0\"] }\nexpect = { passes = true }",
    );
    let (report, table, _) = run_file(&path, None, &options);
    let good = row(&report, "program [boto3 1.44.8]");
    assert!(good.met(), "{table}");
    // The program's python3 is the row's venv's, found on its PATH, named by VIRTUAL_ENV.
    let env = good.process.as_ref().unwrap().environment.clone().unwrap();
    let stdout = &good.process.as_ref().unwrap().stdout.text;
    let venv = env.dir.display().to_string();
    assert!(
        stdout.contains(&format!(
            "boto3 1.44.8 botocore 1.44.8 python {venv} VIRTUAL_ENV {venv}"
        )),
        "{stdout}"
    );

    let bad = row(&report, "program [boto3 99.0.0]");
    assert!(!bad.met(), "{table}");
    assert_eq!(
        bad.startup_error.as_deref(),
        Some(
            "cannot install boto3 99.0.0 with pip: No matching distribution found for boto3==99.0.0"
        ),
        "{table}"
    );
    assert!(
        table.contains("program [boto3 99.0.0]: no environment: cannot install boto3 99.0.0 with pip: No matching distribution found for boto3==99.0.0"),
        "{table}"
    );
    // Nothing is left that a later run could take for an installed environment.
    assert!(
        !environments::root()
            .join("py-boto3-99.0.0")
            .join(MARKER)
            .exists()
    );
}

#[test]
fn an_npm_row_finds_its_package_through_node_path_and_a_missing_version_departs() {
    let Some(options) = faketime_options() else {
        return;
    };
    if !npm_ready() {
        return;
    }
    let _guard = exclusive();
    let dir = tempfile::tempdir().unwrap();
    // CommonJS `require` falls back to NODE_PATH; nothing else here has a node_modules.
    let program = "const v = require('tslib/package.json').version;\nconsole.log('tslib', v, 'NODE_PATH', process.env.NODE_PATH);\n";
    let path = fixture(
        dir.path(),
        ("versions.cjs", program),
        "command = [\"node\", \"versions.cjs\"]\nversions = { \"npm:tslib\" = [\"2.8.1\", \"0.0.1\"] }\nexpect = { passes = true, requests = 0 }",
    );
    let (report, table, _) = run_file(&path, None, &options);
    let good = row(&report, "program [tslib 2.8.1]");
    assert!(good.met(), "{table}");
    let process = good.process.as_ref().unwrap();
    let env = process.environment.as_ref().unwrap();
    assert_eq!(env.installed["tslib"], "2.8.1");
    assert!(
        process.stdout.text.contains(&format!(
            "tslib 2.8.1 NODE_PATH {}",
            env.dir.join("node_modules").display()
        )),
        "{}",
        process.stdout.text
    );
    let bad = row(&report, "program [tslib 0.0.1]");
    assert!(!bad.met(), "{table}");
    let error = bad.startup_error.as_deref().unwrap();
    assert!(
        error.starts_with("cannot install tslib 0.0.1 with npm: ")
            && error.contains("No matching version found for tslib@0.0.1"),
        "{error}"
    );
}

#[test]
fn an_interrupted_install_is_redone_and_a_finished_one_reused() {
    if !npm_ready() {
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let set = PackageSet {
        run: "program".into(),
        ecosystem: Ecosystem::Node,
        packages: vec![Pin {
            name: "tslib".into(),
            version: "2.8.1".into(),
        }],
    };
    // What an install killed half-way leaves: the folder, no marker.
    let dir = root.path().join(set.folder_name());
    std::fs::create_dir_all(dir.join("node_modules/tslib")).unwrap();
    std::fs::write(dir.join("node_modules/tslib/package.json"), "{").unwrap();
    let path = ProcessOptions::default().program_path();
    let first = environments::prepare_in(root.path(), &set, &path).unwrap();
    assert!(first.install_ms.is_some(), "{first:?}");
    assert_eq!(first.installed["tslib"], "2.8.1");
    assert!(dir.join(MARKER).is_file());
    let again = environments::prepare_in(root.path(), &set, &path).unwrap();
    assert_eq!(again.install_ms, None, "{again:?}");
    assert_eq!(again.installed, first.installed);
    // A marker written for other requirements does not count.
    std::fs::write(dir.join(MARKER), "tslib@2.8.0\ntslib==2.8.0\n").unwrap();
    let redone = environments::prepare_in(root.path(), &set, &path).unwrap();
    assert!(redone.install_ms.is_some(), "{redone:?}");
}

#[test]
fn a_bad_matrix_is_refused_before_anything_runs_naming_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "strategy = \"sdk-profile\"\nversions = { boto3 = [\"1.44.8\"] }",
            "scenario.toml:13:12: run.versions: only strategy `process` runs a program",
        ),
        (
            "strategy = \"process\"\ncommand = \"python3 x.py\"\nversions = { boto3 = [1.44] }",
            "scenario.toml:14:22: run.versions.\"boto3\": version 1 is float `1.44`, not a string",
        ),
        (
            "strategy = \"process\"\ncommand = \"python3 x.py\"\nversions = { \"gem:aws-sdk\" = [\"3.0\"] }",
            "scenario.toml:14:14: run.versions.\"gem:aws-sdk\": unknown ecosystem `gem`",
        ),
    ];
    for (run, want) in cases {
        let path = dir.path().join("scenario.toml");
        std::fs::write(
            &path,
            format!(
                "name = \"matrix\"\n[clock]\nmode = \"scaled\"\nrate = 360\n[workload]\nlength = \"10m\"\nevery = \"10s\"\noperations = [\"GetCallerIdentity\"]\n[[run]]\nname = \"program\"\nexpect = {{ passes = true }}\n{run}\n"
            ),
        )
        .unwrap();
        let (code, _, stderr) = harness(&[std::ffi::OsStr::new("check"), path.as_os_str()]);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(want), "{want}\n{stderr}");
    }
}
