//! Sign → verify through the router, as properties: requests signed by the real `aws-sigv4`
//! crate — any method STS or S3 serves, paths with reserved and non-ASCII characters, arbitrary
//! query parameters, headers and bodies, header and presigned forms, and aws-chunked bodies
//! with chunk and trailer signatures (`sign_chunk` / `sign_trailer`) — are accepted; and any
//! single-byte change to the signature, the credential scope, the session token, a signed
//! header, the path, the query or the body is refused with the code AWS sends for it.
//!
//! `mock-sts/src/sigv4.rs` has unit properties for the pure functions; these go through
//! [`MockAws::router`], so parsing, routing, key lookup, token validation, the order of the
//! checks and the error mapping are all under test.
//!
//! A "single-byte change" replaces one byte with another that keeps the request well-formed
//! and changes what it means: a letter or digit for a letter or digit outside `%XX` escapes
//! (changing the case of an escape's hex digit, or a byte of a path segment that `..` removes,
//! would not change the request, for AWS either), any other byte in a body. Which byte, and its
//! replacement, are drawn per case.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, percent_encode};
use proptest::prelude::*;
use proptest::sample::Index;
use sts_lab_test_support::chunked;
use sts_lab_test_support::signing::{SignableBody, Signer};
use tower::ServiceExt;

use crate::common::*;

const REGRESSIONS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/proptest-regressions/it/prop_sigv4.txt"
);
const HOST: &str = "localhost:4566";
const BUCKET: &str = "prop-bucket";

/// The SigV4 unreserved set (what aws-sigv4 and every SDK leave unencoded).
const STRICT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');
/// What a lax client encodes in a path: controls, space and the characters a URI cannot carry
/// raw. Sub-delimiters, `:` and `@` stay raw.
const LAX: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');
/// The same for a query component: `&` and `=` (and `+`, a space in a form) encoded too.
const LAX_QUERY: &AsciiSet = &LAX.add(b'&').add(b'=').add(b'+');

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Svc {
    Sts,
    S3,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Header,
    Presigned,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Payload {
    /// The body's SHA-256: STS hashes what it receives; S3 gets it in `x-amz-content-sha256`.
    Signed,
    /// `UNSIGNED-PAYLOAD` (S3; every presigned S3 URL).
    Unsigned,
    /// aws-chunked with chunk signatures, and a signed CRC32 trailer when `trailer`.
    Chunked { trailer: bool },
    /// aws-chunked without signatures, with a CRC32 trailer.
    UnsignedTrailer,
}

#[derive(Debug, Clone)]
struct Case {
    svc: Svc,
    form: Form,
    method: &'static str,
    /// Session credentials from AssumeRole (with a token), or the user's long-term keys.
    temporary: bool,
    /// Path segments, unencoded.
    segments: Vec<String>,
    /// Extra query parameters, unencoded (names get a `q-` prefix, so that they can name no
    /// STS parameter or S3 sub-resource).
    query: Vec<(String, String)>,
    /// Values of the `x-test-N` headers (two names, so some repeat).
    headers: Vec<String>,
    /// The body (for STS POST, extra form parameters are appended to the action's).
    body: Vec<u8>,
    /// Extra STS form parameters (POST).
    form_params: Vec<(String, String)>,
    /// aws-chunked chunk sizes (the last one takes what is left).
    chunk_sizes: Vec<usize>,
    payload: Payload,
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "\\PC{0,6}",
        1 => "[!$&'()*+,;=:@/?#\\[\\] %~._-]{1,4}",
        1 => "[a-zA-Z0-9]{1,6}",
    ]
}

fn sts_segment() -> impl Strategy<Value = String> {
    // `.` and `..` segments would let a byte change vanish in normalisation (for AWS too).
    text().prop_filter("not a dot segment", |s| s != "." && s != "..")
}

fn s3_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => text(),
        1 => Just(".".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(String::new()),
    ]
}

fn params() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((text(), text()), 0..4)
}

fn headers() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[ -~\t]{0,12}", 0..3)
}

