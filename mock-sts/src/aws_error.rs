//! The one wire error type: [`AwsError`] renders itself as STS's `ErrorResponse` or S3's
//! `<Error>`, with the status, code and message AWS uses for that service.
//!
//! The same fault has different shapes per service (an expired token is STS 403 "The security
//! token included in the request is expired" but S3 400 "The provided token has expired."), so
//! an error is built from a [`Service`] and an [`ErrorCode`], and the pair picks the defaults
//! from aws-facts.md §2–3. Handlers never spell codes as string literals.

use std::fmt;

use axum::response::{IntoResponse, Response};
use http::{HeaderName, HeaderValue, StatusCode, header};

use crate::xml::escape;

/// The AWS service whose wire format a response uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// STS query protocol: `text/xml`, `ErrorResponse`, `x-amzn-requestid`.
    Sts,
    /// S3 REST-XML: `application/xml`, `<Error>`, `x-amz-request-id`, `Server: AmazonS3`.
    S3,
    /// EC2 instance metadata and the container credential endpoint (plain text / JSON).
    Imds,
    /// The mock's own control API under `/_mock/` (JSON).
    Control,
}

impl Service {
    /// Lower-case name used in events and logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            Service::Sts => "sts",
            Service::S3 => "s3",
            Service::Imds => "imds",
            Service::Control => "control",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// An AWS error code, spelled exactly as AWS spells it on the wire.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode { $($(#[$doc])* $name),* }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$name),*];

            /// The code as it appears in `<Code>`.
            pub fn as_str(&self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name)),* }
            }

            /// The code AWS spells `name`, if the mock knows it (fault rules name codes).
            pub fn from_name(name: &str) -> Option<ErrorCode> {
                match name { $(stringify!($name) => Some(ErrorCode::$name),)* _ => None }
            }
        }
    };
}

