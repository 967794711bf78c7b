//! The shared state every handler reads: the clock, the world, the credential authority, the
//! event log, S3's store, the fault rules, revocations, the settings, the upload memory budget
//! and the one seeded RNG.
//!
//! It lives apart from [`crate::server`] so that the service modules (`s3`, `imds`, `control`)
//! depend on the state they use, not on the server loop that owns it. One RNG serves every
//! random choice (request ids, access keys, fault dice) so a seed replays a run exactly.

use crate::compression::LifetimeCompression;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::auth::{DEFAULT_MAX_SKEW, Revocations, RevokeError};
use crate::clock::SimClock;
use crate::credentials::CredentialAuthority;
use crate::events::EventLog;
use crate::faults::Faults;
use crate::imds;
use crate::limits::{self, UploadBudget};
use crate::oidc::{Minter, OidcVerifier};
use crate::s3::{self, S3};
use crate::world::World;

/// The largest request body the mock reads, but for S3 object data (STS bodies and S3's XML
/// documents are small; object uploads are capped by [`ServerConfig::max_object_size`]).
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Server settings.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    /// Allowed request-time skew; `None` (`--max-skew off`) disables the check, for clients that
    /// do not share the simulated clock.
    pub max_skew: Option<Duration>,
    /// Serve `/_mock/` to non-loopback peers too (those that present `control_token`).
    pub allow_remote_control: bool,
    /// The bearer token non-loopback peers must present to the control API.
    pub control_token: Option<String>,
    /// Largest S3 object or part accepted, bytes (`EntityTooLarge` above it).
    pub max_object_size: u64,
    /// Keep S3 buckets and objects in this directory across restarts (default: memory).
    pub data_dir: Option<PathBuf>,
    /// Divides every granted lifetime (sessions, instance and container credentials, IMDSv2
    /// tokens) for clients on real time.
    pub lifetime_compression: LifetimeCompression,
    /// Longest wait for a request head, idle keep-alive included (`None`: no limit).
    pub header_timeout: Option<Duration>,
    /// Longest wait for the next piece of a request body (`None`: no limit).
    pub body_timeout: Option<Duration>,
    /// Bytes of request bodies held at once, server-wide.
    pub max_upload_memory: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_skew: Some(DEFAULT_MAX_SKEW),
            allow_remote_control: false,
            control_token: None,
            max_object_size: s3::DEFAULT_MAX_OBJECT_SIZE,
            data_dir: None,
            lifetime_compression: LifetimeCompression::NONE,
            header_timeout: Some(limits::DEFAULT_HEADER_TIMEOUT),
            body_timeout: Some(limits::DEFAULT_BODY_TIMEOUT),
            max_upload_memory: limits::DEFAULT_MAX_UPLOAD_MEMORY,
        }
    }
}

/// Everything the handlers share.
#[derive(Debug)]
pub(crate) struct MockState {
    /// The simulated clock.
    pub clock: SimClock,
    /// Identities.
    pub world: World,
    /// Issues and validates temporary credentials.
    pub authority: CredentialAuthority,
    /// The event log.
    pub events: EventLog,
    /// The one seeded source of randomness (request ids, access key ids).
    pub(crate) rng: Mutex<fastrand::Rng>,
    /// Web identity verification.
    pub oidc: OidcVerifier,
    /// Signing keys of the providers with `mint = true`.
    pub minter: Minter,
    /// Container authorization tokens already verified.
    pub verified_tokens: crate::oidc::VerifiedTokens,
    /// S3's buckets, objects and uploads in progress.
    pub s3: S3,
    /// Settings.
    pub config: ServerConfig,
    /// The fault rules the pipeline applies.
    pub faults: Faults,
    /// Revoked role sessions.
    pub revocations: Revocations,
    /// The request bodies held now, against `config.max_upload_memory`.
    pub uploads: Arc<UploadBudget>,
}

