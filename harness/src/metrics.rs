//! Metrics and verdicts, derived from the server's events (the ground truth) and, for latency,
//! the client's own timings joined to those events by request id.
//!
//! Definitions (also in `scenarios/README.md`):
//! - **requests**: data-plane requests the server saw (the workload's operations);
//! - **calls**: workload calls the client made, and how many of them failed as it saw them;
//! - **failures**: every failed request the server saw, by error code (data plane and STS);
//! - **client failures**: calls that failed in the client with no server answer (timeouts in
//!   the SDK, connection failures, credentials that could not be loaded), by kind;
//! - **first failure**: the earliest failure either side saw, in simulated time since the start;
//! - **STS calls**: credential-issuing calls (`AssumeRole`, `AssumeRoleWithWebIdentity`,
//!   `GetSessionToken`), failed ones included;
//! - **refreshes**: credential-issuing calls after the workload started that replaced the
//!   credential signing the data plane (concurrent calls replacing the same one count once);
//! - **refresh lead**: the replaced credential's expiry minus the refresh call's time (negative:
//!   the refresh came after expiry);
//! - **refresh latency**: how much longer a call that carried a new credential took than the
//!   median call that did not (simulated and wall), p50/p99/max;
//! - **fidelity** (scaled clocks): the longest simulated span of one call, against the
//!   strategy's refresh buffer; for `process` runs, how far the program's fake clock was from
//!   the server's (each request's `X-Amz-Date` against its arrival), against the tightest
//!   margin the run's expectation allows.

use std::collections::BTreeMap;
use std::time::SystemTime;

use mock_sts::aws_error::ErrorCode;
use mock_sts::events::{Event, Issued, SignedBy};
use serde::Serialize;

use crate::conformance::{self, Conformance, Verdict};
use crate::outcome::{ClientFailure, ClientOutcome};
use crate::process::Exit;
use crate::runner::RunResult;
use crate::scenario::{Expect, range_label};
use crate::tally::Tally;
use crate::workload::OpRecord;

/// The margin a `process` run's verdict has, in simulated seconds, against which its clock
/// skew is judged: `min_refresh_lead` when the expectation sets it, else the `within` of `at`,
/// else how close any request came to the expiry of the credential that signed it (a skew
/// that large could have carried it across). `None` when no request was signed with expiring
/// credentials: then no skew can change what the server decides.
pub fn process_margin(expect: &Expect, events: &[Event]) -> Option<f64> {
    match (expect.min_refresh_lead, expect.at) {
        (Some(lead), _) => Some(lead.as_secs_f64()),
        (None, Some(_)) => Some(expect.within.as_secs_f64()),
        (None, None) => closest_to_expiry(events),
    }
}

/// How close, in simulated seconds, any request arrived to the expiry of the credentials that
/// signed it (either side). `None` when no request was signed with expiring credentials.
pub(crate) fn closest_to_expiry(events: &[Event]) -> Option<f64> {
    events
        .iter()
        .filter_map(|e| {
            let expires = e.signed_by.as_ref()?.expires_at?;
            Some(since(e.sim_time, expires).abs())
        })
        .reduce(f64::min)
}

/// p50/p99/max of a sample, milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile (nearest rank).
    pub p99: f64,
    /// Maximum.
    pub max: f64,
}

impl Percentiles {
    pub(crate) fn of(mut values: Vec<f64>) -> Option<Percentiles> {
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let rank = |q: f64| {
            let i = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
            values[i]
        };
        Some(Percentiles {
            p50: rank(0.5),
            p99: rank(0.99),
            max: values[values.len() - 1],
        })
    }
}

/// Which side saw a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The server answered with an AWS error (the client may have seen it too).
    Server,
    /// Only the client saw it: no server answer carried it.
    Client,
}

