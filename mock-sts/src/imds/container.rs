//! The container credential endpoint: ECS task-role credentials, or, when the world sets an
//! authorization token, EKS Pod Identity credentials.
//!
//! SDKs find it through `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (appended to
//! `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI` (any loopback URL, so
//! `http://127.0.0.1:PORT/<relative_uri>`), and send `AWS_CONTAINER_AUTHORIZATION_TOKEN` (or
//! the file `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` names) as the raw `Authorization` header
//! (aws-facts §4.2).
//!
//! The answer is compact JSON, `application/json`: the ECS agent's shape (`RoleArn`,
//! `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`; amazon-ecs-agent
//! `IAMRoleCredentials`) without a token, the EKS Pod Identity agent's (`AccessKeyId`,
//! `SecretAccessKey`, `Token`, `AccountId`, `Expiration`) with one. Errors are the ECS agent's
//! `{"code","message","HTTPErrorCode"}`: `400 NoIdInRequest` for `/v2/credentials/` alone,
//! `400 InvalidIdInRequest` for an unknown id (as the agent answers). With a token configured,
//! a request without `Authorization` is `401 Unauthorized` and one with another value
//! `403 AccessDenied`, checked before the path; those two statuses are the mock's choice
//! (UNCONFIRMED: the EKS agent answers its own token failures as plain text).
//!
//! With `authorization_provider` instead of a fixed token, the header must be a JWT of that
//! world OIDC provider, valid now: the pod's projected `eks-pod-identity-token`, which the
//! kubelet rotates and the SDKs re-read from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` on every
//! fetch (aws-config `ecs.rs`, botocore `ContainerProvider`). An expired, forged or foreign
//! token is `403 AccessDenied` with the reason (the real agent exchanges the token with EKS
//! Auth's `AssumeRoleForPodIdentity`, which refuses such tokens; its exact answer is
//! UNCONFIRMED).

use http::request::Parts;
use http::{Method, header};
use serde::Serialize;
use subtle::ConstantTimeEq;

use super::rotation::{self, Epoch, Holder};
use super::{Action, Context, ECS_CREDENTIALS_PREFIX, Reply};
use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::credentials::{IssuedBy, IssuedCredentials};
use crate::timestamp;
use crate::world::Container;

/// The one action container-credential events record.
pub(super) const ACTION: Action = Action::GetContainerCredentials;

/// The ECS agent's answer (field order as the agent marshals it).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EcsCredentials<'a> {
    role_arn: String,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    expiration: String,
}

/// The EKS Pod Identity agent's answer.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct PodIdentityCredentials<'a> {
    access_key_id: &'a str,
    secret_access_key: &'a str,
    token: &'a str,
    account_id: &'a str,
    expiration: String,
}

/// The ECS agent's error body.
#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(rename = "HTTPErrorCode")]
    http_error_code: u16,
}

pub(super) fn handle(ctx: Context<'_>, parts: &Parts) -> Reply {
    let Some(container) = ctx.world.container.as_ref() else {
        // `route` only sends requests here when the world has a container.
        return error(ErrorCode::InvalidIdInRequest, None);
    };
    if parts.method != Method::GET {
        return error(
            ErrorCode::MethodNotAllowed,
            Some("CredentialsV2Request: credentials are read with GET"),
        )
        .with_header("allow", "GET");
    }
    if let Some(expected) = &container.authorization_token {
        match parts.headers.get(header::AUTHORIZATION) {
            None => {
                return error(
                    ErrorCode::Unauthorized,
                    Some("CredentialsV2Request: Authorization header missing"),
                );
            }
            Some(sent) if !bool::from(sent.as_bytes().ct_eq(expected.as_bytes())) => {
                return error(
                    ErrorCode::AccessDenied,
                    Some(
                        "CredentialsV2Request: Authorization token is not valid for this endpoint",
                    ),
                );
            }
            Some(_) => {}
        }
    }
    if let Some(url) = &container.authorization_provider
        && let Some(reply) = check_projected_token(&ctx, url, parts)
    {
        return reply;
    }
    let path = parts.uri.path();
    if path == container.relative_uri {
        return credentials(ctx, container);
    }
    match path.strip_prefix(ECS_CREDENTIALS_PREFIX) {
        Some("" | "/") => error(ErrorCode::NoIdInRequest, None),
        _ => error(ErrorCode::InvalidIdInRequest, None),
    }
}

