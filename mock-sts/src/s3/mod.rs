//! S3 REST on the mock's endpoint: routing (path-style and `bucket.localhost` virtual hosts),
//! authentication, payload decoding and the handlers for buckets, objects and multipart uploads.
//!
//! A request goes through the same steps S3 takes, in S3's order:
//! 1. the operation is told from the method, the target (bucket, key) and the query, so that
//!    every event names it (`PutObject`), failures included;
//! 2. SigV4 ([`crate::auth`]): the signature over the canonical request whose payload hash is
//!    the `x-amz-content-sha256` value as sent (a hex hash, `UNSIGNED-PAYLOAD` or a
//!    `STREAMING-…` form), then the session token's expiry on the simulated clock
//!    (`ExpiredToken`, 400 for S3), then skew or a presigned URL's `X-Amz-Expires`;
//! 3. the size cap, from the declared length before a byte is read, then from the bytes;
//! 4. the payload: a hex hash must match the body (`XAmzContentSHA256Mismatch`); aws-chunked
//!    bodies are decoded with every chunk signature and the trailer signature verified
//!    ([`chunked`]); `Content-MD5` and flexible checksums, as header or trailer, must match
//!    the decoded bytes ([`checksum`]);
//! 5. the handler, against the [`store::Store`] (memory or `--data-dir`) and the uploads in
//!    progress ([`multipart`]).
//!
//! Nothing is stored unless every check passed, and stored objects never contain chunk
//! framing. Buckets belong to the account that created them; other accounts get
//! `AccessDenied`, S3's default for private buckets.

pub mod checksum;
pub mod chunked;
pub mod multipart;
pub mod store;
pub mod xml;

use std::time::SystemTime;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use percent_encoding::percent_decode_str;

use self::checksum::{Algorithm, Checksum, ChecksumType, Declared};
use self::chunked::{ChunkError, ChunkVerifier, PayloadForm};
use self::multipart::{Part, Upload, Uploads};
use self::store::{BucketMeta, ObjectMeta, Store, StoreError};
use self::xml::S3_NAMESPACE;
use crate::auth::{Authenticator, Permission, Rejection, Verified};
use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::events::SignedBy;
use crate::sigv4::{self, AuthKind};
use crate::state::{MAX_BODY_BYTES, MockState};
use crate::timestamp;
use crate::xml::XmlWriter;

/// S3's largest single `PutObject` (5 GiB), the default `--max-object-size`.
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's longest key, bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Most keys in one `DeleteObjects` and most entries in one listing page.
const MAX_KEYS: usize = 1000;

/// S3's state: objects, uploads in progress and the size cap.
#[derive(Debug)]
pub struct S3 {
    /// Buckets and objects.
    pub store: Store,
    /// Multipart uploads in progress.
    pub uploads: Uploads,
    /// Largest object (and part) accepted, bytes; larger uploads get `EntityTooLarge`.
    pub max_object_size: u64,
}

impl Default for S3 {
    fn default() -> Self {
        S3::new(Store::memory(), DEFAULT_MAX_OBJECT_SIZE)
    }
}

impl S3 {
    /// S3 over `store` with a size cap.
    pub fn new(store: Store, max_object_size: u64) -> S3 {
        S3 {
            store,
            uploads: Uploads::default(),
            max_object_size,
        }
    }
}

/// What an S3 request produced, for the server to send and record.
#[derive(Debug)]
pub struct Handled {
    /// The S3 operation (`PutObject`, …), as events name it.
    pub action: &'static str,
    /// Who signed it, when known.
    pub signed_by: Option<SignedBy>,
    /// The response, or the error to render.
    pub result: Result<Response, AwsError>,
}

/// The operations served, named as S3 names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    CreateMultipartUpload,
    UploadPart,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    /// A sub-resource or method the mock does not serve.
    Unsupported,
}

impl Operation {
    fn name(self) -> &'static str {
        match self {
            Operation::ListBuckets => "ListBuckets",
            Operation::CreateBucket => "CreateBucket",
            Operation::HeadBucket => "HeadBucket",
            Operation::DeleteBucket => "DeleteBucket",
            Operation::GetBucketLocation => "GetBucketLocation",
            Operation::ListObjects => "ListObjects",
            Operation::ListObjectsV2 => "ListObjectsV2",
            Operation::DeleteObjects => "DeleteObjects",
            Operation::PutObject => "PutObject",
            Operation::CopyObject => "CopyObject",
            Operation::GetObject => "GetObject",
            Operation::HeadObject => "HeadObject",
            Operation::DeleteObject => "DeleteObject",
            Operation::CreateMultipartUpload => "CreateMultipartUpload",
            Operation::UploadPart => "UploadPart",
            Operation::CompleteMultipartUpload => "CompleteMultipartUpload",
            Operation::AbortMultipartUpload => "AbortMultipartUpload",
            Operation::ListParts => "ListParts",
            Operation::Unsupported => "Unsupported",
        }
    }

    /// Operations whose body is object data (capped by `max_object_size`, not the XML limit).
    fn uploads_data(self) -> bool {
        matches!(self, Operation::PutObject | Operation::UploadPart)
    }
}

/// Every operation name events record for S3 (what fault rules may name in `actions`).
pub const ACTIONS: &[&str] = &[
    "ListBuckets",
    "CreateBucket",
    "HeadBucket",
    "DeleteBucket",
    "GetBucketLocation",
    "ListObjects",
    "ListObjectsV2",
    "DeleteObjects",
    "PutObject",
    "CopyObject",
    "GetObject",
    "HeadObject",
    "DeleteObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "AbortMultipartUpload",
    "ListParts",
    "Unsupported",
];

/// The operation a request asks for, told from its method, target and query alone (before
/// authentication or the body), as its event will name it.
pub fn action_of(parts: &Parts) -> &'static str {
    let query = Query::parse(parts.uri.query());
    match Target::from_parts(parts) {
        Ok(target) => classify(&parts.method, &target, &query, &parts.headers).name(),
        Err(_) => Operation::Unsupported.name(),
    }
}

/// Sub-resources S3 has and the mock does not serve (`NotImplemented`).
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "versioning",
    "versions",
    "website",
];

/// The decoded query.
#[derive(Debug, Default)]
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    fn unsupported(&self) -> bool {
        self.0
            .iter()
            .any(|(k, _)| UNSUPPORTED_SUBRESOURCES.contains(&k.as_str()))
    }
}

/// What a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    bucket: Option<String>,
    key: Option<String>,
}

/// The host a request was sent to, without port, lower-case.
fn request_host(parts: &Parts) -> String {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default();
    let without_port = match host.strip_prefix('[') {
        // An IPv6 literal: `[::1]:4566`.
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    without_port.to_ascii_lowercase()
}

fn decode_segment(raw: &str) -> Result<String, AwsError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| AwsError::new(Service::S3, ErrorCode::InvalidURI))
}

impl Target {
    /// Virtual-host style when the host is `BUCKET.localhost`, else path style `/BUCKET/KEY`.
    /// The key is the rest of the raw path, percent-decoded once and never normalised.
    fn from_parts(parts: &Parts) -> Result<Target, AwsError> {
        let path = parts.uri.path();
        let path = path.strip_prefix('/').unwrap_or(path);
        let host = request_host(parts);
        let (bucket, key) = match host.strip_suffix(".localhost") {
            Some(bucket) if !bucket.is_empty() => (bucket.to_owned(), path.to_owned()),
            _ => {
                let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
                (decode_segment(bucket)?, key.to_owned())
            }
        };
        let key = if key.is_empty() {
            None
        } else {
            Some(decode_segment(&key)?)
        };
        Ok(Target {
            bucket: (!bucket.is_empty()).then_some(bucket),
            key,
        })
    }
}

