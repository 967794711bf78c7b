//! One request served in process without the `Router`: what `router(state).oneshot(request)`
//! does for this server, minus the routing it does not need.
//!
//! The router has a single route, its fallback `entry`, so routing a request only costs: a
//! path match, boxed services cloned and called, and extensions (`OriginalUri`, URL
//! parameters) that no handler reads. `crate::sdk::InProcessClient` sends every request of a
//! replay, so it calls `entry` directly and then finishes the response exactly as axum's
//! top-level route does (axum 0.8 `RouteFuture`): `Content-Length` from an exact body size
//! when absent, no body for `HEAD`, and no body for a successful `CONNECT`. The tests compare
//! both ways, byte for byte.

use std::sync::Arc;

use axum::body::Body;
use axum::body::HttpBody as _;
use axum::extract::{Request, State};
use axum::response::Response;
use http::{HeaderValue, Method, header};

use super::{MockState, entry};

/// Serves `request` as the router would, without routing it.
pub(crate) async fn dispatch(state: Arc<MockState>, request: Request) -> Response {
    let method = request.method().clone();
    let mut response = entry(State(state), request).await;
    finish_as_axum(&method, &mut response);
    response
}

/// What axum's top-level `RouteFuture` does to a handler's response.
fn finish_as_axum(method: &Method, response: &mut Response) {
    if *method == Method::CONNECT && response.status().is_success() {
        if response.headers().contains_key(header::CONTENT_LENGTH)
            || response.headers().contains_key(header::TRANSFER_ENCODING)
            || response.body().size_hint().lower() != 0
        {
            *response.body_mut() = Body::empty();
        }
        return;
    }
    if !response.headers().contains_key(header::CONTENT_LENGTH)
        && let Some(size) = response.body().size_hint().exact()
    {
        let value = if size == 0 {
            HeaderValue::from_static("0")
        } else {
            HeaderValue::from(size)
        };
        response.headers_mut().insert(header::CONTENT_LENGTH, value);
    }
    if *method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::MockAws;
    use crate::clock::{SimClock, default_virtual_start};

    fn aws() -> MockAws {
        MockAws::builder()
            .clock(SimClock::frozen(default_virtual_start()))
            .seed(7)
            .build()
    }

    fn requests() -> Vec<Request> {
        let form = "application/x-www-form-urlencoded";
        let mut out = Vec::new();
        for (method, uri, content_type, body) in [
            // S3 without a signature: AccessDenied, an XML body.
            ("GET", "/", None, ""),
            ("GET", "/bucket/key?x-id=GetObject", None, ""),
            // HEAD: the error's length, no body.
            ("HEAD", "/bucket/key", None, ""),
            ("PUT", "/bucket/key", None, "data"),
            ("DELETE", "/bucket", None, ""),
            ("OPTIONS", "/bucket/key", None, ""),
            // CONNECT: axum drops a successful answer's body; this one is an error.
            ("CONNECT", "/", None, ""),
            // STS: MissingAuthenticationToken, InvalidAction, a malformed form.
            (
                "POST",
                "/",
                Some(form),
                "Action=GetCallerIdentity&Version=2011-06-15",
            ),
            ("POST", "/", Some(form), "Action=Nope&Version=2011-06-15"),
            ("POST", "/", Some(form), "Action=%zz"),
            (
                "GET",
                "/?Action=GetCallerIdentity&Version=2011-06-15",
                None,
                "",
            ),
            // Instance metadata: a token, then a listing without one.
            ("PUT", "/latest/api/token", None, ""),
            ("GET", "/latest/meta-data/", None, ""),
            ("HEAD", "/latest/meta-data/", None, ""),
            // The control API (not its events: they carry wall-clock times).
            ("GET", "/_mock/nothing-here", None, ""),
            ("GET", "/_mock/faults", None, ""),
        ] {
            let mut builder = http::Request::builder()
                .method(method)
                .uri(uri)
                .header(header::HOST, "mock-sts.local");
            if let Some(content_type) = content_type {
                builder = builder.header(header::CONTENT_TYPE, content_type);
            }
            if uri == "/latest/api/token" {
                builder = builder.header("x-aws-ec2-metadata-token-ttl-seconds", "21600");
            }
            out.push(builder.body(Body::from(body.to_owned())).unwrap());
        }
        out
    }

    /// Status, headers in order and body, as text for readable failures (the bytes are
    /// ASCII or UTF-8 here).
    async fn parts(response: Response) -> (http::StatusCode, Vec<(String, String)>, String) {
        let (parts, body) = response.into_parts();
        let headers = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = body.collect().await.unwrap().to_bytes();
        (
            parts.status,
            headers,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    #[tokio::test]
    async fn answers_as_the_router_does() {
        // Two servers with the same seed and frozen clock give the same request ids.
        let (routed, direct) = (aws(), aws());
        let state = direct.state().clone();
        for (a, b) in requests().into_iter().zip(requests()) {
            let what = format!("{} {}", a.method(), a.uri());
            let via_router = routed.router().oneshot(a).await.unwrap();
            let via_serve = dispatch(state.clone(), b).await;
            let (status, headers, body) = parts(via_router).await;
            assert_eq!((status, headers, body), parts(via_serve).await, "{what}");
        }
        assert_eq!(routed.events().len(), direct.events().len());
        assert!(!routed.events().is_empty());
    }

    #[test]
    fn content_length_head_and_connect_as_axum() {
        let mut response = Response::new(Body::from("abc"));
        finish_as_axum(&Method::GET, &mut response);
        assert_eq!(response.headers()[header::CONTENT_LENGTH], "3");

        let mut response = Response::new(Body::from("abc"));
        finish_as_axum(&Method::HEAD, &mut response);
        assert_eq!(response.headers()[header::CONTENT_LENGTH], "3");
        assert_eq!(response.body().size_hint().exact(), Some(0));

        let mut response = Response::new(Body::empty());
        finish_as_axum(&Method::PUT, &mut response);
        assert_eq!(response.headers()[header::CONTENT_LENGTH], "0");

        let mut response = Response::new(Body::from("abc"));
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from_static("9"));
        finish_as_axum(&Method::GET, &mut response);
        assert_eq!(response.headers()[header::CONTENT_LENGTH], "9");

        let mut response = Response::new(Body::from("abc"));
        finish_as_axum(&Method::CONNECT, &mut response);
        assert!(!response.headers().contains_key(header::CONTENT_LENGTH));
        assert_eq!(response.body().size_hint().exact(), Some(0));
    }
}
