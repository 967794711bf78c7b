//! Authentication: who signed a request, and whether AWS would accept that signature now.
//!
//! The checks run in a fixed order, and the order is part of the contract:
//! 1. parse the SigV4 `Authorization` header or presigned query (`IncompleteSignature`, or
//!    `MissingAuthenticationToken` when there is none);
//! 2. find the secret: a long-term `AKIA…` key from the world, or a temporary `ASIA…` key whose
//!    session token authenticates under the server key (`InvalidClientTokenId` / S3's
//!    `InvalidAccessKeyId`, `InvalidToken`);
//! 3. verify the signature over the canonical request rebuilt from what was received
//!    (`SignatureDoesNotMatch`);
//! 4. **expiry** of temporary credentials on the simulated clock, `now >= Expiration`
//!    (`ExpiredToken`);
//! 5. **revocation**: a role session issued before its role's revocation instant
//!    ([`Revocations`], `POST /_mock/revoke`) gets `AccessDenied`, as IAM's "Revoke active
//!    sessions" does with a deny on `aws:TokenIssueTime`. `sts:GetCallerIdentity` is exempt:
//!    AWS documents that an explicit deny cannot stop it (GetCallerIdentity API reference);
//! 6. request-time skew on the simulated clock (STS `SignatureDoesNotMatch` "Signature
//!    expired…", S3 `RequestTimeTooSkewed`), unless `--max-skew off`.
//!
//! Expiry is judged before skew on purpose: a client that runs on real time against a server
//! whose clock was advanced past the expiry sees `ExpiredToken` — the failure this tool exists
//! to show — and not a skew error that would hide it. A signature is verified before expiry so
//! that nobody can learn a token's state without its secret.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use http::request::Parts;

use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::credentials::{CredentialAuthority, SessionClaims, TokenError};
use crate::events::SignedBy;
use crate::sigv4::{self, AuthKind, ParsedSignature, PathRule, SigV4Error};
use crate::timestamp;
use crate::world::{User, World};

/// AWS's request-time tolerance for STS and S3 (aws-facts §2, §3: "15 min.", 900000 ms).
pub(crate) const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Who signed a request.
#[derive(Debug, Clone)]
pub enum Caller {
    /// An IAM user's long-term key.
    User(User),
    /// Temporary credentials (role session or `GetSessionToken` session).
    Session(SessionClaims),
}

impl Caller {
    /// The ARN `GetCallerIdentity` reports and error messages name.
    pub fn arn(&self) -> String {
        match self {
            Caller::User(u) => u.arn(),
            Caller::Session(c) => c.principal_arn.clone(),
        }
    }

    /// The caller's account id.
    pub fn account_id(&self) -> &str {
        match self {
            Caller::User(u) => &u.account_id,
            Caller::Session(c) => &c.account_id,
        }
    }

    /// `UserId` as `GetCallerIdentity` reports it.
    pub fn user_id(&self) -> String {
        match self {
            Caller::User(u) => u.unique_id(),
            Caller::Session(c) => c.user_id.clone(),
        }
    }

    /// The ARN a role's trust policy matches: the role for role sessions, else the caller ARN.
    pub fn trust_principal(&self) -> String {
        match self {
            Caller::Session(SessionClaims {
                role_arn: Some(role),
                ..
            }) => role.clone(),
            other => other.arn(),
        }
    }

    /// What events record about the signer.
    pub fn signed_by(&self) -> SignedBy {
        match self {
            Caller::User(u) => SignedBy {
                access_key_id: u.access_key_id.clone(),
                principal_arn: Some(u.arn()),
                issued_at: None,
                expires_at: None,
                issued_by: None,
            },
            Caller::Session(c) => signed_by_claims(c),
        }
    }
}

fn signed_by_claims(c: &SessionClaims) -> SignedBy {
    SignedBy {
        access_key_id: c.access_key_id.clone(),
        principal_arn: Some(c.principal_arn.clone()),
        issued_at: Some(c.issued_at()),
        expires_at: Some(c.expires_at()),
        issued_by: Some(c.issued_by),
    }
}

/// A rejected request: the error to send and, when known, who signed it.
#[derive(Debug, Clone)]
pub struct Rejection {
    /// The AWS error (boxed: rejections are the rare path and keep `Result` small).
    pub error: Box<AwsError>,
    /// The signer, when the key could be resolved (e.g. an expired session).
    pub signed_by: Option<SignedBy>,
}

