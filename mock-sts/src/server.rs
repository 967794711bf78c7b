//! The server: the one request pipeline, the server loop, and [`MockAws`], the handle tests
//! and the harness hold. The state it shares lives in [`crate::state`].
//!
//! Every request goes through [`router`]'s single entry point, in this order:
//! 1. **parse and route**: the control API by path (handed to [`crate::control`] whole),
//!    instance metadata and container credentials for unsigned requests to their paths, signed
//!    S3 by its SigV4 scope (S3 reads its own body, so that uploads are capped by
//!    `--max-object-size` rather than [`MAX_BODY_BYTES`]), otherwise the body is read and an
//!    `Action` parameter means STS;
//! 2. **faults** ([`crate::faults`]), only when rules are installed: the request is
//!    identified (service, action, key id, session role and principal) and the first rule that
//!    fires may answer instead, drop the connection, hang, or delay the request's arrival on
//!    the simulated clock; this runs before authentication so latency moves the time
//!    authentication judges expiry at;
//! 3. **authenticate and serve**: the service handler, which authenticates first
//!    ([`crate::auth`]: signature, expiry, revocation, skew);
//! 4. **record**: the outcome becomes the response, stamped with a `Date` from the simulated
//!    clock (SDKs correct their signing clock from it, aws-facts §0.2) and the service's
//!    request-id headers, and exactly one event.
//!
//! Two seams for tests, as STYLE.md asks: the `Router` for in-process `oneshot` calls, and
//! [`MockAwsBuilder::start`] for a real socket on `127.0.0.1:0`, served by [`serve`].

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderValue, Method, StatusCode, header};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::auth::{Authenticator, Caller, Permission, Rejection, Revocations, RevokeError};
use crate::aws_error::{AwsError, ErrorCode, Service, insert_request_id};
use crate::clock::{SimClock, Stopwatch};
use crate::control;
use crate::credentials::{CredentialAuthority, ServerKey};
use crate::events::{Action as EventAction, Event, EventLog, Events, Issued, SignedBy};
use crate::faults::{
    self, AppliedFault, CallerId, Effect, FaultRequest, FaultRule, FaultService, Faults, Fired,
    ResetConnection,
};
use crate::imds;
use crate::oidc::OidcVerifier;
use crate::s3::{self, S3};
use crate::sigv4;
use crate::sts::{self, Action, Params, StsContext};
use crate::timestamp;
use crate::world::World;

pub use crate::state::{MAX_BODY_BYTES, MockState, ServerConfig};

/// The router serving every service and the control API.
pub fn router(state: Arc<MockState>) -> Router {
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
        && let Some(fired) = fault_stage(&state, &parts, &routed, received)
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
                    return unanswered(&state, &parts, &routed, &arrival, fault);
                }
                arrival.arrived = state.clock.now();
            }
            Effect::Reset => return unanswered(&state, &parts, &routed, &arrival, fault),
            Effect::Hang => {
                // Recorded now, in arrival order, whenever the client gives up.
                let response = unanswered(&state, &parts, &routed, &arrival, fault);
                match closing {
                    Some(closing) => closing.wait().await,
                    None => std::future::pending::<()>().await,
                }
                return response;
            }
            effect @ (Effect::Error { .. } | Effect::Status(_)) => {
                return answer_fault(&state, &parts, &routed, effect, &arrival, fault);
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
        Err(_) => Routed::TooLarge,
    }
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
        Routed::TooLarge => return None,
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

/// Asks the fault stage about a request that arrived at `now`.
fn fault_stage(
    state: &MockState,
    parts: &Parts,
    routed: &Routed,
    now: SystemTime,
) -> Option<Fired> {
    let (service, action) = fault_target(parts, routed)?;
    let identity = Identity::of(state, parts);
    let request = FaultRequest {
        service,
        action: &action,
        caller: identity.caller_id(),
    };
    state.faults.decide(&request, now, || state.dice())
}

