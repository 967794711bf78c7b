//! S3 behaviours that real code notices (issue 12): listings that page to the end, URL-encoded
//! listings, `ListObjectVersions` for bucket-emptying tools, a resent
//! `CompleteMultipartUpload`, conditional writes and copies, `ListBuckets` paging, and
//! `CreateBucket`'s location and ACL answers.
//!
//! boto3 (pinned, in the project's venv) runs the paginators and the bucket-emptying loop as a
//! user's code would; aws-sdk-s3 checks the rest against the server on a real socket. Each test
//! names the source of AWS's answer it expects.

use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Delete, EncodingType, ObjectIdentifier,
};
use mock_sts::MockAws;
use mock_sts::clock::SimClock;

use crate::common::*;
use crate::external::{aws_command, home, venv};

async fn started() -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(12)
        .start()
        .await
        .unwrap()
}

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &'static [u8]) -> String {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap()
        .e_tag()
        .unwrap()
        .to_owned()
}

/// ceph/s3-tests `test_bucket_list_delimiter_prefix`'s keys.
const CEPH_KEYS: [&str; 5] = [
    "asdf",
    "boo/bar",
    "boo/baz/xyzzy",
    "cquux/thud",
    "cquux/bla",
];

/// Runs a boto3 script against the `mock-sts` binary and parses the JSON it prints.
pub(crate) fn boto3(name: &str, script: &str) -> Option<serde_json::Value> {
    let venv = venv()?;
    // boto3 signs with the real time: no skew check against the frozen clock.
    let server = spawn_server(&["--clock", "frozen", "--max-skew", "off"]);
    let home = home(name);
    let out = aws_command(venv.join("bin/python"), &server.url, &home)
        .env("AWS_ACCESS_KEY_ID", USER_AKID)
        .env("AWS_SECRET_ACCESS_KEY", USER_SECRET)
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(home).unwrap();
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

const BOTO3_PAGINATORS: &str = r#"
import json
import boto3

s3 = boto3.client("s3")
s3.create_bucket(Bucket="pages")
for key in ["asdf", "boo/bar", "boo/baz/xyzzy", "cquux/thud", "cquux/bla"]:
    s3.put_object(Bucket="pages", Key=key, Body=b"x")
out = {}

def walk(pages):
    seen = []
    for n, page in enumerate(pages):
        if n > 20:
            raise SystemExit("the paginator did not end")
        seen += [o["Key"] for o in page.get("Contents", []) + page.get("Versions", [])]
        seen += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return seen

one = {"PageSize": 1}
out["v1"] = walk(s3.get_paginator("list_objects").paginate(
    Bucket="pages", Delimiter="/", PaginationConfig=one))
out["v2"] = walk(s3.get_paginator("list_objects_v2").paginate(
    Bucket="pages", Delimiter="/", PaginationConfig=one))
out["versions"] = walk(s3.get_paginator("list_object_versions").paginate(
    Bucket="pages", Delimiter="/", PaginationConfig=one))
out["v2_after_boo"] = walk(s3.get_paginator("list_objects_v2").paginate(
    Bucket="pages", Delimiter="/", StartAfter="boo/"))
page = s3.list_objects(Bucket="pages", Delimiter="/", MaxKeys=1, Marker="boo/")
out["v1_after_boo"] = {"prefixes": [p["Prefix"] for p in page.get("CommonPrefixes", [])],
                       "truncated": page["IsTruncated"], "next": page.get("NextMarker")}
print(json.dumps(out))
"#;

/// A v1 `list_objects` paginator with a delimiter ends, each entry seen once: a `marker`
/// equal to a common prefix (the `NextMarker` of the page before) skips that prefix.
/// Source: ceph/s3-tests `test_bucket_list_delimiter_prefix` (marker `boo/`, max-keys 1:
/// `cquux/`, not truncated, no `NextMarker`), run against AWS by its authors. `start-after`
/// and `key-marker` page the same way in the mock (the README marks v2 as inferred).
#[test]
fn boto3_paginators_with_a_delimiter_end_and_list_each_prefix_once() {
    let Some(out) = boto3("s3-fidelity-pages", BOTO3_PAGINATORS) else {
        return;
    };
    let expected = serde_json::json!(["asdf", "boo/", "cquux/"]);
    assert_eq!(out["v1"], expected, "{out}");
    assert_eq!(out["v2"], expected, "{out}");
    assert_eq!(out["versions"], expected, "{out}");
    assert_eq!(out["v2_after_boo"], serde_json::json!(["cquux/"]), "{out}");
    assert_eq!(
        out["v1_after_boo"],
        serde_json::json!({"prefixes": ["cquux/"], "truncated": false, "next": null}),
        "{out}"
    );
}

/// The same pages through aws-sdk-s3, marker by marker, as ceph/s3-tests
/// `test_bucket_list_delimiter_prefix` walks them (with prefix `boo/` too).
#[tokio::test]
async fn v1_markers_inside_a_common_prefix_resume_after_it() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("ceph").send().await.unwrap();
    for key in CEPH_KEYS {
        put(&s3, "ceph", key, b"x").await;
    }
    // (prefix, marker, max-keys) -> (keys, prefixes, truncated, next marker)
    type Page<'a> = (&'a [&'a str], &'a [&'a str], bool, Option<&'a str>);
    let cases: [(&str, &str, i32, Page); 7] = [
        ("", "", 1, (&["asdf"], &[], true, Some("asdf"))),
        ("", "asdf", 1, (&[], &["boo/"], true, Some("boo/"))),
        ("", "boo/", 1, (&[], &["cquux/"], false, None)),
        ("", "", 2, (&["asdf"], &["boo/"], true, Some("boo/"))),
        ("", "boo/", 2, (&[], &["cquux/"], false, None)),
        ("boo/", "", 1, (&["boo/bar"], &[], true, Some("boo/bar"))),
        ("boo/", "boo/bar", 1, (&[], &["boo/baz/"], false, None)),
    ];
    for (prefix, marker, max, (keys, prefixes, truncated, next)) in cases {
        let page = s3
            .list_objects()
            .bucket("ceph")
            .prefix(prefix)
            .delimiter("/")
            .marker(marker)
            .max_keys(max)
            .send()
            .await
            .unwrap();
        let got: Vec<&str> = page.contents().iter().filter_map(|o| o.key()).collect();
        let got_prefixes: Vec<&str> = page
            .common_prefixes()
            .iter()
            .filter_map(|p| p.prefix())
            .collect();
        let case = format!("prefix {prefix:?} marker {marker:?} max {max}");
        assert_eq!(got, keys, "{case}");
        assert_eq!(got_prefixes, prefixes, "{case}");
        assert_eq!(page.is_truncated(), Some(truncated), "{case}");
        assert_eq!(page.next_marker(), next, "{case}");
    }
    // A marker deeper inside a common prefix is past that prefix as well.
    let page = s3
        .list_objects()
        .bucket("ceph")
        .delimiter("/")
        .marker("boo/bar")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<&str> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["cquux/"]);
}

