//! The table as text: a terminal grid (a few lines per cell) and Markdown (one line per cell,
//! what README and BENCHMARKS.md paste), with the reasons for n/a and did-not-run cells below.
//!
//! A cell reads `0 fail · 2 STS · lead 5s` or `53 fail (credentials-not-loaded +1h00m02s) ·
//! 161 STS · lead 9s`: failures (the server's plus the client's own), the first failure's
//! code and time since the run's first request, credential-issuing STS calls, and the
//! smallest refresh lead (`no refresh` when the credential never changed). A program stops
//! at its first failed call, so its cell adds its exit status: compare first failures across
//! columns, not counts.

use std::fmt::Write as _;

use super::{Cell, Measured, Outcome, Table};
use crate::metrics::hms;

/// Seconds as the table shows them: whole seconds, `1h00m02s`.
fn secs(seconds: f64) -> String {
    hms(seconds.round())
}

fn failures(m: &Measured) -> String {
    let mut text = match &m.first_failure {
        Some(f) => format!("{} fail ({} +{})", m.failures, f.code, secs(f.at_seconds)),
        None => format!("{} fail", m.failures),
    };
    if let Some(exit) = m
        .exit
        .filter(|e| *e != crate::process::Exit::Code { code: 0 })
    {
        let _ = write!(text, " · {}", exit.describe());
    }
    if m.startup_error.is_some() {
        text.push_str(" · start-up failed");
    }
    text
}

fn sts(m: &Measured) -> String {
    match m.refresh_lead_min_seconds {
        Some(lead) => format!("{} STS · lead {}", m.sts_calls, secs(lead)),
        None => format!("{} STS · no refresh", m.sts_calls),
    }
}

/// A cell in one line.
pub fn cell_text(cell: &Cell) -> String {
    match &cell.outcome {
        Outcome::Measured(m) => format!("{} · {}", failures(m), sts(m)),
        Outcome::NotApplicable { .. } => "n/a".to_string(),
        Outcome::DidNotRun { .. } => "did not run".to_string(),
    }
}

/// A cell in a few short lines, for the terminal grid.
fn cell_lines(cell: &Cell) -> Vec<String> {
    match &cell.outcome {
        Outcome::Measured(m) => {
            let mut first = format!("{} fail", m.failures);
            if let Some(exit) = m
                .exit
                .filter(|e| *e != crate::process::Exit::Code { code: 0 })
            {
                let _ = write!(first, " · {}", exit.describe());
            }
            if m.startup_error.is_some() {
                first.push_str(" · start-up failed");
            }
            let second = match &m.first_failure {
                Some(f) => format!("{} +{}", f.code, secs(f.at_seconds)),
                None => "-".to_string(),
            };
            vec![first, second, sts(m)]
        }
        Outcome::NotApplicable { .. } | Outcome::DidNotRun { .. } => vec![cell_text(cell)],
    }
}

/// The rows × columns of text, `·` for a cell another shard has.
fn grid<T>(table: &Table, render: impl Fn(&Cell) -> T, other_shard: impl Fn() -> T) -> Vec<Vec<T>> {
    table
        .conditions
        .iter()
        .map(|c| {
            table
                .strategies
                .iter()
                .map(|s| {
                    table
                        .cell(c.name, s.name)
                        .map_or_else(&other_shard, &render)
                })
                .collect()
        })
        .collect()
}

/// What the table does not say in its cells: n/a and did-not-run reasons, left-out columns.
fn notes(table: &Table) -> String {
    let mut out = String::new();
    for cell in &table.cells {
        match &cell.outcome {
            Outcome::NotApplicable { reason } => {
                let _ = writeln!(
                    out,
                    "n/a: {} under {}: {reason}",
                    cell.strategy, cell.condition
                );
            }
            Outcome::DidNotRun { run, reason } => {
                let _ = writeln!(
                    out,
                    "did not run: {} under {} ({run}): {reason}",
                    cell.strategy, cell.condition
                );
            }
            Outcome::Measured(_) => {}
        }
    }
    for l in &table.left_out {
        let _ = writeln!(out, "left out: {}: {}", l.strategy, l.reason);
    }
    out
}

fn heading(table: &Table) -> String {
    let mut out = format!(
        "fault-tolerance table: a {} job, PutObject every {} s, one-hour sessions, seed {}; in process on the {} clock, programs {}",
        secs(table.job.length_seconds as f64),
        table.job.every_seconds,
        table.job.seed,
        table.clocks.in_process,
        table.clocks.program
    );
    if let Some(p) = &table.partition {
        let _ = write!(out, "; partition {p}");
    }
    out
}

/// The terminal grid: a header of strategies, then each condition's cells a few lines high.
pub fn terminal(table: &Table) -> String {
    let header: Vec<String> = std::iter::once("condition".to_string())
        .chain(table.strategies.iter().map(|s| s.name.to_string()))
        .collect();
    let rows: Vec<Vec<Vec<String>>> = grid(table, cell_lines, || vec!["·".to_string()])
        .into_iter()
        .zip(&table.conditions)
        .map(|(cells, c)| {
            std::iter::once(vec![c.name.to_string()])
                .chain(cells)
                .collect()
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            for line in cell {
                *w = (*w).max(line.chars().count());
            }
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (cell, w) in cells.iter().zip(&widths) {
            let _ = write!(l, "  {cell:<w$}");
        }
        l.trim_end().to_string() + "\n"
    };
    let rule: String = widths
        .iter()
        .map(|w| format!("  {}", "-".repeat(*w)))
        .collect::<String>()
        + "\n";
    let mut out = heading(table) + "\n";
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    out.push_str(&line(&header));
    out.push_str(&rule);
    for row in &rows {
        let height = row.iter().map(Vec::len).max().unwrap_or(1);
        for i in 0..height {
            let cells: Vec<&str> = row
                .iter()
                .map(|c| c.get(i).map_or("", String::as_str))
                .collect();
            out.push_str(&line(&cells));
        }
        out.push_str(&rule);
    }
    out.push_str(&notes(table));
    out
}

/// The Markdown table, one line per cell, then the notes as a list.
pub fn markdown(table: &Table) -> String {
    let mut out = String::from("| condition |");
    for s in &table.strategies {
        let _ = write!(out, " {} |", s.name);
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(table.strategies.len()));
    out.push('\n');
    let rows = grid(table, cell_text, || "·".to_string());
    for (c, cells) in table.conditions.iter().zip(rows) {
        let _ = write!(out, "| {} |", c.label);
        for cell in cells {
            let _ = write!(out, " {cell} |");
        }
        out.push('\n');
    }
    let notes = notes(table);
    if !notes.is_empty() {
        out.push('\n');
        for n in notes.lines() {
            let _ = writeln!(out, "- {n}");
        }
    }
    out
}
