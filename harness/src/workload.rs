//! The workload: what the client does for the length of the job, and what it saw.
//!
//! Each worker performs the scenario's operations in order, then sleeps the interval on the
//! run's clock, until the workload's length has passed. Workers share one set of clients, as
//! threads of one process share an SDK client. Every call is recorded from the client's side
//! (simulated start and end, wall time, request id, error code); the request id joins it to
//! the server's event for the same request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::RequestId;
use aws_sdk_s3::primitives::ByteStream;
use mock_sts::clock::{SimClock, Stopwatch};

use crate::scenario::{Operation, Workload};
use crate::strategy::Clients;

/// One call as the client saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpRecord {
    /// Which worker made it.
    pub worker: u32,
    /// The operation.
    pub operation: Operation,
    /// Simulated time the call started (before credentials were resolved).
    pub started: SystemTime,
    /// Simulated time it returned.
    pub finished: SystemTime,
    /// Real time it took.
    pub wall: Duration,
    /// The request id of the (last) response, when one came.
    pub request_id: Option<String>,
    /// The error code, when it failed.
    pub error_code: Option<String>,
}

impl OpRecord {
    /// Simulated duration of the call.
    pub fn sim_duration(&self) -> Duration {
        self.finished
            .duration_since(self.started)
            .unwrap_or_default()
    }
}

/// Runs the workload until simulated time `end`. The runner counts the job's length from the
/// moment its clock starts, before the strategy builds its clients, as a job's length counts
/// from its start-up (a 4-hour job with 4-hour keys then ends before they expire on any
/// clock). Records go to `records`. Worker `w` starts `w / workers` of an interval late, so
/// workers are not in lockstep; with `jitter`, each pause varies, drawn from a generator seeded
/// with `seed` and the worker.
pub async fn run_until(
    clients: &Clients,
    workload: &Workload,
    clock: &SimClock,
    seed: u64,
    records: &Arc<Mutex<Vec<OpRecord>>>,
    end: SystemTime,
) {
    if workload.operations.iter().any(Operation::is_s3) {
        setup(clients, workload).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workload.workers {
        let clients = clients.clone();
        let workload = workload.clone();
        let clock = clock.clone();
        let records = records.clone();
        tasks.spawn(async move {
            let body = object_body(&workload, worker);
            let mut rng = fastrand::Rng::with_seed(seed ^ (u64::from(worker) << 32));
            clock
                .sleep(
                    workload
                        .every
                        .mul_f64(f64::from(worker) / f64::from(workload.workers)),
                )
                .await;
            while clock.now() < end {
                for op in &workload.operations {
                    // The job issues nothing once its length has passed, not even the rest
                    // of a round (on a scaled clock a round's first call can end after it).
                    if clock.now() >= end {
                        break;
                    }
                    let record = call(&clients, &workload, &clock, *op, worker, &body).await;
                    records
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(record);
                }
                let factor = 1.0 + workload.jitter * (rng.f64() * 2.0 - 1.0);
                clock.sleep(workload.every.mul_f64(factor)).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Creates the bucket and, when the workload reads without writing, an object to read. The
/// strategy's credentials are used, so these calls are events like any other.
async fn setup(clients: &Clients, workload: &Workload) {
    let _ = clients
        .s3
        .create_bucket()
        .bucket(&workload.bucket)
        .send()
        .await;
    if !workload.operations.contains(&Operation::PutObject) {
        for worker in 0..workload.workers {
            let _ = clients
                .s3
                .put_object()
                .bucket(&workload.bucket)
                .key(key(worker))
                .body(ByteStream::from(object_body(workload, worker)))
                .send()
                .await;
        }
    }
}

fn key(worker: u32) -> String {
    format!("pipeline/worker-{worker}/part-0000")
}

fn object_body(workload: &Workload, worker: u32) -> Vec<u8> {
    (0..workload.object_size)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(worker) as u8)
        .collect()
}

/// The request id and error code of a call's outcome.
fn outcome<T: RequestId, E: ProvideErrorMetadata, R>(
    result: &Result<T, SdkError<E, R>>,
) -> (Option<String>, Option<String>)
where
    SdkError<E, R>: RequestId,
{
    match result {
        Ok(out) => (out.request_id().map(str::to_string), None),
        Err(err) => {
            let code = match err {
                SdkError::ServiceError(e) => e
                    .err()
                    .code()
                    .map_or_else(|| "Unknown".to_string(), str::to_string),
                SdkError::TimeoutError(_) => "Timeout".to_string(),
                SdkError::DispatchFailure(_) => "DispatchFailure".to_string(),
                SdkError::ResponseError(_) => "ResponseError".to_string(),
                SdkError::ConstructionFailure(_) => "ConstructionFailure".to_string(),
                _ => "Unknown".to_string(),
            };
            (err.request_id().map(str::to_string), Some(code))
        }
    }
}

async fn call(
    clients: &Clients,
    workload: &Workload,
    clock: &SimClock,
    op: Operation,
    worker: u32,
    body: &[u8],
) -> OpRecord {
    let started = clock.now();
    let stopwatch = Stopwatch::start();
    let bucket = &workload.bucket;
    let (request_id, error_code) = match op {
        Operation::PutObject => outcome(
            &clients
                .s3
                .put_object()
                .bucket(bucket)
                .key(key(worker))
                .body(ByteStream::from(body.to_vec()))
                .send()
                .await,
        ),
        Operation::GetObject => {
            let result = clients
                .s3
                .get_object()
                .bucket(bucket)
                .key(key(worker))
                .send()
                .await;
            let ids = outcome(&result);
            if let Ok(out) = result {
                // Read the body as a client would; a short read is the client's problem, not ours.
                let _ = out.body.collect().await;
            }
            ids
        }
        Operation::HeadObject => outcome(
            &clients
                .s3
                .head_object()
                .bucket(bucket)
                .key(key(worker))
                .send()
                .await,
        ),
        Operation::ListObjectsV2 => outcome(
            &clients
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix("pipeline/")
                .send()
                .await,
        ),
        Operation::GetCallerIdentity => {
            let result = clients.sts.get_caller_identity().send().await;
            match &result {
                Ok(out) => (out.request_id().map(str::to_string), None),
                Err(err) => {
                    let code = err
                        .as_service_error()
                        .and_then(|e| e.code())
                        .unwrap_or("DispatchFailure")
                        .to_string();
                    (err.request_id().map(str::to_string), Some(code))
                }
            }
        }
    };
    OpRecord {
        worker,
        operation: op,
        started,
        finished: clock.now(),
        wall: stopwatch.elapsed(),
        request_id,
        error_code,
    }
}
