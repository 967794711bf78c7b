//! Strings to sign and the signing key: the request's string to sign, the aws-chunked chunk and
//! trailer strings, `kSigning`, and the hex HMAC and SHA-256 every signature is made of.
//!
//! Pure functions of their inputs, so S3's chunked decoder and the verifier compute exactly the
//! same strings (S3 streaming docs `sigv4-streaming.html`, `sigv4-streaming-trailers.html`).

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use super::{
    ALGORITHM, CHUNK_ALGORITHM, EMPTY_SHA256, ParsedSignature, TERMINATOR, TRAILER_ALGORITHM,
};

type HmacSha256 = Hmac<Sha256>;

/// `AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/<service>/aws4_request\n<sha256 hex of the
/// canonical request>`.
pub(crate) fn string_to_sign(sig: &ParsedSignature, canonical_request: &str) -> String {
    let hash = hex_sha256(canonical_request.as_bytes());
    let mut out = String::with_capacity(ALGORITHM.len() + sig.amz_date.len() + 64 + hash.len());
    out.push_str(ALGORITHM);
    out.push('\n');
    out.push_str(&sig.amz_date);
    out.push('\n');
    sig.push_scope_line(&mut out);
    out.push('\n');
    out.push_str(&hash);
    out
}

/// The string to sign of one aws-chunked chunk (S3 streaming SigV4, `sigv4-streaming.html`):
/// `AWS4-HMAC-SHA256-PAYLOAD\n<amz_date>\n<scope>\n<previous signature>\n<sha256 of "">\n<sha256
/// of the chunk data>`. The first chunk's previous signature is the request's (seed) signature.
pub(crate) fn chunk_string_to_sign(
    sig: &ParsedSignature,
    previous_signature: &str,
    chunk_data_hash: &str,
) -> String {
    format!(
        "{CHUNK_ALGORITHM}\n{}\n{}\n{previous_signature}\n{EMPTY_SHA256}\n{chunk_data_hash}",
        sig.amz_date,
        sig.scope_line()
    )
}

