//! The aws-chunked decoder: chunk framing, chunk signatures (chained from a real seed
//! signature), trailers and the trailer signature. The first byte picks the form (bit 0: with
//! a trailer, bit 1: signed chunks); the rest is the body. It must decode or refuse anything,
//! and never panic.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use mock_sts::World;
use mock_sts::aws_error::Service;
use mock_sts::credentials::{CredentialAuthority, ServerKey};
use mock_sts::internals::{Authenticator, ChunkVerifier, decode_chunked};

/// The verified seed request of `seeds/chunked/README`: an aws-chunked PutObject signed by
/// the default world's user at the seed time; its signature starts every chunk chain.
const SEED_REQUEST: &[u8] = include_bytes!("../seeds/signed-streaming-put.http");

static VERIFIED: LazyLock<mock_sts::internals::Verified> = LazyLock::new(|| {
    let request = mock_sts_fuzz::raw_request(SEED_REQUEST).expect("the seed request parses");
    let (parts, _) = request.into_parts();
    let world = World::default();
    let authority = CredentialAuthority::new(ServerKey::from_bytes([7; 32]));
    let auth = Authenticator {
        world: &world,
        authority: &authority,
        now: mock_sts_fuzz::seed_time(),
        max_skew: None,
        revocations: None,
        permission: Default::default(),
    };
    match auth.verify(Service::S3, &parts, &[]) {
        Ok(verified) => verified,
        Err(rejection) => panic!("the seed request does not verify: {:?}", rejection.error),
    }
});

fuzz_target!(|data: &[u8]| {
    let Some((&form, body)) = data.split_first() else {
        return;
    };
    let verified = &*VERIFIED;
    let verifier = (form & 2 != 0).then(|| ChunkVerifier {
        signature: &verified.signature,
        signing_key: &verified.signing_key,
    });
    let _ = decode_chunked(body, verifier, form & 1 != 0);
});
