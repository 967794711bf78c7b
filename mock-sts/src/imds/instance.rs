//! EC2 instance metadata, IMDSv2: the session token and the instance profile's credentials.
//!
//! What it answers, in the order IMDS checks (aws-facts §4.1):
//! - `PUT /latest/api/token`: `403` if `X-Forwarded-For` is present (IMDS refuses proxied token
//!   requests), `400` unless `x-aws-ec2-metadata-token-ttl-seconds` is 1..=21600, otherwise the
//!   token (`text/plain`) with the TTL echoed. Any other method there is `405`.
//! - every `GET` under `/latest/`: `401` for a token that is malformed, forged or expired, and
//!   for no token at all unless the world's `http_tokens = "optional"` (IMDSv1 allowed); then
//!   `iam/security-credentials/` (the role name), `iam/security-credentials/ROLE` (the JSON),
//!   the same under `iam/security-credentials-extended/` (the JSON adds `AccountId`, which
//!   current JS, Java, Ruby and PHP SDKs ask for first), `404` for any other path or role, and
//!   for the credential paths when the world has no `[instance]` (an instance without a
//!   profile). Other methods are `405`.
//!
//! Errors are the status pages IMDS serves (`text/html`); everything carries `Server: EC2ws`,
//! and metadata answers `Last-Modified` (the credentials' `LastUpdated`) and
//! `Accept-Ranges: none`, as in the recorded traffic.
//! The exact whitespace of the pages is UNCONFIRMED (the markup is the one AWS's own
//! amazon-ec2-metadata-mock serves); SDKs read only the status.

use std::time::SystemTime;

use http::request::Parts;
use http::{Method, StatusCode};

use super::rotation::{self, Epoch, Holder};
use super::token::{self, TOKEN_HEADER, TTL_HEADER, TokenError};
use super::{Action, Context, Reply, event_error};
use crate::aws_error::ErrorCode;
use crate::credentials::IssuedBy;
use crate::timestamp;
use crate::world::{HttpTokens, Instance};

const TOKEN_PATH: &str = "/latest/api/token";
const CREDENTIALS_DIR: &str = "/latest/meta-data/iam/security-credentials";
const EXTENDED_DIR: &str = "/latest/meta-data/iam/security-credentials-extended";

/// Every action instance-metadata events record.
pub(super) const ACTIONS: [Action; 3] = [
    Action::GetMetadataToken,
    Action::GetInstanceCredentials,
    Action::GetMetadata,
];

/// The action a request is for, told from its path alone.
pub(super) fn action(parts: &Parts) -> Action {
    let path = parts.uri.path();
    if path == TOKEN_PATH {
        return Action::GetMetadataToken;
    }
    match item(path) {
        Item::Credentials { .. } => Action::GetInstanceCredentials,
        _ => Action::GetMetadata,
    }
}

/// A bare status page with `status`, as IMDS sends when it fails (fault injection).
pub(super) fn status_reply(action: Action, code: ErrorCode, status: StatusCode) -> Reply {
    let error = event_error(code, status.canonical_reason().unwrap_or("Error")).with_status(status);
    with_server(Reply::failed(
        action,
        error,
        "text/html",
        status_page(status),
    ))
}

/// What a metadata path asks for.
#[derive(Debug, PartialEq, Eq)]
enum Item<'a> {
    /// `…/security-credentials/`: the role name.
    RoleName,
    /// `…/security-credentials/ROLE`: the credentials; `extended` adds `AccountId`.
    Credentials { role: &'a str, extended: bool },
    /// Anything else.
    Other,
}

fn item(path: &str) -> Item<'_> {
    for (dir, extended) in [(CREDENTIALS_DIR, false), (EXTENDED_DIR, true)] {
        let rest = match path.strip_prefix(dir) {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
            _ => continue,
        };
        return match rest.strip_prefix('/') {
            None | Some("") => Item::RoleName,
            Some(role) if !role.contains('/') => Item::Credentials { role, extended },
            Some(_) => Item::Other,
        };
    }
    Item::Other
}

pub(super) fn handle(ctx: Context<'_>, parts: &Parts) -> Reply {
    let path = parts.uri.path();
    if path == TOKEN_PATH {
        return with_server(token_request(ctx, parts));
    }
    with_server(metadata_request(ctx, parts, action(parts), item(path)))
}

