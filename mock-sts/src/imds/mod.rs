//! The metadata credential endpoints: EC2 instance metadata (IMDSv2, under `/latest/`) and the
//! container credential endpoint (ECS task roles, EKS Pod Identity).
//!
//! They share the server's port. `route` claims a request for them when it carries no SigV4
//! signature and its path is under `/latest/` (a signed request there is S3: a bucket named
//! `latest`) or is the world's container path (or under the ECS agent's `/v2/credentials`).
//! Both serve the world's roles as credentials that rotate the way EC2 rotates instance-profile
//! credentials (`rotation`), and both keep no state: IMDS tokens (`token`) and the
//! credentials themselves validate under the server key, on the simulated clock.
//!
//! A handler answers with a `Reply`: the exact bytes and headers to send (IMDS answers
//! `text/plain` with `Server: EC2ws`, errors as status pages; the container endpoint answers
//! JSON), plus what the event log records: the action (`GetMetadataToken`,
//! `GetInstanceCredentials`, `GetMetadata`, `GetContainerCredentials`), the error, and the
//! credentials issued. The server turns a reply into its usual outcome, so metadata requests
//! are events like any other, then lets `Reply::render` put the exact body on the response.

mod container;
mod instance;
mod rotation;
mod token;

use crate::compression::LifetimeCompression;
use std::fmt;
use std::time::SystemTime;

use axum::body::Body;
use axum::response::Response;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::credentials::CredentialAuthority;
use crate::events::Issued;
use crate::world::World;

/// The ECS agent's credentials namespace; unknown ids under it answer like the agent does.
pub(crate) const ECS_CREDENTIALS_PREFIX: &str = "/v2/credentials";

/// Which endpoint a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// EC2 instance metadata under `/latest/`.
    Instance,
    /// The container credential endpoint.
    Container,
}

/// The endpoint an unsigned request is for, if it is for one of them.
pub(crate) fn route(world: &World, parts: &Parts) -> Option<Route> {
    if is_sigv4_signed(parts) {
        return None;
    }
    let path = parts.uri.path();
    if path.starts_with("/latest/") {
        return Some(Route::Instance);
    }
    let container = world.container.as_ref()?;
    let ecs_namespace = path == ECS_CREDENTIALS_PREFIX
        || path
            .strip_prefix(ECS_CREDENTIALS_PREFIX)
            .is_some_and(|rest| rest.starts_with('/'));
    (path == container.relative_uri || ecs_namespace).then_some(Route::Container)
}

/// Whether the request carries a SigV4 signature (header or presigned query). The container
/// endpoint's `Authorization` header is a bare token, not a signature, so it does not count.
fn is_sigv4_signed(parts: &Parts) -> bool {
    let header_signed = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("AWS4-"));
    let query = parts.uri.query().unwrap_or("");
    header_signed
        || form_urlencoded::parse(query.as_bytes())
            .any(|(k, _)| k == "X-Amz-Signature" || k == "X-Amz-Credential")
}

/// What a metadata request asks for, as its event names it. AWS has no operation names for
/// these endpoints (they are plain HTTP paths), so the mock names them in AWS's style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// IMDSv2 `PUT /latest/api/token`.
    GetMetadataToken,
    /// IMDS `GET /latest/meta-data/iam/security-credentials/ROLE` (or its `-extended` form).
    GetInstanceCredentials,
    /// Any other IMDS path (the role list, instance identity, …).
    GetMetadata,
    /// The container credential endpoint.
    GetContainerCredentials,
}

impl Action {
    /// The name events record.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::GetMetadataToken => "GetMetadataToken",
            Action::GetInstanceCredentials => "GetInstanceCredentials",
            Action::GetMetadata => "GetMetadata",
            Action::GetContainerCredentials => "GetContainerCredentials",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every action instance-metadata events record (`GetMetadataToken`, …).
pub(crate) const INSTANCE_ACTIONS: [Action; 3] = instance::ACTIONS;
/// The action container-credential events record.
pub(crate) const CONTAINER_ACTIONS: [Action; 1] = [container::ACTION];

/// The action a routed request is for, before it is served (fault rules match on it).
pub(crate) fn action(route: Route, parts: &Parts) -> Action {
    match route {
        Route::Instance => instance::action(parts),
        Route::Container => container::ACTION,
    }
}

/// A bare HTTP `status` in the endpoint's own error shape (IMDS: its status page;
/// the container endpoint: the ECS agent's JSON), as when the endpoint is down. The event
/// records `code`, which names the status.
pub(crate) fn status_reply(
    route: Route,
    parts: &Parts,
    code: ErrorCode,
    status: StatusCode,
) -> Reply {
    match route {
        Route::Instance => instance::status_reply(instance::action(parts), code, status),
        Route::Container => container::status_reply(code, status),
    }
}

/// What a handler needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The instance and container settings, and the roles.
    pub world: &'a World,
    /// Derives the credentials and checks IMDS tokens.
    pub authority: &'a CredentialAuthority,
    /// Simulated time of the request.
    pub now: SystemTime,
    /// Divides IMDSv2 token TTLs (the world's rotations are compressed when the server is
    /// built).
    pub compression: LifetimeCompression,
    /// Pod Identity tokens already verified (`[container] authorization_provider`).
    pub verified_tokens: &'a crate::oidc::VerifiedTokens,
}

