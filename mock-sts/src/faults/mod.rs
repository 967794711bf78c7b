//! Fault injection: the rules (`POST /_mock/faults`, `[[fault]]` in scenarios) and the stage of
//! the request pipeline that applies them, so a run can see throttling, outages, latency,
//! dropped connections and quotas exactly when and to whom it asks.
//!
//! - `rule`: the written form ([`RuleSpec`], JSON or TOML), validation into a [`FaultRule`]
//!   naming the field at fault ([`FaultError`]);
//! - `stage`: matching, the seeded dice, `limit` counts, quota buckets;
//! - this module: [`Faults`], the cheap shared handle the server, the control API and
//!   [`MockAws::faults`](crate::MockAws::faults) hold, and [`AppliedFault`], the mark on events.
//!
//! **Where the stage runs.** Every request to STS, S3, instance metadata or the container
//! endpoint (never `/_mock/`) is parsed, routed to its service and action and *identified*
//! (the access key id from the SigV4 header or presigned query; for session credentials the
//! role and principal from the session token, whose HMAC is checked but not the request's
//! signature), then passes this stage, **before authentication**. A `latency` effect models
//! time in flight: it delays the request's arrival on the simulated clock, and authentication
//! (expiry, skew) and the service then run at the later time, so a request signed seconds
//! before its credentials expire that arrives after gets `ExpiredToken`, as it would at AWS.
//! Error effects answer at the front door, as AWS's throttling does, whatever the signature.
//!
//! **Events.** Every applied fault marks its event ([`AppliedFault`]). A `reset` or `hang`
//! request has no response: its event has status 0 and no error code, and is recorded when
//! the fault is applied (a hang at once, when it starts hanging), so the log is in arrival
//! order and the same run gives the same log whenever the client gives up.
//!
//! **Cost.** With no rules the stage is one atomic load: requests are not even identified.

pub(crate) mod rule;
mod stage;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use self::rule::{
    DurationSpec, Effect, EffectSpec, FaultError, FaultRule, FaultService, QuotaSpec, RuleKind,
    RuleSpec, TimeBase,
};
pub use self::stage::Fired;
use self::stage::Stage;
use crate::events::Action;

/// The mark an applied fault leaves on its event: `{"id": "f1", "effect": "error:Throttling"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedFault {
    /// The rule's id.
    pub id: String,
    /// What it did: `error:Throttling`, `status:503`, `latency:5s`, `reset`, `hang`,
    /// `quota:600/s`.
    pub effect: String,
}

impl AppliedFault {
    /// Whether the rule only held the request in flight (`latency:…`): the request was then
    /// judged like any other when it arrived, so its outcome is not the rule's doing.
    pub fn only_delayed(&self) -> bool {
        self.effect.starts_with("latency:")
    }
}

/// A response extension asking the server to close the connection without writing this
/// response (the `reset` effect). The socket server drops the connection; the in-process SDK
/// client (`mock_sts::sdk::InProcessClient`, feature `sdk`) fails the call with a connection
/// reset. Anyone else calling the router sees the placeholder response that carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetConnection;

/// Who a request claims to come from, as the stage matches it (nothing here is verified but
/// a session token's own HMAC).
#[derive(Debug, Clone, Copy, Default)]
pub struct CallerId<'a> {
    /// The SigV4 access key id.
    pub access_key_id: Option<&'a str>,
    /// The role of a role session.
    pub role_arn: Option<&'a str>,
    /// The principal: a user's ARN or a session's assumed-role ARN.
    pub principal_arn: Option<&'a str>,
    /// The caller's account, for quotas.
    pub account: Option<&'a str>,
}

/// One request as the stage sees it.
#[derive(Debug, Clone, Copy)]
pub struct FaultRequest<'a> {
    /// The service it is for.
    pub service: FaultService,
    /// The action, as its event will name it.
    pub action: &'a Action,
    /// Who it claims to come from.
    pub caller: CallerId<'a>,
}

/// A rule as listed: its id, the rule, and how many times it applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ListedFault {
    /// The id `add` returned.
    pub id: String,
    /// The rule.
    pub rule: FaultRule,
    /// How many requests it applied to.
    pub applied: u64,
}

