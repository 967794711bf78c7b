//! Integration tests for mock-sts: one test binary (each binary links the AWS SDK again).
//!
//! - `router`: every kind of bad input, in process through the `Router`, asserting status,
//!   code and body;
//! - `sdk`: the real aws-sdk-sts and aws-config against the server on a real socket, sharing
//!   the simulated clock;
//! - `control`: the control API over HTTP;
//! - `compression`: lifetime compression: sessions, instance credentials and IMDSv2 tokens
//!   divided by K, never below a minute;
//! - `faults`: fault rules and session revocation: every effect per service and every bad rule
//!   through the router, and the real SDK over a socket and in process (retries, resets,
//!   latency past expiry, quotas, seeded dice, an IMDS outage);
//! - `binary`: the `mock-sts` binary's flags and exit codes;
//! - `go_client`: a Go program (aws-sdk-go-v2, Debian's) on real time against
//!   `--compress-lifetimes 60`: pinned keys die a minute in, the SDK's provider renews;
//! - `external`: boto3 and the AWS CLI (pinned, in the venv `scripts/test` creates) against the
//!   binary;
//! - `virtual_replay`: the SDK in process on a paused (virtual) clock: exact and repeatable;
//! - `web_identity`: `AssumeRoleWithWebIdentity` with keys discovered from a wiremock issuer;
//! - `oidc`: OIDC discovery against a wiremock issuer: caching, key rotation, every failure;
//! - `oidc_mint`: tokens the mock mints (`mint = true`): control API, STS exchange and expiry,
//!   the EKS Pod Identity endpoint, bad mint requests;
//! - `imds`: instance metadata and container credentials through the `Router`: bad input,
//!   rotation, restarts;
//! - `imds_sdk`: aws-config's IMDS, ECS and profile (`credential_source`) providers against the
//!   server over 12 simulated hours of rotation;
//! - `imds_external`: boto3 getting credentials from the `mock-sts` binary's metadata endpoints.
//! - `s3`: the real aws-sdk-s3 against S3 on the shared clock: every operation, payload forms,
//!   presigned URLs, expiry;
//! - `s3_bad_input`: every kind of bad S3 input in process, asserting status, code and body;
//! - `s3_fidelity`: S3 behaviours real code notices (paging to the end, URL-encoded listings,
//!   `ListObjectVersions` for bucket emptying, conditional writes), through boto3 and aws-sdk-s3;
//! - `s3_wire_fidelity`: S3 at the wire: credential error variants, `Date`-dated signatures,
//!   header bytes, keys S3 cannot parse, CORS preflights;
//! - `external_s3`: the AWS CLI's `s3` commands and boto3's transfers against the binary, and
//!   `--data-dir` across restarts.
//! - `restart`: the binary killed with SIGKILL mid-PUT and restarted on its `--data-dir`: whole
//!   objects, credentials and IMDS tokens honoured under the same `--key`, refused under another.
//! - `sts_fidelity`: STS behaviours SDKs key on: `Expiration`'s whole second and the
//!   `InvalidClientTokenId` variants, through aws-sdk-sts;
//! - `overload`: slow and greedy clients over TCP: slow headers and idle connections closed,
//!   a stalled body `RequestTimeout`, a short one `IncompleteBody`, uploads past the memory
//!   budget `SlowDown` until memory comes back;
//! - `prop_expiry`: property: signed requests are accepted before `Expiration` and get
//!   `ExpiredToken` from it on, for any role limits, start and clock;
//! - `prop_sigv4`: property: aws-sigv4-signed requests of any shape verify through the router,
//!   and any single-byte change is refused with AWS's code.
#![allow(clippy::unwrap_used, missing_docs)]

mod binary;
mod common;
mod compression;
mod control;
mod external;
mod external_s3;
mod faults;
mod go_client;
mod imds;
mod imds_external;
mod imds_sdk;
mod oidc;
mod oidc_mint;
mod overload;
mod prop_expiry;
mod prop_sigv4;
mod restart;
mod router;
mod s3;
mod s3_bad_input;
mod s3_fidelity;
mod s3_wire_fidelity;
mod sdk;
mod sts_fidelity;
mod virtual_replay;
mod web_identity;
