//! The control API over HTTP.

use mock_sts::MockAws;
use mock_sts::clock::SimClock;

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
