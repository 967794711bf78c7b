//! Scenario files: what to replay (clock, world, workload) and what each run must show.
//!
//! A scenario is a TOML file (schema in `scenarios/README.md`). Everything is checked when the
//! file is read — unknown keys, bad durations, unknown strategies or operations, options a
//! strategy does not take, expectations that contradict each other — and every error names the
//! file, line, column and key, so a scenario never fails later for a reason its author cannot
//! see.

use std::ops::{Range, RangeInclusive};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use mock_sts::clock::{ClockFaults, ClockJump, SimClock, parse_duration};
use mock_sts::events::Action;
use mock_sts::faults::{FaultRule, RuleSpec, TimeBase};
use mock_sts::timestamp;
use mock_sts::world::line_col;
use mock_sts::{s3, sts};
use serde::Deserialize;
use serde::de::{self, Deserializer};
use toml::Spanned;

/// The default role the built-in strategies assume: the default world's 12-hour role.
pub const DEFAULT_ROLE: &str = "arn:aws:iam::123456789012:role/cross-account-s3";

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
}

impl ClockSpec {
    /// Parses `virtual` or `scaled:RATE` (the CLI's `--clock`).
    ///
    /// # Errors
    /// A message when the text is neither.
    pub fn parse(text: &str) -> Result<ClockSpec, String> {
        if text == "virtual" {
            return Ok(ClockSpec::Virtual);
        }
        let rate = text
            .strip_prefix("scaled:")
            .ok_or_else(|| format!("`{text}` is not `virtual` or `scaled:RATE`"))?;
        match rate.parse::<f64>() {
            Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(ClockSpec::Scaled { rate }),
            _ => Err(format!("`{rate}` is not a positive rate in scaled:RATE")),
        }
    }

    /// `virtual` or `scaled:RATE`.
    pub fn label(&self) -> String {
        match self {
            ClockSpec::Virtual => "virtual".to_string(),
            ClockSpec::Scaled { rate } => format!("scaled:{rate}"),
        }
    }
}

/// A workload operation: one call the client makes each interval.
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
}

