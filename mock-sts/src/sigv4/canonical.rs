//! The canonical request, built from exactly what was received: the raw path per [`PathRule`],
//! the raw query re-encoded and sorted, and the signed headers' values as they arrived.
//!
//! Never re-serialised through a framework: every rule follows `aws-sigv4` 1.6 (the Rust SDK's
//! signer), and where it and AWS's documentation or botocore disagree, the comment at that spot
//! says which side was taken and why. Also the canonical form of aws-chunked trailers.

use http::request::Parts;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};

use super::{AuthKind, ParsedSignature, SigV4Error};

/// The SigV4 "unreserved" set: everything but `A-Za-z0-9-_.~` is `%XX`-encoded, upper-case hex
/// (the same set as aws-smithy-http's `BASE_SET`, which aws-sigv4 uses for query and path).
pub(super) const SIGV4_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// The same set keeping `/`: aws-sigv4's "greedy label" encoding of a path.
pub(super) const SIGV4_ENCODE_PATH: &AsciiSet = &SIGV4_ENCODE.remove(b'/');

/// Which canonicalisation rules apply to the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathRule {
    /// Every service but S3: remove dot segments, merge repeated slashes, then encode each
    /// character of the (already encoded) path again, so `%` becomes `%25`. This is aws-sigv4's
    /// default (`UriPathNormalizationMode::Enabled`, `PercentEncodingMode::Double`) and
    /// botocore's `SigV4Auth`.
    Normalized,
    /// S3: no normalisation; each segment is percent-decoded once and re-encoded strictly, so a
    /// path the client encoded strictly (as every SDK does) is used as received. aws-sigv4 with
    /// `Single` + `Disabled`, botocore's `S3SigV4Auth`.
    S3,
}

pub(super) fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Splits a raw query into decoded pairs with `form_urlencoded::parse`, the very call aws-sigv4
/// 1.6 canonicalises with: `&`-separated, empty pieces skipped, a piece without `=` has an empty
/// value, `+` is a space, `%XX` is decoded (a malformed escape stays literal) and invalid UTF-8
/// becomes U+FFFD. Duplicate keys are kept, in order; [`canonical_query`] sorts them by value.
///
/// Decision: `+` means space. aws-sigv4 1.6 (and smithy-rs main as of 2026-08) does so, and so
/// does AWS itself as far as public reports show: S3 accepts a URL whose spaces were sent as
/// `+` but signed as `%20` (mhart/aws4fetch#83), and Ceph RGW maps `+` to `%20` to match AWS
/// (ceph/ceph#16116). botocore would sign a raw `+` literally, but no SDK sends one: they all
/// encode `+` as `%2B`. See smithy-lang/smithy-rs#4227 for the debate.
pub(super) fn decoded_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

fn encode(text: &str) -> String {
    percent_encode(text.as_bytes(), SIGV4_ENCODE).to_string()
}

/// The canonical query: every parameter (but `X-Amz-Signature` of a presigned URL) decoded,
/// re-encoded with the SigV4 set, sorted by encoded key then value.
#[cfg(test)]
fn canonical_query(raw: &str, presigned: bool) -> String {
    let mut out = String::new();
    push_canonical_query(&mut out, raw, presigned);
    out
}

/// Whether `text` is all SigV4-unreserved characters (`A-Za-z0-9-_.~`), plus `extra`: then
/// decoding and re-encoding it gives it back unchanged.
fn unreserved(text: &str, extra: &[u8]) -> bool {
    text.bytes().all(|b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || extra.contains(&b)
    })
}

