//! The control API under `/_mock/`: the simulated clock, the events, fault rules and session
//! revocation, with its own small dispatcher ([`Endpoint`]).
//!
//! | method | path | body / query | answer |
//! |---|---|---|---|
//! | GET | `/_mock/health` | | `{"status":"ok"}` |
//! | GET | `/_mock/clock` | | `{"now","mode","rate","faketime"}` |
//! | POST | `/_mock/clock/advance` | `{"seconds": N}` (fractions allowed) | the clock |
//! | POST | `/_mock/clock/rate` | `{"rate": R}` (0 freezes) | the clock |
//! | GET | `/_mock/events` | `?since=N` | events with `seq > N` still in memory, JSON lines; headers [`DROPPED_HEADER`] and [`LAST_SEQ_HEADER`] |
//! | POST | `/_mock/faults` | a rule ([`crate::faults::RuleSpec`]) | `201`, the rule as stored with `id`, `applied` |
//! | GET | `/_mock/faults` | | `{"faults":[…]}`, in the order they are tried |
//! | DELETE | `/_mock/faults/ID` | | `204`; `404` for an unknown id |
//! | DELETE | `/_mock/faults` | | `204` |
//! | POST | `/_mock/revoke` | `{"role": ARN, "issued_before": RFC3339?}` | `{"role","issued_before"}` |
//! | POST | `/_mock/oidc/token` | `{"provider": URL, "sub": S, "aud": A?, "lifetime_seconds": N?}` ([`crate::oidc::MintRequest`]) | `{"token","issued_at","expiration"}`: a JWT of a world provider with `mint = true` |
//!
//! It answers loopback peers only unless the server allows remote control: anyone who can move
//! the clock can expire every credential. In-process calls (no peer address) are local.
//! Errors are JSON `{"code","message"}` with a 4xx status; a rule or revocation that fails
//! validation adds `"field"` (the dotted key at fault) and changes nothing. Control requests
//! are not events.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;

use crate::auth::RevokeError;
use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::faults::{ListedFault, RuleSpec, TimeBase};
use crate::state::MockState;
use crate::timestamp;

/// On `GET /_mock/events?since=N`: how many events with `seq > N` the server no longer holds
/// in memory (`--events-retain`); they came before the first line of the body. `0` when
/// nothing was missed. A header, so that every line of the body stays an event.
pub(crate) const DROPPED_HEADER: &str = "x-mock-events-dropped";

/// On `GET /_mock/events`: the last seq the server has appended, whether or not it is still
/// in memory (a poller's next `since`, even when the body is empty).
pub(crate) const LAST_SEQ_HEADER: &str = "x-mock-events-last-seq";

/// The largest control request body.
const MAX_CONTROL_BODY: usize = 64 * 1024;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let code = match status {
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::FORBIDDEN => ErrorCode::AccessDenied,
        _ => ErrorCode::ValidationError,
    };
    AwsError::new(Service::Control, code)
        .with_status(status)
        .with_message(message)
        .to_response("")
}

