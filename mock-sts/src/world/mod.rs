//! The world: accounts, IAM users with long-term keys, roles and OIDC providers, and the
//! instance and container that get credentials without keys.
//!
//! This module owns the model and its lookups ([`World::user_by_access_key`],
//! [`World::role_by_arn`]); the `file` module owns the TOML format a world is read from
//! ([`World::load`], [`World::from_toml_str`], the built-in [`DEFAULT_WORLD_TOML`]) and checks
//! every value as it is read, so a world read from a file holds only values AWS would accept.
//! A world is immutable while the server runs.
//!
//! Two optional sections describe where a workload gets credentials without keys: `[instance]`
//! (the EC2 instance the metadata service describes: its instance-profile role, whether IMDSv1
//! is allowed, how credentials rotate) and `[container]` (an ECS task or EKS pod: its role, the
//! credentials path, an optional authorization token). `crate::imds` serves both.
//!
//! Trust is deliberately simple: a role lists the principals that may assume it (`trusted`),
//! as ARNs (`arn:aws:iam::ACCT:user/NAME`, `…:role/NAME`, `…:oidc-provider/HOST`), an
//! account (`arn:aws:iam::ACCT:root` or the bare 12-digit id: any principal of that account),
//! or `"*"` (anyone). Omitted, it trusts its own account.

mod file;

use crate::compression::LifetimeCompression;
use std::time::Duration;

use crate::oidc::OidcProvider;

pub use file::{WorldError, line_col};

/// The built-in world, printed by `mock-sts world --print-default`.
pub const DEFAULT_WORLD_TOML: &str = include_str!("default-world.toml");

/// An AWS account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The 12-digit account id.
    pub id: String,
}

/// An IAM user with a long-term (`AKIA…`) access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name.
    pub name: String,
    /// The owning account id.
    pub account_id: String,
    /// The long-term access key id.
    pub access_key_id: String,
    /// The long-term secret access key.
    pub secret_access_key: String,
}

impl User {
    /// `arn:aws:iam::ACCT:user/NAME`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:user/{}", self.account_id, self.name)
    }

    /// The IAM unique id (`AIDA…`), stable for the same ARN.
    pub fn unique_id(&self) -> String {
        unique_id("AIDA", &self.arn())
    }
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    /// The role name.
    pub name: String,
    /// The owning account id.
    pub account_id: String,
    /// The most `DurationSeconds` that `AssumeRole` grants (3600..=43200).
    pub max_session_duration: u32,
    /// Principals that may assume it (see the module docs).
    pub trusted: Vec<String>,
    /// When set, `AssumeRole` must pass this `ExternalId`.
    pub external_id: Option<String>,
}

impl Role {
    /// `arn:aws:iam::ACCT:role/NAME`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam::{}:role/{}", self.account_id, self.name)
    }

    /// The IAM unique id (`AROA…`), stable for the same ARN.
    pub fn unique_id(&self) -> String {
        unique_id("AROA", &self.arn())
    }

    /// Whether `principal_arn` (a user, role, assumed-role session or OIDC provider ARN) of
    /// `principal_account` may assume this role.
    pub fn trusts(&self, principal_arn: &str, principal_account: &str) -> bool {
        self.trusted.iter().any(|t| {
            t == "*"
                || t == principal_arn
                || *t == format!("arn:aws:iam::{principal_account}:root")
                || t == principal_account
        })
    }
}

impl Role {
    /// Whether a federated principal (an OIDC provider ARN) may assume this role. Unlike IAM
    /// principals, federated ones must be named explicitly (or `"*"`): trusting an account's
    /// root does not trust its identity providers, as in IAM trust policies.
    pub fn trusts_federated(&self, provider_arn: &str) -> bool {
        self.trusted.iter().any(|t| t == "*" || t == provider_arn)
    }
}

/// IAM's unique ids: a prefix and 17 upper-case characters derived from the ARN.
fn unique_id(prefix: &str, arn: &str) -> String {
    use sha2::{Digest, Sha256};
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(arn.as_bytes());
    let mut id = String::from(prefix);
    for byte in digest.iter().take(17) {
        id.push(char::from(ALPHABET[usize::from(byte & 31)]));
    }
    id
}

