//! Timeline pictures (`sts-harness run --timeline FILE.html`): one self-contained HTML file
//! (inline SVG and CSS, no script, no network) with a lane per run on the simulated-time axis.
//!
//! A lane shows what a table of numbers hides: when each credential lived (a bar from issue
//! to expiry, coloured by how it was issued, darker where requests used it), every call to a
//! credential source (STS, instance metadata, the container endpoint), the failed requests by
//! error code, the injected fault windows, revocations and client clock jumps, and the window
//! the scenario expects the first failure in. Every mark has a hover title with its details.
//!
//! The lane's data ([`Lane`]) is taken from the server's events and the client's records
//! once, when a scenario's runs end, so the picture holds a few hundred marks per run
//! however long the run was: failures are counted per pixel column, not drawn one by one.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::time::SystemTime;

use mock_sts::credentials::IssuedBy;
use mock_sts::events::{Action, Event};
use mock_sts::{imds, sts};

use crate::metrics::{self, hms, since};
use crate::report::{RunReport, ScenarioReport};
use crate::runner::RunResult;
use crate::scenario::Scenario;

/// Width of the plot area, in SVG units; failures are counted per unit.
const PLOT_WIDTH: f64 = 1000.0;
/// Left margin for the row labels.
const LABEL_WIDTH: f64 = 120.0;
/// Height of one credential row.
const BAR_ROW: f64 = 9.0;
/// At most this many credential rows per lane; later overlapping credentials share the last.
const MAX_BAR_ROWS: usize = 8;

/// One credential's life.
#[derive(Debug, Clone, PartialEq)]
pub struct CredentialBar {
    /// Its access key id.
    pub access_key_id: String,
    /// How it was issued (`None`: not known, e.g. issued before the run).
    pub issued_by: Option<IssuedBy>,
    /// Seconds since the run's start.
    pub issued_at: f64,
    /// Seconds since the run's start.
    pub expires_at: f64,
    /// First and last request it signed (seconds since the start), if it signed any.
    pub used: Option<(f64, f64)>,
    /// Requests it signed.
    pub requests: u64,
    /// Requests it signed that arrived after its expiry.
    pub late: u64,
}

/// A call to a credential source: STS's issuing actions, and every instance-metadata and
/// container-endpoint request (the token, the role name and the credentials are one fetch).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCall {
    /// Seconds since the run's start.
    pub at: f64,
    /// The action (`AssumeRole`, `GetInstanceCredentials`, …).
    pub action: String,
    /// `None` when it succeeded, else the error code (or `status 503` and the like).
    pub error: Option<String>,
    /// The fault rule that answered it, if one did.
    pub injected: Option<String>,
}

/// Where a failure was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Seen {
    /// The server answered with an error.
    Server,
    /// A fault rule answered (or delayed, reset or hung) the request.
    Injected,
    /// The client failed without a server answer (a timeout, a dispatch failure, …).
    Client,
}

/// A failed request or call.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureMark {
    /// Seconds since the run's start.
    pub at: f64,
    /// The error code, fault label or client failure kind.
    pub code: String,
    /// Where it was seen.
    pub seen: Seen,
}

/// A span of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// Seconds since the run's start.
    pub from: f64,
    /// Seconds since the run's start.
    pub until: f64,
    /// What it is.
    pub label: String,
}

/// An instant of the run (a revocation, a client clock jump).
#[derive(Debug, Clone, PartialEq)]
pub struct Moment {
    /// Seconds since the run's start.
    pub at: f64,
    /// What happened.
    pub label: String,
}

/// Everything one run's lane shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// The scenario's name.
    pub scenario: String,
    /// The run's name.
    pub run: String,
    /// Its strategy.
    pub strategy: String,
    /// Whether it met its expectation.
    pub met: bool,
    /// One line: failures, STS calls, refreshes.
    pub summary: String,
    /// The axis length, seconds: the job's length or the last event, whichever is later.
    pub length: f64,
    /// Credentials, by issue time.
    pub credentials: Vec<CredentialBar>,
    /// Calls to credential sources, in order.
    pub calls: Vec<SourceCall>,
    /// Failed data-plane requests and client failures, in order.
    pub failures: Vec<FailureMark>,
    /// Fault rule windows.
    pub faults: Vec<Window>,
    /// Where the scenario expects the first failure (`at` ± `within`).
    pub expected: Option<Window>,
    /// Revocations and client clock jumps.
    pub moments: Vec<Moment>,
}

