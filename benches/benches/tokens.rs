//! Session tokens: issuing one (claims to JSON, HMAC, base64, the derived secret) and
//! validating one (base64, HMAC compare, claims from JSON), valid and tampered.
//!
//! ```text
//! cargo bench -p benches --bench tokens
//! ```

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mock_sts::credentials::{CredentialAuthority, IssuedBy, ServerKey, SessionClaims};

fn claims() -> SessionClaims {
    SessionClaims {
        access_key_id: "ASIABENCHBENCHBENCH2".to_owned(),
        account_id: "123456789012".to_owned(),
        principal_arn: "arn:aws:sts::123456789012:assumed-role/cross-account-s3/pipeline"
            .to_owned(),
        user_id: "AROABENCHBENCHBENCH:pipeline".to_owned(),
        role_arn: Some("arn:aws:iam::123456789012:role/cross-account-s3".to_owned()),
        session_name: Some("pipeline".to_owned()),
        source_identity: None,
        issued_at_ms: 1_767_225_600_000,
        expires_at_ms: 1_767_229_200_000,
        issued_by: IssuedBy::AssumeRole,
        duration_requested: None,
        chained: false,
    }
}

fn bench(c: &mut Criterion) {
    let authority = CredentialAuthority::new(ServerKey::from_bytes([7; 32]));
    let issued = authority.issue(claims());
    let akid = issued.claims.access_key_id.clone();
    // The tag's last character changed: decodes, fails the HMAC.
    let mut tampered = issued.session_token.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap_or_default();
    assert!(authority.validate(&issued.session_token, &akid).is_ok());
    assert!(authority.validate(&tampered, &akid).is_err());

    let mut group = c.benchmark_group("tokens");
    group.bench_function("issue", |b| b.iter(|| black_box(authority.issue(claims()))));
    group.bench_function("validate/valid", |b| {
        b.iter(|| black_box(authority.validate(&issued.session_token, &akid).is_ok()));
    });
    group.bench_function("validate/tampered", |b| {
        b.iter(|| black_box(authority.validate(&tampered, &akid).is_err()));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
