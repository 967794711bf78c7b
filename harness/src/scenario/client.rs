//! `client = "…"`: which SDK a `process` run's program is built on, and the refresh window that
//! SDK renews credentials within (aws-facts §6.1-§6.7).
//!
//! The harness cannot see inside a program, so a run may say what it is; the report then knows
//! when a compressed lifetime falls inside the client's window ([`crate::compressed`]), where
//! compression itself changes what the client does.

use std::time::Duration;

/// An SDK a program can be built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientSdk {
    /// botocore: boto3 and the AWS CLI (advisory 15 min, mandatory 10 min; aws-facts §6.2).
    Botocore,
    /// The AWS SDK for JavaScript v3 (`EXPIRATION_MS`, 5 min; aws-facts §6.5).
    JsV3,
    /// aws-sdk-go-v2's `CredentialsCache` (`ExpiryWindow`, 0 unless set; 5 min for the
    /// container provider; aws-facts §6.6).
    Go,
    /// aws-sdk-rust's lazy identity cache (5-10 s; aws-facts §6.1).
    Rust,
    /// The AWS SDK for Java v2's STS providers (prefetch 5 min, stale 1 min; aws-facts §6.4).
    JavaV2,
}

impl ClientSdk {
    /// Every SDK, for messages.
    pub const ALL: [ClientSdk; 5] = [
        ClientSdk::Botocore,
        ClientSdk::JsV3,
        ClientSdk::Go,
        ClientSdk::Rust,
        ClientSdk::JavaV2,
    ];

    /// The name scenario files use.
    pub fn as_str(&self) -> &'static str {
        match self {
            ClientSdk::Botocore => "botocore",
            ClientSdk::JsV3 => "js-v3",
            ClientSdk::Go => "go",
            ClientSdk::Rust => "rust",
            ClientSdk::JavaV2 => "java-v2",
        }
    }

    pub(super) fn parse(text: &str) -> Option<ClientSdk> {
        ClientSdk::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The remaining lifetime under which the SDK starts renewing credentials by default
    /// (its advisory window where it has one). `container` is whether the program reads the
    /// container endpoint (Go gives that provider a 5-minute window, the others none).
    pub fn refresh_window(&self, container: bool) -> Duration {
        match self {
            // `_DEFAULT_ADVISORY_REFRESH_TIMEOUT = 15*60`.
            ClientSdk::Botocore => Duration::from_secs(15 * 60),
            // `EXPIRATION_MS = 300_000`.
            ClientSdk::JsV3 => Duration::from_secs(5 * 60),
            // `resolveHTTPCredProvider` sets ExpiryWindow 5 min; everything else 0.
            ClientSdk::Go if container => Duration::from_secs(5 * 60),
            ClientSdk::Go => Duration::ZERO,
            // `DEFAULT_BUFFER_TIME = 10s` (minus up to 50 % jitter: at most 10 s).
            ClientSdk::Rust => Duration::from_secs(10),
            // `DEFAULT_PREFETCH_TIME = 5 min`.
            ClientSdk::JavaV2 => Duration::from_secs(5 * 60),
        }
    }

    /// `DurationSeconds` the SDK's assume-role provider sends when the profile sets none:
    /// Go's `stscreds.DefaultDuration` is 15 minutes (aws-facts §6.6); the others send none,
    /// and STS grants an hour.
    pub fn default_assume_role_seconds(&self) -> Option<u32> {
        match self {
            ClientSdk::Go => Some(900),
            _ => None,
        }
    }
}
