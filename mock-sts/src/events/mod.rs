//! The event log: one [`Event`] per request, the ground truth for every report.
//!
//! Each event records when the request arrived (simulated and wall time), what it asked for,
//! which credential signed it and that credential's lifetime, what it was answered, and, when
//! it issued credentials, what it issued. Reports derive failures, refreshes and latencies from
//! these events alone, so they describe what the server saw, not what a client believes.
//!
//! The log ([`EventLog`], in `log`) is append-only and ordered by `seq` (1, 2, …); it keeps
//! a bounded or unbounded window in memory ([`Retention`]) and can stream every event to a
//! JSON-lines file (`mock-sts serve --events FILE`) from a writer thread (`sink`).

use std::fmt;
use std::time::SystemTime;

use serde::Serialize;

use crate::aws_error::{ErrorCode, Service};
use crate::credentials::IssuedBy;
use crate::faults::AppliedFault;
use crate::{imds, s3, sts, timestamp};

mod log;
mod sink;

pub use log::{EventLog, Retention, RetentionError, Tail};

/// Serialises a `SystemTime` as RFC 3339 with milliseconds.
fn ser_time<S: serde::Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; 24];
    match rfc3339_millis_into(*t, &mut buf) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_str(&timestamp::rfc3339_millis(*t)),
    }
}

fn ser_opt_time<S: serde::Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    struct Time(SystemTime);
    impl Serialize for Time {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            ser_time(&self.0, s)
        }
    }
    match t {
        Some(t) => s.serialize_some(&Time(*t)),
        None => s.serialize_none(),
    }
}

/// `2026-01-01T01:00:00.123Z`, exactly as [`timestamp::rfc3339_millis`] writes it, into `buf`
/// without allocating or going through a format description: the events file serialises up
/// to five of these per event on its writer thread, which shares the cores with the server.
/// `None` (the caller falls back) before 1970 or after 9999.
fn rfc3339_millis_into(t: SystemTime, buf: &mut [u8; 24]) -> Option<&str> {
    let since = t.duration_since(std::time::UNIX_EPOCH).ok()?;
    let secs = since.as_secs();
    let (days, in_day) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's `civil_from_days`, for days since 1970-01-01 (non-negative here).
    let z = days.checked_add(719_468)?;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    if year > 9999 {
        return None;
    }
    let mut put = |at: usize, value: u64, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, in_day / 3600, 2);
    put(14, in_day % 3600 / 60, 2);
    put(17, in_day % 60, 2);
    put(20, u64::from(since.subsec_millis()), 3);
    for (at, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        buf[at] = c;
    }
    std::str::from_utf8(buf).ok()
}

/// What a request asked for, as its event names it: each service's own operations, reused
/// from the service that serves them, so that one enum covers every event and a new operation
/// is named in one place.
///
/// Serialised as [`Action::as_str`], a plain string (`"AssumeRole"`, `"PutObject"`, `"-"`):
/// the event log's JSON predates the type, and reports and external readers match on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Action {
    /// An STS action the mock serves.
    Sts(sts::Action),
    /// An S3 operation (`Unsupported` for sub-resources the mock does not serve).
    S3(s3::Operation),
    /// An instance-metadata or container-credential request.
    Metadata(imds::Action),
    /// An STS `Action` parameter the mock does not serve (answered `InvalidAction`), recorded
    /// as the client spelled it: the event shows what was asked for.
    Unrecognized(String),
    /// The action could not be told: an STS request without an `Action` or whose parameters
    /// do not parse, or a body too large to classify. Recorded as `-`.
    Unknown,
}

impl Action {
    /// How events spell an action they could not tell.
    const UNKNOWN: &'static str = "-";

    /// The action events record for an STS request's `Action` parameter: the served action,
    /// [`Action::Unrecognized`] for any other name, [`Action::Unknown`] without one.
    pub fn sts_parameter(name: Option<&str>) -> Action {
        match name {
            None => Action::Unknown,
            Some(name) => sts::Action::parse(name)
                .map_or_else(|| Action::Unrecognized(name.to_string()), Action::Sts),
        }
    }

    /// Every action the mock serves and names itself (not `Unrecognized` or `Unknown`).
    pub fn served() -> impl Iterator<Item = Action> {
        let sts = sts::Action::ALL.into_iter().map(Action::Sts);
        let s3 = s3::Operation::ALL.iter().copied().map(Action::S3);
        let metadata = imds::INSTANCE_ACTIONS
            .into_iter()
            .chain(imds::CONTAINER_ACTIONS)
            .map(Action::Metadata);
        sts.chain(s3).chain(metadata)
    }

