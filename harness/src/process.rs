//! External programs (`strategy = "process"`): any client, in any language, run once per run
//! against the mock on the scenario's accelerated clock, and judged by what the server saw.
//!
//! For each run the harness
//! - starts the mock on a loopback socket, its clock `scaled` at the scenario's rate;
//! - writes a private `HOME` with generated `~/.aws/config` and `~/.aws/credentials` (what the
//!   `[default]` profile holds is the run's `profile`), so no user setting and no cache
//!   (`~/.aws/cli/cache`, aws-facts §6.3) leaks into the run or from one run into the next;
//! - starts the program under ONE `faketime -f "@START xRATE"` wrapper, the value computed by
//!   [`SimClock::faketime`] immediately before spawning, with `FAKETIME_DONT_RESET=1`, so the
//!   program and every child it starts share one continuous fake clock that agrees with the
//!   server's (separate `LD_PRELOAD` processes each start their own clock and drift apart by
//!   start delta × rate: shared/measured-clients.md §3);
//! - gives it a clean environment: `PATH`, `HOME`, `TZ=UTC`, the endpoint, the config files,
//!   the region and the scenario's parameters (`STS_LAB_*`), nothing else of the caller's;
//!   a version matrix row's environment ([`crate::environments`], installed in `prepare`)
//!   comes first on its `PATH` (a venv's `bin`, with `VIRTUAL_ENV`) or as `NODE_PATH` (and
//!   `STS_LAB_NODE_MODULES`, for ES modules);
//! - keeps the tail of its stdout and stderr, and kills its whole process group when it
//!   outlives a wall-clock limit derived from the workload, or when it exits leaving children.
//!
//! The verdict comes from the server's events plus the exit status; fidelity from comparing
//! the time each request was signed with (`X-Amz-Date`) against the server's clock at arrival.
//!
//! On a compressed clock (`compressed:K`, [`crate::compressed`]) the program runs on the real
//! clock, started directly without the faketime wrapper (`FAKETIME` in reports is empty): the
//! mock shortens lifetimes instead of speeding time up, so nothing needs faking.
//!
//! Limits: libfaketime fakes time only for dynamically linked programs that read it through
//! libc. Statically linked programs (most Go binaries) and programs that read the vDSO or the
//! hardware clock directly see real time: run those at `rate = 1`, or against `mock-sts serve
//! --clock frozen` advanced through its control API.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use mock_sts::MockAws;
use mock_sts::clock::{ClockFaults, SimClock, real_timeout};
use serde::Serialize;
use tokio::io::AsyncReadExt;

use crate::credential_process;
use crate::environments::{self, Environment, EnvironmentError};
use crate::scenario::{ClockSpec, ProcessSpec, ProfileKind, RunSpec, Scenario, Workload};
use crate::token_file::TokenFiles;

/// How much of each output stream a run keeps: the last 64 KiB.
pub const OUTPUT_TAIL_BYTES: usize = 64 * 1024;

/// The wall-clock limit's factor on the workload's ideal duration (length / rate)...
pub const TIMEOUT_FACTOR: u32 = 2;

/// ...plus this, for the program's own start-up (an interpreter importing an SDK takes
/// seconds on a busy machine, simulated minutes at ×360).
pub const TIMEOUT_SLACK: Duration = Duration::from_secs(60);

/// After a program exits (or is killed), how long to wait for output still in its pipes from
/// processes that left its process group.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Settings of the machine rather than the scenario.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessOptions {
    /// Folders put before the harness's own `PATH` on the program's `PATH` (e.g. a venv's
    /// `bin`, so `python3` is the venv's).
    pub path_prefix: Vec<PathBuf>,
    /// The `sts-harness` binary, the `credential_process` helper of
    /// `profile = "credential-process"` runs ([`crate::credential_process`]).
    pub harness_binary: Option<PathBuf>,
}

impl ProcessOptions {
    /// From the environment: `STS_LAB_VENV`, when set, puts `$STS_LAB_VENV/bin` first.
    pub fn from_env() -> ProcessOptions {
        ProcessOptions {
            // Absolute: the program runs in its scenario's folder, where a relative
            // `STS_LAB_VENV=.venv` (the README's) would name nothing.
            path_prefix: std::env::var_os("STS_LAB_VENV")
                .map(|venv| {
                    let venv = PathBuf::from(venv);
                    let venv = std::path::absolute(&venv).unwrap_or(venv);
                    vec![venv.join("bin")]
                })
                .unwrap_or_default(),
            harness_binary: harness_binary(),
        }
    }

