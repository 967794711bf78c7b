//! Multipart uploads: the uploads in progress, their parts, and the rules
//! `CompleteMultipartUpload` applies when it assembles them into one object.
//!
//! Rules, as S3 applies them: parts listed in strictly ascending order (`InvalidPartOrder`),
//! each uploaded with the ETag given (`InvalidPart`), every part but the last at least 5 MiB
//! (`EntityTooSmall`). The object's ETag is the MD5 of the concatenated binary part MD5s,
//! hex, suffixed `-N`. Its checksum is COMPOSITE (the algorithm over the concatenated raw part
//! checksums, suffixed `-N`) or, for CRCs created with `x-amz-checksum-type: FULL_OBJECT`, the
//! CRC of the whole object; without an algorithm S3 gives it a full-object CRC64NVME.
//!
//! Uploads in progress live in memory only, also with `--data-dir`: a restart forgets them,
//! as if they had been aborted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};

use super::checksum::{self, Algorithm, Checksum, ChecksumType};
use super::store::ObjectMeta;
use super::xml;
use crate::aws_error::{AwsError, ErrorCode, Service};

/// Smallest part other than the last (S3: 5 MiB).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Largest part number (S3: 10,000).
pub const MAX_PART_NUMBER: u32 = 10_000;

/// One uploaded part.
#[derive(Debug, Clone)]
pub struct Part {
    /// Its number, 1..=10000.
    pub number: u32,
    /// Its ETag (quoted MD5 hex).
    pub etag: String,
    /// Its MD5, for the object's ETag.
    pub md5: [u8; 16],
    /// Upload time, Unix milliseconds.
    pub last_modified_ms: u64,
    /// Its checksum, in the upload's algorithm when it has one.
    pub checksum: Option<Checksum>,
    /// Its bytes.
    pub data: Bytes,
}

/// An upload in progress.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The upload id.
    pub id: String,
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// When `CreateMultipartUpload` ran.
    pub initiated: SystemTime,
    /// Content headers and user metadata for the object (size, ETag and checksum unset).
    pub template: ObjectMeta,
    /// `x-amz-checksum-algorithm` given at creation.
    pub algorithm: Option<Algorithm>,
    /// `x-amz-checksum-type` given at creation (default COMPOSITE).
    pub checksum_type: ChecksumType,
    /// Parts so far, by number (a re-upload replaces).
    pub parts: BTreeMap<u32, Part>,
}

/// Uploads in progress, by id.
#[derive(Debug, Default)]
pub struct Uploads(Mutex<HashMap<String, Upload>>);

impl Uploads {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Upload>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new upload.
    pub fn insert(&self, upload: Upload) {
        self.lock().insert(upload.id.clone(), upload);
    }

    /// Runs `f` on the upload `id` of `bucket`/`key`; `None` when there is no such upload.
    pub fn with<T>(
        &self,
        id: &str,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&mut Upload) -> T,
    ) -> Option<T> {
        let mut uploads = self.lock();
        let upload = uploads
            .get_mut(id)
            .filter(|u| u.bucket == bucket && u.key == key)?;
        Some(f(upload))
    }

    /// Removes and returns the upload `id` of `bucket`/`key`.
    pub fn remove(&self, id: &str, bucket: &str, key: &str) -> Option<Upload> {
        let mut uploads = self.lock();
        if uploads
            .get(id)
            .is_some_and(|u| u.bucket == bucket && u.key == key)
        {
            uploads.remove(id)
        } else {
            None
        }
    }
}

/// A part as `CompleteMultipartUpload` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    /// `PartNumber`.
    pub number: u32,
    /// `ETag` (quotes optional).
    pub etag: String,
    /// `ChecksumCRC32` etc., when given.
    pub checksum: Option<(Algorithm, String)>,
}

fn malformed_xml() -> AwsError {
    AwsError::new(Service::S3, ErrorCode::MalformedXML)
}

