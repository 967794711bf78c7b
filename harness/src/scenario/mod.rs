//! Scenario files: what to replay (clock, world, workload) and what each run must show.
//!
//! A scenario is a TOML file (schema in `scenarios/README.md`). Everything is checked when the
//! file is read — unknown keys, bad durations, unknown strategies or operations, options a
//! strategy does not take, expectations that contradict each other — and every error names the
//! file, line, column and key, so a scenario never fails later for a reason its author cannot
//! see.

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mock_sts::clock::ClockFaults;
use mock_sts::events::Action;
use mock_sts::faults::FaultRule;
use mock_sts::{s3, sts};

mod client;
mod compressed;
mod file;
mod projected;
mod source;
mod transfer;
mod versions;

pub use versions::{Ecosystem, PackageSet, Pin};

/// The default role the built-in strategies assume: the default world's 12-hour role.
pub const DEFAULT_ROLE: &str = "arn:aws:iam::123456789012:role/cross-account-s3";

pub use client::ClientSdk;
pub use compressed::{LifetimeProblem, MAX_FACTOR, check_compression, problem_line, run_lifetime};

/// Why a scenario file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The file is not a valid scenario.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key.
        message: String,
    },
    /// The world file the scenario names is invalid.
    #[error("{0}")]
    World(#[from] mock_sts::world::WorldError),
}

/// How simulated time runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockSpec {
    /// In process, on a paused runtime: as fast as the CPU allows, deterministic.
    Virtual,
    /// A real loopback socket, simulated time running `rate` times faster than real time.
    Scaled {
        /// Simulated seconds per real second.
        rate: f64,
    },
    /// Lifetime compression (`compressed:K`): the mock and the client on real (wall) time, every
    /// lifetime the mock grants divided by `factor` and every duration of the scenario too, so
    /// a one-hour session lasts 1 h / K and the story keeps its shape. Reports multiply what
    /// they measured by K back into the scenario's time (see [`crate::compressed`]).
    Compressed {
        /// K, 1..=[`MAX_FACTOR`].
        factor: u32,
    },
}

impl ClockSpec {
    /// Parses `virtual`, `scaled:RATE` or `compressed:K` (the CLI's `--clock`).
    ///
    /// # Errors
    /// A message when the text is none of them, or K is not a whole number 1..=60.
    pub fn parse(text: &str) -> Result<ClockSpec, String> {
        if text == "virtual" {
            return Ok(ClockSpec::Virtual);
        }
        if let Some(factor) = text.strip_prefix("compressed:") {
            return compressed::parse_factor(factor).map(|factor| ClockSpec::Compressed { factor });
        }
        let rate = text
            .strip_prefix("scaled:")
            .ok_or_else(|| format!("`{text}` is not `virtual`, `scaled:RATE` or `compressed:K`"))?;
        match rate.parse::<f64>() {
            Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(ClockSpec::Scaled { rate }),
            _ => Err(format!("`{rate}` is not a positive rate in scaled:RATE")),
        }
    }

    /// `virtual`, `scaled:RATE` or `compressed:K`.
    pub fn label(&self) -> String {
        match self {
            ClockSpec::Virtual => "virtual".to_string(),
            ClockSpec::Scaled { rate } => format!("scaled:{rate}"),
            ClockSpec::Compressed { factor } => format!("compressed:{factor}"),
        }
    }

    /// K for a compressed clock, `None` otherwise.
    pub fn compression(&self) -> Option<u32> {
        match self {
            ClockSpec::Compressed { factor } => Some(*factor),
            _ => None,
        }
    }
}

