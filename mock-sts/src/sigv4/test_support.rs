//! Test support shared by the SigV4 unit tests: AWS's published test-suite secret and time,
//! requests as a server receives them, the published vectors (from
//! `tests/data/sigv4/vectors.json`) and a signer driving the real `aws-sigv4` crate.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    PercentEncodingMode, SignableBody, SignatureLocation, SigningSettings, UriPathNormalizationMode,
};
use http::header::HOST;
use http::request::Parts;
use http::uri::PathAndQuery;

use super::canonical::authority_host;
use super::{PathRule, SigV4Error, parse};

/// The secret of AWS's published SigV4 test suite (`aws-signing-test-suite/v4/*/context.json`).
pub(super) const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(super) const SUITE_DATE: &str = "20150830T123600Z";

pub(super) fn suite_time() -> SystemTime {
    crate::timestamp::parse_amz_date(SUITE_DATE).unwrap()
}

/// A request as a server receives it: origin-form target, headers as sent (hyper trims the
/// optional whitespace around values, so this does too).
pub(super) fn parts_from_raw(raw: &str) -> Parts {
    let mut lines = raw.lines();
    let request_line = lines.next().unwrap();
    let (method, rest) = request_line.split_once(' ').unwrap();
    let (target, _version) = rest.rsplit_once(' ').unwrap();
    let mut builder = http::Request::builder()
        .method(method)
        .uri(http::Uri::from(PathAndQuery::try_from(target).unwrap()));
    for line in lines {
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        builder = builder.header(name, value.trim());
    }
    builder.body(()).unwrap().into_parts().0
}

/// One of AWS's published SigV4 vectors.
pub(super) struct Vector {
    pub(super) name: String,
    pub(super) rule: PathRule,
    pub(super) request: String,
    pub(super) body: String,
    pub(super) canonical_request: String,
    pub(super) signature: String,
}

/// How many vectors `vectors.json` holds: every one of the table it replaced, so a truncated
/// file fails loudly instead of testing less.
const VECTOR_COUNT: usize = 19;

/// The vectors as stored: requests and canonical requests as lists of lines.
#[derive(serde::Deserialize)]
struct VectorFile {
    vectors: Vec<StoredVector>,
}

#[derive(serde::Deserialize)]
struct StoredVector {
    name: String,
    rule: String,
    request: Vec<String>,
    body: String,
    canonical_request: Vec<String>,
    signature: String,
}

// From aws-sigv4 1.6.4's copy of AWS's SigV4 test suite (`aws-signing-test-suite/v4`):
// `{header,query}-signed-request.txt`, `-canonical-request.txt` and `-signature.txt`.
// Deviations: `get-utf8` and `get-vanilla-utf8-query` send the UTF-8 character
// percent-encoded (as any HTTP client does); `get-utf8` and `get-space-normalized` were made
// with single encoding, so they check PathRule::S3 (aws-sigv4 ignores them for the same
// reason); `*-unnormalized` vectors are S3-style paths. The multi-line header vector is
// `folded_header_vector_verifies`.
/// The published vectors, in file order (the first is `header/get-vanilla`).
pub(super) fn vectors() -> Vec<Vector> {
    let file: VectorFile =
        serde_json::from_str(include_str!("../../tests/data/sigv4/vectors.json")).unwrap();
    let vectors: Vec<Vector> = file
        .vectors
        .into_iter()
        .map(|v| Vector {
            rule: match v.rule.as_str() {
                "Normalized" => PathRule::Normalized,
                "S3" => PathRule::S3,
                other => panic!("{}: unknown rule {other}", v.name),
            },
            request: v.request.join("\n"),
            body: v.body,
            canonical_request: v.canonical_request.join("\n"),
            signature: v.signature,
            name: v.name,
        })
        .collect();
    assert_eq!(vectors.len(), VECTOR_COUNT, "vectors.json");
    vectors
}

// ---- round trips against the real aws-sigv4 signer ----

pub(super) struct Signer<'a> {
    pub(super) method: &'a str,
    pub(super) uri: &'a str,
    pub(super) headers: Vec<(&'a str, &'a str)>,
    pub(super) region: &'a str,
    pub(super) service: &'a str,
    pub(super) secret: &'a str,
    pub(super) token: Option<&'a str>,
    pub(super) settings: SigningSettings,
}

impl<'a> Signer<'a> {
    pub(super) fn new(method: &'a str, uri: &'a str, service: &'a str) -> Self {
        Signer {
            method,
            uri,
            headers: Vec::new(),
            region: "us-east-1",
            service,
            secret: SUITE_SECRET,
            token: None,
            settings: SigningSettings::default(),
        }
    }

    pub(super) fn s3(mut self) -> Self {
        self.settings.percent_encoding_mode = PercentEncodingMode::Single;
        self.settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        self
    }

    pub(super) fn presigned(mut self, expires_seconds: u64) -> Self {
        self.settings.signature_location = SignatureLocation::QueryParams;
        self.settings.expires_in = Some(Duration::from_secs(expires_seconds));
        self
    }

    /// Signs, then delivers the request as a server sees it: origin-form target and the
    /// Host header an HTTP/1.1 client adds.
    pub(super) fn sign(&self, body: SignableBody<'_>) -> Parts {
        let parts = self.sign_absolute(body);
        received(parts)
    }

    /// Signs with sts-lab-test-support's signer (the one every test and bench uses), with
    /// this vector's key id, secret, scope and settings.
    pub(super) fn sign_absolute(&self, body: SignableBody<'_>) -> Parts {
        let keys = sts_lab_test_support::world::Keys {
            akid: "AKIDEXAMPLE".to_owned(),
            secret: self.secret.to_owned(),
            token: self.token.map(str::to_owned),
        };
        sts_lab_test_support::signing::Signer {
            keys: &keys,
            time: suite_time(),
            region: self.region,
            service: self.service,
            settings: self.settings.clone(),
        }
        .sign(self.method, self.uri, &self.headers, body)
        .parts
    }
}

pub(super) fn received(mut parts: Parts) -> Parts {
    let host = authority_host(&parts.uri).unwrap();
    parts.headers.insert(HOST, host.parse().unwrap());
    parts.uri = http::Uri::from(parts.uri.path_and_query().unwrap().clone());
    parts
}

pub(super) fn request(target: &str, headers: &[(&str, &str)]) -> Parts {
    let mut builder = http::Request::builder()
        .method("GET")
        .uri(http::Uri::from(PathAndQuery::try_from(target).unwrap()))
        .header(HOST, "example.amazonaws.com");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap().into_parts().0
}

pub(super) fn parse_err(target: &str, headers: &[(&str, &str)]) -> SigV4Error {
    parse(&request(target, headers)).unwrap_err()
}

pub(super) const GOOD_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";
