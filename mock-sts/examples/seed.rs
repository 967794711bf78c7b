//! The seed's one-hour cliff, replayed in process on a virtual clock.
//!
//! A pipeline assumes a role once at start-up and keeps the keys (as copying them into env vars
//! does); another lets the SDK's `AssumeRoleProvider` refresh them. Both call STS every 10
//! simulated seconds for 4 simulated hours. The real aws-sdk-sts runs against the mock through
//! an in-process HTTP client on a paused tokio clock, so the 8 simulated hours take well under
//! a second, and the outcome comes from the server's events.
//!
//! ```text
//! cargo run --release -p mock-sts --features sdk --example seed
//! ```

use std::time::Duration;

use aws_config::sts::AssumeRoleProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use mock_sts::clock::{SimClock, Stopwatch, default_virtual_start};
use mock_sts::sdk::InProcessClient;
use mock_sts::{MockAws, timestamp};

const ROLE: &str = "arn:aws:iam::123456789012:role/cross-account-s3";
const WORKLOAD: Duration = Duration::from_secs(4 * 3600);
const EVERY: Duration = Duration::from_secs(10);

#[derive(Clone, Copy)]
enum Strategy {
    /// One AssumeRole at start-up, keys used as static credentials.
    ManualEnv,
    /// aws-config's AssumeRoleProvider behind the SDK's identity cache.
    SdkProvider,
}

fn sdk_config(aws: &MockAws, clock: &SimClock) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(aws.endpoint_url())
        .http_client(InProcessClient::new(aws))
        .time_source(clock.clone())
        .sleep_impl(clock.clone())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "pipeline-user",
        )))
        .build()
}

async fn run(strategy: Strategy) -> anyhow::Result<MockAws> {
    let clock = SimClock::virtual_at(default_virtual_start());
    let aws = MockAws::builder().clock(clock.clone()).seed(7).build();
    let base = sdk_config(&aws, &clock);
    let config = match strategy {
        Strategy::ManualEnv => {
            let out = aws_sdk_sts::Client::new(&base)
                .assume_role()
                .role_arn(ROLE)
                .role_session_name("pipeline")
                .send()
                .await?;
            let c = out
                .credentials()
                .ok_or_else(|| anyhow::anyhow!("no credentials"))?;
            let keys = Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "env",
            );
            aws_sdk_sts::config::Builder::from(&base)
                .credentials_provider(keys)
                .build()
        }
        Strategy::SdkProvider => {
            let provider = AssumeRoleProvider::builder(ROLE)
                .session_name("pipeline")
                .configure(&base)
                .build()
                .await;
            aws_sdk_sts::config::Builder::from(&base)
                .credentials_provider(provider)
                .build()
        }
    };
    let client = aws_sdk_sts::Client::from_conf(config);
    let end = clock.now() + WORKLOAD;
    while clock.now() < end {
        // Failures are the point: the server's events record them.
        let _ = client.get_caller_identity().send().await;
        clock.sleep(EVERY).await;
    }
    Ok(aws)
}

fn main() -> anyhow::Result<()> {
    println!(
        "{:<13} {:>8} {:>8}  {:<28} {:>10}",
        "strategy", "requests", "failures", "first failure", "AssumeRole"
    );
    let stopwatch = Stopwatch::start();
    for (name, strategy) in [
        ("manual-env", Strategy::ManualEnv),
        ("sdk-provider", Strategy::SdkProvider),
    ] {
        // The SDK's jitter comes from fastrand's thread-local RNG: seed it for a repeatable run.
        fastrand::seed(7);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()?;
        let aws = runtime.block_on(run(strategy))?;
        let events = aws.events();
        let calls: Vec<_> = events
            .action(mock_sts::sts::Action::GetCallerIdentity)
            .collect();
        let failures: Vec<_> = calls.iter().filter(|e| e.is_error()).collect();
        let first = failures.first().map_or("-".to_string(), |e| {
            let at = e
                .sim_time
                .duration_since(default_virtual_start())
                .unwrap_or_default();
            format!("{} at +{}s", e.outcome(), at.as_secs())
        });
        println!(
            "{:<13} {:>8} {:>8}  {:<28} {:>10}",
            name,
            calls.len(),
            failures.len(),
            first,
            events.action(mock_sts::sts::Action::AssumeRole).count()
        );
        if let Some(e) = failures.first()
            && let Some(signer) = &e.signed_by
        {
            println!(
                "              signed by {} ({} at {}, expired {})",
                signer.access_key_id,
                signer.issued_by.map_or("?", |by| by.as_str()),
                signer
                    .issued_at
                    .map(timestamp::rfc3339_millis)
                    .unwrap_or_default(),
                signer
                    .expires_at
                    .map(timestamp::rfc3339_millis)
                    .unwrap_or_default(),
            );
        }
    }
    println!(
        "replayed 2 x {} simulated hours in {:.2} s",
        WORKLOAD.as_secs() / 3600,
        stopwatch.elapsed().as_secs_f64()
    );
    Ok(())
}