/// A workload operation: what the client does each interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// S3 `PutObject` of `object_size` bytes.
    PutObject,
    /// S3 `GetObject` of the object the run put (or a seeded one).
    GetObject,
    /// S3 `HeadObject`.
    HeadObject,
    /// S3 `ListObjectsV2` on the run's bucket.
    ListObjectsV2,
    /// STS `GetCallerIdentity`.
    GetCallerIdentity,
    /// A multipart upload (`[workload.multipart]`): `CreateMultipartUpload`, the parts one
    /// after another, each taking its size over the bandwidth of simulated time, then
    /// `CompleteMultipartUpload` (or `AbortMultipartUpload` after a failed part, as the AWS
    /// CLI does). The upload can outlive the credentials it started with.
    MultipartUpload,
    /// Presign a `GetObject` now and use the URL `use_after` later (`[workload.presign]`).
    PresignedGetObject,
    /// Presign a `PutObject` now and upload through the URL `use_after` later.
    PresignedPutObject,
}

impl Operation {
    /// Every operation, as scenario files name them.
    pub const ALL: [Operation; 8] = [
        Operation::PutObject,
        Operation::GetObject,
        Operation::HeadObject,
        Operation::ListObjectsV2,
        Operation::GetCallerIdentity,
        Operation::MultipartUpload,
        Operation::PresignedGetObject,
        Operation::PresignedPutObject,
    ];

    /// The name scenario files use (the AWS operation name where there is one).
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::PutObject => "PutObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::GetCallerIdentity => "GetCallerIdentity",
            Operation::MultipartUpload => "MultipartUpload",
            Operation::PresignedGetObject => "PresignedGetObject",
            Operation::PresignedPutObject => "PresignedPutObject",
        }
    }

    /// The actions the mock's events record for this operation: what counts as the data plane.
    pub fn actions(&self) -> Vec<Action> {
        use s3::Operation as S3;
        let s3 = |ops: &[S3]| ops.iter().map(|op| Action::S3(*op)).collect();
        match self {
            Operation::PutObject | Operation::PresignedPutObject => s3(&[S3::PutObject]),
            Operation::GetObject | Operation::PresignedGetObject => s3(&[S3::GetObject]),
            Operation::HeadObject => s3(&[S3::HeadObject]),
            Operation::ListObjectsV2 => s3(&[S3::ListObjectsV2]),
            Operation::GetCallerIdentity => vec![Action::Sts(sts::Action::GetCallerIdentity)],
            Operation::MultipartUpload => s3(&[
                S3::CreateMultipartUpload,
                S3::UploadPart,
                S3::CompleteMultipartUpload,
                S3::AbortMultipartUpload,
            ]),
        }
    }

    /// Whether the operation is S3's.
    pub fn is_s3(&self) -> bool {
        !matches!(self, Operation::GetCallerIdentity)
    }

    /// Whether it writes the run's object (the run then needs no seeded object to read).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Operation::PutObject | Operation::PresignedPutObject | Operation::MultipartUpload
        )
    }

    fn parse(text: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|op| op.as_str() == text)
    }
}

/// `[workload.multipart]`: the parts of a `MultipartUpload` and how fast they travel.
#[derive(Debug, Clone, PartialEq)]
pub struct Multipart {
    /// How many parts (1..=10 000, S3's limit).
    pub parts: u32,
    /// Bytes of every part but the last (at least S3's 5 MiB when there is more than one).
    pub part_size: u64,
    /// Bytes of the last part (default: `part_size`).
    pub last_part_size: u64,
    /// Bytes per simulated second: a part takes its size over this to send.
    pub bandwidth: f64,
}

impl Multipart {
    /// S3's minimum size of a part other than the last.
    pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

    /// The simulated time part `n` (from 1) takes to send.
    pub fn transfer_time(&self, n: u32) -> Duration {
        let size = if n == self.parts {
            self.last_part_size
        } else {
            self.part_size
        };
        Duration::from_secs_f64(size as f64 / self.bandwidth)
    }
}

/// `[workload.presign]`: presigned URLs made now and used later.
#[derive(Debug, Clone, PartialEq)]
pub struct Presign {
    /// The URL's validity (`X-Amz-Expires`, at most a week, as SigV4 allows).
    pub expires: Duration,
    /// How long after presigning the URL is used.
    pub use_after: Duration,
}

