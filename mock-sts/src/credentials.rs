//! Temporary credentials: `ASIA…` access keys, derived secrets and self-validating session tokens.
//!
//! The server keeps no per-credential state (DESIGN.md §3). A session token carries its own
//! claims (principal, session name, issued-at, expires-at, how it was issued) and an HMAC over
//! them under the server key; the secret access key is an HMAC of the access key id under the
//! same key. So a restarted server, or any number of replicas, started with the same `--key`
//! validates every token any of them issued, and nothing grows with the number of credentials.
//!
//! Tokens are opaque to clients, as AWS's are. Their format is ours to change: a version byte,
//! the claims as JSON, and a 32-byte HMAC-SHA256 tag, base64-encoded.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::timestamp;

mod token_cache;

const TOKEN_VERSION: u8 = 1;
const TAG_LEN: usize = 32;

/// The server's secret: authenticates tokens and derives secret keys. Never logged.
#[derive(Clone)]
pub struct ServerKey([u8; 32]);

impl fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerKey(** redacted **)")
    }
}

/// Why a `--key` value was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    /// Not 64 hexadecimal characters.
    #[error("the server key must be 64 hex characters (32 bytes), got {0} characters")]
    BadLength(usize),
    /// Not hexadecimal.
    #[error("the server key must be hexadecimal")]
    NotHex,
}

impl ServerKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        ServerKey(bytes)
    }

    /// A key from 64 hex characters.
    ///
    /// # Errors
    /// [`KeyError`] when the text is not 64 hex characters.
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(KeyError::BadLength(text.len()));
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).map_err(|_| KeyError::NotHex)?;
        Ok(ServerKey(bytes))
    }

    /// A key drawn from `rng` (seeded, so a seeded run issues the same credentials).
    pub fn generate(rng: &mut fastrand::Rng) -> Self {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes);
        ServerKey(bytes)
    }

    /// The key as 64 hex characters, for `--key`.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn mac(&self, domain: &[u8], data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        mac.update(domain);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// How a credential came to be, for reports that explain a failure.
///
/// The derived `Serialize` writes the variant name, which is [`IssuedBy::as_str`]: events
/// (`signed_by.issued_by`) and session tokens both rely on that spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssuedBy {
    /// `sts:AssumeRole`.
    AssumeRole,
    /// `sts:AssumeRoleWithWebIdentity`.
    AssumeRoleWithWebIdentity,
    /// `sts:GetSessionToken`.
    GetSessionToken,
    /// The instance metadata service (an instance profile role).
    InstanceMetadata,
    /// The container credential endpoint.
    ContainerCredentials,
}

impl IssuedBy {
    /// Every way a credential is issued.
    pub const ALL: [IssuedBy; 5] = [
        IssuedBy::AssumeRole,
        IssuedBy::AssumeRoleWithWebIdentity,
        IssuedBy::GetSessionToken,
        IssuedBy::InstanceMetadata,
        IssuedBy::ContainerCredentials,
    ];

    /// The action name, as AWS spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            IssuedBy::AssumeRole => "AssumeRole",
            IssuedBy::AssumeRoleWithWebIdentity => "AssumeRoleWithWebIdentity",
            IssuedBy::GetSessionToken => "GetSessionToken",
            IssuedBy::InstanceMetadata => "InstanceMetadata",
            IssuedBy::ContainerCredentials => "ContainerCredentials",
        }
    }
}

impl fmt::Display for IssuedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a session token says about its credentials. Everything a request needs to be
/// authorised, without any server-side state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The `ASIA…` access key id these claims belong to.
    #[serde(rename = "k")]
    pub access_key_id: String,
    /// The account id.
    #[serde(rename = "a")]
    pub account_id: String,
    /// The caller ARN as `GetCallerIdentity` reports it
    /// (`arn:aws:sts::ACCT:assumed-role/ROLE/SESSION` or `arn:aws:iam::ACCT:user/NAME`).
    #[serde(rename = "p")]
    pub principal_arn: String,
    /// `UserId` as `GetCallerIdentity` reports it (`AROA…:SESSION` or `AIDA…`).
    #[serde(rename = "u")]
    pub user_id: String,
    /// The role ARN for role sessions; `None` for `GetSessionToken` sessions.
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The session name for role sessions.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// `SourceIdentity`, once set it follows the session through role chaining.
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// Issue time, Unix milliseconds (simulated clock).
    #[serde(rename = "t")]
    pub issued_at_ms: u64,
    /// Expiry, Unix milliseconds (whole seconds, as STS issues them).
    #[serde(rename = "x")]
    pub expires_at_ms: u64,
    /// How it was issued.
    #[serde(rename = "b")]
    pub issued_by: IssuedBy,
    /// `DurationSeconds` the caller asked for, if any.
    #[serde(rename = "q", default, skip_serializing_if = "Option::is_none")]
    pub duration_requested: Option<u32>,
    /// Whether the session came from role chaining (a role session assuming a role).
    #[serde(rename = "c", default)]
    pub chained: bool,
}

