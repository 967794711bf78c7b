//! Side by side with moto: the same signed requests at the same concurrency against moto's
//! server and the `mock-sts` binary, one server at a time on this machine, and the ratio.
//!
//! ```text
//! scripts/test                                  # once: creates .venv with the pinned moto[server]
//! cargo bench -p benches --bench moto
//! BENCH_WINDOW_SECS=10 BENCH_CONCURRENCY=1,8,32 cargo bench -p benches --bench moto
//! ```
//!
//! - moto: `<venv>/bin/moto_server -H 127.0.0.1 -p PORT` from the test venv (`STS_LAB_VENV`,
//!   default `.venv`; `scripts/test` pins `moto[server]==5.2.5`), with its defaults (auth off:
//!   throughput only) and its request log discarded;
//! - mock-sts: the release binary (`cargo build --release -p mock-sts`, run from here; or
//!   `MOCK_STS_BIN`), `serve` with its defaults (wall clock, every request authenticated and
//!   logged as an event);
//! - a null server (200 to everything, this binary again in a process of its own) gives the
//!   load generator's own ceiling.
//!
//! For each server, operation (S3 `PutObject` of 1 KiB to one key, `GetObject` of a 1 KiB
//! object, STS `AssumeRole`) and concurrency (default 1 and 8, as shared/measured-clients.md §2
//! measured moto): a pool of 256 requests signed once with aws-sigv4 before the window opens,
//! a 1 s warm-up, then `BENCH_WINDOW_SECS` (default 5) of N tasks on one hyper client with
//! keep-alive. Prints requests per second for each and the ratio; the target is mock-sts ≥ 30×
//! moto on each. Without moto it says so and exits 0 (1 with
//! `STS_LAB_REQUIRE_EXTERNAL_CLIENTS=1`).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use benches::loader::{self, HttpClient, Measured};
use benches::servers;
use benches::signing::{self, Keys, Signed};
use bytes::Bytes;
use mock_sts::clock::SimClock;

const POOL: usize = 256;
const TARGET_RATIO: f64 = 30.0;
const OPS: [&str; 3] = ["PutObject 1 KiB", "GetObject 1 KiB", "AssumeRole"];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

fn concurrency_levels() -> Vec<usize> {
    let text = std::env::var("BENCH_CONCURRENCY").unwrap_or_else(|_| "1,8,32".to_owned());
    let levels: Vec<usize> = text
        .split(',')
        .filter_map(|l| l.trim().parse().ok())
        .filter(|l| (1..=256).contains(l))
        .collect();
    if levels.is_empty() {
        vec![1, 8]
    } else {
        levels
    }
}

/// The requests for one operation against `host`, signed now.
fn pool(op: &str, host: &str) -> Vec<Signed> {
    let user = Keys::user();
    let now = SimClock::wall().now();
    let object = Bytes::from(vec![b'x'; 1024]);
    (0..POOL)
        .map(|_| match op {
            "PutObject 1 KiB" => {
                signing::put_object(host, "bench", "put-me", object.clone(), &user, now)
            }
            "GetObject 1 KiB" => signing::get_object(host, "bench", "get-me", &user, now),
            _ => signing::assume_role(host, signing::ROLE_ARN, &user, now),
        })
        .collect()
}

/// Creates the bucket and the object `GetObject` reads.
async fn prepare(client: &HttpClient, host: &str) -> Result<(), String> {
    let user = Keys::user();
    let now = SimClock::wall().now();
    let object = Bytes::from(vec![b'x'; 1024]);
    for request in [
        signing::create_bucket(host, "bench", &user, now),
        signing::put_object(host, "bench", "get-me", object, &user, now),
    ] {
        match loader::send(client, host, &request).await? {
            (200, _) => {}
            (status, body) => {
                return Err(format!(
                    "set-up {} {}: {status} {}",
                    request.method,
                    request.target,
                    String::from_utf8_lossy(&body)
                ));
            }
        }
    }
    Ok(())
}

/// Measures every operation at every level against the server at `addr`.
fn measure(
    runtime: &tokio::runtime::Runtime,
    name: &str,
    addr: SocketAddr,
    levels: &[usize],
    window: Duration,
) -> Result<Vec<(String, usize, Measured)>, String> {
    let client = loader::client(levels.iter().copied().max().unwrap_or(1));
    let host = addr.to_string();
    runtime.block_on(prepare(&client, &host))?;
    let mut out = Vec::new();
    for op in OPS {
        let requests = Arc::new(pool(op, &host));
        for &concurrency in levels {
            // Warm-up: connections open, caches warm; not counted.
            runtime.block_on(loader::run(
                &client,
                addr,
                requests.clone(),
                concurrency,
                Duration::from_secs(1),
                u64::MAX,
            ));
            let m = runtime.block_on(loader::run(
                &client,
                addr,
                requests.clone(),
                concurrency,
                window,
                u64::MAX,
            ));
            eprintln!(
                "  {name:<8} {op:<16} c={concurrency:<3} {:>9.0} req/s  p50 {:>7.0} µs  p99 {:>7.0} µs  ({} requests, {} errors)",
                m.per_second(),
                m.p50_us,
                m.p99_us,
                m.requests,
                m.errors
            );
            if let Some(e) = &m.first_error {
                eprintln!(
                    "           first error: {}",
                    e.chars().take(300).collect::<String>()
                );
            }
            out.push((op.to_owned(), concurrency, m));
        }
    }
    Ok(out)
}