/// `encoding-type=url` keeps `/`, writes a space as `+` and percent-encodes the rest (`+`,
/// `%`, UTF-8, NUL) in `Key`, `Prefix`, `Delimiter`, `StartAfter`, `Marker`, `NextMarker` and
/// `CommonPrefixes`. Source: keys `a b.txt`, `a+b.txt`, `100%.csv`, `한글/x.txt` listed from
/// AWS as `a+b.txt`, `a%2Bb.txt`, `100%25.csv`, `%ED%95%9C%EA%B8%80/x.txt`, common prefixes
/// `run+books/` (brekkylab/backlot#178, measured against ap-northeast-2); the fields are those
/// the S3 API reference lists for `EncodingType` (botocore's `decode_list_object*` handlers
/// quote them). aws-sdk-s3 does not decode, so the test sees the wire values.
#[tokio::test]
async fn url_encoded_listings_keep_slashes() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("enc").send().await.unwrap();
    for key in [
        "a b.txt",
        "a+b.txt",
        "100%.csv",
        "한글/x.txt",
        "run books/x.txt",
        "nul\0/x",
    ] {
        put(&s3, "enc", key, b"x").await;
    }
    let v2 = s3
        .list_objects_v2()
        .bucket("enc")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = v2.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(
        keys,
        [
            "100%25.csv",
            "a+b.txt",
            "a%2Bb.txt",
            "nul%00/x",
            "run+books/x.txt",
            "%ED%95%9C%EA%B8%80/x.txt"
        ]
    );
    let v2 = s3
        .list_objects_v2()
        .bucket("enc")
        .delimiter("/")
        .prefix("")
        .start_after("a b/")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(v2.delimiter(), Some("/"));
    assert_eq!(v2.start_after(), Some("a+b/"));
    let prefixes: Vec<&str> = v2
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["nul%00/", "run+books/", "%ED%95%9C%EA%B8%80/"]);

    // v1: `Prefix`, `Marker` and `NextMarker` too.
    let v1 = s3
        .list_objects()
        .bucket("enc")
        .prefix("run books/")
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.prefix(), Some("run+books/"));
    assert_eq!(v1.contents()[0].key(), Some("run+books/x.txt"));
    let v1 = s3
        .list_objects()
        .bucket("enc")
        .delimiter("/")
        .marker("a b.txt")
        .max_keys(2)
        .encoding_type(EncodingType::Url)
        .send()
        .await
        .unwrap();
    assert_eq!(v1.marker(), Some("a+b.txt"));
    assert_eq!(v1.next_marker(), Some("nul%00/"));
}

