#![doc = include_str!("../README.md")]
//!
//! ## Modules
//!
//! The API:
//!
//! - [`server`]: [`MockAws`] and its builder (in process or on a socket), the router and the
//!   settings.
//! - [`clock`]: the simulated clock (wall, scaled ×N, frozen, virtual) and SDK adapters.
//! - [`world`]: accounts, users, roles and OIDC providers, from TOML.
//! - [`events`]: one event per request, the ground truth for reports, and the types it names:
//!   [`aws_error`] (the wire error codes), [`credentials`] (how a credential was issued, and the
//!   self-validating session tokens), [`sts`], [`s3`] and [`imds`] (each service's actions).
//! - [`faults`]: fault rules (errors, statuses, latency, resets, hangs, quotas).
//! - [`oidc`]: web-identity JWT verification, inline or discovered keys.
//! - [`timestamp`]: AWS's timestamp formats.
//! - `sdk` (feature `sdk`): an in-process HTTP client for the SDK under test.
//! - `testing` (feature `proptest`): proptest strategies for your own expiry properties.
//!
//! Inside (not part of the API): `sigv4` (SigV4 parsing and verification from exactly what
//! was received), `auth` (who signed a request, and whether AWS would accept it now),
//! `control` (the `/_mock/` control API), `limits` (timeouts and the upload memory budget for
//! slow and greedy clients), `state` (what every handler shares) and `xml` (a
//! tiny writer for AWS-shaped XML). [`internals`] re-exports the few pieces the workspace's
//! benches and fuzz targets exercise directly; it has no stability promise.
pub mod aws_error;
pub mod clock;
pub mod compression;
pub mod credentials;
pub mod events;
pub mod faults;
pub mod imds;
pub mod oidc;
pub mod s3;
#[cfg(feature = "sdk")]
pub mod sdk;
pub mod server;
pub mod sts;
#[cfg(feature = "proptest")]
pub mod testing;
pub mod timestamp;
pub mod world;

mod auth;
mod control;
mod limits;
mod ring;
mod sigv4;
mod state;
mod xml;

pub use clock::SimClock;
pub use server::{MockAws, MockAwsBuilder};
pub use world::World;

#[doc(hidden)]
pub mod internals;
