//! The control API over HTTP.

use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use mock_sts::events::{EventLog, Retention};

use crate::common::*;

#[tokio::test]
async fn clock_and_events_over_http() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .start()
        .await
        .unwrap();
    let base = aws.endpoint_url();

    let (status, body) = http("GET", &format!("{base}/_mock/health"), None).await;
    assert_eq!((status, body.as_str()), (200, "{\"status\":\"ok\"}"));

    let (status, body) = http("GET", &format!("{base}/_mock/clock"), None).await;
    assert_eq!(status, 200);
    let clock: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(clock["now"], "2026-01-01T00:00:00.000Z");
    assert_eq!(clock["mode"], "frozen");
    assert_eq!(clock["rate"], 0.0);

    let (status, body) = http(
        "POST",
        &format!("{base}/_mock/clock/advance"),
        Some("{\"seconds\": 3600.5}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let clock: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(clock["now"], "2026-01-01T01:00:00.500Z");

    let (status, body) = http(
        "POST",
        &format!("{base}/_mock/clock/rate"),
        Some("{\"rate\": 60}"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(aws.clock().mode().name(), "scaled");
    let (status, _) = http(
        "POST",
        &format!("{base}/_mock/clock/rate"),
        Some("{\"rate\": 0}"),
    )
    .await;
    assert_eq!(status, 200);

    for (path, body) in [
        ("/_mock/clock/advance", "{\"seconds\": -1}"),
        ("/_mock/clock/advance", "{\"secs\": 1}"),
        ("/_mock/clock/advance", "not json"),
        ("/_mock/clock/rate", "{\"rate\": -2}"),
    ] {
        let (status, reply) = http("POST", &format!("{base}{path}"), Some(body)).await;
        assert_eq!(status, 400, "{path} {body}: {reply}");
        let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(reply["code"], "ValidationError");
    }
    let (status, _) = http("GET", &format!("{base}/_mock/nope"), None).await;
    assert_eq!(status, 404);
    let (status, _) = http("DELETE", &format!("{base}/_mock/clock"), None).await;
    assert_eq!(status, 405);

    // Two requests, then the events since the first.
    let _ = http(
        "POST",
        &format!("{base}/"),
        Some("Action=GetCallerIdentity"),
    )
    .await;
    let _ = http(
        "POST",
        &format!("{base}/"),
        Some("Action=GetCallerIdentity"),
    )
    .await;
    let (status, body) = http("GET", &format!("{base}/_mock/events"), None).await;
    assert_eq!(status, 200);
    assert_eq!(body.lines().count(), 2);
    let (_, body) = http("GET", &format!("{base}/_mock/events?since=1"), None).await;
    let lines: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["seq"], 2);
    assert_eq!(lines[0]["error_code"], "MissingAuthenticationToken");
    let (status, _) = http("GET", &format!("{base}/_mock/events?since=x"), None).await;
    assert_eq!(status, 400);
    aws.shutdown().await;
}

/// `GET /_mock/events?since=N` and its headers: (seqs in the body, dropped, last seq).
async fn events_since(base: &str, since: u64) -> (Vec<u64>, u64, u64) {
    let (status, headers, body) = http_bytes(
        "GET",
        &format!("{base}/_mock/events?since={since}"),
        &[],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    let header = |name: &str| -> u64 {
        headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    let seqs = std::str::from_utf8(&body)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    (
        seqs,
        header("x-mock-events-dropped"),
        header("x-mock-events-last-seq"),
    )
}

#[tokio::test]
async fn events_since_says_how_many_the_window_dropped() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .events(EventLog::retaining(Retention::Last(2)))
        .start()
        .await
        .unwrap();
    let base = aws.endpoint_url();
    assert_eq!(events_since(&base, 0).await, (vec![], 0, 0));
    for _ in 0..5 {
        let (status, _) = http(
            "POST",
            &format!("{base}/"),
            Some("Action=GetCallerIdentity"),
        )
        .await;
        assert_eq!(status, 403);
    }
    // Seqs stay global: 4 and 5 are left; 1..=3 are gone.
    assert_eq!(events_since(&base, 0).await, (vec![4, 5], 3, 5));
    assert_eq!(events_since(&base, 1).await, (vec![4, 5], 2, 5));
    assert_eq!(events_since(&base, 3).await, (vec![4, 5], 0, 5));
    assert_eq!(events_since(&base, 4).await, (vec![5], 0, 5));
    assert_eq!(events_since(&base, 5).await, (vec![], 0, 5));
    assert_eq!(events_since(&base, 99).await, (vec![], 0, 5));
    assert_eq!(aws.event_log().dropped(), 3);
    assert_eq!(aws.events().len(), 2);
    aws.shutdown().await;
}

/// A control request from `peer`, with `Authorization: Bearer token` when given, through the
/// router as the server passes it (with the peer's address as connection info).
async fn control_from(aws: &MockAws, peer: &str, token: Option<&str>) -> (u16, String) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let mut request = http::Request::get("/_mock/health");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut request = request.body(axum::body::Body::empty()).unwrap();
    let addr: std::net::SocketAddr = peer.parse().unwrap();
    request
        .extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    let response = aws.router().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test]
async fn remote_control_needs_the_flag_and_the_bearer_token() {
    let loopback = "127.0.0.1:40000";
    let remote = "10.1.2.3:40000";
    // Loopback only, by default: a remote peer is refused whatever it sends.
    let aws = MockAws::builder().build();
    assert_eq!(control_from(&aws, loopback, None).await.0, 200);
    let (status, body) = control_from(&aws, remote, Some("s3cret")).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--allow-remote-control"), "{body}");

    // Remote control allowed: remote peers need the token; loopback peers do not.
    let aws = MockAws::builder()
        .allow_remote_control(true)
        .control_token("s3cret")
        .build();
    let cases = [
        (remote, None, 401),
        (remote, Some("wrong"), 401),
        (remote, Some("s3cre"), 401),
        (remote, Some("s3cret"), 200),
        ("[2001:db8::1]:40000", Some("s3cret"), 200),
        (loopback, None, 200),
    ];
    for (peer, token, want) in cases {
        let (status, body) = control_from(&aws, peer, token).await;
        assert_eq!(status, want, "{peer} {token:?}: {body}");
        if want == 401 {
            assert!(body.contains("Authorization: Bearer"), "{body}");
        }
    }

    // Allowed without a token (a library caller's mistake): every remote caller is refused.
    let aws = MockAws::builder().allow_remote_control(true).build();
    assert_eq!(control_from(&aws, remote, Some("anything")).await.0, 401);
}