error_codes! {
    /// The session token has expired (STS 403, S3 400).
    ExpiredToken,
    /// Unknown access key or invalid session token (STS).
    InvalidClientTokenId,
    /// Unknown access key (S3).
    InvalidAccessKeyId,
    /// Malformed or tampered session token (S3).
    InvalidToken,
    /// The signature does not match, or (STS) the request time is outside the allowed skew.
    SignatureDoesNotMatch,
    /// The Authorization header or presigned query is malformed (STS).
    IncompleteSignature,
    /// The request carries no signature at all (STS).
    MissingAuthenticationToken,
    /// The caller may not do this (e.g. an untrusted principal assuming a role).
    AccessDenied,
    /// A parameter failed validation (STS).
    ValidationError,
    /// The `Action` is unknown (STS).
    InvalidAction,
    /// The request has no `Action` (STS).
    MissingAction,
    /// The query string or form body cannot be parsed (STS).
    MalformedQueryString,
    /// A parameter value is invalid (STS).
    InvalidParameterValue,
    /// The web identity token is malformed, unverifiable or from an unknown provider.
    InvalidIdentityToken,
    /// The web identity token has expired.
    ExpiredTokenException,
    /// The OIDC provider could not be reached for its keys.
    #[allow(clippy::upper_case_acronyms)]
    IDPCommunicationError,
    /// The OIDC provider rejected the claim.
    #[allow(clippy::upper_case_acronyms)]
    IDPRejectedClaim,
    /// Instance metadata: no, an expired or an invalid IMDSv2 session token (401). IMDS sends
    /// no code on the wire, only a status page; the code names the page for events.
    Unauthorized,
    /// Instance metadata: a token request without a valid TTL header (400).
    BadRequest,
    /// Instance metadata: a token request through a proxy, `X-Forwarded-For` (403).
    Forbidden,
    /// The HTTP method is not allowed on this resource (405: S3, and the metadata endpoints).
    MethodNotAllowed,
    /// Container credentials: no credentials id in the path (ECS agent, 400).
    NoIdInRequest,
    /// Container credentials: an unknown credentials id (ECS agent, 400).
    InvalidIdInRequest,
    /// The caller is throttled (STS 400).
    Throttling,
    /// The caller is throttled (S3 503).
    SlowDown,
    /// The service is temporarily unavailable (STS and S3 503; a bare 503 from the metadata
    /// endpoints is recorded under this code too).
    ServiceUnavailable,
    /// STS is not activated in the caller's region for the account (STS 403).
    RegionDisabledException,
    /// A bare 429 from the metadata endpoints (fault injection; they send no code).
    TooManyRequests,
    /// A bare 502 from the metadata endpoints (fault injection; they send no code).
    BadGateway,
    /// A bare 504 from the metadata endpoints (fault injection; they send no code).
    GatewayTimeout,
    /// The request time is too far from the server's clock (S3).
    RequestTimeTooSkewed,
    /// The presigned-query authorization is malformed (S3).
    AuthorizationQueryParametersError,
    /// The Authorization header is malformed (S3).
    AuthorizationHeaderMalformed,
    /// The payload does not match `x-amz-content-sha256` (S3).
    XAmzContentSHA256Mismatch,
    /// The payload does not match `x-amz-content-sha256`, or (S3) a flexible checksum or
    /// `Content-MD5` does not match the payload.
    BadDigest,
    /// `Content-MD5` is not the base64 of 16 bytes (S3).
    InvalidDigest,
    /// The bucket does not exist (S3).
    NoSuchBucket,
    /// The key does not exist (S3).
    NoSuchKey,
    /// The caller already owns the bucket it asked to create (S3, outside us-east-1).
    BucketAlreadyOwnedByYou,
    /// Another account owns the bucket name (S3).
    BucketAlreadyExists,
    /// The bucket still holds objects (S3 `DeleteBucket`).
    BucketNotEmpty,
    /// The bucket name breaks S3's naming rules.
    InvalidBucketName,
    /// The `Range` cannot be satisfied (S3, 416).
    InvalidRange,
    /// The multipart upload id is unknown, aborted or completed (S3).
    NoSuchUpload,
    /// A part named in `CompleteMultipartUpload` was not uploaded or its ETag differs (S3).
    InvalidPart,
    /// The parts in `CompleteMultipartUpload` are not in ascending order (S3).
    InvalidPartOrder,
    /// A part other than the last is under 5 MiB (S3 `CompleteMultipartUpload`).
    EntityTooSmall,
    /// The object is over the size cap (S3).
    EntityTooLarge,
    /// The request XML is malformed or does not fit the schema (S3).
    MalformedXML,
    /// A trailer of an aws-chunked body is missing or malformed (S3).
    MalformedTrailerError,
    /// The body is shorter than declared, or its aws-chunked framing is cut off (S3).
    IncompleteBody,
    /// No piece of the request body arrived within the body timeout (S3 400; STS answers it in
    /// its own XML too, `crate::limits` says why).
    RequestTimeout,
    /// An argument is invalid (S3).
    InvalidArgument,
    /// The request is invalid as a whole (S3).
    InvalidRequest,
    /// The URI cannot be parsed, e.g. a key that is not UTF-8 (S3).
    InvalidURI,
    /// The key is longer than 1024 bytes (S3).
    KeyTooLongError,
    /// A request body (not an object) is over the size S3 reads (S3).
    MaxMessageLengthExceeded,
    /// An `If-Match`/`If-Unmodified-Since` condition did not hold (S3, 412).
    PreconditionFailed,
    /// A conditional write met a concurrent change of its key (S3, 409).
    ConditionalRequestConflict,
    /// A version id other than `null` in a bucket without versioning (S3, 404).
    NoSuchVersion,
    /// `CreateBucket` names `us-east-1` (or a region S3 does not know) as its location (S3).
    InvalidLocationConstraint,
    /// `CreateBucket` with an ACL that grants something, under bucket-owner-enforced ownership (S3).
    InvalidBucketAclWithObjectOwnership,
    /// An object ACL that grants something, on a bucket that does not allow ACLs (S3).
    AccessControlListNotSupported,
    /// The server failed (S3, 500).
    InternalError,
    /// The request uses something the mock does not implement.
    NotImplemented,
    /// The route does not exist.
    NotFound,
    /// A bug in the mock.
    InternalFailure,
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event's `error_code` is the code as AWS spells it, a plain JSON string: the event log's
/// wire format predates the enum and reports parse it.
impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The name is not an error code the mock knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error code `{0}`")]
pub struct UnknownErrorCode(pub String);

impl std::str::FromStr for ErrorCode {
    type Err = UnknownErrorCode;

    fn from_str(name: &str) -> Result<ErrorCode, UnknownErrorCode> {
        ErrorCode::from_name(name).ok_or_else(|| UnknownErrorCode(name.to_string()))
    }
}

/// An error as AWS would send it.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    /// The service whose wire format renders it.
    pub service: Service,
    /// The error code.
    pub code: ErrorCode,
    /// The human message, AWS's wording.
    pub message: String,
    /// The HTTP status.
    pub status: StatusCode,
    /// Extra elements S3 puts in `<Error>` (e.g. `Token-0`, `RequestTime`), in order.
    pub extra: Vec<(String, String)>,
    /// `Sender` or `Receiver` in STS's `<Type>`.
    pub fault: Fault,
}