/// The first failure, explained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstFailure {
    /// Seconds of simulated time since the start.
    pub at_seconds: f64,
    /// Who saw it: a server-answered AWS error, or a failure in the client alone.
    pub side: Side,
    /// The operation.
    pub action: String,
    /// The AWS error code, or the client-side kind (`timeout`, `dispatch-failure`, …).
    pub code: String,
    /// `code` as a typed AWS error code, when it is one (explanations match on this, never on
    /// the spelling); not in the JSON report, which has `code`.
    #[serde(skip)]
    pub error_code: Option<ErrorCode>,
    /// The error message.
    pub message: String,
    /// The credential that signed it.
    pub signed_by: Option<SignedBy>,
    /// How that credential was issued, when this run's server issued it.
    pub issued: Option<Issued>,
    /// Seconds since the start when that credential was issued.
    pub issued_at_seconds: Option<f64>,
    /// Seconds since the start when it expired.
    pub expired_at_seconds: Option<f64>,
    /// Credential-issuing STS calls between its issue and the failure.
    pub refresh_attempts: u64,
    /// The fault rule's effect, when the mock injected this failure (`error:Throttling`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injected: Option<String>,
    /// A latency fault that held the request in flight (`latency:15s`): the server judged it
    /// when it arrived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delayed: Option<String>,
}

/// How faithful a scaled run's timing was.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fidelity {
    /// The longest simulated span of one call, seconds (for `process` runs, the server's side
    /// of it: arrival to response).
    pub max_call_span_seconds: f64,
    /// The strategy's refresh buffer, seconds (for `process` runs, the margin of
    /// [`process_margin`], 0 when no request was signed with expiring credentials).
    pub refresh_buffer_seconds: f64,
    /// Whether a call spanned more simulated time than the buffer (for `process` runs: the
    /// clock skew reached the margin), so clock speed alone could have decided the verdict.
    pub could_decide_verdict: bool,
    /// In-process runs of strategies without a refresh buffer (they renew at the expiry or
    /// never): how close, in simulated seconds, a request arrived to its keys' expiry; a call
    /// spanning that long could have carried it across.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiry_margin_seconds: Option<f64>,
    /// `process` runs: the largest |arrival − `X-Amz-Date`| of a signed request, simulated
    /// seconds. `X-Amz-Date` has whole seconds, so this reads up to 1 s high; it also holds
    /// the request's time in flight.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_clock_skew_seconds: Option<f64>,
    /// `process` runs: the median of arrival − `X-Amz-Date` (positive: the program's clock is
    /// behind the server's), simulated seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_clock_skew_seconds: Option<f64>,
    /// `process` runs: how many signed requests the skew was measured on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skew_samples: Option<u64>,
}

/// How far off a client's signing clock was, as the server judged it: each header-signed
/// request's `X-Amz-Date` against its arrival (whole seconds). Reported for runs with client
/// clock faults, where it shows the SDK's own skew correction: aws-runtime 1.10 learns the
/// skew from a skew error's `Date` and re-signs, so the first requests show the fault and the
/// later ones do not, while its identity cache still judges expiry by the wrong clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SigningSkew {
    /// The first signed request's skew, seconds (negative: signed behind the server).
    pub first_seconds: f64,
    /// The median, seconds.
    pub median_seconds: f64,
    /// The last signed request's skew, seconds.
    pub last_seconds: f64,
    /// Requests the server refused for their time (`RequestTimeTooSkewed`, and STS's
    /// `SignatureDoesNotMatch` "Signature expired" / "not yet current").
    pub skew_errors: u64,
    /// Signed requests measured.
    pub samples: u64,
}

