//! The table's rows and columns as data: the conditions (each a fault or a clock error around
//! the first expiry of a one-hour session) and the strategies (aws-sdk-rust's provider, the
//! hand-rolled wrappers, and real programs through `process`).
//!
//! Adding a column or a row is one entry here. Everything else (the scenario each condition
//! becomes, the run each cell becomes, the table, the JSON, the shards) follows from the
//! entries, in their order.

use std::path::Path;
use std::time::Duration;

use mock_sts::clock::ClockFaults;
use mock_sts::faults::{DurationSpec, EffectSpec, RuleSpec};

use crate::scenario::{DEFAULT_ROLE, Expect, ProcessSpec, ProfileKind, RunSpec, StrategyKind};

/// Where a job's role session gets its source credentials from, under a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// `role_arn` + `source_profile`: the IAM user's long-term keys.
    UserKeys,
    /// `role_arn` + `credential_source = Ec2InstanceMetadata`: the instance's role, from IMDS.
    InstanceMetadata,
}

/// What the mock does to requests under a condition: one `[[fault]]` rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// `sts`, `s3`, `imds`.
    pub service: &'static str,
    /// The actions it matches (empty: every action).
    pub actions: &'static [&'static str],
    /// The window, as durations since the run's start (`None`: the whole job).
    pub window: Option<(&'static str, &'static str)>,
    /// What happens to a matching request.
    pub effect: Effect,
}

/// A fault's effect, as a `[[fault]]` table writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `{ error = CODE }`: the service's error, with AWS's status and message.
    Error(&'static str),
    /// `{ status = N }`: a bare status (the metadata endpoints have no error codes).
    Status(u16),
    /// `{ latency = "8s" }`: this long in flight, then the normal answer.
    Latency(&'static str),
}

/// A row: one condition every strategy runs under.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Condition {
    /// The name `--condition` takes and the JSON uses.
    pub name: &'static str,
    /// What it is, in a few words (the row's title in Markdown).
    pub label: &'static str,
    /// The mock's fault, if any.
    pub fault: Option<Fault>,
    /// How far the client's clock is from the server's, seconds (negative: behind).
    pub clock_offset_seconds: f64,
    /// Where the session's source credentials come from.
    pub source: Source,
}

/// How a strategy's cells run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// aws-sdk-rust in process on the virtual clock: `user_keys` under the usual conditions,
    /// `instance_metadata` when the source is IMDS (`None`: the strategy has no such variant,
    /// and `no_imds` says why).
    InProcess {
        /// The strategy with the user's keys as source.
        user_keys: StrategyKind,
        /// The strategy with instance metadata as source.
        instance_metadata: Option<StrategyKind>,
        /// Why there is none, when there is none.
        no_imds: &'static str,
    },
    /// A program run through `process` under libfaketime on the scaled clock, in the clients
    /// folder, with `profile = "assume-role"` (or `"imds"` when the source is IMDS): the
    /// program's SDK builds its credentials from the generated config, as a real job's does.
    Program {
        /// The interpreter, looked up on the program's `PATH` (a venv's first).
        interpreter: &'static str,
        /// The script, relative to the clients folder.
        script: &'static str,
    },
}

/// A column: one way of getting credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strategy {
    /// The name `--strategy` takes, the column's header and the JSON's.
    pub name: &'static str,
    /// What it is, in a few words.
    pub label: &'static str,
    /// How its cells run.
    pub client: Client,
}

