//! S3's request documents: `CompleteMultipartUpload` and `DeleteObjects` (and the small XML
//! reader under both). The first byte picks the document (bit 0); the rest is the body. Any
//! bytes parse or are refused with `MalformedXML`, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mock_sts::internals::{parse_complete_multipart_upload, parse_delete_objects};

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let parsed = if which & 1 == 0 {
        parse_complete_multipart_upload(body)
    } else {
        parse_delete_objects(body)
    };
    match parsed {
        Ok(n) => assert!(n > 0, "a document without entries is malformed"),
        Err(e) => assert_eq!(e.code.as_str(), "MalformedXML"),
    }
});
