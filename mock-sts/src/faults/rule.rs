//! The fault-rule model: [`RuleSpec`], the unvalidated form a rule arrives in (JSON from the
//! control API, a `[[fault]]` table in a scenario's TOML), and [`FaultRule`], the validated
//! rule the stage runs.
//!
//! Validation is all-or-nothing and names the offending field with its dotted key
//! (`effect.error`, `quota.per_second`, `until`), so a bad rule is refused whole with a message
//! a person can act on, and nothing is half-applied. What is checked, and why:
//! - the service is one of `sts`, `s3`, `imds`, `container` or `*`, and every action is one
//!   that service's module records in its events (a typo would otherwise match nothing);
//! - an error code must be one the service answers with ([`error_codes_for`]); the metadata
//!   endpoints send no codes, so they take a bare `{"status": N}` instead;
//! - `*` takes only the effects every service can show the same way (`latency`, `reset`,
//!   `hang`) and quotas: an error code is never valid for every service, and the metadata
//!   endpoints have no error codes at all;
//! - the window is on simulated time and must not end before it starts; `probability` is in
//!   0..=1; `limit` is at least 1; exactly one of `effect` and `quota`.

use std::fmt;
use std::time::{Duration, SystemTime};

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::aws_error::ErrorCode;
use crate::clock::parse_duration;
use crate::events::Action;
use crate::{imds, s3, sts, timestamp};

/// A rule as written, before validation: the JSON body of `POST /_mock/faults` or a
/// `[[fault]]` table, with the same keys (DESIGN.md §5).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `sts`, `s3`, `imds`, `container` or `*`.
    pub service: String,
    /// AWS action names (`AssumeRole`, `PutObject`, `GetMetadataToken`, …); absent: every action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    /// An access key id, a session's role ARN, or a principal ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<String>,
    /// Start of the window on simulated time (RFC 3339, or a duration since the run's start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// End of the window, exclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Chance that a matching request gets the effect (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Apply at most this many times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// What happens to a matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effect: Option<EffectSpec>,
    /// A request-rate quota instead of an effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaSpec>,
}

/// An effect as written: exactly one of `error` (with optional `status` and `message`), a bare
/// `status`, `latency`, `reset` or `hang`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectSpec {
    /// An AWS error code valid for the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `error`: the status instead of AWS's; alone: a bare status (IMDS, container).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// With `error`: the message instead of AWS's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Time in flight: `"5s"`, `"1m30s"`, `"250ms"` or a number of seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<DurationSpec>,
    /// Close the connection before any response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<bool>,
    /// Never answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hang: Option<bool>,
}

/// A quota as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotaSpec {
    /// Requests per simulated second per (service, caller account); also the burst.
    pub per_second: u32,
}

/// A duration as written: seconds, or text [`parse_duration`] reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DurationSpec {
    /// A number of seconds (fractions allowed).
    Seconds(f64),
    /// `"5s"`, `"1h30m"`, `"250ms"`.
    Text(String),
}

/// What `from` and `until` are relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBase {
    /// RFC 3339 instants (the control API).
    Absolute,
    /// Durations since this instant, e.g. `"55m"` (scenario files, from the run's start).
    SinceStart(SystemTime),
}

/// A rule that failed validation: the dotted key of the field at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FaultError {
    /// The dotted key, e.g. `effect.error`, `probability`, `until` (empty: the body itself).
    pub field: String,
    /// What is wrong, and what would be accepted.
    pub message: String,
}

impl FaultError {
    /// An error on `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FaultError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A service a rule can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultService {
    /// STS.
    Sts,
    /// S3.
    S3,
    /// EC2 instance metadata.
    Imds,
    /// The container credential endpoint.
    Container,
}

impl FaultService {
    /// Every service, in the order `*` lists them.
    pub const ALL: [FaultService; 4] = [
        FaultService::Sts,
        FaultService::S3,
        FaultService::Imds,
        FaultService::Container,
    ];

