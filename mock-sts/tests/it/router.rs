//! Router-level tests: every kind of bad input gets AWS's status, code and XML, never a panic.

use std::time::Duration;

use axum::body::Body;
use base64::Engine;
use http::Request;
use mock_sts::MockAws;
use mock_sts::aws_error::ErrorCode;
use mock_sts::clock::SimClock;
use mock_sts::credentials::IssuedBy;
use sts_lab_test_support::redact;

use crate::common::*;

const ASSUME_LONG: &str = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcross-account-s3&RoleSessionName=pipeline";

async fn assume(aws: &MockAws, extra: &str) -> Reply {
    let body = format!("{ASSUME_LONG}{extra}");
    call(aws, sts_post(&body, &Keys::user(), aws.clock().now())).await
}

#[tokio::test]
async fn assume_role_answers_aws_shaped_xml_with_one_hour_default() {
    let aws = frozen_mock();
    let reply = assume(&aws, "").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.headers["content-type"], "text/xml");
    assert_eq!(reply.headers["date"], "Thu, 01 Jan 2026 00:00:00 GMT");
    let request_id = reply.headers["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let keys = keys_from(&reply);
    assert!(keys.akid.starts_with("ASIA") && keys.akid.len() == 20);
    assert_eq!(keys.secret.len(), 40);
    assert_eq!(reply.xml("RequestId").as_deref(), Some(request_id.as_str()));
    // The whole body, its keys and ids redacted (their shapes are asserted here).
    insta::assert_snapshot!(
        "assume_role_body",
        redact::xml(
            &reply.body,
            &[
                "AssumedRoleId",
                "AccessKeyId",
                "SecretAccessKey",
                "SessionToken",
                "RequestId"
            ]
        )
    );
    assert!(reply.xml("AssumedRoleId").unwrap().starts_with("AROA"));
    let events = aws.events();
    let issued = events.0[0].issued.as_ref().unwrap();
    assert_eq!(issued.duration_seconds_requested, None);
    assert_eq!(issued.duration_seconds_granted, 3600);
    assert_eq!(issued.max_session_duration, Some(43200));
}

/// A request STS refuses and the code it answers; the whole body is an insta snapshot named
/// `sts_error_NAME` (request id redacted).
struct StsErrorCase {
    name: &'static str,
    /// Seconds after [`start`] the mock's clock stands at when the request is signed and sent.
    at_seconds: u64,
    /// The request, given temporary keys from `AssumeRole` at [`start`] and the signing time.
    request: fn(&Keys, std::time::SystemTime) -> Request<Body>,
    status: u16,
    code: &'static str,
}

const IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// In clock order: the last case lets the temporary keys expire.
const STS_ERROR_CASES: &[StsErrorCase] = &[
    StsErrorCase {
        name: "missing_action",
        at_seconds: 0,
        request: |_, t| sts_post("Version=2011-06-15", &Keys::user(), t),
        status: 400,
        code: "MissingAction",
    },
    StsErrorCase {
        name: "invalid_action",
        at_seconds: 0,
        request: |_, t| sts_post("Action=AssumeRoot&Version=2011-06-15", &Keys::user(), t),
        status: 400,
        code: "InvalidAction",
    },
    StsErrorCase {
        name: "malformed_query_string",
        at_seconds: 0,
        request: |_, t| sts_post("Action=%4", &Keys::user(), t),
        status: 404,
        code: "MalformedQueryString",
    },
    StsErrorCase {
        name: "validation_error",
        at_seconds: 0,
        request: |_, t| {
            sts_post(
                &format!("{ASSUME_LONG}&DurationSeconds=899"),
                &Keys::user(),
                t,
            )
        },
        status: 400,
        code: "ValidationError",
    },
    StsErrorCase {
        name: "access_denied",
        at_seconds: 0,
        request: |_, t| {
            sts_post(
                "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A999999999999%3Arole%2Fnope&RoleSessionName=s1",
                &Keys::user(),
                t,
            )
        },
        status: 403,
        code: "AccessDenied",
    },
    StsErrorCase {
        name: "missing_authentication_token",
        at_seconds: 0,
        request: |_, _| unsigned("POST", "/", IDENTITY),
        status: 403,
        code: "MissingAuthenticationToken",
    },
    StsErrorCase {
        name: "incomplete_signature",
        at_seconds: 0,
        request: |_, _| {
            let mut request = unsigned("POST", "/", IDENTITY);
            let headers = request.headers_mut();
            headers.insert("x-amz-date", "20260101T000000Z".parse().unwrap());
            headers.insert("authorization", "AWS4-HMAC-SHA256".parse().unwrap());
            request
        },
        status: 400,
        code: "IncompleteSignature",
    },
    StsErrorCase {
        name: "signature_does_not_match",
        at_seconds: 0,
        request: |_, t| {
            let keys = Keys {
                secret: "not-the-secret".into(),
                ..Keys::user()
            };
            sts_post(IDENTITY, &keys, t)
        },
        status: 403,
        code: "SignatureDoesNotMatch",
    },
    StsErrorCase {
        name: "invalid_client_token_id",
        at_seconds: 0,
        // A token STS cannot use: the body aws-azure-login/aws-azure-login#251 recorded.
        request: |temp, t| {
            let keys = Keys {
                token: Some("not-a-session-token".into()),
                ..temp.clone()
            };
            sts_post(IDENTITY, &keys, t)
        },
        status: 403,
        code: "InvalidClientTokenId",
    },
    StsErrorCase {
        name: "expired_token",
        at_seconds: 3600,
        request: |temp, t| sts_post(IDENTITY, temp, t),
        status: 403,
        code: "ExpiredToken",
    },
];

