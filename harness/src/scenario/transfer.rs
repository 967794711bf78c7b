//! The file format of long transfers and presigned URLs: `[workload.multipart]` and
//! `[workload.presign]`, with sizes (`"5MiB"`) and bandwidths (`"50KiB/s"`), checked against
//! what S3 and SigV4 allow when the file is read.

use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Deserializer};
use toml::Spanned;

use super::file::Dur;
use super::{Multipart, Presign};

/// `[workload.multipart]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MultipartEntry {
    parts: Spanned<u32>,
    part_size: Spanned<Size>,
    last_part_size: Option<Spanned<Size>>,
    bandwidth: Spanned<Bandwidth>,
}

/// `[workload.presign]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PresignEntry {
    expires: Spanned<Dur>,
    use_after: Spanned<Dur>,
}

/// An error at a span, naming the key.
pub(super) type Invalid = (Option<Range<usize>>, String);

/// S3's most parts in one upload.
const MAX_PARTS: u32 = 10_000;
/// S3's largest part.
const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;

impl MultipartEntry {
    /// The checked model.
    pub(super) fn check(&self) -> Result<Multipart, Invalid> {
        let parts = *self.parts.get_ref();
        if !(1..=MAX_PARTS).contains(&parts) {
            return Err((
                Some(self.parts.span()),
                format!(
                    "workload.multipart.parts: must be 1..={MAX_PARTS} (S3's limit), got {parts}"
                ),
            ));
        }
        let part_size = self.part_size.get_ref().0;
        if part_size == 0 || part_size > MAX_PART_SIZE {
            return Err((
                Some(self.part_size.span()),
                format!("workload.multipart.part_size: must be 1 B to 5 GiB, got {part_size} B"),
            ));
        }
        if parts > 1 && part_size < Multipart::MIN_PART_SIZE {
            return Err((
                Some(self.part_size.span()),
                format!(
                    "workload.multipart.part_size: every part but the last must be at least 5 MiB (S3 answers EntityTooSmall), got {part_size} B; set last_part_size for a smaller last part"
                ),
            ));
        }
        let last_part_size = match &self.last_part_size {
            None => part_size,
            Some(s) if s.get_ref().0 == 0 || s.get_ref().0 > part_size => {
                return Err((
                    Some(s.span()),
                    format!(
                        "workload.multipart.last_part_size: must be 1 B to part_size ({part_size} B), got {} B",
                        s.get_ref().0
                    ),
                ));
            }
            Some(s) => s.get_ref().0,
        };
        let bandwidth = self.bandwidth.get_ref().0;
        if !(bandwidth.is_finite() && bandwidth > 0.0) {
            return Err((
                Some(self.bandwidth.span()),
                "workload.multipart.bandwidth: must be more than 0 (e.g. \"10MiB/s\")".into(),
            ));
        }
        Ok(Multipart {
            parts,
            part_size,
            last_part_size,
            bandwidth,
        })
    }
}

impl PresignEntry {
    /// The checked model.
    pub(super) fn check(&self) -> Result<Presign, Invalid> {
        let expires = self.expires.get_ref().0;
        if expires.is_zero() || expires > Presign::MAX {
            return Err((
                Some(self.expires.span()),
                "workload.presign.expires: must be 1s to 7d (SigV4's X-Amz-Expires allows at most 604800 seconds)".into(),
            ));
        }
        let use_after = self.use_after.get_ref().0;
        if use_after > Presign::MAX {
            return Err((
                Some(self.use_after.span()),
                "workload.presign.use_after: must be at most 7d (no presigned URL lives longer)"
                    .into(),
            ));
        }
        Ok(Presign { expires, use_after })
    }
}

/// A byte count: `5242880`, `"5MiB"`, `"8 MB"`.
struct Size(u64);

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Size(n)),
            Raw::S(s) => parse_size(&s)
                .map(|n| Size(n as u64))
                .map_err(de::Error::custom),
        }
    }
}

/// Bytes per second: `"50KiB/s"`, `"10 MB/s"`.
struct Bandwidth(f64);

impl<'de> Deserialize<'de> for Bandwidth {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let size = text.trim().strip_suffix("/s").ok_or_else(|| {
            de::Error::custom(format!("`{text}` is not a bandwidth (e.g. \"10MiB/s\")"))
        })?;
        parse_size(size).map(Bandwidth).map_err(de::Error::custom)
    }
}

