//! aws-config's own credential providers against the server's metadata endpoints, on the
//! server's clock: the IMDS provider, the ECS (container) provider, and a profile whose
//! `credential_source = Ec2InstanceMetadata` assumes a role from the instance's credentials.
//!
//! The long tests call STS every five simulated minutes for twelve hours through a client whose
//! credentials come from the provider; the events show each rotation the SDK picked up and that
//! no call failed. One more runs the default chain with no endpoint configured, as on ECS and
//! EC2, through the in-process HTTP client.

use std::collections::BTreeSet;
use std::time::Duration;

use aws_config::imds::credentials::ImdsCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_async::rt::sleep::{SharedAsyncSleep, TokioSleep};
use aws_smithy_async::time::SharedTimeSource;
use aws_types::os_shim_internal::{Env, Fs};
use mock_sts::MockAws;
use mock_sts::World;
use mock_sts::clock::SimClock;
use mock_sts::credentials::IssuedBy;
use mock_sts::events::Events;

use crate::common::*;

/// Twelve hours of one `GetCallerIdentity` every five minutes.
const STEP: Duration = Duration::from_secs(5 * 60);
const STEPS: u32 = 12 * 12;

/// A mock on a frozen clock seven minutes past a whole hour, so the first credentials served
/// are already seven minutes old, as on an instance that has been running a while.
async fn started(world: World) -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start() + Duration::from_secs(7 * 60)))
        .world(world)
        .seed(11)
        .start()
        .await
        .unwrap()
}

/// SDK configuration whose credentials come from the environment `env` (the default chain,
/// which aws-config builds from it), with no profile files at all.
async fn config_from_env(aws: &MockAws, env: &[(&str, &str)], fs: Fs) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .env(Env::from_slice(env))
        .fs(fs)
        .region(Region::new("us-east-1"))
        .endpoint_url(aws.endpoint_url())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .time_source(SharedTimeSource::new(aws.clock().clone()))
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .load()
        .await
}

/// Calls STS every [`STEP`] for twelve hours; returns the events of the run.
async fn twelve_hours(aws: &MockAws, client: &aws_sdk_sts::Client) -> Events {
    for step in 0..=STEPS {
        let identity = client
            .get_caller_identity()
            .send()
            .await
            .unwrap_or_else(|e| panic!("step {step}: {e:?}"));
        assert!(identity.arn().is_some());
        aws.clock().advance(STEP).unwrap();
    }
    aws.events()
}

/// What every twelve-hour run must show: no failure; every call signed by credentials from
/// `issued_by`, unexpired when they arrived; at least three credential sets used, each picked
/// up from a rotation; and some calls signed by a set while a newer one was already out.
fn assert_rotations_without_failures(
    events: &Events,
    fetch_action: mock_sts::imds::Action,
    issued_by: IssuedBy,
) {
    let failures: Vec<_> = events.errors().collect();
    assert!(failures.is_empty(), "{failures:#?}");
    let calls: Vec<_> = events
        .action(mock_sts::sts::Action::GetCallerIdentity)
        .collect();
    assert_eq!(calls.len(), STEPS as usize + 1);
    let mut keys = BTreeSet::new();
    let mut used_after_rotation = 0;
    for call in &calls {
        let signer = call.signed_by.as_ref().unwrap();
        assert_eq!(signer.issued_by, Some(issued_by), "{call:#?}");
        assert!(signer.expires_at.unwrap() > call.sim_time, "{call:#?}");
        keys.insert(signer.access_key_id.clone());
        let age = call
            .sim_time
            .duration_since(signer.issued_at.unwrap())
            .unwrap();
        if age >= Duration::from_secs(3600) {
            used_after_rotation += 1;
        }
    }
    assert!(keys.len() >= 3, "credential sets used: {keys:?}");
    assert!(used_after_rotation > 0);
    let mut fetched = BTreeSet::new();
    for fetch in events.action(fetch_action) {
        let issued = fetch.issued.as_ref().unwrap();
        // Served with well over 25 minutes to live, as EC2 does (aws-facts §4.4).
        let left = issued.expires_at.duration_since(fetch.sim_time).unwrap();
        assert!(left > Duration::from_secs(25 * 60), "{fetch:#?}");
        fetched.insert(issued.access_key_id.clone());
    }
    assert!(keys.is_subset(&fetched), "{keys:?} vs {fetched:?}");
}