const BOTO3_EMPTY_BUCKET: &str = r#"
import json
import boto3

s3 = boto3.client("s3")
s3.create_bucket(Bucket="doomed")
keys = ["k%03d" % i for i in range(25)] + ["dir/a b", "dir/sub/c+d", "tail"]
for key in keys:
    s3.put_object(Bucket="doomed", Key=key, Body=b"x")
out = {}
first = s3.list_object_versions(Bucket="doomed", MaxKeys=2)
out["first"] = {
    "versions": [[v["Key"], v["VersionId"], v["IsLatest"]] for v in first["Versions"]],
    "truncated": first["IsTruncated"],
    "next": [first.get("NextKeyMarker"), first.get("NextVersionIdMarker")],
    "markers": first.get("DeleteMarkers", []),
}
# As Terraform's force_destroy and test teardowns empty a bucket: list versions page by
# page, delete each page by key and version id, then delete the bucket.
deleted = []
for page in s3.get_paginator("list_object_versions").paginate(
        Bucket="doomed", PaginationConfig={"PageSize": 10}):
    objects = [{"Key": v["Key"], "VersionId": v["VersionId"]}
               for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
    if objects:
        result = s3.delete_objects(Bucket="doomed", Delete={"Objects": objects, "Quiet": False})
        if result.get("Errors"):
            raise SystemExit(json.dumps(result["Errors"]))
        deleted += [[d["Key"], d.get("VersionId")] for d in result["Deleted"]]
out["deleted"] = len(deleted)
out["deleted_sample"] = deleted[-3:]
out["left"] = s3.list_objects_v2(Bucket="doomed")["KeyCount"]
s3.delete_bucket(Bucket="doomed")
out["buckets"] = [b["Name"] for b in s3.list_buckets()["Buckets"]]
print(json.dumps(out))
"#;

/// Emptying a bucket as Terraform's `force_destroy` does: `ListObjectVersions` pages, then
/// `DeleteObjects` by key and `VersionId` `null`, then `DeleteBucket`. Sources: the S3 API
/// reference (ListObjectVersions: objects stored while versioning was never enabled have
/// version id `null`; DeleteObjects `VersionId`); hashicorp/terraform-provider-aws
/// `internal/service/s3/delete.go` (`emptyBucket` lists versions and deletes them in pages).
#[test]
fn boto3_empties_a_bucket_through_list_object_versions() {
    let Some(out) = boto3("s3-fidelity-empty", BOTO3_EMPTY_BUCKET) else {
        return;
    };
    assert_eq!(
        out["first"],
        serde_json::json!({
            "versions": [["dir/a b", "null", true], ["dir/sub/c+d", "null", true]],
            "truncated": true,
            "next": ["dir/sub/c+d", "null"],
            "markers": [],
        }),
        "{out}"
    );
    assert_eq!(out["deleted"], 28, "{out}");
    assert_eq!(
        out["deleted_sample"],
        serde_json::json!([["k023", "null"], ["k024", "null"], ["tail", "null"]]),
        "{out}"
    );
    assert_eq!(out["left"], 0, "{out}");
    assert_eq!(out["buckets"], serde_json::json!([]), "{out}");
}

/// `ListObjectVersions` through aws-sdk-s3: prefix, delimiter, key-marker, max-keys; and
/// `DeleteObjects` refuses a version id the bucket never had, per key. The per-key
/// `NoSuchVersion` is the mock's answer (README: unconfirmed).
#[tokio::test]
async fn list_object_versions_pages_by_key_marker_and_delete_objects_takes_null() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("vers").send().await.unwrap();
    let etag = put(&s3, "vers", "a/1", b"one").await;
    for key in ["a/2", "b/1", "c"] {
        put(&s3, "vers", key, b"x").await;
    }
    let page = s3
        .list_object_versions()
        .bucket("vers")
        .delimiter("/")
        .key_marker("a/1")
        .send()
        .await
        .unwrap();
    let prefixes: Vec<&str> = page
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, ["b/"], "a/ is behind the marker a/1");
    let versions: Vec<&str> = page.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(versions, ["c"]);
    assert_eq!(page.is_truncated(), Some(false));

    let page = s3
        .list_object_versions()
        .bucket("vers")
        .prefix("a/")
        .max_keys(1)
        .send()
        .await
        .unwrap();
    let v = &page.versions()[0];
    assert_eq!(v.key(), Some("a/1"));
    assert_eq!(v.version_id(), Some("null"));
    assert_eq!(v.is_latest(), Some(true));
    assert_eq!(v.e_tag(), Some(etag.as_str()));
    assert_eq!(v.size(), Some(3));
    assert_eq!(page.next_key_marker(), Some("a/1"));
    assert_eq!(page.next_version_id_marker(), Some("null"));
    let next = s3
        .list_object_versions()
        .bucket("vers")
        .prefix("a/")
        .key_marker("a/1")
        .version_id_marker("null")
        .send()
        .await
        .unwrap();
    let keys: Vec<&str> = next.versions().iter().filter_map(|v| v.key()).collect();
    assert_eq!(keys, ["a/2"]);

    let ident = |key: &str, version: &str| {
        ObjectIdentifier::builder()
            .key(key)
            .version_id(version)
            .build()
            .unwrap()
    };
    let result = s3
        .delete_objects()
        .bucket("vers")
        .delete(
            Delete::builder()
                .objects(ident("a/1", "null"))
                .objects(ident("c", "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(result.deleted()[0].key(), Some("a/1"));
    assert_eq!(result.deleted()[0].version_id(), Some("null"));
    assert_eq!(result.errors()[0].key(), Some("c"));
    assert_eq!(result.errors()[0].code(), Some("NoSuchVersion"));
    let left = s3.list_objects_v2().bucket("vers").send().await.unwrap();
    let keys: Vec<&str> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["a/2", "b/1", "c"]);

    let err = s3
        .list_object_versions()
        .bucket("vers")
        .version_id_marker("null")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidArgument"));
}

/// Creates a one-part upload of `body` and returns its id and the part's ETag.
async fn one_part_upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &'static [u8],
) -> (String, String) {
    let upload = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let id = upload.upload_id().unwrap().to_owned();
    let part = s3
        .upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap();
    (id, part.e_tag().unwrap().to_owned())
}

