//! JUnit XML (`--junit`) through `quick-junit`: one testsuite per scenario, one testcase per
//! run. A departed run is a `<failure>` whose message lists the failed checks and whose text
//! has every check, the seed and clock, the rerun command, the explanation and, for a
//! `process` run, its program's exit and output; a met run's explanation, if any, is its
//! `<system-out>`.
//!
//! A run that states conformance rules adds one testcase per rule (`run::rule`): a failure
//! with its one-sentence reason, or skipped with why it did not apply.
//!
//! The crate owns the XML: escaping, and dropping what XML 1.0 cannot carry (ANSI escapes and
//! other control characters in a program's output).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};

use super::table::output_block;
use super::{Report, RunReport, ScenarioReport};

/// Lines of program output a departed `process` run's failure text shows, per stream.
const JUNIT_OUTPUT_LINES: usize = 60;

/// The report as JUnit XML.
///
/// # Errors
/// Only if the XML writer fails, which writing into memory does not.
pub fn junit(report: &Report) -> Result<String, quick_junit::SerializeError> {
    let mut junit = quick_junit::Report::new("sts-harness");
    junit.add_test_suites(report.scenarios.iter().map(suite));
    junit.to_string()
}

fn suite(s: &ScenarioReport) -> TestSuite {
    let mut suite = TestSuite::new(s.name.as_str());
    suite.set_time(seconds(s.runs.iter().map(|r| r.wall_ms / 1000.0).sum()));
    let classname = Path::new(&s.file)
        .file_stem()
        .map_or_else(|| s.name.clone(), |f| f.to_string_lossy().into_owned());
    suite.add_test_cases(s.runs.iter().map(|r| {
        let mut case = TestCase::new(r.name.as_str(), status(s, r));
        case.set_classname(classname.as_str())
            .set_time(seconds(r.wall_ms / 1000.0));
        if let Some(k) = s.compression {
            case.add_property(quick_junit::Property::new("compression", k.to_string()));
        }
        let mut out = String::new();
        if let (true, Some(text)) = (r.met(), &r.explanation) {
            out.push_str(text);
        }
        for warning in &r.compression_warnings {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = write!(out, "warning: {warning}");
        }
        if !out.is_empty() {
            case.set_system_out(out.as_str());
        }
        case
    }));
    // A run that states conformance rules: one testcase per rule as well.
    for r in &s.runs {
        if let Some(c) = &r.metrics.conformance {
            suite.add_test_cases(c.rules.iter().map(|rule| {
                let mut case = TestCase::new(
                    format!("{}::{}", r.name, rule.rule.as_str()),
                    rule_status(rule),
                );
                case.set_classname(classname.as_str());
                case
            }));
        }
    }
    suite
}

/// A conformance rule's testcase status: pass, a failure with its reason, or skipped
/// (not applicable) with why.
fn rule_status(rule: &crate::conformance::RuleResult) -> TestCaseStatus {
    use crate::conformance::Verdict;
    match rule.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(rule.reason.as_str())
                .set_type("violates");
            status
        }
        Verdict::NotApplicable => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(rule.reason.as_str());
            status
        }
    }
}

/// Success for a met run; for a departed one, a failure: the failed checks as its message,
/// everything a reader needs to rerun and understand it as its text.
fn status(s: &ScenarioReport, r: &RunReport) -> TestCaseStatus {
    if r.met() {
        return TestCaseStatus::success();
    }
    let summary = r
        .checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| format!("{}: expected {}, got {}", c.what, c.expected, c.actual))
        .collect::<Vec<_>>()
        .join("; ");
    let mut body = String::new();
    for c in &r.checks {
        let _ = writeln!(
            body,
            "{} {}: expected {}, actual {}",
            if c.ok { "ok  " } else { "FAIL" },
            c.what,
            c.expected,
            c.actual
        );
    }
    let _ = writeln!(body, "seed: {}, clock: {}", s.seed, s.clock);
    if let Some(k) = s.compression {
        let _ = writeln!(
            body,
            "lifetimes and durations divided by {k} on the real clock; times are the scenario's: measured × {k}"
        );
    }
    for warning in &r.compression_warnings {
        let _ = writeln!(body, "warning: {warning}");
    }
    let _ = writeln!(body, "rerun: {}", r.rerun);
    if let Some(text) = &r.explanation {
        let _ = writeln!(body, "{text}");
    }
    if let Some(process) = &r.process {
        let _ = writeln!(
            body,
            "program: {} (cwd {}, {}): {}",
            process.command.join(" "),
            process.cwd,
            super::table::clock_of(process),
            process.exit.describe()
        );
        for (name, tail) in [("stdout", &process.stdout), ("stderr", &process.stderr)] {
            body.push_str(&output_block(name, tail, JUNIT_OUTPUT_LINES, ""));
        }
    }
    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
    status
        .set_message(summary)
        .set_type("departed")
        .set_description(body);
    status
}

/// A wall time in seconds as a `Duration`; a value a `Duration` cannot hold (negative, NaN)
/// reads as zero rather than failing the whole report.
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or_default()
}
