//! The aws-chunked body encoding: decodes it to the object's bytes and its trailers, verifying
//! every chunk signature and the trailer signature on the way.
//!
//! Grammar (S3 docs `sigv4-streaming.html`, `sigv4-streaming-trailers.html`):
//!
//! ```text
//! chunk   = hex-size [";chunk-signature=" 64hex] CRLF data CRLF
//! final   = "0" [";chunk-signature=" 64hex] CRLF
//! trailer = *(name ":" value CRLF) ["x-amz-trailer-signature:" 64hex CRLF] CRLF
//! ```
//!
//! The decoder works on the bytes HTTP delivered, after any `Transfer-Encoding: chunked` was
//! undone by hyper: JS v3 writes each aws-chunked element as its own HTTP chunk (measured-clients
//! §4), so the two framings need not line up and this decoder never assumes they do.
//!
//! Signed forms chain signatures: the first chunk's string to sign names the request's (seed)
//! signature, each next chunk the previous chunk's, the trailer the final (empty) chunk's. A
//! missing, extra or altered chunk therefore breaks every signature after it.

use subtle::ConstantTimeEq;

use crate::sigv4::{self, ParsedSignature};

/// Longest size line accepted (a 16-digit size, a 64-hex signature and some slack).
const MAX_LINE: usize = 4096;

/// How the payload of a request is hashed and framed, from `x-amz-content-sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PayloadForm {
    /// A lower-case hex SHA-256 of the body.
    Hash(String),
    /// `UNSIGNED-PAYLOAD`: the body as is.
    Unsigned,
    /// An aws-chunked body.
    Streaming {
        /// Chunk signatures (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`).
        signed: bool,
        /// A trailer follows the final chunk (`…-TRAILER`).
        trailer: bool,
    },
}

impl PayloadForm {
    /// Parses an `x-amz-content-sha256` value; `None` when it is none of S3's forms.
    pub(crate) fn parse(value: &str) -> Option<PayloadForm> {
        match value {
            sigv4::UNSIGNED_PAYLOAD => Some(PayloadForm::Unsigned),
            sigv4::STREAMING_PAYLOAD => Some(PayloadForm::Streaming {
                signed: true,
                trailer: false,
            }),
            sigv4::STREAMING_PAYLOAD_TRAILER => Some(PayloadForm::Streaming {
                signed: true,
                trailer: true,
            }),
            sigv4::STREAMING_UNSIGNED_PAYLOAD_TRAILER => Some(PayloadForm::Streaming {
                signed: false,
                trailer: true,
            }),
            hash if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(PayloadForm::Hash(hash.to_ascii_lowercase()))
            }
            _ => None,
        }
    }
}

/// Why an aws-chunked body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkError {
    /// The body ends inside a size line, chunk data or the trailer (S3 `IncompleteBody`).
    #[error("the aws-chunked body ends early")]
    Truncated,
    /// A size line, chunk terminator or trailer line is not what the grammar allows
    /// (S3 `InvalidRequest` / `MalformedTrailerError`).
    #[error("malformed aws-chunked body: {0}")]
    Malformed(String),
    /// A chunk (`trailer == false`) or trailer signature is missing or wrong (S3
    /// `SignatureDoesNotMatch`); the string to sign is the one the server computed.
    #[error("chunk signature does not match")]
    Signature {
        /// Whether it was the trailer signature.
        trailer: bool,
        /// The string to sign the server computed.
        string_to_sign: String,
        /// The signature the client sent (empty when missing).
        provided: String,
    },
}

/// A decoded aws-chunked body.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decoded {
    /// The payload, without framing.
    pub data: Vec<u8>,
    /// Trailing headers, names lower-cased, without `x-amz-trailer-signature`.
    pub trailers: Vec<(String, String)>,
}

