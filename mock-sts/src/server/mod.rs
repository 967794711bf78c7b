//! The server: the one request pipeline, the server loop, and [`MockAws`], the handle tests
//! and the harness hold. The state it shares lives in `crate::state`.
//!
//! Every request goes through `router`'s single entry point, in this order:
//! 1. **parse and route**: the control API by path (handed to `crate::control` whole),
//!    instance metadata and container credentials for unsigned requests to their paths, signed
//!    S3 by its SigV4 scope (S3 reads its own body, so that uploads are capped by
//!    `--max-object-size` rather than `MAX_BODY_BYTES`), otherwise the body is read and an
//!    `Action` parameter means STS; a body that cannot be read (stalled, short, over the
//!    upload budget: `crate::limits`) is answered with its error at once;
//! 2. **faults** ([`crate::faults`]), only when rules are installed: the request is
//!    identified (service, action, key id, session role and principal) and the first rule that
//!    fires may answer instead, drop the connection, hang, or delay the request's arrival on
//!    the simulated clock; this runs before authentication so latency moves the time
//!    authentication judges expiry at;
//! 3. **authenticate and serve**: the service handler, which authenticates first
//!    (`crate::auth`: signature, expiry, revocation, skew);
//! 4. **record**: the outcome becomes the response, stamped with a `Date` from the simulated
//!    clock (SDKs correct their signing clock from it, aws-facts §0.2) and the service's
//!    request-id headers, and exactly one event.
//!
//! Two seams for tests, as STYLE.md asks: the `Router` for in-process `oneshot` calls, and
//! [`MockAwsBuilder::start`] for a real socket on `127.0.0.1:0`, served by `serve`.

use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};

use crate::auth::{Authenticator, Caller, Permission, Rejection};
use crate::aws_error::{AwsError, ErrorCode, Service, insert_request_id};
use crate::clock::{SimClock, Stopwatch};
use crate::control;
use crate::events::{Action as EventAction, Event, Issued, SignedBy};
use crate::faults::{
    self, AppliedFault, CallerId, Effect, FaultRequest, FaultService, Fired, ResetConnection,
};
use crate::imds;
use crate::limits::BodyError;
use crate::s3::{self};
use crate::sigv4;
use crate::sts::{self, Action, Params, StsContext};
use crate::timestamp;

pub(crate) use crate::state::{MAX_BODY_BYTES, MockState};

/// The router serving every service and the control API.
pub(crate) fn router(state: Arc<MockState>) -> Router {
    Router::new().fallback(entry).with_state(state)
}

/// Arrival bookkeeping every event needs.
struct Arrival {
    request_id: String,
    /// Simulated arrival; later than receipt when a `latency` fault delayed the request.
    arrived: SystemTime,
    signed_at: Option<SystemTime>,
    stopwatch: Stopwatch,
}

/// A request parsed and routed to its service.
enum Routed {
    /// Instance metadata or the container endpoint.
    Metadata(imds::Route),
    /// Signed S3, known from its headers: it reads its own (possibly large) body.
    S3Stream(axum::body::Body),
    /// STS, body read.
    Sts(Bytes),
    /// S3 told from the body (no STS `Action`), body read.
    S3(Bytes),
    /// A body over [`MAX_BODY_BYTES`].
    TooLarge,
    /// A body that could not be read (stalled, short, over the upload budget): the error,
    /// in the wire format of the service the request's content type suggests.
    Unreadable(AwsError),
}

