//! [`MockAws`], the handle tests and the harness hold, and its builder: the two seams STYLE.md
//! asks for, an in-process `Router` and a real socket on `127.0.0.1:0`.

use crate::compression::LifetimeCompression;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::{ConnectionLimits, router, serve};
use crate::auth::{Revocations, RevokeError};
use crate::clock::SimClock;
use crate::credentials::{CredentialAuthority, ServerKey};
use crate::events::{EventLog, Events};
use crate::faults::{FaultRule, Faults};
use crate::limits::UploadBudget;
use crate::oidc::{MintError, MintRequest, MintedToken, Minter, OidcVerifier};
use crate::s3::{self, S3};
use crate::state::{MockState, ServerConfig};
use crate::world::World;

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

    /// Serve the control API to non-loopback peers that present the [control
    /// token](Self::control_token) (without one, every remote caller is refused with 401).
    pub fn allow_remote_control(mut self, allow: bool) -> Self {
        self.config.allow_remote_control = allow;
        self
    }

    /// The bearer token (`Authorization: Bearer TOKEN`) remote peers must send to the control
    /// API when it serves them ([`allow_remote_control`](Self::allow_remote_control)).
    /// Loopback peers need none.
    pub fn control_token(mut self, token: impl Into<String>) -> Self {
        self.config.control_token = Some(token.into());
        self
    }

    /// Use this event log (e.g. a bounded one, or one that also writes a file). Default:
    /// [`EventLog::new`], which keeps every event in memory.
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

    /// Divides every lifetime the server grants by `compression`'s factor (see
    /// [`crate::compression`]): for clients that run on real time.
    pub fn compress_lifetimes(mut self, compression: LifetimeCompression) -> Self {
        self.config.lifetime_compression = compression;
        self
    }

    /// The longest a connection may take to send a request head, counted from when the server
    /// starts waiting for one, so idle keep-alive connections count too (default 20 s, S3's
    /// idle timeout). Past it the connection is closed without an answer. `None`: no limit.
    pub fn header_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.header_timeout = timeout;
        self
    }

    /// The longest wait for the next piece of a request body (default 20 s). Past it the
    /// request gets `400 RequestTimeout` (S3's, or in STS's XML) and the connection is
    /// closed. `None`: no limit.
    pub fn body_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.body_timeout = timeout;
        self
    }

    /// Bytes of request bodies the server holds at once, all connections together (default
    /// 1 GiB). A request whose body would not fit gets S3's `503 SlowDown` (STS:
    /// `400 Throttling`); one larger than the whole budget always does, so keep it above
    /// [`max_object_size`](Self::max_object_size) for large uploads.
    pub fn max_upload_memory(mut self, bytes: u64) -> Self {
        self.config.max_upload_memory = bytes;
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
        let authority = CredentialAuthority::new(key);
        let mut world = self
            .world
            .unwrap_or_default()
            .compressed(self.config.lifetime_compression);
        // Minting providers' public keys join their inline keys before anyone verifies.
        let minter = Minter::new(&authority, world.oidc_providers.iter_mut().map(|(_, p)| p));
        Ok(Arc::new(MockState {
            clock: self.clock.unwrap_or_else(SimClock::wall),
            world,
            authority,
            minter,
            verified_tokens: crate::oidc::VerifiedTokens::default(),
            events: self.events.unwrap_or_default(),
            rng: Mutex::new(rng),
            oidc: OidcVerifier::new(),
            s3: S3::new(store, self.config.max_object_size),
            uploads: Arc::new(UploadBudget::new(self.config.max_upload_memory)),
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
        let limits = ConnectionLimits {
            header_timeout: state.config.header_timeout,
            body_timeout: state.config.body_timeout,
            budget: state.uploads.clone(),
        };
        let task = tokio::spawn(serve(listener, app, limits, async move {
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

    /// The fault rules: add, list, remove, clear (a cheap handle on the live rules).
    pub fn faults(&self) -> Faults {
        self.state.faults.clone()
    }

    /// Revokes the sessions of `role_arn` issued before `issued_before` (default: now on the
    /// simulated clock), as IAM's "Revoke active sessions" does: their requests get
    /// `AccessDenied`, newer sessions work. Returns the instant used.
    ///
    /// # Errors
    /// `RevokeError::UnknownRole` when the world has no such role.
    pub fn revoke(
        &self,
        role_arn: &str,
        issued_before: Option<SystemTime>,
    ) -> Result<SystemTime, RevokeError> {
        self.state.revoke(role_arn, issued_before)
    }

    /// Bytes of request bodies the server holds now, against its
    /// [upload memory budget](MockAwsBuilder::max_upload_memory): 0 when no request is being
    /// read or answered.
    pub fn upload_bytes_held(&self) -> u64 {
        self.state.uploads.held()
    }

    /// Mints a web identity token for a world provider with `mint = true`, issued now on the
    /// simulated clock (what `POST /_mock/oidc/token` does): the token a Kubernetes projected
    /// volume would hold, for `AWS_WEB_IDENTITY_TOKEN_FILE` or an EKS Pod Identity token file.
    ///
    /// # Errors
    /// [`MintError`]: an unknown or non-minting provider, a lifetime outside 600..=86400 s, or an
    /// empty subject or audience.
    pub fn mint_web_identity_token(&self, request: &MintRequest) -> Result<MintedToken, MintError> {
        self.state.mint(request)
    }

    /// The shared state, for in-process calls without the router (`super::dispatch`).
    pub(crate) fn state(&self) -> &Arc<MockState> {
        &self.state
    }

    /// A router over the same state, for in-process calls (`tower::ServiceExt::oneshot`).
    pub fn router(&self) -> Router {
        router(self.state.clone())
    }

    /// Stops serving, waits for the server task to finish, and then until every event is in
    /// the events file, if the log has one.
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
        // The writer thread flushes; waiting for it must not stall the runtime.
        if !self.state.events.has_sink() {
            return;
        }
        let events = self.state.events.clone();
        match tokio::task::spawn_blocking(move || events.flush()).await {
            Ok(Ok(())) => {}
            // The failure itself was logged when it happened.
            Ok(Err(e)) => tracing::debug!(error = %e, "events file incomplete"),
            Err(e) => tracing::warn!(error = %e, "cannot flush the events file"),
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
