//! The socket loop: hyper's HTTP/1 server driven directly, so that a fault can drop a
//! connection without an answer, with `TCP_NODELAY`, a graceful shutdown that ends what would
//! never end on its own, and the limits on slow and greedy clients (`crate::limits`): the
//! header timeout, the body timeout and the upload memory budget.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::clock::RealSleep;
use crate::faults::ResetConnection;
use crate::limits::{BodyGuard, GuardedBody, UploadBudget};

/// The limits every connection is served under (`crate::limits`).
#[derive(Debug, Clone)]
pub(crate) struct ConnectionLimits {
    /// hyper's header read timeout, idle keep-alive included.
    pub(crate) header_timeout: Option<Duration>,
    /// The longest wait for the next piece of a request body.
    pub(crate) body_timeout: Option<Duration>,
    /// The server-wide budget of request body bytes.
    pub(crate) budget: Arc<UploadBudget>,
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
/// Each connection is served under `limits`: a request head must arrive within the header
/// timeout of the connection starting to wait for it (idle keep-alive included), else the
/// connection is closed; bodies are read through [`GuardedBody`]; and `half_close` lets a
/// client that shut its write half after a short body read the `IncompleteBody` answer.
///
/// # Errors
/// None at present: accept errors are logged and the loop goes on (the signature keeps room
/// for fatal ones).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = Arc::new(limits);
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
            limits: limits.clone(),
        };
        let closing = closing_rx.clone();
        let header_timeout = limits.header_timeout;
        connections.spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(WallTimer)
                .header_read_timeout(header_timeout)
                .half_close(true)
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
pub(super) struct Closing(watch::Receiver<bool>);

impl Closing {
    pub(super) async fn wait(mut self) {
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
    limits: Arc<ConnectionLimits>,
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
        let (parts, body) = request.into_parts();
        let guard = BodyGuard::new(self.limits.budget.clone());
        let body = GuardedBody::new(
            body,
            &parts.headers,
            guard.clone(),
            self.limits.body_timeout,
        );
        let mut request = http::Request::from_parts(parts, axum::body::Body::new(body));
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
            let mut response = response;
            if guard.failed() {
                // Reading the body failed (timed out, short, over budget): whatever is left of
                // it is not worth reading, so the connection carries no further request.
                response.headers_mut().insert(
                    http::header::CONNECTION,
                    http::HeaderValue::from_static("close"),
                );
            }
            // `guard` drops here: the request is answered, its budget comes back.
            Ok(response)
        })
    }
}

/// hyper's timer, in real time whatever runtime serves the connection (a paused runtime's
/// tokio timer would fire the header timeout at once: `crate::clock::real`).
#[derive(Debug, Clone, Copy)]
struct WallTimer;

impl hyper::rt::Timer for WallTimer {
    fn sleep(&self, duration: Duration) -> std::pin::Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(RealSleep::after(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> std::pin::Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(RealSleep::until(deadline))
    }
}

impl hyper::rt::Sleep for RealSleep {}