    /// The name rules use.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultService::Sts => "sts",
            FaultService::S3 => "s3",
            FaultService::Imds => "imds",
            FaultService::Container => "container",
        }
    }

    fn parse(name: &str) -> Option<FaultService> {
        FaultService::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// The actions this service's events record: what `actions` may name.
    pub fn actions(self) -> Vec<Action> {
        match self {
            FaultService::Sts => sts::Action::ALL.into_iter().map(Action::Sts).collect(),
            FaultService::S3 => s3::Operation::ALL.iter().copied().map(Action::S3).collect(),
            FaultService::Imds => imds::INSTANCE_ACTIONS.map(Action::Metadata).to_vec(),
            FaultService::Container => imds::CONTAINER_ACTIONS.map(Action::Metadata).to_vec(),
        }
    }

    /// The error a quota answers its excess with: STS `Throttling` (400), S3 `SlowDown`
    /// (503), a bare 429 from the metadata endpoints.
    pub fn throttling(self) -> Effect {
        match self {
            FaultService::Sts => Effect::Error {
                code: ErrorCode::Throttling,
                status: None,
                message: None,
            },
            FaultService::S3 => Effect::Error {
                code: ErrorCode::SlowDown,
                status: None,
                message: None,
            },
            FaultService::Imds | FaultService::Container => {
                Effect::Status(StatusCode::TOO_MANY_REQUESTS)
            }
        }
    }
}

impl fmt::Display for FaultService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error codes a rule may inject for a service: the ones that service sends. The metadata
/// endpoints have none (they answer bare statuses).
pub(crate) fn error_codes_for(service: FaultService) -> &'static [ErrorCode] {
    use ErrorCode as C;
    match service {
        FaultService::Sts => &[
            C::Throttling,
            C::ServiceUnavailable,
            C::InternalFailure,
            C::RegionDisabledException,
            C::AccessDenied,
            C::ExpiredToken,
            C::InvalidClientTokenId,
            C::SignatureDoesNotMatch,
            C::IncompleteSignature,
            C::MissingAuthenticationToken,
            C::ValidationError,
            C::InvalidParameterValue,
            C::InvalidIdentityToken,
            C::ExpiredTokenException,
            C::IDPCommunicationError,
            C::IDPRejectedClaim,
        ],
        FaultService::S3 => &[
            C::SlowDown,
            C::InternalError,
            C::ServiceUnavailable,
            C::AccessDenied,
            C::ExpiredToken,
            C::InvalidAccessKeyId,
            C::InvalidToken,
            C::SignatureDoesNotMatch,
            C::RequestTimeTooSkewed,
            C::NoSuchBucket,
            C::NoSuchKey,
            C::InvalidRequest,
            C::NotImplemented,
        ],
        FaultService::Imds | FaultService::Container => &[],
    }
}

/// The bare statuses the metadata endpoints may be made to answer, and the code each event
/// records (the endpoints send no code; this one names the status page).
pub(crate) fn bare_status_code(status: u16) -> Option<ErrorCode> {
    Some(match status {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        405 => ErrorCode::MethodNotAllowed,
        429 => ErrorCode::TooManyRequests,
        500 => ErrorCode::InternalError,
        502 => ErrorCode::BadGateway,
        503 => ErrorCode::ServiceUnavailable,
        504 => ErrorCode::GatewayTimeout,
        _ => return None,
    })
}

/// What a rule does to a request it matches.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Answer with the service's error, AWS's status and message unless overridden.
    Error {
        /// The code.
        code: ErrorCode,
        /// Instead of AWS's status.
        status: Option<StatusCode>,
        /// Instead of AWS's message.
        message: Option<String>,
    },
    /// A bare HTTP status in the endpoint's own shape (IMDS, container).
    Status(StatusCode),
    /// Delay the request's arrival by this much simulated time.
    Latency(Duration),
    /// Close the connection without a response.
    Reset,
    /// Never answer.
    Hang,
}

impl Effect {
    /// The short label events carry: `error:Throttling`, `status:503`, `latency:5s`, `reset`,
    /// `hang`.
    pub fn label(&self) -> String {
        match self {
            Effect::Error { code, .. } => format!("error:{code}"),
            Effect::Status(status) => format!("status:{}", status.as_u16()),
            Effect::Latency(d) => format!("latency:{}", format_duration(*d)),
            Effect::Reset => "reset".to_string(),
            Effect::Hang => "hang".to_string(),
        }
    }