impl From<AwsError> for Rejection {
    fn from(error: AwsError) -> Self {
        Rejection {
            error: Box::new(error),
            signed_by: None,
        }
    }
}

/// A request whose signature verified: who signed it and what a body decoder needs to check
/// aws-chunked chunk and trailer signatures (the parsed signature, the derived signing key).
#[derive(Clone)]
pub struct Verified {
    /// Who signed it.
    pub caller: Caller,
    /// The parsed signature: its seed signature, date and scope start the chunk chain.
    pub signature: ParsedSignature,
    /// `kSigning` for the signature's scope (never the secret itself).
    pub signing_key: [u8; 32],
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified")
            .field("caller", &self.caller.signed_by())
            .field("signature", &self.signature)
            .field("signing_key", &"** redacted **")
            .finish()
    }
}

/// The IAM permission a request needs: named in the `AccessDenied` a revoked session gets.
#[derive(Debug, Clone, Copy, Default)]
pub struct Permission<'a> {
    /// The IAM action, e.g. `sts:AssumeRole`; empty when not known.
    pub action: &'a str,
    /// The resource, e.g. the role being assumed.
    pub resource: Option<&'a str>,
}

/// The IAM action no deny can stop (GetCallerIdentity API reference: "you can still perform
/// this operation" under an explicit deny).
const UNDENIABLE_ACTION: &str = "sts:GetCallerIdentity";

/// Why a revocation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RevokeError {
    /// The world has no role with this ARN.
    #[error("unknown role `{0}`")]
    UnknownRole(String),
}

/// Revoked role sessions: per role, sessions issued before an instant are denied, as IAM's
/// "Revoke active sessions" does (a deny on `aws:TokenIssueTime`). Newer sessions work.
#[derive(Debug, Default)]
pub struct Revocations {
    roles: RwLock<HashMap<String, SystemTime>>,
}

impl Revocations {
    /// Denies sessions of `role_arn` issued before `issued_before`. A later revocation of the
    /// same role replaces an earlier one, as updating IAM's policy does.
    pub fn revoke(&self, role_arn: &str, issued_before: SystemTime) {
        self.roles
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(role_arn.to_string(), issued_before);
    }

    /// Whether the session `claims` describe is revoked.
    pub fn is_revoked(&self, claims: &SessionClaims) -> bool {
        let Some(role) = &claims.role_arn else {
            return false;
        };
        self.roles
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(role)
            .is_some_and(|before| claims.issued_at() < *before)
    }
}

/// What authentication needs from the server.
#[derive(Debug, Clone, Copy)]
pub struct Authenticator<'a> {
    /// Users and their long-term keys.
    pub world: &'a World,
    /// Validates session tokens and derives secrets.
    pub authority: &'a CredentialAuthority,
    /// Simulated time of the request.
    pub now: SystemTime,
    /// Allowed request-time skew; `None` disables the check.
    pub max_skew: Option<Duration>,
    /// Revoked sessions; `None` checks none.
    pub revocations: Option<&'a Revocations>,
    /// What the request asks to do, for the revocation message.
    pub permission: Permission<'a>,
}

