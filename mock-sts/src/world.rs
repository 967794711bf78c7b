//! The world: accounts, IAM users with long-term keys, roles and OIDC providers.
//!
//! A world is read from a TOML file (or the built-in [`DEFAULT_WORLD_TOML`]) and is immutable
//! while the server runs. Every value is checked when the file is read, and every error names
//! the file, the line and column, and the key, so a typo never surfaces later as a confusing
//! `AccessDenied`.
//!
//! Trust is deliberately simple: a role lists the principals that may assume it (`trusted`),
//! as ARNs (`arn:aws:iam::ACCT:user/NAME`, `…:role/NAME`, `…:oidc-provider/HOST`), an
//! account (`arn:aws:iam::ACCT:root` or the bare 12-digit id: any principal of that account),
//! or `"*"` (anyone). Omitted, it trusts its own account.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use toml::Spanned;

use crate::oidc::OidcProvider;

/// The built-in world, printed by `mock-sts world --print-default`.
pub const DEFAULT_WORLD_TOML: &str = include_str!("default-world.toml");

/// Why a world file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The read error.
        source: std::io::Error,
    },
    /// The file is not valid TOML for a world, or a value is out of range.
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// The file (or `<default>` / `<string>`).
        origin: String,
        /// 1-based line of the offending key or value.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong, naming the key.
        message: String,
    },
}

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
    /// Reads a world file.
    ///
    /// # Errors
    /// [`WorldError::Io`] when unreadable, [`WorldError::Invalid`] with file, line and key.
    pub fn load(path: &Path) -> Result<World, WorldError> {
        let text = std::fs::read_to_string(path).map_err(|source| WorldError::Io {
            path: path.display().to_string(),
            source,
        })?;
        World::from_toml_str(&text, &path.display().to_string())
    }

    /// Parses a world from TOML text; `origin` names it in errors.
    ///
    /// # Errors
    /// [`WorldError::Invalid`] with the line, column and key of the first problem.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<World, WorldError> {
        let invalid = |span: Option<Range<usize>>, message: String| {
            let (line, column) = span.map_or((1, 1), |s| line_col(text, s.start));
            WorldError::Invalid {
                origin: origin.to_string(),
                line,
                column,
                message,
            }
        };
        let file: WorldFile =
            toml::from_str(text).map_err(|e| invalid(e.span(), e.message().trim().to_string()))?;

        let accounts: Vec<Account> = file
            .account
            .iter()
            .map(|a| Account {
                id: a.id.get_ref().0.clone(),
            })
            .collect();
        let Some(default_account) = accounts.first().map(|a| a.id.clone()) else {
            return Err(invalid(
                None,
                "a world needs at least one [[account]] with an `id`".to_string(),
            ));
        };
        let mut seen = HashSet::new();
        for a in &file.account {
            if !seen.insert(a.id.get_ref().0.clone()) {
                return Err(invalid(
                    Some(a.id.span()),
                    format!("account.id: account {} is declared twice", a.id.get_ref().0),
                ));
            }
        }
        let account_of = |given: &Option<Spanned<AccountId>>, what: &str| match given {
            None => Ok(default_account.clone()),
            Some(s) if seen.contains(&s.get_ref().0) => Ok(s.get_ref().0.clone()),
            Some(s) => Err(invalid(
                Some(s.span()),
                format!(
                    "{what}.account: account {} is not declared in an [[account]]",
                    s.get_ref().0
                ),
            )),
        };

        let mut users = Vec::new();
        let mut keys = HashSet::new();
        let mut user_arns = HashSet::new();
        for u in file.user {
            let user = User {
                name: u.name.get_ref().0.clone(),
                account_id: account_of(&u.account, "user")?,
                access_key_id: u.access_key_id.get_ref().0.clone(),
                secret_access_key: u.secret_access_key,
            };
            if !keys.insert(user.access_key_id.clone()) {
                return Err(invalid(
                    Some(u.access_key_id.span()),
                    format!(
                        "user.access_key_id: {} is used by two users",
                        user.access_key_id
                    ),
                ));
            }
            if !user_arns.insert(user.arn()) {
                return Err(invalid(
                    Some(u.name.span()),
                    format!("user.name: {} is declared twice", user.arn()),
                ));
            }
            users.push(user);
        }

        let mut roles = Vec::new();
        let mut role_arns = HashSet::new();
        for r in file.role {
            let account_id = account_of(&r.account, "role")?;
            let role = Role {
                name: r.name.get_ref().0.clone(),
                trusted: r
                    .trusted
                    .unwrap_or_else(|| vec![format!("arn:aws:iam::{account_id}:root")]),
                account_id,
                max_session_duration: r.max_session_duration.map_or(3600, |d| d.0),
                external_id: r.external_id,
            };
            if !role_arns.insert(role.arn()) {
                return Err(invalid(
                    Some(r.name.span()),
                    format!("role.name: {} is declared twice", role.arn()),
                ));
            }
            roles.push(role);
        }

        let mut oidc_providers = Vec::new();
        for p in file.oidc_provider {
            let account_id = account_of(&p.account, "oidc_provider")?;
            let url = p.url.get_ref().clone();
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid(
                    Some(p.url.span()),
                    format!("oidc_provider.url: `{url}` must start with https:// or http://"),
                ));
            }
            let provider = OidcProvider {
                url,
                client_ids: p.client_ids,
                jwks: p.jwks.map(|v| toml_to_json(&v)),
            };
            provider
                .validate()
                .map_err(|e| invalid(Some(p.url.span()), format!("oidc_provider: {e}")))?;
            oidc_providers.push((account_id, provider));
        }

        Ok(World {
            accounts,
            users,
            roles,
            oidc_providers,
        })
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

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn toml_to_json(value: &toml::Value) -> serde_json::Value {
    match value {
        toml::Value::String(s) => serde_json::Value::String(s.clone()),
        toml::Value::Integer(i) => serde_json::Value::from(*i),
        toml::Value::Float(f) => serde_json::Value::from(*f),
        toml::Value::Boolean(b) => serde_json::Value::Bool(*b),
        toml::Value::Datetime(d) => serde_json::Value::String(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => serde_json::Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_json(v)))
                .collect(),
        ),
    }
}

