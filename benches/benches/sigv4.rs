//! SigV4 verification, in process: what `mock-sts` spends authenticating one request.
//!
//! ```text
//! cargo bench -p benches --bench sigv4
//! ```
//!
//! - `header/long-term`: an STS form POST signed in the `Authorization` header with an IAM
//!   user's keys (parse, canonical request, HMAC chain, constant-time compare);
//! - `header/session-token`: the same with temporary keys, so the session token is validated
//!   (its HMAC under the server key) and the secret derived;
//! - `presigned`: an S3 GET presigned with temporary keys;
//! - `aws-chunked/1MiB`: an S3 `PutObject` of 1 MiB as `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`
//!   in 64 KiB chunks: the request's signature, then every chunk signature in the chain, and
//!   the decoded bytes.
//!
//! Requests are signed by the real aws-sigv4 crate ([`benches::signing`]).

use std::hint::black_box;
use std::time::Duration;

use benches::signing::{self, Keys, Signed};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mock_sts::aws_error::Service;
use mock_sts::clock::default_virtual_start;
use mock_sts::credentials::{CredentialAuthority, IssuedBy, ServerKey, SessionClaims};
use mock_sts::internals::Authenticator;
use mock_sts::internals::{ChunkVerifier, decode_chunked};
use mock_sts::{World, timestamp};

const HOST: &str = "127.0.0.1:4566";

fn session_keys(authority: &CredentialAuthority) -> Keys {
    let now = default_virtual_start();
    let issued = authority.issue(SessionClaims {
        access_key_id: "ASIABENCHBENCHBENCH2".to_owned(),
        account_id: "123456789012".to_owned(),
        principal_arn: "arn:aws:sts::123456789012:assumed-role/cross-account-s3/bench".to_owned(),
        user_id: "AROABENCHBENCHBENCH:bench".to_owned(),
        role_arn: Some(signing::ROLE_ARN.to_owned()),
        session_name: Some("bench".to_owned()),
        source_identity: None,
        issued_at_ms: timestamp::unix_millis(now),
        expires_at_ms: timestamp::unix_millis(now + Duration::from_secs(3600)),
        issued_by: IssuedBy::AssumeRole,
        duration_requested: None,
        chained: false,
    });
    Keys {
        akid: issued.claims.access_key_id.clone(),
        secret: issued.secret_access_key,
        token: Some(issued.session_token),
    }
}

fn verify(auth: &Authenticator<'_>, service: Service, request: &Signed, body: &[u8]) {
    let parts = request.parts();
    if let Err(rejection) = auth.verify(service, &parts, body) {
        panic!("the bench request does not verify: {:?}", rejection.error);
    }
}

fn bench(c: &mut Criterion) {
    let world = World::default();
    let authority = CredentialAuthority::new(ServerKey::from_bytes([7; 32]));
    let now = default_virtual_start();
    let auth = Authenticator {
        world: &world,
        authority: &authority,
        now,
        max_skew: Some(Duration::from_secs(900)),
        revocations: None,
        permission: Default::default(),
    };
    let session = session_keys(&authority);

    let mut group = c.benchmark_group("sigv4");
    let long_term = signing::get_caller_identity(HOST, &Keys::user(), now);
    verify(&auth, Service::Sts, &long_term, &long_term.body);
    group.bench_function("header/long-term", |b| {
        b.iter(|| {
            let parts = long_term.parts();
            black_box(auth.verify(Service::Sts, &parts, &long_term.body).is_ok())
        });
    });
    let with_token = signing::get_caller_identity(HOST, &session, now);
    verify(&auth, Service::Sts, &with_token, &with_token.body);
    group.bench_function("header/session-token", |b| {
        b.iter(|| {
            let parts = with_token.parts();
            black_box(auth.verify(Service::Sts, &parts, &with_token.body).is_ok())
        });
    });
    let presigned = signing::presigned_get_object(
        HOST,
        "bench",
        "object",
        &session,
        now,
        Duration::from_secs(3600),
    );
    verify(&auth, Service::S3, &presigned, &[]);
    group.bench_function("presigned", |b| {
        b.iter(|| {
            let parts = presigned.parts();
            black_box(auth.verify(Service::S3, &parts, &[]).is_ok())
        });
    });

    let data: Vec<u8> = (0..1024 * 1024u32)
        .map(|i| (i.wrapping_mul(31) >> 3) as u8)
        .collect();
    let upload = signing::chunked_put_object(
        HOST,
        "bench",
        "object",
        &data,
        signing::CHUNK_SIZE,
        &session,
        now,
    );
    let decode = |request: &Signed| -> Vec<u8> {
        let parts = request.parts();
        let verified = match auth.verify(Service::S3, &parts, &[]) {
            Ok(v) => v,
            Err(r) => panic!("the chunked upload does not verify: {:?}", r.error),
        };
        let verifier = ChunkVerifier {
            signature: &verified.signature,
            signing_key: &verified.signing_key,
        };
        match decode_chunked(&request.body, Some(verifier), false) {
            Ok(decoded) => decoded.data,
            Err(e) => panic!("the chunked upload does not decode: {e}"),
        }
    };
    assert_eq!(decode(&upload), data);
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.bench_function("aws-chunked/1MiB", |b| {
        b.iter(|| black_box(decode(&upload).len()))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
