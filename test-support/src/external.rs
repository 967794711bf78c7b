//! The external clients the tests drive — boto3 and the AWS CLI, pinned in a Python venv — and
//! what a test does when they are missing: it fails saying how to get them, or, when asked to
//! skip, prints `SKIPPED` and returns. Never a silent pass.
//!
//! The environment (`scripts/test` sets the first two):
//!
//! | variable | effect |
//! | --- | --- |
//! | `STS_LAB_VENV=DIR` | the venv; default: the workspace's `.venv` |
//! | `STS_LAB_REQUIRE_EXTERNAL_CLIENTS=1` | benches that need a client (moto) fail without it instead of skipping |
//! | `STS_LAB_SKIP_EXTERNAL_CLIENTS=1` | tests whose client is missing print `SKIPPED` and pass, on purpose |

use std::path::{Path, PathBuf};

/// `STS_LAB_VENV`, else the workspace's `.venv` (what `scripts/test` creates); it may not
/// exist.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("STS_LAB_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"))
}

/// The venv, when it has the AWS CLI and Python (`bin/aws`, `bin/python`, `bin/python3`).
pub fn venv() -> Option<PathBuf> {
    let dir = venv_dir();
    ["bin/aws", "bin/python", "bin/python3"]
        .iter()
        .all(|program| dir.join(program).exists())
        .then_some(dir)
}

/// The venv for a test that needs boto3 or the AWS CLI; `None` after [`missing`] when it is
/// not there (the test then returns).
#[track_caller]
pub fn require_venv() -> Option<PathBuf> {
    let found = venv();
    if found.is_none() {
        missing(&format!(
            "the Python venv with boto3 and the AWS CLI is missing at {} (STS_LAB_VENV or .venv)",
            venv_dir().display()
        ));
    }
    found
}

/// What a test does when `what` it needs is missing: it fails, saying how to get it, unless
/// `STS_LAB_SKIP_EXTERNAL_CLIENTS=1`, when it prints `SKIPPED (…): what` and returns so the
/// caller can return.
#[track_caller]
pub fn missing(what: &str) {
    assert!(
        skip_requested(),
        "{what}; run scripts/test, which installs it, or set STS_LAB_SKIP_EXTERNAL_CLIENTS=1 to skip the tests that need it"
    );
    eprintln!("SKIPPED (STS_LAB_SKIP_EXTERNAL_CLIENTS=1): {what}");
}

/// Whether `STS_LAB_SKIP_EXTERNAL_CLIENTS=1`: tests whose client is missing skip, visibly.
pub fn skip_requested() -> bool {
    std::env::var_os("STS_LAB_SKIP_EXTERNAL_CLIENTS").is_some_and(|v| v == "1")
}

/// Whether `STS_LAB_REQUIRE_EXTERNAL_CLIENTS=1`: a bench whose client is missing fails
/// instead of skipping.
pub fn required() -> bool {
    std::env::var_os("STS_LAB_REQUIRE_EXTERNAL_CLIENTS").is_some_and(|v| v == "1")
}

/// The workspace root (this package's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}