/// The service and action an event records for a routed request.
fn event_target(parts: &Parts, routed: &Routed) -> (Service, EventAction) {
    match fault_target(parts, routed) {
        Some((FaultService::Sts, action)) => (Service::Sts, action),
        Some((FaultService::S3, action)) => (Service::S3, action),
        Some((FaultService::Imds | FaultService::Container, action)) => (Service::Imds, action),
        None => (Service::Sts, EventAction::Unknown),
    }
}

/// An error or bare-status fault, answered in the service's own wire format.
fn answer_fault(
    state: &MockState,
    parts: &Parts,
    routed: &Routed,
    effect: Effect,
    arrival: &Arrival,
    fault: Option<AppliedFault>,
) -> Response {
    let identity = Identity::of(state, parts);
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
    let (service, action) = event_target(parts, routed);
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
    parts: &Parts,
    routed: &Routed,
    arrival: &Arrival,
    fault: Option<AppliedFault>,
) -> Response {
    let (service, action) = event_target(parts, routed);
    tracing::debug!(%service, %action, sim_time = %timestamp::rfc3339_millis(arrival.arrived), "connection dropped");
    record(
        state,
        Recorded {
            service,
            action,
            signed_by: Identity::of(state, parts).signed_by(),
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
    if let Ok(date) = HeaderValue::from_str(&timestamp::http_date(done)) {
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

/// Serves `router` on `listener` until `shutdown` completes. The caller owns the listener, so
/// tests bind port 0 and read the address back.
///
/// Accepted connections get `TCP_NODELAY`, as the SDKs' own sockets do: a response is written
/// as soon as it is ready, not held back for the client's acknowledgement of the last one.
///
/// The loop is hyper's HTTP/1 server driven directly, not `axum::serve`, for the `reset`
/// fault: a response marked [`ResetConnection`] becomes a service error, on which hyper closes
/// the connection without writing a byte, which is what a client sees when a connection is
/// reset. On shutdown the server stops accepting, lets in-flight requests finish, and ends
/// requests that would never finish on their own (a `hang`, a `latency` on a frozen clock)
/// by closing their connections.
///
/// # Errors
/// None at present: accept errors are logged and the loop goes on (the signature keeps room
/// for fatal ones).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                // A peer that gave up before accept, or no descriptors left: neither should
                // stop the server. Back off a little in case it is the latter.
                tracing::debug!(error = %e, "accept failed");
                crate::clock::real_sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let service = ConnectionService {
            router: router.clone(),
            peer,
            closing: Closing(closing_rx.clone()),
        };
        let closing = closing_rx.clone();
        connections.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                () = Closing(closing).wait() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection closed");
            }
        });
        // Reap finished connections so the set does not grow with every one ever served.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = closing_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

/// Resolves when the server starts shutting down: the end of requests that would otherwise
/// never finish. Requests without it (in-process calls) wait until their caller drops them.
#[derive(Debug, Clone)]
struct Closing(watch::Receiver<bool>);

impl Closing {
    async fn wait(mut self) {
        // An error means the server loop is gone: closing too.
        let _ = self.0.wait_for(|closing| *closing).await;
    }
}

/// One connection's hyper service: the router, with the peer address (the control API's
/// loopback check) and the closing signal on every request.
#[derive(Clone)]
struct ConnectionService {
    router: Router,
    peer: SocketAddr,
    closing: Closing,
}

/// The error that makes hyper close a connection without a response (the `reset` fault).
#[derive(Debug, thiserror::Error)]
#[error("connection reset by fault injection")]
struct ResetError;

impl hyper::service::Service<http::Request<hyper::body::Incoming>> for ConnectionService {
    type Response = Response;
    type Error = ResetError;
    type Future = std::pin::Pin<Box<dyn Future<Output = Result<Response, ResetError>> + Send>>;

    fn call(&self, request: http::Request<hyper::body::Incoming>) -> Self::Future {
        let mut request = request.map(axum::body::Body::new);
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        request.extensions_mut().insert(self.closing.clone());
        let router = self.router.clone();
        Box::pin(async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            if response.extensions().get::<ResetConnection>().is_some() {
                return Err(ResetError);
            }
            Ok(response)
        })
    }
}

