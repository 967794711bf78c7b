//! Adapters for the aws-sdk-rust under test (feature `sdk`): an in-process HTTP client.
//!
//! On a virtual clock the SDK must not use real sockets: tokio's paused clock auto-advances
//! whenever the runtime waits on I/O, so an SDK timeout could fire in the middle of a request
//! (tokio-rs/tokio#4522, shared/virtual-time.md). [`InProcessClient`] hands each request to the
//! mock's request pipeline instead (`server::dispatch`, which answers exactly as the mock's
//! `Router` does with `oneshot`, without routing through it): no sockets, no waiting on
//! anything but timers, so virtual time only moves when every task sleeps, and a replay is
//! deterministic.
//!
//! The clock adapters themselves (`TimeSource`, `AsyncSleep`) are implemented on
//! [`SimClock`](crate::clock::SimClock) directly.

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use std::sync::Arc;

use aws_smithy_types::body::SdkBody;
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::MockAws;
use crate::state::MockState;

/// An SDK `HttpClient` that calls the mock's router in process.
///
/// Connect and read timeouts do not apply (there is no connection); the SDK's operation and
/// attempt timeouts still run on its sleep implementation (and end a `hang` fault). A `reset`
/// fault fails the call with an I/O `ConnectionReset`, as a dropped socket does.
#[derive(Clone, Debug)]
pub struct InProcessClient {
    target: Target,
}

/// Where requests go.
#[derive(Clone, Debug)]
enum Target {
    /// The mock's own request pipeline, called without its one-route router
    /// (`server::dispatch` answers exactly as the router does).
    Mock(Arc<MockState>),
    /// Any router.
    Router(Router),
}

impl InProcessClient {
    /// A client for `aws`.
    pub fn new(aws: &MockAws) -> Self {
        InProcessClient {
            target: Target::Mock(aws.state().clone()),
        }
    }

    /// A client for any router.
    pub fn from_router(router: Router) -> Self {
        InProcessClient {
            target: Target::Router(router),
        }
    }
}

impl HttpConnector for InProcessClient {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let target = self.target.clone();
        HttpConnectorFuture::new(async move {
            let request = request
                .try_into_http1x()
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            let (parts, body) = request.into_parts();
            // Streaming bodies (aws-chunked uploads) have no in-memory bytes: collect them.
            let bytes = body.collect().await.map_err(ConnectorError::io)?.to_bytes();
            let request = http::Request::from_parts(parts, axum::body::Body::from(bytes));
            let response = match target {
                Target::Mock(state) => crate::server::dispatch(state, request).await,
                Target::Router(router) => match router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                },
            };
            // The `reset` fault: on a socket the server closes the connection without a
            // response; the SDK must see the same kind of failure here, an I/O error.
            if response
                .extensions()
                .get::<crate::faults::ResetConnection>()
                .is_some()
            {
                return Err(ConnectorError::io(
                    std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "connection reset by fault injection",
                    )
                    .into(),
                ));
            }
            let (parts, body) = response.into_parts();
            // axum's Body is not Sync and SdkBody must be: buffer the response.
            let bytes = body
                .collect()
                .await
                .map_err(|e| ConnectorError::io(e.into()))?
                .to_bytes();
            HttpResponse::try_from(http::Response::from_parts(parts, SdkBody::from(bytes)))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

impl HttpClient for InProcessClient {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}
