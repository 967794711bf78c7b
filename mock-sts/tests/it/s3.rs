//! The real aws-sdk-s3 against the server on a real socket (and once in process, virtual-host
//! style), signing on the server's simulated clock: every operation, the payload forms it
//! sends, presigned URLs fetched with a plain HTTP client, and credential expiry.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, CompletedMultipartUpload, CompletedPart, Delete,
    ObjectIdentifier,
};
use mock_sts::MockAws;
use mock_sts::aws_error::ErrorCode;
use mock_sts::clock::SimClock;

use crate::common::*;

async fn started() -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(7)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn buckets_are_created_listed_headed_and_deleted() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("alpha").send().await.unwrap();
    s3.create_bucket().bucket("beta").send().await.unwrap();
    // us-east-1's legacy answer: re-creating your own bucket succeeds.
    s3.create_bucket().bucket("alpha").send().await.unwrap();
    let names: Vec<_> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .map(|b| b.name().unwrap().to_string())
        .collect();
    assert_eq!(names, ["alpha", "beta"]);
    s3.head_bucket().bucket("alpha").send().await.unwrap();

    // Elsewhere it is BucketAlreadyOwnedByYou (409).
    let config = sdk_config(&aws, user_credentials());
    let eu = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .region(aws_sdk_s3::config::Region::new("eu-west-1"))
            .force_path_style(true)
            .build(),
    );
    let err = eu.create_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 409);
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("BucketAlreadyOwnedByYou"));
    assert_eq!(
        service.message(),
        Some("Your previous request to create the named bucket succeeded and you already own it.")
    );

    s3.put_object()
        .bucket("alpha")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let err = s3.delete_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("BucketNotEmpty"));
    s3.delete_object()
        .bucket("alpha")
        .key("k")
        .send()
        .await
        .unwrap();
    s3.delete_bucket().bucket("alpha").send().await.unwrap();
    let err = s3.head_bucket().bucket("alpha").send().await.unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 404);
    let err = s3
        .get_object()
        .bucket("alpha")
        .key("k")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchBucket"));

    let events = aws.events();
    let actions: Vec<_> = events.0.iter().map(|e| e.action.as_str()).collect();
    assert!(
        actions.starts_with(&[
            "CreateBucket",
            "CreateBucket",
            "CreateBucket",
            "ListBuckets",
            "HeadBucket"
        ]),
        "{actions:?}"
    );
    assert!(events.0.iter().all(|e| e.service.as_str() == "s3"));
    assert_eq!(
        events.0[0].signed_by.as_ref().unwrap().access_key_id,
        USER_AKID
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn objects_round_trip_with_metadata_etag_checksum_and_ranges() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("objects").send().await.unwrap();
    let data = pattern(10_000, 3);
    let put = s3
        .put_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .body(ByteStream::from(data.clone()))
        .content_type("application/x-test")
        .cache_control("max-age=60")
        .content_disposition("attachment; filename=\"f.bin\"")
        .content_language("en")
        .metadata("owner", "pipeline")
        .metadata("Mixed-Case", "Value 1")
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some(md5_etag(&data).as_str()));
    // The SDK sent CRC32 in a header; S3 echoes it.
    assert_eq!(put.checksum_crc32(), Some(crc32(&data).as_str()));

    let got = s3
        .get_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/x-test"));
    assert_eq!(got.cache_control(), Some("max-age=60"));
    assert_eq!(
        got.content_disposition(),
        Some("attachment; filename=\"f.bin\"")
    );
    assert_eq!(got.content_language(), Some("en"));
    assert_eq!(got.e_tag(), Some(md5_etag(&data).as_str()));
    assert_eq!(got.content_length(), Some(10_000));
    assert_eq!(got.checksum_crc32(), Some(crc32(&data).as_str()));
    let metadata: HashMap<String, String> = got.metadata().unwrap().clone();
    assert_eq!(metadata["owner"], "pipeline");
    assert_eq!(metadata["mixed-case"], "Value 1");
    assert_eq!(
        got.last_modified().unwrap().secs(),
        start()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    );
    // The SDK validated the body against the returned CRC32 while collecting it.
    assert_eq!(got.body.collect().await.unwrap().into_bytes(), data);

    let head = s3
        .head_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(10_000));
    assert_eq!(head.e_tag(), Some(md5_etag(&data).as_str()));

    let range = s3
        .get_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .range("bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(range.content_range(), Some("bytes 100-199/10000"));
    assert_eq!(
        range.body.collect().await.unwrap().into_bytes(),
        data[100..200]
    );
    let tail = s3
        .get_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .range("bytes=-10")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tail.body.collect().await.unwrap().into_bytes(),
        data[9990..]
    );
    let err = s3
        .get_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .range("bytes=20000-")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 416);
    assert_eq!(err.into_service_error().code(), Some("InvalidRange"));

    let err = s3
        .get_object()
        .bucket("objects")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    let service = err.into_service_error();
    assert!(service.is_no_such_key(), "{service:?}");
    assert_eq!(service.message(), Some("The specified key does not exist."));
    let err = s3
        .head_object()
        .bucket("objects")
        .key("missing")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());

    s3.delete_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .send()
        .await
        .unwrap();
    // Deleting again is fine, as in S3.
    s3.delete_object()
        .bucket("objects")
        .key("dir/file name+ü.bin")
        .send()
        .await
        .unwrap();
    aws.shutdown().await;
}

