//! Tokens the mock mints for a provider with `mint = true`: through the control API and
//! `MockAws::mint_web_identity_token`, exchanged with the real aws-sdk-sts for credentials,
//! refused by STS once expired (`ExpiredTokenException`, 400), checked by the container endpoint
//! in EKS Pod Identity mode, and every kind of bad mint request.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use axum::body::Body;
use http::Request;
use mock_sts::clock::SimClock;
use mock_sts::credentials::ServerKey;
use mock_sts::oidc::{MintError, MintRequest, POD_IDENTITY_AUDIENCE};
use mock_sts::timestamp::unix_seconds;
use mock_sts::{MockAws, World};
use serde_json::{Value, json};

use crate::common::*;

const ISSUER: &str = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";
const PROVIDER_ARN: &str = "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";
const ROLE: &str = "arn:aws:iam::123456789012:role/pod-role";
const SUBJECT: &str = "system:serviceaccount:jobs:pipeline";

fn world() -> World {
    World::from_toml_str(
        &format!(
            "[[account]]\nid = \"123456789012\"\n\
             [[role]]\nname = \"pod-role\"\ntrusted = [\"{PROVIDER_ARN}\", \"pods.eks.amazonaws.com\"]\n\
             [[oidc_provider]]\nurl = \"{ISSUER}\"\nclient_ids = [\"sts.amazonaws.com\", \"{POD_IDENTITY_AUDIENCE}\"]\nmint = true\n\
             [[oidc_provider]]\nurl = \"http://127.0.0.1:9\"\n\
             [container]\nrole = \"pod-role\"\nrelative_uri = \"/v1/credentials\"\nauthorization_provider = \"{ISSUER}\"\n"
        ),
        "mint-world",
    )
    .unwrap()
}

fn mock(key: u8) -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .world(world())
        .key(ServerKey::from_bytes([key; 32]))
        .seed(3)
        .build()
}

fn request(sub: &str, aud: Option<&str>, lifetime_seconds: Option<u64>) -> MintRequest {
    MintRequest {
        provider: ISSUER.to_owned(),
        sub: sub.to_owned(),
        aud: aud.map(str::to_owned),
        lifetime_seconds,
    }
}

fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn assume(aws: &MockAws, token: &str) -> Result<String, (String, String)> {
    let sts = aws_sdk_sts::Client::new(&sdk_config(
        aws,
        // The action is unsigned; these keys are never used.
        Credentials::new("AKIAUNUSED0000000000", "unused", None, None, "unused"),
    ));
    sts.assume_role_with_web_identity()
        .role_arn(ROLE)
        .role_session_name("pod")
        .web_identity_token(token)
        .send()
        .await
        .map(|out| out.subject_from_web_identity_token().unwrap().to_owned())
        .map_err(|e| {
            let e = e.into_service_error();
            (
                e.code().unwrap_or_default().to_owned(),
                e.message().unwrap_or_default().to_owned(),
            )
        })
}

#[tokio::test]
async fn a_minted_token_is_exchanged_until_it_expires() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .world(world())
        .start()
        .await
        .unwrap();
    let minted = aws
        .mint_web_identity_token(&request(SUBJECT, None, Some(600)))
        .unwrap();
    assert_eq!(minted.expires_at, start() + Duration::from_secs(600));
    let c = claims(&minted.token);
    let now = unix_seconds(start());
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(c["sub"], SUBJECT);
    assert_eq!(c["aud"], json!(["sts.amazonaws.com"]));
    assert_eq!(
        (c["iat"].as_i64(), c["nbf"].as_i64()),
        (Some(now), Some(now))
    );
    assert_eq!(c["exp"].as_i64(), Some(now + 600));
    assert_eq!(
        c["kubernetes.io"],
        json!({"namespace": "jobs", "serviceaccount": {"name": "pipeline"}})
    );

    assert_eq!(assume(&aws, &minted.token).await.unwrap(), SUBJECT);
    // One second before `exp` it still works; at `exp` STS answers as AWS does.
    aws.clock().advance(Duration::from_secs(599)).unwrap();
    assert!(assume(&aws, &minted.token).await.is_ok());
    aws.clock().advance(Duration::from_secs(1)).unwrap();
    let (code, message) = assume(&aws, &minted.token).await.unwrap_err();
    assert_eq!(code, "ExpiredTokenException");
    assert_eq!(
        message,
        format!(
            "Token expired: current date/time {} must be before the expiration date/time {}",
            now + 600,
            now + 600
        )
    );
    let event = aws.events().0.last().cloned().unwrap();
    assert_eq!(event.status, 400);
    aws.shutdown().await;
}