/// The lanes of a scenario's runs, `results` in the order of `report.runs`.
pub fn scenario_lanes(
    scenario: &Scenario,
    results: &[RunResult],
    report: &ScenarioReport,
) -> Vec<Lane> {
    results
        .iter()
        .zip(&report.runs)
        .map(|(result, run)| lane(scenario, result, run))
        .collect()
}

fn is_source_call(action: &Action) -> bool {
    matches!(
        action,
        Action::Sts(
            sts::Action::AssumeRole
                | sts::Action::AssumeRoleWithWebIdentity
                | sts::Action::GetSessionToken
        ) | Action::Metadata(_)
    )
}

fn error_label(e: &Event) -> Option<String> {
    match (e.error_code, e.status) {
        (Some(code), _) => Some(code.as_str().to_string()),
        (None, 0) => Some("no answer".to_string()),
        (None, status) if status >= 400 => Some(format!("status {status}")),
        _ => None,
    }
}

fn lane(scenario: &Scenario, result: &RunResult, report: &RunReport) -> Lane {
    let start = result.start;
    let at = |t: SystemTime| since(start, t);
    let data_plane: Vec<Action> = result.operations.iter().flat_map(|o| o.actions()).collect();

    let mut bars: BTreeMap<String, CredentialBar> = BTreeMap::new();
    let mut calls = Vec::new();
    let mut failures = Vec::new();
    let mut last = 0.0_f64;
    for e in &result.events {
        let t = at(e.sim_time);
        last = last.max(t);
        if let Some(issued) = &e.issued {
            bars.entry(issued.access_key_id.clone())
                .or_insert_with(|| CredentialBar {
                    access_key_id: issued.access_key_id.clone(),
                    issued_by: None,
                    issued_at: t,
                    expires_at: at(issued.expires_at),
                    used: None,
                    requests: 0,
                    late: 0,
                });
        }
        if let Some(signer) = &e.signed_by
            && let (Some(issued_at), Some(expires_at)) = (signer.issued_at, signer.expires_at)
        {
            let bar = bars
                .entry(signer.access_key_id.clone())
                .or_insert_with(|| CredentialBar {
                    access_key_id: signer.access_key_id.clone(),
                    issued_by: None,
                    issued_at: at(issued_at),
                    expires_at: at(expires_at),
                    used: None,
                    requests: 0,
                    late: 0,
                });
            bar.issued_by = bar.issued_by.or(signer.issued_by);
            if data_plane.contains(&e.action) {
                bar.requests += 1;
                bar.late += u64::from(t >= bar.expires_at);
                bar.used = Some(bar.used.map_or((t, t), |(a, _)| (a, t)));
            }
        }
        let injected = metrics::injected(e);
        if is_source_call(&e.action) {
            calls.push(SourceCall {
                at: t,
                action: e.action.to_string(),
                error: error_label(e),
                injected: injected.clone(),
            });
            // Instance and container credentials are issued by the call, not a signer.
            if let Some(issued) = &e.issued
                && let Some(bar) = bars.get_mut(&issued.access_key_id)
            {
                bar.issued_by = bar.issued_by.or(match &e.action {
                    Action::Sts(sts::Action::AssumeRole) => Some(IssuedBy::AssumeRole),
                    Action::Sts(sts::Action::AssumeRoleWithWebIdentity) => {
                        Some(IssuedBy::AssumeRoleWithWebIdentity)
                    }
                    Action::Sts(sts::Action::GetSessionToken) => Some(IssuedBy::GetSessionToken),
                    Action::Metadata(imds::Action::GetInstanceCredentials) => {
                        Some(IssuedBy::InstanceMetadata)
                    }
                    Action::Metadata(imds::Action::GetContainerCredentials) => {
                        Some(IssuedBy::ContainerCredentials)
                    }
                    _ => None,
                });
            }
        } else if data_plane.contains(&e.action)
            && let Some(code) = error_label(e)
        {
            failures.push(FailureMark {
                at: t,
                code: injected.unwrap_or(code.clone()),
                seen: if e.fault.is_some() {
                    Seen::Injected
                } else {
                    Seen::Server
                },
            });
        }
    }
    for op in &result.ops {
        if let Some(kind) = op.outcome.client_failure() {
            failures.push(FailureMark {
                at: at(op.finished),
                code: kind.as_str().to_string(),
                seen: Seen::Client,
            });
        }
    }
    failures.sort_by(|a, b| a.at.total_cmp(&b.at));
    let mut credentials: Vec<CredentialBar> = bars.into_values().collect();
    credentials.sort_by(|a, b| a.issued_at.total_cmp(&b.issued_at));

    let job = scenario.workload.length.as_secs_f64();
    let length = job.max(last).max(1.0);
    let clamp = |t: f64| t.clamp(0.0, length);
    let faults = scenario
        .faults
        .iter()
        .map(|rule| {
            let service = rule.service.map_or("*".to_string(), |s| s.to_string());
            let actions = if rule.actions.is_empty() {
                String::new()
            } else {
                let names: Vec<String> = rule.actions.iter().map(ToString::to_string).collect();
                format!(" {}", names.join(","))
            };
            Window {
                from: clamp(rule.from.map_or(0.0, at)),
                until: clamp(rule.until.map_or(length, at)),
                label: format!("{service}{actions} {}", rule.kind.label()),
            }
        })
        .collect();
    let expect = &result.run.expect;
    let expected = expect.at.map(|t| {
        let (t, within) = (t.as_secs_f64(), expect.within.as_secs_f64());
        Window {
            from: clamp(t - within),
            until: clamp(t + within),
            label: format!(
                "expected first failure{} at {} ± {}",
                expect
                    .fails_with
                    .as_ref()
                    .map_or(String::new(), |c| format!(" ({c})")),
                hms(t),
                hms(within)
            ),
        }
    });
    let mut moments: Vec<Moment> = scenario
        .revocations
        .iter()
        .map(|r| Moment {
            at: r.at.as_secs_f64(),
            label: format!("sessions of {} revoked", r.role_arn),
        })
        .collect();
    moments.extend(result.run.clock_faults.jumps.iter().map(|j| Moment {
        at: j.at.as_secs_f64(),
        label: format!("client clock jumps {:+} s", j.by_seconds),
    }));
    let m = &report.metrics;
    let summary = format!(
        "{} · {} requests · {} failed · {} STS calls · {} refreshes",
        report.verdict,
        m.requests,
        m.failure_count(),
        m.sts_calls,
        m.refreshes
    );
    Lane {
        scenario: scenario.name.clone(),
        run: report.name.clone(),
        strategy: report.strategy.clone(),
        met: report.met(),
        summary,
        length,
        credentials,
        calls,
        failures,
        faults,
        expected,
        moments,
    }
}

