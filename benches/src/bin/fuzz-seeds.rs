//! Writes the fuzz targets' seed corpora (`fuzz/seeds/`): real requests, signed by aws-sigv4
//! the way the SDKs sign them, at the fuzz targets' fixed time, as raw HTTP/1.1 text
//! (`fuzz/src/lib.rs` reads it back). Run from the workspace root after changing a seed:
//!
//! ```text
//! cargo run -p benches --bin fuzz-seeds
//! ```

use std::path::Path;

use benches::signing::{self, Keys, Signed};
use bytes::Bytes;
use http::request::Parts;
use mock_sts::internals::STREAMING_PAYLOAD_TRAILER;
use sts_lab_test_support::signing::{FORM_CONTENT_TYPE, SignableBody, Signer};
use sts_lab_test_support::world::start;

// The OIDC tests' token kit: fixed test keys (they protect nothing), their JWKS, signed JWTs.
#[allow(dead_code, unreachable_pub, clippy::unwrap_used)]
#[path = "../../../mock-sts/tests/it/oidc/tokens.rs"]
mod tokens;

const HOST: &str = "127.0.0.1:4566";

/// `METHOD TARGET`, the headers, an empty line, the body.
fn raw(parts: &Parts, body: &[u8]) -> Vec<u8> {
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = format!("{} {target}\r\n", parts.method).into_bytes();
    if !parts.headers.contains_key(http::header::HOST) {
        out.extend_from_slice(format!("host: {HOST}\r\n").as_bytes());
    }
    for (name, value) in &parts.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn signed_raw(request: &Signed) -> Vec<u8> {
    raw(&request.parts(), &request.body)
}

/// An S3 request with a body, signed over its SHA-256.
fn s3_with_body(method: &str, target: &str, body: &[u8], keys: &Keys) -> Vec<u8> {
    let uri = format!("http://{HOST}{target}");
    let length = body.len().to_string();
    let headers = [("host", HOST), ("content-length", length.as_str())];
    let signed = Signer::s3(keys, start()).sign(method, &uri, &headers, SignableBody::Bytes(body));
    raw(&signed.received(), body)
}

/// A PutObject with an aws-chunked body: signed chunks and a signed CRC32 trailer.
fn chunked_with_trailer(keys: &Keys) -> Vec<u8> {
    let data = b"hello, fuzzer: two chunks of aws-chunked data";
    let chunks: Vec<&[u8]> = data.chunks(24).collect();
    let uri = format!("http://{HOST}/fuzz/trailer");
    let decoded = data.len().to_string();
    let signer = Signer::s3(keys, start());
    let head = signer.sign(
        "PUT",
        &uri,
        &[
            ("host", HOST),
            ("content-encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", decoded.as_str()),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        ],
        SignableBody::Precomputed(STREAMING_PAYLOAD_TRAILER.to_owned()),
    );
    let body = sts_lab_test_support::chunked::body(
        &chunks,
        &[("x-amz-checksum-crc32", "AAAAAA==")],
        Some(&head.signature),
        &signer,
    )
    .body;
    let mut parts = head.received();
    parts
        .headers
        .insert(http::header::CONTENT_LENGTH, body.len().into());
    raw(&parts, &body)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)
}