    fn to_spec(&self) -> EffectSpec {
        let mut spec = EffectSpec::default();
        match self {
            Effect::Error {
                code,
                status,
                message,
            } => {
                spec.error = Some(code.as_str().to_string());
                spec.status = status.map(|s| s.as_u16());
                spec.message = message.clone();
            }
            Effect::Status(status) => spec.status = Some(status.as_u16()),
            Effect::Latency(d) => spec.latency = Some(DurationSpec::Text(format_duration(*d))),
            Effect::Reset => spec.reset = Some(true),
            Effect::Hang => spec.hang = Some(true),
        }
        spec
    }
}

/// An effect or a quota.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// Every matching request (subject to `probability` and `limit`) gets the effect.
    Effect(Effect),
    /// Requests over `per_second` per simulated second per (service, caller account) get the
    /// service's throttling error; the burst is `per_second`.
    Quota {
        /// The rate, also the burst.
        per_second: u32,
    },
}

impl RuleKind {
    /// The label events carry (`quota:600/s` for quotas).
    pub fn label(&self) -> String {
        match self {
            RuleKind::Effect(effect) => effect.label(),
            RuleKind::Quota { per_second } => format!("quota:{per_second}/s"),
        }
    }
}

/// A validated rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The service; `None` is `*`.
    pub service: Option<FaultService>,
    /// The actions matched; empty matches every action.
    pub actions: Vec<Action>,
    /// Access key id, role ARN or principal ARN of the caller.
    pub caller: Option<String>,
    /// Simulated time from which the rule applies (inclusive).
    pub from: Option<SystemTime>,
    /// Simulated time until which the rule applies (exclusive).
    pub until: Option<SystemTime>,
    /// Chance of applying to a matching request (1 for quotas).
    pub probability: f64,
    /// Apply at most this many times.
    pub limit: Option<u64>,
    /// The effect or quota.
    pub kind: RuleKind,
}

impl FaultRule {
    /// The rule in its canonical written form: absolute RFC 3339 times, durations as text.
    pub fn to_spec(&self) -> RuleSpec {
        let (effect, quota) = match &self.kind {
            RuleKind::Effect(e) => (Some(e.to_spec()), None),
            RuleKind::Quota { per_second } => (
                None,
                Some(QuotaSpec {
                    per_second: *per_second,
                }),
            ),
        };
        RuleSpec {
            service: self.service.map_or("*", FaultService::as_str).to_string(),
            actions: (!self.actions.is_empty()).then(|| {
                self.actions
                    .iter()
                    .map(|a| a.as_str().to_string())
                    .collect()
            }),
            caller: self.caller.clone(),
            from: self.from.map(timestamp::rfc3339_millis),
            until: self.until.map(timestamp::rfc3339_millis),
            probability: matches!(self.kind, RuleKind::Effect(_)).then_some(self.probability),
            limit: self.limit,
            effect,
            quota,
        }
    }
}

/// `5s`, `250ms`, `1.5s`: whole seconds and whole milliseconds read naturally.
fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.subsec_nanos().is_multiple_of(1_000_000) && d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

const TOP_KEYS: [&str; 9] = [
    "service",
    "actions",
    "caller",
    "from",
    "until",
    "probability",
    "limit",
    "effect",
    "quota",
];
const EFFECT_KEYS: [&str; 6] = ["error", "status", "message", "latency", "reset", "hang"];
const QUOTA_KEYS: [&str; 1] = ["per_second"];

/// One key of a JSON object, typed, with the key named when it has the wrong type.
fn json_field<T: DeserializeOwned>(
    object: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    prefix: &str,
) -> Result<Option<T>, FaultError> {
    match object.get(key) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(value) => serde_json::from_value(value.clone())
            .map(Some)
            .map_err(|e| FaultError::new(format!("{prefix}{key}"), e.to_string())),
    }
}

fn json_object<'a>(
    value: &'a serde_json::Value,
    field: &str,
    keys: &[&str],
) -> Result<&'a serde_json::Map<String, serde_json::Value>, FaultError> {
    let object = value
        .as_object()
        .ok_or_else(|| FaultError::new(field, "expected a JSON object"))?;
    let prefix = if field.is_empty() {
        String::new()
    } else {
        format!("{field}.")
    };
    if let Some(unknown) = object.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(FaultError::new(
            format!("{prefix}{unknown}"),
            format!("unknown field; expected one of {}", keys.join(", ")),
        ));
    }
    Ok(object)
}

