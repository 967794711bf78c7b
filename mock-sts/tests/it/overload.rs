//! Overload and slow clients against the real server over TCP (`crate::limits` in mock-sts):
//! slow headers and idle connections are closed at the header timeout while others are served,
//! a stalled body gets `RequestTimeout`, a short body and a half-close `IncompleteBody`, and
//! uploads past the memory budget `SlowDown` until the memory comes back. The limits are set
//! short through the builder so each test takes a few seconds.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use mock_sts::MockAws;
use mock_sts::clock::{SimClock, Stopwatch, real_sleep, real_timeout};
use sts_lab_test_support::signing::{SignableBody, Signer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::*;

const BUCKET: &str = "overload";

/// A server with these limits; the others at their defaults.
async fn server(
    header_timeout: Duration,
    body_timeout: Duration,
    max_upload_memory: u64,
) -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(13)
        .header_timeout(Some(header_timeout))
        .body_timeout(Some(body_timeout))
        .max_upload_memory(max_upload_memory)
        .start()
        .await
        .unwrap()
}

async fn connect(aws: &MockAws) -> TcpStream {
    TcpStream::connect(aws.addr().unwrap()).await.unwrap()
}

/// The head of a `PUT /BUCKET/key` signed by aws-sigv4 with an unsigned payload, declaring
/// `content_length` bytes: the server authenticates it and then reads the body.
fn signed_put_head(aws: &MockAws, key: &str, content_length: usize) -> String {
    let length = content_length.to_string();
    signed_put_head_with(aws, key, ("content-length", &length))
}

/// [`signed_put_head`] with another framing header (`content-length` or `transfer-encoding`).
fn signed_put_head_with(aws: &MockAws, key: &str, framing: (&str, &str)) -> String {
    let keys = Keys::user();
    let host = aws.addr().unwrap().to_string();
    let signed = Signer::s3(&keys, aws.clock().now()).sign(
        "PUT",
        &format!("http://{host}/{BUCKET}/{key}"),
        &[("host", host.as_str()), framing],
        SignableBody::UnsignedPayload,
    );
    let mut head = format!("PUT /{BUCKET}/{key} HTTP/1.1\r\n");
    for (name, value) in &signed.parts.headers {
        head.push_str(&format!("{name}: {}\r\n", value.to_str().unwrap()));
    }
    head.push_str("\r\n");
    head
}

/// Reads until the server closes the connection (or resets it), at most `limit` of real time:
/// what it sent.
async fn read_to_close(stream: &mut TcpStream, limit: Duration) -> String {
    let mut received = Vec::new();
    let read = real_timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the connection open past {limit:?}"
    );
    String::from_utf8_lossy(&received).into_owned()
}