#[tokio::test]
async fn list_objects_v2_pages_with_prefix_delimiter_and_tokens() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("listing").send().await.unwrap();
    for key in ["a/1", "a/2", "a/b/3", "b/1", "c", "d", "e"] {
        s3.put_object()
            .bucket("listing")
            .key(key)
            .body(ByteStream::from_static(b"."))
            .send()
            .await
            .unwrap();
    }
    let all = s3.list_objects_v2().bucket("listing").send().await.unwrap();
    assert_eq!(all.key_count(), Some(7));
    assert_eq!(all.is_truncated(), Some(false));

    let a = s3
        .list_objects_v2()
        .bucket("listing")
        .prefix("a/")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = a.contents().iter().map(|o| o.key().unwrap()).collect();
    let prefixes: Vec<_> = a
        .common_prefixes()
        .iter()
        .map(|p| p.prefix().unwrap())
        .collect();
    assert_eq!(keys, ["a/1", "a/2"]);
    assert_eq!(prefixes, ["a/b/"]);

    // Two at a time with a delimiter: a/ and b/ count once each.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket("listing")
            .delimiter("/")
            .max_keys(2)
            .set_continuation_token(token.clone())
            .send()
            .await
            .unwrap();
        seen.extend(
            page.common_prefixes()
                .iter()
                .map(|p| p.prefix().unwrap().to_string()),
        );
        seen.extend(page.contents().iter().map(|o| o.key().unwrap().to_string()));
        if page.is_truncated() != Some(true) {
            break;
        }
        token = page.next_continuation_token().map(str::to_string);
    }
    assert_eq!(seen, ["a/", "b/", "c", "d", "e"]);

    let after = s3
        .list_objects_v2()
        .bucket("listing")
        .start_after("c")
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = after.contents().iter().map(|o| o.key().unwrap()).collect();
    assert_eq!(keys, ["d", "e"]);

    let err = s3
        .list_objects_v2()
        .bucket("listing")
        .continuation_token("garbage!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidArgument"));
    aws.shutdown().await;
}

