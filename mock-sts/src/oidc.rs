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
//! - The fetch timeout runs on tokio's timer. Under a paused tokio clock (`start_paused`) the timer
//!   auto-advances while the runtime waits on a real socket (tokio-rs/tokio#4522), so discovery can
//!   time out at once: give tests on a paused clock their keys inline.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rsa::BoxedUint;
use rsa::signature::Verifier as _;
use serde_json::{Map, Value};
use tracing::{debug, warn};

use crate::timestamp::unix_seconds;

/// How long discovery (`openid-configuration` plus JWKS) may take before it counts as a failure.
/// AWS gives up on an identity provider that takes more than 5 seconds (AWS knowledge center,
/// "iam-sts-invalididentitytoken": "latency of more than 5 seconds in API requests from the IdP").
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest discovery or JWKS document read (1 MiB); a larger one is a failed fetch.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// `InvalidIdentityToken` for anything that does not parse as a JWT, and for an `alg` AWS does not
/// accept. Seen from real STS in a Vault log (`status code: 400, request id: f6ae9d75-…`, quoted in
/// a public blog repository), in the Amazon Cognito developer guide's troubleshooting section, and
/// copied verbatim by AWS-compatible servers (Eucalyptus `TokensService`). A Kubernetes project
/// records STS answering it for ECDSA-signed tokens before STS accepted ECDSA (2024-11-20), which
/// is why an unsupported `alg` gets it too.
pub const NOT_A_JWT_MESSAGE: &str = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)";

/// `InvalidIdentityToken` when STS cannot get the key that verifies the token: discovery or JWKS
/// unreachable, non-200, malformed, or the token's `kid` is not in the key set. Raw STS bodies in
/// awslabs/aws-sdk-rust#827 and aws/aws-cli#7194, and aws/aws-sdk-php#1725; the AWS knowledge
/// center article "iam-sts-invalididentitytoken" lists unreachable `.well-known`/`jwks_uri` and
/// latency over 5 s as causes. Note the two spaces after the comma: every raw capture has them.
/// A token signed with a key the issuer does not publish gets the same message (an OpenShift
/// post-mortem: cluster tokens signed with the wrong key).
pub const KEY_RETRIEVAL_MESSAGE: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/// `InvalidIdentityToken` when the signature does not verify with the token's key. Real STS output
/// quoted in a public write-up of Wiz's "Big IAM Challenge" (2025, challenge 6).
pub const BAD_SIGNATURE_MESSAGE: &str = "Token signature invalid";

/// `InvalidIdentityToken` when no `aud` is among the provider's client IDs. Real STS output in
/// awslabs/amazon-eks-irsa-cfn#18 and Atlassian's Bitbucket Pipelines troubleshooting article.
pub const INCORRECT_AUDIENCE_MESSAGE: &str = "Incorrect token audience";

/// `InvalidIdentityToken` for a missing or empty `sub`. **UNCONFIRMED** against AWS: taken from
/// Eucalyptus's AWS-compatible `TokensService`, whose other messages (`Incorrect token audience`,
/// `Token signature invalid`, the not-a-JWT text) match AWS's exactly.
pub const MISSING_SUBJECT_MESSAGE: &str = "Invalid token subject";

/// `InvalidIdentityToken` for an `nbf` or `iat` after `now`. **UNCONFIRMED** against AWS: taken
/// from Eucalyptus's `TokensService`, as [`MISSING_SUBJECT_MESSAGE`].
pub const NOT_YET_VALID_MESSAGE: &str = "Token not yet valid";

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
            None if plain_http_base(&self.url).is_some() => Ok(()),
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

/// Why a web identity token was refused. `Display` is the exact message AWS STS sends; fields carry
/// detail for logs. [`OidcError::code`] and [`OidcError::status`] give the wire error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The token is not three base64url parts, its header or payload is not a JSON object, `iss`
    /// is not a string, `exp` is missing or not a number, or the header is otherwise unusable.
    #[error("{}", NOT_A_JWT_MESSAGE)]
    NotAJwt {
        /// What was wrong, for logs.
        reason: &'static str,
    },
    /// The header's `alg` is not RS256, RS384, RS512 or ES256 (`none` and `HS*` included). STS
    /// answers these with its not-a-JWT message (see [`NOT_A_JWT_MESSAGE`]).
    #[error("{}", NOT_A_JWT_MESSAGE)]
    UnsupportedAlgorithm {
        /// The `alg` the token named.
        alg: String,
    },
    /// No provider's URL matches the token's `iss`. Message from raw STS bodies in
    /// mozilla-iam/mozilla-aws-cli#127 and aws-actions/configure-aws-credentials#280/#721; AWS
    /// quotes `iss` exactly as the token has it (trailing slash included).
    #[error("No OpenIDConnect provider found in your account for {issuer}")]
    NoProvider {
        /// The token's `iss`.
        issuer: String,
    },
    /// Discovery failed: the issuer did not answer in time or at all, answered non-200, sent a body
    /// over [`MAX_DOCUMENT_BYTES`], a document that is not JSON, no `jwks_uri`, or a JWKS that is
    /// not `{"keys": [...]}`. An inline JWKS that is not one fails the same way. AWS answers
    /// `InvalidIdentityToken` here, not `IDPCommunicationError` (see [`KEY_RETRIEVAL_MESSAGE`]).
    #[error("{}", KEY_RETRIEVAL_MESSAGE)]
    KeyRetrieval {
        /// The provider URL.
        issuer: String,
        /// What failed, for logs.
        reason: String,
    },
    /// The key set (after one refetch, for a discovered one) has no key with the token's `kid`
    /// that fits its `alg`, or, for a token without `kid`, no key of the right type at all.
    #[error("{}", KEY_RETRIEVAL_MESSAGE)]
    UnknownKey {
        /// The token's `kid`, if it had one.
        kid: Option<String>,
    },
    /// The key was found but the signature does not verify with it.
    #[error("{}", BAD_SIGNATURE_MESSAGE)]
    BadSignature,
    /// No `aud` value (string or array) is among the provider's client IDs; also a missing `aud`.
    #[error("{}", INCORRECT_AUDIENCE_MESSAGE)]
    IncorrectAudience,
    /// `sub` is missing, not a string, or empty.
    #[error("{}", MISSING_SUBJECT_MESSAGE)]
    MissingSubject,
    /// `exp <= now`. Message from raw STS output: aws/aws-sdk-java-v2#5709 (2024), envoyproxy
    /// tests (2025) and a Go SDK log (2025) all show a space before the second number. Captures
    /// from 2021 (awslabs/aws-orbit-workbench#707, #771, #890) lack it
    /// (`…date/time1626191469`); AWS has since fixed that, and this follows the current form.
    #[error(
        "Token expired: current date/time {now} must be before the expiration date/time {expires_at}"
    )]
    Expired {
        /// `now` in Unix seconds.
        now: i64,
        /// The token's `exp`.
        expires_at: i64,
    },
    /// `nbf` or `iat` is after `now` (no leeway).
    #[error("{}", NOT_YET_VALID_MESSAGE)]
    NotYetValid {
        /// `"nbf"` or `"iat"`.
        claim: &'static str,
        /// The claim's value in Unix seconds.
        value: i64,
        /// `now` in Unix seconds.
        now: i64,
    },
    /// The provider has no inline keys and its URL is not `http://`: this mock does not speak TLS
    /// to issuers. A limit of the mock, not AWS behaviour; it reports `IDPCommunicationError`
    /// ("the identity provider could not be reached") with a message that says what to do.
    #[error(
        "The identity provider {url} could not be reached: the mock STS fetches OIDC discovery \
         only over plain http://, so give this provider's keys inline as jwks in the world file"
    )]
    IssuerNeedsInlineKeys {
        /// The URL it would have had to fetch.
        url: String,
    },
}