impl Presign {
    /// SigV4's longest presigned validity, and the longest delay the harness accepts.
    pub const MAX: Duration = Duration::from_secs(7 * 24 * 3600);
}

/// How a client gets its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StrategyKind {
    /// One `AssumeRole` at start-up; the keys used as static credentials, as env vars would be.
    ManualEnv,
    /// An aws-config profile with `role_arn` + `source_profile`: the SDK refreshes.
    SdkProfile,
    /// A profile with `role_arn` + `credential_source = Ec2InstanceMetadata`.
    SdkImds,
    /// aws-config's default chain in a container: the world's container credential endpoint
    /// (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, and its authorization token when it has one).
    SdkContainer,
    /// A hand-rolled cache that refreshes only once the credentials have expired.
    NaiveRefresh,
    /// aws-config's default chain in an EKS pod with IRSA: `AWS_WEB_IDENTITY_TOKEN_FILE` +
    /// `AWS_ROLE_ARN`; the provider reads the token file, which the harness rotates as the
    /// kubelet does, on every refresh.
    SdkWebIdentity,
    /// A client that reads the web identity token file once, at start-up, and calls
    /// `AssumeRoleWithWebIdentity` with that token on every refresh (apache/doris#66554,
    /// external-secrets/external-secrets#6654): it fails once the token has expired.
    WebIdentityReadOnce,
    /// aws-config's default chain against an EKS Pod Identity endpoint, with the pod's token
    /// read once at start-up into `AWS_CONTAINER_AUTHORIZATION_TOKEN` instead of named by
    /// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`: the endpoint refuses it once it has expired.
    PodIdentityReadOnce,
    /// sdk-profile's provider behind [`crate::spec_refresh`]'s cache: AWS's 2026 cross-SDK
    /// refresh rules (advisory window from the lifetime, mandatory last minute, static
    /// stability with a 5-10 min back-off, invalidation, single flight), with the SDK's own
    /// identity cache off.
    SpecRefresh,
    /// sdk-imds's provider (the role assumed with the instance's credentials from IMDS)
    /// behind the same cache: the rules over an instance-metadata source.
    SpecRefreshImds,
    /// Any program, run under libfaketime on the scenario's scaled clock, with the endpoint,
    /// AWS config files and the workload's parameters in its environment.
    Process,
}

impl StrategyKind {
    /// The name used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            StrategyKind::ManualEnv => "manual-env",
            StrategyKind::SdkProfile => "sdk-profile",
            StrategyKind::SdkImds => "sdk-imds",
            StrategyKind::SdkContainer => "sdk-container",
            StrategyKind::NaiveRefresh => "naive-refresh",
            StrategyKind::SdkWebIdentity => "sdk-web-identity",
            StrategyKind::WebIdentityReadOnce => "web-identity-read-once",
            StrategyKind::PodIdentityReadOnce => "pod-identity-read-once",
            StrategyKind::SpecRefresh => "spec-refresh",
            StrategyKind::SpecRefreshImds => "spec-refresh-imds",
            StrategyKind::Process => "process",
        }
    }

    /// All strategies, for messages.
    pub const ALL: [StrategyKind; 11] = [
        StrategyKind::ManualEnv,
        StrategyKind::SdkProfile,
        StrategyKind::SdkImds,
        StrategyKind::SdkContainer,
        StrategyKind::NaiveRefresh,
        StrategyKind::SdkWebIdentity,
        StrategyKind::WebIdentityReadOnce,
        StrategyKind::PodIdentityReadOnce,
        StrategyKind::SpecRefresh,
        StrategyKind::SpecRefreshImds,
        StrategyKind::Process,
    ];

    fn parse(text: &str) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the strategy's client reads a web identity token file.
    pub fn uses_web_identity(&self) -> bool {
        matches!(
            self,
            StrategyKind::SdkWebIdentity | StrategyKind::WebIdentityReadOnce
        )
    }

    /// Whether the strategy's client asks the container credential endpoint.
    pub fn uses_container(&self) -> bool {
        matches!(
            self,
            StrategyKind::SdkContainer | StrategyKind::PodIdentityReadOnce
        )
    }

    /// Whether the strategy sends `DurationSeconds` when asked to (a `process` run hands it
    /// to its program as `STS_LAB_DURATION_SECONDS`).
    pub fn takes_duration(&self) -> bool {
        matches!(
            self,
            StrategyKind::ManualEnv
                | StrategyKind::NaiveRefresh
                | StrategyKind::Process
                // Through aws-config's AssumeRoleProvider instead of the profile.
                | StrategyKind::SpecRefresh
        )
    }
}

