//! Long transfers and presigned URLs: the workload operations that outlive a moment.
//!
//! - **MultipartUpload**: `CreateMultipartUpload`, then the parts one after another, each
//!   taking its size over the scenario's bandwidth of simulated time, then
//!   `CompleteMultipartUpload`. A part is signed when it starts, with whatever credentials
//!   the client has then, so an upload longer than a session meets the expiry part way (as in
//!   aws/aws-cli#4562 and peak/s5cmd#678). After a failed part the upload is aborted, as the
//!   AWS CLI and the SDKs' transfer managers do.
//! - **Presigned URLs**: a `GetObject` or `PutObject` presigned now (with the client's
//!   credentials and clock) and sent `use_after` later as a plain HTTP request, which no SDK
//!   signs again: the URL dies with its session token or its `X-Amz-Expires`, whichever comes
//!   first (boto/boto3#2392).
//!
//! Every call is one [`OpRecord`], as the workload's other operations are.

use aws_sdk_s3::presigning::{PresignedRequest, PresigningConfig};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_smithy_runtime_api::client::http::HttpConnector;
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_types::body::SdkBody;
use mock_sts::clock::{SimClock, Stopwatch};

use crate::outcome::{ClientFailure, ClientOutcome, error_chain};
use crate::scenario::{Multipart, Operation, Presign, Workload};
use crate::strategy::Clients;
use crate::workload::{OpRecord, key, outcome};

/// Times and records one call.
struct Call<'a> {
    clock: &'a SimClock,
    operation: Operation,
    worker: u32,
}

impl Call<'_> {
    async fn record<F>(&self, call: F) -> OpRecord
    where
        F: Future<Output = (Option<String>, ClientOutcome)>,
    {
        let started = self.clock.now();
        let stopwatch = Stopwatch::start();
        let (request_id, outcome) = call.await;
        OpRecord {
            worker: self.worker,
            operation: self.operation,
            started,
            finished: self.clock.now(),
            wall: stopwatch.elapsed(),
            request_id,
            outcome,
        }
    }
}

/// One multipart upload of the run's object: every call it made, in order.
pub(crate) async fn multipart_upload(
    clients: &Clients,
    workload: &Workload,
    spec: &Multipart,
    clock: &SimClock,
    worker: u32,
) -> Vec<OpRecord> {
    let call = Call {
        clock,
        operation: Operation::MultipartUpload,
        worker,
    };
    let (bucket, key) = (&workload.bucket, key(worker));
    let mut records = Vec::new();
    let mut upload_id = None;
    let create = call
        .record(async {
            let result = clients
                .s3
                .create_multipart_upload()
                .bucket(bucket)
                .key(&key)
                .send()
                .await;
            upload_id = result
                .as_ref()
                .ok()
                .and_then(|out| out.upload_id().map(str::to_string));
            outcome(&result)
        })
        .await;
    let created = !create.outcome.is_failure();
    records.push(create);
    let Some(upload_id) = upload_id.filter(|_| created) else {
        return records;
    };
    let mut parts = Vec::new();
    for n in 1..=spec.parts {
        let size = if n == spec.parts {
            spec.last_part_size
        } else {
            spec.part_size
        };
        let body = vec![(n % 251) as u8; usize::try_from(size).unwrap_or(usize::MAX)];
        let mut completed = None;
        let mut record = call
            .record(async {
                let result = clients
                    .s3
                    .upload_part()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&upload_id)
                    .part_number(n as i32)
                    .body(ByteStream::from(body))
                    .send()
                    .await;
                if let Ok(out) = &result {
                    completed = Some(
                        CompletedPart::builder()
                            .part_number(n as i32)
                            .set_e_tag(out.e_tag().map(str::to_string))
                            .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                            .set_checksum_crc32_c(out.checksum_crc32_c().map(str::to_string))
                            .set_checksum_crc64_nvme(out.checksum_crc64_nvme().map(str::to_string))
                            .build(),
                    );
                }
                outcome(&result)
            })
            .await;
        // The part's bytes take their time on the wire; the next part starts after them.
        clock.sleep(spec.transfer_time(n)).await;
        record.finished = clock.now();
        let failed = record.outcome.is_failure();
        records.push(record);
        match completed {
            Some(part) if !failed => parts.push(part),
            _ => {
                records.push(
                    call.record(async {
                        outcome(
                            &clients
                                .s3
                                .abort_multipart_upload()
                                .bucket(bucket)
                                .key(&key)
                                .upload_id(&upload_id)
                                .send()
                                .await,
                        )
                    })
                    .await,
                );
                return records;
            }
        }
    }
    records.push(
        call.record(async {
            outcome(
                &clients
                    .s3
                    .complete_multipart_upload()
                    .bucket(bucket)
                    .key(&key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await,
            )
        })
        .await,
    );
    records
}

