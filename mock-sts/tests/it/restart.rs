//! Crash and restart: the `mock-sts` binary killed with SIGKILL in the middle of PUTs to its
//! `--data-dir`, then started again on the same directory.
//!
//! What a crash may and may not do: every object is whole, either the version whose PUT was
//! last acknowledged or one whose PUT was cut off by the kill (old or new, never torn, never
//! older than acknowledged); session credentials and IMDSv2 tokens issued before the crash still
//! work under the same `--key`, and a server with another key refuses them with AWS's errors;
//! multipart uploads in progress are gone (`NoSuchUpload`), as documented.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_types::retry::RetryConfig;
use mock_sts::clock::SimClock;

use crate::common::*;

const BUCKET: &str = "crash";
/// Writer tasks; each owns [`KEYS_PER_WRITER`] keys, so a key has one PUT in flight at most.
const WRITERS: usize = 4;
const KEYS_PER_WRITER: usize = 2;
/// Payload sizes the versions cycle through: empty to a few MiB.
const SIZES: [usize; 6] = [0, 1, 4095, 65_537, 1 << 20, 3 << 20];
/// Kills, each followed by a restart on the same directory and key.
const CRASHES: usize = 3;

fn key_name(index: usize) -> String {
    format!("obj-{index}")
}

/// Version `version` of key `index`: a header naming both, then a payload of one of
/// [`SIZES`] that depends on both, so any byte out of place shows.
fn version_body(index: usize, version: u32) -> Vec<u8> {
    let len = SIZES[(index + version as usize) % SIZES.len()];
    let mut body = format!("key {index} version {version} payload {len}\n").into_bytes();
    body.extend(pattern(len, (index as u32) << 20 | version));
    body
}

/// The version a body claims to be (from its header line), if it has one.
fn claimed_version(body: &[u8]) -> Option<u32> {
    let line = body.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    line.split(' ').nth(3)?.parse().ok()
}

/// What the test knows about one key's versions.
#[derive(Debug, Default, Clone)]
struct KeyState {
    /// The last version whose PUT was acknowledged (or found after a restart).
    acked: Option<u32>,
    /// Versions sent since, unacknowledged: cut off by a kill, each may or may not be stored.
    pending: Vec<u32>,
    /// The last version number used.
    last: u32,
}

struct Shared {
    keys: Mutex<Vec<KeyState>>,
    /// Set just before the kill: an error after it is the crash, before it a failure.
    killed: AtomicBool,
    acks: AtomicU64,
    /// PUTs sent and not yet answered.
    on_wire: AtomicU64,
    unexpected: Mutex<Vec<String>>,
}

/// An S3 client that never retries: a PUT cut off by the kill must fail, not reach the next
/// server.
fn writer_client(url: &str, clock: &SimClock, credentials: Credentials) -> aws_sdk_s3::Client {
    let config = sdk_config_for(url, clock, credentials);
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .build(),
    )
}

/// Overwrites the writer's keys with new versions until a PUT fails (the kill).
async fn write_until_killed(s3: aws_sdk_s3::Client, writer: usize, shared: Arc<Shared>) {
    for round in 0usize.. {
        let index = writer * KEYS_PER_WRITER + round % KEYS_PER_WRITER;
        let version = {
            let mut keys = shared.keys.lock().unwrap();
            let state = &mut keys[index];
            state.last += 1;
            state.pending.push(state.last);
            state.last
        };
        shared.on_wire.fetch_add(1, Ordering::SeqCst);
        let put = s3
            .put_object()
            .bucket(BUCKET)
            .key(key_name(index))
            .body(ByteStream::from(version_body(index, version)))
            .send()
            .await;
        shared.on_wire.fetch_sub(1, Ordering::SeqCst);
        match put {
            Ok(_) => {
                let mut keys = shared.keys.lock().unwrap();
                keys[index].acked = Some(version);
                keys[index].pending.clear();
                shared.acks.fetch_add(1, Ordering::SeqCst);
            }
            Err(e) => {
                if !shared.killed.load(Ordering::SeqCst) {
                    shared
                        .unexpected
                        .lock()
                        .unwrap()
                        .push(format!("{} v{version}: {e:?}", key_name(index)));
                }
                return;
            }
        }
    }
}

