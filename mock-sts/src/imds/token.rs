//! IMDSv2 session tokens: issued by `PUT /latest/api/token`, checked on every metadata `GET`.
//!
//! Like session tokens (`crate::credentials`), they validate themselves: a version byte, the
//! expiry in Unix milliseconds, and an HMAC over both under the server key. The server keeps no
//! token table, so a restart with the same `--key` honours tokens it issued before, and expiry
//! is judged on the simulated clock like everything else (`now >= expiry` is expired).

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http::HeaderValue;
use subtle::ConstantTimeEq;

use crate::credentials::CredentialAuthority;
use crate::timestamp;

/// The request header that asks for a TTL, echoed on the answer (and, on metadata answers, the
/// token's remaining seconds), as the recorded IMDS traffic shows (aws-facts §4.1).
pub(super) const TTL_HEADER: &str = "x-aws-ec2-metadata-token-ttl-seconds";
/// The request header that carries the token.
pub(super) const TOKEN_HEADER: &str = "x-aws-ec2-metadata-token";
/// The longest TTL IMDS grants: six hours (EC2 user guide, "Use IMDSv2").
pub(super) const MAX_TTL_SECONDS: u32 = 21600;

const VERSION: u8 = 1;
const PURPOSE: &str = "imds-token";
const TAG_LEN: usize = 32;

/// Why a token was refused. Every case is `401 Unauthorized` on the wire; the cases differ in
/// the event's message only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(super) enum TokenError {
    /// Not base64, the wrong length or an unknown version.
    #[error("the IMDSv2 token is malformed")]
    Malformed,
    /// The tag does not verify: tampered, or issued under another server key.
    #[error("the IMDSv2 token was not issued by this server key")]
    BadTag,
    /// The token's TTL has run out on the simulated clock.
    #[error("the IMDSv2 token has expired")]
    Expired,
}

/// The TTL a token request asks for, when it is a whole number of seconds in 1..=21600.
pub(super) fn parse_ttl(value: Option<&HeaderValue>) -> Option<u32> {
    let seconds: u32 = value?.to_str().ok()?.trim().parse().ok()?;
    (1..=MAX_TTL_SECONDS).contains(&seconds).then_some(seconds)
}

/// A token valid for `ttl_seconds` from `now`.
pub(super) fn issue(authority: &CredentialAuthority, now: SystemTime, ttl_seconds: u32) -> String {
    let expires = now + Duration::from_secs(u64::from(ttl_seconds));
    let mut raw = Vec::with_capacity(1 + 8 + TAG_LEN);
    raw.push(VERSION);
    raw.extend_from_slice(&timestamp::unix_millis(expires).to_be_bytes());
    let tag = authority.derive(PURPOSE, &raw);
    raw.extend_from_slice(&tag);
    B64.encode(raw)
}

/// Checks a token and returns its expiry.
///
/// # Errors
/// [`TokenError`] for a malformed, forged or expired token.
pub(super) fn validate(
    authority: &CredentialAuthority,
    token: &str,
    now: SystemTime,
) -> Result<SystemTime, TokenError> {
    let raw = B64
        .decode(token.trim())
        .map_err(|_| TokenError::Malformed)?;
    if raw.len() != 1 + 8 + TAG_LEN || raw[0] != VERSION {
        return Err(TokenError::Malformed);
    }
    let (signed, tag) = raw.split_at(1 + 8);
    if !bool::from(authority.derive(PURPOSE, signed).ct_eq(tag)) {
        return Err(TokenError::BadTag);
    }
    let mut millis = [0u8; 8];
    millis.copy_from_slice(&signed[1..]);
    let expires = timestamp::from_unix_millis(u64::from_be_bytes(millis));
    if now >= expires {
        return Err(TokenError::Expired);
    }
    Ok(expires)
}

/// Whole seconds left before `expires`, rounded up, for the TTL header on metadata answers.
pub(super) fn seconds_left(expires: SystemTime, now: SystemTime) -> u64 {
    let left = expires.duration_since(now).unwrap_or_default();
    left.as_secs() + u64::from(left.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::ServerKey;

    fn authority(byte: u8) -> CredentialAuthority {
        CredentialAuthority::new(ServerKey::from_bytes([byte; 32]))
    }

    fn start() -> SystemTime {
        crate::clock::default_virtual_start()
    }

    #[test]
    fn ttl_must_be_whole_seconds_from_1_to_21600() {
        let ttl = |s: &str| parse_ttl(Some(&HeaderValue::from_str(s).unwrap()));
        assert_eq!(ttl("1"), Some(1));
        assert_eq!(ttl("21600"), Some(21600));
        assert_eq!(ttl(" 60 "), Some(60));
        for bad in ["0", "21601", "-5", "1.5", "six hours", ""] {
            assert_eq!(ttl(bad), None, "{bad}");
        }
        assert_eq!(parse_ttl(None), None);
    }

    #[test]
    fn tokens_expire_exactly_at_their_ttl() {
        let a = authority(1);
        let token = issue(&a, start(), 60);
        let expires = start() + Duration::from_secs(60);
        assert_eq!(validate(&a, &token, start()), Ok(expires));
        assert_eq!(
            validate(&a, &token, expires - Duration::from_millis(1)),
            Ok(expires)
        );
        assert_eq!(validate(&a, &token, expires), Err(TokenError::Expired));
        assert_eq!(
            seconds_left(expires, start() + Duration::from_millis(500)),
            60
        );
        assert_eq!(seconds_left(expires, start() + Duration::from_secs(1)), 59);
    }

    #[test]
    fn foreign_and_garbage_tokens_are_refused() {
        let token = issue(&authority(1), start(), 60);
        assert_eq!(
            validate(&authority(2), &token, start()),
            Err(TokenError::BadTag)
        );
        assert_eq!(
            validate(&authority(1), "not a token", start()),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            validate(&authority(1), &B64.encode([1u8; 41]), start()),
            Err(TokenError::BadTag)
        );
        let mut raw = B64.decode(&token).unwrap();
        raw[3] ^= 1; // a later expiry, with the old tag
        assert_eq!(
            validate(&authority(1), &B64.encode(raw), start()),
            Err(TokenError::BadTag)
        );
    }
}
