//! A Go program on real time against lifetime compression: the seed's pipeline on
//! aws-sdk-go-v2 (`scenarios/clients/go/lab.go`, built here offline from Debian's
//! `golang-go` and `golang-github-aws-aws-sdk-go-v2-dev`, which `scripts/test` installs), run
//! against the `mock-sts` binary on its wall clock with `--compress-lifetimes 60`: a one-hour
//! session lasts a minute. libfaketime cannot accelerate a Go binary; compression makes it
//! meet its first expiry a minute in anyway.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use mock_sts::clock::Stopwatch;
use sts_lab_test_support::external::{missing, workspace_root};

use crate::common::*;

/// Debian's aws-sdk-go-v2 sources, for GOPATH mode.
const GOPATH: &str = "/usr/share/gocode";

/// Builds `lab.go` once per test run; `None` (after [`missing`]) without Go or the SDK.
fn build_lab() -> Option<PathBuf> {
    let has_go = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_go
        || !Path::new(GOPATH)
            .join("src/github.com/aws/aws-sdk-go-v2/config")
            .is_dir()
    {
        missing(
            "Go and aws-sdk-go-v2 are missing (Debian: apt-get install golang-go golang-github-aws-aws-sdk-go-v2-dev)",
        );
        return None;
    }
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-lab");
    std::fs::create_dir_all(&out_dir).unwrap();
    let binary = out_dir.join("lab-go");
    let built = Command::new("go")
        .args(["build", "-o"])
        .arg(&binary)
        .arg(workspace_root().join("scenarios/clients/go/lab.go"))
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOCACHE", out_dir.join("cache"))
        .env("GOFLAGS", "")
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "go build failed: {}",
        String::from_utf8_lossy(&built.stderr)
    );
    Some(binary)
}

/// Runs the client in `mode` for `length` seconds of real time, one round every 2 s.
fn run_lab(binary: &Path, mode: &str, endpoint: &str, home: &Path, length: u32) -> Output {
    // The refreshing client renews 10 s early: with Go's default ExpiryWindow of 0 a request
    // signed in the session's last milliseconds can arrive after it ended
    // (cockroachdb/cockroach#169764), which would make this test flaky, not wrong.
    let window = if mode == "default-chain" { "10" } else { "" };
    Command::new(binary)
        .arg(mode)
        .env_clear()
        .env("STS_LAB_GO_EXPIRY_WINDOW", window)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("STS_LAB_LENGTH_SECONDS", length.to_string())
        .env("STS_LAB_EVERY_SECONDS", "2")
        .env("STS_LAB_ROLE_ARN", LONG_ROLE)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_go_client_on_real_time_meets_a_compressed_hour_in_a_minute() {
    let Some(binary) = build_lab() else {
        return;
    };
    let server = spawn_server(&["--compress-lifetimes", "60"]);
    // The seed's shape: the CI user's keys, and a profile that assumes the role from them.
    let pinned = TempDir::new("go-pinned");
    std::fs::write(
        pinned.path().join("config"),
        "[default]\nregion = us-east-1\n",
    )
    .unwrap();
    std::fs::write(
        pinned.path().join("credentials"),
        format!(
            "[default]\naws_access_key_id = {USER_AKID}\naws_secret_access_key = {USER_SECRET}\n"
        ),
    )
    .unwrap();
    let chain = TempDir::new("go-chain");
    std::fs::write(
        chain.path().join("config"),
        format!("[default]\nrole_arn = {LONG_ROLE}\nsource_profile = source\nregion = us-east-1\n"),
    )
    .unwrap();
    std::fs::write(
        chain.path().join("credentials"),
        format!(
            "[source]\naws_access_key_id = {USER_AKID}\naws_secret_access_key = {USER_SECRET}\n"
        ),
    )
    .unwrap();

    // Both for 75 s of real time, side by side: longer than the minute a session now lasts.
    let stopwatch = Stopwatch::start();
    let (manual, refreshing) = tokio::join!(
        tokio::task::spawn_blocking({
            let (binary, url, home) = (binary.clone(), server.url.clone(), pinned.0.clone());
            move || {
                let out = run_lab(&binary, "manual-env", &url, &home, 75);
                (out, stopwatch.elapsed())
            }
        }),
        tokio::task::spawn_blocking({
            let (binary, url, home) = (binary.clone(), server.url.clone(), chain.0.clone());
            move || run_lab(&binary, "default-chain", &url, &home, 75)
        }),
    );
    let (manual, manual_ran) = manual.unwrap();
    let refreshing = refreshing.unwrap();
    let text = |o: &Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    // Keys pinned at start-up die with the compressed session, a minute in, as AWS answers.
    assert_eq!(manual.status.code(), Some(1), "{}", text(&manual));
    assert!(
        text(&manual).contains("api error ExpiredToken"),
        "{}",
        text(&manual)
    );
    assert!(
        manual_ran >= Duration::from_secs(58),
        "died after {manual_ran:?}, before its minute: {}",
        text(&manual)
    );
    // The SDK's assume-role provider behind its credentials cache renews and finishes.
    // (ExpiryWindow 10 s, see run_lab.)
    assert!(refreshing.status.success(), "{}", text(&refreshing));
    assert!(
        text(&refreshing).contains("job complete"),
        "{}",
        text(&refreshing)
    );

    let (status, events) = http("GET", &format!("{}/_mock/events", server.url), None).await;
    assert_eq!(status, 200);
    let events: Vec<serde_json::Value> = events
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let assumed = events
        .iter()
        .filter(|e| e["action"] == "AssumeRole" && e["status"] == 200)
        .count();
    // One for the pinned keys, and at least two for the refreshing client (0 s and ~60 s).
    assert!(assumed >= 3, "{assumed} AssumeRole calls");
    let expired = events
        .iter()
        .filter(|e| e["error_code"] == "ExpiredToken")
        .count();
    assert_eq!(expired, 1, "only the pinned keys expire in use");
}