    /// The `PATH` the program gets: the prefix, then the harness's own `PATH` (or the usual
    /// system folders when it has none).
    pub fn program_path(&self) -> OsString {
        let inherited = std::env::var_os("PATH")
            .unwrap_or_else(|| OsString::from("/usr/local/bin:/usr/bin:/bin"));
        let mut dirs: Vec<PathBuf> = self.path_prefix.clone();
        dirs.extend(std::env::split_paths(&inherited));
        std::env::join_paths(dirs).unwrap_or(inherited)
    }
}

/// The `sts-harness` binary: `STS_LAB_HARNESS_BIN`, else this process when it is that binary.
fn harness_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("STS_LAB_HARNESS_BIN") {
        return Some(PathBuf::from(path));
    }
    std::env::current_exe()
        .ok()
        .filter(|exe| exe.file_name().is_some_and(|n| n == "sts-harness"))
}

/// Why a program could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// libfaketime's `faketime` wrapper is not on the `PATH`.
    #[error(
        "faketime not found on PATH: `process` runs need libfaketime's wrapper (Debian/Ubuntu: apt-get install faketime; scripts/test installs it)"
    )]
    FaketimeMissing,
    /// A bare program name is on none of the `PATH`'s folders.
    #[error("command `{program}` not found on the program's PATH ({path})")]
    NotFound {
        /// The name.
        program: String,
        /// The `PATH` searched.
        path: String,
    },
    /// A program given as a path is gone (it existed when the scenario was read).
    #[error("command `{0}` does not exist")]
    Missing(String),
    /// The run is not a `process` run (a harness bug: scenario files cannot say this).
    #[error("the run has no command")]
    NoCommand,
    /// The run's clock is virtual.
    #[error(
        "a `process` run needs a scaled or compressed clock (a program cannot follow the harness's virtual clock); rerun with --clock scaled:RATE or --clock compressed:K"
    )]
    NotScaled,
    /// A `credential-process` run without the helper binary.
    #[error(
        "profile `credential-process` needs the sts-harness binary as its credential_process helper: run the scenario with the sts-harness binary, or set STS_LAB_HARNESS_BIN"
    )]
    NoHelper,
    /// The projected token files could not be written.
    #[error("{0}")]
    Tokens(String),
    /// A version matrix row's packages could not be installed.
    #[error("{0}")]
    Environment(#[from] EnvironmentError),
    /// Files or the process could not be created.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        source: std::io::Error,
    },
}

/// How the program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exit {
    /// It exited with this status. A program killed by a signal shows as 1: libfaketime's
    /// wrapper reports it so (after printing `Caught <signal>` on stderr).
    Code {
        /// The status.
        code: i32,
    },
    /// The harness killed it (and its process group) at the wall-clock limit.
    TimedOut {
        /// The limit, milliseconds.
        limit_ms: u64,
    },
}

impl Exit {
    /// `exit 0`, `exit 3`, `killed after the 90 s wall-clock limit`.
    pub fn describe(&self) -> String {
        match self {
            Exit::Code { code } => format!("exit {code}"),
            Exit::TimedOut { limit_ms } => format!(
                "killed after the {} wall-clock limit",
                wall_label(Duration::from_millis(*limit_ms))
            ),
        }
    }
}

/// `90 s`, `1.5 s`.
fn wall_label(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("{secs:.0} s")
    } else {
        format!("{secs:.1} s")
    }
}

/// The tail of one output stream.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutputTail {
    /// The last [`OUTPUT_TAIL_BYTES`] bytes, as text (invalid UTF-8 replaced).
    pub text: String,
    /// Bytes dropped from the front.
    pub dropped_bytes: u64,
}

impl OutputTail {
    fn from_bytes(bytes: &[u8], total: u64) -> OutputTail {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        // A cut in the middle of a UTF-8 sequence shows as replacement characters: drop them.
        if total > bytes.len() as u64 {
            text = text.trim_start_matches('\u{fffd}').to_string();
        }
        // Control characters (terminal colours, progress bars' carriage returns) have no place
        // in a report, and XML 1.0 cannot carry them.
        let text = text
            .chars()
            .filter(|c| *c != '\r')
            .map(|c| {
                if c.is_control() && c != '\n' && c != '\t' {
                    '\u{fffd}'
                } else {
                    c
                }
            })
            .collect();
        OutputTail {
            text,
            dropped_bytes: total.saturating_sub(bytes.len() as u64),
        }
    }

    /// The last `lines` lines, each cut to `width` characters, for reports.
    pub fn last_lines(&self, lines: usize, width: usize) -> Vec<String> {
        let all: Vec<&str> = self.text.lines().collect();
        let skip = all.len().saturating_sub(lines);
        all[skip..]
            .iter()
            .map(|l| {
                if l.chars().count() > width {
                    let cut: String = l.chars().take(width).collect();
                    format!("{cut}…")
                } else {
                    (*l).to_string()
                }
            })
            .collect()
    }

