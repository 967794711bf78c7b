//! What the workspace's tests and benches share, in one place so each exists once:
//!
//! - [`world`]: the default world's user and role, and the instant every frozen test clock
//!   starts at;
//! - [`signing`]: requests signed by the real `aws-sigv4` crate with the rules each SDK uses
//!   (STS: normalised, double-encoded paths; S3: encoded once, `x-amz-content-sha256`), in the
//!   `Authorization` header or presigned;
//! - [`chunked`]: aws-chunked bodies with `sign_chunk` / `sign_trailer` signatures;
//! - [`external`]: the Python venv with boto3 and the AWS CLI, and the rule for a test whose
//!   external client is missing (it fails, or says `SKIPPED` when asked to skip; never a
//!   silent pass);
//! - [`server`]: the `mock-sts` binary on a free loopback port, killed and reaped on drop;
//! - [`seeds`]: the scenario catalog's folder and its seed scenarios;
//! - [`headline`]: the figures README.md and BENCHMARKS.md quote, checked by the benches that
//!   measure them;
//! - [`redact`]: wall-clock fields and request ids out of XML and JSON bodies, so `insta`
//!   snapshots of them are deterministic.
//!
//! It depends on neither mock-sts nor sts-harness: mock-sts's own unit tests use it, and a
//! dependency on mock-sts would give them a second, distinct copy of its types.

pub mod chunked;
pub mod external;
pub mod headline;
pub mod redact;
pub mod seeds;
pub mod server;
pub mod signing;
pub mod world;