/// [`canonical_query`], appended to `out`. A query of unreserved keys and values (what SDKs
/// send: `x-id=GetObject`, `list-type=2&prefix=…`) is sorted as it is, with nothing to decode
/// or encode: the same result without a string per key and value.
fn push_canonical_query(out: &mut String, raw: &str, presigned: bool) {
    if raw.is_empty() {
        return;
    }
    // A second `=` in a piece belongs to its value and is encoded (`a=b=c` -> `a=b%3Dc`):
    // such a query takes the general path.
    if unreserved(raw, b"=&")
        && raw
            .split('&')
            .all(|piece| piece.bytes().filter(|&b| b == b'=').count() <= 1)
    {
        let mut pairs: Vec<(&str, &str)> = raw
            .split('&')
            .filter(|piece| !piece.is_empty())
            .map(|piece| piece.split_once('=').unwrap_or((piece, "")))
            .filter(|(k, _)| !(presigned && *k == "X-Amz-Signature"))
            .collect();
        pairs.sort_unstable();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(k);
            out.push('=');
            out.push_str(v);
        }
        return;
    }
    out.push_str(&general_canonical_query(raw, presigned));
}

/// [`canonical_query`] for any query: decoded, re-encoded, sorted.
fn general_canonical_query(raw: &str, presigned: bool) -> String {
    let mut pairs: Vec<(String, String)> = decoded_query(raw)
        .into_iter()
        .filter(|(k, _)| !(presigned && k == "X-Amz-Signature"))
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The canonical URI for the given rule (see [`PathRule`]).
#[cfg(test)]
fn canonical_path(raw: &str, rule: PathRule) -> String {
    let mut out = String::new();
    push_canonical_path(&mut out, raw, rule);
    out
}

/// [`canonical_path`], appended to `out`. A path of unreserved characters and single slashes
/// without dot segments (every SDK's `/bucket/key` and STS's `/`) is its own canonical form
/// under both rules.
fn push_canonical_path(out: &mut String, raw: &str, rule: PathRule) {
    let plain = raw.starts_with('/')
        && unreserved(raw, b"/")
        && (rule == PathRule::S3 || !(raw.contains("//") || raw.contains("/.")));
    if plain {
        out.push_str(raw);
    } else {
        out.push_str(&general_canonical_path(raw, rule));
    }
}

/// [`canonical_path`] for any path.
fn general_canonical_path(raw: &str, rule: PathRule) -> String {
    match rule {
        PathRule::Normalized => {
            let normalized = normalize_path(raw);
            percent_encode(normalized.as_bytes(), SIGV4_ENCODE_PATH).to_string()
        }
        PathRule::S3 => {
            if raw.is_empty() {
                return "/".to_owned();
            }
            // Segment by segment, so an encoded `%2F` stays `%2F` while `/` stays `/`.
            raw.split('/')
                .map(|segment| {
                    let bytes: Vec<u8> = percent_decode_str(segment).collect();
                    percent_encode(&bytes, SIGV4_ENCODE).to_string()
                })
                .collect::<Vec<_>>()
                .join("/")
        }
    }
}

/// RFC 3986 §5.2.4 dot-segment removal plus merging of empty segments, exactly as aws-sigv4's
/// `normalize_uri_path` (which the published test suite's `*-normalized` vectors check). It
/// differs from botocore's `remove_dot_segments` only for paths ending in `/.` or `/..`, which
/// keep a trailing slash here.
fn normalize_path(raw: &str) -> String {
    if raw.is_empty() {
        return "/".to_owned();
    }
    let absolute = if raw.starts_with('/') {
        raw.to_owned()
    } else {
        format!("/{raw}")
    };
    if !(absolute.contains('.') || absolute.contains("//")) {
        return absolute;
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in absolute.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    let mut result = format!("/{}", segments.join("/"));
    let ends_with_slash = ["/", "/.", "/./", "/..", "/../"]
        .iter()
        .any(|suffix| absolute.ends_with(suffix));
    if ends_with_slash && !result.ends_with('/') {
        result.push('/');
    }
    result
}

/// aws-sigv4's `trim_all`: trims and collapses runs of spaces only (0x20, not tabs), "as S3
/// does". botocore and JS v3 collapse every whitespace; a tab inside a signed value is the only
/// case where they differ, and the Rust SDK is the client under test.
#[cfg(test)]
fn trim_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    push_trim_all(&mut out, value);
    out
}

/// [`trim_all`], appended to `out`: the runs between double spaces are copied whole.
fn push_trim_all(out: &mut String, value: &str) {
    // Most values (dates, hashes, the session token) have no space at all: found by memchr,
    // where `find("  ")` walks a 1-KiB token with a substring search.
    if !value.as_bytes().contains(&b' ') {
        out.push_str(value);
        return;
    }
    let mut rest = value.trim_matches(' ');
    while let Some(i) = rest.find("  ") {
        // Up to and including the run's first space; the rest of the run is skipped.
        out.push_str(&rest[..=i]);
        rest = rest[i..].trim_start_matches(' ');
    }
    out.push_str(rest);
}

/// Appends the values of a signed header to `out`, canonicalised and joined with `,`; `false`
/// when the request has none. `host` falls back to the URI authority (HTTP/2 or in-process
/// requests), minus a default port as aws-sigv4 does.
fn push_canonical_header_value(out: &mut String, parts: &Parts, name: &str) -> bool {
    let mut any = false;
    if !name.starts_with(':') {
        for value in parts.headers.get_all(name) {
            if any {
                out.push(',');
            }
            any = true;
            match std::str::from_utf8(value.as_bytes()) {
                Ok(text) => push_trim_all(out, text),
                Err(_) => push_trim_all(out, &lossy(value.as_bytes())),
            }
        }
    }
    if any {
        return true;
    }
    if (name == "host" || name == ":authority")
        && let Some(host) = authority_host(&parts.uri)
    {
        out.push_str(&host);
        return true;
    }
    false
}

pub(super) fn authority_host(uri: &http::Uri) -> Option<String> {
    let authority = uri.authority()?;
    let default_port = matches!(
        (uri.scheme_str(), authority.port_u16()),
        (Some("http"), Some(80)) | (Some("https"), Some(443))
    );
    Some(if default_port {
        authority.host().to_owned()
    } else {
        authority.as_str().to_owned()
    })
}

/// The canonical request for a parsed request:
/// `METHOD\nCANONICAL_URI\nCANONICAL_QUERY\nCANONICAL_HEADERS\n\nSIGNED_HEADERS\nPAYLOAD_HASH`.
///
/// Headers appear in the order of `SignedHeaders` as received. Fails with
/// [`SigV4Error::MissingSignedHeader`] when a signed header is absent.
pub(crate) fn canonical_request(
    parts: &Parts,
    sig: &ParsedSignature,
    payload_hash: &str,
    rule: PathRule,
) -> Result<String, SigV4Error> {
    // Written into one buffer: this runs for every request the mock authenticates.
    let mut out = String::with_capacity(512);
    out.push_str(parts.method.as_str());
    out.push('\n');
    push_canonical_path(&mut out, parts.uri.path(), rule);
    out.push('\n');
    push_canonical_query(
        &mut out,
        parts.uri.query().unwrap_or(""),
        sig.kind == AuthKind::Presigned,
    );
    out.push('\n');
    for name in &sig.signed_headers {
        out.push_str(name);
        out.push(':');
        if !push_canonical_header_value(&mut out, parts, name) {
            return Err(SigV4Error::MissingSignedHeader(name.clone()));
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in sig.signed_headers.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    Ok(out)
}

/// The canonical form of trailing headers whose hash a trailer signature covers, as aws-sigv4's
/// `sign_trailer` builds it: sorted by lower-case name, each `name:value\n` with the name
/// lower-cased and the value trimmed.
pub(crate) fn canonical_trailers(trailers: &[(&str, &str)]) -> String {
    let mut lines: Vec<(String, &str)> = trailers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.trim()))
        .collect();
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    lines
        .iter()
        .map(|(name, value)| format!("{name}:{value}\n"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_canonicalisation_follows_aws_sigv4() {
        // `+` is a space (see decoded_query), `%2B` a plus; valueless keys get `=`; sorting is
        // by encoded key then value; a malformed escape stays literal.
        assert_eq!(
            canonical_query("b=2&a=x+y&a=%2B&c&&d=%zz&%E1%88%B4=1", false),
            "%E1%88%B4=1&a=%2B&a=x%20y&b=2&c=&d=%25zz"
        );
        assert_eq!(
            canonical_query("X-Amz-Signature=1&a=1", false),
            "X-Amz-Signature=1&a=1"
        );
        assert_eq!(canonical_query("X-Amz-Signature=1&a=1", true), "a=1");
        // Bad input never fails the canonicalisation (the signature then fails to match):
        // invalid UTF-8 is U+FFFD, a truncated escape stays literal, the first `=` splits.
        assert_eq!(
            canonical_query("f=%FF&g=%4&e==x&h=%", false),
            "e=%3Dx&f=%EF%BF%BD&g=%254&h=%25"
        );
    }

    #[test]
    fn the_fast_paths_agree_with_the_general_rules() {
        let queries = [
            "",
            "x-id=GetObject",
            "list-type=2&prefix=pipeline",
            "b=2&a=1&a=0",
            "a",
            "a&&b=",
            "X-Amz-Signature=ab&X-Amz-Date=1",
            "a=%41",
            "a=b+c",
            "k=v~._-",
            "=v&k=",
            "a=b=c",
            "e==x&a=1",
        ];
        for q in queries {
            for presigned in [false, true] {
                assert_eq!(
                    canonical_query(q, presigned),
                    general_canonical_query(q, presigned),
                    "{q:?}"
                );
            }
        }
        let paths = [
            "",
            "/",
            "/bucket/pipeline/worker-0/part-0000",
            "/a//b",
            "/a/./b",
            "/a/../b",
            "/a/..",
            "/a/.",
            "/a.b/c~d_e-f",
            "a/b",
            "/a%20b",
            "/a+b",
            "/.hidden",
            "/a/",
        ];
        for p in paths {
            for rule in [PathRule::S3, PathRule::Normalized] {
                assert_eq!(
                    canonical_path(p, rule),
                    general_canonical_path(p, rule),
                    "{p:?} {rule:?}"
                );
            }
        }
        for v in ["", " ", "a", " a  b   c ", "a\tb  ", "  x", "a  "] {
            let expected: String = {
                // The definition: trim spaces, collapse runs of spaces.
                let mut out = String::new();
                let mut previous_space = false;
                for c in v.trim_matches(' ').chars() {
                    if !(c == ' ' && previous_space) {
                        out.push(c);
                    }
                    previous_space = c == ' ';
                }
                out
            };
            assert_eq!(trim_all(v), expected, "{v:?}");
        }
    }

    #[test]
    fn path_canonicalisation_per_rule() {
        assert_eq!(
            canonical_path("/a/./b/../c//d/", PathRule::Normalized),
            "/a/c/d/"
        );
        assert_eq!(
            canonical_path("/a%20b/%2F", PathRule::Normalized),
            "/a%2520b/%252F"
        );
        assert_eq!(canonical_path("/a/b/..", PathRule::Normalized), "/a/");
        assert_eq!(
            canonical_path("/a/./b/../c//d/", PathRule::S3),
            "/a/./b/../c//d/"
        );
        assert_eq!(
            canonical_path("/a%20b/%2F/a+b/'", PathRule::S3),
            "/a%20b/%2F/a%2Bb/%27"
        );
        assert_eq!(canonical_path("", PathRule::S3), "/");
    }

    #[test]
    fn host_falls_back_to_the_uri_authority() {
        let authority = |uri: &str| authority_host(&uri.parse().unwrap());
        assert_eq!(
            authority("https://example.com:443/"),
            Some("example.com".to_owned())
        );
        assert_eq!(
            authority("http://example.com:80/"),
            Some("example.com".to_owned())
        );
        assert_eq!(
            authority("http://example.com:8080/"),
            Some("example.com:8080".to_owned())
        );
        assert_eq!(authority("/"), None);
    }
}