    /// Lines the report leaves out before the last `lines`, and whether bytes were dropped.
    pub fn omitted_lines(&self, lines: usize) -> usize {
        self.text.lines().count().saturating_sub(lines)
    }
}

/// What a program did, besides its requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessOutcome {
    /// The command line as the scenario wrote it.
    pub command: Vec<String>,
    /// Its working directory.
    pub cwd: String,
    /// The generated config's `[default]` profile.
    pub profile: &'static str,
    /// The `FAKETIME` value it started under.
    pub faketime: String,
    /// How it ended.
    pub exit: Exit,
    /// The wall-clock limit, milliseconds.
    pub timeout_ms: u64,
    /// Its standard output (tail).
    pub stdout: OutputTail,
    /// Its standard error (tail).
    pub stderr: OutputTail,
    /// A version matrix row's environment: its folder, what it holds, how long it took.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
}

/// The wall-clock limit for a program: the workload's length (and its overrun: a last upload,
/// a presigned URL's wait) at the run's rate, times [`TIMEOUT_FACTOR`], plus
/// [`TIMEOUT_SLACK`]; or the run's `timeout`.
pub fn wall_limit(workload: &Workload, rate: f64, spec: &ProcessSpec) -> Duration {
    spec.timeout.unwrap_or_else(|| {
        Duration::try_from_secs_f64((workload.length + workload.overrun()).as_secs_f64() / rate)
            .unwrap_or(Duration::from_secs(24 * 3600))
            * TIMEOUT_FACTOR
            + TIMEOUT_SLACK
    })
}