/// Presigns `operation` (a `Presigned*` one) now and sends it `use_after` later.
pub(crate) async fn presigned(
    clients: &Clients,
    workload: &Workload,
    spec: &Presign,
    clock: &SimClock,
    operation: Operation,
    worker: u32,
    body: &[u8],
) -> OpRecord {
    let call = Call {
        clock,
        operation,
        worker,
    };
    let mut record = call
        .record(async {
            let config = match PresigningConfig::expires_in(spec.expires) {
                Ok(config) => config,
                Err(e) => {
                    return (
                        None,
                        ClientOutcome::Client {
                            kind: ClientFailure::ConstructionFailure,
                            message: error_chain(&e),
                        },
                    );
                }
            };
            let (bucket, key) = (&workload.bucket, key(worker));
            let presigned = match operation {
                Operation::PresignedPutObject => clients
                    .s3
                    .put_object()
                    .bucket(bucket)
                    .key(&key)
                    .presigned(config)
                    .await
                    .map_err(|e| ClientOutcome::from_sdk_error(&e)),
                _ => clients
                    .s3
                    .get_object()
                    .bucket(bucket)
                    .key(&key)
                    .presigned(config)
                    .await
                    .map_err(|e| ClientOutcome::from_sdk_error(&e)),
            };
            let presigned = match presigned {
                Ok(p) => p,
                Err(outcome) => return (None, outcome),
            };
            clock.sleep(spec.use_after).await;
            let body = if operation == Operation::PresignedPutObject {
                body.to_vec()
            } else {
                Vec::new()
            };
            send(clients, &presigned, body).await
        })
        .await;
    // The call "started" when the URL was used: that is when it can fail.
    record.started = record.finished.min(record.started + spec.use_after);
    record
}

/// Sends a presigned request as any HTTP client would: nothing signs it again.
async fn send(
    clients: &Clients,
    presigned: &PresignedRequest,
    body: Vec<u8>,
) -> (Option<String>, ClientOutcome) {
    let request = presigned.make_http_1x_request(SdkBody::from(body));
    let request = match HttpRequest::try_from(request) {
        Ok(r) => r,
        Err(e) => {
            return (
                None,
                ClientOutcome::Client {
                    kind: ClientFailure::ConstructionFailure,
                    message: error_chain(&e),
                },
            );
        }
    };
    let response = match clients.direct.call(request).await {
        Ok(r) => r,
        Err(e) => {
            let kind = if e.is_timeout() {
                ClientFailure::Timeout
            } else {
                ClientFailure::DispatchFailure
            };
            return (
                None,
                ClientOutcome::Client {
                    kind,
                    message: error_chain(&e),
                },
            );
        }
    };
    let request_id = response
        .headers()
        .get("x-amz-request-id")
        .map(str::to_string);
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return (request_id, ClientOutcome::Ok);
    }
    // S3's error document: `<Error><Code>ExpiredToken</Code>…`. A HEAD-less GET or PUT
    // always carries one; anything else is a response the client cannot read.
    // Over a socket the body streams: read it as an SDK would.
    let bytes = ByteStream::new(response.into_body())
        .collect()
        .await
        .map(|data| data.into_bytes())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    let code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.to_string());
    match code {
        Some(code) => (request_id, ClientOutcome::Aws { code }),
        None => (
            request_id,
            ClientOutcome::Client {
                kind: ClientFailure::ResponseError,
                message: format!("HTTP {status} without an S3 error document"),
            },
        ),
    }
}
