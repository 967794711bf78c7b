//! Multipart uploads: the operations (`CreateMultipartUpload`, `UploadPart`,
//! `CompleteMultipartUpload`, `AbortMultipartUpload`, `ListParts`), the uploads in progress,
//! their parts, and the rules `CompleteMultipartUpload` applies when it assembles them into one
//! object.
//!
//! Rules, as S3 applies them: parts listed in strictly ascending order (`InvalidPartOrder`),
//! each uploaded with the ETag given (`InvalidPart`), every part but the last at least 5 MiB
//! (`EntityTooSmall`). The object's ETag is the MD5 of the concatenated binary part MD5s,
//! hex, suffixed `-N`. Its checksum is COMPOSITE (the algorithm over the concatenated raw part
//! checksums, suffixed `-N`) or, for CRCs created with `x-amz-checksum-type: FULL_OBJECT`, the
//! CRC of the whole object; without an algorithm S3 gives it a full-object CRC64NVME.
//!
//! Uploads in progress live in memory only, also with `--data-dir`: a restart forgets them,
//! as if they had been aborted. A completed upload is remembered ([`super::completed`]) so a
//! resent `CompleteMultipartUpload` answers as the first one did; a conditional one
//! (`If-Match`, `If-None-Match: *`) is judged when the object is stored ([`super::conditional`]). The rules are plain functions over an [`Upload`], tested
//! without HTTP; the handlers below them only read the request and call them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{Bytes, BytesMut};

use axum::response::Response;
use http::{StatusCode, header};

use super::checksum::{self, Algorithm, Checksum, ChecksumType, Declared};
use super::completed::Completion;
use super::conditional::WriteCondition;
use super::headers::{insert, object_meta_from_headers};
use super::payload::Payload;
use super::store::{self, ObjectMeta};
use super::xml::{self, S3_NAMESPACE};
use super::{
    Request, entity_too_large, header_str, invalid_argument, s3_error, unsupported_algorithm,
};
use crate::aws_error::{AwsError, ErrorCode, Service};
use crate::sigv4;
use crate::timestamp;
use crate::xml::XmlWriter;

/// Smallest part other than the last (S3: 5 MiB).
pub(super) const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Largest part number (S3: 10,000).
pub(super) const MAX_PART_NUMBER: u32 = 10_000;

/// One uploaded part.
#[derive(Debug, Clone)]
pub(crate) struct Part {
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
pub(crate) struct Upload {
    /// The upload id.
    pub id: String,
    /// Its bucket.
    pub bucket: String,
    /// Its key.
    pub key: String,
    /// Content headers and user metadata for the object (size, ETag and checksum unset).
    pub template: ObjectMeta,
    /// `x-amz-checksum-algorithm` given at creation.
    pub algorithm: Option<Algorithm>,
    /// `x-amz-checksum-type` given at creation (default COMPOSITE).
    pub checksum_type: ChecksumType,
    /// Parts so far, by number (a re-upload replaces).
    pub parts: BTreeMap<u32, Part>,
    /// The ETag of the object the key held when the upload was created, if any: a
    /// conditional complete after it changed is a conflict (`conditional`).
    pub replaces: Option<String>,
}

/// Uploads in progress, by id.
#[derive(Debug, Default)]
pub(crate) struct Uploads(Mutex<HashMap<String, Upload>>);

impl Uploads {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Upload>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new upload.
    pub(crate) fn insert(&self, upload: Upload) {
        self.lock().insert(upload.id.clone(), upload);
    }