impl Operation {
    /// The AWS operation name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::PutObject => "PutObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::GetCallerIdentity => "GetCallerIdentity",
        }
    }

    /// The action the mock's events record for this operation: what counts as the data plane.
    pub fn action(&self) -> Action {
        match self {
            Operation::PutObject => Action::S3(s3::Operation::PutObject),
            Operation::GetObject => Action::S3(s3::Operation::GetObject),
            Operation::HeadObject => Action::S3(s3::Operation::HeadObject),
            Operation::ListObjectsV2 => Action::S3(s3::Operation::ListObjectsV2),
            Operation::GetCallerIdentity => Action::Sts(sts::Action::GetCallerIdentity),
        }
    }

    /// Whether the operation is S3's.
    pub fn is_s3(&self) -> bool {
        !matches!(self, Operation::GetCallerIdentity)
    }

    fn parse(text: &str) -> Option<Operation> {
        Some(match text {
            "PutObject" => Operation::PutObject,
            "GetObject" => Operation::GetObject,
            "HeadObject" => Operation::HeadObject,
            "ListObjectsV2" => Operation::ListObjectsV2,
            "GetCallerIdentity" => Operation::GetCallerIdentity,
            _ => return None,
        })
    }
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
    /// A hand-rolled cache that refreshes only once the credentials have expired.
    NaiveRefresh,
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
            StrategyKind::NaiveRefresh => "naive-refresh",
            StrategyKind::Process => "process",
        }
    }

    /// All strategies, for messages.
    pub const ALL: [StrategyKind; 5] = [
        StrategyKind::ManualEnv,
        StrategyKind::SdkProfile,
        StrategyKind::SdkImds,
        StrategyKind::NaiveRefresh,
        StrategyKind::Process,
    ];

    fn parse(text: &str) -> Option<StrategyKind> {
        StrategyKind::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the strategy sends `DurationSeconds` when asked to (a `process` run hands it
    /// to its program as `STS_LAB_DURATION_SECONDS`).
    pub fn takes_duration(&self) -> bool {
        matches!(
            self,
            StrategyKind::ManualEnv | StrategyKind::NaiveRefresh | StrategyKind::Process
        )
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
}

impl ProfileKind {
    /// The name used in scenario files.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProfileKind::Static => "static",
            ProfileKind::AssumeRole => "assume-role",
            ProfileKind::Imds => "imds",
            ProfileKind::Container => "container",
        }
    }

    /// All profiles, for messages.
    pub const ALL: [ProfileKind; 4] = [
        ProfileKind::Static,
        ProfileKind::AssumeRole,
        ProfileKind::Imds,
        ProfileKind::Container,
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
        let invalid = |span: Option<Range<usize>>, message: String| {
            let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
            ScenarioError::Invalid {
                path: path.display().to_string(),
                line,
                column,
                message,
            }
        };
        let file: ScenarioFile =
            toml::from_str(text).map_err(|e| invalid(e.span(), e.message().trim().to_string()))?;

        let clock = match &file.clock {
            None => ClockSpec::Virtual,
            Some(c) => match (c.mode.get_ref().as_str(), c.rate) {
                ("virtual", None) => ClockSpec::Virtual,
                ("virtual", Some(_)) => {
                    return Err(invalid(
                        Some(c.mode.span()),
                        "clock.rate: a virtual clock has no rate (use mode = \"scaled\")".into(),
                    ));
                }
                ("scaled", Some(rate)) if rate.is_finite() && rate > 0.0 => {
                    ClockSpec::Scaled { rate }
                }
                ("scaled", _) => {
                    return Err(invalid(
                        Some(c.mode.span()),
                        "clock.rate: a scaled clock needs rate > 0 (e.g. rate = 360)".into(),
                    ));
                }
                (other, _) => {
                    return Err(invalid(
                        Some(c.mode.span()),
                        format!("clock.mode: `{other}` is not \"virtual\" or \"scaled\""),
                    ));
                }
            },
        };
        let start = match file.clock.as_ref().and_then(|c| c.start.as_ref()) {
            None => mock_sts::clock::default_virtual_start(),
            // The wall-clock time now: with rate = 1, programs that libfaketime cannot reach
            // (static binaries) agree with the server.
            Some(s) if s.get_ref() == "now" => SimClock::system_now(),
            Some(s) => timestamp::parse_rfc3339(s.get_ref()).ok_or_else(|| {
                invalid(
                    Some(s.span()),
                    format!(
                        "clock.start: `{}` is not an RFC 3339 time (e.g. 2026-01-01T00:00:00Z) or \"now\"",
                        s.get_ref()
                    ),
                )
            })?,
        };

        let world = match &file.world {
            None => mock_sts::World::default(),
            Some(w) => {
                let base = path.parent().unwrap_or(Path::new("."));
                mock_sts::World::load(&base.join(w.file.get_ref()))?
            }
        };

        let w = &file.workload;
        let mut operations = Vec::new();
        for op in &w.operations {
            match Operation::parse(op.get_ref()) {
                Some(o) => operations.push(o),
                None => {
                    return Err(invalid(
                        Some(op.span()),
                        format!(
                            "workload.operations: unknown operation `{}` (PutObject, GetObject, HeadObject, ListObjectsV2, GetCallerIdentity)",
                            op.get_ref()
                        ),
                    ));
                }
            }
        }
        if operations.is_empty() {
            return Err(invalid(
                None,
                "workload.operations: give at least one operation".into(),
            ));
        }
        let workers = w.workers.unwrap_or(1);
        if !(1..=64).contains(&workers) {
            return Err(invalid(
                None,
                format!("workload.workers: must be 1..=64, got {workers}"),
            ));
        }
        let workload = Workload {
            length: w.length.0,
            every: w.every.0,
            operations,
            workers,
            object_size: w.object_size.unwrap_or(1024),
            latency: w.latency.as_ref().map_or(Duration::ZERO, |l| l.0),
            bucket: w.bucket.clone().unwrap_or_else(|| "pipeline-data".into()),
            jitter: w.jitter.unwrap_or(0.0),
        };
        if !(0.0..1.0).contains(&workload.jitter) {
            return Err(invalid(
                None,
                format!(
                    "workload.jitter: must be 0 <= jitter < 1, got {}",
                    workload.jitter
                ),
            ));
        }
        if workload.every.is_zero() {
            return Err(invalid(None, "workload.every: must be more than 0".into()));
        }

        if file.run.is_empty() {
            return Err(invalid(
                None,
                "a scenario needs at least one [[run]]".into(),
            ));
        }
        let mut runs = Vec::new();
        let mut names = std::collections::HashSet::new();
        for r in &file.run {
            let span = r.strategy.span();
            let strategy = StrategyKind::parse(r.strategy.get_ref()).ok_or_else(|| {
                invalid(
                    Some(span.clone()),
                    format!(
                        "run.strategy: unknown strategy `{}` ({})",
                        r.strategy.get_ref(),
                        StrategyKind::ALL.map(|s| s.as_str()).join(", ")
                    ),
                )
            })?;
            if r.duration_seconds.is_some() && !strategy.takes_duration() {
                return Err(invalid(
                    Some(span),
                    format!(
                        "run.duration_seconds: strategy `{}` never sends DurationSeconds (aws-config's profile provider does not read duration_seconds)",
                        strategy.as_str()
                    ),
                ));
            }
            let process = check_process_options(r, strategy, clock, &world, &workload, path)
                .map_err(|(span, m)| invalid(Some(span), m))?;
            let name = r
                .name
                .clone()
                .unwrap_or_else(|| strategy.as_str().to_string());
            if !names.insert(name.clone()) {
                return Err(invalid(
                    Some(span),
                    format!("run.name: two runs are named `{name}`; give one a `name`"),
                ));
            }
            let expect = r
                .expect
                .as_ref()
                .map(|e| {
                    e.get_ref()
                        .validate(strategy)
                        .map_err(|m| invalid(Some(e.span()), m))
                })
                .transpose()?
                .ok_or_else(|| {
                    invalid(
                        Some(r.strategy.span()),
                        "run.expect: every run needs an expectation (e.g. expect = { passes = true })".into(),
                    )
                })?;
            let clock_faults =
                clock_faults(r, strategy, &workload).map_err(|(span, m)| invalid(Some(span), m))?;
            runs.push(RunSpec {
                name,
                strategy,
                role_arn: r.role.clone().unwrap_or_else(|| DEFAULT_ROLE.to_string()),
                duration_seconds: r.duration_seconds,
                process,
                clock_faults,
                expect,
                line: line_col(text, r.strategy.span().start).0,
            });
        }

        let mut faults = Vec::new();
        for (i, spec) in file.fault.iter().enumerate() {
            let rule = spec
                .get_ref()
                .validate(TimeBase::SinceStart(start))
                .map_err(|e| {
                    let span = key_span(text, spec.span(), &e.field);
                    invalid(
                        Some(span),
                        format!("fault[{}].{}: {}", i + 1, e.field, e.message),
                    )
                })?;
            faults.push(rule);
        }
        let mut revocations = Vec::new();
        for r in &file.revoke {
            let entry = r.get_ref();
            let role_arn = entry
                .role
                .clone()
                .unwrap_or_else(|| DEFAULT_ROLE.to_string());
            if world.role_by_arn(&role_arn).is_none() {
                return Err(invalid(
                    Some(key_span(text, r.span(), "role")),
                    format!("revoke.role: `{role_arn}` is not a role of the world"),
                ));
            }
            if entry.at.0 >= workload.length {
                return Err(invalid(
                    Some(key_span(text, r.span(), "at")),
                    "revoke.at: comes after the job's end".into(),
                ));
            }
            revocations.push(Revocation {
                at: entry.at.0,
                role_arn,
                issued_before: entry.issued_before.as_ref().map_or(entry.at.0, |d| d.0),
            });
        }

        Ok(Scenario {
            path: path.to_path_buf(),
            name: file.name,
            description: file.description.unwrap_or_default(),
            seed: file.seed.unwrap_or(1),
            clock,
            start,
            world,
            workload,
            runs,
            faults,
            revocations,
        })
    }
}

