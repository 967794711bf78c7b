//! `ListObjectVersions` for buckets without versioning: every object is its only version,
//! `VersionId` `null` and `IsLatest` true, and there are no delete markers.
//!
//! This is what tools that empty buckets call (Terraform's `force_destroy`, test teardowns,
//! `aws s3api list-object-versions` loops): they list versions, then `DeleteObjects` each
//! `Key` with its `VersionId`, which `null` deletes. Prefix, delimiter, `max-keys`,
//! `encoding-type` and paging behave as in the object listings ([`super::listing`]): a page
//! resumes after `key-marker` (and its `null` version), and a truncated page names the last
//! entry in `NextKeyMarker`, with `NextVersionIdMarker` `null` when that entry is a key.

use axum::response::Response;

use super::listing::Marker;
use super::xml::S3_NAMESPACE;
use super::{Request, invalid_argument};
use crate::aws_error::AwsError;
use crate::timestamp;
use crate::xml::XmlWriter;

/// The version id S3 gives objects stored while versioning was never enabled.
pub(super) const NULL_VERSION: &str = "null";

impl Request<'_> {
    pub(super) fn list_object_versions(&self) -> Result<Response, AwsError> {
        let bucket = self.owned(self.bucket_name())?;
        let q = self.query;
        let listing = self.listing()?;
        let key_marker = q.get("key-marker").unwrap_or_default();
        let version_marker = q.get("version-id-marker").unwrap_or_default();
        if !version_marker.is_empty() {
            // These two answers are the mock's: AWS's is not recorded anywhere we could cite
            // (the README marks them unconfirmed).
            if key_marker.is_empty() {
                return Err(invalid_argument(
                    "A version-id marker cannot be specified without a key marker.",
                    "version-id-marker",
                    version_marker,
                ));
            }
            if version_marker != NULL_VERSION {
                return Err(invalid_argument(
                    "Invalid version id specified",
                    "version-id-marker",
                    version_marker,
                ));
            }
        }
        // Every key has one version, `null`: resuming after (key, null) is resuming after key.
        let start = (!key_marker.is_empty()).then(|| Marker::Key(key_marker.to_owned()));
        let page = self.page(&bucket.name, &listing, start.as_ref())?;
        let enc = |text: &str| listing.enc(text);

        let mut w = XmlWriter::compact();
        w.declaration()
            .open("ListVersionsResult", Some(S3_NAMESPACE))
            .text("Name", &bucket.name)
            .text("Prefix", &enc(listing.prefix))
            .text("KeyMarker", &enc(key_marker))
            .text("VersionIdMarker", version_marker);
        if let (true, Some(last)) = (page.truncated, &page.last) {
            w.text("NextKeyMarker", &enc(last.text()));
            if matches!(last, Marker::Key(_)) {
                w.text("NextVersionIdMarker", NULL_VERSION);
            }
        }
        w.text("MaxKeys", &listing.max_keys.to_string());
        if let Some(d) = listing.delimiter {
            w.text("Delimiter", &enc(d));
        }
        if listing.url_encoding {
            w.text("EncodingType", "url");
        }
        w.text("IsTruncated", if page.truncated { "true" } else { "false" });
        for object in &page.contents {
            w.open("Version", None)
                .text("Key", &enc(&object.key))
                .text("VersionId", NULL_VERSION)
                .text("IsLatest", "true")
                .text(
                    "LastModified",
                    &timestamp::rfc3339_millis(object.last_modified()),
                )
                .text("ETag", &object.etag);
            if let Some(c) = &object.checksum {
                w.text("ChecksumAlgorithm", c.algorithm.name())
                    .text("ChecksumType", c.kind.name());
            }
            w.text("Size", &object.size.to_string())
                .text("StorageClass", "STANDARD")
                .open("Owner", None)
                .text("ID", &self.canonical_owner_id())
                .close("Owner")
                .close("Version");
        }
        for prefix in &page.prefixes {
            w.open("CommonPrefixes", None)
                .text("Prefix", &enc(prefix))
                .close("CommonPrefixes");
        }
        w.close("ListVersionsResult");
        Ok(Self::xml_response(w.finish()))
    }
}