fn sts_case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(Form::Header), Just(Form::Presigned)],
        any::<bool>(),
        any::<bool>(),
        prop::collection::vec(sts_segment(), 0..4),
        params(),
        headers(),
        params(),
    )
        .prop_map(
            |(form, post, temporary, segments, query, headers, form_params)| {
                let method = if post && form == Form::Header {
                    "POST"
                } else {
                    "GET"
                };
                Case {
                    svc: Svc::Sts,
                    form,
                    method,
                    temporary,
                    segments,
                    query,
                    headers,
                    body: Vec::new(),
                    form_params: if method == "POST" {
                        form_params
                    } else {
                        Vec::new()
                    },
                    chunk_sizes: Vec::new(),
                    payload: Payload::Signed,
                }
            },
        )
}

fn s3_case() -> impl Strategy<Value = Case> {
    (
        prop_oneof![Just(Form::Header), Just(Form::Presigned)],
        // Uploads most often: they carry the bodies and the aws-chunked forms.
        prop_oneof![3 => Just("PUT"), 1 => Just("GET"), 1 => Just("HEAD"), 1 => Just("DELETE")],
        any::<bool>(),
        prop::collection::vec(s3_segment(), 0..4),
        params(),
        headers(),
        prop_oneof![
            3 => prop::collection::vec(any::<u8>(), 0..200),
            1 => prop::collection::vec(any::<u8>(), 8000..9000),
        ],
        prop::collection::vec(1usize..5000, 0..3),
        0u8..5,
    )
        .prop_map(
            |(form, method, temporary, segments, query, headers, body, chunk_sizes, payload)| {
                let payload = match (form, method, payload) {
                    (Form::Presigned, _, _) => Payload::Unsigned,
                    (Form::Header, "PUT", 0) => Payload::Chunked { trailer: false },
                    (Form::Header, "PUT", 1) => Payload::Chunked { trailer: true },
                    (Form::Header, "PUT", 2) => Payload::UnsignedTrailer,
                    (Form::Header, _, 3) => Payload::Unsigned,
                    _ => Payload::Signed,
                };
                // Only uploads carry a body.
                let body = if method == "PUT" { body } else { Vec::new() };
                // A key is never empty: `k` leads, the generated segments follow.
                let segments = std::iter::once(format!(
                    "k{}",
                    segments.first().cloned().unwrap_or_default()
                ))
                .chain(segments.into_iter().skip(1))
                .collect();
                Case {
                    svc: Svc::S3,
                    form,
                    method,
                    temporary,
                    segments,
                    query,
                    headers,
                    body,
                    form_params: Vec::new(),
                    chunk_sizes,
                    payload,
                }
            },
        )
}

fn case() -> impl Strategy<Value = Case> {
    prop_oneof![sts_case(), s3_case()]
}

/// Which byte a mutation changes and what it becomes.
#[derive(Debug, Clone, Copy)]
struct Pick {
    at: Index,
    with: Index,
}

fn picks() -> impl Strategy<Value = [Pick; 9]> {
    prop::array::uniform9((any::<Index>(), any::<Index>()).prop_map(|(at, with)| Pick { at, with }))
}

impl Case {
    fn encode_component(&self, text: &str, query: bool) -> String {
        let set = match (self.svc, query) {
            (Svc::S3, _) => STRICT,
            (Svc::Sts, false) => LAX,
            (Svc::Sts, true) => LAX_QUERY,
        };
        percent_encode(text.as_bytes(), set).to_string()
    }

    fn path(&self) -> String {
        let segments: Vec<String> = self
            .segments
            .iter()
            .map(|s| self.encode_component(s, false))
            .collect();
        match self.svc {
            Svc::S3 => format!("/{BUCKET}/{}", segments.join("/")),
            Svc::Sts => format!("/{}", segments.join("/")),
        }
    }

    fn encoded_params(&self, params: &[(String, String)]) -> Vec<String> {
        params
            .iter()
            .map(|(k, v)| {
                format!(
                    "q-{}={}",
                    self.encode_component(k, true),
                    self.encode_component(v, true)
                )
            })
            .collect()
    }

    fn query(&self) -> String {
        let mut pairs = Vec::new();
        if self.svc == Svc::Sts && self.method == "GET" {
            pairs.push("Action=GetCallerIdentity".to_owned());
            pairs.push("Version=2011-06-15".to_owned());
        }
        pairs.extend(self.encoded_params(&self.query));
        pairs.join("&")
    }

