//! Client strategies: how a client built on the real aws-sdk-rust gets its credentials.
//!
//! Every strategy builds real SDK clients (aws-sdk-s3, aws-sdk-sts, aws-config's providers) on
//! the run's clock — the SDK signs, caches and refreshes on the same simulated time the server
//! enforces — and with the run's HTTP client (in process on a virtual clock, a loopback socket
//! on a scaled one). What differs is only where the credentials come from:
//!
//! | strategy | credentials |
//! |---|---|
//! | `manual-env` | one `AssumeRole` at start-up, used as static keys (what copying them into env vars does) |
//! | `sdk-profile` | aws-config's profile provider: `role_arn` + `source_profile`, refreshed by the SDK's identity cache |
//! | `sdk-imds` | the same with `credential_source = Ec2InstanceMetadata`: source keys from the mock's IMDS |
//! | `naive-refresh` | a hand-rolled cache that calls `AssumeRole` again only once the keys have expired |
//! | `sdk-container` | aws-config's default chain with only the container endpoint's variables (and its token file, for EKS Pod Identity) |
//! | `sdk-web-identity` | aws-config's default chain with only `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`: it re-reads the rotated token file on every refresh |
//! | `web-identity-read-once` | the token file read once at start-up; every refresh sends that token to `AssumeRoleWithWebIdentity` |
//! | `pod-identity-read-once` | the default chain with the Pod Identity token copied once into `AWS_CONTAINER_AUTHORIZATION_TOKEN` |
//! | `spec-refresh` | sdk-profile's provider behind [`crate::spec_refresh`]'s cache (AWS's 2026 cross-SDK refresh rules), the SDK's own cache off |
//! | `spec-refresh-imds` | sdk-imds's provider behind the same cache |
//!
//! `process` runs are not built here: their program brings its own SDK ([`crate::process`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::identity::IdentityCache;
use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider, future};
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_s3::config::retry::RetryPartition;
use aws_smithy_async::rt::sleep::SharedAsyncSleep;
use aws_smithy_async::time::SharedTimeSource;
use aws_smithy_runtime_api::client::http::{SharedHttpClient, SharedHttpConnector};
use aws_types::os_shim_internal::Fs;
use mock_sts::clock::{SimClock, SkewedClock};

use crate::scenario::{RunSpec, StrategyKind};
use crate::spec_refresh::{InvalidateOnRejection, SpecRefresh};
use crate::token_file::ProjectedEnv;

/// Everything a strategy needs to build clients.
#[derive(Clone, Debug)]
pub struct ClientEnv {
    /// The run's clock (the server's): the SDK's timers sleep on it.
    pub clock: SimClock,
    /// The client's view of it (the run's clock faults, if any): the SDK signs, caches and
    /// judges expiry by this time.
    pub client_clock: SkewedClock,
    /// The HTTP client to reach the mock.
    pub http: SharedHttpClient,
    /// The same way to the mock as a bare connector, for requests no SDK sends.
    pub direct: SharedHttpConnector,
    /// The mock's endpoint URL.
    pub endpoint: String,
    /// The long-term source keys (the world's first user).
    pub source_access_key_id: String,
    /// Their secret.
    pub source_secret_access_key: String,
    /// A name unique to the run (retry partitions are process-global in the SDK).
    pub partition: String,
    /// The world's container credential endpoint, for `sdk-container`: its full URI and
    /// authorization token.
    pub container: Option<(String, Option<String>)>,
    /// The run's projected token files ([`crate::token_file`]), when it reads one.
    pub projected: Option<ProjectedEnv>,
}

