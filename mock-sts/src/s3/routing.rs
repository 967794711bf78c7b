//! Routing: which S3 operation a request asks for, told from its method, target (bucket, key)
//! and query alone, before authentication or the body are looked at.
//!
//! It comes first so that every event names its operation (`PutObject`), failures included,
//! and so that fault rules can match on it ([`Operation::ALL`]). The target is read as S3 reads it:
//! virtual-host style when the host is `BUCKET.localhost`, else path style; the key is
//! percent-decoded once and never normalised. Sub-resources S3 has and the mock does not serve
//! classify as `Unsupported` (`NotImplemented`), never as a neighbouring operation.

use http::request::Parts;
use http::{HeaderMap, Method, header};
use percent_encoding::percent_decode_str;

use crate::aws_error::{AwsError, ErrorCode, Service};

macro_rules! operations {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {
        /// The operations served, named as S3 names them: what S3 events record as their action
        /// and fault rules may name in `actions`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Operation { $($(#[$doc])* $name),* }

        impl Operation {
            /// Every operation, in declaration order.
            pub const ALL: &[Operation] = &[$(Operation::$name),*];

            /// The name as S3 spells it (`PutObject`), as events record it.
            pub fn as_str(self) -> &'static str {
                match self { $(Operation::$name => stringify!($name)),* }
            }
        }
    };
}

operations! {
    /// `GET /`.
    ListBuckets,
    /// `PUT /BUCKET`.
    CreateBucket,
    /// `HEAD /BUCKET`.
    HeadBucket,
    /// `DELETE /BUCKET`.
    DeleteBucket,
    /// `GET /BUCKET?location`.
    GetBucketLocation,
    /// `GET /BUCKET` (version 1).
    ListObjects,
    /// `GET /BUCKET?list-type=2`.
    ListObjectsV2,
    /// `GET /BUCKET?versions`.
    ListObjectVersions,
    /// `POST /BUCKET?delete`.
    DeleteObjects,
    /// `PUT /BUCKET/KEY`.
    PutObject,
    /// `PUT /BUCKET/KEY` with `x-amz-copy-source`.
    CopyObject,
    /// `GET /BUCKET/KEY`.
    GetObject,
    /// `HEAD /BUCKET/KEY`.
    HeadObject,
    /// `DELETE /BUCKET/KEY`.
    DeleteObject,
    /// `POST /BUCKET/KEY?uploads`.
    CreateMultipartUpload,
    /// `PUT /BUCKET/KEY?partNumber=N&uploadId=U`.
    UploadPart,
    /// `POST /BUCKET/KEY?uploadId=U`.
    CompleteMultipartUpload,
    /// `DELETE /BUCKET/KEY?uploadId=U`.
    AbortMultipartUpload,
    /// `GET /BUCKET/KEY?uploadId=U`.
    ListParts,
    /// A sub-resource or method the mock does not serve.
    Unsupported,
}

