//! A run's tally: what its metrics need from each server event and each client call, taken
//! as they come, so a run need not keep every event and every call to be measured.
//!
//! [`metrics::compute`](crate::metrics::compute) is a tally's [`Tally::metrics`]: fed every
//! event of a finished run and then every call ([`Tally::of`]), or fed while the run goes
//! (`runner`'s tallied mode, [`Recorder`]): the same figures either way. What it keeps per
//! request is one sample of the call's simulated and wall duration (the medians need them all)
//! and, with client clock faults, one skew sample; everything else is a counter, the few
//! events a failure explanation cites (the first server failure, credentials issued, failed
//! requests not yet claimed by their call), or per credential.
//!
//! Feeding order is the contract: events in `seq` order; a call after the event of its own
//! request. In process (the virtual clock) the server records the event before the client
//! sees the response, so draining the log before each call's record keeps it ([`Recorder`]).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::SystemTime;

use mock_sts::events::{Action, Event, EventLog, Issued, SignedBy};
use mock_sts::sts;

use crate::metrics::{
    Fidelity, FirstFailure, Metrics, Percentiles, Side, SigningSkew, injected, is_skew_error, since,
};
use crate::outcome::ClientOutcome;
use crate::process::Exit;
use crate::runner::RunResult;
use crate::scenario::{ClockSpec, Operation, StrategyKind};
use crate::strategy;
use crate::workload::OpRecord;

/// The STS calls that issue credentials: what refreshes and `sts_calls` count.
const ISSUING_ACTIONS: [sts::Action; 3] = [
    sts::Action::AssumeRole,
    sts::Action::AssumeRoleWithWebIdentity,
    sts::Action::GetSessionToken,
];

/// The running figures of one run (module docs).
#[derive(Debug, Clone)]
pub struct Tally {
    /// The workload's actions: the data plane.
    data_plane: Vec<Action>,
    /// Whether the run has client clock faults (then signing skew is measured).
    skewed: bool,
    /// Simulated time of the first event.
    first_event: Option<SystemTime>,
    events: u64,
    requests: u64,
    failures: BTreeMap<String, u64>,
    injected_failures: BTreeMap<String, u64>,
    sts_calls: u64,
    /// Credential-issuing calls: `seq` and arrival.
    issuing: Vec<(u64, SystemTime)>,
    /// Access key id -> the last event that issued it: its `seq` and what it issued.
    issued_by: HashMap<String, (u64, Issued)>,
    /// The first failure the server made on its own (not injected).
    server_first: Option<Event>,
    /// The last injected failure (a program that died of one).
    last_injected: Option<Event>,
    /// Failed data-plane requests whose call has not been recorded yet, by request id: a call
    /// the client saw fail with an AWS error is explained by its request's event.
    unclaimed: HashMap<String, Event>,
    refreshes: u64,
    leads: Vec<f64>,
    last_signer: Option<SignedBy>,
    last_replaced: Option<String>,
    /// Access key ids seen signing the data plane.
    signers: HashSet<String>,
    /// Requests that carried a credential the data plane had not seen before.
    carried_new: HashSet<String>,
    skews: Vec<f64>,
    skew_errors: u64,
    calls: u64,
    calls_failed: u64,
    client_failures: BTreeMap<String, u64>,
    /// The earliest call that failed, and its request's event for an AWS error.
    client_first: Option<(OpRecord, Option<Event>)>,
    fresh_sim: Vec<f64>,
    fresh_wall: Vec<f64>,
    plain_sim: Vec<f64>,
    plain_wall: Vec<f64>,
    max_call_span: f64,
}

impl Tally {
    /// An empty tally for a run of `operations`, with or without client clock faults.
    pub fn new(operations: &[Operation], clock_faults: bool) -> Tally {
        Tally {
            data_plane: operations.iter().flat_map(|o| o.actions()).collect(),
            skewed: clock_faults,
            first_event: None,
            events: 0,
            requests: 0,
            failures: BTreeMap::new(),
            injected_failures: BTreeMap::new(),
            sts_calls: 0,
            issuing: Vec::new(),
            issued_by: HashMap::new(),
            server_first: None,
            last_injected: None,
            unclaimed: HashMap::new(),
            refreshes: 0,
            leads: Vec::new(),
            last_signer: None,
            last_replaced: None,
            signers: HashSet::new(),
            carried_new: HashSet::new(),
            skews: Vec::new(),
            skew_errors: 0,
            calls: 0,
            calls_failed: 0,
            client_failures: BTreeMap::new(),
            client_first: None,
            fresh_sim: Vec::new(),
            fresh_wall: Vec::new(),
            plain_sim: Vec::new(),
            plain_wall: Vec::new(),
            max_call_span: 0.0,
        }
    }