fn token_request(ctx: Context<'_>, parts: &Parts) -> Reply {
    if parts.method != Method::PUT {
        return page(
            Action::GetMetadataToken,
            ErrorCode::MethodNotAllowed,
            "the token is requested with PUT",
        )
        .with_header("allow", "PUT");
    }
    if parts.headers.contains_key("x-forwarded-for") {
        return page(
            Action::GetMetadataToken,
            ErrorCode::Forbidden,
            "token requests through a proxy (X-Forwarded-For) are refused",
        );
    }
    let Some(ttl) = token::parse_ttl(parts.headers.get(TTL_HEADER)) else {
        return page(
            Action::GetMetadataToken,
            ErrorCode::BadRequest,
            format!("{TTL_HEADER} must be a whole number of seconds from 1 to 21600"),
        );
    };
    let ttl = ctx.compression.compress_seconds(ttl);
    let value = token::issue(ctx.authority, ctx.now, ttl);
    Reply::ok(Action::GetMetadataToken, "text/plain", value)
        .with_header(TTL_HEADER, ttl)
        .with_header("connection", "close")
}

fn metadata_request(ctx: Context<'_>, parts: &Parts, action: Action, wanted: Item<'_>) -> Reply {
    if parts.method != Method::GET {
        return page(
            action,
            ErrorCode::MethodNotAllowed,
            "instance metadata is read with GET",
        )
        .with_header("allow", "GET");
    }
    let instance = ctx.world.instance.as_ref();
    let token_expiry = match parts.headers.get(TOKEN_HEADER) {
        Some(value) => {
            match token::validate(ctx.authority, value.to_str().unwrap_or(""), ctx.now) {
                Ok(expires) => Some(expires),
                Err(e) => return unauthorized(action, e),
            }
        }
        None => {
            // Without an [instance] the service behaves as on an instance with defaults.
            let tokens = instance.map_or(HttpTokens::Required, |i| i.http_tokens);
            if tokens == HttpTokens::Required {
                return page(
                    action,
                    ErrorCode::Unauthorized,
                    "IMDSv2 is required: PUT /latest/api/token first and send x-aws-ec2-metadata-token",
                );
            }
            None
        }
    };
    let reply = match (wanted, instance) {
        (Item::RoleName, Some(instance)) => {
            let epoch = Epoch::current(&instance.rotation, ctx.now);
            Reply::ok(action, "text/plain", instance.role.name.clone())
                .with_header("last-modified", timestamp::http_date(epoch.issued_at))
                .with_header("accept-ranges", "none")
        }
        (Item::Credentials { role, extended }, Some(instance)) if role == instance.role.name => {
            credentials(ctx, instance, extended)
        }
        (Item::RoleName | Item::Credentials { .. }, None) => page(
            action,
            ErrorCode::NotFound,
            "this instance has no instance profile (the world has no [instance])",
        ),
        (Item::Credentials { role, .. }, Some(_)) => page(
            action,
            ErrorCode::NotFound,
            format!("the instance profile has no role `{role}`"),
        ),
        (Item::Other, _) => page(
            action,
            ErrorCode::NotFound,
            "the mock serves only the token and iam/security-credentials[-extended]/ paths",
        ),
    };
    match token_expiry {
        Some(expires) => reply.with_header(TTL_HEADER, token::seconds_left(expires, ctx.now)),
        None => reply,
    }
}

fn credentials(ctx: Context<'_>, instance: &Instance, extended: bool) -> Reply {
    let epoch = Epoch::current(&instance.rotation, ctx.now);
    let holder = Holder {
        role: &instance.role,
        session_name: &instance.instance_id,
        issued_by: IssuedBy::InstanceMetadata,
        rotation: &instance.rotation,
    };
    let issued = rotation::credentials(ctx.authority, holder, epoch);
    tracing::debug!(
        akid = %issued.claims.access_key_id,
        role = %instance.role.arn(),
        expires_at = %timestamp::iso8601_seconds(epoch.expires_at),
        "served instance credentials"
    );
    let account = extended.then_some(instance.role.account_id.as_str());
    let body = credentials_json(
        epoch.issued_at,
        &issued.claims.access_key_id,
        &issued.secret_access_key,
        &issued.session_token,
        account,
        epoch.expires_at,
    );
    let mut reply = Reply::ok(Action::GetInstanceCredentials, "text/plain", body)
        .with_header("last-modified", timestamp::http_date(epoch.issued_at))
        .with_header("accept-ranges", "none");
    reply.issued = Some(rotation::issued_event(&issued));
    reply
}