fn parts(etag: &str) -> CompletedMultipartUpload {
    CompletedMultipartUpload::builder()
        .parts(CompletedPart::builder().part_number(1).e_tag(etag).build())
        .build()
}

/// Status and code of a failed call.
fn status_code<E: ProvideErrorMetadata>(
    err: aws_sdk_s3::error::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> (u16, String) {
    let status = err.raw_response().unwrap().status().as_u16();
    (status, err.code().unwrap_or_default().to_owned())
}

/// A `CompleteMultipartUpload` resent after it succeeded (an SDK retry after a lost response)
/// gets 200 and the same ETag, as S3 answers (adobe/S3Mock#2586 runs the same sequence against
/// real S3 with the AWS CLI: both completes succeed). Another part list for the completed
/// upload gets `NoSuchUpload`, the mock's answer (README: unconfirmed).
#[tokio::test]
async fn a_resent_complete_multipart_upload_answers_as_the_first() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("mpu").send().await.unwrap();
    let (id, etag) = one_part_upload(&s3, "mpu", "k", b"only part").await;
    let complete = || {
        s3.complete_multipart_upload()
            .bucket("mpu")
            .key("k")
            .upload_id(&id)
    };
    let first = complete()
        .multipart_upload(parts(&etag))
        .send()
        .await
        .unwrap();
    let again = complete()
        .multipart_upload(parts(&etag))
        .send()
        .await
        .unwrap();
    assert!(first.e_tag().unwrap().ends_with("-1\""));
    assert_eq!(again.e_tag(), first.e_tag());
    assert_eq!(again.key(), Some("k"));
    assert_eq!(again.checksum_crc64_nvme(), first.checksum_crc64_nvme());

    let other = complete()
        .multipart_upload(parts("\"0123456789abcdef0123456789abcdef\""))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_code(other), (404, "NoSuchUpload".to_owned()));
    // Nor is the id good for another key.
    let err = s3
        .complete_multipart_upload()
        .bucket("mpu")
        .key("elsewhere")
        .upload_id(&id)
        .multipart_upload(parts(&etag))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_code(err), (404, "NoSuchUpload".to_owned()));
}

