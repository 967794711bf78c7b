//! Payload decoding: reads a request body under its size limit, undoes its framing and checks
//! its integrity, so that handlers only ever see verified object bytes.
//!
//! The body's form comes from `x-amz-content-sha256` as sent: a hex hash must match the bytes
//! (`XAmzContentSHA256Mismatch`), `UNSIGNED-PAYLOAD` is taken as is, and `STREAMING-…` bodies
//! are aws-chunked, decoded with every chunk and trailer signature verified ([`super::chunked`]).
//! `Content-MD5` and flexible checksums, as header or trailer, are checked against the decoded
//! bytes ([`super::checksum`]) by the handlers that take data, since which checks apply is
//! theirs to say. Chunk framing never reaches a handler, so it is never stored.

use axum::body::Body;
use bytes::Bytes;

use super::checksum::{self, Checksum, Declared};
use super::chunked::{self, ChunkError, ChunkVerifier, PayloadForm};
use super::routing::Operation;
use super::{Request, entity_too_large, header_str, invalid_argument, s3_error};
use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::limits::BodyError;
use crate::sigv4;
use crate::state::MAX_BODY_BYTES;

/// A request body after framing and integrity checks.
pub(super) struct Payload {
    pub(super) data: Bytes,
    pub(super) trailers: Vec<(String, String)>,
}

impl Request<'_> {
    /// The object size the request declares: `x-amz-decoded-content-length` for aws-chunked
    /// bodies, else `Content-Length`.
    pub(super) fn declared_size(&self) -> Option<u64> {
        header_str(self.headers(), "x-amz-decoded-content-length")
            .or_else(|| header_str(self.headers(), "content-length"))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Reads, de-frames and checks the body.
    pub(super) async fn payload(&self, op: Operation, body: Body) -> Result<Payload, AwsError> {
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
            // Stalled (RequestTimeout), short (IncompleteBody) or over the upload memory
            // budget (SlowDown): `crate::limits`.
            Err(e) => {
                return Err(BodyError::find(&e).map_or_else(
                    || s3_error(ErrorCode::IncompleteBody),
                    |b| b.to_aws_error(Service::S3),
                ));
            }
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
    pub(super) fn verify_checksums(&self, payload: &Payload) -> Result<Option<Checksum>, AwsError> {
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