fn classify(method: &Method, target: &Target, query: &Query, headers: &HeaderMap) -> Operation {
    use Operation as O;
    if query.unsupported() {
        return O::Unsupported;
    }
    let copy = headers.contains_key("x-amz-copy-source");
    match (&target.bucket, &target.key) {
        (None, _) if *method == Method::GET => O::ListBuckets,
        (None, _) => O::Unsupported,
        (Some(_), None) => match *method {
            Method::PUT => O::CreateBucket,
            Method::HEAD => O::HeadBucket,
            Method::DELETE => O::DeleteBucket,
            Method::GET if query.has("location") => O::GetBucketLocation,
            Method::GET if query.has("uploads") => O::Unsupported,
            Method::GET if query.get("list-type") == Some("2") => O::ListObjectsV2,
            Method::GET => O::ListObjects,
            Method::POST if query.has("delete") => O::DeleteObjects,
            _ => O::Unsupported,
        },
        (Some(_), Some(_)) => match *method {
            Method::PUT if query.has("uploadId") && copy => O::Unsupported,
            Method::PUT if query.has("uploadId") => O::UploadPart,
            Method::PUT if copy => O::CopyObject,
            Method::PUT => O::PutObject,
            Method::GET if query.has("uploadId") => O::ListParts,
            Method::GET => O::GetObject,
            Method::HEAD => O::HeadObject,
            Method::DELETE if query.has("uploadId") => O::AbortMultipartUpload,
            Method::DELETE => O::DeleteObject,
            Method::POST if query.has("uploads") => O::CreateMultipartUpload,
            Method::POST if query.has("uploadId") => O::CompleteMultipartUpload,
            _ => O::Unsupported,
        },
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn s3_error(code: ErrorCode) -> AwsError {
    AwsError::new(Service::S3, code)
}

fn invalid_argument(message: &str, name: &str, value: &str) -> AwsError {
    s3_error(ErrorCode::InvalidArgument)
        .with_message(message.to_owned())
        .with_extra("ArgumentName", name)
        .with_extra("ArgumentValue", value)
}

fn entity_too_large(proposed: Option<u64>, max: u64) -> AwsError {
    let error = s3_error(ErrorCode::EntityTooLarge);
    let error = match proposed {
        Some(size) => error.with_extra("ProposedSize", size.to_string()),
        None => error,
    };
    error.with_extra("MaxSizeAllowed", max.to_string())
}

/// Serves one S3 request (module docs for the order of checks).
pub async fn handle(
    state: &MockState,
    parts: &Parts,
    body: Body,
    request_id: &str,
    now: SystemTime,
) -> Handled {
    let query = Query::parse(parts.uri.query());
    let target = Target::from_parts(parts);
    let op = match &target {
        Ok(target) => classify(&parts.method, target, &query, &parts.headers),
        Err(_) => Operation::Unsupported,
    };
    let action = op.name();

    let authenticator = Authenticator {
        world: &state.world,
        authority: &state.authority,
        now,
        max_skew: state.config.max_skew,
        revocations: Some(&state.revocations),
        // S3 denies a revoked session with its plain `Access Denied`, naming nothing.
        permission: Permission::default(),
    };
    // SigV2 query authentication (`AWSAccessKeyId`, `Signature`, `Expires`), as AWS CLI v1
    // presigns by default: S3 refuses it for buckets created since June 2020.
    if !parts.headers.contains_key(header::AUTHORIZATION)
        && query.has("AWSAccessKeyId")
        && query.has("Signature")
    {
        return Handled {
            action,
            signed_by: None,
            result: Err(s3_error(ErrorCode::InvalidRequest)
                .with_message(sigv4::S3_UNSUPPORTED_AUTHORIZATION_MESSAGE)),
        };
    }
    let verified = match authenticator.verify(Service::S3, parts, &[]) {
        Ok(verified) => verified,
        Err(Rejection { error, signed_by }) => {
            return Handled {
                action,
                signed_by,
                result: Err(*error),
            };
        }
    };
    let signed_by = Some(verified.caller.signed_by());
    let result = match target {
        Ok(target) => {
            let request = Request {
                s3: &state.s3,
                parts,
                query: &query,
                target: &target,
                verified: &verified,
                now,
                request_id,
            };
            request.serve(op, body).await
        }
        Err(e) => Err(e),
    };
    Handled {
        action,
        signed_by,
        result,
    }
}

/// One authenticated request.
struct Request<'a> {
    s3: &'a S3,
    parts: &'a Parts,
    query: &'a Query,
    target: &'a Target,
    verified: &'a Verified,
    now: SystemTime,
    request_id: &'a str,
}

/// A request body after framing and integrity checks.
struct Payload {
    data: Bytes,
    trailers: Vec<(String, String)>,
}

impl Request<'_> {
    fn headers(&self) -> &HeaderMap {
        &self.parts.headers
    }

    fn account(&self) -> &str {
        self.verified.caller.account_id()
    }

    async fn serve(&self, op: Operation, body: Body) -> Result<Response, AwsError> {
        // S3 needs the payload hash in every header-signed request.
        if self.verified.signature.kind == AuthKind::Header
            && !self.headers().contains_key("x-amz-content-sha256")
        {
            return Err(s3_error(ErrorCode::InvalidRequest)
                .with_message("Missing required header for this request: x-amz-content-sha256"));
        }
        if let Some(key) = &self.target.key
            && key.len() > MAX_KEY_BYTES
        {
            return Err(s3_error(ErrorCode::KeyTooLongError)
                .with_extra("MaxSizeAllowed", MAX_KEY_BYTES.to_string())
                .with_extra("Size", key.len().to_string()));
        }
        let max = self.s3.max_object_size;
        if op.uploads_data()
            && let Some(declared) = self.declared_size()
            && declared > max
        {
            return Err(entity_too_large(Some(declared), max));
        }
        let payload = self.payload(op, body).await?;
        if op.uploads_data() && payload.data.len() as u64 > max {
            return Err(entity_too_large(Some(payload.data.len() as u64), max));
        }
        match op {
            Operation::ListBuckets => self.list_buckets(),
            Operation::CreateBucket => self.create_bucket(&payload),
            Operation::HeadBucket => self.head_bucket(),
            Operation::DeleteBucket => self.delete_bucket(),
            Operation::GetBucketLocation => self.bucket_location(),
            Operation::ListObjects => self.list_objects(false),
            Operation::ListObjectsV2 => self.list_objects(true),
            Operation::DeleteObjects => self.delete_objects(&payload),
            Operation::PutObject => self.put_object(payload),
            Operation::CopyObject => self.copy_object(),
            Operation::GetObject => self.get_object(false),
            Operation::HeadObject => self.get_object(true),
            Operation::DeleteObject => self.delete_object(),
            Operation::CreateMultipartUpload => self.create_upload(),
            Operation::UploadPart => self.upload_part(payload),
            Operation::CompleteMultipartUpload => self.complete_upload(&payload),
            Operation::AbortMultipartUpload => self.abort_upload(),
            Operation::ListParts => self.list_parts(),
            // The service root only lists buckets.
            Operation::Unsupported if self.target.bucket.is_none() => {
                Err(s3_error(ErrorCode::MethodNotAllowed)
                    .with_extra("Method", self.parts.method.as_str().to_owned())
                    .with_extra("ResourceType", "SERVICE"))
            }
            Operation::Unsupported => Err(s3_error(ErrorCode::NotImplemented)),
        }
    }

    /// The object size the request declares: `x-amz-decoded-content-length` for aws-chunked
    /// bodies, else `Content-Length`.
    fn declared_size(&self) -> Option<u64> {
        header_str(self.headers(), "x-amz-decoded-content-length")
            .or_else(|| header_str(self.headers(), "content-length"))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Reads, de-frames and checks the body.
    async fn payload(&self, op: Operation, body: Body) -> Result<Payload, AwsError> {
        let max = self.s3.max_object_size;
        let limit = if op.uploads_data() {
            // Room for aws-chunked framing: ~90 bytes per 8 KiB chunk at worst, and a trailer.
            let framing = max / 64 + 64 * 1024;
            usize::try_from(max.saturating_add(framing)).unwrap_or(usize::MAX)
        } else {
            MAX_BODY_BYTES
        };
        let raw = match axum::body::to_bytes(body, limit).await {
            Ok(raw) => raw,
            Err(e) if is_length_limit(&e) && op.uploads_data() => {
                return Err(entity_too_large(None, max));
            }
            Err(e) if is_length_limit(&e) => {
                return Err(s3_error(ErrorCode::MaxMessageLengthExceeded));
            }
            Err(_) => return Err(s3_error(ErrorCode::IncompleteBody)),
        };
        let form = match header_str(self.headers(), "x-amz-content-sha256") {
            Some(value) => PayloadForm::parse(value).ok_or_else(|| {
                invalid_argument(
                    "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.",
                    "x-amz-content-sha256",
                    value,
                )
            })?,
            None => PayloadForm::Unsigned,
        };
        let payload = match form {
            PayloadForm::Unsigned => Payload {
                data: raw,
                trailers: Vec::new(),
            },
            PayloadForm::Hash(declared) => {
                let computed = sigv4::hex_sha256(&raw);
                if computed != declared {
                    return Err(s3_error(ErrorCode::XAmzContentSHA256Mismatch)
                        .with_extra("ClientComputedContentSHA256", declared)
                        .with_extra("S3ComputedContentSHA256", computed));
                }
                Payload {
                    data: raw,
                    trailers: Vec::new(),
                }
            }
            PayloadForm::Streaming { signed, trailer } => {
                let verifier = signed.then_some(ChunkVerifier {
                    signature: &self.verified.signature,
                    signing_key: &self.verified.signing_key,
                });
                let decoded =
                    chunked::decode(&raw, verifier, trailer).map_err(|e| self.chunk_error(e))?;
                if let Some(declared) = header_str(self.headers(), "x-amz-decoded-content-length")
                    && declared.trim().parse::<u64>().ok() != Some(decoded.data.len() as u64)
                {
                    return Err(s3_error(ErrorCode::IncompleteBody));
                }
                Payload {
                    data: Bytes::from(decoded.data),
                    trailers: decoded.trailers,
                }
            }
        };
        Ok(payload)
    }

    fn chunk_error(&self, e: ChunkError) -> AwsError {
        match e {
            ChunkError::Truncated => s3_error(ErrorCode::IncompleteBody),
            ChunkError::Malformed(detail) => s3_error(ErrorCode::InvalidRequest)
                .with_message(format!("Invalid aws-chunked body: {detail}")),
            ChunkError::Signature {
                string_to_sign,
                provided,
                ..
            } => s3_error(ErrorCode::SignatureDoesNotMatch)
                .with_extra(
                    "AWSAccessKeyId",
                    self.verified.signature.access_key_id.clone(),
                )
                .with_extra("StringToSign", string_to_sign.clone())
                .with_extra("SignatureProvided", provided)
                .with_extra(
                    "StringToSignBytes",
                    crate::auth::spaced_hex(string_to_sign.as_bytes()),
                ),
        }
    }

    /// Checks `Content-MD5` and the declared flexible checksum (header or trailer) against the
    /// payload, returning the verified checksum.
    fn verify_checksums(&self, payload: &Payload) -> Result<Option<Checksum>, AwsError> {
        checksum::verify_content_md5(self.headers(), &payload.data)?;
        match checksum::declared(self.headers())? {
            None => Ok(None),
            Some(Declared::Header(algorithm, value)) => {
                checksum::verify(algorithm, &value, &payload.data).map(Some)
            }
            Some(Declared::Trailer(algorithm)) => {
                let value = payload
                    .trailers
                    .iter()
                    .find(|(n, _)| n == algorithm.header())
                    .map(|(_, v)| v.as_str())
                    .ok_or_else(|| s3_error(ErrorCode::MalformedTrailerError))?;
                checksum::verify(algorithm, value, &payload.data).map(Some)
            }
        }
    }

    fn bucket_name(&self) -> &str {
        self.target.bucket.as_deref().unwrap_or_default()
    }

    fn key(&self) -> &str {
        self.target.key.as_deref().unwrap_or_default()
    }

    fn no_such_bucket(name: &str) -> AwsError {
        s3_error(ErrorCode::NoSuchBucket).with_extra("BucketName", name)
    }

    /// The bucket, when it exists and the caller's account owns it.
    fn owned(&self, name: &str) -> Result<BucketMeta, AwsError> {
        match self.s3.store.bucket(name) {
            None => Err(Self::no_such_bucket(name)),
            Some(bucket) if bucket.owner_account != self.account() => {
                Err(s3_error(ErrorCode::AccessDenied))
            }
            Some(bucket) => Ok(bucket),
        }
    }

    fn store_error(&self, e: StoreError) -> AwsError {
        match e {
            StoreError::NoSuchBucket => Self::no_such_bucket(self.bucket_name()),
            StoreError::NoSuchKey => {
                s3_error(ErrorCode::NoSuchKey).with_extra("Key", self.key().to_owned())
            }
            StoreError::BucketNotEmpty => s3_error(ErrorCode::BucketNotEmpty)
                .with_extra("BucketName", self.bucket_name().to_owned()),
            other => {
                tracing::error!(error = %other, "S3 store failed");
                s3_error(ErrorCode::InternalError)
            }
        }
    }

    fn canonical_owner_id(&self) -> String {
        sigv4::hex_sha256(format!("mock-sts canonical user {}", self.account()).as_bytes())
    }

    fn xml_response(body: String) -> Response {
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        response
    }

    fn status(status: StatusCode) -> Response {
        (status, Body::empty()).into_response()
    }

    // ---- buckets ----

    fn list_buckets(&self) -> Result<Response, AwsError> {
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("ListAllMyBucketsResult", Some(S3_NAMESPACE))
            .open("Owner", None)
            .text("ID", &self.canonical_owner_id())
            .close("Owner")
            .open("Buckets", None);
        for bucket in self
            .s3
            .store
            .buckets()
            .into_iter()
            .filter(|b| b.owner_account == self.account())
        {
            w.open("Bucket", None)
                .text("Name", &bucket.name)
                .text("CreationDate", &timestamp::rfc3339_millis(bucket.created()))
                .text("BucketRegion", &bucket.region)
                .close("Bucket");
        }
        w.close("Buckets").close("ListAllMyBucketsResult");
        Ok(Self::xml_response(w.finish()))
    }

    fn create_bucket(&self, payload: &Payload) -> Result<Response, AwsError> {
        let name = self.bucket_name();
        if !valid_bucket_name(name) {
            return Err(s3_error(ErrorCode::InvalidBucketName).with_extra("BucketName", name));
        }
        let request_region = self.verified.signature.scope.region.clone();
        let mut region = request_region.clone();
        if !payload.data.iter().all(u8::is_ascii_whitespace) {
            let root = xml::parse(&payload.data).map_err(|_| s3_error(ErrorCode::MalformedXML))?;
            if root.name != "CreateBucketConfiguration" {
                return Err(s3_error(ErrorCode::MalformedXML));
            }
            if let Some(location) = root.child_text("LocationConstraint").map(str::trim)
                && !location.is_empty()
            {
                location.clone_into(&mut region);
            }
        }
        let meta = BucketMeta {
            name: name.to_owned(),
            owner_account: self.account().to_owned(),
            region,
            created_ms: store::whole_seconds_ms(self.now),
        };
        match self.s3.store.create_bucket(meta) {
            Ok(()) => {}
            // S3 keeps a legacy answer in us-east-1: re-creating your own bucket is a 200.
            Err(StoreError::BucketExists(owner))
                if owner == self.account() && request_region == "us-east-1" => {}
            Err(StoreError::BucketExists(owner)) if owner == self.account() => {
                return Err(
                    s3_error(ErrorCode::BucketAlreadyOwnedByYou).with_extra("BucketName", name)
                );
            }
            Err(StoreError::BucketExists(_)) => {
                return Err(s3_error(ErrorCode::BucketAlreadyExists).with_extra("BucketName", name));
            }
            Err(e) => return Err(self.store_error(e)),
        }
        let mut response = Self::status(StatusCode::OK);
        if let Ok(location) = HeaderValue::from_str(&format!("/{name}")) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Ok(response)
    }

    fn head_bucket(&self) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        let mut response = Self::status(StatusCode::OK);
        if let Ok(region) = HeaderValue::from_str(&bucket.region) {
            response.headers_mut().insert("x-amz-bucket-region", region);
        }
        Ok(response)
    }

    fn delete_bucket(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        self.s3
            .store
            .delete_bucket(self.bucket_name())
            .map_err(|e| self.store_error(e))?;
        Ok(Self::status(StatusCode::NO_CONTENT))
    }

    fn bucket_location(&self) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        // us-east-1 answers an empty constraint.
        let region = if bucket.region == "us-east-1" {
            ""
        } else {
            bucket.region.as_str()
        };
        Ok(Self::xml_response(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{S3_NAMESPACE}\">{}</LocationConstraint>",
            crate::xml::escape(region)
        )))
    }

    // ---- listing ----

    fn list_objects(&self, v2: bool) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        let q = self.query;
        let prefix = q.get("prefix").unwrap_or_default();
        let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
        let max_keys = match q.get("max-keys") {
            None => MAX_KEYS,
            Some(raw) => raw
                .trim()
                .parse::<i32>()
                .ok()
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| {
                    invalid_argument(
                        "Provided max-keys not an integer or within integer range",
                        "max-keys",
                        raw,
                    )
                })?
                .min(MAX_KEYS),
        };
        let url_encoding = match q.get("encoding-type") {
            None => false,
            Some(e) if e.eq_ignore_ascii_case("url") => true,
            Some(e) => {
                return Err(invalid_argument(
                    "Invalid Encoding Method specified in Request",
                    "encoding-type",
                    e,
                ));
            }
        };
        let token = q.get("continuation-token");
        let start = if v2 {
            match token {
                Some(t) => Some(Marker::decode(t).ok_or_else(|| {
                    invalid_argument(
                        "The continuation token provided is incorrect",
                        "continuation-token",
                        t,
                    )
                })?),
                None => q
                    .get("start-after")
                    .filter(|s| !s.is_empty())
                    .map(|s| Marker::Key(s.to_owned())),
            }
        } else {
            q.get("marker")
                .filter(|s| !s.is_empty())
                .map(|s| Marker::Key(s.to_owned()))
        };
        let page = self.page(&bucket.name, prefix, delimiter, start.as_ref(), max_keys)?;

        let enc = |text: &str| -> String {
            if url_encoding {
                form_urlencoded::byte_serialize(text.as_bytes()).collect()
            } else {
                text.to_owned()
            }
        };
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("ListBucketResult", Some(S3_NAMESPACE))
            .text("Name", &bucket.name)
            .text("Prefix", &enc(prefix));
        if v2 {
            if let Some(t) = token {
                w.text("ContinuationToken", t);
            }
            if let (true, Some(next)) = (page.truncated, &page.last) {
                w.text("NextContinuationToken", &next.encode());
            }
            w.text(
                "KeyCount",
                &(page.contents.len() + page.prefixes.len()).to_string(),
            );
        } else {
            w.text("Marker", &enc(q.get("marker").unwrap_or_default()));
            if let (true, Some(_), Some(next)) = (page.truncated, delimiter, &page.last) {
                w.text("NextMarker", &enc(next.text()));
            }
        }
        w.text("MaxKeys", &max_keys.to_string());
        if let Some(d) = delimiter {
            w.text("Delimiter", &enc(d));
        }
        if url_encoding {
            w.text("EncodingType", "url");
        }
        w.text("IsTruncated", if page.truncated { "true" } else { "false" });
        if v2 && let Some(s) = q.get("start-after") {
            w.text("StartAfter", &enc(s));
        }
        let fetch_owner = !v2 || q.get("fetch-owner") == Some("true");
        for object in &page.contents {
            w.open("Contents", None)
                .text("Key", &enc(&object.key))
                .text(
                    "LastModified",
                    &timestamp::rfc3339_millis(object.last_modified()),
                )
                .text("ETag", &object.etag);
            if let Some(c) = &object.checksum {
                w.text("ChecksumAlgorithm", c.algorithm.name())
                    .text("ChecksumType", c.kind.name());
            }
            w.text("Size", &object.size.to_string());
            if fetch_owner {
                w.open("Owner", None)
                    .text("ID", &self.canonical_owner_id())
                    .close("Owner");
            }
            w.text("StorageClass", "STANDARD").close("Contents");
        }
        for prefix in &page.prefixes {
            w.open("CommonPrefixes", None)
                .text("Prefix", &enc(prefix))
                .close("CommonPrefixes");
        }
        w.close("ListBucketResult");
        Ok(Self::xml_response(w.finish()))
    }

    fn page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start: Option<&Marker>,
        max_keys: usize,
    ) -> Result<Page, AwsError> {
        let mut page = Page::default();
        if max_keys == 0 {
            return Ok(page);
        }
        let mut skip_prefix = match start {
            Some(Marker::Prefix(p)) => Some(p.clone()),
            _ => None,
        };
        self.s3
            .store
            .scan(bucket, prefix, start.map(Marker::text), |object| {
                if skip_prefix
                    .as_deref()
                    .is_some_and(|p| object.key.starts_with(p))
                {
                    return true;
                }
                let rest = object.key.get(prefix.len()..).unwrap_or_default();
                let common = delimiter.and_then(|d| {
                    rest.find(d)
                        .map(|i| object.key[..prefix.len() + i + d.len()].to_owned())
                });
                if page.contents.len() + page.prefixes.len() == max_keys {
                    page.truncated = true;
                    return false;
                }
                match common {
                    Some(common) => {
                        skip_prefix = Some(common.clone());
                        page.last = Some(Marker::Prefix(common.clone()));
                        page.prefixes.push(common);
                    }
                    None => {
                        page.last = Some(Marker::Key(object.key.clone()));
                        page.contents.push(object.clone());
                    }
                }
                true
            })
            .map_err(|e| self.store_error(e))?;
        Ok(page)
    }

    // ---- objects ----

    fn put_object(&self, payload: Payload) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let sent = self.verify_checksums(&payload)?;
        let checksum = sent
            .clone()
            .unwrap_or_else(|| Checksum::full(Algorithm::Crc64Nvme, &payload.data));
        let mut meta = object_meta_from_headers(self.headers(), self.key());
        meta.size = payload.data.len() as u64;
        meta.etag = format!("\"{}\"", hex::encode(checksum::md5(&payload.data)));
        meta.last_modified_ms = store::whole_seconds_ms(self.now);
        meta.checksum = Some(checksum);
        let etag = meta.etag.clone();
        self.s3
            .store
            .put_object(self.bucket_name(), meta, payload.data)
            .map_err(|e| self.store_error(e))?;
        let mut response = Self::status(StatusCode::OK);
        insert(response.headers_mut(), header::ETAG.as_str(), &etag);
        if let Some(sent) = sent {
            sent.insert_headers(response.headers_mut());
        }
        Ok(response)
    }

    fn copy_object(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let raw = header_str(self.headers(), "x-amz-copy-source").unwrap_or_default();
        let bad_source = || {
            invalid_argument(
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                "x-amz-copy-source",
                raw,
            )
        };
        let without_version = raw.split_once("?versionId=").map_or(raw, |(s, _)| s);
        let decoded = decode_segment(without_version).map_err(|_| bad_source())?;
        let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
        let (source_bucket, source_key) = decoded
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(bad_source)?;
        self.owned(source_bucket)?;
        let (source, data) = self
            .s3
            .store
            .get_object(source_bucket, source_key)
            .map_err(|e| match e {
                StoreError::NoSuchKey => {
                    s3_error(ErrorCode::NoSuchKey).with_extra("Key", source_key.to_owned())
                }
                StoreError::NoSuchBucket => Self::no_such_bucket(source_bucket),
                other => self.store_error(other),
            })?;
        let replace = match header_str(self.headers(), "x-amz-metadata-directive") {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("COPY") => false,
            Some(d) if d.eq_ignore_ascii_case("REPLACE") => true,
            Some(d) => {
                return Err(invalid_argument(
                    "Unknown metadata directive.",
                    "x-amz-metadata-directive",
                    d,
                ));
            }
        };
        let new_algorithm = header_str(self.headers(), "x-amz-checksum-algorithm")
            .map(|name| Algorithm::from_name(name).ok_or_else(unsupported_algorithm))
            .transpose()?;
        if source_bucket == self.bucket_name()
            && source_key == self.key()
            && !replace
            && new_algorithm.is_none()
        {
            return Err(s3_error(ErrorCode::InvalidRequest).with_message(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let mut meta = if replace {
            object_meta_from_headers(self.headers(), self.key())
        } else {
            ObjectMeta {
                key: self.key().to_owned(),
                ..source.clone()
            }
        };
        meta.size = data.len() as u64;
        meta.etag = format!("\"{}\"", hex::encode(checksum::md5(&data)));
        meta.last_modified_ms = store::whole_seconds_ms(self.now);
        meta.parts_count = None;
        meta.checksum = Some(match (new_algorithm, &source.checksum) {
            (Some(algorithm), _) => Checksum::full(algorithm, &data),
            (None, Some(c)) if c.kind == ChecksumType::FullObject => c.clone(),
            (None, _) => Checksum::full(Algorithm::Crc64Nvme, &data),
        });
        let (etag, last_modified, stored_checksum) = (
            meta.etag.clone(),
            meta.last_modified(),
            meta.checksum.clone(),
        );
        self.s3
            .store
            .put_object(self.bucket_name(), meta, data)
            .map_err(|e| self.store_error(e))?;
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("CopyObjectResult", Some(S3_NAMESPACE))
            .text("ETag", &etag)
            .text("LastModified", &timestamp::rfc3339_millis(last_modified));
        if let Some(c) = stored_checksum {
            w.text("ChecksumType", c.kind.name())
                .text(c.algorithm.element(), &c.value);
        }
        w.close("CopyObjectResult");
        Ok(Self::xml_response(w.finish()))
    }

    fn get_object(&self, head: bool) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let (meta, data) = if head {
            let meta = self
                .s3
                .store
                .head_object(self.bucket_name(), self.key())
                .map_err(|e| self.store_error(e))?;
            (meta, Bytes::new())
        } else {
            self.s3
                .store
                .get_object(self.bucket_name(), self.key())
                .map_err(|e| self.store_error(e))?
        };
        if let Some(response) = self.preconditions(&meta)? {
            return Ok(response);
        }
        let range = match header_str(self.headers(), "range") {
            Some(raw) => match parse_range(raw, meta.size) {
                RangeSpec::Ignored => None,
                RangeSpec::Satisfiable(start, end) => Some((start, end)),
                RangeSpec::Unsatisfiable => {
                    return Err(s3_error(ErrorCode::InvalidRange)
                        .with_extra("RangeRequested", raw)
                        .with_extra("ActualObjectSize", meta.size.to_string()));
                }
            },
            None => None,
        };
        let (status, length, body) = match range {
            Some((start, end)) => {
                let body = if head {
                    Bytes::new()
                } else {
                    data.slice(
                        usize::try_from(start).unwrap_or(0)..usize::try_from(end + 1).unwrap_or(0),
                    )
                };
                (StatusCode::PARTIAL_CONTENT, end + 1 - start, body)
            }
            None => (StatusCode::OK, meta.size, data),
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        self.object_headers(headers, &meta);
        insert(
            headers,
            header::CONTENT_LENGTH.as_str(),
            &length.to_string(),
        );
        if let Some((start, end)) = range {
            insert(
                headers,
                header::CONTENT_RANGE.as_str(),
                &format!("bytes {start}-{end}/{}", meta.size),
            );
        } else if header_str(self.headers(), "x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
            && let Some(checksum) = &meta.checksum
        {
            // Only whole-object reads carry the checksum: a client cannot check a range.
            checksum.insert_headers(headers);
        }
        if !head {
            self.response_overrides(headers);
        }
        Ok(response)
    }

    /// `If-Match`, `If-Unmodified-Since` (412) and `If-None-Match`, `If-Modified-Since` (304),
    /// in RFC 9110's order.
    fn preconditions(&self, meta: &ObjectMeta) -> Result<Option<Response>, AwsError> {
        let headers = self.headers();
        let etag_matches = |list: &str| {
            list.split(',').map(str::trim).any(|e| {
                e == "*"
                    || e.trim_start_matches("W/").trim_matches('"') == meta.etag.trim_matches('"')
            })
        };
        let date =
            |name: &str| header_str(headers, name).and_then(|v| httpdate::parse_http_date(v).ok());
        let failed = |condition: &str| {
            Err(s3_error(ErrorCode::PreconditionFailed).with_extra("Condition", condition))
        };
        let modified = meta.last_modified();
        match header_str(headers, "if-match") {
            Some(list) if !etag_matches(list) => return failed("If-Match"),
            Some(_) => {}
            None => {
                if date("if-unmodified-since").is_some_and(|since| modified > since) {
                    return failed("If-Unmodified-Since");
                }
            }
        }
        let not_modified = match header_str(headers, "if-none-match") {
            Some(list) => etag_matches(list),
            None => date("if-modified-since").is_some_and(|since| modified <= since),
        };
        if not_modified {
            let mut response = Self::status(StatusCode::NOT_MODIFIED);
            insert(response.headers_mut(), header::ETAG.as_str(), &meta.etag);
            insert(
                response.headers_mut(),
                header::LAST_MODIFIED.as_str(),
                &timestamp::http_date(modified),
            );
            return Ok(Some(response));
        }
        Ok(None)
    }

    fn object_headers(&self, headers: &mut HeaderMap, meta: &ObjectMeta) {
        insert(headers, header::ETAG.as_str(), &meta.etag);
        insert(
            headers,
            header::LAST_MODIFIED.as_str(),
            &timestamp::http_date(meta.last_modified()),
        );
        insert(headers, header::ACCEPT_RANGES.as_str(), "bytes");
        insert(
            headers,
            header::CONTENT_TYPE.as_str(),
            meta.content_type
                .as_deref()
                .unwrap_or("binary/octet-stream"),
        );
        for (name, value) in &meta.headers {
            insert(headers, name, value);
        }
        for (name, value) in &meta.metadata {
            insert(headers, &format!("x-amz-meta-{name}"), value);
        }
        if let Some(parts) = meta.parts_count
            && self.query.has("partNumber")
        {
            insert(headers, "x-amz-mp-parts-count", &parts.to_string());
        }
    }

    /// `response-content-type` and friends on GET override the stored headers.
    fn response_overrides(&self, headers: &mut HeaderMap) {
        for (param, name) in [
            ("response-content-type", "content-type"),
            ("response-content-language", "content-language"),
            ("response-expires", "expires"),
            ("response-cache-control", "cache-control"),
            ("response-content-disposition", "content-disposition"),
            ("response-content-encoding", "content-encoding"),
        ] {
            if let Some(value) = self.query.get(param) {
                insert(headers, name, value);
            }
        }
    }

    fn delete_object(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        self.s3
            .store
            .delete_object(self.bucket_name(), self.key())
            .map_err(|e| self.store_error(e))?;
        Ok(Self::status(StatusCode::NO_CONTENT))
    }

    fn delete_objects(&self, payload: &Payload) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let has_integrity = self.headers().contains_key("content-md5")
            || Algorithm::ALL
                .iter()
                .any(|a| self.headers().contains_key(a.header()))
            || self.headers().contains_key("x-amz-trailer");
        if !has_integrity {
            return Err(s3_error(ErrorCode::InvalidRequest)
                .with_message("Missing required header for this request: Content-MD5"));
        }
        self.verify_checksums(payload)?;
        let root = xml::parse(&payload.data).map_err(|_| s3_error(ErrorCode::MalformedXML))?;
        if root.name != "Delete" {
            return Err(s3_error(ErrorCode::MalformedXML));
        }
        let quiet = root.child_text("Quiet").is_some_and(|q| q.trim() == "true");
        let keys: Vec<String> = root
            .children_named("Object")
            .map(|o| o.child_text("Key").map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or_else(|| s3_error(ErrorCode::MalformedXML))?;
        if keys.is_empty() || keys.len() > MAX_KEYS {
            return Err(s3_error(ErrorCode::MalformedXML));
        }
        let mut w = XmlWriter::compact();
        w.declaration().open("DeleteResult", Some(S3_NAMESPACE));
        for key in &keys {
            match self.s3.store.delete_object(self.bucket_name(), key) {
                Ok(()) if quiet => {}
                Ok(()) => {
                    w.open("Deleted", None).text("Key", key).close("Deleted");
                }
                Err(e) => {
                    tracing::error!(error = %e, "S3 store failed in DeleteObjects");
                    let error = s3_error(ErrorCode::InternalError);
                    w.open("Error", None)
                        .text("Key", key)
                        .text("Code", error.code.as_str())
                        .text("Message", &error.message)
                        .close("Error");
                }
            }
        }
        w.close("DeleteResult");
        Ok(Self::xml_response(w.finish()))
    }

    // ---- multipart ----

    fn upload_id(&self) -> &str {
        self.query.get("uploadId").unwrap_or_default()
    }

    fn no_such_upload(&self) -> AwsError {
        s3_error(ErrorCode::NoSuchUpload).with_extra("UploadId", self.upload_id().to_owned())
    }

    fn create_upload(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let algorithm = header_str(self.headers(), "x-amz-checksum-algorithm")
            .map(|name| Algorithm::from_name(name).ok_or_else(unsupported_algorithm))
            .transpose()?;
        let checksum_type = match header_str(self.headers(), "x-amz-checksum-type") {
            None => None,
            Some(raw) => Some(ChecksumType::from_name(raw).ok_or_else(|| {
                s3_error(ErrorCode::InvalidRequest)
                    .with_message("Value for x-amz-checksum-type header is invalid.")
            })?),
        };
        let checksum_type = match (algorithm, checksum_type) {
            (Some(a), Some(ChecksumType::FullObject)) if !a.supports_full_object() => {
                return Err(s3_error(ErrorCode::InvalidRequest).with_message(format!(
                    "The FULL_OBJECT checksum type cannot be used with the {} checksum algorithm.",
                    a.name().to_ascii_lowercase()
                )));
            }
            (_, Some(t)) => t,
            // CRC64NVME uploads are full-object by default, the others composite.
            (Some(Algorithm::Crc64Nvme), None) => ChecksumType::FullObject,
            (_, None) => ChecksumType::Composite,
        };
        let id = sigv4::hex_sha256(format!("mock-sts upload {}", self.request_id).as_bytes())[..48]
            .to_owned();
        self.s3.uploads.insert(Upload {
            id: id.clone(),
            bucket: self.bucket_name().to_owned(),
            key: self.key().to_owned(),
            initiated: self.now,
            template: object_meta_from_headers(self.headers(), self.key()),
            algorithm,
            checksum_type,
            parts: Default::default(),
        });
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("InitiateMultipartUploadResult", Some(S3_NAMESPACE))
            .text("Bucket", self.bucket_name())
            .text("Key", self.key())
            .text("UploadId", &id)
            .close("InitiateMultipartUploadResult");
        let mut response = Self::xml_response(w.finish());
        if let Some(a) = algorithm {
            insert(response.headers_mut(), "x-amz-checksum-algorithm", a.name());
            insert(
                response.headers_mut(),
                "x-amz-checksum-type",
                checksum_type.name(),
            );
        }
        Ok(response)
    }

    fn upload_part(&self, payload: Payload) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let raw = self.query.get("partNumber").unwrap_or_default();
        let number = raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=multipart::MAX_PART_NUMBER).contains(n))
            .ok_or_else(|| {
                invalid_argument(
                    "Part number must be an integer between 1 and 10000, inclusive",
                    "partNumber",
                    raw,
                )
            })?;
        let algorithm = self
            .s3
            .uploads
            .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                u.algorithm
            })
            .ok_or_else(|| self.no_such_upload())?;
        let sent = self.verify_checksums(&payload)?;
        if let (Some(expected), Some(sent)) = (algorithm, &sent)
            && sent.algorithm != expected
        {
            return Err(s3_error(ErrorCode::InvalidRequest).with_message(format!(
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                expected.name().to_ascii_lowercase(),
                sent.algorithm.name().to_ascii_lowercase()
            )));
        }
        let checksum = sent
            .clone()
            .or_else(|| algorithm.map(|a| Checksum::full(a, &payload.data)));
        let md5 = checksum::md5(&payload.data);
        let part = Part {
            number,
            etag: format!("\"{}\"", hex::encode(md5)),
            md5,
            last_modified_ms: store::whole_seconds_ms(self.now),
            checksum: checksum.clone(),
            data: payload.data,
        };
        let etag = part.etag.clone();
        self.s3
            .uploads
            .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                u.parts.insert(number, part);
            })
            .ok_or_else(|| self.no_such_upload())?;
        let mut response = Self::status(StatusCode::OK);
        insert(response.headers_mut(), header::ETAG.as_str(), &etag);
        if let Some(c) = checksum {
            insert(response.headers_mut(), c.algorithm.header(), &c.value);
        }
        Ok(response)
    }

    fn complete_upload(&self, payload: &Payload) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        checksum::verify_content_md5(self.headers(), &payload.data)?;
        let requested = multipart::parse_complete(&payload.data)?;
        let upload = self
            .s3
            .uploads
            .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                u.clone()
            })
            .ok_or_else(|| self.no_such_upload())?;
        let assembled = multipart::assemble(&upload, &requested)?;
        let max = self.s3.max_object_size;
        if assembled.data.len() as u64 > max {
            return Err(entity_too_large(Some(assembled.data.len() as u64), max));
        }
        // A full-object checksum header on Complete is the client's checksum of the object.
        if let Some(Declared::Header(algorithm, value)) = checksum::declared(self.headers())?
            && (algorithm != assembled.checksum.algorithm
                || value.trim() != assembled.checksum.value)
        {
            return Err(s3_error(ErrorCode::BadDigest).with_message(format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.name()
            )));
        }
        let mut meta = upload.template.clone();
        meta.size = assembled.data.len() as u64;
        meta.etag = assembled.etag.clone();
        meta.last_modified_ms = store::whole_seconds_ms(self.now);
        meta.checksum = Some(assembled.checksum.clone());
        meta.parts_count = Some(assembled.parts);
        self.s3
            .store
            .put_object(self.bucket_name(), meta, assembled.data)
            .map_err(|e| self.store_error(e))?;
        self.s3
            .uploads
            .remove(self.upload_id(), self.bucket_name(), self.key());

        let host = header_str(self.headers(), "host").unwrap_or("localhost");
        let location = format!(
            "http://{host}/{}/{}",
            self.bucket_name(),
            percent_encoding::utf8_percent_encode(self.key(), percent_encoding::NON_ALPHANUMERIC)
        );
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("CompleteMultipartUploadResult", Some(S3_NAMESPACE))
            .text("Location", &location)
            .text("Bucket", self.bucket_name())
            .text("Key", self.key())
            .text("ETag", &assembled.etag)
            .text(
                assembled.checksum.algorithm.element(),
                &assembled.checksum.value,
            )
            .text("ChecksumType", assembled.checksum.kind.name())
            .close("CompleteMultipartUploadResult");
        Ok(Self::xml_response(w.finish()))
    }

    fn abort_upload(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        self.s3
            .uploads
            .remove(self.upload_id(), self.bucket_name(), self.key())
            .ok_or_else(|| self.no_such_upload())?;
        Ok(Self::status(StatusCode::NO_CONTENT))
    }

    fn list_parts(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let number_arg = |name: &str, default: u32| -> Result<u32, AwsError> {
            match self.query.get(name) {
                None => Ok(default),
                Some(raw) => raw.trim().parse::<u32>().map_err(|_| {
                    invalid_argument(
                        &format!("Provided {name} not an integer or within integer range"),
                        name,
                        raw,
                    )
                }),
            }
        };
        let max_parts = number_arg("max-parts", 1000)?.min(1000);
        let marker = number_arg("part-number-marker", 0)?;
        let upload = self
            .s3
            .uploads
            .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                u.clone()
            })
            .ok_or_else(|| self.no_such_upload())?;
        let remaining: Vec<&Part> = upload
            .parts
            .range(marker.saturating_add(1)..)
            .map(|(_, p)| p)
            .collect();
        let shown = &remaining[..remaining.len().min(max_parts as usize)];
        let truncated = remaining.len() > shown.len();
        let owner = self.canonical_owner_id();
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("ListPartsResult", Some(S3_NAMESPACE))
            .text("Bucket", &upload.bucket)
            .text("Key", &upload.key)
            .text("UploadId", &upload.id)
            .text("PartNumberMarker", &marker.to_string())
            .text(
                "NextPartNumberMarker",
                &shown.last().map_or(marker, |p| p.number).to_string(),
            )
            .text("MaxParts", &max_parts.to_string())
            .text("IsTruncated", if truncated { "true" } else { "false" });
        for part in shown {
            w.open("Part", None)
                .text("PartNumber", &part.number.to_string())
                .text(
                    "LastModified",
                    &timestamp::rfc3339_millis(timestamp::from_unix_millis(part.last_modified_ms)),
                )
                .text("ETag", &part.etag)
                .text("Size", &part.data.len().to_string());
            if let Some(c) = &part.checksum {
                w.text(c.algorithm.element(), &c.value);
            }
            w.close("Part");
        }
        w.open("Initiator", None)
            .text("ID", &owner)
            .close("Initiator")
            .open("Owner", None)
            .text("ID", &owner)
            .close("Owner")
            .text("StorageClass", "STANDARD");
        if let Some(a) = upload.algorithm {
            w.text("ChecksumAlgorithm", a.name())
                .text("ChecksumType", upload.checksum_type.name());
        }
        w.close("ListPartsResult");
        Ok(Self::xml_response(w.finish()))
    }
}