impl OidcError {
    const NEEDS_INLINE_KEYS: &'static str =
        "the mock fetches OIDC discovery only over plain http://; give its keys inline as jwks";

    /// The STS error code: `InvalidIdentityToken`, `ExpiredTokenException` or
    /// `IDPCommunicationError`. (`IDPRejectedClaim`, HTTP 403, is what AWS answers when an OAuth
    /// provider such as Facebook rejects an access token; JWT verification never produces it.)
    pub fn code(&self) -> &'static str {
        match self {
            Self::Expired { .. } => "ExpiredTokenException",
            Self::IssuerNeedsInlineKeys { .. } => "IDPCommunicationError",
            Self::NotAJwt { .. }
            | Self::UnsupportedAlgorithm { .. }
            | Self::NoProvider { .. }
            | Self::KeyRetrieval { .. }
            | Self::UnknownKey { .. }
            | Self::BadSignature
            | Self::IncorrectAudience
            | Self::MissingSubject
            | Self::NotYetValid { .. } => "InvalidIdentityToken",
        }
    }

    /// The HTTP status STS sends with [`OidcError::code`]: 400 for all three codes
    /// (aws-facts §2; `ExpiredTokenException` 400 in aws/aws-sdk-java-v2#5709).
    pub fn status(&self) -> u16 {
        400
    }
}

/// Verifies web identity tokens; caches discovered JWKS per issuer (refetching on an unknown `kid`,
/// at most once per verify). Cheap to clone: clones share the HTTP client and the cache.
#[derive(Clone)]
pub struct OidcVerifier {
    client: Client<HttpConnector, Empty<Bytes>>,
    cache: Arc<Mutex<HashMap<String, CacheSlot>>>,
    fetch_timeout: Duration,
}

/// One issuer's cached keys. The async mutex makes concurrent misses wait for one fetch.
type CacheSlot = Arc<tokio::sync::Mutex<Option<Arc<KeySet>>>>;

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

    /// The provider's discovered keys: from the cache, or fetched. With `stale`, the caller found
    /// no usable key in that set, so fetch again, unless another task already replaced it.
    async fn discovered_keys(
        &self,
        provider: &OidcProvider,
        stale: Option<&Arc<KeySet>>,
    ) -> Result<Arc<KeySet>, OidcError> {
        let slot = {
            let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(cache.entry(provider_key(&provider.url)).or_default())
        };
        let mut cached = slot.lock().await;
        if let Some(keys) = cached.as_ref() {
            let replaced_since = stale.is_some_and(|s| !Arc::ptr_eq(s, keys));
            if stale.is_none() || replaced_since {
                return Ok(Arc::clone(keys));
            }
        }
        let fetched =
            match tokio::time::timeout(self.fetch_timeout, self.fetch_keys(provider)).await {
                Ok(result) => result,
                Err(_) => Err(format!(
                    "discovery took longer than {:?}",
                    self.fetch_timeout
                )),
            };
        match fetched {
            Ok(keys) => {
                debug!(issuer = %provider.url, keys = keys.keys.len(), "fetched jwks");
                let keys = Arc::new(keys);
                *cached = Some(Arc::clone(&keys));
                Ok(keys)
            }
            Err(reason) => {
                warn!(issuer = %provider.url, reason = %reason, "oidc discovery failed");
                match plain_http_base(&provider.url) {
                    None => Err(OidcError::IssuerNeedsInlineKeys {
                        url: provider.url.clone(),
                    }),
                    Some(_) => Err(OidcError::KeyRetrieval {
                        issuer: provider.url.clone(),
                        reason,
                    }),
                }
            }
        }
    }

    /// `<url>/.well-known/openid-configuration`, then its `jwks_uri`. Errors are reasons for logs.
    async fn fetch_keys(&self, provider: &OidcProvider) -> Result<KeySet, String> {
        let Some(base) = plain_http_base(&provider.url) else {
            return Err(OidcError::NEEDS_INLINE_KEYS.to_owned());
        };
        let config = self
            .get_json(&format!("{base}/.well-known/openid-configuration"))
            .await?;
        let jwks_uri = config
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or("openid-configuration has no jwks_uri string")?;
        if !jwks_uri
            .get(..7)
            .is_some_and(|s| s.eq_ignore_ascii_case("http://"))
        {
            return Err(format!(
                "jwks_uri {jwks_uri} is not http://; {}",
                OidcError::NEEDS_INLINE_KEYS
            ));
        }
        let jwks = self.get_json(jwks_uri).await?;
        KeySet::from_json(&jwks)
    }

    /// GETs `url` and parses a 200 body of at most [`MAX_DOCUMENT_BYTES`] as JSON.
    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("bad url {url}: {e}"))?;
        let response = self
            .client
            .get(uri)
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if response.status() != http::StatusCode::OK {
            return Err(format!("GET {url}: status {}", response.status()));
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map_err(|e| format!("GET {url}: body: {e}"))?
            .to_bytes();
        serde_json::from_slice(&body).map_err(|e| format!("GET {url}: not JSON: {e}"))
    }
}

/// Provider identity as AWS keys it: no scheme, no trailing slash, host in lower case.
fn provider_key(url: &str) -> String {
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

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// The issuer URL without trailing slash if it is `http://` (the only scheme fetched), else None.
fn plain_http_base(url: &str) -> Option<&str> {
    let url = url.trim();
    strip_prefix_ignore_case(url, "http://")?;
    Some(url.trim_end_matches('/'))
}

/// base64url as JWTs use it; padding tolerated, non-zero trailing bits refused (so no two
/// encodings of one signature both verify).
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The signature algorithms accepted (see the module limits for ES384/ES512).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Rs384,
    Rs512,
    Es256,
}

impl Alg {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "RS384" => Some(Self::Rs384),
            "RS512" => Some(Self::Rs512),
            "ES256" => Some(Self::Es256),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Es256 => "ES256",
        }
    }
}

/// A token that parsed; nothing in it is trusted until [`ParsedToken::check_signature`] passes.
struct ParsedToken {
    signing_input: String,
    signature: Vec<u8>,
    alg: Alg,
    kid: Option<String>,
    issuer: String,
    claims: Map<String, Value>,
}