/// The projected service-account tokens a scenario's runs read (`[projected_token]`): the
/// harness mints them from the mock and rotates their files as the kubelet does.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectedToken {
    /// The provider of web identity tokens (`AWS_WEB_IDENTITY_TOKEN_FILE`), a world provider
    /// with `mint = true`; `None` when no run uses web identity.
    pub web_identity_provider: Option<String>,
    /// The provider of EKS Pod Identity tokens: the world container's `authorization_provider`;
    /// `None` when no run uses the container endpoint in that mode.
    pub pod_identity_provider: Option<String>,
    /// The tokens' `sub` (default `system:serviceaccount:default:pipeline`).
    pub subject: String,
    /// Each token's lifetime (`expirationSeconds`; 10 min ..= 24 h, default 24 h).
    pub lifetime: Duration,
}

impl ProjectedToken {
    /// The default subject: the `pipeline` service account of namespace `default`.
    pub const DEFAULT_SUBJECT: &'static str = "system:serviceaccount:default:pipeline";

    /// When the kubelet replaces a token issued `lifetime` ago: once it is older than 80 % of
    /// its lifetime or 24 hours (Kubernetes `pkg/kubelet/token` `requiresRefresh`).
    pub fn rotate_after(&self) -> Duration {
        self.lifetime
            .mul_f64(0.8)
            .min(Duration::from_secs(24 * 3600))
    }
}

/// What the AWS config files generated for a `process` run give its program by default
/// (the `[default]` profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfileKind {
    /// The world's IAM user keys, as a CI job or a laptop has them.
    Static,
    /// `role_arn` + `source_profile`: the SDK assumes the run's role and refreshes it.
    AssumeRole,
    /// `role_arn` + `credential_source = Ec2InstanceMetadata`, with the mock as IMDS.
    Imds,
    /// No keys: the container credential endpoint (`AWS_CONTAINER_CREDENTIALS_FULL_URI`),
    /// as an ECS task or EKS pod gets its role.
    Container,
    /// `credential_process` = the harness's helper (`sts-harness credential-process`), which
    /// assumes the run's role with the user's keys and prints the JSON with its `Expiration`.
    CredentialProcess,
    /// No keys: EKS IRSA's `AWS_WEB_IDENTITY_TOKEN_FILE` (the projected token the harness
    /// writes and rotates), `AWS_ROLE_ARN` (the run's role) and `AWS_ROLE_SESSION_NAME`.
    WebIdentity,
}