/// The credential document exactly as IMDS writes it: two-space indent, `" : "` between key
/// and value, whole-second times, no trailing newline (aws-facts §4.1). `AccountId` (extended
/// path only) follows `Token`, as in the SDKs' test fixtures; its position is UNCONFIRMED.
fn credentials_json(
    last_updated: SystemTime,
    access_key_id: &str,
    secret_access_key: &str,
    token: &str,
    account_id: Option<&str>,
    expiration: SystemTime,
) -> String {
    let quoted = |s: &str| serde_json::Value::from(s).to_string();
    let mut fields = vec![
        ("Code", quoted("Success")),
        (
            "LastUpdated",
            quoted(&timestamp::iso8601_seconds(last_updated)),
        ),
        ("Type", quoted("AWS-HMAC")),
        ("AccessKeyId", quoted(access_key_id)),
        ("SecretAccessKey", quoted(secret_access_key)),
        ("Token", quoted(token)),
    ];
    if let Some(account) = account_id {
        fields.push(("AccountId", quoted(account)));
    }
    fields.push((
        "Expiration",
        quoted(&timestamp::iso8601_seconds(expiration)),
    ));
    let lines: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("  \"{k}\" : {v}"))
        .collect();
    format!("{{\n{}\n}}", lines.join(",\n"))
}

fn unauthorized(action: Action, e: TokenError) -> Reply {
    page(action, ErrorCode::Unauthorized, e.to_string())
}

/// An IMDS error: the status page on the wire, `code` and `message` in the event.
fn page(action: Action, code: ErrorCode, message: impl Into<String>) -> Reply {
    let error = event_error(code, message);
    let body = status_page(error.status);
    Reply::failed(action, error, "text/html", body)
}

/// The status page IMDS (a lighttpd-style server) sends with an error status.
fn status_page(status: StatusCode) -> String {
    let title = format!(
        "{} - {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n\t\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n <head>\n  <title>{title}</title>\n </head>\n <body>\n  <h1>{title}</h1>\n </body>\n</html>\n"
    )
}

fn with_server(reply: Reply) -> Reply {
    reply.with_header("server", "EC2ws")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_items() {
        assert_eq!(
            item("/latest/meta-data/iam/security-credentials/"),
            Item::RoleName
        );
        assert_eq!(
            item("/latest/meta-data/iam/security-credentials"),
            Item::RoleName
        );
        assert_eq!(
            item("/latest/meta-data/iam/security-credentials-extended"),
            Item::RoleName
        );
        assert_eq!(
            item("/latest/meta-data/iam/security-credentials/r"),
            Item::Credentials {
                role: "r",
                extended: false
            }
        );
        assert_eq!(
            item("/latest/meta-data/iam/security-credentials-extended/r"),
            Item::Credentials {
                role: "r",
                extended: true
            }
        );
        assert_eq!(
            item("/latest/meta-data/iam/security-credentials/r/x"),
            Item::Other
        );
        assert_eq!(
            item("/latest/meta-data/iam/security-credentialsx"),
            Item::Other
        );
        assert_eq!(item("/latest/meta-data/instance-id"), Item::Other);
    }

    #[test]
    fn the_credential_document_has_imds_spacing() {
        let t = crate::clock::default_virtual_start();
        let body = credentials_json(t, "ASIAX", "s/+", "tok", None, t);
        assert_eq!(
            body,
            "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2026-01-01T00:00:00Z\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAX\",\n  \"SecretAccessKey\" : \"s/+\",\n  \"Token\" : \"tok\",\n  \"Expiration\" : \"2026-01-01T00:00:00Z\"\n}"
        );
        let extended = credentials_json(t, "ASIAX", "s", "tok", Some("123456789012"), t);
        assert!(
            extended.contains(
                "  \"Token\" : \"tok\",\n  \"AccountId\" : \"123456789012\",\n  \"Expiration\""
            ),
            "{extended}"
        );
    }

    #[test]
    fn status_pages_name_the_status() {
        let page = status_page(StatusCode::UNAUTHORIZED);
        assert!(page.contains("<title>401 - Unauthorized</title>"), "{page}");
        assert!(page.contains("<h1>401 - Unauthorized</h1>"), "{page}");
    }
}