impl Authenticator<'_> {
    /// Authenticates a request for `service`.
    ///
    /// # Errors
    /// A [`Rejection`] carrying the AWS error for the first check that fails (module docs).
    pub fn authenticate(
        &self,
        service: Service,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Caller, Rejection> {
        self.verify(service, parts, body).map(|v| v.caller)
    }

    /// [`Authenticator::authenticate`], also handing back the parsed signature and signing
    /// key, which S3 needs to verify aws-chunked chunk and trailer signatures.
    ///
    /// # Errors
    /// A [`Rejection`] carrying the AWS error for the first check that fails (module docs).
    pub fn verify(
        &self,
        service: Service,
        parts: &Parts,
        body: &[u8],
    ) -> Result<Verified, Rejection> {
        let presigned = is_presigned(parts);
        let sig = match sigv4::parse(parts) {
            Ok(Some(sig)) => sig,
            Ok(None) => return Err(missing_signature(service).into()),
            Err(e) => return Err(sigv4_error(service, e, None, presigned).into()),
        };
        // S3 requires X-Amz-Expires where the Coral services do not.
        if service == Service::S3
            && sig.kind == AuthKind::Presigned
            && sig.expires_seconds.is_none()
        {
            return Err(
                AwsError::new(service, ErrorCode::AuthorizationQueryParametersError)
                    .with_message(sigv4::S3_QUERY_PARAMETERS_MISSING_MESSAGE)
                    .into(),
            );
        }
        let (caller, secret) = self.resolve_key(service, &sig)?;
        let signed_by = Some(caller.signed_by());
        let reject = |error: AwsError| Rejection {
            error: Box::new(error),
            signed_by: signed_by.clone(),
        };

        verify_signature(service, parts, body, &sig, &secret).map_err(reject)?;

        if let Caller::Session(claims) = &caller
            && claims.is_expired_at(self.now)
        {
            return Err(reject(expired(service, &sig)));
        }
        if let (Caller::Session(claims), Some(revocations)) = (&caller, self.revocations)
            && self.permission.action != UNDENIABLE_ACTION
            && revocations.is_revoked(claims)
        {
            return Err(reject(revoked(
                service,
                &claims.principal_arn,
                self.permission,
            )));
        }
        self.check_time(service, &sig).map_err(reject)?;
        let signing_key = sigv4::signing_key(
            &secret,
            &sig.scope.date,
            &sig.scope.region,
            &sig.scope.service,
        );
        Ok(Verified {
            caller,
            signature: sig,
            signing_key,
        })
    }

    /// Finds the secret for the signing key, validating the session token if there is one.
    fn resolve_key(
        &self,
        service: Service,
        sig: &ParsedSignature,
    ) -> Result<(Caller, String), Rejection> {
        let akid = &sig.access_key_id;
        match &sig.security_token {
            Some(token) => {
                if !akid.starts_with("ASIA") {
                    return Err(invalid_token(service, token).into());
                }
                match self.authority.validate_with_secret(token, akid) {
                    Ok((claims, secret)) => Ok((Caller::Session(claims), secret)),
                    Err(TokenError::Malformed | TokenError::BadTag) => {
                        Err(invalid_token(service, token).into())
                    }
                    Err(TokenError::WrongAccessKey(_)) => Err(invalid_token(service, token).into()),
                }
            }
            None => match self.world.user_by_access_key(akid) {
                Some(user) => Ok((Caller::User(user.clone()), user.secret_access_key.clone())),
                // An ASIA key without its token, or a key nobody issued.
                None => Err(unknown_key(service, akid).into()),
            },
        }
    }

    /// Skew for header-signed requests, the validity window for presigned ones.
    fn check_time(&self, service: Service, sig: &ParsedSignature) -> Result<(), AwsError> {
        match sig.kind {
            AuthKind::Header => {
                let Some(max) = self.max_skew else {
                    return Ok(());
                };
                check_skew(service, sig, self.now, max)
            }
            AuthKind::Presigned => {
                let expires = Duration::from_secs(sig.expires_seconds.unwrap_or(0));
                let deadline = sig.request_time + expires;
                if self.now >= deadline {
                    return Err(presign_expired(service, sig, deadline, self.now));
                }
                // A URL signed in the future is refused like a skewed request.
                if let Some(max) = self.max_skew
                    && sig.request_time > self.now + max
                {
                    return check_skew(service, sig, self.now, max);
                }
                Ok(())
            }
        }
    }
}