#[tokio::test]
async fn every_sts_error_body_is_aws_shaped() {
    let aws = frozen_mock();
    let temp = keys_from(&assume(&aws, "").await);
    for case in STS_ERROR_CASES {
        let now = start() + Duration::from_secs(case.at_seconds);
        mock_sts::testing::advance_to(aws.clock(), now).unwrap();
        let reply = call(&aws, (case.request)(&temp, now)).await;
        let name = case.name;
        assert_eq!(reply.status.as_u16(), case.status, "{name}: {}", reply.body);
        assert_eq!(reply.code(), case.code, "{name}: {}", reply.body);
        assert_eq!(reply.headers["content-type"], "text/xml", "{name}");
        insta::assert_snapshot!(format!("sts_error_{name}"), redact::aws_xml(&reply.body));
    }
}

#[tokio::test]
async fn policy_and_source_identity_are_accepted_and_echoed() {
    let aws = frozen_mock();
    let reply = assume(
        &aws,
        "&Policy=%7B%22Version%22%3A%222012-10-17%22%7D&ExternalId=ext-123&SourceIdentity=alice",
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.xml("PackedPolicySize").as_deref(), Some("2"));
    assert_eq!(reply.xml("SourceIdentity").as_deref(), Some("alice"));
}

#[tokio::test]
async fn missing_action_is_missing_action() {
    let aws = frozen_mock();
    let reply = call(&aws, sts_post("Version=2011-06-15", &Keys::user(), start())).await;
    reply.assert_sts_error(400, "MissingAction", "Missing Action");
}

#[tokio::test]
async fn unknown_action_is_invalid_action() {
    let aws = frozen_mock();
    let reply = call(
        &aws,
        sts_post(
            "Action=AssumeRoot&Version=2011-06-15",
            &Keys::user(),
            start(),
        ),
    )
    .await;
    reply.assert_sts_error(
        400,
        "InvalidAction",
        "Could not find operation AssumeRoot for version 2011-06-15",
    );
}

#[tokio::test]
async fn malformed_form_body_is_malformed_query_string() {
    let aws = frozen_mock();
    for body in [
        "Action=Get%zzCallerIdentity",
        "Action=%E2%28%A1",
        "Action=%4",
    ] {
        let reply = call(&aws, sts_post(body, &Keys::user(), start())).await;
        reply.assert_sts_error(
            404,
            "MalformedQueryString",
            "The query string contains a syntax error.",
        );
    }
}

#[tokio::test]
async fn non_utf8_bytes_in_a_form_body_are_malformed_query_string() {
    // Raw bytes no client encoder sends (a URI cannot carry them, a body can). The signer takes
    // text, so a signed request gets its body swapped: the form is refused before the
    // signature is checked.
    let aws = frozen_mock();
    for body in [&b"Action=GetCallerIdentity&Version=\xff\xfe"[..], b"\xc3("] {
        let request = sts_post("Action=GetCallerIdentity", &Keys::user(), start())
            .map(|_| Body::from(body.to_vec()));
        call(&aws, request).await.assert_sts_error(
            404,
            "MalformedQueryString",
            "The query string contains a syntax error.",
        );
    }
}

