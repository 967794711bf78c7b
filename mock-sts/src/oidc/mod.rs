//! OIDC web identity tokens: verifies the JWT of `sts:AssumeRoleWithWebIdentity` the way AWS STS
//! does, against an identity provider's keys given inline or discovered from its issuer URL.
//!
//! AWS registers an OIDC provider by URL without a scheme (`token.actions.githubusercontent.com`)
//! and, for each token, fetches `https://<url>/.well-known/openid-configuration`, follows its
//! `jwks_uri` and checks the signature with the key the token's `kid` names. This module does the
//! same over plain HTTP, so a test can point a provider at a local `wiremock` server, or skips the
//! fetch when the world file gives the keys inline (`jwks`).
//!
//! Invariants:
//! - Time comes only from the `now` the caller passes (the simulated clock); nothing here reads the
//!   system clock. Claims are compared in whole Unix seconds with **no leeway**: AWS's own message
//!   says the current date/time "must be before the expiration date/time", so `exp == now` has
//!   expired, and no public source shows AWS tolerating skew on `exp`.
//! - Checks run in this order, each failing with AWS's code and message: the token parses as a JWT
//!   with an accepted `alg`; a provider matches `iss`; a key is found; the signature verifies;
//!   then `aud`, `sub`, `exp`, `nbf` and `iat`. A claim is never trusted before its signature.
//! - Every [`OidcError`] displays the exact message AWS sends (see each variant for its source);
//!   diagnostic detail lives in the variant's fields, for logs, never in the wire message.
//! - The token is a bearer credential: it is never logged.
//! - Discovered key sets are cached per issuer. A token whose key is not in the cached set makes
//!   one refetch (key rotation), at most once per [`OidcVerifier::verify`] call; concurrent
//!   verifiers of one issuer share a single fetch.
//! - Fetches are bounded: [`DEFAULT_FETCH_TIMEOUT`] for discovery and JWKS together, and
//!   [`MAX_DOCUMENT_BYTES`] per response body. No input makes this module panic.
//!
//! Limits (what it does not emulate):
//! - No TLS. An `https://` issuer (or a scheme-less one, which AWS reads as `https://`) must have
//!   its keys inline; otherwise verification fails with `IDPCommunicationError` saying so. Thus
//!   also no certificate thumbprint checks.
//! - `alg` RS256, RS384, RS512 and ES256 only. STS has accepted ECDSA-signed tokens since
//!   2024-11-20 (AWS What's New, "STS support for ECDSA-based signatures of OIDC tokens"); which
//!   curves beyond P-256 is **UNCONFIRMED**, and ES384/ES512 would need P-384/P-521 crates the
//!   workspace does not carry, so they are refused like `none` and `HS*`.
//! - The `issuer` field of the discovery document is not compared with the provider URL (AWS's
//!   behaviour there is unknown), and the discovered keys are kept until a token names an unknown
//!   key (AWS's cache lifetime is unknown).
//! - AWS has been seen answering `ExpiredTokenException` / `Token too old: 441398` for tokens whose
//!   `exp` had not passed (mozilla-iam/mozilla-aws-cli#146, #155): some maximum token age that is
//!   not documented. Not emulated.
//! - The `WebIdentityToken` length limits (4..=20000 characters, a `ValidationError`) belong to the
//!   request parser, not here.
//! - The fetch timeout is real time ([`crate::clock::real_timeout`]), not tokio's timer: under a
//!   paused tokio clock (`start_paused`) that timer auto-advances while the runtime waits on a real
//!   socket (tokio-rs/tokio#4522), so discovery would time out at once.
//!
//! Why the JWS and JWK plumbing is hand-written rather than `jsonwebtoken` (evaluated: 12.0.0,
//! `default-features = false, features = ["rust_crypto"]`, the only backend without ring or
//! aws-lc). Its claim checks read the system clock, so they would be switched off
//! (`validate_exp`/`validate_nbf = false`, no required claims) and ours kept anyway; what it
//! could replace is base64url, the header and the RSA/P-256 verification here (about 60 lines of
//! `jwk.rs`). Against that:
//! - Build: it brings 8 crates `mock-sts` does not have (`cargo tree -e normal -p mock-sts`: 139
//!   distinct crates before, 147 after): `ed25519-dalek`, `curve25519-dalek` and `p384` (unused
//!   here; `rust_crypto` is all or nothing), a second `base64` (0.23), and derive macros. Those
//!   alone took 8.4 s of CPU to compile, and the features they switch on (`zeroize/derive`,
//!   `rsa/getrandom`) rebuilt the RustCrypto chain and `syn`'s dependants: on the warm tree,
//!   `cargo build -p mock-sts --lib` took 27 s wall (45 s of CPU) on 2 cores, against 6 s without.
//! - Fidelity: it decodes base64url without padding only, where this module tolerates padding (a
//!   behaviour change); it accepts ES384 (P-384), which STS's documented support does not confirm
//!   and this module refuses as not a valid JWT, so our `alg` filter would stay; it checks an RSA
//!   key from `n`/`e` only when a token is verified, so [`OidcProvider::validate`] would keep its
//!   own key parsing; and its error kinds would be mapped back to AWS's messages one by one (the
//!   `kid` lookup, `crit` and the unknown-key refetch stay ours either way).
//!
//! So the signature checks keep using `rsa` and `p256` directly, which the workspace carries
//! already.
//!
//! The parts: `jwt` (JWS parsing, the signature and claim checks), `jwk` (the keys of a JWKS
//! document), `discovery` (fetching and caching an issuer's keys), `mint` (tokens the mock signs
//! for a provider with `mint = true`) and `error` (every refusal, with AWS's texts). The verifier that runs them in AWS's order lives here; everything public is
//! re-exported here, so callers name `oidc::…` only.

