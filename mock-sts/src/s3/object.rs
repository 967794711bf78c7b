//! Objects: `PutObject`, `CopyObject`, `GetObject`, `HeadObject`, `DeleteObject` and
//! `DeleteObjects`, with conditional requests (writes and copies through `conditional`) and
//! byte ranges.
//!
//! Every stored object gets its ETag (quoted MD5 hex), a last-modified time in whole seconds
//! on the simulated clock, and a checksum: the one the client sent and that was verified, else
//! a full-object CRC64NVME, as S3 gives every new object one (a copy keeps its source's
//! full-object checksum unless asked for another algorithm). Reads check preconditions in
//! RFC 9110's order before ranges; only whole-object reads with `x-amz-checksum-mode: ENABLED`
//! carry the checksum, since a client cannot check a range against it.

use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, header};

use super::checksum::{self, Algorithm, Checksum, ChecksumType};
use super::conditional::{WriteCondition, check_copy_source};
use super::headers::{insert, object_meta_from_headers};
use super::payload::Payload;
use super::routing::decode_segment;
use super::store::{self, ObjectMeta, StoreError};
use super::versions::NULL_VERSION;
use super::xml::{self, S3_NAMESPACE};
use super::{MAX_KEYS, Request, header_str, invalid_argument, s3_error, unsupported_algorithm};
use crate::aws_error::{AwsError, ErrorCode};
use crate::sigv4;
use crate::timestamp;
use crate::xml::XmlWriter;

