//! The fault stage's decision per request: with no rules (one atomic load), and with 100 rules
//! that do not match or whose last one matches (a scan under one lock); then a whole
//! `GetCallerIdentity` through the router in process with no rules and with 100 non-matching
//! ones (which adds identifying the caller: SigV4 parse and key lookup).
//!
//! ```text
//! cargo bench -p benches --bench faults
//! ```

use std::hint::black_box;

use benches::signing::{self, Keys};
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use mock_sts::MockAws;
use mock_sts::clock::{SimClock, default_virtual_start};
use mock_sts::events::Action;
use mock_sts::faults::{CallerId, FaultRequest, FaultService, Faults, RuleSpec, TimeBase};
use tower::ServiceExt;

const RULES: usize = 100;

fn rule(json: &str) -> mock_sts::faults::FaultRule {
    match RuleSpec::from_json(json.as_bytes()).and_then(|s| s.validate(TimeBase::Absolute)) {
        Ok(rule) => rule,
        Err(e) => panic!("{e}"),
    }
}

/// 100 rules no STS `GetCallerIdentity` from the user matches: other services, actions and
/// callers, and windows already over.
fn non_matching(faults: &Faults, count: usize) {
    for i in 0..count {
        let json = match i % 4 {
            0 => r#"{"service":"s3","effect":{"error":"SlowDown"}}"#.to_string(),
            1 => r#"{"service":"sts","actions":["AssumeRole"],"effect":{"error":"Throttling"}}"#
                .to_string(),
            2 => format!(
                r#"{{"service":"sts","caller":"arn:aws:iam::123456789012:role/r{i}","effect":{{"reset":true}}}}"#
            ),
            _ => r#"{"service":"*","until":"2025-01-01T00:00:00Z","effect":{"hang":true}}"#
                .to_string(),
        };
        faults.add(rule(&json));
    }
}

/// The action every benchmarked request is for.
static GET_CALLER_IDENTITY: Action = Action::Sts(mock_sts::sts::Action::GetCallerIdentity);

fn request() -> FaultRequest<'static> {
    FaultRequest {
        service: FaultService::Sts,
        action: &GET_CALLER_IDENTITY,
        caller: CallerId {
            access_key_id: Some("AKIAIOSFODNN7EXAMPLE"),
            role_arn: None,
            principal_arn: Some("arn:aws:iam::123456789012:user/pipeline"),
            account: Some("123456789012"),
        },
    }
}

fn bench(c: &mut Criterion) {
    let now = default_virtual_start();
    let request = request();
    let mut group = c.benchmark_group("faults/decide");
    let none = Faults::new();
    group.bench_function("0 rules", |b| {
        b.iter(|| black_box(none.decide(black_box(&request), now, || 0.5)));
    });
    let missing = Faults::new();
    non_matching(&missing, RULES);
    assert!(missing.decide(&request, now, || 0.5).is_none());
    group.bench_function("100 rules, none matches", |b| {
        b.iter(|| black_box(missing.decide(black_box(&request), now, || 0.5)));
    });
    let last = Faults::new();
    non_matching(&last, RULES - 1);
    last.add(rule(
        r#"{"service":"sts","actions":["GetCallerIdentity"],"probability":0.5,"effect":{"latency":"1s"}}"#,
    ));
    assert!(last.decide(&request, now, || 0.25).is_some());
    group.bench_function("100 rules, the last matches (dice drawn)", |b| {
        b.iter(|| black_box(last.decide(black_box(&request), now, || 0.25)));
    });
    group.finish();

    // A whole request through the router, without and with rules.
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(r) => r,
        Err(e) => panic!("runtime: {e}"),
    };
    let mut group = c.benchmark_group("faults/router GetCallerIdentity");
    for count in [0, RULES] {
        let aws = MockAws::builder()
            .clock(SimClock::frozen(now))
            .seed(1)
            .build();
        non_matching(&aws.faults(), count);
        let signed = signing::get_caller_identity("localhost", &Keys::user(), now);
        group.bench_function(format!("{count} rules"), |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let request = match signed.to_request("localhost") {
                        Ok(r) => r.map(axum::body::Body::new),
                        Err(e) => panic!("{e}"),
                    };
                    let response = match aws.router().oneshot(request).await {
                        Ok(r) => r,
                        Err(never) => match never {},
                    };
                    assert_eq!(response.status(), 200);
                    response
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes().len())
                })
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