#[tokio::test]
async fn imds_provider_follows_rotations_for_twelve_hours() {
    let aws = started(World::default()).await;
    let provider_config = ProviderConfig::empty()
        .with_region(Some(Region::new("us-east-1")))
        .with_http_client(aws_smithy_http_client::Builder::new().build_http())
        .with_time_source(aws.clock().clone())
        .with_sleep_impl(TokioSleep::new());
    let imds = aws_config::imds::Client::builder()
        .configure(&provider_config)
        .endpoint(aws.endpoint_url())
        .unwrap()
        .build();
    let provider = ImdsCredentialsProvider::builder()
        .configure(&provider_config)
        .imds_client(imds)
        .build();
    let base = sdk_config(
        &aws,
        Credentials::new("unused", "unused", None, None, "none"),
    );
    let conf = aws_sdk_sts::config::Builder::from(&base)
        .credentials_provider(provider)
        .build();
    let client = aws_sdk_sts::Client::from_conf(conf);

    let events = twelve_hours(&aws, &client).await;
    assert_rotations_without_failures(
        &events,
        mock_sts::imds::Action::GetInstanceCredentials,
        IssuedBy::InstanceMetadata,
    );
    assert!(events.iter().any(|e| signed_as(
        e,
        "arn:aws:sts::123456789012:assumed-role/instance-role/i-1234567890abcdef0"
    )));
    // The SDK asked for a six-hour token and fetched a new one when it ran out, on the
    // server's clock.
    assert!(
        events
            .action(mock_sts::imds::Action::GetMetadataToken)
            .count()
            >= 2
    );
    aws.shutdown().await;
}

/// Whether an event was signed by `arn`.
fn signed_as(event: &mock_sts::events::Event, arn: &str) -> bool {
    event
        .signed_by
        .as_ref()
        .and_then(|s| s.principal_arn.as_deref())
        == Some(arn)
}

#[tokio::test]
async fn ecs_provider_follows_rotations_for_twelve_hours() {
    let world = crate::imds::world_with(
        "[container]\nrole = \"task-role\"\nrelative_uri = \"/v1/credentials\"\nauthorization_token = \"pod-token\"\nsession_name = \"eks-pod-1\"\n",
    );
    let aws = started(world).await;
    let full_uri = format!("{}/v1/credentials", aws.endpoint_url());
    let config = config_from_env(
        &aws,
        &[
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", &full_uri),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "pod-token"),
        ],
        Fs::from_slice(&[]),
    )
    .await;
    // The default chain resolved to the ECS provider, which read the pod-identity answer.
    let provider = config.credentials_provider().unwrap();
    let creds = provider.provide_credentials().await.unwrap();
    assert!(format!("{creds:?}").contains("EcsContainer"), "{creds:?}");
    assert_eq!(creds.account_id().map(|a| a.as_str()), Some("123456789012"));
    assert_eq!(
        creds.expiry(),
        Some(start() + Duration::from_secs(6 * 3600))
    );

    let client = aws_sdk_sts::Client::new(&config);
    let events = twelve_hours(&aws, &client).await;
    assert_rotations_without_failures(
        &events,
        mock_sts::imds::Action::GetContainerCredentials,
        IssuedBy::ContainerCredentials,
    );
    assert!(events.iter().any(|e| signed_as(
        e,
        "arn:aws:sts::123456789012:assumed-role/task-role/eks-pod-1"
    )));
    aws.shutdown().await;
}

