//! The scenario catalog's folder and its seed scenarios: the four files of the original
//! brief's cases (4-5 h jobs, default and hard-coded durations, a duration above the role's
//! maximum), whose names start with `seed:`. Tests replay them on other clocks; benches time
//! them. The harness's catalog test checks this list against the `seed:` names, so it cannot
//! drift from the files.

use std::path::PathBuf;

use crate::external::workspace_root;

/// The seed scenario files, in catalog order.
pub const SEED_FILES: [&str; 4] = [
    "01-seed-default-duration.toml",
    "02-hardcoded-14400-on-4h-job.toml",
    "03-hardcoded-14400-on-5h-job.toml",
    "04-duration-above-role-maximum.toml",
];

/// The workspace's `scenarios/` folder.
pub fn catalog_dir() -> PathBuf {
    workspace_root().join("scenarios")
}

/// The seed scenario files' paths, in catalog order.
pub fn seed_files() -> Vec<PathBuf> {
    SEED_FILES.iter().map(|f| catalog_dir().join(f)).collect()
}
