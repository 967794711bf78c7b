//! The server: shared state, the one `Router` that serves every service, and [`MockAws`], the
//! handle tests and the harness hold.
//!
//! Every request goes through [`router`]'s single entry point, which picks the service (the
//! control API by path, instance metadata and container credentials for unsigned requests to
//! their paths, otherwise STS or S3 by the SigV4 credential scope, or an `Action` parameter for
//! unsigned STS calls), runs it (S3 reads its own body, so that uploads are capped by
//! `--max-object-size` rather than [`MAX_BODY_BYTES`]), stamps the response with a `Date` from the
//! simulated clock (SDKs correct their signing clock from it, aws-facts §0.2) and the service's
//! request-id headers, and records one event. Two seams for tests, as STYLE.md asks: the
//! `Router` for in-process `oneshot` calls, and [`MockAwsBuilder::start`] for a real socket on
//! `127.0.0.1:0`.

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
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::auth::{Authenticator, Rejection};
use crate::aws_error::{AwsError, ErrorCode, Service, insert_request_id};
use crate::clock::{SimClock, Stopwatch};
use crate::control;
use crate::credentials::{CredentialAuthority, ServerKey};
use crate::events::{Event, EventLog, Events, Issued, SignedBy};
use crate::imds;
use crate::oidc::OidcVerifier;
use crate::s3::{self, S3};
use crate::sts::{self, Action, Params, StsContext};
use crate::timestamp;
use crate::world::World;

pub use crate::state::{MAX_BODY_BYTES, MockState, ServerConfig};

/// The router serving every service and the control API.
pub fn router(state: Arc<MockState>) -> Router {
    Router::new().fallback(entry).with_state(state)
}

async fn entry(State(state): State<Arc<MockState>>, request: Request) -> Response {
    let path = request.uri().path();
    if path == "/_mock" || path.starts_with("/_mock/") {
        return control::handle(&state, request).await;
    }
    let stopwatch = Stopwatch::start();
    let arrived = state.clock.now();
    let request_id = state.next_request_id();
    let (parts, body) = request.into_parts();
    let signed_at = signing_time(&parts);
    if let Some(route) = imds::route(&state.world, &parts) {
        let reply = imds::handle(state.imds_context(arrived), route, &parts);
        let response = finish(
            &state,
            Outcome::from(&reply),
            &request_id,
            (arrived, signed_at),
            stopwatch,
        );
        return reply.render(response);
    }

    // Signed S3 requests are known from their headers and read their own (large) bodies.
    let outcome = if classify_parts(&parts) == Some(Service::S3) {
        s3_request(&state, &parts, body, &request_id, arrived).await
    } else {
        match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
            Ok(body) => match classify(&parts, &body) {
                Service::Sts => sts_request(&state, &parts, &body, &request_id, arrived).await,
                _ => s3_request(&state, &parts, body.into(), &request_id, arrived).await,
            },
            Err(_) => Outcome::failed(
                Service::Sts,
                "-",
                AwsError::new(Service::Sts, ErrorCode::ValidationError)
                    .with_status(StatusCode::PAYLOAD_TOO_LARGE)
                    .with_message(format!(
                        "Request body is larger than {MAX_BODY_BYTES} bytes"
                    )),
            ),
        }
    };
    finish(
        &state,
        outcome,
        &request_id,
        (arrived, signed_at),
        stopwatch,
    )
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
        action: handled.action.to_string(),
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
    action: String,
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
            action: reply.action.to_string(),
            result: reply.result(),
            signed_by: None,
            issued: reply.issued.clone(),
        }
    }
}

impl Outcome {
    fn failed(service: Service, action: &str, error: AwsError) -> Outcome {
        Outcome {
            service,
            action: action.to_string(),
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
        Err(e) => return Outcome::failed(Service::Sts, "-", e),
    };
    let action_name = params.get("Action").unwrap_or("-").to_string();
    let action = Action::parse(&action_name);

    let caller = if action.is_some_and(|a| a.is_unsigned()) {
        None
    } else {
        let auth = Authenticator {
            world: &state.world,
            authority: &state.authority,
            now,
            max_skew: state.config.max_skew,
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
/// `times` is the simulated arrival time and the client's signing time, when signed.
fn finish(
    state: &MockState,
    outcome: Outcome,
    request_id: &str,
    times: (SystemTime, Option<SystemTime>),
    stopwatch: Stopwatch,
) -> Response {
    let (arrived, signed_at) = times;
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
            code = %e.code, sim_time = %timestamp::rfc3339_millis(arrived), "request failed"
        ),
        None => tracing::debug!(
            service = %outcome.service, action = %outcome.action, status,
            sim_time = %timestamp::rfc3339_millis(arrived), "request served"
        ),
    }
    state.events.append(Event {
        seq: 0,
        sim_time: arrived,
        wall_time: SimClock::system_now(),
        service: outcome.service,
        action: outcome.action,
        request_id: request_id.to_string(),
        request_time: signed_at,
        signed_by: outcome.signed_by,
        status,
        error_code: error.as_ref().map(|e| e.code.as_str().to_string()),
        error_message: error.map(|e| e.message),
        issued: outcome.issued,
        latency_ms: stopwatch.elapsed().as_secs_f64() * 1000.0,
        sim_latency_ms: done
            .duration_since(arrived)
            .unwrap_or_default()
            .as_secs_f64()
            * 1000.0,
    });
    response
}

/// Serves `router` on `listener` until `shutdown` completes. The caller owns the listener, so
/// tests bind port 0 and read the address back.
///
/// Accepted connections get `TCP_NODELAY`, as the SDKs' own sockets do: a response is written
/// as soon as it is ready, not held back for the client's acknowledgement of the last one.
///
/// # Errors
/// I/O errors from accepting connections.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|stream| {
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
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

    fn state(self) -> io::Result<Arc<MockState>> {
        let mut rng = match self.seed {
            Some(seed) => fastrand::Rng::with_seed(seed),
            None => fastrand::Rng::new(),
        };
        let key = self.key.unwrap_or_else(|| ServerKey::generate(&mut rng));
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