/// Conditional writes on PutObject. Source: S3 API reference, PutObject `If-None-Match`
/// ("Uploads the object only if the object key name does not already exist … Otherwise,
/// Amazon S3 returns a 412 Precondition Failed error") and `If-Match` ("If the ETag values do
/// not match, the operation returns a 412"); S3 user guide, conditional writes: `If-Match`
/// on a key without an object "fails with a 404 Not Found error".
#[tokio::test]
async fn put_object_honours_if_none_match_and_if_match() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("cond").send().await.unwrap();
    let put = |key: &'static str, body: &'static [u8]| {
        s3.put_object()
            .bucket("cond")
            .key(key)
            .body(ByteStream::from_static(body))
    };
    let first = put("k", b"v1").if_none_match("*").send().await.unwrap();
    let err = put("k", b"v2").if_none_match("*").send().await.unwrap_err();
    assert_eq!(status_code(err), (412, "PreconditionFailed".to_owned()));

    let err = put("k", b"v2")
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_code(err), (412, "PreconditionFailed".to_owned()));
    let second = put("k", b"v2")
        .if_match(first.e_tag().unwrap())
        .send()
        .await
        .unwrap();
    assert_ne!(second.e_tag(), first.e_tag());

    let err = put("missing", b"x")
        .if_match(first.e_tag().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_code(err), (404, "NoSuchKey".to_owned()));

    // Nothing a failed condition refused was stored.
    let got = s3
        .get_object()
        .bucket("cond")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(&got.body.collect().await.unwrap().into_bytes()[..], b"v2");
    let err = s3
        .head_object()
        .bucket("cond")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
}

/// Conditional writes on CompleteMultipartUpload. Source: S3 API reference,
/// CompleteMultipartUpload `If-None-Match`/`If-Match`: 412 when the condition does not hold,
/// and "If a conflicting operation occurs during the upload S3 returns a 409
/// ConditionalRequestConflict response" (here: the key is written between
/// CreateMultipartUpload and CompleteMultipartUpload).
#[tokio::test]
async fn complete_multipart_upload_honours_conditions_and_reports_conflicts() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("condmpu").send().await.unwrap();
    let complete = |key: &'static str, id: &str, etag: &str| {
        s3.complete_multipart_upload()
            .bucket("condmpu")
            .key(key)
            .upload_id(id)
            .multipart_upload(parts(etag))
    };
    // The key already holds an object: If-None-Match fails with 412.
    let old = put(&s3, "condmpu", "taken", b"old").await;
    let (id, etag) = one_part_upload(&s3, "condmpu", "taken", b"new").await;
    let err = complete("taken", &id, &etag)
        .if_none_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_code(err), (412, "PreconditionFailed".to_owned()));
    // The upload is still there: If-Match on the object it replaces succeeds.
    let done = complete("taken", &id, &etag)
        .if_match(&old)
        .send()
        .await
        .unwrap();
    assert!(done.e_tag().unwrap().ends_with("-1\""));

    // Someone else writes the key during the upload: 409.
    let (id, etag) = one_part_upload(&s3, "condmpu", "fresh", b"mine").await;
    put(&s3, "condmpu", "fresh", b"theirs").await;
    let err = complete("fresh", &id, &etag)
        .if_none_match("*")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        status_code(err),
        (409, "ConditionalRequestConflict".to_owned())
    );
    let got = s3
        .get_object()
        .bucket("condmpu")
        .key("fresh")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"theirs"
    );

    // Nobody does: If-None-Match succeeds.
    let (id, etag) = one_part_upload(&s3, "condmpu", "free", b"mine").await;
    complete("free", &id, &etag)
        .if_none_match("*")
        .send()
        .await
        .unwrap();
}