impl ProfileKind {
    /// The name used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProfileKind::Static => "static",
            ProfileKind::AssumeRole => "assume-role",
            ProfileKind::Imds => "imds",
            ProfileKind::Container => "container",
            ProfileKind::WebIdentity => "web-identity",
            ProfileKind::CredentialProcess => "credential-process",
        }
    }

    /// All profiles, for messages.
    pub const ALL: [ProfileKind; 6] = [
        ProfileKind::Static,
        ProfileKind::AssumeRole,
        ProfileKind::Imds,
        ProfileKind::Container,
        ProfileKind::WebIdentity,
        ProfileKind::CredentialProcess,
    ];

    fn parse(text: &str) -> Option<ProfileKind> {
        ProfileKind::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

/// The program a `process` run executes.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSpec {
    /// The program and its arguments. A program given as a path (it contains `/`) is
    /// relative to `cwd` and was checked to exist when the file was read; a bare name is
    /// looked up on the program's `PATH` when the run starts.
    pub command: Vec<String>,
    /// The working directory: the scenario's folder, joined with the run's `cwd`.
    pub cwd: PathBuf,
    /// What the generated config files contain.
    pub profile: ProfileKind,
    /// Wall-clock limit, overriding the one derived from the workload.
    pub timeout: Option<Duration>,
    /// The packages its environment holds, for a row of a version matrix (`versions`).
    pub packages: Option<PackageSet>,
    /// Which SDK the program uses (`client = "botocore"`), when the scenario says: how the
    /// report knows its refresh window (the lifetime-compression warning).
    pub client: Option<ClientSdk>,
    /// `refresh_window`: the client's refresh window when it is not its SDK's default (Go's
    /// `ExpiryWindow` when the program sets one).
    pub refresh_window: Option<Duration>,
}

/// The workload every run of a scenario performs.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// How long the job runs (simulated).
    pub length: Duration,
    /// The pause between one worker's operations (simulated).
    pub every: Duration,
    /// Operations each worker performs in order, every interval.
    pub operations: Vec<Operation>,
    /// Concurrent workers sharing one client.
    pub workers: u32,
    /// Bytes per `PutObject`.
    pub object_size: usize,
    /// Simulated one-way network latency added to every request (virtual clock).
    pub latency: Duration,
    /// The bucket the run uses.
    pub bucket: String,
    /// Each pause varies by up to this fraction either way (seeded), as real loops drift.
    pub jitter: f64,
    /// The parts of `MultipartUpload` operations.
    pub multipart: Option<Multipart>,
    /// How `Presigned*` operations presign and wait.
    pub presign: Option<Presign>,
}

impl Workload {
    /// How far one round's operations can run past the job's end: a whole multipart upload
    /// and a presigned URL's wait. Deadlines and wall-clock limits allow for it.
    pub fn overrun(&self) -> Duration {
        let upload = self.multipart.as_ref().map_or(Duration::ZERO, |m| {
            (1..=m.parts).map(|n| m.transfer_time(n)).sum()
        });
        let wait = self
            .presign
            .as_ref()
            .map_or(Duration::ZERO, |p| p.use_after);
        upload + wait
    }
}

/// What a run must show.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expect {
    /// `passes = true`: no request failed.
    pub passes: bool,
    /// `fails_with = CODE`: the first failed request got this error code.
    pub fails_with: Option<String>,
    /// `at`: the first failure's simulated time since the start...
    pub at: Option<Duration>,
    /// `within`: ...give or take this (default 1 s).
    pub within: Duration,
    /// `message`: the first failure's message contains this.
    pub message: Option<String>,
    /// `refreshes`: how many times the credential signing data-plane requests changed.
    pub refreshes: Option<RangeInclusive<u64>>,
    /// `sts_calls`: how many STS calls the run made.
    pub sts_calls: Option<RangeInclusive<u64>>,
    /// `min_refresh_lead`: every refresh came at least this long before the old expiry.
    pub min_refresh_lead: Option<Duration>,
    /// How many data-plane requests must reach the server. Unset, a run that passes must have
    /// had at least one reach it.
    pub requests: Option<RangeInclusive<u64>>,
    /// `exit_code` (process runs): the program's exit status. `passes = true` implies 0
    /// unless `exit_code` or `exits_nonzero` says otherwise.
    pub exit_code: Option<i32>,
    /// `exits_nonzero = true` (process runs): the program exits with a status other than 0
    /// (killed by a signal or by the harness does not count).
    pub exits_nonzero: bool,
    /// `credential_process_runs` (`profile = "credential-process"` runs): how many times the
    /// program's SDK ran the helper and got credentials.
    pub credential_process_runs: Option<RangeInclusive<u64>>,
    /// `conforms = [RULE, …]`: each of these conformance rules passes.
    pub conforms: Vec<crate::conformance::Rule>,
    /// `violates = [RULE, …]`: each of these conformance rules fails.
    pub violates: Vec<crate::conformance::Rule>,
}

