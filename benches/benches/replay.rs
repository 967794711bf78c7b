//! Virtual replay of the seed scenarios, per scenario, with criterion: how long the real
//! aws-sdk-rust takes to live through hours of a job against the mock on a paused clock.
//!
//! ```text
//! cargo bench -p benches --bench replay
//! ```
//!
//! Each sample replays one scenario file's runs as `sts-harness run` does (its runs in
//! parallel threads, each on its own paused runtime). `cargo bench -p sts-harness --bench
//! replay` prints the figure for the four files together.

use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sts_harness::runner;
use sts_harness::scenario::Scenario;
use sts_lab_test_support::seeds::{self, SEED_FILES};

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("replay");
    // A replay takes a fifth of a second: ten samples, one replay each.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(12));
    for file in SEED_FILES {
        let scenario = match Scenario::load(&seeds::catalog_dir().join(file)) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        // Throughput in requests the server saw per replay.
        let requests: usize = runner::run_scenario(&scenario, None, None, None)
            .iter()
            .map(|r| r.events.len())
            .sum();
        group.throughput(Throughput::Elements(requests as u64));
        let name = file.trim_end_matches(".toml");
        group.bench_function(name, |b| {
            b.iter(|| runner::run_scenario(&scenario, None, None, None).len());
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
