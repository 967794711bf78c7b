//! Compressed runs (`compressed:K`): the scenario shrunk by K onto real time, and what it
//! measured stretched back into the scenario's time.
//!
//! A client that libfaketime cannot accelerate (a Go binary) runs on the real clock; the mock
//! runs on it too, with every lifetime it grants divided by K (`mock_sts::compression`). So
//! that the story keeps its shape, every duration of the scenario is divided by K as well
//! ([`shrink`]): the workload's length and interval, fault windows and injected latencies,
//! revocations, the projected token's lifetime, presigned URLs' validity and waits, in-process
//! clock faults; a request quota is multiplied by K. A one-hour session then lasts 1 h / K and
//! the four-hour job that outlives it 4 h / K.
//!
//! Expectations stay written in the scenario's time. After the run, every simulated time the
//! mock recorded is multiplied by K from the run's first request ([`stretch`]): arrivals,
//! signing times, issue and expiry times, granted lifetimes, request spans; the client's own
//! records too. The report then reads exactly as a `scaled:K` run's would, `at`, `within` and
//! `min_refresh_lead` compare as written, and the header says `compressed:K`. Real latencies
//! and X-Amz-Date's whole seconds are multiplied too (one second is K scenario seconds): allow
//! for it in `within`, as for a scaled clock.
//!
//! What compression cannot shrink is the client's own clock: its refresh window stays real.
//! A lifetime that compresses into the window (one hour at K = 60 is 60 s, inside botocore's
//! 15 minutes) makes the client renew on every call, which it would never do on real
//! lifetimes; [`warnings`] says so for the run, with the largest factor that avoids it. A
//! lifetime the mock had to floor at a minute (a client asking for a short `DurationSeconds`
//! the scenario did not declare) no longer scales; the report says that too. (Lifetimes the
//! scenario declares are checked when it is read: `scenario::check_compression`.)

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

use mock_sts::clock::SimClock;
use mock_sts::compression::{LifetimeCompression, MIN_LIFETIME};
use mock_sts::events::Event;
use mock_sts::faults::{Effect, RuleKind};

use crate::runner::RunResult;
use crate::scenario::{ClockSpec, ProfileKind, RunSpec, Scenario, StrategyKind, run_lifetime};

/// The mock's compression for factor `k` (1 when `k` is 0, which the scenario check refuses).
pub fn compression(k: u32) -> LifetimeCompression {
    LifetimeCompression::new(NonZeroU32::new(k).unwrap_or(NonZeroU32::MIN))
}

/// `scenario` with every duration divided by `k`, starting on the real clock now.
pub fn shrink(scenario: &Scenario, k: u32) -> Scenario {
    let k = k.max(1);
    let div = |d: Duration| d / k;
    let old_start = scenario.start;
    let start = SimClock::wall().now();
    let at = |t: SystemTime| match t.duration_since(old_start) {
        Ok(d) => start + d / k,
        Err(e) => start - e.duration() / k,
    };
    let mut s = scenario.clone();
    s.start = start;
    s.clock = ClockSpec::Compressed { factor: k };
    let w = &mut s.workload;
    w.length = div(w.length);
    w.every = div(w.every);
    w.latency = div(w.latency);
    if let Some(m) = &mut w.multipart {
        m.bandwidth *= f64::from(k);
    }
    if let Some(p) = &mut w.presign {
        // X-Amz-Expires has whole seconds: never below one.
        p.expires = div(p.expires).max(Duration::from_secs(1));
        p.use_after = div(p.use_after);
    }
    for rule in &mut s.faults {
        rule.from = rule.from.map(at);
        rule.until = rule.until.map(at);
        match &mut rule.kind {
            RuleKind::Effect(Effect::Latency(d)) => *d = div(*d),
            RuleKind::Quota { per_second } => *per_second = per_second.saturating_mul(k),
            RuleKind::Effect(_) => {}
        }
    }
    for r in &mut s.revocations {
        r.at = div(r.at);
        r.issued_before = div(r.issued_before);
    }
    if let Some(token) = &mut s.projected_token {
        token.lifetime = div(token.lifetime);
    }
    for run in &mut s.runs {
        let f = &mut run.clock_faults;
        f.offset_seconds /= f64::from(k);
        for jump in &mut f.jumps {
            jump.at = div(jump.at);
            jump.by_seconds /= f64::from(k);
        }
    }
    s
}

