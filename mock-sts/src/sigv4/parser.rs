//! Reads a SigV4 signature from what was received: the `Authorization` header or the presigned
//! query string, into a [`ParsedSignature`].
//!
//! The checks run in the order Coral (the front end of STS and the JSON services) runs them, so
//! a malformed request gets the first complaint AWS would make, in AWS's words. Nothing here
//! verifies: the caller checks skew, looks up the secret, then calls
//! [`verify`](super::verify).

use std::time::SystemTime;

use std::borrow::Cow;

use http::request::Parts;
use http::{HeaderName, HeaderValue};

use super::canonical::decoded_query;
use super::{
    ALGORITHM, AuthKind, CredentialScope, MAX_PRESIGNED_EXPIRES_SECONDS, ParsedSignature,
    SigV4Error, UNSIGNED_PAYLOAD,
};

/// Coral's text when both auth forms are present (mhart/dynalite `index.js`, recorded from
/// DynamoDB, where the code is `InvalidSignatureException`).
const MSG_CONFLICTING_AUTH: &str =
    "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.";
/// Coral's text when `Host` is not signed (scratchstack-aws-signature; a reported AWS
/// `InvalidSignatureException` in public notes). Older responses said just `'Host' must be...`.
const MSG_HOST_NOT_SIGNED: &str =
    "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
/// X-Amz-Expires messages: S3's texts (openstack/swift `s3api` `_validate_expire_param`, tested
/// against S3; minio). The Coral services' texts for these cases are not known.
const MSG_EXPIRES_NOT_A_NUMBER: &str = "X-Amz-Expires should be a number";
const MSG_EXPIRES_NEGATIVE: &str = "X-Amz-Expires must be non-negative";
const MSG_EXPIRES_TOO_LARGE: &str = "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds";

/// Parses the `Authorization` header (`AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/
/// aws4_request, SignedHeaders=a;b, Signature=hex`) or the presigned query (`X-Amz-Algorithm,
/// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature[,
/// X-Amz-Security-Token]`).
///
/// `Ok(None)` when the request carries neither (an unsigned request: AWS's
/// `MissingAuthenticationToken` for STS, anonymous for S3). A request is presigned when its
/// query has an `X-Amz-Algorithm` key, whatever its value.
///
/// Checks run in Coral's order as far as this function sees them (mhart/dynalite and
/// scratchstack-aws-signature): `key=value` syntax, required parameters and date, date format,
/// `host` signed, algorithm, five-part credential. AWS checks clock skew between the date
/// format and the rest; the caller does that after this returns.
pub(crate) fn parse(parts: &Parts) -> Result<Option<ParsedSignature>, SigV4Error> {
    // Every request is parsed: the query is decoded into owned pairs only for a presigned
    // URL, which reads most of it; a header-signed request looks up one key at most.
    let raw_query = parts.uri.query().unwrap_or("");
    let presigned = query_pairs(raw_query).any(|(k, _)| k == "X-Amz-Algorithm");
    match (parts.headers.get(http::header::AUTHORIZATION), presigned) {
        (Some(_), true) => Err(SigV4Error::ConflictingAuth(MSG_CONFLICTING_AUTH.to_owned())),
        (Some(value), false) => parse_header_auth(parts, &text(value), raw_query).map(Some),
        (None, true) => parse_query_auth(parts, &decoded_query(raw_query)).map(Some),
        (None, false) => Ok(None),
    }
}

/// Well-known header names, parsed once rather than at every lookup.
static X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
static X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
static X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");

/// The raw query's pairs, decoded as [`decoded_query`] decodes them, borrowed where nothing
/// needed decoding.
fn query_pairs(raw: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(raw.as_bytes())
}