fn json(value: serde_json::Value) -> Response {
    let mut response = (StatusCode::OK, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The clock as `GET /_mock/clock` reports it.
pub(crate) fn clock_json(state: &MockState) -> serde_json::Value {
    let mode = state.clock.mode();
    serde_json::json!({
        "now": timestamp::rfc3339_millis(state.clock.now()),
        "mode": mode.name(),
        "rate": mode.rate(),
        "faketime": state.clock.faketime(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Rate {
    rate: f64,
}

async fn body_json<T: for<'de> Deserialize<'de>>(body: Body) -> Result<T, Response> {
    let bytes = axum::body::to_bytes(body, MAX_CONTROL_BODY)
        .await
        .map_err(|_| error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")))
}

/// A control endpoint, from the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint<'a> {
    /// `/_mock/health`.
    Health,
    /// `/_mock/clock`.
    Clock,
    /// `/_mock/clock/advance`.
    ClockAdvance,
    /// `/_mock/clock/rate`.
    ClockRate,
    /// `/_mock/events`.
    Events,
    /// `/_mock/faults`.
    Faults,
    /// `/_mock/faults/ID`.
    Fault(&'a str),
    /// `/_mock/revoke`.
    Revoke,
    /// `/_mock/oidc/token`.
    OidcToken,
}

impl<'a> Endpoint<'a> {
    /// The endpoint a path (without a trailing `/`) names.
    pub(crate) fn parse(path: &'a str) -> Option<Endpoint<'a>> {
        Some(match path {
            "/_mock/health" => Endpoint::Health,
            "/_mock/clock" => Endpoint::Clock,
            "/_mock/clock/advance" => Endpoint::ClockAdvance,
            "/_mock/clock/rate" => Endpoint::ClockRate,
            "/_mock/events" => Endpoint::Events,
            "/_mock/faults" => Endpoint::Faults,
            "/_mock/revoke" => Endpoint::Revoke,
            "/_mock/oidc/token" => Endpoint::OidcToken,
            other => match other.strip_prefix("/_mock/faults/") {
                Some(id) if !id.is_empty() && !id.contains('/') => Endpoint::Fault(id),
                _ => return None,
            },
        })
    }
}

/// A `400 ValidationError` naming the field at fault.
fn field_error(field: &str, message: &str) -> Response {
    let mut response = (
        StatusCode::BAD_REQUEST,
        serde_json::json!({
            "code": ErrorCode::ValidationError.as_str(),
            "message": message,
            "field": field,
        })
        .to_string(),
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn with_status(status: StatusCode, mut response: Response) -> Response {
    *response.status_mut() = status;
    response
}

async fn body_bytes(body: Body) -> Result<bytes::Bytes, Response> {
    axum::body::to_bytes(body, MAX_CONTROL_BODY)
        .await
        .map_err(|_| error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"))
}

/// Whether the request carries `Authorization: Bearer TOKEN` with the server's token (compared
/// in constant time). No token configured: nothing matches.
fn bearer_matches(request: &Request, token: Option<&str>) -> bool {
    use subtle::ConstantTimeEq;
    let Some(token) = token else {
        return false;
    };
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())))
}

/// Serves one control request.
pub(crate) async fn handle(state: &MockState, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(ip) = peer
        && !ip.is_loopback()
    {
        if !state.config.allow_remote_control {
            return error(
                StatusCode::FORBIDDEN,
                format!(
                    "the control API answers loopback clients only (peer {ip}); start the server with --allow-remote-control and --control-token"
                ),
            );
        }
        if !bearer_matches(&request, state.config.control_token.as_deref()) {
            let mut response = error(
                StatusCode::UNAUTHORIZED,
                format!(
                    "the control API needs `Authorization: Bearer TOKEN` from remote clients (peer {ip}): the server's --control-token"
                ),
            );
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"mock-sts control\""),
            );
            return response;
        }
    }
    let method = request.method().clone();
    let path = request.uri().path().trim_end_matches('/').to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let body = request.into_body();
    let Some(endpoint) = Endpoint::parse(&path) else {
        return error(
            StatusCode::NOT_FOUND,
            format!(
                "no control endpoint {path}; see GET /_mock/health, /_mock/clock, /_mock/events, /_mock/faults"
            ),
        );
    };
    match (endpoint, method) {
        (Endpoint::Health, Method::GET) => json(serde_json::json!({"status": "ok"})),
        (Endpoint::Clock, Method::GET) => json(clock_json(state)),
        (Endpoint::ClockAdvance, Method::POST) => {
            let advance: Advance = match body_json(body).await {
                Ok(a) => a,
                Err(response) => return response,
            };
            match state.clock.advance_secs_f64(advance.seconds) {
                Ok(()) => {
                    tracing::info!(seconds = advance.seconds, now = %timestamp::rfc3339_millis(state.clock.now()), "clock advanced");
                    json(clock_json(state))
                }
                Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
            }
        }
        (Endpoint::ClockRate, Method::POST) => {
            let rate: Rate = match body_json(body).await {
                Ok(r) => r,
                Err(response) => return response,
            };
            match state.clock.set_rate(rate.rate) {
                Ok(()) => {
                    tracing::info!(rate = rate.rate, "clock rate changed");
                    json(clock_json(state))
                }
                Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
            }
        }
        (Endpoint::Events, Method::GET) => events(state, &query),
        (Endpoint::Faults, Method::POST) => {
            let bytes = match body_bytes(body).await {
                Ok(b) => b,
                Err(response) => return response,
            };
            let rule = match RuleSpec::from_json(&bytes)
                .and_then(|spec| spec.validate(TimeBase::Absolute))
            {
                Ok(rule) => rule,
                Err(e) => return field_error(&e.field, &e.message),
            };
            let label = rule.kind.label();
            let id = state.faults.add(rule.clone());
            tracing::info!(id = %id, effect = %label, "fault rule added");
            let listed = ListedFault {
                id,
                rule,
                applied: 0,
            };
            with_status(StatusCode::CREATED, json(listed.to_json()))
        }
        (Endpoint::Faults, Method::GET) => {
            let faults: Vec<serde_json::Value> = state
                .faults
                .list()
                .iter()
                .map(ListedFault::to_json)
                .collect();
            json(serde_json::json!({ "faults": faults }))
        }
        (Endpoint::Faults, Method::DELETE) => {
            state.faults.clear();
            tracing::info!("fault rules cleared");
            StatusCode::NO_CONTENT.into_response()
        }
        (Endpoint::Fault(id), Method::DELETE) => {
            if state.faults.remove(id) {
                tracing::info!(id = %id, "fault rule removed");
                StatusCode::NO_CONTENT.into_response()
            } else {
                error(StatusCode::NOT_FOUND, format!("no fault rule {id}"))
            }
        }
        (Endpoint::Revoke, Method::POST) => {
            let bytes = match body_bytes(body).await {
                Ok(b) => b,
                Err(response) => return response,
            };
            revoke(state, &bytes)
        }
        (Endpoint::OidcToken, Method::POST) => {
            let request: crate::oidc::MintRequest = match body_json(body).await {
                Ok(r) => r,
                Err(response) => return response,
            };
            match state.mint(&request) {
                Ok(minted) => json(serde_json::json!({
                    "token": minted.token,
                    "issued_at": timestamp::iso8601_seconds(minted.issued_at),
                    "expiration": timestamp::iso8601_seconds(minted.expires_at),
                })),
                Err(e) => field_error(e.field(), &e.to_string()),
            }
        }
        _ => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
    }
}

fn events(state: &MockState, query: &str) -> Response {
    let mut since = 0u64;
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        match (k.as_ref(), v.parse::<u64>()) {
            ("since", Ok(n)) => since = n,
            ("since", Err(_)) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("since must be a non-negative integer, got `{v}`"),
                );
            }
            (other, _) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("unknown query parameter `{other}`"),
                );
            }
        }
    }
    let tail = state.events.tail(since);
    let mut out = String::new();
    for event in tail.events.iter() {
        if let Ok(line) = serde_json::to_string(event) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    let mut response = (StatusCode::OK, out).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(DROPPED_HEADER, HeaderValue::from(tail.dropped));
    headers.insert(LAST_SEQ_HEADER, HeaderValue::from(tail.last_seq));
    response
}

/// `POST /_mock/revoke`: every field checked before anything changes.
fn revoke(state: &MockState, bytes: &[u8]) -> Response {
    let value: serde_json::Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return field_error("", &format!("invalid JSON body: {e}")),
    };
    let Some(object) = value.as_object() else {
        return field_error("", "expected a JSON object");
    };
    if let Some(unknown) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "role" | "issued_before"))
    {
        return field_error(unknown, "unknown field; expected role, issued_before");
    }
    let Some(role) = object.get("role").and_then(|r| r.as_str()) else {
        return field_error("role", "missing: the ARN of a role in the world");
    };
    let issued_before = match object.get("issued_before") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => match v.as_str().and_then(timestamp::parse_rfc3339) {
            Some(t) => Some(t),
            None => {
                return field_error(
                    "issued_before",
                    &format!("{v} is not an RFC 3339 time (e.g. 2026-01-01T00:55:00Z)"),
                );
            }
        },
    };
    match state.revoke(role, issued_before) {
        Ok(before) => json(serde_json::json!({
            "role": role,
            "issued_before": timestamp::rfc3339_millis(before),
        })),
        Err(e @ RevokeError::UnknownRole(_)) => field_error("role", &e.to_string()),
    }
}
