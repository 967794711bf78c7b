//! Preconditions on writes: conditional writes (`If-None-Match: *`, `If-Match: ETAG` on
//! `PutObject`, `CompleteMultipartUpload` and a `CopyObject`'s destination, S3 since 2024) and the
//! copy-source conditions of `CopyObject` (`x-amz-copy-source-if-*`).
//!
//! Conditional writes are judged against the object the write would replace, inside the
//! store's lock ([`super::store::Store::put_object_if`]), so of two writers racing with
//! `If-None-Match: *` one wins and the other gets 412, as the S3 user guide's "conditional
//! writes" page says of concurrent conditional writes. A multipart upload whose key changed
//! between `CreateMultipartUpload` and a conditional `CompleteMultipartUpload` gets 409
//! `ConditionalRequestConflict` ("If a conflicting operation occurs during the upload S3
//! returns a 409 ConditionalRequestConflict response": S3 API reference,
//! CompleteMultipartUpload `If-Match`/`If-None-Match`). Reads keep their own, RFC 9110,
//! preconditions in `object`.

use std::time::SystemTime;

use http::HeaderMap;

use super::store::ObjectMeta;
use super::{header_str, s3_error};
use crate::aws_error::{AwsError, ErrorCode};

/// Whether an `If-Match`/`If-None-Match` list names `etag` (`*` names any).
fn etag_listed(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(str::trim)
        .any(|e| e == "*" || e.trim_start_matches("W/").trim_matches('"') == etag.trim_matches('"'))
}

fn precondition_failed(condition: &str) -> AwsError {
    s3_error(ErrorCode::PreconditionFailed).with_extra("Condition", condition)
}

/// The conditional-write headers of a `PutObject` or `CompleteMultipartUpload`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct WriteCondition {
    if_match: Option<String>,
    if_none_match: Option<String>,
}

impl WriteCondition {
    pub(super) fn from_headers(headers: &HeaderMap) -> WriteCondition {
        WriteCondition {
            if_match: header_str(headers, "if-match").map(str::to_owned),
            if_none_match: header_str(headers, "if-none-match").map(str::to_owned),
        }
    }

    /// Whether the write carries a condition at all.
    pub(super) fn is_conditional(&self) -> bool {
        self.if_match.is_some() || self.if_none_match.is_some()
    }

    /// Judges the write against `current`, the object it would replace.
    ///
    /// # Errors
    /// `If-None-Match` naming the current object: 412 `PreconditionFailed`. `If-Match` when
    /// there is no object: 404 `NoSuchKey` (S3 user guide, conditional writes: "the operation
    /// fails with a 404 Not Found error"); naming another ETag: 412 (S3 API reference, PutObject
    /// `If-Match`: "If the ETag values do not match, the operation returns a 412").
    pub(super) fn check(&self, current: Option<&ObjectMeta>, key: &str) -> Result<(), AwsError> {
        if let Some(list) = &self.if_none_match
            && let Some(object) = current
            && etag_listed(list, &object.etag)
        {
            return Err(precondition_failed("If-None-Match"));
        }
        if let Some(list) = &self.if_match {
            match current {
                None => {
                    return Err(s3_error(ErrorCode::NoSuchKey).with_extra("Key", key.to_owned()));
                }
                Some(object) if !etag_listed(list, &object.etag) => {
                    return Err(precondition_failed("If-Match"));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// Judges a conditional `CompleteMultipartUpload`: 409 `ConditionalRequestConflict` when
    /// the key no longer holds what it held when the upload was created (`created_with`, its
    /// ETag then), else as [`WriteCondition::check`].
    ///
    /// # Errors
    /// As above.
    pub(super) fn check_completion(
        &self,
        current: Option<&ObjectMeta>,
        created_with: Option<&str>,
        key: &str,
    ) -> Result<(), AwsError> {
        if self.is_conditional() && current.map(|o| o.etag.as_str()) != created_with {
            return Err(s3_error(ErrorCode::ConditionalRequestConflict));
        }
        self.check(current, key)
    }
}

/// `CopyObject`'s conditions on its source, as the S3 API reference (CopyObject) states them:
/// `x-amz-copy-source-if-match` true wins over `-if-unmodified-since` false (200, copied);
/// `-if-none-match` false fails even with `-if-modified-since` true; every failure is 412
/// `PreconditionFailed` (a copy never answers 304). Dates that do not parse are ignored, as
/// RFC 9110 says of invalid dates.
///
/// # Errors
/// 412 `PreconditionFailed` naming the header that failed.
pub(super) fn check_copy_source(headers: &HeaderMap, source: &ObjectMeta) -> Result<(), AwsError> {
    let date = |name: &str| -> Option<SystemTime> {
        header_str(headers, name).and_then(|v| httpdate::parse_http_date(v).ok())
    };
    let modified = source.last_modified();
    match header_str(headers, "x-amz-copy-source-if-match") {
        Some(list) if !etag_listed(list, &source.etag) => {
            return Err(precondition_failed("x-amz-copy-source-If-Match"));
        }
        Some(_) => {}
        None => {
            if date("x-amz-copy-source-if-unmodified-since").is_some_and(|since| modified > since) {
                return Err(precondition_failed("x-amz-copy-source-If-Unmodified-Since"));
            }
        }
    }
    match header_str(headers, "x-amz-copy-source-if-none-match") {
        Some(list) if etag_listed(list, &source.etag) => {
            Err(precondition_failed("x-amz-copy-source-If-None-Match"))
        }
        Some(_) => Ok(()),
        None => {
            if date("x-amz-copy-source-if-modified-since").is_some_and(|since| modified <= since) {
                Err(precondition_failed("x-amz-copy-source-If-Modified-Since"))
            } else {
                Ok(())
            }
        }
    }
}
