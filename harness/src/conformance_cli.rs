//! `sts-harness conformance`: the binary's side of the conformance pack (flags, output); the
//! pack itself is [`sts_harness::conformance::pack`].
//!
//! Exit status: 0 when no rule failed, 1 when one did, 2 on bad flags, an invalid pack, or a
//! program without libfaketime's `faketime`.

use std::path::PathBuf;

use clap::Args;
use sts_harness::conformance::pack::{self, Subject};
use sts_harness::process::{self, ProcessOptions};
use sts_harness::report;

use super::{BadInput, emit, write_output};

/// What `conformance` takes.
#[derive(Args)]
pub(crate) struct ConformanceArgs {
    /// The client under test: an in-process strategy (sdk-profile, spec-refresh, sdk-imds,
    /// naive-refresh, manual-env, …) or a program preset (boto3, js-v3, aws-cli).
    #[arg(long, value_name = "NAME", conflicts_with = "command")]
    strategy: Option<String>,
    /// Any program, run in the current folder on the harness's profile (`assume-role`, or
    /// `imds` for the instance-metadata scenarios), e.g. "python3 my_job.py".
    #[arg(long, value_name = "COMMAND")]
    command: Option<String>,
    /// The pack: a folder of scenario files.
    #[arg(long, value_name = "DIR", default_value = "scenarios/conformance")]
    pack: PathBuf,
    /// The folder the example clients are in (presets run there).
    #[arg(long, value_name = "DIR", default_value = "scenarios/clients")]
    clients: PathBuf,
    /// Write the JSON result to FILE (`-` for standard output; the table then goes to stderr).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a JUnit XML report to FILE: a testcase per run and per rule (not applicable:
    /// skipped, with why).
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

/// Runs the pack; `Ok(false)` when a rule failed.
pub(crate) fn conformance(args: &ConformanceArgs) -> Result<bool, BadInput> {
    let subject = match (&args.strategy, &args.command) {
        (Some(name), None) => {
            Subject::named(name, &args.clients).map_err(|e| BadInput(e.to_string()))?
        }
        (None, Some(command)) if !command.trim().is_empty() => {
            Subject::program(command, std::path::Path::new("."))
        }
        _ => {
            return Err(BadInput(
                "name the client: --strategy NAME or --command \"PROGRAM ARGS\"".into(),
            ));
        }
    };
    let scenarios = pack::load(&args.pack).map_err(|e| BadInput(e.to_string()))?;
    let mut options = ProcessOptions::from_env();
    if options.harness_binary.is_none() {
        options.harness_binary = std::env::current_exe().ok();
    }
    if matches!(subject, Subject::Program { .. }) {
        process::find_faketime(&options).map_err(|e| BadInput(e.to_string()))?;
    }
    let result = pack::run(&subject, &scenarios, &options);
    let table = pack::render(&result);
    match &args.json {
        Some(p) if p.as_os_str() == "-" => {
            eprint!("{table}");
            let json = serde_json::to_string_pretty(&result)
                .map_err(|e| BadInput(format!("cannot serialise the result: {e}")))?;
            emit(&format!("{json}\n"));
        }
        Some(p) => {
            emit(&table);
            let json = serde_json::to_string_pretty(&result)
                .map_err(|e| BadInput(format!("cannot serialise the result: {e}")))?;
            write_output(p, &json)?;
        }
        None => emit(&table),
    }
    if let Some(p) = &args.junit {
        let xml = report::junit(&result.report)
            .map_err(|e| BadInput(format!("cannot serialise the JUnit report: {e}")))?;
        write_output(p, &xml)?;
    }
    Ok(result.conforms())
}
