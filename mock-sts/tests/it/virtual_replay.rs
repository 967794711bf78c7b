//! The real SDK on a virtual clock, in process: hours replay in milliseconds, expiry lands on
//! the exact simulated second, and the same seed gives the same events.

use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use mock_sts::MockAws;
use mock_sts::clock::{SimClock, default_virtual_start};
use mock_sts::sdk::InProcessClient;

use crate::common::*;

/// What a replay leaves behind, without wall-clock fields: (sim time, action, outcome, key).
type Trace = Vec<(String, String, String, String)>;

fn replay(refreshing: bool, hours: u64) -> Trace {
    fastrand::seed(11);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    runtime.block_on(async {
        let clock = SimClock::virtual_at(default_virtual_start());
        let aws = MockAws::builder().clock(clock.clone()).seed(11).build();
        let base = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(aws.endpoint_url())
            .http_client(InProcessClient::new(&aws))
            .time_source(clock.clone())
            .sleep_impl(clock.clone())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                USER_AKID,
                USER_SECRET,
                None,
                None,
                "user",
            )))
            .build();
        let conf = aws_sdk_sts::config::Builder::from(&base);
        let conf = if refreshing {
            conf.credentials_provider(
                AssumeRoleProvider::builder(LONG_ROLE)
                    .session_name("replay")
                    .configure(&base)
                    .build()
                    .await,
            )
        } else {
            let out = aws_sdk_sts::Client::new(&base)
                .assume_role()
                .role_arn(LONG_ROLE)
                .role_session_name("replay")
                .send()
                .await
                .unwrap();
            let c = out.credentials().unwrap();
            conf.credentials_provider(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "env",
            ))
        };
        let client = aws_sdk_sts::Client::from_conf(conf.build());
        let end = clock.now() + Duration::from_secs(hours * 3600);
        while clock.now() < end {
            let _ = client.get_caller_identity().send().await;
            clock.sleep(Duration::from_secs(7)).await;
        }
        aws.events()
            .iter()
            .map(|e| {
                (
                    mock_sts::timestamp::rfc3339_millis(e.sim_time),
                    e.action.to_string(),
                    e.outcome().to_string(),
                    e.signed_by
                        .as_ref()
                        .map(|s| s.access_key_id.clone())
                        .unwrap_or_default(),
                )
            })
            .collect()
    })
}

#[test]
fn keys_kept_from_start_up_fail_at_exactly_one_simulated_hour() {
    let trace = replay(false, 2);
    let first_failure = trace
        .iter()
        .find(|(_, _, outcome, _)| outcome != "ok")
        .unwrap();
    // Calls at 0, 7, 14, …: the first at or after 3600 s is 3605 s (515 × 7).
    assert_eq!(first_failure.0, "2026-01-01T01:00:05.000Z");
    assert_eq!(first_failure.2, "ExpiredToken");
    let last_ok = trace
        .iter()
        .rev()
        .find(|(_, a, outcome, _)| a == "GetCallerIdentity" && outcome == "ok")
        .unwrap();
    assert_eq!(last_ok.0, "2026-01-01T00:59:58.000Z");
}

#[test]
fn a_refreshing_provider_never_fails_and_replays_identically() {
    let first = replay(true, 4);
    assert!(first.iter().all(|(_, _, outcome, _)| outcome == "ok"));
    let times: Vec<_> = first
        .iter()
        .filter(|(_, a, _, _)| a == "AssumeRole")
        .map(|(t, _, _, _)| mock_sts::timestamp::parse_rfc3339(t).unwrap())
        .collect();
    // aws-sdk-rust refreshes 5-10 s before expiry (aws-facts §6.1); with a call every 7 s the
    // refresh lands on the first call inside that window, so each comes 0-10 s before the
    // previous credentials' one-hour expiry, and the fifth falls just before the 4 h mark.
    assert_eq!(times.len(), 5, "{times:?}");
    for pair in times.windows(2) {
        let expiry = pair[0] + Duration::from_secs(3600);
        let lead = expiry.duration_since(pair[1]).unwrap();
        assert!(lead <= Duration::from_secs(10), "{lead:?}");
    }
    assert_eq!(replay(true, 4), first);
}