#[tokio::test]
async fn copy_object_and_delete_objects() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("src").send().await.unwrap();
    s3.create_bucket().bucket("dst").send().await.unwrap();
    s3.put_object()
        .bucket("src")
        .key("orig")
        .body(ByteStream::from_static(b"copy me"))
        .metadata("kept", "yes")
        .content_type("text/plain")
        .send()
        .await
        .unwrap();
    let copied = s3
        .copy_object()
        .copy_source("src/orig")
        .bucket("dst")
        .key("copy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        copied.copy_object_result().unwrap().e_tag(),
        Some(md5_etag(b"copy me").as_str())
    );
    let got = s3
        .get_object()
        .bucket("dst")
        .key("copy")
        .send()
        .await
        .unwrap();
    assert_eq!(got.metadata().unwrap()["kept"], "yes");
    assert_eq!(got.content_type(), Some("text/plain"));
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"copy me"
    );

    let replaced = s3
        .copy_object()
        .copy_source("src/orig")
        .bucket("src")
        .key("orig")
        .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
        .metadata("new", "1")
        .send()
        .await;
    assert!(replaced.is_ok(), "{replaced:?}");
    let head = s3
        .head_object()
        .bucket("src")
        .key("orig")
        .send()
        .await
        .unwrap();
    assert_eq!(head.metadata().unwrap().get("kept"), None);
    assert_eq!(head.metadata().unwrap()["new"], "1");
    let err = s3
        .copy_object()
        .copy_source("src/orig")
        .bucket("src")
        .key("orig")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("InvalidRequest"));
    let err = s3
        .copy_object()
        .copy_source("src/none")
        .bucket("dst")
        .key("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchKey"));

    for key in ["d1", "d2", "d3"] {
        s3.put_object()
            .bucket("dst")
            .key(key)
            .body(ByteStream::from_static(b"d"))
            .send()
            .await
            .unwrap();
    }
    let delete = Delete::builder()
        .objects(ObjectIdentifier::builder().key("d1").build().unwrap())
        .objects(ObjectIdentifier::builder().key("d2").build().unwrap())
        .objects(
            ObjectIdentifier::builder()
                .key("never-existed")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    let out = s3
        .delete_objects()
        .bucket("dst")
        .delete(delete)
        .send()
        .await
        .unwrap();
    let deleted: Vec<_> = out.deleted().iter().map(|d| d.key().unwrap()).collect();
    assert_eq!(deleted, ["d1", "d2", "never-existed"]);
    let left: Vec<_> = s3
        .list_objects_v2()
        .bucket("dst")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .map(|o| o.key().unwrap().to_string())
        .collect();
    assert_eq!(left, ["copy", "d3"]);
    aws.shutdown().await;
}

