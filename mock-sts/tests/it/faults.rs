//! Fault injection and session revocation: every effect per service and every kind of bad rule
//! through the router, then the real aws-sdk-rust over a real socket and in process on a
//! virtual clock (retries of `Throttling`, resets as dispatch failures, latency past expiry,
//! quotas, the same seed giving the same dice, an IMDS outage).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::body::Body;
use http::Request;
use mock_sts::MockAws;
use mock_sts::aws_error::ErrorCode;
use mock_sts::clock::{SimClock, default_virtual_start};
use mock_sts::faults::{FaultService, ResetConnection, RuleSpec, TimeBase};
use mock_sts::sdk::InProcessClient;
use tower::ServiceExt;

use crate::common::*;

const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

fn json_request(method: &str, path: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn control(aws: &MockAws, method: &str, path: &str, body: &str) -> Reply {
    call(aws, json_request(method, path, body)).await
}

/// Adds a rule through the control API; returns its id.
async fn add_rule(aws: &MockAws, rule: &str) -> String {
    let reply = control(aws, "POST", "/_mock/faults", rule).await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.body);
    let stored: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    stored["id"].as_str().unwrap().to_string()
}

fn last_fault(aws: &MockAws) -> (String, String) {
    let events = aws.events();
    let fault = events.iter().last().unwrap().fault.clone().unwrap();
    (fault.id, fault.effect)
}

fn assume_role_body(session: &str) -> String {
    format!(
        "Action=AssumeRole&RoleArn={}&RoleSessionName={session}&Version=2011-06-15",
        LONG_ROLE.replace(':', "%3A").replace('/', "%2F")
    )
}

async fn session_keys(aws: &MockAws, session: &str) -> Keys {
    keys_from(
        &call(
            aws,
            sts_post(&assume_role_body(session), &Keys::user(), aws.clock().now()),
        )
        .await,
    )
}

#[tokio::test]
async fn sts_error_rules_answer_in_sts_shape_and_mark_the_event() {
    let aws = frozen_mock();
    let id = add_rule(
        &aws,
        r#"{"service":"sts","actions":["GetCallerIdentity"],"limit":1,"effect":{"error":"Throttling"}}"#,
    )
    .await;
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())).await;
    reply.assert_sts_error(400, "Throttling", "Rate exceeded");
    assert_eq!(
        last_fault(&aws),
        (id.clone(), "error:Throttling".to_string())
    );
    // The event names the signer, told from the key before authentication.
    let event = aws.events().iter().last().unwrap().clone();
    assert_eq!(event.action.as_str(), "GetCallerIdentity");
    assert_eq!(event.signed_by.unwrap().access_key_id, USER_AKID);
    // The limit is used up.
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    assert!(aws.events().iter().last().unwrap().fault.is_none());

    let listed = control(&aws, "GET", "/_mock/faults", "").await;
    let listed: serde_json::Value = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(listed["faults"][0]["id"], id.as_str());
    assert_eq!(listed["faults"][0]["applied"], 1);
    assert_eq!(listed["faults"][0]["limit"], 1);

    // Overrides, and AWS's own texts for the other STS codes.
    add_rule(
        &aws,
        r#"{"service":"sts","limit":1,"effect":{"error":"ServiceUnavailable"}}"#,
    )
    .await;
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())).await;
    assert_eq!(reply.status.as_u16(), 503);
    assert_eq!(reply.code(), "ServiceUnavailable");
    assert_eq!(reply.xml("Type").as_deref(), Some("Receiver"));
    add_rule(
        &aws,
        r#"{"service":"sts","limit":1,"effect":{"error":"RegionDisabledException"}}"#,
    )
    .await;
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())).await;
    reply.assert_sts_error(
        403,
        "RegionDisabledException",
        "STS is not activated in this region for account:123456789012. Your account administrator can activate STS in this region using the IAM Console.",
    );
    add_rule(
        &aws,
        r#"{"service":"sts","limit":1,"effect":{"error":"AccessDenied","status":401,"message":"nope"}}"#,
    )
    .await;
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())).await;
    reply.assert_sts_error(401, "AccessDenied", "nope");
}

