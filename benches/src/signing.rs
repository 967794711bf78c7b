//! Requests signed by the real aws-sigv4 crate, the way the SDKs sign them: STS form POSTs and
//! presigned GETs, S3 path-style requests with `x-amz-content-sha256`, and aws-chunked uploads
//! with a signature per chunk (`sign_chunk`); and, in the same shape, the unsigned requests of
//! instance metadata ([`unsigned`]).
//!
//! A [`Signed`] request is signed once; sending it again is valid for as long as the server
//! accepts its time (15 minutes of skew, or a presigned URL's lifetime), which is what lets the
//! load generator replay a pool of them without signing on the hot path.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method};
use sts_lab_test_support::signing::form_encode;
use sts_lab_test_support::signing::{FORM_CONTENT_TYPE, SignableBody, Signer};
/// The default world's user as signing keys, and its 12-hour role.
pub use sts_lab_test_support::world::{Keys, LONG_ROLE as ROLE_ARN};
/// Chunk size of aws-chunked uploads: aws-sdk-rust's and the S3 docs' 64 KiB.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// A signed request: method, origin-form target, headers (`host` included) and body.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The method.
    pub method: Method,
    /// Path and query, as sent.
    pub target: String,
    /// Every header, `host` and the signature's included.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
    /// The request's signature (the seed of an aws-chunked body's chain); empty when unsigned.
    pub signature: String,
}

impl Signed {
    /// The request head as a server receives it (for in-process verification).
    pub fn parts(&self) -> Parts {
        let mut request = http::Request::new(());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self
            .target
            .parse()
            .unwrap_or_else(|_| http::Uri::from_static("/"));
        *request.headers_mut() = self.headers.clone();
        request.into_parts().0
    }

    /// The request for hyper's client: an absolute URI to `authority`, the signed headers.
    ///
    /// # Errors
    /// When the target does not make a valid URI.
    pub fn to_request(
        &self,
        authority: &str,
    ) -> Result<http::Request<http_body_util::Full<Bytes>>, http::Error> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(format!("http://{authority}{}", self.target));
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder.body(http_body_util::Full::new(self.body.clone()))
    }
}

/// How a request is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// STS (and every service but S3): paths normalised and double-encoded, the body hashed.
    Sts,
    /// S3: paths encoded once, not normalised; `x-amz-content-sha256` sent.
    S3,
}

struct Spec<'a> {
    method: &'a str,
    host: &'a str,
    target: &'a str,
    headers: Vec<(&'a str, String)>,
    body: Bytes,
    payload: Option<&'a str>,
    rules: Rules,
    presign: Option<Duration>,
}

fn signed(spec: Spec<'_>, keys: &Keys, time: SystemTime) -> Signed {
    let uri = format!("http://{}{}", spec.host, spec.target);
    let mut headers: Vec<(&str, &str)> = vec![("host", spec.host)];
    headers.extend(spec.headers.iter().map(|(k, v)| (*k, v.as_str())));
    let signer = match spec.rules {
        Rules::Sts => Signer::sts(keys, time),
        Rules::S3 => Signer::s3(keys, time),
    };
    let signer = match spec.presign {
        Some(expires) => signer.presigned(expires),
        None => signer,
    };
    let body = match (spec.payload, spec.rules, spec.presign) {
        (Some(hash), _, _) => SignableBody::Precomputed(hash.to_owned()),
        (None, Rules::S3, Some(_)) => SignableBody::UnsignedPayload,
        (None, _, _) => SignableBody::Bytes(&spec.body),
    };
    let signed = signer.sign(spec.method, &uri, &headers, body);
    let parts = signed.parts;
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string);
    let mut headers = parts.headers;
    if !spec.body.is_empty() {
        headers.insert(http::header::CONTENT_LENGTH, spec.body.len().into());
    }
    Signed {
        method: parts.method,
        target,
        headers,
        body: spec.body,
        signature: signed.signature,
    }
}

/// `sts:AssumeRole` of `role_arn` (session `bench`, default duration), a form POST.
pub fn assume_role(host: &str, role_arn: &str, keys: &Keys, time: SystemTime) -> Signed {
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=bench&RoleArn={}",
        form_encode(role_arn)
    );
    sts_post(host, body, keys, time)
}

/// `sts:GetCallerIdentity`, a form POST signed in the `Authorization` header.
pub fn get_caller_identity(host: &str, keys: &Keys, time: SystemTime) -> Signed {
    sts_post(
        host,
        "Action=GetCallerIdentity&Version=2011-06-15".to_owned(),
        keys,
        time,
    )
}