    fn sts_body(&self) -> Vec<u8> {
        let mut pairs = vec![
            "Action=GetCallerIdentity".to_owned(),
            "Version=2011-06-15".to_owned(),
        ];
        pairs.extend(self.encoded_params(&self.form_params));
        pairs.join("&").into_bytes()
    }

    fn body(&self) -> Vec<u8> {
        match (self.svc, self.method) {
            (Svc::Sts, "POST") => self.sts_body(),
            _ => self.body.clone(),
        }
    }

    /// The body cut into aws-chunked chunks.
    fn chunks(&self) -> Vec<Vec<u8>> {
        let mut rest = &self.body[..];
        let mut chunks = Vec::new();
        for size in &self.chunk_sizes {
            if rest.is_empty() {
                break;
            }
            let (chunk, tail) = rest.split_at((*size).min(rest.len()));
            chunks.push(chunk.to_vec());
            rest = tail;
        }
        if !rest.is_empty() {
            chunks.push(rest.to_vec());
        }
        chunks
    }

    fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("x-test-{}", i % 2), v.clone()))
            .collect()
    }
}

/// A request as the server receives it: origin-form target, headers in order, the body.
#[derive(Clone)]
struct Wire {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    /// Where chunk data lies in `body` (aws-chunked), and where chunk and trailer signatures do.
    data_ranges: Vec<std::ops::Range<usize>>,
    signature_ranges: Vec<std::ops::Range<usize>>,
}

/// Readable in a failure report: text for bytes, the body's length and head.
impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} {}", self.method, self.target())?;
        for (name, value) in &self.headers {
            writeln!(f, "{name}: {}", String::from_utf8_lossy(value))?;
        }
        let head = &self.body[..self.body.len().min(300)];
        write!(
            f,
            "[{} bytes] {:?}",
            self.body.len(),
            String::from_utf8_lossy(head)
        )
    }
}

