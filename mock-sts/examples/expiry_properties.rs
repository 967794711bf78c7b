//! Property-testing your own credential handling against mock-sts, with the strategies of
//! `mock_sts::testing` (feature `proptest`).
//!
//! The code under test is a small refresh-ahead cache, the kind a pipeline writes around
//! `sts:AssumeRole`: it keeps one set of keys and assumes the role again once the keys are
//! within `lead` of their expiry. The property: for any role maximum, any `DurationSeconds`,
//! any clock (frozen, scaled, virtual) and any call rate, the keys it hands out are never
//! refused with `ExpiredToken`, and it calls STS no more often than the lifetime requires.
//! Each case runs the real aws-sdk-sts in process against the mock's router.
//!
//! ```text
//! cargo run -p mock-sts --features sdk,proptest --example expiry_properties
//! PROPTEST_CASES=200 cargo run --release -p mock-sts --features sdk,proptest --example expiry_properties
//! ```
//!
//! `LEAD_SECONDS` sets the cache's lead (default 300). Change the cache's test from
//! `now + lead < expiry` to `<=` with `LEAD_SECONDS=0`, and the property fails on the case where
//! a call lands exactly on the expiry: AWS counts that instant as expired (`now >= Expiration`).

use std::time::{Duration, SystemTime};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_sts::error::ProvideErrorMetadata;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use mock_sts::sdk::InProcessClient;
use mock_sts::testing::{self, ClockKind, RoleLimits};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

/// The code under test: keys from `AssumeRole`, replaced once they are within `lead` of their
/// expiry.
struct RefreshAhead {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    duration_seconds: Option<u32>,
    lead: Duration,
    current: Option<(Credentials, SystemTime)>,
    refreshes: u32,
}

impl RefreshAhead {
    async fn credentials(&mut self, now: SystemTime) -> Result<Credentials, String> {
        if let Some((keys, expiry)) = &self.current
            && now + self.lead < *expiry
        {
            return Ok(keys.clone());
        }
        let out = self
            .sts
            .assume_role()
            .role_arn(&self.role_arn)
            .role_session_name("pipeline")
            .set_duration_seconds(self.duration_seconds.map(|d| d as i32))
            .send()
            .await
            .map_err(|e| format!("AssumeRole: {:?}", e.into_service_error().code()))?;
        let c = out.credentials().ok_or("no credentials")?;
        let expiry = SystemTime::try_from(*c.expiration()).map_err(|e| e.to_string())?;
        let keys = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            Some(expiry),
            "refresh-ahead",
        );
        self.current = Some((keys.clone(), expiry));
        self.refreshes += 1;
        Ok(keys)
    }
}

fn sdk_config(aws: &MockAws, clock: &SimClock, keys: Credentials) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(aws.endpoint_url())
        .http_client(InProcessClient::new(aws))
        .time_source(clock.clone())
        .sleep_impl(clock.clone())
        .credentials_provider(SharedCredentialsProvider::new(keys))
        .build()
}

/// One case: `calls` calls spread over two lifetimes of the credentials.
async fn case(
    limits: RoleLimits,
    kind: ClockKind,
    clock: SimClock,
    calls: u32,
    lead: Duration,
) -> Result<(), TestCaseError> {
    let aws = MockAws::builder()
        .clock(clock.clone())
        .world(limits.world())
        .seed(1)
        .build();
    let user = Credentials::new(
        testing::USER_ACCESS_KEY_ID,
        testing::USER_SECRET_ACCESS_KEY,
        None,
        None,
        "user",
    );
    let mut cache = RefreshAhead {
        sts: aws_sdk_sts::Client::new(&sdk_config(&aws, &clock, user)),
        role_arn: limits.role_arn(),
        duration_seconds: limits.duration_seconds,
        lead,
        current: None,
        refreshes: 0,
    };
    let lifetime = Duration::from_secs(u64::from(limits.granted_seconds()));
    let every = (lifetime * 2) / calls;
    for i in 0..calls {
        let keys = cache
            .credentials(clock.now())
            .await
            .map_err(TestCaseError::fail)?;
        let client = aws_sdk_sts::Client::new(&sdk_config(&aws, &clock, keys));
        if let Err(e) = client.get_caller_identity().send().await {
            let code = e.into_service_error().code().map(str::to_owned);
            return Err(TestCaseError::fail(format!(
                "call {i} of {calls} on a {kind} clock got {code:?} ({} refreshes)",
                cache.refreshes
            )));
        }
        testing::advance_to(&clock, clock.now() + every)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
    // One AssumeRole per (lifetime - lead) of calls, and the first.
    let span = every * calls;
    let per = lifetime.saturating_sub(lead).max(every);
    let most = 2 + span.as_secs() / per.as_secs().max(1);
    prop_assert!(
        u64::from(cache.refreshes) <= most,
        "{} refreshes for {calls} calls over {span:?} (at most {most})",
        cache.refreshes
    );
    Ok(())
}

fn main() {
    let lead = Duration::from_secs(
        std::env::var("LEAD_SECONDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300),
    );
    // No failure file: an example has no source tree to keep one in (tests do, via proptest!).
    let config = proptest::test_runner::Config {
        failure_persistence: None,
        ..testing::config(16)
    };
    let mut runner = TestRunner::new(config);
    let strategy = (
        testing::role_limits(),
        testing::clock_kind(),
        testing::start_time(),
        8u32..40,
    );
    let result = runner.run(&strategy, |(limits, kind, start, calls)| {
        kind.block_on(start, |clock| case(limits, kind, clock, calls, lead))
    });
    match result {
        Ok(()) => println!(
            "ok: refresh-ahead ({lead:?} lead) never signed with expired keys in {} cases",
            runner.config().cases
        ),
        Err(e) => {
            eprintln!("property failed: {e}");
            std::process::exit(1);
        }
    }
}
