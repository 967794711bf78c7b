//! Instance metadata (IMDSv2) and the container credential endpoint through the `Router`:
//! every kind of bad input with its status and body, and the rotation model (credentials
//! change every epoch, old ones stay valid until their own expiry, a restart with the same key
//! serves the same ones).

use std::time::Duration;

use axum::body::Body;
use http::Request;
use mock_sts::MockAws;
use mock_sts::World;
use mock_sts::aws_error::ErrorCode;
use mock_sts::clock::SimClock;
use mock_sts::credentials::IssuedBy;
use mock_sts::credentials::ServerKey;

use crate::common::*;

const TOKEN_PATH: &str = "http://169.254.169.254/latest/api/token";
const ROLE_LIST: &str = "http://169.254.169.254/latest/meta-data/iam/security-credentials/";
const INSTANCE_CREDS: &str =
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/instance-role";
const EXTENDED_CREDS: &str =
    "http://169.254.169.254/latest/meta-data/iam/security-credentials-extended/instance-role";
const CONTAINER_PATH: &str = "/v2/credentials/6d1e8f2a-4b7c-4e9d-a3f5-0c2b9e7d1a48";

/// The default world's principals, then `extra` sections.
pub(crate) fn world_with(extra: &str) -> World {
    let text = format!(
        "[[account]]\nid = \"123456789012\"\n[[user]]\nname = \"pipeline\"\naccess_key_id = \"{USER_AKID}\"\nsecret_access_key = \"{USER_SECRET}\"\n[[role]]\nname = \"cross-account-s3\"\nmax_session_duration = 43200\n[[role]]\nname = \"instance-role\"\ntrusted = [\"ec2.amazonaws.com\"]\n[[role]]\nname = \"task-role\"\n{extra}"
    );
    World::from_toml_str(&text, "<test>").unwrap()
}

fn mock_with(world: World) -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .world(world)
        .seed(5)
        .build()
}

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::empty()).unwrap()
}

async fn token(aws: &MockAws, ttl: &str) -> String {
    let reply = call(
        aws,
        request(
            "PUT",
            TOKEN_PATH,
            &[("x-aws-ec2-metadata-token-ttl-seconds", ttl)],
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

async fn get(aws: &MockAws, uri: &str, token: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = token
        .map(|t| vec![("x-aws-ec2-metadata-token", t)])
        .unwrap_or_default();
    call(aws, request("GET", uri, &headers)).await
}

/// Asserts an IMDS status page: status, `text/html`, `Server: EC2ws`, the title.
#[track_caller]
fn assert_page(reply: &Reply, status: u16, title: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "text/html");
    assert_eq!(reply.headers["server"], "EC2ws");
    assert!(
        reply
            .body
            .contains(&format!("<title>{status} - {title}</title>")),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains(&format!("<h1>{status} - {title}</h1>")),
        "{}",
        reply.body
    );
}

fn json(reply: &Reply) -> serde_json::Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("{e}: {}", reply.body))
}

/// The last event's outcome.
fn last_event(aws: &MockAws) -> mock_sts::events::Event {
    aws.events().0.last().cloned().unwrap()
}

