//! The decision per request: which rule, if any, fires. Matching, the seeded dice, `limit`
//! counts and quota token buckets, all under one lock so decisions are made in arrival order.
//!
//! Rules are tried in the order they were added and the first that fires applies. A rule
//! fires when the service, actions, caller and window match, its limit is not used up, and:
//! for an effect, the dice agree (drawn only when everything else matched, and not at all at
//! probability 1, so the same seed and the same requests draw the same numbers); for a quota,
//! the caller's bucket is empty. A quota that still has tokens takes one and lets the next
//! rule decide.

use std::collections::HashMap;
use std::time::SystemTime;

use super::rule::{Effect, FaultRule, FaultService, RuleKind};
use super::{AppliedFault, FaultRequest};

/// A rule in the stage, with its id and how often it applied.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub(super) id: String,
    pub(super) rule: FaultRule,
    pub(super) applied: u64,
    /// Token buckets of a quota rule, per (service, caller account).
    buckets: HashMap<(FaultService, String), Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: SystemTime,
}

/// What fired: the effect to apply and the mark for the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Fired {
    /// What to do to the request.
    pub effect: Effect,
    /// What the event records.
    pub applied: AppliedFault,
}

/// The rules and their counters.
#[derive(Debug, Default)]
pub(super) struct Stage {
    pub(super) entries: Vec<Entry>,
    next_id: u64,
}

impl Stage {
    pub(super) fn add(&mut self, rule: FaultRule) -> String {
        self.next_id += 1;
        let id = format!("f{}", self.next_id);
        self.entries.push(Entry {
            id: id.clone(),
            rule,
            applied: 0,
            buckets: HashMap::new(),
        });
        id
    }

    pub(super) fn decide(
        &mut self,
        request: &FaultRequest<'_>,
        now: SystemTime,
        dice: &mut dyn FnMut() -> f64,
    ) -> Option<Fired> {
        for entry in &mut self.entries {
            let rule = &entry.rule;
            if !matches(rule, request, now) || rule.limit.is_some_and(|l| entry.applied >= l) {
                continue;
            }
            let effect = match &rule.kind {
                RuleKind::Effect(effect) => {
                    if rule.probability < 1.0 && dice() >= rule.probability {
                        continue;
                    }
                    effect.clone()
                }
                RuleKind::Quota { per_second } => {
                    let account = request.caller.account.unwrap_or("-").to_string();
                    let rate = f64::from(*per_second);
                    let bucket =
                        entry
                            .buckets
                            .entry((request.service, account))
                            .or_insert(Bucket {
                                tokens: rate,
                                last: now,
                            });
                    // Refill on the simulated clock, up to the burst.
                    let elapsed = now.duration_since(bucket.last).unwrap_or_default();
                    bucket.tokens = (bucket.tokens + elapsed.as_secs_f64() * rate).min(rate);
                    bucket.last = now;
                    if bucket.tokens >= 1.0 {
                        bucket.tokens -= 1.0;
                        continue;
                    }
                    request.service.throttling()
                }
            };
            entry.applied += 1;
            return Some(Fired {
                effect,
                applied: AppliedFault {
                    id: entry.id.clone(),
                    effect: rule.kind.label(),
                },
            });
        }
        None
    }
}

fn matches(rule: &FaultRule, request: &FaultRequest<'_>, now: SystemTime) -> bool {
    if rule.service.is_some_and(|s| s != request.service) {
        return false;
    }
    if !rule.actions.is_empty() && !rule.actions.contains(request.action) {
        return false;
    }
    if let Some(caller) = &rule.caller {
        let who = request.caller;
        let same = |v: Option<&str>| v == Some(caller.as_str());
        if !(same(who.access_key_id) || same(who.role_arn) || same(who.principal_arn)) {
            return false;
        }
    }
    rule.from.is_none_or(|from| from <= now) && rule.until.is_none_or(|until| now < until)
}