/// Multiplies every simulated time of a finished compressed run by `k` from its start, into
/// the scenario's time (see the module doc). Wall times stay as they were.
pub fn stretch(result: &mut RunResult, k: u32) {
    let start = result.start;
    let t = |time: SystemTime| match time.duration_since(start) {
        Ok(d) => start + d * k,
        Err(e) => start - e.duration() * k,
    };
    for e in &mut result.events {
        stretch_event(e, k, &t);
    }
    for op in &mut result.ops {
        op.started = t(op.started);
        op.finished = t(op.finished);
    }
    for stop in &mut result.worker_stops {
        stop.at = t(stop.at);
    }
    for line in &mut result.sdk_log.lines {
        line.first = t(line.first);
    }
}

fn stretch_event(e: &mut Event, k: u32, t: &impl Fn(SystemTime) -> SystemTime) {
    e.sim_time = t(e.sim_time);
    e.request_time = e.request_time.map(t);
    e.sim_latency_ms *= f64::from(k);
    if let Some(s) = &mut e.signed_by {
        s.issued_at = s.issued_at.map(t);
        s.expires_at = s.expires_at.map(t);
    }
    if let Some(i) = &mut e.issued {
        i.expires_at = t(i.expires_at);
        i.duration_seconds_granted = i.duration_seconds_granted.saturating_mul(k);
    }
}

/// Who renews a run's credentials and within what window of their expiry, on the client's own
/// clock: `None` when the harness cannot know (a `process` run that names no `client`) or
/// the client renews only once they have expired.
pub fn client_window(run: &RunSpec, compressed_lifetime: Duration) -> Option<(Duration, String)> {
    let (window, who) = match run.strategy {
        StrategyKind::SdkProfile
        | StrategyKind::SdkImds
        | StrategyKind::SdkContainer
        | StrategyKind::SdkWebIdentity
        | StrategyKind::WebIdentityReadOnce
        | StrategyKind::PodIdentityReadOnce => (
            Duration::from_secs(10),
            "aws-sdk-rust's identity cache (5-10 s)".to_string(),
        ),
        StrategyKind::SpecRefresh | StrategyKind::SpecRefreshImds => (
            crate::spec_refresh::windows::advisory_window(compressed_lifetime),
            "spec-refresh's advisory window (chosen from the lifetime it is given)".to_string(),
        ),
        StrategyKind::ManualEnv | StrategyKind::NaiveRefresh => return None,
        StrategyKind::Process => {
            let spec = run.process.as_ref()?;
            let client = spec.client?;
            let container = spec.profile == ProfileKind::Container;
            match spec.refresh_window {
                Some(w) => (
                    w,
                    format!("{}'s refresh window (refresh_window)", client.as_str()),
                ),
                None => (
                    client.refresh_window(container),
                    format!("{}'s refresh window", client.as_str()),
                ),
            }
        }
    };
    (!window.is_zero()).then_some((window, who))
}

/// The warning for a run whose lifetime (`lifetime`, the scenario's) compresses into its
/// client's refresh window at factor `k`, where the uncompressed one did not: compression
/// itself then changes what the client does. `None` otherwise.
pub fn window_warning(run: &RunSpec, lifetime: Duration, k: u32) -> Option<String> {
    let compressed = compression(k).compress(lifetime);
    let (window, who) = client_window(run, compressed)?;
    if compressed > window {
        return None;
    }
    // Inside the window on real lifetimes too: that is the client's own behaviour.
    let uncompressed = client_window(run, lifetime).map(|(w, _)| w);
    if uncompressed.is_none_or(|w| lifetime <= w) {
        return None;
    }
    let largest = (1..k)
        .rev()
        .find(|&f| compression(f).compress(lifetime) > window);
    Some(format!(
        "compressed:{k}: its {} s credentials last {} s here, inside {who} of {} s, which runs on the client's real clock and does not shrink: the client renews on every call from the moment it gets them, which it would not do on real lifetimes, so its refreshes, STS calls and leads show compression, not the client{}",
        lifetime.as_secs(),
        compressed.as_secs(),
        window.as_secs(),
        match largest {
            Some(f) => format!(" (compressed:{f} or less keeps them outside)"),
            None => String::new(),
        }
    ))
}

