//! Requests signed by the real `aws-sigv4` crate, with the rules each SDK applies: the one
//! signing set-up of the tests and benches, so the mock is always checked against AWS's signer
//! and never against itself.
//!
//! A [`Signer`] holds who signs, when, where and how ([`SigningSettings`]); [`Signer::sign`]
//! signs a request given as method, absolute URI, headers and body, and hands back its head
//! with the signature applied. [`Signed::received`] turns that head into what a server
//! receives (origin-form target, a `Host` header).

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableRequest, SignatureLocation,
    UriPathNormalizationMode, sign,
};
pub use aws_sigv4::http_request::{SignableBody, SigningSettings};
use aws_sigv4::sign::v4;
use http::request::Parts;

use crate::world::Keys;

/// The content type an SDK sends with a query-protocol (STS) form POST.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";

/// Who signs, when, for which region and service, with which settings.
#[derive(Debug, Clone)]
pub struct Signer<'a> {
    /// The keys.
    pub keys: &'a Keys,
    /// The signing time (`X-Amz-Date`).
    pub time: SystemTime,
    /// The region of the credential scope.
    pub region: &'a str,
    /// The service of the credential scope.
    pub service: &'a str,
    /// Encoding, normalisation, payload header and signature location.
    pub settings: SigningSettings,
}

/// A signed request head and its signature (the seed of an aws-chunked body's chain).
#[derive(Debug)]
pub struct Signed {
    /// Method, absolute URI and headers, the signature's included.
    pub parts: Parts,
    /// The request's signature, hex.
    pub signature: String,
}

impl<'a> Signer<'a> {
    /// STS's rules (every service but S3's): paths normalised and double-encoded, the body
    /// hashed into the signature, in us-east-1.
    pub fn sts(keys: &'a Keys, time: SystemTime) -> Signer<'a> {
        Signer {
            keys,
            time,
            region: "us-east-1",
            service: "sts",
            settings: SigningSettings::default(),
        }
    }

    /// aws-sdk-s3's rules: the path encoded once and never normalised, the payload hash sent
    /// in `x-amz-content-sha256`, in us-east-1.
    pub fn s3(keys: &'a Keys, time: SystemTime) -> Signer<'a> {
        let mut settings = SigningSettings::default();
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        Signer {
            service: "s3",
            settings,
            ..Signer::sts(keys, time)
        }
    }

    /// The same rules, for another service name in the credential scope.
    pub fn service(self, service: &'a str) -> Signer<'a> {
        Signer { service, ..self }
    }

    /// The same rules, for another region.
    pub fn region(self, region: &'a str) -> Signer<'a> {
        Signer { region, ..self }
    }

    /// Presigned: the signature in the query, valid for `expires` (no payload header, as the
    /// SDKs' presigned URLs carry none).
    pub fn presigned(mut self, expires: Duration) -> Signer<'a> {
        self.settings.signature_location = SignatureLocation::QueryParams;
        self.settings.expires_in = Some(expires);
        self.settings.payload_checksum_kind = PayloadChecksumKind::NoHeader;
        self
    }

    /// Signs `method uri` with `headers` (every one is signed; give `host` when the server
    /// should see one) and `body`. Panics when aws-sigv4 refuses the input: a test's request
    /// is a constant of the test.
    pub fn sign(
        &self,
        method: &str,
        uri: &str,
        headers: &[(&str, &str)],
        body: SignableBody<'_>,
    ) -> Signed {
        let identity = self.keys.identity();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(self.settings.clone())
            .build()
            .unwrap_or_else(|e| panic!("signing parameters: {e}"))
            .into();
        let signable = SignableRequest::new(method, uri, headers.iter().copied(), body)
            .unwrap_or_else(|e| panic!("signable request {method} {uri}: {e}"));
        let output = sign(signable, &params).unwrap_or_else(|e| panic!("signing {uri}: {e}"));
        let signature = output.signature().to_owned();
        let (instructions, _) = output.into_parts();
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder
            .body(())
            .unwrap_or_else(|e| panic!("request {method} {uri}: {e}"));
        instructions.apply_to_request_http1x(&mut request);
        Signed {
            parts: request.into_parts().0,
            signature,
        }
    }
}

impl Signed {
    /// The head as a server receives it: origin-form target, and a `Host` header from the
    /// URI's authority when the request was signed without one.
    pub fn received(self) -> Parts {
        received(self.parts)
    }
}

/// `parts` as a server receives them: origin-form target, and a `Host` header from the URI's
/// authority when there is none.
pub fn received(mut parts: Parts) -> Parts {
    if !parts.headers.contains_key(http::header::HOST)
        && let Some(authority) = parts.uri.authority()
        && let Ok(host) = authority.as_str().parse()
    {
        parts.headers.insert(http::header::HOST, host);
    }
    if let Some(target) = parts.uri.path_and_query().cloned() {
        parts.uri = http::Uri::from(target);
    }
    parts
}

/// `text` form-encoded as the SDKs encode query-protocol values (unreserved characters kept,
/// every other byte `%XX`).
pub fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