impl Wire {
    fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    fn request(&self) -> Request<Body> {
        let mut builder = Request::builder()
            .method(self.method.as_str())
            .uri(self.target());
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_slice());
        }
        builder.body(Body::from(self.body.clone())).unwrap()
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    fn header_index(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|(n, _)| n == name)
    }

    /// The decoded value of a query parameter.
    fn param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == name).then(|| decode(v))
        })
    }

    /// The same request with a query parameter's decoded value replaced (re-encoded as
    /// aws-sigv4 encodes it).
    fn with_param(&self, name: &str, value: &str) -> Wire {
        let query = self
            .query
            .split('&')
            .map(|pair| {
                let k = pair.split_once('=').map_or(pair, |(k, _)| k);
                if decode(k) == name {
                    format!("{k}={}", percent_encode(value.as_bytes(), STRICT))
                } else {
                    pair.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("&");
        Wire {
            query,
            ..self.clone()
        }
    }
}

fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Signs `case` with aws-sigv4 (and `sign_chunk` / `sign_trailer` for aws-chunked bodies).
fn sign_case(case: &Case, keys: &Keys, time: SystemTime) -> Wire {
    let query = case.query();
    let path = case.path();
    let uri = if query.is_empty() {
        format!("http://{HOST}{path}")
    } else {
        format!("http://{HOST}{path}?{query}")
    };
    let mut headers: Vec<(String, String)> = vec![("host".into(), HOST.into())];
    if case.svc == Svc::Sts && case.method == "POST" {
        headers.push((
            "content-type".into(),
            "application/x-www-form-urlencoded; charset=utf-8".into(),
        ));
    }
    headers.extend(case.header_pairs());
    let chunks = case.chunks();
    let checksum = crc32(&case.body);
    let streaming = matches!(
        case.payload,
        Payload::Chunked { .. } | Payload::UnsignedTrailer
    );
    let trailer = matches!(
        case.payload,
        Payload::Chunked { trailer: true } | Payload::UnsignedTrailer
    );
    if streaming {
        headers.push(("content-encoding".into(), "aws-chunked".into()));
        headers.push((
            "x-amz-decoded-content-length".into(),
            case.body.len().to_string(),
        ));
        if trailer {
            headers.push(("x-amz-trailer".into(), "x-amz-checksum-crc32".into()));
        }
    }

    let signer = match case.svc {
        Svc::Sts => Signer::sts(keys, time),
        Svc::S3 => Signer::s3(keys, time),
    };
    let signer = match case.form {
        Form::Presigned => signer.presigned(Duration::from_secs(3600)),
        Form::Header => signer,
    };
    let body = case.body();
    let signable_body = match case.payload {
        Payload::Signed => SignableBody::Bytes(&body),
        Payload::Unsigned => SignableBody::UnsignedPayload,
        Payload::Chunked { trailer: false } => {
            SignableBody::Precomputed(mock_sts::internals::STREAMING_PAYLOAD.into())
        }
        Payload::Chunked { trailer: true } => {
            SignableBody::Precomputed(mock_sts::internals::STREAMING_PAYLOAD_TRAILER.into())
        }
        Payload::UnsignedTrailer => SignableBody::Precomputed(
            mock_sts::internals::STREAMING_UNSIGNED_PAYLOAD_TRAILER.into(),
        ),
    };
    let header_refs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let signed = signer.sign(case.method, &uri, &header_refs, signable_body);
    let (parts, seed) = (signed.parts, signed.signature);

    let chunk_refs: Vec<&[u8]> = chunks.iter().map(Vec::as_slice).collect();
    let (body, data_ranges, signature_ranges) = match case.payload {
        Payload::Chunked { trailer } => {
            let trailers = if trailer {
                vec![("x-amz-checksum-crc32", checksum.as_str())]
            } else {
                Vec::new()
            };
            chunked_parts(&chunk_refs, &trailers, Some(&seed), &signer)
        }
        Payload::UnsignedTrailer => chunked_parts(
            &chunk_refs,
            &[("x-amz-checksum-crc32", checksum.as_str())],
            None,
            &signer,
        ),
        _ => (body, Vec::new(), Vec::new()),
    };
    let mut wire = wire_from(&parts, body);
    if streaming {
        let length = wire.body.len().to_string().into_bytes();
        wire.headers.push(("content-length".into(), length));
    }
    Wire {
        data_ranges,
        signature_ranges,
        ..wire
    }
}

type Ranges = Vec<std::ops::Range<usize>>;

/// An aws-chunked body signed in `signer`'s scope (chunk data and signatures located), in
/// S3's scope whatever the request's service.
fn chunked_parts(
    chunks: &[&[u8]],
    trailers: &[(&str, &str)],
    seed: Option<&str>,
    signer: &Signer<'_>,
) -> (Vec<u8>, Ranges, Ranges) {
    let out = chunked::body(chunks, trailers, seed, &signer.clone().service("s3"));
    (out.body, out.data, out.signatures)
}

/// A letter or digit other than `old`.
fn other_alnum(old: u8, with: Index) -> u8 {
    let i = with.index(ALNUM.len());
    if ALNUM[i] == old {
        ALNUM[(i + 1) % ALNUM.len()]
    } else {
        ALNUM[i]
    }
}

/// Positions of letters and digits in `text` that are not part of a `%XX` escape.
fn literal_alnum(text: &[u8]) -> Vec<usize> {
    let mut positions = Vec::new();
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            i += 3;
            continue;
        }
        if text[i].is_ascii_alphanumeric() {
            positions.push(i);
        }
        i += 1;
    }
    positions
}

/// `text` with the letter or digit at one of `positions` replaced by another.
fn change_at(text: &[u8], positions: &[usize], pick: Pick) -> Option<Vec<u8>> {
    if positions.is_empty() {
        return None;
    }
    let i = positions[pick.at.index(positions.len())];
    let mut out = text.to_vec();
    out[i] = other_alnum(out[i], pick.with);
    Some(out)
}

fn change_alnum(text: &str, pick: Pick) -> Option<String> {
    let positions = literal_alnum(text.as_bytes());
    change_at(text.as_bytes(), &positions, pick).map(|b| String::from_utf8(b).unwrap())
}

/// One changed request and the answer it must get.
#[derive(Debug)]
struct Mutation {
    what: String,
    wire: Wire,
    status: u16,
    code: &'static str,
}

/// The Authorization header's `name=value` parameter's value and where it starts.
fn auth_param(wire: &Wire, name: &str) -> Option<(usize, String)> {
    let auth = String::from_utf8(wire.header("authorization")?.to_vec()).ok()?;
    let key = format!("{name}=");
    let start = auth.find(&key)? + key.len();
    let end = auth[start..].find(',').map_or(auth.len(), |e| start + e);
    Some((start, auth[start..end].to_owned()))
}

