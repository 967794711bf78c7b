//! Discovery: an issuer's keys fetched from `<url>/.well-known/openid-configuration` and its
//! `jwks_uri`, over plain HTTP, and cached per issuer.
//!
//! Fetches are bounded in time ([`DEFAULT_FETCH_TIMEOUT`], both documents together) and size
//! ([`MAX_DOCUMENT_BYTES`] per body). A failure is never cached; a token naming a key the cached
//! set lacks makes one refetch (key rotation), and concurrent misses of one issuer share a fetch
//! through the issuer's async mutex. The wiremock tests of all this live in `tests/it/oidc.rs`.

use std::sync::{Arc, PoisonError};
use std::time::Duration;

use http_body_util::{BodyExt as _, Limited};
use serde_json::Value;
use tracing::{debug, warn};

use super::jwk::KeySet;
use super::{OidcError, OidcProvider, OidcVerifier, provider_key, strip_prefix_ignore_case};

/// How long discovery (`openid-configuration` plus JWKS) may take before it counts as a failure.
/// AWS gives up on an identity provider that takes more than 5 seconds (AWS knowledge center,
/// "iam-sts-invalididentitytoken": "latency of more than 5 seconds in API requests from the IdP").
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The largest discovery or JWKS document read (1 MiB); a larger one is a failed fetch.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// One issuer's cached keys. The async mutex makes concurrent misses wait for one fetch.
pub(super) type CacheSlot = Arc<tokio::sync::Mutex<Option<Arc<KeySet>>>>;

impl OidcVerifier {
    /// The provider's discovered keys: from the cache, or fetched. With `stale`, the caller found
    /// no usable key in that set, so fetch again, unless another task already replaced it.
    pub(super) async fn discovered_keys(
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
        // Real time: the fetch is real network I/O, and on a paused runtime tokio's timeout
        // would fire as soon as the socket is awaited.
        let fetched =
            match crate::clock::real_timeout(self.fetch_timeout, self.fetch_keys(provider)).await {
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

/// The issuer URL without trailing slash if it is `http://` (the only scheme fetched), else None.
pub(super) fn plain_http_base(url: &str) -> Option<&str> {
    let url = url.trim();
    strip_prefix_ignore_case(url, "http://")?;
    Some(url.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;

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
}