/// The rows, in order: each around the first expiry (1h) of a one-hour session.
pub const CONDITIONS: [Condition; 6] = [
    Condition {
        name: "healthy",
        label: "healthy",
        fault: None,
        clock_offset_seconds: 0.0,
        source: Source::UserKeys,
    },
    // A fleet refreshing at once against the account's quota: scenario 30.
    Condition {
        name: "sts-throttled",
        label: "STS Throttling 55m-1h10m",
        fault: Some(Fault {
            service: "sts",
            actions: &["AssumeRole"],
            window: Some(("55m", "1h10m")),
            effect: Effect::Error("Throttling"),
        }),
        clock_offset_seconds: 0.0,
        source: Source::UserKeys,
    },
    // A regional STS outage across the expiry: scenario 31.
    Condition {
        name: "sts-down",
        label: "STS ServiceUnavailable 50m-1h10m",
        fault: Some(Fault {
            service: "sts",
            actions: &["AssumeRole"],
            window: Some(("50m", "1h10m")),
            effect: Effect::Error("ServiceUnavailable"),
        }),
        clock_offset_seconds: 0.0,
        source: Source::UserKeys,
    },
    // Instance metadata gone across the refresh: scenario 32. Only strategies that can take
    // their source credentials from IMDS run here.
    Condition {
        name: "imds-down",
        label: "IMDS 503 50m-1h10m (source: IMDS)",
        fault: Some(Fault {
            service: "imds",
            actions: &[],
            window: Some(("50m", "1h10m")),
            effect: Effect::Status(503),
        }),
        clock_offset_seconds: 0.0,
        source: Source::InstanceMetadata,
    },
    // A slow link for the whole job rather than a spike at the expiry (scenario 33 has the
    // spike): every strategy meets the same delay from its first request, including at
    // start-up and at every expiry, whenever its own refresh happens to fall. 8 s sits inside
    // aws-sdk-rust's 5-10 s refresh buffer, so whether a request signed just before the
    // renewal arrives after the expiry depends on the buffer's jitter.
    Condition {
        name: "s3-latency-8s",
        label: "S3 8 s in flight (whole job)",
        fault: Some(Fault {
            service: "s3",
            actions: &[],
            window: None,
            effect: Effect::Latency("8s"),
        }),
        clock_offset_seconds: 0.0,
        source: Source::UserKeys,
    },
    // Inside AWS's 15-minute signing tolerance, so nothing is refused for its time: what is
    // left is the client misjudging expiry by 10 minutes (scenario 34).
    Condition {
        name: "clock-behind-10m",
        label: "client clock 10 min behind",
        fault: None,
        clock_offset_seconds: -600.0,
        source: Source::UserKeys,
    },
];

/// The columns, in order. A program's column is there when its script is in the clients
/// folder (the JS client lives in `clients/js/`, with `node_modules` installed by
/// `scripts/test`).
pub const STRATEGIES: [Strategy; 6] = [
    Strategy {
        name: "sdk-profile",
        label: "aws-sdk-rust's provider (sdk-imds under imds-down)",
        client: Client::InProcess {
            user_keys: StrategyKind::SdkProfile,
            instance_metadata: Some(StrategyKind::SdkImds),
            no_imds: "",
        },
    },
    Strategy {
        name: "spec-refresh",
        label: "the 2026 refresh rules over aws-config's profile provider (spec-refresh-imds under imds-down)",
        client: Client::InProcess {
            user_keys: StrategyKind::SpecRefresh,
            instance_metadata: Some(StrategyKind::SpecRefreshImds),
            no_imds: "",
        },
    },
    Strategy {
        name: "naive-refresh",
        label: "hand-rolled cache, AssumeRole again once expired",
        client: Client::InProcess {
            user_keys: StrategyKind::NaiveRefresh,
            instance_metadata: None,
            no_imds: "naive-refresh assumes its role with the IAM user's keys: it has no instance-metadata variant",
        },
    },
    Strategy {
        name: "manual-env",
        label: "keys from one AssumeRole, kept",
        client: Client::InProcess {
            user_keys: StrategyKind::ManualEnv,
            instance_metadata: None,
            no_imds: "manual-env assumes its role once with the IAM user's keys: it has no instance-metadata variant",
        },
    },
    Strategy {
        name: "boto3",
        label: "boto3 on the profile (botocore's provider), through process",
        client: Client::Program {
            interpreter: "python3",
            script: "config_provider.py",
        },
    },
    Strategy {
        name: "js-v3",
        label: "JS v3 default chain on the profile, through process",
        client: Client::Program {
            interpreter: "node",
            script: "js/default-chain.mjs",
        },
    },
];

/// The job every cell runs: PutObject every 10 s for 2 hours, one worker.
pub const JOB_LENGTH: Duration = Duration::from_secs(2 * 3600);
/// The pause between rounds.
pub const JOB_EVERY: Duration = Duration::from_secs(10);
/// Each in-process pause varies by up to this fraction either way (seeded: 9-11 s). On the
/// virtual clock the start-up AssumeRole takes no time, so without it every tenth minute's
/// call would land exactly on the expiry and a strategy's refresh buffer would never show;
/// programs drift on their own (their start-up and every call take real time).
pub const JOB_JITTER: f64 = 0.1;
/// The seed of every cell (SDK jitter, keys, request ids).
pub const SEED: u64 = 7;
/// The scaled clock's rate for program cells: a 2-hour job in 20 s of wall time.
pub const PROCESS_RATE: f64 = 360.0;