#[tokio::test]
async fn token_then_role_then_credentials_as_imds_answers_them() {
    let aws = frozen_mock();
    let reply = call(
        &aws,
        request(
            "PUT",
            TOKEN_PATH,
            &[("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
        ),
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers["x-aws-ec2-metadata-token-ttl-seconds"],
        "21600"
    );
    assert_eq!(reply.headers["content-type"], "text/plain");
    assert_eq!(reply.headers["server"], "EC2ws");
    assert_eq!(reply.headers["date"], "Thu, 01 Jan 2026 00:00:00 GMT");
    let token = reply.body;
    assert!(token.len() > 40 && !token.contains('\n'), "{token}");

    let reply = get(&aws, ROLE_LIST, Some(&token)).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "instance-role");
    assert_eq!(reply.headers["content-type"], "text/plain");
    assert_eq!(
        reply.headers["x-aws-ec2-metadata-token-ttl-seconds"],
        "21600"
    );

    let reply = get(&aws, INSTANCE_CREDS, Some(&token)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "text/plain");
    assert_eq!(reply.headers["server"], "EC2ws");
    assert_eq!(reply.headers["accept-ranges"], "none");
    assert_eq!(
        reply.headers["last-modified"],
        "Thu, 01 Jan 2026 00:00:00 GMT"
    );
    let creds = json(&reply);
    let akid = creds["AccessKeyId"].as_str().unwrap();
    assert!(akid.starts_with("ASIA") && akid.len() == 20, "{akid}");
    let expected = format!(
        "{{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2026-01-01T00:00:00Z\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"{akid}\",\n  \"SecretAccessKey\" : \"{}\",\n  \"Token\" : \"{}\",\n  \"Expiration\" : \"2026-01-01T06:00:00Z\"\n}}",
        creds["SecretAccessKey"].as_str().unwrap(),
        creds["Token"].as_str().unwrap(),
    );
    assert_eq!(reply.body, expected);

    let reply = get(&aws, EXTENDED_CREDS, Some(&token)).await;
    let extended = json(&reply);
    assert_eq!(extended["AccountId"], "123456789012");
    assert_eq!(extended["AccessKeyId"], akid);
    let listed = get(
        &aws,
        "http://169.254.169.254/latest/meta-data/iam/security-credentials-extended",
        Some(&token),
    )
    .await;
    assert_eq!(listed.body, "instance-role");

    let events = aws.events();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "GetMetadataToken",
            "GetMetadata",
            "GetInstanceCredentials",
            "GetInstanceCredentials",
            "GetMetadata"
        ]
    );
    assert!(events.iter().all(|e| e.service.as_str() == "imds"));
    let issued = events.0[2].issued.as_ref().unwrap();
    assert_eq!(issued.access_key_id, akid);
    assert_eq!(
        issued.role_arn.as_deref(),
        Some("arn:aws:iam::123456789012:role/instance-role")
    );
    assert_eq!(issued.session_name.as_deref(), Some("i-1234567890abcdef0"));
    assert_eq!(issued.duration_seconds_granted, 21600);
}

#[tokio::test]
async fn instance_credentials_sign_sts_calls_as_the_instance_role() {
    let aws = frozen_mock();
    let token = token(&aws, "60").await;
    let creds = json(&get(&aws, INSTANCE_CREDS, Some(&token)).await);
    let keys = Keys {
        akid: creds["AccessKeyId"].as_str().unwrap().into(),
        secret: creds["SecretAccessKey"].as_str().unwrap().into(),
        token: Some(creds["Token"].as_str().unwrap().into()),
    };
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &keys,
            start(),
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.xml("Arn").as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/instance-role/i-1234567890abcdef0")
    );
    let signer = last_event(&aws).signed_by.unwrap();
    assert_eq!(signer.issued_by, Some(IssuedBy::InstanceMetadata));
}

#[tokio::test]
async fn no_token_when_tokens_are_required_is_401() {
    let aws = frozen_mock();
    for uri in [
        ROLE_LIST,
        INSTANCE_CREDS,
        "http://169.254.169.254/latest/meta-data/",
    ] {
        let reply = get(&aws, uri, None).await;
        assert_page(&reply, 401, "Unauthorized");
        assert!(
            reply
                .headers
                .get("x-aws-ec2-metadata-token-ttl-seconds")
                .is_none()
        );
        assert_eq!(last_event(&aws).error_code, Some(ErrorCode::Unauthorized));
        assert_eq!(last_event(&aws).status, 401);
    }
}

#[tokio::test]
async fn a_token_is_refused_from_the_instant_its_ttl_runs_out() {
    let aws = frozen_mock();
    let token = token(&aws, "60").await;
    aws.clock().advance(Duration::from_millis(59_999)).unwrap();
    let reply = get(&aws, ROLE_LIST, Some(&token)).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.headers["x-aws-ec2-metadata-token-ttl-seconds"], "1");
    aws.clock().advance(Duration::from_millis(1)).unwrap();
    let reply = get(&aws, ROLE_LIST, Some(&token)).await;
    assert_page(&reply, 401, "Unauthorized");
    let event = last_event(&aws);
    assert_eq!(event.error_code, Some(ErrorCode::Unauthorized));
    assert_eq!(
        event.error_message.as_deref(),
        Some("the IMDSv2 token has expired")
    );
}

#[tokio::test]
async fn forged_or_foreign_tokens_are_401() {
    let aws = frozen_mock();
    let other = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .key(ServerKey::from_bytes([1; 32]))
        .build();
    let foreign = token(&other, "600").await;
    for bad in [foreign.as_str(), "AQAAAZt24fsA", "not a token at all"] {
        let reply = get(&aws, ROLE_LIST, Some(bad)).await;
        assert_page(&reply, 401, "Unauthorized");
    }
}