impl Operation {
    /// Operations whose body is object data (capped by `max_object_size`, not the XML limit).
    pub(super) fn uploads_data(self) -> bool {
        matches!(self, Operation::PutObject | Operation::UploadPart)
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The operation a request asks for, told from its method, target and query alone (before
/// authentication or the body), as its event will name it.
pub(crate) fn action_of(parts: &Parts) -> Operation {
    let query = Query::parse(parts.uri.query());
    match Target::from_parts(parts) {
        Ok(target) => classify(&parts.method, &target, &query, &parts.headers),
        Err(_) => Operation::Unsupported,
    }
}

/// Sub-resources S3 has and the mock does not serve (`NotImplemented`).
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "versioning",
    "website",
];

/// The decoded query.
#[derive(Debug, Default)]
pub(super) struct Query(Vec<(String, String)>);

impl Query {
    pub(super) fn parse(raw: Option<&str>) -> Query {
        Query(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    fn unsupported(&self) -> bool {
        self.0
            .iter()
            .any(|(k, _)| UNSUPPORTED_SUBRESOURCES.contains(&k.as_str()))
    }
}

/// What a request addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Target {
    pub(super) bucket: Option<String>,
    pub(super) key: Option<String>,
}

/// The host a request was sent to, without port, lower-case.
fn request_host(parts: &Parts) -> String {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.as_str().to_owned()))
        .unwrap_or_default();
    let without_port = match host.strip_prefix('[') {
        // An IPv6 literal: `[::1]:4566`.
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    without_port.to_ascii_lowercase()
}

/// A path segment, percent-decoded strictly. Not `form_urlencoded`: in a path `+` is a plus,
/// and a key that is not UTF-8 is S3's `InvalidURI`, not U+FFFD. So is a key holding a C1
/// control (U+0080..=U+009F): S3 answers 400 `InvalidURI` for `\u{ae}\u{8a}-` (apache/ozone
/// PR 10860, matching AWS), while it stores other UTF-8 (that PR's review); C0 controls stay
/// accepted, S3's answer for them unconfirmed.
pub(super) fn decode_segment(raw: &str) -> Result<String, AwsError> {
    let invalid = || AwsError::new(Service::S3, ErrorCode::InvalidURI);
    let decoded = percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| invalid())?
        .into_owned();
    if decoded.chars().any(|c| ('\u{80}'..='\u{9f}').contains(&c)) {
        return Err(invalid());
    }
    Ok(decoded)
}

impl Target {
    /// Virtual-host style when the host is `BUCKET.localhost`, else path style `/BUCKET/KEY`.
    /// The key is the rest of the raw path, percent-decoded once and never normalised.
    pub(super) fn from_parts(parts: &Parts) -> Result<Target, AwsError> {
        let path = parts.uri.path();
        let path = path.strip_prefix('/').unwrap_or(path);
        let host = request_host(parts);
        let (bucket, key) = match host.strip_suffix(".localhost") {
            Some(bucket) if !bucket.is_empty() => (bucket.to_owned(), path.to_owned()),
            _ => {
                let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
                (decode_segment(bucket)?, key.to_owned())
            }
        };
        let key = if key.is_empty() {
            None
        } else {
            Some(decode_segment(&key)?)
        };
        Ok(Target {
            bucket: (!bucket.is_empty()).then_some(bucket),
            key,
        })
    }
}

pub(super) fn classify(
    method: &Method,
    target: &Target,
    query: &Query,
    headers: &HeaderMap,
) -> Operation {
    use Operation as O;
    if query.unsupported() {
        return O::Unsupported;
    }
    let copy = headers.contains_key("x-amz-copy-source");
    match (&target.bucket, &target.key) {
        (None, _) if *method == Method::GET => O::ListBuckets,
        (None, _) => O::Unsupported,
        (Some(_), None) => match *method {
            Method::PUT => O::CreateBucket,
            Method::HEAD => O::HeadBucket,
            Method::DELETE => O::DeleteBucket,
            Method::GET if query.has("location") => O::GetBucketLocation,
            Method::GET if query.has("uploads") => O::Unsupported,
            Method::GET if query.has("versions") => O::ListObjectVersions,
            Method::GET if query.get("list-type") == Some("2") => O::ListObjectsV2,
            Method::GET => O::ListObjects,
            Method::POST if query.has("delete") => O::DeleteObjects,
            _ => O::Unsupported,
        },
        (Some(_), Some(_)) => match *method {
            Method::PUT if query.has("uploadId") && copy => O::Unsupported,
            Method::PUT if query.has("uploadId") => O::UploadPart,
            Method::PUT if copy => O::CopyObject,
            Method::PUT => O::PutObject,
            Method::GET if query.has("uploadId") => O::ListParts,
            Method::GET => O::GetObject,
            Method::HEAD => O::HeadObject,
            Method::DELETE if query.has("uploadId") => O::AbortMultipartUpload,
            Method::DELETE => O::DeleteObject,
            Method::POST if query.has("uploads") => O::CreateMultipartUpload,
            Method::POST if query.has("uploadId") => O::CompleteMultipartUpload,
            _ => O::Unsupported,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, host: &str) -> Parts {
        let (parts, ()) = http::Request::builder()
            .method(method)
            .uri(uri)
            .header("host", host)
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn path_and_virtual_host_targets() {
        let t = Target::from_parts(&parts("GET", "/bkt/a/b%20c", "127.0.0.1:4566")).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("bkt"));
        assert_eq!(t.key.as_deref(), Some("a/b c"));
        let t = Target::from_parts(&parts("GET", "/a/../b%00", "bkt.localhost:4566")).unwrap();
        assert_eq!(t.bucket.as_deref(), Some("bkt"));
        assert_eq!(t.key.as_deref(), Some("a/../b\0"));
        let t = Target::from_parts(&parts("GET", "/", "localhost:4566")).unwrap();
        assert_eq!(
            t,
            Target {
                bucket: None,
                key: None
            }
        );
        let t = Target::from_parts(&parts("GET", "/bkt/", "localhost")).unwrap();
        assert_eq!(t.key, None);
        assert_eq!(
            Target::from_parts(&parts("GET", "/bkt/%FF", "localhost"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidURI
        );
        assert_eq!(
            Target::from_parts(&parts("GET", "/bkt/%C2%AE%C2%8A-", "localhost"))
                .unwrap_err()
                .code,
            ErrorCode::InvalidURI
        );
        // U+00AE alone is a key S3 stores; a C0 control stays accepted.
        let t = Target::from_parts(&parts("GET", "/bkt/%C2%AE%0A", "localhost")).unwrap();
        assert_eq!(t.key.as_deref(), Some("\u{ae}\n"));
    }

    #[test]
    fn operations_by_method_target_and_query() {
        let op = |method: &str, uri: &str| {
            let p = parts(method, uri, "localhost");
            let t = Target::from_parts(&p).unwrap();
            classify(&p.method, &t, &Query::parse(p.uri.query()), &p.headers)
        };
        assert_eq!(op("GET", "/"), Operation::ListBuckets);
        assert_eq!(
            op("GET", "/b?list-type=2&prefix=x"),
            Operation::ListObjectsV2
        );
        assert_eq!(op("POST", "/b?delete"), Operation::DeleteObjects);
        assert_eq!(
            op("GET", "/b?versions&prefix=a"),
            Operation::ListObjectVersions
        );
        assert_eq!(op("PUT", "/b/k?x-id=PutObject"), Operation::PutObject);
        assert_eq!(
            op("PUT", "/b/k?partNumber=1&uploadId=u"),
            Operation::UploadPart
        );
        assert_eq!(op("POST", "/b/k?uploads"), Operation::CreateMultipartUpload);
        assert_eq!(
            op("POST", "/b/k?uploadId=u"),
            Operation::CompleteMultipartUpload
        );
        assert_eq!(
            op("DELETE", "/b/k?uploadId=u"),
            Operation::AbortMultipartUpload
        );
        assert_eq!(op("GET", "/b/k?uploadId=u"), Operation::ListParts);
        assert_eq!(op("GET", "/b/k?tagging"), Operation::Unsupported);
    }

    #[test]
    fn operations_are_spelled_as_s3_spells_them() {
        assert_eq!(Operation::ALL.len(), 20);
        assert_eq!(Operation::PutObject.as_str(), "PutObject");
        assert_eq!(Operation::Unsupported.as_str(), "Unsupported");
        assert_eq!(
            action_of(&parts("PUT", "/b/k", "localhost")),
            Operation::PutObject
        );
    }
}