/// Everything measured about a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Data-plane requests the server saw.
    pub requests: u64,
    /// Workload calls the client made (in-process runs; `process` runs report none).
    pub calls: u64,
    /// Workload calls that failed as the client saw them.
    pub calls_failed: u64,
    /// Failed requests the server saw, by code.
    pub failures: BTreeMap<String, u64>,
    /// Calls that failed in the client alone, by kind.
    pub client_failures: BTreeMap<String, u64>,
    /// Requests the mock failed on purpose (a `[[fault]]` rule: an error, a bare status, a
    /// reset, a hang, a quota), by code or effect; kept apart from `failures`.
    pub injected_failures: BTreeMap<String, u64>,
    /// The first failure.
    pub first_failure: Option<FirstFailure>,
    /// Credential-issuing STS calls.
    pub sts_calls: u64,
    /// Credential changes on the data plane.
    pub refreshes: u64,
    /// Refresh lead, seconds: minimum.
    pub refresh_lead_min_seconds: Option<f64>,
    /// Refresh lead, seconds: median.
    pub refresh_lead_median_seconds: Option<f64>,
    /// Extra simulated latency of calls that carried a new credential, ms.
    pub refresh_latency_sim_ms: Option<Percentiles>,
    /// Extra wall latency of calls that carried a new credential, ms.
    pub refresh_latency_wall_ms: Option<Percentiles>,
    /// STS calls per data-plane request.
    pub sts_calls_per_request: f64,
    /// Scaled runs only.
    pub fidelity: Option<Fidelity>,
    /// Runs with client clock faults: the signing skew the server saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_skew: Option<SigningSkew>,
    /// `credential-process` runs: how many times the program's SDK ran the helper.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_process_runs: Option<u64>,
    /// Runs whose expectation states conformance rules (and the `conformance` command's):
    /// every rule's verdict, figures and reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conformance: Option<Conformance>,
}

impl Metrics {
    /// Total failures: requests the server failed plus calls that failed in the client alone.
    pub fn failure_count(&self) -> u64 {
        self.failures.values().sum::<u64>() + self.client_failures.values().sum::<u64>()
    }
}

/// Seconds from `start` to `t`, to the millisecond (credentials carry millisecond times, the
/// clock nanoseconds: without rounding an issue time reads as a hair before the request).
pub(crate) fn since(start: SystemTime, t: SystemTime) -> f64 {
    let secs = match t.duration_since(start) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    let ms = (secs * 1000.0).round();
    if ms == 0.0 { 0.0 } else { ms / 1000.0 }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[(v.len() - 1) / 2])
}

/// Computes a run's metrics: the run's tally (`tally`), taken while it ran or now from the
/// events and calls it kept.
pub fn compute(result: &RunResult) -> Metrics {
    let mut m = match &result.tally {
        Some(tally) => tally.metrics(result),
        None => Tally::of(result).metrics(result),
    };
    // Such runs keep their events (`runner`); the others' JSON is unchanged.
    if result.run.expect.states_conformance() && result.tally.is_none() {
        m.conformance = Some(conformance::check(result));
    }
    m
}

/// Whether an event is the server refusing a request for its time.
pub fn is_skew_error(e: &Event) -> bool {
    match e.error_code {
        Some(ErrorCode::RequestTimeTooSkewed) => true,
        Some(ErrorCode::SignatureDoesNotMatch) => e.error_message.as_deref().is_some_and(|m| {
            m.starts_with("Signature expired") || m.starts_with("Signature not yet current")
        }),
        _ => false,
    }
}

/// The code an injected failure counts under (its AWS code, or the effect for a reset or a
/// hang, which have no answer), or `None` for an event no rule failed: not marked, or only
/// delayed (a latency fault's request is judged like any other).
pub fn injected(e: &Event) -> Option<String> {
    let fault = e.fault.as_ref()?;
    if fault.only_delayed() {
        return None;
    }
    Some(match e.error_code {
        Some(code) => code.as_str().to_string(),
        None if e.status >= 400 => format!("status {}", e.status),
        None => fault.effect.clone(),
    })
}