#[tokio::test]
async fn token_ttl_outside_1_to_21600_or_not_a_number_is_400() {
    let aws = frozen_mock();
    for ttl in ["0", "21601", "six hours", "-1", "3.5"] {
        let reply = call(
            &aws,
            request(
                "PUT",
                TOKEN_PATH,
                &[("x-aws-ec2-metadata-token-ttl-seconds", ttl)],
            ),
        )
        .await;
        assert_page(&reply, 400, "Bad Request");
        assert!(
            reply
                .headers
                .get("x-aws-ec2-metadata-token-ttl-seconds")
                .is_none(),
            "{ttl}"
        );
        let event = last_event(&aws);
        assert_eq!(
            (event.action.as_str(), event.error_code),
            ("GetMetadataToken", Some(ErrorCode::BadRequest))
        );
    }
    let reply = call(&aws, request("PUT", TOKEN_PATH, &[])).await;
    assert_page(&reply, 400, "Bad Request");
}

#[tokio::test]
async fn proxied_token_requests_are_403_and_other_methods_405() {
    let aws = frozen_mock();
    let reply = call(
        &aws,
        request(
            "PUT",
            TOKEN_PATH,
            &[
                ("x-aws-ec2-metadata-token-ttl-seconds", "60"),
                ("x-forwarded-for", "203.0.113.9"),
            ],
        ),
    )
    .await;
    assert_page(&reply, 403, "Forbidden");
    assert_eq!(last_event(&aws).error_code, Some(ErrorCode::Forbidden));

    let reply = call(&aws, request("GET", TOKEN_PATH, &[])).await;
    assert_page(&reply, 405, "Method Not Allowed");
    assert_eq!(reply.headers["allow"], "PUT");
    let token = token(&aws, "60").await;
    let reply = call(
        &aws,
        request(
            "POST",
            INSTANCE_CREDS,
            &[("x-aws-ec2-metadata-token", &token)],
        ),
    )
    .await;
    assert_page(&reply, 405, "Method Not Allowed");
}

#[tokio::test]
async fn unknown_roles_and_paths_are_404() {
    let aws = frozen_mock();
    let token = token(&aws, "60").await;
    for uri in [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/other-role",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials-extended/other-role",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/instance-role/x",
        "http://169.254.169.254/latest/meta-data/instance-id",
    ] {
        let reply = get(&aws, uri, Some(&token)).await;
        assert_page(&reply, 404, "Not Found");
        assert_eq!(reply.headers["x-aws-ec2-metadata-token-ttl-seconds"], "60");
        assert_eq!(last_event(&aws).error_code, Some(ErrorCode::NotFound));
    }
}

#[tokio::test]
async fn an_instance_without_a_profile_has_no_credential_paths() {
    let aws = mock_with(world_with(""));
    let token = token(&aws, "60").await;
    for uri in [ROLE_LIST, INSTANCE_CREDS] {
        assert_page(&get(&aws, uri, Some(&token)).await, 404, "Not Found");
    }
    // Without an [instance], tokens are still required, as on a default instance.
    assert_page(&get(&aws, ROLE_LIST, None).await, 401, "Unauthorized");
}

#[tokio::test]
async fn imdsv1_gets_are_served_when_http_tokens_is_optional() {
    let aws = mock_with(world_with(
        "[instance]\nrole = \"instance-role\"\nhttp_tokens = \"optional\"\n",
    ));
    let reply = get(&aws, ROLE_LIST, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body, "instance-role");
    assert!(
        reply
            .headers
            .get("x-aws-ec2-metadata-token-ttl-seconds")
            .is_none()
    );
    let reply = get(&aws, INSTANCE_CREDS, None).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(json(&reply)["Code"], "Success");
    assert!(last_event(&aws).issued.is_some());
    // A token that is sent must still be valid.
    assert_page(
        &get(&aws, ROLE_LIST, Some("garbage")).await,
        401,
        "Unauthorized",
    );
}

#[tokio::test]
async fn signed_requests_under_latest_are_not_metadata() {
    let aws = frozen_mock();
    let reply = call(
        &aws,
        signed_request(
            "GET",
            "http://localhost/latest/api/token",
            "",
            &Keys::user(),
            start(),
            "s3",
        ),
    )
    .await;
    assert!(reply.headers.get("server") != Some(&"EC2ws".parse().unwrap()));
    assert_eq!(last_event(&aws).service.as_str(), "s3");
}