/// Configures a [`MockAws`].
#[derive(Debug, Default)]
pub struct MockAwsBuilder {
    clock: Option<SimClock>,
    world: Option<World>,
    key: Option<ServerKey>,
    seed: Option<u64>,
    config: ServerConfig,
    events: Option<EventLog>,
    faults: Vec<FaultRule>,
}

impl MockAwsBuilder {
    /// The simulated clock (default: wall).
    pub fn clock(mut self, clock: SimClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The world (default: [`World::default`]).
    pub fn world(mut self, world: World) -> Self {
        self.world = Some(world);
        self
    }

    /// The server key (default: drawn from the seeded RNG). The same key validates the same
    /// credentials across restarts.
    pub fn key(mut self, key: ServerKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Seeds every random choice (request ids, access keys, the default key).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Allowed request-time skew; `None` disables the check.
    pub fn max_skew(mut self, max_skew: Option<Duration>) -> Self {
        self.config.max_skew = max_skew;
        self
    }

    /// Serve the control API to non-loopback peers.
    pub fn allow_remote_control(mut self, allow: bool) -> Self {
        self.config.allow_remote_control = allow;
        self
    }

    /// Use this event log (e.g. one that also writes a file).
    pub fn events(mut self, events: EventLog) -> Self {
        self.events = Some(events);
        self
    }

    /// Keep S3 buckets and objects in `dir` (created if missing) across restarts, instead of
    /// in memory.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.config.data_dir = Some(dir.into());
        self
    }

    /// Largest S3 object or part accepted, bytes (default 5 GiB, S3's single-PUT limit).
    /// Uploads are buffered in memory, so this also bounds memory per request.
    pub fn max_object_size(mut self, bytes: u64) -> Self {
        self.config.max_object_size = bytes;
        self
    }

    /// Installs a fault rule from the start (after any added before it).
    pub fn fault(mut self, rule: FaultRule) -> Self {
        self.faults.push(rule);
        self
    }

    fn state(self) -> io::Result<Arc<MockState>> {
        let mut rng = match self.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        let key = self.key.unwrap_or_else(|| ServerKey::generate(&mut rng));
        let faults = Faults::new();
        for rule in self.faults {
            faults.add(rule);
        }
        let store = match &self.config.data_dir {
            Some(dir) => s3::store::Store::open_dir(dir)
                .map_err(|e| io::Error::other(format!("data dir {}: {e}", dir.display())))?,
            None => s3::store::Store::memory(),
        };
        Ok(Arc::new(MockState {
            clock: self.clock.unwrap_or_else(SimClock::wall),
            world: self.world.unwrap_or_default(),
            authority: CredentialAuthority::new(key),
            events: self.events.unwrap_or_default(),
            rng: Mutex::new(rng),
            oidc: OidcVerifier::new(),
            s3: S3::new(store, self.config.max_object_size),
            config: self.config,
            faults,
            revocations: Revocations::default(),
        }))
    }

    /// An in-process mock with no socket: call it through [`MockAws::router`].
    ///
    /// # Panics
    /// When a [`data_dir`](Self::data_dir) was set and cannot be opened; use
    /// [`try_build`](Self::try_build) to handle that.
    pub fn build(self) -> MockAws {
        match self.try_build() {
            Ok(aws) => aws,
            Err(e) => panic!("MockAwsBuilder::build: {e}"),
        }
    }

    /// [`build`](Self::build), reporting a data dir that cannot be opened.
    ///
    /// # Errors
    /// When the data dir cannot be created, cleaned or read.
    pub fn try_build(self) -> io::Result<MockAws> {
        Ok(MockAws {
            state: self.state()?,
            addr: None,
            shutdown: Mutex::new(None),
            task: Mutex::new(None),
        })
    }

    /// Starts serving on `127.0.0.1:0`.
    ///
    /// # Errors
    /// When the socket cannot be bound, or a data dir cannot be opened.
    pub async fn start(self) -> io::Result<MockAws> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        self.start_on(listener).await
    }

