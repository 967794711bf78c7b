//! Requests signed by the real aws-sigv4 crate, the way the SDKs sign them: STS form POSTs and
//! presigned GETs, S3 path-style requests with `x-amz-content-sha256`, and aws-chunked uploads
//! with a signature per chunk (`sign_chunk`).
//!
//! A [`Signed`] request is signed once; sending it again is valid for as long as the server
//! accepts its time (15 minutes of skew, or a presigned URL's lifetime), which is what lets the
//! load generator replay a pool of them without signing on the hot path.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, Method};

/// The default world's IAM user (AWS's documented example keys; they work nowhere else).
pub const USER_ACCESS_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Its secret.
pub const USER_SECRET_ACCESS_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The default world's 12-hour role.
pub const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/cross-account-s3";
/// Chunk size of aws-chunked uploads: aws-sdk-rust's and the S3 docs' 64 KiB.
pub const CHUNK_SIZE: usize = 64 * 1024;

/// Signing keys, long-term or temporary.
#[derive(Clone)]
pub struct Keys {
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The session token of temporary keys.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// The default world's user.
    pub fn user() -> Keys {
        Keys {
            access_key_id: USER_ACCESS_KEY_ID.to_owned(),
            secret_access_key: USER_SECRET_ACCESS_KEY.to_owned(),
            session_token: None,
        }
    }

    fn identity(&self) -> Identity {
        Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "bench",
        )
        .into()
    }
}

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
    /// The request's signature (the seed of an aws-chunked body's chain).
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
    let mut headers: Vec<(&str, String)> = vec![("host", spec.host.to_owned())];
    headers.extend(spec.headers);
    let mut settings = SigningSettings::default();
    if spec.rules == Rules::S3 {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        if spec.presign.is_none() {
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        }
    }
    if let Some(expires) = spec.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    }
    let identity = keys.identity();
    let service = match spec.rules {
        Rules::Sts => "sts",
        Rules::S3 => "s3",
    };
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .unwrap_or_else(|e| panic!("signing parameters: {e}"))
        .into();
    let body = match (spec.payload, spec.rules, spec.presign) {
        (Some(hash), _, _) => SignableBody::Precomputed(hash.to_owned()),
        (None, Rules::S3, Some(_)) => SignableBody::UnsignedPayload,
        (None, _, _) => SignableBody::Bytes(&spec.body),
    };
    let signable = SignableRequest::new(
        spec.method,
        &uri,
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        body,
    )
    .unwrap_or_else(|e| panic!("signable request {uri}: {e}"));
    let output = sign(signable, &params).unwrap_or_else(|e| panic!("signing {uri}: {e}"));
    let signature = output.signature().to_owned();
    let (instructions, _) = output.into_parts();
    let mut request = http::Request::builder().method(spec.method).uri(&uri);
    for (name, value) in &headers {
        request = request.header(*name, value.as_str());
    }
    let mut request = request
        .body(())
        .unwrap_or_else(|e| panic!("request {uri}: {e}"));
    instructions.apply_to_request_http1x(&mut request);
    let (parts, ()) = request.into_parts();
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
        signature,
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
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            )],
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
            payload: Some(mock_sts::sigv4::STREAMING_PAYLOAD),
            rules: Rules::S3,
            presign: None,
        },
        keys,
        time,
    );
    let identity = keys.identity();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("s3")
        .time(time)
        .settings(())
        .build()
        .unwrap_or_else(|e| panic!("chunk signing parameters: {e}"));
    let mut previous = head.signature.clone();
    let mut body = Vec::with_capacity(data.len() + data.len() / chunk_size.max(1) * 100 + 100);
    for chunk in data.chunks(chunk_size.max(1)).chain([&b""[..]]) {
        let signature = v4::sign_chunk(&Bytes::copy_from_slice(chunk), &previous, &params)
            .unwrap_or_else(|e| panic!("chunk signature: {e}"))
            .signature()
            .to_owned();
        body.extend_from_slice(
            format!("{:x};chunk-signature={signature}\r\n", chunk.len()).as_bytes(),
        );
        if !chunk.is_empty() {
            body.extend_from_slice(chunk);
            body.extend_from_slice(b"\r\n");
        }
        previous = signature;
    }
    body.extend_from_slice(b"\r\n");
    let mut headers = head.headers;
    headers.insert(http::header::CONTENT_LENGTH, body.len().into());
    Signed {
        body: Bytes::from(body),
        headers,
        ..head
    }
}

fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