async fn entry(State(state): State<Arc<MockState>>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/_mock" || path.starts_with("/_mock/") {
        return control::handle(&state, request).await;
    }
    let stopwatch = Stopwatch::start();
    let received = state.clock.now();
    let request_id = state.next_request_id();
    let closing = request.extensions().get::<Closing>().cloned();
    let (parts, body) = request.into_parts();
    let mut arrival = Arrival {
        request_id,
        arrived: received,
        signed_at: signing_time(&parts),
        stopwatch,
    };
    let routed = route(&state, &parts, body).await;

    // The fault stage: after routing and identification, before authentication (module docs
    // of `faults` for why).
    let mut fault = None;
    if state.faults.is_active()
        && let Some((fired, target)) = fault_stage(&state, &parts, &routed, received)
    {
        fault = Some(fired.applied);
        match fired.effect {
            Effect::Latency(delay) => {
                // Time in flight: the request reaches authentication and the service `delay`
                // later on the simulated clock. A server shutting down cuts the flight short.
                let landed = match &closing {
                    Some(closing) => tokio::select! {
                        () = state.clock.sleep(delay) => true,
                        () = closing.clone().wait() => false,
                    },
                    None => {
                        state.clock.sleep(delay).await;
                        true
                    }
                };
                if !landed {
                    return unanswered(&state, target, &arrival, fault);
                }
                arrival.arrived = state.clock.now();
            }
            Effect::Reset => return unanswered(&state, target, &arrival, fault),
            Effect::Hang => {
                // Recorded now, in arrival order, whenever the client gives up.
                let response = unanswered(&state, target, &arrival, fault);
                match closing {
                    Some(closing) => closing.wait().await,
                    None => std::future::pending::<()>().await,
                }
                return response;
            }
            effect @ (Effect::Error { .. } | Effect::Status(_)) => {
                return answer_fault(&state, &parts, &routed, target, effect, &arrival, fault);
            }
        }
    }

    let now = arrival.arrived;
    let outcome = match routed {
        Routed::Metadata(route) => {
            let reply = imds::handle(state.imds_context(now), route, &parts);
            let response = finish(&state, Outcome::from(&reply), &arrival, fault);
            return reply.render(response);
        }
        Routed::S3Stream(body) => s3_request(&state, &parts, body, &arrival.request_id, now).await,
        Routed::Sts(body) => sts_request(&state, &parts, &body, &arrival.request_id, now).await,
        Routed::S3(body) => s3_request(&state, &parts, body.into(), &arrival.request_id, now).await,
        Routed::TooLarge => Outcome::failed(
            Service::Sts,
            EventAction::Unknown,
            AwsError::new(Service::Sts, ErrorCode::ValidationError)
                .with_status(StatusCode::PAYLOAD_TOO_LARGE)
                .with_message(format!(
                    "Request body is larger than {MAX_BODY_BYTES} bytes"
                )),
        ),
        Routed::Unreadable(error) => Outcome::failed(error.service, EventAction::Unknown, error),
    };
    finish(&state, outcome, &arrival, fault)
}

/// Parses enough of a request to route it: the metadata endpoints by path, signed S3 by its
/// headers (its body is left for S3 to read), else the body is read and tells STS from S3.
async fn route(state: &MockState, parts: &Parts, body: axum::body::Body) -> Routed {
    if let Some(route) = imds::route(&state.world, parts) {
        return Routed::Metadata(route);
    }
    if classify_parts(parts) == Some(Service::S3) {
        return Routed::S3Stream(body);
    }
    match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => match classify(parts, &body) {
            Service::Sts => Routed::Sts(body),
            _ => Routed::S3(body),
        },
        Err(e) => match BodyError::find(&e) {
            Some(error) => Routed::Unreadable(error.to_aws_error(unread_service(parts))),
            None => Routed::TooLarge,
        },
    }
}

/// The service of a request whose body could not be read, so could not tell: a form POST is
/// STS's query protocol, anything else unsigned S3.
fn unread_service(parts: &Parts) -> Service {
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form { Service::Sts } else { Service::S3 }
}

/// Who a request claims to be from: the key id, and the caller behind it when the key is a
/// world user's or the session token authenticates (its HMAC; the request's signature is
/// authentication's business, later).
#[derive(Default)]
struct Identity {
    access_key_id: Option<String>,
    caller: Option<Caller>,
    principal_arn: Option<String>,
}

impl Identity {
    fn of(state: &MockState, parts: &Parts) -> Identity {
        let Ok(Some(sig)) = sigv4::parse(parts) else {
            return Identity::default();
        };
        let caller = match &sig.security_token {
            Some(token) => state
                .authority
                .validate(token, &sig.access_key_id)
                .ok()
                .map(Caller::Session),
            None => state
                .world
                .user_by_access_key(&sig.access_key_id)
                .map(|u| Caller::User(u.clone())),
        };
        Identity {
            principal_arn: caller.as_ref().map(Caller::arn),
            access_key_id: Some(sig.access_key_id),
            caller,
        }
    }

    fn caller_id(&self) -> CallerId<'_> {
        let role_arn = match &self.caller {
            Some(Caller::Session(claims)) => claims.role_arn.as_deref(),
            _ => None,
        };
        CallerId {
            access_key_id: self.access_key_id.as_deref(),
            role_arn,
            principal_arn: self.principal_arn.as_deref(),
            account: self.caller.as_ref().map(Caller::account_id),
        }
    }

    fn signed_by(&self) -> Option<SignedBy> {
        self.caller.as_ref().map(Caller::signed_by)
    }
}

