//! The release `mock-sts` binary under a long mixed load, checked answer by answer, and its
//! resident memory as the requests add up.
//!
//! REQUESTS requests (default 1 000 000) from 32 tasks over loopback, each task on a kept-alive
//! connection (`benches::loader`'s hyper client), cycling through a pool of requests prepared
//! up front, in this mix of every 16:
//!
//! | kind | share | expected answer |
//! |---|---|---|
//! | STS `AssumeRole`, the IAM user's keys | 3 | 200 with credentials |
//! | STS `GetCallerIdentity`, session credentials | 3 | 200 naming the session |
//! | S3 `PutObject`, session credentials, 64 keys of 0-64 KiB overwritten | 3 | 200, the object's ETag |
//! | S3 `GetObject` of those keys | 3 | 200, the exact bytes |
//! | S3 `GetObject` of a key never written | 1 | 404 `NoSuchKey` |
//! | IMDSv2 `PUT /latest/api/token` | 1 | 200, a token (the answer closes the connection, as IMDS's does) |
//! | IMDS `GET …/security-credentials/instance-role` with a token | 2 | 200, `"Code" : "Success"` |
//!
//! The server runs on a frozen clock (`--clock frozen --start 2026-01-01T00:00:00Z`), and every
//! request is signed at that instant, so the pool stays valid however long the run takes
//! (sessions, tokens and signatures never age). Any other answer is unexpected: the first few
//! are printed, and every one counts. `VmRSS` (`/proc/PID/status`) is sampled every 500 ms;
//! the warm-up is the first 10 % of the requests (the event window of 10 000 fills, the
//! allocator reaches its working set), and the baseline is the first sample after it. The
//! exit status is 1 when any answer was unexpected or resident memory rose more than 10 %
//! above the baseline, 0 otherwise.
//!
//! ```text
//! cargo build --release -p mock-sts -p benches --bins
//! MOCK_STS_BIN=target/release/mock-sts target/release/soak                  # 1 000 000 requests
//! MOCK_STS_BIN=target/release/mock-sts target/release/soak 200000 --events-retain all
//! ```
//!
//! Arguments after REQUESTS go to `mock-sts serve` (after the clock flags, which the soak sets).
//! (`MOCK_STS_BIN`: `servers::mock_sts_binary` finds the binary from a bench's own place in
//! `target/release/deps/`, and this one runs from `target/release/`.)

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use benches::loader::{self, HttpClient};
use benches::servers::{self, Child};
use benches::signing::{self, Keys, Signed};
use bytes::Bytes;
use http::{HeaderMap, Method};
use mock_sts::clock::Stopwatch;
use sts_lab_test_support::world::start;

const DEFAULT_REQUESTS: u64 = 1_000_000;
const CONCURRENCY: usize = 32;
/// The frozen clock's instant; every request is signed at it ([`start`]).
const CLOCK_FLAGS: [&str; 4] = ["--clock", "frozen", "--start", "2026-01-01T00:00:00Z"];
/// The warm-up: this share of the requests, in percent.
const WARM_UP_PERCENT: u64 = 10;
/// Largest growth of resident memory after the warm-up.
const MAX_GROWTH: f64 = 0.10;
const SAMPLE_EVERY: Duration = Duration::from_millis(500);
/// Unexpected answers printed in full.
const PRINTED: usize = 5;
/// Bytes of an unexpected answer's body printed.
const PRINTED_BYTES: usize = 400;
const BUCKET: &str = "soak";
/// Objects overwritten again and again: storage stays bounded.
const KEYS: usize = 64;
const SIZES: [usize; 5] = [0, 1024, 4096, 16 * 1024, 64 * 1024];
const INSTANCE_ROLE: &str = "instance-role";
const TOKEN_TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
/// The identity of the session the soak assumes (session name `bench`).
const SESSION_ARN: &str = "arn:aws:sts::123456789012:assumed-role/cross-account-s3/bench";

/// What a request is, for the per-kind counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AssumeRole,
    GetCallerIdentity,
    PutObject,
    GetObject,
    GetMissingObject,
    ImdsToken,
    ImdsCredentials,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::AssumeRole,
        Kind::GetCallerIdentity,
        Kind::PutObject,
        Kind::GetObject,
        Kind::GetMissingObject,
        Kind::ImdsToken,
        Kind::ImdsCredentials,
    ];

    fn index(self) -> usize {
        Kind::ALL.iter().position(|k| *k == self).unwrap_or(0)
    }
}

