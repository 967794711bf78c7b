//! Why a SigV4 signature was refused: [`SigV4Error`] and the texts AWS answers with.
//!
//! `Display` of every variant is the message AWS sends, so a handler never writes its own; the
//! caller picks the code for the service that raised it (each variant notes it). The constants
//! here are the texts S3 and STS use where a variant alone cannot say which service answered.
//! `Debug` redacts the session token that a canonical request can carry: errors reach logs.

use std::fmt;

use super::TERMINATOR;

/// STS's (and every Coral service's) text for a wrong signature (aws-facts §2; moto tests;
/// mhart/dynalite `index.js` quoting DynamoDB). Many Coral services append the canonical
/// request and string to sign; whether STS's `<Message>` does is unconfirmed, so the mock
/// does not (S3 puts the two strings in elements of their own).
pub(crate) const SIGNATURE_DOES_NOT_MATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
/// S3's text (code `InvalidRequest`, 400) for an `Authorization` that is not
/// `AWS4-HMAC-SHA256`, e.g. SigV2 on a SigV4-only region (an aws-sdk-php
/// `InvalidRequestException` log in public code; s3tools/s3cmd matches on this exact text).
pub(crate) const S3_UNSUPPORTED_AUTHORIZATION_MESSAGE: &str =
    "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.";
/// S3's text (code `InvalidArgument`, 400) when a request carries both an `Authorization`
/// header and `X-Amz-Algorithm` (many public reports of presigned S3 URLs fetched with a
/// bearer token, e.g. GitHub release assets).
pub(crate) const S3_CONFLICTING_AUTH_MESSAGE: &str = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified";
/// S3's text (code `AuthorizationQueryParametersError`, 400) for a presigned URL missing any of
/// its six parameters; unlike Coral, S3 requires `X-Amz-Expires` (minio, swift `s3api`).
pub(crate) const S3_QUERY_PARAMETERS_MISSING_MESSAGE: &str = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.";
/// S3's text (code `AuthorizationQueryParametersError`, 400) for a presigned URL whose
/// `X-Amz-Algorithm` is not `AWS4-HMAC-SHA256` (minio; S3-compatible servers agree).
pub(crate) const S3_QUERY_ALGORITHM_MESSAGE: &str =
    "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"";

/// Why a request's SigV4 signature was refused. `Display` is the message AWS sends; the caller
/// picks the code (noted on each variant) for the service that raised it.
#[derive(thiserror::Error, Clone, PartialEq, Eq)]
pub(crate) enum SigV4Error {
    /// The signature is incomplete or malformed: a required `Authorization` parameter, date or
    /// presigned query parameter is missing, a parameter is not `key=value`, or the credential
    /// does not have five parts. Code `IncompleteSignature`, 400 (STS and Coral services).
    /// Messages are AWS's, e.g. `Authorization header requires 'Signature' parameter.
    /// Authorization=AWS4-HMAC-SHA256 Credential=…`.
    #[error("{0}")]
    Incomplete(String),
    /// The `Authorization` header (or `X-Amz-Algorithm`) names an algorithm other than
    /// `AWS4-HMAC-SHA256`: SigV2 `AWS AKID:sig`, SigV4a `AWS4-ECDSA-P256-SHA256`, `Bearer …`.
    /// Code `IncompleteSignature`, 400, as Coral answers. Coral checks the parameters before the
    /// algorithm, so the message is the first complaint it would make: usually `Authorization
    /// header requires 'Credential' parameter. … Authorization=AWS AKID:sig=` (the text
    /// CloudFront sent a SigV2 client, aws/aws-sdk-ruby#317), and for a well-formed header
    /// `Unsupported AWS 'algorithm': 'X' (only AWS4-HMAC-SHA256 for now). ` (DynamoDB, recorded
    /// in mhart/dynalite). S3 answers `InvalidRequest` with
    /// [`S3_UNSUPPORTED_AUTHORIZATION_MESSAGE`] (or [`S3_QUERY_ALGORITHM_MESSAGE`] presigned).
    #[error("{0}")]
    UnsupportedAlgorithm(String),
    /// `X-Amz-Date` (or `Date`) does not parse. Code `IncompleteSignature`, 400:
    /// `Date must be in ISO-8601 'basic format'. Got '…'. See http://en.wikipedia.org/wiki/ISO_8601`
    /// (DynamoDB, recorded in mhart/dynalite).
    #[error("{0}")]
    BadDate(String),
    /// The credential scope date is not the day of the request time. Code
    /// `SignatureDoesNotMatch`, 403 for STS. Message as DynamoDB sent it (mhart/dynalite): `Date
    /// in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP:
    /// '<scope>' != '<day>', from '<amz_date>'.`; [`ParsedSignature::scope_error_message`](super::ParsedSignature::scope_error_message)
    /// builds the combined message when the region or service are also wrong.
    #[error("{}", scope_date_message(.scope_date, .amz_date))]
    ScopeDateMismatch {
        /// The date in the credential scope.
        scope_date: String,
        /// The request time in basic format (`X-Amz-Date`, or the converted `Date`).
        amz_date: String,
    },
    /// The credential scope does not end in `aws4_request`. Code `SignatureDoesNotMatch`, 403
    /// for STS, with Coral's `Credential should be scoped with a valid terminator:
    /// 'aws4_request', not '<terminator>'.` (scratchstack-aws-signature, mhart/dynalite). S3
    /// calls the credential malformed: `AuthorizationHeaderMalformed` (header) or
    /// `AuthorizationQueryParametersError` (presigned), 400. The terminator is part of the
    /// string to sign only as the constant, so without this check any terminator would verify.
    #[error("Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{0}'.")]
    BadTerminator(String),
    /// `X-Amz-Expires` is not a number, negative, or over a week. S3 code
    /// `AuthorizationQueryParametersError`, 400, with S3's messages (`X-Amz-Expires should be a
    /// number`, `… must be non-negative`, `… must be less than a week …`). Zero is accepted, as
    /// S3 does: such a URL is simply expired (the caller's `Request has expired`).
    #[error("{0}")]
    BadExpires(String),
    /// The signature does not match. Code `SignatureDoesNotMatch` (403). `Display` is STS's
    /// text; the fields let an S3 error carry `CanonicalRequest`, `StringToSign` and
    /// `SignatureProvided`. `Debug` redacts the session token inside them.
    #[error("{}", SIGNATURE_DOES_NOT_MATCH_MESSAGE)]
    SignatureDoesNotMatch {
        /// The canonical request computed from what was received.
        canonical_request: String,
        /// The string to sign computed from it.
        string_to_sign: String,
        /// The signature the client sent.
        signature_provided: String,
    },
    /// A header named in `SignedHeaders` is not in the request (the value is its name). AWS
    /// leaves the line out and answers `SignatureDoesNotMatch` (403) with the generic text,
    /// which is this variant's `Display`.
    #[error("{}", SIGNATURE_DOES_NOT_MATCH_MESSAGE)]
    MissingSignedHeader(String),
    /// `SignedHeaders` does not include `host`. Coral answers `InvalidSignatureException`
    /// (JSON services), i.e. `SignatureDoesNotMatch` (403) for STS, with `'Host' or ':authority'
    /// must be a 'SignedHeader' in the AWS Authorization.` S3's answer is unconfirmed.
    #[error("{0}")]
    HostNotSigned(String),
    /// The request carries both an `Authorization` header and an `X-Amz-Algorithm` query
    /// parameter. Coral answers `InvalidSignatureException` (JSON services; the awsQuery code,
    /// presumably `SignatureDoesNotMatch`, is unconfirmed) with `Found both 'X-Amz-Algorithm' as
    /// a query-string param and 'Authorization' as HTTP header.`; S3 answers `InvalidArgument`
    /// (400) with [`S3_CONFLICTING_AUTH_MESSAGE`].
    #[error("{0}")]
    ConflictingAuth(String),
}