    /// The served action AWS (or, for metadata, the mock) spells `name`, if any: names are
    /// unique across services.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::served().find(|a| a.as_str() == name)
    }

    /// The name as events record it.
    pub fn as_str(&self) -> &str {
        match self {
            Action::Sts(a) => a.as_str(),
            Action::S3(op) => op.as_str(),
            Action::Metadata(a) => a.as_str(),
            Action::Unrecognized(name) => name,
            Action::Unknown => Action::UNKNOWN,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl From<sts::Action> for Action {
    fn from(a: sts::Action) -> Action {
        Action::Sts(a)
    }
}

impl From<s3::Operation> for Action {
    fn from(op: s3::Operation) -> Action {
        Action::S3(op)
    }
}

impl From<imds::Action> for Action {
    fn from(a: imds::Action) -> Action {
        Action::Metadata(a)
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
    /// The operation (`AssumeRole`, `GetCallerIdentity`, …), or `-` when it could not be told
    /// (serialised as its [`Action::as_str`] name).
    pub action: Action,
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

    /// Events for one action (an [`Action`] or any service's own action type).
    pub fn action(&self, action: impl Into<Action>) -> impl Iterator<Item = &Event> {
        let action = action.into();
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    /// An event for `action`, failed with `code` if given.
    pub(crate) fn event(action: impl Into<Action>, code: Option<ErrorCode>) -> Event {
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
    fn event_times_are_written_as_timestamp_writes_them() {
        use std::time::Duration;
        let mut rng = fastrand::Rng::with_seed(13);
        let mut buf = [0u8; 24];
        let edges = [
            0,
            951_782_400,
            1_767_225_599,
            1_767_225_600,
            253_402_300_799,
        ];
        let random: Vec<u64> = (0..10_000).map(|_| rng.u64(0..253_402_300_800)).collect();
        for secs in edges.into_iter().chain(random) {
            let t = UNIX_EPOCH + Duration::new(secs, rng.u32(0..1_000_000_000));
            assert_eq!(
                rfc3339_millis_into(t, &mut buf),
                Some(timestamp::rfc3339_millis(t).as_str()),
                "{secs}"
            );
        }
        // Outside 1970..=9999 the caller falls back to timestamp's formatter.
        assert_eq!(
            rfc3339_millis_into(UNIX_EPOCH - Duration::from_secs(1), &mut buf),
            None
        );
        let beyond = UNIX_EPOCH + Duration::from_secs(253_402_300_800);
        assert_eq!(rfc3339_millis_into(beyond, &mut buf), None);
        let json = serde_json::to_value(Event {
            request_time: Some(UNIX_EPOCH - Duration::from_secs(1)),
            ..event(sts::Action::AssumeRole, None)
        })
        .unwrap();
        assert_eq!(json["request_time"], "1969-12-31T23:59:59.000Z");
    }

    #[test]
    fn events_serialise_with_rfc3339_times() {
        let json = serde_json::to_value(event(sts::Action::AssumeRole, None)).unwrap();
        assert_eq!(json["sim_time"], "1970-01-01T00:00:00.000Z");
        assert_eq!(json["service"], "sts");
        assert!(json["error_code"].is_null());
        assert_eq!(json["action"], "AssumeRole");
    }

    #[test]
    fn actions_serialise_as_the_names_events_have_always_used() {
        let name = |a: Action| serde_json::to_value(a).unwrap();
        assert_eq!(
            name(Action::Sts(sts::Action::GetCallerIdentity)),
            "GetCallerIdentity"
        );
        assert_eq!(
            name(Action::S3(s3::Operation::ListObjectsV2)),
            "ListObjectsV2"
        );
        assert_eq!(name(Action::S3(s3::Operation::Unsupported)), "Unsupported");
        assert_eq!(
            name(Action::Metadata(imds::Action::GetMetadataToken)),
            "GetMetadataToken"
        );
        assert_eq!(name(Action::Unrecognized("ListRoles".into())), "ListRoles");
        assert_eq!(name(Action::Unknown), "-");
        let served: Vec<Action> = Action::served().collect();
        assert_eq!(served.len(), 4 + 20 + 4);
        for action in served {
            assert_eq!(Action::from_name(action.as_str()), Some(action.clone()));
            assert_eq!(name(action.clone()), action.as_str());
        }
        assert_eq!(Action::from_name("-"), None);
        assert_eq!(Action::sts_parameter(None), Action::Unknown);
        assert_eq!(
            Action::sts_parameter(Some("AssumeRole")),
            Action::Sts(sts::Action::AssumeRole)
        );
        assert_eq!(
            Action::sts_parameter(Some("ListRoles")),
            Action::Unrecognized("ListRoles".into())
        );
    }
}
