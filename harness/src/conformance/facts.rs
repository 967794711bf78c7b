//! What the conformance rules read from a run's events: the data-plane requests and the
//! credential that signed each, the calls that asked the credential source, and those calls
//! grouped into refresh attempts.
//!
//! **Source calls** are the credential-issuing STS calls (`AssumeRole`,
//! `AssumeRoleWithWebIdentity`, `GetSessionToken`) and every instance-metadata or container
//! endpoint request (an IMDS outage shows as failed token `PUT`s, not as credential `GET`s).
//! **Attempts** are source calls less than [`ATTEMPT_GAP`] apart, up to the one that issued
//! credentials (which ends its attempt): one refresh with its SDK's
//! own retries (aws-sdk-rust's standard mode waits at most a few seconds between its 3
//! attempts, botocore's legacy mode 1+2+4+8 s between its 5) and a chain's steps (IMDS, then
//! `AssumeRole`). A client that asks on every call of a job run every 10 s makes one long
//! attempt, which is what `outage-backoff` reports. An attempt succeeded when one of its calls
//! issued credentials.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use mock_sts::aws_error::ErrorCode;
use mock_sts::events::{Action, Event};
use mock_sts::{imds, sts};

use crate::metrics::since;

/// Source calls closer than this belong to one refresh attempt.
pub const ATTEMPT_GAP: Duration = Duration::from_secs(30);

/// An attempt whose failing calls last longer than this, then succeed, is two: the failed
/// refresh (a client asking on every call) and the one that worked. Shorter, it is one
/// refresh whose SDK retries got through.
pub const MAX_FAILING: Duration = Duration::from_secs(30);

/// The error codes that prove the credentials that signed a request bad: the list the
/// reference strategy invalidates on (expired, or an unknown key or token; not `AccessDenied`).
pub use crate::spec_refresh::invalidate::REJECTION_CODES as PROOF_CODES;
/// One data-plane request.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed {
    /// Its `seq`.
    pub seq: u64,
    /// When it arrived (server time).
    pub arrived: SystemTime,
    /// When the client signed it: its `X-Amz-Date` (the client's clock, whole seconds), else
    /// its arrival.
    pub signed_at: SystemTime,
    /// The access key that signed it.
    pub key: String,
    /// That credential's expiry, for temporary credentials.
    pub expires: Option<SystemTime>,
    /// Whether the server accepted it (2xx).
    pub accepted: bool,
    /// The error it got.
    pub error: Option<ErrorCode>,
}

impl Signed {
    /// Whether the server refused it with a code that proves its credentials bad.
    pub fn refused_as_bad(&self) -> bool {
        self.error.is_some_and(|c| PROOF_CODES.contains(&c))
    }

    /// Whether its credential had expired when it arrived.
    pub fn stale(&self) -> bool {
        self.expires.is_some_and(|e| self.arrived >= e)
    }
}

/// One call to the credential source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceCall {
    /// Its `seq`.
    pub seq: u64,
    /// When it arrived.
    pub at: SystemTime,
    /// When it was answered (arrival plus its simulated latency).
    pub end: SystemTime,
    /// Whether it issues credentials (not an IMDS token or listing).
    pub issuing: bool,
    /// The key it issued, if it did.
    pub issued: Option<String>,
    /// The key that signed it (STS calls).
    pub signed_by: Option<String>,
}

/// A refresh attempt: source calls less than [`ATTEMPT_GAP`] apart.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    /// `seq` of its first call.
    pub first_seq: u64,
    /// Its first call's arrival.
    pub first: SystemTime,
    /// Its last call's answer.
    pub last: SystemTime,
    /// How many calls.
    pub calls: u64,
    /// Whether its last credential-issuing call issued credentials.
    pub succeeded: bool,
}

/// One credential that signed the data plane.
#[derive(Debug, Clone, PartialEq)]
pub struct Signer {
    /// Its access key.
    pub key: String,
    /// `seq` of the event that issued it, when this run's server did.
    pub issued_seq: Option<u64>,
    /// When the client obtained it: the issuing event's arrival, else its issue time.
    pub obtained: Option<SystemTime>,
    /// Its expiry.
    pub expires: Option<SystemTime>,
    /// Its first data-plane request.
    pub first_use: SystemTime,
}

