//! `run --timeline`: the picture is rendered by a real browser (headless Chromium), and its
//! DOM after rendering holds a lane per run with its credential bars, credential calls,
//! failure marks, fault window and expected window, for a 15-minute and a 13-hour run alike.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// A 15-minute credential on a 20-minute job with STS throttled for two minutes.
const SHORT: &str = r#"name = "fifteen minutes"
seed = 3
[workload]
length = "20m"
every = "10s"
operations = ["PutObject"]
[[fault]]
service = "sts"
actions = ["AssumeRole"]
from = "10m"
until = "12m"
effect = { error = "Throttling" }
[[run]]
name = "keys-900"
strategy = "manual-env"
duration_seconds = 900
expect = { fails_with = "ExpiredToken", at = "15m", within = "10s" }
[[run]]
name = "provider"
strategy = "sdk-profile"
expect = { passes = true }
"#;

/// A 13-hour job on the role's 12-hour maximum.
const LONG: &str = r#"name = "thirteen hours"
seed = 4
[workload]
length = "13h"
every = "2m"
operations = ["GetObject"]
[[run]]
name = "keys-43200"
strategy = "manual-env"
duration_seconds = 43200
expect = { fails_with = "ExpiredToken", at = "12h", within = "2m" }
[[run]]
name = "provider-default"
strategy = "sdk-profile"
expect = { passes = true }
"#;

/// Chromium, or `None` after saying why (a failure unless skipping was asked for).
fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("STS_LAB_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.exists());
    if found.is_none() {
        missing("Debian's `chromium` is not installed (STS_LAB_CHROMIUM or /usr/bin/chromium)");
    }
    found
}

fn headless(chromium: &Path, args: &[&str], page: &Path) -> std::process::Output {
    let url = format!("file://{}", page.display());
    Command::new(chromium)
        // Root in CI cannot use the sandbox; a throwaway profile keeps runs independent.
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--disable-dev-shm-usage",
        ])
        .arg(format!(
            "--user-data-dir={}",
            page.with_extension("profile").display()
        ))
        .args(args)
        .arg(url)
        .output()
        .unwrap()
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn the_timeline_renders_in_headless_chromium_with_every_lane_and_mark() {
    let dir = std::env::temp_dir().join(format!("sts-harness-timeline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("short.toml"), SHORT).unwrap();
    std::fs::write(dir.join("long.toml"), LONG).unwrap();
    let page = dir.join("timeline.html");
    let out = Command::new(env!("CARGO_BIN_EXE_sts-harness"))
        .args(["run"])
        .arg(dir.join("short.toml"))
        .arg(dir.join("long.toml"))
        .arg("--timeline")
        .arg(&page)
        .env("CI", "true")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch.
    let without_namespace = html.replace("http://www.w3.org/2000/svg", "");
    assert!(!without_namespace.contains("http") && !html.contains("<script"));

    let Some(chromium) = chromium() else { return };
    let dom = headless(&chromium, &["--dump-dom"], &page);
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    // The browser parsed four lanes, each an SVG with its rows.
    assert_eq!(count(&dom, "<div class=\"lane "), 4, "{dom}");
    assert_eq!(count(&dom, "<svg "), 4);
    for run in ["keys-900", "provider", "keys-43200", "provider-default"] {
        assert!(dom.contains(&format!("data-run=\"{run}\"")), "{run}");
    }
    // Credential bars: one for each copied key and the provider's hourly chain.
    assert!(count(&dom, "class=\"credential-bar\"") >= 6, "{dom}");
    // The copied keys went on signing after their expiry.
    assert_eq!(count(&dom, "class=\"used-expired\""), 2);
    assert!(count(&dom, "class=\"call\"") >= 5);
    // ExpiredToken ticks, named in their titles; the fault window and the expected windows.
    assert!(dom.contains("× ExpiredToken (answered)"), "{dom}");
    assert_eq!(
        count(&dom, "class=\"fault\""),
        2,
        "the throttling window on both short lanes"
    );
    assert_eq!(count(&dom, "class=\"expected\""), 2);
    // Axis labels readable at both scales: minutes on the short run, hours on the long.
    assert!(
        dom.contains(">10m</text>") && dom.contains(">12h</text>"),
        "{dom}"
    );

    let png = dir.join("timeline.png");
    let shot = headless(
        &chromium,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1300,900",
        ],
        &page,
    );
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    // A PNG of the window's size with real content (a blank page compresses to a few KiB).
    assert_eq!(&bytes[1..4], b"PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1300, 900));
    assert!(bytes.len() > 30_000, "{} bytes", bytes.len());
    let _ = std::fs::remove_dir_all(&dir);
}