/// The first executable file named `name` on `path`.
pub fn find_on_path(name: &str, path: &OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|file| {
            std::fs::metadata(file)
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// libfaketime's `faketime` wrapper on the harness's `PATH`.
///
/// # Errors
/// [`ProcessError::FaketimeMissing`].
pub fn find_faketime(options: &ProcessOptions) -> Result<PathBuf, ProcessError> {
    find_on_path("faketime", &options.program_path()).ok_or(ProcessError::FaketimeMissing)
}

/// Seconds as the environment carries them: `14400`, `2.5`.
fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// Everything the generated files and environment are made from.
#[derive(Debug, Clone)]
pub struct Wiring<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// The run.
    pub run: &'a RunSpec,
    /// Its program.
    pub spec: &'a ProcessSpec,
    /// The mock's endpoint URL.
    pub endpoint: String,
    /// The clock's rate.
    pub rate: f64,
    /// The seed.
    pub seed: u64,
    /// The private `HOME`.
    pub home: PathBuf,
    /// The variables naming the run's projected token files ([`TokenFiles::environment`]).
    pub token_files: Vec<(String, OsString)>,
    /// The `credential_process` helper (`sts-harness`), for `profile = "credential-process"`.
    pub helper: Option<PathBuf>,
    /// The variables naming a version matrix row's environment (`VIRTUAL_ENV`, or `NODE_PATH`
    /// and `STS_LAB_NODE_MODULES`).
    pub packages: Vec<(String, OsString)>,
}

impl Wiring<'_> {
    /// `~/.aws/config`: `[default]` per the run's profile; `[profile source]`; and
    /// `[profile pipeline]`, which assumes the run's role from `source` whatever the default.
    pub fn config_file(&self) -> String {
        let role = &self.run.role_arn;
        let duration = self
            .run
            .duration_seconds
            .map_or(String::new(), |d| format!("duration_seconds = {d}\n"));
        let default = match self.spec.profile {
            ProfileKind::Static | ProfileKind::Container | ProfileKind::WebIdentity => {
                String::new()
            }
            ProfileKind::CredentialProcess => {
                match (&self.helper, self.scenario.world.users.first()) {
                    (Some(helper), Some(user)) => format!(
                        "credential_process = {}\n",
                        credential_process::command_line(
                            helper,
                            &credential_process::HelperArgs {
                                endpoint: self.endpoint.clone(),
                                role_arn: role.clone(),
                                access_key_id: user.access_key_id.clone(),
                                secret_access_key: user.secret_access_key.clone(),
                                duration_seconds: self.run.duration_seconds,
                            },
                        )
                    ),
                    _ => String::new(),
                }
            }
            ProfileKind::AssumeRole => {
                format!("role_arn = {role}\nsource_profile = source\n{duration}")
            }
            ProfileKind::Imds => {
                format!("role_arn = {role}\ncredential_source = Ec2InstanceMetadata\n{duration}")
            }
        };
        // Path-style S3 addressing: the endpoint is an IP address.
        let common = "region = us-east-1\ns3 =\n    addressing_style = path\n";
        format!(
            "[default]\n{common}{default}\n\
             [profile source]\n{common}\n\
             [profile pipeline]\n{common}role_arn = {role}\nsource_profile = source\n{duration}"
        )
    }

    /// `~/.aws/credentials`: the world's first user's keys as `[source]`, and as `[default]`
    /// for the `static` profile.
    pub fn credentials_file(&self) -> String {
        let Some(user) = self.scenario.world.users.first() else {
            return String::new();
        };
        let keys = format!(
            "aws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        );
        let default = if self.spec.profile == ProfileKind::Static {
            format!("[default]\n{keys}\n")
        } else {
            String::new()
        };
        format!("{default}[source]\n{keys}")
    }

    /// The program's whole environment (besides what `faketime` adds: `LD_PRELOAD`,
    /// `FAKETIME`, `FAKETIME_SHARED`).
    pub fn environment(&self, path: &OsStr) -> Vec<(String, OsString)> {
        let w = &self.scenario.workload;
        let aws = self.home.join(".aws");
        let mut env: Vec<(String, OsString)> = vec![
            ("PATH".into(), path.to_os_string()),
            ("HOME".into(), self.home.clone().into_os_string()),
            ("TZ".into(), "UTC".into()),
            ("LANG".into(), "C.UTF-8".into()),
            // Children of the program share the wrapper's clock instead of restarting it.
            ("FAKETIME_DONT_RESET".into(), "1".into()),
            // Output of a program that is killed is not lost in its buffers.
            ("PYTHONUNBUFFERED".into(), "1".into()),
            (
                "AWS_CONFIG_FILE".into(),
                aws.join("config").into_os_string(),
            ),
            (
                "AWS_SHARED_CREDENTIALS_FILE".into(),
                aws.join("credentials").into_os_string(),
            ),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_DEFAULT_REGION".into(), "us-east-1".into()),
            ("AWS_ENDPOINT_URL".into(), self.endpoint.clone().into()),
            ("AWS_ENDPOINT_URL_STS".into(), self.endpoint.clone().into()),
            ("AWS_ENDPOINT_URL_S3".into(), self.endpoint.clone().into()),
            ("AWS_PAGER".into(), "".into()),
        ];
        match self.spec.profile {
            ProfileKind::Imds => env.push((
                "AWS_EC2_METADATA_SERVICE_ENDPOINT".into(),
                self.endpoint.clone().into(),
            )),
            _ => env.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into())),
        }
        if self.spec.profile == ProfileKind::Container
            && let Some(container) = &self.scenario.world.container
        {
            env.push((
                "AWS_CONTAINER_CREDENTIALS_FULL_URI".into(),
                format!("{}{}", self.endpoint, container.relative_uri).into(),
            ));
            if let Some(token) = &container.authorization_token {
                env.push(("AWS_CONTAINER_AUTHORIZATION_TOKEN".into(), token.into()));
            }
        }
        if self.spec.profile == ProfileKind::WebIdentity {
            // As EKS's pod identity webhook injects them (with AWS_WEB_IDENTITY_TOKEN_FILE).
            env.push(("AWS_ROLE_ARN".into(), self.run.role_arn.clone().into()));
            env.push(("AWS_ROLE_SESSION_NAME".into(), "pipeline".into()));
        }
        env.extend(self.token_files.iter().cloned());
        env.extend(self.packages.iter().cloned());
        let operations: Vec<&str> = w.operations.iter().map(|o| o.as_str()).collect();
        env.extend([
            ("STS_LAB_ENDPOINT".into(), self.endpoint.clone().into()),
            ("STS_LAB_ROLE_ARN".into(), self.run.role_arn.clone().into()),
            ("STS_LAB_LENGTH_SECONDS".into(), seconds(w.length).into()),
            ("STS_LAB_EVERY_SECONDS".into(), seconds(w.every).into()),
            ("STS_LAB_OPERATIONS".into(), operations.join(",").into()),
            ("STS_LAB_BUCKET".into(), w.bucket.clone().into()),
            (
                "STS_LAB_OBJECT_SIZE".into(),
                w.object_size.to_string().into(),
            ),
            ("STS_LAB_WORKERS".into(), w.workers.to_string().into()),
            ("STS_LAB_RATE".into(), self.rate.to_string().into()),
            ("STS_LAB_SEED".into(), self.seed.to_string().into()),
            ("STS_LAB_RUN".into(), self.run.name.clone().into()),
        ]);
        if let Some(d) = self.run.duration_seconds {
            env.push(("STS_LAB_DURATION_SECONDS".into(), d.to_string().into()));
        }
        if let Some(m) = &w.multipart {
            env.extend([
                ("STS_LAB_PARTS".into(), m.parts.to_string().into()),
                ("STS_LAB_PART_SIZE".into(), m.part_size.to_string().into()),
                (
                    "STS_LAB_LAST_PART_SIZE".into(),
                    m.last_part_size.to_string().into(),
                ),
                // Bytes per simulated second: the program sleeps size / bandwidth per part.
                ("STS_LAB_BANDWIDTH".into(), m.bandwidth.to_string().into()),
            ]);
        }
        if let Some(p) = &w.presign {
            env.extend([
                (
                    "STS_LAB_PRESIGN_EXPIRES_SECONDS".into(),
                    seconds(p.expires).into(),
                ),
                (
                    "STS_LAB_PRESIGN_USE_AFTER_SECONDS".into(),
                    seconds(p.use_after).into(),
                ),
            ]);
        }
        env
    }
}

