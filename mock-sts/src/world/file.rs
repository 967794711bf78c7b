//! The world file: the TOML format of a [`World`], its parsing and its validation.
//!
//! Every value is checked when the file is read, and every error names the file, the line and
//! column, and the key, so a typo never surfaces later as a confusing `AccessDenied`.
//!
//! Checking takes two passes. serde reads the file into private `*Entry` structs that deny
//! unknown keys, and newtypes (`AccountId`, `IamName`, `LongTermKeyId`, …) reject a malformed
//! value while it is read, when `toml` still knows its span. [`World::from_toml_str`] then
//! checks what needs the whole file (duplicates, references to declared accounts and roles,
//! rotation bounds), keeping a [`Spanned`] for every value it may reject. [`line_col`] turns
//! a span into the line and column an error prints; the harness uses it for scenario files.

use std::collections::HashSet;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use toml::Spanned;

use super::{
    Account, Container, DEFAULT_CONTAINER_RELATIVE_URI, DEFAULT_CONTAINER_SESSION_NAME,
    DEFAULT_INSTANCE_ID, HttpTokens, Instance, Role, Rotation, User, World,
};
use crate::oidc::OidcProvider;

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
                mint: p.mint.unwrap_or(false),
            };
            provider
                .validate()
                .map_err(|e| invalid(Some(p.url.span()), format!("oidc_provider: {e}")))?;
            oidc_providers.push((account_id, provider));
        }

        let instance = match file.instance {
            None => None,
            Some(entry) => Some(instance_from(entry, &roles, &invalid)?),
        };
        let container = match file.container {
            None => None,
            Some(entry) => Some(container_from(entry, &roles, &oidc_providers, &invalid)?),
        };

        Ok(World {
            accounts,
            users,
            roles,
            oidc_providers,
            instance,
            container,
        })
    }
}

/// Builds a world error from a span and a message (the closure in [`World::from_toml_str`]).
type Invalid<'a> = dyn Fn(Option<Range<usize>>, String) -> WorldError + 'a;

/// The role a section names, by name (unique across accounts) or by ARN.
fn resolve_role(
    given: &Spanned<String>,
    roles: &[Role],
    what: &str,
    invalid: &Invalid<'_>,
) -> Result<Role, WorldError> {
    let wanted = given.get_ref();
    let matches: Vec<&Role> = if wanted.starts_with("arn:") {
        roles.iter().filter(|r| r.arn() == *wanted).collect()
    } else {
        roles.iter().filter(|r| r.name == *wanted).collect()
    };
    match matches.as_slice() {
        [role] => Ok((*role).clone()),
        [] => Err(invalid(
            Some(given.span()),
            format!("{what}.role: role `{wanted}` is not declared in a [[role]]"),
        )),
        _ => Err(invalid(
            Some(given.span()),
            format!("{what}.role: several accounts have a role `{wanted}`; give its ARN"),
        )),
    }
}

/// A duration key: a whole number of seconds (`21600`) or a duration (`"6h"`, `"90m"`), from
/// 60 s to 12 h.
fn seconds(
    value: &Spanned<toml::Value>,
    key: &str,
    invalid: &Invalid<'_>,
) -> Result<Duration, WorldError> {
    let parsed = match value.get_ref() {
        toml::Value::Integer(n) => u64::try_from(*n).ok().map(Duration::from_secs),
        toml::Value::String(t) => crate::clock::parse_duration(t).ok(),
        _ => None,
    };
    match parsed {
        Some(d) if d.subsec_nanos() == 0 && (60..=43200).contains(&d.as_secs()) => Ok(d),
        _ => Err(invalid(
            Some(value.span()),
            format!(
                "{key} must be whole seconds from 60 to 43200, as a number or a duration like \"6h\" or \"90m\", got {}",
                value.get_ref()
            ),
        )),
    }
}