mod discovery;
mod error;
mod jwk;
mod jwt;
mod mint;
#[cfg(test)]
mod test_support;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tracing::debug;

use crate::ring::Ring;
use crate::timestamp::unix_seconds;
use discovery::{CacheSlot, plain_http_base};
use jwk::KeySet;
use jwt::ParsedToken;

pub use discovery::{DEFAULT_FETCH_TIMEOUT, MAX_DOCUMENT_BYTES};
pub use error::{
    BAD_SIGNATURE_MESSAGE, INCORRECT_AUDIENCE_MESSAGE, KEY_RETRIEVAL_MESSAGE,
    MISSING_SUBJECT_MESSAGE, NOT_A_JWT_MESSAGE, NOT_YET_VALID_MESSAGE, OidcError,
};
pub use mint::{
    MAX_LIFETIME, MIN_LIFETIME, MintError, MintRequest, MintedToken, Minter, POD_IDENTITY_AUDIENCE,
    STS_AUDIENCE,
};

/// An OIDC identity provider as declared in a world file.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    /// The issuer, e.g. `https://token.actions.githubusercontent.com`, or `http://127.0.0.1:PORT`
    /// for a local test issuer. Like AWS, a URL without a scheme means `https://`.
    pub url: String,
    /// Allowed audiences: a token's `aud` must contain one of them.
    #[serde(default)]
    pub client_ids: Vec<String>,
    /// The provider's keys as an inline JWKS document (`{"keys": [...]}`). `None` discovers them
    /// from `url`, which this mock can do only for `http://` issuers.
    #[serde(default)]
    pub jwks: Option<Value>,
    /// The mock mints tokens for this provider (`mint = true`): it holds a signing key whose
    /// public JWK joins `jwks` when the server starts (see [`Minter`]).
    #[serde(default)]
    pub mint: bool,
}

impl OidcProvider {
    /// The provider's ARN, `arn:aws:iam::ACCOUNT:oidc-provider/<url without scheme>`, as STS
    /// returns it in `<Provider>`.
    pub fn arn(&self, account_id: &str) -> String {
        format!(
            "arn:aws:iam::{account_id}:oidc-provider/{}",
            provider_key(&self.url)
        )
    }

