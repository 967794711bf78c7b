//! Replay speed of the seed scenarios on the virtual clock (a bench binary that prints figures).
//!
//! ```text
//! cargo bench -p sts-harness --bench replay
//! ```
//!
//! Runs scenarios 01-04 (the seed's cases: 4-5 h jobs, one request every 10 s, 6 runs in all)
//! as `sts-harness run` does — each scenario's runs in parallel threads — several times, and
//! prints the wall time per round and the simulated hours per wall second.

use mock_sts::clock::Stopwatch;
use sts_harness::runner;
use sts_harness::scenario::Scenario;
use sts_lab_test_support::seeds;

fn main() {
    let scenarios: Vec<Scenario> = seeds::seed_files()
        .iter()
        .map(|f| Scenario::load(f).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let simulated_hours: f64 = scenarios
        .iter()
        .map(|s| s.workload.length.as_secs_f64() / 3600.0 * s.runs.len() as f64)
        .sum();
    let rounds = 7;
    let mut times = Vec::new();
    let mut requests = 0;
    for round in 0..rounds {
        let stopwatch = Stopwatch::start();
        let mut seen = 0;
        for s in &scenarios {
            for r in runner::run_scenario(s, None, None, None) {
                seen += r.events.len();
            }
        }
        let wall = stopwatch.elapsed().as_secs_f64();
        if round > 0 {
            // Round 0 warms caches and the allocator.
            times.push(wall);
        }
        requests = seen;
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "seed scenarios 01-04: {} runs, {:.0} simulated hours, {} requests per round",
        scenarios.iter().map(|s| s.runs.len()).sum::<usize>(),
        simulated_hours,
        requests
    );
    println!(
        "wall per round: min {:.3} s, median {:.3} s, max {:.3} s ({} rounds after 1 warm-up)",
        times[0],
        median,
        times[times.len() - 1],
        times.len()
    );
    println!(
        "{:.0} simulated hours per wall second, {:.0} requests per wall second (median)",
        simulated_hours / median,
        requests as f64 / median
    );
}