/// The fault service and action of a routed request (`None`: faults do not apply).
fn fault_target(parts: &Parts, routed: &Routed) -> Option<(FaultService, EventAction)> {
    Some(match routed {
        Routed::Metadata(route) => {
            let service = match route {
                imds::Route::Instance => FaultService::Imds,
                imds::Route::Container => FaultService::Container,
            };
            (service, imds::action(*route, parts).into())
        }
        Routed::S3Stream(_) | Routed::S3(_) => (FaultService::S3, s3::action_of(parts).into()),
        Routed::Sts(body) => (FaultService::Sts, sts_action(parts, body)),
        Routed::TooLarge | Routed::Unreadable(_) => return None,
    })
}

/// The STS `Action` parameter, from the query (GET, or an empty body) or the form body.
fn sts_action(parts: &Parts, body: &[u8]) -> EventAction {
    let raw = if parts.method == Method::GET || body.is_empty() {
        parts.uri.query().unwrap_or("").as_bytes()
    } else {
        body
    };
    let name = form_urlencoded::parse(raw)
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v);
    EventAction::sts_parameter(name.as_deref())
}

/// What the fault stage found out about a request, once, for its event if a rule fires: the
/// service and action the event records, and who the request claims to be from.
struct FaultTarget {
    service: Service,
    action: EventAction,
    identity: Identity,
}

/// Asks the fault stage about a request that arrived at `now`; when a rule fires, also what
/// its event records.
fn fault_stage(
    state: &MockState,
    parts: &Parts,
    routed: &Routed,
    now: SystemTime,
) -> Option<(Fired, FaultTarget)> {
    let (fault_service, action) = fault_target(parts, routed)?;
    let identity = Identity::of(state, parts);
    let request = FaultRequest {
        service: fault_service,
        action: &action,
        caller: identity.caller_id(),
    };
    let fired = state.faults.decide(&request, now, || state.dice())?;
    let service = match fault_service {
        FaultService::Sts => Service::Sts,
        FaultService::S3 => Service::S3,
        FaultService::Imds | FaultService::Container => Service::Imds,
    };
    Some((
        fired,
        FaultTarget {
            service,
            action,
            identity,
        },
    ))
}

/// An error or bare-status fault, answered in the service's own wire format.
fn answer_fault(
    state: &MockState,
    parts: &Parts,
    routed: &Routed,
    target: FaultTarget,
    effect: Effect,
    arrival: &Arrival,
    fault: Option<AppliedFault>,
) -> Response {
    let FaultTarget {
        service,
        action,
        identity,
    } = target;
    let (code, status, message) = match effect {
        Effect::Error {
            code,
            status,
            message,
        } => (code, status, message),
        Effect::Status(status) => (
            faults::rule::bare_status_code(status.as_u16()).unwrap_or(ErrorCode::InternalFailure),
            Some(status),
            None,
        ),
        // Only answering effects come here.
        _ => (ErrorCode::InternalFailure, None, None),
    };
    if let Routed::Metadata(route) = routed {
        let status = status.unwrap_or_else(|| AwsError::new(Service::Imds, code).status);
        let reply = imds::status_reply(*route, parts, code, status);
        let response = finish(state, Outcome::from(&reply), arrival, fault);
        return reply.render(response);
    }
    let mut error = AwsError::new(service, code);
    if let Some(status) = status {
        error = error.with_status(status);
    }
    match message {
        Some(message) => error = error.with_message(message),
        None if code == ErrorCode::RegionDisabledException => {
            if let Some(account) = identity.caller.as_ref().map(Caller::account_id) {
                error = error.with_message(format!(
                    "STS is not activated in this region for account:{account}. Your account administrator can activate STS in this region using the IAM Console."
                ));
            }
        }
        None => {}
    }
    let outcome = Outcome {
        service,
        action,
        result: Err(error),
        signed_by: identity.signed_by(),
        issued: None,
    };
    finish(state, outcome, arrival, fault)
}

/// A request that gets no response (`reset`, `hang`): its event, status 0 and no error code,
/// and the placeholder response that asks the server to drop the connection.
fn unanswered(
    state: &MockState,
    target: FaultTarget,
    arrival: &Arrival,
    fault: Option<AppliedFault>,
) -> Response {
    let FaultTarget {
        service,
        action,
        identity,
    } = target;
    tracing::debug!(%service, %action, sim_time = %timestamp::rfc3339_millis(arrival.arrived), "connection dropped");
    record(
        state,
        Recorded {
            service,
            action,
            signed_by: identity.signed_by(),
            status: 0,
            error: None,
            issued: None,
            fault,
        },
        arrival,
        arrival.arrived,
    );
    let mut response = Response::new(axum::body::Body::empty());
    // What a proxy would report for a dropped upstream, should anyone ignore the marker.
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response.extensions_mut().insert(ResetConnection);
    response
}

