//! `compare`: the fault-tolerance table computed for real (the in-process half on the virtual
//! clock, a boto3 cell through the real program), its shards, and its flags.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sts_harness::compare::{self, Outcome, Plan, Table};
use sts_harness::process::ProcessOptions;

use crate::common::{self, catalog_dir, harness};

const IN_PROCESS: [&str; 4] = ["sdk-profile", "spec-refresh", "naive-refresh", "manual-env"];

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_string()).collect()
}

fn clients() -> PathBuf {
    catalog_dir().join("clients")
}

fn table(conditions: &[&str], strategies: &[&str], options: &ProcessOptions) -> Table {
    let plan = Plan::new(
        &strings(conditions),
        &strings(strategies),
        None,
        &clients(),
        options,
    )
    .unwrap();
    compare::run(&plan, options, |_| {})
}

/// The first failure's code and time of a measured cell (`None`: it did not fail).
fn first_failure(t: &Table, condition: &str, strategy: &str) -> Option<(String, f64)> {
    let cell = t.cell(condition, strategy).unwrap();
    let m = cell
        .measured()
        .unwrap_or_else(|| panic!("{condition} / {strategy}: {:?}", cell.outcome));
    m.first_failure
        .as_ref()
        .map(|f| (f.code.clone(), f.at_seconds))
}

#[test]
fn the_in_process_table_shows_what_the_catalog_shows() {
    let _cpu = common::exclusive();
    let t = table(&[], &IN_PROCESS, &ProcessOptions::default());
    let text = compare::terminal(&t);
    assert_eq!(t.cells.len(), 6 * 4, "{text}");
    assert_eq!(t.summary.did_not_run, 0, "{text}");

    // Healthy: the SDK's provider renews before the expiry and nothing fails.
    let healthy = t
        .cell("healthy", "sdk-profile")
        .unwrap()
        .measured()
        .unwrap();
    assert_eq!(healthy.failures, 0, "{text}");
    // One session at start-up, one renewal before 1 h, and one before 2 h when the drifting
    // rounds reach it before the job ends.
    assert!((2..=3).contains(&healthy.sts_calls), "{text}");
    // The cache renews on the first call inside its 5-10 s buffer, or, when the 9-11 s rounds
    // step over the buffer, on the first call after the expiry (before signing it): never more
    // than one round late.
    let lead = healthy.refresh_lead_min_seconds.unwrap();
    assert!((-11.0..=10.0).contains(&lead), "lead {lead}: {text}");

    // Keys kept from start-up die at the expiry whatever the condition (within one round of
    // 8 s in flight under the latency row).
    for c in &t.conditions {
        let cell = t.cell(c.name, "manual-env").unwrap();
        if c.name == "imds-down" {
            assert!(
                matches!(&cell.outcome, Outcome::NotApplicable { reason } if reason.contains("instance-metadata")),
                "{text}"
            );
            continue;
        }
        let (code, at) = first_failure(&t, c.name, "manual-env").unwrap();
        assert_eq!(code, "ExpiredToken", "{}: {text}", c.name);
        assert!(
            (3600.0..=3630.0).contains(&at),
            "{}: at {at}: {text}",
            c.name
        );
    }

    // STS throttled through the SDK's last-seconds refresh: calls fail in the client.
    let (code, at) = first_failure(&t, "sts-throttled", "sdk-profile").unwrap();
    assert_eq!(code, "credentials-not-loaded", "{text}");
    assert!((3590.0..=3630.0).contains(&at), "at {at}: {text}");
    let throttled = t.cell("sts-throttled", "sdk-profile").unwrap();
    assert_eq!(
        throttled
            .measured()
            .unwrap()
            .first_failure
            .as_ref()
            .unwrap()
            .side,
        sts_harness::metrics::Side::Client
    );

    // A clock 10 minutes behind: the cache keeps keys 10 minutes past their expiry.
    let (code, _) = first_failure(&t, "clock-behind-10m", "sdk-profile").unwrap();
    assert_eq!(code, "ExpiredToken", "{text}");

    // Instance metadata down: the SDK's IMDS provider falls back to what it has.
    let imds = t
        .cell("imds-down", "sdk-profile")
        .unwrap()
        .measured()
        .unwrap();
    assert_eq!(imds.run, "sdk-imds");
    assert_eq!(imds.failures, 0, "{text}");

    // The reference strategy refreshes 15 minutes early (the advisory window of a one-hour
    // credential): outages and throttling from 50 or 55 minutes on, 8 s in flight and a clock
    // 10 minutes behind all miss it.
    for c in [
        "healthy",
        "sts-throttled",
        "sts-down",
        "s3-latency-8s",
        "clock-behind-10m",
    ] {
        let m = t.cell(c, "spec-refresh").unwrap().measured().unwrap();
        assert_eq!(m.failures, 0, "{c}: {text}");
        let lead = m.refresh_lead_min_seconds.unwrap();
        assert!(lead >= 240.0, "{c}: lead {lead}: {text}");
    }
    let imds = t
        .cell("imds-down", "spec-refresh")
        .unwrap()
        .measured()
        .unwrap();
    assert_eq!(imds.run, "spec-refresh-imds");
    assert_eq!(imds.failures, 0, "{text}");

    // The Markdown has a line per condition and a cell per strategy.
    let md = compare::markdown(&t);
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| ")).count(),
        1 + 6,
        "{md}"
    );
    assert!(md.contains("| healthy | 0 fail · "), "{md}");
}