/// A program ready to start: found on its `PATH` (or at its path), with a private `HOME`
/// that lives as long as this does.
#[derive(Debug)]
pub struct Prepared {
    /// `None` on a compressed clock: the program runs on the real clock as it is.
    faketime: Option<PathBuf>,
    program: PathBuf,
    path: OsString,
    rate: f64,
    home: PathBuf,
    helper: Option<PathBuf>,
    environment: Option<Environment>,
    _dir: tempfile::TempDir,
}

fn io_error(what: &str) -> impl FnOnce(std::io::Error) -> ProcessError {
    let what = what.to_string();
    move |source| ProcessError::Io { what, source }
}

/// Everything that can fail before the mock starts: the clock must be scaled, a version
/// matrix row's environment installed (or found installed), libfaketime's wrapper and the
/// program found (a row's environment first on the `PATH`), and the run's `HOME` created.
///
/// # Errors
/// [`ProcessError`] saying which.
pub fn prepare(
    run: &RunSpec,
    clock: ClockSpec,
    options: &ProcessOptions,
) -> Result<Prepared, ProcessError> {
    let rate = match clock {
        ClockSpec::Scaled { rate } => rate,
        ClockSpec::Compressed { .. } => 1.0,
        ClockSpec::Virtual => return Err(ProcessError::NotScaled),
    };
    let Some(spec) = &run.process else {
        return Err(ProcessError::NoCommand);
    };
    let path = options.program_path();
    let environment = spec
        .packages
        .as_ref()
        .map(|set| environments::prepare(set, &path))
        .transpose()?;
    let path = match environment.as_ref().and_then(Environment::bin) {
        Some(bin) => std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&path)))
            .unwrap_or(path),
        None => path,
    };
    let faketime = match clock {
        ClockSpec::Compressed { .. } => None,
        _ => Some(find_on_path("faketime", &path).ok_or(ProcessError::FaketimeMissing)?),
    };
    let program = &spec.command[0];
    let resolved = if program.contains('/') {
        let file = spec.cwd.join(program);
        if !file.is_file() {
            return Err(ProcessError::Missing(program.clone()));
        }
        file
    } else {
        find_on_path(program, &path).ok_or_else(|| ProcessError::NotFound {
            program: program.clone(),
            path: path.to_string_lossy().into_owned(),
        })?
    };
    let helper = match spec.profile {
        ProfileKind::CredentialProcess => Some(
            options
                .harness_binary
                .clone()
                .ok_or(ProcessError::NoHelper)?,
        ),
        _ => None,
    };
    let dir = tempfile::Builder::new()
        .prefix("sts-harness-")
        .tempdir()
        .map_err(io_error("cannot create the run's HOME"))?;
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".aws")).map_err(io_error("cannot create the run's HOME"))?;
    Ok(Prepared {
        faketime,
        program: resolved,
        path,
        rate,
        home,
        helper,
        environment,
        _dir: dir,
    })
}

/// Runs a prepared program against `aws` (already serving on a loopback socket, on `clock`):
/// writes its AWS config files, starts it under faketime, and waits for it within its
/// wall-clock limit. The runner owns the mock, its events and the run's result.
///
/// # Errors
/// [`ProcessError`] when the files cannot be written or the program cannot be started.
pub async fn run(
    prepared: &Prepared,
    scenario: &Scenario,
    run: &RunSpec,
    aws: &MockAws,
    clock: &SimClock,
    seed: u64,
) -> Result<ProcessOutcome, ProcessError> {
    let Some(spec) = &run.process else {
        return Err(ProcessError::NoCommand);
    };
    // The projected tokens go beside HOME, minted now: the pod's kubelet wrote them before
    // its containers started.
    let tokens = TokenFiles::create(scenario, run, aws, prepared.home.parent())
        .map_err(|e| ProcessError::Tokens(e.to_string()))?;
    let wiring = Wiring {
        scenario,
        run,
        spec,
        endpoint: aws.endpoint_url(),
        rate: prepared.rate,
        seed,
        home: prepared.home.clone(),
        token_files: tokens
            .as_ref()
            .map(TokenFiles::environment)
            .unwrap_or_default(),
        helper: prepared.helper.clone(),
        packages: prepared
            .environment
            .as_ref()
            .map(Environment::variables)
            .unwrap_or_default(),
    };
    std::fs::write(prepared.home.join(".aws/config"), wiring.config_file())
        .map_err(io_error("cannot write the AWS config file"))?;
    std::fs::write(
        prepared.home.join(".aws/credentials"),
        wiring.credentials_file(),
    )
    .map_err(io_error("cannot write the AWS credentials file"))?;
    let limit = wall_limit(&scenario.workload, prepared.rate, spec);
    let supervised = supervise(
        prepared.faketime.as_deref(),
        &prepared.program,
        spec,
        &wiring,
        &prepared.path,
        (clock, &run.clock_faults),
        limit,
    );
    let outcome = match &tokens {
        Some(tokens) => tokio::select! {
            outcome = supervised => outcome,
            never = tokens.rotate(aws, clock) => match never {},
        },
        None => supervised.await,
    };
    outcome.map(|outcome| ProcessOutcome {
        environment: prepared.environment.clone(),
        ..outcome
    })
}