impl Request<'_> {
    pub(super) fn put_object(&self, payload: Payload) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        self.refuse_object_acl(&bucket)?;
        let sent = self.verify_checksums(&payload)?;
        let checksum = sent
            .clone()
            .unwrap_or_else(|| Checksum::full(Algorithm::Crc64Nvme, &payload.data));
        let mut meta = object_meta_from_headers(self.headers(), self.key());
        meta.size = payload.data.len() as u64;
        meta.etag = quoted_md5_hex(&payload.data);
        meta.last_modified_ms = store::whole_seconds_ms(self.now);
        meta.checksum = Some(checksum);
        let etag = meta.etag.clone();
        let condition = WriteCondition::from_headers(self.headers());
        self.s3
            .store
            .put_object_if(self.bucket_name(), meta, payload.data, |current| {
                condition.check(current, self.key())
            })
            .map_err(|e| self.store_error(e))??;
        let mut response = Self::status(StatusCode::OK);
        insert(response.headers_mut(), header::ETAG, &etag);
        if let Some(sent) = sent {
            sent.insert_headers(response.headers_mut());
        }
        Ok(response)
    }

    pub(super) fn copy_object(&self) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        self.refuse_object_acl(&bucket)?;
        let raw = header_str(self.headers(), "x-amz-copy-source").unwrap_or_default();
        let bad_source = || {
            invalid_argument(
                "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                "x-amz-copy-source",
                raw,
            )
        };
        let without_version = raw.split_once("?versionId=").map_or(raw, |(s, _)| s);
        let decoded = decode_segment(without_version).map_err(|_| bad_source())?;
        let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
        let (source_bucket, source_key) = decoded
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
            .ok_or_else(bad_source)?;
        self.owned(source_bucket)?;
        let (source, data) = self
            .s3
            .store
            .get_object(source_bucket, source_key)
            .map_err(|e| match e {
                StoreError::NoSuchKey => {
                    s3_error(ErrorCode::NoSuchKey).with_extra("Key", source_key.to_owned())
                }
                StoreError::NoSuchBucket => Self::no_such_bucket(source_bucket),
                other => self.store_error(other),
            })?;
        check_copy_source(self.headers(), &source)?;
        let replace = match header_str(self.headers(), "x-amz-metadata-directive") {
            None => false,
            Some(d) if d.eq_ignore_ascii_case("COPY") => false,
            Some(d) if d.eq_ignore_ascii_case("REPLACE") => true,
            Some(d) => {
                return Err(invalid_argument(
                    "Unknown metadata directive.",
                    "x-amz-metadata-directive",
                    d,
                ));
            }
        };
        let new_algorithm = header_str(self.headers(), "x-amz-checksum-algorithm")
            .map(|name| Algorithm::from_name(name).ok_or_else(unsupported_algorithm))
            .transpose()?;
        if source_bucket == self.bucket_name()
            && source_key == self.key()
            && !replace
            && new_algorithm.is_none()
        {
            return Err(s3_error(ErrorCode::InvalidRequest).with_message(
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
            ));
        }
        let mut meta = if replace {
            object_meta_from_headers(self.headers(), self.key())
        } else {
            ObjectMeta {
                key: self.key().to_owned(),
                ..source.clone()
            }
        };
        meta.size = data.len() as u64;
        meta.etag = quoted_md5_hex(&data);
        meta.last_modified_ms = store::whole_seconds_ms(self.now);
        meta.parts_count = None;
        meta.checksum = Some(match (new_algorithm, &source.checksum) {
            (Some(algorithm), _) => Checksum::full(algorithm, &data),
            (None, Some(c)) if c.kind == ChecksumType::FullObject => c.clone(),
            (None, _) => Checksum::full(Algorithm::Crc64Nvme, &data),
        });
        let (etag, last_modified, stored_checksum) = (
            meta.etag.clone(),
            meta.last_modified(),
            meta.checksum.clone(),
        );
        // `If-Match`/`If-None-Match` judge the destination (S3 API reference, CopyObject).
        let condition = WriteCondition::from_headers(self.headers());
        self.s3
            .store
            .put_object_if(self.bucket_name(), meta, data, |current| {
                condition.check(current, self.key())
            })
            .map_err(|e| self.store_error(e))??;
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("CopyObjectResult", Some(S3_NAMESPACE))
            .text("ETag", &etag)
            .text("LastModified", &timestamp::rfc3339_millis(last_modified));
        if let Some(c) = stored_checksum {
            w.text("ChecksumType", c.kind.name())
                .text(c.algorithm.element(), &c.value);
        }
        w.close("CopyObjectResult");
        Ok(Self::xml_response(w.finish()))
    }

    pub(super) fn get_object(&self, head: bool) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let (meta, data) = if head {
            let meta = self
                .s3
                .store
                .head_object(self.bucket_name(), self.key())
                .map_err(|e| self.store_error(e))?;
            (meta, Bytes::new())
        } else {
            self.s3
                .store
                .get_object(self.bucket_name(), self.key())
                .map_err(|e| self.store_error(e))?
        };
        if let Some(response) = self.preconditions(&meta)? {
            return Ok(response);
        }
        let range = match header_str(self.headers(), "range") {
            Some(raw) => match parse_range(raw, meta.size) {
                RangeSpec::Ignored => None,
                RangeSpec::Satisfiable(start, end) => Some((start, end)),
                RangeSpec::Unsatisfiable => {
                    return Err(s3_error(ErrorCode::InvalidRange)
                        .with_extra("RangeRequested", raw)
                        .with_extra("ActualObjectSize", meta.size.to_string()));
                }
            },
            None => None,
        };
        let (status, length, body) = match range {
            Some((start, end)) => {
                let body = if head {
                    Bytes::new()
                } else {
                    data.slice(
                        usize::try_from(start).unwrap_or(0)..usize::try_from(end + 1).unwrap_or(0),
                    )
                };
                (StatusCode::PARTIAL_CONTENT, end + 1 - start, body)
            }
            None => (StatusCode::OK, meta.size, data),
        };
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        self.object_headers(headers, &meta);
        insert(headers, header::CONTENT_LENGTH, &length.to_string());
        if let Some((start, end)) = range {
            insert(
                headers,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{}", meta.size),
            );
        } else if header_str(self.headers(), "x-amz-checksum-mode")
            .is_some_and(|m| m.eq_ignore_ascii_case("ENABLED"))
            && let Some(checksum) = &meta.checksum
        {
            // Only whole-object reads carry the checksum: a client cannot check a range.
            checksum.insert_headers(headers);
        }
        if !head {
            self.response_overrides(headers);
        }
        Ok(response)
    }

    /// `If-Match`, `If-Unmodified-Since` (412) and `If-None-Match`, `If-Modified-Since` (304),
    /// in RFC 9110's order.
    fn preconditions(&self, meta: &ObjectMeta) -> Result<Option<Response>, AwsError> {
        let headers = self.headers();
        let etag_matches = |list: &str| {
            list.split(',').map(str::trim).any(|e| {
                e == "*"
                    || e.trim_start_matches("W/").trim_matches('"') == meta.etag.trim_matches('"')
            })
        };
        let date =
            |name: &str| header_str(headers, name).and_then(|v| httpdate::parse_http_date(v).ok());
        let failed = |condition: &str| {
            Err(s3_error(ErrorCode::PreconditionFailed).with_extra("Condition", condition))
        };
        let modified = meta.last_modified();
        match header_str(headers, "if-match") {
            Some(list) if !etag_matches(list) => return failed("If-Match"),
            Some(_) => {}
            None => {
                if date("if-unmodified-since").is_some_and(|since| modified > since) {
                    return failed("If-Unmodified-Since");
                }
            }
        }
        let not_modified = match header_str(headers, "if-none-match") {
            Some(list) => etag_matches(list),
            None => date("if-modified-since").is_some_and(|since| modified <= since),
        };
        if not_modified {
            let mut response = Self::status(StatusCode::NOT_MODIFIED);
            insert(response.headers_mut(), header::ETAG, &meta.etag);
            insert(
                response.headers_mut(),
                header::LAST_MODIFIED,
                &timestamp::http_date(modified),
            );
            return Ok(Some(response));
        }
        Ok(None)
    }

    pub(super) fn delete_object(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        self.s3
            .store
            .delete_object(self.bucket_name(), self.key())
            .map_err(|e| self.store_error(e))?;
        Ok(Self::status(StatusCode::NO_CONTENT))
    }

    pub(super) fn delete_objects(&self, payload: &Payload) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        let has_integrity = self.headers().contains_key("content-md5")
            || Algorithm::ALL
                .iter()
                .any(|a| self.headers().contains_key(a.header()))
            || self.headers().contains_key("x-amz-trailer");
        if !has_integrity {
            return Err(s3_error(ErrorCode::InvalidRequest)
                .with_message("Missing required header for this request: Content-MD5"));
        }
        self.verify_checksums(payload)?;
        let Delete { quiet, objects } = parse_delete(&payload.data)?;
        let mut w = XmlWriter::compact();
        w.declaration().open("DeleteResult", Some(S3_NAMESPACE));
        for (key, version) in &objects {
            let error = match version.as_deref() {
                // Without versioning every object's only version is `null`.
                None | Some(NULL_VERSION) => self
                    .s3
                    .store
                    .delete_object(self.bucket_name(), key)
                    .err()
                    .map(|e| {
                        tracing::error!(error = %e, "S3 store failed in DeleteObjects");
                        s3_error(ErrorCode::InternalError)
                    }),
                Some(_) => Some(s3_error(ErrorCode::NoSuchVersion)),
            };
            match error {
                None if quiet => {}
                None => {
                    w.open("Deleted", None).text("Key", key);
                    if let Some(v) = version {
                        w.text("VersionId", v);
                    }
                    w.close("Deleted");
                }
                Some(error) => {
                    w.open("Error", None).text("Key", key);
                    if let Some(v) = version {
                        w.text("VersionId", v);
                    }
                    w.text("Code", error.code.as_str())
                        .text("Message", &error.message)
                        .close("Error");
                }
            }
        }
        w.close("DeleteResult");
        Ok(Self::xml_response(w.finish()))
    }
}

