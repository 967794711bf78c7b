#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! - [`clock`]: the simulated clock (wall, scaled ×N, frozen, virtual) and SDK adapters.
//! - [`timestamp`]: AWS's timestamp formats.
//! - [`world`]: accounts, users, roles and OIDC providers, from TOML.
//! - [`credentials`]: `ASIA…` keys, derived secrets, self-validating session tokens.
//! - `sdk` (feature `sdk`): an in-process HTTP client for the SDK under test.
//! - [`sigv4`]: SigV4 parsing and verification from exactly what was received.
//! - [`auth`]: who signed a request, and whether AWS would accept it now (expiry, skew).
//! - [`sts`]: the STS query protocol.
//! - [`s3`]: S3 REST: buckets, objects, multipart, aws-chunked uploads, checksums, storage.
//! - [`oidc`]: web-identity JWT verification, inline or discovered keys.
//! - [`imds`]: EC2 instance metadata (IMDSv2) and container credentials, rotating like EC2's.
//! - [`aws_error`]: the one wire error type, rendered as STS or S3 XML.
//! - [`events`]: one event per request, the ground truth for reports.
//! - [`faults`]: fault rules (errors, statuses, latency, resets, hangs, quotas) and the stage
//!   of the pipeline that applies them.
//! - [`control`]: the `/_mock/` control API (clock, events, faults, revocation).
//! - [`state`]: the state every handler shares ([`state::MockState`]) and the settings.
//! - [`server`]: the one request pipeline, the server loop and [`MockAws`].
//! - [`xml`]: escaping and a tiny writer for AWS-shaped XML.
//! - `testing` (feature `proptest`): proptest strategies for your own expiry properties.
pub mod auth;
pub mod aws_error;
pub mod clock;
pub mod control;
pub mod credentials;
pub mod events;
pub mod faults;
pub mod imds;
pub mod oidc;
pub mod s3;
#[cfg(feature = "sdk")]
pub mod sdk;
pub mod server;
pub mod sigv4;
pub mod state;
pub mod sts;
#[cfg(feature = "proptest")]
pub mod testing;
pub mod timestamp;
pub mod world;
pub mod xml;

pub use clock::SimClock;
pub use server::{MockAws, MockAwsBuilder, router};
pub use world::World;