/// A failure only the client saw, as a first failure.
pub(crate) fn from_op(result: &RunResult, op: &OpRecord) -> FirstFailure {
    let (code, message) = match &op.outcome {
        ClientOutcome::Client { kind, message } => (kind.as_str().to_string(), message.clone()),
        ClientOutcome::Aws { code } => (code.clone(), String::new()),
        ClientOutcome::Ok => ("ok".to_string(), String::new()),
    };
    FirstFailure {
        at_seconds: since(result.start, op.finished),
        side: Side::Client,
        action: op.operation.as_str().to_string(),
        error_code: ErrorCode::from_name(&code),
        code,
        message,
        signed_by: None,
        issued: None,
        issued_at_seconds: None,
        expired_at_seconds: None,
        refresh_attempts: 0,
        injected: None,
        delayed: None,
    }
}

/// Client-only failures of one kind, for explanations: how many, and the first message.
pub fn client_failures_of(result: &RunResult, kind: ClientFailure) -> (u64, Option<&str>) {
    let mut count = 0;
    let mut first: Option<&OpRecord> = None;
    for op in &result.ops {
        if op.outcome.client_failure() == Some(kind) {
            count += 1;
            if first.is_none_or(|f| op.finished < f.finished) {
                first = Some(op);
            }
        }
    }
    let message = first.and_then(|op| match &op.outcome {
        ClientOutcome::Client { message, .. } => Some(message.as_str()),
        _ => None,
    });
    (count, message)
}

/// A `process` run's fidelity: its program's clock against the server's, from the events.
pub(crate) fn process_fidelity(result: &RunResult) -> Fidelity {
    let skews: Vec<f64> = result
        .events
        .iter()
        .filter_map(|e| e.request_time.map(|t| since(t, e.sim_time)))
        .collect();
    let max_skew = skews.iter().map(|s| s.abs()).reduce(f64::max);
    let max_span = result
        .events
        .iter()
        .map(|e| e.sim_latency_ms / 1000.0)
        .fold(0.0, f64::max);
    let margin = process_margin(&result.run.expect, &result.events);
    Fidelity {
        max_call_span_seconds: max_span,
        refresh_buffer_seconds: margin.unwrap_or(0.0),
        could_decide_verdict: margin
            .is_some_and(|m| max_skew.is_some_and(|s| s >= m) || max_span >= m),
        expiry_margin_seconds: None,
        max_clock_skew_seconds: max_skew,
        median_clock_skew_seconds: median(skews.clone()),
        skew_samples: Some(skews.len() as u64),
    }
}

/// One checked expectation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// What was checked (`passes`, `fails_with`, `at`, …).
    pub what: String,
    /// What the scenario expected.
    pub expected: String,
    /// What the run showed.
    pub actual: String,
    /// Whether they agree.
    pub ok: bool,
}

