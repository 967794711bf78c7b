//! The six rules, each read precisely from a run's [`Facts`] (aws-facts §6.8; the windows and
//! back-off are [`crate::spec_refresh::windows`]'s numbers, the same the reference strategy
//! uses):
//!
//! - **advisory-window**: for each credential that signed the data plane, the first refresh
//!   attempt after it was issued starts with a lead (its expiry minus the attempt's start) in
//!   `[1 min, advisory]`, the advisory window being the one its lifetime (from when it was
//!   obtained) gives. A credential that signed a request past its expiry with no attempt
//!   before fails. Not judged: attempts after the server refused the credential as bad (those
//!   are invalidations), and credentials the job did not outlive.
//! - **mandatory-window**: no data-plane request is signed (by its `X-Amz-Date`: the client
//!   is held to its own clock) with credentials that have less than a minute left, or are
//!   expired, while the source is healthy (no failed attempt is the latest one). During an
//!   outage serving them is static stability, not a violation.
//! - **static-stability**: from a failed attempt to the next successful one, until the
//!   server refuses the cached credentials as bad, no call fails in the client for want of
//!   credentials and the program does not stop (exits non-zero inside an outage that had not
//!   ended, before any refusal). Requests signed with expired credentials in
//!   that time are stale serves, counted accepted and refused.
//! - **outage-backoff**: after each failed attempt (after the data plane started: with
//!   nothing cached there is nothing to be stable with), the next attempt starts 300-600 s
//!   after it ended, and a failed attempt lasts at most [`MAX_ATTEMPT`] (asking on every call
//!   is one long attempt).
//! - **single-flight**: no two credential-issuing calls overlap (arrival to answer; on the
//!   virtual clock calls take no time, so two at the same instant overlap), a chain's next
//!   step (a call signed with the key the previous one issued) apart.
//! - **invalidate-on-auth-failure**: after the server refuses a data-plane request's
//!   credentials as bad ([`PROOF_CODES`]), the next data-plane request that arrives more
//!   than [`IN_FLIGHT_GRACE`] later is not signed with them (a refusal no request followed,
//!   a program that stopped on it, tests nothing). `AccessDenied` (a revocation) proves
//!   nothing under the rules; it is counted, not judged.
//!
//! Times on scaled clocks carry some error, so comparisons allow [`TOLERANCE`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use super::facts::{Attempt, Facts, PROOF_CODES, Signed};
use super::{ClientSide, Rule, RuleResult, Verdict};
use crate::metrics::{hms, since};
use crate::spec_refresh::windows::{BACKOFF_MAX, BACKOFF_MIN, MANDATORY_WINDOW, advisory_window};

/// Slack on every time comparison: `X-Amz-Date` has whole seconds, and a program's fake
/// clock on a scaled run is a second or two from the server's.
pub const TOLERANCE: Duration = Duration::from_secs(2);

/// The longest a failed attempt may last (a refresh and its SDK's retries).
pub const MAX_ATTEMPT: Duration = Duration::from_secs(30);

/// Requests arriving this soon after a refusal may have been signed before it.
pub const IN_FLIGHT_GRACE: Duration = Duration::from_secs(1);

/// `rule`'s result on `facts`.
pub fn judge(rule: Rule, facts: &Facts, client: &ClientSide) -> RuleResult {
    let (verdict, figures, reason) = match rule {
        Rule::AdvisoryWindow => advisory(facts),
        Rule::MandatoryWindow => mandatory(facts),
        Rule::StaticStability => static_stability(facts, client),
        Rule::OutageBackoff => backoff(facts),
        Rule::SingleFlight => single_flight(facts),
        Rule::InvalidateOnAuthFailure => invalidate(facts),
    };
    RuleResult {
        rule,
        verdict,
        figures,
        reason,
    }
}