/// The `X-Amz-Date` header a SigV4 header-signed request carries, parsed: when the client
/// signed it, by its own clock. Recorded on the event so that a client's clock can be compared
/// with the server's (presigned URLs are left out: their date is when the URL was made).
fn signing_time(parts: &Parts) -> Option<SystemTime> {
    parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|_| parts.headers.get("x-amz-date"))
        .and_then(|v| v.to_str().ok())
        .and_then(timestamp::parse_amz_date)
}

async fn s3_request(
    state: &MockState,
    parts: &Parts,
    body: axum::body::Body,
    request_id: &str,
    now: SystemTime,
) -> Outcome {
    let handled = s3::handle(state, parts, body, request_id, now).await;
    Outcome {
        service: Service::S3,
        action: handled.action.into(),
        result: handled.result,
        signed_by: handled.signed_by,
        issued: None,
    }
}

/// The service a request's headers and query name: the SigV4 scope, or an `Action` query
/// parameter for STS. `None` when only the body can tell.
fn classify_parts(parts: &Parts) -> Option<Service> {
    let scope_service = |credential: &str| -> Option<Service> {
        let service = credential.split('/').nth(3)?;
        match service {
            "sts" => Some(Service::Sts),
            "s3" => Some(Service::S3),
            _ => None,
        }
    };
    if let Some(auth) = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        && let Some(cred) = auth
            .split([' ', ','])
            .find_map(|p| p.trim().strip_prefix("Credential="))
        && let Some(s) = scope_service(cred)
    {
        return Some(s);
    }
    let query = parts.uri.query().unwrap_or("");
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if k == "X-Amz-Credential"
            && let Some(s) = scope_service(&v)
        {
            return Some(s);
        }
        if k == "Action" {
            return Some(Service::Sts);
        }
    }
    None
}

/// Which service a request is for: [`classify_parts`], else an `Action` in the body means STS.
fn classify(parts: &Parts, body: &[u8]) -> Service {
    if let Some(service) = classify_parts(parts) {
        return service;
    }
    if contains_action(body) {
        return Service::Sts;
    }
    Service::S3
}

fn contains_action(body: &[u8]) -> bool {
    body.len() < 1 << 20
        && body
            .split(|b| *b == b'&')
            .any(|p| p.starts_with(b"Action="))
}

/// What a service handler produced, before it becomes a response and an event.
struct Outcome {
    service: Service,
    action: EventAction,
    result: Result<Response, AwsError>,
    signed_by: Option<SignedBy>,
    issued: Option<Issued>,
}

/// A metadata request is an event like any other: IMDS or the container endpoint, its action,
/// what it issued. The exact body and headers come from [`imds::Reply::render`].
impl From<&imds::Reply> for Outcome {
    fn from(reply: &imds::Reply) -> Outcome {
        Outcome {
            service: Service::Imds,
            action: reply.action.into(),
            result: reply.result(),
            signed_by: None,
            issued: reply.issued.clone(),
        }
    }
}

impl Outcome {
    fn failed(service: Service, action: EventAction, error: AwsError) -> Outcome {
        Outcome {
            service,
            action,
            result: Err(error),
            signed_by: None,
            issued: None,
        }
    }
}