impl Expect {
    /// Whether the run states conformance rules (then it keeps its events for them).
    pub fn states_conformance(&self) -> bool {
        !self.conforms.is_empty() || !self.violates.is_empty()
    }
}

/// One strategy run and its expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// The run's name (default: the strategy's).
    pub name: String,
    /// The strategy.
    pub strategy: StrategyKind,
    /// The role to assume.
    pub role_arn: String,
    /// `DurationSeconds` to ask for (strategies that send it).
    pub duration_seconds: Option<u32>,
    /// Role chaining: the run's role is assumed with a session of this source role instead of
    /// the user's keys.
    pub source: Option<SourceSpec>,
    /// The program, for `process` runs.
    pub process: Option<ProcessSpec>,
    /// How wrong the client's clock is (`clock_offset`, `clock_drift`, `clock_jumps`); the
    /// server keeps the true time.
    pub clock_faults: ClockFaults,
    /// What it must show.
    pub expect: Expect,
    /// The line of its `[[run]]`, for messages.
    pub line: usize,
}

/// A run's source credentials when its role is assumed by role chaining (`source = { … }`):
/// the user's keys assume `role_arn`, and that session assumes the run's role. AWS caps a
/// chained session at one hour.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// The source role.
    pub role_arn: String,
    /// `DurationSeconds` for the source session (copied sources only).
    pub duration_seconds: Option<u32>,
    /// The source session is assumed once at start-up and kept (as a profile's static session
    /// keys, or with the copied keys of `manual-env`); otherwise the SDK refreshes it too (a
    /// profile chain: `role_arn` + `source_profile` twice).
    pub copied: bool,
}

/// A parsed, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The file it came from.
    pub path: PathBuf,
    /// Its name.
    pub name: String,
    /// What it shows, in prose.
    pub description: String,
    /// The seed for every random choice.
    pub seed: u64,
    /// How time runs.
    pub clock: ClockSpec,
    /// Simulated start (`start = "now"`: the wall-clock time when the file was read).
    pub start: SystemTime,
    /// The world (default unless the scenario names a file).
    pub world: mock_sts::World,
    /// The workload.
    pub workload: Workload,
    /// The runs.
    pub runs: Vec<RunSpec>,
    /// Fault rules the mock applies to every run (`[[fault]]`), times already on the
    /// simulated clock (`from`/`until` are written as durations since the run's start).
    pub faults: Vec<FaultRule>,
    /// Session revocations during the job (`[[revoke]]`).
    pub revocations: Vec<Revocation>,
    /// The projected tokens runs read (`[projected_token]`), when a run reads one.
    pub projected_token: Option<ProjectedToken>,
}

/// `[[revoke]]`: at `at` into the job, sessions of `role` issued before `issued_before` (since
/// the start; default: `at`) are refused with `AccessDenied`, as IAM's "Revoke active sessions"
/// does.
#[derive(Debug, Clone, PartialEq)]
pub struct Revocation {
    /// When, since the run's start.
    pub at: Duration,
    /// The role.
    pub role_arn: String,
    /// Sessions issued before this (since the run's start) are revoked.
    pub issued_before: Duration,
}

impl RunSpec {
    /// Whether `--run NAME` selects this run: its name, or the name of the run whose version
    /// matrix it is a row of.
    pub fn is_named(&self, name: &str) -> bool {
        self.name == name
            || self
                .process
                .as_ref()
                .and_then(|p| p.packages.as_ref())
                .is_some_and(|set| set.run == name)
    }