impl ListedFault {
    /// The JSON the control API shows: the rule as stored, plus `id` and `applied`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(self.rule.to_spec()).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("id".into(), self.id.clone().into());
            object.insert("applied".into(), self.applied.into());
        }
        value
    }
}

#[derive(Debug, Default)]
struct Inner {
    /// Whether any rule is installed: the per-request fast path reads only this.
    active: AtomicBool,
    stage: Mutex<Stage>,
}

/// The server's fault rules: a cheap, cloneable handle.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<Inner>,
}

impl Faults {
    /// No rules.
    pub fn new() -> Self {
        Faults::default()
    }

    fn stage(&self) -> MutexGuard<'_, Stage> {
        // A panic elsewhere cannot leave the rule list half-updated (every change is one push,
        // retain or clear), so a poisoned lock is still consistent.
        self.inner
            .stage
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Installs a validated rule after the others; returns its id (`f1`, `f2`, …).
    pub fn add(&self, rule: FaultRule) -> String {
        let mut stage = self.stage();
        let id = stage.add(rule);
        self.inner.active.store(true, Ordering::Release);
        id
    }

    /// Validates `spec` against `base` and installs it.
    ///
    /// # Errors
    /// The [`FaultError`] of validation; nothing is installed then.
    pub fn add_spec(&self, spec: &RuleSpec, base: TimeBase) -> Result<String, FaultError> {
        Ok(self.add(spec.validate(base)?))
    }

    /// The rules, in the order they are tried.
    pub fn list(&self) -> Vec<ListedFault> {
        self.stage()
            .entries
            .iter()
            .map(|e| ListedFault {
                id: e.id.clone(),
                rule: e.rule.clone(),
                applied: e.applied,
            })
            .collect()
    }

    /// Removes the rule `id`; whether there was one.
    pub fn remove(&self, id: &str) -> bool {
        let mut stage = self.stage();
        let before = stage.entries.len();
        stage.entries.retain(|e| e.id != id);
        self.inner
            .active
            .store(!stage.entries.is_empty(), Ordering::Release);
        stage.entries.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        let mut stage = self.stage();
        stage.entries.clear();
        self.inner.active.store(false, Ordering::Release);
    }

    /// Whether any rule is installed (the pipeline skips identification when none is).
    pub fn is_active(&self) -> bool {
        self.inner.active.load(Ordering::Acquire)
    }