    /// Runs `f` on the upload `id` of `bucket`/`key`; `None` when there is no such upload.
    pub(crate) fn with<T>(
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
    pub(crate) fn remove(&self, id: &str, bucket: &str, key: &str) -> Option<Upload> {
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
pub(crate) struct Requested {
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
pub(crate) fn parse_complete(body: &[u8]) -> Result<Vec<Requested>, AwsError> {
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
pub(super) struct Assembled {
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
pub(super) fn multipart_etag(md5s: &[[u8; 16]]) -> String {
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
pub(super) fn assemble(upload: &Upload, requested: &[Requested]) -> Result<Assembled, AwsError> {
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

// ---- the operations ----

impl Request<'_> {
    fn upload_id(&self) -> &str {
        self.query.get("uploadId").unwrap_or_default()
    }

    fn no_such_upload(&self) -> AwsError {
        s3_error(ErrorCode::NoSuchUpload).with_extra("UploadId", self.upload_id().to_owned())
    }

    pub(super) fn create_upload(&self) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        self.refuse_object_acl(&bucket)?;
        let algorithm = header_str(self.headers(), "x-amz-checksum-algorithm")
            .map(|name| Algorithm::from_name(name).ok_or_else(unsupported_algorithm))
            .transpose()?;
        let checksum_type = match header_str(self.headers(), "x-amz-checksum-type") {
            None => None,
            Some(raw) => Some(ChecksumType::from_name(raw).ok_or_else(|| {
                s3_error(ErrorCode::InvalidRequest)
                    .with_message("Value for x-amz-checksum-type header is invalid.")
            })?),
        };
        let checksum_type = match (algorithm, checksum_type) {
            (Some(a), Some(ChecksumType::FullObject)) if !a.supports_full_object() => {
                return Err(s3_error(ErrorCode::InvalidRequest).with_message(format!(
                    "The FULL_OBJECT checksum type cannot be used with the {} checksum algorithm.",
                    a.name().to_ascii_lowercase()
                )));
            }
            (_, Some(t)) => t,
            // CRC64NVME uploads are full-object by default, the others composite.
            (Some(Algorithm::Crc64Nvme), None) => ChecksumType::FullObject,
            (_, None) => ChecksumType::Composite,
        };
        let id = sigv4::hex_sha256(format!("mock-sts upload {}", self.request_id).as_bytes())[..48]
            .to_owned();
        let replaces = self
            .s3
            .store
            .head_object(self.bucket_name(), self.key())
            .ok()
            .map(|o| o.etag);
        self.s3.uploads.insert(Upload {
            id: id.clone(),
            bucket: self.bucket_name().to_owned(),
            key: self.key().to_owned(),
            template: object_meta_from_headers(self.headers(), self.key()),
            algorithm,
            checksum_type,
            parts: Default::default(),
            replaces,
        });
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("InitiateMultipartUploadResult", Some(S3_NAMESPACE))
            .text("Bucket", self.bucket_name())
            .text("Key", self.key())
            .text("UploadId", &id)
            .close("InitiateMultipartUploadResult");
        let mut response = Self::xml_response(w.finish());
        if let Some(a) = algorithm {
            insert(response.headers_mut(), "x-amz-checksum-algorithm", a.name());
            insert(
                response.headers_mut(),
                "x-amz-checksum-type",
                checksum_type.name(),
            );
        }
        Ok(response)
    }

    pub(super) fn upload_part(&self, payload: Payload) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let raw = self.query.get("partNumber").unwrap_or_default();
        let number = raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PART_NUMBER).contains(n))
            .ok_or_else(|| {
                invalid_argument(
                    "Part number must be an integer between 1 and 10000, inclusive",
                    "partNumber",
                    raw,
                )
            })?;
        let algorithm = self
            .s3
            .uploads
            .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                u.algorithm
            })
            .ok_or_else(|| self.no_such_upload())?;
        let sent = self.verify_checksums(&payload)?;
        if let (Some(expected), Some(sent)) = (algorithm, &sent)
            && sent.algorithm != expected
        {
            return Err(s3_error(ErrorCode::InvalidRequest).with_message(format!(
                "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
                expected.name().to_ascii_lowercase(),
                sent.algorithm.name().to_ascii_lowercase()
            )));
        }
        let checksum = sent
            .clone()
            .or_else(|| algorithm.map(|a| Checksum::full(a, &payload.data)));
        let md5 = checksum::md5(&payload.data);
        let part = Part {
            number,
            etag: format!("\"{}\"", hex::encode(md5)),
            md5,
            last_modified_ms: store::whole_seconds_ms(self.now),
            checksum: checksum.clone(),
            data: payload.data,
        };
        let etag = part.etag.clone();
        self.s3
            .uploads
            .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                u.parts.insert(number, part);
            })
            .ok_or_else(|| self.no_such_upload())?;
        let mut response = Self::status(StatusCode::OK);
        insert(response.headers_mut(), header::ETAG, &etag);
        if let Some(c) = checksum {
            insert(response.headers_mut(), c.algorithm.header(), &c.value);
        }
        Ok(response)
    }

