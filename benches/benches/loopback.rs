//! End-to-end requests per second over loopback: `mock-sts` serving on a real socket (in this
//! process, on its own two-thread runtime, as the binary runs here), a hyper client with
//! keep-alive sending requests signed by aws-sigv4 from 1, 8 and 32 concurrent tasks; and, for
//! comparison, the same requests handed to the router in process (`router/…`): the server's
//! own cost per request, without sockets.
//!
//! ```text
//! cargo bench -p benches --bench loopback
//! LOOPBACK_EVENTS_FILE=/tmp/events.jsonl cargo bench -p benches --bench loopback -- 'loopback/.*c32'
//! ```
//!
//! The server keeps events as `mock-sts serve` does by default (the last
//! [`Retention::SERVE_DEFAULT`]); with `LOOPBACK_EVENTS_FILE` set it also streams every event
//! to that file, as `serve --events FILE` does (the file is truncated first).
//!
//! Operations: S3 `PutObject` of 1 KiB, S3 `GetObject` of it, STS `AssumeRole`. Criterion's
//! "thrpt" is requests per second. The client and the server share the machine's cores; the
//! `moto` bench measures the loader's own ceiling against a null server.

use std::sync::Arc;
use std::time::Duration;

use benches::loader;
use benches::signing::{self, Keys, Signed};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http_body_util::BodyExt;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use mock_sts::events::{EventLog, Retention};
use tower::ServiceExt;

const POOL: usize = 256;

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => panic!("runtime: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let server_runtime = runtime(2);
    let mut events = EventLog::retaining(Retention::SERVE_DEFAULT);
    if let Some(path) = std::env::var_os("LOOPBACK_EVENTS_FILE") {
        let file = match std::fs::File::create(&path) {
            Ok(f) => f,
            Err(e) => panic!("LOOPBACK_EVENTS_FILE: {e}"),
        };
        events = match events.with_sink(file) {
            Ok(events) => events,
            Err(e) => panic!("events writer: {e}"),
        };
    }
    let aws = match server_runtime.block_on(MockAws::builder().seed(1).events(events).start()) {
        Ok(aws) => aws,
        Err(e) => panic!("cannot start mock-sts: {e}"),
    };
    let Some(addr) = aws.addr() else {
        panic!("mock-sts has no socket")
    };
    let host = addr.to_string();
    let client_runtime = runtime(2);
    let client = loader::client(64);
    let now = SimClock::wall().now();
    let user = Keys::user();
    let object = Bytes::from(vec![b'x'; 1024]);
    let setup = [
        signing::create_bucket(&host, "bench", &user, now),
        signing::put_object(&host, "bench", "get-me", object.clone(), &user, now),
    ];
    for request in &setup {
        let sent = client_runtime.block_on(loader::send(&client, &host, request));
        assert!(matches!(sent, Ok((200, _))), "set-up: {sent:?}");
    }
    let pools: [(&str, Vec<Signed>); 3] = [
        (
            "PutObject-1KiB",
            (0..POOL)
                .map(|i| {
                    signing::put_object(
                        &host,
                        "bench",
                        &format!("put/{i}"),
                        object.clone(),
                        &user,
                        now,
                    )
                })
                .collect(),
        ),
        (
            "GetObject-1KiB",
            (0..POOL)
                .map(|_| signing::get_object(&host, "bench", "get-me", &user, now))
                .collect(),
        ),
        (
            "AssumeRole",
            (0..POOL)
                .map(|_| signing::assume_role(&host, signing::ROLE_ARN, &user, now))
                .collect(),
        ),
    ];

    // The router alone: the same requests, in process, one at a time.
    let mut group = c.benchmark_group("router");
    group.throughput(Throughput::Elements(1));
    for (op, pool) in &pools {
        let Some(request) = pool.first() else {
            continue;
        };
        group.bench_function(*op, |b| {
            b.iter(|| {
                server_runtime.block_on(async {
                    let request = match request.to_request(&host) {
                        Ok(r) => r.map(axum::body::Body::new),
                        Err(e) => panic!("{e}"),
                    };
                    let response = match aws.router().oneshot(request).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    assert_eq!(response.status(), 200);
                    response
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes().len())
                })
            });
        });
    }
    group.finish();

    let mut group = c.benchmark_group("loopback");
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for (op, pool) in pools {
        let pool = Arc::new(pool);
        for concurrency in [1usize, 8, 32] {
            group.bench_function(format!("{op}/c{concurrency}"), |b| {
                b.iter_custom(|iters| {
                    let measured = client_runtime.block_on(loader::run(
                        &client,
                        addr,
                        pool.clone(),
                        concurrency,
                        Duration::from_secs(120),
                        iters,
                    ));
                    assert_eq!(measured.errors, 0, "{:?}", measured.first_error);
                    measured.elapsed
                });
            });
        }
    }
    group.finish();
    drop(client_runtime);
    server_runtime.block_on(aws.shutdown());
}

criterion_group!(benches, bench);
criterion_main!(benches);
