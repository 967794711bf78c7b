//! Shared test helpers: signing requests, calling the router, SDK configuration.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::SharedTimeSource;
use axum::body::Body;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use tower::ServiceExt;

/// 2026-01-01T00:00:00Z, the start of every frozen test clock.
pub fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// The default world's user.
pub const USER_AKID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Its secret.
pub const USER_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The default world's 12-hour role.
pub const LONG_ROLE: &str = "arn:aws:iam::123456789012:role/cross-account-s3";

/// An in-process mock on a frozen clock at [`start`].
pub fn frozen_mock() -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(42)
        .build()
}

/// Temporary or long-term signing credentials.
#[derive(Clone, Debug)]
pub struct Keys {
    pub akid: String,
    pub secret: String,
    pub token: Option<String>,
}

impl Keys {
    pub fn user() -> Keys {
        Keys {
            akid: USER_AKID.into(),
            secret: USER_SECRET.into(),
            token: None,
        }
    }
}

/// A form POST to STS signed with `keys` at `time` by the real aws-sigv4 crate.
pub fn sts_post(body: &str, keys: &Keys, time: SystemTime) -> Request<Body> {
    signed_request("POST", "http://localhost/", body, keys, time, "sts")
}

/// A request signed by aws-sigv4, with the headers an SDK sends for the query protocol.
pub fn signed_request(
    method: &str,
    uri: &str,
    body: &str,
    keys: &Keys,
    time: SystemTime,
    service: &str,
) -> Request<Body> {
    signed_with(
        method,
        uri,
        body,
        keys,
        time,
        service,
        SigningSettings::default(),
    )
}

/// A URL presigned by aws-sigv4 (signature and token in the query), valid for `expires`.
pub fn presigned_request(
    uri: &str,
    keys: &Keys,
    time: SystemTime,
    expires: Duration,
) -> Request<Body> {
    let mut settings = SigningSettings::default();
    settings.signature_location = aws_sigv4::http_request::SignatureLocation::QueryParams;
    settings.expires_in = Some(expires);
    signed_with("GET", uri, "", keys, time, "sts", settings)
}

fn signed_with(
    method: &str,
    uri: &str,
    body: &str,
    keys: &Keys,
    time: SystemTime,
    service: &str,
    settings: SigningSettings,
) -> Request<Body> {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "localhost")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .unwrap();
    let identity =
        Credentials::new(&keys.akid, &keys.secret, keys.token.clone(), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        method,
        uri,
        request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    request.map(Body::from)
}

