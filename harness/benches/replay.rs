//! Replay speed of the seed scenarios on the virtual clock, in process and as a user runs it,
//! and the time and memory of a long busy replay; each checked against the headline figure
//! README.md / BENCHMARKS.md quote for it (`sts_lab_test_support::headline`).
//!
//! ```text
//! cargo bench -p sts-harness --bench replay
//! STS_LAB_HEADLINE_CHECK=warn cargo bench -p sts-harness --bench replay   # loaded machine
//! ```
//!
//! 1. In process: scenarios 01-04 (the seed's cases: 4-5 h jobs, one round every 10 s, 6 runs)
//!    as `sts-harness run` runs them — each scenario's runs in parallel threads, keeping what
//!    the metrics need — 7 rounds after one warm-up (`seed-replay-in-process`).
//! 2. Whole process: `sts-harness run` on the same files (this bench's own build of the
//!    binary), 7 runs after one warm-up: start-up, scenario loading and the report included
//!    (`seed-replay-process`).
//! 3. `benches/scenarios/16-workers-3h.toml` (2 runs of 16 workers, one call a second each for
//!    3 simulated hours: 345 600 requests), once, under `/usr/bin/time` for its peak resident
//!    memory (`workers16-3h-wall`, `workers16-3h-peak`). `REPLAY_BENCH_SKIP_LONG=1` skips it.
//!
//! Each figure is printed with the machine's load average (`/proc/loadavg`) at its start: on a
//! shared machine it says how much the figure is worth.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use mock_sts::clock::Stopwatch;
use sts_harness::process::ProcessOptions;
use sts_harness::runner::{self, Keep};
use sts_harness::scenario::Scenario;
use sts_lab_test_support::{headline, seeds};

const ROUNDS: usize = 7;

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// min, median, max of `times` (sorted here).
fn summary(mut times: Vec<f64>) -> (f64, f64, f64) {
    times.sort_by(f64::total_cmp);
    (times[0], times[times.len() / 2], times[times.len() - 1])
}

fn in_process(scenarios: &[Scenario]) {
    let simulated_hours: f64 = scenarios
        .iter()
        .map(|s| s.workload.length.as_secs_f64() / 3600.0 * s.runs.len() as f64)
        .sum();
    println!("in process, load {}", load());
    let options = ProcessOptions::from_env();
    let mut times = Vec::new();
    let mut requests = 0;
    for round in 0..=ROUNDS {
        let stopwatch = Stopwatch::start();
        let mut seen = 0;
        for s in scenarios {
            for r in
                runner::run_scenario_keeping(s, None, None, None, &options, Keep::WhatMetricsNeed)
            {
                seen += r.event_count();
            }
        }
        let wall = stopwatch.elapsed().as_secs_f64();
        if round > 0 {
            // Round 0 warms caches and the allocator.
            times.push(wall);
        }
        requests = seen;
    }
    let (min, median, max) = summary(times);
    println!(
        "seed scenarios 01-04: {} runs, {:.0} simulated hours, {} requests per round",
        scenarios.iter().map(|s| s.runs.len()).sum::<usize>(),
        simulated_hours,
        requests
    );
    println!(
        "wall per round: min {min:.3} s, median {median:.3} s, max {max:.3} s ({ROUNDS} rounds after 1 warm-up)",
    );
    println!(
        "{:.0} simulated hours per wall second, {:.0} requests per wall second (median)",
        simulated_hours / median,
        requests as f64 / median
    );
    headline::check("seed-replay-in-process", median);
}

fn whole_process(binary: &Path, files: &[PathBuf]) {
    println!(
        "whole process: {} run <the 4 seed files>, load {}",
        binary.display(),
        load()
    );
    let mut times = Vec::new();
    for round in 0..=ROUNDS {
        let stopwatch = Stopwatch::start();
        let status = Command::new(binary)
            .arg("run")
            .args(files)
            .stdout(Stdio::null())
            .status()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", binary.display()));
        let wall = stopwatch.elapsed().as_secs_f64();
        // 01 and 03 have runs that fail on purpose: exit 0 means every expectation held.
        assert!(status.success(), "sts-harness run failed: {status}");
        if round > 0 {
            times.push(wall);
        }
    }
    let (min, median, max) = summary(times);
    println!(
        "wall per process: min {min:.3} s, median {median:.3} s, max {max:.3} s ({ROUNDS} runs after 1 warm-up)"
    );
    headline::check("seed-replay-process", median);
}

fn long_replay(binary: &Path) {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        println!("16 workers × 3 h: skipped, no /usr/bin/time to measure peak memory with");
        return;
    }
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../benches/scenarios/16-workers-3h.toml");
    println!("16 workers × 3 h ({}), load {}", file.display(), load());
    let out = Command::new(time)
        .args(["-f", "%e %M"])
        .arg(binary)
        .arg("run")
        .arg(&file)
        .stdout(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run /usr/bin/time: {e}"));
    assert!(
        out.status.success(),
        "sts-harness run failed: {}",
        out.status
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let (Some(wall), Some(kib)) = (
        fields.next().and_then(|f| f.parse::<f64>().ok()),
        fields.next().and_then(|f| f.parse::<f64>().ok()),
    ) else {
        panic!("cannot read /usr/bin/time's output: {stderr}");
    };
    let peak = kib / 1024.0;
    println!("wall {wall:.2} s, peak resident memory {peak:.1} MiB");
    // Issue 14's bound, whatever the headline says: a run keeps what its metrics need.
    assert!(
        peak <= 64.0,
        "16 workers × 3 h peaked at {peak:.1} MiB, over the 64 MiB a run may hold"
    );
    headline::check("workers16-3h-wall", wall);
    headline::check("workers16-3h-peak", peak);
}

fn main() {
    let files = seeds::seed_files();
    let scenarios: Vec<Scenario> = files
        .iter()
        .map(|f| Scenario::load(f).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sts-harness"));
    in_process(&scenarios);
    whole_process(&binary, &files);
    if std::env::var_os("REPLAY_BENCH_SKIP_LONG").is_none() {
        long_replay(&binary);
    }
}
