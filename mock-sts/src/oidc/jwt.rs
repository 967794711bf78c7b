//! JWS parsing and the checks on a web identity token: its compact form, header (`alg`, `kid`,
//! `crit`), signature and claims (`aud`, `sub`, `exp`, `nbf`, `iat`).
//!
//! Nothing in a [`ParsedToken`] is trusted until its signature verifies; the claims are then
//! checked in whole Unix seconds with no leeway, each failure with AWS's code and message.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use super::jwk::KeySet;
use super::{OidcError, OidcProvider, VerifiedIdentity};

/// base64url as JWTs use it; padding tolerated, non-zero trailing bits refused (so no two
/// encodings of one signature both verify).
pub(super) const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The signature algorithms accepted (see the module limits for ES384/ES512).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alg {
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

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Es256 => "ES256",
        }
    }
}

/// A token that parsed; nothing in it is trusted until [`ParsedToken::check_signature`] passes.
pub(super) struct ParsedToken {
    signing_input: String,
    signature: Vec<u8>,
    alg: Alg,
    pub(super) kid: Option<String>,
    pub(super) issuer: String,
    claims: Map<String, Value>,
}

impl ParsedToken {
    pub(super) fn parse(token: &str) -> Result<Self, OidcError> {
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
    pub(super) fn check_signature(&self, keys: &KeySet) -> Result<(), OidcError> {
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
    pub(super) fn check_claims(
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::test_support::*;
    use super::super::*;
    use super::*;

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

    // ---- issuer and claims -----------------------------------------------------------------

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
}