/// An unsigned request.
pub fn unsigned(method: &str, uri: &str, body: &str) -> Request<Body> {
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
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The text of the first `<tag>…</tag>`.
    pub fn xml(&self, tag: &str) -> Option<String> {
        xml_text(&self.body, tag)
    }

    /// The STS error code.
    pub fn code(&self) -> String {
        self.xml("Code").unwrap_or_default()
    }

    /// Asserts an STS error: status, code and the exact message.
    #[track_caller]
    pub fn assert_sts_error(&self, status: u16, code: &str, message: &str) {
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
pub fn xml_text(body: &str, tag: &str) -> Option<String> {
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
pub async fn call(aws: &MockAws, request: Request<Body>) -> Reply {
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
pub fn keys_from(reply: &Reply) -> Keys {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    Keys {
        akid: reply.xml("AccessKeyId").unwrap(),
        secret: reply.xml("SecretAccessKey").unwrap(),
        token: reply.xml("SessionToken"),
    }
}

/// SDK configuration against `aws`: its endpoint, us-east-1, a plain-HTTP client, the mock's
/// clock as the SDK's time source (sleeps stay real: a frozen clock would never wake them).
pub fn sdk_config(aws: &MockAws, credentials: Credentials) -> SdkConfig {
    sdk_config_for(&aws.endpoint_url(), aws.clock(), credentials)
}

/// [`sdk_config`] for any endpoint and clock.
pub fn sdk_config_for(endpoint: &str, clock: &SimClock, credentials: Credentials) -> SdkConfig {
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
pub async fn http(method: &str, url: &str, body: Option<&str>) -> (u16, String) {
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

/// The `mock-sts` binary running in the background; killed on drop.
pub struct Server {
    child: std::process::Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    /// Starts `mock-sts serve --addr 127.0.0.1:0 ARGS…` and waits for its "listening" line.
    pub fn spawn(args: &[&str]) -> Server {
        use std::io::{BufRead, BufReader};
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mock-sts"))
            .arg("serve")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .env("MOCK_STS_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(rest) = line.strip_prefix("mock-sts listening on ") {
                    let url = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string();
                    let _ = tx.send(Ok(url));
                    sent = true;
                    continue;
                }
                eprintln!("[mock-sts] {line}");
                if !sent && line.starts_with("error:") {
                    let _ = tx.send(Err(line));
                    sent = true;
                }
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(Ok(url)) => url,
            other => {
                let _ = child.kill();
                panic!("mock-sts did not start: {other:?}");
            }
        };
        Server { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the `mock-sts` binary to completion: (exit code, stdout, stderr).
pub fn run_binary(args: &[&str]) -> (i32, String, String) {
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
pub fn s3_client_for(
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
pub fn s3_client(aws: &MockAws, credentials: Credentials) -> aws_sdk_s3::Client {
    s3_client_for(&aws.endpoint_url(), aws.clock(), credentials)
}

/// The default world user's credentials for an SDK.
pub fn user_credentials() -> Credentials {
    Credentials::new(USER_AKID, USER_SECRET, None, None, "test")
}

/// A raw HTTP exchange with bytes: (status, headers, body).
pub async fn http_bytes(
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
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
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

    pub fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Deterministic bytes that do not compress.
pub fn pattern(len: usize, seed: u32) -> Vec<u8> {
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
pub fn md5_etag(data: &[u8]) -> String {
    use md5::Digest;
    format!("\"{}\"", hex::encode(md5::Md5::digest(data)))
}

/// Base64 CRC32, as `x-amz-checksum-crc32` carries it.
pub fn crc32(data: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(
        (crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32IsoHdlc, data) as u32).to_be_bytes(),
    )
}

/// Runs `work` on a current-thread runtime with every log line (TRACE and up) captured, and
/// returns its output with the logs, for tests that prove secrets never reach the logs.
pub fn with_captured_logs<T>(work: impl Future<Output = T>) -> (T, String) {
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
pub fn prop_config(default_cases: u32, regressions: &'static str) -> proptest::test_runner::Config {
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
pub fn s3_request(
    method: &str,
    path_and_query: &str,
    keys: &Keys,
    time: SystemTime,
    presigned: Option<Duration>,
) -> Request<Body> {
    use aws_sigv4::http_request::{
        PayloadChecksumKind, PercentEncodingMode, SignatureLocation, UriPathNormalizationMode,
    };
    let host = "localhost:4566";
    let uri = format!("http://{host}{path_and_query}");
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    let body = match presigned {
        Some(expires) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
            SignableBody::UnsignedPayload
        }
        None => {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            SignableBody::Bytes(b"")
        }
    };
    let identity =
        Credentials::new(&keys.akid, &keys.secret, keys.token.clone(), None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(method, &uri, [("host", host)].into_iter(), body).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = Request::builder()
        .method(method)
        .uri(&uri)
        .header("host", host)
        .body(Body::empty())
        .unwrap();
    instructions.apply_to_request_http1x(&mut request);
    // As a server receives it: origin-form target, the Host header.
    let (mut parts, body) = request.into_parts();
    if let Some(pq) = parts.uri.path_and_query().cloned() {
        parts.uri = http::Uri::from(pq);
    }
    Request::from_parts(parts, body)
}
