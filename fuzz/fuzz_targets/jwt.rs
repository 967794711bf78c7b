//! Web-identity tokens: the JWT parser (three base64url parts, header and claims JSON), the
//! JWKS reader (RSA and P-256 keys, skipped when unusable) and the signature and claim checks,
//! through [`OidcVerifier::verify`] with an inline JWKS, as `AssumeRoleWithWebIdentity` runs
//! them. The input is the token, a newline, then the provider's JWKS JSON; both are mutated
//! from real ones (a token signed by the seed world's RSA key and its JWKS). Any input is
//! verified or refused with an `OidcError`, never a panic.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mock_sts::oidc::{OidcProvider, OidcVerifier};

static VERIFIER: LazyLock<OidcVerifier> = LazyLock::new(OidcVerifier::new);
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (token, jwks) = text.split_once('\n').unwrap_or((text, ""));
    // Without inline keys the verifier would fetch them over the network: not here.
    let Ok(jwks) = serde_json::from_str::<serde_json::Value>(jwks) else {
        return;
    };
    let providers = [OidcProvider {
        url: "https://token.actions.githubusercontent.com".to_owned(),
        client_ids: vec!["sts.amazonaws.com".to_owned()],
        jwks: Some(jwks),
        mint: false,
    }];
    let _ = RUNTIME.block_on(VERIFIER.verify(token, &providers, mock_sts_fuzz::seed_time()));
});
