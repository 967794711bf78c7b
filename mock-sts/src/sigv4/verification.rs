//! Verification of a parsed signature: the scope's terminator and date, then the signature
//! recomputed from what was received, compared in constant time.
//!
//! The round-trip tests here sign with the real `aws-sigv4` crate (the Rust SDK's signer) and
//! verify what a server receives; the properties check that any change to a signed part of a
//! request is refused and that no input panics.

use http::request::Parts;
use subtle::ConstantTimeEq;

use super::error::request_day;
use super::{
    ParsedSignature, PathRule, SigV4Error, TERMINATOR, canonical_request, hmac_hex, signing_key,
    string_to_sign,
};

/// Verifies a parsed signature: the scope must end in `aws4_request` and its date must be the
/// request's day, every signed header must be present, and the signature must equal the one
/// computed from what was received (compared in constant time).
///
/// `payload_hash` is the last line of the canonical request: usually
/// [`ParsedSignature::payload_hash_for`] the body. Errors: [`SigV4Error::BadTerminator`],
/// [`SigV4Error::ScopeDateMismatch`], [`SigV4Error::MissingSignedHeader`], and
/// [`SigV4Error::SignatureDoesNotMatch`] with the canonical request and string to sign.
pub(crate) fn verify(
    parts: &Parts,
    sig: &ParsedSignature,
    payload_hash: &str,
    secret_access_key: &str,
    rule: PathRule,
) -> Result<(), SigV4Error> {
    // Coral's order: the terminator before the date (`scope_error_message`).
    if sig.scope.terminator != TERMINATOR {
        return Err(SigV4Error::BadTerminator(sig.scope.terminator.clone()));
    }
    if sig.scope.date != request_day(&sig.amz_date) {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: sig.scope.date.clone(),
            amz_date: sig.amz_date.clone(),
        });
    }
    let canonical_request = canonical_request(parts, sig, payload_hash, rule)?;
    let string_to_sign = string_to_sign(sig, &canonical_request);
    let key = signing_key(
        secret_access_key,
        &sig.scope.date,
        &sig.scope.region,
        &sig.scope.service,
    );
    let expected = hmac_hex(&key, &string_to_sign);
    if bool::from(expected.as_bytes().ct_eq(sig.signature.as_bytes())) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureDoesNotMatch {
            canonical_request,
            string_to_sign,
            signature_provided: sig.signature.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::canonical::{SIGV4_ENCODE, SIGV4_ENCODE_PATH, lossy};
    use super::super::error::SIGNATURE_DOES_NOT_MATCH_MESSAGE;
    use super::super::test_support::*;
    use super::super::*;
    use super::*;
    use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody};
    use http::header::{AUTHORIZATION, HOST};
    use http::uri::PathAndQuery;
    use percent_encoding::{AsciiSet, percent_encode};
    use proptest::prelude::*;
    use std::time::Duration;

    #[test]
    fn published_vectors_canonicalise_and_verify() {
        for v in &vectors() {
            let parts = parts_from_raw(&v.request);
            let sig = parse(&parts).unwrap().unwrap();
            // Non-S3 presigned URLs sign the body hash (botocore SigV4QueryAuth); the vectors
            // use the service "service".
            let payload = match sig.kind {
                AuthKind::Header => sig.payload_hash_for(v.body.as_bytes()),
                AuthKind::Presigned => hex_sha256(v.body.as_bytes()),
            };
            let creq = canonical_request(&parts, &sig, &payload, v.rule).unwrap();
            assert_eq!(creq, v.canonical_request, "{}", v.name);
            assert_eq!(sig.signature, v.signature, "{}", v.name);
            if let Err(e) = verify(&parts, &sig, &payload, SUITE_SECRET, v.rule) {
                panic!("{}: {e:?}", v.name);
            }
        }
    }

    #[test]
    fn folded_header_vector_verifies() {
        // get-header-value-multiline: `My-Header1:value1\n  value2\n     value3`. http cannot
        // carry the line breaks; a proxy unfolding them leaves runs of spaces, which collapse.
        let parts = parts_from_raw(
            "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value1  value2     value3\n\
             X-Amz-Date:20150830T123600Z\nAuthorization:AWS4-HMAC-SHA256 \
             Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;my-header1;x-amz-date, \
             Signature=cfd34249e4b1c8d6b91ef74165d41a32e5fab3306300901bb65a51a73575eefd",
        );
        let sig = parse(&parts).unwrap().unwrap();
        let creq = canonical_request(&parts, &sig, EMPTY_SHA256, PathRule::Normalized).unwrap();
        assert!(
            creq.contains("\nmy-header1:value1 value2 value3\n"),
            "{creq}"
        );
        verify(
            &parts,
            &sig,
            EMPTY_SHA256,
            SUITE_SECRET,
            PathRule::Normalized,
        )
        .unwrap();
    }

    #[test]
    fn sdk_header_signed_request_with_session_token_verifies() {
        let mut signer = Signer::new(
            "GET",
            "https://example.amazonaws.com/path/to/thing?b=2&a=1&a=0&empty&sp=%20x",
            "service",
        );
        signer.token = Some("IQoJb3JpZ2luX2VjE+token/with==");
        signer.headers = vec![("x-custom", "  a   b  "), ("x-custom", "c")];
        for parts in [
            signer.sign(SignableBody::empty()),
            signer.sign_absolute(SignableBody::empty()),
        ] {
            let sig = parse(&parts).unwrap().unwrap();
            assert_eq!(sig.kind, AuthKind::Header);
            assert_eq!(sig.security_token.as_deref(), signer.token);
            assert!(
                sig.signed_headers
                    .contains(&"x-amz-security-token".to_owned())
            );
            let payload = sig.payload_hash_for(b"");
            assert_eq!(payload, EMPTY_SHA256);
            verify(&parts, &sig, &payload, SUITE_SECRET, PathRule::Normalized).unwrap();
        }
    }

    #[test]
    fn sdk_presigned_request_with_session_token_verifies() {
        let mut signer = Signer::new(
            "GET",
            "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
            "sts",
        )
        .presigned(900);
        signer.token = Some("FwoGZXIvYXdzE+abc/def==");
        let parts = signer.sign(SignableBody::empty());
        let sig = parse(&parts).unwrap().unwrap();
        assert_eq!(sig.kind, AuthKind::Presigned);
        assert_eq!(sig.expires_seconds, Some(900));
        assert_eq!(sig.security_token.as_deref(), signer.token);
        assert_eq!(sig.payload_hash, UNSIGNED_PAYLOAD);
        assert_eq!(
            sig.presigned_expiry(),
            Some(suite_time() + Duration::from_secs(900))
        );
        // Not S3: the body hash is signed, not UNSIGNED-PAYLOAD.
        verify(
            &parts,
            &sig,
            EMPTY_SHA256,
            SUITE_SECRET,
            PathRule::Normalized,
        )
        .unwrap();
        assert!(matches!(
            verify(
                &parts,
                &sig,
                UNSIGNED_PAYLOAD,
                SUITE_SECRET,
                PathRule::Normalized
            ),
            Err(SigV4Error::SignatureDoesNotMatch { .. })
        ));
    }

    #[test]
    fn sdk_sts_form_post_verifies() {
        let body = b"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=s";
        let length = body.len().to_string();
        let mut signer = Signer::new("POST", "https://sts.us-east-1.amazonaws.com/", "sts");
        signer.headers = vec![
            ("content-type", "application/x-www-form-urlencoded"),
            ("content-length", &length),
            ("x-amz-user-agent", "aws-sdk-rust/1.0"),
        ];
        signer.token = Some("token");
        let parts = signer.sign(SignableBody::Bytes(body));
        let sig = parse(&parts).unwrap().unwrap();
        assert_eq!(
            sig.signed_headers,
            [
                "content-length",
                "content-type",
                "host",
                "x-amz-date",
                "x-amz-security-token",
                "x-amz-user-agent"
            ]
        );
        assert_eq!(sig.payload_hash, "");
        let payload = sig.payload_hash_for(body);
        verify(&parts, &sig, &payload, SUITE_SECRET, PathRule::Normalized).unwrap();
        assert!(
            verify(
                &parts,
                &sig,
                EMPTY_SHA256,
                SUITE_SECRET,
                PathRule::Normalized
            )
            .is_err()
        );
    }

    /// An S3 key with the characters that trip signers up, encoded as the SDK encodes keys.
    const AWKWARD_KEY: &str = "dir//a b+c~d'e(1)!*/ünï©ødé %2F=&?#.txt";

    fn s3_uri(host: &str, key: &str, query: &str) -> String {
        let path =
            percent_encode(format!("/bucket/{key}").as_bytes(), SIGV4_ENCODE_PATH).to_string();
        format!("{host}{path}{query}")
    }

    #[test]
    fn sdk_s3_put_with_awkward_key_verifies() {
        let uri = s3_uri("http://127.0.0.1:9000", AWKWARD_KEY, "?x-id=PutObject");
        let body = b"hello";
        let body_hash = hex_sha256(body);
        for payload in [
            SignableBody::Precomputed(body_hash.clone()),
            SignableBody::UnsignedPayload,
        ] {
            let mut signer = Signer::new("PUT", &uri, "s3").s3();
            signer.settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            signer.headers = vec![
                ("content-length", "5"),
                ("x-amz-checksum-crc32", "NhCmhg=="),
            ];
            let parts = signer.sign(payload);
            let sig = parse(&parts).unwrap().unwrap();
            assert!(sig.payload_hash == body_hash || sig.payload_hash == UNSIGNED_PAYLOAD);
            assert_eq!(parts.headers.get(HOST).unwrap(), "127.0.0.1:9000");
            verify(&parts, &sig, &sig.payload_hash, SUITE_SECRET, PathRule::S3).unwrap();
            // Double encoding turns every `%` into `%25`: the wrong rule does not verify.
            assert!(
                verify(
                    &parts,
                    &sig,
                    &sig.payload_hash,
                    SUITE_SECRET,
                    PathRule::Normalized
                )
                .is_err()
            );
        }
    }

    #[test]
    fn sdk_s3_presigned_get_verifies() {
        let uri = s3_uri(
            "https://bucket.s3.us-west-2.amazonaws.com",
            AWKWARD_KEY,
            "?response-content-disposition=attachment%3B%20filename%3D%22a%20b.txt%22",
        );
        let mut signer = Signer::new("GET", &uri, "s3").s3().presigned(604_800);
        signer.region = "us-west-2";
        signer.token = Some("tok+en/==");
        let parts = signer.sign(SignableBody::UnsignedPayload);
        assert_eq!(
            parts.headers.get(HOST).unwrap(),
            "bucket.s3.us-west-2.amazonaws.com"
        );
        let sig = parse(&parts).unwrap().unwrap();
        assert_eq!(sig.scope.region, "us-west-2");
        assert_eq!(sig.expires_seconds, Some(604_800));
        verify(&parts, &sig, &sig.payload_hash, SUITE_SECRET, PathRule::S3).unwrap();
    }

    #[test]
    fn scope_date_other_than_request_day_gets_scope_date_mismatch() {
        let header = GOOD_AUTH.replace("/20150830/", "/20150829/");
        let parts = request(
            "/",
            &[("authorization", &header), ("x-amz-date", SUITE_DATE)],
        );
        let sig = parse(&parts).unwrap().unwrap();
        let err = verify(
            &parts,
            &sig,
            EMPTY_SHA256,
            SUITE_SECRET,
            PathRule::Normalized,
        )
        .unwrap_err();
        assert_eq!(
            err,
            SigV4Error::ScopeDateMismatch {
                scope_date: "20150829".to_owned(),
                amz_date: SUITE_DATE.to_owned()
            }
        );
        assert_eq!(
            err.to_string(),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != '20150830', from '20150830T123600Z'."
        );
        // All four scope checks together, in AWS's order (scratchstack's recorded text).
        let header = GOOD_AUTH.replace(
            "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request",
            "AKIDEXAMPLE/foobar/wrong-region/wrong-service/aws5_request",
        );
        let sig = parse(&request(
            "/",
            &[
                ("authorization", &header),
                ("x-amz-date", "20150830T122100Z"),
            ],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            sig.scope_error_message("us-east-1", "service").unwrap(),
            "Credential should be scoped to a valid region, not 'wrong-region'. Credential should be scoped to correct service: 'service'. Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'foobar' != '20150830', from '20150830T122100Z'."
        );
        let good = parse(&request(
            "/",
            &[("authorization", GOOD_AUTH), ("x-amz-date", SUITE_DATE)],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(good.scope_error_message("us-east-1", "service"), None);
    }

    #[test]
    fn a_terminator_other_than_aws4_request_gets_bad_terminator() {
        // The string to sign names the constant terminator, so the signature itself would
        // still verify: only this check refuses the scope.
        let header = GOOD_AUTH.replace("/aws4_request,", "/aws4_requesT,");
        let parts = request(
            "/",
            &[("authorization", &header), ("x-amz-date", SUITE_DATE)],
        );
        let sig = parse(&parts).unwrap().unwrap();
        let err = verify(
            &parts,
            &sig,
            EMPTY_SHA256,
            SUITE_SECRET,
            PathRule::Normalized,
        )
        .unwrap_err();
        assert_eq!(err, SigV4Error::BadTerminator("aws4_requesT".to_owned()));
        assert_eq!(
            err.to_string(),
            "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws4_requesT'."
        );
    }

    #[test]
    fn wrong_secret_gets_signature_does_not_match_with_the_computed_strings() {
        let parts = request(
            "/",
            &[
                ("authorization", GOOD_AUTH),
                ("x-amz-date", SUITE_DATE),
                ("x-amz-security-token", "s3cr3t-t0ken"),
            ],
        );
        let sig = parse(&parts).unwrap().unwrap();
        assert_eq!(sig.security_token.as_deref(), Some("s3cr3t-t0ken"));
        assert!(!format!("{sig:?}").contains("s3cr3t-t0ken"));
        let err = verify(&parts, &sig, EMPTY_SHA256, "wrong", PathRule::Normalized).unwrap_err();
        let SigV4Error::SignatureDoesNotMatch {
            canonical_request,
            string_to_sign,
            signature_provided,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(*canonical_request, vectors()[0].canonical_request);
        assert!(string_to_sign.starts_with("AWS4-HMAC-SHA256\n20150830T123600Z\n"));
        assert_eq!(signature_provided, &sig.signature);
        assert_eq!(err.to_string(), SIGNATURE_DOES_NOT_MATCH_MESSAGE);
        verify(
            &parts,
            &sig,
            EMPTY_SHA256,
            SUITE_SECRET,
            PathRule::Normalized,
        )
        .unwrap();
    }

    #[test]
    fn absent_signed_header_gets_missing_signed_header() {
        let header = GOOD_AUTH.replace("host;x-amz-date", "host;x-amz-date;x-custom");
        let parts = request(
            "/",
            &[("authorization", &header), ("x-amz-date", SUITE_DATE)],
        );
        let sig = parse(&parts).unwrap().unwrap();
        let err = verify(
            &parts,
            &sig,
            EMPTY_SHA256,
            SUITE_SECRET,
            PathRule::Normalized,
        )
        .unwrap_err();
        assert_eq!(err, SigV4Error::MissingSignedHeader("x-custom".to_owned()));
        assert_eq!(err.to_string(), SIGNATURE_DOES_NOT_MATCH_MESSAGE);
    }

    // ---- properties ----

    /// Encodes what an HTTP target cannot carry and nothing else, so raw paths keep
    /// sub-delimiters, dots and `+` for the canonicaliser to deal with.
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
    const LAX_QUERY: &AsciiSet = &LAX.add(b'&').add(b'=');

    fn segment() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "\\PC{0,6}",
            1 => Just(".".to_owned()),
            1 => Just("..".to_owned()),
            1 => Just(String::new()),
        ]
    }

    #[derive(Debug, Clone)]
    struct Case {
        s3: bool,
        presigned: bool,
        segments: Vec<String>,
        query: Vec<(String, Option<String>)>,
        headers: Vec<String>,
        body: Vec<u8>,
        token: Option<String>,
    }

    fn case() -> impl Strategy<Value = Case> {
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(segment(), 0..4),
            prop::collection::vec(("\\PC{0,6}", prop::option::of("\\PC{0,6}")), 0..4),
            prop::collection::vec("[ -~\t]{0,12}", 0..3),
            prop::collection::vec(any::<u8>(), 0..48),
            prop::option::of("[A-Za-z0-9+/=]{1,24}"),
        )
            .prop_map(
                |(s3, presigned, segments, query, headers, body, token)| Case {
                    s3,
                    presigned,
                    segments,
                    query,
                    headers,
                    body,
                    token,
                },
            )
    }

    impl Case {
        fn uri(&self) -> String {
            // S3 keys are encoded strictly, as the SDKs do; other paths are sent lax.
            let set = if self.s3 { SIGV4_ENCODE } else { LAX };
            let path: Vec<String> = self
                .segments
                .iter()
                .map(|s| percent_encode(s.as_bytes(), set).to_string())
                .collect();
            let query: Vec<String> = self
                .query
                .iter()
                .map(|(k, v)| {
                    let k = percent_encode(k.as_bytes(), LAX_QUERY);
                    match v {
                        Some(v) => format!("{k}={}", percent_encode(v.as_bytes(), LAX_QUERY)),
                        None => k.to_string(),
                    }
                })
                .collect();
            let query = if query.is_empty() {
                String::new()
            } else {
                format!("?{}", query.join("&"))
            };
            format!("http://localhost:4566/{}{query}", path.join("/"))
        }

        fn rule(&self) -> PathRule {
            if self.s3 {
                PathRule::S3
            } else {
                PathRule::Normalized
            }
        }

        fn header_names(&self) -> Vec<String> {
            (0..self.headers.len())
                .map(|i| format!("x-test-{}", i % 2))
                .collect()
        }

        fn sign(&self, secret: &str) -> Parts {
            let uri = self.uri();
            let names = self.header_names();
            let mut signer = Signer::new("PUT", &uri, if self.s3 { "s3" } else { "service" });
            signer.secret = secret;
            signer.token = self.token.as_deref();
            signer.headers = names
                .iter()
                .map(String::as_str)
                .zip(self.headers.iter().map(String::as_str))
                .collect();
            if self.s3 {
                signer = signer.s3();
            }
            if self.presigned {
                signer = signer.presigned(3600);
            }
            let body_hash = hex_sha256(&self.body);
            let body = match (self.s3, self.presigned) {
                (true, true) => SignableBody::UnsignedPayload,
                (true, false) => {
                    signer.settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
                    SignableBody::Precomputed(body_hash)
                }
                (false, _) => SignableBody::Bytes(&self.body),
            };
            signer.sign(body)
        }

        /// The payload hash the caller would pass.
        fn payload_hash(&self, sig: &ParsedSignature) -> String {
            if sig.kind == AuthKind::Presigned && !self.s3 {
                hex_sha256(&self.body)
            } else {
                sig.payload_hash_for(&self.body)
            }
        }
    }

    fn flip_hex(s: &str, index: usize) -> String {
        let mut bytes = s.as_bytes().to_vec();
        let i = index % bytes.len();
        bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
        String::from_utf8(bytes).unwrap()
    }

    proptest! {
        #![proptest_config(crate::testing::config(64))]

        #[test]
        fn aws_sigv4_signed_requests_verify_and_any_change_is_rejected(
            case in case(),
            index in any::<usize>(),
        ) {
            let rule = case.rule();
            let parts = case.sign(SUITE_SECRET);
            let sig = parse(&parts).unwrap().unwrap();
            let payload = case.payload_hash(&sig);
            if let Err(e) = verify(&parts, &sig, &payload, SUITE_SECRET, rule) {
                panic!("{case:?}\n{:?}\n{e:?}", parts.uri);
            }

            // The signature.
            let mut bad = sig.clone();
            bad.signature = flip_hex(&sig.signature, index);
            prop_assert!(verify(&parts, &bad, &payload, SUITE_SECRET, rule).is_err());
            // The secret.
            prop_assert!(verify(&parts, &sig, &payload, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEz", rule).is_err());
            // The payload hash.
            prop_assert!(verify(&parts, &sig, &flip_hex(&payload, index), SUITE_SECRET, rule).is_err());
            // A signed header value: host always, and a custom header when there is one.
            let mut changed = parts.clone();
            changed.headers.insert(HOST, "localhost:4567".parse().unwrap());
            prop_assert!(verify(&changed, &sig, &payload, SUITE_SECRET, rule).is_err());
            if let Some(name) = case.header_names().first() {
                let mut changed = parts.clone();
                let value = format!("{}x", lossy(changed.headers[name.as_str()].as_bytes()));
                changed.headers.insert(http::HeaderName::try_from(name.as_str()).unwrap(), value.parse().unwrap());
                prop_assert!(verify(&changed, &sig, &payload, SUITE_SECRET, rule).is_err());
            }
            // The path.
            let pq = parts.uri.path_and_query().unwrap();
            let query = pq.query().map(|q| format!("?{q}")).unwrap_or_default();
            let mut changed = parts.clone();
            changed.uri = format!("{}x{query}", pq.path()).parse().unwrap();
            prop_assert!(verify(&changed, &sig, &payload, SUITE_SECRET, rule).is_err());
            // The query.
            let mut changed = parts.clone();
            let extra = if query.is_empty() { "?zz=1".to_owned() } else { format!("{query}&zz=1") };
            changed.uri = format!("{}{extra}", pq.path()).parse().unwrap();
            prop_assert!(verify(&changed, &sig, &payload, SUITE_SECRET, rule).is_err());
        }

        #[test]
        fn arbitrary_authorization_and_query_never_panic(
            authorization in prop::collection::vec(any::<u8>(), 0..80),
            structured in ("\\PC{0,40}", "\\PC{0,20}", "[ -~]{0,20}"),
            query in "\\PC{0,60}",
            x_amz_date in prop::option::of("[0-9TZ]{14,18}"),
            date in prop::option::of("\\PC{0,30}"),
        ) {
            let (credential, signed_headers, signature) = structured;
            let shaped = format!(
                "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}"
            );
            let targets = [format!("/?{query}"), format!("/?X-Amz-Algorithm=AWS4-HMAC-SHA256&{query}"), "/".to_owned()];
            for target in targets {
                let Ok(pq) = PathAndQuery::try_from(target.as_str()) else { continue };
                for auth in [Some(authorization.as_slice()), Some(shaped.as_bytes()), None] {
                    let mut builder = http::Request::builder().uri(http::Uri::from(pq.clone()));
                    if let Some(auth) = auth.and_then(|a| http::HeaderValue::from_bytes(a).ok()) {
                        builder = builder.header(AUTHORIZATION, auth);
                    }
                    if let Some(d) = x_amz_date.as_deref() {
                        builder = builder.header("x-amz-date", d);
                    }
                    if let Some(d) = date.as_deref().and_then(|d| http::HeaderValue::from_str(d).ok()) {
                        builder = builder.header("date", d);
                    }
                    let parts = builder.body(()).unwrap().into_parts().0;
                    if let Ok(Some(sig)) = parse(&parts) {
                        let _ = sig.scope_error_message("us-east-1", "sts");
                        let _ = sig.presigned_expiry();
                        for rule in [PathRule::Normalized, PathRule::S3] {
                            let _ = canonical_request(&parts, &sig, EMPTY_SHA256, rule);
                            let _ = verify(&parts, &sig, &sig.payload_hash_for(b""), SUITE_SECRET, rule);
                        }
                    }
                }
            }
        }
    }
}
