//! The parsers and verifiers the workspace's benches and fuzz targets call directly, below the
//! HTTP API. Not part of the API: no stability promise, hidden from the docs. Parsers whose
//! results are private types are wrapped so that only a count or the AWS error comes out.

pub use crate::auth::{Authenticator, Verified};
pub use crate::s3::chunked::{ChunkVerifier, decode as decode_chunked};
pub use crate::sigv4::{
    STREAMING_PAYLOAD, STREAMING_PAYLOAD_TRAILER, STREAMING_UNSIGNED_PAYLOAD_TRAILER,
};

use crate::aws_error::AwsError;

/// STS's strict form decoding (a POST body or a query): the number of distinct parameters.
///
/// # Errors
/// `MalformedQueryString`, as STS answers.
pub fn parse_sts_form(raw: &[u8]) -> Result<usize, AwsError> {
    crate::sts::Params::parse(raw).map(|p| p.len())
}

/// A `CompleteMultipartUpload` document: the number of parts it lists.
///
/// # Errors
/// `MalformedXML`, as S3 answers.
pub fn parse_complete_multipart_upload(body: &[u8]) -> Result<usize, AwsError> {
    crate::s3::parse_complete(body).map(|parts| parts.len())
}

/// A `DeleteObjects` document: the number of objects it names.
///
/// # Errors
/// `MalformedXML`, as S3 answers.
pub fn parse_delete_objects(body: &[u8]) -> Result<usize, AwsError> {
    crate::s3::parse_delete(body).map(|delete| delete.objects.len())
}