/// Checks every object after a restart against what was written, and records what is stored
/// as the new acknowledged state.
async fn check_objects(s3: &aws_sdk_s3::Client, shared: &Shared) {
    let listed = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    let listed: BTreeMap<String, i64> = listed
        .contents()
        .iter()
        .map(|o| (o.key().unwrap().to_owned(), o.size().unwrap()))
        .collect();
    // The writers are done: the states are read here and written back at the end.
    let mut keys = shared.keys.lock().unwrap().clone();
    for (index, state) in keys.iter_mut().enumerate() {
        let name = key_name(index);
        let Some(size) = listed.get(&name) else {
            assert!(
                state.acked.is_none(),
                "{name}: acknowledged v{:?}, gone after the crash",
                state.acked
            );
            state.pending.clear();
            continue;
        };
        let got = s3
            .get_object()
            .bucket(BUCKET)
            .key(&name)
            .send()
            .await
            .unwrap();
        let etag = got.e_tag().unwrap().to_owned();
        let body = got.body.collect().await.unwrap().into_bytes();
        let version = claimed_version(&body)
            .unwrap_or_else(|| panic!("{name}: {} bytes without a version header", body.len()));
        assert!(
            body[..] == version_body(index, version)[..],
            "{name}: v{version} is torn ({} bytes)",
            body.len()
        );
        assert_eq!(*size, body.len() as i64, "{name}: listed size");
        assert_eq!(etag, md5_etag(&body), "{name}: ETag");
        assert!(
            state.acked == Some(version) || state.pending.contains(&version),
            "{name}: found v{version}, acknowledged {:?}, in flight {:?}",
            state.acked,
            state.pending
        );
        state.acked = Some(version);
        state.pending.clear();
    }
    for name in listed.keys() {
        assert!(
            (0..WRITERS * KEYS_PER_WRITER).any(|i| key_name(i) == *name),
            "unknown key {name}"
        );
    }
    *shared.keys.lock().unwrap() = keys;
}

/// Only the objects' files are left: the kill's temporary files were removed at start.
fn assert_no_leftovers(data: &std::path::Path) {
    let objects = data
        .join("buckets")
        .join(hex::encode(BUCKET))
        .join("objects");
    for entry in std::fs::read_dir(&objects).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name.ends_with(".obj") && !name.starts_with('.'), "{name}");
    }
}