/// The rotation of a section, checked against [`Rotation::MIN_LIFE_WHEN_SERVED`].
fn rotation_from(
    lifetime: Option<Spanned<toml::Value>>,
    every: Option<Spanned<toml::Value>>,
    what: &str,
    invalid: &Invalid<'_>,
) -> Result<Rotation, WorldError> {
    let mut rotation = Rotation::DEFAULT;
    if let Some(value) = &lifetime {
        rotation.credential_lifetime =
            seconds(value, &format!("{what}.credential_lifetime"), invalid)?;
    }
    if let Some(value) = &every {
        rotation.rotate_every = seconds(value, &format!("{what}.rotate_every"), invalid)?;
    }
    let least_left = rotation
        .credential_lifetime
        .saturating_sub(rotation.rotate_every);
    if least_left <= Rotation::MIN_LIFE_WHEN_SERVED {
        let span = every.or(lifetime).map(|v| v.span());
        return Err(invalid(
            span,
            format!(
                "{what}.rotate_every: credentials must have more than 25 minutes left when first served \
                 (credential_lifetime {} s minus rotate_every {} s leaves {} s); botocore extends \
                 shorter-lived metadata credentials past their expiry",
                rotation.credential_lifetime.as_secs(),
                rotation.rotate_every.as_secs(),
                least_left.as_secs()
            ),
        ));
    }
    Ok(rotation)
}

fn instance_from(
    entry: InstanceEntry,
    roles: &[Role],
    invalid: &Invalid<'_>,
) -> Result<Instance, WorldError> {
    let role = resolve_role(&entry.role, roles, "instance", invalid)?;
    let http_tokens = match &entry.http_tokens {
        None => HttpTokens::Required,
        Some(v) => match v.get_ref().as_str() {
            "required" => HttpTokens::Required,
            "optional" => HttpTokens::Optional,
            other => {
                return Err(invalid(
                    Some(v.span()),
                    format!(
                        "instance.http_tokens must be \"required\" (IMDSv2 only) or \"optional\" (IMDSv1 allowed), got `{other}`"
                    ),
                ));
            }
        },
    };
    let rotation = rotation_from(
        entry.credential_lifetime,
        entry.rotate_every,
        "instance",
        invalid,
    )?;
    Ok(Instance {
        role,
        http_tokens,
        instance_id: entry
            .instance_id
            .map_or_else(|| DEFAULT_INSTANCE_ID.to_string(), |i| i.0),
        rotation,
    })
}

fn container_from(
    entry: ContainerEntry,
    roles: &[Role],
    providers: &[(String, OidcProvider)],
    invalid: &Invalid<'_>,
) -> Result<Container, WorldError> {
    let role = resolve_role(&entry.role, roles, "container", invalid)?;
    let rotation = rotation_from(
        entry.credential_lifetime,
        entry.rotate_every,
        "container",
        invalid,
    )?;
    let relative_uri = match entry.relative_uri {
        None => DEFAULT_CONTAINER_RELATIVE_URI.to_string(),
        Some(uri) => {
            let text = uri.get_ref();
            let reserved = ["/latest", "/_mock"]
                .iter()
                .any(|p| text == p || text.starts_with(&format!("{p}/")));
            let path_char =
                |c: char| c.is_ascii_alphanumeric() || "/-._~!$&'()*+,;=:@%".contains(c);
            if !text.starts_with('/')
                || text.len() > 1024
                || !text.chars().all(path_char)
                || reserved
            {
                return Err(invalid(
                    Some(uri.span()),
                    format!(
                        "container.relative_uri: `{text}` must be an absolute path (no query) outside /latest/ and /_mock/"
                    ),
                ));
            }
            text.clone()
        }
    };
    let authorization_token = match entry.authorization_token.as_ref() {
        None => None,
        Some(token) => {
            let text = token.get_ref();
            // Sent as a raw header value: visible ASCII, and no surrounding spaces, which
            // HTTP would strip.
            let ok = !text.is_empty()
                && text.bytes().all(|b| (0x20..0x7f).contains(&b))
                && text.trim() == text;
            if !ok {
                return Err(invalid(
                    Some(token.span()),
                    "container.authorization_token: must be non-empty printable ASCII without surrounding spaces (it is sent as a header value)".to_string(),
                ));
            }
            Some(text.clone())
        }
    };
    let authorization_provider = match entry.authorization_provider {
        None => None,
        Some(_) if authorization_token.is_some() => {
            return Err(invalid(
                entry.authorization_token.as_ref().map(Spanned::span),
                "container.authorization_token: give a fixed authorization_token or an authorization_provider, not both".to_string(),
            ));
        }
        Some(url) => {
            let key = crate::oidc::provider_key(url.get_ref());
            let Some((_, provider)) = providers
                .iter()
                .find(|(_, p)| crate::oidc::provider_key(&p.url) == key)
            else {
                return Err(invalid(
                    Some(url.span()),
                    format!(
                        "container.authorization_provider: `{}` is not the url of an [[oidc_provider]] of this world",
                        url.get_ref()
                    ),
                ));
            };
            Some(provider.url.clone())
        }
    };
    Ok(Container {
        role,
        relative_uri,
        authorization_token,
        authorization_provider,
        session_name: entry
            .session_name
            .map_or_else(|| DEFAULT_CONTAINER_SESSION_NAME.to_string(), |n| n.0),
        rotation,
    })
}