impl fmt::Debug for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete(m) => f.debug_tuple("Incomplete").field(m).finish(),
            Self::UnsupportedAlgorithm(m) => {
                f.debug_tuple("UnsupportedAlgorithm").field(m).finish()
            }
            Self::BadDate(m) => f.debug_tuple("BadDate").field(m).finish(),
            Self::ScopeDateMismatch {
                scope_date,
                amz_date,
            } => f
                .debug_struct("ScopeDateMismatch")
                .field("scope_date", scope_date)
                .field("amz_date", amz_date)
                .finish(),
            Self::BadTerminator(t) => f.debug_tuple("BadTerminator").field(t).finish(),
            Self::BadExpires(m) => f.debug_tuple("BadExpires").field(m).finish(),
            Self::SignatureDoesNotMatch {
                canonical_request,
                string_to_sign,
                signature_provided,
            } => f
                .debug_struct("SignatureDoesNotMatch")
                .field("canonical_request", &redact_token(canonical_request))
                .field("string_to_sign", string_to_sign)
                .field("signature_provided", signature_provided)
                .finish(),
            Self::MissingSignedHeader(h) => f.debug_tuple("MissingSignedHeader").field(h).finish(),
            Self::HostNotSigned(m) => f.debug_tuple("HostNotSigned").field(m).finish(),
            Self::ConflictingAuth(m) => f.debug_tuple("ConflictingAuth").field(m).finish(),
        }
    }
}

/// Replaces the session token in a canonical request (header line or query parameter).
fn redact_token(canonical_request: &str) -> String {
    const HEADER: &str = "x-amz-security-token:";
    const PARAM: &str = "X-Amz-Security-Token=";
    canonical_request
        .split('\n')
        .map(|line| {
            if line.starts_with(HEADER) {
                format!("{HEADER}** redacted **")
            } else if line.contains(PARAM) {
                line.split('&')
                    .map(|pair| {
                        if pair.starts_with(PARAM) {
                            format!("{PARAM}** redacted **")
                        } else {
                            pair.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("&")
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(super) fn scope_date_message(scope_date: &str, amz_date: &str) -> String {
    format!(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{amz_date}'.",
        request_day(amz_date)
    )
}

/// `YYYYMMDD` of a basic-format timestamp (the whole string if it is shorter).
pub(super) fn request_day(amz_date: &str) -> &str {
    amz_date.get(..8).unwrap_or(amz_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_session_token() {
        let err = SigV4Error::SignatureDoesNotMatch {
            canonical_request: "GET\n/\nX-Amz-Date=1&X-Amz-Security-Token=s3cr3t&a=b\nhost:h\nx-amz-security-token:s3cr3t\n\nhost;x-amz-security-token\nUNSIGNED-PAYLOAD".to_owned(),
            string_to_sign: String::new(),
            signature_provided: String::new(),
        };
        let debug = format!("{err:?}");
        assert!(!debug.contains("s3cr3t"), "{debug}");
        assert!(
            debug.contains("X-Amz-Date=1") && debug.contains("a=b"),
            "{debug}"
        );
    }
}