    /// Whether the run's client reads a web identity token file (EKS IRSA).
    pub fn reads_web_identity(&self) -> bool {
        self.strategy.uses_web_identity()
            || self
                .process
                .as_ref()
                .is_some_and(|p| p.profile == ProfileKind::WebIdentity)
    }

    /// Whether the run's client asks the container credential endpoint.
    pub fn reads_container(&self) -> bool {
        self.strategy.uses_container()
            || self
                .process
                .as_ref()
                .is_some_and(|p| p.profile == ProfileKind::Container)
    }
}

impl Scenario {
    /// Reads and validates a scenario file.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the file, line and key.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Scenario::parse(&text, path)
    }

    /// Parses scenario text; `path` names it in errors and anchors relative world files.
    ///
    /// # Errors
    /// [`ScenarioError`] naming the file, line and key.
    pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
        file::parse(text, path)
    }
}

/// The scenario files named by `paths`: files as given, directories' `*.toml` (not recursive),
/// sorted by name.
///
/// # Errors
/// [`ScenarioError::Io`] for a path that does not exist or a directory that cannot be read.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut files = Vec::new();
    for path in paths {
        let io = |source| ScenarioError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(io)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "toml"))
                .collect();
            found.sort();
            files.extend(found);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file or directory",
            )));
        }
    }
    Ok(files)
}

/// Shows a range the way a scenario writes it.
pub fn range_label(r: &RangeInclusive<u64>) -> String {
    match (*r.start(), *r.end()) {
        (a, b) if a == b => a.to_string(),
        (a, u64::MAX) => format!("{a}.."),
        (a, b) => format!("{a}..={b}"),
    }
}

#[cfg(test)]
mod tests {
    use super::file::parse_range;
    use super::*;

    const GOOD: &str = r#"
name = "seed"
seed = 7
[clock]
mode = "virtual"
[workload]
length = "4h"
every = "10s"
operations = ["PutObject", "GetObject"]
[[run]]
strategy = "manual-env"
expect = { fails_with = "ExpiredToken", at = "1h", within = "10s" }
[[run]]
strategy = "sdk-profile"
expect = { passes = true, refreshes = "3..=5" }
"#;