/// Escapes text for HTML and SVG content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour of a credential source.
fn issuer_colour(issued_by: Option<IssuedBy>) -> &'static str {
    match issued_by {
        Some(IssuedBy::AssumeRole) => "#4e79a7",
        Some(IssuedBy::AssumeRoleWithWebIdentity) => "#76b7b2",
        Some(IssuedBy::GetSessionToken) => "#59a14f",
        Some(IssuedBy::InstanceMetadata) => "#edc948",
        Some(IssuedBy::ContainerCredentials) => "#b07aa1",
        None => "#9c9c9c",
    }
}

fn issuer_name(issued_by: Option<IssuedBy>) -> &'static str {
    issued_by.map_or("unknown", |i| i.as_str())
}

/// Colours for error codes, in order of first appearance in the report.
const CODE_COLOURS: [&str; 8] = [
    "#e15759", "#f28e2b", "#af7aa1", "#ff9da7", "#9c755f", "#d37295", "#fabfd2", "#b6992d",
];

/// A tick step for an axis `length` seconds long: at most about 12 ticks.
fn tick_step(length: f64) -> f64 {
    const STEPS: [f64; 14] = [
        10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
        43200.0, 86400.0,
    ];
    STEPS
        .into_iter()
        .find(|step| length / step <= 12.0)
        .unwrap_or(86400.0)
}

/// `1h30m`, `15m`, `45s`: an axis label.
fn tick_label(seconds: f64) -> String {
    let s = seconds.round() as u64;
    let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m, sec) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (0, m, sec) => format!("{m}m{sec:02}s"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, _) => format!("{h}h{m:02}m"),
    }
}

