//! What the benches share: requests signed by the real aws-sigv4 crate, a keep-alive load
//! generator on hyper, and child servers (the `mock-sts` binary, moto, a null server).
//!
//! - [`signing`]: STS and S3 requests signed once with aws-sigv4 (header, presigned,
//!   aws-chunked with chunk signatures), as bytes ready to send or to verify in process.
//! - [`loader`]: N concurrent tasks on one hyper client with keep-alive, cycling through a pool
//!   of signed requests for a bounded window; requests per second and latency percentiles.
//! - [`servers`]: start `moto_server` and the `mock-sts` binary on free loopback ports, wait
//!   until they answer, and stop them when dropped; a null server for the loader's ceiling.
//!
//! Benches live in `benches/benches/`; `cargo bench` runs them all (BENCHMARKS.md has the
//! figures and the commands). Wall-clock figures come from [`mock_sts::clock::Stopwatch`],
//! the workspace's one way to read real elapsed time.

pub mod loader;
pub mod servers;
pub mod signing;