/// Answers a request [`route`] claimed.
pub(crate) fn handle(ctx: Context<'_>, route: Route, parts: &Parts) -> Reply {
    match route {
        Route::Instance => instance::handle(ctx, parts),
        Route::Container => container::handle(ctx, parts),
    }
}

/// A metadata answer: what to send, and what the event log records.
#[derive(Clone)]
pub(crate) struct Reply {
    /// The action the event records.
    pub action: Action,
    /// The HTTP status.
    pub status: StatusCode,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The exact body (may hold credentials: never logged).
    pub body: String,
    /// Headers beyond `Content-Type` and `Date`.
    pub headers: HeaderMap,
    /// For the event, on failure: the code and a short message (the body is the wire form).
    pub error: Option<AwsError>,
    /// Credentials handed out, for the event.
    pub issued: Option<Issued>,
}

/// The body may hold credentials or a token: `Debug` shows its length only.
impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("action", &self.action)
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .field(
                "body",
                &format_args!("** {} bytes redacted **", self.body.len()),
            )
            .field("headers", &self.headers)
            .field("error", &self.error)
            .field("issued", &self.issued)
            .finish()
    }
}

impl Reply {
    fn ok(action: Action, content_type: &'static str, body: String) -> Reply {
        Reply {
            action,
            status: StatusCode::OK,
            content_type,
            body,
            headers: HeaderMap::new(),
            error: None,
            issued: None,
        }
    }

    fn failed(action: Action, error: AwsError, content_type: &'static str, body: String) -> Reply {
        Reply {
            action,
            status: error.status,
            content_type,
            body,
            headers: HeaderMap::new(),
            error: Some(error),
            issued: None,
        }
    }

    fn with_header(mut self, name: &'static str, value: impl ToString) -> Reply {
        if let Ok(value) = HeaderValue::from_str(&value.to_string()) {
            self.headers.insert(name, value);
        }
        self
    }

    /// The outcome the server's event log takes: success (its body is put on by `render`), or the error.
    pub(crate) fn result(&self) -> Result<Response, AwsError> {
        match &self.error {
            // `render` puts the body and headers on the final response.
            None => Ok(Response::new(Body::empty())),
            Some(e) => Err(e.clone()),
        }
    }

    /// Puts this reply's status, body and headers on `response` (the server's, which carries
    /// the simulated `Date`).
    pub(crate) fn render(self, response: Response) -> Response {
        let (mut parts, _) = response.into_parts();
        parts.status = self.status;
        parts.headers.remove(header::CONTENT_LENGTH);
        if let Ok(value) = HeaderValue::from_str(self.content_type) {
            parts.headers.insert(header::CONTENT_TYPE, value);
        }
        parts.headers.extend(self.headers);
        Response::from_parts(parts, Body::from(self.body))
    }
}

/// An error for the event log, with AWS's status for `code` and a short message.
fn event_error(code: ErrorCode, message: impl Into<String>) -> AwsError {
    AwsError::new(Service::Imds, code).with_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn only_unsigned_requests_to_metadata_paths_are_routed_here() {
        let world = World::default();
        let route_of = |method, uri, headers| route(&world, &parts(method, uri, headers));
        assert_eq!(
            route_of("PUT", "/latest/api/token", &[]),
            Some(Route::Instance)
        );
        assert_eq!(
            route_of("GET", "/latest/meta-data/iam/security-credentials/", &[]),
            Some(Route::Instance)
        );
        assert_eq!(
            route_of(
                "GET",
                "/v2/credentials/anything",
                &[("authorization", "token")]
            ),
            Some(Route::Container)
        );
        assert_eq!(
            route_of("GET", "/v2/credentials", &[]),
            Some(Route::Container)
        );
        const SIGNED: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00";
        assert_eq!(
            route_of("GET", "/latest/key", &[("authorization", SIGNED)]),
            None
        );
        assert_eq!(
            route_of(
                "GET",
                "/latest/key?X-Amz-Signature=00&X-Amz-Credential=x",
                &[]
            ),
            None
        );
        for other in ["/", "/latest", "/v2/credentialsx", "/bucket/latest/key"] {
            assert_eq!(route_of("GET", other, &[]), None, "{other}");
        }
    }

    #[test]
    fn replies_never_show_their_body_in_debug() {
        let reply = Reply::ok(
            Action::GetMetadata,
            "text/plain",
            "wJalrXUtnFEMI/secret".to_string(),
        );
        let shown = format!("{reply:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("20 bytes redacted"), "{shown}");
    }
}