impl Signer {
    /// Its lifetime from when it was obtained.
    pub fn lifetime(&self) -> Option<Duration> {
        Some(
            self.expires?
                .duration_since(self.obtained?)
                .unwrap_or_default(),
        )
    }
}

/// The facts of one run (module docs).
#[derive(Debug, Clone)]
pub struct Facts {
    /// Times in reasons count from here.
    pub start: SystemTime,
    /// Data-plane requests, in order.
    pub data: Vec<Signed>,
    /// Source calls, in order.
    pub source: Vec<SourceCall>,
    /// Refresh attempts, in order.
    pub attempts: Vec<Attempt>,
    /// Credentials that signed the data plane, by first use.
    pub signers: Vec<Signer>,
    /// Data-plane requests refused `AccessDenied` (a revocation, or a policy).
    pub access_denied: u64,
}

impl Facts {
    /// The facts of `events` (in `seq` order), the data plane being `data_plane`.
    pub fn new(events: &[Event], data_plane: &[Action], start: SystemTime) -> Facts {
        let mut data = Vec::new();
        let mut source = Vec::new();
        let mut issued: HashMap<&str, (u64, SystemTime)> = HashMap::new();
        let mut signers: Vec<Signer> = Vec::new();
        let mut access_denied = 0;
        for e in events {
            if let Some(i) = &e.issued {
                issued.insert(i.access_key_id.as_str(), (e.seq, e.sim_time));
            }
            let issuing_sts = matches!(
                &e.action,
                Action::Sts(
                    sts::Action::AssumeRole
                        | sts::Action::AssumeRoleWithWebIdentity
                        | sts::Action::GetSessionToken
                )
            );
            if let Action::Metadata(a) = &e.action {
                source.push(SourceCall {
                    seq: e.seq,
                    at: e.sim_time,
                    end: end_of(e),
                    issuing: matches!(
                        a,
                        imds::Action::GetInstanceCredentials
                            | imds::Action::GetContainerCredentials
                    ),
                    issued: e.issued.as_ref().map(|i| i.access_key_id.clone()),
                    signed_by: None,
                });
            } else if issuing_sts {
                source.push(SourceCall {
                    seq: e.seq,
                    at: e.sim_time,
                    end: end_of(e),
                    issuing: true,
                    issued: e.issued.as_ref().map(|i| i.access_key_id.clone()),
                    signed_by: e.signed_by.as_ref().map(|s| s.access_key_id.clone()),
                });
            } else if data_plane.contains(&e.action)
                && let Some(s) = &e.signed_by
            {
                if e.error_code == Some(ErrorCode::AccessDenied) {
                    access_denied += 1;
                }
                if !signers.iter().any(|x| x.key == s.access_key_id) {
                    let origin = issued.get(s.access_key_id.as_str()).copied();
                    signers.push(Signer {
                        key: s.access_key_id.clone(),
                        issued_seq: origin.map(|(seq, _)| seq),
                        obtained: origin.map(|(_, t)| t).or(s.issued_at),
                        expires: s.expires_at,
                        first_use: e.sim_time,
                    });
                }
                data.push(Signed {
                    seq: e.seq,
                    arrived: e.sim_time,
                    signed_at: e.request_time.unwrap_or(e.sim_time),
                    key: s.access_key_id.clone(),
                    expires: s.expires_at,
                    accepted: (200..300).contains(&e.status),
                    error: e.error_code,
                });
            }
        }
        let attempts = attempts(&source);
        Facts {
            start,
            data,
            source,
            attempts,
            signers,
            access_denied,
        }
    }

    /// Seconds from the start to `t`.
    pub fn at(&self, t: SystemTime) -> f64 {
        since(self.start, t)
    }

    /// When the data plane started (its first request).
    pub fn data_start(&self) -> Option<SystemTime> {
        self.data.first().map(|d| d.arrived)
    }

