//! aws-chunked bodies as the SDKs stream them: each chunk (and the final empty one) signed
//! with aws-sigv4's `sign_chunk`, chained from the request's signature, then trailers signed
//! with `sign_trailer`; or, for `STREAMING-UNSIGNED-PAYLOAD-TRAILER`, no signatures at all.
//!
//! A [`Chunked`] body also says where each chunk's data and each signature lie in it, so a
//! test can change exactly one byte of either.

use std::ops::Range;

use aws_sigv4::sign::v4;
use bytes::Bytes;

use crate::signing::Signer;

/// An aws-chunked body and where its parts lie.
#[derive(Debug, Clone, Default)]
pub struct Chunked {
    /// The body as sent.
    pub body: Vec<u8>,
    /// Where each non-empty chunk's data lies in `body`.
    pub data: Vec<Range<usize>>,
    /// Where each chunk signature, then the trailer signature, lies in `body`.
    pub signatures: Vec<Range<usize>>,
}

/// The aws-chunked body of `chunks` then `trailers`: signed in `signer`'s scope from `seed`
/// (the request's signature) when given, unsigned otherwise.
pub fn body(
    chunks: &[&[u8]],
    trailers: &[(&str, &str)],
    seed: Option<&str>,
    signer: &Signer<'_>,
) -> Chunked {
    let identity = signer.keys.identity();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(signer.region)
        .name(signer.service)
        .time(signer.time)
        .settings(())
        .build()
        .unwrap_or_else(|e| panic!("chunk signing parameters: {e}"));
    let mut previous = seed.map(str::to_owned);
    let mut out = Chunked::default();
    for chunk in chunks.iter().copied().chain([&b""[..]]) {
        out.body
            .extend_from_slice(format!("{:x}", chunk.len()).as_bytes());
        if let Some(prev) = &previous {
            let signature = v4::sign_chunk(&Bytes::copy_from_slice(chunk), prev, &params)
                .unwrap_or_else(|e| panic!("chunk signature: {e}"))
                .signature()
                .to_owned();
            out.body.extend_from_slice(b";chunk-signature=");
            out.signatures
                .push(out.body.len()..out.body.len() + signature.len());
            out.body.extend_from_slice(signature.as_bytes());
            previous = Some(signature);
        }
        out.body.extend_from_slice(b"\r\n");
        if !chunk.is_empty() {
            out.data.push(out.body.len()..out.body.len() + chunk.len());
            out.body.extend_from_slice(chunk);
            out.body.extend_from_slice(b"\r\n");
        }
    }
    for (name, value) in trailers {
        out.body
            .extend_from_slice(format!("{name}:{value}\r\n").as_bytes());
    }
    if let (Some(prev), false) = (&previous, trailers.is_empty()) {
        let mut headers = aws_smithy_runtime_api::http::Headers::new();
        for (name, value) in trailers {
            headers.insert(name.to_string(), value.to_string());
        }
        let signature = v4::sign_trailer(&headers, prev, &params)
            .unwrap_or_else(|e| panic!("trailer signature: {e}"))
            .signature()
            .to_owned();
        out.body.extend_from_slice(b"x-amz-trailer-signature:");
        out.signatures
            .push(out.body.len()..out.body.len() + signature.len());
        out.body.extend_from_slice(signature.as_bytes());
        out.body.extend_from_slice(b"\r\n");
    }
    out.body.extend_from_slice(b"\r\n");
    out
}
