//! The release `mock-sts` binary under a long load, and its resident memory as the requests
//! add up (`VmRSS`, every 10 s): signed `AssumeRole` requests from 32 tasks over loopback
//! (`benches::loader`), for SECONDS in all. Extra arguments go to `mock-sts serve`.
//!
//! ```text
//! cargo build --release -p mock-sts
//! MOCK_STS_BIN=target/release/mock-sts cargo run --release -p benches --bin soak -- 120
//! MOCK_STS_BIN=target/release/mock-sts cargo run --release -p benches --bin soak -- 120 --events-retain all
//! ```
//!
//! (`MOCK_STS_BIN`: `servers::mock_sts_binary` finds the binary from a bench's own place in
//! `target/release/deps/`, and this one runs from `target/release/`.)

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use benches::signing::{self, Keys};
use benches::{loader, servers};
use mock_sts::clock::SimClock;

const WINDOW: Duration = Duration::from_secs(10);
const CONCURRENCY: usize = 32;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(seconds) = args.first().and_then(|s| s.parse::<u64>().ok()) else {
        eprintln!("usage: soak SECONDS [mock-sts serve flags…]");
        return ExitCode::from(2);
    };
    let flags: Vec<&str> = args[1..].iter().map(String::as_str).collect();
    let result = servers::mock_sts_binary()
        .and_then(|binary| servers::start_mock_sts_with(&binary, &flags))
        .and_then(|server| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            Ok((server, runtime))
        });
    let (server, runtime) = match result {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host = server.addr.to_string();
    let now = SimClock::wall().now();
    let pool: Arc<Vec<_>> = Arc::new(
        (0..256)
            .map(|_| signing::assume_role(&host, signing::ROLE_ARN, &Keys::user(), now))
            .collect(),
    );
    let client = loader::client(CONCURRENCY);
    let rss = || server.resident_kib().map_or(0.0, |kib| kib as f64 / 1024.0);
    println!(
        "mock-sts serve {}: {:.1} MiB resident at start",
        flags.join(" "),
        rss()
    );
    let (mut requests, mut errors) = (0u64, 0u64);
    for _ in 0..seconds.div_ceil(WINDOW.as_secs()) {
        let m = runtime.block_on(loader::run(
            &client,
            server.addr,
            pool.clone(),
            CONCURRENCY,
            WINDOW,
            u64::MAX,
        ));
        requests += m.requests;
        errors += m.errors;
        println!(
            "{requests:>10} requests ({errors} errors), {:>7.0} req/s: {:.1} MiB resident",
            m.per_second(),
            rss()
        );
    }
    ExitCode::SUCCESS
}