impl RuleSpec {
    /// Reads a rule from JSON, naming the field at fault (unknown keys, wrong types), which
    /// serde's own errors do not for nested keys.
    ///
    /// # Errors
    /// A [`FaultError`] naming the field (empty for a body that is not a JSON object).
    pub fn from_json(bytes: &[u8]) -> Result<RuleSpec, FaultError> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| FaultError::new("", format!("invalid JSON body: {e}")))?;
        let top = json_object(&value, "", &TOP_KEYS)?;
        let effect = match top.get("effect") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => {
                let o = json_object(v, "effect", &EFFECT_KEYS)?;
                Some(EffectSpec {
                    error: json_field(o, "error", "effect.")?,
                    status: json_field(o, "status", "effect.")?,
                    message: json_field(o, "message", "effect.")?,
                    latency: json_field(o, "latency", "effect.")?,
                    reset: json_field(o, "reset", "effect.")?,
                    hang: json_field(o, "hang", "effect.")?,
                })
            }
        };
        let quota = match top.get("quota") {
            None | Some(serde_json::Value::Null) => None,
            Some(v) => {
                let o = json_object(v, "quota", &QUOTA_KEYS)?;
                Some(QuotaSpec {
                    per_second: json_field(o, "per_second", "quota.")?.ok_or_else(|| {
                        FaultError::new("quota.per_second", "missing: requests per second")
                    })?,
                })
            }
        };
        Ok(RuleSpec {
            service: json_field(top, "service", "")?.ok_or_else(|| {
                FaultError::new("service", "missing: sts, s3, imds, container or *")
            })?,
            actions: json_field(top, "actions", "")?,
            caller: json_field(top, "caller", "")?,
            from: json_field(top, "from", "")?,
            until: json_field(top, "until", "")?,
            probability: json_field(top, "probability", "")?,
            limit: json_field(top, "limit", "")?,
            effect,
            quota,
        })
    }

    /// Validates the rule; `base` says how `from` and `until` read.
    ///
    /// # Errors
    /// The first field that fails, as a [`FaultError`] (module docs for the checks).
    pub fn validate(&self, base: TimeBase) -> Result<FaultRule, FaultError> {
        let service = match self.service.as_str() {
            "*" => None,
            name => Some(FaultService::parse(name).ok_or_else(|| {
                FaultError::new(
                    "service",
                    format!("unknown service `{name}`; one of sts, s3, imds, container, *"),
                )
            })?),
        };
        let services: Vec<FaultService> = match service {
            Some(s) => vec![s],
            None => FaultService::ALL.to_vec(),
        };
        let actions = match &self.actions {
            None => Vec::new(),
            Some(list) if list.is_empty() => {
                return Err(FaultError::new(
                    "actions",
                    "an empty list matches nothing; leave actions out to match every action",
                ));
            }
            Some(list) => {
                let known: Vec<Action> = services.iter().flat_map(|s| s.actions()).collect();
                let mut actions = Vec::with_capacity(list.len());
                for name in list {
                    let Some(action) = known.iter().find(|a| a.as_str() == name) else {
                        let names: Vec<&str> = known.iter().map(Action::as_str).collect();
                        return Err(FaultError::new(
                            "actions",
                            format!(
                                "unknown action `{name}` for {}; one of {}",
                                self.service,
                                names.join(", ")
                            ),
                        ));
                    };
                    actions.push(action.clone());
                }
                actions
            }
        };
        if self.caller.as_deref().is_some_and(|c| c.trim().is_empty()) {
            return Err(FaultError::new(
                "caller",
                "empty; an access key id, role ARN or principal ARN",
            ));
        }
        let from = self
            .from
            .as_deref()
            .map(|t| instant(t, base, "from"))
            .transpose()?;
        let until = self
            .until
            .as_deref()
            .map(|t| instant(t, base, "until"))
            .transpose()?;
        if let (Some(f), Some(u)) = (from, until)
            && u <= f
        {
            return Err(FaultError::new(
                "until",
                "the window ends before it starts (until must be after from)",
            ));
        }
        if self.limit == Some(0) {
            return Err(FaultError::new(
                "limit",
                "a rule that applies 0 times does nothing; at least 1",
            ));
        }
        let (kind, probability) = match (&self.effect, &self.quota) {
            (Some(_), Some(_)) => {
                return Err(FaultError::new(
                    "effect",
                    "a rule has an effect or a quota, not both",
                ));
            }
            (None, None) => {
                return Err(FaultError::new(
                    "effect",
                    "missing: a rule needs an effect or a quota",
                ));
            }
            (None, Some(quota)) => {
                if quota.per_second == 0 {
                    return Err(FaultError::new(
                        "quota.per_second",
                        "at least 1 request per second",
                    ));
                }
                if self.probability.is_some() {
                    return Err(FaultError::new(
                        "probability",
                        "applies to effects; a quota throttles every request over the rate",
                    ));
                }
                (
                    RuleKind::Quota {
                        per_second: quota.per_second,
                    },
                    1.0,
                )
            }
            (Some(effect), None) => {
                let probability = self.probability.unwrap_or(1.0);
                if !(0.0..=1.0).contains(&probability) {
                    return Err(FaultError::new(
                        "probability",
                        format!("{probability} is outside 0..=1"),
                    ));
                }
                (
                    RuleKind::Effect(validate_effect(effect, service)?),
                    probability,
                )
            }
        };
        Ok(FaultRule {
            service,
            actions,
            caller: self.caller.clone(),
            from,
            until,
            probability,
            limit: self.limit,
            kind,
        })
    }
}