// ---- the file format -------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WorldFile {
    #[serde(default)]
    account: Vec<AccountEntry>,
    #[serde(default)]
    user: Vec<UserEntry>,
    #[serde(default)]
    role: Vec<RoleEntry>,
    #[serde(default)]
    oidc_provider: Vec<OidcEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    id: Spanned<AccountId>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserEntry {
    name: Spanned<IamName>,
    account: Option<Spanned<AccountId>>,
    access_key_id: Spanned<LongTermKeyId>,
    secret_access_key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleEntry {
    name: Spanned<IamName>,
    account: Option<Spanned<AccountId>>,
    max_session_duration: Option<MaxSessionDuration>,
    trusted: Option<Vec<String>>,
    external_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OidcEntry {
    url: Spanned<String>,
    account: Option<Spanned<AccountId>>,
    #[serde(default)]
    client_ids: Vec<String>,
    jwks: Option<toml::Value>,
}

/// A 12-digit account id.
struct AccountId(String);

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(AccountId(s))
        } else {
            Err(de::Error::custom(format!(
                "account id must be 12 digits, got `{s}`"
            )))
        }
    }
}

/// A user or role name: IAM allows `[\w+=,.@-]`, 1..=64 characters.
struct IamName(String);

impl<'de> Deserialize<'de> for IamName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
        if (1..=64).contains(&s.len()) && s.chars().all(ok_char) {
            Ok(IamName(s))
        } else {
            Err(de::Error::custom(format!(
                "name must be 1-64 characters of letters, digits and _+=,.@-, got `{s}`"
            )))
        }
    }
}

/// A long-term access key id: `AKIA` and 16 upper-case letters or digits.
#[derive(Clone)]
struct LongTermKeyId(String);

impl<'de> Deserialize<'de> for LongTermKeyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = s.len() == 20
            && s.starts_with("AKIA")
            && s[4..]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(LongTermKeyId(s))
        } else {
            Err(de::Error::custom(format!(
                "access_key_id must be AKIA followed by 16 upper-case letters or digits, got `{s}`"
            )))
        }
    }
}