/// Where the key a validation error names sits inside a table's span: the key's last
/// segment (`effect.error` → `error`) written as `key =`, else the table itself.
fn key_span(text: &str, table: Range<usize>, field: &str) -> Range<usize> {
    let key = field.rsplit('.').next().unwrap_or(field);
    // The table's own lines: from its header to the next table header (toml's span of an
    // array-of-tables entry may cover the header alone).
    let rest = text.get(table.start..).unwrap_or("");
    let end = rest
        .match_indices("\n[")
        .map(|(i, _)| i)
        .find(|&i| i > 0)
        .unwrap_or(rest.len())
        .max(table.end.saturating_sub(table.start).min(rest.len()));
    let body = &rest[..end];
    let mut offset = 0;
    while let Some(found) = body[offset..].find(key) {
        let at = offset + found;
        let before_ok = at == 0
            || !body[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = body[at + key.len()..].trim_start();
        if before_ok && after.starts_with('=') {
            let start = table.start + at;
            return start..start + key.len();
        }
        offset = at + key.len();
    }
    table
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

/// Checks a run's `process` options (`command`, `cwd`, `profile`, `timeout`) against its
/// strategy, the clock, the world and the workload; returns the program for `process` runs.
/// Errors carry the span to report and the message naming the key.
/// A run's client clock faults, checked: a drift that keeps the clock running forward, jumps
/// inside the job, and no jumps for `process` runs (libfaketime's clock is fixed when the
/// program starts: [`ClockFaults::faketime`]).
fn clock_faults(
    r: &RunEntry,
    strategy: StrategyKind,
    workload: &Workload,
) -> Result<ClockFaults, (Range<usize>, String)> {
    let mut faults = ClockFaults {
        offset_seconds: r.clock_offset.as_ref().map_or(0.0, |o| o.get_ref().0),
        ..ClockFaults::default()
    };
    if let Some(drift) = &r.clock_drift {
        let d = *drift.get_ref();
        if !d.is_finite() || d <= -1.0 || d.abs() > 1.0 {
            return Err((
                drift.span(),
                format!(
                    "run.clock_drift: a rate error between -1 and 1 (0.001 = 0.1 % fast), got {d}"
                ),
            ));
        }
        faults.drift = d;
    }
    if let Some(jumps) = &r.clock_jumps {
        if strategy == StrategyKind::Process {
            return Err((
                jumps.span(),
                "run.clock_jumps: a `process` run's clock is libfaketime's, fixed when the program starts; jumps need an in-process strategy (clock_offset and clock_drift work for programs)".into(),
            ));
        }
        for j in jumps.get_ref() {
            if j.at.0 >= workload.length {
                return Err((
                    jumps.span(),
                    format!(
                        "run.clock_jumps: a jump at {:?} comes after the job's {:?} length",
                        j.at.0, workload.length
                    ),
                ));
            }
            faults.jumps.push(ClockJump {
                at: j.at.0,
                by_seconds: j.by.0,
            });
        }
    }
    Ok(faults)
}

fn check_process_options(
    r: &RunEntry,
    strategy: StrategyKind,
    clock: ClockSpec,
    world: &mock_sts::World,
    workload: &Workload,
    path: &Path,
) -> Result<Option<ProcessSpec>, (Range<usize>, String)> {
    let strategy_span = r.strategy.span();
    if strategy != StrategyKind::Process {
        let given = [
            ("command", r.command.as_ref().map(Spanned::span)),
            ("cwd", r.cwd.as_ref().map(Spanned::span)),
            ("profile", r.profile.as_ref().map(Spanned::span)),
            ("timeout", r.timeout.as_ref().map(Spanned::span)),
        ];
        if let Some((key, Some(span))) = given.into_iter().find(|(_, s)| s.is_some()) {
            return Err((
                span,
                format!(
                    "run.{key}: only strategy `process` runs a program; `{}` runs aws-sdk-rust in the harness",
                    strategy.as_str()
                ),
            ));
        }
        return Ok(None);
    }
    if clock == ClockSpec::Virtual {
        return Err((
            strategy_span,
            "run.strategy: `process` runs a real program, which needs a scaled clock (under [clock]: mode = \"scaled\", rate = 360); a virtual clock exists only inside the harness".into(),
        ));
    }
    if !workload.latency.is_zero() {
        return Err((
            strategy_span,
            "workload.latency: the harness cannot add latency to a program's requests; remove it from scenarios with `process` runs".into(),
        ));
    }
    let Some(command) = &r.command else {
        return Err((
            strategy_span,
            "run.command: strategy `process` needs a command (e.g. command = [\"python3\", \"clients/manual_env.py\"])".into(),
        ));
    };
    let words: Vec<String> = match command.get_ref() {
        CommandEntry::Line(line) => {
            if line.contains(['"', '\'', '\\']) {
                return Err((
                    command.span(),
                    "run.command: a command string is split on spaces, without quoting; write it as an array to pass arguments with spaces".into(),
                ));
            }
            line.split_whitespace().map(str::to_string).collect()
        }
        CommandEntry::Words(words) => words.clone(),
    };
    if words.first().is_none_or(|p| p.is_empty()) {
        return Err((command.span(), "run.command: the command is empty".into()));
    }
    // Absolute, so the program's path means the same inside its working directory.
    let parent = path.parent().unwrap_or(Path::new("."));
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let base = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
    let cwd = match &r.cwd {
        None => base.to_path_buf(),
        Some(c) => {
            let dir = base.join(c.get_ref());
            if !dir.is_dir() {
                return Err((
                    c.span(),
                    format!(
                        "run.cwd: `{}` is not a directory ({} relative to the scenario's folder)",
                        c.get_ref(),
                        dir.display()
                    ),
                ));
            }
            dir
        }
    };
    // A program named by a path must exist now (exit 2 before anything runs); a bare name is
    // looked up on the program's PATH when the run starts, which a venv may extend.
    let program = &words[0];
    if program.contains('/') {
        use std::os::unix::fs::PermissionsExt;
        let file = cwd.join(program);
        match std::fs::metadata(&file) {
            Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => {}
            Ok(m) if m.is_file() => {
                return Err((
                    command.span(),
                    format!(
                        "run.command: `{program}` is not executable (chmod +x, or name its interpreter: [\"python3\", \"{program}\"])"
                    ),
                ));
            }
            _ => {
                return Err((
                    command.span(),
                    format!(
                        "run.command: `{program}` does not exist ({} relative to the run's cwd)",
                        file.display()
                    ),
                ));
            }
        }
    }
    let profile = match &r.profile {
        None => ProfileKind::Static,
        Some(p) => ProfileKind::parse(p.get_ref()).ok_or_else(|| {
            (
                p.span(),
                format!(
                    "run.profile: unknown profile `{}` ({})",
                    p.get_ref(),
                    ProfileKind::ALL.map(|k| k.as_str()).join(", ")
                ),
            )
        })?,
    };
    match (&r.profile, profile) {
        (Some(p), ProfileKind::Imds) if world.instance.is_none() => {
            return Err((
                p.span(),
                "run.profile: `imds` needs an [instance] in the world (the default world has one)"
                    .into(),
            ));
        }
        (Some(p), ProfileKind::Container) if world.container.is_none() => {
            return Err((
                p.span(),
                "run.profile: `container` needs a [container] in the world (the default world has one)"
                    .into(),
            ));
        }
        _ => {}
    }
    let timeout = match &r.timeout {
        Some(t) if t.get_ref().0.is_zero() => {
            return Err((
                t.span(),
                "run.timeout: must be more than 0 (wall-clock time)".into(),
            ));
        }
        t => t.as_ref().map(|t| t.get_ref().0),
    };
    Ok(Some(ProcessSpec {
        command: words,
        cwd,
        profile,
        timeout,
    }))
}

// ---- the file format ----------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    description: Option<String>,
    seed: Option<u64>,
    clock: Option<ClockEntry>,
    world: Option<WorldEntry>,
    workload: WorkloadEntry,
    #[serde(default)]
    run: Vec<RunEntry>,
    #[serde(default)]
    fault: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    revoke: Vec<Spanned<RevokeEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeEntry {
    at: Dur,
    role: Option<String>,
    issued_before: Option<Dur>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockEntry {
    mode: Spanned<String>,
    rate: Option<f64>,
    start: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldEntry {
    file: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkloadEntry {
    length: Dur,
    every: Dur,
    operations: Vec<Spanned<String>>,
    workers: Option<u32>,
    object_size: Option<usize>,
    latency: Option<Dur>,
    bucket: Option<String>,
    jitter: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RunEntry {
    name: Option<String>,
    strategy: Spanned<String>,
    role: Option<String>,
    duration_seconds: Option<u32>,
    command: Option<Spanned<CommandEntry>>,
    cwd: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    timeout: Option<Spanned<Dur>>,
    clock_offset: Option<Spanned<SignedDur>>,
    clock_drift: Option<Spanned<f64>>,
    clock_jumps: Option<Spanned<Vec<JumpEntry>>>,
    expect: Option<Spanned<ExpectEntry>>,
}

/// `{ at = "30m", by = "+2h" }`: the client's clock steps by `by` when `at` has passed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JumpEntry {
    at: Dur,
    by: SignedDur,
}

/// A duration with an optional sign: `-20m`, `+2h`, `90s`.
struct SignedDur(f64);

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let t = text.trim();
        let (sign, rest) = match t.strip_prefix('-') {
            Some(rest) => (-1.0, rest),
            None => (1.0, t.strip_prefix('+').unwrap_or(t)),
        };
        parse_duration(rest)
            .map(|d| SignedDur(sign * d.as_secs_f64()))
            .map_err(|_| {
                de::Error::custom(format!(
                    "`{text}` is not a signed duration (e.g. -20m, +2h, 90s)"
                ))
            })
    }
}

/// `command = ["python3", "client.py"]` or `command = "python3 client.py"`.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a command: an array of strings, or a string")]
enum CommandEntry {
    Words(Vec<String>),
    Line(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectEntry {
    passes: Option<bool>,
    fails_with: Option<String>,
    at: Option<Dur>,
    within: Option<Dur>,
    message: Option<String>,
    refreshes: Option<Count>,
    sts_calls: Option<Count>,
    min_refresh_lead: Option<Dur>,
    requests: Option<Count>,
    exit_code: Option<i64>,
    exits_nonzero: Option<bool>,
}

impl ExpectEntry {
    fn validate(&self, strategy: StrategyKind) -> Result<Expect, String> {
        let failing = self.fails_with.is_some();
        match (self.passes, failing) {
            (Some(true), true) => {
                return Err(
                    "expect: `passes = true` contradicts `fails_with`; keep one".to_string()
                );
            }
            (Some(false), false) => {
                return Err(
                    "expect: `passes = false` needs `fails_with = \"CODE\"` to say how".to_string(),
                );
            }
            (None, false) => {
                return Err("expect: say `passes = true` or `fails_with = \"CODE\"`".to_string());
            }
            _ => {}
        }
        if !failing && (self.at.is_some() || self.within.is_some() || self.message.is_some()) {
            return Err(
                "expect: `at`, `within` and `message` describe a failure; add `fails_with`"
                    .to_string(),
            );
        }
        if self.within.is_some() && self.at.is_none() {
            return Err("expect: `within` needs `at`".to_string());
        }
        let process = strategy == StrategyKind::Process;
        if !process && (self.exit_code.is_some() || self.exits_nonzero.is_some()) {
            return Err(format!(
                "expect: `exit_code` and `exits_nonzero` are for `process` runs; `{}` has no exit status",
                strategy.as_str()
            ));
        }
        let exit_code = match (self.exit_code, self.exits_nonzero) {
            (Some(_), Some(_)) => {
                return Err(
                    "expect: `exit_code` and `exits_nonzero` both say how the program exits; keep one"
                        .to_string(),
                );
            }
            (None, Some(false)) => {
                return Err(
                    "expect: `exits_nonzero = false` says nothing; write `exit_code = 0`"
                        .to_string(),
                );
            }
            (Some(code), None) => Some(
                i32::try_from(code)
                    .ok()
                    .filter(|c| (0..=255).contains(c))
                    .ok_or_else(|| format!("expect: `exit_code` must be 0..=255, got {code}"))?,
            ),
            // A program that passes exits 0 unless the scenario says otherwise.
            (None, None) if process && !failing => Some(0),
            _ => None,
        };
        Ok(Expect {
            passes: !failing,
            fails_with: self.fails_with.clone(),
            at: self.at.as_ref().map(|d| d.0),
            within: self.within.as_ref().map_or(Duration::from_secs(1), |d| d.0),
            message: self.message.clone(),
            refreshes: self.refreshes.as_ref().map(|c| c.0.clone()),
            sts_calls: self.sts_calls.as_ref().map(|c| c.0.clone()),
            requests: self.requests.as_ref().map(|c| c.0.clone()),
            min_refresh_lead: self.min_refresh_lead.as_ref().map(|d| d.0),
            exit_code,
            exits_nonzero: self.exits_nonzero == Some(true),
        })
    }
}

/// A duration written as text: `90s`, `15m`, `4h`, `1h30m`.
struct Dur(Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text).map(Dur).map_err(de::Error::custom)
    }
}

/// A count or a range: `4`, `"3..=5"`, `"3..5"`, `"2.."`, `"..=4"`.
struct Count(RangeInclusive<u64>);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Count(n..=n)),
            Raw::S(s) => parse_range(&s).map(Count).map_err(de::Error::custom),
        }
    }
}