impl SessionClaims {
    /// When the session was issued.
    pub fn issued_at(&self) -> SystemTime {
        timestamp::from_unix_millis(self.issued_at_ms)
    }

    /// When the session expires: it is expired at every instant `>=` this one.
    pub fn expires_at(&self) -> SystemTime {
        timestamp::from_unix_millis(self.expires_at_ms)
    }

    /// Whether the session is expired at `now` (`now >= Expiration`, aws-facts §2).
    pub fn is_expired_at(&self, now: SystemTime) -> bool {
        now >= self.expires_at()
    }

    /// The granted lifetime.
    pub fn duration(&self) -> Duration {
        Duration::from_millis(self.expires_at_ms.saturating_sub(self.issued_at_ms))
    }

    /// Whether this is a role session (so assuming a role from it is role chaining).
    pub fn is_role_session(&self) -> bool {
        self.role_arn.is_some()
    }
}

/// A freshly issued credential set.
#[derive(Clone)]
pub struct IssuedCredentials {
    /// The claims inside the token.
    pub claims: SessionClaims,
    /// The derived secret access key.
    pub secret_access_key: String,
    /// The session token.
    pub session_token: String,
}

impl fmt::Debug for IssuedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCredentials")
            .field("claims", &self.claims)
            .field("secret_access_key", &"** redacted **")
            .field("session_token", &"** redacted **")
            .finish()
    }
}

/// Why a session token was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not base64, too short, an unknown version, or claims that do not parse.
    #[error("the session token is malformed")]
    Malformed,
    /// The tag does not verify under this server's key: tampered, or from another key.
    #[error("the session token was not issued by this server key")]
    BadTag,
    /// The token belongs to another access key id.
    #[error("the session token does not belong to access key {0}")]
    WrongAccessKey(String),
}

/// Issues and validates temporary credentials under one server key.
#[derive(Debug, Clone)]
pub struct CredentialAuthority {
    key: ServerKey,
}

impl CredentialAuthority {
    /// An authority for `key`.
    pub fn new(key: ServerKey) -> Self {
        CredentialAuthority { key }
    }

