//! The load generator: `concurrency` tasks share one hyper client with keep-alive (one
//! connection per task, kept open), each sending the next request of a pool of signed
//! requests, reading the whole answer, and counting it, until a wall-clock window closes.
//!
//! Requests are signed before the window opens ([`crate::signing`]), so the loader spends its
//! CPU on HTTP only: on a two-core machine it shares the cores with the server under test, and
//! the less it needs the more the figure says about the server. Its own ceiling is measured the
//! same way against a server that answers 200 to everything ([`crate::servers::start_null`]).
//!
//! Every loop is bounded: by the window, and by `max_requests`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use mock_sts::clock::Stopwatch;

use crate::signing::Signed;

/// A hyper client with keep-alive, pooling up to `connections` idle connections.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A client for up to `connections` concurrent requests, each on its own kept-alive
/// connection (`TCP_NODELAY` on, as every SDK's HTTP stack sets it).
pub fn client(connections: usize) -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections.max(1))
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}

/// What a load run measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Requests answered within the window (any status).
    pub requests: u64,
    /// Answers that were not 2xx, or requests that failed at the HTTP level.
    pub errors: u64,
    /// The window actually spent, wall time.
    pub elapsed: Duration,
    /// Median latency of one request, microseconds.
    pub p50_us: f64,
    /// 99th percentile latency, microseconds.
    pub p99_us: f64,
    /// The first failure's status and answer, for the report.
    pub first_error: Option<String>,
}

impl Measured {
    /// Requests per second.
    pub fn per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs == 0.0 {
            0.0
        } else {
            self.requests as f64 / secs
        }
    }
}

/// Sends one request and reads its answer; `Ok(status)` or the error.
///
/// # Errors
/// A message when the request fails at the HTTP level.
pub async fn send(
    client: &HttpClient,
    authority: &str,
    request: &Signed,
) -> Result<(u16, Bytes), String> {
    exchange(client, authority, request)
        .await
        .map(|(status, _, body)| (status, body))
}

/// [`send`] with the answer's headers: `Ok((status, headers, body))`.
///
/// # Errors
/// A message when the request fails at the HTTP level.
pub async fn exchange(
    client: &HttpClient,
    authority: &str,
    request: &Signed,
) -> Result<(u16, http::HeaderMap, Bytes), String> {
    let request = request.to_request(authority).map_err(|e| e.to_string())?;
    let response = client.request(request).await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
    Ok((status, parts.headers, body))
}

/// Runs `concurrency` tasks against `addr` for `window` (at most `max_requests` in all),
/// cycling through `pool` (task `t` starts at `t`, steps by `concurrency`).
pub async fn run(
    client: &HttpClient,
    addr: SocketAddr,
    pool: Arc<Vec<Signed>>,
    concurrency: usize,
    window: Duration,
    max_requests: u64,
) -> Measured {
    let authority = addr.to_string();
    let sent = Arc::new(AtomicU64::new(0));
    let stopwatch = Stopwatch::start();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..concurrency.max(1) {
        let client = client.clone();
        let pool = pool.clone();
        let authority = authority.clone();
        let sent = sent.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let (mut errors, mut first_error) = (0u64, None);
            let mut i = task;
            while stopwatch.elapsed() < window
                && sent.fetch_add(1, Ordering::Relaxed) < max_requests
            {
                let Some(request) = pool.get(i % pool.len().max(1)) else {
                    break;
                };
                let one = Stopwatch::start();
                let outcome = send(&client, &authority, request).await;
                latencies.push(one.elapsed().as_secs_f64() * 1e6);
                match outcome {
                    Ok((status, _)) if (200..300).contains(&status) => {}
                    Ok((status, body)) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| {
                            format!("{status}: {}", String::from_utf8_lossy(&body))
                        });
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
                i += concurrency;
            }
            (latencies, errors, first_error)
        });
    }
    let mut latencies = Vec::new();
    let (mut errors, mut first_error) = (0, None);
    while let Some(joined) = tasks.join_next().await {
        if let Ok((l, e, f)) = joined {
            latencies.extend(l);
            errors += e;
            if first_error.is_none() {
                first_error = f;
            }
        }
    }
    let elapsed = stopwatch.elapsed();
    latencies.sort_by(f64::total_cmp);
    let rank = |q: f64| {
        if latencies.is_empty() {
            0.0
        } else {
            let i = ((q * latencies.len() as f64).ceil() as usize).clamp(1, latencies.len()) - 1;
            latencies[i]
        }
    };
    Measured {
        requests: latencies.len() as u64,
        errors,
        elapsed,
        p50_us: rank(0.5),
        p99_us: rank(0.99),
        first_error,
    }
}