/// Renders every lane as one HTML document titled `title`.
pub fn render(title: &str, lanes: &[Lane]) -> String {
    let mut codes: Vec<String> = Vec::new();
    for lane in lanes {
        for f in &lane.failures {
            if f.seen != Seen::Client && !codes.contains(&f.code) {
                codes.push(f.code.clone());
            }
        }
    }
    let colour_of = |code: &str| {
        codes
            .iter()
            .position(|c| c == code)
            .map_or("#666666", |i| CODE_COLOURS[i % CODE_COLOURS.len()])
    };
    let met = lanes.iter().filter(|l| l.met).count();
    let mut html = String::new();
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 13px/1.4 system-ui, sans-serif; margin: 16px 24px; color: #222; background: #fff; }}
h1 {{ font-size: 18px; margin: 0 0 4px; }}
h2 {{ font-size: 14px; margin: 18px 0 2px; }}
.lane-head {{ margin: 10px 0 0; }}
.lane-head .verdict {{ font-weight: 600; padding: 0 6px; border-radius: 3px; color: #fff; }}
.met .verdict {{ background: #2e7d32; }} .departed .verdict {{ background: #c62828; }}
.lane-head .summary {{ color: #555; }}
svg {{ display: block; width: 100%; max-width: {total_width}px; height: auto; }}
svg text {{ font: 10px system-ui, sans-serif; fill: #444; }}
.fault-label {{ fill: #b23b3d; font-size: 9px; }}
.legend span {{ display: inline-block; margin-right: 12px; }}
.legend i {{ display: inline-block; width: 18px; height: 9px; margin-right: 4px; vertical-align: middle; }}
</style></head><body>
<h1>{title}</h1>
<p>{runs} run(s): {met} met, {departed} departed. Simulated time runs left to right from each run's first request. Hover any mark for details.</p>
"#,
        title = escape(title),
        total_width = LABEL_WIDTH + PLOT_WIDTH + 20.0,
        runs = lanes.len(),
        departed = lanes.len() - met,
    );
    legend(&mut html, &codes, &colour_of);
    let mut scenario = None;
    for lane in lanes {
        if scenario != Some(&lane.scenario) {
            let _ = writeln!(html, "<h2>{}</h2>", escape(&lane.scenario));
            scenario = Some(&lane.scenario);
        }
        render_lane(&mut html, lane, &colour_of);
    }
    html.push_str("</body></html>\n");
    html
}

fn legend(html: &mut String, codes: &[String], colour_of: &dyn Fn(&str) -> &'static str) {
    html.push_str("<p class=\"legend\">");
    for issuer in IssuedBy::ALL {
        let _ = write!(
            html,
            "<span><i style=\"background:{}\"></i>credential from {}</span>",
            issuer_colour(Some(issuer)),
            issuer.as_str()
        );
    }
    html.push_str("<span><i style=\"background:#222;height:3px\"></i>in use</span>");
    html.push_str(
        "<span><i style=\"background:#c62828;height:3px\"></i>in use after its expiry</span>",
    );
    html.push_str("<span><i style=\"background:#2e7d32\"></i>credential call ok</span>");
    html.push_str("<span><i style=\"background:#c62828\"></i>credential call failed</span>");
    for code in codes {
        let _ = write!(
            html,
            "<span><i style=\"background:{}\"></i>{}</span>",
            colour_of(code),
            escape(code)
        );
    }
    html.push_str("<span><i style=\"background:#555\"></i>failed in the client</span>");
    html.push_str(
        "<span><i style=\"background:#e15759;opacity:.15\"></i>fault window</span>\
         <span><i style=\"border:1px dashed #1565c0;height:7px;width:16px\"></i>expected first failure</span></p>\n",
    );
}

fn render_lane(html: &mut String, lane: &Lane, colour_of: &dyn Fn(&str) -> &'static str) {
    let x = |t: f64| LABEL_WIDTH + (t / lane.length).clamp(0.0, 1.0) * PLOT_WIDTH;
    // Credential rows: each bar in the first row free at its issue time.
    let mut row_ends: Vec<f64> = Vec::new();
    let rows: Vec<usize> = lane
        .credentials
        .iter()
        .map(|c| {
            match row_ends.iter().position(|end| *end <= c.issued_at) {
                Some(i) => {
                    row_ends[i] = c.expires_at;
                    i
                }
                None if row_ends.len() < MAX_BAR_ROWS => {
                    row_ends.push(c.expires_at);
                    row_ends.len() - 1
                }
                // Past the cap, bars overlap in the last row; their titles still tell them apart.
                None => MAX_BAR_ROWS - 1,
            }
        })
        .collect();
    let bar_rows = row_ends.len().max(1) as f64;
    let top = 4.0;
    let bars_h = bar_rows * BAR_ROW;
    let calls_y = top + bars_h + 6.0;
    let fail_y = calls_y + 16.0;
    let fail_h = 14.0;
    let axis_y = fail_y + fail_h + 6.0;
    let height = axis_y + 14.0;
    let class = if lane.met { "met" } else { "departed" };
    let _ = writeln!(
        html,
        "<div class=\"lane {class}\" data-run=\"{run}\"><p class=\"lane-head\"><b>{run}</b> ({strategy}) <span class=\"verdict\">{verdict}</span> <span class=\"summary\">{summary}</span></p>",
        run = escape(&lane.run),
        strategy = escape(&lane.strategy),
        verdict = if lane.met { "met" } else { "departed" },
        summary = escape(&lane.summary),
    );
    let width = LABEL_WIDTH + PLOT_WIDTH + 20.0;
    let _ = writeln!(
        html,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"timeline of {}\">",
        escape(&lane.run)
    );
    // Backgrounds first: fault windows and the expected window span the whole lane.
    for w in &lane.faults {
        let _ = writeln!(
            html,
            "<rect class=\"fault\" x=\"{:.1}\" y=\"0\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#e15759\" fill-opacity=\"0.13\"><title>fault {} from {} until {}</title></rect>",
            x(w.from),
            (x(w.until) - x(w.from)).max(1.0),
            axis_y,
            escape(&w.label),
            hms(w.from),
            hms(w.until)
        );
        if x(w.until) - x(w.from) > 60.0 {
            let _ = writeln!(
                html,
                "<text class=\"fault-label\" x=\"{:.1}\" y=\"{:.1}\" fill=\"#b23b3d\">{}</text>",
                x(w.from) + 3.0,
                axis_y - 3.0,
                escape(&w.label)
            );
        }
    }
    if let Some(w) = &lane.expected {
        let _ = writeln!(
            html,
            "<rect class=\"expected\" x=\"{:.1}\" y=\"1\" width=\"{:.1}\" height=\"{:.1}\" fill=\"none\" stroke=\"#1565c0\" stroke-dasharray=\"4 2\"><title>{}</title></rect>",
            x(w.from) - 1.0,
            (x(w.until) - x(w.from)) + 2.0,
            axis_y - 2.0,
            escape(&w.label)
        );
    }
    for (label, y) in [
        ("credentials", top + bars_h / 2.0),
        ("credential calls", calls_y + 4.0),
        ("failures", fail_y + fail_h / 2.0),
    ] {
        let _ = writeln!(
            html,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" dominant-baseline=\"middle\">{label}</text>",
            LABEL_WIDTH - 6.0,
            y
        );
    }
    for (c, row) in lane.credentials.iter().zip(&rows) {
        let y = top + *row as f64 * BAR_ROW;
        let used = c.used.map_or("never used".to_string(), |(a, b)| {
            format!("used {}–{} by {} requests", hms(a), hms(b), c.requests)
        });
        let _ = writeln!(
            html,
            "<g class=\"credential\"><title>{key} from {issuer}: issued {issued}, expires {expires} ({life}); {used}</title><rect class=\"credential-bar\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{colour}\" fill-opacity=\"0.55\" rx=\"1.5\"/>",
            key = escape(&c.access_key_id),
            issuer = issuer_name(c.issued_by),
            issued = hms(c.issued_at),
            expires = hms(c.expires_at),
            life = hms(c.expires_at - c.issued_at),
            x = x(c.issued_at),
            w = (x(c.expires_at) - x(c.issued_at)).max(1.0),
            h = BAR_ROW - 2.0,
            colour = issuer_colour(c.issued_by),
        );
        if let Some((a, b)) = c.used {
            let y = y + BAR_ROW / 2.0 - 2.0;
            let end = b.min(c.expires_at);
            if a < end {
                let _ = write!(
                    html,
                    "<rect class=\"in-use\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"2.5\" fill=\"#222\"/>",
                    x(a),
                    (x(end) - x(a)).max(1.0)
                );
            }
            // Still signing requests after its expiry: what a client that never refreshes does.
            if b >= c.expires_at {
                let from = a.max(c.expires_at);
                let _ = write!(
                    html,
                    "<rect class=\"used-expired\" x=\"{:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"2.5\" fill=\"#c62828\"><title>{} signed {} requests after its expiry at {}, the last at {}</title></rect>",
                    x(from),
                    (x(b) - x(from)).max(1.0),
                    escape(&c.access_key_id),
                    c.late,
                    hms(c.expires_at),
                    hms(b)
                );
            }
        }
        html.push_str("</g>\n");
    }
    // Credential calls: one triangle each; failed ones red with the code in the title.
    for call in &lane.calls {
        let cx = x(call.at);
        let colour = if call.error.is_some() {
            "#c62828"
        } else {
            "#2e7d32"
        };
        let outcome = match (&call.error, &call.injected) {
            (None, None) => "ok".to_string(),
            (None, Some(fault)) => format!("ok, {fault} injected"),
            (Some(code), None) => code.clone(),
            (Some(code), Some(fault)) if fault.contains(code.as_str()) => {
                format!("{code} (injected)")
            }
            (Some(code), Some(fault)) => format!("{code} (injected {fault})"),
        };
        let _ = writeln!(
            html,
            "<path class=\"call\" d=\"M{:.1} {:.1} l-3.5 8 h7 z\" fill=\"{colour}\"><title>{} at {}: {}</title></path>",
            cx,
            calls_y,
            escape(&call.action),
            hms(call.at),
            escape(&outcome)
        );
    }
    // Failures: counted per plot column and code, one tick per (column, code).
    let mut columns: BTreeMap<(i64, Seen, &str), (u64, f64, f64)> = BTreeMap::new();
    for f in &lane.failures {
        let col = ((f.at / lane.length).clamp(0.0, 1.0) * PLOT_WIDTH).floor() as i64;
        let entry = columns
            .entry((col, f.seen, f.code.as_str()))
            .or_insert((0, f.at, f.at));
        entry.0 += 1;
        entry.2 = f.at;
    }
    let mut per_column: HashMap<i64, f64> = HashMap::new();
    for ((col, seen, code), (count, first, last)) in &columns {
        // Ticks of different codes in one column stack upwards.
        let offset = per_column.entry(*col).or_insert(0.0);
        let h = (fail_h - *offset).max(3.0);
        let (colour, class, side) = match seen {
            Seen::Server => (colour_of(code), "failure", "answered"),
            Seen::Injected => (colour_of(code), "failure injected", "injected"),
            Seen::Client => ("#555555", "failure client", "failed in the client"),
        };
        let when = if first == last {
            hms(*first)
        } else {
            format!("{}–{}", hms(*first), hms(*last))
        };
        let _ = writeln!(
            html,
            "<rect class=\"{class}\" x=\"{:.1}\" y=\"{:.1}\" width=\"1.6\" height=\"{h:.1}\" fill=\"{colour}\"{}><title>{count} × {} ({side}) at {when}</title></rect>",
            LABEL_WIDTH + *col as f64,
            fail_y + fail_h - h - *offset,
            if *seen == Seen::Injected {
                " fill-opacity=\"0.5\""
            } else {
                ""
            },
            escape(code),
        );
        *offset += 3.0;
    }
    for m in &lane.moments {
        let _ = writeln!(
            html,
            "<line class=\"moment\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"0\" y2=\"{1:.1}\" stroke=\"#6a1b9a\" stroke-width=\"1.5\"><title>{2} at {3}</title></line>",
            x(m.at),
            axis_y,
            escape(&m.label),
            hms(m.at)
        );
    }
    // The axis.
    let _ = writeln!(
        html,
        "<line x1=\"{LABEL_WIDTH}\" x2=\"{:.1}\" y1=\"{axis_y:.1}\" y2=\"{axis_y:.1}\" stroke=\"#888\"/>",
        LABEL_WIDTH + PLOT_WIDTH
    );
    let step = tick_step(lane.length);
    let mut t = 0.0;
    while t <= lane.length + 0.001 {
        let _ = writeln!(
            html,
            "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.1}\" y2=\"{2:.1}\" stroke=\"#888\"/><text class=\"tick\" x=\"{0:.1}\" y=\"{3:.1}\" text-anchor=\"middle\">{4}</text>",
            x(t),
            axis_y,
            axis_y + 3.0,
            axis_y + 12.0,
            tick_label(t)
        );
        t += step;
    }
    html.push_str("</svg></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_stay_readable_from_minutes_to_days() {
        assert_eq!(tick_step(900.0), 120.0);
        assert_eq!(tick_step(3600.0), 300.0);
        assert_eq!(tick_step(13.0 * 3600.0), 7200.0);
        assert_eq!(tick_step(10.0 * 86400.0), 86400.0);
        assert_eq!(tick_label(0.0), "0s");
        assert_eq!(tick_label(900.0), "15m");
        assert_eq!(tick_label(5400.0), "1h30m");
        assert_eq!(tick_label(7200.0), "2h");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&#39;");
    }
}