#[tokio::test]
async fn duration_seconds_that_is_not_a_number_is_a_validation_error() {
    let aws = frozen_mock();
    assume(&aws, "&DurationSeconds=abc").await.assert_sts_error(
        400,
        "ValidationError",
        "1 validation error detected: Value 'abc' at 'durationSeconds' failed to satisfy constraint: Member must be a number",
    );
}

#[tokio::test]
async fn duration_seconds_below_900_is_a_validation_error() {
    let aws = frozen_mock();
    assume(&aws, "&DurationSeconds=899").await.assert_sts_error(
        400,
        "ValidationError",
        "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
    );
}

#[tokio::test]
async fn duration_seconds_above_43200_is_a_validation_error() {
    let aws = frozen_mock();
    assume(&aws, "&DurationSeconds=50000").await.assert_sts_error(
        400,
        "ValidationError",
        "1 validation error detected: Value '50000' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200",
    );
}

#[tokio::test]
async fn duration_seconds_above_the_role_maximum_is_refused() {
    let aws = frozen_mock();
    let body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fshort-session&RoleSessionName=s1&DurationSeconds=3601";
    call(&aws, sts_post(body, &Keys::user(), start()))
        .await
        .assert_sts_error(
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        );
}

#[tokio::test]
async fn role_chaining_is_capped_at_one_hour() {
    let aws = frozen_mock();
    let first = keys_from(&assume(&aws, "").await);
    let chained = call(
        &aws,
        sts_post(
            &format!("{ASSUME_LONG}&DurationSeconds=7200"),
            &first,
            start(),
        ),
    )
    .await;
    chained.assert_sts_error(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
    );
    let ok = call(&aws, sts_post(ASSUME_LONG, &first, start())).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        ok.xml("Expiration").as_deref(),
        Some("2026-01-01T01:00:00Z")
    );
    assert!(aws.events().0[2].issued.as_ref().unwrap().chained);
}

#[tokio::test]
async fn bad_session_names_are_validation_errors() {
    let aws = frozen_mock();
    let base = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcross-account-s3";
    let reply = call(
        &aws,
        sts_post(&format!("{base}&RoleSessionName=x"), &Keys::user(), start()),
    )
    .await;
    reply.assert_sts_error(400, "ValidationError", "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2");
    let reply = call(
        &aws,
        sts_post(
            &format!("{base}&RoleSessionName=bad%20name%21"),
            &Keys::user(),
            start(),
        ),
    )
    .await;
    reply.assert_sts_error(400, "ValidationError", "1 validation error detected: Value 'bad name!' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*");
    let reply = call(
        &aws,
        sts_post(
            &format!("{base}&RoleSessionName={}", "a".repeat(65)),
            &Keys::user(),
            start(),
        ),
    )
    .await;
    assert_eq!(reply.code(), "ValidationError");
    let reply = call(&aws, sts_post(base, &Keys::user(), start())).await;
    reply.assert_sts_error(400, "ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null");
}

#[tokio::test]
async fn untrusted_or_unknown_roles_are_access_denied() {
    let aws = frozen_mock();
    let body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A999999999999%3Arole%2Fnope&RoleSessionName=s1";
    call(&aws, sts_post(body, &Keys::user(), start())).await.assert_sts_error(
        403,
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/pipeline is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::999999999999:role/nope",
    );
}

#[tokio::test]
async fn no_signature_is_missing_authentication_token() {
    let aws = frozen_mock();
    let reply = call(
        &aws,
        unsigned("POST", "/", "Action=GetCallerIdentity&Version=2011-06-15"),
    )
    .await;
    reply.assert_sts_error(
        403,
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    );
}

#[tokio::test]
async fn malformed_authorization_is_incomplete_signature() {
    let aws = frozen_mock();
    for header in [
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/sts/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE /20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc",
        "AWS4-HMAC-SHA256",
    ] {
        let request = Request::builder()
            .method("POST")
            .uri("/")
            .header("host", "localhost")
            .header("x-amz-date", "20260101T000000Z")
            .header("authorization", header)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("Action=GetCallerIdentity&Version=2011-06-15"))
            .unwrap();
        let reply = call(&aws, request).await;
        assert_eq!(reply.status, 400, "{header}: {}", reply.body);
        assert_eq!(
            reply.code(),
            "IncompleteSignature",
            "{header}: {}",
            reply.body
        );
        assert!(!reply.xml("Message").unwrap().is_empty());
    }
}