impl std::ops::Deref for LongTermKeyId {
    type Target = String;
    fn deref(&self) -> &String {
        &self.0
    }
}

/// IAM's `MaxSessionDuration`: 3600..=43200 seconds.
struct MaxSessionDuration(u32);

impl<'de> Deserialize<'de> for MaxSessionDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        match u32::try_from(n) {
            Ok(n) if (3600..=43200).contains(&n) => Ok(MaxSessionDuration(n)),
            _ => Err(de::Error::custom(format!(
                "max_session_duration must be 3600..=43200 seconds (1 to 12 hours), got {n}"
            ))),
        }
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

    fn err(text: &str) -> String {
        World::from_toml_str(text, "w.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn unknown_keys_name_file_line_and_key() {
        let e = err(
            "[[account]]\nid = \"123456789012\"\n\n[[role]]\nname = \"r\"\nmax_duration = 7200\n",
        );
        assert!(e.starts_with("w.toml:6:1: "), "{e}");
        assert!(e.contains("max_duration"), "{e}");
    }

    #[test]
    fn out_of_range_values_name_line_and_key() {
        let e = err(
            "[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"r\"\nmax_session_duration = 100\n",
        );
        assert!(e.starts_with("w.toml:5:"), "{e}");
        assert!(
            e.contains("max_session_duration must be 3600..=43200"),
            "{e}"
        );
        let e = err("[[account]]\nid = \"1234\"\n");
        assert!(e.starts_with("w.toml:2:"), "{e}");
        assert!(e.contains("12 digits"), "{e}");
        let e = err(
            "[[account]]\nid = \"123456789012\"\n[[user]]\nname = \"u\"\naccess_key_id = \"ASIAXXXXXXXXXXXXXXXX\"\nsecret_access_key = \"s\"\n",
        );
        assert!(e.starts_with("w.toml:5:"), "{e}");
        assert!(e.contains("access_key_id must be AKIA"), "{e}");
        let e = err("[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"bad name\"\n");
        assert!(e.starts_with("w.toml:4:"), "{e}");
    }

    #[test]
    fn cross_references_are_checked() {
        let e = err(
            "[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"r\"\naccount = \"210987654321\"\n",
        );
        assert!(e.starts_with("w.toml:5:"), "{e}");
        assert!(e.contains("role.account"), "{e}");
        let e = err(
            "[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"r\"\n[[role]]\nname = \"r\"\n",
        );
        assert!(e.starts_with("w.toml:6:"), "{e}");
        assert!(e.contains("declared twice"), "{e}");
        let e = err("");
        assert!(e.contains("at least one [[account]]"), "{e}");
        let e = err("[[account]]\nid = \"123456789012\"\n[[oidc_provider]]\nurl = \"ftp://x\"\n");
        assert!(e.starts_with("w.toml:4:"), "{e}");
        // An https issuer needs inline keys: the mock does not speak TLS to issuers.
        let e = err(
            "[[account]]\nid = \"123456789012\"\n[[oidc_provider]]\nurl = \"https://issuer.example\"\n",
        );
        assert!(
            e.starts_with("w.toml:4:") && e.contains("oidc_provider:"),
            "{e}"
        );
    }

    #[test]
    fn not_toml_is_an_error_with_a_position() {
        let e = err("[[account]\n");
        assert!(e.starts_with("w.toml:1:"), "{e}");
    }

    #[test]
    fn inline_jwks_becomes_json() {
        let world = World::from_toml_str(
            "[[account]]\nid = \"123456789012\"\n[[oidc_provider]]\nurl = \"https://issuer.example\"\nclient_ids = [\"sts.amazonaws.com\"]\njwks = { keys = [{ kty = \"EC\", crv = \"P-256\", kid = \"k1\", x = \"CVMEDf14tr1tXmrk_y7oe7vy8mYJ3XYuKuyQ3_sCkVI\", y = \"6ftUtrHLJGrVSHqj3SwLFIObPH4CYGDVMctL32Dv7TI\" }] }\n",
            "w.toml",
        )
        .unwrap();
        let (account, provider) = &world.oidc_providers[0];
        assert_eq!(account, "123456789012");
        assert_eq!(provider.jwks.as_ref().unwrap()["keys"][0]["kid"], "k1");
    }
}
