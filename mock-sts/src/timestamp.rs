//! Timestamp formats on the wire: AWS's ISO 8601 variants, SigV4's basic format, HTTP dates.
//!
//! Every format here is one AWS or a client parses byte for byte, so each function names the
//! format it writes and where it is used.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const ISO_SECONDS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const ISO_MILLIS: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
const AMZ_DATE: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
const AMZ_SCOPE_DATE: &[FormatItem<'static>] = format_description!("[year][month][day]");
const FAKETIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

fn odt(t: SystemTime) -> OffsetDateTime {
    OffsetDateTime::from(t)
}

fn format(t: SystemTime, items: &[FormatItem<'static>]) -> String {
    // Formatting a valid OffsetDateTime with these descriptions cannot fail; an out-of-range
    // year (beyond 9999) would, and falls back to the Unix epoch seconds.
    odt(t).format(items).unwrap_or_else(|_| {
        t.duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            .to_string()
    })
}

/// `2026-01-01T01:00:00Z`: whole seconds, as real STS sends `Expiration` and IMDS its times
/// (aws-facts §1.1, §4.4: botocore's IMDS parser only accepts whole seconds).
pub fn iso8601_seconds(t: SystemTime) -> String {
    format(t, ISO_SECONDS)
}

/// `2026-01-01T01:00:00.123Z`: the control API's and the event log's precision.
pub fn rfc3339_millis(t: SystemTime) -> String {
    format(t, ISO_MILLIS)
}

/// `20260101T010000Z`: SigV4's `X-Amz-Date`.
pub fn amz_date(t: SystemTime) -> String {
    format(t, AMZ_DATE)
}

/// `20260101`: the date in a SigV4 credential scope.
pub fn scope_date(t: SystemTime) -> String {
    format(t, AMZ_SCOPE_DATE)
}

/// `Thu, 01 Jan 2026 00:00:00 GMT`: the HTTP `Date` header.
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// `2026-01-01 00:00:00`: libfaketime's absolute time (UTC; the client runs with `TZ=UTC`).
pub fn faketime_absolute(t: SystemTime) -> String {
    format(t, FAKETIME)
}

/// Parses SigV4's `20260101T010000Z`.
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    if s.len() != 16 {
        return None;
    }
    // Every signed request's date goes through here (twice): digits where digits belong are
    // read directly, with the same range checks; anything else takes `time`'s parser.
    match amz_date_digits(s.as_bytes()) {
        Some(fields) => amz_date_from_fields(fields),
        None => parse_amz_date_general(s),
    }
}

/// `[year, month, day, hour, minute, second]` of `YYYYMMDDTHHMMSSZ` with ASCII digits in
/// every digit place; `None` for any other shape.
fn amz_date_digits(b: &[u8]) -> Option<[u16; 6]> {
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let digit = |i: usize| -> Option<u16> {
        let d = b[i];
        d.is_ascii_digit().then(|| u16::from(d - b'0'))
    };
    let two = |i: usize| -> Option<u16> { Some(digit(i)? * 10 + digit(i + 1)?) };
    Some([
        two(0)? * 100 + two(2)?,
        two(4)?,
        two(6)?,
        two(9)?,
        two(11)?,
        two(13)?,
    ])
}

/// The instant of checked date and time fields, as `time` validates them (month 1-12, the
/// month's days, hour 0-23, minute and second 0-59).
fn amz_date_from_fields([year, month, day, hour, minute, second]: [u16; 6]) -> Option<SystemTime> {
    let month = time::Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        time::Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()?;
    let time = time::Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc().into())
}

/// [`parse_amz_date`] by `time`'s parser.
fn parse_amz_date_general(s: &str) -> Option<SystemTime> {
    const PARSE: &[FormatItem<'static>] =
        format_description!("[year][month][day]T[hour][minute][second]Z");
    PrimitiveDateTime::parse(s, PARSE)
        .ok()
        .map(|p| p.assume_utc().into())
}

/// Parses an HTTP `Date` as S3 takes it in a signed request: RFC 7231's three forms
/// (`Tue, 01 Dec 2026 07:10:31 GMT`, RFC 850, asctime) and RFC 2822's with a numeric zone,
/// `Tue, 01 Dec 2026 07:10:31 -0000`, which botocore sends (`email.utils.formatdate`, no
/// `X-Amz-Date`) when the caller sets `Date` (botocore `auth.py` `_set_necessary_date_headers`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    httpdate::parse_http_date(s).ok().or_else(|| {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc2822)
            .ok()
            .map(SystemTime::from)
    })
}

/// Parses an RFC 3339 timestamp (`2026-01-01T00:00:00Z`, offsets and fractions allowed).
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(SystemTime::from)
}

