//! Any request through the whole server (the in-process router): routing, SigV4 (headers and
//! presigned queries, the canonical request), STS forms, S3 queries and headers, aws-chunked
//! bodies, multipart and delete XML, web-identity JWTs and IMDS. Whatever arrives, the server
//! answers (an AWS-shaped error at worst) and never panics.
//!
//! State carries over between inputs, as in production (a bucket one input creates, the next
//! can fill), and a fresh server replaces it every [`RENEW_EVERY`] inputs so that a long run's
//! objects do not add up to libFuzzer's memory limit. Control requests other than GETs are
//! skipped: a fault rule could hang every later input, and a clock moved on would make the
//! signed seeds expire.

#![no_main]

use std::cell::RefCell;

use http_body_util::BodyExt;
use libfuzzer_sys::fuzz_target;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use mock_sts::events::{EventLog, Retention};
use tower::ServiceExt;

const RENEW_EVERY: u32 = 10_000;

fn server() -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(mock_sts_fuzz::seed_time()))
        .events(EventLog::retaining(Retention::Last(16)))
        .max_object_size(1 << 20)
        .seed(1)
        .build()
}

thread_local! {
    static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime");
    static AWS: RefCell<(MockAws, u32)> = RefCell::new((server(), 0));
}

fuzz_target!(|data: &[u8]| {
    let Some(request) = mock_sts_fuzz::raw_request(data) else {
        return;
    };
    if request.uri().path().starts_with("/_mock") && request.method() != http::Method::GET {
        return;
    }
    let router = AWS.with_borrow_mut(|(aws, served)| {
        *served += 1;
        if *served >= RENEW_EVERY {
            *aws = server();
            *served = 0;
        }
        aws.router()
    });
    let request = request.map(axum::body::Body::from);
    RUNTIME.with(|runtime| {
        runtime.block_on(async {
            let Ok(response) = router.oneshot(request).await;
            let _ = response.into_body().collect().await;
        });
    });
});