fn with_auth_param(wire: &Wire, start: usize, old: &str, new: &str) -> Wire {
    let mut wire = wire.clone();
    let i = wire.header_index("authorization").unwrap();
    let mut auth = String::from_utf8(wire.headers[i].1.clone()).unwrap();
    auth.replace_range(start..start + old.len(), new);
    wire.headers[i].1 = auth.into_bytes();
    wire
}

/// Replaces a SigV4 parameter (`Signature`, `Credential`, …) wherever this form carries it.
fn with_sig_param(
    wire: &Wire,
    case: &Case,
    name: &str,
    f: impl Fn(&str) -> Option<String>,
) -> Option<Wire> {
    match case.form {
        Form::Header => {
            let (start, old) = auth_param(wire, name)?;
            let new = f(&old)?;
            Some(with_auth_param(wire, start, &old, &new))
        }
        Form::Presigned => {
            let param = format!("X-Amz-{name}");
            let old = wire.param(&param)?;
            let new = f(&old)?;
            Some(wire.with_param(&param, &new))
        }
    }
}

fn mutations(case: &Case, wire: &Wire, picks: &[Pick; 9]) -> Vec<Mutation> {
    let s3 = case.svc == Svc::S3;
    let header = case.form == Form::Header;
    let sdnm = |what: &str, wire: Wire| Mutation {
        what: what.to_owned(),
        wire,
        status: 403,
        code: "SignatureDoesNotMatch",
    };
    let mut out = Vec::new();

    // The signature.
    if let Some(w) = with_sig_param(wire, case, "Signature", |old| change_alnum(old, picks[0])) {
        out.push(sdnm("signature", w));
    }

    // The credential scope: DATE/REGION/SERVICE/aws4_request, one part drawn.
    let component = picks[1].at.index(4);
    let scoped = with_sig_param(wire, case, "Credential", |old| {
        let mut parts: Vec<String> = old.split('/').map(str::to_owned).collect();
        let part = &mut parts[1 + component];
        *part = change_alnum(part, picks[1])?;
        Some(parts.join("/"))
    });
    if let Some(w) = scoped {
        let what = [
            "scope date",
            "scope region",
            "scope service",
            "scope terminator",
        ][component];
        out.push(match (component, s3, header) {
            // The date and the terminator: S3 calls the credential malformed.
            (0 | 3, true, true) => Mutation {
                what: what.into(),
                wire: w,
                status: 400,
                code: "AuthorizationHeaderMalformed",
            },
            (0 | 3, true, false) => Mutation {
                what: what.into(),
                wire: w,
                status: 400,
                code: "AuthorizationQueryParametersError",
            },
            // Every region is served here, so another region is just another signing key.
            _ => sdnm(what, w),
        });
    }

    // The session token.
    if case.temporary {
        let token_changed = match case.form {
            Form::Header => {
                let i = wire.header_index("x-amz-security-token").unwrap();
                let old = String::from_utf8(wire.headers[i].1.clone()).unwrap();
                change_alnum(&old, picks[2]).map(|new| {
                    let mut w = wire.clone();
                    w.headers[i].1 = new.into_bytes();
                    w
                })
            }
            Form::Presigned => {
                let old = wire.param("X-Amz-Security-Token").unwrap();
                change_alnum(&old, picks[2])
                    .map(|new| wire.with_param("X-Amz-Security-Token", &new))
            }
        };
        if let Some(w) = token_changed {
            out.push(match case.svc {
                Svc::Sts => Mutation {
                    what: "token".into(),
                    wire: w,
                    status: 403,
                    code: "InvalidClientTokenId",
                },
                Svc::S3 => Mutation {
                    what: "token".into(),
                    wire: w,
                    status: 400,
                    code: "InvalidToken",
                },
            });
        }
    }

    // A signed header's value (the date and the token have their own codes, above).
    let signed = match case.form {
        Form::Header => auth_param(wire, "SignedHeaders").map(|(_, v)| v),
        Form::Presigned => wire.param("X-Amz-SignedHeaders"),
    }
    .unwrap();
    let candidates: Vec<(usize, usize)> = wire
        .headers
        .iter()
        .enumerate()
        .filter(|(_, (name, _))| {
            signed.split(';').any(|s| s == name)
                && name != "x-amz-date"
                && name != "x-amz-security-token"
        })
        .flat_map(|(i, (_, value))| (0..value.len()).map(move |j| (i, j)))
        .collect();
    if !candidates.is_empty() {
        let (i, j) = candidates[picks[3].at.index(candidates.len())];
        let mut w = wire.clone();
        let old = w.headers[i].1[j];
        w.headers[i].1[j] = other_alnum(old, picks[3].with);
        out.push(sdnm(&format!("signed header {}", w.headers[i].0), w));
    }

    // The path.
    if let Some(path) = change_alnum(&wire.path, picks[4]) {
        out.push(sdnm(
            "path",
            Wire {
                path,
                ..wire.clone()
            },
        ));
    }

    // The query, but for the presigned parameters (each has its own test above).
    let pairs: Vec<&str> = wire.query.split('&').collect();
    let mut offset = 0;
    let mut positions = Vec::new();
    for pair in &pairs {
        if !pair.starts_with("X-Amz-") {
            positions.extend(
                literal_alnum(pair.as_bytes())
                    .into_iter()
                    .map(|p| p + offset),
            );
        }
        offset += pair.len() + 1;
    }
    if let Some(query) = change_at(wire.query.as_bytes(), &positions, picks[5]) {
        let query = String::from_utf8(query).unwrap();
        out.push(sdnm(
            "query",
            Wire {
                query,
                ..wire.clone()
            },
        ));
    }

    // The body.
    match (case.svc, case.payload) {
        (Svc::Sts, _) => {
            if let Some(body) = change_at(&wire.body, &literal_alnum(&wire.body), picks[6]) {
                out.push(sdnm(
                    "body",
                    Wire {
                        body,
                        ..wire.clone()
                    },
                ));
            }
        }
        (Svc::S3, Payload::Signed) if !wire.body.is_empty() => {
            let mut w = wire.clone();
            let i = picks[6].at.index(w.body.len());
            w.body[i] ^= 1 + picks[6].with.index(255) as u8;
            out.push(Mutation {
                what: "body".into(),
                wire: w,
                status: 400,
                code: "XAmzContentSHA256Mismatch",
            });
        }
        (Svc::S3, Payload::Chunked { .. } | Payload::UnsignedTrailer)
            if !wire.data_ranges.is_empty() =>
        {
            let positions: Vec<usize> = wire.data_ranges.iter().flat_map(|r| r.clone()).collect();
            let mut w = wire.clone();
            let i = positions[picks[6].at.index(positions.len())];
            w.body[i] ^= 1 + picks[6].with.index(255) as u8;
            out.push(match case.payload {
                // Nothing signs the data: the checksum trailer catches it.
                Payload::UnsignedTrailer => Mutation {
                    what: "chunk data".into(),
                    wire: w,
                    status: 400,
                    code: "BadDigest",
                },
                _ => sdnm("chunk data", w),
            });
        }
        _ => {}
    }

    // A chunk or trailer signature.
    if !wire.signature_ranges.is_empty() {
        let positions: Vec<usize> = wire
            .signature_ranges
            .iter()
            .flat_map(|r| r.clone())
            .collect();
        if let Some(body) = change_at(&wire.body, &positions, picks[7]) {
            out.push(sdnm(
                "chunk signature",
                Wire {
                    body,
                    ..wire.clone()
                },
            ));
        }
    }

    // The signed trailer's value.
    if case.payload == (Payload::Chunked { trailer: true }) {
        let text = wire.body.clone();
        let key = b"x-amz-checksum-crc32:";
        if let Some(start) = text.windows(key.len()).position(|w| w == key) {
            let start = start + key.len();
            let end = start + text[start..].iter().position(|b| *b == b'\r').unwrap();
            let positions: Vec<usize> = (start..end)
                .filter(|i| text[*i].is_ascii_alphanumeric())
                .collect();
            if let Some(body) = change_at(&text, &positions, picks[8]) {
                out.push(sdnm(
                    "signed trailer",
                    Wire {
                        body,
                        ..wire.clone()
                    },
                ));
            }
        }
    }
    out
}