/// Seconds since the Unix epoch, truncated, for JWT `exp`/`iat`/`nbf` comparisons.
pub fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// Milliseconds since the Unix epoch (token fields, events).
pub fn unix_millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The inverse of [`unix_millis`].
pub fn from_unix_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Truncates to whole seconds: STS stamps `Expiration` on the whole second (see
/// `sts::session_expiration`), and `--start` defaults to the current second.
pub fn floor_to_second(t: SystemTime) -> SystemTime {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    UNIX_EPOCH + Duration::from_secs(since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_date_fast_path_agrees_with_time_parser() {
        let mut cases = vec![
            "20150830T123600Z",
            "20260101T000000Z",
            "20240229T235959Z",
            "20230229T000000Z",
            "20000229T120000Z",
            "19000229T120000Z",
            "20261301T000000Z",
            "20260001T000000Z",
            "20260100T000000Z",
            "20260431T000000Z",
            "20261231T240000Z",
            "20261231T236000Z",
            "20261231T235960Z",
            "00000101T000000Z",
            "99991231T235959Z",
            "20261231t235959Z",
            "20261231T235959z",
            "2026123 T235959Z",
            "+0261231T235959Z",
            "2026-231T235959Z",
            "20261231T23595\u{0}Z",
        ];
        // Every field at and around its limits.
        let mut generated = Vec::new();
        for (month, day) in [
            (1, 31),
            (2, 28),
            (2, 29),
            (2, 30),
            (4, 30),
            (4, 31),
            (12, 32),
        ] {
            for (hour, minute, second) in [(0, 0, 0), (23, 59, 59), (24, 0, 0), (0, 60, 0)] {
                generated.push(format!(
                    "2024{month:02}{day:02}T{hour:02}{minute:02}{second:02}Z"
                ));
            }
        }
        cases.extend(generated.iter().map(String::as_str));
        for case in cases {
            assert_eq!(parse_amz_date(case), parse_amz_date_general(case), "{case}");
            if amz_date_digits(case.as_bytes()).is_some() {
                assert_eq!(
                    amz_date_from_fields(amz_date_digits(case.as_bytes()).unwrap()),
                    parse_amz_date_general(case),
                    "{case}"
                );
            }
        }
        assert!(parse_amz_date("20150830T123600Z").is_some());
        assert!(parse_amz_date("20230229T000000Z").is_none());
    }

    fn t(secs: u64, millis: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis)
    }

    #[test]
    fn formats_match_aws() {
        let at = t(1_767_229_200, 123); // 2026-01-01T01:00:00.123Z
        assert_eq!(iso8601_seconds(at), "2026-01-01T01:00:00Z");
        assert_eq!(rfc3339_millis(at), "2026-01-01T01:00:00.123Z");
        assert_eq!(amz_date(at), "20260101T010000Z");
        assert_eq!(scope_date(at), "20260101");
        assert_eq!(http_date(at), "Thu, 01 Jan 2026 01:00:00 GMT");
        assert_eq!(faketime_absolute(at), "2026-01-01 01:00:00");
    }

    #[test]
    fn parses_round_trip() {
        let at = t(1_767_229_200, 0);
        assert_eq!(parse_amz_date("20260101T010000Z"), Some(at));
        assert_eq!(parse_rfc3339("2026-01-01T01:00:00Z"), Some(at));
        assert_eq!(parse_rfc3339("2026-01-01T02:00:00+01:00"), Some(at));
        assert_eq!(parse_amz_date("2026-01-01"), None);
        assert_eq!(parse_amz_date("20261301T010000Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        for form in [
            "Thu, 01 Jan 2026 01:00:00 GMT",
            "Thursday, 01-Jan-26 01:00:00 GMT",
            "Thu Jan  1 01:00:00 2026",
            "Thu, 01 Jan 2026 01:00:00 -0000",
            "Thu, 01 Jan 2026 01:00:00 +0000",
            "Thu, 01 Jan 2026 02:00:00 +0100",
            "01 Jan 2026 01:00:00 +0000",
        ] {
            assert_eq!(parse_http_date(form), Some(at), "{form}");
        }
        assert_eq!(parse_http_date("20260101T010000Z"), None);
        assert_eq!(parse_http_date("Thu, 01 Jan 2026 01:00:00"), None);
    }

    #[test]
    fn unix_conversions() {
        assert_eq!(unix_seconds(t(5, 999)), 5);
        assert_eq!(unix_millis(t(5, 999)), 5999);
        assert_eq!(from_unix_millis(5999), t(5, 999));
        assert_eq!(floor_to_second(t(5, 999)), t(5, 0));
        assert_eq!(floor_to_second(t(5, 0)), t(5, 0));
    }
}