    fn err(text: &str) -> String {
        Scenario::parse(text, Path::new("s.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn operations_name_the_action_their_events_record() {
        for op in Operation::ALL {
            let actions = op.actions();
            assert!(!actions.is_empty(), "{op:?}");
            let name = op.as_str().trim_start_matches("Presigned");
            if op != Operation::MultipartUpload {
                assert_eq!(actions[0].as_str(), name);
            }
            assert_eq!(Operation::parse(op.as_str()), Some(op));
        }
    }

    #[test]
    fn the_issue_example_parses() {
        let s = Scenario::parse(GOOD, Path::new("s.toml")).unwrap();
        assert_eq!(s.seed, 7);
        assert_eq!(s.workload.length, Duration::from_secs(4 * 3600));
        assert_eq!(s.runs.len(), 2);
        assert_eq!(s.runs[0].expect.at, Some(Duration::from_secs(3600)));
        assert_eq!(s.runs[1].expect.refreshes, Some(3..=5));
        assert_eq!(s.runs[1].line, 14);
    }

    #[test]
    fn unknown_keys_bad_durations_and_strategies_name_line_and_key() {
        let e = err(&GOOD.replace("seed = 7", "seed = 7\ncolour = \"red\""));
        assert!(e.starts_with("s.toml:4:1: ") && e.contains("colour"), "{e}");
        let e = err(&GOOD.replace("\"4h\"", "\"4 hours\""));
        assert!(
            e.starts_with("s.toml:7:") && e.contains("not a duration"),
            "{e}"
        );
        let e = err(&GOOD.replace("\"sdk-profile\"", "\"sdk-magic\""));
        assert!(
            e.starts_with("s.toml:14:") && e.contains("unknown strategy `sdk-magic`"),
            "{e}"
        );
        let e = err(&GOOD.replace("\"GetObject\"]", "\"GetObjekt\"]"));
        assert!(e.starts_with("s.toml:9:") && e.contains("GetObjekt"), "{e}");
    }

    #[test]
    fn contradictory_expectations_are_refused() {
        let e = err(&GOOD.replace(
            "passes = true, refreshes",
            "passes = true, fails_with = \"X\", refreshes",
        ));
        assert!(
            e.starts_with("s.toml:15:") && e.contains("contradicts"),
            "{e}"
        );
        let e = err(&GOOD.replace(
            "{ passes = true, refreshes = \"3..=5\" }",
            "{ passes = true, at = \"1h\" }",
        ));
        assert!(e.contains("describe a failure"), "{e}");
        let e = err(&GOOD.replace(
            "{ passes = true, refreshes = \"3..=5\" }",
            "{ refreshes = 4 }",
        ));
        assert!(e.contains("say `passes = true`"), "{e}");
        let e = err(&GOOD.replace("\"3..=5\"", "\"5..=3\""));
        assert!(e.contains("not a count or range"), "{e}");
    }

    #[test]
    fn strategy_options_are_checked() {
        let e = err(&GOOD.replace(
            "strategy = \"sdk-profile\"",
            "strategy = \"sdk-profile\"\nduration_seconds = 7200",
        ));
        assert!(e.contains("never sends DurationSeconds"), "{e}");
        let e = err(&GOOD.replace("mode = \"virtual\"", "mode = \"scaled\""));
        assert!(e.contains("needs rate > 0"), "{e}");
    }

    #[test]
    fn credential_process_runs_is_for_credential_process_profiles() {
        let e = err(&GOOD.replace(
            "{ passes = true, refreshes = \"3..=5\" }",
            "{ passes = true, credential_process_runs = 2 }",
        ));
        assert!(
            e.starts_with("s.toml:15:") && e.contains("`sdk-profile` runs none"),
            "{e}"
        );
        let program = "[clock]\nmode = \"scaled\"\nrate = 60.0\n[workload]\nlength = \"1h\"\nevery = \"1m\"\noperations = [\"PutObject\"]\n[[run]]\nstrategy = \"process\"\ncommand = \"sh -c true\"\nPROFILE\nexpect = { passes = true, credential_process_runs = \"1..=2\" }\n";
        let text = format!("name = \"p\"\n{program}");
        let e = err(&text.replace("PROFILE", "profile = \"assume-role\""));
        assert!(
            e.starts_with("s.toml:13:") && e.contains("this run's profile has none"),
            "{e}"
        );
        let s = Scenario::parse(
            &text.replace("PROFILE", "profile = \"credential-process\""),
            Path::new("s.toml"),
        )
        .unwrap();
        assert_eq!(s.runs[0].expect.credential_process_runs, Some(1..=2));
    }

    #[test]
    fn ranges_and_clocks_parse() {
        assert_eq!(parse_range("4"), Ok(4..=4));
        assert_eq!(parse_range("3..5"), Ok(3..=4));
        assert_eq!(parse_range("2.."), Ok(2..=u64::MAX));
        assert_eq!(parse_range("..=4"), Ok(0..=4));
        assert!(parse_range("x").is_err());
        assert_eq!(range_label(&(3..=5)), "3..=5");
        assert_eq!(
            ClockSpec::parse("scaled:360"),
            Ok(ClockSpec::Scaled { rate: 360.0 })
        );
        assert!(ClockSpec::parse("scaled:0").is_err());
        let now = Scenario::parse(
            &GOOD.replace("mode = \"virtual\"", "mode = \"virtual\"\nstart = \"now\""),
            Path::new("s.toml"),
        )
        .unwrap();
        assert!(now.start > mock_sts::clock::default_virtual_start());
        assert!(ClockSpec::parse("fast").is_err());
    }
}