/// Whether the metadata service requires IMDSv2 session tokens: an instance's `HttpTokens`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpTokens {
    /// IMDSv2 only: a `GET` without a token is `401` (the default here, and for new
    /// instances launched from current Amazon Linux AMIs).
    Required,
    /// IMDSv1 allowed: a `GET` without a token is served; a token that is sent must be valid.
    Optional,
}

/// How credentials from a metadata endpoint rotate, as EC2 rotates instance-profile
/// credentials: new ones every `rotate_every`, each living `credential_lifetime`.
///
/// Rotation epochs count from the Unix epoch, so the credentials of epoch `n` are issued at
/// `n × rotate_every` and expire `credential_lifetime` later, whatever the server's start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// How long each credential set lives (default 6 h, like the recorded IMDS sample).
    pub credential_lifetime: Duration,
    /// How often a new set appears (default 1 h).
    pub rotate_every: Duration,
}

impl Rotation {
    /// EC2's observed shape: about 6 h of life, a new set every hour (aws-facts §4.1; the
    /// rotation period itself is UNCONFIRMED, AWS only promises "at least five minutes before").
    pub const DEFAULT: Rotation = Rotation {
        credential_lifetime: Duration::from_secs(6 * 3600),
        rotate_every: Duration::from_secs(3600),
    };

    /// The least life a credential set may have left when first served. botocore extends IMDS
    /// credentials that expire within 17-25 minutes and then uses them past their real expiry
    /// (aws-facts §4.4), which real EC2 never provokes, so a world may not either.
    pub const MIN_LIFE_WHEN_SERVED: Duration = Duration::from_secs(25 * 60);
}

impl Rotation {
    /// Lifetime and period divided by `compression`'s factor.
    pub fn compressed(self, compression: LifetimeCompression) -> Rotation {
        Rotation {
            credential_lifetime: compression.compress(self.credential_lifetime),
            rotate_every: compression.compress(self.rotate_every),
        }
    }
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation::DEFAULT
    }
}

/// The EC2 instance that `/latest/` describes (`[instance]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// The instance-profile role, a role of the world.
    pub role: Role,
    /// IMDSv2 required or optional.
    pub http_tokens: HttpTokens,
    /// The instance id: the role session name of its credentials, as on EC2.
    pub instance_id: String,
    /// How its credentials rotate.
    pub rotation: Rotation,
}

/// The default `[instance]` id: the example instance id of the EC2 documentation.
pub const DEFAULT_INSTANCE_ID: &str = "i-1234567890abcdef0";

/// The container credential endpoint (`[container]`): an ECS task role, or, with an
/// authorization token, an EKS Pod Identity association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The task or pod role, a role of the world.
    pub role: Role,
    /// The path that serves the credentials (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`, or the
    /// path of `AWS_CONTAINER_CREDENTIALS_FULL_URI`).
    pub relative_uri: String,
    /// When set, requests must carry it as their raw `Authorization` header value.
    pub authorization_token: Option<String>,
    /// EKS Pod Identity with projected tokens: the URL of an OIDC provider of the world whose
    /// tokens the endpoint accepts as the `Authorization` header (signature, audience, expiry
    /// checked as `AssumeRoleWithWebIdentity` checks them), as the EKS Pod Identity agent
    /// accepts the pod's rotating `eks-pod-identity-token`. Exclusive with
    /// `authorization_token`.
    pub authorization_provider: Option<String>,
    /// The role session name of its credentials (ECS uses the task id).
    pub session_name: String,
    /// How its credentials rotate.
    pub rotation: Rotation,
}

/// The default `[container]` path, shaped like the ECS agent's `/v2/credentials/<uuid>`.
pub const DEFAULT_CONTAINER_RELATIVE_URI: &str =
    "/v2/credentials/6d1e8f2a-4b7c-4e9d-a3f5-0c2b9e7d1a48";

/// The default `[container]` session name, shaped like an ECS task id.
pub const DEFAULT_CONTAINER_SESSION_NAME: &str = "6d1e8f2a4b7c4e9da3f50c2b9e7d1a48";

