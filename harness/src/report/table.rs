//! The terminal table: one row per run, then what departed and why (failed checks, the
//! explanation, the SDK's log lines, a program's output).

use std::fmt::Write as _;

use super::{Report, RunReport};
use crate::metrics::{self, hms};
use crate::process::{OutputTail, ProcessOutcome};

/// The terminal table (and explanations).
pub fn table(report: &Report) -> String {
    let header = [
        "run",
        "verdict",
        "requests",
        "failures",
        "client-only",
        "first failure",
        "STS",
        "refreshes",
        "lead min/med",
        "refresh latency p50/p99",
    ];
    let mut out = String::new();
    for s in &report.scenarios {
        let _ = writeln!(
            out,
            "{}  ({}, seed {}, {})",
            s.name, s.file, s.seed, s.clock
        );
        if let Some(k) = s.compression {
            let _ = writeln!(
                out,
                "  lifetimes and durations divided by {k} on the real clock; times below are the scenario's: measured × {k}"
            );
        }
        let rows: Vec<[String; 10]> = s
            .runs
            .iter()
            .map(|r| {
                let m = &r.metrics;
                [
                    r.name.clone(),
                    if r.met() {
                        "ok".into()
                    } else {
                        "DEPARTED".into()
                    },
                    m.requests.to_string(),
                    m.failures.values().sum::<u64>().to_string(),
                    if m.calls == 0 {
                        "-".into()
                    } else {
                        m.client_failures.values().sum::<u64>().to_string()
                    },
                    match (&r.startup_error, &m.first_failure) {
                        (_, Some(f)) => format!("{} +{}", f.code, hms(f.at_seconds)),
                        (Some(_), None) => "start-up".into(),
                        (None, None) => "-".into(),
                    },
                    m.sts_calls.to_string(),
                    m.refreshes.to_string(),
                    match (m.refresh_lead_min_seconds, m.refresh_lead_median_seconds) {
                        (Some(a), Some(b)) => format!("{a:.1}s/{b:.1}s"),
                        _ => "-".into(),
                    },
                    m.refresh_latency_sim_ms
                        .as_ref()
                        .map_or("-".into(), |p| format!("{:.0}/{:.0} ms", p.p50, p.p99)),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut l = String::from("  ");
            for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
                let pad = w - cell.chars().count();
                if (2..=4).contains(&i) || (6..=7).contains(&i) {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(cell);
                } else {
                    l.push_str(cell);
                    l.push_str(&" ".repeat(pad));
                }
                l.push_str("  ");
            }
            l.trim_end().to_string()
        };
        let _ = writeln!(out, "{}", line(&header.map(String::from)));
        for row in &rows {
            let _ = writeln!(out, "{}", line(row));
        }
        for r in &s.runs {
            if !r.met() {
                for c in r.checks.iter().filter(|c| !c.ok) {
                    let _ = writeln!(
                        out,
                        "  ! {}: {} expected {}, got {}",
                        r.name, c.what, c.expected, c.actual
                    );
                }
                let _ = writeln!(out, "    rerun: {}", r.rerun);
            }
            if let Some(text) = &r.explanation {
                let _ = writeln!(out, "  {}: {}", r.name, text);
            }
            if let Some(line) = failure_line(r) {
                let _ = writeln!(out, "  {}: {line}", r.name);
            }
            if let Some(skew) = &r.metrics.signing_skew {
                let _ = writeln!(
                    out,
                    "  {}: client clock {}: requests signed {:+} s from the server's time at first, {:+} s at the end (median {:+} s; {} refused for their time)",
                    r.name,
                    r.client_clock,
                    skew.first_seconds.round() as i64,
                    skew.last_seconds.round() as i64,
                    skew.median_seconds.round() as i64,
                    skew.skew_errors
                );
            }
            if let Some(c) = &r.metrics.conformance {
                for rule in &c.rules {
                    let _ = writeln!(
                        out,
                        "  {}: {:<26} {:<4}  {}",
                        r.name,
                        rule.rule.as_str(),
                        rule.verdict.short(),
                        rule.reason
                    );
                }
            }
            if !r.met() {
                for l in r.sdk_log.iter().take(TABLE_LOG_LINES) {
                    let _ = writeln!(
                        out,
                        "    sdk {} {} (×{}, first at +{}): {}",
                        l.level,
                        l.target,
                        l.count,
                        hms(l.first_at_seconds),
                        l.message
                    );
                }
            }
            if let Some(line) = versions_line(r) {
                let _ = writeln!(out, "  {}: {line}", r.name);
            }
            for warning in &r.compression_warnings {
                let _ = writeln!(out, "  {}: warning: {warning}", r.name);
            }
            if let Some(process) = &r.process {
                process_lines(&mut out, r, process);
                continue;
            }
            if let Some(fid) = &r.metrics.fidelity {
                let against = match fid.expiry_margin_seconds {
                    Some(m) => {
                        format!("no refresh buffer; closest request {m:.2} s from its keys' expiry")
                    }
                    None => format!("refresh buffer {:.0} s", fid.refresh_buffer_seconds),
                };
                let _ = writeln!(
                    out,
                    "  {}: fidelity: longest call spanned {:.2} simulated s ({against}){}",
                    r.name,
                    fid.max_call_span_seconds,
                    if fid.could_decide_verdict {
                        " — the clock's speed could decide this verdict"
                    } else {
                        ""
                    }
                );
            }
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} scenario(s), {} run(s): {} met, {} departed",
        report.summary.scenarios, report.summary.runs, report.summary.met, report.summary.departed
    );
    out
}

/// A version matrix row's environment: `environment target/sts-lab-envs/py-boto3-1.35.99
/// (botocore 1.35.99; reused)`, or why it could not be installed.
fn versions_line(r: &RunReport) -> Option<String> {
    let set = r.versions.as_ref()?;
    let Some(env) = r.process.as_ref().and_then(|p| p.environment.as_ref()) else {
        return Some(match &r.startup_error {
            Some(e) => format!("no environment: {e}"),
            None => format!("no environment for {}", set.label()),
        });
    };
    // What the named packages brought along that decides refresh behaviour (botocore under
    // boto3, the default chain and cores under a JS v3 client), besides what was named.
    let brought: Vec<String> = std::iter::once("botocore")
        .chain(crate::environments::NODE_BROUGHT)
        .filter(|name| set.packages.iter().all(|p| p.name != *name))
        .filter_map(|name| env.installed.get(name).map(|v| format!("{name} {v}")))
        .collect();
    Some(format!(
        "environment {} ({}{})",
        crate::process::display_path(&env.dir),
        if brought.is_empty() {
            String::new()
        } else {
            format!("{}; ", brought.join(", "))
        },
        env.how()
    ))
}

/// SDK log lines the table shows for a departed run.
const TABLE_LOG_LINES: usize = 3;

/// `failures: server ExpiredToken×2160 · client-only timeout×1347`, when the run has failures
/// of more than one code or kind; a single code is already in the table's first-failure column.
fn failure_line(r: &RunReport) -> Option<String> {
    let m = &r.metrics;
    let server: Vec<String> = m.failures.iter().map(|(c, n)| format!("{c}×{n}")).collect();
    let client: Vec<String> = m
        .client_failures
        .iter()
        .map(|(c, n)| format!("{c}×{n}"))
        .collect();
    let injected: Vec<String> = m
        .injected_failures
        .iter()
        .map(|(c, n)| format!("{c}×{n}"))
        .collect();
    if server.len() + client.len() < 2 && client.is_empty() && injected.is_empty() {
        return None;
    }
    let mut parts = Vec::new();
    if !server.is_empty() {
        parts.push(format!("server {}", server.join(", ")));
    }
    if !client.is_empty() {
        parts.push(format!(
            "client-only {} (of {} calls)",
            client.join(", "),
            metrics::thousands(m.calls)
        ));
    }
    if !injected.is_empty() {
        parts.push(format!("injected {}", injected.join(", ")));
    }
    Some(format!("failures: {}", parts.join(" · ")))
}

/// Lines of program output the table shows for a departed `process` run, per stream.
const TABLE_OUTPUT_LINES: usize = 20;
/// Characters kept of each output line.
const OUTPUT_LINE_WIDTH: usize = 240;

/// A `process` run's lines under the table: the program and its exit, its clock's fidelity,
/// and, when it departed, the tail of its output.
fn process_lines(out: &mut String, r: &RunReport, process: &ProcessOutcome) {
    let _ = writeln!(
        out,
        "  {}: program: {} (cwd {}, profile {}, {}): {}",
        r.name,
        process.command.join(" "),
        process.cwd,
        process.profile,
        clock_of(process),
        process.exit.describe()
    );
    if let Some(runs) = r.metrics.credential_process_runs {
        let _ = writeln!(
            out,
            "  {}: credential_process got credentials {runs} time{} (AssumeRole as session `{}`; {} refresh{} reached the data plane)",
            r.name,
            if runs == 1 { "" } else { "s" },
            crate::credential_process::SESSION_NAME,
            r.metrics.refreshes,
            if r.metrics.refreshes == 1 { "" } else { "es" },
        );
    }
    if let Some(fid) = &r.metrics.fidelity {
        let skew = match (fid.max_clock_skew_seconds, fid.median_clock_skew_seconds) {
            (Some(max), Some(median)) => format!(
                "its clock within {max:.1} simulated s of the server's (median {median:+.1} s, {} signed requests; X-Amz-Date has whole seconds)",
                fid.skew_samples.unwrap_or(0)
            ),
            _ => "no signed request to compare its clock with".to_string(),
        };
        let _ = writeln!(
            out,
            "  {}: fidelity: {skew}; margin {} s{}",
            r.name,
            fid.refresh_buffer_seconds,
            if fid.could_decide_verdict {
                " — the clock's speed could decide this verdict: rerun at a lower rate"
            } else {
                ""
            }
        );
    }
    if !r.met() {
        for (name, tail) in [("stdout", &process.stdout), ("stderr", &process.stderr)] {
            out.push_str(&output_block(name, tail, TABLE_OUTPUT_LINES, "    "));
        }
    }
}

/// `FAKETIME="…"`, or `real clock` for a program started without faketime (compressed).
pub(super) fn clock_of(process: &ProcessOutcome) -> String {
    if process.faketime.is_empty() {
        "real clock".to_string()
    } else {
        format!("FAKETIME=\"{}\"", process.faketime)
    }
}

/// `stdout (last N of M lines):` and the lines, indented; empty output says so.
pub(super) fn output_block(name: &str, tail: &OutputTail, lines: usize, indent: &str) -> String {
    let shown = tail.last_lines(lines, OUTPUT_LINE_WIDTH);
    if shown.is_empty() {
        return format!("{indent}{name}: (empty)\n");
    }
    let omitted = tail.omitted_lines(lines);
    let mut block = if omitted > 0 || tail.dropped_bytes > 0 {
        format!(
            "{indent}{name} (last {} lines; {omitted} earlier lines{} not shown):\n",
            shown.len(),
            if tail.dropped_bytes > 0 {
                format!(" and {} earlier bytes", tail.dropped_bytes)
            } else {
                String::new()
            }
        )
    } else {
        format!("{indent}{name}:\n")
    };
    for line in shown {
        let _ = writeln!(block, "{indent}| {line}");
    }
    block
}
