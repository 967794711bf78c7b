//! S3's flexible checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) and `Content-MD5`: which
//! one a request carries, whether it matches the payload, and what is stored and returned.
//!
//! Since the January 2025 "default integrity protections" every SDK sends a CRC32 with each
//! upload, as a header (`x-amz-checksum-crc32`) or as an aws-chunked trailer (aws-facts §5.1),
//! and asks for it back with `x-amz-checksum-mode: ENABLED` on downloads, then checks the body
//! against it. The digests come from the crates aws-smithy-checksums uses (`crc-fast`, `sha1`,
//! `sha2`, `md-5`), so the SDK under test and the mock agree bit for bit. Values are base64 of
//! the big-endian digest. An object uploaded without a checksum gets a CRC64NVME, as S3 has
//! done for every new object since December 2024.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, HeaderName};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};

use crate::aws_error::{AwsError, ErrorCode, Service};

/// A flexible-checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Algorithm {
    /// CRC-32 (ISO-HDLC), the SDKs' default.
    Crc32,
    /// CRC-32C (Castagnoli).
    Crc32c,
    /// CRC-64/NVME, S3's default for objects uploaded without a checksum.
    Crc64Nvme,
    /// SHA-1.
    Sha1,
    /// SHA-256.
    Sha256,
}

impl Algorithm {
    /// Every algorithm, in the SDKs' validation priority order.
    pub(crate) const ALL: [Algorithm; 5] = [
        Algorithm::Crc64Nvme,
        Algorithm::Crc32c,
        Algorithm::Crc32,
        Algorithm::Sha1,
        Algorithm::Sha256,
    ];

    /// The name on the wire (`x-amz-checksum-algorithm: CRC32`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The header (and trailer) that carries the value.
    pub(crate) fn header(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "x-amz-checksum-crc32",
            Algorithm::Crc32c => "x-amz-checksum-crc32c",
            Algorithm::Crc64Nvme => "x-amz-checksum-crc64nvme",
            Algorithm::Sha1 => "x-amz-checksum-sha1",
            Algorithm::Sha256 => "x-amz-checksum-sha256",
        }
    }

    /// [`Algorithm::header`] as a parsed name.
    pub(crate) fn header_name(self) -> &'static HeaderName {
        static CRC32: HeaderName = HeaderName::from_static("x-amz-checksum-crc32");
        static CRC32C: HeaderName = HeaderName::from_static("x-amz-checksum-crc32c");
        static CRC64NVME: HeaderName = HeaderName::from_static("x-amz-checksum-crc64nvme");
        static SHA1: HeaderName = HeaderName::from_static("x-amz-checksum-sha1");
        static SHA256: HeaderName = HeaderName::from_static("x-amz-checksum-sha256");
        match self {
            Algorithm::Crc32 => &CRC32,
            Algorithm::Crc32c => &CRC32C,
            Algorithm::Crc64Nvme => &CRC64NVME,
            Algorithm::Sha1 => &SHA1,
            Algorithm::Sha256 => &SHA256,
        }
    }

    /// The XML element that carries the value (`ChecksumCRC32`).
    pub(crate) fn element(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    /// Parses a name, case-insensitively.
    pub(crate) fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
    }

    /// The algorithm whose header (or trailer) is `name`, case-insensitively.
    pub(crate) fn from_header(name: &str) -> Option<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.header().eq_ignore_ascii_case(name.trim()))
    }

    /// Whether S3 can keep a full-object checksum across multipart uploads (the CRCs).
    pub(crate) fn supports_full_object(self) -> bool {
        matches!(
            self,
            Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64Nvme
        )
    }

    /// The raw digest of `data`.
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        use crc_fast::CrcAlgorithm as Crc;
        let crc32 = |algorithm| {
            (crc_fast::checksum(algorithm, data) as u32)
                .to_be_bytes()
                .to_vec()
        };
        match self {
            Algorithm::Crc32 => crc32(Crc::Crc32IsoHdlc),
            Algorithm::Crc32c => crc32(Crc::Crc32Iscsi),
            Algorithm::Crc64Nvme => crc_fast::checksum(Crc::Crc64Nvme, data)
                .to_be_bytes()
                .to_vec(),
            Algorithm::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Algorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
        }
    }

    /// The base64 digest of `data`, as S3 sends it.
    pub(crate) fn base64(self, data: &[u8]) -> String {
        BASE64.encode(self.digest(data))
    }

    fn digest_len(self) -> usize {
        match self {
            Algorithm::Crc32 | Algorithm::Crc32c => 4,
            Algorithm::Crc64Nvme => 8,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }
}