/// CopyObject's source conditions. Source: S3 API reference, CopyObject
/// `x-amz-copy-source-if-match` true with `-if-unmodified-since` false copies (200);
/// `-if-none-match` false with `-if-modified-since` true is 412; each alone fails with 412
/// when it does not hold. And `If-None-Match: *` on the destination (CopyObject `IfNoneMatch`).
#[tokio::test]
async fn copy_object_honours_copy_source_conditions() {
    use aws_smithy_types::DateTime;
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("copy").send().await.unwrap();
    let etag = put(&s3, "copy", "src", b"source").await;
    // The object was written at the frozen clock's start.
    let before = DateTime::from(start() - std::time::Duration::from_secs(3600));
    let after = DateTime::from(start() + std::time::Duration::from_secs(3600));
    let other = "\"0123456789abcdef0123456789abcdef\"";
    let copy = || {
        s3.copy_object()
            .bucket("copy")
            .key("dst")
            .copy_source("copy/src")
    };

    for (name, request) in [
        ("if-match other", copy().copy_source_if_match(other)),
        (
            "if-none-match same",
            copy().copy_source_if_none_match(&etag),
        ),
        (
            "if-unmodified-since before",
            copy().copy_source_if_unmodified_since(before),
        ),
        (
            "if-modified-since after",
            copy().copy_source_if_modified_since(after),
        ),
        (
            "if-none-match same, if-modified-since true",
            copy()
                .copy_source_if_none_match(&etag)
                .copy_source_if_modified_since(before),
        ),
    ] {
        let err = request.send().await.unwrap_err();
        assert_eq!(
            status_code(err),
            (412, "PreconditionFailed".to_owned()),
            "{name}"
        );
    }
    let err = s3
        .head_object()
        .bucket("copy")
        .key("dst")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err.raw_response().unwrap().status().as_u16(),
        404,
        "nothing copied"
    );

    for (name, request) in [
        (
            "if-match same wins over if-unmodified-since false",
            copy()
                .copy_source_if_match(&etag)
                .copy_source_if_unmodified_since(before),
        ),
        (
            "if-none-match other",
            copy().copy_source_if_none_match(other),
        ),
        (
            "if-modified-since before",
            copy().copy_source_if_modified_since(before),
        ),
        (
            "if-unmodified-since after",
            copy().copy_source_if_unmodified_since(after),
        ),
    ] {
        let done = request.send().await.unwrap();
        assert_eq!(
            done.copy_object_result().unwrap().e_tag(),
            Some(etag.as_str()),
            "{name}"
        );
    }
    let err = copy().if_none_match("*").send().await.unwrap_err();
    assert_eq!(status_code(err), (412, "PreconditionFailed".to_owned()));
}