impl ClientEnv {
    /// SDK configuration on the run's clock, HTTP client and endpoint, with the source keys.
    pub fn base_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&self.endpoint)
            .http_client(self.http.clone())
            .time_source(SharedTimeSource::new(self.client_clock.clone()))
            .sleep_impl(SharedAsyncSleep::new(self.clock.clone()))
            .credentials_provider(SharedCredentialsProvider::new(self.source_credentials()))
            .build()
    }

    fn source_credentials(&self) -> Credentials {
        Credentials::new(
            &self.source_access_key_id,
            &self.source_secret_access_key,
            None,
            None,
            "harness-source",
        )
    }

    fn provider_config(&self) -> ProviderConfig {
        ProviderConfig::empty()
            .with_http_client(self.http.clone())
            .with_time_source(SharedTimeSource::new(self.client_clock.clone()))
            .with_sleep_impl(SharedAsyncSleep::new(self.clock.clone()))
            .with_region(Some(isolated_region()))
            .with_behavior_version(Some(BehaviorVersion::latest()))
    }

    /// aws-config's default credential chain as a container sees it: an environment with
    /// only `AWS_CONTAINER_CREDENTIALS_FULL_URI` (and the authorization token or its file) and
    /// no config files, so the chain resolves to its container provider.
    async fn container_chain(
        &self,
        uri: &str,
        token: ContainerToken<'_>,
    ) -> Result<SharedCredentialsProvider, StartupError> {
        let mut vars = vec![("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri)];
        let fs = match token {
            ContainerToken::None => Fs::from_slice(&[]),
            ContainerToken::Value(token) => {
                vars.push(("AWS_CONTAINER_AUTHORIZATION_TOKEN", token));
                Fs::from_slice(&[])
            }
            ContainerToken::File(path, fs) => {
                vars.push(("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path));
                fs.clone()
            }
        };
        self.default_chain(&vars, fs).await
    }

    /// aws-config's default credential chain in an environment of only `vars`, reading files
    /// through `fs` (no config files: the chain resolves to the provider `vars` select). The
    /// environment is the loader's own (`ConfigLoader::env`, aws-config's `test-util`): runs
    /// share the process, so none may set a process-wide variable.
    async fn default_chain(
        &self,
        vars: &[(&str, &str)],
        fs: Fs,
    ) -> Result<SharedCredentialsProvider, StartupError> {
        let config = aws_config::defaults(BehaviorVersion::latest())
            .env(aws_types::os_shim_internal::Env::from_slice(vars))
            .fs(fs)
            .http_client(self.http.clone())
            .time_source(SharedTimeSource::new(self.client_clock.clone()))
            .sleep_impl(SharedAsyncSleep::new(self.clock.clone()))
            .region(isolated_region())
            .load()
            .await;
        config.credentials_provider().ok_or_else(|| StartupError {
            message: "aws-config's default chain built no credentials provider".into(),
        })
    }

    /// An STS client on the base config with the run's own retry partition.
    fn sts_client(&self, base: &SdkConfig) -> aws_sdk_sts::Client {
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::config::Builder::from(base)
                .retry_partition(RetryPartition::new(format!("{}::sts", self.partition)))
                .build(),
        )
    }

    /// aws-config's profile provider on [`ClientEnv::profile_file`] (sdk-profile's, sdk-imds's
    /// and spec-refresh's): a copied source session is assumed once, here, as a user's script
    /// would.
    async fn profile_provider(
        &self,
        run: &RunSpec,
        base: &SdkConfig,
    ) -> Result<SharedCredentialsProvider, StartupError> {
        let copied = match &run.source {
            Some(chain) if chain.copied => Some(
                call_assume_role(
                    &self.sts_client(base),
                    &chain.role_arn,
                    chain.duration_seconds,
                    "source",
                )
                .await?,
            ),
            _ => None,
        };
        let files = EnvConfigFiles::builder()
            .with_contents(
                EnvConfigFileKind::Config,
                self.profile_file(run, copied.as_ref()),
            )
            .build();
        let provider = ProfileFileCredentialsProvider::builder()
            .profile_files(files)
            .profile_name("pipeline")
            .configure(&self.provider_config())
            .build();
        Ok(SharedCredentialsProvider::new(provider))
    }

    /// A seed for a client's own random choices (spec-refresh's back-off jitter): the run's
    /// partition names its scenario, run and seed, so the same scenario and seed draw the
    /// same numbers. FNV-1a, stable across Rust versions (std's hasher is not promised to be).
    fn jitter_seed(&self) -> u64 {
        self.partition.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// The aws-config profile file a strategy uses (`~/.aws/config` as a user would write it):
    /// `[profile pipeline]` assumes the run's role from `[profile source]` (the user's keys, or
    /// `copied_source`'s session keys), from instance metadata (`sdk-imds`), or through
    /// `[profile base]` when the run's source role is chained and refreshed by the SDK.
    pub fn profile_file(&self, run: &RunSpec, copied_source: Option<&Credentials>) -> String {
        let endpoint = &self.endpoint;
        let source_keys = match copied_source {
            Some(keys) => format!(
                "aws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
                keys.access_key_id(),
                keys.secret_access_key(),
                keys.session_token().unwrap_or_default()
            ),
            None => format!(
                "aws_access_key_id = {}\naws_secret_access_key = {}\n",
                self.source_access_key_id, self.source_secret_access_key
            ),
        };
        let (base, source) = match (run.strategy, &run.source) {
            (StrategyKind::SdkImds | StrategyKind::SpecRefreshImds, _) => (
                String::new(),
                format!(
                    "credential_source = Ec2InstanceMetadata\nec2_metadata_service_endpoint = {endpoint}\n"
                ),
            ),
            (_, Some(chain)) if !chain.copied => (
                format!(
                    "[profile base]\nrole_arn = {}\nsource_profile = source\nregion = us-east-1\nendpoint_url = {endpoint}\n\n",
                    chain.role_arn
                ),
                "source_profile = base\n".to_string(),
            ),
            _ => (String::new(), "source_profile = source\n".to_string()),
        };
        format!(
            "[profile source]\n\
             {source_keys}\
             region = us-east-1\n\
             endpoint_url = {endpoint}\n\
             \n\
             {base}\
             [profile pipeline]\n\
             role_arn = {role}\n\
             {source}\
             region = us-east-1\n\
             endpoint_url = {endpoint}\n",
            role = run.role_arn,
        )
    }
}

/// The signing region of the STS clients aws-config's providers build for one run: a name of
/// its own for every run (`us-east-1001`, `us-east-1002`, …).
///
/// The SDK keeps its retry quota (the standard retry strategy's token bucket, drained by
/// failed retries) in a process-wide map keyed by the client's retry partition, and a client
/// that sets none gets `sts-<region>`. aws-config's profile and IMDS providers build their STS
/// client from a `ProviderConfig`, which cannot name a partition, so every run in this process
/// would share one quota: a run that retried hundreds of throttled refreshes would starve the
/// next one, and the same scenario and seed would not give the same events. In production each
/// job is its own process with its own quota; a region of its own gives each run that. The mock
/// accepts any region in a signature, and reports never show it.
fn isolated_region() -> Region {
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
    Region::new(format!("us-east-{n}"))
}

/// The clients a run's workers share.
#[derive(Clone, Debug)]
pub struct Clients {
    /// S3, path-style.
    pub s3: aws_sdk_s3::Client,
    /// STS, with the same credentials.
    pub sts: aws_sdk_sts::Client,
    /// The way to the mock for requests no SDK sends (presigned URLs).
    pub direct: SharedHttpConnector,
}

/// Why a strategy could not produce clients (e.g. STS refused the start-up `AssumeRole`).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StartupError {
    /// What went wrong, with the service's error code and message when there is one.
    pub message: String,
}

/// Builds the run's clients for its strategy.
///
/// # Errors
/// [`StartupError`] when the strategy fails before the workload starts (the server's events
/// record the failed call), or for `process`, which runs a program instead.
pub async fn build_clients(env: &ClientEnv, run: &RunSpec) -> Result<Clients, StartupError> {
    let base = env.base_config();
    let mut interceptor = None;
    let (provider, cache) = match run.strategy {
        StrategyKind::Process => {
            return Err(StartupError {
                message: "a `process` run runs its program, not aws-sdk-rust clients".into(),
            });
        }
        StrategyKind::ManualEnv => {
            let sts = env.sts_client(&base);
            let keys = match &run.source {
                None => {
                    call_assume_role(&sts, &run.role_arn, run.duration_seconds, "pipeline").await?
                }
                // Role chaining: the source session assumes the run's role.
                Some(chain) => {
                    let source =
                        call_assume_role(&sts, &chain.role_arn, chain.duration_seconds, "source")
                            .await?;
                    let chained = env.sts_client(&base).config().to_builder();
                    let chained = aws_sdk_sts::Client::from_conf(
                        chained
                            .credentials_provider(SharedCredentialsProvider::new(source))
                            .build(),
                    );
                    call_assume_role(&chained, &run.role_arn, run.duration_seconds, "pipeline")
                        .await?
                }
            };
            (SharedCredentialsProvider::new(keys), None)
        }
        StrategyKind::SdkProfile | StrategyKind::SdkImds => {
            (env.profile_provider(run, &base).await?, None)
        }
        StrategyKind::SpecRefresh | StrategyKind::SpecRefreshImds => {
            let inner = match run.duration_seconds {
                // The profile provider never sends DurationSeconds; a user who wants 15-minute
                // or 6-hour sessions builds aws-config's AssumeRoleProvider in code.
                Some(seconds) => SharedCredentialsProvider::new(
                    aws_config::sts::AssumeRoleProvider::builder(&run.role_arn)
                        .session_name("pipeline")
                        .session_length(Duration::from_secs(u64::from(seconds)))
                        .configure(&base)
                        .region(isolated_region())
                        .build_from_provider(env.source_credentials())
                        .await,
                ),
                None => env.profile_provider(run, &base).await?,
            };
            let cache = SpecRefresh::new(
                inner,
                SharedTimeSource::new(env.client_clock.clone()),
                env.jitter_seed(),
            );
            interceptor = Some(InvalidateOnRejection::new(cache.clone()));
            // The wrapper is the cache: the SDK's own would refresh on its 5-10 s buffer.
            (
                SharedCredentialsProvider::new(cache),
                Some(IdentityCache::no_cache()),
            )
        }
        StrategyKind::SdkContainer | StrategyKind::PodIdentityReadOnce => {
            let Some((uri, token)) = &env.container else {
                return Err(StartupError {
                    message: format!(
                        "{} needs a [container] in the scenario's world",
                        run.strategy.as_str()
                    ),
                });
            };
            let file = env
                .projected
                .as_ref()
                .and_then(|p| Some((p.pod_identity_token_file.as_deref()?, &p.fs)));
            let read_once;
            let token = match (run.strategy, file, token) {
                (StrategyKind::PodIdentityReadOnce, Some((path, fs)), _) => {
                    read_once = read_token(fs, path).await?;
                    ContainerToken::Value(&read_once)
                }
                (_, Some((path, fs)), _) => ContainerToken::File(path, fs),
                (_, None, Some(token)) => ContainerToken::Value(token),
                (_, None, None) => ContainerToken::None,
            };
            (env.container_chain(uri, token).await?, None)
        }
        StrategyKind::SdkWebIdentity | StrategyKind::WebIdentityReadOnce => {
            let Some((path, fs)) = env
                .projected
                .as_ref()
                .and_then(|p| Some((p.web_identity_token_file.as_deref()?, &p.fs)))
            else {
                return Err(StartupError {
                    message: format!(
                        "{} needs a web identity token file (a [[oidc_provider]] with mint = true in the world)",
                        run.strategy.as_str()
                    ),
                });
            };
            if run.strategy == StrategyKind::SdkWebIdentity {
                let vars = [
                    ("AWS_WEB_IDENTITY_TOKEN_FILE", path),
                    ("AWS_ROLE_ARN", run.role_arn.as_str()),
                    ("AWS_ROLE_SESSION_NAME", WEB_IDENTITY_SESSION),
                ];
                (env.default_chain(&vars, fs.clone()).await?, None)
            } else {
                let provider = ReadOnceWebIdentity {
                    sts: env.sts_client(&base),
                    role_arn: run.role_arn.clone(),
                    token: read_token(fs, path).await?,
                };
                // The SDK's own identity cache: it refreshes as sdk-web-identity does, only
                // the token it sends differs.
                (SharedCredentialsProvider::new(provider), None)
            }
        }
        StrategyKind::NaiveRefresh => {
            let provider = NaiveRefresh {
                sts: env.sts_client(&base),
                run: run.clone(),
                clock: env.client_clock.clone(),
                cached: Arc::new(Mutex::new(None)),
            };
            // The wrapper is the cache: the SDK's own would refresh 5-10 s early and hide it.
            (
                SharedCredentialsProvider::new(provider),
                Some(IdentityCache::no_cache()),
            )
        }
    };
    let partition = RetryPartition::new(env.partition.clone());
    let mut s3 = aws_sdk_s3::config::Builder::from(&base)
        .credentials_provider(provider.clone())
        .force_path_style(true)
        .retry_partition(partition.clone());
    let mut sts = aws_sdk_sts::config::Builder::from(&base)
        .credentials_provider(provider)
        .retry_partition(partition);
    if let Some(cache) = cache {
        s3 = s3.identity_cache(cache.clone());
        sts = sts.identity_cache(cache);
    }
    if let Some(interceptor) = interceptor {
        s3 = s3.interceptor(interceptor.clone());
        sts = sts.interceptor(interceptor);
    }
    Ok(Clients {
        s3: aws_sdk_s3::Client::from_conf(s3.build()),
        sts: aws_sdk_sts::Client::from_conf(sts.build()),
        direct: env.direct.clone(),
    })
}

/// The role session name web identity clients use (`AWS_ROLE_SESSION_NAME`).
const WEB_IDENTITY_SESSION: &str = "pipeline";

/// How `sdk-container` authorizes to the container endpoint.
enum ContainerToken<'a> {
    /// No token (ECS).
    None,
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN`: a fixed value.
    Value(&'a str),
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` at this path, read through this `Fs`.
    File(&'a str, &'a Fs),
}

/// A projected token file's contents, read now (once).
async fn read_token(fs: &Fs, path: &str) -> Result<String, StartupError> {
    let bytes = fs.read_to_end(path).await.map_err(|e| StartupError {
        message: format!("cannot read the token file {path}: {e}"),
    })?;
    String::from_utf8(bytes).map_err(|_| StartupError {
        message: format!("the token file {path} is not UTF-8"),
    })
}

/// A web identity client that read its token file once, at start-up, and sends that token to
/// `AssumeRoleWithWebIdentity` on every refresh, as readers that cache the file's contents do
/// (apache/doris#66554, external-secrets/external-secrets#6654). Once the token has expired,
/// STS answers `ExpiredTokenException` and no refresh succeeds again.
#[derive(Debug, Clone)]
struct ReadOnceWebIdentity {
    sts: aws_sdk_sts::Client,
    role_arn: String,
    token: String,
}

impl ReadOnceWebIdentity {
    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        use aws_sdk_sts::error::ProvideErrorMetadata;
        let out = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(&self.role_arn)
            .role_session_name(WEB_IDENTITY_SESSION)
            .web_identity_token(&self.token)
            .send()
            .await
            .map_err(|e| {
                let e = e.into_service_error();
                let message = format!(
                    "AssumeRoleWithWebIdentity failed: {}: {}",
                    e.code().unwrap_or("unknown"),
                    e.message().unwrap_or_default()
                );
                CredentialsError::provider_error(message)
            })?;
        let c = out
            .credentials()
            .ok_or_else(|| CredentialsError::provider_error("no credentials in the answer"))?;
        Ok(Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            std::time::SystemTime::try_from(*c.expiration()).ok(),
            "web-identity-read-once",
        ))
    }
}