fn parse_header_auth(
    parts: &Parts,
    header: &str,
    raw_query: &str,
) -> Result<ParsedSignature, SigV4Error> {
    let trimmed = header.trim_matches(|c| c == ' ' || c == '\t');
    let (algorithm, params) = trimmed.split_once([' ', '\t']).unwrap_or((trimmed, ""));
    let supported = algorithm == ALGORITHM;
    // Coral checks the parameters before the algorithm, so a SigV2 or bearer header gets the
    // same complaints a broken SigV4 header would; the variant still says why.
    let incomplete = |message: String| {
        if supported {
            SigV4Error::Incomplete(message)
        } else {
            SigV4Error::UnsupportedAlgorithm(message)
        }
    };

    // Coral splits on commas and whitespace alike: `Credential=not valid/…` complains about
    // `valid/…` (a real STS answer quoted in apache/hadoop's S3A troubleshooting doc).
    let mut credential = None;
    let mut signature = None;
    let mut signed_headers = None;
    for pair in params
        .split([',', ' ', '\t'])
        .filter(|pair| !pair.is_empty())
    {
        let Some((key, value)) = pair.split_once('=') else {
            return Err(incomplete(format!(
                "'{pair}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        // The last occurrence wins (scratchstack-aws-signature's rule 6c).
        match key {
            "Credential" => credential = Some(value),
            "Signature" => signature = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            _ => {}
        }
    }
    let credential = credential.filter(|v| !v.is_empty());
    let signature = signature.filter(|v| !v.is_empty());

    let x_amz_date = first_header(parts, &X_AMZ_DATE).filter(|v| !v.is_empty());
    let date = first_header(parts, &http::header::DATE).filter(|v| !v.is_empty());

    let mut missing = String::new();
    if credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    if x_amz_date.is_none() && date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), true) =
        (credential, signature, signed_headers, missing.is_empty())
    else {
        return Err(incomplete(format!("{missing}Authorization={header}")));
    };

    let (amz_date, request_time) = match (x_amz_date, date) {
        (Some(raw), _) => (raw.clone(), parse_basic_date(&raw)?),
        (None, Some(raw)) => {
            let time = crate::timestamp::parse_http_date(&raw).ok_or_else(|| bad_date(&raw))?;
            (crate::timestamp::amz_date(time), time)
        }
        // Ruled out by the missing-parameter check above.
        (None, None) => return Err(incomplete(format!("{missing}Authorization={header}"))),
    };

    let signed_headers = split_signed_headers(signed_headers);
    check_host_signed(&signed_headers)?;
    if !supported {
        return Err(SigV4Error::UnsupportedAlgorithm(unsupported_message(
            algorithm,
        )));
    }
    let (access_key_id, scope) = split_credential(credential)?;

    let security_token = first_header(parts, &X_AMZ_SECURITY_TOKEN).or_else(|| {
        query_pairs(raw_query)
            .find(|(k, _)| k == "X-Amz-Security-Token")
            .map(|(_, v)| v.into_owned())
    });
    let payload_hash = first_header(parts, &X_AMZ_CONTENT_SHA256).unwrap_or_default();

    Ok(ParsedSignature {
        kind: AuthKind::Header,
        access_key_id,
        scope,
        signed_headers,
        signature: signature.to_owned(),
        amz_date,
        request_time,
        expires_seconds: None,
        security_token,
        payload_hash,
    })
}

fn parse_query_auth(
    parts: &Parts,
    query: &[(String, String)],
) -> Result<ParsedSignature, SigV4Error> {
    // Coral's list and order (mhart/dynalite tests, recorded from DynamoDB with the CRC of
    // each body). An empty value counts as missing. X-Amz-Expires is not required here; S3
    // requires it (S3_QUERY_PARAMETERS_MISSING_MESSAGE), which the S3 caller checks.
    const REQUIRED: [&str; 5] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ];
    let present = |name: &str| query_value(query, name).filter(|v| !v.is_empty());
    let mut missing = String::new();
    for name in REQUIRED {
        if present(name).is_none() {
            missing.push_str(&format!(
                "AWS query-string parameters must include '{name}'. "
            ));
        }
    }
    let (Some(algorithm), Some(credential), Some(signature), Some(signed_headers), Some(raw_date)) = (
        present("X-Amz-Algorithm"),
        present("X-Amz-Credential"),
        present("X-Amz-Signature"),
        present("X-Amz-SignedHeaders"),
        present("X-Amz-Date"),
    ) else {
        return Err(SigV4Error::Incomplete(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    };

    // scratchstack-aws-signature treats any other algorithm as an unsigned request; we refuse
    // it instead, with the header form's text (Coral's query-form text is unconfirmed).
    if algorithm != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm(unsupported_message(
            algorithm,
        )));
    }
    let request_time = parse_basic_date(raw_date)?;
    let expires_seconds = match query_value(query, "X-Amz-Expires") {
        Some(raw) => Some(parse_expires(raw)?),
        None => None,
    };
    let signed_headers = split_signed_headers(signed_headers);
    check_host_signed(&signed_headers)?;
    let (access_key_id, scope) = split_credential(credential)?;

    let security_token = query_value(query, "X-Amz-Security-Token")
        .map(str::to_owned)
        .or_else(|| first_header(parts, &X_AMZ_SECURITY_TOKEN));
    let payload_hash =
        first_header(parts, &X_AMZ_CONTENT_SHA256).unwrap_or_else(|| UNSIGNED_PAYLOAD.to_owned());

    Ok(ParsedSignature {
        kind: AuthKind::Presigned,
        access_key_id,
        scope,
        signed_headers,
        signature: signature.to_owned(),
        amz_date: raw_date.to_owned(),
        request_time,
        expires_seconds,
        security_token,
        payload_hash,
    })
}

/// Coral's text (DynamoDB, recorded in mhart/dynalite), trailing space included.
fn unsupported_message(algorithm: &str) -> String {
    format!("Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now). ")
}

fn bad_date(raw: &str) -> SigV4Error {
    SigV4Error::BadDate(format!(
        "Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

fn parse_basic_date(raw: &str) -> Result<SystemTime, SigV4Error> {
    crate::timestamp::parse_amz_date(raw).ok_or_else(|| bad_date(raw))
}

/// S3's rules: a signed 64-bit number, not negative, at most a week. `+5` parses, as in Java.
fn parse_expires(raw: &str) -> Result<u64, SigV4Error> {
    let seconds: i64 = raw
        .parse()
        .map_err(|_| SigV4Error::BadExpires(MSG_EXPIRES_NOT_A_NUMBER.to_owned()))?;
    let seconds = u64::try_from(seconds)
        .map_err(|_| SigV4Error::BadExpires(MSG_EXPIRES_NEGATIVE.to_owned()))?;
    if seconds > MAX_PRESIGNED_EXPIRES_SECONDS {
        return Err(SigV4Error::BadExpires(MSG_EXPIRES_TOO_LARGE.to_owned()));
    }
    Ok(seconds)
}

fn split_signed_headers(raw: &str) -> Vec<String> {
    raw.split(';').map(str::to_ascii_lowercase).collect()
}

fn check_host_signed(signed_headers: &[String]) -> Result<(), SigV4Error> {
    if signed_headers
        .iter()
        .any(|h| h == "host" || h == ":authority")
    {
        Ok(())
    } else {
        Err(SigV4Error::HostNotSigned(MSG_HOST_NOT_SIGNED.to_owned()))
    }
}

/// `AKID/DATE/REGION/SERVICE/TERMINATOR`. Trailing empty elements are ignored, as Java's
/// `String.split` does ("trailing slashes are ignored", mhart/dynalite's notes on DynamoDB).
fn split_credential(credential: &str) -> Result<(String, CredentialScope), SigV4Error> {
    // Trimming the trailing slashes drops exactly the trailing empty elements.
    let mut elements = credential.trim_end_matches('/').split('/');
    let elements = [(); 6].map(|()| elements.next());
    match elements {
        [
            Some(akid),
            Some(date),
            Some(region),
            Some(service),
            Some(terminator),
            None,
        ] => Ok((
            akid.to_owned(),
            CredentialScope {
                date: date.to_owned(),
                region: region.to_owned(),
                service: service.to_owned(),
                terminator: terminator.to_owned(),
            },
        )),
        _ => Err(SigV4Error::Incomplete(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
        ))),
    }
}

/// The first value of a header, as text (non-UTF-8 bytes replaced).
fn first_header(parts: &Parts, name: &HeaderName) -> Option<String> {
    parts.headers.get(name).map(|v| text(v).into_owned())
}

/// A header value as text, non-UTF-8 bytes replaced: borrowed when it is visible ASCII, as
/// every SDK's values are (checked faster than UTF-8; the same text either way).
fn text(value: &HeaderValue) -> Cow<'_, str> {
    match value.to_str() {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    }
}

/// The first value of a (decoded) query parameter.
fn query_value<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::super::*;
    use super::*;
    use http::header::AUTHORIZATION;

    #[test]
    fn unsigned_request_parses_to_none() {
        assert_eq!(
            parse(&request("/?Action=GetCallerIdentity", &[])).unwrap(),
            None
        );
    }

    #[test]
    fn missing_authorization_parameters_get_incomplete_signature() {
        // The text AWS sent (scratchstack's and dynalite's recorded forms).
        assert_eq!(
            parse_err("/", &[("authorization", "AWS4-HMAC-SHA256")]),
            SigV4Error::Incomplete(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256".to_owned()
            )
        );
        // The message SES sent in brendanhay/amazonka#316.
        assert_eq!(
            parse_err(
                "/",
                &[
                    ("authorization", "AWS4-HMAC-SHA256 Credential=ABCDEF"),
                    ("x-amz-date", SUITE_DATE)
                ]
            )
            .to_string(),
            "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=ABCDEF"
        );
        // Parameters may be separated by spaces alone (dynalite, recorded from DynamoDB).
        assert_eq!(
            parse_err(
                "/",
                &[
                    ("authorization", "AWS4-HMAC-SHA256 Signature=b Credential=a"),
                    ("date", "a")
                ]
            )
            .to_string(),
            "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Signature=b Credential=a"
        );
    }

    #[test]
    fn pair_without_equal_sign_gets_incomplete_signature() {
        // The STS answer quoted in apache/hadoop's S3A troubleshooting doc.
        let header = "AWS4-HMAC-SHA256 Credential=not valid/20180109/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            parse_err(
                "/",
                &[("authorization", header), ("x-amz-date", SUITE_DATE)]
            ),
            SigV4Error::Incomplete(format!(
                "'valid/20180109/us-east-1/sts/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            ))
        );
    }

    #[test]
    fn credential_without_five_parts_gets_incomplete_signature() {
        let header = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host;x-amz-date, Signature=abc";
        assert_eq!(
            parse_err("/", &[("authorization", header), ("x-amz-date", SUITE_DATE)]),
            SigV4Error::Incomplete(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/service'".to_owned()
            )
        );
        // Trailing slashes are ignored, as AWS does.
        let header = GOOD_AUTH.replace("aws4_request,", "aws4_request//,");
        let sig = parse(&request(
            "/",
            &[("authorization", &header), ("x-amz-date", SUITE_DATE)],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(sig.scope.terminator, "aws4_request");
    }

    #[test]
    fn other_algorithms_get_unsupported_algorithm() {
        // SigV2: the message CloudFront sent in aws/aws-sdk-ruby#317.
        let sigv2 = "AWS AKIAI2HBJEUM7LRSTWOQ:qaNdqGsI6bq4Hi+9Gzovwyjbh0E=";
        assert_eq!(
            parse_err(
                "/",
                &[
                    ("authorization", sigv2),
                    ("date", "Thu, 25 Jul 2013 18:00:00 GMT")
                ]
            ),
            SigV4Error::UnsupportedAlgorithm(format!(
                "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization={sigv2}"
            ))
        );
        // A well-formed header with another algorithm: DynamoDB's text.
        let sigv4a = "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3045022100";
        assert_eq!(
            parse_err("/", &[("authorization", sigv4a), ("x-amz-date", SUITE_DATE)]),
            SigV4Error::UnsupportedAlgorithm(
                "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). ".to_owned()
            )
        );
        // A bearer token: API Gateway's answer.
        assert_eq!(
            parse_err(
                "/",
                &[
                    ("authorization", "Bearer eyJhbGciOi.eyJ.sig"),
                    ("x-amz-date", SUITE_DATE)
                ]
            )
            .to_string(),
            "'eyJhbGciOi.eyJ.sig' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer eyJhbGciOi.eyJ.sig'."
        );
        // Presigned with another algorithm.
        assert!(matches!(
            parse_err(
                "/?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=host&X-Amz-Date=20150830T123600Z",
                &[]
            ),
            SigV4Error::UnsupportedAlgorithm(m) if m.contains("'AWS4-ECDSA-P256-SHA256'")
        ));
    }

    #[test]
    fn unparsable_dates_get_bad_date() {
        assert_eq!(
            parse_err("/", &[("authorization", GOOD_AUTH), ("x-amz-date", "2015/08/30T12/36/00Z")]),
            SigV4Error::BadDate(
                "Date must be in ISO-8601 'basic format'. Got '2015/08/30T12/36/00Z'. See http://en.wikipedia.org/wiki/ISO_8601".to_owned()
            )
        );
        assert!(matches!(
            parse_err("/", &[("authorization", GOOD_AUTH), ("date", "yesterday")]),
            SigV4Error::BadDate(m) if m.contains("Got 'yesterday'")
        ));
        assert!(matches!(
            parse_err(
                "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Signature=b&X-Amz-SignedHeaders=host&X-Amz-Date=20151330T000000Z",
                &[]
            ),
            SigV4Error::BadDate(_)
        ));
    }

    #[test]
    fn date_header_stands_in_for_x_amz_date() {
        // Signed by hand: aws-sigv4 always sends X-Amz-Date.
        let mut parts = request("/", &[("date", "Sun, 30 Aug 2015 12:36:00 GMT")]);
        let header = |signature: &str| {
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=date;host, Signature={signature}"
            )
        };
        parts
            .headers
            .insert(AUTHORIZATION, header("00").parse().unwrap());
        let sig = parse(&parts).unwrap().unwrap();
        assert_eq!(sig.amz_date, SUITE_DATE);
        assert_eq!(sig.request_time, suite_time());
        let creq = canonical_request(&parts, &sig, EMPTY_SHA256, PathRule::Normalized).unwrap();
        let key = signing_key(SUITE_SECRET, "20150830", "us-east-1", "service");
        let signature = hmac_hex(&key, &string_to_sign(&sig, &creq));
        parts
            .headers
            .insert(AUTHORIZATION, header(&signature).parse().unwrap());
        let sig = parse(&parts).unwrap().unwrap();
        verify(
            &parts,
            &sig,
            EMPTY_SHA256,
            SUITE_SECRET,
            PathRule::Normalized,
        )
        .unwrap();
    }

    fn presigned_target(expires: &str) -> String {
        format!(
            "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires={expires}&X-Amz-SignedHeaders=host&X-Amz-Signature=00"
        )
    }

    #[test]
    fn bad_expires_gets_bad_expires() {
        for (expires, message) in [
            ("abc", "X-Amz-Expires should be a number"),
            ("", "X-Amz-Expires should be a number"),
            ("99999999999999999999", "X-Amz-Expires should be a number"),
            ("-1", "X-Amz-Expires must be non-negative"),
            (
                "604801",
                "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
            ),
        ] {
            assert_eq!(
                parse_err(&presigned_target(expires), &[]),
                SigV4Error::BadExpires(message.to_owned()),
                "{expires}"
            );
        }
        for (expires, seconds) in [("604800", 604_800), ("0", 0), ("1", 1)] {
            let sig = parse(&request(&presigned_target(expires), &[]))
                .unwrap()
                .unwrap();
            assert_eq!(sig.expires_seconds, Some(seconds));
        }
    }

    #[test]
    fn unsigned_host_gets_host_not_signed() {
        let header = GOOD_AUTH.replace("SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date");
        assert_eq!(
            parse_err(
                "/",
                &[("authorization", &header), ("x-amz-date", SUITE_DATE)]
            ),
            SigV4Error::HostNotSigned(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
                    .to_owned()
            )
        );
    }

    #[test]
    fn header_and_query_auth_together_get_conflicting_auth() {
        assert_eq!(
            parse_err("/?X-Amz-Algorithm", &[("authorization", "X")]),
            SigV4Error::ConflictingAuth(
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.".to_owned()
            )
        );
    }

    #[test]
    fn missing_query_parameters_get_incomplete_signature() {
        // Both texts as DynamoDB sent them (mhart/dynalite tests, with the bodies' CRCs).
        assert_eq!(
            parse_err("/?X-Amz-Algorithm", &[]).to_string(),
            "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
        );
        assert_eq!(
            parse_err("/?X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d", &[]),
            SigV4Error::Incomplete(
                "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.".to_owned()
            )
        );
    }
}
