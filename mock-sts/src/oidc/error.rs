//! Why a web identity token was refused: [`OidcError`], with the exact texts AWS STS sends.
//!
//! `Display` is the wire message and never carries detail; the fields do, for logs. Each
//! constant names the public captures of real STS answers it comes from, and says so where a text
//! is **UNCONFIRMED** against AWS.

/// `InvalidIdentityToken` for anything that does not parse as a JWT, and for an `alg` AWS does not
/// accept. Seen from real STS in a Vault log (`status code: 400, request id: f6ae9d75-…`, quoted in
/// a public blog repository), in the Amazon Cognito developer guide's troubleshooting section, and
/// copied verbatim by AWS-compatible servers (Eucalyptus `TokensService`). A Kubernetes project
/// records STS answering it for ECDSA-signed tokens before STS accepted ECDSA (2024-11-20), which
/// is why an unsupported `alg` gets it too.
pub const NOT_A_JWT_MESSAGE: &str = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)";

/// `InvalidIdentityToken` when STS cannot get the key that verifies the token: discovery or JWKS
/// unreachable, non-200, malformed, or the token's `kid` is not in the key set. Raw STS bodies in
/// awslabs/aws-sdk-rust#827 and aws/aws-cli#7194, and aws/aws-sdk-php#1725; the AWS knowledge
/// center article "iam-sts-invalididentitytoken" lists unreachable `.well-known`/`jwks_uri` and
/// latency over 5 s as causes. Note the two spaces after the comma: every raw capture has them.
/// A token signed with a key the issuer does not publish gets the same message (an OpenShift
/// post-mortem: cluster tokens signed with the wrong key).
pub const KEY_RETRIEVAL_MESSAGE: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/// `InvalidIdentityToken` when the signature does not verify with the token's key. Real STS output
/// quoted in a public write-up of Wiz's "Big IAM Challenge" (2025, challenge 6).
pub const BAD_SIGNATURE_MESSAGE: &str = "Token signature invalid";

/// `InvalidIdentityToken` when no `aud` is among the provider's client IDs. Real STS output in
/// awslabs/amazon-eks-irsa-cfn#18 and Atlassian's Bitbucket Pipelines troubleshooting article.
pub const INCORRECT_AUDIENCE_MESSAGE: &str = "Incorrect token audience";

/// `InvalidIdentityToken` for a missing or empty `sub`. **UNCONFIRMED** against AWS: taken from
/// Eucalyptus's AWS-compatible `TokensService`, whose other messages (`Incorrect token audience`,
/// `Token signature invalid`, the not-a-JWT text) match AWS's exactly.
pub const MISSING_SUBJECT_MESSAGE: &str = "Invalid token subject";

/// `InvalidIdentityToken` for an `nbf` or `iat` after `now`. **UNCONFIRMED** against AWS: taken
/// from Eucalyptus's `TokensService`, as [`MISSING_SUBJECT_MESSAGE`].
pub const NOT_YET_VALID_MESSAGE: &str = "Token not yet valid";