    /// The tally of a finished run that kept its events and calls.
    pub fn of(result: &RunResult) -> Tally {
        let mut tally = Tally::new(&result.operations, !result.run.clock_faults.is_none());
        for e in &result.events {
            tally.event(e);
        }
        for op in &result.ops {
            tally.call(op);
        }
        tally
    }

    /// Simulated time of the first event the tally saw.
    pub fn first_event(&self) -> Option<SystemTime> {
        self.first_event
    }

    /// How many events it saw.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Takes the next event (in `seq` order).
    pub fn event(&mut self, e: &Event) {
        self.events += 1;
        self.first_event.get_or_insert(e.sim_time);
        let data_plane = self.data_plane.contains(&e.action);
        if data_plane {
            self.requests += 1;
        }
        let injected = injected(e);
        match &injected {
            Some(label) => *self.injected_failures.entry(label.clone()).or_insert(0) += 1,
            None if e.is_error() => {
                *self.failures.entry(e.outcome().to_string()).or_insert(0) += 1;
            }
            None => {}
        }
        if matches!(&e.action, Action::Sts(a) if ISSUING_ACTIONS.contains(a)) {
            self.sts_calls += 1;
            self.issuing.push((e.seq, e.sim_time));
        }
        if let Some(issued) = &e.issued {
            self.issued_by
                .insert(issued.access_key_id.clone(), (e.seq, issued.clone()));
        }
        if e.is_error() && injected.is_none() && self.server_first.is_none() {
            self.server_first = Some(e.clone());
        }
        if injected.is_some() {
            self.last_injected = Some(e.clone());
        }
        // Only a data-plane answer can explain a call the client saw fail with an AWS error;
        // STS, IMDS and retried tries are never claimed and would pile up over an outage.
        if data_plane && (e.is_error() || !(200..300).contains(&e.status)) {
            self.unclaimed.insert(e.request_id.clone(), e.clone());
        }
        // Refreshes: a credential-issuing call replacing the credential that signed the data
        // plane just before it; concurrent callers replacing the same one count once.
        if data_plane {
            if let Some(signer) = &e.signed_by {
                self.last_signer = Some(signer.clone());
                if !self.signers.contains(&signer.access_key_id) {
                    self.signers.insert(signer.access_key_id.clone());
                    if self.signers.len() > 1 {
                        self.carried_new.insert(e.request_id.clone());
                    }
                }
            }
        } else if let (Some(issued), Some(replaced)) = (&e.issued, &self.last_signer)
            && self.last_replaced.as_deref() != Some(replaced.access_key_id.as_str())
            && replaced.access_key_id != issued.access_key_id
        {
            self.last_replaced = Some(replaced.access_key_id.clone());
            self.refreshes += 1;
            if let Some(old_expiry) = replaced.expires_at {
                self.leads.push(since(e.sim_time, old_expiry));
            }
        }
        if self.skewed {
            // X-Amz-Date minus arrival: negative when the client signs behind the server.
            if let Some(t) = e.request_time {
                self.skews.push(since(e.sim_time, t));
            }
            if is_skew_error(e) {
                self.skew_errors += 1;
            }
        }
    }

