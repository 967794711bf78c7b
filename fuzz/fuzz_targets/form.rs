//! STS's strict form decoding (the body of every STS POST and the query of a presigned
//! `GetCallerIdentity`): any bytes parse or are refused with `MalformedQueryString`, never a
//! panic. Lenient readers elsewhere use `form_urlencoded`, which the router target covers.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = mock_sts::internals::parse_sts_form(data) {
        assert_eq!(e.code.as_str(), "MalformedQueryString");
    }
});