impl ParsedToken {
    fn parse(token: &str) -> Result<Self, OidcError> {
        let not_jwt = |reason| OidcError::NotAJwt { reason };
        // Surrounding whitespace (a token file's trailing newline) is ignored; AWS's handling of it
        // is unknown, and refusing it would fail SDKs that pass a file's contents through.
        let token = token.trim_ascii();
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(not_jwt("not three dot-separated parts"));
        };
        let header =
            decode_json_object(header_b64).ok_or(not_jwt("header is not base64url JSON"))?;
        let claims =
            decode_json_object(payload_b64).ok_or(not_jwt("payload is not base64url JSON"))?;
        let signature = B64URL
            .decode(signature_b64)
            .map_err(|_| not_jwt("signature is not base64url"))?;

        let alg_name = header
            .get("alg")
            .and_then(Value::as_str)
            .ok_or(not_jwt("header has no alg string"))?;
        let alg = Alg::from_name(alg_name).ok_or_else(|| OidcError::UnsupportedAlgorithm {
            alg: alg_name.to_owned(),
        })?;
        if header.contains_key("crit") {
            // RFC 7515 §4.1.11: extensions we do not understand make the token invalid.
            return Err(not_jwt("header has crit"));
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(not_jwt("kid is not a string")),
        };
        let issuer = claims
            .get("iss")
            .and_then(Value::as_str)
            .ok_or(not_jwt("payload has no iss string"))?
            .to_owned();
        let signing_input_len = header_b64.len() + 1 + payload_b64.len();
        let signing_input = token
            .get(..signing_input_len)
            .ok_or(not_jwt("bad signing input"))?
            .to_owned();
        Ok(Self {
            signing_input,
            signature,
            alg,
            kid,
            issuer,
            claims,
        })
    }

    /// Verifies with the key the token names: `Ok`, [`OidcError::UnknownKey`] if no key fits, or
    /// [`OidcError::BadSignature`] if the fitting keys all refuse it.
    fn check_signature(&self, keys: &KeySet) -> Result<(), OidcError> {
        let mut candidates = keys
            .keys
            .iter()
            .filter(|jwk| jwk.fits(self.alg, self.kid.as_deref()))
            .peekable();
        if candidates.peek().is_none() {
            return Err(OidcError::UnknownKey {
                kid: self.kid.clone(),
            });
        }
        let message = self.signing_input.as_bytes();
        if candidates.any(|jwk| jwk.key.verifies(self.alg, message, &self.signature)) {
            Ok(())
        } else {
            Err(OidcError::BadSignature)
        }
    }

    /// The claim checks that follow a good signature, in AWS's documented order of concern.
    fn check_claims(
        self,
        provider: &OidcProvider,
        now: i64,
    ) -> Result<VerifiedIdentity, OidcError> {
        let audience = match self.claims.get("aud") {
            Some(Value::String(aud)) => provider.client_ids.iter().find(|c| *c == aud),
            Some(Value::Array(auds)) => auds
                .iter()
                .filter_map(Value::as_str)
                .find_map(|aud| provider.client_ids.iter().find(|c| *c == aud)),
            _ => None,
        }
        .ok_or(OidcError::IncorrectAudience)?
        .clone();

        let subject = match self.claims.get("sub") {
            Some(Value::String(sub)) if !sub.is_empty() => sub.clone(),
            _ => return Err(OidcError::MissingSubject),
        };

        let expires_at =
            self.claims
                .get("exp")
                .and_then(numeric_date)
                .ok_or(OidcError::NotAJwt {
                    reason: "exp is missing or not a number",
                })?;
        if expires_at <= now {
            return Err(OidcError::Expired { now, expires_at });
        }
        for claim in ["nbf", "iat"] {
            match self.claims.get(claim) {
                None => {}
                Some(v) => {
                    let value = numeric_date(v).ok_or(OidcError::NotAJwt {
                        reason: "nbf or iat is not a number",
                    })?;
                    if value > now {
                        return Err(OidcError::NotYetValid { claim, value, now });
                    }
                }
            }
        }

        Ok(VerifiedIdentity {
            issuer: self.issuer,
            subject,
            audience,
            expires_at,
            claims: Value::Object(self.claims),
        })
    }
}

fn decode_json_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = B64URL.decode(part).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// A JWT NumericDate in whole seconds: integers as they are, fractions floored, out-of-range
/// values saturated.
fn numeric_date(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    if v.as_u64().is_some() {
        return Some(i64::MAX);
    }
    // `as` saturates for out-of-range floats, which is what a date far in the future should do.
    v.as_f64().map(|f| f.floor() as i64)
}

/// The keys of one JWKS document that this module can use; others are skipped.
struct KeySet {
    keys: Vec<Jwk>,
}

struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    key: PublicJwk,
}

enum PublicJwk {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl KeySet {
    /// Parses `{"keys": [...]}`. A document of another shape is an error; a key this module cannot
    /// use (`use: enc`, another `kty` or curve, malformed numbers) is skipped.
    fn from_json(doc: &Value) -> Result<Self, String> {
        let entries = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("jwks is not an object with a keys array")?;
        let keys = entries
            .iter()
            .filter_map(|entry| {
                let jwk = Jwk::from_json(entry);
                if jwk.is_none() {
                    debug!(kid = ?entry.get("kid"), "skipping unusable jwk");
                }
                jwk
            })
            .collect();
        Ok(Self { keys })
    }
}

impl Jwk {
    fn from_json(entry: &Value) -> Option<Self> {
        let text = |name: &str| entry.get(name).and_then(Value::as_str);
        if text("use").is_some_and(|u| u != "sig") {
            return None;
        }
        let key = match text("kty")? {
            "RSA" => {
                let n = B64URL.decode(text("n")?).ok()?;
                let e = B64URL.decode(text("e")?).ok()?;
                PublicJwk::Rsa(rsa_key(&n, &e)?)
            }
            "EC" if text("crv")? == "P-256" => {
                let x = B64URL.decode(text("x")?).ok()?;
                let y = B64URL.decode(text("y")?).ok()?;
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let mut sec1 = Vec::with_capacity(65);
                sec1.push(0x04);
                sec1.extend_from_slice(&x);
                sec1.extend_from_slice(&y);
                PublicJwk::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).ok()?)
            }
            _ => return None,
        };
        Some(Self {
            kid: text("kid").map(str::to_owned),
            alg: text("alg").map(str::to_owned),
            key,
        })
    }

    /// Whether this key may check a token signed with `alg` naming `kid`: same `kid` when the
    /// token names one, a matching key type, and the key's own `alg`, if it has one, equal.
    fn fits(&self, alg: Alg, kid: Option<&str>) -> bool {
        let kid_ok = kid.is_none_or(|kid| self.kid.as_deref() == Some(kid));
        let alg_ok = self.alg.as_deref().is_none_or(|a| a == alg.name());
        let type_ok = matches!(
            (&self.key, alg),
            (PublicJwk::Rsa(_), Alg::Rs256 | Alg::Rs384 | Alg::Rs512)
                | (PublicJwk::P256(_), Alg::Es256)
        );
        kid_ok && alg_ok && type_ok
    }
}