    /// Checks what a world file can get wrong before any token arrives: an empty URL, an inline
    /// JWKS that is not `{"keys": [...]}` or has no key this module can use, or an issuer this mock
    /// cannot reach (no inline keys and not `http://`). Returns a human-readable reason.
    pub fn validate(&self) -> Result<(), String> {
        if provider_key(&self.url).is_empty() {
            return Err("oidc provider url is empty".to_owned());
        }
        match &self.jwks {
            Some(doc) => {
                let keys = KeySet::from_json(doc)?;
                if keys.keys.is_empty() {
                    return Err(format!(
                        "oidc provider {}: inline jwks has no usable key (RSA, or EC P-256)",
                        self.url
                    ));
                }
                Ok(())
            }
            // A minting provider's keys are the mock's own, added when the server starts.
            None if self.mint || plain_http_base(&self.url).is_some() => Ok(()),
            None => Err(format!(
                "oidc provider {}: {}",
                self.url,
                OidcError::NEEDS_INLINE_KEYS
            )),
        }
    }
}

/// What a verified token says.
#[derive(Debug, Clone)]
pub struct VerifiedIdentity {
    /// The token's `iss`, as written in the token.
    pub issuer: String,
    /// The token's `sub`: STS's `SubjectFromWebIdentityToken`.
    pub subject: String,
    /// The `aud` value that matched one of the provider's client IDs: STS's `Audience`.
    pub audience: String,
    /// The token's `exp`, in Unix seconds.
    pub expires_at: i64,
    /// Every claim of the payload, for trust-policy conditions (`<provider>:sub`, `:aud`, …).
    pub claims: Value,
}

/// Verifies web identity tokens; caches discovered JWKS per issuer (refetching on an unknown `kid`,
/// at most once per verify). Cheap to clone: clones share the HTTP client and the cache.
#[derive(Clone)]
pub struct OidcVerifier {
    client: Client<HttpConnector, Empty<Bytes>>,
    cache: Arc<Mutex<HashMap<String, CacheSlot>>>,
    fetch_timeout: Duration,
}

impl Default for OidcVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for OidcVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let issuers = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("OidcVerifier")
            .field("cached_issuers", &issuers)
            .field("fetch_timeout", &self.fetch_timeout)
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// A verifier with an empty cache and the [`DEFAULT_FETCH_TIMEOUT`].
    pub fn new() -> Self {
        Self {
            client: Client::builder(TokioExecutor::new()).build_http(),
            cache: Arc::default(),
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
        }
    }

    /// The same verifier with another bound on discovery (both documents together).
    pub fn with_fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Finds the provider whose url matches the token's `iss` (ignoring the scheme, a trailing
    /// slash and the case of the host, as AWS registers providers without a scheme), verifies the
    /// signature, then `aud`, `sub`, `exp`, `nbf` and `iat` against `now`. Returns what the token
    /// says and the index of the matching provider in `providers`.
    pub async fn verify(
        &self,
        token: &str,
        providers: &[OidcProvider],
        now: SystemTime,
    ) -> Result<(VerifiedIdentity, usize), OidcError> {
        let token = ParsedToken::parse(token)?;
        let wanted = provider_key(&token.issuer);
        let Some((index, provider)) = providers
            .iter()
            .enumerate()
            .find(|(_, p)| !wanted.is_empty() && provider_key(&p.url) == wanted)
        else {
            return Err(OidcError::NoProvider {
                issuer: token.issuer,
            });
        };

        match &provider.jwks {
            Some(doc) => {
                let keys = KeySet::from_json(doc).map_err(|reason| OidcError::KeyRetrieval {
                    issuer: provider.url.clone(),
                    reason,
                })?;
                token.check_signature(&keys)?;
            }
            None => {
                let keys = self.discovered_keys(provider, None).await?;
                match token.check_signature(&keys) {
                    Err(OidcError::UnknownKey { .. }) => {
                        debug!(issuer = %provider.url, kid = ?token.kid, "unknown kid, refetching jwks");
                        let fresh = self.discovered_keys(provider, Some(&keys)).await?;
                        token.check_signature(&fresh)?;
                    }
                    other => other?,
                }
            }
        }

        let identity = token.check_claims(provider, unix_seconds(now))?;
        Ok((identity, index))
    }
}