impl Decoded {
    /// The value of a trailer.
    pub fn trailer(&self, name: &str) -> Option<&str> {
        self.trailers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What verifying chunk signatures needs: the request's signature and signing key.
#[derive(Clone, Copy)]
pub struct ChunkVerifier<'a> {
    /// The request's parsed signature (seed signature, date, scope).
    pub signature: &'a ParsedSignature,
    /// `kSigning` for its scope.
    pub signing_key: &'a [u8; 32],
}

/// A cursor over the body.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// The next line without its CRLF.
    fn line(&mut self) -> Result<&'a [u8], ChunkError> {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        let window = &rest[..rest.len().min(MAX_LINE + 2)];
        match window.windows(2).position(|w| w == b"\r\n") {
            Some(end) => {
                self.pos += end + 2;
                Ok(&window[..end])
            }
            None if rest.len() > MAX_LINE => Err(ChunkError::Malformed("line too long".to_owned())),
            None => Err(ChunkError::Truncated),
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ChunkError> {
        let end = self.pos.checked_add(n).ok_or(ChunkError::Truncated)?;
        let slice = self.bytes.get(self.pos..end).ok_or(ChunkError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn crlf(&mut self) -> Result<(), ChunkError> {
        match self.take(2)? {
            b"\r\n" => Ok(()),
            _ => Err(ChunkError::Malformed(
                "chunk data is not followed by CRLF".to_owned(),
            )),
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }
}

/// Parses `hex-size[;chunk-signature=sig]`.
fn size_line(line: &[u8]) -> Result<(usize, Option<&str>), ChunkError> {
    let text = std::str::from_utf8(line)
        .map_err(|_| ChunkError::Malformed("size line is not text".to_owned()))?;
    let mut pieces = text.split(';');
    let size = pieces.next().unwrap_or_default().trim();
    if size.is_empty() || size.len() > 16 || !size.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ChunkError::Malformed(format!("bad chunk size {size:?}")));
    }
    let size = usize::from_str_radix(size, 16)
        .map_err(|_| ChunkError::Malformed(format!("bad chunk size {size:?}")))?;
    let signature = pieces.find_map(|p| p.trim().strip_prefix("chunk-signature="));
    Ok((size, signature))
}

fn signature_matches(expected: &str, provided: &str) -> bool {
    bool::from(expected.as_bytes().ct_eq(provided.as_bytes()))
}

/// Decodes an aws-chunked body. With a `verifier`, every chunk must carry a signature that
/// chains from the request's, and (when `trailer`) the trailer must end with a valid
/// `x-amz-trailer-signature`. Without one, chunk signatures are not expected (unsigned forms).
///
/// # Errors
/// `ChunkError`: truncation, bad framing, or a signature that does not verify.
pub fn decode(
    body: &[u8],
    verifier: Option<ChunkVerifier<'_>>,
    trailer: bool,
) -> Result<Decoded, ChunkError> {
    let mut reader = Reader {
        bytes: body,
        pos: 0,
    };
    let mut decoded = Decoded::default();
    let mut previous = verifier.map(|v| v.signature.signature.clone());
    loop {
        let (size, provided) = size_line(reader.line()?)?;
        let data = reader.take(size)?;
        if let (Some(v), Some(prev)) = (verifier, previous.as_mut()) {
            let string_to_sign =
                sigv4::chunk_string_to_sign(v.signature, prev, &sigv4::hex_sha256(data));
            let expected = sigv4::hmac_hex(v.signing_key, &string_to_sign);
            let provided = provided.unwrap_or_default();
            if !signature_matches(&expected, provided) {
                return Err(ChunkError::Signature {
                    trailer: false,
                    string_to_sign,
                    provided: provided.to_owned(),
                });
            }
            *prev = expected;
        }
        if size == 0 {
            break;
        }
        decoded.data.extend_from_slice(data);
        reader.crlf()?;
    }

    let mut trailer_signature = None;
    loop {
        let line = reader.line()?;
        if line.is_empty() {
            break;
        }
        let text = std::str::from_utf8(line)
            .map_err(|_| ChunkError::Malformed("trailer is not text".to_owned()))?;
        let (name, value) = text
            .split_once(':')
            .ok_or_else(|| ChunkError::Malformed(format!("trailer line {text:?}")))?;
        let name = name.trim().to_ascii_lowercase();
        if !trailer {
            return Err(ChunkError::Malformed(
                "trailer after the final chunk of a body without x-amz-trailer".to_owned(),
            ));
        }
        if name == "x-amz-trailer-signature" {
            trailer_signature = Some(value.trim().to_owned());
        } else if trailer_signature.is_some() {
            return Err(ChunkError::Malformed(
                "trailer after x-amz-trailer-signature".to_owned(),
            ));
        } else {
            decoded.trailers.push((name, value.trim().to_owned()));
        }
    }
    if !reader.at_end() {
        return Err(ChunkError::Malformed(
            "data after the end of the aws-chunked body".to_owned(),
        ));
    }

    if let (Some(v), Some(prev), true) = (verifier, previous.as_ref(), trailer) {
        let pairs: Vec<(&str, &str)> = decoded
            .trailers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let canonical = sigv4::canonical_trailers(&pairs);
        let string_to_sign = sigv4::trailer_string_to_sign(
            v.signature,
            prev,
            &sigv4::hex_sha256(canonical.as_bytes()),
        );
        let expected = sigv4::hmac_hex(v.signing_key, &string_to_sign);
        let provided = trailer_signature.unwrap_or_default();
        if !signature_matches(&expected, &provided) {
            return Err(ChunkError::Signature {
                trailer: true,
                string_to_sign,
                provided,
            });
        }
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::{AuthKind, CredentialScope};
    use std::time::SystemTime;

    fn signature() -> ParsedSignature {
        ParsedSignature {
            kind: AuthKind::Header,
            access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
            scope: CredentialScope {
                date: "20130524".into(),
                region: "us-east-1".into(),
                service: "s3".into(),
                terminator: "aws4_request".into(),
            },
            signed_headers: vec!["host".into()],
            signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9".into(),
            amz_date: "20130524T000000Z".into(),
            request_time: SystemTime::UNIX_EPOCH,
            expires_seconds: None,
            security_token: None,
            payload_hash: sigv4::STREAMING_PAYLOAD.into(),
        }
    }

    fn key() -> [u8; 32] {
        sigv4::signing_key(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
            "s3",
        )
    }

    /// Signs `chunks` (plus the final empty one) and an optional trailer like aws-sigv4 does.
    fn signed_body(chunks: &[&[u8]], trailers: Option<&[(&str, &str)]>) -> Vec<u8> {
        let sig = signature();
        let key = key();
        let mut previous = sig.signature.clone();
        let mut out = Vec::new();
        for data in chunks.iter().copied().chain([&b""[..]]) {
            let sts = sigv4::chunk_string_to_sign(&sig, &previous, &sigv4::hex_sha256(data));
            previous = sigv4::hmac_hex(&key, &sts);
            out.extend_from_slice(
                format!("{:x};chunk-signature={previous}\r\n", data.len()).as_bytes(),
            );
            if !data.is_empty() {
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
            }
        }
        if let Some(trailers) = trailers {
            for (n, v) in trailers {
                out.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
            }
            let canonical = sigv4::canonical_trailers(trailers);
            let sts = sigv4::trailer_string_to_sign(
                &sig,
                &previous,
                &sigv4::hex_sha256(canonical.as_bytes()),
            );
            out.extend_from_slice(
                format!(
                    "x-amz-trailer-signature:{}\r\n",
                    sigv4::hmac_hex(&key, &sts)
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(b"\r\n");
        out
    }

    fn verifier<'a>(sig: &'a ParsedSignature, key: &'a [u8; 32]) -> Option<ChunkVerifier<'a>> {
        Some(ChunkVerifier {
            signature: sig,
            signing_key: key,
        })
    }

    #[test]
    fn aws_published_streaming_example_decodes() {
        // S3's published example: 65536 + 1024 bytes of 'a', signatures from the docs.
        let mut body = Vec::new();
        for (size, signature) in [
            (
                65536,
                "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
            ),
            (
                1024,
                "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
            ),
            (
                0,
                "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
            ),
        ] {
            body.extend_from_slice(format!("{size:x};chunk-signature={signature}\r\n").as_bytes());
            if size > 0 {
                body.extend(std::iter::repeat_n(b'a', size));
                body.extend_from_slice(b"\r\n");
            }
        }
        body.extend_from_slice(b"\r\n");
        let (sig, key) = (signature(), key());
        let decoded = decode(&body, verifier(&sig, &key), false).unwrap();
        assert_eq!(decoded.data.len(), 66560);
        assert!(decoded.data.iter().all(|b| *b == b'a'));
    }

    #[test]
    fn signed_trailer_round_trips_and_any_change_is_refused() {
        let (sig, key) = (signature(), key());
        let trailers = [("x-amz-checksum-crc32", "VjqB3w==")];
        let body = signed_body(&[b"hello ", b"world"], Some(&trailers));
        let decoded = decode(&body, verifier(&sig, &key), true).unwrap();
        assert_eq!(decoded.data, b"hello world");
        assert_eq!(decoded.trailer("x-amz-checksum-crc32"), Some("VjqB3w=="));

        // Altered data in the second chunk: its signature no longer matches.
        let text = String::from_utf8(body.clone()).unwrap();
        let tampered = text.replacen("world", "worle", 1);
        match decode(tampered.as_bytes(), verifier(&sig, &key), true) {
            Err(ChunkError::Signature { trailer: false, .. }) => {}
            other => panic!("{other:?}"),
        }
        // Altered trailer value: the trailer signature no longer matches.
        let tampered = text.replacen("VjqB3w==", "AAAAAA==", 1);
        match decode(tampered.as_bytes(), verifier(&sig, &key), true) {
            Err(ChunkError::Signature { trailer: true, .. }) => {}
            other => panic!("{other:?}"),
        }
        // A missing trailer signature is refused too.
        let cut = text
            .split("x-amz-trailer-signature")
            .next()
            .unwrap()
            .to_owned()
            + "\r\n";
        match decode(cut.as_bytes(), verifier(&sig, &key), true) {
            Err(ChunkError::Signature {
                trailer: true,
                provided,
                ..
            }) => assert!(provided.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn dropping_a_chunk_breaks_the_chain() {
        let (sig, key) = (signature(), key());
        let body = String::from_utf8(signed_body(&[b"one", b"two"], None)).unwrap();
        let first_end = body.find("\r\none\r\n").unwrap() + "\r\none\r\n".len();
        let without_first = &body[first_end..];
        assert!(matches!(
            decode(without_first.as_bytes(), verifier(&sig, &key), false),
            Err(ChunkError::Signature { .. })
        ));
    }

    #[test]
    fn unsigned_trailer_body_as_js_and_botocore_send_it() {
        let body = b"400\r\n"
            .iter()
            .chain(vec![b'x'; 1024].iter())
            .chain(b"\r\n0\r\nx-amz-checksum-crc32:VjqB3w==\r\n\r\n".iter())
            .copied()
            .collect::<Vec<u8>>();
        let decoded = decode(&body, None, true).unwrap();
        assert_eq!(decoded.data.len(), 1024);
        assert_eq!(
            decoded.trailers,
            vec![("x-amz-checksum-crc32".to_owned(), "VjqB3w==".to_owned())]
        );
    }

    #[test]
    fn truncation_anywhere_is_truncated() {
        let body = b"5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
        for cut in 0..body.len() {
            let result = decode(&body[..cut], None, true);
            assert_eq!(result, Err(ChunkError::Truncated), "cut at {cut}");
        }
        assert!(decode(body, None, true).is_ok());
    }

    #[test]
    fn malformed_framing_is_malformed_not_a_panic() {
        for body in [
            &b"zz\r\nhello\r\n0\r\n\r\n"[..],
            b"5\r\nhelloXX0\r\n\r\n",
            b"5\r\nhello\r\n0\r\nnocolon\r\n\r\n",
            b"5\r\nhello\r\n0\r\n\r\ntrailing",
            b"ffffffffffffffffff\r\n",
            b"-1\r\n",
        ] {
            match decode(body, None, true) {
                Err(ChunkError::Malformed(_) | ChunkError::Truncated) => {}
                other => panic!("{:?}: {other:?}", String::from_utf8_lossy(body)),
            }
        }
        // A size far past the body is truncation, not an allocation.
        assert_eq!(
            decode(b"fffffffffff\r\nab", None, false),
            Err(ChunkError::Truncated)
        );
    }

    #[test]
    fn signed_body_without_chunk_signatures_is_refused() {
        let (sig, key) = (signature(), key());
        let body = b"5\r\nhello\r\n0\r\n\r\n";
        assert!(matches!(
            decode(body, verifier(&sig, &key), false),
            Err(ChunkError::Signature { trailer: false, .. })
        ));
    }

    #[test]
    fn payload_forms_parse() {
        assert_eq!(
            PayloadForm::parse("UNSIGNED-PAYLOAD"),
            Some(PayloadForm::Unsigned)
        );
        assert_eq!(
            PayloadForm::parse(sigv4::EMPTY_SHA256),
            Some(PayloadForm::Hash(sigv4::EMPTY_SHA256.into()))
        );
        assert_eq!(
            PayloadForm::parse("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            Some(PayloadForm::Streaming {
                signed: false,
                trailer: true
            })
        );
        assert_eq!(PayloadForm::parse("sha256"), None);
    }
}