#[tokio::test]
async fn wrong_secret_is_signature_does_not_match() {
    let aws = frozen_mock();
    let keys = Keys {
        secret: "not-the-secret".into(),
        ..Keys::user()
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
    reply.assert_sts_error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.");
}

#[tokio::test]
async fn a_scope_terminator_other_than_aws4_request_does_not_match() {
    let aws = frozen_mock();
    let mut request = sts_post(
        "Action=GetCallerIdentity&Version=2011-06-15",
        &Keys::user(),
        start(),
    );
    let auth = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .replace("/aws4_request,", "/aws4_requesT,");
    request
        .headers_mut()
        .insert("authorization", auth.parse().unwrap());
    let reply = call(&aws, request).await;
    reply.assert_sts_error(
        403,
        "SignatureDoesNotMatch",
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesT'.",
    );
}

#[tokio::test]
async fn a_body_changed_after_signing_does_not_match() {
    let aws = frozen_mock();
    let request = sts_post(
        "Action=GetCallerIdentity&Version=2011-06-15",
        &Keys::user(),
        start(),
    );
    let (parts, _) = request.into_parts();
    let request = Request::from_parts(
        parts,
        Body::from("Action=GetCallerIdentity&Version=2011-06-16"),
    );
    let reply = call(&aws, request).await;
    assert_eq!(reply.code(), "SignatureDoesNotMatch", "{}", reply.body);
}

#[tokio::test]
async fn unknown_key_is_invalid_client_token_id() {
    let aws = frozen_mock();
    let keys = Keys {
        akid: "AKIAUNKNOWNKEY000000".into(),
        ..Keys::user()
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
    reply.assert_sts_error(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    );
}

#[tokio::test]
async fn tampered_token_is_invalid_client_token_id() {
    let aws = frozen_mock();
    let mut keys = keys_from(&assume(&aws, "").await);
    let engine = base64::engine::general_purpose::STANDARD;
    let mut raw = engine.decode(keys.token.as_ref().unwrap()).unwrap();
    let middle = raw.len() / 2;
    raw[middle] ^= 0x01;
    keys.token = Some(engine.encode(raw));
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &keys,
            start(),
        ),
    )
    .await;
    reply.assert_sts_error(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid",
    );
}

#[tokio::test]
async fn a_token_from_another_server_key_is_invalid() {
    let aws = frozen_mock();
    let other = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(7)
        .build();
    let keys = keys_from(&assume(&other, "").await);
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &keys,
            start(),
        ),
    )
    .await;
    assert_eq!(reply.code(), "InvalidClientTokenId", "{}", reply.body);
}

#[tokio::test]
async fn token_without_asia_key_is_invalid_client_token_id() {
    let aws = frozen_mock();
    let temp = keys_from(&assume(&aws, "").await);
    let keys = Keys {
        token: temp.token,
        ..Keys::user()
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
    reply.assert_sts_error(
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid",
    );
    // And an ASIA key whose token was left out.
    let temp = keys_from(&assume(&aws, "").await);
    let keys = Keys {
        token: None,
        ..temp
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
    assert_eq!(reply.code(), "InvalidClientTokenId", "{}", reply.body);
}

#[tokio::test]
async fn skewed_requests_are_refused_with_aws_messages() {
    let aws = frozen_mock();
    let past = start() - Duration::from_secs(16 * 60);
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &Keys::user(),
            past,
        ),
    )
    .await;
    reply.assert_sts_error(403, "SignatureDoesNotMatch", "Signature expired: 20251231T234400Z is now earlier than 20251231T234500Z (20260101T000000Z - 15 min.)");
    let future = start() + Duration::from_secs(16 * 60);
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &Keys::user(),
            future,
        ),
    )
    .await;
    reply.assert_sts_error(403, "SignatureDoesNotMatch", "Signature not yet current: 20260101T001600Z is still later than 20260101T001500Z (20260101T000000Z + 15 min.)");
    let within = start() - Duration::from_secs(14 * 60);
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &Keys::user(),
            within,
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn max_skew_off_accepts_any_request_time() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .max_skew(None)
        .build();
    let long_ago = start() - Duration::from_secs(30 * 24 * 3600);
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &Keys::user(),
            long_ago,
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[tokio::test]
async fn expiry_is_exact_to_the_millisecond_and_beats_skew() {
    let aws = frozen_mock();
    let keys = keys_from(&assume(&aws, "").await);
    let identity = "Action=GetCallerIdentity&Version=2011-06-15";
    aws.clock()
        .advance(Duration::from_millis(3_599_999))
        .unwrap();
    let reply = call(&aws, sts_post(identity, &keys, aws.clock().now())).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.xml("Arn").as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/cross-account-s3/pipeline")
    );
    aws.clock().advance(Duration::from_millis(1)).unwrap();
    let reply = call(&aws, sts_post(identity, &keys, aws.clock().now())).await;
    reply.assert_sts_error(
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    );
    // A client still on the old time (far outside the skew window) sees expiry, not skew.
    aws.clock().advance(Duration::from_secs(6 * 3600)).unwrap();
    let reply = call(&aws, sts_post(identity, &keys, start())).await;
    assert_eq!(reply.code(), "ExpiredToken", "{}", reply.body);
    let events = aws.events();
    let last = events.0.last().unwrap();
    assert_eq!(last.error_code, Some(ErrorCode::ExpiredToken));
    let signer = last.signed_by.as_ref().unwrap();
    assert_eq!(signer.access_key_id, keys.akid);
    assert_eq!(signer.issued_by, Some(IssuedBy::AssumeRole));
}

