//! Buckets: `ListBuckets` (paged), `CreateBucket`, `HeadBucket`, `DeleteBucket` and
//! `GetBucketLocation`, and S3's bucket naming rules.
//!
//! A bucket belongs to the account that created it: listings show only the caller's account's
//! buckets, and other accounts get `AccessDenied` (through `Request::owned`). A bucket's region
//! is its `LocationConstraint`, else the region the request was signed for; us-east-1 keeps
//! S3's legacy answers (re-creating your own bucket is a 200, its location constraint empty)
//! and naming it as a constraint is `InvalidLocationConstraint`. Buckets enforce bucket-owner
//! ownership (ACLs disabled) unless created with `x-amz-object-ownership` `ObjectWriter` or
//! `BucketOwnerPreferred`, as S3 creates them since April 2023.

use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::payload::Payload;
use super::store::{self, BucketMeta, StoreError};
use super::xml::{self, S3_NAMESPACE};
use super::{Request, header_str, invalid_argument, s3_error};
use crate::aws_error::{AwsError, ErrorCode};
use crate::timestamp;
use crate::xml::XmlWriter;

/// Largest `max-buckets`, and the page size of a paged request without it (S3 API reference,
/// ListBuckets).
const MAX_BUCKETS_PAGE: usize = 10_000;

impl Request<'_> {
    /// `ListBuckets`, paged when asked: `max-buckets` (1..=10000), `continuation-token`,
    /// `prefix` and `bucket-region`. Without `max-buckets`, the other three page by 10,000 and
    /// an unpaged request gets every bucket (S3 API reference, ListBuckets
    /// `ContinuationToken`: "If you specify the bucket-region, prefix, or continuation-token
    /// query parameters without using max-buckets … Amazon S3 applies a default page size of
    /// 10,000"). The token is opaque: the base64 of the last name listed.
    pub(super) fn list_buckets(&self) -> Result<Response, AwsError> {
        let q = self.query;
        let prefix = q.get("prefix");
        let region = q.get("bucket-region");
        let token = q.get("continuation-token");
        let after = token
            .map(|t| {
                BASE64
                    .decode(t)
                    .ok()
                    .and_then(|raw| String::from_utf8(raw).ok())
                    .ok_or_else(|| {
                        invalid_argument(
                            "The continuation token provided is incorrect",
                            "continuation-token",
                            t,
                        )
                    })
            })
            .transpose()?;
        let page_size = match q.get("max-buckets") {
            Some(raw) => raw
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_BUCKETS_PAGE).contains(n))
                .ok_or_else(|| {
                    invalid_argument(
                        "Argument max-buckets must be an integer between 1 and 10000",
                        "max-buckets",
                        raw,
                    )
                })?,
            None if prefix.is_some() || region.is_some() || token.is_some() => MAX_BUCKETS_PAGE,
            None => usize::MAX,
        };
        let mut buckets: Vec<BucketMeta> = self
            .s3
            .store
            .buckets()
            .into_iter()
            .filter(|b| b.owner_account == self.account())
            .filter(|b| prefix.is_none_or(|p| b.name.starts_with(p)))
            .filter(|b| region.is_none_or(|r| b.region == r))
            .filter(|b| after.as_ref().is_none_or(|a| b.name.as_str() > a.as_str()))
            .collect();
        let next = (buckets.len() > page_size).then(|| {
            buckets.truncate(page_size);
            buckets
                .last()
                .map(|b| BASE64.encode(&b.name))
                .unwrap_or_default()
        });
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("ListAllMyBucketsResult", Some(S3_NAMESPACE))
            .open("Owner", None)
            .text("ID", &self.canonical_owner_id())
            .close("Owner")
            .open("Buckets", None);
        for bucket in &buckets {
            w.open("Bucket", None)
                .text("Name", &bucket.name)
                .text("CreationDate", &timestamp::rfc3339_millis(bucket.created()))
                .text("BucketRegion", &bucket.region)
                .close("Bucket");
        }
        w.close("Buckets");
        if let Some(next) = &next {
            w.text("ContinuationToken", next);
        }
        if let Some(p) = prefix {
            w.text("Prefix", p);
        }
        w.close("ListAllMyBucketsResult");
        Ok(Self::xml_response(w.finish()))
    }

    pub(super) fn create_bucket(&self, payload: &Payload) -> Result<Response, AwsError> {
        let name = self.bucket_name();
        if !valid_bucket_name(name) {
            return Err(s3_error(ErrorCode::InvalidBucketName).with_extra("BucketName", name));
        }
        let request_region = self.verified.signature.scope.region.clone();
        let mut region = request_region.clone();
        if !payload.data.iter().all(u8::is_ascii_whitespace) {
            let root = xml::parse(&payload.data).map_err(|_| s3_error(ErrorCode::MalformedXML))?;
            if root.name != "CreateBucketConfiguration" {
                return Err(s3_error(ErrorCode::MalformedXML));
            }
            if let Some(location) = root.child_text("LocationConstraint").map(str::trim)
                && !location.is_empty()
            {
                // us-east-1 is the absence of a constraint; naming it is refused (AWS's
                // `<Error>` with `<LocationConstraint>`: minio/minio-py#166, boto/boto3#125).
                if location == "us-east-1" {
                    return Err(s3_error(ErrorCode::InvalidLocationConstraint)
                        .with_extra("LocationConstraint", location));
                }
                location.clone_into(&mut region);
            }
        }
        // Since April 2023 new buckets enforce bucket-owner ownership unless the request asks
        // otherwise, and a CreateBucket that also grants an ACL is refused (aws/aws-cdk#25288,
        // kubernetes/kops#15454; the boto3 CreateBucket documentation, aws/aws-sdk#565).
        let acls_enabled = header_str(self.headers(), "x-amz-object-ownership")
            .is_some_and(|o| o == "ObjectWriter" || o == "BucketOwnerPreferred");
        if !acls_enabled && grants_acl(self.headers()) {
            return Err(s3_error(ErrorCode::InvalidBucketAclWithObjectOwnership));
        }
        let meta = BucketMeta {
            name: name.to_owned(),
            owner_account: self.account().to_owned(),
            region,
            created_ms: store::whole_seconds_ms(self.now),
            acls_enabled,
        };
        match self.s3.store.create_bucket(meta) {
            Ok(()) => {}
            // S3 keeps a legacy answer in us-east-1: re-creating your own bucket is a 200.
            Err(StoreError::BucketExists(owner))
                if owner == self.account() && request_region == "us-east-1" => {}
            Err(StoreError::BucketExists(owner)) if owner == self.account() => {
                return Err(
                    s3_error(ErrorCode::BucketAlreadyOwnedByYou).with_extra("BucketName", name)
                );
            }
            Err(StoreError::BucketExists(_)) => {
                return Err(s3_error(ErrorCode::BucketAlreadyExists).with_extra("BucketName", name));
            }
            Err(e) => return Err(self.store_error(e)),
        }
        let mut response = Self::status(StatusCode::OK);
        if let Ok(location) = HeaderValue::from_str(&format!("/{name}")) {
            response.headers_mut().insert(header::LOCATION, location);
        }
        Ok(response)
    }

    pub(super) fn head_bucket(&self) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        let mut response = Self::status(StatusCode::OK);
        if let Ok(region) = HeaderValue::from_str(&bucket.region) {
            response.headers_mut().insert("x-amz-bucket-region", region);
        }
        Ok(response)
    }

    pub(super) fn delete_bucket(&self) -> Result<Response, AwsError> {
        self.owned(self.bucket_name())?;
        self.s3
            .store
            .delete_bucket(self.bucket_name())
            .map_err(|e| self.store_error(e))?;
        Ok(Self::status(StatusCode::NO_CONTENT))
    }

    pub(super) fn bucket_location(&self) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        // us-east-1 answers an empty constraint.
        let region = if bucket.region == "us-east-1" {
            ""
        } else {
            bucket.region.as_str()
        };
        Ok(Self::xml_response(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"{S3_NAMESPACE}\">{}</LocationConstraint>",
            crate::xml::escape(region)
        )))
    }
}