/// Verifies `token` against one provider with inline keys only (no discovery, so no await):
/// the container endpoint's check of an EKS Pod Identity token. The same checks, in the same
/// order and with the same errors, as [`OidcVerifier::verify`], but for the provider match.
///
/// # Errors
/// [`OidcError`] as `verify`; [`OidcError::NoProvider`] when `iss` is not this provider, and
/// [`OidcError::IssuerNeedsInlineKeys`] when it has no inline keys.
pub fn verify_with_inline_keys(
    token: &str,
    provider: &OidcProvider,
    now: SystemTime,
) -> Result<VerifiedIdentity, OidcError> {
    let token = ParsedToken::parse(token)?;
    let wanted = provider_key(&token.issuer);
    if wanted.is_empty() || provider_key(&provider.url) != wanted {
        return Err(OidcError::NoProvider {
            issuer: token.issuer,
        });
    }
    let Some(doc) = &provider.jwks else {
        return Err(OidcError::IssuerNeedsInlineKeys {
            url: provider.url.clone(),
        });
    };
    let keys = KeySet::from_json(doc).map_err(|reason| OidcError::KeyRetrieval {
        issuer: provider.url.clone(),
        reason,
    })?;
    token.check_signature(&keys)?;
    token.check_claims(provider, unix_seconds(now))
}

/// Remembers tokens [`verify_with_inline_keys`] accepted, so the container endpoint checks a
/// token's signature once, not on every fetch: the Pod Identity token is the same for the
/// 80 % of its lifetime before the kubelet replaces it, and a signature check costs the
/// request more than everything else it does (about 1.5 ms unoptimised), enough to trip an
/// SDK's container timeout under libfaketime's acceleration. A remembered token is still judged
/// on its `exp` at every request, and re-verified in full if the clock is before the time it was
/// accepted (so `nbf`/`iat` keep their meaning). Keeps the last [`VerifiedTokens::CAPACITY`].
pub struct VerifiedTokens {
    /// SHA-256 of the provider and token, when it was accepted and its `exp`, in Unix seconds.
    entries: Mutex<Ring<([u8; 32], i64, i64)>>,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        VerifiedTokens {
            entries: Mutex::new(Ring::new(Self::CAPACITY)),
        }
    }
}

impl fmt::Debug for VerifiedTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifiedTokens").finish_non_exhaustive()
    }
}

impl VerifiedTokens {
    /// How many tokens are remembered (a pod's current and previous token, with room to spare).
    pub const CAPACITY: usize = 8;

    /// [`verify_with_inline_keys`], skipping the signature and claims already checked for a
    /// remembered token; `Ok` carries nothing, as the container endpoint needs only the verdict.
    ///
    /// # Errors
    /// As [`verify_with_inline_keys`].
    pub fn verify(
        &self,
        token: &str,
        provider: &OidcProvider,
        now: SystemTime,
    ) -> Result<(), OidcError> {
        use sha2::{Digest as _, Sha256};
        let digest: [u8; 32] = Sha256::new()
            .chain_update(&provider.url)
            .chain_update(b"\n")
            .chain_update(token)
            .finalize()
            .into();
        let now_seconds = unix_seconds(now);
        let remembered = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .find(|(d, accepted, _)| *d == digest && *accepted <= now_seconds)
            .map(|(_, _, expires_at)| *expires_at);
        if let Some(expires_at) = remembered {
            return if expires_at <= now_seconds {
                Err(OidcError::Expired {
                    now: now_seconds,
                    expires_at,
                })
            } else {
                Ok(())
            };
        }
        let identity = verify_with_inline_keys(token, provider, now)?;
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((digest, now_seconds, identity.expires_at));
        Ok(())
    }
}

