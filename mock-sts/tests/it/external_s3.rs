//! S3 against the `mock-sts` binary: the AWS CLI's `s3` commands and boto3's managed transfers
//! (pinned, in the venv `scripts/test` creates), and `--data-dir` across restarts and kills.
//!
//! The CLI and boto3 tests fail without the venv, saying how to get it, unless
//! `STS_LAB_SKIP_EXTERNAL_CLIENTS=1` skips them on purpose.

use std::path::Path;
use std::process::Output;

use aws_sdk_s3::primitives::ByteStream;
use mock_sts::clock::SimClock;

use crate::common::*;
use crate::external::{aws_command, cli, home, venv};

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Fetches a URL with curl when it is installed, else with the Rust client.
async fn fetch(url: &str) -> (u16, Vec<u8>) {
    let curl = std::process::Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", url])
        .output();
    match curl {
        Ok(out) if out.status.success() => {
            let split = out.stdout.iter().rposition(|b| *b == b'\n').unwrap();
            let status = String::from_utf8_lossy(&out.stdout[split + 1..])
                .trim()
                .parse()
                .unwrap();
            (status, out.stdout[..split].to_vec())
        }
        _ => {
            let (status, _, body) = http_bytes("GET", url, &[], Vec::new()).await;
            (status, body.to_vec())
        }
    }
}

