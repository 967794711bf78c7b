//! `AssumeRoleWithWebIdentity` end to end: the real SDK, the server on a socket, and an OIDC
//! issuer (a peer that is not ours to run) played by wiremock, whose keys the server discovers
//! through `/.well-known/openid-configuration` and `jwks_uri` as AWS does.

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_sts::error::ProvideErrorMetadata;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use mock_sts::clock::SimClock;
use mock_sts::timestamp::unix_seconds;
use mock_sts::{MockAws, World};
use p256::ecdsa::signature::Signer;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

/// A P-256 private scalar for test tokens (not a secret anywhere).
const EC_D: &str = "B32cUNlodJ3TZ4rJRDVKJcZrt1mqS_8oZ0XWqRSwExE";

fn signing_key() -> p256::ecdsa::SigningKey {
    p256::ecdsa::SigningKey::from_slice(&B64URL.decode(EC_D).unwrap()).unwrap()
}

fn jwks() -> Value {
    let point = signing_key().verifying_key().to_sec1_point(false);
    let bytes = point.as_bytes();
    json!({"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "kid": "k1", "alg": "ES256",
        "x": B64URL.encode(&bytes[1..33]), "y": B64URL.encode(&bytes[33..65])}]})
}

fn jwt(claims: &Value) -> String {
    let header = json!({"alg": "ES256", "typ": "JWT", "kid": "k1"});
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let signature: p256::ecdsa::Signature = signing_key().sign(input.as_bytes());
    format!("{input}.{}", B64URL.encode(signature.to_vec()))
}

struct Fixture {
    issuer: MockServer,
    aws: MockAws,
    provider_arn: String,
}

async fn fixture() -> Fixture {
    let issuer = MockServer::start().await;
    let uri = issuer.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/openid-configuration"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"issuer": uri, "jwks_uri": format!("{uri}/keys")})),
        )
        .expect(1)
        .mount(&issuer)
        .await;
    Mock::given(method("GET"))
        .and(path("/keys"))
        .respond_with(ResponseTemplate::new(200).set_body_json(jwks()))
        .expect(1)
        .mount(&issuer)
        .await;
    let host = uri.trim_start_matches("http://");
    let provider_arn = format!("arn:aws:iam::123456789012:oidc-provider/{host}");
    let world = World::from_toml_str(
        &format!(
            "[[account]]\nid = \"123456789012\"\n\
             [[role]]\nname = \"ci-deployer\"\nmax_session_duration = 7200\ntrusted = [\"{provider_arn}\"]\n\
             [[role]]\nname = \"other\"\n\
             [[oidc_provider]]\nurl = \"{uri}\"\nclient_ids = [\"sts.amazonaws.com\"]\n"
        ),
        "test-world",
    )
    .unwrap();
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .world(world)
        .start()
        .await
        .unwrap();
    Fixture {
        issuer,
        aws,
        provider_arn,
    }
}

fn claims(issuer: &str, exp_offset: i64) -> Value {
    let now = unix_seconds(start());
    json!({"iss": issuer, "sub": "repo:org/app:ref:refs/heads/main", "aud": "sts.amazonaws.com",
           "iat": now - 60, "exp": now + exp_offset})
}

fn client(aws: &MockAws) -> aws_sdk_sts::Client {
    // The action is unsigned; these keys are never used.
    aws_sdk_sts::Client::new(&sdk_config(
        aws,
        Credentials::new("AKIAUNUSED0000000000", "unused", None, None, "unused"),
    ))
}

#[tokio::test]
async fn web_identity_with_discovered_keys_issues_expiring_credentials() {
    let f = fixture().await;
    let sts = client(&f.aws);
    let token = jwt(&claims(&f.issuer.uri(), 300));
    let out = sts
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::123456789012:role/ci-deployer")
        .role_session_name("gha-run-1")
        .web_identity_token(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.subject_from_web_identity_token(),
        Some("repo:org/app:ref:refs/heads/main")
    );
    assert_eq!(out.audience(), Some("sts.amazonaws.com"));
    assert_eq!(out.provider(), Some(f.provider_arn.as_str()));
    let creds = out.credentials().unwrap();
    assert_eq!(
        std::time::SystemTime::try_from(*creds.expiration()).unwrap(),
        start() + Duration::from_secs(3600)
    );
    // The issued credentials work, and expire on the same clock.
    let temp = aws_sdk_sts::Client::new(&sdk_config(
        &f.aws,
        Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            None,
            "web",
        ),
    ));
    let me = temp.get_caller_identity().send().await.unwrap();
    assert_eq!(
        me.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/ci-deployer/gha-run-1")
    );
    f.aws.clock().advance(Duration::from_secs(3600)).unwrap();
    let err = temp.get_caller_identity().send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("ExpiredToken"));

    // A second token uses the cached keys (the mocks expect exactly one fetch each).
    let again = sts
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::123456789012:role/ci-deployer")
        .role_session_name("gha-run-2")
        .web_identity_token(jwt(&claims(&f.issuer.uri(), 7200)))
        .send()
        .await;
    assert!(again.is_ok(), "{again:?}");
    let issued = f
        .aws
        .events()
        .0
        .iter()
        .filter_map(|e| e.issued.clone())
        .count();
    assert_eq!(issued, 2);
    f.issuer.verify().await;
}

#[tokio::test]
async fn an_expired_identity_token_gets_expired_token_exception() {
    let f = fixture().await;
    let err = client(&f.aws)
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::123456789012:role/ci-deployer")
        .role_session_name("late")
        .web_identity_token(jwt(&claims(&f.issuer.uri(), -1)))
        .send()
        .await
        .unwrap_err();
    let e = err.into_service_error();
    assert_eq!(e.code(), Some("ExpiredTokenException"));
    let now = unix_seconds(start());
    assert_eq!(
        e.message().unwrap(),
        format!(
            "Token expired: current date/time {now} must be before the expiration date/time {}",
            now - 1
        )
    );
}

#[tokio::test]
async fn wrong_audience_bad_token_and_untrusted_role_are_refused() {
    let f = fixture().await;
    let sts = client(&f.aws);
    let mut wrong_aud = claims(&f.issuer.uri(), 300);
    wrong_aud["aud"] = json!("someone-else");
    let cases = [
        (
            jwt(&wrong_aud),
            "ci-deployer",
            "InvalidIdentityToken",
            "Incorrect token audience",
        ),
        (
            "not.a.jwt".to_string(),
            "ci-deployer",
            "InvalidIdentityToken",
            "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)",
        ),
        (
            jwt(&claims(&f.issuer.uri(), 300)),
            "other",
            "AccessDenied",
            "Not authorized to perform sts:AssumeRoleWithWebIdentity",
        ),
    ];
    for (token, role, code, message) in cases {
        let err = sts
            .assume_role_with_web_identity()
            .role_arn(format!("arn:aws:iam::123456789012:role/{role}"))
            .role_session_name("s1")
            .web_identity_token(token)
            .send()
            .await
            .unwrap_err();
        let e = err.into_service_error();
        assert_eq!((e.code(), e.message()), (Some(code), Some(message)));
    }
    let unknown = jwt(&claims("https://unknown.example", 300));
    let err = sts
        .assume_role_with_web_identity()
        .role_arn("arn:aws:iam::123456789012:role/ci-deployer")
        .role_session_name("s1")
        .web_identity_token(unknown)
        .send()
        .await
        .unwrap_err();
    let e = err.into_service_error();
    assert_eq!(e.code(), Some("InvalidIdentityToken"));
    assert_eq!(
        e.message(),
        Some("No OpenIDConnect provider found in your account for https://unknown.example")
    );
}