    /// Takes the next call, after the event of its request.
    pub fn call(&mut self, op: &OpRecord) {
        self.calls += 1;
        let failed = op.outcome.is_failure();
        if failed {
            self.calls_failed += 1;
        }
        if let Some(kind) = op.outcome.client_failure() {
            *self
                .client_failures
                .entry(kind.as_str().to_string())
                .or_insert(0) += 1;
        }
        let event = op
            .request_id
            .as_deref()
            .and_then(|id| self.unclaimed.remove(id));
        // The earliest failed call; of equals, the first recorded.
        if failed
            && self
                .client_first
                .as_ref()
                .is_none_or(|(first, _)| op.finished < first.finished)
        {
            let event = match op.outcome {
                ClientOutcome::Aws { .. } => event,
                _ => None,
            };
            self.client_first = Some((op.clone(), event));
        }
        let span = op.sim_duration().as_secs_f64();
        self.max_call_span = self.max_call_span.max(span);
        if let Some(id) = &op.request_id {
            let (sim, wall) = (span * 1000.0, op.wall.as_secs_f64() * 1000.0);
            if self.carried_new.contains(id) {
                self.fresh_sim.push(sim);
                self.fresh_wall.push(wall);
            } else {
                self.plain_sim.push(sim);
                self.plain_wall.push(wall);
            }
        }
    }

    /// A server failure as the first failure.
    fn server_failure(&self, result: &RunResult, e: &Event) -> FirstFailure {
        let signed_by = e.signed_by.clone();
        let issued_event = signed_by
            .as_ref()
            .and_then(|s| self.issued_by.get(s.access_key_id.as_str()));
        let issued_at = signed_by.as_ref().and_then(|s| s.issued_at);
        // Issuing calls after the one that issued the failing credential, before the failure.
        let refresh_attempts = match (issued_event, issued_at) {
            (Some((origin, _)), _) => self
                .issuing
                .iter()
                .filter(|(seq, _)| seq > origin && *seq < e.seq)
                .count() as u64,
            (None, Some(t)) => self
                .issuing
                .iter()
                .filter(|(seq, at)| *at > t && *seq < e.seq)
                .count() as u64,
            (None, None) => 0,
        };
        FirstFailure {
            at_seconds: since(result.start, e.sim_time),
            side: Side::Server,
            action: e.action.to_string(),
            code: e.outcome().to_string(),
            error_code: e.error_code,
            message: e.error_message.clone().unwrap_or_default(),
            issued: issued_event.map(|(_, issued)| issued.clone()),
            issued_at_seconds: issued_at.map(|t| since(result.start, t)),
            expired_at_seconds: signed_by
                .as_ref()
                .and_then(|s| s.expires_at)
                .map(|t| since(result.start, t)),
            signed_by,
            refresh_attempts,
            injected: injected(e).and(e.fault.as_ref().map(|f| f.effect.clone())),
            delayed: e
                .fault
                .as_ref()
                .filter(|f| f.only_delayed())
                .map(|f| f.effect.clone()),
        }
    }

