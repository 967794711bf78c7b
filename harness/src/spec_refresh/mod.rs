//! `spec-refresh`: the team's reading of AWS's cross-SDK "Credential Refresh Behavior"
//! specification (aws-facts §6.8) as a credentials cache any aws-sdk-rust user can put in
//! front of any aws-config provider until the SDK ships the behaviour (smithy-rs #4766/#4774,
//! gated behind `BehaviorVersion::v2026_08_01` and unreleased as of aws-runtime 1.10.2).
//!
//! - [`windows`]: the advisory window chosen from the lifetime, the mandatory minute, the
//!   5-10 minute back-off.
//! - [`cache`]: [`SpecRefresh`], the cache: windows, static stability, single flight.
//! - [`invalidate`]: [`InvalidateOnRejection`], the SDK interceptor that drops credentials a
//!   server refused as expired or invalid.
//!
//! Use, as [`crate::strategy`] does for the `spec-refresh` strategy:
//!
//! ```no_run
//! # async fn example(sdk_config: aws_types::SdkConfig) {
//! use aws_config::identity::IdentityCache;
//! use sts_harness::spec_refresh::{InvalidateOnRejection, SpecRefresh};
//!
//! let inner = sdk_config.credentials_provider().expect("a provider");
//! let time = sdk_config.time_source().expect("a time source");
//! let cache = SpecRefresh::new(inner, time, 7);
//! let s3 = aws_sdk_s3::Client::from_conf(
//!     aws_sdk_s3::config::Builder::from(&sdk_config)
//!         .credentials_provider(cache.clone())
//!         // Every call asks the cache; the SDK's own would refresh 5-10 s early on its own.
//!         .identity_cache(IdentityCache::no_cache())
//!         .interceptor(InvalidateOnRejection::new(cache))
//!         .build(),
//! );
//! # }
//! ```

pub mod cache;
pub mod invalidate;
pub mod windows;

pub use cache::SpecRefresh;
pub use invalidate::InvalidateOnRejection;