/// ListBuckets pages. Source: S3 API reference, ListBuckets (`max-buckets`,
/// `continuation-token`, `prefix`, `bucket-region`; `ContinuationToken` and `Prefix` in the
/// response, the token "obfuscated and … not a real bucket"); aws-sdk-s3's paginator follows
/// `ContinuationToken`.
#[tokio::test]
async fn list_buckets_pages_by_max_buckets_prefix_and_region() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    for name in ["app-a", "app-b", "app-c", "logs"] {
        s3.create_bucket().bucket(name).send().await.unwrap();
    }
    let config = sdk_config(&aws, user_credentials());
    let eu = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .force_path_style(true)
            .build(),
    );
    eu.create_bucket()
        .bucket("app-eu")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let names = |out: &aws_sdk_s3::operation::list_buckets::ListBucketsOutput| -> Vec<String> {
        out.buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_owned))
            .collect()
    };
    let first = s3.list_buckets().max_buckets(2).send().await.unwrap();
    assert_eq!(names(&first), ["app-a", "app-b"]);
    let token = first.continuation_token().unwrap();
    assert!(!token.contains("app-b"), "the token is opaque: {token}");
    let second = s3
        .list_buckets()
        .max_buckets(2)
        .continuation_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(names(&second), ["app-c", "app-eu"]);
    let third = s3
        .list_buckets()
        .max_buckets(2)
        .continuation_token(second.continuation_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(names(&third), ["logs"]);
    assert_eq!(third.continuation_token(), None);

    let all: Vec<String> = s3
        .list_buckets()
        .max_buckets(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .unwrap()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(all, ["app-a", "app-b", "app-c", "app-eu", "logs"]);

    let apps = s3.list_buckets().prefix("app-").send().await.unwrap();
    assert_eq!(names(&apps), ["app-a", "app-b", "app-c", "app-eu"]);
    assert_eq!(apps.prefix(), Some("app-"));
    assert_eq!(apps.continuation_token(), None);
    let in_eu = s3
        .list_buckets()
        .bucket_region("eu-west-1")
        .send()
        .await
        .unwrap();
    assert_eq!(names(&in_eu), ["app-eu"]);
    assert_eq!(in_eu.buckets()[0].bucket_region(), Some("eu-west-1"));

    for bad in [0, 10_001] {
        let err = s3.list_buckets().max_buckets(bad).send().await.unwrap_err();
        assert_eq!(
            status_code(err),
            (400, "InvalidArgument".to_owned()),
            "{bad}"
        );
    }
    let err = s3
        .list_buckets()
        .continuation_token("not a token!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_code(err), (400, "InvalidArgument".to_owned()));
}

/// CreateBucket in us-east-1 naming us-east-1 as its location: 400
/// `InvalidLocationConstraint` with `<LocationConstraint>` (AWS's full `<Error>` in
/// minio/minio-py#166; boto/boto3#125). A canned ACL that grants something: 400
/// `InvalidBucketAclWithObjectOwnership` since April 2023 (aws/aws-cdk#25288,
/// kubernetes/kops#15454), unless the bucket is created with ACLs enabled
/// (`x-amz-object-ownership`, boto3's CreateBucket documentation, aws/aws-sdk#565). Objects
/// granting ACLs in a bucket that enforces ownership: 400 `AccessControlListNotSupported`
/// "The bucket does not allow ACLs" (anacronw/multer-s3#161).
#[tokio::test]
async fn create_bucket_refuses_us_east_1_as_a_constraint_and_acls_by_default() {
    use aws_sdk_s3::types::{
        BucketCannedAcl, BucketLocationConstraint, CreateBucketConfiguration, ObjectCannedAcl,
        ObjectOwnership,
    };
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    let err = s3
        .create_bucket()
        .bucket("east")
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from("us-east-1"))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let body =
        String::from_utf8_lossy(err.raw_response().unwrap().body().bytes().unwrap()).into_owned();
    assert_eq!(
        status_code(err),
        (400, "InvalidLocationConstraint".to_owned())
    );
    assert!(
        body.contains("<Message>The specified location-constraint is not valid</Message><LocationConstraint>us-east-1</LocationConstraint>"),
        "{body}"
    );

    let err = s3
        .create_bucket()
        .bucket("public")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        status_code(err),
        (400, "InvalidBucketAclWithObjectOwnership".to_owned())
    );
    s3.create_bucket()
        .bucket("private")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    s3.create_bucket()
        .bucket("writer")
        .acl(BucketCannedAcl::PublicRead)
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .unwrap();
    let names: Vec<String> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().map(str::to_owned))
        .collect();
    assert_eq!(names, ["private", "writer"]);

    let put = |bucket: &'static str, acl: ObjectCannedAcl| {
        s3.put_object()
            .bucket(bucket)
            .key("k")
            .acl(acl)
            .body(ByteStream::from_static(b"x"))
    };
    let err = put("private", ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        status_code(err),
        (400, "AccessControlListNotSupported".to_owned())
    );
    put("private", ObjectCannedAcl::BucketOwnerFullControl)
        .send()
        .await
        .unwrap();
    put("writer", ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
}