/// One round of the mix (the shares of the module docs), kinds interleaved.
const ROUND: [Kind; 16] = [
    Kind::AssumeRole,
    Kind::GetObject,
    Kind::GetCallerIdentity,
    Kind::PutObject,
    Kind::ImdsCredentials,
    Kind::GetObject,
    Kind::AssumeRole,
    Kind::PutObject,
    Kind::GetCallerIdentity,
    Kind::GetMissingObject,
    Kind::GetObject,
    Kind::ImdsToken,
    Kind::PutObject,
    Kind::AssumeRole,
    Kind::GetCallerIdentity,
    Kind::ImdsCredentials,
];
/// Rounds in the pool: every key is put and got in it.
const ROUNDS: usize = KEYS;

/// The answer a request must get.
#[derive(Debug)]
enum Expect {
    /// This status, the body containing each of these.
    Contains(u16, Vec<String>),
    /// 200 with exactly these bytes.
    Body(Bytes),
    /// 200 with this `ETag`.
    ETag(String),
    /// 200 with a body, whatever it is (a token).
    Some,
}

impl Expect {
    fn matches(&self, status: u16, headers: &HeaderMap, body: &[u8]) -> bool {
        match self {
            Expect::Contains(want, parts) => {
                status == *want && parts.iter().all(|p| contains(body, p.as_bytes()))
            }
            Expect::Body(want) => status == 200 && body == &want[..],
            Expect::Some => status == 200 && !body.is_empty(),
            Expect::ETag(want) => {
                status == 200
                    && headers
                        .get(http::header::ETAG)
                        .is_some_and(|v| v.as_bytes() == want.as_bytes())
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// A request of the pool and the answer it must get.
#[derive(Debug)]
struct Probe {
    kind: Kind,
    request: Signed,
    expect: Expect,
}

/// The text of the first `<tag>…</tag>` (the values read here need no unescaping).
fn xml_text(body: &[u8], tag: &str) -> Option<String> {
    let body = std::str::from_utf8(body).ok()?;
    let open = format!("<{tag}>");
    let from = body.find(&open)? + open.len();
    let to = body[from..].find(&format!("</{tag}>"))? + from;
    Some(body[from..to].to_owned())
}

/// Bytes of key `k`: one of [`SIZES`], a pattern of its own.
fn object_body(k: usize) -> Bytes {
    let len = SIZES[k % SIZES.len()];
    Bytes::from(
        (0..len)
            .map(|i| (i.wrapping_mul(31) ^ k.wrapping_mul(131)) as u8)
            .collect::<Vec<u8>>(),
    )
}

async fn expect_ok(
    client: &HttpClient,
    host: &str,
    what: &str,
    request: &Signed,
) -> Result<(HeaderMap, Bytes), String> {
    match loader::exchange(client, host, request).await? {
        (200, headers, body) => Ok((headers, body)),
        (status, _, body) => Err(format!(
            "{what}: {status} {}",
            String::from_utf8_lossy(&body)
        )),
    }
}

/// Assumes the session, creates the bucket and its objects, gets an IMDSv2 token, and builds
/// the pool.
async fn prepare(client: &HttpClient, host: &str) -> Result<Vec<Probe>, String> {
    let t = start();
    let user = Keys::user();
    let assume = signing::assume_role(host, signing::ROLE_ARN, &user, t);
    let (_, body) = expect_ok(client, host, "AssumeRole", &assume).await?;
    let field = |tag| xml_text(&body, tag).ok_or_else(|| format!("AssumeRole without {tag}"));
    let session = Keys {
        akid: field("AccessKeyId")?,
        secret: field("SecretAccessKey")?,
        token: Some(field("SessionToken")?),
    };
    let bucket = signing::create_bucket(host, BUCKET, &session, t);
    expect_ok(client, host, "CreateBucket", &bucket).await?;
    let mut etags = Vec::with_capacity(KEYS);
    for k in 0..KEYS {
        let put = signing::put_object(host, BUCKET, &format!("k{k}"), object_body(k), &session, t);
        let (headers, _) = expect_ok(client, host, "PutObject", &put).await?;
        let etag = headers
            .get(http::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .ok_or("PutObject without an ETag")?;
        etags.push(etag.to_owned());
    }
    let token_request = signing::unsigned(
        host,
        Method::PUT,
        "/latest/api/token",
        &[(TOKEN_TTL_HEADER, "21600")],
        Bytes::new(),
    );
    let (_, token) = expect_ok(client, host, "IMDS token", &token_request).await?;
    let token = String::from_utf8(token.to_vec()).map_err(|e| e.to_string())?;

    let mut pool = Vec::with_capacity(ROUNDS * ROUND.len());
    let (mut puts, mut gets) = (0usize, 0usize);
    for _ in 0..ROUNDS {
        for kind in ROUND {
            let (request, expect) = match kind {
                Kind::AssumeRole => (
                    signing::assume_role(host, signing::ROLE_ARN, &user, t),
                    Expect::Contains(200, vec!["<SessionToken>".into(), "bench".into()]),
                ),
                Kind::GetCallerIdentity => (
                    signing::get_caller_identity(host, &session, t),
                    Expect::Contains(200, vec![format!("<Arn>{SESSION_ARN}</Arn>")]),
                ),
                Kind::PutObject => {
                    let k = puts % KEYS;
                    puts += 1;
                    let key = format!("k{k}");
                    (
                        signing::put_object(host, BUCKET, &key, object_body(k), &session, t),
                        Expect::ETag(etags[k].clone()),
                    )
                }
                Kind::GetObject => {
                    let k = gets % KEYS;
                    gets += 1;
                    (
                        signing::get_object(host, BUCKET, &format!("k{k}"), &session, t),
                        Expect::Body(object_body(k)),
                    )
                }
                Kind::GetMissingObject => (
                    signing::get_object(host, BUCKET, "never-written", &session, t),
                    Expect::Contains(404, vec!["<Code>NoSuchKey</Code>".into()]),
                ),
                Kind::ImdsToken => (token_request.clone(), Expect::Some),
                Kind::ImdsCredentials => (
                    signing::unsigned(
                        host,
                        Method::GET,
                        &format!("/latest/meta-data/iam/security-credentials/{INSTANCE_ROLE}"),
                        &[("x-aws-ec2-metadata-token", &token)],
                        Bytes::new(),
                    ),
                    Expect::Contains(
                        200,
                        vec![
                            "\"Code\" : \"Success\"".into(),
                            "\"AccessKeyId\" : \"ASIA".into(),
                        ],
                    ),
                ),
            };
            pool.push(Probe {
                kind,
                request,
                expect,
            });
        }
    }
    Ok(pool)
}

/// What the run counted.
#[derive(Debug, Default)]
struct Tally {
    per_kind: [(u64, u64); Kind::ALL.len()],
    unexpected: Vec<String>,
}

/// Sends `total` requests of `pool` from [`CONCURRENCY`] tasks, counting into `done`.
async fn soak(
    client: &HttpClient,
    host: &str,
    pool: Arc<Vec<Probe>>,
    total: u64,
    done: Arc<AtomicU64>,
) -> Tally {
    let next = Arc::new(AtomicU64::new(0));
    let printed = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (client, host, pool) = (client.clone(), host.to_owned(), pool.clone());
        let (next, done, printed) = (next.clone(), done.clone(), printed.clone());
        tasks.spawn(async move {
            let mut per_kind = [(0u64, 0u64); Kind::ALL.len()];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let Some(probe) = pool.get((i % pool.len() as u64) as usize) else {
                    break;
                };
                let outcome = loader::exchange(&client, &host, &probe.request).await;
                let counts = &mut per_kind[probe.kind.index()];
                counts.0 += 1;
                let ok = match &outcome {
                    Ok((status, headers, body)) => probe.expect.matches(*status, headers, body),
                    Err(_) => false,
                };
                if !ok {
                    counts.1 += 1;
                    let mut printed = printed.lock().unwrap_or_else(|p| p.into_inner());
                    if printed.len() < PRINTED {
                        printed.push(match outcome {
                            Ok((status, _, body)) => format!(
                                "request {i} ({:?}): {status} {}",
                                probe.kind,
                                String::from_utf8_lossy(&body[..body.len().min(PRINTED_BYTES)])
                            ),
                            Err(e) => format!("request {i} ({:?}): {e}", probe.kind),
                        });
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            per_kind
        });
    }
    let mut tally = Tally::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(per_kind) => {
                for (sum, add) in tally.per_kind.iter_mut().zip(per_kind) {
                    sum.0 += add.0;
                    sum.1 += add.1;
                }
            }
            Err(e) => tally.unexpected.push(format!("a task failed: {e}")),
        }
    }
    tally
        .unexpected
        .extend(printed.lock().unwrap_or_else(|p| p.into_inner()).drain(..));
    tally
}

/// One `VmRSS` reading.
#[derive(Debug, Clone, Copy)]
struct Sample {
    seconds: f64,
    requests: u64,
    kib: u64,
}

/// Reads `VmRSS` every [`SAMPLE_EVERY`] until `finished`, printing a line at every tenth of
/// `total`.
fn sample(server: &Child, total: u64, done: &AtomicU64, finished: &AtomicBool) -> Vec<Sample> {
    let stopwatch = Stopwatch::start();
    let mut samples = Vec::new();
    let mut next_tenth = 1;
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(SAMPLE_EVERY);
        let s = Sample {
            seconds: stopwatch.elapsed().as_secs_f64(),
            requests: done.load(Ordering::Relaxed),
            kib: server.resident_kib().unwrap_or(0),
        };
        samples.push(s);
        if s.requests >= total * next_tenth / 10 {
            println!(
                "{:>10} requests, {:>6.1} s, {:>7.0} req/s: {:.1} MiB resident",
                s.requests,
                s.seconds,
                s.requests as f64 / s.seconds,
                mib(s.kib)
            );
            while next_tenth <= 10 && s.requests >= total * next_tenth / 10 {
                next_tenth += 1;
            }
        }
    }
    samples
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (total, flags) = match args.first().map(|a| a.parse::<u64>()) {
        Some(Ok(n)) if n > 0 => (n, &args[1..]),
        Some(_) if !args[0].starts_with('-') => {
            eprintln!("usage: soak [REQUESTS] [mock-sts serve flags…]");
            return ExitCode::from(2);
        }
        _ => (DEFAULT_REQUESTS, &args[..]),
    };
    let mut serve: Vec<&str> = CLOCK_FLAGS.to_vec();
    serve.extend(flags.iter().map(String::as_str));
    let started = servers::mock_sts_binary()
        .and_then(|binary| servers::start_mock_sts_with(&binary, &serve))
        .and_then(|server| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            Ok((server, runtime))
        });
    let (server, runtime) = match started {
        Ok(pair) => pair,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let host = server.addr.to_string();
    let client = loader::client(CONCURRENCY);
    let pool = match runtime.block_on(prepare(&client, &host)) {
        Ok(pool) => Arc::new(pool),
        Err(e) => {
            eprintln!("error: preparing the soak: {e}");
            return ExitCode::FAILURE;
        }
    };
    let at_start = server.resident_kib().unwrap_or(0);
    println!(
        "mock-sts serve {}: {total} requests, {CONCURRENCY} connections; {:.1} MiB resident after set-up",
        serve.join(" "),
        mib(at_start)
    );

    let done = Arc::new(AtomicU64::new(0));
    let finished = AtomicBool::new(false);
    let stopwatch = Stopwatch::start();
    let (tally, mut samples) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| sample(&server, total, &done, &finished));
        let tally = runtime.block_on(soak(&client, &host, pool, total, done.clone()));
        finished.store(true, Ordering::Relaxed);
        (tally, sampler.join().unwrap_or_default())
    });
    let elapsed = stopwatch.elapsed().as_secs_f64();
    let final_kib = server.resident_kib().unwrap_or(0);
    samples.push(Sample {
        seconds: elapsed,
        requests: done.load(Ordering::Relaxed),
        kib: final_kib,
    });