fn instant(text: &str, base: TimeBase, field: &str) -> Result<SystemTime, FaultError> {
    match base {
        TimeBase::Absolute => timestamp::parse_rfc3339(text).ok_or_else(|| {
            FaultError::new(
                field,
                format!("`{text}` is not an RFC 3339 time (e.g. 2026-01-01T00:55:00Z)"),
            )
        }),
        TimeBase::SinceStart(start) => parse_duration(text)
            .map(|d| start + d)
            .map_err(|e| FaultError::new(field, e)),
    }
}

fn validate_effect(spec: &EffectSpec, service: Option<FaultService>) -> Result<Effect, FaultError> {
    let mut given = Vec::new();
    if spec.error.is_some() {
        given.push("error");
    }
    if spec.status.is_some() && spec.error.is_none() {
        given.push("status");
    }
    if spec.latency.is_some() {
        given.push("latency");
    }
    if spec.reset.is_some() {
        given.push("reset");
    }
    if spec.hang.is_some() {
        given.push("hang");
    }
    match given.as_slice() {
        [] => {
            return Err(FaultError::new(
                "effect",
                "missing: one of error, status, latency, reset, hang",
            ));
        }
        [_] => {}
        [first, second, ..] => {
            return Err(FaultError::new(
                "effect",
                format!("one effect per rule: got {first} and {second}"),
            ));
        }
    }
    if spec.message.is_some() && spec.error.is_none() {
        return Err(FaultError::new(
            "effect.message",
            "a message goes with an error code (effect.error)",
        ));
    }
    if let Some(code) = &spec.error {
        let Some(service) = service else {
            return Err(FaultError::new(
                "effect.error",
                "service \"*\" takes only latency, reset and hang: no error code is valid for every service; name the service",
            ));
        };
        let valid = error_codes_for(service);
        if valid.is_empty() {
            return Err(FaultError::new(
                "effect.error",
                format!(
                    "{service} answers bare statuses, not error codes; use {{\"status\": 503}}"
                ),
            ));
        }
        let parsed = ErrorCode::from_name(code)
            .filter(|c| valid.contains(c))
            .ok_or_else(|| {
                let names: Vec<&str> = valid.iter().map(|c| c.as_str()).collect();
                FaultError::new(
                    "effect.error",
                    format!(
                        "`{code}` is not an error {service} sends; one of {}",
                        names.join(", ")
                    ),
                )
            })?;
        let status = spec
            .status
            .map(|s| match StatusCode::from_u16(s) {
                Ok(status) if status.is_client_error() || status.is_server_error() => Ok(status),
                _ => Err(FaultError::new(
                    "effect.status",
                    format!("{s} is not an error status (400..=599)"),
                )),
            })
            .transpose()?;
        return Ok(Effect::Error {
            code: parsed,
            status,
            message: spec.message.clone(),
        });
    }
    if let Some(status) = spec.status {
        if !matches!(service, Some(FaultService::Imds | FaultService::Container)) {
            return Err(FaultError::new(
                "effect.status",
                "a bare status applies to imds and container; sts and s3 answer {\"error\": CODE}",
            ));
        }
        let ok = bare_status_code(status).and_then(|_| StatusCode::from_u16(status).ok());
        return ok.map(Effect::Status).ok_or_else(|| {
            FaultError::new(
                "effect.status",
                format!("{status} is not one of 400, 401, 403, 404, 405, 429, 500, 502, 503, 504"),
            )
        });
    }
    if let Some(latency) = &spec.latency {
        let d = match latency {
            DurationSpec::Seconds(s) => Duration::try_from_secs_f64(*s)
                .map_err(|_| format!("{s} is not a number of seconds")),
            DurationSpec::Text(t) => parse_duration(t),
        }
        .map_err(|e| FaultError::new("effect.latency", e))?;
        if d.is_zero() {
            return Err(FaultError::new(
                "effect.latency",
                "a latency of 0 does nothing; give a positive duration",
            ));
        }
        return Ok(Effect::Latency(d));
    }
    if let Some(reset) = spec.reset {
        return if reset {
            Ok(Effect::Reset)
        } else {
            Err(FaultError::new("effect.reset", "must be true"))
        };
    }
    match spec.hang {
        Some(true) => Ok(Effect::Hang),
        _ => Err(FaultError::new("effect.hang", "must be true")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<FaultRule, FaultError> {
        RuleSpec::from_json(text.as_bytes())?.validate(TimeBase::Absolute)
    }

    fn field_of(text: &str) -> String {
        json(text).unwrap_err().field
    }

    #[test]
    fn a_throttling_rule_validates_with_defaults() {
        let rule =
            json(r#"{"service":"sts","actions":["AssumeRole"],"effect":{"error":"Throttling"}}"#)
                .unwrap();
        assert_eq!(rule.service, Some(FaultService::Sts));
        assert_eq!(rule.probability, 1.0);
        assert_eq!(rule.kind.label(), "error:Throttling");
        let spec = rule.to_spec();
        assert_eq!(spec.probability, Some(1.0));
        assert_eq!(spec.effect.unwrap().error.as_deref(), Some("Throttling"));
    }

    #[test]
    fn bad_rules_name_the_field() {
        for (text, field) in [
            (r#"{"service":"ec2","effect":{"reset":true}}"#, "service"),
            (r#"{"effect":{"reset":true}}"#, "service"),
            (
                r#"{"service":"sts","actions":["PutObject"],"effect":{"reset":true}}"#,
                "actions",
            ),
            (
                r#"{"service":"sts","actions":[],"effect":{"reset":true}}"#,
                "actions",
            ),
            (
                r#"{"service":"sts","effect":{"error":"SlowDown"}}"#,
                "effect.error",
            ),
            (
                r#"{"service":"s3","effect":{"error":"Nope"}}"#,
                "effect.error",
            ),
            (
                r#"{"service":"imds","effect":{"error":"Throttling"}}"#,
                "effect.error",
            ),
            (
                r#"{"service":"*","effect":{"error":"AccessDenied"}}"#,
                "effect.error",
            ),
            (
                r#"{"service":"sts","effect":{"status":503}}"#,
                "effect.status",
            ),
            (
                r#"{"service":"imds","effect":{"status":200}}"#,
                "effect.status",
            ),
            (
                r#"{"service":"sts","effect":{"error":"Throttling","status":200}}"#,
                "effect.status",
            ),
            (
                r#"{"service":"sts","effect":{"latency":"5 parsecs"}}"#,
                "effect.latency",
            ),
            (
                r#"{"service":"sts","effect":{"latency":-1}}"#,
                "effect.latency",
            ),
            (
                r#"{"service":"sts","effect":{"reset":false}}"#,
                "effect.reset",
            ),
            (
                r#"{"service":"sts","effect":{"teleport":true}}"#,
                "effect.teleport",
            ),
            (r#"{"service":"sts","effect":{}}"#, "effect"),
            (
                r#"{"service":"sts","effect":{"reset":true,"hang":true}}"#,
                "effect",
            ),
            (r#"{"service":"sts"}"#, "effect"),
            (
                r#"{"service":"sts","effect":{"reset":true},"quota":{"per_second":1}}"#,
                "effect",
            ),
            (
                r#"{"service":"sts","quota":{"per_second":0}}"#,
                "quota.per_second",
            ),
            (r#"{"service":"sts","quota":{"rate":5}}"#, "quota.rate"),
            (
                r#"{"service":"sts","probability":1.5,"effect":{"reset":true}}"#,
                "probability",
            ),
            (
                r#"{"service":"sts","probability":"half","effect":{"reset":true}}"#,
                "probability",
            ),
            (
                r#"{"service":"sts","limit":0,"effect":{"reset":true}}"#,
                "limit",
            ),
            (
                r#"{"service":"sts","from":"yesterday","effect":{"reset":true}}"#,
                "from",
            ),
            (
                r#"{"service":"sts","from":"2026-01-01T01:00:00Z","until":"2026-01-01T00:00:00Z","effect":{"reset":true}}"#,
                "until",
            ),
            (
                r#"{"service":"sts","colour":"red","effect":{"reset":true}}"#,
                "colour",
            ),
            (
                r#"{"service":"sts","caller":" ","effect":{"reset":true}}"#,
                "caller",
            ),
            (r#"[1]"#, ""),
        ] {
            assert_eq!(field_of(text), field, "{text}");
        }
    }

    #[test]
    fn star_takes_latency_reset_hang_and_quotas() {
        for effect in [r#"{"latency":2}"#, r#"{"reset":true}"#, r#"{"hang":true}"#] {
            let rule = json(&format!(r#"{{"service":"*","effect":{effect}}}"#)).unwrap();
            assert_eq!(rule.service, None);
        }
        assert!(json(r#"{"service":"*","quota":{"per_second":5}}"#).is_ok());
        // An action of any service is valid with `*`.
        assert!(json(r#"{"service":"*","actions":["PutObject","GetMetadataToken"],"effect":{"reset":true}}"#).is_ok());
    }

    #[test]
    fn toml_tables_read_with_durations_since_start() {
        let start = crate::clock::default_virtual_start();
        let spec: RuleSpec = toml::from_str(
            "service = \"sts\"\nfrom = \"55m\"\nuntil = \"1h10m\"\nlimit = 3\neffect = { error = \"Throttling\" }\n",
        )
        .unwrap();
        let rule = spec.validate(TimeBase::SinceStart(start)).unwrap();
        assert_eq!(rule.from, Some(start + Duration::from_secs(55 * 60)));
        assert_eq!(rule.until, Some(start + Duration::from_secs(70 * 60)));
        let quota: RuleSpec =
            toml::from_str("service = \"s3\"\nquota = { per_second = 600 }\n").unwrap();
        assert_eq!(
            quota.validate(TimeBase::Absolute).unwrap().kind.label(),
            "quota:600/s"
        );
        let latency: RuleSpec =
            toml::from_str("service = \"*\"\neffect = { latency = 5 }\n").unwrap();
        assert_eq!(
            latency.validate(TimeBase::Absolute).unwrap().kind.label(),
            "latency:5s"
        );
        assert!(toml::from_str::<RuleSpec>("service = \"sts\"\nbogus = 1\n").is_err());
    }

    #[test]
    fn labels_are_short() {
        assert_eq!(
            Effect::Latency(Duration::from_millis(250)).label(),
            "latency:250ms"
        );
        assert_eq!(
            Effect::Latency(Duration::from_millis(1500)).label(),
            "latency:1.5s"
        );
        assert_eq!(
            Effect::Status(StatusCode::SERVICE_UNAVAILABLE).label(),
            "status:503"
        );
        assert_eq!(Effect::Reset.label(), "reset");
    }
}