fn main() -> std::io::Result<()> {
    let root = Path::new("fuzz/seeds");
    let user = Keys::user();
    let now = start();
    let hour = std::time::Duration::from_secs(3600);
    let object = Bytes::from_static(b"a small object");

    let streaming = signing::chunked_put_object(
        HOST,
        "fuzz",
        "chunked",
        b"chunk data, signed",
        8,
        &user,
        now,
    );
    let complete = b"<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>\"6f5902ac237024bdd0c176cb93063dc4\"</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>";
    let delete = b"<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>false</Quiet><Object><Key>a</Key></Object><Object><Key>b/c</Key><VersionId>null</VersionId></Object></Delete>";
    // A GitHub Actions-shaped token signed by the test RSA key. The router's default world has
    // no OIDC provider, so there it is parsed and refused; the jwt target verifies it for real.
    let jwt = tokens::rs256(&tokens::claims());
    let web_identity = format!(
        "POST /\r\nhost: {HOST}\r\ncontent-type: {FORM_CONTENT_TYPE}\r\n\r\nAction=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcross-account-s3&RoleSessionName=ci&WebIdentityToken={jwt}"
    );

    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("sts-get-caller-identity.http", signed_raw(&signing::get_caller_identity(HOST, &user, now))),
        ("sts-assume-role.http", signed_raw(&signing::assume_role(HOST, signing::ROLE_ARN, &user, now))),
        ("sts-presigned-get-caller-identity.http", signed_raw(&signing::presigned_get_caller_identity(HOST, &user, now, hour))),
        ("sts-assume-role-with-web-identity.http", web_identity.into_bytes()),
        ("s3-create-bucket.http", signed_raw(&signing::create_bucket(HOST, "fuzz", &user, now))),
        ("s3-put-object.http", signed_raw(&signing::put_object(HOST, "fuzz", "a", object, &user, now))),
        ("s3-get-object.http", signed_raw(&signing::get_object(HOST, "fuzz", "a", &user, now))),
        ("s3-presigned-get-object.http", signed_raw(&signing::presigned_get_object(HOST, "fuzz", "a", &user, now, hour))),
        ("s3-put-object-chunked.http", signed_raw(&streaming)),
        ("s3-put-object-chunked-trailer.http", chunked_with_trailer(&user)),
        ("s3-complete-multipart-upload.http", s3_with_body("POST", "/fuzz/big?uploadId=fuzz-upload", complete, &user)),
        ("s3-delete-objects.http", s3_with_body("POST", "/fuzz?delete", delete, &user)),
        ("imds-token.http", b"PUT /latest/api/token\r\nhost: 169.254.169.254\r\nx-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n".to_vec()),
    ];
    for (name, bytes) in &requests {
        write(&root.join("router"), name, bytes)?;
        if !name.starts_with("imds") && !name.contains("web-identity") {
            write(&root.join("sigv4"), name, bytes)?;
        }
    }
    // The chunked target's verifier starts from this request's signature.
    write(root, "signed-streaming-put.http", &signed_raw(&streaming))?;
    // Chunked bodies: the form byte (bit 0 trailer, bit 1 signed), then the body.
    let body_of = |request: &[u8]| -> Vec<u8> {
        let at = request
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |i| i + 4);
        request[at..].to_vec()
    };
    let mut signed_body = vec![2u8];
    signed_body.extend(body_of(&signed_raw(&streaming)));
    write(&root.join("chunked"), "signed.bin", &signed_body)?;
    let mut trailer_body = vec![3u8];
    trailer_body.extend(body_of(&chunked_with_trailer(&user)));
    write(&root.join("chunked"), "signed-trailer.bin", &trailer_body)?;
    write(
        &root.join("chunked"),
        "unsigned-trailer.bin",
        b"\x01d\r\nhello, fuzzer data!\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
    )?;

    // STS forms: the real ones above (bodies of the signed POSTs), plus escapes.
    for (name, bytes) in &requests {
        if name.starts_with("sts-") && !name.contains("presigned") {
            write(
                &root.join("form"),
                &name.replace(".http", ".form"),
                &body_of(bytes),
            )?;
        }
    }
    write(
        &root.join("form"),
        "escapes.form",
        b"Action=AssumeRole&RoleSessionName=a+b%2Fc%C3%A9&Tags.member.1.Key=k&Tags.member.1.Value=%7E",
    )?;
    // S3 documents: the selector byte (0 CompleteMultipartUpload, 1 DeleteObjects), the body.
    write(
        &root.join("s3_xml"),
        "complete.bin",
        &[&[0u8][..], complete].concat(),
    )?;
    write(
        &root.join("s3_xml"),
        "delete.bin",
        &[&[1u8][..], delete].concat(),
    )?;
    // Tokens: the token, a newline, the provider's JWKS (RSA "a" and P-256 "e").
    let jwks = tokens::jwks(&[(tokens::Key::RsaA, "a"), (tokens::Key::Ec, "e")]);
    for (name, token) in [
        ("rs256.txt", jwt.clone()),
        ("es256.txt", tokens::es256(&tokens::claims())),
    ] {
        write(
            &root.join("jwt"),
            name,
            format!("{token}\n{jwks}").as_bytes(),
        )?;
    }

    write(
        &root.join("world_toml"),
        "default-world.toml",
        mock_sts::world::DEFAULT_WORLD_TOML.as_bytes(),
    )?;
    write(
        &root.join("world_toml"),
        "oidc-inline-jwks.toml",
        include_bytes!("../../../fuzz/seeds/world-oidc.toml"),
    )?;
    for entry in std::fs::read_dir("scenarios")? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml")
            && let Some(name) = path.file_name()
        {
            std::fs::create_dir_all(root.join("scenario_toml"))?;
            std::fs::copy(&path, root.join("scenario_toml").join(name))?;
        }
    }
    for entry in std::fs::read_dir("scenarios/worlds")? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, root.join("world_toml").join(name))?;
        }
    }
    println!("seeds written under {}", root.display());
    Ok(())
}
