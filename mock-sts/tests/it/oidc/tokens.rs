//! The token kit shared by the OIDC unit tests (`src/oidc/test_support.rs` includes this file)
//! and the wiremock discovery tests: fixed test keys, their JWKS, and JWTs signed with them.
//!
//! Tokens are built here: base64url header and payload, signed with fixed test keys (made once
//! with `openssl genpkey`; test-only, they protect nothing).

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64URL};
use rsa::BoxedUint;
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

pub(crate) const RSA_A_PKCS8_DER: &str = concat!(
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
pub(crate) const RSA_B_PKCS8_DER: &str = concat!(
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
pub(crate) const EC_D: &str = "B32cUNlodJ3TZ4rJRDVKJcZrt1mqS_8oZ0XWqRSwExE";

/// 2026-01-01T00:00:00Z, the simulated "now" of every test.
pub(crate) const NOW: i64 = 1_767_225_600;
pub(crate) const ISSUER: &str = "https://token.actions.githubusercontent.com";
pub(crate) const AUDIENCE: &str = "sts.amazonaws.com";
pub(crate) const SUBJECT: &str = "repo:octo-org/octo-repo:ref:refs/heads/main";

pub(crate) static RSA_A: LazyLock<rsa::PrivateKey> = LazyLock::new(|| rsa_private(RSA_A_PKCS8_DER));
pub(crate) static RSA_B: LazyLock<rsa::PrivateKey> = LazyLock::new(|| rsa_private(RSA_B_PKCS8_DER));
pub(crate) static EC: LazyLock<p256::ecdsa::SigningKey> =
    LazyLock::new(|| p256::ecdsa::SigningKey::from_slice(&B64URL.decode(EC_D).unwrap()).unwrap());

pub(crate) fn rsa_private(der_b64: &str) -> rsa::PrivateKey {
    rsa::PrivateKey::from_pkcs8_der(&STANDARD.decode(der_b64).unwrap()).unwrap()
}

pub(crate) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW.unsigned_abs())
}

#[derive(Clone, Copy)]
pub(crate) enum Key {
    RsaA,
    RsaB,
    Ec,
}

impl Key {
    pub(crate) fn jwk(self, kid: &str) -> Value {
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

    pub(crate) fn sign(self, alg: &str, message: &[u8]) -> Vec<u8> {
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

pub(crate) fn jwks(keys: &[(Key, &str)]) -> Value {
    json!({"keys": keys.iter().map(|(k, kid)| k.jwk(kid)).collect::<Vec<_>>()})
}

/// A JWT with this header and payload, signed by `key` with the header's `alg`.
pub(crate) fn token_with(header: &Value, claims: &Value, key: Key) -> String {
    let input = format!(
        "{}.{}",
        B64URL.encode(header.to_string()),
        B64URL.encode(claims.to_string())
    );
    let alg = header["alg"].as_str().unwrap_or("RS256");
    let signature = key.sign(alg, input.as_bytes());
    format!("{input}.{}", B64URL.encode(signature))
}

pub(crate) fn claims() -> Value {
    json!({"iss": ISSUER, "sub": SUBJECT, "aud": AUDIENCE, "iat": NOW - 60, "nbf": NOW - 60,
           "exp": NOW + 3600, "repository": "octo-org/octo-repo"})
}

pub(crate) fn rs256(claims: &Value) -> String {
    token_with(
        &json!({"alg": "RS256", "typ": "JWT", "kid": "a"}),
        claims,
        Key::RsaA,
    )
}

pub(crate) fn es256(claims: &Value) -> String {
    token_with(
        &json!({"alg": "ES256", "typ": "JWT", "kid": "e"}),
        claims,
        Key::Ec,
    )
}

/// Big-endian bytes without leading zeros, as JWK numbers are written.
fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}