fn unsupported_algorithm() -> AwsError {
    s3_error(ErrorCode::InvalidRequest).with_message(
        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
    )
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (
        http::HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        headers.insert(name, value);
    }
}

/// Content headers kept with an object and returned on GET/HEAD.
const CONTENT_HEADERS: [&str; 5] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// The metadata an upload sets: content headers and `x-amz-meta-*` (size, ETag, time and
/// checksum are the caller's to fill in).
fn object_meta_from_headers(headers: &HeaderMap, key: &str) -> ObjectMeta {
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let content_headers = CONTENT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name).map(text)?;
            // aws-chunked is framing, not a content coding of the object.
            let value = if *name == "content-encoding" {
                let codings: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.eq_ignore_ascii_case("aws-chunked") && !c.is_empty())
                    .collect();
                if codings.is_empty() {
                    return None;
                }
                codings.join(",")
            } else {
                value
            };
            Some(((*name).to_owned(), value))
        })
        .collect();
    let mut metadata: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| {
            name.as_str()
                .strip_prefix("x-amz-meta-")
                .map(|n| (n.to_owned(), text(value)))
        })
        .collect();
    metadata.sort();
    ObjectMeta {
        key: key.to_owned(),
        size: 0,
        etag: String::new(),
        last_modified_ms: 0,
        content_type: headers.get(header::CONTENT_TYPE).map(text),
        headers: content_headers,
        metadata,
        checksum: None,
        parts_count: None,
    }
}

