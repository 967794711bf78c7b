//! Every kind of bad S3 input, in process through the router, each answered with S3's status,
//! code and body, never a panic. Requests are signed by the real aws-sigv4 crate, chunk and
//! trailer signatures by its `sign_chunk` / `sign_trailer`, so the mock is checked against
//! the SDK's signer and not against itself.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use base64::Engine;
use http::Request;
use mock_sts::MockAws;
use mock_sts::aws_error::ErrorCode;
use mock_sts::clock::SimClock;
use sts_lab_test_support::signing::{SignableBody, Signer};

use crate::common::*;

const HOST: &str = "localhost:4566";

fn mock() -> MockAws {
    MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(11)
        .build()
}

/// A request signed by aws-sigv4 for S3 with `payload_hash` (default: the body's SHA-256) in
/// `x-amz-content-sha256`; also returns the seed signature for chunk signing.
fn signed(
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    payload_hash: Option<&str>,
    keys: &Keys,
    time: SystemTime,
) -> (Request<Body>, String) {
    let uri = format!("http://{HOST}{path_and_query}");
    let mut all = vec![("host", HOST)];
    all.extend_from_slice(headers);
    let payload = match payload_hash {
        Some(hash) => SignableBody::Precomputed(hash.to_string()),
        None => SignableBody::Bytes(&body),
    };
    let signed = Signer::s3(keys, time).sign(method, &uri, &all, payload);
    (
        Request::from_parts(signed.parts, Body::from(body)),
        signed.signature,
    )
}

/// A GET URL presigned for S3 by aws-sigv4.
fn presigned_s3(path: &str, keys: &Keys, time: SystemTime, expires: Duration) -> String {
    let uri = format!("http://{HOST}{path}");
    Signer::s3(keys, time)
        .presigned(expires)
        .sign(
            "GET",
            &uri,
            &[("host", HOST)],
            SignableBody::UnsignedPayload,
        )
        .parts
        .uri
        .to_string()
}

/// An aws-chunked body: each chunk (and the final empty one) signed with aws-sigv4's
/// `sign_chunk` when `seed` is given, then trailers, signed with `sign_trailer`.
fn chunked(
    chunks: &[&[u8]],
    trailers: &[(&str, &str)],
    seed: Option<&str>,
    keys: &Keys,
    time: SystemTime,
) -> Vec<u8> {
    sts_lab_test_support::chunked::body(chunks, trailers, seed, &Signer::s3(keys, time)).body
}

/// Asserts an S3 error: status, code, message, and the shape and headers S3 sends.
#[track_caller]
fn assert_s3_error(reply: &Reply, status: u16, code: &str, message: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.body);
    assert_eq!(reply.code(), code, "{}", reply.body);
    assert_eq!(
        reply.xml("Message").unwrap_or_default(),
        message,
        "{}",
        reply.body
    );
    assert_s3_error_shape(reply);
}

/// Asserts the shape and headers of an S3 error: `<Error>` with ids, the XML type, S3's
/// server and request-id headers.
#[track_caller]
fn assert_s3_error_shape(reply: &Reply) {
    assert!(
        reply
            .body
            .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"),
        "{}",
        reply.body
    );
    assert!(reply.xml("RequestId").is_some() && reply.xml("HostId").is_some());
    assert_eq!(reply.headers["content-type"], "application/xml");
    assert_eq!(reply.headers["server"], "AmazonS3");
    assert!(reply.headers.contains_key("x-amz-request-id"));
    assert!(reply.headers.contains_key("x-amz-id-2"));
}

async fn put(aws: &MockAws, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let (request, _) = signed(
        "PUT",
        path,
        headers,
        body.to_vec(),
        None,
        &Keys::user(),
        start(),
    );
    call(aws, request).await
}

async fn get(aws: &MockAws, path: &str) -> Reply {
    let (request, _) = signed("GET", path, &[], Vec::new(), None, &Keys::user(), start());
    call(aws, request).await
}