#[tokio::test]
async fn s3_error_rules_answer_in_s3_shape() {
    let aws = frozen_mock();
    for (rule, status, code, message) in [
        (
            r#"{"error":"SlowDown"}"#,
            503,
            "SlowDown",
            "Please reduce your request rate.",
        ),
        (
            r#"{"error":"ServiceUnavailable"}"#,
            503,
            "ServiceUnavailable",
            "Service is unable to handle request.",
        ),
        (
            r#"{"error":"InternalError"}"#,
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
    ] {
        control(&aws, "DELETE", "/_mock/faults", "").await;
        add_rule(
            &aws,
            &format!(r#"{{"service":"s3","actions":["ListBuckets"],"effect":{rule}}}"#),
        )
        .await;
        let reply = call(
            &aws,
            signed_request("GET", "http://localhost/", "", &Keys::user(), start(), "s3"),
        )
        .await;
        assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
        assert_eq!(reply.xml("Code").as_deref(), Some(code));
        assert_eq!(reply.xml("Message").as_deref(), Some(message));
        assert_eq!(reply.headers["server"], "AmazonS3");
        assert_eq!(last_fault(&aws).1, format!("error:{code}"));
        assert_eq!(
            aws.events().iter().last().unwrap().action.as_str(),
            "ListBuckets"
        );
    }
}

#[tokio::test]
async fn metadata_endpoints_answer_bare_statuses_in_their_own_shape() {
    let world = crate::imds::world_with(
        "[instance]\nrole = \"instance-role\"\n[container]\nrole = \"task-role\"\nrelative_uri = \"/v2/credentials/task\"\n",
    );
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .world(world)
        .seed(3)
        .build();
    add_rule(
        &aws,
        r#"{"service":"imds","actions":["GetMetadataToken"],"effect":{"status":503}}"#,
    )
    .await;
    add_rule(&aws, r#"{"service":"container","effect":{"status":429}}"#).await;
    let token = Request::builder()
        .method("PUT")
        .uri("http://169.254.169.254/latest/api/token")
        .header("x-aws-ec2-metadata-token-ttl-seconds", "21600")
        .body(Body::empty())
        .unwrap();
    let reply = call(&aws, token).await;
    assert_eq!(reply.status.as_u16(), 503);
    assert_eq!(reply.headers["server"], "EC2ws");
    assert_eq!(reply.headers["content-type"], "text/html");
    assert!(
        reply
            .body
            .contains("<title>503 - Service Unavailable</title>"),
        "{}",
        reply.body
    );
    let event = aws.events().iter().last().unwrap().clone();
    assert_eq!(
        (event.action.as_str(), event.status),
        ("GetMetadataToken", 503)
    );
    assert_eq!(event.error_code, Some(ErrorCode::ServiceUnavailable));
    assert_eq!(event.fault.unwrap().effect, "status:503");

    let reply = call(
        &aws,
        unsigned("GET", "http://169.254.170.2/v2/credentials/task", ""),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 429);
    assert_eq!(reply.headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(body["code"], "TooManyRequests");
    assert_eq!(body["message"], "Too Many Requests");
    assert_eq!(last_fault(&aws).1, "status:429");
}

#[tokio::test]
async fn reset_in_process_marks_the_response_and_records_status_zero() {
    let aws = frozen_mock();
    add_rule(&aws, r#"{"service":"*","effect":{"reset":true}}"#).await;
    let response = aws
        .router()
        .oneshot(sts_post(GET_CALLER_IDENTITY, &Keys::user(), start()))
        .await
        .unwrap();
    assert!(response.extensions().get::<ResetConnection>().is_some());
    let event = aws.events().iter().last().unwrap().clone();
    assert_eq!(event.status, 0);
    assert_eq!(event.error_code, None);
    assert_eq!(event.fault.unwrap().effect, "reset");
}

#[tokio::test]
async fn hang_never_answers_but_is_recorded_at_once() {
    let aws = frozen_mock();
    add_rule(&aws, r#"{"service":"sts","effect":{"hang":true}}"#).await;
    let pending = mock_sts::clock::real_timeout(
        Duration::from_millis(200),
        aws.router()
            .oneshot(sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())),
    )
    .await;
    assert!(pending.is_err(), "a hung request answered");
    let event = aws.events().iter().last().unwrap().clone();
    assert_eq!(
        (event.status, event.fault.unwrap().effect.as_str()),
        (0, "hang")
    );
    // Other requests (the control API, other services) still answer.
    assert_eq!(
        control(&aws, "GET", "/_mock/health", "")
            .await
            .status
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn quota_throttles_the_excess_per_simulated_second() {
    let aws = frozen_mock();
    let id = add_rule(&aws, r#"{"service":"sts","quota":{"per_second":2}}"#).await;
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(
            call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start()))
                .await
                .code(),
        );
    }
    assert_eq!(codes, ["", "", "Throttling"]);
    assert_eq!(last_fault(&aws), (id, "quota:2/s".to_string()));
    aws.clock().advance(Duration::from_secs(1)).unwrap();
    let now = aws.clock().now();
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), now)).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
}

#[tokio::test]
async fn windows_apply_on_simulated_time() {
    // Installed at build time, as the harness does from a scenario's `[[fault]]` tables.
    let rule = RuleSpec::from_json(
        br#"{"service":"sts","from":"10s","until":"20s","effect":{"error":"InternalFailure"}}"#,
    )
    .unwrap()
    .validate(TimeBase::SinceStart(start()))
    .unwrap();
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(42)
        .fault(rule)
        .build();
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        let now = aws.clock().now();
        outcomes.push(
            call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), now))
                .await
                .status
                .as_u16(),
        );
        aws.clock().advance(Duration::from_secs(10)).unwrap();
    }
    assert_eq!(outcomes, [200, 500, 200]);
}

