//! S3 REST on the mock's endpoint: routing (path-style and `bucket.localhost` virtual hosts),
//! authentication, payload decoding and the handlers for buckets, objects and multipart uploads.
//!
//! A request goes through the same steps S3 takes, in S3's order:
//! 1. the operation is told from the method, the target (bucket, key) and the query, so that
//!    every event names it (`PutObject`), failures included;
//! 2. SigV4 (`crate::auth`): the signature over the canonical request whose payload hash is
//!    the `x-amz-content-sha256` value as sent (a hex hash, `UNSIGNED-PAYLOAD` or a
//!    `STREAMING-…` form), then the session token's expiry on the simulated clock
//!    (`ExpiredToken`, 400 for S3), then skew or a presigned URL's `X-Amz-Expires`;
//! 3. the size cap, from the declared length before a byte is read, then from the bytes;
//! 4. the payload: a hex hash must match the body (`XAmzContentSHA256Mismatch`); aws-chunked
//!    bodies are decoded with every chunk signature and the trailer signature verified
//!    (`chunked`); `Content-MD5` and flexible checksums, as header or trailer, must match
//!    the decoded bytes (`checksum`);
//! 5. the handler, against the `store::Store` (memory or `--data-dir`) and the uploads in
//!    progress (`multipart`).
//!
//! Nothing is stored unless every check passed, and stored objects never contain chunk
//! framing. Buckets belong to the account that created them; other accounts get
//! `AccessDenied`, S3's default for private buckets.
//!
//! Modules, one concept each: `routing` tells the operation (step 1); `payload` reads and checks
//! the body (step 4); `bucket`, `listing`, `versions`, `object` and `multipart` serve the operations
//! (step 5); `headers` maps request headers to stored metadata and back; `conditional` judges
//! preconditions on writes; `completed` remembers finished uploads; `store`, `chunked`,
//! `checksum` and `xml` are the storage, framing, integrity and XML parts they share. This
//! file keeps the entry point, `handle`, the order of checks, and what every handler shares:
//! the request, its lookups and S3's error constructors.

mod bucket;
mod checksum;
pub(crate) mod chunked;
mod completed;
mod conditional;
mod headers;
mod listing;
mod multipart;
mod object;
mod payload;
mod routing;
pub(crate) mod store;
mod versions;
mod xml;

use std::time::SystemTime;

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use self::completed::Completed;
use self::multipart::Uploads;
pub(crate) use self::multipart::parse_complete;
pub(crate) use self::object::parse_delete;
pub use self::routing::Operation;
pub(crate) use self::routing::action_of;
use self::routing::{Query, Target, classify};
use self::store::{BucketMeta, Store, StoreError};
use crate::auth::{Authenticator, Permission, Rejection, Verified};
use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::events::SignedBy;
use crate::sigv4::{self, AuthKind};
use crate::state::MockState;

/// S3's largest single `PutObject` (5 GiB), the default `--max-object-size`.
pub(crate) const DEFAULT_MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// S3's longest key, bytes.
pub(crate) const MAX_KEY_BYTES: usize = 1024;
/// Most keys in one `DeleteObjects` and most entries in one listing page.
const MAX_KEYS: usize = 1000;

/// S3's state: objects, uploads in progress and the size cap.
#[derive(Debug)]
pub(crate) struct S3 {
    /// Buckets and objects.
    pub store: Store,
    /// Multipart uploads in progress.
    pub uploads: Uploads,
    /// Multipart uploads completed, for a resent `CompleteMultipartUpload`.
    pub completed: Completed,
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
    pub(crate) fn new(store: Store, max_object_size: u64) -> S3 {
        S3 {
            store,
            uploads: Uploads::default(),
            completed: Completed::default(),
            max_object_size,
        }
    }
}

/// What an S3 request produced, for the server to send and record.
#[derive(Debug)]
pub(crate) struct Handled {
    /// The S3 operation (`PutObject`, …), as events name it.
    pub action: Operation,
    /// Who signed it, when known.
    pub signed_by: Option<SignedBy>,
    /// The response, or the error to render.
    pub result: Result<Response, AwsError>,
}

/// Serves one S3 request (module docs for the order of checks).
pub(crate) async fn handle(
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
    let action = op;

    let authenticator = Authenticator {
        world: &state.world,
        authority: &state.authority,
        now,
        max_skew: state.config.max_skew,
        revocations: Some(&state.revocations),
        // S3 denies a revoked session with its plain `Access Denied`, naming nothing.
        permission: Permission::default(),
    };
    // A CORS preflight is unsigned; without `Origin` S3 refuses it before any authentication
    // (Eucalyptus's S3 `CorsPreflightNoOriginException`, "to match AWS's response").
    if parts.method == http::Method::OPTIONS && !parts.headers.contains_key(header::ORIGIN) {
        return Handled {
            action,
            signed_by: None,
            result: Err(s3_error(ErrorCode::BadRequest)
                .with_message("Insufficient information. Origin request header needed.")),
        };
    }
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
            Operation::ListObjectVersions => self.list_object_versions(),
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
}

// S3's error constructors, shared by every handler: codes only through `ErrorCode`.

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

fn unsupported_algorithm() -> AwsError {
    s3_error(ErrorCode::InvalidRequest).with_message(
        "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]",
    )
}