/// (condition, strategy, index) of every cell of a `--json` file.
fn cells_of(json: &Path) -> Vec<(String, String, u64)> {
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    t["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["condition"].as_str().unwrap().to_string(),
                c["strategy"].as_str().unwrap().to_string(),
                c["index"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn partitions_one_and_two_of_two_cover_every_cell_once() {
    let _cpu = common::exclusive();
    let dir = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for shard in ["1/2", "2/2"] {
        let json = dir.path().join(format!("{}.json", shard.replace('/', "-")));
        let json_arg = json.display().to_string();
        let (code, stdout, stderr) = harness(&[
            "compare",
            "--condition",
            "healthy",
            "--condition",
            "imds-down",
            "--strategy",
            "sdk-profile",
            "--strategy",
            "naive-refresh",
            "--strategy",
            "manual-env",
            "--partition",
            shard,
            "--json",
            &json_arg,
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert!(
            stderr.contains(&format!("partition {shard}: 3 cell(s)")),
            "{stderr}"
        );
        assert!(stdout.contains(&format!("partition {shard}")), "{stdout}");
        all.extend(cells_of(&json));
    }
    let indices: Vec<u64> = {
        let mut v: Vec<u64> = all.iter().map(|c| c.2).collect();
        v.sort_unstable();
        v
    };
    assert_eq!(indices, (0..6).collect::<Vec<_>>(), "{all:?}");
    let pairs: BTreeSet<(String, String)> =
        all.iter().map(|(c, s, _)| (c.clone(), s.clone())).collect();
    let want: BTreeSet<(String, String)> = ["healthy", "imds-down"]
        .iter()
        .flat_map(|c| {
            ["sdk-profile", "naive-refresh", "manual-env"]
                .iter()
                .map(|s| ((*c).to_string(), (*s).to_string()))
        })
        .collect();
    assert_eq!(pairs, want);
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--condition", "sunny"],
            "--condition: unknown condition `sunny`",
        ),
        (
            &["--strategy", "boto4"],
            "--strategy: unknown strategy `boto4`",
        ),
        (&["--partition", "3/2"], "--partition: `3/2`"),
        (&["--partition", "x"], "--partition: `x` is not K/N"),
        (
            &["--strategy", "boto3", "--clients", "/nonexistent/clients"],
            "--clients: `/nonexistent/clients` is not a folder",
        ),
        (&["--json", "-", "--markdown", "-"], "only one of them"),
    ];
    for (flags, want) in cases {
        let args: Vec<&str> = std::iter::once("compare")
            .chain(flags.iter().copied())
            .collect();
        let (code, stdout, stderr) = harness(&args);
        assert_eq!(code, 2, "{flags:?}: {stdout}{stderr}");
        assert!(stderr.contains(want), "{flags:?}: {stderr}");
        assert!(stdout.is_empty(), "{flags:?}: {stdout}");
    }
    // A program's client named explicitly but missing from the clients folder.
    let dir = tempfile::tempdir().unwrap();
    let clients = dir.path().display().to_string();
    let (code, _, stderr) = harness(&["compare", "--strategy", "js-v3", "--clients", &clients]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--strategy: `js-v3` runs") && stderr.contains("default-chain.mjs"),
        "{stderr}"
    );
}

#[test]
fn a_program_that_never_reaches_the_server_did_not_run_and_exits_1() {
    let Some(_) = common::faketime_options() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config_provider.py"),
        "import sys\nprint('no SDK here', file=sys.stderr)\nsys.exit(3)\n",
    )
    .unwrap();
    let clients = dir.path().display().to_string();
    let (code, stdout, stderr) = harness(&[
        "compare",
        "--strategy",
        "boto3",
        "--condition",
        "healthy",
        "--clients",
        &clients,
    ]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("did not run"), "{stdout}");
    assert!(
        stdout.contains("exit 3 before its first request") && stdout.contains("no SDK here"),
        "{stdout}"
    );
}

#[test]
fn boto3_rides_out_the_sts_outage_through_the_real_program() {
    let Some(options) = common::external_options() else {
        return;
    };
    let _cpu = common::exclusive();
    let t = table(&["sts-down"], &["boto3"], &options);
    let cell = t.cell("sts-down", "boto3").unwrap();
    let m = cell
        .measured()
        .unwrap_or_else(|| panic!("{:?}", cell.outcome));
    let text = compare::terminal(&t);
    assert_eq!(m.clock, "scaled:360");
    assert_eq!(
        m.exit,
        Some(sts_harness::process::Exit::Code { code: 0 }),
        "{text}"
    );
    // botocore renews about 15 minutes early, before the outage starts.
    assert_eq!(m.failures, 0, "{text}");
    assert!(m.refresh_lead_min_seconds.unwrap() >= 14.0 * 60.0, "{text}");
    assert!((2..=4).contains(&m.sts_calls), "{text}");
    assert!(m.run.contains("config_provider.py (profile assume-role)"));
}