    let answered: u64 = tally.per_kind.iter().map(|c| c.0).sum();
    let unexpected: u64 = tally.per_kind.iter().map(|c| c.1).sum();
    println!(
        "\n{answered} requests in {elapsed:.1} s: {:.0} req/s, {unexpected} unexpected",
        answered as f64 / elapsed
    );
    for (kind, (count, bad)) in Kind::ALL.iter().zip(tally.per_kind) {
        println!(
            "  {:<18} {count:>9} ({bad} unexpected)",
            format!("{kind:?}")
        );
    }
    for line in &tally.unexpected {
        println!("  unexpected: {line}");
    }

    let warm = total * WARM_UP_PERCENT / 100;
    let baseline = samples
        .iter()
        .find(|s| s.requests >= warm)
        .copied()
        .unwrap_or(samples[samples.len() - 1]);
    let after: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.seconds >= baseline.seconds)
        .collect();
    let peak = after.iter().map(|s| s.kib).max().unwrap_or(baseline.kib);
    let peak_all = samples.iter().map(|s| s.kib).max().unwrap_or(0);
    let growth = if baseline.kib == 0 {
        f64::INFINITY
    } else {
        (peak as f64 - baseline.kib as f64) / baseline.kib as f64
    };
    println!(
        "resident: {:.1} MiB after set-up; {:.1} MiB after the warm-up ({} requests); \
         peak after it {:.1} MiB ({:+.1} %); final {:.1} MiB; peak overall {:.1} MiB; {} samples",
        mib(at_start),
        mib(baseline.kib),
        baseline.requests,
        mib(peak),
        growth * 100.0,
        mib(final_kib),
        mib(peak_all),
        samples.len()
    );
    let mut failed = false;
    if unexpected > 0 || !tally.unexpected.is_empty() || answered != total {
        println!("FAIL: {unexpected} unexpected answers, {answered} of {total} answered");
        failed = true;
    }
    if growth > MAX_GROWTH {
        println!(
            "FAIL: resident memory grew {:.1} % after the warm-up (limit {:.0} %)",
            growth * 100.0,
            MAX_GROWTH * 100.0
        );
        failed = true;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        println!("ok");
        ExitCode::SUCCESS
    }
}
