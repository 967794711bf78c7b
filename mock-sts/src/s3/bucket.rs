//! Buckets: `ListBuckets`, `CreateBucket`, `HeadBucket`, `DeleteBucket` and
//! `GetBucketLocation`, and S3's bucket naming rules.
//!
//! A bucket belongs to the account that created it: listings show only the caller's account's
//! buckets, and other accounts get `AccessDenied` (through `Request::owned`). A bucket's region
//! is its `LocationConstraint`, else the region the request was signed for; us-east-1 keeps
//! S3's legacy answers (re-creating your own bucket is a 200, its location constraint empty).

use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

use super::payload::Payload;
use super::store::{self, BucketMeta, StoreError};
use super::xml::{self, S3_NAMESPACE};
use super::{Request, s3_error};
use crate::aws_error::{AwsError, ErrorCode};
use crate::timestamp;
use crate::xml::XmlWriter;

impl Request<'_> {
    pub(super) fn list_buckets(&self) -> Result<Response, AwsError> {
        let mut w = XmlWriter::compact();
        w.declaration()
            .open("ListAllMyBucketsResult", Some(S3_NAMESPACE))
            .open("Owner", None)
            .text("ID", &self.canonical_owner_id())
            .close("Owner")
            .open("Buckets", None);
        for bucket in self
            .s3
            .store
            .buckets()
            .into_iter()
            .filter(|b| b.owner_account == self.account())
        {
            w.open("Bucket", None)
                .text("Name", &bucket.name)
                .text("CreationDate", &timestamp::rfc3339_millis(bucket.created()))
                .text("BucketRegion", &bucket.region)
                .close("Bucket");
        }
        w.close("Buckets").close("ListAllMyBucketsResult");
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
                location.clone_into(&mut region);
            }
        }
        let meta = BucketMeta {
            name: name.to_owned(),
            owner_account: self.account().to_owned(),
            region,
            created_ms: store::whole_seconds_ms(self.now),
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

/// S3's bucket naming rules: 3–63 characters of lower-case letters, digits, `.` and `-`,
/// starting and ending with a letter or digit, no `..`, not an IPv4 address.
pub fn valid_bucket_name(name: &str) -> bool {
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