/// Provider identity as AWS keys it: no scheme, no trailing slash, host in lower case. Two
/// URLs name the same provider when their keys are equal.
pub fn provider_key(url: &str) -> String {
    let s = url.trim();
    let s = strip_prefix_ignore_case(s, "https://")
        .or_else(|| strip_prefix_ignore_case(s, "http://"))
        .unwrap_or(s);
    let s = s.trim_end_matches('/');
    match s.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => s.to_ascii_lowercase(),
    }
}

pub(super) fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use serde_json::json;

    use super::jwt::B64URL;
    use super::test_support::*;
    use super::*;
    use base64::Engine as _;

    // ---- accepted tokens -------------------------------------------------------------------

    #[test]
    fn rs256_token_verifies_against_inline_jwks() {
        let (identity, index) = verify_inline(&rs256(&claims())).unwrap();
        assert_eq!(index, 0);
        assert_eq!(identity.issuer, ISSUER);
        assert_eq!(identity.subject, SUBJECT);
        assert_eq!(identity.audience, AUDIENCE);
        assert_eq!(identity.expires_at, NOW + 3600);
        assert_eq!(identity.claims["repository"], "octo-org/octo-repo");
    }

    #[test]
    fn es256_token_verifies_against_inline_jwks() {
        let (identity, _) = verify_inline(&es256(&claims())).unwrap();
        assert_eq!(identity.subject, SUBJECT);
    }

    #[test]
    fn rs384_and_rs512_tokens_verify() {
        for alg in ["RS384", "RS512"] {
            let token = token_with(&json!({"alg": alg, "kid": "a"}), &claims(), Key::RsaA);
            verify_inline(&token).unwrap_or_else(|e| panic!("{alg}: {e:?}"));
        }
    }

    #[test]
    fn token_without_kid_is_checked_against_every_key_of_its_type() {
        let token = token_with(&json!({"alg": "RS256"}), &claims(), Key::RsaA);
        let mut provider = inline_provider();
        provider.jwks = Some(jwks(&[(Key::RsaB, "b"), (Key::RsaA, "a")]));
        verify_with(&token, &[provider]).unwrap();
    }

    #[test]
    fn issuer_matches_ignoring_scheme_trailing_slash_and_host_case() {
        let other = OidcProvider {
            url: "https://accounts.google.com".into(),
            ..inline_provider()
        };
        let registered = OidcProvider {
            url: "Token.Actions.GitHubUserContent.com/".into(),
            ..inline_provider()
        };
        let mut c = claims();
        c["iss"] = json!("https://token.actions.githubusercontent.com/");
        let (identity, index) = verify_with(&rs256(&c), &[other, registered]).unwrap();
        assert_eq!(index, 1);
        assert_eq!(
            identity.issuer,
            "https://token.actions.githubusercontent.com/"
        );
    }

    #[test]
    fn any_audience_of_an_array_may_match_a_client_id() {
        let mut c = claims();
        c["aud"] = json!(["other", AUDIENCE]);
        let (identity, _) = verify_inline(&rs256(&c)).unwrap();
        assert_eq!(identity.audience, AUDIENCE);
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        verify_inline(&format!("{}\n", rs256(&claims()))).unwrap();
    }

    #[test]
    fn unknown_issuer_has_no_openid_connect_provider() {
        let mut c = claims();
        c["iss"] = json!("https://auth.mozilla.auth0.com/");
        assert_refused(
            verify_inline(&rs256(&c)),
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for https://auth.mozilla.auth0.com/",
        );
        c["iss"] = json!("");
        assert_refused(
            verify_inline(&rs256(&c)),
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for ",
        );
    }

    // ---- provider ----------------------------------------------------------------------------

    #[test]
    fn provider_arn_drops_the_scheme() {
        let arn = |url: &str| {
            OidcProvider {
                url: url.into(),
                ..inline_provider()
            }
            .arn("123456789012")
        };
        let want = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com";
        assert_eq!(arn(ISSUER), want);
        assert_eq!(arn("token.actions.githubusercontent.com/"), want);
        assert_eq!(
            arn("https://oidc.eks.us-west-2.amazonaws.com/id/ABC"),
            "arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-west-2.amazonaws.com/id/ABC"
        );
    }

    #[test]
    fn provider_deserializes_from_a_world_file_and_refuses_unknown_fields() {
        let p: OidcProvider = serde_json::from_value(json!({"url": "http://127.0.0.1:9"})).unwrap();
        assert!(p.client_ids.is_empty() && p.jwks.is_none());
        let bad = serde_json::from_value::<OidcProvider>(json!({"url": "x", "thumbprints": []}));
        assert!(bad.is_err());
    }

    #[test]
    fn validate_reports_what_a_world_file_got_wrong() {
        assert_eq!(inline_provider().validate(), Ok(()));
        let http = OidcProvider {
            url: "http://127.0.0.1:9".into(),
            jwks: None,
            ..inline_provider()
        };
        assert_eq!(http.validate(), Ok(()));
        let https = OidcProvider {
            jwks: None,
            ..inline_provider()
        };
        assert!(https.validate().unwrap_err().contains("inline"));
        let empty = OidcProvider {
            jwks: Some(json!({"keys": []})),
            ..inline_provider()
        };
        assert!(empty.validate().unwrap_err().contains("no usable key"));
        let blank = OidcProvider {
            url: "https://".into(),
            ..inline_provider()
        };
        assert!(blank.validate().is_err());
    }

    // ---- properties --------------------------------------------------------------------------

    static RS256_TOKEN: LazyLock<String> = LazyLock::new(|| rs256(&claims()));
    static ES256_TOKEN: LazyLock<String> = LazyLock::new(|| es256(&claims()));

    proptest! {
        #![proptest_config(crate::testing::config(64))]

        #[test]
        fn arbitrary_strings_are_refused_without_panic(
            token in prop_oneof![any::<String>(), "[A-Za-z0-9_=.-]{0,400}"],
        ) {
            prop_assert!(verify_inline(&token).is_err());
        }

        #[test]
        fn arbitrary_jwt_shaped_tokens_are_refused_without_panic(
            header in any::<Vec<u8>>(), payload in any::<Vec<u8>>(), signature in any::<Vec<u8>>(),
        ) {
            let token = format!("{}.{}.{}", B64URL.encode(header), B64URL.encode(payload), B64URL.encode(signature));
            prop_assert!(verify_inline(&token).is_err());
        }

        #[test]
        fn flipping_any_signature_byte_is_rejected(
            es in any::<bool>(), index in any::<prop::sample::Index>(), mask in 1u8..=255,
        ) {
            let token = if es { &*ES256_TOKEN } else { &*RS256_TOKEN };
            let (input, signature) = token.rsplit_once('.').unwrap();
            let mut bytes = B64URL.decode(signature).unwrap();
            let i = index.index(bytes.len());
            bytes[i] ^= mask;
            let forged = format!("{input}.{}", B64URL.encode(&bytes));
            prop_assert_eq!(verify_inline(&forged).unwrap_err(), OidcError::BadSignature);
        }

        #[test]
        fn any_one_character_change_is_rejected(
            es in any::<bool>(), index in any::<prop::sample::Index>(), replacement in 0x20u8..0x7f,
        ) {
            let token = if es { &*ES256_TOKEN } else { &*RS256_TOKEN };
            let i = index.index(token.len());
            prop_assume!(token.as_bytes()[i] != replacement);
            let mut bytes = token.clone().into_bytes();
            bytes[i] = replacement;
            let forged = String::from_utf8(bytes).unwrap();
            prop_assert!(verify_inline(&forged).is_err());
        }
    }
}