/// Spawns the program under faketime, waits for it within `limit`, and collects its output.
async fn supervise(
    faketime: Option<&Path>,
    program: &Path,
    spec: &ProcessSpec,
    wiring: &Wiring<'_>,
    path: &OsStr,
    (clock, faults): (&SimClock, &ClockFaults),
    limit: Duration,
) -> Result<ProcessOutcome, ProcessError> {
    // Without faketime (a compressed clock), the program itself leads its process group.
    let mut command = tokio::process::Command::new(faketime.unwrap_or(program));
    command
        .env_clear()
        .envs(wiring.environment(path))
        .current_dir(&spec.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so the program and everything it starts can be killed at once.
        .process_group(0)
        .kill_on_drop(true);
    // Computed immediately before spawning: the fake clock starts when the program does, so
    // every millisecond between here and the exec is `rate` milliseconds of skew. The run's
    // client clock faults move its start (offset) and scale its rate (drift).
    let value = match faketime {
        Some(_) => faults
            .faketime(clock)
            .map_err(|e| ProcessError::Io {
                what: "clock faults".into(),
                source: std::io::Error::other(e),
            })?
            .unwrap_or_default(),
        None => String::new(),
    };
    if faketime.is_some() {
        command.arg("-f").arg(&value).arg(program);
    }
    command.args(&spec.command[1..]);
    let mut child = command.spawn().map_err(|source| ProcessError::Io {
        what: format!("cannot start {}", faketime.unwrap_or(program).display()),
        source,
    })?;
    let pid = child.id();
    let stdout = child.stdout.take().map(|s| tokio::spawn(read_tail(s)));
    let stderr = child.stderr.take().map(|s| tokio::spawn(read_tail(s)));

    let exit = match real_timeout(limit, child.wait()).await {
        Ok(Ok(status)) => Exit::Code {
            code: status.code().unwrap_or(1),
        },
        Ok(Err(source)) => {
            kill_group(pid);
            return Err(ProcessError::Io {
                what: "cannot wait for the program".into(),
                source,
            });
        }
        Err(_elapsed) => {
            kill_group(pid);
            // The wrapper itself, should the group be out of reach.
            let _ = child.start_kill();
            let _ = child.wait().await;
            Exit::TimedOut {
                limit_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
            }
        }
    };
    // Whatever it left running in its group goes too (and so its pipes close).
    kill_group(pid);
    if let Some(pid) = pid {
        remove_faketime_shm(pid);
    }
    let collect = |task: Option<tokio::task::JoinHandle<(Vec<u8>, u64)>>| async move {
        match task {
            Some(task) => match real_timeout(DRAIN_GRACE, task).await {
                Ok(Ok((bytes, total))) => OutputTail::from_bytes(&bytes, total),
                _ => OutputTail::default(),
            },
            None => OutputTail::default(),
        }
    };
    Ok(ProcessOutcome {
        command: spec.command.clone(),
        cwd: display_path(&spec.cwd),
        profile: spec.profile.as_str(),
        faketime: value,
        exit,
        timeout_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
        stdout: collect(stdout).await,
        stderr: collect(stderr).await,
        environment: None,
    })
}

/// `path` relative to the current directory when it is inside it (as scenario paths are
/// shown), else as it is.
pub(crate) fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|here| path.strip_prefix(here).ok().map(Path::to_path_buf))
        .map_or_else(
            || path.display().to_string(),
            |p| {
                if p.as_os_str().is_empty() {
                    ".".to_string()
                } else {
                    p.display().to_string()
                }
            },
        )
}

