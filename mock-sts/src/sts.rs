//! STS over the query protocol: `AssumeRole`, `GetSessionToken`, `GetCallerIdentity` and
//! `AssumeRoleWithWebIdentity`, with AWS's validation rules, limits and XML.
//!
//! Parameters come from a form body (POST) or the query string (GET). Validation follows
//! AWS's order: model constraints first (lengths, patterns, `DurationSeconds` 900..=43200,
//! reported together as "N validation errors detected: …"), then authorisation (trust, external
//! id), then the role's limits (`MaxSessionDuration`, the one-hour role-chaining cap).
//! Credentials expire on whole seconds: `Expiration = floor(now + DurationSeconds)`, the same
//! instant the token carries and authentication judges (`now >= Expiration` is expired).

use crate::compression::LifetimeCompression;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use crate::auth::Caller;
use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::credentials::{CredentialAuthority, IssuedBy, IssuedCredentials, SessionClaims};
use crate::events::Issued;
use crate::oidc::OidcVerifier;
use crate::timestamp;
use crate::world::{Role, World};
use crate::xml::XmlWriter;

/// The STS API version every SDK sends.
pub(crate) const API_VERSION: &str = "2011-06-15";
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// `AssumeRole`'s default `DurationSeconds` (AssumeRole API reference).
pub(crate) const DEFAULT_ASSUME_ROLE_SECONDS: u32 = 3600;
/// The one-hour cap on sessions from role chaining.
pub(crate) const ROLE_CHAINING_MAX_SECONDS: u32 = 3600;
/// `GetSessionToken`'s default and bounds (GetSessionToken API reference).
pub(crate) const DEFAULT_SESSION_TOKEN_SECONDS: u32 = 43200;
/// `GetSessionToken`'s maximum (36 hours).
pub(crate) const MAX_SESSION_TOKEN_SECONDS: u32 = 129_600;
/// The shortest session any STS action grants.
pub(crate) const MIN_DURATION_SECONDS: u32 = 900;
/// The model's upper bound for `AssumeRole` and `AssumeRoleWithWebIdentity`.
pub(crate) const MAX_ROLE_DURATION_SECONDS: u32 = 43200;

/// The STS actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `AssumeRole`.
    AssumeRole,
    /// `AssumeRoleWithWebIdentity` (unsigned).
    AssumeRoleWithWebIdentity,
    /// `GetSessionToken`.
    GetSessionToken,
    /// `GetCallerIdentity`.
    GetCallerIdentity,
}

impl Action {
    /// Every action the mock serves.
    pub const ALL: [Action; 4] = [
        Action::AssumeRole,
        Action::AssumeRoleWithWebIdentity,
        Action::GetSessionToken,
        Action::GetCallerIdentity,
    ];

    /// Parses an `Action` parameter.
    pub fn parse(name: &str) -> Option<Action> {
        Some(match name {
            "AssumeRole" => Action::AssumeRole,
            "AssumeRoleWithWebIdentity" => Action::AssumeRoleWithWebIdentity,
            "GetSessionToken" => Action::GetSessionToken,
            "GetCallerIdentity" => Action::GetCallerIdentity,
            _ => return None,
        })
    }

