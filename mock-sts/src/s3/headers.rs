//! Object headers: which request headers an upload keeps with an object, and which headers
//! `GetObject` and `HeadObject` return from what was kept.
//!
//! An object keeps its `Content-Type`, the content headers in [`CONTENT_HEADERS`] and its
//! `x-amz-meta-*` metadata; `aws-chunked` is framing, not a content coding, so it is dropped
//! from `Content-Encoding`. On GET the `response-*` query parameters override what is returned.
//! Headers that are not valid HTTP are skipped rather than failing the response.

use http::{HeaderMap, HeaderName, HeaderValue, header};

use super::Request;
use super::store::ObjectMeta;
use crate::timestamp;

/// Sets a response header, skipping a name or value that is not valid HTTP.
pub(super) fn insert<N>(headers: &mut HeaderMap, name: N, value: &str)
where
    HeaderName: TryFrom<N>,
{
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        headers.insert(name, value);
    }
}

/// Content headers kept with an object and returned on GET/HEAD.
const CONTENT_HEADERS: [&str; 5] = [
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// `Content-Encoding` as stored: `aws-chunked` is framing, not a content coding of the object,
/// so it is dropped; the other codings keep their bytes, separators and spaces included
/// (`deflate, gzip` comes back as sent). `None` when nothing is left.
fn without_aws_chunked(value: &str) -> Option<String> {
    let kept: Vec<&str> = value
        .split(',')
        .filter(|c| !c.trim().eq_ignore_ascii_case("aws-chunked") && !c.trim().is_empty())
        .collect();
    if kept.len() == value.split(',').count() {
        return Some(value.to_owned());
    }
    let joined = kept.join(",");
    let joined = joined.trim_start();
    (!joined.is_empty()).then(|| joined.to_owned())
}

/// The metadata an upload sets: content headers and `x-amz-meta-*` (size, ETag, time and
/// checksum are the caller's to fill in).
pub(super) fn object_meta_from_headers(headers: &HeaderMap, key: &str) -> ObjectMeta {
    let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
    let content_headers = CONTENT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = headers.get(*name).map(text)?;
            let value = if *name == "content-encoding" {
                without_aws_chunked(&value)?
            } else {
                value
            };
            Some(((*name).to_owned(), value))
        })
        .collect();
    let mut metadata: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| {
            name.as_str()
                .strip_prefix("x-amz-meta-")
                .map(|n| (n.to_owned(), text(value)))
        })
        .collect();
    metadata.sort();
    ObjectMeta {
        key: key.to_owned(),
        size: 0,
        etag: String::new(),
        last_modified_ms: 0,
        content_type: headers.get(header::CONTENT_TYPE).map(text),
        headers: content_headers,
        metadata,
        checksum: None,
        parts_count: None,
    }
}

impl Request<'_> {
    pub(super) fn object_headers(&self, headers: &mut HeaderMap, meta: &ObjectMeta) {
        insert(headers, header::ETAG, &meta.etag);
        insert(
            headers,
            header::LAST_MODIFIED,
            &timestamp::http_date(meta.last_modified()),
        );
        insert(headers, header::ACCEPT_RANGES, "bytes");
        insert(
            headers,
            header::CONTENT_TYPE,
            meta.content_type
                .as_deref()
                .unwrap_or("binary/octet-stream"),
        );
        for (name, value) in &meta.headers {
            insert(headers, name, value);
        }
        for (name, value) in &meta.metadata {
            insert(headers, &format!("x-amz-meta-{name}"), value);
        }
        if let Some(parts) = meta.parts_count
            && self.query.has("partNumber")
        {
            insert(headers, "x-amz-mp-parts-count", &parts.to_string());
        }
    }

    /// `response-content-type` and friends on GET override the stored headers.
    pub(super) fn response_overrides(&self, headers: &mut HeaderMap) {
        for (param, name) in [
            ("response-content-type", "content-type"),
            ("response-content-language", "content-language"),
            ("response-expires", "expires"),
            ("response-cache-control", "cache-control"),
            ("response-content-disposition", "content-disposition"),
            ("response-content-encoding", "content-encoding"),
        ] {
            if let Some(value) = self.query.get(param) {
                insert(headers, name, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_aws_chunked;

    #[test]
    fn content_encoding_keeps_its_bytes_but_not_aws_chunked() {
        assert_eq!(
            without_aws_chunked("deflate, gzip").as_deref(),
            Some("deflate, gzip")
        );
        assert_eq!(
            without_aws_chunked("deflate, gzip,aws-chunked").as_deref(),
            Some("deflate, gzip")
        );
        assert_eq!(
            without_aws_chunked("aws-chunked, gzip").as_deref(),
            Some("gzip")
        );
        assert_eq!(without_aws_chunked("AWS-Chunked"), None);
    }
}
