//! `spec-refresh` end to end on the real SDK: the rules that need a server to show, next to
//! aws-sdk-rust's own cache under the same conditions (the windows, back-off arithmetic and
//! single flight are unit-tested beside the cache, `harness/src/spec_refresh/`).

use std::path::Path;

use sts_harness::report::RunReport;
use sts_harness::scenario::Scenario;

use crate::common::run;

fn count(map: &std::collections::BTreeMap<String, u64>, code: &str) -> u64 {
    map.get(code).copied().unwrap_or(0)
}

fn runs(text: &str) -> Vec<RunReport> {
    let scenario = Scenario::parse(text, Path::new("spec-refresh.toml")).unwrap();
    run(&scenario, None).runs
}

/// With the client's clock 20 minutes behind, both caches think the one-hour keys live 20
/// minutes longer than they do. S3's first `ExpiredToken` at 1h proves them bad: the
/// interceptor invalidates them and spec-refresh's next call renews; the SDK's own cache
/// keeps signing with them until its clock reaches their expiry.
#[test]
fn an_early_expired_token_invalidates_the_keys_and_the_next_call_renews() {
    let runs = runs(
        r#"
name = "early ExpiredToken"
seed = 7
[workload]
length = "2h"
every = "10s"
operations = ["PutObject"]
[[run]]
strategy = "spec-refresh"
clock_offset = "-20m"
expect = { fails_with = "SignatureDoesNotMatch", at = "0s", message = "Signature expired" }
[[run]]
strategy = "sdk-profile"
clock_offset = "-20m"
expect = { fails_with = "SignatureDoesNotMatch", at = "0s", message = "Signature expired" }
"#,
    );
    for r in &runs {
        assert!(r.met(), "{}: {:#?}", r.name, r.checks);
    }
    let (spec, sdk) = (&runs[0].metrics, &runs[1].metrics);
    assert_eq!(
        count(&spec.failures, "ExpiredToken"),
        1,
        "{:?}",
        spec.failures
    );
    assert!(
        count(&sdk.failures, "ExpiredToken") >= 100,
        "{:?}",
        sdk.failures
    );
    assert!(spec.refreshes >= 1, "{spec:?}");
}

/// STS down from 40m to 1h10m, longer than the 15-minute advisory lead: the advisory refresh
/// at 45m fails, the keys are served until S3 refuses them at the expiry, and the source is
/// asked once per 5-10 minutes throughout (each ask is up to 3 SDK attempts), where the SDK's
/// own cache asks on every call; both recover when STS does.
#[test]
fn an_outage_longer_than_the_advisory_lead_is_asked_every_five_to_ten_minutes() {
    let runs = runs(
        r#"
name = "long STS outage"
seed = 7
[workload]
length = "2h"
every = "10s"
operations = ["PutObject"]
[[fault]]
service = "sts"
actions = ["AssumeRole"]
from = "40m"
until = "1h10m"
effect = { error = "ServiceUnavailable" }
[[run]]
strategy = "spec-refresh"
expect = { fails_with = "ExpiredToken", at = "1h", within = "10s" }
[[run]]
strategy = "sdk-profile"
expect = { fails_with = "credentials-not-loaded", at = "1h", within = "30s" }
"#,
    );
    for r in &runs {
        assert!(r.met(), "{}: {:#?}", r.name, r.checks);
    }
    let (spec, sdk) = (&runs[0].metrics, &runs[1].metrics);
    // Asks between 45m and 1h10m, at least 300 s apart: at most 6, 3 attempts each.
    let spec_refused = count(&spec.injected_failures, "ServiceUnavailable");
    assert!(
        (3..=18).contains(&spec_refused),
        "{:?}",
        spec.injected_failures
    );
    assert!(
        count(&sdk.injected_failures, "ServiceUnavailable") > 100,
        "{sdk:?}"
    );
    // Keys served past the expiry are refused once, then dropped: no more ExpiredToken.
    assert_eq!(
        count(&spec.failures, "ExpiredToken"),
        1,
        "{:?}",
        spec.failures
    );
    // It recovered: at most the calls from 1h to 1h10m plus one back-off failed.
    let failed = spec.failures.values().sum::<u64>() + spec.client_failures.values().sum::<u64>();
    assert!(failed <= (10 + 10) * 6, "{failed}: {spec:?}");
}