/// Reads a stream to its end, keeping the last [`OUTPUT_TAIL_BYTES`]; returns them and the
/// total read.
async fn read_tail(mut stream: impl tokio::io::AsyncRead + Unpin) -> (Vec<u8>, u64) {
    let mut kept: Vec<u8> = Vec::new();
    let mut total = 0u64;
    let mut buf = vec![0u8; 8192];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n as u64;
                kept.extend_from_slice(&buf[..n]);
                if kept.len() > 2 * OUTPUT_TAIL_BYTES {
                    kept.drain(..kept.len() - OUTPUT_TAIL_BYTES);
                }
            }
        }
    }
    if kept.len() > OUTPUT_TAIL_BYTES {
        kept.drain(..kept.len() - OUTPUT_TAIL_BYTES);
    }
    (kept, total)
}

/// SIGKILL to the program's process group (the faketime wrapper leads it).
fn kill_group(pid: Option<u32>) {
    let Some(pid) = pid
        .and_then(|p| i32::try_from(p).ok())
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    // ESRCH (nothing left) is the usual answer after a clean exit.
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

/// The faketime wrapper keeps its shared clock in POSIX shared memory named after its pid and
/// removes it when its child exits normally; when it is killed, the harness does.
fn remove_faketime_shm(pid: u32) {
    for name in [
        format!("/dev/shm/faketime_shm_{pid}"),
        format!("/dev/shm/sem.faketime_sem_{pid}"),
    ] {
        let _ = std::fs::remove_file(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    const SCENARIO: &str = r#"
name = "p"
[clock]
mode = "scaled"
rate = 360
[workload]
length = "4h"
every = "10s"
operations = ["PutObject", "GetObject"]
[[run]]
strategy = "process"
command = "sh -c true"
profile = "assume-role"
duration_seconds = 7200
expect = { passes = true }
"#;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(text, Path::new("/tmp/s.toml")).unwrap()
    }

    fn wiring(s: &Scenario) -> Wiring<'_> {
        Wiring {
            scenario: s,
            run: &s.runs[0],
            spec: s.runs[0].process.as_ref().unwrap(),
            endpoint: "http://127.0.0.1:4566".into(),
            rate: 360.0,
            seed: 3,
            home: PathBuf::from("/tmp/h"),
            token_files: Vec::new(),
            helper: None,
            packages: Vec::new(),
        }
    }

    fn env_of(w: &Wiring<'_>) -> std::collections::HashMap<String, String> {
        w.environment(OsStr::new("/usr/bin"))
            .into_iter()
            .map(|(k, v)| (k, v.to_string_lossy().into_owned()))
            .collect()
    }

    #[test]
    fn the_web_identity_profile_sets_what_the_eks_webhook_sets() {
        let text = SCENARIO
            .replace("profile = \"assume-role\"", "profile = \"web-identity\"")
            .replace(
                "duration_seconds = 7200\n",
                "role = \"arn:aws:iam::123456789012:role/pod-role\"\n",
            )
            .replace(
                "[workload]",
                "[world]\nfile = \"worlds/eks-pod.toml\"\n[workload]",
            );
        let s = Scenario::parse(
            &text,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/s.toml"),
        )
        .unwrap();
        let mut w = wiring(&s);
        w.token_files = vec![(
            "AWS_WEB_IDENTITY_TOKEN_FILE".into(),
            "/tmp/h/secrets/token".into(),
        )];
        let env = env_of(&w);
        assert_eq!(env["AWS_WEB_IDENTITY_TOKEN_FILE"], "/tmp/h/secrets/token");
        assert_eq!(
            env["AWS_ROLE_ARN"],
            "arn:aws:iam::123456789012:role/pod-role"
        );
        assert_eq!(env["AWS_ROLE_SESSION_NAME"], "pipeline");
        assert!(!w.config_file().contains(
            "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\nrole_arn"
        ));
        assert!(s.projected_token.is_some());
    }

    #[test]
    fn the_environment_wires_endpoint_files_and_parameters() {
        let s = scenario(SCENARIO);
        let env = env_of(&wiring(&s));
        assert_eq!(env["AWS_ENDPOINT_URL"], "http://127.0.0.1:4566");
        assert_eq!(env["AWS_ENDPOINT_URL_STS"], "http://127.0.0.1:4566");
        assert_eq!(env["AWS_CONFIG_FILE"], "/tmp/h/.aws/config");
        assert_eq!(
            env["AWS_SHARED_CREDENTIALS_FILE"],
            "/tmp/h/.aws/credentials"
        );
        assert_eq!(env["HOME"], "/tmp/h");
        assert_eq!(env["TZ"], "UTC");
        assert_eq!(env["FAKETIME_DONT_RESET"], "1");
        assert_eq!(env["AWS_EC2_METADATA_DISABLED"], "true");
        assert_eq!(env["STS_LAB_LENGTH_SECONDS"], "14400");
        assert_eq!(env["STS_LAB_EVERY_SECONDS"], "10");
        assert_eq!(env["STS_LAB_DURATION_SECONDS"], "7200");
        assert_eq!(env["STS_LAB_OPERATIONS"], "PutObject,GetObject");
        assert_eq!(env["STS_LAB_BUCKET"], "pipeline-data");
        assert_eq!(env["STS_LAB_RATE"], "360");
        assert_eq!(
            env["STS_LAB_ROLE_ARN"],
            "arn:aws:iam::123456789012:role/cross-account-s3"
        );
        assert!(!env.contains_key("AWS_CONTAINER_CREDENTIALS_FULL_URI"));
        assert!(!env.contains_key("AWS_ACCESS_KEY_ID"));
    }

    #[test]
    fn profiles_shape_the_config_files() {
        let s = scenario(SCENARIO);
        let w = wiring(&s);
        let config = w.config_file();
        assert!(
            config.starts_with(
                "[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\nrole_arn = arn:aws:iam::123456789012:role/cross-account-s3\nsource_profile = source\nduration_seconds = 7200\n"
            ),
            "{config}"
        );
        assert!(config.contains("[profile pipeline]"), "{config}");
        let credentials = w.credentials_file();
        assert!(
            credentials.starts_with("[source]\naws_access_key_id = AKIA"),
            "{credentials}"
        );

        let s = scenario(&SCENARIO.replace("assume-role", "static"));
        let w = wiring(&s);
        assert!(
            w.credentials_file()
                .starts_with("[default]\naws_access_key_id = AKIA")
        );
        assert!(
            !w.config_file()
                .split("[profile")
                .next()
                .unwrap()
                .contains("role_arn")
        );

        let s = scenario(&SCENARIO.replace("assume-role", "imds"));
        let w = wiring(&s);
        assert!(
            w.config_file()
                .contains("credential_source = Ec2InstanceMetadata")
        );
        let env = env_of(&w);
        assert_eq!(
            env["AWS_EC2_METADATA_SERVICE_ENDPOINT"],
            "http://127.0.0.1:4566"
        );
        assert!(!env.contains_key("AWS_EC2_METADATA_DISABLED"));

        let s = scenario(&SCENARIO.replace("assume-role", "container"));
        let env = env_of(&wiring(&s));
        assert_eq!(
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
            "http://127.0.0.1:4566/v2/credentials/6d1e8f2a-4b7c-4e9d-a3f5-0c2b9e7d1a48"
        );
    }

    #[test]
    fn the_wall_clock_limit_follows_the_workload_unless_given() {
        let s = scenario(SCENARIO);
        let spec = s.runs[0].process.as_ref().unwrap();
        // 4 h at x360 is 40 s: twice that plus a minute.
        assert_eq!(
            wall_limit(&s.workload, 360.0, spec),
            Duration::from_secs(140)
        );
        let s = scenario(&SCENARIO.replace("profile =", "timeout = \"5s\"\nprofile ="));
        let spec = s.runs[0].process.as_ref().unwrap();
        assert_eq!(wall_limit(&s.workload, 360.0, spec), Duration::from_secs(5));
        assert_eq!(
            Exit::TimedOut { limit_ms: 5000 }.describe(),
            "killed after the 5 s wall-clock limit"
        );
    }

    #[test]
    fn output_tails_keep_the_end() {
        let tail = OutputTail::from_bytes(b"a\nb\nc\nd", 100);
        assert_eq!(tail.dropped_bytes, 93);
        assert_eq!(tail.last_lines(2, 80), vec!["c", "d"]);
        assert_eq!(tail.omitted_lines(2), 2);
        let long = OutputTail::from_bytes("x".repeat(10).as_bytes(), 10);
        assert_eq!(long.last_lines(1, 4), vec!["xxxx…"]);
    }

    #[tokio::test]
    async fn read_tail_keeps_the_last_bytes_of_a_long_stream() {
        let data: Vec<u8> = (0..3 * OUTPUT_TAIL_BYTES)
            .map(|i| (i % 251) as u8)
            .collect();
        let (kept, total) = read_tail(&data[..]).await;
        assert_eq!(total, data.len() as u64);
        assert_eq!(kept, data[data.len() - OUTPUT_TAIL_BYTES..]);
    }

    #[test]
    fn programs_are_found_on_the_path() {
        assert!(find_on_path("sh", OsStr::new("/usr/bin:/bin")).is_some());
        assert!(find_on_path("no-such-program-here", OsStr::new("/usr/bin:/bin")).is_none());
        let options = ProcessOptions {
            path_prefix: vec![PathBuf::from("/opt/venv/bin")],
            harness_binary: None,
        };
        assert!(
            options
                .program_path()
                .to_string_lossy()
                .starts_with("/opt/venv/bin:")
        );
    }
}
