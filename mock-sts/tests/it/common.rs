//! Shared test helpers of mock-sts: requests signed for the router, calling it, SDK
//! configuration, the binary as a fixture. Signing, the default world's keys, the venv and the
//! server process come from `sts-lab-test-support`, which the harness and benches share.

use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::SharedTimeSource;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use sts_lab_test_support::signing::{SignableBody, Signer};
pub(crate) use sts_lab_test_support::world::{Keys, LONG_ROLE, USER_AKID, USER_SECRET, start};
use tower::ServiceExt;

/// An in-process mock on a frozen clock at [`start`].
pub(crate) fn frozen_mock() -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(42)
        .build()
}

/// A form POST to STS signed with `keys` at `time` by the real aws-sigv4 crate.
pub(crate) fn sts_post(body: &str, keys: &Keys, time: SystemTime) -> Request<Body> {
    signed_request("POST", "http://localhost/", body, keys, time, "sts")
}

/// A request signed by aws-sigv4 for `service` (STS's rules), with the headers an SDK sends
/// for the query protocol.
pub(crate) fn signed_request(
    method: &str,
    uri: &str,
    body: &str,
    keys: &Keys,
    time: SystemTime,
    service: &str,
) -> Request<Body> {
    signed_with(Signer::sts(keys, time).service(service), method, uri, body)
}

/// A URL presigned by aws-sigv4 (signature and token in the query), valid for `expires`.
pub(crate) fn presigned_request(
    uri: &str,
    keys: &Keys,
    time: SystemTime,
    expires: Duration,
) -> Request<Body> {
    signed_with(Signer::sts(keys, time).presigned(expires), "GET", uri, "")
}

fn signed_with(signer: Signer<'_>, method: &str, uri: &str, body: &str) -> Request<Body> {
    let headers = [
        ("host", "localhost"),
        ("content-type", "application/x-www-form-urlencoded"),
    ];
    let signed = signer.sign(method, uri, &headers, SignableBody::Bytes(body.as_bytes()));
    Request::from_parts(signed.parts, Body::from(body.to_string()))
}

/// An unsigned request.
pub(crate) fn unsigned(method: &str, uri: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A response, collected.
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The text of the first `<tag>…</tag>`.
    pub(crate) fn xml(&self, tag: &str) -> Option<String> {
        xml_text(&self.body, tag)
    }

    /// The STS error code.
    pub(crate) fn code(&self) -> String {
        self.xml("Code").unwrap_or_default()
    }

    /// Asserts an STS error: status, code and the exact message.
    #[track_caller]
    pub(crate) fn assert_sts_error(&self, status: u16, code: &str, message: &str) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(self.code(), code, "{}", self.body);
        assert_eq!(
            self.xml("Message").unwrap_or_default(),
            message,
            "{}",
            self.body
        );
        assert!(
            self.body
                .starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
            "{}",
            self.body
        );
        assert_eq!(self.xml("Type").as_deref(), Some("Sender"), "{}", self.body);
        assert!(
            self.xml("RequestId").is_some_and(|r| r.len() == 36),
            "{}",
            self.body
        );
        assert_eq!(self.headers["content-type"], "text/xml");
    }
}

/// The text of the first `<tag>…</tag>` in `body`, unescaped for the basic entities.
pub(crate) fn xml_text(body: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = body.find(&open)? + open.len();
    let end = body[start..].find(&close)? + start;
    Some(
        body[start..end]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Calls the mock's router in process.
pub(crate) async fn call(aws: &MockAws, request: Request<Body>) -> Reply {
    let response = aws.router().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

/// Temporary credentials from an STS response body.
pub(crate) fn keys_from(reply: &Reply) -> Keys {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    Keys {
        akid: reply.xml("AccessKeyId").unwrap(),
        secret: reply.xml("SecretAccessKey").unwrap(),
        token: reply.xml("SessionToken"),
    }
}

/// SDK configuration against `aws`: its endpoint, us-east-1, a plain-HTTP client, the mock's
/// clock as the SDK's time source (sleeps stay real: a frozen clock would never wake them).
pub(crate) fn sdk_config(aws: &MockAws, credentials: Credentials) -> SdkConfig {
    sdk_config_for(&aws.endpoint_url(), aws.clock(), credentials)
}

/// [`sdk_config`] for any endpoint and clock.
pub(crate) fn sdk_config_for(
    endpoint: &str,
    clock: &SimClock,
    credentials: Credentials,
) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .time_source(SharedTimeSource::new(clock.clone()))
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}

/// A plain HTTP request to a running server: (status, body).
pub(crate) async fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, http_body_util::Full<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let request = Request::builder()
        .method(method)
        .uri(url)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            body.unwrap_or("").to_string(),
        )))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