#[tokio::test]
async fn caller_matches_a_sessions_role() {
    let aws = frozen_mock();
    let session = session_keys(&aws, "matched").await;
    add_rule(
        &aws,
        &format!(
            r#"{{"service":"sts","caller":"{LONG_ROLE}","effect":{{"error":"AccessDenied"}}}}"#
        ),
    )
    .await;
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &session, start())).await;
    assert_eq!(reply.code(), "AccessDenied");
}

#[tokio::test]
async fn bad_rules_are_400_naming_the_field_and_change_nothing() {
    let aws = frozen_mock();
    for (body, field) in [
        (
            r#"{"service":"dynamodb","effect":{"reset":true}}"#,
            "service",
        ),
        (
            r#"{"service":"sts","actions":["PutObject"],"effect":{"reset":true}}"#,
            "actions",
        ),
        (
            r#"{"service":"s3","effect":{"teleport":true}}"#,
            "effect.teleport",
        ),
        (
            r#"{"service":"sts","effect":{"error":"SlowDown"}}"#,
            "effect.error",
        ),
        (
            r#"{"service":"imds","effect":{"error":"Throttling"}}"#,
            "effect.error",
        ),
        (
            r#"{"service":"*","effect":{"error":"AccessDenied"}}"#,
            "effect.error",
        ),
        (
            r#"{"service":"sts","effect":{"status":503}}"#,
            "effect.status",
        ),
        (
            r#"{"service":"sts","from":"2026-01-01T01:00:00Z","until":"2026-01-01T00:00:00Z","effect":{"reset":true}}"#,
            "until",
        ),
        (
            r#"{"service":"sts","probability":1.01,"effect":{"reset":true}}"#,
            "probability",
        ),
        (
            r#"{"service":"sts","probability":-0.1,"effect":{"reset":true}}"#,
            "probability",
        ),
        (
            r#"{"service":"sts","effect":{"latency":"soon"}}"#,
            "effect.latency",
        ),
        (
            r#"{"service":"sts","from":"noon","effect":{"reset":true}}"#,
            "from",
        ),
        (
            r#"{"service":"sts","extra":1,"effect":{"reset":true}}"#,
            "extra",
        ),
        (
            r#"{"service":"sts","effect":{"reset":true},"quota":{"per_second":5}}"#,
            "effect",
        ),
        (r#"{"service":"sts"}"#, "effect"),
        (
            r#"{"service":"sts","quota":{"per_second":"many"}}"#,
            "quota.per_second",
        ),
        ("not json", ""),
    ] {
        let reply = control(&aws, "POST", "/_mock/faults", body).await;
        assert_eq!(reply.status.as_u16(), 400, "{body}: {}", reply.body);
        assert_eq!(reply.headers["content-type"], "application/json");
        let error: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(error["code"], "ValidationError", "{body}");
        assert_eq!(error["field"], field, "{body}: {}", reply.body);
        assert!(!error["message"].as_str().unwrap().is_empty());
    }
    let listed = control(&aws, "GET", "/_mock/faults", "").await;
    assert_eq!(listed.body, r#"{"faults":[]}"#);
    assert!(!aws.faults().is_active());

    let id = add_rule(&aws, r#"{"service":"sts","effect":{"latency":2.5}}"#).await;
    assert_eq!(aws.faults().list()[0].rule.kind.label(), "latency:2.5s");
    assert_eq!(
        control(&aws, "DELETE", "/_mock/faults/f999", "")
            .await
            .status
            .as_u16(),
        404
    );
    assert_eq!(
        control(&aws, "PUT", "/_mock/faults", "")
            .await
            .status
            .as_u16(),
        405
    );
    assert_eq!(
        control(&aws, "DELETE", &format!("/_mock/faults/{id}"), "")
            .await
            .status
            .as_u16(),
        204
    );
    add_rule(&aws, r#"{"service":"sts","effect":{"reset":true}}"#).await;
    assert_eq!(
        control(&aws, "DELETE", "/_mock/faults", "")
            .await
            .status
            .as_u16(),
        204
    );
    assert!(aws.faults().list().is_empty());
}

#[tokio::test]
async fn revoked_sessions_are_denied_and_newer_ones_work() {
    let aws = frozen_mock();
    let old = session_keys(&aws, "old").await;
    aws.clock().advance(Duration::from_secs(60)).unwrap();
    let reply = control(
        &aws,
        "POST",
        "/_mock/revoke",
        &format!(r#"{{"role":"{LONG_ROLE}"}}"#),
    )
    .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let revoked: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(revoked["issued_before"], "2026-01-01T00:01:00.000Z");
    let new = session_keys(&aws, "new").await;
    let now = aws.clock().now();

    let reply = call(&aws, sts_post(&assume_role_body("again"), &old, now)).await;
    reply.assert_sts_error(
        403,
        "AccessDenied",
        &format!(
            "User: arn:aws:sts::123456789012:assumed-role/cross-account-s3/old is not authorized to perform: sts:AssumeRole on resource: {LONG_ROLE} with an explicit deny in an identity-based policy"
        ),
    );
    // The event shows the signer as usual.
    let event = aws.events().iter().last().unwrap().clone();
    assert_eq!(event.signed_by.unwrap().access_key_id, old.akid);
    // No deny stops GetCallerIdentity (its API reference says so).
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &old, now)).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    // S3 says only "Access Denied".
    let error = s3_in_process(&aws, &old)
        .list_buckets()
        .send()
        .await
        .unwrap_err();
    {
        use aws_sdk_s3::error::ProvideErrorMetadata;
        assert_eq!(error.code(), Some("AccessDenied"), "{error:?}");
        assert_eq!(error.message(), Some("Access Denied"), "{error:?}");
    }

    let reply = call(&aws, sts_post(&assume_role_body("again"), &new, now)).await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    s3_in_process(&aws, &new)
        .list_buckets()
        .send()
        .await
        .unwrap();

    // An explicit instant, and the Rust API.
    let before = aws
        .revoke(LONG_ROLE, Some(now + Duration::from_secs(1)))
        .unwrap();
    assert_eq!(before, now + Duration::from_secs(1));
    let reply = call(&aws, sts_post(&assume_role_body("again"), &new, now)).await;
    assert_eq!(reply.code(), "AccessDenied");
}

/// An aws-sdk-s3 client in process, signing with `keys`, on the mock's clock.
fn s3_in_process(aws: &MockAws, keys: &Keys) -> aws_sdk_s3::Client {
    let credentials = aws_credential_types::Credentials::new(
        &keys.akid,
        &keys.secret,
        keys.token.clone(),
        None,
        "test",
    );
    let config = in_process_config(aws, aws.clock())
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build();
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    )
}

#[tokio::test]
async fn bad_revocations_are_400_naming_the_field() {
    let aws = frozen_mock();
    for (body, field) in [
        (
            r#"{"role":"arn:aws:iam::123456789012:role/nobody"}"#,
            "role",
        ),
        (r#"{}"#, "role"),
        (
            &format!(r#"{{"role":"{LONG_ROLE}","issued_before":"yesterday"}}"#) as &str,
            "issued_before",
        ),
        (
            &format!(r#"{{"role":"{LONG_ROLE}","when":"now"}}"#) as &str,
            "when",
        ),
    ] {
        let reply = control(&aws, "POST", "/_mock/revoke", body).await;
        assert_eq!(reply.status.as_u16(), 400, "{body}: {}", reply.body);
        let error: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(
            (error["code"].as_str(), error["field"].as_str()),
            (Some("ValidationError"), Some(field)),
            "{body}"
        );
    }
    assert!(
        aws.revoke("arn:aws:iam::123456789012:role/nobody", None)
            .is_err()
    );
}

#[test]
fn scenario_rules_read_from_toml_with_times_since_start() {
    let spec: RuleSpec = toml::from_str(
        "service = \"sts\"\nactions = [\"AssumeRole\"]\nfrom = \"55m\"\nuntil = \"70m\"\nprobability = 0.5\nlimit = 3\neffect = { error = \"Throttling\" }\n",
    )
    .unwrap();
    let rule = spec.validate(TimeBase::SinceStart(start())).unwrap();
    assert_eq!(rule.service, Some(FaultService::Sts));
    assert_eq!(rule.from, Some(start() + Duration::from_secs(55 * 60)));
    let error = spec.validate(TimeBase::Absolute).unwrap_err();
    assert_eq!(error.field, "from");
    assert!(error.to_string().starts_with("from: "), "{error}");
}

// ---- the real SDK ----

/// SDK configuration in process on `clock` (virtual: retries' back-off sleeps cost no time).
fn in_process_config(aws: &MockAws, clock: &SimClock) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(aws.endpoint_url())
        .http_client(InProcessClient::new(aws))
        .time_source(clock.clone())
        .sleep_impl(clock.clone())
        .credentials_provider(SharedCredentialsProvider::new(user_credentials()))
        .build()
}

#[tokio::test(start_paused = true)]
async fn sdk_retries_throttling_with_backoff_in_simulated_time() {
    let clock = SimClock::virtual_at(default_virtual_start());
    let aws = MockAws::builder().clock(clock.clone()).seed(9).build();
    add_rule(
        &aws,
        r#"{"service":"sts","actions":["GetCallerIdentity"],"limit":2,"effect":{"error":"Throttling"}}"#,
    )
    .await;
    let client = aws_sdk_sts::Client::new(&in_process_config(&aws, &clock));
    let identity = client.get_caller_identity().send().await.unwrap();
    assert_eq!(identity.account(), Some("123456789012"));
    let events = aws.events();
    let calls: Vec<_> = events
        .action(mock_sts::sts::Action::GetCallerIdentity)
        .collect();
    let outcomes: Vec<&str> = calls.iter().map(|e| e.outcome()).collect();
    assert_eq!(outcomes, ["Throttling", "Throttling", "ok"]);
    // The SDK backed off between attempts, on the simulated clock.
    assert!(calls[1].sim_time > calls[0].sim_time, "{calls:#?}");
    assert!(calls[2].sim_time > calls[1].sim_time, "{calls:#?}");
}

/// `probability = 0.5` over 24 calls: which calls fail, by seed.
async fn coin_flips(seed: u64) -> Vec<bool> {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(seed)
        .build();
    add_rule(
        &aws,
        r#"{"service":"sts","probability":0.5,"effect":{"error":"InternalFailure"}}"#,
    )
    .await;
    let mut flips = Vec::new();
    for _ in 0..24 {
        let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &Keys::user(), start())).await;
        flips.push(reply.status.as_u16() == 500);
    }
    flips
}

#[tokio::test]
async fn the_same_seed_gives_the_same_fault_decisions() {
    let first = coin_flips(7).await;
    assert_eq!(first, coin_flips(7).await);
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
    assert_ne!(first, coin_flips(8).await);
}

#[tokio::test]
async fn sdk_over_a_socket_sees_a_reset_as_a_dispatch_failure() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(2)
        .start()
        .await
        .unwrap();
    aws.faults().add(
        RuleSpec {
            service: "sts".into(),
            limit: Some(1),
            effect: Some(mock_sts::faults::EffectSpec {
                reset: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        }
        .validate(TimeBase::Absolute)
        .unwrap(),
    );
    let config = sdk_config(&aws, user_credentials())
        .into_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    let client = aws_sdk_sts::Client::new(&config);
    let error = client.get_caller_identity().send().await.unwrap_err();
    match &error {
        // hyper's client reports a connection closed before any response as an incomplete
        // message: a transient failure, which the SDK's retry classifier retries.
        aws_sdk_sts::error::SdkError::DispatchFailure(failure) => {
            assert_eq!(
                failure.as_other(),
                Some(aws_smithy_types::retry::ErrorKind::TransientError),
                "{error:?}"
            );
            assert!(
                format!("{error:?}").contains("IncompleteMessage"),
                "{error:?}"
            );
        }
        other => panic!("expected a dispatch failure, got {other:?}"),
    }
    // The connection is gone, the server is not: the next call works.
    client.get_caller_identity().send().await.unwrap();
    let events = aws.events();
    assert_eq!(events.iter().next().unwrap().status, 0);
    aws.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn sdk_in_process_sees_a_reset_as_an_io_dispatch_failure() {
    let clock = SimClock::virtual_at(default_virtual_start());
    let aws = MockAws::builder().clock(clock.clone()).seed(2).build();
    add_rule(
        &aws,
        r#"{"service":"sts","limit":1,"effect":{"reset":true}}"#,
    )
    .await;
    let config = in_process_config(&aws, &clock)
        .into_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    let error = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await
        .unwrap_err();
    match &error {
        aws_sdk_sts::error::SdkError::DispatchFailure(failure) => {
            assert!(failure.is_io(), "{error:?}");
        }
        other => panic!("expected a dispatch failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_hung_request_does_not_block_shutdown() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(4)
        .start()
        .await
        .unwrap();
    add_rule(&aws, r#"{"service":"sts","effect":{"hang":true}}"#).await;
    let url = aws.endpoint_url();
    let hung =
        tokio::spawn(
            async move { http("POST", &format!("{url}/"), Some(GET_CALLER_IDENTITY)).await },
        );
    // The hung request is recorded at once; wait for it.
    while aws.events().is_empty() {
        mock_sts::clock::real_sleep(Duration::from_millis(5)).await;
    }
    mock_sts::clock::real_timeout(Duration::from_secs(10), aws.shutdown())
        .await
        .expect("shutdown waited for a hung request");
    // Its connection was closed without an answer.
    assert!(hung.await.is_err(), "a hung request got an answer");
}

#[tokio::test(start_paused = true)]
async fn latency_moves_arrival_past_expiry_to_expired_token() {
    let clock = SimClock::virtual_at(default_virtual_start());
    let aws = MockAws::builder().clock(clock.clone()).seed(6).build();
    let keys = keys_from(
        &call(
            &aws,
            sts_post(
                &format!("{}&DurationSeconds=900", assume_role_body("late")),
                &Keys::user(),
                clock.now(),
            ),
        )
        .await,
    );
    // Two seconds before expiry the request is signed; five seconds in flight.
    clock.sleep(Duration::from_secs(898)).await;
    add_rule(&aws, r#"{"service":"sts","effect":{"latency":"5s"}}"#).await;
    let signed = clock.now();
    let reply = call(&aws, sts_post(GET_CALLER_IDENTITY, &keys, signed)).await;
    reply.assert_sts_error(
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    );
    let event = aws.events().iter().last().unwrap().clone();
    assert_eq!(event.sim_time, signed + Duration::from_secs(5));
    assert_eq!(event.request_time.unwrap(), signed);
    assert_eq!(event.fault.unwrap().effect, "latency:5s");
}

#[tokio::test(start_paused = true)]
async fn sdk_quota_excess_is_throttled() {
    let clock = SimClock::virtual_at(default_virtual_start());
    let aws = MockAws::builder().clock(clock.clone()).seed(12).build();
    add_rule(&aws, r#"{"service":"sts","quota":{"per_second":5}}"#).await;
    let config = in_process_config(&aws, &clock)
        .into_builder()
        .retry_config(RetryConfig::disabled())
        .build();
    let client = aws_sdk_sts::Client::new(&config);
    // Ten calls at the same simulated instant: five pass, five are throttled.
    let mut throttled = 0;
    for _ in 0..10 {
        if let Err(e) = client.get_caller_identity().send().await {
            use aws_sdk_sts::error::ProvideErrorMetadata;
            assert_eq!(e.code(), Some("Throttling"), "{e:?}");
            throttled += 1;
        }
    }
    assert_eq!(throttled, 5);
    assert_eq!(
        aws.events()
            .iter()
            .filter(|e| e.fault.as_ref().is_some_and(|f| f.effect == "quota:5/s"))
            .count(),
        5
    );
}

#[tokio::test]
async fn imds_outage_fails_the_sdk_imds_provider() {
    use aws_config::imds::credentials::ImdsCredentialsProvider;
    use aws_config::provider_config::ProviderConfig;
    use aws_credential_types::provider::ProvideCredentials;
    use aws_smithy_async::rt::sleep::TokioSleep;

    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(13)
        .start()
        .await
        .unwrap();
    let id = add_rule(&aws, r#"{"service":"imds","effect":{"status":503}}"#).await;
    let provider_config = ProviderConfig::empty()
        .with_region(Some(Region::new("us-east-1")))
        .with_http_client(aws_smithy_http_client::Builder::new().build_http())
        .with_time_source(aws.clock().clone())
        .with_sleep_impl(TokioSleep::new());
    let imds = aws_config::imds::Client::builder()
        .configure(&provider_config)
        .endpoint(aws.endpoint_url())
        .unwrap()
        .max_attempts(1)
        .build();
    let provider = ImdsCredentialsProvider::builder()
        .configure(&provider_config)
        .imds_client(imds)
        .build();
    assert!(provider.provide_credentials().await.is_err());
    let events = aws.events();
    let outage: Vec<_> = events.iter().filter(|e| e.status == 503).collect();
    assert!(!outage.is_empty());
    assert!(outage.iter().all(|e| e.fault.as_ref().unwrap().id == id));
    // The outage ends: the provider gets credentials.
    assert_eq!(
        control(&aws, "DELETE", &format!("/_mock/faults/{id}"), "")
            .await
            .status
            .as_u16(),
        204
    );
    let credentials = provider.provide_credentials().await.unwrap();
    assert!(credentials.access_key_id().starts_with("ASIA"));
    aws.shutdown().await;
}