/// Checks a run against its expectation.
pub fn verdict(expect: &Expect, result: &RunResult, m: &Metrics) -> Vec<Check> {
    let mut checks = Vec::new();
    let mut check = |what: &str, expected: String, actual: String, ok: bool| {
        checks.push(Check {
            what: what.to_string(),
            expected,
            actual,
            ok,
        });
    };
    let failure = m.first_failure.as_ref();
    let describe = |f: Option<&FirstFailure>| match f {
        Some(f) => format!("{} on {} at {}", f.code, f.action, hms(f.at_seconds)),
        None => "no failure".to_string(),
    };
    if result.timed_out {
        let actual = match result.process.as_ref().map(|p| p.exit) {
            Some(exit @ Exit::TimedOut { .. }) => exit.describe(),
            _ => "cut off at the run's deadline".into(),
        };
        check("finishes", "the workload ends".into(), actual, false);
    }
    // The exit status, for `process` runs.
    let exit = result.process.as_ref().map(|p| p.exit);
    let exit_text = || match (exit, &result.startup_error) {
        (Some(e), _) => e.describe(),
        (None, Some(_)) => "did not start".to_string(),
        (None, None) => "no exit status".to_string(),
    };
    if let Some(code) = expect.exit_code {
        check(
            "exit_code",
            format!("exit {code}"),
            exit_text(),
            exit == Some(Exit::Code { code }),
        );
    }
    if expect.exits_nonzero {
        check(
            "exits_nonzero",
            "a non-zero exit".into(),
            exit_text(),
            matches!(exit, Some(Exit::Code { code }) if code != 0),
        );
    }
    // A worker that died did not do its work, whatever else the run shows.
    for stop in &result.worker_stops {
        check(
            "workers",
            "every worker runs to the job's end".into(),
            format!(
                "worker {} stopped at {}: {}",
                stop.worker,
                hms(since(result.start, stop.at)),
                stop.reason
            ),
            false,
        );
    }
    match &expect.requests {
        Some(range) => check(
            "requests",
            range_label(range),
            m.requests.to_string(),
            range.contains(&m.requests),
        ),
        // A run that passes must have done its work: calls that never reached the server
        // prove nothing about credentials, whatever the server's (empty) log says.
        None if expect.passes && result.startup_error.is_none() && m.requests == 0 => check(
            "requests",
            "workload requests reach the server".into(),
            no_request_reached(result, m),
            false,
        ),
        None => {}
    }
    if expect.passes {
        let ok = failure.is_none() && result.startup_error.is_none();
        let actual = match (&result.startup_error, failure) {
            (Some(e), _) => format!("start-up failed: {e}"),
            (None, f) => describe(f),
        };
        check("passes", "no failure".into(), actual, ok);
    }
    if let Some(code) = &expect.fails_with {
        check(
            "fails_with",
            code.clone(),
            describe(failure),
            failure.is_some_and(|f| &f.code == code),
        );
        if let Some(at) = expect.at {
            let ok = failure.is_some_and(|f| {
                (f.at_seconds - at.as_secs_f64()).abs() <= expect.within.as_secs_f64()
            });
            check(
                "at",
                format!(
                    "{} ± {}",
                    hms(at.as_secs_f64()),
                    hms(expect.within.as_secs_f64())
                ),
                failure.map_or("no failure".into(), |f| hms(f.at_seconds)),
                ok,
            );
        }
        if let Some(message) = &expect.message {
            check(
                "message",
                format!("contains {message:?}"),
                failure.map_or("no failure".into(), |f| format!("{:?}", f.message)),
                failure.is_some_and(|f| f.message.contains(message.as_str())),
            );
        }
    }
    if let Some(range) = &expect.refreshes {
        check(
            "refreshes",
            range_label(range),
            m.refreshes.to_string(),
            range.contains(&m.refreshes),
        );
    }
    if let Some(range) = &expect.sts_calls {
        check(
            "sts_calls",
            range_label(range),
            m.sts_calls.to_string(),
            range.contains(&m.sts_calls),
        );
    }
    if let Some(range) = &expect.credential_process_runs {
        let runs = m.credential_process_runs.unwrap_or(0);
        check(
            "credential_process_runs",
            range_label(range),
            runs.to_string(),
            range.contains(&runs),
        );
    }
    if let Some(lead) = expect.min_refresh_lead {
        let ok = m
            .refresh_lead_min_seconds
            .is_none_or(|l| l >= lead.as_secs_f64());
        check(
            "min_refresh_lead",
            format!(">= {}", hms(lead.as_secs_f64())),
            m.refresh_lead_min_seconds
                .map_or("no refresh".into(), |l| format!("{l:.1}s")),
            ok,
        );
    }
    let stated = expect
        .conforms
        .iter()
        .map(|r| (r, Verdict::Pass))
        .chain(expect.violates.iter().map(|r| (r, Verdict::Fail)));
    for (rule, wanted) in stated {
        let result = m.conformance.as_ref().and_then(|c| c.get(*rule));
        check(
            if wanted == Verdict::Pass {
                "conforms"
            } else {
                "violates"
            },
            format!("{rule} {}", wanted.short()),
            result.map_or("not checked (the run kept no events)".into(), |r| {
                format!("{} {}: {}", rule, r.verdict.short(), r.reason)
            }),
            result.is_some_and(|r| r.verdict == wanted),
        );
    }
    checks
}