/// Who is at fault, as STS's `<Type>` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The client sent something wrong.
    Sender,
    /// The server failed.
    Receiver,
}

impl AwsError {
    /// An error with the status and message AWS uses for `code` on `service`.
    pub(crate) fn new(service: Service, code: ErrorCode) -> Self {
        let (status, message) = defaults(service, code);
        let fault = if status.is_server_error() {
            Fault::Receiver
        } else {
            Fault::Sender
        };
        AwsError {
            service,
            code,
            message: message.to_string(),
            status,
            extra: Vec::new(),
            fault,
        }
    }

    /// Replaces the message.
    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// Replaces the status.
    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// Adds an S3 `<Error>` element after `<Message>`.
    pub(crate) fn with_extra(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// A `ValidationError` for STS with AWS's message.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        AwsError::new(Service::Sts, ErrorCode::ValidationError).with_message(message)
    }

    /// The body AWS would send, given the request id.
    pub(crate) fn body(&self, request_id: &str) -> String {
        match self.service {
            Service::Sts => {
                let fault = match self.fault {
                    Fault::Sender => "Sender",
                    Fault::Receiver => "Receiver",
                };
                format!(
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>{fault}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
                    self.code,
                    escape(&self.message),
                    escape(request_id)
                )
            }
            Service::S3 => {
                let mut body = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
                body.push_str(&format!(
                    "<Code>{}</Code><Message>{}</Message>",
                    self.code,
                    escape(&self.message)
                ));
                for (name, value) in &self.extra {
                    body.push_str(&format!("<{name}>{}</{name}>", escape(value)));
                }
                body.push_str(&format!(
                    "<RequestId>{}</RequestId><HostId>{}</HostId></Error>",
                    escape(request_id),
                    escape(&host_id(request_id))
                ));
                body
            }
            Service::Imds => self.message.clone(),
            Service::Control => serde_json::json!({
                "code": self.code.as_str(),
                "message": self.message,
            })
            .to_string(),
        }
    }

    /// The full HTTP response, with the service's content type and request-id header.
    pub(crate) fn to_response(&self, request_id: &str) -> Response {
        let body = self.body(request_id);
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        let content_type = match self.service {
            Service::Sts => "text/xml",
            Service::S3 => "application/xml",
            Service::Imds => "text/plain",
            Service::Control => "application/json",
        };
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        insert_request_id(self.service, headers, request_id);
        response
    }
}

/// Puts the service's request-id headers on a response.
pub(crate) fn insert_request_id(service: Service, headers: &mut http::HeaderMap, request_id: &str) {
    let Ok(value) = HeaderValue::from_str(request_id) else {
        return;
    };
    // Static names: parsed once, not at every response.
    static X_AMZN_REQUESTID: HeaderName = HeaderName::from_static("x-amzn-requestid");
    static X_AMZ_ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");
    static X_AMZ_REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");
    match service {
        Service::Sts => {
            headers.insert(X_AMZN_REQUESTID.clone(), value);
        }
        Service::S3 => {
            if let Ok(id2) = HeaderValue::try_from(host_id(request_id)) {
                headers.insert(X_AMZ_ID_2.clone(), id2);
            }
            headers.insert(X_AMZ_REQUEST_ID.clone(), value);
            headers.insert(header::SERVER, HeaderValue::from_static("AmazonS3"));
        }
        Service::Imds | Service::Control => {}
    }
}