async fn sts_request(
    state: &MockState,
    parts: &Parts,
    body: &Bytes,
    request_id: &str,
    now: SystemTime,
) -> Outcome {
    let raw = if parts.method == Method::GET || body.is_empty() {
        parts.uri.query().unwrap_or("").as_bytes()
    } else {
        &body[..]
    };
    let params = match Params::parse(raw) {
        Ok(p) => p,
        Err(e) => return Outcome::failed(Service::Sts, EventAction::Unknown, e),
    };
    let action_name = EventAction::sts_parameter(params.get("Action"));
    let action = match &action_name {
        EventAction::Sts(action) => Some(*action),
        _ => None,
    };

    let caller = if action.is_some_and(|a| a.is_unsigned()) {
        None
    } else {
        let iam_action = format!("sts:{action_name}");
        let auth = Authenticator {
            world: &state.world,
            authority: &state.authority,
            now,
            max_skew: state.config.max_skew,
            revocations: Some(&state.revocations),
            permission: Permission {
                action: &iam_action,
                resource: match action {
                    Some(Action::AssumeRole) => params.get("RoleArn"),
                    _ => None,
                },
            },
        };
        match auth.authenticate(Service::Sts, parts, body) {
            Ok(caller) => Some(caller),
            Err(Rejection { error, signed_by }) => {
                return Outcome {
                    service: Service::Sts,
                    action: action_name,
                    result: Err(*error),
                    signed_by,
                    issued: None,
                };
            }
        }
    };
    let signed_by = caller.as_ref().map(|c| c.signed_by());

    let Some(action) = action else {
        let error = match params.get("Action") {
            None => {
                AwsError::new(Service::Sts, ErrorCode::MissingAction).with_message("Missing Action")
            }
            Some(name) => {
                AwsError::new(Service::Sts, ErrorCode::InvalidAction).with_message(format!(
                    "Could not find operation {name} for version {}",
                    sts::API_VERSION
                ))
            }
        };
        return Outcome {
            service: Service::Sts,
            action: action_name,
            result: Err(error),
            signed_by,
            issued: None,
        };
    };

    let ctx = StsContext {
        world: &state.world,
        authority: &state.authority,
        oidc: &state.oidc,
        now,
        compression: state.config.lifetime_compression,
    };
    let result = sts::handle(
        ctx,
        action,
        &params,
        caller.as_ref(),
        state.new_access_key_id(),
        request_id,
    )
    .await;
    match result {
        Ok(success) => Outcome {
            service: Service::Sts,
            action: action_name,
            result: Ok((
                StatusCode::OK,
                [(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"))],
                success.body,
            )
                .into_response()),
            signed_by,
            issued: success.issued,
        },
        Err(error) => Outcome {
            service: Service::Sts,
            action: action_name,
            result: Err(error),
            signed_by,
            issued: None,
        },
    }
}

/// Turns an outcome into the response, stamped with the simulated `Date`, and logs the event.
fn finish(
    state: &MockState,
    outcome: Outcome,
    arrival: &Arrival,
    fault: Option<AppliedFault>,
) -> Response {
    let request_id = arrival.request_id.as_str();
    let (mut response, error) = match outcome.result {
        Ok(mut response) => {
            insert_request_id(outcome.service, response.headers_mut(), request_id);
            (response, None)
        }
        Err(error) => (error.to_response(request_id), Some(error)),
    };
    let done = state.clock.now();
    // The formatted `String` becomes the value's bytes, not a copy of them.
    if let Ok(date) = HeaderValue::try_from(timestamp::http_date(done)) {
        response.headers_mut().insert(header::DATE, date);
    }
    let status = response.status().as_u16();
    match &error {
        Some(e) => tracing::debug!(
            service = %outcome.service, action = %outcome.action, status,
            code = %e.code, sim_time = %timestamp::rfc3339_millis(arrival.arrived), "request failed"
        ),
        None => tracing::debug!(
            service = %outcome.service, action = %outcome.action, status,
            sim_time = %timestamp::rfc3339_millis(arrival.arrived), "request served"
        ),
    }
    record(
        state,
        Recorded {
            service: outcome.service,
            action: outcome.action,
            signed_by: outcome.signed_by,
            status,
            error,
            issued: outcome.issued,
            fault,
        },
        arrival,
        done,
    );
    response
}

/// What an event records beyond the arrival.
struct Recorded {
    service: Service,
    action: EventAction,
    signed_by: Option<SignedBy>,
    status: u16,
    error: Option<AwsError>,
    issued: Option<Issued>,
    fault: Option<AppliedFault>,
}

/// Appends one event; `done` is the simulated time the answer was ready.
fn record(state: &MockState, recorded: Recorded, arrival: &Arrival, done: SystemTime) {
    state.events.append(Event {
        seq: 0,
        sim_time: arrival.arrived,
        wall_time: SimClock::system_now(),
        service: recorded.service,
        action: recorded.action,
        request_id: arrival.request_id.clone(),
        request_time: arrival.signed_at,
        signed_by: recorded.signed_by,
        status: recorded.status,
        error_code: recorded.error.as_ref().map(|e| e.code),
        error_message: recorded.error.map(|e| e.message),
        issued: recorded.issued,
        latency_ms: arrival.stopwatch.elapsed().as_secs_f64() * 1000.0,
        sim_latency_ms: done
            .duration_since(arrival.arrived)
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0,
        fault: recorded.fault,
    });
}

mod handle;
mod in_process;
mod serve;

pub use handle::{MockAws, MockAwsBuilder};
pub(crate) use in_process::dispatch;
use serve::Closing;
pub(crate) use serve::{ConnectionLimits, serve};