/// What the server said, and what its event recorded.
#[derive(Debug)]
struct Seen {
    status: u16,
    code: Option<String>,
    body: Vec<u8>,
}

async fn send(aws: &MockAws, request: Request<Body>) -> Seen {
    let before = aws.events().len();
    let response = aws.router().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    let events = aws.events();
    assert_eq!(events.len(), before + 1, "one event per request");
    let event = events.iter().last().unwrap();
    assert_eq!(event.status, status);
    Seen {
        status,
        code: event.error_code.map(|c| c.as_str().to_string()),
        body,
    }
}

/// Codes that mean authentication refused the request.
const AUTH_CODES: [&str; 14] = [
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidClientTokenId",
    "InvalidAccessKeyId",
    "InvalidToken",
    "ExpiredToken",
    "AccessDenied",
    "MissingAuthenticationToken",
    "AuthorizationHeaderMalformed",
    "AuthorizationQueryParametersError",
    "RequestTimeTooSkewed",
    "XAmzContentSHA256Mismatch",
    "BadDigest",
    "IncompleteBody",
];

/// The wire form of a signed request.
fn wire_from(parts: &http::request::Parts, body: Vec<u8>) -> Wire {
    Wire {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec()))
            .collect(),
        body,
        data_ranges: Vec::new(),
        signature_ranges: Vec::new(),
    }
}