    /// The run's metrics.
    pub fn metrics(&self, result: &RunResult) -> Metrics {
        // A program keeps no call records: when it exited non-zero and the server failed
        // nothing on its own, the injected failure it died of is the last one it was answered.
        let program_failed = matches!(
            result.process.as_ref().map(|p| p.exit),
            Some(Exit::Code { code }) if code != 0
        );
        let server_first = match &self.server_first {
            None if program_failed => self.last_injected.as_ref(),
            first => first.as_ref(),
        };
        let from_call = |(op, event): &(OpRecord, Option<Event>)| match event {
            Some(e) => self.server_failure(result, e),
            None => crate::metrics::from_op(result, op),
        };
        let first_failure = match (server_first, &self.client_first) {
            (Some(e), Some(call)) if call.0.finished < e.sim_time => Some(from_call(call)),
            (Some(e), _) => Some(self.server_failure(result, e)),
            (None, Some(call)) => Some(from_call(call)),
            (None, None) => None,
        };

        let base_sim = median(self.plain_sim.clone()).unwrap_or(0.0);
        let base_wall = median(self.plain_wall.clone()).unwrap_or(0.0);
        let extra = |fresh: &[f64], base: f64| {
            Percentiles::of(fresh.iter().map(|v| (v - base).max(0.0)).collect())
        };
        let fidelity = match result.clock {
            ClockSpec::Virtual => None,
            ClockSpec::Scaled { .. } | ClockSpec::Compressed { .. }
                if result.run.strategy == StrategyKind::Process =>
            {
                Some(crate::metrics::process_fidelity(result))
            }
            ClockSpec::Scaled { .. } | ClockSpec::Compressed { .. } => {
                // The buffer runs on the client's real clock; a compressed run's spans are
                // stretched into the scenario's time, so the buffer is too.
                let k = result.clock.compression().unwrap_or(1);
                let buffer =
                    strategy::refresh_buffer(result.run.strategy).as_secs_f64() * f64::from(k);
                // A strategy that renews at the expiry or never has no buffer: its margin is
                // how close a request came to the expiry of the keys that signed it (a call
                // spanning that much simulated time could have carried it across).
                let expiry_margin = if buffer > 0.0 {
                    None
                } else {
                    crate::metrics::closest_to_expiry(&result.events)
                };
                let margin = if buffer > 0.0 {
                    Some(buffer)
                } else {
                    expiry_margin
                };
                Some(Fidelity {
                    max_call_span_seconds: self.max_call_span,
                    refresh_buffer_seconds: buffer,
                    could_decide_verdict: margin.is_some_and(|m| self.max_call_span >= m),
                    expiry_margin_seconds: expiry_margin,
                    max_clock_skew_seconds: None,
                    median_clock_skew_seconds: None,
                    skew_samples: None,
                })
            }
        };
        Metrics {
            requests: self.requests,
            calls: self.calls,
            calls_failed: self.calls_failed,
            failures: self.failures.clone(),
            client_failures: self.client_failures.clone(),
            injected_failures: self.injected_failures.clone(),
            first_failure,
            sts_calls: self.sts_calls,
            refreshes: self.refreshes,
            refresh_lead_min_seconds: self.leads.iter().copied().reduce(f64::min),
            refresh_lead_median_seconds: median(self.leads.clone()),
            refresh_latency_sim_ms: extra(&self.fresh_sim, base_sim),
            refresh_latency_wall_ms: extra(&self.fresh_wall, base_wall),
            sts_calls_per_request: if self.requests == 0 {
                0.0
            } else {
                self.sts_calls as f64 / self.requests as f64
            },
            fidelity,
            signing_skew: self.skewed.then(|| SigningSkew {
                first_seconds: self.skews.first().copied().unwrap_or(0.0),
                median_seconds: median(self.skews.clone()).unwrap_or(0.0),
                last_seconds: self.skews.last().copied().unwrap_or(0.0),
                skew_errors: self.skew_errors,
                samples: self.skews.len() as u64,
            }),
            // Only programs run the helper, and their runs keep every event.
            credential_process_runs: crate::credential_process::invocations(result),
            // `metrics::compute` adds it for runs that state conformance rules.
            conformance: None,
        }
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    Some(v[(v.len() - 1) / 2])
}

/// Where a running in-process run's calls go: kept whole, or tallied as they come with the
/// server's events drained before each (a run that keeps only what its metrics need).
#[derive(Debug)]
pub struct Recorder {
    /// The calls kept: every call, or, when tallying, those that failed in the client alone
    /// (explanations and the timeline cite them).
    pub ops: Vec<OpRecord>,
    /// When tallying: the run's event log and the tally.
    pub live: Option<(EventLog, Tally)>,
}

impl Recorder {
    /// A recorder that keeps every call.
    pub fn keeping() -> Recorder {
        Recorder {
            ops: Vec::new(),
            live: None,
        }
    }

    /// A recorder that tallies calls and the events of `log` as they come.
    pub fn tallying(log: EventLog, tally: Tally) -> Recorder {
        Recorder {
            ops: Vec::new(),
            live: Some((log, tally)),
        }
    }

    /// Records calls that just ended.
    pub fn record(&mut self, calls: Vec<OpRecord>) {
        match &mut self.live {
            None => self.ops.extend(calls),
            Some((log, tally)) => {
                for e in log.drain().0 {
                    tally.event(&e);
                }
                for op in &calls {
                    tally.call(op);
                }
                self.ops.extend(
                    calls
                        .into_iter()
                        .filter(|op| op.outcome.client_failure().is_some()),
                );
            }
        }
    }

    /// Tallies the events still in the log (the run is over).
    pub fn drain_events(&mut self) {
        if let Some((log, tally)) = &mut self.live {
            for e in log.drain().0 {
                tally.event(&e);
            }
        }
    }
}
