//! What a parsed, not yet verified, SigV4 signature holds: [`ParsedSignature`], its
//! [`CredentialScope`] and where it travelled ([`AuthKind`]).
//!
//! It is the hand-off between parsing and verification: the caller reads the access key, the
//! token and the request time from it to look up the secret and check skew and expiry in AWS's
//! order before [`verify`](super::verify) runs. `Debug` never shows the session token.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::error::{request_day, scope_date_message};
use super::{TERMINATOR, hex_sha256};

/// Where the signature travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
    Header,
    /// A presigned URL: `X-Amz-Algorithm`, `X-Amz-Credential`, … in the query string.
    Presigned,
}

/// The credential scope `DATE/REGION/SERVICE/TERMINATOR` as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    /// `YYYYMMDD` as the client wrote it (compared with the request date by [`verify`](super::verify)).
    pub date: String,
    /// The region the client signed for.
    pub region: String,
    /// The signing name the client signed for (`sts`, `s3`, …).
    pub service: String,
    /// Should be `aws4_request`.
    pub terminator: String,
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.date, self.region, self.service, self.terminator
        )
    }
}

/// A parsed, not yet verified, SigV4 signature.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedSignature {
    /// Header or presigned.
    pub kind: AuthKind,
    /// The access key ID from the credential.
    pub access_key_id: String,
    /// The rest of the credential.
    pub scope: CredentialScope,
    /// Lower-case header names, in the order given (a client that did not sort them simply
    /// fails to verify, as with AWS).
    pub signed_headers: Vec<String>,
    /// The signature as received (lower-case hex expected).
    pub signature: String,
    /// The raw `X-Amz-Date` (header, or query for presigned URLs), or failing that the `Date`
    /// header converted to the basic format; the string to sign uses it verbatim.
    pub amz_date: String,
    /// The request time, for the caller's skew and expiry checks.
    pub request_time: SystemTime,
    /// Presigned `X-Amz-Expires`, seconds (0..=604800); `None` for header auth or when absent.
    /// Coral services do not require it; S3 does ([`S3_QUERY_PARAMETERS_MISSING_MESSAGE`](super::S3_QUERY_PARAMETERS_MISSING_MESSAGE)).
    pub expires_seconds: Option<u64>,
    /// `X-Amz-Security-Token`: header, else query parameter (the query first for presigned
    /// URLs). Whether it is signed is the signature's business.
    pub security_token: Option<String>,
    /// The `x-amz-content-sha256` header if present; otherwise `UNSIGNED-PAYLOAD` for presigned
    /// URLs (S3's rule) and the empty string for header auth. An empty value means the caller
    /// must hash the body ([`ParsedSignature::payload_hash_for`]); non-S3 presigned URLs also
    /// sign the body hash (botocore `SigV4QueryAuth`, the `post-x-www-form-urlencoded` vector).
    pub payload_hash: String,
}

impl fmt::Debug for ParsedSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedSignature")
            .field("kind", &self.kind)
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.scope)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &self.signature)
            .field("amz_date", &self.amz_date)
            .field("request_time", &self.request_time)
            .field("expires_seconds", &self.expires_seconds)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "** redacted **"),
            )
            .field("payload_hash", &self.payload_hash)
            .finish()
    }
}

impl ParsedSignature {
    /// The payload hash to verify with: the `x-amz-content-sha256` value (or
    /// `UNSIGNED-PAYLOAD` for a presigned URL) when there is one, else the hash of `body`.
    pub fn payload_hash_for(&self, body: &[u8]) -> String {
        if self.payload_hash.is_empty() {
            hex_sha256(body)
        } else {
            self.payload_hash.clone()
        }
    }

    /// When a presigned URL stops being valid: request time plus `X-Amz-Expires`.
    pub fn presigned_expiry(&self) -> Option<SystemTime> {
        let seconds = self.expires_seconds?;
        self.request_time.checked_add(Duration::from_secs(seconds))
    }

    /// The `DATE/REGION/SERVICE/aws4_request` line of the string to sign.
    pub fn scope_line(&self) -> String {
        let mut out = String::with_capacity(64);
        self.push_scope_line(&mut out);
        out
    }

    /// [`ParsedSignature::scope_line`], appended to `out`.
    pub fn push_scope_line(&self, out: &mut String) {
        for part in [&self.scope.date, &self.scope.region, &self.scope.service] {
            out.push_str(part);
            out.push('/');
        }
        out.push_str(TERMINATOR);
    }

    /// AWS's message when the scope does not fit this endpoint: each failed check adds its
    /// sentence, in AWS's order (region, service, terminator, date), joined by spaces. `None`
    /// when all four fit. STS answers it as `SignatureDoesNotMatch` (403); the order and texts
    /// are Coral's (mhart/dynalite `index.js`, scratchstack-aws-signature).
    pub fn scope_error_message(&self, region: &str, service: &str) -> Option<String> {
        let mut errors = Vec::new();
        if self.scope.region != region {
            errors.push(format!(
                "Credential should be scoped to a valid region, not '{}'.",
                self.scope.region
            ));
        }
        if self.scope.service != service {
            errors.push(format!(
                "Credential should be scoped to correct service: '{service}'."
            ));
        }
        if self.scope.terminator != TERMINATOR {
            errors.push(format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
                self.scope.terminator
            ));
        }
        if self.scope.date != request_day(&self.amz_date) {
            errors.push(scope_date_message(&self.scope.date, &self.amz_date));
        }
        (!errors.is_empty()).then(|| errors.join(" "))
    }
}