impl Fault {
    /// The `[[fault]]` rule, as a scenario file would write it.
    pub fn rule_spec(&self) -> RuleSpec {
        let effect = match self.effect {
            Effect::Error(code) => EffectSpec {
                error: Some(code.to_string()),
                ..EffectSpec::default()
            },
            Effect::Status(status) => EffectSpec {
                status: Some(status),
                ..EffectSpec::default()
            },
            Effect::Latency(text) => EffectSpec {
                latency: Some(DurationSpec::Text(text.to_string())),
                ..EffectSpec::default()
            },
        };
        RuleSpec {
            service: self.service.to_string(),
            actions: (!self.actions.is_empty())
                .then(|| self.actions.iter().map(|a| (*a).to_string()).collect()),
            from: self.window.map(|(from, _)| from.to_string()),
            until: self.window.map(|(_, until)| until.to_string()),
            effect: Some(effect),
            ..RuleSpec::default()
        }
    }
}

impl Strategy {
    /// Whether its cells run a program (on the scaled clock).
    pub fn is_program(&self) -> bool {
        matches!(self.client, Client::Program { .. })
    }

    /// The run this strategy makes under `condition`, or why it has none (n/a). Programs run
    /// in `clients`.
    pub fn run_spec(&self, condition: &Condition, clients: &Path) -> Result<RunSpec, String> {
        let imds = condition.source == Source::InstanceMetadata;
        let (strategy, process) = match self.client {
            Client::InProcess {
                user_keys,
                instance_metadata,
                no_imds,
            } => match (imds, instance_metadata) {
                (false, _) => (user_keys, None),
                (true, Some(kind)) => (kind, None),
                (true, None) => return Err(no_imds.to_string()),
            },
            Client::Program {
                interpreter,
                script,
            } => (
                StrategyKind::Process,
                Some(ProcessSpec {
                    command: vec![interpreter.to_string(), script.to_string()],
                    cwd: clients.to_path_buf(),
                    profile: if imds {
                        ProfileKind::Imds
                    } else {
                        ProfileKind::AssumeRole
                    },
                    timeout: None,
                    packages: None,
                    client: None,
                    refresh_window: None,
                }),
            ),
        };
        Ok(RunSpec {
            name: self.name.to_string(),
            strategy,
            role_arn: DEFAULT_ROLE.to_string(),
            duration_seconds: None,
            source: None,
            process,
            clock_faults: ClockFaults {
                offset_seconds: condition.clock_offset_seconds,
                ..ClockFaults::default()
            },
            // Measure only: a compare run has nothing to meet, and no check is ever made.
            expect: Expect::default(),
            line: 0,
        })
    }
}

/// The condition named `name`.
pub fn condition(name: &str) -> Option<&'static Condition> {
    CONDITIONS.iter().find(|c| c.name == name)
}

/// The strategy named `name`.
pub fn strategy(name: &str) -> Option<&'static Strategy> {
    STRATEGIES.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use mock_sts::faults::TimeBase;

    use super::*;

    #[test]
    fn every_fault_is_a_valid_rule() {
        for c in CONDITIONS {
            if let Some(fault) = c.fault {
                let rule = fault.rule_spec().validate(TimeBase::SinceStart(
                    mock_sts::clock::default_virtual_start(),
                ));
                assert!(rule.is_ok(), "{}: {rule:?}", c.name);
            }
        }
    }

    #[test]
    fn names_are_unique_and_found() {
        for c in CONDITIONS {
            assert_eq!(condition(c.name), Some(&c));
        }
        for s in STRATEGIES {
            assert_eq!(strategy(s.name), Some(&s));
        }
        assert_eq!(condition("sunny"), None);
    }

    #[test]
    fn imds_rows_use_instance_metadata_or_say_why_not() {
        let imds = condition("imds-down").unwrap();
        let clients = Path::new("clients");
        let sdk = strategy("sdk-profile").unwrap().run_spec(imds, clients);
        assert_eq!(sdk.unwrap().strategy, StrategyKind::SdkImds);
        let boto3 = strategy("boto3").unwrap().run_spec(imds, clients).unwrap();
        assert_eq!(boto3.process.unwrap().profile, ProfileKind::Imds);
        let manual = strategy("manual-env").unwrap().run_spec(imds, clients);
        assert!(manual.unwrap_err().contains("instance-metadata"));
    }
}