/// The string to sign of an aws-chunked trailer (`sigv4-streaming-trailers.html`):
/// `AWS4-HMAC-SHA256-TRAILER\n<amz_date>\n<scope>\n<previous signature>\n<sha256 of the
/// canonical trailers>` (no empty-string hash line; see [`canonical_trailers`](super::canonical_trailers)). The previous
/// signature is the final, zero-length chunk's.
pub(crate) fn trailer_string_to_sign(
    sig: &ParsedSignature,
    previous_signature: &str,
    trailer_hash: &str,
) -> String {
    format!(
        "{TRAILER_ALGORITHM}\n{}\n{}\n{previous_signature}\n{trailer_hash}",
        sig.amz_date,
        sig.scope_line()
    )
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`,
/// derived once per scope and thread (`key_cache`).
pub(crate) fn signing_key(
    secret_access_key: &str,
    date: &str,
    region: &str,
    service: &str,
) -> [u8; 32] {
    super::key_cache::get_or_derive(secret_access_key, date, region, service, || {
        derive_signing_key(secret_access_key, date, region, service)
    })
}

/// [`signing_key`] without the cache.
fn derive_signing_key(
    secret_access_key: &str,
    date: &str,
    region: &str,
    service: &str,
) -> [u8; 32] {
    let k_secret = format!("AWS4{secret_access_key}");
    let k_date = hmac(k_secret.as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

/// Lower-case hex HMAC-SHA256 of `msg` under a signing key: a signature.
pub(crate) fn hmac_hex(key: &[u8; 32], msg: &str) -> String {
    lower_hex(&hmac(key, msg.as_bytes()))
}

/// Lower-case hex SHA-256: payload hashes, the canonical request's hash.
pub(crate) fn hex_sha256(data: &[u8]) -> String {
    lower_hex(&Sha256::digest(data))
}

/// Lower-case hex of `bytes`, as `hex::encode` gives it, from a table: every request's
/// signature and hashes go through here, and `hex::encode` collects an iterator of `char`s.
pub(crate) fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    match HmacSha256::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(msg);
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length (RFC 2104 §2: longer keys are hashed first), so this
        // arm is unreachable; an all-zero tag would only make verification fail.
        Err(_) => [0; 32],
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;

    #[test]
    fn string_to_sign_matches_published_vector() {
        let vectors = vectors();
        let v = &vectors[0];
        let parts = parts_from_raw(&v.request);
        let sig = parse(&parts).unwrap().unwrap();
        assert_eq!(
            string_to_sign(&sig, &v.canonical_request),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        assert_eq!(sig.request_time, suite_time());
        assert_eq!(sig.access_key_id, "AKIDEXAMPLE");
        assert_eq!(sig.signed_headers, ["host", "x-amz-date"]);
    }

    #[test]
    fn signing_key_matches_aws_sigv4_example() {
        // aws-sigv4 `sign::v4` test_signature_calculation (AWS's IAM example).
        let key = signing_key(SUITE_SECRET, "20150830", "us-east-1", "iam");
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
                   f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        assert_eq!(
            hmac_hex(&key, sts),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
        assert_eq!(hex_sha256(b""), EMPTY_SHA256);
    }

    #[test]
    fn lower_hex_is_hex_encode() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(lower_hex(&all), hex::encode(&all));
        assert_eq!(lower_hex(&[]), "");
    }

    #[test]
    fn s3_streaming_example_seed_chunks_and_trailer_verify() {
        // AWS's published streaming upload (S3 API docs `sigv4-streaming.html`; the same values
        // are asserted by awslabs/aws-crt-swift's ChunkSignerTests, including the trailer).
        let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let parts = parts_from_raw(
            "PUT /examplebucket/chunkObject.txt HTTP/1.1\nHost:s3.amazonaws.com\n\
             x-amz-storage-class:REDUCED_REDUNDANCY\nContent-Encoding:aws-chunked\n\
             x-amz-decoded-content-length:66560\nContent-Length:66824\n\
             x-amz-content-sha256:STREAMING-AWS4-HMAC-SHA256-PAYLOAD\n\
             x-amz-date:20130524T000000Z\nAuthorization:AWS4-HMAC-SHA256 \
             Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;\
             x-amz-decoded-content-length;x-amz-storage-class, \
             Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9",
        );
        let sig = parse(&parts).unwrap().unwrap();
        assert_eq!(sig.payload_hash, STREAMING_PAYLOAD);
        verify(&parts, &sig, &sig.payload_hash, secret, PathRule::S3).unwrap();

        let key = signing_key(
            secret,
            &sig.scope.date,
            &sig.scope.region,
            &sig.scope.service,
        );
        let mut previous = sig.signature.clone();
        for (size, expected) in [
            (
                65536,
                "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            ),
            (
                1024,
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            ),
            (
                0,
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
            ),
        ] {
            let data = vec![b'a'; size];
            let sts = chunk_string_to_sign(&sig, &previous, &hex_sha256(&data));
            previous = hmac_hex(&key, &sts);
            assert_eq!(previous, expected, "chunk of {size} bytes");
        }
        let trailers =
            canonical_trailers(&[("second", "2nd"), ("First", " 1st "), ("third", "3rd")]);
        assert_eq!(trailers, "first:1st\nsecond:2nd\nthird:3rd\n");
        let sts = trailer_string_to_sign(&sig, &previous, &hex_sha256(trailers.as_bytes()));
        assert!(sts.starts_with("AWS4-HMAC-SHA256-TRAILER\n20130524T000000Z\n"));
        assert_eq!(
            hmac_hex(&key, &sts),
            "df5735bd9f3295cd9386572292562fefc93ba94e80a0a1ddcbd652c4e0a75e6c"
        );
    }
}