#[tokio::test]
async fn multipart_upload_with_default_checksums() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("multi").send().await.unwrap();
    let part1 = pattern(5 * 1024 * 1024, 1);
    let part2 = pattern(1024 * 1024 + 17, 2);
    let created = s3
        .create_multipart_upload()
        .bucket("multi")
        .key("big")
        .content_type("application/x-big")
        .metadata("m", "v")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let upload_id = created.upload_id().unwrap().to_string();
    let mut completed = Vec::new();
    for (number, data) in [(1, &part1), (2, &part2)] {
        let out = s3
            .upload_part()
            .bucket("multi")
            .key("big")
            .upload_id(&upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(data.clone()))
            .send()
            .await
            .unwrap();
        assert_eq!(out.e_tag(), Some(md5_etag(data).as_str()));
        assert_eq!(out.checksum_crc32(), Some(crc32(data).as_str()));
        completed.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .checksum_crc32(out.checksum_crc32().unwrap())
                .build(),
        );
    }
    let parts = s3
        .list_parts()
        .bucket("multi")
        .key("big")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    let sizes: Vec<_> = parts.parts().iter().map(|p| p.size().unwrap()).collect();
    assert_eq!(sizes, [part1.len() as i64, part2.len() as i64]);

    let done = s3
        .complete_multipart_upload()
        .bucket("multi")
        .key("big")
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(completed))
                .build(),
        )
        .send()
        .await
        .unwrap();
    use md5::Digest;
    let mut md5s = Vec::new();
    md5s.extend_from_slice(&md5::Md5::digest(&part1));
    md5s.extend_from_slice(&md5::Md5::digest(&part2));
    let expected_etag = format!("\"{}-2\"", hex::encode(md5::Md5::digest(&md5s)));
    assert_eq!(done.e_tag(), Some(expected_etag.as_str()));
    assert!(done.checksum_crc32().unwrap().ends_with("-2"));

    let got = s3
        .get_object()
        .bucket("multi")
        .key("big")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content_type(), Some("application/x-big"));
    assert_eq!(got.metadata().unwrap()["m"], "v");
    assert_eq!(got.e_tag(), Some(expected_etag.as_str()));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.len(), part1.len() + part2.len());
    assert!(body[..part1.len()] == part1[..] && body[part1.len()..] == part2[..]);

    // The upload is gone; an aborted one too.
    let err = s3
        .list_parts()
        .bucket("multi")
        .key("big")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchUpload"));
    let other = s3
        .create_multipart_upload()
        .bucket("multi")
        .key("aborted")
        .send()
        .await
        .unwrap();
    s3.abort_multipart_upload()
        .bucket("multi")
        .key("aborted")
        .upload_id(other.upload_id().unwrap())
        .send()
        .await
        .unwrap();
    let err = s3
        .abort_multipart_upload()
        .bucket("multi")
        .key("aborted")
        .upload_id(other.upload_id().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("NoSuchUpload"));

    // A small first part: EntityTooSmall at completion.
    let small = s3
        .create_multipart_upload()
        .bucket("multi")
        .key("small")
        .send()
        .await
        .unwrap();
    let mut parts = Vec::new();
    for number in 1..=2 {
        let out = s3
            .upload_part()
            .bucket("multi")
            .key("small")
            .upload_id(small.upload_id().unwrap())
            .part_number(number)
            .body(ByteStream::from_static(b"tiny"))
            .send()
            .await
            .unwrap();
        parts.push(
            CompletedPart::builder()
                .part_number(number)
                .e_tag(out.e_tag().unwrap())
                .build(),
        );
    }
    let err = s3
        .complete_multipart_upload()
        .bucket("multi")
        .key("small")
        .upload_id(small.upload_id().unwrap())
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.into_service_error().code(), Some("EntityTooSmall"));
    aws.shutdown().await;
}

#[tokio::test]
async fn file_body_larger_than_one_chunk_goes_as_signed_aws_chunked_with_a_trailer() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("files").send().await.unwrap();
    let dir = TempDir::new("from-path");
    let path = dir.path().join("upload.bin");
    // Several of the SDK's 64 KiB chunks, and a ragged last one.
    let data = pattern(300_000, 9);
    std::fs::write(&path, &data).unwrap();
    let put = s3
        .put_object()
        .bucket("files")
        .key("upload.bin")
        .body(ByteStream::from_path(&path).await.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(put.e_tag(), Some(md5_etag(&data).as_str()));
    let got = s3
        .get_object()
        .bucket("files")
        .key("upload.bin")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    // The CRC32 came in the signed trailer; the object holds no framing.
    assert_eq!(got.checksum_crc32(), Some(crc32(&data).as_str()));
    assert_eq!(got.content_length(), Some(300_000));
    assert_eq!(got.body.collect().await.unwrap().into_bytes(), data);
    aws.shutdown().await;
}

