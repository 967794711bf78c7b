//! Minting web identity tokens for a world's OIDC provider: the tokens Kubernetes projects into
//! a pod (EKS IRSA's `AWS_WEB_IDENTITY_TOKEN_FILE`, EKS Pod Identity's authorization token), so
//! a scenario can replay a token file the kubelet rotates without running an identity provider.
//!
//! A provider opts in with `mint = true` in its `[[oidc_provider]]`. The mock then holds one
//! ES256 (P-256) signing key for it, derived from the server key and the provider's URL (as AWS
//! keys providers: no scheme, no trailing slash), so a restart with the same `--key`, or any
//! replica sharing it, signs and verifies the same tokens. The key's public JWK is added to the
//! provider's inline keys when the server starts ([`Minter::new`]), so verification
//! (`AssumeRoleWithWebIdentity`, the container endpoint) goes through the ordinary path and a
//! minted token is checked exactly as a real issuer's would be. A minting provider never uses
//! discovery: its keys are inline (those the world declares plus the mock's).
//!
//! Tokens carry the claims of an EKS projected service-account token: `iss` (the provider URL
//! as declared), `sub` (`system:serviceaccount:NAMESPACE:NAME`), `aud` (an array of one),
//! `iat`, `nbf`, `exp`, and `kubernetes.io` (namespace and service account) when the subject
//! has that shape. Lifetimes are bounded as Kubernetes bounds `expirationSeconds`: at least
//! 600 s ([`MIN_LIFETIME`]); and, as EKS's pod identity webhook defaults to 86400 s and the
//! kubelet renews a token at the latest after 24 h, at most a day ([`MAX_LIFETIME`]).
//!
//! Nothing here reads a clock: the caller passes `now` (the simulated clock).

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::jwt::B64URL;
use super::{OidcProvider, provider_key};
use crate::credentials::CredentialAuthority;
use crate::timestamp::unix_seconds;

/// The shortest token lifetime Kubernetes projects: `expirationSeconds` must be at least 600
/// (Kubernetes API, `ServiceAccountTokenProjection`; the TokenRequest API's minimum).
pub const MIN_LIFETIME: Duration = Duration::from_secs(600);

/// The longest lifetime minted: a day. EKS's pod identity webhook projects tokens with
/// `expirationSeconds: 86400`, and the kubelet renews a projected token once it is older than
/// 80 % of its lifetime or 24 hours.
pub const MAX_LIFETIME: Duration = Duration::from_secs(86_400);

/// The audience of an IRSA token when the provider lists no client id: STS's.
pub const STS_AUDIENCE: &str = "sts.amazonaws.com";

/// The audience of an EKS Pod Identity token (the `eks-pod-identity-token` file).
pub const POD_IDENTITY_AUDIENCE: &str = "pods.eks.amazonaws.com";

/// What to mint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    /// The provider's URL, as in the world (scheme, trailing slash and host case ignored).
    pub provider: String,
    /// The `sub` claim, e.g. `system:serviceaccount:default:pipeline`.
    pub sub: String,
    /// The `aud` claim; default: the provider's first client id, else `sts.amazonaws.com`.
    #[serde(default)]
    pub aud: Option<String>,
    /// Seconds from now to `exp`; default [`MAX_LIFETIME`].
    #[serde(default)]
    pub lifetime_seconds: Option<u64>,
}

/// A minted token.
#[derive(Clone, PartialEq, Eq)]
pub struct MintedToken {
    /// The compact JWS.
    pub token: String,
    /// When it was issued (`iat`, `nbf`).
    pub issued_at: SystemTime,
    /// When it expires (`exp`).
    pub expires_at: SystemTime,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The token is a bearer credential.
        f.debug_struct("MintedToken")
            .field("token", &"** redacted **")
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Why a token could not be minted. Each names the request field at fault ([`MintError::field`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MintError {
    /// No provider of the world has this URL.
    #[error("no oidc provider {0} in the world")]
    UnknownProvider(String),
    /// The provider exists but has no signing key of the mock: its `[[oidc_provider]]` lacks
    /// `mint = true`.
    #[error(
        "oidc provider {0} has no keys for minting: set mint = true on its [[oidc_provider]] in the world"
    )]
    NotMinting(String),
    /// The lifetime is under [`MIN_LIFETIME`] or over [`MAX_LIFETIME`].
    #[error(
        "lifetime_seconds must be 600..=86400 (Kubernetes' minimum expirationSeconds is 600; EKS projects 86400), got {0}"
    )]
    Lifetime(u64),
    /// `sub` or `aud` is empty.
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

impl MintError {
    /// The request field at fault: `provider`, `lifetime_seconds`, `sub` or `aud`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownProvider(_) | Self::NotMinting(_) => "provider",
            Self::Lifetime(_) => "lifetime_seconds",
            Self::Empty(field) => field,
        }
    }
}

