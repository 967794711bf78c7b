//! The control API under `/_mock/`: read and move the simulated clock, read the events.
//!
//! | method | path | body / query | answer |
//! |---|---|---|---|
//! | GET | `/_mock/health` | | `{"status":"ok"}` |
//! | GET | `/_mock/clock` | | `{"now","mode","rate","faketime"}` |
//! | POST | `/_mock/clock/advance` | `{"seconds": N}` (fractions allowed) | the clock |
//! | POST | `/_mock/clock/rate` | `{"rate": R}` (0 freezes) | the clock |
//! | GET | `/_mock/events` | `?since=N` | events with `seq > N`, JSON lines |
//!
//! It answers loopback peers only unless the server allows remote control: anyone who can move
//! the clock can expire every credential. In-process calls (no peer address) are local.
//! Errors are JSON `{"code","message"}` with a 4xx status; control requests are not events.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;

use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::state::MockState;
use crate::timestamp;

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
pub fn clock_json(state: &MockState) -> serde_json::Value {
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

/// Serves one control request.
pub async fn handle(state: &MockState, request: Request) -> Response {
    if !state.config.allow_remote_control {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        if let Some(ip) = peer
            && !ip.is_loopback()
        {
            return error(
                StatusCode::FORBIDDEN,
                format!(
                    "the control API answers loopback clients only (peer {ip}); start the server with --allow-remote-control"
                ),
            );
        }
    }
    let method = request.method().clone();
    let path = request.uri().path().trim_end_matches('/').to_string();
    let query = request.uri().query().unwrap_or("").to_string();
    let body = request.into_body();
    match (method, path.as_str()) {
        (Method::GET, "/_mock/health") => json(serde_json::json!({"status": "ok"})),
        (Method::GET, "/_mock/clock") => json(clock_json(state)),
        (Method::POST, "/_mock/clock/advance") => {
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
        (Method::POST, "/_mock/clock/rate") => {
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
        (Method::GET, "/_mock/events") => {
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
            let mut out = String::new();
            for event in state.events.since(since).iter() {
                if let Ok(line) = serde_json::to_string(event) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
            let mut response = (StatusCode::OK, out).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            );
            response
        }
        (
            _,
            "/_mock/health"
            | "/_mock/clock"
            | "/_mock/clock/advance"
            | "/_mock/clock/rate"
            | "/_mock/events",
        ) => error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
        (_, other) => error(
            StatusCode::NOT_FOUND,
            format!(
                "no control endpoint {other}; see GET /_mock/health, /_mock/clock, /_mock/events"
            ),
        ),
    }
}
