//! The event log: one [`Event`] per request, the ground truth for every report.
//!
//! Each event records when the request arrived (simulated and wall time), what it asked for,
//! which credential signed it and that credential's lifetime, what it was answered, and, when
//! it issued credentials, what it issued. Reports derive failures, refreshes and latencies from
//! these events alone, so they describe what the server saw, not what a client believes.
//!
//! The log is append-only and ordered by `seq` (1, 2, …). It can also stream to a JSON-lines
//! file (`mock-sts serve --events FILE`), one line per event, flushed as it is written.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use serde::Serialize;
use tokio::sync::Notify;

use crate::aws_error::{ErrorCode, Service};
use crate::credentials::IssuedBy;
use crate::faults::AppliedFault;
use crate::timestamp;

/// Serialises a `SystemTime` as RFC 3339 with milliseconds.
fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&timestamp::rfc3339_millis(*t))
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_some(&timestamp::rfc3339_millis(*t)),
        None => s.serialize_none(),
    }
}

/// The credential that signed a request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SignedBy {
    /// The access key id.
    pub access_key_id: String,
    /// The principal ARN (user or assumed-role session), when the key is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal_arn: Option<String>,
    /// For temporary credentials: when they were issued.
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub issued_at: Option<SystemTime>,
    /// For temporary credentials: when they expire.
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub expires_at: Option<SystemTime>,
    /// For temporary credentials: the action that issued them (serialised as its
    /// [`IssuedBy::as_str`] name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_by: Option<IssuedBy>,
}

/// Credentials a request issued.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issued {
    /// The new access key id.
    pub access_key_id: String,
    /// The role, for role sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The session name, for role sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// `DurationSeconds` the caller asked for (absent: the default applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_seconds_requested: Option<u32>,
    /// The lifetime granted, seconds.
    pub duration_seconds_granted: u32,
    /// The role's `MaxSessionDuration`, for role sessions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_session_duration: Option<u32>,
    /// Whether this was role chaining (capped at one hour).
    pub chained: bool,
    /// When they expire.
    #[serde(serialize_with = "ser_time")]
    pub expires_at: SystemTime,
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    /// Position in the log, from 1.
    pub seq: u64,
    /// Simulated time the request arrived.
    #[serde(serialize_with = "ser_time")]
    pub sim_time: SystemTime,
    /// Wall-clock time the request arrived.
    #[serde(serialize_with = "ser_time")]
    pub wall_time: SystemTime,
    /// The service that answered.
    pub service: Service,
    /// The operation (`AssumeRole`, `GetCallerIdentity`, …), or `-` when it could not be told.
    pub action: String,
    /// The request id sent back to the client.
    pub request_id: String,
    /// The time the client signed the request with: its `X-Amz-Date` header (SigV4 header
    /// auth only; absent for unsigned requests and presigned URLs, whose `X-Amz-Date` is when
    /// the URL was made). Against `sim_time` it shows how far the client's clock is from the
    /// server's, to the header's one-second resolution (the harness's fidelity of external
    /// programs under libfaketime).
    #[serde(
        serialize_with = "ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_time: Option<SystemTime>,
    /// Who signed it, when it was signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<SignedBy>,
    /// HTTP status of the response; 0 when there was none (a `reset` or `hang` fault: the
    /// connection was dropped, or the request never answered).
    pub status: u16,
    /// `None` on success, else the AWS error code (serialised as its [`ErrorCode::as_str`]
    /// spelling).
    pub error_code: Option<ErrorCode>,
    /// The error message, on failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Credentials the request issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued: Option<Issued>,
    /// Real time the server spent, milliseconds.
    pub latency_ms: f64,
    /// Simulated time between arrival and response, milliseconds (differs from `latency_ms` on
    /// a scaled clock, or when the mock injects latency).
    pub sim_latency_ms: f64,
    /// The fault rule applied to the request, if any (`reset` and `hang` leave status 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<AppliedFault>,
}

impl Event {
    /// Whether the request failed.
    pub fn is_error(&self) -> bool {
        self.error_code.is_some()
    }

    /// The error code as AWS spells it, or `"ok"`.
    pub fn outcome(&self) -> &'static str {
        self.error_code.map_or("ok", |code| code.as_str())
    }
}

/// A snapshot of events.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Events(pub Vec<Event>);

