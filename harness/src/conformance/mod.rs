//! Conformance to AWS's 2026 cross-SDK "Credential Refresh Behavior" rules (aws-facts §6.8),
//! judged per run from the server's events (and, in process, the client's failed calls).
//!
//! Six rules, each with a stable kebab-case name a scenario's `expect = { conforms = [...],
//! violates = [...] }` and the `conformance` command use ([`Rule`]); each run's verdict per
//! rule is pass, fail or not applicable (no event could test it), with the measured figures
//! and one sentence saying why ([`RuleResult`]). The rules' precise readings are in
//! [`rules`]; the facts they are read from (which requests signed the data plane, which asked
//! the credential source and how those asks cluster into refresh attempts) in [`facts`]; the
//! pack of scenarios run against one client, and its rule-by-rule table, in [`pack`].
//!
//! A run that states conformance keeps its events (`runner` does not tally it), so the
//! checks read them here; the metrics of runs that state none are unchanged.

pub mod facts;
pub mod pack;
pub mod rules;

use std::fmt;
use std::time::SystemTime;

use mock_sts::events::Event;
use serde::Serialize;

use crate::outcome::ClientFailure;
use crate::process::Exit;
use crate::runner::RunResult;

pub use facts::Facts;

/// One rule of the specification, as the harness checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// Each refresh starts inside the advisory window the replaced credential's lifetime
    /// gives (≤ 20 min → 5 min, 20-90 min → 15 min, ≥ 90 min → 60 min), and not inside the
    /// mandatory minute.
    AdvisoryWindow,
    /// No data-plane request signed (by the client's `X-Amz-Date`) with credentials in their
    /// last minute or past their expiry while the source was healthy.
    MandatoryWindow,
    /// While the source fails, the client keeps serving its cached credentials instead of
    /// failing calls with credential-load errors.
    StaticStability,
    /// After a failed refresh, the source is asked again 300-600 s later, not before.
    OutageBackoff,
    /// Never more than one credential-issuing call in flight.
    SingleFlight,
    /// After the server refuses credentials as bad (`ExpiredToken`, an unknown key or
    /// token), the next call does not sign with them again.
    InvalidateOnAuthFailure,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 6] = [
        Rule::AdvisoryWindow,
        Rule::MandatoryWindow,
        Rule::StaticStability,
        Rule::OutageBackoff,
        Rule::SingleFlight,
        Rule::InvalidateOnAuthFailure,
    ];

    /// The stable name scenarios and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::AdvisoryWindow => "advisory-window",
            Rule::MandatoryWindow => "mandatory-window",
            Rule::StaticStability => "static-stability",
            Rule::OutageBackoff => "outage-backoff",
            Rule::SingleFlight => "single-flight",
            Rule::InvalidateOnAuthFailure => "invalidate-on-auth-failure",
        }
    }

    /// The rule named `name`.
    pub fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Every name, comma-separated (for error messages).
    pub fn names() -> String {
        Rule::ALL.map(Rule::as_str).join(", ")
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A rule's verdict for one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every event that could test it agrees with it.
    Pass,
    /// An event contradicts it.
    Fail,
    /// No event could test it (e.g. no refresh failed, so no back-off to measure).
    NotApplicable,
}

impl Verdict {
    /// `pass`, `fail`, `n.a.` (the table's spelling).
    pub fn short(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::NotApplicable => "n.a.",
        }
    }
}

/// One rule's result for one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleResult {
    /// The rule.
    pub rule: Rule,
    /// Its verdict.
    pub verdict: Verdict,
    /// The figures it measured (seconds are `_seconds`), by name.
    pub figures: std::collections::BTreeMap<&'static str, f64>,
    /// Why, in one sentence.
    pub reason: String,
}

/// Every rule's result for one run: the `conformance` object of the run's JSON metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conformance {
    /// One per rule, in [`Rule::ALL`]'s order.
    pub rules: Vec<RuleResult>,
}

impl Conformance {
    /// The result for `rule`.
    pub fn get(&self, rule: Rule) -> Option<&RuleResult> {
        self.rules.iter().find(|r| r.rule == rule)
    }
}

/// What the client side adds to the server's events: when its calls failed without reaching
/// the server because credentials could not be loaded, and when a program stopped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientSide {
    /// Simulated times of calls that failed in the client while loading credentials
    /// (`credentials-not-loaded`, or a timeout: the identity cache's load timeout).
    pub credential_failures: Vec<SystemTime>,
    /// A program that exited with a non-zero status: it stopped serving at its last event.
    pub stopped: bool,
}

impl ClientSide {
    /// The client side of a finished run.
    pub fn of(result: &RunResult) -> ClientSide {
        let credential_failures = result
            .ops
            .iter()
            .filter(|op| {
                matches!(
                    op.outcome.client_failure(),
                    Some(ClientFailure::CredentialsNotLoaded | ClientFailure::Timeout)
                )
            })
            .map(|op| op.finished)
            .collect();
        let stopped = matches!(
            result.process.as_ref().map(|p| p.exit),
            Some(Exit::Code { code }) if code != 0
        ) || !result.worker_stops.is_empty();
        ClientSide {
            credential_failures,
            stopped,
        }
    }
}

/// Every rule's result for a finished run that kept its events.
pub fn check(result: &RunResult) -> Conformance {
    let data_plane: Vec<_> = result.operations.iter().flat_map(|o| o.actions()).collect();
    check_events(
        &result.events,
        &data_plane,
        &ClientSide::of(result),
        result.start,
    )
}

/// Every rule's result for `events` (in `seq` order), the data plane being `data_plane`.
pub fn check_events(
    events: &[Event],
    data_plane: &[mock_sts::events::Action],
    client: &ClientSide,
    start: SystemTime,
) -> Conformance {
    let facts = Facts::new(events, data_plane, start);
    Conformance {
        rules: Rule::ALL
            .into_iter()
            .map(|rule| rules::judge(rule, &facts, client))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for r in Rule::ALL {
            assert_eq!(Rule::from_name(r.as_str()), Some(r));
        }
        assert_eq!(Rule::from_name("advisory"), None);
        assert!(Rule::names().starts_with("advisory-window, mandatory-window"));
    }
}