#[tokio::test]
async fn get_session_token_limits() {
    let aws = frozen_mock();
    let reply = call(
        &aws,
        sts_post(
            "Action=GetSessionToken&Version=2011-06-15",
            &Keys::user(),
            start(),
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.xml("Expiration").as_deref(),
        Some("2026-01-01T12:00:00Z")
    );
    assert!(reply.xml("AssumedRoleUser").is_none());
    let session = keys_from(&reply);
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &session,
            start(),
        ),
    )
    .await;
    assert_eq!(
        reply.xml("Arn").as_deref(),
        Some("arn:aws:iam::123456789012:user/pipeline")
    );
    let reply = call(
        &aws,
        sts_post(
            "Action=GetSessionToken&Version=2011-06-15",
            &session,
            start(),
        ),
    )
    .await;
    reply.assert_sts_error(
        403,
        "AccessDenied",
        "Cannot call GetSessionToken with session credentials",
    );
    let reply = call(
        &aws,
        sts_post(
            "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129601",
            &Keys::user(),
            start(),
        ),
    )
    .await;
    reply.assert_sts_error(400, "ValidationError", "1 validation error detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600");
    let reply = call(
        &aws,
        sts_post(
            "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=129600",
            &Keys::user(),
            start(),
        ),
    )
    .await;
    assert_eq!(
        reply.xml("Expiration").as_deref(),
        Some("2026-01-02T12:00:00Z")
    );
}

#[tokio::test]
async fn get_requests_with_query_parameters_work() {
    let aws = frozen_mock();
    let request = signed_request(
        "GET",
        "http://localhost/?Action=GetCallerIdentity&Version=2011-06-15",
        "",
        &Keys::user(),
        start(),
        "sts",
    );
    let reply = call(&aws, request).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.xml("Account").as_deref(), Some("123456789012"));
    assert_eq!(reply.xml("UserId").unwrap().len(), 21);
}

#[tokio::test]
async fn every_request_is_an_event_with_its_outcome() {
    let aws = frozen_mock();
    let _ = assume(&aws, "").await;
    let _ = call(&aws, unsigned("POST", "/", "Action=GetCallerIdentity")).await;
    let events = aws.events();
    assert_eq!(events.len(), 2);
    assert_eq!(events.0[0].action.as_str(), "AssumeRole");
    assert_eq!(events.0[0].error_code, None);
    assert_eq!(
        events.0[0].signed_by.as_ref().unwrap().access_key_id,
        USER_AKID
    );
    assert_eq!(
        events.0[1].error_code,
        Some(ErrorCode::MissingAuthenticationToken)
    );
    assert_eq!(events.0[1].status, 403);
}

