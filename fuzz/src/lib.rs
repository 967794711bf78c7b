//! What the fuzz targets share: inputs as raw HTTP/1.1 requests (so seeds are readable
//! requests captured from SDK-style signing, and libFuzzer mutates real ones), and the fixed
//! time every seed was signed at.
//!
//! A raw request is `METHOD TARGET\r\n`, header lines `name: value\r\n`, an empty line, then
//! the body (no `HTTP/1.1` needed, `\n` accepted for `\r\n`). Inputs that are not one (a bad
//! method, target or header name) are skipped: the server never sees them either, hyper
//! refuses them first.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request};

/// When the seeds were signed (2026-01-01T00:00:00Z): the targets' clocks stand there.
pub fn seed_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// Splits a raw request; `None` when it is not one.
pub fn raw_request(data: &[u8]) -> Option<Request<Bytes>> {
    let (head, body) = match find(data, b"\r\n\r\n") {
        Some(i) => (&data[..i], &data[i + 4..]),
        None => match find(data, b"\n\n") {
            Some(i) => (&data[..i], &data[i + 2..]),
            None => (data, &[][..]),
        },
    };
    let head = std::str::from_utf8(head).ok()?;
    let mut lines = head.lines();
    let mut start = lines.next()?.split(' ');
    let method = Method::from_bytes(start.next()?.as_bytes()).ok()?;
    let target = start.next()?;
    let mut request = Request::builder()
        .method(method)
        .uri(format!("http://mock-sts.local{target}"));
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let name = HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
        let value = HeaderValue::from_str(value.trim()).ok()?;
        request = request.header(name, value);
    }
    request.body(Bytes::copy_from_slice(body)).ok()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
