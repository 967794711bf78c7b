//! SigV4 authentication alone, below HTTP: the Authorization header and presigned-query
//! parsers, the credential scope, the canonical request builder (URI, query and header
//! canonicalisation, for STS's and S3's rules) and the session-token checks, from a raw
//! request (see the crate docs), for STS and for S3. It must answer `Ok` or a rejection for
//! anything, and never panic.

#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mock_sts::World;
use mock_sts::aws_error::Service;
use mock_sts::credentials::{CredentialAuthority, ServerKey};
use mock_sts::internals::Authenticator;

static WORLD: LazyLock<World> = LazyLock::new(World::default);
static AUTHORITY: LazyLock<CredentialAuthority> =
    LazyLock::new(|| CredentialAuthority::new(ServerKey::from_bytes([7; 32])));

fuzz_target!(|data: &[u8]| {
    let Some(request) = mock_sts_fuzz::raw_request(data) else {
        return;
    };
    let (parts, body) = request.into_parts();
    let auth = Authenticator {
        world: &WORLD,
        authority: &AUTHORITY,
        now: mock_sts_fuzz::seed_time(),
        max_skew: Some(Duration::from_secs(900)),
        revocations: None,
        permission: Default::default(),
    };
    let service = if parts.uri.path() == "/" && parts.method == http::Method::POST {
        Service::Sts
    } else {
        Service::S3
    };
    let _ = auth.verify(service, &parts, &body);
});