/// The 1-based line and column of a byte offset in `text`, for errors that name a TOML key's
/// position (world files here, scenario files in the harness).
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
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
// ---- the schema: what serde reads, each value checked as it is read ---------------------------

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
    instance: Option<InstanceEntry>,
    container: Option<ContainerEntry>,
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
    mint: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceEntry {
    role: Spanned<String>,
    http_tokens: Option<Spanned<String>>,
    instance_id: Option<InstanceId>,
    credential_lifetime: Option<Spanned<toml::Value>>,
    rotate_every: Option<Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ContainerEntry {
    role: Spanned<String>,
    relative_uri: Option<Spanned<String>>,
    authorization_token: Option<Spanned<String>>,
    authorization_provider: Option<Spanned<String>>,
    session_name: Option<SessionName>,
    credential_lifetime: Option<Spanned<toml::Value>>,
    rotate_every: Option<Spanned<toml::Value>>,
}

/// An EC2 instance id: `i-` and 8 or 17 lower-case hex digits.
struct InstanceId(String);

impl<'de> Deserialize<'de> for InstanceId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = s.strip_prefix("i-").is_some_and(|hex| {
            (hex.len() == 8 || hex.len() == 17)
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(InstanceId(s))
        } else {
            Err(de::Error::custom(format!(
                "instance_id must be i- followed by 8 or 17 lower-case hex digits, got `{s}`"
            )))
        }
    }
}

/// A role session name: 2..=64 of `[\w+=,.@-]`, as `AssumeRole` requires.
struct SessionName(String);

