//! The default world's identities (mock-sts's `world::DEFAULT_WORLD_TOML`) as signing keys,
//! and the instant every frozen test clock starts at.
//!
//! The keys are AWS's documented example keys: they work nowhere but against the mock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;

/// The default world's IAM user.
pub const USER_AKID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Its secret.
pub const USER_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The default world's 12-hour role.
pub const LONG_ROLE: &str = "arn:aws:iam::123456789012:role/cross-account-s3";

/// 2026-01-01T00:00:00Z, the start of every frozen test clock.
pub fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_767_225_600)
}

/// Signing keys, long-term or temporary. `Debug` shows the key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    /// The access key id.
    pub akid: String,
    /// The secret access key.
    pub secret: String,
    /// The session token of temporary keys.
    pub token: Option<String>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("akid", &self.akid)
            .field("token", &self.token.as_ref().map(|_| "** redacted **"))
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// The default world's user.
    pub fn user() -> Keys {
        Keys {
            akid: USER_AKID.to_owned(),
            secret: USER_SECRET.to_owned(),
            token: None,
        }
    }

    /// As SDK credentials.
    pub fn credentials(&self) -> Credentials {
        Credentials::new(&self.akid, &self.secret, self.token.clone(), None, "test")
    }

    /// As the identity aws-sigv4 signs with.
    pub fn identity(&self) -> Identity {
        self.credentials().into()
    }
}