/// An S3 client for `aws` that does not retry, so it reports the first answer it gets.
fn s3_without_retries(aws: &MockAws) -> aws_sdk_s3::Client {
    let config = sdk_config(aws, user_credentials());
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

/// Waits (in real time, at most 5 s) until `aws` holds exactly `bytes` of request bodies.
async fn wait_for_held(aws: &MockAws, bytes: u64) {
    let watch = Stopwatch::start();
    while aws.upload_bytes_held() != bytes {
        assert!(
            watch.elapsed() < Duration::from_secs(5),
            "the server holds {} bytes of bodies, not {bytes}",
            aws.upload_bytes_held()
        );
        real_sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_timeout() {
    let aws = server(Duration::from_millis(600), Duration::from_secs(5), 1 << 20).await;
    let (mut read, mut write) = connect(&aws).await.into_split();
    let watch = Stopwatch::start();
    // Slowloris: a request head that never ends, one byte every 50 ms.
    let dribble = tokio::spawn(async move {
        for byte in b"GET /_mock/clock HTTP/1.1\r\nHost: x\r\nX-Slow: "
            .iter()
            .cycle()
        {
            if write.write_all(&[*byte]).await.is_err() {
                break;
            }
            real_sleep(Duration::from_millis(50)).await;
        }
    });
    // Others are served meanwhile.
    let (status, _) = http("GET", &format!("{}/_mock/clock", aws.endpoint_url()), None).await;
    assert_eq!(status, 200);

    let mut received = Vec::new();
    let closed = real_timeout(Duration::from_secs(5), read.read_to_end(&mut received)).await;
    let elapsed = watch.elapsed();
    assert!(closed.is_ok(), "the slow connection was never closed");
    assert!(received.is_empty(), "no answer to a head that never came");
    assert!(
        elapsed >= Duration::from_millis(500),
        "closed after {elapsed:?}, before the header timeout"
    );
    dribble.abort();
}

/// The soft limit on open files, from `/proc/self/limits` (Linux; `None` elsewhere).
fn open_file_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_connections_neither_block_others_nor_stay_open() {
    // 2 000 client sockets and their 2 000 server ends need a descriptor limit over 4 000
    // (`ulimit -n`; the development machine's is 20 000). Under a lower limit, as many as fit.
    let idle_count = match open_file_limit() {
        Some(limit) if limit < 4_500 => {
            let fit = usize::try_from(limit.saturating_sub(500) / 2).unwrap_or(0);
            eprintln!("open file limit {limit}: {fit} idle connections instead of 2000");
            fit
        }
        _ => 2000,
    };
    let header_timeout = Duration::from_secs(3);
    let aws = server(header_timeout, Duration::from_secs(5), 1 << 20).await;
    let watch = Stopwatch::start();
    let mut idle = Vec::with_capacity(idle_count);
    for _ in 0..idle_count {
        idle.push(connect(&aws).await);
    }
    // Half of them have sent half a request head.
    for stream in idle.iter_mut().step_by(2) {
        stream.write_all(b"GET / HTTP/1.1\r\nHo").await.unwrap();
    }
    let sts = aws_sdk_sts::Client::new(&sdk_config(&aws, user_credentials()));
    let identity = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(identity.account(), Some("123456789012"));
    assert!(
        watch.elapsed() < header_timeout,
        "the request was answered only after the idle connections were closed ({:?})",
        watch.elapsed()
    );

    // Every idle connection is closed (end of stream, no answer) once the timeout has passed.
    real_sleep(header_timeout.saturating_sub(watch.elapsed()) + Duration::from_millis(500)).await;
    for (i, stream) in idle.iter_mut().enumerate() {
        let received = read_to_close(stream, Duration::from_secs(3)).await;
        assert_eq!(received, "", "idle connection {i} got an answer");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_s3_body_gets_request_timeout_and_the_connection_closes() {
    let aws = server(Duration::from_secs(5), Duration::from_millis(500), 1 << 20).await;
    s3_client(&aws, user_credentials())
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let mut stream = connect(&aws).await;
    stream
        .write_all(signed_put_head(&aws, "stalled", 1000).as_bytes())
        .await
        .unwrap();
    stream.write_all(&[b'x'; 100]).await.unwrap();
    let watch = Stopwatch::start();
    // The client neither sends the rest nor closes: it waits.
    let response = read_to_close(&mut stream, Duration::from_secs(5)).await;
    assert!(
        watch.elapsed() >= Duration::from_millis(450),
        "{:?}",
        watch.elapsed()
    );
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("connection: close"),
        "{response}"
    );
    assert!(
        response.contains("<Code>RequestTimeout</Code>"),
        "{response}"
    );
    assert!(
        response.contains("<Message>Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.</Message>"),
        "{response}"
    );
    assert!(response.contains("<RequestId>"), "{response}");
    assert!(response.contains("<HostId>"), "{response}");
    // What the request held is given back; the object was not stored.
    wait_for_held(&aws, 0).await;
    let missing = s3_client(&aws, user_credentials())
        .head_object()
        .bucket(BUCKET)
        .key("stalled")
        .send()
        .await;
    assert!(missing.is_err());
    let events = aws.events();
    let outcomes: Vec<&str> = events.iter().map(|e| e.outcome()).collect();
    assert_eq!(outcomes, ["ok", "RequestTimeout", "NoSuchKey"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_body_then_a_half_close_gets_incomplete_body() {
    let aws = server(Duration::from_secs(5), Duration::from_secs(5), 1 << 20).await;
    s3_client(&aws, user_credentials())
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let mut stream = connect(&aws).await;
    stream
        .write_all(signed_put_head(&aws, "short", 1000).as_bytes())
        .await
        .unwrap();
    stream.write_all(&[b'x'; 600]).await.unwrap();
    // Done sending, 400 bytes short; still reading.
    stream.shutdown().await.unwrap();
    let watch = Stopwatch::start();
    let response = read_to_close(&mut stream, Duration::from_secs(3)).await;
    // Answered at the half-close, not at the body timeout.
    assert!(watch.elapsed() < Duration::from_secs(3));
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(
        response.contains("<Code>IncompleteBody</Code>"),
        "{response}"
    );
    assert!(
        response.contains("<Message>You did not provide the number of bytes specified by the Content-Length HTTP header.</Message>"),
        "{response}"
    );
    assert!(response.contains("<RequestId>"), "{response}");
    wait_for_held(&aws, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sts_form_gets_request_timeout_in_sts_xml() {
    let aws = server(Duration::from_secs(5), Duration::from_millis(500), 1 << 20).await;
    let mut stream = connect(&aws).await;
    let head = "POST / HTTP/1.1\r\nHost: sts\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: 200\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
        .write_all(b"Action=GetCallerIdentity&Ver")
        .await
        .unwrap();
    let response = read_to_close(&mut stream, Duration::from_secs(5)).await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains("<ErrorResponse"), "{response}");
    assert!(response.contains("<Type>Sender</Type>"), "{response}");
    assert!(
        response.contains("<Code>RequestTimeout</Code>"),
        "{response}"
    );
    assert!(response.contains("<RequestId>"), "{response}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_past_the_memory_budget_get_slow_down_until_the_memory_comes_back() {
    const BUDGET: u64 = 1 << 20;
    const HELD: usize = 768 << 10;
    let aws = server(Duration::from_secs(5), Duration::from_millis(1500), BUDGET).await;
    let s3 = s3_without_retries(&aws);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();

    // A large upload in progress holds its declared length while its body trickles in.
    let mut holder = connect(&aws).await;
    holder
        .write_all(signed_put_head(&aws, "held", HELD).as_bytes())
        .await
        .unwrap();
    holder.write_all(&[b'h'; 64 << 10]).await.unwrap();
    wait_for_held(&aws, HELD as u64).await;

    // A second large upload does not fit: 503 SlowDown, seen by the SDK, its body not kept.
    let upload = vec![b'u'; 512 << 10];
    let err = s3
        .put_object()
        .bucket(BUCKET)
        .key("second")
        .body(ByteStream::from(upload.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("SlowDown"), "{err:?}");
    assert_eq!(err.message(), Some("Please reduce your request rate."));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 503);
    assert_eq!(aws.upload_bytes_held(), HELD as u64);
    // Requests without a large body are served meanwhile.
    s3.head_bucket().bucket(BUCKET).send().await.unwrap();

    // The holder stalls: RequestTimeout, and its memory comes back.
    let response = read_to_close(&mut holder, Duration::from_secs(5)).await;
    assert!(
        response.contains("<Code>RequestTimeout</Code>"),
        "{response}"
    );
    wait_for_held(&aws, 0).await;

    // Now the same upload fits, and is stored whole.
    s3.put_object()
        .bucket(BUCKET)
        .key("second")
        .body(ByteStream::from(upload.clone()))
        .send()
        .await
        .unwrap();
    let stored = s3
        .get_object()
        .bucket(BUCKET)
        .key("second")
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    assert_eq!(stored.len(), upload.len());
    wait_for_held(&aws, 0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_ends_is_cut_off_and_what_it_held_is_freed() {
    let aws = server(Duration::from_secs(5), Duration::from_secs(5), 1 << 20).await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    // No Content-Length: chunked transfer, 64 KiB chunks for ever, as fast as it goes.
    let head = signed_put_head_with(&aws, "endless", ("transfer-encoding", "chunked"));
    let mut stream = connect(&aws).await;
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        let mut chunk = format!("{:x}\r\n", 64 << 10).into_bytes();
        chunk.extend_from_slice(&[b'e'; 64 << 10]);
        chunk.extend_from_slice(b"\r\n");
        let mut sent = 0u64;
        while write.write_all(&chunk).await.is_ok() {
            sent += chunk.len() as u64;
        }
        sent
    });
    // The server stops reading it (past the budget, then past what it drains) and closes.
    let sent = real_timeout(Duration::from_secs(20), writer)
        .await
        .expect("the server never cut the endless body off")
        .unwrap();
    assert!(sent > 1 << 20, "{sent}");
    let mut answer = Vec::new();
    let _ = real_timeout(Duration::from_secs(2), read.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    // The client is still sending when the answer comes, so it may be lost to the reset that
    // closing a socket with unread data sends; when it arrives it is SlowDown.
    assert!(
        answer.is_empty() || answer.contains("<Code>SlowDown</Code>"),
        "{answer}"
    );
    wait_for_held(&aws, 0).await;
    s3.put_object()
        .bucket(BUCKET)
        .key("after")
        .body(ByteStream::from_static(b"fine"))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_larger_than_the_whole_budget_is_refused_before_it_is_sent_when_the_client_expects_continue()
 {
    let aws = server(Duration::from_secs(5), Duration::from_secs(5), 1 << 20).await;
    s3_client(&aws, user_credentials())
        .create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    let mut stream = connect(&aws).await;
    let head = signed_put_head(&aws, "huge", 2 << 20);
    let head = head.replacen("\r\n", "\r\nexpect: 100-continue\r\n", 1);
    stream.write_all(head.as_bytes()).await.unwrap();
    // No body sent: the answer comes without it, and no `100 Continue` first.
    let response = read_to_close(&mut stream, Duration::from_secs(3)).await;
    assert!(response.starts_with("HTTP/1.1 503 "), "{response}");
    assert!(response.contains("<Code>SlowDown</Code>"), "{response}");
    assert_eq!(aws.upload_bytes_held(), 0);
}

#[test]
fn bad_limit_flags_are_usage_errors() {
    for (flag, value) in [
        ("--header-timeout", "soon"),
        ("--body-timeout", "10q"),
        ("--max-upload-memory", "1X"),
    ] {
        let (code, _, stderr) = run_binary(&["serve", "--addr", "127.0.0.1:0", flag, value]);
        assert_eq!(code, 2, "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag), "{flag} {value}: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sts_forms_short_or_over_budget_get_incomplete_body_and_throttling_in_sts_xml() {
    let aws = server(Duration::from_secs(5), Duration::from_secs(5), 1024).await;
    let form = |length: usize| {
        format!(
            "POST / HTTP/1.1\r\nHost: sts\r\nContent-Type: application/x-www-form-urlencoded; charset=utf-8\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    // Short, then the write half shut.
    let mut stream = connect(&aws).await;
    stream.write_all(form(200).as_bytes()).await.unwrap();
    stream.write_all(b"Action=GetCallerIdentity").await.unwrap();
    stream.shutdown().await.unwrap();
    let response = read_to_close(&mut stream, Duration::from_secs(3)).await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains("<ErrorResponse"), "{response}");
    assert!(
        response.contains("<Code>IncompleteBody</Code>"),
        "{response}"
    );

    // Larger than the 1 KiB budget: STS's overload answer, the body read and dropped.
    let mut stream = connect(&aws).await;
    let body = format!(
        "Action=GetCallerIdentity&Version=2011-06-15&Pad={}",
        "p".repeat(2000)
    );
    stream.write_all(form(body.len()).as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let response = read_to_close(&mut stream, Duration::from_secs(3)).await;
    assert!(response.starts_with("HTTP/1.1 400 "), "{response}");
    assert!(response.contains("<ErrorResponse"), "{response}");
    assert!(response.contains("<Code>Throttling</Code>"), "{response}");
    assert!(
        response.contains("<Message>Rate exceeded</Message>"),
        "{response}"
    );
    wait_for_held(&aws, 0).await;
}