fn parse_range(text: &str) -> Result<RangeInclusive<u64>, String> {
    let bad = || format!("`{text}` is not a count or range (e.g. 4, \"3..=5\", \"2..\")");
    let t = text.trim();
    let num = |s: &str, default: u64| -> Result<u64, String> {
        if s.is_empty() {
            Ok(default)
        } else {
            s.parse().map_err(|_| bad())
        }
    };
    if let Some((lo, hi)) = t.split_once("..=") {
        let (lo, hi) = (num(lo, 0)?, num(hi, u64::MAX)?);
        return if lo <= hi { Ok(lo..=hi) } else { Err(bad()) };
    }
    if let Some((lo, hi)) = t.split_once("..") {
        let lo = num(lo, 0)?;
        if hi.is_empty() {
            return Ok(lo..=u64::MAX);
        }
        let hi = num(hi, 0)?;
        return if lo < hi { Ok(lo..=hi - 1) } else { Err(bad()) };
    }
    let n = num(t, 0)?;
    Ok(n..=n)
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
        for op in [
            Operation::PutObject,
            Operation::GetObject,
            Operation::HeadObject,
            Operation::ListObjectsV2,
            Operation::GetCallerIdentity,
        ] {
            assert_eq!(op.action().as_str(), op.as_str());
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