/// The signing keys of the world's minting providers.
#[derive(Clone, Default)]
pub struct Minter {
    keys: Vec<MintKey>,
}

#[derive(Clone)]
struct MintKey {
    /// The provider, as AWS keys it.
    provider: String,
    kid: String,
    key: SigningKey,
}

impl std::fmt::Debug for Minter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let providers: Vec<&str> = self.keys.iter().map(|k| k.provider.as_str()).collect();
        f.debug_struct("Minter")
            .field("providers", &providers)
            .finish_non_exhaustive()
    }
}

impl Minter {
    /// Derives a signing key for every provider with `mint = true` and adds its public JWK to
    /// that provider's inline keys, so verification accepts what this minter signs.
    pub(crate) fn new<'a>(
        authority: &CredentialAuthority,
        providers: impl IntoIterator<Item = &'a mut OidcProvider>,
    ) -> Minter {
        let mut keys = Vec::new();
        for provider in providers.into_iter().filter(|p| p.mint) {
            let id = provider_key(&provider.url);
            let key = derive_key(authority, &id);
            let point = key.verifying_key().to_sec1_point(false);
            let bytes = point.as_bytes();
            let kid = hex_prefix(&Sha256::digest(bytes));
            let jwk = json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": B64URL.encode(bytes.get(1..33).unwrap_or_default()),
                "y": B64URL.encode(bytes.get(33..65).unwrap_or_default()),
            });
            let doc = provider.jwks.get_or_insert_with(|| json!({"keys": []}));
            if let Some(list) = doc.get_mut("keys").and_then(Value::as_array_mut) {
                list.push(jwk);
            }
            keys.push(MintKey {
                provider: id,
                kid,
                key,
            });
        }
        Minter { keys }
    }

    /// Mints a token for `request.provider` issued at `now`; `providers` are the world's (for
    /// the issuer URL as declared and the default audience).
    ///
    /// # Errors
    /// [`MintError`] for an unknown or non-minting provider, a lifetime out of bounds, or an
    /// empty `sub` or `aud`.
    pub fn mint(
        &self,
        providers: &[OidcProvider],
        request: &MintRequest,
        now: SystemTime,
    ) -> Result<MintedToken, MintError> {
        let wanted = provider_key(&request.provider);
        let provider = providers
            .iter()
            .find(|p| !wanted.is_empty() && provider_key(&p.url) == wanted)
            .ok_or_else(|| MintError::UnknownProvider(request.provider.clone()))?;
        let key = self
            .keys
            .iter()
            .find(|k| k.provider == wanted)
            .ok_or_else(|| MintError::NotMinting(provider.url.clone()))?;
        let lifetime = request.lifetime_seconds.unwrap_or(MAX_LIFETIME.as_secs());
        if !(MIN_LIFETIME.as_secs()..=MAX_LIFETIME.as_secs()).contains(&lifetime) {
            return Err(MintError::Lifetime(lifetime));
        }
        if request.sub.is_empty() {
            return Err(MintError::Empty("sub"));
        }
        let aud = match &request.aud {
            Some(aud) if aud.is_empty() => return Err(MintError::Empty("aud")),
            Some(aud) => aud.clone(),
            None => provider
                .client_ids
                .first()
                .cloned()
                .unwrap_or_else(|| STS_AUDIENCE.to_owned()),
        };
        // Whole seconds, as JWT NumericDates are here and as `exp` is compared.
        let iat = unix_seconds(now);
        let exp = iat.saturating_add(i64::try_from(lifetime).unwrap_or(i64::MAX));
        let mut claims = json!({
            "aud": [aud], "exp": exp, "iat": iat, "iss": provider.url, "nbf": iat,
            "sub": request.sub,
        });
        if let Some(rest) = request.sub.strip_prefix("system:serviceaccount:")
            && let Some((namespace, name)) = rest.split_once(':')
        {
            claims["kubernetes.io"] =
                json!({"namespace": namespace, "serviceaccount": {"name": name}});
        }
        let header = json!({"alg": "ES256", "kid": key.kid, "typ": "JWT"});
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let signature: p256::ecdsa::Signature = key.key.sign(input.as_bytes());
        Ok(MintedToken {
            token: format!("{input}.{}", B64URL.encode(signature.to_bytes())),
            issued_at: at_unix_seconds(iat),
            expires_at: at_unix_seconds(exp),
        })
    }
}

/// A P-256 scalar from the server key and the provider: the first HMAC output that is a valid
/// scalar (all but a 2^-128 fraction are).
fn derive_key(authority: &CredentialAuthority, provider: &str) -> SigningKey {
    let mut counter = 0u32;
    loop {
        let input = format!("{provider}\n{counter}");
        let bytes = authority.derive("oidc-mint", input.as_bytes());
        if let Ok(key) = SigningKey::from_slice(&bytes) {
            return key;
        }
        counter = counter.wrapping_add(1);
    }
}

fn at_unix_seconds(seconds: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap_or(0))
}

fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}