/// EKS Pod Identity with a projected token: the `Authorization` header must be a token of the
/// provider at `url`, valid now (signature, audience, `exp`, `nbf`). `None` when it is; else the
/// refusal: `401` without the header, `403 AccessDenied` naming why the token is refused (an
/// expired token's message is STS's `Token expired: …`, so a report says what happened).
fn check_projected_token(ctx: &Context<'_>, url: &str, parts: &Parts) -> Option<Reply> {
    let Some(sent) = parts.headers.get(header::AUTHORIZATION) else {
        return Some(error(
            ErrorCode::Unauthorized,
            Some("CredentialsV2Request: Authorization header missing"),
        ));
    };
    // Compared as minting and the world file compare providers; a configured provider the
    // world does not hold verifies nothing, so the token is refused rather than waved through.
    let key = crate::oidc::provider_key(url);
    let Some(provider) = ctx
        .world
        .oidc_providers
        .iter()
        .map(|(_, p)| p)
        .find(|p| crate::oidc::provider_key(&p.url) == key)
    else {
        return Some(error(
            ErrorCode::AccessDenied,
            Some(&format!(
                "CredentialsV2Request: Authorization token is not valid for this endpoint: no OIDC provider {url} in the world"
            )),
        ));
    };
    let token = String::from_utf8_lossy(sent.as_bytes());
    match ctx.verified_tokens.verify(&token, provider, ctx.now) {
        Ok(()) => None,
        Err(e) => {
            tracing::debug!(reason = ?e, "container authorization token refused");
            Some(error(
                ErrorCode::AccessDenied,
                Some(&format!(
                    "CredentialsV2Request: Authorization token is not valid for this endpoint: {e}"
                )),
            ))
        }
    }
}

fn credentials(ctx: Context<'_>, container: &Container) -> Reply {
    let epoch = Epoch::current(&container.rotation, ctx.now);
    let holder = Holder {
        role: &container.role,
        session_name: &container.session_name,
        issued_by: IssuedBy::ContainerCredentials,
        rotation: &container.rotation,
    };
    let issued = rotation::credentials(ctx.authority, holder, epoch);
    tracing::debug!(
        akid = %issued.claims.access_key_id,
        role = %container.role.arn(),
        expires_at = %timestamp::iso8601_seconds(epoch.expires_at),
        "served container credentials"
    );
    let mut reply = Reply::ok(ACTION, "application/json", body(container, &issued));
    reply.issued = Some(rotation::issued_event(&issued));
    reply
}

fn body(container: &Container, issued: &IssuedCredentials) -> String {
    let expiration = timestamp::iso8601_seconds(issued.claims.expires_at());
    // Serialising strings cannot fail.
    let pod_identity =
        container.authorization_token.is_some() || container.authorization_provider.is_some();
    let json = if pod_identity {
        serde_json::to_string(&PodIdentityCredentials {
            access_key_id: &issued.claims.access_key_id,
            secret_access_key: &issued.secret_access_key,
            token: &issued.session_token,
            account_id: &container.role.account_id,
            expiration,
        })
    } else {
        serde_json::to_string(&EcsCredentials {
            role_arn: container.role.arn(),
            access_key_id: &issued.claims.access_key_id,
            secret_access_key: &issued.secret_access_key,
            token: &issued.session_token,
            expiration,
        })
    };
    json.unwrap_or_default()
}

/// A bare status in the ECS agent's JSON error shape (fault injection): the code names the
/// status, the message is its reason phrase.
pub(super) fn status_reply(code: ErrorCode, status: http::StatusCode) -> Reply {
    let mut reply = error(code, Some(status.canonical_reason().unwrap_or("Error")));
    if let Some(e) = reply.error.as_mut() {
        e.status = status;
    }
    reply.status = status;
    reply.body = serde_json::to_string(&ErrorBody {
        code: code.as_str(),
        message: status.canonical_reason().unwrap_or("Error"),
        http_error_code: status.as_u16(),
    })
    .unwrap_or_default();
    reply
}

/// An error in the ECS agent's JSON shape; `message` defaults to AWS's for `code`.
fn error(code: ErrorCode, message: Option<&str>) -> Reply {
    let mut event = AwsError::new(Service::Imds, code);
    if let Some(message) = message {
        event.message = message.to_string();
    }
    let body = serde_json::to_string(&ErrorBody {
        code: code.as_str(),
        message: &event.message,
        http_error_code: event.status.as_u16(),
    })
    .unwrap_or_default();
    Reply::failed(ACTION, event, "application/json", body)
}