/// Whether a checksum covers the whole object or is a checksum of part checksums.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ChecksumType {
    /// Over every byte of the object.
    FullObject,
    /// Over the concatenated part checksums of a multipart upload, suffixed `-N`.
    Composite,
}

impl ChecksumType {
    /// The wire name (`x-amz-checksum-type`, `<ChecksumType>`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            ChecksumType::FullObject => "FULL_OBJECT",
            ChecksumType::Composite => "COMPOSITE",
        }
    }

    /// Parses a wire name.
    pub(crate) fn from_name(name: &str) -> Option<ChecksumType> {
        match name.trim().to_ascii_uppercase().as_str() {
            "FULL_OBJECT" => Some(ChecksumType::FullObject),
            "COMPOSITE" => Some(ChecksumType::Composite),
            _ => None,
        }
    }
}

/// A stored checksum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Checksum {
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// Base64 value; composite ones end in `-N`.
    pub value: String,
    /// Full-object or composite.
    pub kind: ChecksumType,
}

impl Checksum {
    /// The full-object checksum of `data`.
    pub(crate) fn full(algorithm: Algorithm, data: &[u8]) -> Checksum {
        Checksum {
            algorithm,
            value: algorithm.base64(data),
            kind: ChecksumType::FullObject,
        }
    }

    /// The raw digest bytes of a full-object value (for composing part checksums).
    pub(crate) fn raw(&self) -> Option<Vec<u8>> {
        BASE64.decode(&self.value).ok()
    }

    /// Puts `x-amz-checksum-<alg>` and `x-amz-checksum-type` on a response.
    pub(crate) fn insert_headers(&self, headers: &mut HeaderMap) {
        // A static name is parsed once, not at every response.
        static CHECKSUM_TYPE: HeaderName = HeaderName::from_static("x-amz-checksum-type");
        if let Ok(value) = http::HeaderValue::from_str(&self.value) {
            headers.insert(self.algorithm.header_name().clone(), value);
        }
        headers.insert(
            CHECKSUM_TYPE.clone(),
            http::HeaderValue::from_static(self.kind.name()),
        );
    }
}

/// The checksum a request declares for its payload: a header, or (name only, value to come) a
/// trailer announced by `x-amz-trailer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Declared {
    /// `x-amz-checksum-<alg>: value`.
    Header(Algorithm, String),
    /// `x-amz-trailer: x-amz-checksum-<alg>`: the value comes after the body.
    Trailer(Algorithm),
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Reads the declared checksum from the headers: at most one `x-amz-checksum-*` header or one
/// checksum trailer.
///
/// # Errors
/// S3's `InvalidRequest` for more than one checksum, or a trailer that is not a checksum.
pub(super) fn declared(headers: &HeaderMap) -> Result<Option<Declared>, AwsError> {
    let mut found: Vec<Declared> = Algorithm::ALL
        .into_iter()
        .filter_map(|a| header_str(headers, a.header()).map(|v| Declared::Header(a, v.to_owned())))
        .collect();
    if let Some(trailer) = header_str(headers, "x-amz-trailer") {
        for name in trailer.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match Algorithm::from_header(name) {
                Some(a) => found.push(Declared::Trailer(a)),
                None => {
                    return Err(invalid_request(&format!(
                        "The value specified in the x-amz-trailer header is not supported: {name}"
                    )));
                }
            }
        }
    }
    match found.len() {
        0 | 1 => Ok(found.pop()),
        _ => Err(invalid_request(
            "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.",
        )),
    }
}

fn invalid_request(message: &str) -> AwsError {
    AwsError::new(Service::S3, ErrorCode::InvalidRequest).with_message(message.to_owned())
}