/// S3's bucket naming rules: 3–63 characters of lower-case letters, digits, `.` and `-`,
/// starting and ending with a letter or digit, no `..`, not an IPv4 address.
pub fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// Where a listing resumes: after a key, or after every key under a common prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Marker {
    Key(String),
    Prefix(String),
}

impl Marker {
    fn text(&self) -> &str {
        match self {
            Marker::Key(k) | Marker::Prefix(k) => k,
        }
    }

    /// The opaque continuation token.
    fn encode(&self) -> String {
        use base64::Engine;
        let tagged = match self {
            Marker::Key(k) => format!("k:{k}"),
            Marker::Prefix(p) => format!("p:{p}"),
        };
        base64::engine::general_purpose::STANDARD.encode(tagged)
    }

    fn decode(token: &str) -> Option<Marker> {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        if let Some(k) = text.strip_prefix("k:") {
            Some(Marker::Key(k.to_owned()))
        } else {
            text.strip_prefix("p:")
                .map(|p| Marker::Prefix(p.to_owned()))
        }
    }
}

/// One page of a listing.
#[derive(Debug, Default)]
struct Page {
    contents: Vec<ObjectMeta>,
    prefixes: Vec<String>,
    truncated: bool,
    last: Option<Marker>,
}

/// How a `Range` header applies to an object of some size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// Not a single byte range S3 understands: the whole object is sent.
    Ignored,
    /// Inclusive byte positions.
    Satisfiable(u64, u64),
    /// `InvalidRange` (416).
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` (one range; S3 ignores lists and syntax it
/// does not know, and sends the whole object).
fn parse_range(raw: &str, size: u64) -> RangeSpec {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignored;
    };
    if spec.contains(',') {
        return RangeSpec::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeSpec::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (first.is_empty(), number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Satisfiable(size.saturating_sub(n), size - 1)
            }
        }
        (false, Some(start), None) if last.is_empty() => {
            if start >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Satisfiable(start, size - 1)
            }
        }
        (false, Some(start), Some(end)) if start <= end => {
            if start >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Satisfiable(start, end.min(size - 1))
            }
        }
        _ => RangeSpec::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, host: &str) -> Parts {
        let (parts, ()) = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn path_and_virtual_host_targets() {
        let t = Target::from_parts(&parts("GET", "/bkt/a/b%20c", "127.0.0.1:4566")).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("bkt"));
        assert_eq!(t.key.as_deref(), Some("a/b c"));
        let t = Target::from_parts(&parts("GET", "/a/../b%00", "bkt.localhost:4566")).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("bkt"));
        assert_eq!(t.key.as_deref(), Some("a/../b\0"));
        let t = Target::from_parts(&parts("GET", "/", "localhost:4566")).unwrap();
        assert_eq!(
            t,
            Target {
                bucket: None,
                key: None
            }
        );
        let t = Target::from_parts(&parts("GET", "/bkt/", "localhost")).unwrap();
        assert_eq!(t.key, None);
        assert_eq!(
            Target::from_parts(&parts("GET", "/bkt/%FF", "localhost"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidURI
        );
    }

    #[test]
    fn operations_by_method_target_and_query() {
        let op = |method: &str, uri: &str| {
            let p = parts(method, uri, "localhost");
            let t = Target::from_parts(&p).unwrap();
            classify(&p.method, &t, &Query::parse(p.uri.query()), &p.headers)
        };
        assert_eq!(op("GET", "/"), Operation::ListBuckets);
        assert_eq!(
            op("GET", "/b?list-type=2&prefix=x"),
            Operation::ListObjectsV2
        );
        assert_eq!(op("POST", "/b?delete"), Operation::DeleteObjects);
        assert_eq!(op("PUT", "/b/k?x-id=PutObject"), Operation::PutObject);
        assert_eq!(
            op("PUT", "/b/k?partNumber=1&uploadId=u"),
            Operation::UploadPart
        );
        assert_eq!(op("POST", "/b/k?uploads"), Operation::CreateMultipartUpload);
        assert_eq!(
            op("POST", "/b/k?uploadId=u"),
            Operation::CompleteMultipartUpload
        );
        assert_eq!(
            op("DELETE", "/b/k?uploadId=u"),
            Operation::AbortMultipartUpload
        );
        assert_eq!(op("GET", "/b/k?uploadId=u"), Operation::ListParts);
        assert_eq!(op("GET", "/b/k?tagging"), Operation::Unsupported);
    }

    #[test]
    fn ranges_as_s3_reads_them() {
        assert_eq!(parse_range("bytes=0-4", 10), RangeSpec::Satisfiable(0, 4));
        assert_eq!(parse_range("bytes=5-", 10), RangeSpec::Satisfiable(5, 9));
        assert_eq!(parse_range("bytes=-3", 10), RangeSpec::Satisfiable(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), RangeSpec::Satisfiable(0, 9));
        assert_eq!(parse_range("bytes=8-100", 10), RangeSpec::Satisfiable(8, 9));
        assert_eq!(parse_range("bytes=10-", 10), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 10), RangeSpec::Ignored);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), RangeSpec::Ignored);
        assert_eq!(parse_range("items=0-1", 10), RangeSpec::Ignored);
    }

    #[test]
    fn every_operation_name_is_listed_in_actions() {
        use Operation as O;
        for op in [
            O::ListBuckets,
            O::CreateBucket,
            O::HeadBucket,
            O::DeleteBucket,
            O::GetBucketLocation,
            O::ListObjects,
            O::ListObjectsV2,
            O::DeleteObjects,
            O::PutObject,
            O::CopyObject,
            O::GetObject,
            O::HeadObject,
            O::DeleteObject,
            O::CreateMultipartUpload,
            O::UploadPart,
            O::CompleteMultipartUpload,
            O::AbortMultipartUpload,
            O::ListParts,
            O::Unsupported,
        ] {
            assert!(ACTIONS.contains(&op.name()), "{op:?}");
        }
        assert_eq!(ACTIONS.len(), 19);
        assert_eq!(action_of(&parts("PUT", "/b/k", "localhost")), "PutObject");
    }

    #[test]
    fn bucket_names() {
        for good in ["abc", "my-bucket.1", "a1b"] {
            assert!(valid_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            "ABC",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            &"a".repeat(64),
            "a_b",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }

    #[test]
    fn continuation_tokens_round_trip() {
        for marker in [Marker::Key("a/b".into()), Marker::Prefix("dir/".into())] {
            assert_eq!(Marker::decode(&marker.encode()), Some(marker));
        }
        assert_eq!(Marker::decode("not base64!"), None);
        assert_eq!(Marker::decode("eDp5"), None);
    }
}