async fn events(server: &Server) -> Vec<serde_json::Value> {
    let (_, body) = http("GET", &format!("{}/_mock/events", server.url), None).await;
    body.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[tokio::test]
async fn aws_cli_s3_commands_round_trip_bytes_including_a_multipart_copy() {
    let Some(venv) = venv() else { return };
    // The CLI signs with the real time: no skew check against the frozen clock.
    let server = spawn_server(&["--clock", "frozen", "--max-skew", "off"]);
    let home = home("cli-s3");
    let run = |args: &[&str]| cli(&venv, &server, &home, &Keys::user(), args);
    let small = home.join("small.bin");
    let big = home.join("big.bin");
    let small_data = pattern(1000, 1);
    let big_data = pattern(20 * 1024 * 1024, 2);
    std::fs::write(&small, &small_data).unwrap();
    std::fs::write(&big, &big_data).unwrap();
    let path = |p: &Path| p.to_str().unwrap().to_string();

    ok(&run(&["s3", "mb", "s3://cli-bucket"]));
    ok(&run(&[
        "s3",
        "cp",
        &path(&small),
        "s3://cli-bucket/dir/small.bin",
    ]));
    ok(&run(&["s3", "cp", &path(&big), "s3://cli-bucket/big.bin"]));
    let listing = ok(&run(&["s3", "ls", "--recursive", "s3://cli-bucket/"]));
    assert!(listing.contains("1000 dir/small.bin"), "{listing}");
    assert!(
        listing.contains(&format!("{} big.bin", big_data.len())),
        "{listing}"
    );
    let top = ok(&run(&["s3", "ls", "s3://cli-bucket/"]));
    assert!(top.contains("PRE dir/"), "{top}");

    let out = home.join("big.out");
    ok(&run(&["s3", "cp", "s3://cli-bucket/big.bin", &path(&out)]));
    assert!(
        std::fs::read(&out).unwrap() == big_data,
        "the 20 MiB object came back different"
    );

    // CLI v1 presigns with SigV2 unless told otherwise; S3 refuses SigV2 for buckets created
    // since June 2020, and so does the mock.
    let url = ok(&run(&["s3", "presign", "s3://cli-bucket/dir/small.bin"]));
    assert!(url.contains("AWSAccessKeyId="), "{url}");
    let (status, body) = fetch(url.trim()).await;
    let body = String::from_utf8_lossy(&body).into_owned();
    assert_eq!(status, 400, "{body}");
    assert_eq!(xml_text(&body, "Code").as_deref(), Some("InvalidRequest"));
    std::fs::write(
        home.join("config"),
        "[default]\ns3 =\n    signature_version = s3v4\n",
    )
    .unwrap();
    let url = ok(&run(&[
        "s3",
        "presign",
        "s3://cli-bucket/dir/small.bin",
        "--expires-in",
        "600",
    ]));
    assert!(url.contains("X-Amz-Expires=600"), "{url}");
    let (status, body) = fetch(url.trim()).await;
    assert_eq!(status, 200, "{url}: {}", String::from_utf8_lossy(&body));
    assert!(body == small_data);

    ok(&run(&["s3", "rm", "s3://cli-bucket/dir/small.bin"]));
    let listing = ok(&run(&["s3", "ls", "--recursive", "s3://cli-bucket/"]));
    assert!(!listing.contains("small.bin"), "{listing}");

    let events = events(&server).await;
    let count = |action: &str| events.iter().filter(|e| e["action"] == action).count();
    assert_eq!(count("CreateMultipartUpload"), 1);
    assert_eq!(count("UploadPart"), 3, "20 MiB in the CLI's 8 MiB parts");
    assert_eq!(count("CompleteMultipartUpload"), 1);
    let errors: Vec<_> = events
        .iter()
        .filter(|e| !e["error_code"].is_null())
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["error_code"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        [("GetObject", "InvalidRequest")],
        "only the SigV2 URL failed"
    );
    std::fs::remove_dir_all(home).unwrap();
}

const BOTO3_TRANSFER: &str = r#"
import hashlib, json, os, sys
import boto3

home = os.environ["HOME"]
s3 = boto3.client("s3", aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                  aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
s3.create_bucket(Bucket="boto-bucket")
result = {}
for name, size in [("small", 3000), ("large", 12 * 1024 * 1024)]:
    src = os.path.join(home, name + ".src")
    dst = os.path.join(home, name + ".dst")
    with open(src, "wb") as f:
        f.write(os.urandom(size))
    s3.upload_file(src, "boto-bucket", "t/" + name, ExtraArgs={"Metadata": {"via": "boto3"}})
    s3.download_file("boto-bucket", "t/" + name, dst)
    digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
    head = s3.head_object(Bucket="boto-bucket", Key="t/" + name)
    result[name] = {"same": digest(src) == digest(dst), "size": head["ContentLength"],
                    "etag": head["ETag"], "meta": head["Metadata"]}
s3.put_object(Bucket="boto-bucket", Key="k with spaces+plus", Body=b"hello")
got = s3.get_object(Bucket="boto-bucket", Key="k with spaces+plus", ChecksumMode="ENABLED")
result["get"] = got["Body"].read().decode()
result["crc32"] = got.get("ChecksumCRC32")
listed = s3.list_objects_v2(Bucket="boto-bucket", Prefix="k ")
result["listed"] = [o["Key"] for o in listed.get("Contents", [])]
print(json.dumps(result))
"#;

#[test]
fn boto3_upload_file_and_download_file_round_trip() {
    let Some(venv) = venv() else { return };
    let server = spawn_server(&["--clock", "frozen", "--max-skew", "off"]);
    let home = home("boto3-s3");
    let out = aws_command(venv.join("bin/python"), &server.url, &home)
        .args(["-c", BOTO3_TRANSFER])
        .output()
        .unwrap();
    let stdout = ok(&out);
    let result: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for name in ["small", "large"] {
        assert_eq!(result[name]["same"], true, "{result}");
        assert_eq!(result[name]["meta"]["via"], "boto3", "{result}");
    }
    assert_eq!(result["small"]["size"], 3000);
    assert_eq!(result["large"]["size"], 12 * 1024 * 1024);
    // s3transfer splits 12 MiB into 8 MiB parts: a multipart ETag.
    assert!(
        result["large"]["etag"].as_str().unwrap().ends_with("-2\""),
        "{result}"
    );
    assert_eq!(result["get"], "hello");
    assert_eq!(result["crc32"], "NhCmhg==");
    assert_eq!(result["listed"], serde_json::json!(["k with spaces+plus"]));
    std::fs::remove_dir_all(home).unwrap();
}

#[tokio::test]
async fn data_dir_keeps_objects_across_a_kill_and_cleans_interrupted_writes() {
    let dir = TempDir::new("data-dir");
    let data = dir.path().join("s3");
    let data_arg = data.to_str().unwrap().to_string();
    let args = [
        "--clock",
        "frozen",
        "--start",
        "2026-01-01T00:00:00Z",
        "--data-dir",
        data_arg.as_str(),
    ];
    let clock = SimClock::frozen(start());
    let payload = pattern(100_000, 5);
    {
        let server = spawn_server(&args);
        let s3 = s3_client_for(&server.url, &clock, user_credentials());
        s3.create_bucket().bucket("persist").send().await.unwrap();
        for key in ["plain.bin", "../outside\0nul"] {
            s3.put_object()
                .bucket("persist")
                .key(key)
                .metadata("kept", "yes")
                .body(ByteStream::from(payload.clone()))
                .send()
                .await
                .unwrap();
        }
        // Dropping the server kills it (SIGKILL): no clean shutdown.
    }
    // What a write interrupted between "create temporary file" and "rename" leaves behind.
    let objects = data
        .join("buckets")
        .join(hex::encode("persist"))
        .join("objects");
    let torn = objects.join(".tmp-4242-0");
    std::fs::write(&torn, b"{\"key\":\"torn\",\"size\":5}\nto").unwrap();

    let server = spawn_server(&args);
    let s3 = s3_client_for(&server.url, &clock, user_credentials());
    // A NUL cannot be written in XML 1.0: list with `encoding-type=url`, as S3 advises.
    let listed = s3
        .list_objects_v2()
        .bucket("persist")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    let keys: Vec<String> = listed
        .contents()
        .iter()
        .map(|o| {
            form_urlencoded::parse(format!("k={}", o.key().unwrap()).as_bytes())
                .next()
                .unwrap()
                .1
                .into_owned()
        })
        .collect();
    assert_eq!(keys, ["../outside\0nul", "plain.bin"]);
    for key in &keys {
        let got = s3
            .get_object()
            .bucket("persist")
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(got.metadata().unwrap()["kept"], "yes");
        assert!(got.body.collect().await.unwrap().into_bytes() == payload);
    }
    assert!(!torn.exists(), "the temporary file was not cleaned up");
    assert!(!dir.path().join("outside\0nul").exists());
    drop(server);

    // The size cap flag: refused with EntityTooLarge, nothing stored.
    let mut capped = args.to_vec();
    capped.extend(["--max-object-size", "64KiB"]);
    let server = spawn_server(&capped);
    let s3 = s3_client_for(&server.url, &clock, user_credentials());
    let err = s3
        .put_object()
        .bucket("persist")
        .key("too-big")
        .body(ByteStream::from(payload.clone()))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let service = err.into_service_error();
    use aws_sdk_s3::error::ProvideErrorMetadata;
    assert_eq!(service.code(), Some("EntityTooLarge"));
    let listed = s3
        .list_objects_v2()
        .bucket("persist")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(2));
}