/// Parses the `CompleteMultipartUpload` document.
///
/// # Errors
/// `MalformedXML` when it is not well-formed, has another root, no parts, or a part without
/// a numeric `PartNumber` or an `ETag`.
pub fn parse_complete(body: &[u8]) -> Result<Vec<Requested>, AwsError> {
    let root = xml::parse(body).map_err(|_| malformed_xml())?;
    if root.name != "CompleteMultipartUpload" {
        return Err(malformed_xml());
    }
    let mut parts = Vec::new();
    for part in root.children_named("Part") {
        let number = part
            .child_text("PartNumber")
            .and_then(|n| n.trim().parse::<u32>().ok())
            .ok_or_else(malformed_xml)?;
        let etag = part
            .child_text("ETag")
            .map(|e| e.trim().to_owned())
            .ok_or_else(malformed_xml)?;
        let checksum = Algorithm::ALL.into_iter().find_map(|a| {
            part.child_text(a.element())
                .map(|v| (a, v.trim().to_owned()))
        });
        parts.push(Requested {
            number,
            etag,
            checksum,
        });
    }
    if parts.is_empty() {
        return Err(malformed_xml());
    }
    Ok(parts)
}

/// The object a completed upload becomes.
#[derive(Debug, Clone)]
pub struct Assembled {
    /// The concatenated parts.
    pub data: Bytes,
    /// `"md5-of-md5s-N"`.
    pub etag: String,
    /// The object's checksum.
    pub checksum: Checksum,
    /// Number of parts.
    pub parts: u32,
}

fn unquote(etag: &str) -> &str {
    etag.trim().trim_matches('"')
}

/// The ETag of a multipart object: MD5 of the concatenated binary part MD5s, `-N`.
pub fn multipart_etag(md5s: &[[u8; 16]]) -> String {
    let concatenated: Vec<u8> = md5s.iter().flatten().copied().collect();
    format!(
        "\"{}-{}\"",
        hex::encode(checksum::md5(&concatenated)),
        md5s.len()
    )
}