/// Why a web identity token was refused. `Display` is the exact message AWS STS sends; fields carry
/// detail for logs. [`OidcError::code`] and [`OidcError::status`] give the wire error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The token is not three base64url parts, its header or payload is not a JSON object, `iss`
    /// is not a string, `exp` is missing or not a number, or the header is otherwise unusable.
    #[error("{}", NOT_A_JWT_MESSAGE)]
    NotAJwt {
        /// What was wrong, for logs.
        reason: &'static str,
    },
    /// The header's `alg` is not RS256, RS384, RS512 or ES256 (`none` and `HS*` included). STS
    /// answers these with its not-a-JWT message (see [`NOT_A_JWT_MESSAGE`]).
    #[error("{}", NOT_A_JWT_MESSAGE)]
    UnsupportedAlgorithm {
        /// The `alg` the token named.
        alg: String,
    },
    /// No provider's URL matches the token's `iss`. Message from raw STS bodies in
    /// mozilla-iam/mozilla-aws-cli#127 and aws-actions/configure-aws-credentials#280/#721; AWS
    /// quotes `iss` exactly as the token has it (trailing slash included).
    #[error("No OpenIDConnect provider found in your account for {issuer}")]
    NoProvider {
        /// The token's `iss`.
        issuer: String,
    },
    /// Discovery failed: the issuer did not answer in time or at all, answered non-200, sent a body
    /// over [`MAX_DOCUMENT_BYTES`](super::MAX_DOCUMENT_BYTES), a document that is not JSON, no `jwks_uri`, or a JWKS that is
    /// not `{"keys": [...]}`. An inline JWKS that is not one fails the same way. AWS answers
    /// `InvalidIdentityToken` here, not `IDPCommunicationError` (see [`KEY_RETRIEVAL_MESSAGE`]).
    #[error("{}", KEY_RETRIEVAL_MESSAGE)]
    KeyRetrieval {
        /// The provider URL.
        issuer: String,
        /// What failed, for logs.
        reason: String,
    },
    /// The key set (after one refetch, for a discovered one) has no key with the token's `kid`
    /// that fits its `alg`, or, for a token without `kid`, no key of the right type at all.
    #[error("{}", KEY_RETRIEVAL_MESSAGE)]
    UnknownKey {
        /// The token's `kid`, if it had one.
        kid: Option<String>,
    },
    /// The key was found but the signature does not verify with it.
    #[error("{}", BAD_SIGNATURE_MESSAGE)]
    BadSignature,
    /// No `aud` value (string or array) is among the provider's client IDs; also a missing `aud`.
    #[error("{}", INCORRECT_AUDIENCE_MESSAGE)]
    IncorrectAudience,
    /// `sub` is missing, not a string, or empty.
    #[error("{}", MISSING_SUBJECT_MESSAGE)]
    MissingSubject,
    /// `exp <= now`. Message from raw STS output: aws/aws-sdk-java-v2#5709 (2024), envoyproxy
    /// tests (2025) and a Go SDK log (2025) all show a space before the second number. Captures
    /// from 2021 (awslabs/aws-orbit-workbench#707, #771, #890) lack it
    /// (`…date/time1626191469`); AWS has since fixed that, and this follows the current form.
    #[error(
        "Token expired: current date/time {now} must be before the expiration date/time {expires_at}"
    )]
    Expired {
        /// `now` in Unix seconds.
        now: i64,
        /// The token's `exp`.
        expires_at: i64,
    },
    /// `nbf` or `iat` is after `now` (no leeway).
    #[error("{}", NOT_YET_VALID_MESSAGE)]
    NotYetValid {
        /// `"nbf"` or `"iat"`.
        claim: &'static str,
        /// The claim's value in Unix seconds.
        value: i64,
        /// `now` in Unix seconds.
        now: i64,
    },
    /// The provider has no inline keys and its URL is not `http://`: this mock does not speak TLS
    /// to issuers. A limit of the mock, not AWS behaviour; it reports `IDPCommunicationError`
    /// ("the identity provider could not be reached") with a message that says what to do.
    #[error(
        "The identity provider {url} could not be reached: the mock STS fetches OIDC discovery \
         only over plain http://, so give this provider's keys inline as jwks in the world file"
    )]
    IssuerNeedsInlineKeys {
        /// The URL it would have had to fetch.
        url: String,
    },
}

impl OidcError {
    pub(super) const NEEDS_INLINE_KEYS: &'static str =
        "the mock fetches OIDC discovery only over plain http://; give its keys inline as jwks";

    /// The STS error code: `InvalidIdentityToken`, `ExpiredTokenException` or
    /// `IDPCommunicationError`. (`IDPRejectedClaim`, HTTP 403, is what AWS answers when an OAuth
    /// provider such as Facebook rejects an access token; JWT verification never produces it.)
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "ExpiredTokenException",
            Self::IssuerNeedsInlineKeys { .. } => "IDPCommunicationError",
            Self::NotAJwt { .. }
            | Self::UnsupportedAlgorithm { .. }
            | Self::NoProvider { .. }
            | Self::KeyRetrieval { .. }
            | Self::UnknownKey { .. }
            | Self::BadSignature
            | Self::IncorrectAudience
            | Self::MissingSubject
            | Self::NotYetValid { .. } => "InvalidIdentityToken",
        }
    }

    /// The HTTP status STS sends with [`OidcError::code`]: 400 for all three codes
    /// (aws-facts §2; `ExpiredTokenException` 400 in aws/aws-sdk-java-v2#5709).
    pub fn status(&self) -> u16 {
        400
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn codes_and_statuses_match_sts() {
        let expired = OidcError::Expired {
            now: 2,
            expires_at: 1,
        };
        assert_eq!(
            (expired.code(), expired.status()),
            ("ExpiredTokenException", 400)
        );
        let tls = OidcError::IssuerNeedsInlineKeys { url: ISSUER.into() };
        assert_eq!((tls.code(), tls.status()), ("IDPCommunicationError", 400));
        assert_eq!(OidcError::BadSignature.code(), "InvalidIdentityToken");
    }
}