#[tokio::test]
async fn events_record_the_signing_time_of_header_signed_requests_only() {
    let aws = frozen_mock();
    // Signed 90 s before the server's now: the event keeps both times.
    aws.clock().advance(Duration::from_secs(90)).unwrap();
    let reply = call(
        &aws,
        sts_post(
            "Action=GetCallerIdentity&Version=2011-06-15",
            &Keys::user(),
            start(),
        ),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let url = "http://localhost/?Action=GetCallerIdentity&Version=2011-06-15";
    let _ = call(
        &aws,
        presigned_request(url, &Keys::user(), start(), Duration::from_secs(900)),
    )
    .await;
    let _ = call(&aws, unsigned("POST", "/", "Action=GetCallerIdentity")).await;
    let events = aws.events();
    assert_eq!(events.0[0].request_time, Some(start()));
    assert_eq!(events.0[0].sim_time, start() + Duration::from_secs(90));
    let json = serde_json::to_value(&events.0[0]).unwrap();
    assert_eq!(json["request_time"], "2026-01-01T00:00:00.000Z");
    // A presigned URL's X-Amz-Date is when it was made; unsigned requests have none.
    assert_eq!(events.0[1].request_time, None);
    assert_eq!(events.0[2].request_time, None);
    assert!(
        serde_json::to_value(&events.0[2])
            .unwrap()
            .get("request_time")
            .is_none()
    );
}

#[tokio::test]
async fn presigned_get_caller_identity_works_until_its_url_or_token_expires() {
    // The shape EKS uses to prove an identity: a presigned GetCallerIdentity URL.
    let aws = frozen_mock();
    let temp = keys_from(&assume(&aws, "").await);
    let url = "http://localhost/?Action=GetCallerIdentity&Version=2011-06-15";
    let reply = call(
        &aws,
        presigned_request(url, &temp, start(), Duration::from_secs(60)),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.xml("Arn").as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/cross-account-s3/pipeline")
    );
    // Past X-Amz-Expires (but within the token's life): refused.
    aws.clock().advance(Duration::from_secs(60)).unwrap();
    let reply = call(
        &aws,
        presigned_request(url, &temp, start(), Duration::from_secs(60)),
    )
    .await;
    reply.assert_sts_error(
        403,
        "SignatureDoesNotMatch",
        "Signature expired: 20260101T000000Z is now earlier than 20260101T000000Z (20260101T000100Z - 1 min.)",
    );
    // A long-lived URL dies with its session token.
    aws.clock().advance(Duration::from_secs(3600)).unwrap();
    let reply = call(
        &aws,
        presigned_request(url, &temp, start(), Duration::from_secs(7 * 24 * 3600)),
    )
    .await;
    assert_eq!(reply.code(), "ExpiredToken", "{}", reply.body);
    // A tampered signature does not verify.
    let request = presigned_request(
        url,
        &Keys::user(),
        aws.clock().now(),
        Duration::from_secs(60),
    );
    let uri = request.uri().to_string();
    let tampered = uri.replacen("X-Amz-Signature=", "X-Amz-Signature=0", 1);
    let reply = call(&aws, unsigned("GET", &tampered, "")).await;
    assert_eq!(reply.code(), "SignatureDoesNotMatch", "{}", reply.body);
}

#[test]
fn logs_never_contain_issued_secrets() {
    let (temp, logs) = with_captured_logs(async {
        let aws = frozen_mock();
        let temp = keys_from(&assume(&aws, "").await);
        let _ = call(
            &aws,
            sts_post(
                "Action=GetCallerIdentity&Version=2011-06-15",
                &temp,
                start(),
            ),
        )
        .await;
        aws.clock().advance(Duration::from_secs(7200)).unwrap();
        let _ = call(
            &aws,
            sts_post(
                "Action=GetCallerIdentity&Version=2011-06-15",
                &temp,
                aws.clock().now(),
            ),
        )
        .await;
        let _ = call(
            &aws,
            sts_post(
                "Action=GetSessionToken&Version=2011-06-15",
                &Keys::user(),
                aws.clock().now(),
            ),
        )
        .await;
        temp
    });
    assert!(
        logs.contains(&temp.akid),
        "the access key id is logged: {logs}"
    );
    assert!(!logs.contains(&temp.secret), "{logs}");
    assert!(!logs.contains(temp.token.as_deref().unwrap()), "{logs}");
    assert!(!logs.contains(USER_SECRET), "{logs}");
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
        /// No body, header or path makes the server panic or answer outside 2xx-5xx XML/JSON.
        #[test]
        fn arbitrary_requests_never_panic(
            body in proptest::collection::vec(any::<u8>(), 0..200),
            auth in "[ -~]{0,120}",
            path in "/[a-zA-Z0-9_%./-]{0,30}",
        ) {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let aws = frozen_mock();
                let request = Request::builder()
                    .method("POST")
                    .uri(path.as_str())
                    .header("authorization", auth.as_str())
                    .header("x-amz-date", "20260101T000000Z")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap();
                let reply = call(&aws, request).await;
                prop_assert!(reply.status.as_u16() >= 400, "{}", reply.body);
                Ok(())
            })?;
        }
    }
}