async fn imds_get(url: &str, token: &str) -> (u16, String) {
    let (status, _, body) = http_bytes(
        "GET",
        &format!("{url}/latest/meta-data/iam/security-credentials/"),
        &[("x-aws-ec2-metadata-token", token)],
        Vec::new(),
    )
    .await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_whole_objects_and_honours_its_credentials_after_restart() {
    let dir = TempDir::new("crash");
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap().to_owned();
    let key = "5a".repeat(32);
    let args = |key: &str| -> Vec<String> {
        [
            "--clock",
            "frozen",
            "--start",
            "2026-01-01T00:00:00Z",
            "--data-dir",
            &data_arg,
            "--key",
            key,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let spawn = |key: &str| {
        let args = args(key);
        spawn_server(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let clock = SimClock::frozen(start());

    // Before any crash: a bucket, role credentials, an IMDSv2 token, a multipart upload.
    let mut server = spawn(&key);
    let user_s3 = s3_client_for(&server.url, &clock, user_credentials());
    user_s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let sts = aws_sdk_sts::Client::new(&sdk_config_for(&server.url, &clock, user_credentials()));
    let assumed = sts
        .assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("crash")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let session = Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "session",
    );
    let (status, headers, token) = http_bytes(
        "PUT",
        &format!("{}/latest/api/token", server.url),
        &[("x-aws-ec2-metadata-token-ttl-seconds", "21600")],
        Vec::new(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(headers["x-aws-ec2-metadata-token-ttl-seconds"], "21600");
    let token = String::from_utf8(token.to_vec()).unwrap();
    let upload = user_s3
        .create_multipart_upload()
        .bucket(BUCKET)
        .key("multipart")
        .send()
        .await
        .unwrap();
    let upload_id = upload.upload_id().unwrap().to_owned();
    let part = user_s3
        .upload_part()
        .bucket(BUCKET)
        .key("multipart")
        .upload_id(&upload_id)
        .part_number(1)
        .body(ByteStream::from(pattern(1000, 9)))
        .send()
        .await
        .unwrap();
    let part_etag = part.e_tag().unwrap().to_owned();

    let shared = Arc::new(Shared {
        keys: Mutex::new(vec![KeyState::default(); WRITERS * KEYS_PER_WRITER]),
        killed: AtomicBool::new(false),
        acks: AtomicU64::new(0),
        on_wire: AtomicU64::new(0),
        unexpected: Mutex::new(Vec::new()),
    });
    for crash in 0..CRASHES {
        // Writers in the session's name, overwriting their keys until the kill.
        shared.killed.store(false, Ordering::SeqCst);
        let acks_before = shared.acks.load(Ordering::SeqCst);
        let mut writers = tokio::task::JoinSet::new();
        for writer in 0..WRITERS {
            let s3 = writer_client(&server.url, &clock, session.clone());
            writers.spawn(write_until_killed(s3, writer, shared.clone()));
        }
        // Kill at a different point each time: after more acknowledged PUTs, then a few ms.
        let wanted = acks_before + 6 + 4 * crash as u64;
        // At most 30 s: a busy machine slows the debug build's checksums.
        for _ in 0..6000 {
            if shared.acks.load(Ordering::SeqCst) >= wanted {
                break;
            }
            mock_sts::clock::real_sleep(Duration::from_millis(5)).await;
        }
        assert!(
            shared.acks.load(Ordering::SeqCst) >= wanted,
            "PUTs too slow: {:?}",
            shared.unexpected.lock().unwrap()
        );
        mock_sts::clock::real_sleep(Duration::from_millis(3 * crash as u64)).await;
        shared.killed.store(true, Ordering::SeqCst);
        let on_wire = shared.on_wire.load(Ordering::SeqCst);
        let status = server.kill().unwrap();
        // PUTs were on the wire: the checks below see what a kill mid-PUT leaves.
        assert!(on_wire > 0, "crash {crash}: no PUT in flight at the kill");
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "{status}");
        }
        while writers.join_next().await.is_some() {}
        let unexpected = shared.unexpected.lock().unwrap().clone();
        assert!(
            unexpected.is_empty(),
            "PUTs failed before the kill: {unexpected:?}"
        );

        // The same directory and key.
        server = spawn(&key);
        assert_no_leftovers(&data);
        let session_s3 = s3_client_for(&server.url, &clock, session.clone());
        check_objects(&session_s3, &shared).await;

        let sts = aws_sdk_sts::Client::new(&sdk_config_for(&server.url, &clock, session.clone()));
        let identity = sts.get_caller_identity().send().await.unwrap();
        assert_eq!(
            identity.arn(),
            Some("arn:aws:sts::123456789012:assumed-role/cross-account-s3/crash")
        );
        assert_eq!(
            imds_get(&server.url, &token).await,
            (200, "instance-role".to_owned())
        );
    }

    // Uploads in progress lived in memory only: the client learns it from NoSuchUpload.
    let user_s3 = s3_client_for(&server.url, &clock, user_credentials());
    let err = user_s3
        .upload_part()
        .bucket(BUCKET)
        .key("multipart")
        .upload_id(&upload_id)
        .part_number(2)
        .body(ByteStream::from(pattern(1000, 10)))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
    assert_eq!(err.into_service_error().code(), Some("NoSuchUpload"));
    let err = user_s3
        .list_parts()
        .bucket(BUCKET)
        .key("multipart")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchUpload"));
    let err = user_s3
        .complete_multipart_upload()
        .bucket(BUCKET)
        .key("multipart")
        .upload_id(&upload_id)
        .multipart_upload(
            aws_sdk_s3::types::CompletedMultipartUpload::builder()
                .parts(
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(1)
                        .e_tag(part_etag)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchUpload"));
    server.terminate().unwrap();

    // Another key: the objects are there, the credentials and the token are not.
    let server = spawn(&"a5".repeat(32));
    let user_s3 = s3_client_for(&server.url, &clock, user_credentials());
    let listed = user_s3
        .list_objects_v2()
        .bucket(BUCKET)
        .send()
        .await
        .unwrap();
    assert!(listed.key_count().unwrap() > 0);
    let sts = aws_sdk_sts::Client::new(&sdk_config_for(&server.url, &clock, session.clone()));
    let err = sts.get_caller_identity().send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 403);
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("InvalidClientTokenId"));
    assert_eq!(
        err.message(),
        Some("The security token included in the request is invalid")
    );
    let session_s3 = s3_client_for(&server.url, &clock, session);
    let err = session_s3
        .get_object()
        .bucket(BUCKET)
        .key(key_name(0))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let err = err.into_service_error();
    assert_eq!(err.code(), Some("InvalidToken"));
    assert_eq!(
        err.message(),
        Some("The provided token is malformed or otherwise invalid.")
    );
    let (status, body) = imds_get(&server.url, &token).await;
    assert_eq!(status, 401, "{body}");
}