impl ProvideCredentials for ReadOnceWebIdentity {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

/// One `AssumeRole` of `role_arn` with `DurationSeconds` when given, as static credentials.
async fn call_assume_role(
    sts: &aws_sdk_sts::Client,
    role_arn: &str,
    duration_seconds: Option<u32>,
    session: &str,
) -> Result<Credentials, StartupError> {
    use aws_sdk_sts::error::ProvideErrorMetadata;
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .set_duration_seconds(duration_seconds.and_then(|d| i32::try_from(d).ok()))
        .send()
        .await
        .map_err(|e| {
            let e = e.into_service_error();
            StartupError {
                message: match (e.code(), e.message()) {
                    (Some(code), Some(message)) => format!("AssumeRole failed: {code}: {message}"),
                    _ => format!("AssumeRole failed: {e}"),
                },
            }
        })?;
    let c = out.credentials().ok_or_else(|| StartupError {
        message: "AssumeRole returned no credentials".into(),
    })?;
    let expiry = std::time::SystemTime::try_from(*c.expiration()).ok();
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        expiry,
        "assumed-role",
    ))
}

/// The home-grown wrapper: keeps one set of keys and calls `AssumeRole` again only when the
/// cached keys have expired by its own clock. No single flight: concurrent workers that see
/// expired keys each call STS, as such wrappers usually do.
#[derive(Debug, Clone)]
struct NaiveRefresh {
    sts: aws_sdk_sts::Client,
    run: RunSpec,
    clock: SkewedClock,
    cached: Arc<Mutex<Option<Credentials>>>,
}