pub(crate) use sts_lab_test_support::server::Server;

/// Starts this build's `mock-sts serve --addr 127.0.0.1:0 ARGS…` and waits until it listens.
pub(crate) fn spawn_server(args: &[&str]) -> Server {
    Server::spawn(std::path::Path::new(env!("CARGO_BIN_EXE_mock-sts")), args)
}

/// Runs the `mock-sts` binary to completion: (exit code, stdout, stderr).
pub(crate) fn run_binary(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mock-sts"))
        .args(args)
        .env("MOCK_STS_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An aws-sdk-s3 client against `endpoint` on `clock`, path-style (`http://127.0.0.1:PORT/bucket`).
pub(crate) fn s3_client_for(
    endpoint: &str,
    clock: &SimClock,
    credentials: Credentials,
) -> aws_sdk_s3::Client {
    let config = sdk_config_for(endpoint, clock, credentials);
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

/// [`s3_client_for`] the running mock.
pub(crate) fn s3_client(aws: &MockAws, credentials: Credentials) -> aws_sdk_s3::Client {
    s3_client_for(&aws.endpoint_url(), aws.clock(), credentials)
}

/// The default world user's credentials for an SDK.
pub(crate) fn user_credentials() -> Credentials {
    Credentials::new(USER_AKID, USER_SECRET, None, None, "test")
}

/// A raw HTTP exchange with bytes: (status, headers, body).
pub(crate) async fn http_bytes(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, HeaderMap, bytes::Bytes) {
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, http_body_util::Full<bytes::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut request = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let response = client.request(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, headers, bytes)
}

/// A scratch directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "mock-sts-it-{name}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic bytes that do not compress.
pub(crate) fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// S3's ETag of a single-part object: the quoted MD5 hex.
pub(crate) fn md5_etag(data: &[u8]) -> String {
    use md5::Digest;
    format!("\"{}\"", hex::encode(md5::Md5::digest(data)))
}

/// Base64 CRC32, as `x-amz-checksum-crc32` carries it.
pub(crate) fn crc32(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(
        (crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32).to_be_bytes(),
    )
}

/// Runs `work` on a current-thread runtime with every log line (TRACE and up) captured, and
/// returns its output with the logs, for tests that prove secrets never reach the logs.
pub(crate) fn with_captured_logs<T>(work: impl Future<Output = T>) -> (T, String) {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = runtime.block_on(work);
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    (out, logs)
}

/// A property test's configuration: `default_cases` cases unless `PROPTEST_CASES` says
/// otherwise ([`mock_sts::testing::config`]), failures persisted to `regressions` (a path under
/// `mock-sts/proptest-regressions/`, committed so every run replays them first).
pub(crate) fn prop_config(
    default_cases: u32,
    regressions: &'static str,
) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct(regressions),
        )),
        ..mock_sts::testing::config(default_cases)
    }
}

/// An S3 request without a body, signed by aws-sigv4 with aws-sdk-s3's rules (path encoded
/// once, never normalised; `x-amz-content-sha256` sent): in the `Authorization` header, or
/// presigned for `presigned` when given. `path_and_query` is sent as given (already encoded).
pub(crate) fn s3_request(
    method: &str,
    path_and_query: &str,
    keys: &Keys,
    time: SystemTime,
    presigned: Option<Duration>,
) -> Request<Body> {
    let host = "localhost:4566";
    let uri = format!("http://{host}{path_and_query}");
    let (signer, body) = match presigned {
        Some(expires) => (
            Signer::s3(keys, time).presigned(expires),
            SignableBody::UnsignedPayload,
        ),
        None => (Signer::s3(keys, time), SignableBody::Bytes(b"")),
    };
    // As a server receives it: origin-form target, the Host header.
    let parts = signer
        .sign(method, &uri, &[("host", host)], body)
        .received();
    Request::from_parts(parts, Body::empty())
}
