//! The workload: what the client does for the length of the job, and what it saw.
//!
//! Each worker performs the scenario's operations in order, then sleeps the interval on the
//! run's clock, until the workload's length has passed. Workers share one set of clients, as
//! threads of one process share an SDK client. Every call is recorded from the client's side
//! (simulated start and end, wall time, request id, and its [`ClientOutcome`]: ok, an AWS error
//! code, or a failure the client alone saw); the request id joins it to the server's event for
//! the same request. A worker that panics or stops before the job's end is reported, never
//! dropped: a run whose workers died did not do its work.

use std::sync::{Arc, Mutex};

use crate::tally::Recorder;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::RequestId;
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use mock_sts::clock::{SimClock, Stopwatch};
use tokio::task::JoinError;

use crate::outcome::ClientOutcome;
use crate::scenario::{Operation, Workload};
use crate::strategy::Clients;
use crate::transfer;

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
    /// How it ended.
    pub outcome: ClientOutcome,
}

/// A worker that did not finish its job: it panicked, or stopped before the job's end.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerStop {
    /// Which worker.
    pub worker: u32,
    /// Simulated time it stopped (when the runner noticed).
    pub at: SystemTime,
    /// What happened, with the panic message when there is one.
    pub reason: String,
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
/// clock). Records go to `records` (kept, or tallied: [`Recorder`]). Worker `w` starts `w / workers` of an interval late, so
/// workers are not in lockstep; with `jitter`, each pause varies, drawn from a generator seeded
/// with `seed` and the worker.
pub async fn run_until(
    clients: &Clients,
    workload: &Workload,
    clock: &SimClock,
    seed: u64,
    records: &Arc<Mutex<Recorder>>,
    end: SystemTime,
) -> Vec<WorkerStop> {
    if workload.operations.iter().any(Operation::is_s3) {
        setup(clients, workload).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    let mut ids = std::collections::HashMap::new();
    for worker in 0..workload.workers {
        let clients = clients.clone();
        let workload = workload.clone();
        let clock = clock.clone();
        let records = records.clone();
        let handle = tasks.spawn(async move {
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
                    let new = match (op, &workload.multipart, &workload.presign) {
                        (Operation::MultipartUpload, Some(spec), _) => {
                            transfer::multipart_upload(&clients, &workload, spec, &clock, worker)
                                .await
                        }
                        (
                            Operation::PresignedGetObject | Operation::PresignedPutObject,
                            _,
                            Some(spec),
                        ) => vec![
                            transfer::presigned(
                                &clients, &workload, spec, &clock, *op, worker, &body,
                            )
                            .await,
                        ],
                        _ => vec![call(&clients, &workload, &clock, *op, worker, &body).await],
                    };
                    records
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .record(new);
                }
                let factor = 1.0 + workload.jitter * (rng.f64() * 2.0 - 1.0);
                let pause = workload.every.mul_f64(factor);
                // No round starts after the end: a pause that ends past it ends the job now
                // (an operation longer than a round, such as an upload, would otherwise hold
                // the worker for a pause it never uses).
                if clock.now() + pause >= end {
                    break;
                }
                clock.sleep(pause).await;
            }
        });
        ids.insert(handle.id(), worker);
    }
    join_workers(tasks, &ids, clock).await
}

/// Waits for every worker and reports those that did not finish.
async fn join_workers(
    mut tasks: tokio::task::JoinSet<()>,
    ids: &std::collections::HashMap<tokio::task::Id, u32>,
    clock: &SimClock,
) -> Vec<WorkerStop> {
    let mut stops = Vec::new();
    while let Some(joined) = tasks.join_next_with_id().await {
        if let Err(e) = joined {
            let worker = ids.get(&e.id()).copied().unwrap_or(u32::MAX);
            stops.push(WorkerStop {
                worker,
                at: clock.now(),
                reason: stop_reason(e),
            });
        }
    }
    stops.sort_by_key(|s| s.worker);
    stops
}

/// The message a panic carried (`panic!("…")` payloads are `&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".to_string())
}

/// Why a worker task ended without finishing: its panic message, or that it was cancelled.
fn stop_reason(e: JoinError) -> String {
    if e.is_cancelled() {
        return "it was cancelled before the job's end".to_string();
    }
    match e.try_into_panic() {
        Ok(payload) => format!("it panicked: {}", panic_message(payload.as_ref())),
        Err(e) => format!("it ended abnormally: {e}"),
    }
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
    if !workload.operations.iter().any(Operation::writes) {
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

/// The key worker `worker` writes and reads.
pub(crate) fn key(worker: u32) -> String {
    format!("pipeline/worker-{worker}/part-0000")
}

/// The bytes worker `worker` writes: made once per worker and shared by every `PutObject`
/// (a `Bytes` clone is a reference count, not a copy of the body).
fn object_body(workload: &Workload, worker: u32) -> Bytes {
    (0..workload.object_size)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(worker) as u8)
        .collect::<Vec<u8>>()
        .into()
}

/// The request id and outcome of a call.
pub(crate) fn outcome<T: RequestId, E, R>(
    result: &Result<T, SdkError<E, R>>,
) -> (Option<String>, ClientOutcome)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
    SdkError<E, R>: RequestId,
{
    match result {
        Ok(out) => (out.request_id().map(str::to_string), ClientOutcome::Ok),
        Err(err) => (
            err.request_id().map(str::to_string),
            ClientOutcome::from_sdk_error(err),
        ),
    }
}

async fn call(
    clients: &Clients,
    workload: &Workload,
    clock: &SimClock,
    op: Operation,
    worker: u32,
    body: &Bytes,
) -> OpRecord {
    let started = clock.now();
    let stopwatch = Stopwatch::start();
    let bucket = &workload.bucket;
    let (request_id, outcome) = match op {
        Operation::PutObject => outcome(
            &clients
                .s3
                .put_object()
                .bucket(bucket)
                .key(key(worker))
                .body(ByteStream::from(body.clone()))
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
        Operation::GetCallerIdentity => outcome(&clients.sts.get_caller_identity().send().await),
        // Dispatched to `transfer` by the worker loop; the scenario file guarantees their
        // tables, so this arm only answers a model built by hand without them.
        Operation::MultipartUpload
        | Operation::PresignedGetObject
        | Operation::PresignedPutObject => (
            None,
            ClientOutcome::Client {
                kind: crate::outcome::ClientFailure::ConstructionFailure,
                message: format!("{} needs its [workload] table", op.as_str()),
            },
        ),
    };
    OpRecord {
        worker,
        operation: op,
        started,
        finished: clock.now(),
        wall: stopwatch.elapsed(),
        request_id,
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_panicking_worker_is_reported_with_its_message() {
        let clock = SimClock::virtual_at(mock_sts::clock::default_virtual_start());
        let mut tasks = tokio::task::JoinSet::new();
        let mut ids = std::collections::HashMap::new();
        let ok = tasks.spawn(async {});
        ids.insert(ok.id(), 0);
        let bad = tasks.spawn(async {
            let worker: Option<u32> = None;
            if worker.is_none() {
                panic!("worker lost its clients");
            }
        });
        ids.insert(bad.id(), 1);
        let stops = join_workers(tasks, &ids, &clock).await;
        assert_eq!(stops.len(), 1, "{stops:?}");
        assert_eq!(stops[0].worker, 1);
        assert_eq!(stops[0].reason, "it panicked: worker lost its clients");
    }
}