impl Events {
    /// Events that failed.
    pub fn errors(&self) -> impl Iterator<Item = &Event> {
        self.0.iter().filter(|e| e.is_error())
    }

    /// Events for one action.
    pub fn action<'a>(&'a self, action: &'a str) -> impl Iterator<Item = &'a Event> + 'a {
        self.0.iter().filter(move |e| e.action == action)
    }

    /// All events, in order.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.0.iter()
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Debug, Default)]
struct LogState {
    events: Vec<Event>,
    sink: Option<BufWriter<File>>,
    sink_failed: bool,
}

/// The append-only, shareable event log.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    state: Arc<Mutex<LogState>>,
    appended: Arc<Notify>,
}

impl EventLog {
    /// An empty in-memory log.
    pub fn new() -> Self {
        EventLog::default()
    }

    /// An in-memory log that also writes every event as a JSON line to `file`.
    pub fn with_sink(file: File) -> Self {
        let log = EventLog::default();
        log.lock().sink = Some(BufWriter::new(file));
        log
    }

    fn lock(&self) -> MutexGuard<'_, LogState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends an event, assigning its `seq`, and returns that seq.
    pub fn append(&self, mut event: Event) -> u64 {
        let seq = {
            let mut state = self.lock();
            let seq = state.events.len() as u64 + 1;
            event.seq = seq;
            if let Some(sink) = state.sink.as_mut() {
                let written = serde_json::to_writer(&mut *sink, &event)
                    .map_err(std::io::Error::from)
                    .and_then(|()| sink.write_all(b"\n"))
                    .and_then(|()| sink.flush());
                if let Err(e) = written
                    && !state.sink_failed
                {
                    tracing::error!(error = %e, "cannot write the events file; events stay in memory");
                    state.sink_failed = true;
                }
            }
            state.events.push(event);
            seq
        };
        self.appended.notify_waiters();
        seq
    }

    /// All events so far.
    pub fn snapshot(&self) -> Events {
        Events(self.lock().events.clone())
    }

    /// Events with `seq > since`.
    pub fn since(&self, since: u64) -> Events {
        let state = self.lock();
        let start = usize::try_from(since)
            .unwrap_or(usize::MAX)
            .min(state.events.len());
        Events(state.events[start..].to_vec())
    }

    /// Number of events so far (also the last seq).
    pub fn len(&self) -> u64 {
        self.lock().events.len() as u64
    }

    /// Whether nothing has been logged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until the log has more than `seq` events.
    pub async fn wait_beyond(&self, seq: u64) {
        loop {
            let notified = self.appended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.len() > seq {
                return;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn event(action: &str, code: Option<ErrorCode>) -> Event {
        Event {
            seq: 0,
            sim_time: UNIX_EPOCH,
            wall_time: UNIX_EPOCH,
            service: Service::Sts,
            action: action.into(),
            request_id: "r".into(),
            request_time: None,
            signed_by: None,
            status: if code.is_some() { 403 } else { 200 },
            error_code: code,
            error_message: None,
            issued: None,
            latency_ms: 0.0,
            sim_latency_ms: 0.0,
            fault: None,
        }
    }

    #[test]
    fn seqs_count_from_one_and_since_is_exclusive() {
        let log = EventLog::new();
        assert_eq!(log.append(event("A", None)), 1);
        assert_eq!(log.append(event("B", Some(ErrorCode::ExpiredToken))), 2);
        assert_eq!(log.since(1).0.len(), 1);
        assert_eq!(log.since(1).0[0].action, "B");
        assert!(log.since(99).is_empty());
        assert_eq!(log.snapshot().errors().count(), 1);
        assert_eq!(log.snapshot().action("A").count(), 1);
    }

    #[test]
    fn events_serialise_with_rfc3339_times() {
        let json = serde_json::to_value(event("A", None)).unwrap();
        assert_eq!(json["sim_time"], "1970-01-01T00:00:00.000Z");
        assert_eq!(json["service"], "sts");
        assert!(json["error_code"].is_null());
    }

    #[test]
    fn sink_gets_one_json_line_per_event() {
        let dir = std::env::temp_dir().join(format!("mock-sts-events-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("events.jsonl");
        let log = EventLog::with_sink(File::create(&path).unwrap());
        log.append(event("A", None));
        log.append(event("B", None));
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
        let second: serde_json::Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
        assert_eq!(second["seq"], 2);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