type Judged = (Verdict, BTreeMap<&'static str, f64>, String);

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn advisory(f: &Facts) -> Judged {
    let mut figures = BTreeMap::new();
    let (mut judged, mut invalidations) = (0u64, 0u64);
    let mut leads = Vec::new();
    let mut first_bad: Option<String> = None;
    for s in &f.signers {
        let (Some(expires), Some(lifetime)) = (s.expires, s.lifetime()) else {
            continue;
        };
        let window = advisory_window(lifetime);
        let refused_at = f
            .data
            .iter()
            .find(|d| d.key == s.key && d.refused_as_bad())
            .map(|d| d.arrived);
        match f.attempt_after(s) {
            Some(a) if refused_at.is_some_and(|r| r <= a.first) => invalidations += 1,
            Some(a) => {
                judged += 1;
                let lead = since(a.first, expires);
                leads.push(lead);
                let ok = lead >= secs(MANDATORY_WINDOW) - secs(TOLERANCE)
                    && lead <= secs(window) + secs(TOLERANCE);
                if !ok && first_bad.is_none() {
                    first_bad = Some(format!(
                        "the refresh at {} of {} credentials started {} their expiry, outside [{}, {}] before it (the advisory window for that lifetime)",
                        hms(f.at(a.first)),
                        hms(secs(lifetime)),
                        if lead < 0.0 {
                            format!("{} after", hms(-lead))
                        } else {
                            format!("{} before", hms(lead))
                        },
                        hms(secs(MANDATORY_WINDOW)),
                        hms(secs(window)),
                    ));
                }
            }
            None => {
                if let Some(late) = f
                    .data
                    .iter()
                    .find(|d| d.key == s.key && d.arrived >= expires)
                {
                    judged += 1;
                    if first_bad.is_none() {
                        first_bad = Some(format!(
                            "{} credentials expired at {} and signed a request at {} with no refresh attempt before",
                            hms(secs(lifetime)),
                            hms(f.at(expires)),
                            hms(f.at(late.arrived))
                        ));
                    }
                }
            }
        }
    }
    figures.insert("refreshes_judged", judged as f64);
    figures.insert("invalidations_not_judged", invalidations as f64);
    if let Some(min) = leads.iter().copied().reduce(f64::min) {
        figures.insert("lead_min_seconds", min);
    }
    if let Some(max) = leads.iter().copied().reduce(f64::max) {
        figures.insert("lead_max_seconds", max);
    }
    match (judged, first_bad) {
        (0, _) => (
            Verdict::NotApplicable,
            figures,
            "no credential reached a refresh during the job (or every refresh followed a refusal)"
                .into(),
        ),
        (_, Some(bad)) => (Verdict::Fail, figures, format!("{bad}.")),
        (n, None) => (
            Verdict::Pass,
            figures,
            format!(
                "all {n} refreshes started inside their advisory window (leads {}-{}).",
                hms(leads.iter().copied().fold(f64::INFINITY, f64::min)),
                hms(leads.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
            ),
        ),
    }
}

fn mandatory(f: &Facts) -> Judged {
    let mut figures = BTreeMap::new();
    let last = f.data.last().map(|d| d.arrived);
    let reached = f.signers.iter().any(|s| {
        s.expires
            .zip(last)
            .is_some_and(|(e, l)| l + MANDATORY_WINDOW >= e)
    });
    let (mut last_minute, mut expired, mut excused) = (0u64, 0u64, 0u64);
    let mut first: Option<&Signed> = None;
    for d in &f.data {
        let Some(expires) = d.expires else { continue };
        let left = since(d.signed_at, expires);
        if left >= secs(MANDATORY_WINDOW) - secs(TOLERANCE) {
            continue;
        }
        if f.source_failing_at(d.arrived) {
            excused += 1;
            continue;
        }
        if left <= -secs(TOLERANCE) {
            expired += 1;
        } else {
            last_minute += 1;
        }
        first.get_or_insert(d);
    }
    figures.insert("signed_in_last_minute", last_minute as f64);
    figures.insert("signed_expired", expired as f64);
    figures.insert("during_outage_not_judged", excused as f64);
    match first {
        Some(d) => (
            Verdict::Fail,
            figures,
            format!(
                "with the source healthy, {} requests were signed in their credentials' last minute and {} after expiry (first at {}, {} left).",
                last_minute,
                expired,
                hms(f.at(d.arrived)),
                hms(d.expires.map_or(0.0, |e| since(d.signed_at, e)))
            ),
        ),
        None if !reached => (
            Verdict::NotApplicable,
            figures,
            "no credential came within a minute of its expiry during the job.".into(),
        ),
        None => (
            Verdict::Pass,
            figures,
            "no request was signed in its credentials' last minute while the source was healthy."
                .into(),
        ),
    }
}

/// Failed attempts after the data plane started, grouped into outages: (first failed
/// attempt's start, the next successful attempt's start or `None`).
fn outages(f: &Facts) -> Vec<(SystemTime, Option<SystemTime>)> {
    let Some(from) = f.data_start() else {
        return Vec::new();
    };
    let mut out: Vec<(SystemTime, Option<SystemTime>)> = Vec::new();
    let mut open: Option<SystemTime> = None;
    for a in f.attempts.iter().filter(|a| a.first >= from) {
        match (a.succeeded, open) {
            (false, None) => open = Some(a.first),
            (true, Some(start)) => {
                out.push((start, Some(a.first)));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        out.push((start, None));
    }
    out
}

fn static_stability(f: &Facts, client: &ClientSide) -> Judged {
    let mut figures = BTreeMap::new();
    let outages = outages(f);
    let (mut stale, mut accepted, mut refused, mut load_failures) = (0u64, 0u64, 0u64, 0u64);
    let mut stopped_at: Option<SystemTime> = None;
    let last_data = f.data.last();
    for &(start, end) in &outages {
        let inside = |t: SystemTime| t >= start && end.is_none_or(|e| t < e);
        let cutoff = f
            .data
            .iter()
            .find(|d| inside(d.arrived) && d.refused_as_bad())
            .map(|d| d.arrived);
        let judged = |t: SystemTime| inside(t) && cutoff.is_none_or(|c| t < c);
        for d in f.data.iter().filter(|d| inside(d.arrived) && d.stale()) {
            stale += 1;
            if d.accepted {
                accepted += 1;
            } else {
                refused += 1;
            }
        }
        load_failures += client
            .credential_failures
            .iter()
            .filter(|t| judged(**t))
            .count() as u64;
        // A program that stopped (exited non-zero) inside an outage it never saw end, and
        // before any refusal: it failed instead of serving what it had.
        if client.stopped
            && end.is_none()
            && cutoff.is_none()
            && let Some(last) = last_data
        {
            stopped_at = Some(last.arrived.max(start));
        }
    }
    figures.insert("outages", outages.len() as f64);
    figures.insert("stale_serves", stale as f64);
    figures.insert("stale_accepted", accepted as f64);
    figures.insert("stale_refused", refused as f64);
    figures.insert("credential_load_failures", load_failures as f64);
    if outages.is_empty() {
        return (
            Verdict::NotApplicable,
            figures,
            "no refresh failed after the job started.".into(),
        );
    }
    let serves = format!("{stale} stale serves ({accepted} accepted, {refused} refused)");
    if load_failures > 0 {
        return (
            Verdict::Fail,
            figures,
            format!(
                "while the source failed, {load_failures} calls failed in the client for want of credentials instead of being served the cached ones ({serves})."
            ),
        );
    }
    if let Some(t) = stopped_at {
        return (
            Verdict::Fail,
            figures,
            format!(
                "the program stopped (exit status non-zero) after {} while the source failed, before the server refused its cached credentials ({serves}).",
                hms(f.at(t))
            ),
        );
    }
    (
        Verdict::Pass,
        figures,
        format!(
            "while the source failed ({} outage(s)) the client kept serving its cached credentials: {serves}.",
            outages.len()
        ),
    )
}

fn backoff(f: &Facts) -> Judged {
    let mut figures = BTreeMap::new();
    let Some(from) = f.data_start() else {
        return (
            Verdict::NotApplicable,
            figures,
            "no data-plane request reached the server.".into(),
        );
    };
    let attempts: Vec<&Attempt> = f.attempts.iter().filter(|a| a.first >= from).collect();
    let mut failed = 0u64;
    let mut calls = 0u64;
    let mut gaps = Vec::new();
    let mut longest = 0.0f64;
    let mut bad: Option<String> = None;
    for (i, a) in attempts.iter().enumerate() {
        if a.succeeded {
            continue;
        }
        failed += 1;
        calls += a.calls;
        let span = since(a.first, a.last);
        longest = longest.max(span);
        if span > secs(MAX_ATTEMPT) && bad.is_none() {
            bad = Some(format!(
                "from {} the source was asked {} times over {} without backing off",
                hms(f.at(a.first)),
                a.calls,
                hms(span)
            ));
        }
        if let Some(next) = attempts.get(i + 1) {
            let gap = since(a.last, next.first);
            gaps.push(gap);
            let ok = gap >= secs(BACKOFF_MIN) - secs(TOLERANCE)
                && gap <= secs(BACKOFF_MAX) + secs(TOLERANCE);
            if !ok && bad.is_none() {
                bad = Some(format!(
                    "after the refresh that failed at {} the source was asked again {} later, outside {}-{}",
                    hms(f.at(a.last)),
                    hms(gap),
                    hms(secs(BACKOFF_MIN)),
                    hms(secs(BACKOFF_MAX))
                ));
            }
        }
    }
    figures.insert("failed_attempts", failed as f64);
    figures.insert("source_calls_in_failed_attempts", calls as f64);
    figures.insert("longest_failed_attempt_seconds", longest);
    if let Some(g) = gaps.iter().copied().reduce(f64::min) {
        figures.insert("gap_min_seconds", g);
    }
    if let Some(g) = gaps.iter().copied().reduce(f64::max) {
        figures.insert("gap_max_seconds", g);
    }
    match (failed, bad) {
        (0, _) => (
            Verdict::NotApplicable,
            figures,
            "no refresh failed after the job started, so there was no back-off to measure.".into(),
        ),
        (_, Some(bad)) => (Verdict::Fail, figures, format!("{bad}.")),
        (n, None) if gaps.is_empty() => (
            Verdict::NotApplicable,
            figures,
            format!(
                "{n} failed refresh(es), each one short burst, but the job ended (or the client stopped) before the source was asked again."
            ),
        ),
        (n, None) => (
            Verdict::Pass,
            figures,
            format!(
                "after each of {n} failed refreshes the source was asked again {}-{} later.",
                hms(gaps.iter().copied().fold(f64::INFINITY, f64::min)),
                hms(gaps.iter().copied().fold(f64::NEG_INFINITY, f64::max))
            ),
        ),
    }
}

fn single_flight(f: &Facts) -> Judged {
    let mut figures = BTreeMap::new();
    let calls: Vec<_> = f.source.iter().filter(|c| c.issuing).collect();
    let mut max_in_flight = usize::from(!calls.is_empty());
    let mut overlaps = 0u64;
    let mut first: Option<SystemTime> = None;
    for (j, b) in calls.iter().enumerate() {
        let concurrent = calls[..j]
            .iter()
            .filter(|a| {
                let chain = a.issued.is_some() && a.issued == b.signed_by;
                !chain && (b.at < a.end || b.at == a.at)
            })
            .count();
        if concurrent > 0 {
            overlaps += 1;
            first.get_or_insert(b.at);
        }
        max_in_flight = max_in_flight.max(concurrent + 1);
    }
    figures.insert("issuing_calls", calls.len() as f64);
    figures.insert("max_in_flight", max_in_flight as f64);
    figures.insert("overlapping_calls", overlaps as f64);
    match first {
        _ if calls.len() < 2 => (
            Verdict::NotApplicable,
            figures,
            "fewer than two credential-issuing calls: nothing could overlap.".into(),
        ),
        Some(t) => (
            Verdict::Fail,
            figures,
            format!(
                "{overlaps} credential-issuing calls overlapped another (first at {}, up to {max_in_flight} in flight).",
                hms(f.at(t))
            ),
        ),
        None => (
            Verdict::Pass,
            figures,
            format!(
                "{} credential-issuing calls, never more than one in flight.",
                calls.len()
            ),
        ),
    }
}

fn invalidate(f: &Facts) -> Judged {
    let mut figures = BTreeMap::new();
    let mut triggers = 0u64;
    let mut unfollowed = 0u64;
    let mut reused = 0u64;
    let mut signed_after = 0u64;
    let mut first: Option<(&Signed, &Signed)> = None;
    let mut seen_keys: Vec<&str> = Vec::new();
    for (i, r) in f.data.iter().enumerate() {
        if !r.refused_as_bad() {
            continue;
        }
        let later = |d: &&Signed| d.arrived > r.arrived + IN_FLIGHT_GRACE;
        // A refusal no call followed (the program stopped there) tests nothing.
        let Some(next) = f.data[i + 1..].iter().find(later) else {
            unfollowed += 1;
            continue;
        };
        triggers += 1;
        if next.key == r.key {
            reused += 1;
            first.get_or_insert((r, next));
        }
        if !seen_keys.contains(&r.key.as_str()) {
            seen_keys.push(&r.key);
            signed_after += f.data[i + 1..]
                .iter()
                .filter(later)
                .filter(|d| d.key == r.key)
                .count() as u64;
        }
    }
    figures.insert("refusals", triggers as f64);
    figures.insert("refusals_without_a_next_call", unfollowed as f64);
    figures.insert("reused_after_refusal", reused as f64);
    figures.insert("signed_with_refused_keys", signed_after as f64);
    figures.insert("access_denied", f.access_denied as f64);
    match (triggers, first) {
        (0, _) if f.access_denied > 0 => (
            Verdict::NotApplicable,
            figures,
            format!(
                "no refusal proved the credentials bad; {} AccessDenied (a revocation or a policy) prove nothing under the rules.",
                f.access_denied
            ),
        ),
        (0, _) if unfollowed > 0 => (
            Verdict::NotApplicable,
            figures,
            format!(
                "the server refused the credentials as bad {unfollowed} time(s), but no call followed (the client stopped)."
            ),
        ),
        (0, _) => (
            Verdict::NotApplicable,
            figures,
            "the server never refused the credentials as bad.".into(),
        ),
        (_, Some((r, next))) => (
            Verdict::Fail,
            figures,
            format!(
                "after {} at {} the next call, at {}, signed with the refused credentials again ({} such requests in all).",
                r.error.map_or("a refusal", |c| c.as_str()),
                hms(f.at(r.arrived)),
                hms(f.at(next.arrived)),
                signed_after
            ),
        ),
        (n, None) => (
            Verdict::Pass,
            figures,
            format!(
                "after each of {n} refusals ({}) the next call used other credentials.",
                PROOF_CODES
                    .iter()
                    .filter(|c| f.data.iter().any(|d| d.error == Some(**c)))
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    //! Each rule on hand-made event sequences: one worker putting an object every 10 s,
    //! credentials issued by `AssumeRole`, faults as failed events.

    use std::time::UNIX_EPOCH;

    use mock_sts::aws_error::{ErrorCode, Service};
    use mock_sts::events::{Action, Event, Issued, SignedBy};
    use mock_sts::{imds, s3, sts};

    use super::*;
    use crate::conformance::{Conformance, check_events};

    const T0: u64 = 1_800_000_000;

    fn t(s: f64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(T0) + Duration::from_secs_f64(s)
    }

    /// A hand-made run: events appended in time order.
    #[derive(Default)]
    struct Run {
        events: Vec<Event>,
        /// key -> (issued at, expires at)
        keys: Vec<(String, f64, f64)>,
    }

    fn base(seq: u64, at: f64, action: Action) -> Event {
        Event {
            seq,
            sim_time: t(at),
            wall_time: t(at),
            service: Service::S3,
            action,
            request_id: format!("r{seq}"),
            request_time: Some(t(at)),
            signed_by: None,
            status: 200,
            error_code: None,
            error_message: None,
            issued: None,
            latency_ms: 0.0,
            sim_latency_ms: 0.0,
            fault: None,
        }
    }

    impl Run {
        fn next(&self) -> u64 {
            self.events.len() as u64 + 1
        }

        /// An `AssumeRole` at `at` issuing `key` for `lifetime` seconds.
        fn issue(&mut self, at: f64, key: &str, lifetime: f64) -> &mut Self {
            let mut e = base(self.next(), at, Action::Sts(sts::Action::AssumeRole));
            e.service = Service::Sts;
            e.issued = Some(Issued {
                access_key_id: key.into(),
                role_arn: None,
                session_name: None,
                duration_seconds_requested: None,
                duration_seconds_granted: lifetime as u32,
                max_session_duration: None,
                chained: false,
                expires_at: t(at + lifetime),
            });
            self.keys.push((key.into(), at, at + lifetime));
            self.events.push(e);
            self
        }

        /// A failed `AssumeRole` at `at`.
        fn fail_sts(&mut self, at: f64) -> &mut Self {
            let mut e = base(self.next(), at, Action::Sts(sts::Action::AssumeRole));
            e.service = Service::Sts;
            e.status = 503;
            e.error_code = Some(ErrorCode::ServiceUnavailable);
            self.events.push(e);
            self
        }

        /// An IMDS token request failing 503 at `at`.
        fn fail_imds(&mut self, at: f64) -> &mut Self {
            let mut e = base(
                self.next(),
                at,
                Action::Metadata(imds::Action::GetMetadataToken),
            );
            e.status = 503;
            self.events.push(e);
            self
        }

        /// A PutObject at `at` signed with `key` (signed `skew` seconds off), answered with
        /// `code` or, by default, `ExpiredToken` past the key's expiry.
        fn put(&mut self, at: f64, key: &str, code: Option<ErrorCode>) -> &mut Self {
            let (_, issued, expires) = self.keys.iter().find(|k| k.0 == key).cloned().unwrap();
            let mut e = base(self.next(), at, Action::S3(s3::Operation::PutObject));
            e.signed_by = Some(SignedBy {
                access_key_id: key.into(),
                principal_arn: None,
                issued_at: Some(t(issued)),
                expires_at: Some(t(expires)),
                issued_by: None,
            });
            let code = code.or((at >= expires).then_some(ErrorCode::ExpiredToken));
            if let Some(c) = code {
                e.status = 403;
                e.error_code = Some(c);
            }
            self.events.push(e);
            self
        }

        /// PutObjects every 10 s in `[from, until)` signed with `key`.
        fn puts(&mut self, from: f64, until: f64, key: &str) -> &mut Self {
            let mut at = from;
            while at < until {
                self.put(at, key, None);
                at += 10.0;
            }
            self
        }

        fn check(&self, client: &ClientSide) -> Conformance {
            check_events(
                &self.events,
                &[Action::S3(s3::Operation::PutObject)],
                client,
                t(0.0),
            )
        }

        fn verdict(&self, rule: Rule) -> Verdict {
            self.result(rule, &ClientSide::default()).verdict
        }

        fn result(&self, rule: Rule, client: &ClientSide) -> RuleResult {
            self.check(client).get(rule).unwrap().clone()
        }
    }

    const H: f64 = 3600.0;

    /// Refreshes 15 min before each one-hour expiry: the reference behaviour.
    fn advisory_run() -> Run {
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, 45.0 * 60.0, "K1");
        r.issue(45.0 * 60.0, "K2", H)
            .puts(45.0 * 60.0, 1.5 * H, "K2");
        r
    }

    /// Refreshes 7 s before each expiry: aws-sdk-rust's lazy cache.
    fn late_run() -> Run {
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, H - 7.0, "K1");
        r.issue(H - 7.0, "K2", H).puts(H - 7.0, 1.5 * H, "K2");
        r
    }

    #[test]
    fn advisory_window_passes_a_fifteen_minute_lead_on_one_hour_keys() {
        let r = advisory_run().result(Rule::AdvisoryWindow, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(r.figures["lead_min_seconds"], 900.0);
    }

    #[test]
    fn advisory_window_fails_a_refresh_seconds_before_expiry() {
        let r = late_run().result(Rule::AdvisoryWindow, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
        assert!(r.reason.contains("7s before their expiry"), "{}", r.reason);
    }

    #[test]
    fn advisory_window_uses_the_lifetime_band() {
        // 15-minute keys refreshed 15 min early: every call, outside the 5-minute window.
        let mut r = Run::default();
        r.issue(0.0, "K1", 900.0).put(0.0, "K1", None);
        r.issue(60.0, "K2", 900.0).puts(60.0, 300.0, "K2");
        assert_eq!(r.verdict(Rule::AdvisoryWindow), Verdict::Fail);
        // 6-hour keys refreshed 50 min early: inside their 60-minute window.
        let mut r = Run::default();
        r.issue(0.0, "K1", 6.0 * H)
            .puts(0.0, 5.0 * H + 600.0, "K1")
            .issue(5.0 * H + 600.0, "K2", 6.0 * H)
            .put(5.0 * H + 610.0, "K2", None);
        assert_eq!(r.verdict(Rule::AdvisoryWindow), Verdict::Pass);
    }

    #[test]
    fn advisory_window_sees_a_refresh_on_every_call() {
        // botocore on 15-minute keys: inside its 15-minute window from the start, a new
        // AssumeRole before every call, 10 s apart (each its own attempt).
        let mut r = Run::default();
        for i in 0..30 {
            let at = 10.0 * f64::from(i);
            let key = format!("K{i}");
            r.issue(at, &key, 900.0).put(at + 0.5, &key, None);
        }
        let res = r.result(Rule::AdvisoryWindow, &ClientSide::default());
        assert_eq!(res.verdict, Verdict::Fail, "{res:?}");
        assert_eq!(res.figures["refreshes_judged"], 29.0);
    }

    #[test]
    fn advisory_window_fails_keys_used_past_expiry_without_a_refresh_and_is_na_before() {
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, 1.2 * H, "K1");
        assert_eq!(r.verdict(Rule::AdvisoryWindow), Verdict::Fail);
        let mut short = Run::default();
        short.issue(0.0, "K1", H).puts(0.0, 0.5 * H, "K1");
        assert_eq!(short.verdict(Rule::AdvisoryWindow), Verdict::NotApplicable);
    }

    #[test]
    fn mandatory_window_fails_requests_in_the_last_minute_with_a_healthy_source() {
        assert_eq!(late_run().verdict(Rule::MandatoryWindow), Verdict::Fail);
        assert_eq!(advisory_run().verdict(Rule::MandatoryWindow), Verdict::Pass);
        let mut short = Run::default();
        short.issue(0.0, "K1", H).puts(0.0, 0.5 * H, "K1");
        assert_eq!(short.verdict(Rule::MandatoryWindow), Verdict::NotApplicable);
    }

    #[test]
    fn mandatory_window_excuses_serving_during_an_outage_and_holds_the_client_to_its_clock() {
        // STS down from 44m: the advisory refresh fails, keys are served to the end.
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, 45.0 * 60.0, "K1");
        r.fail_sts(45.0 * 60.0)
            .puts(45.0 * 60.0 + 10.0, H - 5.0, "K1");
        let m = r.result(Rule::MandatoryWindow, &ClientSide::default());
        assert_eq!(m.verdict, Verdict::Pass, "{m:?}");
        assert!(m.figures["during_outage_not_judged"] > 0.0);
        // A request signed 10 minutes behind (its X-Amz-Date) is judged by that.
        let mut behind = Run::default();
        behind.issue(0.0, "K1", H).put(H - 30.0, "K1", None);
        behind.events[1].request_time = Some(t(H - 630.0));
        assert_eq!(behind.verdict(Rule::MandatoryWindow), Verdict::Pass);
    }

    /// STS down from 40m to 1h10m; the client asks at 45m, 52m, 59m30s, 1h07m (each a burst
    /// of three), and succeeds at 1h14m.
    fn outage_run(serve: bool) -> Run {
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, 45.0 * 60.0, "K1");
        let asks = [2700.0, 3120.0, 3570.0, 4020.0];
        let mut at = 2700.0;
        for ask in asks {
            if serve {
                r.puts(at, ask, "K1");
            }
            r.fail_sts(ask).fail_sts(ask + 1.0).fail_sts(ask + 3.0);
            at = ask + 10.0;
        }
        if serve {
            r.puts(at, 4440.0, "K1");
        }
        r.issue(4440.0, "K2", H).puts(4440.0, 5000.0, "K2");
        r
    }

    #[test]
    fn outage_backoff_passes_asks_five_to_ten_minutes_apart() {
        let r = outage_run(true).result(Rule::OutageBackoff, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(r.figures["failed_attempts"], 4.0);
        assert_eq!(r.figures["gap_min_seconds"], 417.0);
    }

    #[test]
    fn outage_backoff_fails_asking_on_every_call_or_too_soon() {
        let mut every_call = Run::default();
        every_call.issue(0.0, "K1", H).puts(0.0, H - 10.0, "K1");
        let mut at = H - 10.0;
        while at < H + 600.0 {
            every_call.fail_sts(at);
            at += 10.0;
        }
        let r = every_call.result(Rule::OutageBackoff, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
        assert!(r.reason.contains("without backing off"), "{}", r.reason);
        let mut soon = Run::default();
        soon.issue(0.0, "K1", H).put(10.0, "K1", None);
        soon.fail_sts(2700.0).fail_sts(2800.0);
        let r = soon.result(Rule::OutageBackoff, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
        assert_eq!(
            advisory_run().verdict(Rule::OutageBackoff),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn outage_backoff_sees_an_imds_outage_as_failed_attempts() {
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, 2700.0, "K1");
        r.fail_imds(2700.0)
            .fail_imds(2701.0)
            .puts(2710.0, 3100.0, "K1");
        r.fail_imds(3100.0).put(3110.0, "K1", None);
        let r = r.result(Rule::OutageBackoff, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        assert_eq!(r.figures["failed_attempts"], 2.0);
    }

    #[test]
    fn static_stability_counts_stale_serves_and_fails_credential_load_errors() {
        let served = outage_run(true);
        let r = served.result(Rule::StaticStability, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        // Keys served from 1h to 1h14m are refused ExpiredToken (the mock enforces expiry).
        assert!(r.figures["stale_refused"] > 0.0, "{r:?}");
        assert_eq!(r.figures["stale_accepted"], 0.0);
        // The same run where the client failed its calls at 45m10s instead.
        let client = ClientSide {
            credential_failures: vec![t(2710.0)],
            stopped: false,
        };
        let r = outage_run(false).result(Rule::StaticStability, &client);
        assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
        // A program that died during the outage, before any refusal.
        let stopped = ClientSide {
            credential_failures: vec![],
            stopped: true,
        };
        let mut died = Run::default();
        died.issue(0.0, "K1", H).puts(0.0, 3000.0, "K1");
        died.fail_sts(2990.0);
        assert_eq!(
            died.result(Rule::StaticStability, &stopped).verdict,
            Verdict::Fail
        );
        assert_eq!(
            advisory_run().verdict(Rule::StaticStability),
            Verdict::NotApplicable
        );
    }

    #[test]
    fn static_stability_stops_judging_at_the_servers_refusal() {
        // Refused at 1h, then calls fail in the client (invalidated, back-off running).
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, 2700.0, "K1");
        r.fail_sts(2700.0).puts(2710.0, H + 5.0, "K1");
        r.issue(H + 400.0, "K2", H).put(H + 410.0, "K2", None);
        let client = ClientSide {
            credential_failures: vec![t(H + 20.0)],
            stopped: false,
        };
        assert_eq!(
            r.result(Rule::StaticStability, &client).verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn single_flight_fails_two_issuing_calls_at_once_but_not_a_chain() {
        assert_eq!(advisory_run().verdict(Rule::SingleFlight), Verdict::Pass);
        let mut herd = Run::default();
        herd.issue(0.0, "K1", H)
            .issue(0.0, "K2", H)
            .put(1.0, "K1", None);
        let r = herd.result(Rule::SingleFlight, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
        assert_eq!(r.figures["max_in_flight"], 2.0);
        // The source session, then the role session signed with it, at the same instant.
        let mut chain = Run::default();
        chain.issue(0.0, "S1", H).issue(0.0, "K1", H);
        chain.events[1].signed_by = Some(SignedBy {
            access_key_id: "S1".into(),
            principal_arn: None,
            issued_at: None,
            expires_at: None,
            issued_by: None,
        });
        chain.put(1.0, "K1", None);
        assert_eq!(chain.verdict(Rule::SingleFlight), Verdict::Pass);
        let mut one = Run::default();
        one.issue(0.0, "K1", H).put(1.0, "K1", None);
        assert_eq!(one.verdict(Rule::SingleFlight), Verdict::NotApplicable);
    }

    #[test]
    fn invalidate_on_auth_failure_wants_new_keys_after_an_early_expired_token() {
        // The client's clock is behind: ExpiredToken at 1h, then it renews.
        let mut good = Run::default();
        good.issue(0.0, "K1", H).puts(0.0, H + 5.0, "K1");
        good.issue(H + 10.0, "K2", H)
            .puts(H + 10.0, H + 100.0, "K2");
        let r = good.result(Rule::InvalidateOnAuthFailure, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Pass, "{r:?}");
        // aws-sdk-rust keeps signing with them until its own clock says they expired.
        let mut bad = Run::default();
        bad.issue(0.0, "K1", H).puts(0.0, H + 600.0, "K1");
        bad.issue(H + 600.0, "K2", H)
            .puts(H + 600.0, H + 700.0, "K2");
        let r = bad.result(Rule::InvalidateOnAuthFailure, &ClientSide::default());
        assert_eq!(r.verdict, Verdict::Fail, "{r:?}");
        assert!(r.figures["signed_with_refused_keys"] >= 59.0, "{r:?}");
    }

    #[test]
    fn invalidate_on_auth_failure_is_not_applicable_when_no_call_followed() {
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, H + 5.0, "K1");
        let res = r.result(Rule::InvalidateOnAuthFailure, &ClientSide::default());
        assert_eq!(res.verdict, Verdict::NotApplicable, "{res:?}");
        assert_eq!(res.figures["refusals_without_a_next_call"], 1.0);
    }

    #[test]
    fn invalidate_on_auth_failure_does_not_judge_access_denied() {
        let mut r = Run::default();
        r.issue(0.0, "K1", H).puts(0.0, 1800.0, "K1");
        for i in 0..5 {
            r.put(
                1800.0 + 10.0 * f64::from(i),
                "K1",
                Some(ErrorCode::AccessDenied),
            );
        }
        let res = r.result(Rule::InvalidateOnAuthFailure, &ClientSide::default());
        assert_eq!(res.verdict, Verdict::NotApplicable, "{res:?}");
        assert_eq!(res.figures["access_denied"], 5.0);
        assert!(res.reason.contains("AccessDenied"), "{}", res.reason);
    }
}
