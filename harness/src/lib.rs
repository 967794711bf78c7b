//! sts-harness: replays credential-expiry scenarios against real aws-sdk-rust client strategies
//! on mock-sts, and reports failures, refreshes and refresh latency from the server's events.
//!
//! - [`scenario`]: scenario files (TOML): clock, world, workload, runs and expectations.
//! - [`strategy`]: how a client gets credentials (`manual-env`, `sdk-profile`, `sdk-imds`,
//!   `sdk-container`, `naive-refresh`, `sdk-web-identity`, `web-identity-read-once`,
//!   `pod-identity-read-once`, `spec-refresh`), built on the real SDK and the run's clock;
//!   `process` runs a program.
//! - [`spec_refresh`]: the `spec-refresh` strategy's cache, AWS's 2026 cross-SDK refresh rules
//!   over any provider, as a pattern users can copy.
//! - [`token_file`]: the projected service-account token files (EKS IRSA, Pod Identity) a run
//!   reads, minted by the mock and rotated on the run's clock as the kubelet does.
//! - [`workload`]: what each worker does, and what the client saw.
//! - [`transfer`]: multipart uploads and presigned URLs, the operations that outlive a moment.
//! - [`outcome`]: how a call ended as the client saw it (AWS error or client-side failure).
//! - [`sdk_log`]: the SDK's own warnings, captured per run, one line each.
//! - [`runner`]: virtual (in process, deterministic) and scaled (loopback socket) runs.
//! - [`compressed`]: `compressed:K` runs: the scenario shrunk onto real time, what it measured
//!   stretched back, and the warning when compression lands inside a client's refresh window.
//! - [`process`]: `process` runs: any program under libfaketime on the scaled clock, with the
//!   endpoint and generated AWS config files wired in.
//! - [`environments`]: the venvs and npm prefixes of SDK version matrices, installed once.
//! - [`credential_process`]: the `credential_process` helper (`sts-harness credential-process`)
//!   and how many times a program ran it.
//! - [`metrics`]: metrics and verdicts from the events.
//! - [`conformance`]: the 2026 cross-SDK refresh rules, judged per run from the events.
//! - [`tally`]: what the metrics need from each event and call, taken as they come.
//! - [`report`]: the table, JSON and JUnit reports.
//! - [`compare`]: the fault-tolerance table: every strategy under the same conditions.
//! - [`timeline`]: the timeline picture, one self-contained HTML file.
//! - [`partition`]: a deterministic share of the scenario × run matrix for one CI runner.
pub mod compare;
pub mod compressed;
pub mod conformance;
pub mod credential_process;
pub mod environments;
pub mod metrics;
pub mod outcome;
pub mod partition;
pub mod process;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod sdk_log;
pub mod spec_refresh;
pub mod strategy;
pub mod tally;
pub mod timeline;
pub mod token_file;
pub mod transfer;
pub mod workload;
