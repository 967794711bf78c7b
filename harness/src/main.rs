//! `sts-harness`: run, check or list scenario files, compare every strategy under the same
//! conditions (`compare`, in `compare_cli`), or run the conformance pack against one client
//! (`conformance`, in `conformance_cli`).
//!
//! Exit status: 0 when every run met its expectation, 1 when any departed, 2 on bad input
//! (unreadable or invalid scenario files, bad flags, `process` runs without libfaketime's
//! `faketime` or on a virtual clock). `compare`: 0 every cell ran, 1 a cell could not run.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

mod compare_cli;
mod conformance_cli;

use clap::{Args, Parser, Subcommand};
use sts_harness::partition::Partition;
use sts_harness::process::{self, ProcessOptions};
use sts_harness::report::{self, ScenarioReport};
use sts_harness::runner;
use sts_harness::scenario::{self, ClockSpec, Scenario, StrategyKind};
use sts_harness::timeline;

#[derive(Parser)]
#[command(
    name = "sts-harness",
    version,
    about = "Replay credential-expiry scenarios against real AWS SDK strategies on mock-sts",
    after_help = "Exit status: 0 every run met its expectation, 1 a run departed, 2 bad input.\n\n`process` runs start their program under libfaketime's `faketime` (found on PATH);\nSTS_LAB_VENV=DIR puts DIR/bin first on the program's PATH."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run scenario files (or every *.toml in the given directories).
    Run(RunArgs),
    /// Validate scenario files without running them.
    Check {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// The fault-tolerance table: every strategy under the same conditions (exit 0 when every
    /// cell ran, 1 when one could not run, 2 on bad flags).
    Compare(compare_cli::CompareArgs),
    /// The conformance pack: every scenario of scenarios/conformance against one client, and
    /// the 2026 refresh rules rule by rule (exit 0 no rule failed, 1 one did, 2 bad input).
    Conformance(conformance_cli::ConformanceArgs),
    /// List the scenarios and their runs.
    List {
        /// Scenario files or directories.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// The `credential_process` helper of `profile = "credential-process"` runs: one
    /// AssumeRole, printed as the JSON SDKs read from a credential process (exit 1 on failure).
    CredentialProcess(HelperFlags),
}

/// What `credential-process` takes (the harness writes these into the run's profile).
#[derive(Args)]
struct HelperFlags {
    /// The mock's endpoint URL.
    #[arg(long)]
    endpoint: String,
    /// The role to assume.
    #[arg(long)]
    role_arn: String,
    /// The user's access key id.
    #[arg(long)]
    access_key_id: String,
    /// Its secret.
    #[arg(long)]
    secret_access_key: String,
    /// DurationSeconds to ask for.
    #[arg(long)]
    duration_seconds: Option<u32>,
}

/// Prints the credential process JSON, or the error on stderr (exit 1), as SDKs expect.
fn credential_process(flags: HelperFlags) -> ExitCode {
    let args = sts_harness::credential_process::HelperArgs {
        endpoint: flags.endpoint,
        role_arn: flags.role_arn,
        access_key_id: flags.access_key_id,
        secret_access_key: flags.secret_access_key,
        duration_seconds: flags.duration_seconds,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start a runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(sts_harness::credential_process::fetch(&args)) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// What `run` takes.
#[derive(Args)]
struct RunArgs {
    /// Scenario files or directories.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Only the run with this name.
    #[arg(long = "run", value_name = "NAME")]
    run_name: Option<String>,
    /// Override every scenario's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Override every scenario's clock: virtual | scaled:RATE | compressed:K.
    #[arg(long, value_name = "CLOCK")]
    clock: Option<String>,
    /// Write the JSON report to FILE (`-` for standard output; the table then goes to stderr).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Write the timeline picture to FILE (one self-contained HTML file: a lane per run).
    #[arg(long, value_name = "FILE")]
    timeline: Option<PathBuf>,
    /// Run only shard K of N of the scenario × run matrix (`K/N`, e.g. `2/3`; every run is in
    /// exactly one shard): for CI jobs that share a catalog.
    #[arg(long, value_name = "K/N")]
    partition: Option<String>,
}

/// An error that means bad input: exit 2.
struct BadInput(String);

fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, BadInput> {
    let files = scenario::discover(paths).map_err(|e| BadInput(e.to_string()))?;
    if files.is_empty() {
        return Err(BadInput("no scenario files (*.toml) found".into()));
    }
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for file in files {
        match Scenario::load(&file) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(BadInput(errors.join("\nerror: ")))
    }
}

fn progress(total: usize) -> Option<indicatif::ProgressBar> {
    // Only for a person at a terminal; CI logs get the table alone.
    if !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Some(bar)
}

fn write_output(path: &PathBuf, text: &str) -> Result<(), BadInput> {
    std::fs::write(path, text)
        .map_err(|e| BadInput(format!("cannot write {}: {e}", path.display())))
}

fn run(args: &RunArgs) -> Result<bool, BadInput> {
    let run_name = args.run_name.as_deref();
    let clock = args
        .clock
        .as_deref()
        .map(ClockSpec::parse)
        .transpose()
        .map_err(|e| BadInput(format!("--clock: {e}")))?;
    let partition: Option<Partition> = args
        .partition
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| BadInput(format!("--partition: {e}")))?;
    let scenarios = load_all(&args.paths)?;
    if let Some(name) = run_name
        && !scenarios
            .iter()
            .any(|s| s.runs.iter().any(|r| r.is_named(name)))
    {
        return Err(BadInput(format!(
            "--run: no scenario has a run named `{name}`"
        )));
    }
    // `--run NAME` also selects every row of the version matrix of the run named NAME.
    let keep = |s: &Scenario, name: &str| {
        run_name.is_none_or(|wanted| s.runs.iter().any(|r| r.name == name && r.is_named(wanted)))
    };
    let scenarios = match partition {
        Some(p) => p.select(&scenarios, keep),
        None => scenarios,
    };
    // Process runs need libfaketime and a clock a program can follow: say so before anything runs.
    let mut options = ProcessOptions::from_env();
    // This binary is the `credential_process` helper, whatever its file is called.
    if options.harness_binary.is_none() {
        options.harness_binary = std::env::current_exe().ok();
    }
    let process_runs: Vec<(&Scenario, &scenario::RunSpec)> = scenarios
        .iter()
        .flat_map(|s| s.runs.iter().map(move |r| (s, r)))
        .filter(|(_, r)| r.strategy == StrategyKind::Process)
        .filter(|(s, r)| keep(s, &r.name))
        .collect();
    // A compressed clock from the command line meets lifetimes the scenario did not plan
    // for: the same check as a compressed scenario's, naming file, line and key.
    if let Some(k) = clock.and_then(|c| c.compression()) {
        for s in &scenarios {
            if let Err(p) = scenario::check_compression(s, k) {
                let line = scenario::problem_line(s, &p);
                return Err(BadInput(format!(
                    "--clock compressed:{k}: {}:{line}: {}",
                    s.path.display(),
                    p.message
                )));
            }
        }
    }
    // Programs on a compressed clock run on the real clock, without faketime.
    let needs_faketime = process_runs
        .iter()
        .any(|(s, _)| clock.unwrap_or(s.clock).compression().is_none());
    if let Some((s, r)) = process_runs.first() {
        if clock == Some(ClockSpec::Virtual) {
            return Err(BadInput(format!(
                "--clock virtual: {}:{}: run `{}` runs a program, which needs a scaled clock (--clock scaled:RATE) or a compressed one (--clock compressed:K)",
                s.path.display(),
                r.line,
                r.name
            )));
        }
        if needs_faketime {
            process::find_faketime(&options).map_err(|e| BadInput(e.to_string()))?;
        }
    }
    if let Some(p) = partition {
        let runs: usize = scenarios.iter().map(|s| s.runs.len()).sum();
        eprintln!(
            "partition {p}: {runs} run(s) of {} scenario(s)",
            scenarios.len()
        );
    }
    let bar = progress(scenarios.len());
    let mut reports: Vec<ScenarioReport> = Vec::new();
    let mut lanes = Vec::new();
    for s in &scenarios {
        if let Some(bar) = &bar {
            bar.set_message(s.name.clone());
        }
        // A timeline draws every event; the reports need only the runs' tallies.
        let keep = if args.timeline.is_some() {
            runner::Keep::Everything
        } else {
            runner::Keep::WhatMetricsNeed
        };
        let results = runner::run_scenario_keeping(s, run_name, clock, args.seed, &options, keep);
        if !results.is_empty() {
            let scenario_report = report::scenario_report(s, &results);
            if args.timeline.is_some() {
                lanes.extend(timeline::scenario_lanes(s, &results, &scenario_report));
            }
            reports.push(scenario_report);
        }
        if let Some(bar) = &bar {
            bar.inc(1);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let report = report::report(reports);
    let table = report::table(&report);
    let json_text = serde_json::to_string_pretty(&report)
        .map_err(|e| BadInput(format!("cannot serialise the report: {e}")))?;
    match &args.json {
        Some(p) if p.as_os_str() == "-" => {
            eprint!("{table}");
            emit(&format!("{json_text}\n"));
        }
        Some(p) => {
            emit(&table);
            write_output(p, &json_text)?;
        }
        None => emit(&table),
    }
    if let Some(p) = &args.junit {
        let xml = report::junit(&report)
            .map_err(|e| BadInput(format!("cannot serialise the JUnit report: {e}")))?;
        write_output(p, &xml)?;
    }
    if let Some(p) = &args.timeline {
        let title = match partition {
            Some(part) => format!("sts-harness timeline (partition {part})"),
            None => "sts-harness timeline".to_string(),
        };
        write_output(p, &timeline::render(&title, &lanes))?;
    }
    Ok(report.summary.departed == 0)
}

/// Writes to standard output. A reader that went away (`sts-harness list | head`) is not an
/// error worth a panic: the rest is dropped and the exit status still says what happened.
fn emit(text: &str) {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("error: cannot write to standard output: {e}"),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STS_HARNESS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let outcome = match cli.command {
        Command::CredentialProcess(flags) => return credential_process(flags),
        Command::Run(args) => run(&args),
        Command::Compare(args) => compare_cli::compare(&args),
        Command::Conformance(args) => conformance_cli::conformance(&args),
        Command::Check { paths } => load_all(&paths).map(|scenarios| {
            let mut out = String::new();
            for s in &scenarios {
                let _ = writeln!(out, "{}: ok ({} run(s))", s.path.display(), s.runs.len());
            }
            emit(&out);
            true
        }),
        Command::List { paths } => load_all(&paths).map(|scenarios| {
            let mut out = String::new();
            for s in &scenarios {
                let _ = writeln!(
                    out,
                    "{}  {}  [{}]",
                    s.path.display(),
                    s.name,
                    s.clock.label()
                );
                for rule in &s.faults {
                    let service = rule.service.map_or("*".to_string(), |v| v.to_string());
                    let _ = writeln!(out, "  fault: {service} {}", rule.kind.label());
                }
                for r in &s.revocations {
                    let _ = writeln!(
                        out,
                        "  revoke: {} at {}",
                        r.role_arn,
                        sts_harness::metrics::hms(r.at.as_secs_f64())
                    );
                }
                for r in &s.runs {
                    let clock = if r.clock_faults.is_none() {
                        String::new()
                    } else {
                        format!(
                            "  (client clock: {})",
                            report::clock_faults_label(&r.clock_faults)
                        )
                    };
                    let _ = match &r.process {
                        Some(p) => writeln!(
                            out,
                            "  {:<16} {}: {}{clock}",
                            r.name,
                            r.strategy.as_str(),
                            p.command.join(" ")
                        ),
                        None => writeln!(out, "  {:<16} {}{clock}", r.name, r.strategy.as_str()),
                    };
                }
            }
            emit(&out);
            true
        }),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(BadInput(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
