//! mock-sts: a mock AWS endpoint whose temporary credentials expire on a simulated clock,
//! enforced exactly as AWS enforces them.
//!
//! - [`clock`]: the simulated clock (wall, scaled ×N, frozen, virtual) and SDK adapters.
//! - [`timestamp`]: AWS's timestamp formats.
//! - [`world`]: accounts, users, roles and OIDC providers, from TOML.
//! - [`credentials`]: `ASIA…` keys, derived secrets, self-validating session tokens.
//! - [`aws_error`]: the one wire error type, rendered as STS or S3 XML.
//! - [`events`]: one event per request, the ground truth for reports.
//! - [`xml`]: escaping and a tiny writer for AWS-shaped XML.
//! - [`oidc`]: web-identity JWT verification, inline or discovered keys.
pub mod aws_error;
pub mod clock;
pub mod credentials;
pub mod events;
pub mod oidc;
pub mod timestamp;
pub mod world;
pub mod xml;