/// Whether a request grants an ACL: a canned `x-amz-acl` other than `private` and
/// `bucket-owner-full-control` (the two a bucket-owner-enforced bucket accepts, S3 user guide
/// "Controlling ownership of objects"), or any `x-amz-grant-*` header.
fn grants_acl(headers: &HeaderMap) -> bool {
    let canned = header_str(headers, "x-amz-acl")
        .is_some_and(|acl| acl != "private" && acl != "bucket-owner-full-control");
    canned
        || headers
            .keys()
            .any(|name| name.as_str().starts_with("x-amz-grant-"))
}

impl Request<'_> {
    /// Refuses an object write that grants an ACL on a bucket that does not allow ACLs
    /// (`AccessControlListNotSupported`, 400: anacronw/multer-s3#161,
    /// jakejarvis/s3-sync-action#85, PutObject with `public-read`).
    pub(super) fn refuse_object_acl(&self, bucket: &BucketMeta) -> Result<(), AwsError> {
        if !bucket.acls_enabled && grants_acl(self.headers()) {
            return Err(s3_error(ErrorCode::AccessControlListNotSupported));
        }
        Ok(())
    }
}

/// S3's bucket naming rules: 3–63 characters of lower-case letters, digits, `.` and `-`,
/// starting and ending with a letter or digit, no `..`, not an IPv4 address.
pub(crate) fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let edge = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && bytes.first().is_some_and(edge)
        && bytes.last().is_some_and(edge)
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names() {
        for good in ["abc", "my-bucket.1", "a1b"] {
            assert!(valid_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            "ABC",
            "-abc",
            "abc-",
            "a..b",
            "192.168.1.1",
            &"a".repeat(64),
            "a_b",
        ] {
            assert!(!valid_bucket_name(bad), "{bad}");
        }
    }
}
