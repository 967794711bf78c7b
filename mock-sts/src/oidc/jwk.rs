//! The keys of a JWKS document (`{"keys": [...]}`): RSA and EC P-256 signing keys, which token
//! each may check, and the signature check itself.
//!
//! A key this module cannot use (`use: enc`, another `kty` or curve, malformed numbers) is
//! skipped, not an error: issuers publish such keys beside the ones that sign.

use base64::Engine as _;
use rsa::BoxedUint;
use rsa::signature::Verifier as _;
use serde_json::Value;
use tracing::debug;

use super::jwt::{Alg, B64URL};

/// The keys of one JWKS document that this module can use; others are skipped.
pub(super) struct KeySet {
    pub(super) keys: Vec<Jwk>,
}

pub(super) struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    pub(super) key: PublicJwk,
}

pub(super) enum PublicJwk {
    Rsa(rsa::PublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

impl KeySet {
    /// Parses `{"keys": [...]}`. A document of another shape is an error; a key this module cannot
    /// use (`use: enc`, another `kty` or curve, malformed numbers) is skipped.
    pub(super) fn from_json(doc: &Value) -> Result<Self, String> {
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
    pub(super) fn from_json(entry: &Value) -> Option<Self> {
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
    pub(super) fn fits(&self, alg: Alg, kid: Option<&str>) -> bool {
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
    pub(super) fn verifies(&self, alg: Alg, message: &[u8], signature: &[u8]) -> bool {
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
    use serde_json::json;

    use super::super::test_support::*;
    use super::super::*;
    use super::*;

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
}