/// What happened to a run's calls when none reached the server: "no request reached the
/// server: 1 347 calls timed out in the SDK (…)".
pub fn no_request_reached(result: &RunResult, m: &Metrics) -> String {
    if m.calls == 0 {
        return "no request reached the server: the workload made no call".to_string();
    }
    let mut parts = Vec::new();
    for kind in ClientFailure::ALL {
        let (count, message) = client_failures_of(result, kind);
        if count == 0 {
            continue;
        }
        parts.push(match message {
            Some(message) => format!("{} calls {} ({message})", thousands(count), kind.phrase()),
            None => format!("{} calls {}", thousands(count), kind.phrase()),
        });
    }
    if parts.is_empty() {
        format!(
            "no request reached the server: {} calls made, none recorded by the server",
            thousands(m.calls)
        )
    } else {
        format!("no request reached the server: {}", parts.join("; "))
    }
}

/// `1 347`: thousands separated by a space, as the reports print counts in prose.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `1h00m05s`-style text for simulated seconds.
pub fn hms(seconds: f64) -> String {
    let negative = seconds < 0.0;
    let total = seconds.abs();
    let whole = total.floor() as u64;
    let frac = total - whole as f64;
    let (h, m, s) = (whole / 3600, (whole % 3600) / 60, whole % 60);
    let fractional = frac > 0.0005;
    let padded = if fractional {
        format!("{:06.3}", s as f64 + frac)
    } else {
        format!("{s:02}")
    };
    let text = match (h, m) {
        (0, 0) if fractional => format!("{:.3}s", s as f64 + frac),
        (0, 0) => format!("{s}s"),
        (0, m) => format!("{m}m{padded}s"),
        (h, m) => format!("{h}h{m:02}m{padded}s"),
    };
    if negative { format!("-{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hms_reads_well() {
        assert_eq!(hms(0.0), "0s");
        assert_eq!(hms(5.0), "5s");
        assert_eq!(hms(3605.0), "1h00m05s");
        assert_eq!(hms(65.5), "1m05.500s");
        assert_eq!(hms(-2.0), "-2s");
    }

    #[test]
    fn thousands_are_spaced() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1347), "1 347");
        assert_eq!(thousands(1_234_567), "1 234 567");
    }

    #[test]
    fn closest_to_expiry_takes_either_side_and_ignores_unexpiring_keys() {
        use mock_sts::aws_error::Service;
        use mock_sts::events::Action;
        let t0 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let at = |s: f64| t0 + std::time::Duration::from_secs_f64(s);
        let event = |arrival: f64, expires: Option<f64>| Event {
            seq: 1,
            sim_time: at(arrival),
            wall_time: at(arrival),
            service: Service::S3,
            action: Action::S3(mock_sts::s3::Operation::PutObject),
            request_id: "r".into(),
            request_time: Some(at(arrival)),
            signed_by: Some(SignedBy {
                access_key_id: "ASIA".into(),
                principal_arn: None,
                issued_at: Some(at(0.0)),
                expires_at: expires.map(at),
                issued_by: None,
            }),
            status: 200,
            error_code: None,
            error_message: None,
            issued: None,
            latency_ms: 0.0,
            sim_latency_ms: 0.0,
            fault: None,
        };
        // Scenario 02 on a scaled clock: the last call arrived 0.22 s after its keys expired.
        let events = vec![
            event(14_390.0, Some(14_399.313)),
            event(14_399.535, Some(14_399.313)),
            event(14_399.9, None),
        ];
        let m = closest_to_expiry(&events).unwrap();
        assert!((m - 0.222).abs() < 1e-6, "{m}");
        assert_eq!(closest_to_expiry(&[event(5.0, None)]), None);
        assert_eq!(closest_to_expiry(&[]), None);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let p = Percentiles::of((1..=100).map(f64::from).collect()).unwrap();
        assert_eq!((p.p50, p.p99, p.max), (50.0, 99.0, 100.0));
        assert_eq!(Percentiles::of(vec![]), None);
    }
}
