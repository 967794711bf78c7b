//! boto3 and the AWS CLI (pinned versions, in the venv `scripts/test` creates) against the
//! `mock-sts` binary: the same expiry, seen by the clients people actually run.
//!
//! Without the venv these tests fail, saying how to get it (`scripts/test` creates it); with
//! `STS_LAB_SKIP_EXTERNAL_CLIENTS=1` they print that they were skipped and pass, on purpose.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use crate::common::*;

/// The venv with boto3 and the AWS CLI; `None` (the test returns) only when
/// `STS_LAB_SKIP_EXTERNAL_CLIENTS=1` asks to skip, otherwise a missing venv fails the test.
pub(crate) fn venv() -> Option<PathBuf> {
    sts_lab_test_support::external::require_venv()
}

/// A command with a clean AWS environment: no user config, a private HOME, the mock endpoint.
pub(crate) fn aws_command(program: PathBuf, endpoint: &str, home: &std::path::Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

pub(crate) fn home(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mock-sts-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn cli(
    venv: &std::path::Path,
    server: &Server,
    home: &std::path::Path,
    keys: &Keys,
    args: &[&str],
) -> Output {
    let mut cmd = aws_command(venv.join("bin/aws"), &server.url, home);
    cmd.env("AWS_ACCESS_KEY_ID", &keys.akid)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
        .args(args)
        .args(["--output", "json"]);
    if let Some(token) = &keys.token {
        cmd.env("AWS_SESSION_TOKEN", token);
    }
    cmd.output().unwrap()
}

fn keys_from_cli(out: &Output) -> (Keys, String) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = &json["Credentials"];
    (
        Keys {
            akid: c["AccessKeyId"].as_str().unwrap().into(),
            secret: c["SecretAccessKey"].as_str().unwrap().into(),
            token: Some(c["SessionToken"].as_str().unwrap().into()),
        },
        c["Expiration"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn aws_cli_sees_expired_token_after_the_clock_is_advanced() {
    let Some(venv) = venv() else { return };
    // As a user runs it: a frozen clock that starts at the current time, default skew window.
    let server = spawn_server(&["--clock", "frozen"]);
    let (_, clock) = http("GET", &format!("{}/_mock/clock", server.url), None).await;
    let clock: serde_json::Value = serde_json::from_str(&clock).unwrap();
    let now = mock_sts::timestamp::parse_rfc3339(clock["now"].as_str().unwrap()).unwrap();
    let expected = mock_sts::timestamp::iso8601_seconds(
        mock_sts::timestamp::floor_to_second(now) + Duration::from_secs(3600),
    );
    let home = home("cli-frozen");
    let out = cli(
        &venv,
        &server,
        &home,
        &Keys::user(),
        &[
            "sts",
            "assume-role",
            "--role-arn",
            LONG_ROLE,
            "--role-session-name",
            "cli-session",
        ],
    );
    let (temp, expiration) = keys_from_cli(&out);
    // One simulated hour after issue (the CLI prints it as 2026-11-27T23:00:00+00:00).
    assert_eq!(
        &expiration[..19],
        &expected[..19],
        "{expiration} vs {expected}"
    );

    let out = cli(
        &venv,
        &server,
        &home,
        &temp,
        &["sts", "get-caller-identity"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let identity: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        identity["Arn"],
        "arn:aws:sts::123456789012:assumed-role/cross-account-s3/cli-session"
    );

    let (status, body) = http(
        "POST",
        &format!("{}/_mock/clock/advance", server.url),
        Some("{\"seconds\": 3600}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let out = cli(
        &venv,
        &server,
        &home,
        &temp,
        &["sts", "get-caller-identity"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("(ExpiredToken)"), "{stderr}");
    assert!(
        stderr.contains("The security token included in the request is expired"),
        "{stderr}"
    );
    std::fs::remove_dir_all(home).unwrap();
}

#[tokio::test]
async fn aws_cli_on_real_time_sees_expiry_one_real_second_after_issue_at_3600x() {
    let Some(venv) = venv() else { return };
    let server = spawn_server(&["--clock", "scaled:3600", "--max-skew", "off"]);
    let home = home("cli-scaled");
    let out = cli(
        &venv,
        &server,
        &home,
        &Keys::user(),
        &[
            "sts",
            "assume-role",
            "--role-arn",
            LONG_ROLE,
            "--role-session-name",
            "cli-scaled",
        ],
    );
    let (temp, _) = keys_from_cli(&out);
    // One real second is one simulated hour; the CLI's own start-up adds more.
    std::thread::sleep(Duration::from_millis(1100));
    let out = cli(
        &venv,
        &server,
        &home,
        &temp,
        &["sts", "get-caller-identity"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("(ExpiredToken)"),
        "{stderr}"
    );
    std::fs::remove_dir_all(home).unwrap();
}

const BOTO3_SCRIPT: &str = r#"
import json, os, sys, urllib.request
import boto3
from botocore.exceptions import ClientError

endpoint = os.environ["AWS_ENDPOINT_URL"]
sts = boto3.client("sts", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                   aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
out = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/cross-account-s3", RoleSessionName="boto3-session")
c = out["Credentials"]
result = {"expiration": c["Expiration"].isoformat()}
temp = boto3.client("sts", aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                    aws_session_token=c["SessionToken"])
result["arn"] = temp.get_caller_identity()["Arn"]
req = urllib.request.Request(endpoint + "/_mock/clock/advance", data=b'{"seconds": 3600}', method="POST")
urllib.request.urlopen(req).read()
try:
    temp.get_caller_identity()
    result["after"] = "ok"
except ClientError as e:
    result["after"] = e.response["Error"]["Code"]
    result["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]
    result["message"] = e.response["Error"]["Message"]
print(json.dumps(result))
"#;

#[test]
fn boto3_sees_expired_token_after_the_clock_is_advanced() {
    let Some(venv) = venv() else { return };
    let server = spawn_server(&[
        "--clock",
        "frozen",
        "--start",
        "2026-01-01T00:00:00Z",
        "--max-skew",
        "off",
    ]);
    let home = home("boto3");
    let out = aws_command(venv.join("bin/python"), &server.url, &home)
        .args(["-c", BOTO3_SCRIPT])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result["expiration"], "2026-01-01T01:00:00+00:00");
    assert_eq!(
        result["arn"],
        "arn:aws:sts::123456789012:assumed-role/cross-account-s3/boto3-session"
    );
    assert_eq!(result["after"], "ExpiredToken");
    assert_eq!(result["status"], 403);
    assert_eq!(
        result["message"],
        "The security token included in the request is expired"
    );
    std::fs::remove_dir_all(home).unwrap();
}