    /// The name as AWS spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Action::AssumeRole => "AssumeRole",
            Action::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            Action::GetSessionToken => "GetSessionToken",
            Action::GetCallerIdentity => "GetCallerIdentity",
        }
    }

    /// Whether AWS accepts the action without a signature.
    pub fn is_unsigned(&self) -> bool {
        matches!(self, Action::AssumeRoleWithWebIdentity)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Request parameters, first value wins.
#[derive(Debug, Default, Clone)]
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` text strictly: `%` must start two hex
    /// digits, `+` is a space, and the decoded bytes must be UTF-8.
    ///
    /// # Errors
    /// `MalformedQueryString` for anything else.
    pub(crate) fn parse(raw: &[u8]) -> Result<Params, AwsError> {
        let malformed = || AwsError::new(Service::Sts, ErrorCode::MalformedQueryString);
        let mut map = HashMap::new();
        for pair in raw.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let key = decode_form(k).ok_or_else(malformed)?;
            let value = decode_form(v).ok_or_else(malformed)?;
            map.entry(key).or_insert(value);
        }
        Ok(Params(map))
    }

    /// A parameter.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The number of distinct parameters.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether any parameter starts with `prefix` (list members like `PolicyArns.member.1.arn`).
    pub(crate) fn has_prefix(&self, prefix: &str) -> bool {
        self.0.keys().any(|k| k.starts_with(prefix))
    }
}

/// One key or value of a form. Hand-written on purpose, not `form_urlencoded::parse` (which the
/// lenient readers in `server`, `control`, `imds` and S3 routing use): that one keeps a malformed
/// `%` escape as it is and turns invalid UTF-8 into U+FFFD, where STS answers
/// `MalformedQueryString`.
fn decode_form(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                let s = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(s, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Collects model-validation failures and words them as AWS does.
#[derive(Default)]
struct Validation(Vec<String>);

impl Validation {
    fn required<'a>(&mut self, value: Option<&'a str>, member: &str) -> Option<&'a str> {
        if value.is_none() {
            self.0.push(format!(
                "Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ));
        }
        value
    }

    fn length(&mut self, value: Option<&str>, member: &str, min: usize, max: usize) {
        let Some(v) = value else { return };
        let n = v.chars().count();
        if n < min {
            self.0.push(format!(
                "Value '{v}' at '{member}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        } else if n > max {
            self.0.push(format!(
                "Value '{v}' at '{member}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
    }

    fn pattern(&mut self, value: Option<&str>, member: &str, extra: &str, shown: &str) {
        let Some(v) = value else { return };
        let ok = v
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || extra.contains(c));
        if !ok {
            self.0.push(format!(
                "Value '{v}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: {shown}"
            ));
        }
    }

    /// Parses an integer parameter and checks its range; `None` when absent or invalid.
    fn duration(&mut self, value: Option<&str>, member: &str, min: u32, max: u32) -> Option<u32> {
        let v = value?;
        let Ok(n) = v.trim().parse::<i64>() else {
            self.0.push(format!(
                "Value '{v}' at '{member}' failed to satisfy constraint: Member must be a number"
            ));
            return None;
        };
        if n < i64::from(min) {
            self.0.push(format!(
                "Value '{n}' at '{member}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
            ));
            None
        } else if n > i64::from(max) {
            self.0.push(format!(
                "Value '{n}' at '{member}' failed to satisfy constraint: Member must have value less than or equal to {max}"
            ));
            None
        } else {
            u32::try_from(n).ok()
        }
    }

    fn finish(self) -> Result<(), AwsError> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(AwsError::validation(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Err(AwsError::validation(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

const SESSION_NAME_EXTRA: &str = "+=,.@-";
const SESSION_NAME_SHOWN: &str = "[\\w+=,.@-]*";

/// Everything a handler needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StsContext<'a> {
    /// Identities.
    pub world: &'a World,
    /// Issues credentials.
    pub authority: &'a CredentialAuthority,
    /// Verifies web identity tokens.
    pub oidc: &'a OidcVerifier,
    /// Simulated time of the request.
    pub now: SystemTime,
    /// Divides the lifetime of every session issued.
    pub compression: LifetimeCompression,
}

/// A successful STS answer: the XML body, and the credentials it issued, if any.
#[derive(Debug)]
pub(crate) struct StsSuccess {
    /// The response body.
    pub body: String,
    /// What was issued, for the event log.
    pub issued: Option<Issued>,
}

/// Runs `action`. `caller` is `None` only for unsigned actions.
///
/// # Errors
/// The AWS error to send.
pub(crate) async fn handle(
    ctx: StsContext<'_>,
    action: Action,
    params: &Params,
    caller: Option<&Caller>,
    new_access_key_id: String,
    request_id: &str,
) -> Result<StsSuccess, AwsError> {
    match (action, caller) {
        (Action::GetCallerIdentity, Some(caller)) => Ok(get_caller_identity(caller, request_id)),
        (Action::AssumeRole, Some(caller)) => {
            assume_role(ctx, params, caller, new_access_key_id, request_id)
        }
        (Action::GetSessionToken, Some(caller)) => {
            get_session_token(ctx, params, caller, new_access_key_id, request_id)
        }
        (Action::AssumeRoleWithWebIdentity, _) => {
            assume_role_with_web_identity(ctx, params, new_access_key_id, request_id).await
        }
        (_, None) => Err(AwsError::new(
            Service::Sts,
            ErrorCode::MissingAuthenticationToken,
        )),
    }
}

fn get_caller_identity(caller: &Caller, request_id: &str) -> StsSuccess {
    let mut w = XmlWriter::indented();
    w.open("GetCallerIdentityResponse", Some(XMLNS))
        .open("GetCallerIdentityResult", None)
        .text("Arn", &caller.arn())
        .text("UserId", &caller.user_id())
        .text("Account", caller.account_id())
        .close("GetCallerIdentityResult");
    response_metadata(&mut w, request_id);
    w.close("GetCallerIdentityResponse");
    StsSuccess {
        body: w.finish(),
        issued: None,
    }
}

fn response_metadata(w: &mut XmlWriter, request_id: &str) {
    w.open("ResponseMetadata", None)
        .text("RequestId", request_id)
        .close("ResponseMetadata");
}

fn not_authorized(caller_arn: &str, action: Action, role_arn: &str) -> AwsError {
    AwsError::new(Service::Sts, ErrorCode::AccessDenied).with_message(format!(
        "User: {caller_arn} is not authorized to perform: sts:{action} on resource: {role_arn}"
    ))
}

/// Model validation shared by the role-assuming actions.
fn validate_role_params(
    v: &mut Validation,
    params: &Params,
) -> (Option<String>, Option<String>, Option<u32>) {
    let role_arn = v.required(params.get("RoleArn"), "roleArn");
    v.length(role_arn, "roleArn", 20, 2048);
    let session = v.required(params.get("RoleSessionName"), "roleSessionName");
    v.length(session, "roleSessionName", 2, 64);
    v.pattern(
        session,
        "roleSessionName",
        SESSION_NAME_EXTRA,
        SESSION_NAME_SHOWN,
    );
    let duration = v.duration(
        params.get("DurationSeconds"),
        "durationSeconds",
        MIN_DURATION_SECONDS,
        MAX_ROLE_DURATION_SECONDS,
    );
    v.length(params.get("Policy"), "policy", 1, 2048);
    let source_identity = params.get("SourceIdentity");
    v.length(source_identity, "sourceIdentity", 2, 64);
    v.pattern(
        source_identity,
        "sourceIdentity",
        SESSION_NAME_EXTRA,
        SESSION_NAME_SHOWN,
    );
    (
        role_arn.map(str::to_string),
        session.map(str::to_string),
        duration,
    )
}

/// `PackedPolicySize`: present only when session policies or tags were passed; a percentage
/// of the packed limit, which we approximate by the plaintext size against 2048 characters.
fn packed_policy_size(params: &Params) -> Option<u32> {
    if params.get("Policy").is_none()
        && !params.has_prefix("PolicyArns.")
        && !params.has_prefix("Tags.")
    {
        return None;
    }
    let chars = params.get("Policy").map_or(0, |p| p.chars().count());
    Some(
        u32::try_from((chars * 100).div_ceil(2048))
            .unwrap_or(100)
            .max(1),
    )
}

fn assume_role(
    ctx: StsContext<'_>,
    params: &Params,
    caller: &Caller,
    access_key_id: String,
    request_id: &str,
) -> Result<StsSuccess, AwsError> {
    let mut v = Validation::default();
    let (role_arn, session_name, duration) = validate_role_params(&mut v, params);
    let external_id = params.get("ExternalId");
    v.length(external_id, "externalId", 2, 1224);
    v.pattern(external_id, "externalId", "+=,.@:/-", "[\\w+=,.@:\\/-]*");
    v.finish()?;
    let (Some(role_arn), Some(session_name)) = (role_arn, session_name) else {
        return Err(AwsError::validation("1 validation error detected"));
    };

    // Unknown roles and untrusted callers get the same answer: AWS does not reveal which.
    let denied = || not_authorized(&caller.arn(), Action::AssumeRole, &role_arn);
    let role = ctx.world.role_by_arn(&role_arn).ok_or_else(denied)?;
    if !role.trusts(&caller.trust_principal(), caller.account_id()) {
        return Err(denied());
    }
    if let Some(required) = &role.external_id
        && external_id != Some(required.as_str())
    {
        return Err(denied());
    }

    let chained = matches!(caller, Caller::Session(c) if c.is_role_session());
    let granted = match duration {
        Some(d) if chained && d > ROLE_CHAINING_MAX_SECONDS => {
            return Err(AwsError::validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            ));
        }
        Some(d) if d > role.max_session_duration => {
            return Err(AwsError::validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        Some(d) => d,
        None => DEFAULT_ASSUME_ROLE_SECONDS,
    };

    // SourceIdentity, once set, cannot change down a chain.
    let inherited = match caller {
        Caller::Session(c) => c.source_identity.clone(),
        Caller::User(_) => None,
    };
    let requested_identity = params.get("SourceIdentity").map(str::to_string);
    if let (Some(have), Some(want)) = (&inherited, &requested_identity)
        && have != want
    {
        return Err(denied());
    }
    let source_identity = inherited.or(requested_identity);

    let issued = issue_role_session(
        ctx,
        role,
        &session_name,
        access_key_id,
        IssuedBy::AssumeRole,
        duration,
        granted,
        chained,
        source_identity.clone(),
    );

    let mut w = XmlWriter::indented();
    w.open("AssumeRoleResponse", Some(XMLNS))
        .open("AssumeRoleResult", None);
    assumed_role_user(&mut w, &issued.claims);
    credentials_xml(&mut w, &issued);
    let body = finish_role_session(
        w,
        Action::AssumeRole,
        params,
        source_identity.as_deref(),
        request_id,
    );
    Ok(role_session_success(body, &issued, role))
}

/// The `Expiration` of credentials issued at `now` for `granted` seconds: issue time plus the
/// duration, truncated to the second, so they live between `granted - 1` and `granted` seconds.
///
/// Decided from smithy-rs's recorded STS answers (`aws/rust-runtime/aws-config/test-data`):
/// three of four (`web_identity_token_env`, `web_identity_token_profile`, `e2e_assume_role`)
/// carry `Expiration` = response `Date` + D exactly, what truncation gives whenever the request
/// is served within one second, while rounding up would give `Date` + D + 1 unless a second
/// boundary fell inside each round trip. The fourth (`imds_assume_role`: `Date` 17:41:25,
/// `Expiration` 18:41:26) fits truncation only if its `Date` was stamped before the issue.
pub(crate) fn session_expiration(now: SystemTime, granted: u32) -> SystemTime {
    timestamp::floor_to_second(now) + Duration::from_secs(u64::from(granted))
}

#[allow(clippy::too_many_arguments)]
fn issue_role_session(
    ctx: StsContext<'_>,
    role: &Role,
    session_name: &str,
    access_key_id: String,
    issued_by: IssuedBy,
    requested: Option<u32>,
    granted: u32,
    chained: bool,
    source_identity: Option<String>,
) -> IssuedCredentials {
    let expires = session_expiration(ctx.now, ctx.compression.compress_seconds(granted));
    let claims = SessionClaims {
        access_key_id,
        account_id: role.account_id.clone(),
        principal_arn: format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            role.account_id, role.name, session_name
        ),
        user_id: format!("{}:{}", role.unique_id(), session_name),
        role_arn: Some(role.arn()),
        session_name: Some(session_name.to_string()),
        source_identity,
        issued_at_ms: timestamp::unix_millis(ctx.now),
        expires_at_ms: timestamp::unix_millis(expires),
        issued_by,
        duration_requested: requested,
        chained,
    };
    let issued = ctx.authority.issue(claims);
    tracing::info!(
        akid = %issued.claims.access_key_id,
        role = %role.arn(),
        session = session_name,
        expires_at = %timestamp::iso8601_seconds(expires),
        "issued role credentials"
    );
    issued
}

/// Writes the members both role-session responses end with, then closes the document.
fn finish_role_session(
    mut w: XmlWriter,
    action: Action,
    params: &Params,
    source_identity: Option<&str>,
    request_id: &str,
) -> String {
    if let Some(size) = packed_policy_size(params) {
        w.text("PackedPolicySize", &size.to_string());
    }
    if let Some(id) = source_identity {
        w.text("SourceIdentity", id);
    }
    w.close(&format!("{action}Result"));
    response_metadata(&mut w, request_id);
    w.close(&format!("{action}Response"));
    w.finish()
}

/// A role-session answer: the body and the credentials it issued.
fn role_session_success(body: String, issued: &IssuedCredentials, role: &Role) -> StsSuccess {
    StsSuccess {
        body,
        issued: Some(issued_event(issued, Some(role.max_session_duration))),
    }
}

fn issued_event(issued: &IssuedCredentials, max_session_duration: Option<u32>) -> Issued {
    let c = &issued.claims;
    Issued {
        access_key_id: c.access_key_id.clone(),
        role_arn: c.role_arn.clone(),
        session_name: c.session_name.clone(),
        duration_seconds_requested: c.duration_requested,
        // As STS counts it: Expiration = floor(now) + granted.
        duration_seconds_granted: u32::try_from(
            (c.expires_at_ms / 1000).saturating_sub(c.issued_at_ms / 1000),
        )
        .unwrap_or(u32::MAX),
        max_session_duration,
        chained: c.chained,
        expires_at: c.expires_at(),
    }
}

fn assumed_role_user(w: &mut XmlWriter, claims: &SessionClaims) {
    w.open("AssumedRoleUser", None)
        .text("AssumedRoleId", &claims.user_id)
        .text("Arn", &claims.principal_arn)
        .close("AssumedRoleUser");
}

fn credentials_xml(w: &mut XmlWriter, issued: &IssuedCredentials) {
    w.open("Credentials", None)
        .text("AccessKeyId", &issued.claims.access_key_id)
        .text("SecretAccessKey", &issued.secret_access_key)
        .text("SessionToken", &issued.session_token)
        .text(
            "Expiration",
            &timestamp::iso8601_seconds(issued.claims.expires_at()),
        )
        .close("Credentials");
}

fn get_session_token(
    ctx: StsContext<'_>,
    params: &Params,
    caller: &Caller,
    access_key_id: String,
    request_id: &str,
) -> Result<StsSuccess, AwsError> {
    let mut v = Validation::default();
    let duration = v.duration(
        params.get("DurationSeconds"),
        "durationSeconds",
        MIN_DURATION_SECONDS,
        MAX_SESSION_TOKEN_SECONDS,
    );
    v.length(params.get("SerialNumber"), "serialNumber", 9, 256);
    v.length(params.get("TokenCode"), "tokenCode", 6, 6);
    v.finish()?;
    let Caller::User(user) = caller else {
        return Err(AwsError::new(Service::Sts, ErrorCode::AccessDenied)
            .with_message("Cannot call GetSessionToken with session credentials"));
    };
    let granted = duration.unwrap_or(DEFAULT_SESSION_TOKEN_SECONDS);
    let expires = session_expiration(ctx.now, ctx.compression.compress_seconds(granted));
    let claims = SessionClaims {
        access_key_id,
        account_id: user.account_id.clone(),
        principal_arn: user.arn(),
        user_id: user.unique_id(),
        role_arn: None,
        session_name: None,
        source_identity: None,
        issued_at_ms: timestamp::unix_millis(ctx.now),
        expires_at_ms: timestamp::unix_millis(expires),
        issued_by: IssuedBy::GetSessionToken,
        duration_requested: duration,
        chained: false,
    };
    let issued = ctx.authority.issue(claims);
    tracing::info!(
        akid = %issued.claims.access_key_id,
        user = %user.arn(),
        expires_at = %timestamp::iso8601_seconds(expires),
        "issued session token"
    );
    let mut w = XmlWriter::indented();
    w.open("GetSessionTokenResponse", Some(XMLNS))
        .open("GetSessionTokenResult", None);
    credentials_xml(&mut w, &issued);
    w.close("GetSessionTokenResult");
    response_metadata(&mut w, request_id);
    w.close("GetSessionTokenResponse");
    Ok(StsSuccess {
        body: w.finish(),
        issued: Some(issued_event(&issued, None)),
    })
}

async fn assume_role_with_web_identity(
    ctx: StsContext<'_>,
    params: &Params,
    access_key_id: String,
    request_id: &str,
) -> Result<StsSuccess, AwsError> {
    let mut v = Validation::default();
    let (role_arn, session_name, duration) = validate_role_params(&mut v, params);
    let token = v.required(params.get("WebIdentityToken"), "webIdentityToken");
    v.length(token, "webIdentityToken", 4, 20000);
    v.finish()?;
    let (Some(role_arn), Some(session_name), Some(token)) = (role_arn, session_name, token) else {
        return Err(AwsError::validation("1 validation error detected"));
    };

    let providers = ctx.world.oidc_provider_list();
    let (identity, index) = ctx
        .oidc
        .verify(token, &providers, ctx.now)
        .await
        .map_err(|e| oidc_error(&e))?;
    let Some((provider_account, provider)) = ctx.world.oidc_providers.get(index) else {
        return Err(AwsError::new(Service::Sts, ErrorCode::InternalFailure));
    };
    let provider_arn = provider.arn(provider_account);

    let denied = || {
        AwsError::new(Service::Sts, ErrorCode::AccessDenied)
            .with_message("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    };
    let role = ctx.world.role_by_arn(&role_arn).ok_or_else(denied)?;
    if !role.trusts_federated(&provider_arn) {
        return Err(denied());
    }
    let granted = match duration {
        Some(d) if d > role.max_session_duration => {
            return Err(AwsError::validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        Some(d) => d,
        None => DEFAULT_ASSUME_ROLE_SECONDS,
    };
    let source_identity = params.get("SourceIdentity").map(str::to_string);
    let issued = issue_role_session(
        ctx,
        role,
        &session_name,
        access_key_id,
        IssuedBy::AssumeRoleWithWebIdentity,
        duration,
        granted,
        false,
        source_identity.clone(),
    );

    let mut w = XmlWriter::indented();
    w.open("AssumeRoleWithWebIdentityResponse", Some(XMLNS))
        .open("AssumeRoleWithWebIdentityResult", None)
        .text("Audience", &identity.audience);
    assumed_role_user(&mut w, &issued.claims);
    w.text("Provider", &provider_arn);
    credentials_xml(&mut w, &issued);
    w.text("SubjectFromWebIdentityToken", &identity.subject);
    let body = finish_role_session(
        w,
        Action::AssumeRoleWithWebIdentity,
        params,
        source_identity.as_deref(),
        request_id,
    );
    Ok(role_session_success(body, &issued, role))
}

fn oidc_error(e: &crate::oidc::OidcError) -> AwsError {
    let code = match e.code() {
        "ExpiredTokenException" => ErrorCode::ExpiredTokenException,
        "IDPCommunicationError" => ErrorCode::IDPCommunicationError,
        "IDPRejectedClaim" => ErrorCode::IDPRejectedClaim,
        _ => ErrorCode::InvalidIdentityToken,
    };
    AwsError::new(Service::Sts, code).with_message(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parsing_is_strict() {
        let p = Params::parse(b"Action=AssumeRole&RoleSessionName=a+b%2Fc&Empty").unwrap();
        assert_eq!(p.get("Action"), Some("AssumeRole"));
        assert_eq!(p.get("RoleSessionName"), Some("a b/c"));
        assert_eq!(p.get("Empty"), Some(""));
        for bad in [
            &b"Action=%zz"[..],
            b"Action=%4",
            b"Action=%",
            b"Action=%ff%fe",
            b"Action=\xff",
            b"%zz=x",
        ] {
            let e = Params::parse(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::MalformedQueryString, "{bad:?}");
        }
    }

    #[test]
    fn validation_messages_match_aws() {
        let mut v = Validation::default();
        assert_eq!(v.duration(Some("899"), "durationSeconds", 900, 43200), None);
        let e = v.finish().unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        );
        let mut v = Validation::default();
        v.required(None, "roleArn");
        v.length(Some("x"), "roleSessionName", 2, 64);
        let e = v.finish().unwrap_err();
        assert!(
            e.message
                .starts_with("2 validation errors detected: Value null at 'roleArn'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn packed_policy_size_only_with_policies() {
        assert_eq!(packed_policy_size(&Params::parse(b"A=1").unwrap()), None);
        assert_eq!(
            packed_policy_size(&Params::parse(b"Policy=%7B%7D").unwrap()),
            Some(1)
        );
    }
}