/// Checks the requested parts against the upload and assembles the object.
///
/// # Errors
/// `InvalidPartOrder`, `InvalidPart`, `EntityTooSmall` (with S3's extra elements).
pub fn assemble(upload: &Upload, requested: &[Requested]) -> Result<Assembled, AwsError> {
    if requested.windows(2).any(|w| w[0].number >= w[1].number) {
        return Err(AwsError::new(Service::S3, ErrorCode::InvalidPartOrder)
            .with_extra("UploadId", upload.id.clone()));
    }
    let invalid_part = |r: &Requested| {
        AwsError::new(Service::S3, ErrorCode::InvalidPart)
            .with_extra("UploadId", upload.id.clone())
            .with_extra("PartNumber", r.number.to_string())
            .with_extra("ETag", r.etag.clone())
    };
    let mut parts = Vec::with_capacity(requested.len());
    for r in requested {
        let part = upload
            .parts
            .get(&r.number)
            .filter(|p| unquote(&p.etag) == unquote(&r.etag))
            .ok_or_else(|| invalid_part(r))?;
        if let Some((algorithm, value)) = &r.checksum {
            let stored = part
                .checksum
                .as_ref()
                .filter(|c| c.algorithm == *algorithm)
                .map(|c| c.value.clone())
                .unwrap_or_else(|| algorithm.base64(&part.data));
            if stored != *value {
                return Err(invalid_part(r));
            }
        }
        parts.push(part);
    }
    let last = parts.len().saturating_sub(1);
    for (i, part) in parts.iter().enumerate() {
        let size = part.data.len() as u64;
        if i < last && size < MIN_PART_SIZE {
            return Err(AwsError::new(Service::S3, ErrorCode::EntityTooSmall)
                .with_extra("ProposedSize", size.to_string())
                .with_extra("MinSizeAllowed", MIN_PART_SIZE.to_string())
                .with_extra("PartNumber", part.number.to_string())
                .with_extra("ETag", unquote(&part.etag).to_owned()));
        }
    }

    let total: usize = parts.iter().map(|p| p.data.len()).sum();
    let mut data = BytesMut::with_capacity(total);
    for part in &parts {
        data.extend_from_slice(&part.data);
    }
    let data = data.freeze();
    let md5s: Vec<[u8; 16]> = parts.iter().map(|p| p.md5).collect();
    let count = parts.len();
    let checksum = match upload.algorithm {
        Some(algorithm)
            if upload.checksum_type == ChecksumType::Composite
                || !algorithm.supports_full_object() =>
        {
            let mut raw = Vec::new();
            for part in &parts {
                let digest = part
                    .checksum
                    .as_ref()
                    .filter(|c| c.algorithm == algorithm)
                    .and_then(Checksum::raw)
                    .unwrap_or_else(|| algorithm.digest(&part.data));
                raw.extend_from_slice(&digest);
            }
            Checksum {
                algorithm,
                value: format!("{}-{count}", BASE64.encode(algorithm.digest(&raw))),
                kind: ChecksumType::Composite,
            }
        }
        Some(algorithm) => Checksum::full(algorithm, &data),
        None => Checksum::full(Algorithm::Crc64Nvme, &data),
    };
    Ok(Assembled {
        data,
        etag: multipart_etag(&md5s),
        checksum,
        parts: u32::try_from(count).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(number: u32, data: &[u8], algorithm: Option<Algorithm>) -> Part {
        let md5 = checksum::md5(data);
        Part {
            number,
            etag: format!("\"{}\"", hex::encode(md5)),
            md5,
            last_modified_ms: 0,
            checksum: algorithm.map(|a| Checksum::full(a, data)),
            data: Bytes::copy_from_slice(data),
        }
    }

    fn upload(parts: Vec<Part>, algorithm: Option<Algorithm>, kind: ChecksumType) -> Upload {
        Upload {
            id: "u".into(),
            bucket: "b".into(),
            key: "k".into(),
            initiated: SystemTime::UNIX_EPOCH,
            template: ObjectMeta {
                key: "k".into(),
                size: 0,
                etag: String::new(),
                last_modified_ms: 0,
                content_type: None,
                headers: vec![],
                metadata: vec![],
                checksum: None,
                parts_count: None,
            },
            algorithm,
            checksum_type: kind,
            parts: parts.into_iter().map(|p| (p.number, p)).collect(),
        }
    }

    fn request(parts: &[&Part]) -> Vec<Requested> {
        parts
            .iter()
            .map(|p| Requested {
                number: p.number,
                etag: p.etag.clone(),
                checksum: p.checksum.as_ref().map(|c| (c.algorithm, c.value.clone())),
            })
            .collect()
    }

    #[test]
    fn etag_is_md5_of_part_md5s_with_count() {
        let big = vec![b'a'; MIN_PART_SIZE as usize];
        let (p1, p2) = (part(1, &big, None), part(2, b"tail", None));
        let mut concatenated = Vec::new();
        concatenated.extend_from_slice(&checksum::md5(&big));
        concatenated.extend_from_slice(&checksum::md5(b"tail"));
        let expected = format!("\"{}-2\"", hex::encode(checksum::md5(&concatenated)));
        let up = upload(vec![p1.clone(), p2.clone()], None, ChecksumType::Composite);
        let done = assemble(&up, &request(&[&p1, &p2])).unwrap();
        assert_eq!(done.etag, expected);
        assert_eq!(done.data.len(), big.len() + 4);
        assert_eq!(done.checksum.algorithm, Algorithm::Crc64Nvme);
        assert_eq!(done.checksum.kind, ChecksumType::FullObject);
    }

    #[test]
    fn composite_and_full_object_checksums() {
        let big = vec![b'x'; MIN_PART_SIZE as usize];
        let (p1, p2) = (
            part(1, &big, Some(Algorithm::Crc32)),
            part(2, b"y", Some(Algorithm::Crc32)),
        );
        let up = upload(
            vec![p1.clone(), p2.clone()],
            Some(Algorithm::Crc32),
            ChecksumType::Composite,
        );
        let done = assemble(&up, &request(&[&p1, &p2])).unwrap();
        let mut raw = Algorithm::Crc32.digest(&big);
        raw.extend(Algorithm::Crc32.digest(b"y"));
        assert_eq!(
            done.checksum.value,
            format!("{}-2", Algorithm::Crc32.base64(&raw))
        );
        assert_eq!(done.checksum.kind, ChecksumType::Composite);

        let up = upload(
            vec![p1.clone(), p2.clone()],
            Some(Algorithm::Crc32),
            ChecksumType::FullObject,
        );
        let done = assemble(&up, &request(&[&p1, &p2])).unwrap();
        assert_eq!(done.checksum, Checksum::full(Algorithm::Crc32, &done.data));
    }

    #[test]
    fn order_etag_size_and_checksum_rules() {
        let big = vec![b'a'; MIN_PART_SIZE as usize];
        let (p1, p2, small) = (
            part(1, &big, None),
            part(2, &big, None),
            part(1, b"s", None),
        );
        let up = upload(vec![p1.clone(), p2.clone()], None, ChecksumType::Composite);
        assert_eq!(
            assemble(&up, &request(&[&p2, &p1])).unwrap_err().code,
            ErrorCode::InvalidPartOrder
        );
        assert_eq!(
            assemble(&up, &request(&[&p1, &p1])).unwrap_err().code,
            ErrorCode::InvalidPartOrder
        );
        let mut wrong = request(&[&p1]);
        wrong[0].etag = "\"0000\"".into();
        assert_eq!(
            assemble(&up, &wrong).unwrap_err().code,
            ErrorCode::InvalidPart
        );
        let mut wrong = request(&[&p1]);
        wrong[0].checksum = Some((Algorithm::Crc32, "AAAAAA==".into()));
        assert_eq!(
            assemble(&up, &wrong).unwrap_err().code,
            ErrorCode::InvalidPart
        );

        let up = upload(
            vec![small.clone(), p2.clone()],
            None,
            ChecksumType::Composite,
        );
        let e = assemble(&up, &request(&[&small, &p2])).unwrap_err();
        assert_eq!(e.code, ErrorCode::EntityTooSmall);
        assert!(e.extra.contains(&("ProposedSize".into(), "1".into())));
        // A small last part is fine.
        let up = upload(
            vec![p1.clone(), part(2, b"s", None)],
            None,
            ChecksumType::Composite,
        );
        assert!(assemble(&up, &request(&[&p1, &part(2, b"s", None)])).is_ok());
    }

    #[test]
    fn complete_document_rules() {
        assert_eq!(
            parse_complete(b"<nope").unwrap_err().code,
            ErrorCode::MalformedXML
        );
        assert_eq!(
            parse_complete(b"<CompleteMultipartUpload></CompleteMultipartUpload>")
                .unwrap_err()
                .code,
            ErrorCode::MalformedXML
        );
        assert_eq!(
            parse_complete(b"<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>")
                .unwrap_err()
                .code,
            ErrorCode::MalformedXML
        );
        assert_eq!(
            parse_complete(b"<CompleteMultipartUpload><Part><PartNumber>one</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>")
                .unwrap_err()
                .code,
            ErrorCode::MalformedXML
        );
        let parts = parse_complete(b"<CompleteMultipartUpload><Part><PartNumber>3</PartNumber><ETag>\"x\"</ETag><ChecksumSHA1>abc</ChecksumSHA1></Part></CompleteMultipartUpload>").unwrap();
        assert_eq!(parts[0].number, 3);
        assert_eq!(parts[0].checksum, Some((Algorithm::Sha1, "abc".into())));
    }
}
