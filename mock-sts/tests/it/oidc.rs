//! OIDC discovery against a `wiremock` issuer: `openid-configuration`, then `jwks_uri`; the
//! per-issuer cache, one shared fetch for concurrent misses, one refetch on an unknown `kid`
//! (key rotation), and every way an issuer can fail (status, timeout, size, shape, `https://`).
//! Moved from `src/oidc` unit tests: an issuer is a peer that is not ours to run.

use std::time::Duration;

use mock_sts::oidc::{
    KEY_RETRIEVAL_MESSAGE, MAX_DOCUMENT_BYTES, OidcError, OidcProvider, OidcVerifier,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

mod tokens;
use tokens::*;

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
        mint: false,
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
            ResponseTemplate::new(200).set_body_json(jwks(&[(Key::RsaA, "a"), (Key::RsaB, "b")])),
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
        mint: false,
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

/// On a paused runtime (a virtual clock) tokio's timer jumps ahead while the runtime waits on a
/// socket, so a `tokio::time::timeout` around discovery would fire at once; the real-time bound
/// lets an issuer that takes a moment answer.
#[tokio::test(start_paused = true)]
async fn discovery_on_a_paused_runtime_waits_in_real_time() {
    let server = MockServer::start().await;
    serve_discovery(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/.well-known/jwks"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(jwks(&[(Key::RsaA, "a")]))
                .set_delay(Duration::from_millis(200)),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (identity, _) = OidcVerifier::new()
        .with_fetch_timeout(Duration::from_secs(5))
        .verify(&rs256(&claims_for(&server)), &[discovered(&server)], now())
        .await
        .unwrap();
    assert_eq!(identity.issuer, server.uri());
    server.verify().await;
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
            Some(ResponseTemplate::new(200).set_body_string("x".repeat(MAX_DOCUMENT_BYTES + 1))),
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
