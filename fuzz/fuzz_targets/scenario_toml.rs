//! Scenario TOML (sts-harness): the job, runs, expectations, faults, clock faults and an
//! inline world. Any text parses or is refused with a `ScenarioError`, never a panic. The
//! scenario's path is one that does not exist, so a relative world file never resolves.
//! Built with `--features scenario` (it links sts-harness, and with it the AWS SDK).

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = sts_harness::scenario::Scenario::parse(text, Path::new("/nonexistent/fuzz.toml"));
    }
});