fn verify_signature(
    service: Service,
    parts: &Parts,
    body: &[u8],
    sig: &ParsedSignature,
    secret: &str,
) -> Result<(), AwsError> {
    let rule = match service {
        Service::S3 => PathRule::S3,
        _ => PathRule::Normalized,
    };
    static X_AMZ_CONTENT_SHA256: http::HeaderName =
        http::HeaderName::from_static("x-amz-content-sha256");
    let header_hash = parts
        .headers
        .get(&X_AMZ_CONTENT_SHA256)
        .and_then(|v| v.to_str().ok());
    // Hashed only when a check below reads it: S3 checks a declared hash against the body
    // itself (`s3::payload`), so a signed S3 request with one needs no second hash here.
    let body_hash = std::cell::OnceCell::new();
    let body_hash = || body_hash.get_or_init(|| sigv4::hex_sha256(body)).as_str();
    // The hashes a correct signer may have used: the declared one (S3 checks it against the
    // body separately), or the body's own; presigned requests usually sign UNSIGNED-PAYLOAD.
    let candidates: Vec<&str> = match (sig.kind, header_hash) {
        (_, Some(h)) => vec![h],
        (AuthKind::Header, None) => vec![body_hash()],
        (AuthKind::Presigned, None) => vec![&sig.payload_hash, body_hash()],
    };
    if service != Service::S3
        && let Some(h) = header_hash
    {
        // STS hashes the body it received; a declared hash that differs cannot verify.
        if h != body_hash() && h != "UNSIGNED-PAYLOAD" {
            return Err(AwsError::new(service, ErrorCode::SignatureDoesNotMatch));
        }
    }
    let mut last = None;
    for hash in candidates {
        match sigv4::verify(parts, sig, hash, secret, rule) {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(match last {
        Some(e) => sigv4_error(
            service,
            e,
            Some(&sig.access_key_id),
            sig.kind == AuthKind::Presigned,
        ),
        None => AwsError::new(service, ErrorCode::SignatureDoesNotMatch),
    })
}

fn missing_signature(service: Service) -> AwsError {
    match service {
        Service::S3 => AwsError::new(service, ErrorCode::AccessDenied),
        _ => AwsError::new(service, ErrorCode::MissingAuthenticationToken),
    }
}

/// A key nobody issued, or a session key sent without its token. S3: 403
/// `InvalidAccessKeyId` naming the key (databendlabs/databend#8069 quotes AWS's body for an
/// `ASIA` key without its token). STS: 403 `InvalidClientTokenId`, its message ending in a
/// period, as clients print it for unknown keys (barnybug/cli53#278, facebookresearch/Ego4d#413).
fn unknown_key(service: Service, akid: &str) -> AwsError {
    match service {
        Service::S3 => {
            AwsError::new(service, ErrorCode::InvalidAccessKeyId).with_extra("AWSAccessKeyId", akid)
        }
        _ => AwsError::new(service, ErrorCode::InvalidClientTokenId)
            .with_message(UNKNOWN_KEY_MESSAGE),
    }
}

/// STS's `InvalidClientTokenId` text for a key it does not know; a token it cannot use gets the
/// same words without the period (aws-azure-login/aws-azure-login#251, a raw 403 body).
const UNKNOWN_KEY_MESSAGE: &str = "The security token included in the request is invalid.";

/// A session token that does not authenticate: malformed, tampered, or another session's.
/// S3: 400 `InvalidToken` with `Token-0` (awslabs/mountpoint-s3 `s3_crt_client.rs`
/// `parse_400_invalid_token` keeps AWS's body); STS: 403 `InvalidClientTokenId`.
fn invalid_token(service: Service, token: &str) -> AwsError {
    match service {
        Service::S3 => AwsError::new(service, ErrorCode::InvalidToken).with_extra("Token-0", token),
        _ => AwsError::new(service, ErrorCode::InvalidClientTokenId),
    }
}

fn expired(service: Service, sig: &ParsedSignature) -> AwsError {
    let error = AwsError::new(service, ErrorCode::ExpiredToken);
    match (service, &sig.security_token) {
        (Service::S3, Some(token)) => error.with_extra("Token-0", token.clone()),
        _ => error,
    }
}

/// A revoked session's denial: S3's plain `Access Denied`; STS's explicit-deny wording, which
/// names the principal, the action and the resource (AWS's "explicit deny in an
/// identity-based policy" form, as IAM's revocation policy is an identity-based deny).
fn revoked(service: Service, principal: &str, permission: Permission<'_>) -> AwsError {
    let error = AwsError::new(service, ErrorCode::AccessDenied);
    if service == Service::S3 || permission.action.is_empty() {
        return error;
    }
    let on = permission
        .resource
        .map(|r| format!(" on resource: {r}"))
        .unwrap_or_default();
    error.with_message(format!(
        "User: {principal} is not authorized to perform: {}{on} with an explicit deny in an identity-based policy",
        permission.action
    ))
}

/// "15 min." in STS's skew messages; other tolerances in minutes or seconds.
fn skew_words(max: Duration) -> String {
    let secs = max.as_secs();
    if secs.is_multiple_of(60) {
        format!("{} min.", secs / 60)
    } else {
        format!("{secs} sec.")
    }
}

fn check_skew(
    service: Service,
    sig: &ParsedSignature,
    now: SystemTime,
    max: Duration,
) -> Result<(), AwsError> {
    let early = now.checked_sub(max).unwrap_or(SystemTime::UNIX_EPOCH);
    let late = now + max;
    if sig.request_time >= early && sig.request_time <= late {
        return Ok(());
    }
    let amz_now = timestamp::amz_date(now);
    Err(match service {
        Service::S3 => AwsError::new(service, ErrorCode::RequestTimeTooSkewed)
            .with_extra("RequestTime", sig.amz_date.clone())
            .with_extra("ServerTime", timestamp::iso8601_seconds(now))
            .with_extra("MaxAllowedSkewMilliseconds", max.as_millis().to_string()),
        _ if sig.request_time < early => AwsError::new(service, ErrorCode::SignatureDoesNotMatch)
            .with_message(format!(
                "Signature expired: {} is now earlier than {} ({} - {})",
                sig.amz_date,
                timestamp::amz_date(early),
                amz_now,
                skew_words(max)
            )),
        _ => AwsError::new(service, ErrorCode::SignatureDoesNotMatch).with_message(format!(
            "Signature not yet current: {} is still later than {} ({} + {})",
            sig.amz_date,
            timestamp::amz_date(late),
            amz_now,
            skew_words(max)
        )),
    })
}

fn presign_expired(
    service: Service,
    sig: &ParsedSignature,
    deadline: SystemTime,
    now: SystemTime,
) -> AwsError {
    match service {
        Service::S3 => AwsError::new(service, ErrorCode::AccessDenied)
            .with_message("Request has expired")
            .with_extra(
                "X-Amz-Expires",
                sig.expires_seconds.unwrap_or(0).to_string(),
            )
            .with_extra("Expires", timestamp::iso8601_seconds(deadline))
            .with_extra("ServerTime", timestamp::iso8601_seconds(now)),
        // STS words an expired presigned request like a skewed one, with the URL's own
        // lifetime as the tolerance.
        _ => {
            let expires = Duration::from_secs(sig.expires_seconds.unwrap_or(0));
            let earliest = now.checked_sub(expires).unwrap_or(SystemTime::UNIX_EPOCH);
            AwsError::new(service, ErrorCode::SignatureDoesNotMatch).with_message(format!(
                "Signature expired: {} is now earlier than {} ({} - {})",
                sig.amz_date,
                timestamp::amz_date(earliest),
                timestamp::amz_date(now),
                skew_words(expires)
            ))
        }
    }
}

/// Whether the request uses query-string (presigned) authentication, as [`sigv4::parse`]
/// decides it: an `X-Amz-Algorithm` query key.
fn is_presigned(parts: &Parts) -> bool {
    parts
        .uri
        .query()
        .is_some_and(|q| form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "X-Amz-Algorithm"))
}

/// S3's text for a credential that is not `AKID/DATE/REGION/SERVICE/aws4_request` (header
/// form, `AuthorizationHeaderMalformed`; the query form says `Error parsing the X-Amz-Credential
/// parameter;` instead of the first clause). Quoted in minio's and ceph's S3 error tables.
const S3_CREDENTIAL_MALFORMED: &str =
    "the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";
/// S3's text when the credential scope's date is not the request's day.
const S3_CREDENTIAL_DATE: &str = "Invalid credential date. Date is not the same as X-Amz-Date.";

/// S3's answer to a SigV4 failure other than a wrong signature: header-signed requests get
/// `AuthorizationHeaderMalformed` (400) or `AccessDenied` for an unusable date, presigned ones
/// `AuthorizationQueryParametersError` (400); another algorithm is `InvalidRequest`, both
/// forms at once `InvalidArgument`.
fn s3_sigv4_error(e: SigV4Error, presigned: bool) -> AwsError {
    let s3 = |code: ErrorCode, message: &str| {
        AwsError::new(Service::S3, code).with_message(message.to_owned())
    };
    match (e, presigned) {
        (SigV4Error::ConflictingAuth(_), _) => s3(
            ErrorCode::InvalidArgument,
            sigv4::S3_CONFLICTING_AUTH_MESSAGE,
        ),
        (SigV4Error::UnsupportedAlgorithm(_), false) => s3(
            ErrorCode::InvalidRequest,
            sigv4::S3_UNSUPPORTED_AUTHORIZATION_MESSAGE,
        ),
        (SigV4Error::UnsupportedAlgorithm(_), true) => s3(
            ErrorCode::AuthorizationQueryParametersError,
            sigv4::S3_QUERY_ALGORITHM_MESSAGE,
        ),
        (SigV4Error::BadExpires(message), _) => {
            s3(ErrorCode::AuthorizationQueryParametersError, &message)
        }
        (SigV4Error::ScopeDateMismatch { .. }, false) => s3(
            ErrorCode::AuthorizationHeaderMalformed,
            &format!("The authorization header is malformed; {S3_CREDENTIAL_DATE}"),
        ),
        (SigV4Error::ScopeDateMismatch { .. }, true) => s3(
            ErrorCode::AuthorizationQueryParametersError,
            S3_CREDENTIAL_DATE,
        ),
        (SigV4Error::BadTerminator(_), false) => s3(
            ErrorCode::AuthorizationHeaderMalformed,
            &format!("The authorization header is malformed; {S3_CREDENTIAL_MALFORMED}"),
        ),
        (SigV4Error::BadTerminator(_), true) => s3(
            ErrorCode::AuthorizationQueryParametersError,
            &format!("Error parsing the X-Amz-Credential parameter; {S3_CREDENTIAL_MALFORMED}"),
        ),
        (SigV4Error::BadDate(_), false) => s3(
            ErrorCode::AccessDenied,
            "AWS authentication requires a valid Date or x-amz-date header",
        ),
        (SigV4Error::BadDate(_), true) => s3(
            ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        ),
        (SigV4Error::Incomplete(message), false) if message.starts_with("Credential must") => s3(
            ErrorCode::AuthorizationHeaderMalformed,
            &format!("The authorization header is malformed; {S3_CREDENTIAL_MALFORMED}"),
        ),
        (SigV4Error::Incomplete(message), true) if message.starts_with("Credential must") => s3(
            ErrorCode::AuthorizationQueryParametersError,
            &format!("Error parsing the X-Amz-Credential parameter; {S3_CREDENTIAL_MALFORMED}"),
        ),
        (SigV4Error::Incomplete(_) | SigV4Error::HostNotSigned(_), false) => s3(
            ErrorCode::AuthorizationHeaderMalformed,
            "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.",
        ),
        (SigV4Error::Incomplete(_) | SigV4Error::HostNotSigned(_), true) => s3(
            ErrorCode::AuthorizationQueryParametersError,
            sigv4::S3_QUERY_PARAMETERS_MISSING_MESSAGE,
        ),
        // Handled by the caller; kept total.
        (SigV4Error::SignatureDoesNotMatch { .. } | SigV4Error::MissingSignedHeader(_), _) => {
            AwsError::new(Service::S3, ErrorCode::SignatureDoesNotMatch)
        }
    }
}

/// Maps a SigV4 parsing or verification failure to the service's error.
fn sigv4_error(service: Service, e: SigV4Error, akid: Option<&str>, presigned: bool) -> AwsError {
    let s3 = service == Service::S3;
    match e {
        SigV4Error::SignatureDoesNotMatch {
            canonical_request,
            string_to_sign,
            signature_provided,
        } => {
            let error = AwsError::new(service, ErrorCode::SignatureDoesNotMatch);
            if !s3 {
                return error;
            }
            error
                .with_extra("AWSAccessKeyId", akid.unwrap_or_default())
                .with_extra("StringToSign", string_to_sign.clone())
                .with_extra("SignatureProvided", signature_provided)
                .with_extra("StringToSignBytes", spaced_hex(string_to_sign.as_bytes()))
                .with_extra("CanonicalRequest", canonical_request.clone())
                .with_extra(
                    "CanonicalRequestBytes",
                    spaced_hex(canonical_request.as_bytes()),
                )
        }
        // AWS leaves the missing header out of its canonical request and answers with the
        // plain mismatch message.
        SigV4Error::MissingSignedHeader(_) => {
            AwsError::new(service, ErrorCode::SignatureDoesNotMatch)
        }
        other if s3 => s3_sigv4_error(other, presigned),
        SigV4Error::ScopeDateMismatch { .. }
        | SigV4Error::BadTerminator(_)
        | SigV4Error::HostNotSigned(_)
        | SigV4Error::ConflictingAuth(_) => {
            AwsError::new(service, ErrorCode::SignatureDoesNotMatch).with_message(e.to_string())
        }
        other => {
            AwsError::new(service, ErrorCode::IncompleteSignature).with_message(other.to_string())
        }
    }
}

/// Bytes as S3 spells them in `StringToSignBytes`: lower-case hex pairs separated by spaces.
pub(crate) fn spaced_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