/// `5MiB`, `1.5 GB`, `512B`, `1024`: bytes.
fn parse_size(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. \"5MiB\")"))?;
    let scale = match unit.trim() {
        "" | "B" => 1.0,
        "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}` (B, KB, MB, GB, KiB, MiB, GiB)"
            ));
        }
    };
    Ok(number * scale)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use super::super::Scenario;
    use super::*;

    const UPLOAD: &str = r#"name = "upload"
[workload]
length = "1h"
every = "4h"
operations = ["MultipartUpload"]
[workload.multipart]
parts = 10
part_size = "5MiB"
bandwidth = "10KiB/s"
[[run]]
strategy = "sdk-profile"
expect = { passes = true }
"#;

    const PRESIGN: &str = r#"name = "presign"
[workload]
length = "1h"
every = "4h"
operations = ["PresignedGetObject"]
[workload.presign]
expires = "7d"
use_after = "2h"
[[run]]
strategy = "sdk-profile"
expect = { passes = true }
"#;

    fn err(text: &str) -> String {
        Scenario::parse(text, Path::new("s.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn uploads_and_presigns_parse_into_the_model() {
        let s = Scenario::parse(UPLOAD, Path::new("s.toml")).unwrap();
        let m = s.workload.multipart.unwrap();
        assert_eq!(
            (m.parts, m.part_size, m.last_part_size),
            (10, 5 << 20, 5 << 20)
        );
        assert_eq!(m.transfer_time(1), Duration::from_secs(512));
        let s = Scenario::parse(PRESIGN, Path::new("s.toml")).unwrap();
        let p = s.workload.presign.clone().unwrap();
        assert_eq!(p.expires, Presign::MAX);
        assert_eq!(p.use_after, Duration::from_secs(7200));
        assert_eq!(s.workload.overrun(), Duration::from_secs(7200));
    }

    #[test]
    fn bad_uploads_and_presigns_name_line_and_key() {
        let cases = [
            (
                UPLOAD.replace("\"5MiB\"", "\"4MiB\""),
                "s.toml:8:",
                "at least 5 MiB",
            ),
            (
                UPLOAD.replace("\"10KiB/s\"", "\"0KiB/s\""),
                "s.toml:9:",
                "more than 0",
            ),
            (
                UPLOAD.replace("\"10KiB/s\"", "\"10KiB\""),
                "s.toml:9:",
                "not a bandwidth",
            ),
            (
                UPLOAD.replace("parts = 10", "parts = 0"),
                "s.toml:7:",
                "1..=10000",
            ),
            (
                UPLOAD.replace("parts = 10", "parts = 10001"),
                "s.toml:7:",
                "1..=10000",
            ),
            (
                UPLOAD.replace("bandwidth", "last_part_size = \"6MiB\"\nbandwidth"),
                "s.toml:9:",
                "last_part_size: must be 1 B to part_size",
            ),
            (
                UPLOAD.replace("parts = 10", "parts = 10\nspeed = 1"),
                "s.toml:",
                "speed",
            ),
            (
                UPLOAD.replace("\"MultipartUpload\"", "\"PutObject\""),
                "s.toml:6:",
                "no operation is MultipartUpload",
            ),
            (
                PRESIGN.replace("use_after = \"2h\"", "use_after = \"8d\""),
                "s.toml:8:",
                "use_after: must be at most 7d",
            ),
            (
                PRESIGN.replace("\"7d\"", "\"8d\""),
                "s.toml:7:",
                "X-Amz-Expires allows at most 604800",
            ),
            (
                PRESIGN.replace(
                    "[workload.presign]\nexpires = \"7d\"\nuse_after = \"2h\"\n",
                    "",
                ),
                "s.toml:1:",
                "need [workload.presign]",
            ),
        ];
        for (text, at, want) in cases {
            let e = err(&text);
            assert!(e.starts_with(at) && e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn sizes_in_decimal_and_binary_units() {
        assert_eq!(parse_size("5MiB"), Ok(5.0 * 1024.0 * 1024.0));
        assert_eq!(parse_size("8 MB"), Ok(8e6));
        assert_eq!(parse_size("512"), Ok(512.0));
        assert_eq!(parse_size("1.5KiB"), Ok(1536.0));
        assert!(
            parse_size("5 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
        assert!(parse_size("MiB").unwrap_err().contains("not a size"));
    }
}