#[tokio::test]
async fn presigned_get_and_put_work_with_a_plain_http_client_until_they_expire() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("pre").send().await.unwrap();
    let config = |seconds| {
        PresigningConfig::builder()
            .start_time(aws.clock().now())
            .expires_in(Duration::from_secs(seconds))
            .build()
            .unwrap()
    };
    let put = s3
        .put_object()
        .bucket("pre")
        .key("via-url")
        .presigned(config(300))
        .await
        .unwrap();
    let headers: Vec<(&str, &str)> = put.headers().collect();
    let (status, _, body) =
        http_bytes("PUT", put.uri(), &headers, b"presigned body".to_vec()).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));

    let get = s3
        .get_object()
        .bucket("pre")
        .key("via-url")
        .presigned(config(300))
        .await
        .unwrap();
    let (status, _, body) = http_bytes("GET", get.uri(), &[], Vec::new()).await;
    assert_eq!(status, 200);
    assert_eq!(&body[..], b"presigned body");
    let head = s3
        .head_object()
        .bucket("pre")
        .key("via-url")
        .presigned(config(300))
        .await
        .unwrap();
    let (status, headers, _) = http_bytes("HEAD", head.uri(), &[], Vec::new()).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-length"], "14");

    aws.clock().advance(Duration::from_secs(300)).unwrap();
    let (status, _, body) = http_bytes("GET", get.uri(), &[], Vec::new()).await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(status, 403, "{body}");
    assert_eq!(xml_text(&body, "Code").as_deref(), Some("AccessDenied"));
    assert_eq!(
        xml_text(&body, "Message").as_deref(),
        Some("Request has expired")
    );
    assert_eq!(xml_text(&body, "X-Amz-Expires").as_deref(), Some("300"));
    assert_eq!(
        xml_text(&body, "Expires").as_deref(),
        Some("2026-01-01T00:05:00Z")
    );
    assert_eq!(
        xml_text(&body, "ServerTime").as_deref(),
        Some("2026-01-01T00:05:00Z")
    );
    let events = aws.events();
    let last = events.0.last().unwrap();
    assert_eq!(last.action.as_str(), "GetObject");
    assert_eq!(last.error_code, Some(ErrorCode::AccessDenied));
    aws.shutdown().await;
}

async fn assume_role(aws: &MockAws) -> aws_sdk_sts::types::Credentials {
    let sts = aws_sdk_sts::Client::new(&sdk_config(aws, user_credentials()));
    sts.assume_role()
        .role_arn(LONG_ROLE)
        .role_session_name("s3-expiry")
        .send()
        .await
        .unwrap()
        .credentials()
        .unwrap()
        .clone()
}

fn temporary(c: &aws_sdk_sts::types::Credentials) -> Credentials {
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "static-temporary",
    )
}

#[tokio::test]
async fn put_object_succeeds_1ms_before_expiry_and_gets_expired_token_at_expiry() {
    let aws = started().await;
    let user = s3_client(&aws, user_credentials());
    user.create_bucket().bucket("expiry").send().await.unwrap();
    let creds = assume_role(&aws).await;
    let expiry = SystemTime::try_from(*creds.expiration()).unwrap();
    let s3 = s3_client(&aws, temporary(&creds));

    aws.clock()
        .advance(expiry.duration_since(aws.clock().now()).unwrap() - Duration::from_millis(1))
        .unwrap();
    s3.put_object()
        .bucket("expiry")
        .key("before")
        .body(ByteStream::from_static(b"in time"))
        .send()
        .await
        .unwrap();

    aws.clock().advance(Duration::from_millis(1)).unwrap();
    let err = s3
        .put_object()
        .bucket("expiry")
        .key("after")
        .body(ByteStream::from_static(b"too late"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.raw_response().unwrap().status().as_u16(), 400);
    let service = err.into_service_error();
    assert_eq!(service.code(), Some("ExpiredToken"));
    assert_eq!(service.message(), Some("The provided token has expired."));

    let events = aws.events();
    let failed = events.errors().last().unwrap();
    assert_eq!(failed.action.as_str(), "PutObject");
    assert_eq!(failed.status, 400);
    let signer = failed.signed_by.as_ref().unwrap();
    assert_eq!(signer.access_key_id, creds.access_key_id());
    assert_eq!(signer.expires_at, Some(expiry));
    // Nothing was stored by the refused request.
    let err = user
        .head_object()
        .bucket("expiry")
        .key("after")
        .send()
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_not_found());
    aws.shutdown().await;
}