    /// The stage's decision for a request arriving at `now` (simulated): the first rule that
    /// fires, counted as applied. `dice` draws in `[0, 1)` from the server's seeded RNG and
    /// is called only for a rule with probability below 1 that otherwise matches.
    pub fn decide(
        &self,
        request: &FaultRequest<'_>,
        now: SystemTime,
        mut dice: impl FnMut() -> f64,
    ) -> Option<Fired> {
        if !self.is_active() {
            return None;
        }
        self.stage().decide(request, now, &mut dice)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::clock::default_virtual_start;

    fn rule(json: &str) -> FaultRule {
        RuleSpec::from_json(json.as_bytes())
            .unwrap()
            .validate(TimeBase::Absolute)
            .unwrap()
    }

    static ASSUME_ROLE: Action = Action::Sts(crate::sts::Action::AssumeRole);
    static GET_CALLER_IDENTITY: Action = Action::Sts(crate::sts::Action::GetCallerIdentity);

    fn sts(action: &'static Action) -> FaultRequest<'static> {
        FaultRequest {
            service: FaultService::Sts,
            action,
            caller: CallerId {
                access_key_id: Some("AKIAIOSFODNN7EXAMPLE"),
                role_arn: None,
                principal_arn: Some("arn:aws:iam::123456789012:user/alice"),
                account: Some("123456789012"),
            },
        }
    }

    fn never() -> f64 {
        panic!("no dice expected")
    }

    #[test]
    fn first_matching_rule_fires_and_limit_counts() {
        let faults = Faults::new();
        let now = default_virtual_start();
        assert!(faults.decide(&sts(&ASSUME_ROLE), now, never).is_none());
        faults.add(rule(r#"{"service":"s3","effect":{"error":"SlowDown"}}"#));
        let id = faults.add(rule(
            r#"{"service":"sts","actions":["AssumeRole"],"limit":2,"effect":{"error":"Throttling"}}"#,
        ));
        faults.add(rule(r#"{"service":"*","effect":{"latency":"1s"}}"#));
        let fired = faults.decide(&sts(&ASSUME_ROLE), now, never).unwrap();
        assert_eq!(fired.applied.id, id);
        assert_eq!(fired.applied.effect, "error:Throttling");
        assert!(faults.decide(&sts(&ASSUME_ROLE), now, never).is_some());
        // The limit is used up: the catch-all latency rule is next.
        let third = faults.decide(&sts(&ASSUME_ROLE), now, never).unwrap();
        assert_eq!(third.applied.effect, "latency:1s");
        assert_eq!(
            faults.list().iter().map(|l| l.applied).collect::<Vec<_>>(),
            vec![0, 2, 1]
        );
        assert!(faults.remove(&id));
        assert!(!faults.remove(&id));
        faults.clear();
        assert!(!faults.is_active());
        assert!(faults.decide(&sts(&ASSUME_ROLE), now, never).is_none());
    }

    #[test]
    fn caller_and_window_match() {
        let faults = Faults::new();
        let now = default_virtual_start();
        faults.add(rule(
            r#"{"service":"sts","caller":"arn:aws:iam::123456789012:user/alice","from":"2026-01-01T00:00:10Z","until":"2026-01-01T00:00:20Z","effect":{"reset":true}}"#,
        ));
        let at = |s| now + Duration::from_secs(s);
        assert!(
            faults
                .decide(&sts(&GET_CALLER_IDENTITY), at(9), never)
                .is_none()
        );
        assert!(
            faults
                .decide(&sts(&GET_CALLER_IDENTITY), at(10), never)
                .is_some()
        );
        assert!(
            faults
                .decide(&sts(&GET_CALLER_IDENTITY), at(19), never)
                .is_some()
        );
        assert!(
            faults
                .decide(&sts(&GET_CALLER_IDENTITY), at(20), never)
                .is_none()
        );
        let mut other = sts(&GET_CALLER_IDENTITY);
        other.caller.principal_arn = Some("arn:aws:iam::123456789012:user/bob");
        assert!(faults.decide(&other, at(15), never).is_none());
    }

    #[test]
    fn dice_are_drawn_only_for_otherwise_matching_rules() {
        let faults = Faults::new();
        let now = default_virtual_start();
        faults.add(rule(
            r#"{"service":"sts","actions":["AssumeRole"],"probability":0.5,"effect":{"reset":true}}"#,
        ));
        let mut draws = 0;
        let dice = |v: f64| move || v;
        assert!(
            faults
                .decide(&sts(&GET_CALLER_IDENTITY), now, || {
                    draws += 1;
                    0.0
                })
                .is_none()
        );
        assert_eq!(draws, 0);
        assert!(faults.decide(&sts(&ASSUME_ROLE), now, dice(0.49)).is_some());
        assert!(faults.decide(&sts(&ASSUME_ROLE), now, dice(0.5)).is_none());
    }

    #[test]
    fn quota_throttles_the_excess_and_refills_on_the_simulated_clock() {
        let faults = Faults::new();
        let now = default_virtual_start();
        faults.add(rule(r#"{"service":"sts","quota":{"per_second":3}}"#));
        let outcomes: Vec<bool> = (0..5)
            .map(|_| faults.decide(&sts(&ASSUME_ROLE), now, never).is_some())
            .collect();
        assert_eq!(outcomes, vec![false, false, false, true, true]);
        let fired = faults.decide(&sts(&ASSUME_ROLE), now, never).unwrap();
        assert_eq!(fired.applied.effect, "quota:3/s");
        assert_eq!(fired.effect.label(), "error:Throttling");
        // A third of a second refills one request.
        let later = now + Duration::from_millis(334);
        assert!(faults.decide(&sts(&ASSUME_ROLE), later, never).is_none());
        assert!(faults.decide(&sts(&ASSUME_ROLE), later, never).is_some());
        // Another account has its own bucket.
        let mut other = sts(&ASSUME_ROLE);
        other.caller.account = Some("210987654321");
        assert!(faults.decide(&other, later, never).is_none());
    }
}