    /// Starts serving on a listener the caller bound.
    ///
    /// # Errors
    /// When the listener has no local address, or a data dir cannot be opened.
    pub async fn start_on(self, listener: TcpListener) -> io::Result<MockAws> {
        let addr = listener.local_addr()?;
        let state = self.state()?;
        let (tx, rx) = oneshot::channel::<()>();
        let app = router(state.clone());
        let task = tokio::spawn(serve(listener, app, async move {
            let _ = rx.await;
        }));
        Ok(MockAws {
            state,
            addr: Some(addr),
            shutdown: Mutex::new(Some(tx)),
            task: Mutex::new(Some(task)),
        })
    }
}

/// A running (or in-process) mock AWS endpoint: its URL, clock and events.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use std::time::Duration;
/// use mock_sts::{MockAws, clock::SimClock};
///
/// let aws = MockAws::builder()
///     .clock(SimClock::frozen(mock_sts::clock::default_virtual_start()))
///     .start()
///     .await?;
/// assert!(aws.endpoint_url().starts_with("http://127.0.0.1:"));
/// aws.clock().advance(Duration::from_secs(3600)).unwrap();
/// assert!(aws.events().is_empty());
/// aws.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MockAws {
    state: Arc<MockState>,
    addr: Option<SocketAddr>,
    shutdown: Mutex<Option<oneshot::Sender<()>>>,
    task: Mutex<Option<JoinHandle<io::Result<()>>>>,
}

impl MockAws {
    /// A builder with the defaults: wall clock, default world, random key.
    pub fn builder() -> MockAwsBuilder {
        MockAwsBuilder::default()
    }

    /// `http://127.0.0.1:PORT` when serving on a socket; `http://mock-sts.local` in process.
    pub fn endpoint_url(&self) -> String {
        match self.addr {
            Some(addr) => format!("http://{addr}"),
            None => "http://mock-sts.local".to_string(),
        }
    }

    /// The socket address, when serving on one.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.addr
    }

    /// The simulated clock.
    pub fn clock(&self) -> &SimClock {
        &self.state.clock
    }

    /// A snapshot of the events so far.
    pub fn events(&self) -> Events {
        self.state.events.snapshot()
    }

    /// The live event log.
    pub fn event_log(&self) -> &EventLog {
        &self.state.events
    }

    /// The world.
    pub fn world(&self) -> &World {
        &self.state.world
    }

    /// The shared state.
    pub fn state(&self) -> &Arc<MockState> {
        &self.state
    }

    /// The fault rules: add, list, remove, clear (a cheap handle on the live rules).
    pub fn faults(&self) -> Faults {
        self.state.faults.clone()
    }

    /// Revokes the sessions of `role_arn` issued before `issued_before` (default: now on the
    /// simulated clock), as IAM's "Revoke active sessions" does: their requests get
    /// `AccessDenied`, newer sessions work. Returns the instant used.
    ///
    /// # Errors
    /// [`RevokeError::UnknownRole`] when the world has no such role.
    pub fn revoke(
        &self,
        role_arn: &str,
        issued_before: Option<SystemTime>,
    ) -> Result<SystemTime, RevokeError> {
        self.state.revoke(role_arn, issued_before)
    }

    /// A router over the same state, for in-process calls (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Stops serving and waits for the server task to finish.
    pub async fn shutdown(&self) {
        let sender = self
            .shutdown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(tx) = sender {
            let _ = tx.send(());
        }
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task
            && let Err(e) = task.await
        {
            tracing::warn!(error = %e, "server task ended abnormally");
        }
    }
}

impl Drop for MockAws {
    fn drop(&mut self) {
        if let Some(tx) = self
            .shutdown
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = tx.send(());
        }
    }
}
