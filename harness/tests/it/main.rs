//! Integration tests for sts-harness: one test binary.
//!
//! - `catalog`: every file in `scenarios/` runs, and its expectations are the assertions;
//! - `determinism`: the same scenario and seed give byte-identical reports (wall fields aside);
//! - `scaled`: the seed scenarios give the same verdicts on a scaled clock over real sockets;
//! - `clock_faults`: a client's clock behind, ahead or jumping, judged by the server's;
//! - `client_outcomes`: calls that fail in the SDK count; the SDK's log is captured per run;
//! - `faults`: `[[fault]]` and `[[revoke]]`: bad rules, seeded dice, injected failures apart;
//! - `compare`: the fault-tolerance table: the in-process half computed and checked, a boto3
//!   cell through the real program, `--partition` shards, bad flags;
//! - `conformance`: the 2026 refresh rules judged on the real SDK (spec-refresh passes,
//!   sdk-profile fails), the pack and its command, boto3 through the pack at ×360,
//!   `conforms`/`violates` and their bad input;
//! - `cli`: the binary's exit codes, bad scenario files, JSON and JUnit output;
//! - `process`: real programs (shell scripts, boto3) under libfaketime: exit status, output,
//!   hung programs, children on one clock, missing commands, the boto3 expiry's accuracy.
//! - `compressed`: `compressed:K` on real time: the Go client through a compressed hour
//!   (scenario 45), the warning, bad factors and lifetimes from the command line;
//! - `timeline`: `--timeline` rendered in headless Chromium: lanes, bars and marks in its DOM;
//! - `shards`: `--partition k/n` shards run every run of a catalog exactly once;
//! - `spec_refresh`: the `spec-refresh` strategy's invalidation and outage back-off on the
//!   real SDK, next to aws-sdk-rust's own cache;
//! - `version_matrix`: `versions = { … }`: scenario 46 over two boto3 releases in venvs
//!   installed once under the target directory, an uninstallable version departing alone, an
//!   npm row on `NODE_PATH`, an interrupted install redone;
//! - `props`: properties over generated scenarios: `manual-env` fails first on the first
//!   request at or after expiry, `sdk-profile` never fails, same seed ⇒ same events.
#![allow(clippy::unwrap_used, missing_docs)]

mod catalog;
mod cli;
mod client_outcomes;
mod clock_faults;
mod common;
mod compare;
mod compressed;
mod conformance;
mod determinism;
mod faults;
mod process;
mod props;
mod scaled;
mod shards;
mod spec_refresh;
mod tally;
mod timeline;
mod version_matrix;