#[tokio::test]
async fn a_url_presigned_with_temporary_credentials_dies_with_its_token() {
    let aws = started().await;
    let user = s3_client(&aws, user_credentials());
    user.create_bucket().bucket("tok").send().await.unwrap();
    user.put_object()
        .bucket("tok")
        .key("k")
        .body(ByteStream::from_static(b"v"))
        .send()
        .await
        .unwrap();
    let creds = assume_role(&aws).await;
    let s3 = s3_client(&aws, temporary(&creds));
    // Two hours of X-Amz-Expires; the token lives one.
    let url = s3
        .get_object()
        .bucket("tok")
        .key("k")
        .presigned(
            PresigningConfig::builder()
                .start_time(aws.clock().now())
                .expires_in(Duration::from_secs(7200))
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    let (status, _, _) = http_bytes("GET", url.uri(), &[], Vec::new()).await;
    assert_eq!(status, 200);
    aws.clock().advance(Duration::from_secs(3600)).unwrap();
    let (status, _, body) = http_bytes("GET", url.uri(), &[], Vec::new()).await;
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(status, 400, "{body}");
    assert_eq!(xml_text(&body, "Code").as_deref(), Some("ExpiredToken"));
    assert_eq!(
        xml_text(&body, "Message").as_deref(),
        Some("The provided token has expired.")
    );
    assert_eq!(
        xml_text(&body, "Token-0").as_deref(),
        Some(creds.session_token())
    );
    aws.shutdown().await;
}

#[tokio::test]
async fn virtual_host_style_in_process() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(3)
        .build();
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url("http://localhost:4566")
        .http_client(mock_sts::sdk::InProcessClient::new(&aws))
        .time_source(aws_smithy_async::time::SharedTimeSource::new(
            aws.clock().clone(),
        ))
        .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(
            aws_smithy_async::rt::sleep::TokioSleep::new(),
        ))
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(user_credentials()),
        )
        .build();
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.create_bucket().bucket("vhost").send().await.unwrap();
    s3.put_object()
        .bucket("vhost")
        .key("a/b.txt")
        .body(ByteStream::from_static(b"virtual"))
        .send()
        .await
        .unwrap();
    let got = s3
        .get_object()
        .bucket("vhost")
        .key("a/b.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"virtual"
    );
    let listed = s3.list_objects_v2().bucket("vhost").send().await.unwrap();
    assert_eq!(listed.contents()[0].key(), Some("a/b.txt"));
    // The same object, path-style, from a client that does not know about virtual hosts.
    let path_style = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let got = path_style
        .get_object()
        .bucket("vhost")
        .key("a/b.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        &got.body.collect().await.unwrap().into_bytes()[..],
        b"virtual"
    );
}

#[tokio::test]
async fn sessions_share_their_accounts_buckets_and_ranges_carry_no_checksum() {
    let aws = started().await;
    let s3 = s3_client(&aws, user_credentials());
    s3.create_bucket().bucket("mine").send().await.unwrap();
    // A temporary session of the same account may.
    let creds = assume_role(&aws).await;
    let same_account = s3_client(&aws, temporary(&creds));
    same_account
        .put_object()
        .bucket("mine")
        .key("k")
        .body(ByteStream::from_static(b"ok"))
        .send()
        .await
        .unwrap();
    let range = s3
        .get_object()
        .bucket("mine")
        .key("k")
        .checksum_mode(ChecksumMode::Enabled)
        .range("bytes=0-0")
        .send()
        .await
        .unwrap();
    // A client cannot check a range against the object's checksum: S3 sends none.
    assert_eq!(range.checksum_crc32(), None);
    assert_eq!(&range.body.collect().await.unwrap().into_bytes()[..], b"o");
    aws.shutdown().await;
}