#[tokio::test]
async fn the_control_api_mints_and_refuses_bad_requests_naming_the_field() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .world(world())
        .start()
        .await
        .unwrap();
    let url = format!("{}/_mock/oidc/token", aws.endpoint_url());
    let body =
        json!({"provider": ISSUER, "sub": SUBJECT, "aud": POD_IDENTITY_AUDIENCE}).to_string();
    let (status, text) = http("POST", &url, Some(&body)).await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(answer["expiration"], "2026-01-02T00:00:00Z", "{answer}");
    assert_eq!(answer["issued_at"], "2026-01-01T00:00:00Z");
    let token = answer["token"].as_str().unwrap();
    assert_eq!(claims(token)["aud"], json!([POD_IDENTITY_AUDIENCE]));

    for (body, field, needle) in [
        (
            json!({"provider": "http://127.0.0.1:9", "sub": SUBJECT}),
            "provider",
            "has no keys for minting: set mint = true",
        ),
        (
            json!({"provider": "https://nowhere.example", "sub": SUBJECT}),
            "provider",
            "no oidc provider https://nowhere.example",
        ),
        (
            json!({"provider": ISSUER, "sub": SUBJECT, "lifetime_seconds": 599}),
            "lifetime_seconds",
            "600..=86400",
        ),
        (
            json!({"provider": ISSUER, "sub": SUBJECT, "lifetime_seconds": 86401}),
            "lifetime_seconds",
            "got 86401",
        ),
        (
            json!({"provider": ISSUER, "sub": ""}),
            "sub",
            "sub must not be empty",
        ),
        (
            json!({"provider": ISSUER, "sub": SUBJECT, "aud": ""}),
            "aud",
            "aud must not be empty",
        ),
    ] {
        let (status, text) = http("POST", &url, Some(&body.to_string())).await;
        assert_eq!(status, 400, "{body}: {text}");
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(e["code"], "ValidationError", "{text}");
        assert_eq!(e["field"], field, "{text}");
        assert!(e["message"].as_str().unwrap().contains(needle), "{text}");
    }
    let (status, text) = http("POST", &url, Some("{\"provider\": 1}")).await;
    assert_eq!(status, 400, "{text}");
    let (status, _) = http("GET", &url, None).await;
    assert_eq!(status, 405);
    aws.shutdown().await;
}

#[test]
fn mint_errors_name_their_field() {
    let aws = mock(1);
    let err = aws
        .mint_web_identity_token(&request(SUBJECT, None, Some(60)))
        .unwrap_err();
    assert_eq!(err, MintError::Lifetime(60));
    assert_eq!(err.field(), "lifetime_seconds");
}

#[tokio::test]
async fn servers_sharing_a_key_accept_each_others_tokens_and_others_refuse_them() {
    let (a, b, other) = (mock(7), mock(7), mock(8));
    let minted = a
        .mint_web_identity_token(&request(SUBJECT, None, None))
        .unwrap();
    let body = |token: &str| {
        format!(
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName=pod&WebIdentityToken={token}",
            sts_lab_test_support::signing::form_encode(ROLE)
        )
    };
    let post = |token: &str| unsigned("POST", "http://127.0.0.1/", &body(token));
    assert_eq!(call(&b, post(&minted.token)).await.status, 200);
    let refused = call(&other, post(&minted.token)).await;
    refused.assert_sts_error(
        400,
        "InvalidIdentityToken",
        mock_sts::oidc::KEY_RETRIEVAL_MESSAGE,
    );
}