impl NaiveRefresh {
    async fn credentials(&self) -> Result<Credentials, CredentialsError> {
        let now = self.clock.now();
        let cached = self
            .cached
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(c) = cached
            && c.expiry().is_none_or(|e| now < e)
        {
            return Ok(c);
        }
        let fresh = call_assume_role(
            &self.sts,
            &self.run.role_arn,
            self.run.duration_seconds,
            "pipeline",
        )
        .await
        .map_err(CredentialsError::provider_error)?;
        *self.cached.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }
}

impl ProvideCredentials for NaiveRefresh {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.credentials())
    }
}

/// What to do about a strategy's failure, for the report.
pub fn remedy(strategy: StrategyKind) -> &'static str {
    match strategy {
        StrategyKind::ManualEnv => {
            "use a refreshing provider: `role_arn` + `source_profile` in ~/.aws/config (strategy sdk-profile), so the SDK calls AssumeRole again before the keys expire"
        }
        StrategyKind::NaiveRefresh => {
            "refresh before expiry, not at it: the SDK's identity cache refreshes 5-10 s early (botocore 15 min) and lets one caller refresh while the others wait; use the SDK's provider (strategy sdk-profile)"
        }
        StrategyKind::SdkProfile
        | StrategyKind::SdkImds
        | StrategyKind::SdkContainer
        | StrategyKind::SdkWebIdentity => {
            "the SDK's provider refreshes on its own; a failure here means the refresh itself failed (STS refused it, or the source credentials were unusable): see the failing call"
        }
        StrategyKind::SpecRefresh | StrategyKind::SpecRefreshImds => {
            "spec-refresh serves its cached keys while a refresh fails (static stability) and refreshes minutes early, but it cannot outlast an outage longer than its advisory window: keys that expire while the source is down are refused; see the failing call and the refresh attempts"
        }
        StrategyKind::WebIdentityReadOnce => {
            "read the token file again for every AssumeRoleWithWebIdentity: the kubelet replaces it at 80 % of its lifetime and the token read at start-up expires; aws-config's web identity provider (strategy sdk-web-identity), botocore's and every SDK's default chain re-read AWS_WEB_IDENTITY_TOKEN_FILE"
        }
        StrategyKind::PodIdentityReadOnce => {
            "name the token file with AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE instead of copying its contents into AWS_CONTAINER_AUTHORIZATION_TOKEN: the SDKs read the file on every fetch, and the kubelet rotates it (strategy sdk-container)"
        }
        StrategyKind::Process => {
            "let the SDK refresh: build clients on a profile with `role_arn` + `source_profile` (profile = \"assume-role\", as scenarios/clients/config_provider.py does) instead of copying AssumeRole keys into the environment"
        }
    }
}

/// The refresh buffer a strategy's credentials are renewed within, for fidelity checks.
pub fn refresh_buffer(strategy: StrategyKind) -> Duration {
    match strategy {
        // aws-sdk-rust's lazy identity cache: 10 s minus up to 50 % jitter (aws-facts §6.1).
        StrategyKind::SdkProfile
        | StrategyKind::SdkImds
        | StrategyKind::SdkContainer
        | StrategyKind::SdkWebIdentity
        | StrategyKind::WebIdentityReadOnce
        | StrategyKind::PodIdentityReadOnce => Duration::from_secs(5),
        // The specification's mandatory window: the latest a refresh comes, outside a back-off.
        StrategyKind::SpecRefresh | StrategyKind::SpecRefreshImds => {
            crate::spec_refresh::windows::MANDATORY_WINDOW
        }
        // Refresh exactly at expiry: any request latency can carry a request past it.
        StrategyKind::NaiveRefresh | StrategyKind::ManualEnv => Duration::ZERO,
        // Unknown: the program's SDK decides; metrics judge its fidelity by its expectation.
        StrategyKind::Process => Duration::ZERO,
    }
}
