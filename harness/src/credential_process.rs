//! `credential_process`: the helper program a `process` run's profile names, and how many times
//! the program's SDK ran it.
//!
//! With `profile = "credential-process"`, the run's `[default]` profile is
//!
//! ```ini
//! credential_process = /path/to/sts-harness credential-process --endpoint http://127.0.0.1:PORT --role-arn ARN --access-key-id AKIA… --secret-access-key …
//! ```
//!
//! The helper is the `sts-harness` binary itself ([`fetch`] behind its `credential-process`
//! subcommand): one `AssumeRole` of the run's role with the world's user keys (as session
//! [`SESSION_NAME`], with `--duration-seconds` when the run sets `duration_seconds`), printed as
//! the JSON the SDKs expect from a credential process (`Version` 1, the keys, the session token
//! and `Expiration`, ISO 8601 in UTC), so an SDK that honours `Expiration` runs it again before
//! then (botocore's `ProcessProvider` returns refreshable credentials; aws/aws-cli#7246 is a
//! client that does not). It runs as a child of the program, so under libfaketime it inherits
//! the program's accelerated clock and signs with it. The user's keys are on its command line
//! because a credential process gets nothing else from the SDK; they are the world's test keys.
//!
//! Every run of the helper that gets credentials is one `AssumeRole` the mock records with that
//! session name, so [`invocations`] counts them from the events: "never re-run after expiry" (one run, then
//! `ExpiredToken`) and "run twice" (aws/aws-cli#5048: twice as many runs as refreshes need)
//! are visible in the report.

use std::path::Path;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use mock_sts::events::Action;
use mock_sts::timestamp;

use crate::runner::RunResult;
use crate::scenario::{ProfileKind, RunSpec};

/// The role session name of the helper's `AssumeRole` calls: how the report finds them.
pub const SESSION_NAME: &str = "credential-process";

/// What the helper needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HelperArgs {
    /// The mock's endpoint URL.
    pub endpoint: String,
    /// The role to assume.
    pub role_arn: String,
    /// The user's long-term access key id.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    /// `DurationSeconds`, when given.
    pub duration_seconds: Option<u32>,
}

/// Why the helper printed no credentials.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HelperError(String);

/// The `credential_process` line of the profile: the helper at `helper` with `args`.
pub fn command_line(helper: &Path, args: &HelperArgs) -> String {
    let mut line = format!(
        "{} credential-process --endpoint {} --role-arn {} --access-key-id {} --secret-access-key {}",
        helper.display(),
        args.endpoint,
        args.role_arn,
        args.access_key_id,
        args.secret_access_key
    );
    if let Some(d) = args.duration_seconds {
        line.push_str(&format!(" --duration-seconds {d}"));
    }
    line
}

/// Calls `AssumeRole` and returns the credential process JSON (one line).
///
/// # Errors
/// [`HelperError`] with STS's code and message when the call fails.
pub async fn fetch(args: &HelperArgs) -> Result<String, HelperError> {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&args.endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .credentials_provider(Credentials::new(
            &args.access_key_id,
            &args.secret_access_key,
            None,
            None,
            "credential-process-user",
        ))
        .build();
    let out = aws_sdk_sts::Client::from_conf(config)
        .assume_role()
        .role_arn(&args.role_arn)
        .role_session_name(SESSION_NAME)
        .set_duration_seconds(args.duration_seconds.and_then(|d| i32::try_from(d).ok()))
        .send()
        .await
        .map_err(|e| {
            let e = e.into_service_error();
            HelperError(format!(
                "AssumeRole failed: {}: {}",
                e.code().unwrap_or("unknown"),
                e.message().unwrap_or_default()
            ))
        })?;
    let c = out
        .credentials()
        .ok_or_else(|| HelperError("AssumeRole returned no credentials".into()))?;
    let expiration = std::time::SystemTime::try_from(*c.expiration())
        .map_err(|_| HelperError("AssumeRole returned an unreadable Expiration".into()))?;
    Ok(serde_json::json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id(),
        "SecretAccessKey": c.secret_access_key(),
        "SessionToken": c.session_token(),
        "Expiration": timestamp::iso8601_seconds(expiration),
    })
    .to_string())
}

/// How many times the helper got credentials in a `credential-process` run (the `AssumeRole`
/// calls that issued them under [`SESSION_NAME`]; a refused call, which its SDK may retry, is a
/// failure in the report instead); `None` for other runs.
pub fn invocations(result: &RunResult) -> Option<u64> {
    uses_helper(&result.run).then(|| {
        result
            .events
            .iter()
            .filter(|e| e.action == Action::Sts(mock_sts::sts::Action::AssumeRole))
            .filter(|e| {
                e.issued.as_ref().and_then(|i| i.session_name.as_deref()) == Some(SESSION_NAME)
            })
            .count() as u64
    })
}

/// Whether the run's profile names the helper.
pub fn uses_helper(run: &RunSpec) -> bool {
    run.process
        .as_ref()
        .is_some_and(|p| p.profile == ProfileKind::CredentialProcess)
}