async fn bucket(aws: &MockAws, name: &str) {
    let reply = put(aws, &format!("/{name}"), &[], b"").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// A streaming PUT: headers as the Rust SDK sends them for `ByteStream::from_path`.
async fn streaming_put(
    aws: &MockAws,
    path: &str,
    form: &str,
    data_len: usize,
    trailer: Option<&str>,
    body: impl FnOnce(Option<&str>) -> Vec<u8>,
) -> Reply {
    let len = data_len.to_string();
    let mut headers = vec![
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", len.as_str()),
    ];
    if let Some(t) = trailer {
        headers.push(("x-amz-trailer", t));
    }
    let (request, seed) = signed(
        "PUT",
        path,
        &headers,
        Vec::new(),
        Some(form),
        &Keys::user(),
        start(),
    );
    let signed_form = form.starts_with("STREAMING-AWS4");
    let body = body(signed_form.then_some(seed.as_str()));
    let (mut parts, _) = request.into_parts();
    parts.headers.insert("content-length", body.len().into());
    call(aws, Request::from_parts(parts, Body::from(body))).await
}

#[tokio::test]
async fn every_streaming_form_stores_the_decoded_bytes() {
    let aws = mock();
    bucket(&aws, "forms").await;
    let data = vec![b'z'; 70_000];
    let chunks: [&[u8]; 2] = [&data[..65536], &data[65536..]];
    let checksum = crc32(&data);
    let trailer = [("x-amz-checksum-crc32", checksum.as_str())];
    let k = Keys::user();
    let cases: [(&str, &str, Option<&str>); 3] = [
        (
            "/forms/signed-trailer",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
        ),
        ("/forms/signed", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", None),
        (
            "/forms/unsigned-trailer",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            Some("x-amz-checksum-crc32"),
        ),
    ];
    for (path, form, trailer_name) in cases {
        let trailers: &[(&str, &str)] = if trailer_name.is_some() {
            &trailer
        } else {
            &[]
        };
        let reply = streaming_put(&aws, path, form, data.len(), trailer_name, |seed| {
            chunked(&chunks, trailers, seed, &k, start())
        })
        .await;
        assert_eq!(reply.status, 200, "{form}: {}", reply.body);
        let got = get(&aws, path).await;
        assert_eq!(got.body.as_bytes(), &data[..], "{form}");
    }
    // UNSIGNED-PAYLOAD: the body as is.
    let (request, _) = signed(
        "PUT",
        "/forms/unsigned",
        &[],
        b"raw".to_vec(),
        Some("UNSIGNED-PAYLOAD"),
        &k,
        start(),
    );
    assert_eq!(call(&aws, request).await.status, 200);
    assert_eq!(get(&aws, "/forms/unsigned").await.body, "raw");
    let actions: Vec<_> = aws.events().0.iter().map(|e| e.action.clone()).collect();
    assert!(
        actions.iter().filter(|a| a.as_str() == "PutObject").count() >= 4,
        "{actions:?}"
    );
}

#[tokio::test]
async fn wrong_chunk_signature_is_signature_does_not_match_and_nothing_is_stored() {
    let aws = mock();
    bucket(&aws, "chunks").await;
    let k = Keys::user();
    let reply = streaming_put(
        &aws,
        "/chunks/obj",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        10,
        Some("x-amz-checksum-crc32"),
        |seed| {
            let good = chunked(
                &[b"0123456789"],
                &[("x-amz-checksum-crc32", &crc32(b"0123456789"))],
                seed,
                &k,
                start(),
            );
            // Flip one hex digit of the first chunk signature.
            let mut text = String::from_utf8(good).unwrap();
            let at = text.find("chunk-signature=").unwrap() + "chunk-signature=".len();
            let flipped = if &text[at..at + 1] == "0" { "1" } else { "0" };
            text.replace_range(at..at + 1, flipped);
            text.into_bytes()
        },
    )
    .await;
    assert_s3_error(
        &reply,
        403,
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    );
    let string_to_sign = reply.xml("StringToSign").unwrap();
    assert!(
        string_to_sign.starts_with(
            "AWS4-HMAC-SHA256-PAYLOAD\n20260101T000000Z\n20260101/us-east-1/s3/aws4_request\n"
        ),
        "{string_to_sign}"
    );
    assert_eq!(reply.xml("AWSAccessKeyId").as_deref(), Some(USER_AKID));
    assert_eq!(get(&aws, "/chunks/obj").await.code(), "NoSuchKey");

    // A wrong trailer signature is refused the same way.
    let reply = streaming_put(
        &aws,
        "/chunks/obj",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        10,
        Some("x-amz-checksum-crc32"),
        |seed| {
            let good = chunked(
                &[b"0123456789"],
                &[("x-amz-checksum-crc32", &crc32(b"0123456789"))],
                seed,
                &k,
                start(),
            );
            let text = String::from_utf8(good).unwrap();
            let at =
                text.find("x-amz-trailer-signature:").unwrap() + "x-amz-trailer-signature:".len();
            let mut text = text;
            let flipped = if &text[at..at + 1] == "0" { "1" } else { "0" };
            text.replace_range(at..at + 1, flipped);
            text.into_bytes()
        },
    )
    .await;
    assert_eq!(reply.code(), "SignatureDoesNotMatch", "{}", reply.body);
    assert!(
        reply
            .xml("StringToSign")
            .unwrap()
            .starts_with("AWS4-HMAC-SHA256-TRAILER\n")
    );
    assert_eq!(get(&aws, "/chunks/obj").await.code(), "NoSuchKey");
}

#[tokio::test]
async fn truncated_chunk_is_incomplete_body() {
    let aws = mock();
    bucket(&aws, "trunc").await;
    let k = Keys::user();
    let reply = streaming_put(
        &aws,
        "/trunc/obj",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        10,
        Some("x-amz-checksum-crc32"),
        |seed| {
            let mut body = chunked(
                &[b"0123456789"],
                &[("x-amz-checksum-crc32", &crc32(b"0123456789"))],
                seed,
                &k,
                start(),
            );
            // Cut inside the chunk data.
            let cut = body.windows(4).position(|w| w == b"0123").unwrap() + 4;
            body.truncate(cut);
            body
        },
    )
    .await;
    assert_s3_error(
        &reply,
        400,
        "IncompleteBody",
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    );
    assert_eq!(get(&aws, "/trunc/obj").await.code(), "NoSuchKey");

    // A decoded length that disagrees with the chunks is incomplete too.
    let reply = streaming_put(
        &aws,
        "/trunc/obj",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        11,
        Some("x-amz-checksum-crc32"),
        |_| {
            chunked(
                &[b"0123456789"],
                &[("x-amz-checksum-crc32", &crc32(b"0123456789"))],
                None,
                &k,
                start(),
            )
        },
    )
    .await;
    assert_eq!(reply.code(), "IncompleteBody", "{}", reply.body);
}

#[tokio::test]
async fn checksum_mismatch_in_header_and_in_trailer_is_bad_digest() {
    let aws = mock();
    bucket(&aws, "sums").await;
    let wrong = crc32(b"something else");
    let reply = put(
        &aws,
        "/sums/header",
        &[
            ("x-amz-checksum-crc32", wrong.as_str()),
            ("x-amz-sdk-checksum-algorithm", "CRC32"),
        ],
        b"payload",
    )
    .await;
    assert_s3_error(
        &reply,
        400,
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
    );
    assert_eq!(get(&aws, "/sums/header").await.code(), "NoSuchKey");

    let k = Keys::user();
    let reply = streaming_put(
        &aws,
        "/sums/trailer",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        7,
        Some("x-amz-checksum-crc32"),
        |seed| {
            chunked(
                &[b"payload"],
                &[("x-amz-checksum-crc32", &wrong)],
                seed,
                &k,
                start(),
            )
        },
    )
    .await;
    assert_s3_error(
        &reply,
        400,
        "BadDigest",
        "The CRC32 you specified did not match the calculated checksum.",
    );
    assert_eq!(get(&aws, "/sums/trailer").await.code(), "NoSuchKey");

    // A malformed value, and a SHA256 that does not match.
    let reply = put(
        &aws,
        "/sums/x",
        &[("x-amz-checksum-crc32", "nope")],
        b"payload",
    )
    .await;
    assert_s3_error(
        &reply,
        400,
        "InvalidRequest",
        "Value for x-amz-checksum-crc32 header is invalid.",
    );
    let sha = base64::engine::general_purpose::STANDARD.encode([0u8; 32]);
    let reply = put(
        &aws,
        "/sums/x",
        &[("x-amz-checksum-sha256", sha.as_str())],
        b"payload",
    )
    .await;
    assert_s3_error(
        &reply,
        400,
        "BadDigest",
        "The SHA256 you specified did not match the calculated checksum.",
    );
    let reply = put(
        &aws,
        "/sums/x",
        &[("content-md5", "AAAAAAAAAAAAAAAAAAAAAA==")],
        b"payload",
    )
    .await;
    assert_s3_error(
        &reply,
        400,
        "BadDigest",
        "The Content-MD5 you specified did not match what we received.",
    );
    // The trailer was announced but never came.
    let reply = streaming_put(
        &aws,
        "/sums/x",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        7,
        Some("x-amz-checksum-crc32"),
        |_| chunked(&[b"payload"], &[], None, &k, start()),
    )
    .await;
    assert_eq!(reply.code(), "MalformedTrailerError", "{}", reply.body);
}

#[tokio::test]
async fn content_sha256_mismatch_is_x_amz_content_sha256_mismatch() {
    let aws = mock();
    bucket(&aws, "sha").await;
    let declared = "a".repeat(64);
    let (request, _) = signed(
        "PUT",
        "/sha/obj",
        &[],
        b"body".to_vec(),
        Some(&declared),
        &Keys::user(),
        start(),
    );
    let reply = call(&aws, request).await;
    assert_s3_error(
        &reply,
        400,
        "XAmzContentSHA256Mismatch",
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
    assert_eq!(reply.xml("ClientComputedContentSHA256"), Some(declared));
    assert_eq!(
        reply.xml("S3ComputedContentSHA256").as_deref(),
        Some("230d8358dc8e8890b4c58deeb62912ee2f20357ae92a5cc861b98e68fe31acb5")
    );
    assert_eq!(get(&aws, "/sha/obj").await.code(), "NoSuchKey");
    let (request, _) = signed(
        "PUT",
        "/sha/obj",
        &[],
        b"body".to_vec(),
        Some("sha256-please"),
        &Keys::user(),
        start(),
    );
    let reply = call(&aws, request).await;
    assert_eq!(reply.code(), "InvalidArgument", "{}", reply.body);
    assert_eq!(
        reply.xml("ArgumentName").as_deref(),
        Some("x-amz-content-sha256")
    );
}

async fn create_upload(aws: &MockAws, path: &str) -> String {
    let (request, _) = signed(
        "POST",
        &format!("{path}?uploads"),
        &[],
        Vec::new(),
        None,
        &Keys::user(),
        start(),
    );
    let reply = call(aws, request).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.xml("UploadId").unwrap()
}

async fn upload_part(aws: &MockAws, path: &str, id: &str, number: u32, data: &[u8]) -> String {
    let reply = put(
        aws,
        &format!("{path}?partNumber={number}&uploadId={id}"),
        &[],
        data,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.headers["etag"].to_str().unwrap().to_string()
}

async fn complete(aws: &MockAws, path: &str, id: &str, xml: &str) -> Reply {
    let (request, _) = signed(
        "POST",
        &format!("{path}?uploadId={id}"),
        &[],
        xml.as_bytes().to_vec(),
        None,
        &Keys::user(),
        start(),
    );
    call(aws, request).await
}

/// A `CompleteMultipartUpload` whose part list S3 refuses: `parts` are (part number, index
/// of the uploaded part whose ETag it carries: 0 for part 1, 1 for part 2).
struct PartListCase {
    name: &'static str,
    known_upload: bool,
    parts: &'static [(u32, usize)],
    status: u16,
    code: &'static str,
    message: &'static str,
}

const PART_LIST_CASES: &[PartListCase] = &[
    PartListCase {
        name: "descending",
        known_upload: true,
        parts: &[(2, 1), (1, 0)],
        status: 400,
        code: "InvalidPartOrder",
        message: "The list of parts was not in ascending order. Parts must be ordered by part number.",
    },
    PartListCase {
        name: "part_never_uploaded",
        known_upload: true,
        parts: &[(1, 0), (3, 1)],
        status: 400,
        code: "InvalidPart",
        message: "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
    },
    PartListCase {
        name: "unknown_upload",
        known_upload: false,
        parts: &[(1, 0)],
        status: 404,
        code: "NoSuchUpload",
        message: "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
    },
];

#[tokio::test]
async fn complete_multipart_rejects_malformed_xml_unknown_parts_and_wrong_order() {
    let aws = mock();
    bucket(&aws, "mpu").await;
    let id = create_upload(&aws, "/mpu/obj").await;
    let big = vec![b'p'; 5 * 1024 * 1024];
    let e1 = upload_part(&aws, "/mpu/obj", &id, 1, &big).await;
    let e2 = upload_part(&aws, "/mpu/obj", &id, 2, b"last").await;

    for xml in [
        "<CompleteMultipartUpload><Part>",
        "not xml at all",
        "<Wrong/>",
        "<CompleteMultipartUpload></CompleteMultipartUpload>",
    ] {
        let reply = complete(&aws, "/mpu/obj", &id, xml).await;
        assert_s3_error(
            &reply,
            400,
            "MalformedXML",
            "The XML you provided was not well-formed or did not validate against our published schema",
        );
    }
    let etags = [e1.as_str(), e2.as_str()];
    let listing = |parts: &[(u32, usize)]| {
        let parts: String = parts
            .iter()
            .map(|(n, e)| {
                format!(
                    "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag></Part>",
                    etags[*e]
                )
            })
            .collect();
        format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>")
    };
    for case in PART_LIST_CASES {
        let upload = if case.known_upload {
            id.as_str()
        } else {
            "no-such-upload"
        };
        let reply = complete(&aws, "/mpu/obj", upload, &listing(case.parts)).await;
        assert_eq!(
            reply.status.as_u16(),
            case.status,
            "{}: {}",
            case.name,
            reply.body
        );
        assert_s3_error(&reply, case.status, case.code, case.message);
    }
    assert_eq!(get(&aws, "/mpu/obj").await.code(), "NoSuchKey");
    let reply = put(
        &aws,
        &format!("/mpu/obj?partNumber=10001&uploadId={id}"),
        &[],
        b"x",
    )
    .await;
    assert_eq!(reply.code(), "InvalidArgument", "{}", reply.body);

    // After all that, the upload still completes.
    let reply = complete(&aws, "/mpu/obj", &id, &listing(&[(1, 0), (2, 1)])).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.xml("ETag").unwrap().ends_with("-2\""));
    assert_eq!(get(&aws, "/mpu/obj").await.body.len(), big.len() + 4);
}

#[tokio::test]
async fn hostile_keys_are_stored_and_read_back_inside_the_data_dir() {
    let dir = TempDir::new("hostile-keys");
    let data_dir = dir.path().join("data");
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .data_dir(&data_dir)
        .build();
    bucket(&aws, "keys").await;
    for (path, key) in [
        ("/keys/..%2F..%2F..%2Fescaped", "../../../escaped"),
        ("/keys/a%00b%2F..%2F..", "a\0b/../.."),
        ("/keys/../../etc/passwd", "../../etc/passwd"),
    ] {
        let reply = put(&aws, path, &[("x-amz-meta-key", "hostile")], key.as_bytes()).await;
        assert_eq!(reply.status, 200, "{key:?}: {}", reply.body);
        let got = get(&aws, path).await;
        assert_eq!(got.status, 200, "{key:?}: {}", got.body);
        assert_eq!(got.body, key);
    }
    let listed = get(&aws, "/keys?list-type=2&encoding-type=url").await;
    assert_eq!(
        listed.xml("KeyCount").as_deref(),
        Some("3"),
        "{}",
        listed.body
    );
    assert!(
        listed.body.contains("<Key>a%00b/../..</Key>"),
        "{}",
        listed.body
    );
    // Nothing outside the data dir.
    let mut outside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    outside.sort();
    assert_eq!(outside, ["data"]);
    let root = std::fs::canonicalize(&data_dir).unwrap();
    let mut stack = vec![data_dir.clone()];
    let mut files = 0;
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            assert!(std::fs::canonicalize(&path).unwrap().starts_with(&root));
            if path.is_dir() {
                stack.push(path);
            } else {
                files += 1;
            }
        }
    }
    assert_eq!(files, 4, "bucket.json and three objects");
}

#[tokio::test]
async fn over_the_size_cap_is_entity_too_large_and_nothing_is_stored() {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .max_object_size(1024)
        .build();
    bucket(&aws, "cap").await;
    let reply = put(&aws, "/cap/big", &[], &[b'b'; 2000]).await;
    assert_s3_error(
        &reply,
        400,
        "EntityTooLarge",
        "Your proposed upload exceeds the maximum allowed size",
    );
    assert_eq!(reply.xml("ProposedSize").as_deref(), Some("2000"));
    assert_eq!(reply.xml("MaxSizeAllowed").as_deref(), Some("1024"));
    assert_eq!(get(&aws, "/cap/big").await.code(), "NoSuchKey");
    // aws-chunked: the declared decoded length is judged before a byte is read.
    let k = Keys::user();
    let data = vec![b'c'; 2000];
    let reply = streaming_put(
        &aws,
        "/cap/chunked",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        2000,
        Some("x-amz-checksum-crc32"),
        |_| {
            chunked(
                &[&data],
                &[("x-amz-checksum-crc32", &crc32(&data))],
                None,
                &k,
                start(),
            )
        },
    )
    .await;
    assert_eq!(reply.code(), "EntityTooLarge", "{}", reply.body);
    assert_eq!(get(&aws, "/cap/chunked").await.code(), "NoSuchKey");
    // Exactly at the cap is fine.
    assert_eq!(put(&aws, "/cap/ok", &[], &[b'o'; 1024]).await.status, 200);
    let events = aws.events();
    assert!(events.0.iter().any(
        |e| e.action.as_str() == "PutObject" && e.error_code == Some(ErrorCode::EntityTooLarge)
    ));
}

/// A bad-credential request to `GET /creds/k` and what S3 answers it; the whole body is an
/// insta snapshot named `credential_error_NAME` (request and host ids redacted).
struct CredentialCase {
    name: &'static str,
    request: fn() -> Request<Body>,
    status: u16,
    code: &'static str,
}

/// `GET /creds/k` signed with `keys` at `time`.
fn get_creds(keys: &Keys, time: SystemTime) -> Request<Body> {
    signed("GET", "/creds/k", &[], Vec::new(), None, keys, time).0
}

/// `request` with `from` replaced by `to` in its `Authorization` header.
fn with_authorization(mut request: Request<Body>, from: &str, to: &str) -> Request<Body> {
    let auth = request.headers()["authorization"]
        .to_str()
        .unwrap()
        .replace(from, to);
    request
        .headers_mut()
        .insert("authorization", auth.parse().unwrap());
    request
}

/// A GET of `url` (a presigned URL) as a server receives it.
fn fetch(url: &str) -> Request<Body> {
    Request::builder()
        .uri(url)
        .header("host", HOST)
        .body(Body::empty())
        .unwrap()
}

fn presigned_creds() -> String {
    presigned_s3("/creds/k", &Keys::user(), start(), Duration::from_secs(60))
}

const CREDENTIAL_CASES: &[CredentialCase] = &[
    CredentialCase {
        name: "anonymous",
        request: || unsigned("GET", "/creds/k", ""),
        status: 403,
        code: "AccessDenied",
    },
    CredentialCase {
        name: "unknown_key",
        request: || {
            let stranger = Keys {
                akid: "AKIAUNKNOWNUNKNOWN00".into(),
                secret: "x".into(),
                token: None,
            };
            get_creds(&stranger, start())
        },
        status: 403,
        code: "InvalidAccessKeyId",
    },
    CredentialCase {
        name: "forged_token",
        request: || {
            let forged = Keys {
                akid: "ASIAAAAAAAAAAAAAAAAA".into(),
                secret: "x".into(),
                token: Some("forged".into()),
            };
            get_creds(&forged, start())
        },
        status: 400,
        code: "InvalidToken",
    },
    CredentialCase {
        name: "wrong_secret",
        request: || {
            let wrong = Keys {
                secret: "wrong".into(),
                ..Keys::user()
            };
            get_creds(&wrong, start())
        },
        status: 403,
        code: "SignatureDoesNotMatch",
    },
    CredentialCase {
        name: "skewed_16_minutes",
        request: || get_creds(&Keys::user(), start() + Duration::from_secs(16 * 60)),
        status: 403,
        code: "RequestTimeTooSkewed",
    },
    CredentialCase {
        name: "sigv2",
        request: || {
            let mut request = unsigned("GET", "/creds/k", "");
            request.headers_mut().insert(
                "authorization",
                "AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJl".parse().unwrap(),
            );
            request
        },
        status: 400,
        code: "InvalidRequest",
    },
    CredentialCase {
        name: "header_and_query_auth",
        request: || {
            signed(
                "GET",
                "/creds/k?X-Amz-Algorithm=AWS4-HMAC-SHA256",
                &[],
                Vec::new(),
                None,
                &Keys::user(),
                start(),
            )
            .0
        },
        status: 400,
        code: "InvalidArgument",
    },
    CredentialCase {
        name: "scope_date_not_the_request_day",
        request: || {
            with_authorization(
                get_creds(&Keys::user(), start()),
                "/20260101/",
                "/20251231/",
            )
        },
        status: 400,
        code: "AuthorizationHeaderMalformed",
    },
    CredentialCase {
        name: "scope_terminator_in_header",
        request: || {
            with_authorization(
                get_creds(&Keys::user(), start()),
                "/aws4_request,",
                "/aws4_requesT,",
            )
        },
        status: 400,
        code: "AuthorizationHeaderMalformed",
    },
    CredentialCase {
        name: "scope_terminator_in_query",
        request: || fetch(&presigned_creds().replace("%2Faws4_request", "%2Faws4_requesT")),
        status: 400,
        code: "AuthorizationQueryParametersError",
    },
    CredentialCase {
        // The untampered URL gets through authentication to the missing key.
        name: "presigned_for_a_minute",
        request: || fetch(&presigned_creds()),
        status: 404,
        code: "NoSuchKey",
    },
    CredentialCase {
        name: "presigned_for_more_than_a_week",
        request: || fetch(&presigned_creds().replace("X-Amz-Expires=60", "X-Amz-Expires=604801")),
        status: 400,
        code: "AuthorizationQueryParametersError",
    },
];

#[tokio::test]
async fn credential_errors_are_s3s() {
    let aws = mock();
    bucket(&aws, "creds").await;
    for case in CREDENTIAL_CASES {
        let reply = call(&aws, (case.request)()).await;
        let name = case.name;
        assert_eq!(reply.status.as_u16(), case.status, "{name}: {}", reply.body);
        assert_eq!(reply.code(), case.code, "{name}: {}", reply.body);
        assert_s3_error_shape(&reply);
        insta::assert_snapshot!(
            format!("credential_error_{name}"),
            sts_lab_test_support::redact::aws_xml(&reply.body)
        );
    }
}

/// A request about a resource that is missing, in a state that refuses it, or not
/// supported, and S3's answer; the body is an insta snapshot named `resource_error_NAME`
/// (it names what is missing: `BucketName`, `Key`, `ActualObjectSize`, `Condition`).
struct ResourceCase {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static [u8],
    status: u16,
    code: &'static str,
}

/// Against bucket `res` holding `k` (10 bytes).
const RESOURCE_CASES: &[ResourceCase] = &[
    ResourceCase {
        name: "no_such_bucket",
        method: "GET",
        path: "/nobucket/k",
        headers: &[],
        body: b"",
        status: 404,
        code: "NoSuchBucket",
    },
    ResourceCase {
        name: "no_such_key",
        method: "GET",
        path: "/res/none",
        headers: &[],
        body: b"",
        status: 404,
        code: "NoSuchKey",
    },
    ResourceCase {
        name: "range_past_the_end",
        method: "GET",
        path: "/res/k",
        headers: &[("range", "bytes=10-")],
        body: b"",
        status: 416,
        code: "InvalidRange",
    },
    ResourceCase {
        name: "bucket_not_empty",
        method: "DELETE",
        path: "/res",
        headers: &[],
        body: b"",
        status: 409,
        code: "BucketNotEmpty",
    },
    ResourceCase {
        name: "invalid_bucket_name",
        method: "PUT",
        path: "/Bad_Name",
        headers: &[],
        body: b"",
        status: 400,
        code: "InvalidBucketName",
    },
    ResourceCase {
        name: "tagging_not_implemented",
        method: "GET",
        path: "/res/k?tagging",
        headers: &[],
        body: b"",
        status: 501,
        code: "NotImplemented",
    },
    ResourceCase {
        // DeleteObjects without Content-MD5 or a checksum.
        name: "delete_objects_without_checksum",
        method: "POST",
        path: "/res?delete",
        headers: &[],
        body: b"<Delete><Object><Key>k</Key></Object></Delete>",
        status: 400,
        code: "InvalidRequest",
    },
    ResourceCase {
        name: "if_match_fails",
        method: "GET",
        path: "/res/k",
        headers: &[("if-match", "\"nope\"")],
        body: b"",
        status: 412,
        code: "PreconditionFailed",
    },
];

#[tokio::test]
async fn resource_errors_name_what_is_missing() {
    let aws = mock();
    bucket(&aws, "res").await;
    assert_eq!(put(&aws, "/res/k", &[], b"0123456789").await.status, 200);
    for case in RESOURCE_CASES {
        let (request, _) = signed(
            case.method,
            case.path,
            case.headers,
            case.body.to_vec(),
            None,
            &Keys::user(),
            start(),
        );
        let reply = call(&aws, request).await;
        let name = case.name;
        assert_eq!(reply.status.as_u16(), case.status, "{name}: {}", reply.body);
        assert_eq!(reply.code(), case.code, "{name}: {}", reply.body);
        assert_s3_error_shape(&reply);
        insta::assert_snapshot!(
            format!("resource_error_{name}"),
            sts_lab_test_support::redact::aws_xml(&reply.body)
        );
    }
}

#[tokio::test]
async fn garbage_never_panics() {
    let aws = mock();
    bucket(&aws, "junk").await;
    /// Method, path, headers, body, payload hash.
    type Case<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, &'a str)>,
        &'a [u8],
        Option<&'a str>,
    );
    let cases: Vec<Case> = vec![
        (
            "PUT",
            "/junk/k",
            vec![("content-encoding", "aws-chunked")],
            b"zz\r\n",
            Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ),
        (
            "PUT",
            "/junk/k",
            vec![("x-amz-trailer", "x-amz-checksum-bogus")],
            b"",
            Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ),
        (
            "PUT",
            "/junk/k",
            vec![("x-amz-decoded-content-length", "-5")],
            b"0\r\n\r\n",
            Some("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ),
        (
            "PUT",
            "/junk/k",
            vec![
                ("x-amz-checksum-crc32", "AAAAAA=="),
                ("x-amz-checksum-sha1", "AAAA"),
            ],
            b"x",
            None,
        ),
        ("GET", "/junk?list-type=2&max-keys=-1", vec![], b"", None),
        (
            "GET",
            "/junk?list-type=2&encoding-type=base64",
            vec![],
            b"",
            None,
        ),
        ("GET", "/junk/k", vec![("range", "bytes=--1")], b"", None),
        (
            "PUT",
            "/junk/copy",
            vec![("x-amz-copy-source", "nobucketsep")],
            b"",
            None,
        ),
        (
            "PUT",
            "/junk/copy",
            vec![("x-amz-copy-source", "/junk/%FF")],
            b"",
            None,
        ),
        (
            "POST",
            "/junk/k?uploads",
            vec![("x-amz-checksum-algorithm", "MD4")],
            b"",
            None,
        ),
        (
            "POST",
            "/junk/k?uploads",
            vec![
                ("x-amz-checksum-algorithm", "SHA1"),
                ("x-amz-checksum-type", "FULL_OBJECT"),
            ],
            b"",
            None,
        ),
        (
            "POST",
            "/junk?delete",
            vec![("content-md5", "!!")],
            b"<Delete/>",
            None,
        ),
        (
            "PUT",
            "/junk",
            vec![],
            b"<CreateBucketConfiguration><LocationConstraint>",
            None,
        ),
        ("GET", "/junk/%C3%28", vec![], b"", None),
    ];
    for (method, path, headers, body, hash) in cases {
        let (request, _) = signed(
            method,
            path,
            &headers,
            body.to_vec(),
            hash,
            &Keys::user(),
            start(),
        );
        let reply = call(&aws, request).await;
        assert!(
            (400..500).contains(&reply.status.as_u16()) || reply.status == 200,
            "{method} {path}: {} {}",
            reply.status,
            reply.body
        );
        assert_ne!(
            reply.code(),
            "InternalError",
            "{method} {path}: {}",
            reply.body
        );
    }
}
