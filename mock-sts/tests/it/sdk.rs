//! The real aws-sdk-sts and aws-config against the server on a real socket, sharing its clock.

use std::time::{Duration, SystemTime};

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;

use crate::common::*;

async fn started() -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(1)
        .start()
        .await
        .unwrap()
}

fn user_client(aws: &MockAws) -> aws_sdk_sts::Client {
    let creds = Credentials::new(USER_AKID, USER_SECRET, None, None, "test");
    aws_sdk_sts::Client::new(&sdk_config(aws, creds))
}

fn temp_client(aws: &MockAws, c: &aws_sdk_sts::types::Credentials) -> aws_sdk_sts::Client {
    let creds = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "assumed",
    );
    aws_sdk_sts::Client::new(&sdk_config(aws, creds))
}

fn expiration(c: &aws_sdk_sts::types::Credentials) -> SystemTime {
    SystemTime::try_from(*c.expiration()).unwrap()
}

#[tokio::test]
async fn default_assume_role_expires_one_hour_after_issue() {
    let aws = started().await;
    let out = user_client(&aws)
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("sdk")
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    assert_eq!(expiration(creds), start() + Duration::from_secs(3600));
    assert!(creds.access_key_id().starts_with("ASIA"));
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::123456789012:assumed-role/cross-account-s3/sdk"
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn fourteen_thousand_four_hundred_seconds_on_the_twelve_hour_role_is_granted() {
    let aws = started().await;
    let out = user_client(&aws)
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("sdk")
        .duration_seconds(14400)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expiration(out.credentials().unwrap()),
        start() + Duration::from_secs(14400)
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn fifty_thousand_seconds_gets_a_validation_error() {
    let aws = started().await;
    let err = user_client(&aws)
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("sdk")
        .duration_seconds(50000)
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("ValidationError"));
    assert_eq!(
        service.message(),
        Some(
            "1 validation error detected: Value '50000' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200"
        )
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn chained_7200_seconds_is_refused() {
    let aws = started().await;
    let first = user_client(&aws)
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("first")
        .send()
        .await
        .unwrap();
    let err = temp_client(&aws, first.credentials().unwrap())
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("second")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("ValidationError"));
    assert_eq!(
        service.message(),
        Some(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."
        )
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn get_caller_identity_succeeds_1ms_before_expiry_and_fails_at_expiry() {
    let aws = started().await;
    let out = user_client(&aws)
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("edge")
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    let expiry = expiration(creds);
    let client = temp_client(&aws, creds);

    aws.clock()
        .advance(expiry.duration_since(aws.clock().now()).unwrap() - Duration::from_millis(1))
        .unwrap();
    let identity = client.get_caller_identity().send().await.unwrap();
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/cross-account-s3/edge")
    );

    aws.clock().advance(Duration::from_millis(1)).unwrap();
    assert_eq!(aws.clock().now(), expiry);
    let err = client.get_caller_identity().send().await.unwrap_err();
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("ExpiredToken"));
    assert_eq!(
        service.message(),
        Some("The security token included in the request is expired")
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn a_refreshing_provider_never_sees_expired_token_over_four_hours() {
    let aws = started().await;
    let base = sdk_config(
        &aws,
        Credentials::new(USER_AKID, USER_SECRET, None, None, "test"),
    );
    let provider = AssumeRoleProvider::builder(LONG_ROLE)
        .session_name("refreshing")
        .configure(&base)
        .build()
        .await;
    let conf = aws_sdk_sts::config::Builder::from(&base)
        .credentials_provider(provider)
        .build();
    let client = aws_sdk_sts::Client::from_conf(conf);
    for _ in 0..240 {
        client.get_caller_identity().send().await.unwrap();
        aws.clock().advance(Duration::from_secs(60)).unwrap();
    }
    let events = aws.events();
    assert_eq!(events.errors().count(), 0);
    let assumes: Vec<_> = events.action(mock_sts::sts::Action::AssumeRole).collect();
    // Issued at 0, then refreshed when each one-hour credential reaches its expiry buffer.
    assert_eq!(assumes.len(), 4, "{assumes:#?}");
    assert_eq!(
        events
            .action(mock_sts::sts::Action::GetCallerIdentity)
            .count(),
        240
    );
    for event in events.action(mock_sts::sts::Action::GetCallerIdentity) {
        let signer = event.signed_by.as_ref().unwrap();
        assert!(signer.expires_at.unwrap() > event.sim_time);
    }
    aws.shutdown().await;
}
