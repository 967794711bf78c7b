//! SigV4 parsing and verification: rebuilds the canonical request from exactly what was received
//! and checks the signature.
//!
//! A mock that real SDKs cannot tell from AWS must accept every request they sign and refuse
//! everything AWS refuses, with AWS's own words. So this module never re-serialises a request
//! through a framework: the canonical request is built from the raw path, the raw query and the
//! header values as they arrived, following `aws-sigv4` 1.6 (the Rust SDK's signer) rule for rule.
//! Where `aws-sigv4` and AWS's documentation disagree, the comment at that spot says which side
//! was taken and why.
//!
//! What it does not do: look up secrets, check that a session token is valid or expired, or check
//! clock skew. [`parse`] hands the caller the access key, the token and the request time
//! ([`ParsedSignature::request_time`]) so it can do those in AWS's order (skew before the scope,
//! the key before the signature), then [`verify`] checks the scope date and the signature.
//!
//! Invariants:
//! - No input panics: every slice of received text is taken with `get`, and every failure is a
//!   [`SigV4Error`] carrying the message AWS sends for it.
//! - Signatures are compared in constant time ([`subtle`]).
//! - The session token never reaches `Debug` output (of [`ParsedSignature`] or [`SigV4Error`]).
//!
//! The error messages come from real AWS responses quoted in public code and issues: the Coral
//! front end shared by STS and the JSON services (mhart/dynalite and mhart/kinesalite record
//! them next to the raw JSON AWS sent; dacut/scratchstack-aws-signature documents the same
//! texts and their order), and S3's messages from S3-compatible servers' test suites
//! (openstack/swift `s3api`, minio). Each constant names its source.
//!
//! The parts, one concept each: `signature` (what a parsed signature holds), `parser` (the
//! `Authorization` header and the presigned query, read in Coral's order), `canonical` (the
//! canonical request: path, query, headers), `signing` (strings to sign, the signing key,
//! hashes), `verification` (the scope and signature checks) and `error` (every refusal, with
//! AWS's texts). Everything public is re-exported here, so callers name `sigv4::…` only.

mod canonical;
mod error;
mod key_cache;
mod parser;
mod signature;
mod signing;
#[cfg(test)]
mod test_support;
mod verification;

pub(crate) use canonical::{PathRule, canonical_request, canonical_trailers};
pub(crate) use error::{
    S3_CONFLICTING_AUTH_MESSAGE, S3_QUERY_ALGORITHM_MESSAGE, S3_QUERY_PARAMETERS_MISSING_MESSAGE,
    S3_UNSUPPORTED_AUTHORIZATION_MESSAGE, SigV4Error,
};
pub(crate) use parser::parse;
pub(crate) use signature::{AuthKind, CredentialScope, ParsedSignature};
pub(crate) use signing::{
    chunk_string_to_sign, hex_sha256, hmac_hex, lower_hex, signing_key, string_to_sign,
    trailer_string_to_sign,
};
pub(crate) use verification::verify;

/// The only algorithm this module verifies.
pub(crate) const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Algorithm line of an aws-chunked chunk signature (S3 streaming SigV4 docs,
/// `sigv4-streaming.html`; aws-sigv4 `sign::v4::sign_chunk`).
pub(crate) const CHUNK_ALGORITHM: &str = "AWS4-HMAC-SHA256-PAYLOAD";
/// Algorithm line of an aws-chunked trailer signature (S3 docs `sigv4-streaming-trailers.html`;
/// aws-sigv4 `sign::v4::sign_trailer`).
pub(crate) const TRAILER_ALGORITHM: &str = "AWS4-HMAC-SHA256-TRAILER";
/// The credential scope terminator.
pub(crate) const TERMINATOR: &str = "aws4_request";
/// Payload hash of a request whose body is not signed (S3, and every presigned S3 URL).
pub(crate) const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// Payload hash of an aws-chunked body with chunk signatures and no trailer.
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// Payload hash of an aws-chunked body with chunk signatures and a signed trailer.
pub const STREAMING_PAYLOAD_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// Payload hash of an aws-chunked body without chunk signatures, with an unsigned trailer.
pub const STREAMING_UNSIGNED_PAYLOAD_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
/// SHA-256 of the empty string, hex: the payload hash of an empty body.
pub(crate) const EMPTY_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// Longest presigned lifetime AWS accepts: one week (S3 SigV4 query-auth docs; botocore and
/// aws-sigv4 refuse to presign longer).
pub(crate) const MAX_PRESIGNED_EXPIRES_SECONDS: u64 = 604_800;