/// Checks a received checksum value against the payload.
///
/// # Errors
/// `InvalidRequest` when the value is not base64 of the digest's length (S3: "Value for
/// x-amz-checksum-crc32 header is invalid."), `BadDigest` when it does not match ("The CRC32
/// you specified did not match the calculated checksum.", aws/aws-sdk-ruby#3322).
pub(super) fn verify(algorithm: Algorithm, value: &str, data: &[u8]) -> Result<Checksum, AwsError> {
    let value = value.trim();
    let well_formed = BASE64
        .decode(value)
        .is_ok_and(|raw| raw.len() == algorithm.digest_len());
    if !well_formed {
        return Err(invalid_request(&format!(
            "Value for {} header is invalid.",
            algorithm.header()
        )));
    }
    let computed = Checksum::full(algorithm, data);
    if computed.value != value {
        return Err(
            AwsError::new(Service::S3, ErrorCode::BadDigest).with_message(format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.name()
            )),
        );
    }
    Ok(computed)
}

/// Checks `Content-MD5` when present.
///
/// # Errors
/// `InvalidDigest` when it is not base64 of 16 bytes, `BadDigest` when it does not match.
pub(super) fn verify_content_md5(headers: &HeaderMap, data: &[u8]) -> Result<(), AwsError> {
    let Some(value) = headers.get("content-md5") else {
        return Ok(());
    };
    let raw = value
        .to_str()
        .ok()
        .and_then(|v| BASE64.decode(v.trim()).ok())
        .filter(|raw| raw.len() == 16)
        .ok_or_else(|| AwsError::new(Service::S3, ErrorCode::InvalidDigest))?;
    if raw.as_slice() != md5(data).as_slice() {
        return Err(AwsError::new(Service::S3, ErrorCode::BadDigest));
    }
    Ok(())
}

/// MD5 of `data`: ETags of single-part objects and parts.
pub(super) fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_the_headers() {
        for algorithm in Algorithm::ALL {
            assert_eq!(algorithm.header_name().as_str(), algorithm.header());
        }
    }

    #[test]
    fn digests_match_the_sdk_captures() {
        // The catalogued check values of each CRC (input "123456789").
        let check = b"123456789";
        assert_eq!(Algorithm::Crc32.digest(check), 0xCBF4_3926u32.to_be_bytes());
        assert_eq!(
            Algorithm::Crc32c.digest(check),
            0xE306_9283u32.to_be_bytes()
        );
        assert_eq!(
            Algorithm::Crc64Nvme.digest(check),
            0xAE8B_1486_0A79_9888u64.to_be_bytes()
        );
        assert_eq!(Algorithm::Crc32.base64(b""), "AAAAAA==");
        assert_eq!(
            Algorithm::Sha256.base64(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn verify_tells_malformed_from_mismatched() {
        let good = Algorithm::Crc32.base64(b"hello");
        assert!(verify(Algorithm::Crc32, &good, b"hello").is_ok());
        let e = verify(Algorithm::Crc32, &good, b"hellp").unwrap_err();
        assert_eq!(e.code, ErrorCode::BadDigest);
        assert_eq!(
            e.message,
            "The CRC32 you specified did not match the calculated checksum."
        );
        let e = verify(Algorithm::Crc32, "not base64!", b"hello").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
        assert_eq!(
            e.message,
            "Value for x-amz-checksum-crc32 header is invalid."
        );
        // A SHA256-length value for CRC32 is malformed too.
        let e = verify(Algorithm::Crc32, &Algorithm::Sha256.base64(b""), b"").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
    }

    #[test]
    fn one_declared_checksum_at_most() {
        let mut headers = HeaderMap::new();
        assert_eq!(declared(&headers).unwrap(), None);
        headers.insert("x-amz-trailer", "x-amz-checksum-crc32c".parse().unwrap());
        assert_eq!(
            declared(&headers).unwrap(),
            Some(Declared::Trailer(Algorithm::Crc32c))
        );
        headers.insert("x-amz-checksum-sha1", "x".parse().unwrap());
        assert_eq!(
            declared(&headers).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }

    #[test]
    fn content_md5_is_checked() {
        let mut headers = HeaderMap::new();
        headers.insert("content-md5", BASE64.encode(md5(b"x")).parse().unwrap());
        assert!(verify_content_md5(&headers, b"x").is_ok());
        assert_eq!(
            verify_content_md5(&headers, b"y").unwrap_err().code,
            ErrorCode::BadDigest
        );
        headers.insert("content-md5", "abc".parse().unwrap());
        assert_eq!(
            verify_content_md5(&headers, b"x").unwrap_err().code,
            ErrorCode::InvalidDigest
        );
    }
}