    /// A new `ASIA…` access key id: `ASIA` and 16 characters of IAM's base-32 alphabet.
    pub fn new_access_key_id(rng: &mut fastrand::Rng) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut id = String::from("ASIA");
        for _ in 0..16 {
            id.push(char::from(ALPHABET[rng.usize(..32)]));
        }
        id
    }

    /// An `ASIA…` access key id derived from `input` under the server key, for credentials that
    /// must be the same on every call and after a restart (the metadata endpoints derive one per
    /// rotation epoch). `purpose` separates the uses; the same pair always gives the same id.
    pub fn derived_access_key_id(&self, purpose: &str, input: &[u8]) -> String {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let tag = self.derive(purpose, input);
        let mut id = String::from("ASIA");
        for byte in tag.iter().take(16) {
            id.push(char::from(ALPHABET[usize::from(byte & 31)]));
        }
        id
    }

    /// An HMAC tag over `input` under the server key, for other modules' self-validating values
    /// (IMDS session tokens). The domain prefix differs from the token and secret domains in
    /// its tenth byte, so no tag made here can stand in for a session-token tag or a secret.
    pub(crate) fn derive(&self, purpose: &str, input: &[u8]) -> [u8; 32] {
        let mut data = Vec::with_capacity(purpose.len() + 1 + input.len());
        data.extend_from_slice(purpose.as_bytes());
        data.push(0);
        data.extend_from_slice(input);
        self.key.mac(b"mock-sts/derive/v1\0", &data)
    }

    /// The secret access key for a temporary access key id: 40 base64 characters, like AWS's.
    pub fn secret_for(&self, access_key_id: &str) -> String {
        let tag = self
            .key
            .mac(b"mock-sts/secret/v1\0", access_key_id.as_bytes());
        let mut secret = B64.encode(tag);
        secret.truncate(40);
        secret
    }

    /// Seals `claims` into a session token and derives the secret.
    pub fn issue(&self, claims: SessionClaims) -> IssuedCredentials {
        let mut payload = vec![TOKEN_VERSION];
        // Serialising plain strings and numbers cannot fail.
        payload.extend(serde_json::to_vec(&claims).unwrap_or_default());
        let tag = self.key.mac(b"mock-sts/token/v1\0", &payload);
        payload.extend_from_slice(&tag);
        IssuedCredentials {
            secret_access_key: self.secret_for(&claims.access_key_id),
            session_token: B64.encode(payload),
            claims,
        }
    }

    /// Checks a token's integrity and that it belongs to `access_key_id`, and returns its claims.
    /// Expiry is the caller's to judge, on its clock.
    ///
    /// # Errors
    /// [`TokenError`] for a malformed, forged or mismatched token.
    pub fn validate(&self, token: &str, access_key_id: &str) -> Result<SessionClaims, TokenError> {
        self.validate_uncached(token, access_key_id)
    }

    /// [`CredentialAuthority::validate`] and [`CredentialAuthority::secret_for`] in one, for
    /// the request path: a token this thread validated before is answered from a small cache
    /// (`token_cache`), with the same claims and secret.
    ///
    /// # Errors
    /// As [`CredentialAuthority::validate`].
    pub fn validate_with_secret(
        &self,
        token: &str,
        access_key_id: &str,
    ) -> Result<(SessionClaims, String), TokenError> {
        if let Some(hit) = token_cache::get(&self.key.0, token, access_key_id) {
            return Ok(hit);
        }
        let claims = self.validate_uncached(token, access_key_id)?;
        let secret = self.secret_for(access_key_id);
        token_cache::put(&self.key.0, token, access_key_id, &claims, &secret);
        Ok((claims, secret))
    }

    fn validate_uncached(
        &self,
        token: &str,
        access_key_id: &str,
    ) -> Result<SessionClaims, TokenError> {
        let raw = B64
            .decode(token.trim())
            .map_err(|_| TokenError::Malformed)?;
        if raw.len() < 1 + TAG_LEN || raw[0] != TOKEN_VERSION {
            return Err(TokenError::Malformed);
        }
        let (payload, tag) = raw.split_at(raw.len() - TAG_LEN);
        let expected = self.key.mac(b"mock-sts/token/v1\0", payload);
        if !bool::from(expected.ct_eq(tag)) {
            return Err(TokenError::BadTag);
        }
        let claims: SessionClaims =
            serde_json::from_slice(&payload[1..]).map_err(|_| TokenError::Malformed)?;
        if claims.access_key_id != access_key_id {
            return Err(TokenError::WrongAccessKey(access_key_id.to_string()));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn claims(akid: &str) -> SessionClaims {
        SessionClaims {
            access_key_id: akid.to_string(),
            account_id: "123456789012".into(),
            principal_arn: "arn:aws:sts::123456789012:assumed-role/r/s".into(),
            user_id: "AROAEXAMPLE:s".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/r".into()),
            session_name: Some("s".into()),
            source_identity: None,
            issued_at_ms: 1_767_225_600_000,
            expires_at_ms: 1_767_229_200_000,
            issued_by: IssuedBy::AssumeRole,
            duration_requested: None,
            chained: false,
        }
    }

    fn authority(byte: u8) -> CredentialAuthority {
        CredentialAuthority::new(ServerKey::from_bytes([byte; 32]))
    }

    #[test]
    fn issued_by_serialises_as_its_name() {
        for by in IssuedBy::ALL {
            let json = serde_json::to_value(by).unwrap();
            assert_eq!(json, serde_json::Value::from(by.as_str()));
        }
    }

    #[test]
    fn issued_tokens_validate_and_round_trip_claims() {
        let mut rng = fastrand::Rng::with_seed(1);
        let akid = CredentialAuthority::new_access_key_id(&mut rng);
        assert!(akid.starts_with("ASIA") && akid.len() == 20);
        let issued = authority(7).issue(claims(&akid));
        assert_eq!(issued.secret_access_key.len(), 40);
        assert_eq!(
            authority(7).validate(&issued.session_token, &akid),
            Ok(claims(&akid))
        );
    }

    #[test]
    fn cached_validation_answers_as_the_uncached_one() {
        let a = authority(7);
        let issued = a.issue(claims("ASIAAAAAAAAAAAAACACHE"));
        let token = &issued.session_token;
        let first = a
            .validate_with_secret(token, "ASIAAAAAAAAAAAAACACHE")
            .unwrap();
        assert!(token_cache::len() >= 1);
        let again = a
            .validate_with_secret(token, "ASIAAAAAAAAAAAAACACHE")
            .unwrap();
        assert_eq!(first, again);
        assert_eq!(first.0, a.validate(token, "ASIAAAAAAAAAAAAACACHE").unwrap());
        assert_eq!(first.1, issued.secret_access_key);
        // A cached token is still refused for another key id, and under another server key.
        assert!(matches!(
            a.validate_with_secret(token, "ASIAAAAAAAAAAAAOTHER1"),
            Err(TokenError::WrongAccessKey(_))
        ));
        assert_eq!(
            authority(8).validate_with_secret(token, "ASIAAAAAAAAAAAAACACHE"),
            Err(TokenError::BadTag)
        );
    }

    #[test]
    fn a_restarted_server_with_the_same_key_validates() {
        let issued = authority(7).issue(claims("ASIAAAAAAAAAAAAAAAAA"));
        let restarted = CredentialAuthority::new(ServerKey::from_hex(&"07".repeat(32)).unwrap());
        assert!(
            restarted
                .validate(&issued.session_token, "ASIAAAAAAAAAAAAAAAAA")
                .is_ok()
        );
        assert_eq!(
            restarted.secret_for("ASIAAAAAAAAAAAAAAAAA"),
            issued.secret_access_key
        );
    }

    #[test]
    fn derived_access_key_ids_are_stable_per_key_purpose_and_input() {
        let id = authority(7).derived_access_key_id("p", b"1");
        assert!(id.starts_with("ASIA") && id.len() == 20, "{id}");
        assert!(
            id[4..]
                .bytes()
                .all(|b| b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains(&b))
        );
        assert_eq!(id, authority(7).derived_access_key_id("p", b"1"));
        assert_ne!(id, authority(7).derived_access_key_id("p", b"2"));
        assert_ne!(id, authority(7).derived_access_key_id("q", b"1"));
        assert_ne!(id, authority(8).derived_access_key_id("p", b"1"));
    }

    #[test]
    fn tokens_are_bound_to_their_access_key() {
        let issued = authority(7).issue(claims("ASIAAAAAAAAAAAAAAAAA"));
        assert_eq!(
            authority(7).validate(&issued.session_token, "ASIABBBBBBBBBBBBBBBB"),
            Err(TokenError::WrongAccessKey("ASIABBBBBBBBBBBBBBBB".into()))
        );
    }

    #[test]
    fn garbage_tokens_are_malformed() {
        let a = authority(7);
        assert_eq!(a.validate("", "A"), Err(TokenError::Malformed));
        assert_eq!(a.validate("not base64!", "A"), Err(TokenError::Malformed));
        assert_eq!(
            a.validate(&B64.encode([1u8; 10]), "A"),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn expiry_is_inclusive_at_the_boundary() {
        let c = claims("ASIAAAAAAAAAAAAAAAAA");
        assert!(!c.is_expired_at(c.expires_at() - Duration::from_millis(1)));
        assert!(c.is_expired_at(c.expires_at()));
        assert_eq!(c.duration(), Duration::from_secs(3600));
    }

    #[test]
    fn server_key_parsing() {
        assert_eq!(
            ServerKey::from_hex("ab").unwrap_err(),
            KeyError::BadLength(2)
        );
        assert_eq!(
            ServerKey::from_hex(&"zz".repeat(32)).unwrap_err(),
            KeyError::NotHex
        );
        let key = ServerKey::from_hex(&"0f".repeat(32)).unwrap();
        assert_eq!(key.to_hex(), "0f".repeat(32));
        assert_eq!(format!("{key:?}"), "ServerKey(** redacted **)");
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[A-Za-z0-9:/+=,.@_-]{0,24}",
            "\\PC{0,12}",
            "[\"\\\\{}\\[\\]]{0,6}"
        ]
    }

    fn issued_by() -> impl Strategy<Value = IssuedBy> {
        prop_oneof![
            Just(IssuedBy::AssumeRole),
            Just(IssuedBy::AssumeRoleWithWebIdentity),
            Just(IssuedBy::GetSessionToken),
            Just(IssuedBy::InstanceMetadata),
            Just(IssuedBy::ContainerCredentials),
        ]
    }

    /// Any claims: any text in every field (quotes and braces too: the claims are JSON), any
    /// times, any issuer.
    fn any_claims() -> impl Strategy<Value = SessionClaims> {
        (
            ("ASIA[A-Z2-7]{16}", text(), text(), text()),
            (
                prop::option::of(text()),
                prop::option::of(text()),
                prop::option::of(text()),
            ),
            (any::<u64>(), any::<u64>(), issued_by()),
            (prop::option::of(any::<u32>()), any::<bool>()),
        )
            .prop_map(
                |(
                    (access_key_id, account_id, principal_arn, user_id),
                    (role_arn, session_name, source_identity),
                    (issued_at_ms, expires_at_ms, issued_by),
                    (duration_requested, chained),
                )| SessionClaims {
                    access_key_id,
                    account_id,
                    principal_arn,
                    user_id,
                    role_arn,
                    session_name,
                    source_identity,
                    issued_at_ms,
                    expires_at_ms,
                    issued_by,
                    duration_requested,
                    chained,
                },
            )
    }

    const BASE64_ALPHABET: &[u8] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=";

    proptest! {
        #![proptest_config(crate::testing::config(64))]

        #[test]
        fn any_claims_round_trip_under_any_key(key in crate::testing::server_key(), claims in any_claims()) {
            let authority = CredentialAuthority::new(key);
            let issued = authority.issue(claims.clone());
            prop_assert_eq!(authority.validate(&issued.session_token, &claims.access_key_id), Ok(claims));
        }

        #[test]
        fn a_token_from_one_key_never_validates_under_another(
            (a, b) in crate::testing::distinct_server_keys(),
            claims in any_claims(),
        ) {
            let issued = CredentialAuthority::new(a).issue(claims.clone());
            let other = CredentialAuthority::new(b);
            prop_assert_eq!(
                other.validate(&issued.session_token, &claims.access_key_id),
                Err(TokenError::BadTag)
            );
            // Nor does its secret: the other server derives another one for the same key id.
            prop_assert_ne!(other.secret_for(&claims.access_key_id), issued.secret_access_key);
        }

        /// Every bit of the decoded token, flipped one at a time; every character of the token
        /// text, replaced by another base64 character; every truncation and an extension.
        #[test]
        fn no_bit_flip_or_character_change_of_a_token_validates(
            key in crate::testing::server_key(),
            claims in any_claims(),
            replacement in any::<prop::sample::Index>(),
        ) {
            let authority = CredentialAuthority::new(key);
            let akid = claims.access_key_id.clone();
            let issued = authority.issue(claims);
            let raw = B64.decode(&issued.session_token).unwrap();
            for i in 0..raw.len() {
                for bit in 0..8 {
                    let mut flipped = raw.clone();
                    flipped[i] ^= 1 << bit;
                    prop_assert!(
                        authority.validate(&B64.encode(&flipped), &akid).is_err(),
                        "bit {} of byte {} flipped still validates", bit, i
                    );
                }
            }
            let text = issued.session_token.as_bytes();
            for i in 0..text.len() {
                let mut changed = text.to_vec();
                let mut with = BASE64_ALPHABET[replacement.index(BASE64_ALPHABET.len())];
                if with == changed[i] {
                    with = BASE64_ALPHABET[(replacement.index(BASE64_ALPHABET.len()) + 1) % BASE64_ALPHABET.len()];
                }
                changed[i] = with;
                let changed = String::from_utf8(changed).unwrap();
                prop_assert!(authority.validate(&changed, &akid).is_err(), "character {} changed still validates", i);
            }
            for len in 0..raw.len() {
                prop_assert!(authority.validate(&B64.encode(&raw[..len]), &akid).is_err());
            }
            let mut longer = raw.clone();
            longer.push(0);
            prop_assert!(authority.validate(&B64.encode(&longer), &akid).is_err());
        }
    }
}