impl MockState {
    pub(crate) fn with_rng<T>(&self, f: impl FnOnce(&mut fastrand::Rng) -> T) -> T {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut rng)
    }

    /// A request id in AWS's UUID shape.
    pub(crate) fn next_request_id(&self) -> String {
        self.with_rng(|rng| {
            let a = rng.u32(..);
            let b = rng.u16(..);
            let c = (rng.u16(..) & 0x0fff) | 0x4000;
            let d = (rng.u16(..) & 0x3fff) | 0x8000;
            let e = rng.u64(..) & 0xffff_ffff_ffff;
            uuid_text(a, b, c, d, e)
        })
    }

    /// A number in `[0, 1)` from the seeded RNG: the fault stage's dice.
    pub(crate) fn dice(&self) -> f64 {
        self.with_rng(|rng| rng.f64())
    }

    /// Revokes the sessions of `role_arn` issued before `issued_before` (default: now).
    ///
    /// # Errors
    /// [`RevokeError::UnknownRole`] when the world has no such role.
    pub(crate) fn revoke(
        &self,
        role_arn: &str,
        issued_before: Option<SystemTime>,
    ) -> Result<SystemTime, RevokeError> {
        if self.world.role_by_arn(role_arn).is_none() {
            return Err(RevokeError::UnknownRole(role_arn.to_string()));
        }
        let before = issued_before.unwrap_or_else(|| self.clock.now());
        self.revocations.revoke(role_arn, before);
        tracing::info!(role = %role_arn, issued_before = %crate::timestamp::rfc3339_millis(before), "sessions revoked");
        Ok(before)
    }

    /// Mints a web identity token issued now (see [`Minter::mint`]).
    pub(crate) fn mint(
        &self,
        request: &crate::oidc::MintRequest,
    ) -> Result<crate::oidc::MintedToken, crate::oidc::MintError> {
        let providers = self.world.oidc_provider_list();
        let minted = self.minter.mint(&providers, request, self.clock.now())?;
        tracing::info!(provider = %request.provider, sub = %request.sub, expires_at = %crate::timestamp::rfc3339_millis(minted.expires_at), "web identity token minted");
        Ok(minted)
    }

    /// A fresh temporary access key id.
    pub(crate) fn new_access_key_id(&self) -> String {
        self.with_rng(CredentialAuthority::new_access_key_id)
    }

    /// What the metadata endpoints need for a request that arrived at `now`.
    pub(crate) fn imds_context(&self, now: SystemTime) -> imds::Context<'_> {
        imds::Context {
            world: &self.world,
            authority: &self.authority,
            now,
            compression: self.config.lifetime_compression,
            verified_tokens: &self.verified_tokens,
        }
    }
}

/// `{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}` for `e` < 2^48, written digit by digit: one
/// for every request, where `format!` costs as much as the rest of choosing the id.
fn uuid_text(a: u32, b: u16, c: u16, d: u16, e: u64) -> String {
    fn push_hex(out: &mut String, value: u64, digits: u32) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        for i in (0..digits).rev() {
            out.push(char::from(DIGITS[((value >> (4 * i)) & 0xf) as usize]));
        }
    }
    let mut out = String::with_capacity(36);
    push_hex(&mut out, u64::from(a), 8);
    for field in [b, c, d] {
        out.push('-');
        push_hex(&mut out, u64::from(field), 4);
    }
    out.push('-');
    push_hex(&mut out, e, 12);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn uuid_text_is_the_format() {
        for (a, b, c, d, e) in [
            (0, 0, 0, 0, 0),
            (u32::MAX, u16::MAX, u16::MAX, u16::MAX, 0xffff_ffff_ffff),
            (0x0123_abcd, 0x0f0e, 0x4abc, 0x8def, 0x0000_1234_5678),
        ] {
            assert_eq!(
                super::uuid_text(a, b, c, d, e),
                format!("{a:08x}-{b:04x}-{c:04x}-{d:04x}-{e:012x}")
            );
        }
    }
}