fn credentials_request(token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder()
        .method("GET")
        .uri("http://127.0.0.1/v1/credentials");
    if let Some(token) = token {
        builder = builder.header("authorization", token);
    }
    builder.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_pod_identity_endpoint_accepts_a_valid_projected_token_only() {
    let aws = mock(2);
    let minted = aws
        .mint_web_identity_token(&request(
            "system:serviceaccount:jobs:pipeline",
            Some(POD_IDENTITY_AUDIENCE),
            Some(3600),
        ))
        .unwrap();

    let reply = call(&aws, credentials_request(Some(&minted.token))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let creds: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(creds["AccountId"], "123456789012");

    let reply = call(&aws, credentials_request(None)).await;
    assert_eq!(reply.status, 401, "{}", reply.body);

    let reply = call(&aws, credentials_request(Some("not-a-jwt"))).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.body.contains("AccessDenied") && reply.body.contains("not a valid JWT"));

    aws.clock().advance(Duration::from_secs(3600)).unwrap();
    let reply = call(&aws, credentials_request(Some(&minted.token))).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.body.contains("Token expired"), "{}", reply.body);
    let event = aws.events().0.last().cloned().unwrap();
    assert_eq!(event.status, 403);
    assert!(event.issued.is_none());

    // A token of another server key does not verify.
    let foreign = mock(9)
        .mint_web_identity_token(&request(SUBJECT, Some(POD_IDENTITY_AUDIENCE), None))
        .unwrap();
    let reply = call(&aws, credentials_request(Some(&foreign.token))).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
}

/// A world built in Rust whose container names a provider it does not hold: every token is
/// refused, none waved through; a provider URL spelled with a trailing slash still matches.
#[tokio::test]
async fn the_pod_identity_endpoint_refuses_tokens_for_a_provider_the_world_lacks() {
    let token = mock(2)
        .mint_web_identity_token(&request(SUBJECT, Some(POD_IDENTITY_AUDIENCE), Some(3600)))
        .unwrap()
        .token;
    let build = |provider: &str| {
        let mut w = world();
        w.container.as_mut().unwrap().authorization_provider = Some(provider.to_owned());
        MockAws::builder()
            .clock(SimClock::frozen(start()))
            .world(w)
            .key(ServerKey::from_bytes([2; 32]))
            .seed(3)
            .build()
    };
    let reply = call(
        &build("https://elsewhere.example"),
        credentials_request(Some(&token)),
    )
    .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(
        reply.body.contains("AccessDenied") && reply.body.contains("no OIDC provider"),
        "{}",
        reply.body
    );
    let reply = call(
        &build(&format!("{ISSUER}/")),
        credentials_request(Some(&token)),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn container_provider_errors_name_line_and_key() {
    let base = format!(
        "[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"r\"\n[[oidc_provider]]\nurl = \"{ISSUER}\"\nmint = true\n"
    );
    let err = World::from_toml_str(
        &format!("{base}[container]\nrole = \"r\"\nauthorization_provider = \"https://elsewhere.example\"\n"),
        "w.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("w.toml:10:") && err.contains("container.authorization_provider"),
        "{err}"
    );
    let err = World::from_toml_str(
        &format!("{base}[container]\nrole = \"r\"\nauthorization_token = \"t\"\nauthorization_provider = \"{ISSUER}\"\n"),
        "w.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("w.toml:10:") && err.contains("not both"),
        "{err}"
    );
    // A minting https provider needs no inline keys.
    assert!(World::from_toml_str(&base, "w.toml").is_ok());
}