/// `sts:GetCallerIdentity` as a presigned GET valid for `expires`.
pub fn presigned_get_caller_identity(
    host: &str,
    keys: &Keys,
    time: SystemTime,
    expires: Duration,
) -> Signed {
    signed(
        Spec {
            method: "GET",
            host,
            target: "/?Action=GetCallerIdentity&Version=2011-06-15",
            headers: Vec::new(),
            body: Bytes::new(),
            payload: None,
            rules: Rules::Sts,
            presign: Some(expires),
        },
        keys,
        time,
    )
}

fn sts_post(host: &str, body: String, keys: &Keys, time: SystemTime) -> Signed {
    signed(
        Spec {
            method: "POST",
            host,
            target: "/",
            headers: vec![("content-type", FORM_CONTENT_TYPE.to_owned())],
            body: Bytes::from(body),
            payload: None,
            rules: Rules::Sts,
            presign: None,
        },
        keys,
        time,
    )
}

/// S3 `CreateBucket`, path style.
pub fn create_bucket(host: &str, bucket: &str, keys: &Keys, time: SystemTime) -> Signed {
    s3(host, "PUT", &format!("/{bucket}"), Bytes::new(), keys, time)
}

/// S3 `PutObject` of `body`, its SHA-256 in `x-amz-content-sha256`.
pub fn put_object(
    host: &str,
    bucket: &str,
    key: &str,
    body: Bytes,
    keys: &Keys,
    time: SystemTime,
) -> Signed {
    s3(host, "PUT", &format!("/{bucket}/{key}"), body, keys, time)
}

/// S3 `GetObject`.
pub fn get_object(host: &str, bucket: &str, key: &str, keys: &Keys, time: SystemTime) -> Signed {
    s3(
        host,
        "GET",
        &format!("/{bucket}/{key}"),
        Bytes::new(),
        keys,
        time,
    )
}

/// S3 `GetObject` as a presigned URL valid for `expires`.
pub fn presigned_get_object(
    host: &str,
    bucket: &str,
    key: &str,
    keys: &Keys,
    time: SystemTime,
    expires: Duration,
) -> Signed {
    signed(
        Spec {
            method: "GET",
            host,
            target: &format!("/{bucket}/{key}"),
            headers: Vec::new(),
            body: Bytes::new(),
            payload: None,
            rules: Rules::S3,
            presign: Some(expires),
        },
        keys,
        time,
    )
}

fn s3(
    host: &str,
    method: &str,
    target: &str,
    body: Bytes,
    keys: &Keys,
    time: SystemTime,
) -> Signed {
    signed(
        Spec {
            method,
            host,
            target,
            headers: Vec::new(),
            body,
            payload: None,
            rules: Rules::S3,
            presign: None,
        },
        keys,
        time,
    )
}

/// A request without a signature, for the endpoints that take none (instance metadata):
/// `headers` besides `host`, and `body`.
pub fn unsigned(
    host: &str,
    method: Method,
    target: &str,
    headers: &[(&'static str, &str)],
    body: Bytes,
) -> Signed {
    let mut map = HeaderMap::new();
    let values = std::iter::once(("host", host)).chain(headers.iter().copied());
    for (name, value) in values {
        if let Ok(value) = http::HeaderValue::from_str(value) {
            map.insert(name, value);
        }
    }
    if !body.is_empty() {
        map.insert(http::header::CONTENT_LENGTH, body.len().into());
    }
    Signed {
        method,
        target: target.to_owned(),
        headers: map,
        body,
        signature: String::new(),
    }
}

/// S3 `PutObject` of `data` as an aws-chunked body with chunk signatures
/// (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`), in chunks of `chunk_size`: each chunk signed with
/// aws-sigv4's `sign_chunk`, chained from the request's signature.
pub fn chunked_put_object(
    host: &str,
    bucket: &str,
    key: &str,
    data: &[u8],
    chunk_size: usize,
    keys: &Keys,
    time: SystemTime,
) -> Signed {
    let head = signed(
        Spec {
            method: "PUT",
            host,
            target: &format!("/{bucket}/{key}"),
            headers: vec![
                ("content-encoding", "aws-chunked".to_owned()),
                ("x-amz-decoded-content-length", data.len().to_string()),
            ],
            body: Bytes::new(),
            payload: Some(mock_sts::internals::STREAMING_PAYLOAD),
            rules: Rules::S3,
            presign: None,
        },
        keys,
        time,
    );
    let chunks: Vec<&[u8]> = data.chunks(chunk_size.max(1)).collect();
    let body = sts_lab_test_support::chunked::body(
        &chunks,
        &[],
        Some(&head.signature),
        &Signer::s3(keys, time),
    )
    .body;
    let mut headers = head.headers;
    headers.insert(http::header::CONTENT_LENGTH, body.len().into());
    Signed {
        body: Bytes::from(body),
        headers,
        ..head
    }
}