/// An RSA public key from big-endian modulus and exponent; `None` if rsa refuses it (sizes from
/// 1024 to 8192 bits, odd modulus, sane exponent).
fn rsa_key(n: &[u8], e: &[u8]) -> Option<rsa::PublicKey> {
    let n = strip_leading_zeros(n);
    let e = strip_leading_zeros(e);
    if n.is_empty() || e.is_empty() || n.len() > rsa::PublicKey::MAX_SIZE / 8 || e.len() > 8 {
        return None;
    }
    let uint = |bytes: &[u8]| {
        let bits = u32::try_from(bytes.len() * 8).ok()?;
        BoxedUint::from_be_slice(bytes, bits).ok()
    };
    rsa::PublicKey::new(uint(n)?, uint(e)?).ok()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

impl PublicJwk {
    fn verifies(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
        use rsa::pkcs1v15::{Signature, VerifyingKey};
        match (self, alg) {
            (Self::Rsa(key), _) => {
                let Ok(signature) = Signature::try_from(signature) else {
                    return false;
                };
                let key = key.clone();
                match alg {
                    Alg::Rs256 => VerifyingKey::<sha2::Sha256>::new(key)
                        .verify(message, &signature)
                        .is_ok(),
                    Alg::Rs384 => VerifyingKey::<sha2::Sha384>::new(key)
                        .verify(message, &signature)
                        .is_ok(),
                    Alg::Rs512 => VerifyingKey::<sha2::Sha512>::new(key)
                        .verify(message, &signature)
                        .is_ok(),
                    Alg::Es256 => false,
                }
            }
            (Self::P256(key), Alg::Es256) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok()),
            (Self::P256(_), _) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    //! Tokens are built here: base64url header and payload, signed with fixed test keys (made once
    //! with `openssl genpkey`; test-only, they protect nothing). Unit tests use inline JWKS;
    //! discovery tests serve the documents from `wiremock`.

    use std::sync::LazyLock;
    use std::time::UNIX_EPOCH;

    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;
    use rsa::pkcs8::DecodePrivateKey as _;
    use rsa::signature::{SignatureEncoding as _, Signer as _};
    use rsa::traits::PublicKeyParts as _;
    use serde_json::json;
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;

    const RSA_A_PKCS8_DER: &str = concat!(
        "MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDWRvmHFC3O9dl46shkQuEfUkqPasFKBUqqY7Yf",
        "HmjS6q5cPIdL7nUtiucv2pxnwQUZFTo7WDaFAfe8YAls5135nJCcKwhmnKKyKwnYMjZdBn72LR1G2n/TnTH7QQ9Z",
        "Wp2xpf+vmMUnA0hEvJWOC1nbB9Mitr+WOASeMJQXs/1uWSAgdX7f2X6GGazbr9UxMcuF4EnkK2CsBY0X3sCcu3JS",
        "dW0Xym/CoBcuLCvhlESBGAQQfXO94Y/udbTYI/CQqufPxReLP6wQXti7iaFqzEtudoJL+Uo3tYJsLg5o8pUwFADn",
        "QBYlwiwER747pBuBk0DnO8PIcBRELaqXpOGjnQVhAgMBAAECggEAARKyClHQ3KjlI9aPpjZiRpgQtuUExqZOAlpN",
        "WbyrD1bU5JH6RrhhCndICvieGMQp/o8ZV32cqMf6rc0gkPS75w2IWRrbT/m79BbUddpjBK5dFYYib9XVZumyK9Ee",
        "pr62HFMRq6dBAf3xh0QXPuLKSncwoMtv3EyHo+PoAvIgHFTINH/WbDnLeQQE4am2zQWFWjQWSVGm+3OrOhQDgpZP",
        "FRzJShKm2fkcdrJHaDUpQNVsFPEj2OYBD53cwfQm+9rSAXnPeA7f4b64h1/Dbkcy5M2rXBXdxXewOMiX2oAk1fzH",
        "6I4ysxhm2IrMI1TOqoyNzzE7cu0fRtcfYq0qYak+AQKBgQDuHwfVbwlVPOBDQ/5H5AQbWqbIwlpZzbbaKlAvHK6D",
        "cj+nksXZIgJNFBqXXzEL0J9d2b7TwgBEFkYQGb8SWUm3rYN/uKYMM7yqp3AXiZTHJLDecAFi2vBrl/YYA6FEnM2j",
        "VCsJVni9GG9jdkE4tWh5SR7yaOUDsmPGiiZmfM+3AQKBgQDmXaKSCevxE2hkhsyjTNR4wdHpuySACPITaWVaL0+k",
        "AR94gLmRgizUiem3nyWtaDqzrZOkrtIRfand7YK0YY6jAfqm/WF1pXaHH9DzsHXuqifMUffrAI+0IHc75IPmunp3",
        "P6HX+g+1Ej942Tj17FGAloYDaoF/RGY16zrdYIauYQKBgQCS1gXBopfxvPlZ4WrDMCMsLwlcESUf7Y/NFnydoKUo",
        "n2ILVqG0VJlwqG4BXAzliT9M40IeWKpLUiTgNtAxY2fm4ROOxfF24sx7u4aOrSNWbhS3BgCE0hehcXKqukpPAhZ4",
        "miVzu6P2j0PY5IoxiwQijmmL+A0I649FVdl6J4r7AQKBgQCtjVGTMIJe5z44rg2x4YoZR/w7WNBQ3WxzD25aGVao",
        "umfZQzGK3EWmAhjgS7f5ApNnFpgq88IzhzbYib105CKv0CfkcvRfy76WYnPrg7/1hJ/jIMXkeFHLZMIvjyOISmlF",
        "Od1Wd4Ap7IuBIjX1oIpuk/h2zmCtXvyaFpQMgFI3QQKBgQC4KG3SAjqdWew82xvURhEZYU1vAC/f6Imec5SQL4OT",
        "/NR6nOfw+E2TCOsZnF18XPHA2ruXQ8aBPenkA9B/4sOr7UdifknjKhZ2jMDh6oHap5FB5I4CoMcDMPU+vh2/IRBS",
        "9rXKNUxuNkVKxwwsjiu4joZJ0VD3YU5Tiqtw/5N/Sw==",
    );
    const RSA_B_PKCS8_DER: &str = concat!(
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC1vhJV+Q297SE8zkqt0+Mjl2L/GhjfrRvt7wvr",
        "0i9gkwH30jd+TMJH61BgOcCdss42O6oI3BAMGsj3CdFEcwx5kWn02mNuRY11xH0luLsjZAGMUNzy9AEPegMi5HcH",
        "DWJuvreTp63MrKhXLTGw0tfI4/NA0AC0at54VSUiaY0itoz7esTOaZ3Gx7D0eiXS6nSmvrSEbwk7yoSM8xHDORn5",
        "hfUUBd3EPaFNJA9qRoefUF9BQVRlM+PgCYjKbtP2zXT9F15Hy4/iREskHoNud8VZWV/NROKzADLKklidHnGqdBPe",
        "EZfYT33+hSHza4mZeCcAjJIe39m/7TN2BRV2YtLdAgMBAAECggEAHLzoc1XFeYHUnqPUJTZ7FTar/cCnrD7YSsBg",
        "9zIuMawtRH2mLr9+fRbVh9G6BnWuq961XV9G3lMh8gZIY/V5RIPc6E3cKSSwYK3oSB204by/jet/dJ9mx4a4ljzg",
        "IWpZZT+dEakTD2lB2T8ZO2ernWWGInqBkgXQFeEI1S8xlQpZrobhEZ5pwt72TpsLgz7K4SRrwywmMZQoGGrJVX02",
        "XRkxf3h4PqzmEdujpQpUbgdFCCEztFHlyyl1KHxOCoLcP83i0A4GW61QnbBlwqfyibPFQfJdVvCs5rN0qSscTiLR",
        "TvWffrJkbAxxpvms1Wf/nR9KT1/XYg59v6UcmkQM9QKBgQD7X+UKA0B9FmPy4pnwVLFTM+xH5k2GsxFT5C7Aw2rJ",
        "fLD545NiNtPJXM/7OZ/scVhfi3wsNMrLIM8iDADrOJEKrRuEq497ICYL4q56bgPl/eOksHUSrQbcsxPMWRcYbTtv",
        "sFZefl9kyPsPqIjD4E0s5IzhPqDGoNTQ4gswdqxYawKBgQC5FixhVKv/CUEN/t7MRk/nbBIP8OnrImsiwweD9I1s",
        "LBzUCvkfWzAq7E8Z4TSpvuK0AmTX0QQuVg9ikgavlZOsU+7XQ9Ng4Fzvz07loBemf73KlXJ5/7+VfusJJmpGA4+P",
        "p92y1Yf4o6t6SG6fTsZo05I4VRB9hV6yBTgqVOXz1wKBgG7Ex/nMiwtT5YEvB2SW/XjLhY/9VSZJHBaak1uQASt+",
        "TcIf3V9HB7ZQtrleoDEhlS6tGW+lZ8Nw1rWLEpCUYZ2RwHGK4/P+q6VLI1WByyf64+g7datgIYj5RH0kuP+jirBh",
        "xP1otIKF6dPxkSq3WWqx376VyWUdlAnjwch+Ut23AoGAWJDDq89YfjFvb8MF2bnLgnG0MuyVAm711Sx97CaZhamW",
        "IeEeVGLOKbvqHfgluxQcZwa+OodJ+OI1enVlvZ9ViqCfKWLLQxAZaKdKmZaBuqplpwrcPISkqGSTE03OjLIngBZT",
        "f7+t0MyAwYLnbFPFnWOgFFSgD3BCX+0fcyIs5wECgYEAgYKmzaQriGeJk+3i/eF3MW9HsoIfGX2lOQY9nDpwiP6t",
        "zCprKjYnqwE+p3tZC+ngRNVO1S1n1Aa0lS0wLwO34NTAVBiLCkv+9D1QJm5fdcq80LZBwkjI1e6JNAIZ+XxuP3Gz",
        "U4M9ec+TN73s7LW4i4BKAwqrjE+Hn36tO4mQIUo=",
    );

    /// The P-256 private scalar `d`, base64url.
    const EC_D: &str = "B32cUNlodJ3TZ4rJRDVKJcZrt1mqS_8oZ0XWqRSwExE";

    /// 2026-01-01T00:00:00Z, the simulated "now" of every test.
    const NOW: i64 = 1_767_225_600;
    const ISSUER: &str = "https://token.actions.githubusercontent.com";
    const AUDIENCE: &str = "sts.amazonaws.com";
    const SUBJECT: &str = "repo:octo-org/octo-repo:ref:refs/heads/main";

    static RSA_A: LazyLock<rsa::PrivateKey> = LazyLock::new(|| rsa_private(RSA_A_PKCS8_DER));
    static RSA_B: LazyLock<rsa::PrivateKey> = LazyLock::new(|| rsa_private(RSA_B_PKCS8_DER));
    static EC: LazyLock<p256::ecdsa::SigningKey> = LazyLock::new(|| {
        p256::ecdsa::SigningKey::from_slice(&B64URL.decode(EC_D).unwrap()).unwrap()
    });

    fn rsa_private(der_b64: &str) -> rsa::PrivateKey {
        rsa::PrivateKey::from_pkcs8_der(&STANDARD.decode(der_b64).unwrap()).unwrap()
    }

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs())
    }

    #[derive(Clone, Copy)]
    enum Key {
        RsaA,
        RsaB,
        Ec,
    }

    impl Key {
        fn jwk(self, kid: &str) -> Value {
            let be = |u: &BoxedUint| B64URL.encode(strip_leading_zeros(&u.to_be_bytes()));
            match self {
                Key::RsaA | Key::RsaB => {
                    let key = match self {
                        Key::RsaA => &*RSA_A,
                        _ => &*RSA_B,
                    };
                    json!({"kty": "RSA", "use": "sig", "kid": kid,
                           "n": be(key.n().as_ref()), "e": be(key.e())})
                }
                Key::Ec => {
                    let point = EC.verifying_key().to_sec1_point(false);
                    let bytes = point.as_bytes();
                    json!({"kty": "EC", "crv": "P-256", "use": "sig", "kid": kid,
                           "x": B64URL.encode(&bytes[1..33]), "y": B64URL.encode(&bytes[33..65])})
                }
            }
        }

        fn sign(self, alg: &str, message: &[u8]) -> Vec<u8> {
            use rsa::pkcs1v15::SigningKey;
            let rsa = |key: &rsa::PrivateKey| -> Vec<u8> {
                match alg {
                    "RS384" => SigningKey::<sha2::Sha384>::new(key.clone())
                        .sign(message)
                        .to_vec(),
                    "RS512" => SigningKey::<sha2::Sha512>::new(key.clone())
                        .sign(message)
                        .to_vec(),
                    _ => SigningKey::<sha2::Sha256>::new(key.clone())
                        .sign(message)
                        .to_vec(),
                }
            };
            match self {
                Key::RsaA => rsa(&RSA_A),
                Key::RsaB => rsa(&RSA_B),
                Key::Ec => {
                    let signature: p256::ecdsa::Signature = EC.sign(message);
                    signature.to_vec()
                }
            }
        }
    }

    fn jwks(keys: &[(Key, &str)]) -> Value {
        json!({"keys": keys.iter().map(|(k, kid)| k.jwk(kid)).collect::<Vec<_>>()})
    }

    /// A JWT with this header and payload, signed by `key` with the header's `alg`.
    fn token_with(header: &Value, claims: &Value, key: Key) -> String {
        let input = format!(
            "{}.{}",
            B64URL.encode(header.to_string()),
            B64URL.encode(claims.to_string())
        );
        let alg = header["alg"].as_str().unwrap_or("RS256");
        let signature = key.sign(alg, input.as_bytes());
        format!("{input}.{}", B64URL.encode(signature))
    }

    fn claims() -> Value {
        json!({"iss": ISSUER, "sub": SUBJECT, "aud": AUDIENCE, "iat": NOW - 60, "nbf": NOW - 60,
               "exp": NOW + 3600, "repository": "octo-org/octo-repo"})
    }

    fn rs256(claims: &Value) -> String {
        token_with(
            &json!({"alg": "RS256", "typ": "JWT", "kid": "a"}),
            claims,
            Key::RsaA,
        )
    }

    fn es256(claims: &Value) -> String {
        token_with(
            &json!({"alg": "ES256", "typ": "JWT", "kid": "e"}),
            claims,
            Key::Ec,
        )
    }

    fn inline_provider() -> OidcProvider {
        OidcProvider {
            url: ISSUER.to_owned(),
            client_ids: vec![AUDIENCE.to_owned()],
            jwks: Some(jwks(&[(Key::RsaA, "a"), (Key::Ec, "e")])),
        }
    }

    fn verify_inline(token: &str) -> Result<(VerifiedIdentity, usize), OidcError> {
        verify_with(token, &[inline_provider()])
    }

    fn verify_with(
        token: &str,
        providers: &[OidcProvider],
    ) -> Result<(VerifiedIdentity, usize), OidcError> {
        static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
        });
        RUNTIME.block_on(OidcVerifier::new().verify(token, providers, now()))
    }

    #[track_caller]
    fn assert_refused(
        result: Result<(VerifiedIdentity, usize), OidcError>,
        code: &str,
        message: &str,
    ) -> OidcError {
        let err = result.expect_err("token was accepted");
        assert_eq!(err.code(), code, "{err:?}");
        assert_eq!(err.to_string(), message, "{err:?}");
        assert_eq!(err.status(), 400);
        err
    }

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
    fn fractional_dates_are_floored() {
        let mut c = claims();
        c["exp"] = json!(NOW as f64 + 0.5);
        assert_refused(
            verify_inline(&rs256(&c)),
            "ExpiredTokenException",
            &format!(
                "Token expired: current date/time {NOW} must be before the expiration date/time {NOW}"
            ),
        );
    }

    // ---- malformed tokens ------------------------------------------------------------------

    #[test]
    fn malformed_tokens_are_not_a_valid_jwt() {
        let good = rs256(&claims());
        let (head, rest) = good.split_once('.').unwrap();
        let enc = |v: &Value| B64URL.encode(v.to_string());
        let cases = [
            String::new(),
            "abc".into(),
            "a.b".into(),
            format!("{good}.x"),
            format!("!!!.{rest}"),
            format!("{}.{rest}", enc(&json!(["RS256"]))),
            format!("{}.{rest}", B64URL.encode("not json")),
            format!("{head}.{}.c2ln", B64URL.encode("{")),
            format!("{head}.{}.c2ln", enc(&json!({"sub": "no iss"}))),
            format!("{head}.{}.c2ln", enc(&json!({"iss": 7}))),
            format!("{}.{rest}", enc(&json!({"typ": "JWT"}))),
            format!("{}.{rest}", enc(&json!({"alg": "RS256", "kid": 1}))),
            format!("{}.{rest}", enc(&json!({"alg": "RS256", "crit": ["exp"]}))),
            format!("{}.not base64", good.rsplit_once('.').unwrap().0),
        ];
        for token in cases {
            let err = assert_refused(
                verify_inline(&token),
                "InvalidIdentityToken",
                NOT_A_JWT_MESSAGE,
            );
            assert!(matches!(err, OidcError::NotAJwt { .. }), "{token}: {err:?}");
        }
    }

    #[test]
    fn unsupported_algorithms_are_refused_as_not_a_valid_jwt() {
        let c = claims();
        let none = format!(
            "{}.{}.",
            B64URL.encode(json!({"alg": "none"}).to_string()),
            B64URL.encode(c.to_string())
        );
        let hs256 = format!(
            "{}.{}.c2lnbmF0dXJl",
            B64URL.encode(json!({"alg": "HS256", "kid": "a"}).to_string()),
            B64URL.encode(c.to_string())
        );
        let es384 = format!(
            "{}.{}.c2lnbmF0dXJl",
            B64URL.encode(json!({"alg": "ES384", "kid": "e"}).to_string()),
            B64URL.encode(c.to_string())
        );
        for (token, alg) in [(none, "none"), (hs256, "HS256"), (es384, "ES384")] {
            let err = assert_refused(
                verify_inline(&token),
                "InvalidIdentityToken",
                NOT_A_JWT_MESSAGE,
            );
            assert_eq!(err, OidcError::UnsupportedAlgorithm { alg: alg.into() });
        }
    }

    #[test]
    fn missing_or_non_numeric_exp_is_not_a_valid_jwt() {
        for exp in [Value::Null, json!("tomorrow")] {
            let mut c = claims();
            c["exp"] = exp;
            assert_refused(
                verify_inline(&rs256(&c)),
                "InvalidIdentityToken",
                NOT_A_JWT_MESSAGE,
            );
        }
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert_refused(
            verify_inline(&rs256(&c)),
            "InvalidIdentityToken",
            NOT_A_JWT_MESSAGE,
        );
    }

    // ---- keys and signatures ---------------------------------------------------------------

    #[test]
    fn unknown_kid_cannot_retrieve_the_verification_key() {
        let token = token_with(&json!({"alg": "RS256", "kid": "b"}), &claims(), Key::RsaB);
        let err = assert_refused(
            verify_inline(&token),
            "InvalidIdentityToken",
            KEY_RETRIEVAL_MESSAGE,
        );
        assert_eq!(
            err,
            OidcError::UnknownKey {
                kid: Some("b".into())
            }
        );
    }

    #[test]
    fn a_kid_naming_a_key_of_another_type_is_unknown() {
        let token = token_with(&json!({"alg": "ES256", "kid": "a"}), &claims(), Key::Ec);
        assert_refused(
            verify_inline(&token),
            "InvalidIdentityToken",
            KEY_RETRIEVAL_MESSAGE,
        );
    }

    #[test]
    fn a_jwk_restricted_to_another_alg_does_not_fit() {
        let mut provider = inline_provider();
        let mut jwk = Key::RsaA.jwk("a");
        jwk["alg"] = json!("RS512");
        provider.jwks = Some(json!({"keys": [jwk]}));
        assert_refused(
            verify_with(&rs256(&claims()), &[provider]),
            "InvalidIdentityToken",
            KEY_RETRIEVAL_MESSAGE,
        );
    }

    #[test]
    fn encryption_keys_and_unknown_key_types_are_skipped() {
        let mut enc = Key::RsaA.jwk("a");
        enc["use"] = json!("enc");
        let doc = json!({"keys": [enc, {"kty": "oct", "k": "c2VjcmV0", "kid": "a"},
                                  {"kty": "RSA", "kid": "a", "n": "AQ", "e": "AQAB"}, 7]});
        assert!(KeySet::from_json(&doc).unwrap().keys.is_empty());
    }

    #[test]
    fn a_token_signed_by_another_key_has_an_invalid_signature() {
        let token = token_with(&json!({"alg": "RS256", "kid": "a"}), &claims(), Key::RsaB);
        let err = assert_refused(
            verify_inline(&token),
            "InvalidIdentityToken",
            BAD_SIGNATURE_MESSAGE,
        );
        assert_eq!(err, OidcError::BadSignature);
    }

    #[test]
    fn a_changed_payload_breaks_the_signature() {
        let token = rs256(&claims());
        let (head, rest) = token.split_once('.').unwrap();
        let (_, signature) = rest.split_once('.').unwrap();
        let mut c = claims();
        c["sub"] = json!("repo:evil/evil:ref:refs/heads/main");
        let forged = format!("{head}.{}.{signature}", B64URL.encode(c.to_string()));
        assert_refused(
            verify_inline(&forged),
            "InvalidIdentityToken",
            BAD_SIGNATURE_MESSAGE,
        );
    }

    #[test]
    fn an_inline_jwks_of_the_wrong_shape_cannot_retrieve_the_key() {
        let mut provider = inline_provider();
        provider.jwks = Some(json!([Key::RsaA.jwk("a")]));
        let err = assert_refused(
            verify_with(&rs256(&claims()), &[provider]),
            "InvalidIdentityToken",
            KEY_RETRIEVAL_MESSAGE,
        );
        assert!(matches!(err, OidcError::KeyRetrieval { .. }), "{err:?}");
    }

    // ---- issuer and claims -----------------------------------------------------------------

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

    #[test]
    fn audience_not_among_client_ids_is_incorrect() {
        for aud in [
            json!("sts.amazon.com"),
            json!(["a", "b"]),
            Value::Null,
            json!(7),
        ] {
            let mut c = claims();
            c["aud"] = aud;
            let err = assert_refused(
                verify_inline(&rs256(&c)),
                "InvalidIdentityToken",
                INCORRECT_AUDIENCE_MESSAGE,
            );
            assert_eq!(err, OidcError::IncorrectAudience);
        }
        let no_client_ids = OidcProvider {
            client_ids: vec![],
            ..inline_provider()
        };
        assert_refused(
            verify_with(&rs256(&claims()), &[no_client_ids]),
            "InvalidIdentityToken",
            INCORRECT_AUDIENCE_MESSAGE,
        );
    }

    #[test]
    fn missing_or_empty_subject_is_refused() {
        for sub in [Value::Null, json!(""), json!(42)] {
            let mut c = claims();
            c["sub"] = sub;
            assert_refused(
                verify_inline(&rs256(&c)),
                "InvalidIdentityToken",
                MISSING_SUBJECT_MESSAGE,
            );
        }
    }

    #[test]
    fn expired_token_gets_expired_token_exception_with_aws_message() {
        let mut c = claims();
        c["exp"] = json!(NOW - 79_695);
        let err = assert_refused(
            verify_inline(&rs256(&c)),
            "ExpiredTokenException",
            "Token expired: current date/time 1767225600 must be before the expiration date/time 1767145905",
        );
        assert_eq!(
            err,
            OidcError::Expired {
                now: NOW,
                expires_at: NOW - 79_695
            }
        );
    }

    #[test]
    fn expiry_boundary_has_no_leeway() {
        let mut c = claims();
        c["exp"] = json!(NOW);
        assert_refused(
            verify_inline(&rs256(&c)),
            "ExpiredTokenException",
            &format!(
                "Token expired: current date/time {NOW} must be before the expiration date/time {NOW}"
            ),
        );
        c["exp"] = json!(NOW + 1);
        verify_inline(&rs256(&c)).unwrap();
    }

    #[test]
    fn expiry_is_checked_after_the_signature() {
        let mut c = claims();
        c["exp"] = json!(NOW - 1);
        let token = token_with(&json!({"alg": "RS256", "kid": "a"}), &c, Key::RsaB);
        assert_refused(
            verify_inline(&token),
            "InvalidIdentityToken",
            BAD_SIGNATURE_MESSAGE,
        );
    }

    #[test]
    fn not_before_and_issued_at_in_the_future_are_not_yet_valid() {
        for claim in ["nbf", "iat"] {
            let mut c = claims();
            c[claim] = json!(NOW + 1);
            let err = assert_refused(
                verify_inline(&rs256(&c)),
                "InvalidIdentityToken",
                NOT_YET_VALID_MESSAGE,
            );
            assert_eq!(
                err,
                OidcError::NotYetValid {
                    claim,
                    value: NOW + 1,
                    now: NOW
                }
            );
            c[claim] = json!(NOW);
            verify_inline(&rs256(&c)).unwrap();
        }
        let mut c = claims();
        c["nbf"] = json!("soon");
        assert_refused(
            verify_inline(&rs256(&c)),
            "InvalidIdentityToken",
            NOT_A_JWT_MESSAGE,
        );
    }

    #[test]
    fn https_issuer_without_inline_keys_is_an_idp_communication_error() {
        for url in [ISSUER, "token.actions.githubusercontent.com"] {
            let provider = OidcProvider {
                url: url.into(),
                jwks: None,
                ..inline_provider()
            };
            let err = verify_with(&rs256(&claims()), &[provider]).unwrap_err();
            assert_eq!(err.code(), "IDPCommunicationError");
            assert_eq!(err.status(), 400);
            assert!(
                err.to_string()
                    .contains("give this provider's keys inline as jwks"),
                "{err}"
            );
        }
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

    #[test]
    fn codes_and_statuses_match_sts() {
        let expired = OidcError::Expired {
            now: 2,
            expires_at: 1,
        };
        assert_eq!(
            (expired.code(), expired.status()),
            ("ExpiredTokenException", 400)
        );
        let tls = OidcError::IssuerNeedsInlineKeys { url: ISSUER.into() };
        assert_eq!((tls.code(), tls.status()), ("IDPCommunicationError", 400));
        assert_eq!(OidcError::BadSignature.code(), "InvalidIdentityToken");
    }

    // ---- discovery against wiremock ----------------------------------------------------------

    async fn serve_discovery(server: &MockServer, config_calls: u64) {
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": server.uri(),
                "jwks_uri": format!("{}/.well-known/jwks", server.uri()),
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
            })))
            .expect(config_calls)
            .mount(server)
            .await;
    }

    fn discovered(server: &MockServer) -> OidcProvider {
        OidcProvider {
            url: server.uri(),
            client_ids: vec![AUDIENCE.into()],
            jwks: None,
        }
    }

    fn claims_for(server: &MockServer) -> Value {
        let mut c = claims();
        c["iss"] = json!(server.uri());
        c
    }

    #[tokio::test]
    async fn discovery_follows_jwks_uri_and_caches_the_keys() {
        let server = MockServer::start().await;
        serve_discovery(&server, 1).await;
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(jwks(&[(Key::RsaA, "a"), (Key::Ec, "e")])),
            )
            .expect(1)
            .mount(&server)
            .await;
        let verifier = OidcVerifier::new();
        let providers = [discovered(&server)];
        let c = claims_for(&server);
        let (identity, _) = verifier
            .verify(&rs256(&c), &providers, now())
            .await
            .unwrap();
        assert_eq!(identity.issuer, server.uri());
        // Second and third tokens, through a clone: both served from the cache.
        verifier
            .clone()
            .verify(&es256(&c), &providers, now())
            .await
            .unwrap();
        verifier
            .verify(&rs256(&c), &providers, now())
            .await
            .unwrap();
        server.verify().await;
    }

    #[tokio::test]
    async fn concurrent_misses_share_one_fetch() {
        let server = MockServer::start().await;
        serve_discovery(&server, 1).await;
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(Key::RsaA, "a")])))
            .expect(1)
            .mount(&server)
            .await;
        let verifier = OidcVerifier::new();
        let providers = [discovered(&server)];
        let token = rs256(&claims_for(&server));
        let (a, b, c) = tokio::join!(
            verifier.verify(&token, &providers, now()),
            verifier.verify(&token, &providers, now()),
            verifier.verify(&token, &providers, now()),
        );
        assert!(a.is_ok() && b.is_ok() && c.is_ok());
        server.verify().await;
    }

    #[tokio::test]
    async fn unknown_kid_refetches_once_for_key_rotation() {
        let server = MockServer::start().await;
        serve_discovery(&server, 2).await;
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(Key::RsaA, "a")])))
            .up_to_n_times(1)
            .expect(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(jwks(&[(Key::RsaA, "a"), (Key::RsaB, "b")])),
            )
            .expect(1)
            .mount(&server)
            .await;
        let verifier = OidcVerifier::new();
        let providers = [discovered(&server)];
        let c = claims_for(&server);
        verifier
            .verify(&rs256(&c), &providers, now())
            .await
            .unwrap();
        let rotated = token_with(&json!({"alg": "RS256", "kid": "b"}), &c, Key::RsaB);
        verifier.verify(&rotated, &providers, now()).await.unwrap();
        // Both keys are cached now: no further fetch.
        verifier.verify(&rotated, &providers, now()).await.unwrap();
        verifier
            .verify(&rs256(&c), &providers, now())
            .await
            .unwrap();
        server.verify().await;
    }

    #[tokio::test]
    async fn a_kid_still_unknown_after_one_refetch_is_refused() {
        let server = MockServer::start().await;
        serve_discovery(&server, 2).await;
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(Key::RsaA, "a")])))
            .expect(2)
            .mount(&server)
            .await;
        let c = claims_for(&server);
        let token = token_with(&json!({"alg": "RS256", "kid": "gone"}), &c, Key::RsaB);
        let err = OidcVerifier::new()
            .verify(&token, &[discovered(&server)], now())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            OidcError::UnknownKey {
                kid: Some("gone".into())
            }
        );
        assert_eq!(err.to_string(), KEY_RETRIEVAL_MESSAGE);
        server.verify().await;
    }

    async fn discovery_error(server: &MockServer) -> OidcError {
        let token = rs256(&claims_for(server));
        OidcVerifier::new()
            .with_fetch_timeout(Duration::from_millis(300))
            .verify(&token, &[discovered(server)], now())
            .await
            .unwrap_err()
    }

    #[track_caller]
    fn assert_key_retrieval(err: &OidcError, reason_has: &str) {
        assert_eq!(err.code(), "InvalidIdentityToken");
        assert_eq!(err.to_string(), KEY_RETRIEVAL_MESSAGE);
        match err {
            OidcError::KeyRetrieval { reason, .. } => {
                assert!(reason.contains(reason_has), "{reason}");
            }
            other => panic!("not KeyRetrieval: {other:?}"),
        }
    }

    #[tokio::test]
    async fn issuer_answering_500_cannot_retrieve_the_key_and_is_not_cached() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(500))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        assert_key_retrieval(&discovery_error(&server).await, "status 500");
        // The failure is not cached: the next verify asks again and succeeds.
        serve_discovery(&server, 1).await;
        Mock::given(method("GET"))
            .and(path("/.well-known/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(jwks(&[(Key::RsaA, "a")])))
            .mount(&server)
            .await;
        let token = rs256(&claims_for(&server));
        OidcVerifier::new()
            .verify(&token, &[discovered(&server)], now())
            .await
            .unwrap();
        server.verify().await;
    }

    #[tokio::test]
    async fn unreachable_issuer_cannot_retrieve_the_key() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut c = claims();
        c["iss"] = json!(url);
        let provider = OidcProvider {
            url,
            client_ids: vec![AUDIENCE.into()],
            jwks: None,
        };
        let err = OidcVerifier::new()
            .verify(&rs256(&c), &[provider], now())
            .await
            .unwrap_err();
        assert_key_retrieval(&err, "GET http://127.0.0.1");
    }

    #[tokio::test]
    async fn slow_issuer_times_out() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
            .mount(&server)
            .await;
        assert_key_retrieval(&discovery_error(&server).await, "longer than");
    }

    #[tokio::test]
    async fn malformed_discovery_documents_cannot_retrieve_the_key() {
        // (openid-configuration, or None for a good one; JWKS response; expected reason)
        let cases: [(Option<ResponseTemplate>, ResponseTemplate, &str); 5] = [
            (
                Some(ResponseTemplate::new(200).set_body_string("<html>")),
                ResponseTemplate::new(200),
                "not JSON",
            ),
            (
                Some(ResponseTemplate::new(200).set_body_json(json!({"issuer": "x"}))),
                ResponseTemplate::new(200),
                "no jwks_uri",
            ),
            (
                Some(
                    ResponseTemplate::new(200).set_body_string("x".repeat(MAX_DOCUMENT_BYTES + 1)),
                ),
                ResponseTemplate::new(200),
                "body",
            ),
            (None, ResponseTemplate::new(404), "status 404"),
            (
                None,
                ResponseTemplate::new(200).set_body_json(json!({"keys": {}})),
                "keys array",
            ),
        ];
        for (config, keys, reason) in cases {
            let server = MockServer::start().await;
            let config = config.unwrap_or_else(|| {
                ResponseTemplate::new(200).set_body_json(json!({
                    "issuer": server.uri(),
                    "jwks_uri": format!("{}/.well-known/jwks", server.uri()),
                }))
            });
            Mock::given(path("/.well-known/openid-configuration"))
                .respond_with(config)
                .mount(&server)
                .await;
            Mock::given(path("/.well-known/jwks"))
                .respond_with(keys)
                .mount(&server)
                .await;
            assert_key_retrieval(&discovery_error(&server).await, reason);
        }
    }

    #[tokio::test]
    async fn https_jwks_uri_needs_inline_keys() {
        let server = MockServer::start().await;
        Mock::given(path("/.well-known/openid-configuration"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "jwks_uri": "https://keys.example/jwks",
            })))
            .mount(&server)
            .await;
        assert_key_retrieval(&discovery_error(&server).await, "not http://");
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