#[tokio::test]
async fn a_profile_with_credential_source_ec2_instance_metadata_assumes_its_role() {
    let aws = started(World::default()).await;
    let dir = std::env::temp_dir().join(format!("mock-sts-imds-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_file = dir.join("config");
    std::fs::write(
        &config_file,
        format!(
            "[profile imds-chain]\nrole_arn = {LONG_ROLE}\ncredential_source = Ec2InstanceMetadata\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    let endpoint = aws.endpoint_url();
    #[allow(deprecated)] // ConfigLoader::profile_files takes aws-config's alias of the type
    let files = aws_config::profile::profile_file::ProfileFiles::builder()
        .with_file(
            aws_config::profile::profile_file::ProfileFileKind::Config,
            &config_file,
        )
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest())
        .env(Env::from_slice(&[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", &endpoint),
            // The profile provider's own STS client finds the mock through this.
            ("AWS_ENDPOINT_URL", &endpoint),
        ]))
        .profile_files(files)
        .profile_name("imds-chain")
        .region(Region::new("us-east-1"))
        .endpoint_url(&endpoint)
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .time_source(SharedTimeSource::new(aws.clock().clone()))
        .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
        .load()
        .await;
    let client = aws_sdk_sts::Client::new(&config);

    // Three hours, a call every five minutes: the assumed role (one hour, role chaining from
    // the instance role) is refreshed, each time from fresh instance credentials.
    let mut arns = BTreeSet::new();
    for _ in 0..36 {
        let identity = client.get_caller_identity().send().await.unwrap();
        arns.insert(identity.arn().unwrap().to_string());
        aws.clock().advance(STEP).unwrap();
    }
    assert!(arns.len() >= 3, "{arns:?}");
    for arn in &arns {
        assert!(
            arn.starts_with(
                "arn:aws:sts::123456789012:assumed-role/cross-account-s3/assume-role-from-profile-"
            ),
            "{arn}"
        );
    }
    let events = aws.events();
    assert_eq!(
        events.errors().count(),
        0,
        "{:#?}",
        events.errors().collect::<Vec<_>>()
    );
    let assumes: Vec<_> = events.action(mock_sts::sts::Action::AssumeRole).collect();
    assert!(assumes.len() >= 3, "{assumes:#?}");
    for assume in &assumes {
        let signer = assume.signed_by.as_ref().unwrap();
        assert_eq!(signer.issued_by, Some(IssuedBy::InstanceMetadata));
        let issued = assume.issued.as_ref().unwrap();
        // AssumeRole from instance-profile credentials is role chaining: one hour at most.
        assert!(issued.chained);
        assert_eq!(issued.duration_seconds_granted, 3600);
    }
    assert!(
        events
            .action(mock_sts::imds::Action::GetInstanceCredentials)
            .count()
            >= assumes.len()
    );
    std::fs::remove_dir_all(dir).unwrap();
    aws.shutdown().await;
}

/// The SDK's default chain as it runs on ECS and on EC2, with no endpoint configured: it asks
/// `169.254.170.2` + `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or IMDS at `169.254.169.254`,
/// and an in-process HTTP client delivers those requests to the mock's router.
#[tokio::test]
async fn the_default_chain_finds_the_link_local_endpoints() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(12)
        .build();
    let load = |env: &'static [(&'static str, &'static str)]| {
        aws_config::defaults(BehaviorVersion::latest())
            .env(Env::from_slice(env))
            .fs(Fs::from_slice(&[]))
            .region(Region::new("us-east-1"))
            .endpoint_url(aws.endpoint_url())
            .http_client(mock_sts::sdk::InProcessClient::new(&aws))
            .time_source(SharedTimeSource::new(aws.clock().clone()))
            .sleep_impl(SharedAsyncSleep::new(TokioSleep::new()))
            .load()
    };
    let ecs = load(&[(
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "/v2/credentials/6d1e8f2a-4b7c-4e9d-a3f5-0c2b9e7d1a48",
    )])
    .await;
    let identity = aws_sdk_sts::Client::new(&ecs)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/task-role/6d1e8f2a4b7c4e9da3f50c2b9e7d1a48")
    );

    let ec2 = load(&[]).await;
    let identity = aws_sdk_sts::Client::new(&ec2)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        identity.arn(),
        Some("arn:aws:sts::123456789012:assumed-role/instance-role/i-1234567890abcdef0")
    );
    let events = aws.events();
    assert_eq!(events.errors().count(), 0, "{events:#?}");
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "GetContainerCredentials",
            "GetCallerIdentity",
            "GetMetadataToken",
            "GetMetadata",
            "GetInstanceCredentials",
            "GetCallerIdentity"
        ]
    );
}