    pub(super) fn complete_upload(&self, payload: &Payload) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        checksum::verify_content_md5(self.headers(), &payload.data)?;
        let requested = parse_complete(&payload.data)?;
        let parts: Vec<(u32, String)> = requested
            .iter()
            .map(|r| (r.number, unquote(&r.etag).to_owned()))
            .collect();
        let Some(upload) =
            self.s3
                .uploads
                .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                    u.clone()
                })
        else {
            // A retry after a lost response gets the first answer again (`completed`).
            return match self.s3.completed.resent(
                self.upload_id(),
                self.bucket_name(),
                self.key(),
                &parts,
            ) {
                Some(done) => Ok(self.completed_response(&done.etag, &done.checksum)),
                None => Err(self.no_such_upload()),
            };
        };
        let assembled = assemble(&upload, &requested)?;
        let max = self.s3.max_object_size;
        if assembled.data.len() as u64 > max {
            return Err(entity_too_large(Some(assembled.data.len() as u64), max));
        }
        // A full-object checksum header on Complete is the client's checksum of the object.
        if let Some(Declared::Header(algorithm, value)) = checksum::declared(self.headers())?
            && (algorithm != assembled.checksum.algorithm
                || value.trim() != assembled.checksum.value)
        {
            return Err(s3_error(ErrorCode::BadDigest).with_message(format!(
                "The {} you specified did not match the calculated checksum.",
                algorithm.name()
            )));
        }
        let mut meta = upload.template.clone();
        meta.size = assembled.data.len() as u64;
        meta.etag = assembled.etag.clone();
        meta.last_modified_ms = store::whole_seconds_ms(self.now);
        meta.checksum = Some(assembled.checksum.clone());
        meta.parts_count = Some(assembled.parts);
        let condition = WriteCondition::from_headers(self.headers());
        self.s3
            .store
            .put_object_if(self.bucket_name(), meta, assembled.data, |current| {
                condition.check_completion(current, upload.replaces.as_deref(), self.key())
            })
            .map_err(|e| self.store_error(e))??;
        // Remembered before the upload is forgotten, so that a retry always finds one of them.
        self.s3.completed.insert(
            self.upload_id(),
            Completion {
                bucket: self.bucket_name().to_owned(),
                key: self.key().to_owned(),
                parts,
                etag: assembled.etag.clone(),
                checksum: assembled.checksum.clone(),
            },
        );
        self.s3
            .uploads
            .remove(self.upload_id(), self.bucket_name(), self.key());
        Ok(self.completed_response(&assembled.etag, &assembled.checksum))
    }

    /// `CompleteMultipartUploadResult` for the object this request completed.
    fn completed_response(&self, etag: &str, checksum: &Checksum) -> Response {
        let host = header_str(self.headers(), "host").unwrap_or("localhost");
        let location = format!(
            "http://{host}/{}/{}",
            self.bucket_name(),
            percent_encoding::utf8_percent_encode(self.key(), percent_encoding::NON_ALPHANUMERIC)
        );
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("CompleteMultipartUploadResult", Some(S3_NAMESPACE))
            .text("Location", &location)
            .text("Bucket", self.bucket_name())
            .text("Key", self.key())
            .text("ETag", etag)
            .text(checksum.algorithm.element(), &checksum.value)
            .text("ChecksumType", checksum.kind.name())
            .close("CompleteMultipartUploadResult");
        Self::xml_response(w.finish())
    }

    pub(super) fn abort_upload(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        self.s3
            .uploads
            .remove(self.upload_id(), self.bucket_name(), self.key())
            .ok_or_else(|| self.no_such_upload())?;
        Ok(Self::status(StatusCode::NO_CONTENT))
    }

    pub(super) fn list_parts(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let number_arg = |name: &str, default: u32| -> Result<u32, AwsError> {
            match self.query.get(name) {
                None => Ok(default),
                Some(raw) => raw.trim().parse::<u32>().map_err(|_| {
                    invalid_argument(
                        &format!("Provided {name} not an integer or within integer range"),
                        name,
                        raw,
                    )
                }),
            }
        };
        let max_parts = number_arg("max-parts", 1000)?.min(1000);
        let marker = number_arg("part-number-marker", 0)?;
        let upload = self
            .s3
            .uploads
            .with(self.upload_id(), self.bucket_name(), self.key(), |u| {
                u.clone()
            })
            .ok_or_else(|| self.no_such_upload())?;
        let remaining: Vec<&Part> = upload
            .parts
            .range(marker.saturating_add(1)..)
            .map(|(_, p)| p)
            .collect();
        let shown = &remaining[..remaining.len().min(max_parts as usize)];
        let truncated = remaining.len() > shown.len();
        let owner = self.canonical_owner_id();
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("ListPartsResult", Some(S3_NAMESPACE))
            .text("Bucket", &upload.bucket)
            .text("Key", &upload.key)
            .text("UploadId", &upload.id)
            .text("PartNumberMarker", &marker.to_string())
            .text(
                "NextPartNumberMarker",
                &shown.last().map_or(marker, |p| p.number).to_string(),
            )
            .text("MaxParts", &max_parts.to_string())
            .text("IsTruncated", if truncated { "true" } else { "false" });
        for part in shown {
            w.open("Part", None)
                .text("PartNumber", &part.number.to_string())
                .text(
                    "LastModified",
                    &timestamp::rfc3339_millis(timestamp::from_unix_millis(part.last_modified_ms)),
                )
                .text("ETag", &part.etag)
                .text("Size", &part.data.len().to_string());
            if let Some(c) = &part.checksum {
                w.text(c.algorithm.element(), &c.value);
            }
            w.close("Part");
        }
        w.open("Initiator", None)
            .text("ID", &owner)
            .close("Initiator")
            .open("Owner", None)
            .text("ID", &owner)
            .close("Owner")
            .text("StorageClass", "STANDARD");
        if let Some(a) = upload.algorithm {
            w.text("ChecksumAlgorithm", a.name())
                .text("ChecksumType", upload.checksum_type.name());
        }
        w.close("ListPartsResult");
        Ok(Self::xml_response(w.finish()))
    }
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
            replaces: None,
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
