//! `sts-harness compare`: the binary's side of the fault-tolerance table (flags, progress,
//! output); the table itself is [`sts_harness::compare`].
//!
//! Exit status: 0 when every cell ran (or does not apply), 1 when a cell could not run (its
//! client never reached the server: a missing program, a harness start-up error), 2 on bad
//! flags or program cells without libfaketime's `faketime`.

use std::path::PathBuf;

use clap::Args;
use sts_harness::compare::{self, Plan};
use sts_harness::partition::Partition;
use sts_harness::process::ProcessOptions;

use super::{BadInput, emit, progress, write_output};

/// What `compare` takes.
#[derive(Args)]
pub(crate) struct CompareArgs {
    /// Only this condition (repeatable): healthy, sts-throttled, sts-down, imds-down,
    /// s3-latency-8s, clock-behind-10m.
    #[arg(long = "condition", value_name = "NAME")]
    conditions: Vec<String>,
    /// Only this strategy (repeatable): sdk-profile, spec-refresh, naive-refresh, manual-env,
    /// boto3, js-v3.
    #[arg(long = "strategy", value_name = "NAME")]
    strategies: Vec<String>,
    /// Write the JSON table to FILE (`-` for standard output; the table then goes to stderr).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the table as Markdown to FILE (`-` for standard output, instead of the grid).
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
    /// Run only shard K of N of the condition × strategy matrix (`K/N`; every cell is in
    /// exactly one shard).
    #[arg(long, value_name = "K/N")]
    partition: Option<String>,
    /// The folder the example clients are in (programs run there).
    #[arg(long, value_name = "DIR", default_value = "scenarios/clients")]
    clients: PathBuf,
}

/// Runs the table; `Ok(false)` when a cell could not run.
pub(crate) fn compare(args: &CompareArgs) -> Result<bool, BadInput> {
    let partition: Option<Partition> = args
        .partition
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e| BadInput(format!("--partition: {e}")))?;
    if args
        .json
        .as_ref()
        .zip(args.markdown.as_ref())
        .is_some_and(|(j, m)| j.as_os_str() == "-" && m.as_os_str() == "-")
    {
        return Err(BadInput(
            "--json - and --markdown -: only one of them can have standard output".into(),
        ));
    }
    let options = ProcessOptions::from_env();
    let plan = Plan::new(
        &args.conditions,
        &args.strategies,
        partition,
        &args.clients,
        &options,
    )
    .map_err(|e| BadInput(e.to_string()))?;
    if let Some(p) = partition {
        eprintln!("partition {p}: {} cell(s)", plan.cells.len());
    }
    let bar = progress(plan.cells.len());
    let table = compare::run(&plan, &options, |cell| {
        if let Some(bar) = &bar {
            bar.set_message(format!("{} / {}", cell.condition, cell.strategy));
            bar.inc(1);
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let grid = compare::terminal(&table);
    let json = serde_json::to_string_pretty(&table)
        .map_err(|e| BadInput(format!("cannot serialise the table: {e}")))?;
    let to_stdout = |p: &Option<PathBuf>| p.as_ref().is_some_and(|p| p.as_os_str() == "-");
    if to_stdout(&args.json) || to_stdout(&args.markdown) {
        eprint!("{grid}");
    } else {
        emit(&grid);
    }
    match &args.json {
        Some(p) if p.as_os_str() == "-" => emit(&format!("{json}\n")),
        Some(p) => write_output(p, &json)?,
        None => {}
    }
    match &args.markdown {
        Some(p) if p.as_os_str() == "-" => emit(&compare::markdown(&table)),
        Some(p) => write_output(p, &compare::markdown(&table))?,
        None => {}
    }
    Ok(table.summary.did_not_run == 0)
}