/// How a `Range` header applies to an object of some size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RangeSpec {
    /// Not a single byte range S3 understands: the whole object is sent.
    Ignored,
    /// Inclusive byte positions.
    Satisfiable(u64, u64),
    /// `InvalidRange` (416).
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` (one range; S3 ignores lists and syntax it
/// does not know, and sends the whole object).
/// A `DeleteObjects` document: `<Delete>`, optional `<Quiet>`, one to 1000 `<Object>`s.
pub(crate) struct Delete {
    /// Report only the keys that failed.
    pub(crate) quiet: bool,
    /// (Key, VersionId): bucket-emptying tools send the `null` version ids that
    /// `ListObjectVersions` hands out.
    pub(crate) objects: Vec<(String, Option<String>)>,
}

/// Parses the `DeleteObjects` document.
///
/// # Errors
/// `MalformedXML` when it is not well-formed, has another root, an object without a key, or no
/// objects or more than 1000.
pub(crate) fn parse_delete(body: &[u8]) -> Result<Delete, AwsError> {
    let root = xml::parse(body).map_err(|_| s3_error(ErrorCode::MalformedXML))?;
    if root.name != "Delete" {
        return Err(s3_error(ErrorCode::MalformedXML));
    }
    let quiet = root.child_text("Quiet").is_some_and(|q| q.trim() == "true");
    let objects: Vec<(String, Option<String>)> = root
        .children_named("Object")
        .map(|o| {
            o.child_text("Key").map(|k| {
                let version = o.child_text("VersionId").map(|v| v.trim().to_owned());
                (k.to_owned(), version)
            })
        })
        .collect::<Option<_>>()
        .ok_or_else(|| s3_error(ErrorCode::MalformedXML))?;
    if objects.is_empty() || objects.len() > MAX_KEYS {
        return Err(s3_error(ErrorCode::MalformedXML));
    }
    Ok(Delete { quiet, objects })
}

fn parse_range(raw: &str, size: u64) -> RangeSpec {
    let Some(spec) = raw.trim().strip_prefix("bytes=") else {
        return RangeSpec::Ignored;
    };
    if spec.contains(',') {
        return RangeSpec::Ignored;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return RangeSpec::Ignored;
    };
    let (first, last) = (first.trim(), last.trim());
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (first.is_empty(), number(first), number(last)) {
        // bytes=-n: the last n bytes.
        (true, _, Some(n)) => {
            if n == 0 || size == 0 {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Satisfiable(size.saturating_sub(n), size - 1)
            }
        }
        (false, Some(start), None) if last.is_empty() => {
            if start >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Satisfiable(start, size - 1)
            }
        }
        (false, Some(start), Some(end)) if start <= end => {
            if start >= size {
                RangeSpec::Unsatisfiable
            } else {
                RangeSpec::Satisfiable(start, end.min(size - 1))
            }
        }
        _ => RangeSpec::Ignored,
    }
}

/// An object's ETag: its MD5, lower-case hex, in double quotes.
fn quoted_md5_hex(data: &[u8]) -> String {
    let mut etag = String::with_capacity(34);
    etag.push('"');
    etag.push_str(&sigv4::lower_hex(&checksum::md5(data)));
    etag.push('"');
    etag
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_as_s3_reads_them() {
        assert_eq!(parse_range("bytes=0-4", 10), RangeSpec::Satisfiable(0, 4));
        assert_eq!(parse_range("bytes=5-", 10), RangeSpec::Satisfiable(5, 9));
        assert_eq!(parse_range("bytes=-3", 10), RangeSpec::Satisfiable(7, 9));
        assert_eq!(parse_range("bytes=-30", 10), RangeSpec::Satisfiable(0, 9));
        assert_eq!(parse_range("bytes=8-100", 10), RangeSpec::Satisfiable(8, 9));
        assert_eq!(parse_range("bytes=10-", 10), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-0", 0), RangeSpec::Unsatisfiable);
        assert_eq!(parse_range("bytes=5-2", 10), RangeSpec::Ignored);
        assert_eq!(parse_range("bytes=0-1,3-4", 10), RangeSpec::Ignored);
        assert_eq!(parse_range("items=0-1", 10), RangeSpec::Ignored);
    }
}