    /// The first attempt after `signer` was issued (after its first use, when this run's
    /// server did not issue it).
    pub fn attempt_after(&self, signer: &Signer) -> Option<&Attempt> {
        self.attempts.iter().find(|a| match signer.issued_seq {
            Some(seq) => a.first_seq > seq,
            None => a.first > signer.first_use,
        })
    }

    /// Whether the source was failing at `t`: the latest attempt that started at or before
    /// `t`, after the data plane started, failed.
    pub fn source_failing_at(&self, t: SystemTime) -> bool {
        let Some(from) = self.data_start() else {
            return false;
        };
        self.attempts
            .iter()
            .rfind(|a| a.first >= from && a.first <= t)
            .is_some_and(|a| !a.succeeded)
    }
}

fn end_of(e: &Event) -> SystemTime {
    e.sim_time + Duration::from_secs_f64((e.sim_latency_ms / 1000.0).max(0.0))
}

fn attempts(source: &[SourceCall]) -> Vec<Attempt> {
    let mut groups: Vec<Vec<&SourceCall>> = Vec::new();
    // Credentials issued end a refresh: a client that refreshes on every call makes one
    // attempt per call, however close together.
    let mut closed = true;
    let mut issued_last: Option<&str> = None;
    for c in source {
        // A chain's next step (an AssumeRole signed with the keys the call before it just
        // issued, as instance metadata then the role) continues the same refresh.
        let chained = c.signed_by.is_some() && c.signed_by.as_deref() == issued_last;
        match groups.last_mut() {
            Some(g)
                if (!closed || chained)
                    && c.at
                        .duration_since(g.iter().map(|x| x.end).max().unwrap_or(c.at))
                        .unwrap_or_default()
                        < ATTEMPT_GAP =>
            {
                g.push(c);
            }
            _ => groups.push(vec![c]),
        }
        closed = c.issuing && c.issued.is_some();
        issued_last = c.issued.as_deref();
    }
    let mut out = Vec::new();
    for g in groups {
        // A client that asked on every call until the source came back: its failing asks
        // are one failed attempt, the one that worked another.
        let last_failed = g.iter().rposition(|c| c.issuing && c.issued.is_none());
        match last_failed {
            Some(i) if i + 1 < g.len() && since(g[0].at, g[i].end) > MAX_FAILING.as_secs_f64() => {
                out.push(attempt(&g[..=i]));
                out.push(attempt(&g[i + 1..]));
            }
            _ => out.push(attempt(&g)),
        }
    }
    out
}

fn attempt(calls: &[&SourceCall]) -> Attempt {
    Attempt {
        first_seq: calls[0].seq,
        first: calls[0].at,
        last: calls.iter().map(|c| c.end).max().unwrap_or(calls[0].at),
        calls: calls.len() as u64,
        succeeded: calls
            .iter()
            .rev()
            .find(|c| c.issuing)
            .is_some_and(|c| c.issued.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;

    fn call(at: f64, issued: Option<&str>, signed_by: Option<&str>) -> SourceCall {
        let at = UNIX_EPOCH + Duration::from_secs(1_800_000_000) + Duration::from_secs_f64(at);
        SourceCall {
            seq: 0,
            at,
            end: at + Duration::from_millis(10),
            issuing: true,
            issued: issued.map(str::to_owned),
            signed_by: signed_by.map(str::to_owned),
        }
    }

    #[test]
    fn a_chains_steps_are_one_attempt_and_separate_refreshes_are_not() {
        // Instance metadata issues I1; the AssumeRole signed with it is the same refresh.
        let chain = [
            call(0.0, Some("I1"), None),
            call(0.02, Some("K1"), Some("I1")),
        ];
        let a = attempts(&chain);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].calls, 2);
        assert!(a[0].succeeded);
        // Two refreshes a second apart, each signed with the user's own keys: two attempts.
        let separate = [
            call(0.0, Some("K1"), Some("AKIAUSER")),
            call(1.0, Some("K2"), Some("AKIAUSER")),
        ];
        assert_eq!(attempts(&separate).len(), 2);
    }
}