/// An S3 request without a body, signed with the user's keys, for set-up and read-back.
async fn user_s3(aws: &MockAws, method: &str, path: &str, time: SystemTime) -> Seen {
    send(aws, s3_request(method, path, &Keys::user(), time, None)).await
}

async fn check(case: Case, picks: [Pick; 9]) -> Result<(), TestCaseError> {
    let aws = MockAws::builder()
        .clock(SimClock::frozen(start()))
        .seed(5)
        .build();
    let time = start();
    let keys = if case.temporary {
        let body = "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fcross-account-s3&RoleSessionName=prop";
        keys_from(&call(&aws, sts_post(body, &Keys::user(), time)).await)
    } else {
        Keys::user()
    };
    if case.svc == Svc::S3 {
        let created = user_s3(&aws, "PUT", &format!("/{BUCKET}"), time).await;
        prop_assert_eq!(created.status, 200);
    }
    let wire = sign_case(&case, &keys, time);

    for mutation in mutations(&case, &wire, &picks) {
        let seen = send(&aws, mutation.wire.request()).await;
        prop_assert_eq!(
            (seen.status, seen.code.as_deref()),
            (mutation.status, Some(mutation.code)),
            "{} changed:\n{:?}\nanswer: {}",
            mutation.what,
            mutation.wire,
            String::from_utf8_lossy(&seen.body)
        );
        // A refused upload stores nothing.
        if case.method == "PUT" {
            let stored = user_s3(&aws, "HEAD", &wire.path, time).await;
            prop_assert_eq!(
                stored.status,
                404,
                "{} changed, yet an object was stored",
                mutation.what
            );
        }
    }

    let seen = send(&aws, wire.request()).await;
    let explain = || format!("{wire:?}\nanswer: {}", String::from_utf8_lossy(&seen.body));
    match case.svc {
        Svc::Sts => {
            prop_assert_eq!(seen.status, 200, "{}", explain());
            let body = String::from_utf8_lossy(&seen.body);
            prop_assert!(body.contains("<GetCallerIdentityResult>"), "{}", explain());
        }
        Svc::S3 => {
            prop_assert!(
                seen.code
                    .as_deref()
                    .is_none_or(|c| !AUTH_CODES.contains(&c)),
                "refused: {:?}\n{}",
                seen.code,
                explain()
            );
            if case.method == "PUT" {
                prop_assert_eq!(seen.status, 200, "{}", explain());
                let got = user_s3(&aws, "GET", &wire.path, time).await;
                prop_assert_eq!(got.status, 200);
                prop_assert!(
                    got.body == case.body,
                    "stored bytes differ from the body sent"
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(prop_config(256, REGRESSIONS))]

    #[test]
    fn aws_sigv4_requests_verify_through_the_router_and_any_byte_change_is_refused(
        case in case(),
        picks in picks(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(check(case, picks))?;
    }
}
