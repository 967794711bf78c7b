//! Lifetime compression (`--compress-lifetimes K`, `MockAwsBuilder::compress_lifetimes`):
//! every lifetime the server grants divided by K, never below a minute, through the real
//! aws-sdk-sts and over HTTP for the metadata endpoints.

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use mock_sts::compression::LifetimeCompression;

use crate::common::*;

fn k(factor: u32) -> LifetimeCompression {
    LifetimeCompression::new(NonZeroU32::new(factor).unwrap())
}

async fn compressed(factor: u32) -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .compress_lifetimes(k(factor))
        .seed(1)
        .start()
        .await
        .unwrap()
}

fn sts(endpoint: &str, clock: &SimClock) -> aws_sdk_sts::Client {
    let creds = Credentials::new(USER_AKID, USER_SECRET, None, None, "test");
    aws_sdk_sts::Client::new(&sdk_config_for(endpoint, clock, creds))
}

async fn assume_role_lifetime(client: &aws_sdk_sts::Client, duration: Option<i32>) -> Duration {
    let out = client
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("compressed")
        .set_duration_seconds(duration)
        .send()
        .await
        .unwrap();
    let expiration = SystemTime::try_from(*out.credentials().unwrap().expiration()).unwrap();
    expiration.duration_since(start()).unwrap()
}

#[tokio::test]
async fn sessions_last_their_duration_divided_by_k_and_at_least_a_minute() {
    let aws = compressed(60).await;
    let client = sts(&aws.endpoint_url(), aws.clock());
    // The default hour: a minute.
    assert_eq!(
        assume_role_lifetime(&client, None).await,
        Duration::from_secs(60)
    );
    // Twelve hours (the role allows them): twelve minutes.
    assert_eq!(
        assume_role_lifetime(&client, Some(43_200)).await,
        Duration::from_secs(720)
    );
    // 900 s / 60 would be 15 s: the floor is a minute.
    assert_eq!(
        assume_role_lifetime(&client, Some(900)).await,
        Duration::from_secs(60)
    );
    // Validation still judges the requested duration, as AWS does.
    let err = client
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("compressed")
        .duration_seconds(899)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err),
        Some("ValidationError")
    );
    // GetSessionToken's default twelve hours.
    let out = client.get_session_token().send().await.unwrap();
    let expiration = SystemTime::try_from(*out.credentials().unwrap().expiration()).unwrap();
    assert_eq!(expiration, start() + Duration::from_secs(720));

    // The compressed session expires on the server's clock like any other.
    let c = out.credentials().unwrap();
    let session = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "session",
    );
    let as_session = aws_sdk_sts::Client::new(&sdk_config(&aws, session));
    as_session.get_caller_identity().send().await.unwrap();
    aws.clock().advance(Duration::from_secs(720)).unwrap();
    let err = as_session.get_caller_identity().send().await.unwrap_err();
    assert_eq!(
        aws_sdk_sts::error::ProvideErrorMetadata::code(&err),
        Some("ExpiredToken")
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn instance_credentials_rotate_and_imds_tokens_expire_k_times_sooner() {
    let aws = compressed(60).await;
    let base = aws.endpoint_url();
    let (status, headers, token) = http_bytes(
        "PUT",
        &format!("{base}/latest/api/token"),
        &[("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    // Six hours asked, six minutes granted, and said so.
    assert_eq!(headers["x-aws-ec2-metadata-token-ttl-seconds"], "360");
    let token = String::from_utf8(token.to_vec()).unwrap();
    let get = |path: &'static str| {
        let token = token.clone();
        let url = format!("{base}{path}");
        async move {
            http_bytes(
                "GET",
                &url,
                &[("x-aws-ec2-metadata-token", token.as_str())],
                Vec::new(),
            )
            .await
        }
    };
    let (status, _, body) = get("/latest/meta-data/iam/security-credentials/instance-role").await;
    assert_eq!(status, 200, "{body:?}");
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let time =
        |field: &str| mock_sts::timestamp::parse_rfc3339(doc[field].as_str().unwrap()).unwrap();
    // EC2's six-hour credentials, a new set every hour: six minutes, a new set every minute.
    let lifetime = time("Expiration")
        .duration_since(time("LastUpdated"))
        .unwrap();
    assert_eq!(lifetime, Duration::from_secs(360));
    aws.clock().advance(Duration::from_secs(60)).unwrap();
    let (_, _, body) = get("/latest/meta-data/iam/security-credentials/instance-role").await;
    let next: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_ne!(
        next["AccessKeyId"], doc["AccessKeyId"],
        "rotated after a minute"
    );
    // The token ran out after its six minutes.
    aws.clock().advance(Duration::from_secs(300)).unwrap();
    let (status, _, _) = get("/latest/meta-data/iam/security-credentials/instance-role").await;
    assert_eq!(status, 401);
    aws.shutdown().await;
}

#[tokio::test]
async fn the_binary_compresses_with_its_flag() {
    let server = spawn_server(&[
        "--clock",
        "frozen",
        "--start",
        "2026-01-01T00:00:00Z",
        "--compress-lifetimes",
        "12",
    ]);
    let clock = SimClock::frozen(start());
    let client = sts(&server.url, &clock);
    assert_eq!(
        assume_role_lifetime(&client, None).await,
        Duration::from_secs(300)
    );
}