/// Measures a server process, and reports its resident memory at the end.
fn measure_child(
    runtime: &tokio::runtime::Runtime,
    child: &servers::Child,
    levels: &[usize],
    window: Duration,
) -> Result<Vec<(String, usize, Measured)>, String> {
    let figures = measure(runtime, &child.name, child.addr, levels, window)?;
    let requests: u64 = figures.iter().map(|(_, _, m)| m.requests).sum();
    if let Some(kib) = child.resident_kib() {
        eprintln!(
            "  {}: resident memory {:.0} MiB after {requests} measured requests (and the warm-ups)",
            child.name,
            kib as f64 / 1024.0
        );
    }
    Ok(figures)
}

fn main() -> ExitCode {
    if servers::serve_null_if_asked() {
        return ExitCode::SUCCESS;
    }
    // `cargo bench` passes `--bench`; this binary takes no arguments.
    let require = sts_lab_test_support::external::required();
    let Some(moto) = servers::moto_server() else {
        println!(
            "moto comparison skipped: no moto_server in {} (run scripts/test once, or set STS_LAB_VENV)",
            servers::venv().display()
        );
        return if require {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    };
    let levels = concurrency_levels();
    let window = Duration::from_secs(env_number("BENCH_WINDOW_SECS", 5).clamp(1, 120));
    let runtime = match (if env_number("BENCH_LOADER_THREADS", 2) <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(env_number("BENCH_LOADER_THREADS", 2) as usize);
        b
    })
    .enable_all()
    .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let binary = match servers::mock_sts_binary() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: mock-sts binary: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "moto vs mock-sts: {window:?} per measurement, concurrency {levels:?}, pools of {POOL} signed requests"
    );

    // One server at a time, each alone with the loader on the machine.
    let null = servers::start_null()
        .map_err(|e| e.to_string())
        .and_then(|child| measure_child(&runtime, &child, &levels, window));
    let moto_figures = servers::start_moto(&moto)
        .map_err(|e| e.to_string())
        .and_then(|child| measure_child(&runtime, &child, &levels, window));
    let mock_figures = servers::start_mock_sts(&binary)
        .map_err(|e| e.to_string())
        .and_then(|child| measure_child(&runtime, &child, &levels, window));
    let (moto_figures, mock_figures) = match (moto_figures, mock_figures) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let null_figures = null.ok();

    println!();
    println!(
        "| operation | concurrency | moto req/s | mock-sts req/s | ratio | loader ceiling (null server) req/s |"
    );
    println!("|---|---|---|---|---|---|");
    let mut met = true;
    let mut capacity_met = true;
    let mut errors = false;
    for (i, (op, concurrency, moto_m)) in moto_figures.iter().enumerate() {
        let mock_m = &mock_figures[i].2;
        let ratio = mock_m.per_second() / moto_m.per_second().max(f64::MIN_POSITIVE);
        met &= ratio >= TARGET_RATIO;
        errors |= mock_m.errors > 0 || moto_m.errors > 0;
        let ceiling = null_figures.as_ref().and_then(|n| n.get(i)).map_or_else(
            || "-".to_owned(),
            |(_, _, m)| format!("{:.0}", m.per_second()),
        );
        println!(
            "| {op} | {concurrency} | {:.0} | {:.0} | {ratio:.1}× | {ceiling} |",
            moto_m.per_second(),
            mock_m.per_second()
        );
    }
    // Capacity: each server's best over the concurrency levels. At concurrency 1 every
    // server waits out a loopback round trip per request, and the null server's column shows
    // that bound; moto is saturated from 1 on (one core, the GIL), mock-sts is not.
    println!();
    println!("| operation | moto best req/s | mock-sts best req/s | ratio at capacity |");
    println!("|---|---|---|---|");
    for op in OPS {
        let best = |figures: &[(String, usize, Measured)]| {
            figures
                .iter()
                .filter(|(o, _, _)| o == op)
                .map(|(_, c, m)| (m.per_second(), *c))
                .fold((0.0, 0), |a, b| if b.0 > a.0 { b } else { a })
        };
        let (moto_best, moto_c) = best(&moto_figures);
        let (mock_best, mock_c) = best(&mock_figures);
        let ratio = mock_best / moto_best.max(f64::MIN_POSITIVE);
        capacity_met &= ratio >= TARGET_RATIO;
        println!(
            "| {op} | {moto_best:.0} (c={moto_c}) | {mock_best:.0} (c={mock_c}) | {ratio:.1}× |"
        );
    }
    println!();
    println!(
        "target mock-sts ≥ {TARGET_RATIO}× moto: at capacity {}; at every concurrency level {}",
        if capacity_met { "met" } else { "NOT met" },
        if met {
            "met"
        } else {
            "not met (see the null server's ceiling)"
        }
    );
    if errors {
        println!("some requests failed (see the first errors above)");
    }
    ExitCode::SUCCESS
}