impl<'de> Deserialize<'de> for SessionName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
        if (2..=64).contains(&s.len()) && s.chars().all(ok_char) {
            Ok(SessionName(s))
        } else {
            Err(de::Error::custom(format!(
                "session_name must be 2-64 characters of letters, digits and _+=,.@-, got `{s}`"
            )))
        }
    }
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
    const ROLES: &str = "[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"r\"\n";

    #[test]
    fn instance_and_container_sections_parse_with_their_settings() {
        let world = World::from_toml_str(
            &format!(
                "{ROLES}[instance]\nrole = \"arn:aws:iam::123456789012:role/r\"\nhttp_tokens = \"optional\"\ninstance_id = \"i-0abc1234\"\ncredential_lifetime = 7200\nrotate_every = \"30m\"\n[container]\nrole = \"r\"\nrelative_uri = \"/creds/x\"\nauthorization_token = \"Bearer abc\"\nsession_name = \"task-1\"\n"
            ),
            "w.toml",
        )
        .unwrap();
        let instance = world.instance.unwrap();
        assert_eq!(instance.http_tokens, HttpTokens::Optional);
        assert_eq!(instance.instance_id, "i-0abc1234");
        assert_eq!(
            instance.rotation,
            Rotation {
                credential_lifetime: Duration::from_secs(7200),
                rotate_every: Duration::from_secs(1800),
            }
        );
        let container = world.container.unwrap();
        assert_eq!(container.relative_uri, "/creds/x");
        assert_eq!(container.authorization_token.as_deref(), Some("Bearer abc"));
        assert_eq!(container.session_name, "task-1");
        assert_eq!(container.rotation, Rotation::DEFAULT);
        let plain = World::from_toml_str(ROLES, "w.toml").unwrap();
        assert!(plain.instance.is_none() && plain.container.is_none());
    }

    #[test]
    fn instance_and_container_errors_name_line_and_key() {
        let cases = [
            (
                "[instance]\nrole = \"nope\"\n",
                "w.toml:6:",
                "instance.role: role `nope` is not declared",
            ),
            (
                "[instance]\nrole = \"r\"\nhttp_tokens = \"sometimes\"\n",
                "w.toml:7:",
                "instance.http_tokens must be \"required\" (IMDSv2 only) or \"optional\" (IMDSv1 allowed), got `sometimes`",
            ),
            (
                "[instance]\nrole = \"r\"\nhop_limit = 2\n",
                "w.toml:7:",
                "hop_limit",
            ),
            (
                "[instance]\nrole = \"r\"\ninstance_id = \"vm-1\"\n",
                "w.toml:7:",
                "instance_id must be i-",
            ),
            (
                "[instance]\nrole = \"r\"\ncredential_lifetime = \"ages\"\n",
                "w.toml:7:",
                "instance.credential_lifetime must be whole seconds from 60 to 43200",
            ),
            (
                "[instance]\nrole = \"r\"\ncredential_lifetime = 30\n",
                "w.toml:7:",
                "instance.credential_lifetime must be whole seconds from 60 to 43200, as a number or a duration like \"6h\" or \"90m\", got 30",
            ),
            (
                "[instance]\nrole = \"r\"\nrotate_every = 1.5\n",
                "w.toml:7:",
                "instance.rotate_every must be whole seconds from 60 to 43200, as a number or a duration like \"6h\" or \"90m\", got 1.5",
            ),
            (
                "[instance]\nrole = \"r\"\ncredential_lifetime = \"1h\"\nrotate_every = \"40m\"\n",
                "w.toml:8:",
                "instance.rotate_every: credentials must have more than 25 minutes left",
            ),
            (
                "[container]\nrole = \"r\"\nrelative_uri = \"creds\"\n",
                "w.toml:7:",
                "container.relative_uri",
            ),
            (
                "[container]\nrole = \"r\"\nrelative_uri = \"/latest/x\"\n",
                "w.toml:7:",
                "container.relative_uri",
            ),
            (
                "[container]\nrole = \"r\"\nrelative_uri = \"/c?id=1\"\n",
                "w.toml:7:",
                "container.relative_uri",
            ),
            (
                "[container]\nrole = \"r\"\nauthorization_token = \" x\"\n",
                "w.toml:7:",
                "container.authorization_token",
            ),
            (
                "[container]\nrole = \"r\"\nsession_name = \"a b\"\n",
                "w.toml:7:",
                "session_name must be",
            ),
        ];
        for (section, at, message) in cases {
            let e = err(&format!("{ROLES}{section}"));
            assert!(e.starts_with(at), "{section}: {e}");
            assert!(e.contains(message), "{section}: {e}");
        }
        let two_accounts = "[[account]]\nid = \"123456789012\"\n[[account]]\nid = \"210987654321\"\n[[role]]\nname = \"r\"\n[[role]]\nname = \"r\"\naccount = \"210987654321\"\n[instance]\nrole = \"r\"\n";
        let e = err(two_accounts);
        assert!(
            e.starts_with("w.toml:11:") && e.contains("give its ARN"),
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