/// Everything the mock knows about identities.
#[derive(Debug, Clone)]
pub struct World {
    /// Accounts; the first is the default for users and roles that name none.
    pub accounts: Vec<Account>,
    /// IAM users.
    pub users: Vec<User>,
    /// IAM roles.
    pub roles: Vec<Role>,
    /// OIDC identity providers for `AssumeRoleWithWebIdentity`, with their account id.
    pub oidc_providers: Vec<(String, OidcProvider)>,
    /// The EC2 instance the metadata service (`/latest/`) describes, if any.
    pub instance: Option<Instance>,
    /// The container credential endpoint (ECS task role, EKS Pod Identity), if any.
    pub container: Option<Container>,
}

impl Default for World {
    /// The built-in world (see [`DEFAULT_WORLD_TOML`]).
    fn default() -> Self {
        match World::from_toml_str(DEFAULT_WORLD_TOML, "<default>") {
            Ok(world) => world,
            // A unit test parses the constant; this cannot happen in a released build.
            Err(e) => panic!("the built-in world is invalid: {e}"),
        }
    }
}

impl World {
    /// The same world with its instance and container rotations compressed (see
    /// [`crate::compression`]).
    pub fn compressed(mut self, compression: LifetimeCompression) -> World {
        if let Some(instance) = &mut self.instance {
            instance.rotation = instance.rotation.compressed(compression);
        }
        if let Some(container) = &mut self.container {
            container.rotation = container.rotation.compressed(compression);
        }
        self
    }

    /// The user owning a long-term access key.
    pub fn user_by_access_key(&self, access_key_id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.access_key_id == access_key_id)
    }

    /// The role with this ARN.
    pub fn role_by_arn(&self, arn: &str) -> Option<&Role> {
        self.roles.iter().find(|r| r.arn() == arn)
    }

    /// The OIDC providers, in the order declared.
    pub fn oidc_provider_list(&self) -> Vec<OidcProvider> {
        self.oidc_providers.iter().map(|(_, p)| p.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_world_parses_and_has_the_documented_principals() {
        let world = World::default();
        assert_eq!(world.accounts[0].id, "123456789012");
        let user = world.user_by_access_key("AKIAIOSFODNN7EXAMPLE").unwrap();
        assert_eq!(user.arn(), "arn:aws:iam::123456789012:user/pipeline");
        let long = world
            .role_by_arn("arn:aws:iam::123456789012:role/cross-account-s3")
            .unwrap();
        assert_eq!(long.max_session_duration, 43200);
        let short = world
            .role_by_arn("arn:aws:iam::123456789012:role/short-session")
            .unwrap();
        assert_eq!(short.max_session_duration, 3600);
        assert!(long.trusts(&user.arn(), "123456789012"));
        assert!(!long.trusts("arn:aws:iam::999999999999:user/x", "999999999999"));
    }

    #[test]
    fn unique_ids_look_like_iam_ids() {
        let world = World::default();
        let id = world.roles[0].unique_id();
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        assert_eq!(id, world.roles[0].unique_id());
    }

    #[test]
    fn default_world_has_an_instance_and_a_container() {
        let world = World::default();
        let instance = world.instance.as_ref().unwrap();
        assert_eq!(
            instance.role.arn(),
            "arn:aws:iam::123456789012:role/instance-role"
        );
        assert_eq!(instance.http_tokens, HttpTokens::Required);
        assert_eq!(instance.instance_id, DEFAULT_INSTANCE_ID);
        assert_eq!(instance.rotation, Rotation::DEFAULT);
        let container = world.container.as_ref().unwrap();
        assert_eq!(container.role.name, "task-role");
        assert_eq!(container.relative_uri, DEFAULT_CONTAINER_RELATIVE_URI);
        assert_eq!(container.session_name, DEFAULT_CONTAINER_SESSION_NAME);
        assert_eq!(container.authorization_token, None);
        // The instance's sessions may assume the 12-hour role (it trusts the account).
        let long = world
            .role_by_arn("arn:aws:iam::123456789012:role/cross-account-s3")
            .unwrap();
        assert!(long.trusts(&instance.role.arn(), "123456789012"));
    }
}
