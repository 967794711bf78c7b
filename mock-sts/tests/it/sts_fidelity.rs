//! STS behaviours SDKs key on (issue 12): the whole second `Expiration` falls on, judged at the
//! instant advertised, and the `InvalidClientTokenId` variants a credential cache's invalidation
//! rules see, through the real aws-sdk-sts against the server on a real socket. Each test names
//! the recorded AWS answer it expects, or says the mock's answer is unconfirmed.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;

use crate::common::*;

async fn started_at(at: SystemTime) -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(at))
        .seed(12)
        .start()
        .await
        .unwrap()
}

fn sts(aws: &MockAws, credentials: Credentials) -> aws_sdk_sts::Client {
    aws_sdk_sts::Client::new(&sdk_config(aws, credentials))
}

/// Temporary credentials from `AssumeRole` on the 12-hour role.
async fn assume(aws: &MockAws, duration_seconds: i32) -> aws_sdk_sts::types::Credentials {
    sts(aws, user_credentials())
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("fidelity")
        .duration_seconds(duration_seconds)
        .send()
        .await
        .unwrap()
        .credentials()
        .unwrap()
        .clone()
}

fn sdk_credentials(c: &aws_sdk_sts::types::Credentials, token: Option<&str>) -> Credentials {
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        token.map(str::to_owned),
        None,
        "fidelity",
    )
}

/// Status, code and message of `GetCallerIdentity` signed with `credentials`.
async fn caller_identity_error(aws: &MockAws, credentials: Credentials) -> (u16, String, String) {
    let err = sts(aws, credentials)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    let status = err.raw_response().unwrap().status().as_u16();
    (
        status,
        err.code().unwrap_or_default().to_owned(),
        err.message().unwrap_or_default().to_owned(),
    )
}

/// `Expiration` is issue time plus `DurationSeconds`, truncated to the second: smithy-rs's
/// recorded STS answers (`aws-config/test-data/default-credential-provider-chain/
/// web_identity_token_env`, `web_identity_token_profile`, `profile-provider/e2e_assume_role`)
/// carry `Expiration` = response `Date` + duration. The server refuses the credentials from
/// that advertised instant on, and not a millisecond before.
#[tokio::test]
async fn expiration_truncates_issue_time_plus_duration_and_is_judged_there() {
    let issued_at = start() + Duration::from_millis(700);
    let aws = started_at(issued_at).await;
    let creds = assume(&aws, 900).await;
    let expiration = SystemTime::try_from(*creds.expiration()).unwrap();
    assert_eq!(expiration, start() + Duration::from_secs(900));
    assert!(expiration < issued_at + Duration::from_secs(900));

    let temp = sts(&aws, sdk_credentials(&creds, Some(creds.session_token())));
    aws.clock()
        .advance(
            expiration
                .duration_since(issued_at)
                .unwrap()
                .saturating_sub(Duration::from_millis(1)),
        )
        .unwrap();
    temp.get_caller_identity().send().await.unwrap();

    aws.clock().advance(Duration::from_millis(1)).unwrap();
    assert_eq!(aws.clock().now(), expiration);
    let err = temp.get_caller_identity().send().await.unwrap_err();
    assert_eq!(err.code(), Some("ExpiredToken"));
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    aws.shutdown().await;
}

/// A session key sent without its token is a key STS does not know: 403
/// `InvalidClientTokenId`, "…is invalid." with a period, as the AWS CLI prints it for a
/// forgotten `aws_session_token` and for unknown keys (facebookresearch/Ego4d#413,
/// barnybug/cli53#278 from Go's SDK).
#[tokio::test]
async fn a_session_key_without_its_token_is_an_unknown_key() {
    let aws = started_at(start()).await;
    let creds = assume(&aws, 900).await;
    let (status, code, message) = caller_identity_error(&aws, sdk_credentials(&creds, None)).await;
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid."
        )
    );
    let stranger = Credentials::new("AKIAUNKNOWNKEY000000", USER_SECRET, None, None, "test");
    assert_eq!(
        caller_identity_error(&aws, stranger).await,
        (status, code, message)
    );
    aws.shutdown().await;
}

/// A token STS cannot use gets 403 `InvalidClientTokenId` without the period: the raw body
/// aws-azure-login/aws-azure-login#251 recorded (305 bytes, `Sender`). A malformed token is
/// that case; another session's valid token is the mock's answer, **unconfirmed**.
#[tokio::test]
async fn malformed_and_mismatched_tokens_are_invalid_client_token_id() {
    let aws = started_at(start()).await;
    let creds = assume(&aws, 900).await;
    let other = assume(&aws, 900).await;
    for token in ["not-a-session-token", other.session_token()] {
        let (status, code, message) =
            caller_identity_error(&aws, sdk_credentials(&creds, Some(token))).await;
        assert_eq!(
            (status, code.as_str(), message.as_str()),
            (
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid"
            ),
            "token {token:.20}"
        );
    }
    aws.shutdown().await;
}