/// Credentials the mock issued whose compressed lifetime it floored at a minute: asked for
/// fewer than a minute × `k` seconds, they lasted longer than the scenario's time says.
/// (`events` already stretched: a granted lifetime reads `real × k`.)
pub fn floored_grants(events: &[Event], k: u32) -> Option<String> {
    let floor = MIN_LIFETIME.as_secs() * u64::from(k);
    let floored: Vec<u32> = events
        .iter()
        .filter_map(|e| e.issued.as_ref())
        .filter_map(|i| {
            let asked = i.duration_seconds_requested?;
            (u64::from(asked) < floor && u64::from(i.duration_seconds_granted) > u64::from(asked))
                .then_some(asked)
        })
        .collect();
    let first = *floored.first()?;
    Some(format!(
        "compressed:{k}: {} session{} asked for DurationSeconds={first} (under {floor} s), which the mock floors at a minute, so {} lasted {floor} s of the scenario's time, not {first} s: set duration_seconds so the program asks for at least {floor} s, or use a smaller factor",
        floored.len(),
        if floored.len() == 1 { "" } else { "s" },
        if floored.len() == 1 { "it" } else { "they" },
    ))
}

/// The run's compression warnings for the report (empty unless its clock is compressed).
pub fn warnings(scenario: &Scenario, result: &RunResult) -> Vec<String> {
    let Some(k) = result.clock.compression() else {
        return Vec::new();
    };
    let lifetime = run_lifetime(&result.run, &scenario.world);
    window_warning(&result.run, lifetime, k)
        .into_iter()
        .chain(floored_grants(&result.events, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    const SCENARIO: &str = r#"
name = "c"
[clock]
mode = "compressed"
factor = 60
[workload]
length = "2h"
every = "1m"
operations = ["PutObject"]
[[fault]]
service = "sts"
from = "55m"
until = "1h05m"
effect = { error = "ServiceUnavailable" }
[[revoke]]
at = "90m"
[[run]]
name = "rust"
strategy = "sdk-profile"
expect = { passes = true }
[[run]]
name = "spec"
strategy = "spec-refresh"
expect = { passes = true }
[[run]]
name = "pinned"
strategy = "manual-env"
expect = { fails_with = "ExpiredToken" }
[[run]]
name = "boto3"
strategy = "process"
command = "sh -c true"
profile = "assume-role"
client = "botocore"
expect = { passes = true }
[[run]]
name = "go"
strategy = "process"
command = "sh -c true"
duration_seconds = 3600
client = "go"
expect = { passes = true }
[[run]]
name = "go-window"
strategy = "process"
command = "sh -c true"
duration_seconds = 3600
client = "go"
refresh_window = "10s"
expect = { passes = true }
[[run]]
name = "unknown"
strategy = "process"
command = "sh -c true"
expect = { passes = true }
"#;

    fn scenario(text: &str) -> Scenario {
        Scenario::parse(text, Path::new("/tmp/c.toml")).unwrap()
    }

    fn warns(s: &Scenario, name: &str, k: u32) -> Option<String> {
        let run = s.runs.iter().find(|r| r.name == name).unwrap();
        window_warning(run, run_lifetime(run, &s.world), k)
    }

    #[test]
    fn the_warning_fires_when_a_lifetime_compresses_into_the_clients_window() {
        let s = scenario(SCENARIO);
        // botocore: 3600/60 = 60 s inside 15 minutes; 3600/3 = 1200 s is outside, 3600/4 =
        // 900 s is on the edge (inside: remaining < 900 s from the first call).
        let w = warns(&s, "boto3", 60).expect("botocore at K = 60");
        assert!(w.contains("60 s here") && w.contains("botocore"), "{w}");
        assert!(w.contains("compressed:3 or less"), "{w}");
        assert!(warns(&s, "boto3", 4).is_some());
        assert!(warns(&s, "boto3", 3).is_none());
        // spec-refresh: the 5-minute advisory window a 60 s set gets.
        assert!(warns(&s, "spec", 60).is_some());
        assert!(warns(&s, "spec", 12).is_some(), "300 s is inside 5 minutes");
        assert!(warns(&s, "spec", 11).is_none());
        // Go with ExpiryWindow 10 s: 60 s is outside; a 10 s window is inside at 3600/360,
        // which the factor's bound (60) never reaches.
        assert!(warns(&s, "go-window", 60).is_none());
    }

    #[test]
    fn the_warning_stays_quiet_where_compression_changes_nothing() {
        let s = scenario(SCENARIO);
        // aws-sdk-rust renews 5-10 s early: a minute is well outside.
        assert!(warns(&s, "rust", 60).is_none());
        // Go's default ExpiryWindow of 0 and keys that are never renewed have no window.
        assert!(warns(&s, "go", 60).is_none());
        assert!(warns(&s, "pinned", 60).is_none());
        // A program that does not say which SDK it is: nothing to compare with.
        assert!(warns(&s, "unknown", 60).is_none());
        // A lifetime inside botocore's window without compression: botocore's own behaviour.
        let short = scenario(
            &SCENARIO
                .replace(
                    "profile = \"assume-role\"\nclient",
                    "profile = \"assume-role\"\nduration_seconds = 900\nclient",
                )
                .replace("factor = 60", "factor = 15"),
        );
        assert!(warns(&short, "boto3", 15).is_none());
    }

    #[test]
    fn shrinking_divides_the_story_and_stretching_multiplies_it_back() {
        let s = scenario(SCENARIO);
        let small = shrink(&s, 60);
        assert_eq!(small.workload.length, Duration::from_secs(120));
        assert_eq!(small.workload.every, Duration::from_secs(1));
        assert_eq!(small.revocations[0].at, Duration::from_secs(90));
        let rule = &small.faults[0];
        assert_eq!(
            rule.from.unwrap().duration_since(small.start).unwrap(),
            Duration::from_secs(55)
        );
        assert_eq!(
            rule.until.unwrap().duration_since(small.start).unwrap(),
            Duration::from_secs(65)
        );
        // The run's expectations stay in the scenario's time.
        assert_eq!(small.runs, s.runs);
    }

    #[test]
    fn floored_grants_are_named() {
        use mock_sts::events::Issued;
        let issued = |asked: Option<u32>, granted: u32| Issued {
            access_key_id: "ASIA".into(),
            role_arn: None,
            session_name: None,
            duration_seconds_requested: asked,
            duration_seconds_granted: granted,
            max_session_duration: None,
            chained: false,
            expires_at: SystemTime::UNIX_EPOCH,
        };
        let event = |i: Issued| Event {
            seq: 1,
            sim_time: SystemTime::UNIX_EPOCH,
            wall_time: SystemTime::UNIX_EPOCH,
            service: mock_sts::aws_error::Service::Sts,
            action: mock_sts::events::Action::Sts(mock_sts::sts::Action::AssumeRole),
            request_id: "r".into(),
            request_time: None,
            signed_by: None,
            status: 200,
            error_code: None,
            error_message: None,
            issued: Some(i),
            latency_ms: 0.0,
            sim_latency_ms: 0.0,
            fault: None,
        };
        // 900 s at K = 60: floored to 60 s, which reads 3600 s stretched.
        let w = floored_grants(&[event(issued(Some(900), 3600))], 60).unwrap();
        assert!(w.contains("DurationSeconds=900"), "{w}");
        // 3600 s at K = 60 scales: 60 s, 3600 s stretched; no DurationSeconds sent: STS's hour.
        assert!(floored_grants(&[event(issued(Some(3600), 3600))], 60).is_none());
        assert!(floored_grants(&[event(issued(None, 3600))], 60).is_none());
    }
}
