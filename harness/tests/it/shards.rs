//! `run --partition k/n`: shards of one catalog run every run exactly once, each with the
//! same result as an unsharded run, and bad shards are refused naming the flag.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::harness;

/// Three small scenarios of two or three runs each, in `dir`: virtual and deterministic.
fn catalog_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for (i, length) in ["2h", "90m", "3h"].into_iter().enumerate() {
        let mut text = format!(
            "name = \"small {i}\"\nseed = {i}\n[workload]\nlength = \"{length}\"\nevery = \"60s\"\noperations = [\"GetCallerIdentity\"]\n"
        );
        text.push_str("[[run]]\nstrategy = \"sdk-profile\"\nexpect = { passes = true }\n");
        text.push_str("[[run]]\nstrategy = \"manual-env\"\nexpect = { fails_with = \"ExpiredToken\", at = \"1h\", within = \"1m\" }\n");
        if i == 1 {
            text.push_str("[[run]]\nname = \"keys-14400\"\nstrategy = \"manual-env\"\nduration_seconds = 14400\nexpect = { passes = true }\n");
        }
        let file = dir.join(format!("{i}.toml"));
        std::fs::write(&file, text).unwrap();
        files.push(file.display().to_string());
    }
    files
}

/// (scenario, run) → the run's metrics, from a JSON report.
fn runs_of(json: &PathBuf) -> BTreeMap<(String, String), serde_json::Value> {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let mut runs = BTreeMap::new();
    for s in report["scenarios"].as_array().unwrap() {
        for r in s["runs"].as_array().unwrap() {
            let key = (
                s["name"].as_str().unwrap().to_string(),
                r["name"].as_str().unwrap().to_string(),
            );
            let mut metrics = r["metrics"].clone();
            // Wall-clock figures differ between any two runs.
            metrics["refresh_latency_wall_ms"] = serde_json::Value::Null;
            assert!(
                runs.insert(key, metrics).is_none(),
                "a run twice in one shard"
            );
        }
    }
    runs
}

#[test]
fn shards_together_run_every_run_exactly_once_with_the_same_results() {
    let dir = std::env::temp_dir().join(format!("sts-harness-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files = catalog_files(&dir);
    let run = |extra: &[&str], json: &PathBuf| {
        let mut args = vec!["run".to_string()];
        args.extend(files.iter().cloned());
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["--json".to_string(), json.display().to_string()]);
        let (code, stdout, stderr) = harness(&args);
        assert_eq!(code, 0, "{stdout}{stderr}");
        (stdout, stderr)
    };
    let all = dir.join("all.json");
    run(&[], &all);
    let all = runs_of(&all);

    let mut seen = BTreeMap::new();
    for k in 1..=3 {
        let json = dir.join(format!("shard-{k}.json"));
        let junit = dir.join(format!("shard-{k}.xml"));
        let partition = format!("{k}/3");
        let (_, stderr) = run(
            &[
                "--partition",
                &partition,
                "--junit",
                junit.to_str().unwrap(),
            ],
            &json,
        );
        assert!(stderr.contains(&format!("partition {k}/3: ")), "{stderr}");
        let shard = runs_of(&json);
        assert!(!shard.is_empty(), "shard {k} ran nothing");
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert_eq!(
            xml.matches("<testcase ").count(),
            shard.len(),
            "each shard's JUnit holds its own runs"
        );
        for (key, metrics) in shard {
            assert_eq!(
                Some(&metrics),
                all.get(&key),
                "{key:?} differs from the unsharded run"
            );
            assert!(
                seen.insert(key.clone(), k).is_none(),
                "{key:?} in two shards"
            );
        }
    }
    let every: Vec<_> = all.keys().collect();
    let sharded: Vec<_> = seen.keys().collect();
    assert_eq!(every, sharded, "the shards together miss a run");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_partitions_exit_2_naming_the_flag() {
    let dir = std::env::temp_dir().join(format!("sts-harness-bad-shards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = catalog_files(&dir).remove(0);
    for (value, want) in [
        ("0/2", "between 1 and 2"),
        ("3/2", "between 1 and 2"),
        ("1/0", "at least 1"),
        ("half", "is not K/N"),
    ] {
        let args = ["run", &file, "--partition", value].map(String::from);
        let (code, stdout, stderr) = harness(&args);
        assert_eq!(code, 2, "{value}: {stdout}{stderr}");
        assert!(
            stderr.contains("--partition") && stderr.contains(want),
            "{value}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
