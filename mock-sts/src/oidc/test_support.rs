//! Test support for the OIDC unit tests: the shared token kit (test keys, JWKS, signed tokens,
//! also used by the wiremock tests in `tests/it/oidc.rs`) and verification against inline keys.

use std::sync::LazyLock;

use super::{OidcError, OidcProvider, OidcVerifier, VerifiedIdentity};

#[path = "../../tests/it/oidc/tokens.rs"]
mod tokens;
pub(super) use tokens::*;

pub(super) fn inline_provider() -> OidcProvider {
    OidcProvider {
        url: ISSUER.to_owned(),
        client_ids: vec![AUDIENCE.to_owned()],
        jwks: Some(jwks(&[(Key::RsaA, "a"), (Key::Ec, "e")])),
        mint: false,
    }
}

pub(super) fn verify_inline(token: &str) -> Result<(VerifiedIdentity, usize), OidcError> {
    verify_with(token, &[inline_provider()])
}

pub(super) fn verify_with(
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
pub(super) fn assert_refused(
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