#[tokio::test]
async fn credentials_rotate_every_hour_and_old_ones_live_out_their_six_hours() {
    let aws = frozen_mock();
    let token = token(&aws, "21600").await;
    let first = json(&get(&aws, INSTANCE_CREDS, Some(&token)).await);
    aws.clock().advance(Duration::from_secs(3599)).unwrap();
    let same = json(&get(&aws, INSTANCE_CREDS, Some(&token)).await);
    assert_eq!(first, same, "one epoch, one credential set");
    aws.clock().advance(Duration::from_secs(1)).unwrap();
    let second = json(&get(&aws, INSTANCE_CREDS, Some(&token)).await);
    assert_ne!(first["AccessKeyId"], second["AccessKeyId"]);
    assert_eq!(second["LastUpdated"], "2026-01-01T01:00:00Z");
    assert_eq!(second["Expiration"], "2026-01-01T07:00:00Z");

    // The first set still signs until 06:00:00, while newer sets are out, and not an instant
    // longer: old epochs stay valid until their own expiry.
    let keys = Keys {
        akid: first["AccessKeyId"].as_str().unwrap().into(),
        secret: first["SecretAccessKey"].as_str().unwrap().into(),
        token: Some(first["Token"].as_str().unwrap().into()),
    };
    let caller = "Action=GetCallerIdentity&Version=2011-06-15";
    let six = start() + Duration::from_secs(6 * 3600);
    aws.clock()
        .advance(six.duration_since(aws.clock().now()).unwrap() - Duration::from_millis(1))
        .unwrap();
    let reply = call(&aws, sts_post(caller, &keys, aws.clock().now())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    aws.clock().advance(Duration::from_millis(1)).unwrap();
    let reply = call(&aws, sts_post(caller, &keys, aws.clock().now())).await;
    reply.assert_sts_error(
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    );

    // Every set served has well over 25 minutes left (aws-facts §4.4): at least 5 of its 6 h.
    for _ in 0..40 {
        aws.clock()
            .advance(Duration::from_secs(17 * 60 + 3))
            .unwrap();
        let token = self::token(&aws, "60").await;
        let creds = json(&get(&aws, INSTANCE_CREDS, Some(&token)).await);
        let expiration =
            mock_sts::timestamp::parse_rfc3339(creds["Expiration"].as_str().unwrap()).unwrap();
        let left = expiration.duration_since(aws.clock().now()).unwrap();
        assert!(left > Duration::from_secs(5 * 3600), "{left:?}");
    }
}

#[tokio::test]
async fn a_restart_with_the_same_key_serves_the_same_credentials() {
    let at = start() + Duration::from_secs(5000);
    let serve = |key: [u8; 32]| {
        MockAws::builder()
            .clock(SimClock::frozen(at))
            .key(ServerKey::from_bytes(key))
            .build()
    };
    let (before, after, other) = (serve([7; 32]), serve([7; 32]), serve([8; 32]));
    let read = |aws: MockAws| async move {
        let token = token(&aws, "60").await;
        let instance = get(&aws, INSTANCE_CREDS, Some(&token)).await.body;
        let container = call(&aws, request("GET", CONTAINER_PATH, &[])).await.body;
        (instance, container)
    };
    let (a, b, c) = (read(before).await, read(after).await, read(other).await);
    assert_eq!(a, b);
    assert_ne!(a.0, c.0);
    assert_ne!(a.1, c.1);
}

#[tokio::test]
async fn container_credentials_in_the_ecs_agent_shape() {
    let aws = frozen_mock();
    let reply = call(&aws, request("GET", CONTAINER_PATH, &[])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    let creds = json(&reply);
    assert_eq!(
        reply.body,
        format!(
            "{{\"RoleArn\":\"arn:aws:iam::123456789012:role/task-role\",\"AccessKeyId\":\"{}\",\"SecretAccessKey\":\"{}\",\"Token\":\"{}\",\"Expiration\":\"2026-01-01T06:00:00Z\"}}",
            creds["AccessKeyId"].as_str().unwrap(),
            creds["SecretAccessKey"].as_str().unwrap(),
            creds["Token"].as_str().unwrap()
        )
    );
    let event = last_event(&aws);
    assert_eq!(
        (event.service.as_str(), event.action.as_str()),
        ("imds", "GetContainerCredentials")
    );
    let issued = event.issued.unwrap();
    assert_eq!(
        issued.session_name.as_deref(),
        Some("6d1e8f2a4b7c4e9da3f50c2b9e7d1a48")
    );
    // A sent Authorization header is ignored when the world sets no token (ECS agent).
    let reply = call(
        &aws,
        request("GET", CONTAINER_PATH, &[("authorization", "x")]),
    )
    .await;
    assert_eq!(reply.status, 200);
}

const POD_IDENTITY: &str = "[container]\nrole = \"task-role\"\nrelative_uri = \"/v1/credentials\"\nauthorization_token = \"pod-token-1\"\n";

#[tokio::test]
async fn container_endpoint_with_a_token_wants_exactly_that_token() {
    let aws = mock_with(world_with(POD_IDENTITY));
    let uri = "http://127.0.0.1/v1/credentials";

    let reply = call(&aws, request("GET", uri, &[])).await;
    assert_eq!(reply.status, 401, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(
        reply.body,
        "{\"code\":\"Unauthorized\",\"message\":\"CredentialsV2Request: Authorization header missing\",\"HTTPErrorCode\":401}"
    );
    assert_eq!(last_event(&aws).error_code, Some(ErrorCode::Unauthorized));

    for wrong in ["pod-token-2", "Bearer pod-token-1", "pod-token-1 "] {
        let reply = call(&aws, request("GET", uri, &[("authorization", wrong)])).await;
        assert_eq!(reply.status, 403, "{wrong}: {}", reply.body);
        assert_eq!(
            reply.body,
            "{\"code\":\"AccessDenied\",\"message\":\"CredentialsV2Request: Authorization token is not valid for this endpoint\",\"HTTPErrorCode\":403}"
        );
        assert_eq!(last_event(&aws).error_code, Some(ErrorCode::AccessDenied));
        assert!(last_event(&aws).issued.is_none());
    }

    let reply = call(
        &aws,
        request("GET", uri, &[("authorization", "pod-token-1")]),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let creds = json(&reply);
    assert_eq!(
        reply.body,
        format!(
            "{{\"AccessKeyId\":\"{}\",\"SecretAccessKey\":\"{}\",\"Token\":\"{}\",\"AccountId\":\"123456789012\",\"Expiration\":\"2026-01-01T06:00:00Z\"}}",
            creds["AccessKeyId"].as_str().unwrap(),
            creds["SecretAccessKey"].as_str().unwrap(),
            creds["Token"].as_str().unwrap()
        )
    );
    assert!(last_event(&aws).issued.is_some());
}

#[tokio::test]
async fn unknown_container_paths_answer_like_the_ecs_agent() {
    let aws = frozen_mock();
    let cases = [
        (
            "/v2/credentials/00000000-0000-0000-0000-000000000000",
            "{\"code\":\"InvalidIdInRequest\",\"message\":\"CredentialsV2Request: Credentials not found\",\"HTTPErrorCode\":400}",
        ),
        (
            "/v2/credentials/",
            "{\"code\":\"NoIdInRequest\",\"message\":\"CredentialsV2Request: No ID in the request\",\"HTTPErrorCode\":400}",
        ),
    ];
    for (path, body) in cases {
        let reply = call(&aws, request("GET", path, &[])).await;
        assert_eq!(reply.status, 400, "{path}");
        assert_eq!(reply.headers["content-type"], "application/json");
        assert_eq!(reply.body, body);
        assert_eq!(last_event(&aws).action.as_str(), "GetContainerCredentials");
    }
    let reply = call(&aws, request("PUT", CONTAINER_PATH, &[])).await;
    assert_eq!(reply.status, 405, "{}", reply.body);
    assert_eq!(json(&reply)["code"], "MethodNotAllowed");

    // Without a [container], the ECS path is not the container endpoint.
    let aws = mock_with(world_with(""));
    call(&aws, request("GET", CONTAINER_PATH, &[])).await;
    assert_ne!(last_event(&aws).service.as_str(), "imds");
}

#[test]
fn logs_never_contain_metadata_secrets_or_tokens() {
    let ((imds_token, instance, container), logs) = with_captured_logs(async {
        let aws = frozen_mock();
        let imds_token = token(&aws, "60").await;
        let instance = json(&get(&aws, INSTANCE_CREDS, Some(&imds_token)).await);
        let container = json(&call(&aws, request("GET", CONTAINER_PATH, &[])).await);
        (imds_token, instance, container)
    });
    for creds in [&instance, &container] {
        let akid = creds["AccessKeyId"].as_str().unwrap();
        assert!(logs.contains(akid), "the access key id is logged: {logs}");
        for secret in ["SecretAccessKey", "Token"] {
            assert!(!logs.contains(creds[secret].as_str().unwrap()), "{logs}");
        }
    }
    assert!(!logs.contains(&imds_token), "{logs}");
}
