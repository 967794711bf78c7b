//! Rule 5 of the specification, on the client side: an SDK interceptor that sees a server
//! refuse a request's credentials as expired or invalid and drops them from the
//! [`SpecRefresh`] cache, so the next call fetches a new set (aws-facts §6.8 "invalidation on
//! an auth failure that proves the credentials bad"; smithy-rs #4766's identity-cache
//! invalidation, Go v2's `InvalidateCredentials(rejected)`).
//!
//! It is generic over every operation of every client: the SDK's typed errors differ per
//! operation, so it reads the wire instead — the access key that signed the attempt from its
//! `Authorization` header before it is sent, and the error `<Code>` of the XML body after it
//! is read (STS's `ErrorResponse` and S3's `Error` both carry one). A refusal without a body
//! (an S3 `HEAD`) is not seen. `AccessDenied` is not a proof: a policy, not the credentials,
//! may be at fault (and revoked sessions get it, scenario 36).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use mock_sts::aws_error::ErrorCode;

use super::SpecRefresh;

/// The error codes that prove the credentials that signed a request bad, as AWS spells them
/// (aws-facts §2 and §3): STS's and S3's expired session token (`ExpiredToken`), the
/// `…Exception` form JSON services use, an unknown key or token (`InvalidClientTokenId` from
/// STS, `InvalidAccessKeyId` and `InvalidToken` from S3). `AccessDenied` is not one: a policy
/// may be at fault (a revoked session gets it too, and the client cannot tell the two apart).
/// The conformance rule `invalidate-on-auth-failure` judges by the same list.
pub const REJECTION_CODES: [ErrorCode; 5] = [
    ErrorCode::ExpiredToken,
    ErrorCode::ExpiredTokenException,
    ErrorCode::InvalidClientTokenId,
    ErrorCode::InvalidAccessKeyId,
    ErrorCode::InvalidToken,
];
/// The interceptor: add it to every client whose credentials provider is the cache.
#[derive(Debug, Clone)]
pub struct InvalidateOnRejection {
    cache: SpecRefresh,
}

impl InvalidateOnRejection {
    /// An interceptor that invalidates `cache`.
    pub fn new(cache: SpecRefresh) -> Self {
        InvalidateOnRejection { cache }
    }
}

/// The access key that signed the current attempt.
#[derive(Debug, Clone)]
struct SignedWith(String);

impl Storable for SignedWith {
    type Storer = StoreReplace<Self>;
}

impl Intercept for InvalidateOnRejection {
    fn name(&self) -> &'static str {
        "InvalidateOnRejection"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let akid = context
            .request()
            .headers()
            .get("authorization")
            .and_then(signing_access_key);
        match akid {
            Some(akid) => cfg
                .interceptor_state()
                .store_put(SignedWith(akid.to_string())),
            None => cfg.interceptor_state().unset::<SignedWith>(),
        };
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if context.output_or_error().is_ok() {
            return Ok(());
        }
        let Some(SignedWith(akid)) = cfg.load::<SignedWith>() else {
            return Ok(());
        };
        let response = context.response();
        if !matches!(response.status().as_u16(), 400 | 403) {
            return Ok(());
        }
        let code = response.body().bytes().and_then(error_code);
        if let Some(code) = code.filter(|c| REJECTION_CODES.iter().any(|r| r.as_str() == *c)) {
            let dropped = self.cache.invalidate(akid);
            tracing::debug!(code, dropped, "credentials refused");
        }
        Ok(())
    }
}

/// The access key id of a SigV4 `Authorization` header (`… Credential=AKID/date/region/…`).
fn signing_access_key(authorization: &str) -> Option<&str> {
    let (_, rest) = authorization.split_once("Credential=")?;
    let (akid, _) = rest.split_once('/')?;
    (!akid.is_empty()).then_some(akid)
}

/// The first `<Code>` of an AWS XML error body.
fn error_code(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, rest) = text.split_once("<Code>")?;
    let (code, _) = rest.split_once("</Code>")?;
    Some(code.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_key_is_read_from_a_sigv4_header() {
        let header = "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(signing_access_key(header), Some("ASIAEXAMPLE"));
        assert_eq!(signing_access_key("Bearer token"), None);
        assert_eq!(signing_access_key("AWS4-HMAC-SHA256 Credential=/x"), None);
    }

    #[test]
    fn the_code_is_read_from_sts_and_s3_error_bodies() {
        let sts = b"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>1</RequestId></ErrorResponse>\n";
        assert_eq!(error_code(sts), Some("ExpiredToken"));
        let s3 = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidToken</Code><Message>The provided token is malformed or otherwise invalid.</Message></Error>";
        assert_eq!(error_code(s3), Some("InvalidToken"));
        assert_eq!(error_code(b""), None);
        assert_eq!(error_code(b"<Code>unterminated"), None);
        assert_eq!(error_code(&[0xff, 0xfe]), None);
    }
}
