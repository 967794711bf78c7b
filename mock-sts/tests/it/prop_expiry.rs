//! The expiry boundary, as a property: for any role maximum (3600..=43200), any
//! `DurationSeconds` within it (or none), any start and any clock (frozen, scaled, virtual),
//! credentials from `AssumeRole` sign requests that are accepted at every instant before their
//! `Expiration` and get `ExpiredToken` — STS 403, S3 400 — at every instant from it on, in
//! both signature forms. Requests are signed by the real aws-sigv4 crate and go through the
//! in-process router.
//!
//! Frozen and virtual clocks stand still between requests, so each probe instant is exactly
//! the instant judged, and the boundary is checked to the millisecond (−1 ms accepted, 0 and
//! +1 ms expired). A scaled clock moves while a request is handled, so there the verdict is
//! checked against the arrival time the server recorded in its event.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use http::Request;
use mock_sts::MockAws;
use mock_sts::aws_error::ErrorCode;
use mock_sts::clock::SimClock;
use mock_sts::testing::{self, ExpiryCase};
use mock_sts::timestamp;
use proptest::prelude::*;

use crate::common::*;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/it/prop_expiry.txt"
);

/// The four ways a request carries a signature here.
#[derive(Debug, Clone, Copy)]
enum Probe {
    StsHeader,
    StsPresigned,
    S3Header,
    S3Presigned,
}

impl Probe {
    const ALL: [Probe; 4] = [
        Probe::StsHeader,
        Probe::StsPresigned,
        Probe::S3Header,
        Probe::S3Presigned,
    ];

    fn request(self, keys: &Keys, time: SystemTime) -> Request<Body> {
        let week = Duration::from_secs(604_800);
        match self {
            Probe::StsHeader => sts_post("Action=GetCallerIdentity&Version=2011-06-15", keys, time),
            Probe::StsPresigned => presigned_request(
                "http://localhost/?Action=GetCallerIdentity&Version=2011-06-15",
                keys,
                time,
                week,
            ),
            // ListBuckets: served to any valid caller, no bucket needed.
            Probe::S3Header => s3_request("GET", "/", keys, time, None),
            Probe::S3Presigned => s3_request("GET", "/", keys, time, Some(week)),
        }
    }

    /// The status AWS answers `ExpiredToken` with: STS 403, S3 400.
    fn expired_status(self) -> u16 {
        match self {
            Probe::StsHeader | Probe::StsPresigned => 403,
            Probe::S3Header | Probe::S3Presigned => 400,
        }
    }
}

async fn check(case: ExpiryCase, clock: SimClock) -> Result<(), TestCaseError> {
    let aws = MockAws::builder()
        .clock(clock.clone())
        .world(case.limits.world())
        .seed(3)
        .build();
    let mut body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=expiry&RoleArn={}",
        percent_encoding::utf8_percent_encode(
            &case.limits.role_arn(),
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    if let Some(d) = case.limits.duration_seconds {
        body.push_str(&format!("&DurationSeconds={d}"));
    }
    let reply = call(&aws, sts_post(&body, &Keys::user(), clock.now())).await;
    prop_assert_eq!(reply.status.as_u16(), 200, "{}", reply.body);
    let keys = keys_from(&reply);
    let expiration = timestamp::parse_rfc3339(&reply.xml("Expiration").unwrap()).unwrap();
    let issued = aws.events().iter().last().unwrap().sim_time;
    let granted = Duration::from_secs(u64::from(case.limits.granted_seconds()));
    // STS counts whole seconds: Expiration = floor(now + granted) (sts::session_expiration).
    prop_assert_eq!(expiration, timestamp::floor_to_second(issued + granted));
    if case.clock.is_exact() {
        prop_assert_eq!(expiration, case.expected_expiry());
    }

    let (mut accepted, mut expired) = (0, 0);
    for offset in &case.offsets {
        let t = offset.from(expiration);
        if t < clock.now() {
            // Before the issue: the earliest probes of a lifetime-long span, or a scaled clock
            // that has already moved past the instant.
            continue;
        }
        testing::advance_to(&clock, t).unwrap();
        for probe in Probe::ALL {
            let signed_at = clock.now();
            let reply = call(&aws, probe.request(&keys, signed_at)).await;
            let event = aws.events().iter().last().unwrap().clone();
            let arrived = event.sim_time;
            if case.clock.is_exact() {
                prop_assert_eq!(arrived, t, "an exact clock moved");
            } else {
                prop_assert!(arrived >= signed_at);
            }
            let is_expired = arrived >= expiration;
            if case.clock.is_exact() {
                prop_assert_eq!(is_expired, offset.is_expired());
            }
            let what = format!(
                "{probe:?} at {} ({offset:?} from the expiry {}): {}",
                timestamp::rfc3339_millis(arrived),
                timestamp::rfc3339_millis(expiration),
                reply.body
            );
            if is_expired {
                prop_assert_eq!(reply.status.as_u16(), probe.expired_status(), "{}", what);
                prop_assert_eq!(event.error_code, Some(ErrorCode::ExpiredToken), "{}", what);
                prop_assert_eq!(reply.code(), "ExpiredToken", "{}", what);
                expired += 1;
            } else {
                prop_assert_eq!(reply.status.as_u16(), 200, "{}", what);
                prop_assert_eq!(event.error_code, None, "{}", what);
                accepted += 1;
            }
        }
    }
    // A scaled clock can run past the boundary probes while earlier ones are handled (on a
    // busy machine, a few real milliseconds are seconds): an hour past the expiry, every
    // probe is expired whatever the clock skipped.
    let late = expiration + Duration::from_secs(3600);
    if late > clock.now() {
        testing::advance_to(&clock, late).unwrap();
    }
    for probe in Probe::ALL {
        let reply = call(&aws, probe.request(&keys, clock.now())).await;
        prop_assert_eq!(
            reply.status.as_u16(),
            probe.expired_status(),
            "{}",
            reply.body
        );
        prop_assert_eq!(reply.code(), "ExpiredToken", "{}", reply.body);
        expired += 1;
    }
    // The boundary probes (−1 s, −1 ms, 0, +1 ms, +1 s) land on both sides of an exact clock;
    // a scaled one may carry the early ones past the expiry while they are being handled.
    if case.clock.is_exact() {
        prop_assert!(accepted >= 8, "{accepted} accepted");
    }
    prop_assert!(expired >= 4, "{expired} expired");
    Ok(())
}

proptest! {
    #![proptest_config(prop_config(48, REGRESSIONS))]

    #[test]
    fn credentials_are_accepted_before_expiration_and_expired_from_it(
        case in testing::expiry_case(6),
    ) {
        let kind = case.clock;
        kind.block_on(case.start, move |clock| check(case, clock))?;
    }
}