/// S3's `HostId`/`x-amz-id-2`: opaque base64; derived from the request id so it is stable.
fn host_id(request_id: &str) -> String {
    use base64::Engine;
    let mut raw = String::with_capacity(9 + request_id.len());
    raw.push_str("mock-sts/");
    raw.push_str(request_id);
    base64::engine::general_purpose::STANDARD.encode(raw)
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.code,
            self.status.as_u16(),
            self.message
        )
    }
}

impl std::error::Error for AwsError {}

/// AWS's status and message for a code on a service (aws-facts.md §2, §3).
fn defaults(service: Service, code: ErrorCode) -> (StatusCode, &'static str) {
    use ErrorCode as C;
    use StatusCode as S;
    let s3 = service == Service::S3;
    match code {
        C::ExpiredToken if s3 => (S::BAD_REQUEST, "The provided token has expired."),
        C::ExpiredToken => (
            S::FORBIDDEN,
            "The security token included in the request is expired",
        ),
        C::InvalidClientTokenId => (
            S::FORBIDDEN,
            "The security token included in the request is invalid",
        ),
        C::InvalidAccessKeyId => (
            S::FORBIDDEN,
            "The AWS Access Key Id you provided does not exist in our records.",
        ),
        C::InvalidToken => (
            S::BAD_REQUEST,
            "The provided token is malformed or otherwise invalid.",
        ),
        C::SignatureDoesNotMatch if s3 => (
            S::FORBIDDEN,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ),
        C::SignatureDoesNotMatch => (
            S::FORBIDDEN,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ),
        C::IncompleteSignature => (
            S::BAD_REQUEST,
            "The request signature does not conform to AWS standards.",
        ),
        C::MissingAuthenticationToken => (S::FORBIDDEN, "Request is missing Authentication Token"),
        C::AccessDenied => (S::FORBIDDEN, "Access Denied"),
        C::ValidationError => (S::BAD_REQUEST, "1 validation error detected"),
        C::InvalidAction => (
            S::BAD_REQUEST,
            "The action or operation requested is invalid. Verify that the action is typed correctly.",
        ),
        C::MissingAction => (
            S::BAD_REQUEST,
            "The request is missing an action or a required parameter.",
        ),
        // AWS's common-errors table gives 404 for this one.
        C::MalformedQueryString => (S::NOT_FOUND, "The query string contains a syntax error."),
        C::InvalidParameterValue => (
            S::BAD_REQUEST,
            "An invalid or out-of-range value was supplied for the input parameter.",
        ),
        C::InvalidIdentityToken => (S::BAD_REQUEST, "The web identity token is invalid."),
        C::ExpiredTokenException => (S::BAD_REQUEST, "Token expired"),
        C::IDPCommunicationError => (
            S::BAD_REQUEST,
            "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements",
        ),
        C::IDPRejectedClaim => (S::FORBIDDEN, "The identity provider rejected the claim."),
        C::Unauthorized => (S::UNAUTHORIZED, "Unauthorized"),
        C::BadRequest => (S::BAD_REQUEST, "Bad Request"),
        C::Forbidden => (S::FORBIDDEN, "Forbidden"),
        C::MethodNotAllowed => (
            S::METHOD_NOT_ALLOWED,
            "The specified method is not allowed against this resource.",
        ),
        C::NoIdInRequest => (S::BAD_REQUEST, "CredentialsV2Request: No ID in the request"),
        C::InvalidIdInRequest => (
            S::BAD_REQUEST,
            "CredentialsV2Request: Credentials not found",
        ),
        C::Throttling => (S::BAD_REQUEST, "Rate exceeded"),
        // S3's error-code table (docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html):
        // SlowDown and ServiceUnavailable are both 503, with these messages.
        C::SlowDown => (S::SERVICE_UNAVAILABLE, "Please reduce your request rate."),
        C::ServiceUnavailable if s3 => (
            S::SERVICE_UNAVAILABLE,
            "Service is unable to handle request.",
        ),
        // The common-errors table of the AWS API references (STS's CommonErrors page).
        C::ServiceUnavailable => (
            S::SERVICE_UNAVAILABLE,
            "The request has failed due to a temporary failure of the server.",
        ),
        // STS API reference, RegionDisabledException; AWS names the caller's account. The
        // default names the default world's account; fault rules may override the message.
        C::RegionDisabledException => (
            S::FORBIDDEN,
            "STS is not activated in this region for account:123456789012. Your account administrator can activate STS in this region using the IAM Console.",
        ),
        C::TooManyRequests => (S::TOO_MANY_REQUESTS, "Too Many Requests"),
        C::BadGateway => (S::BAD_GATEWAY, "Bad Gateway"),
        C::GatewayTimeout => (S::GATEWAY_TIMEOUT, "Gateway Timeout"),
        C::RequestTimeTooSkewed => (
            S::FORBIDDEN,
            "The difference between the request time and the current time is too large.",
        ),
        C::AuthorizationQueryParametersError => (
            S::BAD_REQUEST,
            "Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        ),
        C::AuthorizationHeaderMalformed => {
            (S::BAD_REQUEST, "The authorization header is malformed.")
        }
        // S3's recorded text (grosskur/lua-resty-aws#2, s3tools/s3cmd#812: the full `<Error>`
        // with ClientComputedContentSHA256 and S3ComputedContentSHA256). aws-facts §3 quotes a
        // shorter wording from a boto3 issue; the recorded bodies win.
        C::XAmzContentSHA256Mismatch => (
            S::BAD_REQUEST,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
        C::BadDigest => (
            S::BAD_REQUEST,
            "The Content-MD5 you specified did not match what we received.",
        ),
        C::InvalidDigest => (
            S::BAD_REQUEST,
            "The Content-MD5 you specified is not valid.",
        ),
        C::NoSuchBucket => (S::NOT_FOUND, "The specified bucket does not exist"),
        C::NoSuchKey => (S::NOT_FOUND, "The specified key does not exist."),
        C::BucketAlreadyOwnedByYou => (
            S::CONFLICT,
            "Your previous request to create the named bucket succeeded and you already own it.",
        ),
        C::BucketAlreadyExists => (
            S::CONFLICT,
            "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
        ),
        C::BucketNotEmpty => (S::CONFLICT, "The bucket you tried to delete is not empty"),
        C::InvalidBucketName => (S::BAD_REQUEST, "The specified bucket is not valid."),
        C::InvalidRange => (
            S::RANGE_NOT_SATISFIABLE,
            "The requested range is not satisfiable",
        ),
        C::NoSuchUpload => (
            S::NOT_FOUND,
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        ),
        C::InvalidPart => (
            S::BAD_REQUEST,
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        ),
        C::InvalidPartOrder => (
            S::BAD_REQUEST,
            "The list of parts was not in ascending order. Parts must be ordered by part number.",
        ),
        C::EntityTooSmall => (
            S::BAD_REQUEST,
            "Your proposed upload is smaller than the minimum allowed object size.",
        ),
        C::EntityTooLarge => (
            S::BAD_REQUEST,
            "Your proposed upload exceeds the maximum allowed size",
        ),
        C::MalformedXML => (
            S::BAD_REQUEST,
            "The XML you provided was not well-formed or did not validate against our published schema",
        ),
        C::MalformedTrailerError => (
            S::BAD_REQUEST,
            "The request contained trailing data that was not well-formed or did not conform to our published schema.",
        ),
        C::IncompleteBody => (
            S::BAD_REQUEST,
            "You did not provide the number of bytes specified by the Content-Length HTTP header.",
        ),
        // S3's error-code table (ErrorResponses.html) and its recorded bodies
        // (aws/aws-sdk-go-v2#2657, nextcloud/server#20519).
        C::RequestTimeout => (
            S::BAD_REQUEST,
            "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.",
        ),
        C::InvalidArgument => (S::BAD_REQUEST, "Invalid Argument"),
        C::InvalidRequest => (S::BAD_REQUEST, "Invalid Request"),
        C::InvalidURI => (S::BAD_REQUEST, "Couldn't parse the specified URI."),
        C::KeyTooLongError => (S::BAD_REQUEST, "Your key is too long"),
        C::MaxMessageLengthExceeded => (S::BAD_REQUEST, "Your request was too big."),
        C::PreconditionFailed => (
            S::PRECONDITION_FAILED,
            "At least one of the pre-conditions you specified did not hold",
        ),
        // S3's error-code table (ErrorResponses.html#ErrorCodeList), status and description.
        C::ConditionalRequestConflict => (
            S::CONFLICT,
            "A conflicting operation occurred. If using PutObject you can retry the request. If using multipart upload you should initiate another CreateMultipartUpload request and re-upload each part.",
        ),
        // S3's error-code table (ErrorResponses.html): NoSuchVersion, 404.
        C::NoSuchVersion => (S::NOT_FOUND, "The specified version does not exist."),
        // AWS's full `<Error>`, with `<LocationConstraint>` (minio/minio-py#166, boto/boto3#125).
        C::InvalidLocationConstraint => (
            S::BAD_REQUEST,
            "The specified location-constraint is not valid",
        ),
        // As AWS answers since April 2023 (aws/aws-cdk#25288, kubernetes/kops#15454).
        C::InvalidBucketAclWithObjectOwnership => (
            S::BAD_REQUEST,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        ),
        // anacronw/multer-s3#161, jakejarvis/s3-sync-action#85: PutObject with public-read.
        C::AccessControlListNotSupported => (S::BAD_REQUEST, "The bucket does not allow ACLs"),
        C::InternalError => (
            S::INTERNAL_SERVER_ERROR,
            "We encountered an internal error. Please try again.",
        ),
        C::NotImplemented => (
            S::NOT_IMPLEMENTED,
            "A header you provided implies functionality that is not implemented",
        ),
        C::NotFound => (S::NOT_FOUND, "Not Found"),
        C::InternalFailure => (
            S::INTERNAL_SERVER_ERROR,
            "The request processing has failed because of an unknown error, exception or failure.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_and_parse_as_their_wire_names() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, serde_json::Value::from(code.as_str()));
            assert_eq!(code.as_str().parse::<ErrorCode>(), Ok(*code));
        }
        assert_eq!(
            "Nope".parse::<ErrorCode>(),
            Err(UnknownErrorCode("Nope".into()))
        );
    }

    #[test]
    fn codes_parse_from_their_wire_names() {
        assert_eq!(
            ErrorCode::from_name("Throttling"),
            Some(ErrorCode::Throttling)
        );
        assert_eq!(ErrorCode::from_name("SlowDown"), Some(ErrorCode::SlowDown));
        assert_eq!(ErrorCode::from_name("throttling"), None);
        let slow = AwsError::new(Service::S3, ErrorCode::SlowDown);
        assert_eq!(slow.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(slow.message, "Please reduce your request rate.");
        assert_eq!(slow.fault, Fault::Receiver);
    }

    #[test]
    fn expired_token_differs_between_sts_and_s3() {
        let sts = AwsError::new(Service::Sts, ErrorCode::ExpiredToken);
        assert_eq!(sts.status, StatusCode::FORBIDDEN);
        assert_eq!(
            sts.message,
            "The security token included in the request is expired"
        );
        let s3 = AwsError::new(Service::S3, ErrorCode::ExpiredToken);
        assert_eq!(s3.status, StatusCode::BAD_REQUEST);
        assert_eq!(s3.message, "The provided token has expired.");
    }

    #[test]
    fn sts_error_body_is_aws_shaped() {
        let err = AwsError::new(Service::Sts, ErrorCode::ExpiredToken);
        assert_eq!(
            err.body("req-1"),
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>ExpiredToken</Code>\n    <Message>The security token included in the request is expired</Message>\n  </Error>\n  <RequestId>req-1</RequestId>\n</ErrorResponse>\n"
        );
    }

    #[test]
    fn s3_error_body_is_one_line_with_extras_and_escaping() {
        let err = AwsError::new(Service::S3, ErrorCode::ExpiredToken).with_extra("Token-0", "a<b");
        let body = err.body("R1");
        assert!(body.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message><Token-0>a&lt;b</Token-0><RequestId>R1</RequestId><HostId>"), "{body}");
        assert!(!body[40..].contains('\n'));
    }

    #[test]
    fn responses_carry_content_type_and_request_id() {
        let response = AwsError::new(Service::Sts, ErrorCode::Throttling).to_response("abc");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()["content-type"], "text/xml");
        assert_eq!(response.headers()["x-amzn-requestid"], "abc");
        let response = AwsError::new(Service::S3, ErrorCode::AccessDenied).to_response("abc");
        assert_eq!(response.headers()["x-amz-request-id"], "abc");
        assert_eq!(response.headers()["server"], "AmazonS3");
    }
}
