//! The file format of a run's source credentials for role chaining: `source = { role = ARN,
//! duration_seconds = N, copied = true }`, checked against what the strategy can do.

use serde::Deserialize;

use super::{SourceSpec, StrategyKind};

/// `source = { … }` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SourceEntry {
    role: String,
    duration_seconds: Option<u32>,
    copied: Option<bool>,
}

impl SourceEntry {
    /// The checked model for a run of `strategy`, or what is wrong, naming the key.
    pub(super) fn check(&self, strategy: StrategyKind) -> Result<SourceSpec, String> {
        let copied = match (strategy, self.copied) {
            // Keys copied at start-up are copied all the way down.
            (StrategyKind::ManualEnv, Some(false)) => {
                return Err(
                    "run.source.copied: manual-env copies every key it gets; only sdk-profile can refresh its source (copied = false)".into(),
                );
            }
            (StrategyKind::ManualEnv, _) => true,
            (StrategyKind::SdkProfile | StrategyKind::SpecRefresh, copied) => {
                copied.unwrap_or(false)
            }
            (other, _) => {
                return Err(format!(
                    "run.source: strategy `{}` takes no source role (manual-env, sdk-profile and spec-refresh do)",
                    other.as_str()
                ));
            }
        };
        if self.duration_seconds.is_some() && !copied {
            return Err(
                "run.source.duration_seconds: a source the SDK refreshes gets the default duration (aws-config's profile provider does not read duration_seconds); set copied = true for a session the harness assumes once".into(),
            );
        }
        Ok(SourceSpec {
            role_arn: self.role.clone(),
            duration_seconds: self.duration_seconds,
            copied,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Scenario;

    const CHAIN: &str = r#"name = "chain"
[workload]
length = "2h"
every = "10s"
operations = ["PutObject"]
[[run]]
strategy = "sdk-profile"
source = { role = "arn:aws:iam::123456789012:role/short-session" }
expect = { passes = true }
"#;

    #[test]
    fn a_source_parses_for_the_strategies_that_take_one() {
        let s = Scenario::parse(CHAIN, Path::new("s.toml")).unwrap();
        let source = s.runs[0].source.clone().unwrap();
        assert!(!source.copied);
        let s = Scenario::parse(
            &CHAIN.replace("sdk-profile", "manual-env"),
            Path::new("s.toml"),
        )
        .unwrap();
        assert!(s.runs[0].source.as_ref().unwrap().copied);
        // spec-refresh wraps sdk-profile's provider: the same chain, refreshed or copied.
        let spec = CHAIN.replace("sdk-profile", "spec-refresh");
        let s = Scenario::parse(&spec, Path::new("s.toml")).unwrap();
        assert_eq!(s.runs[0].strategy.as_str(), "spec-refresh");
        assert!(!s.runs[0].source.as_ref().unwrap().copied);
        let s = Scenario::parse(
            &spec.replace(" }\nexpect", ", copied = true }\nexpect"),
            Path::new("s.toml"),
        )
        .unwrap();
        assert!(s.runs[0].source.as_ref().unwrap().copied);
    }

    #[test]
    fn bad_sources_name_line_and_key() {
        let cases = [
            (
                CHAIN.replace("sdk-profile", "naive-refresh"),
                "takes no source role",
            ),
            (
                CHAIN
                    .replace("sdk-profile", "manual-env")
                    .replace(" }\nexpect", ", copied = false }\nexpect"),
                "manual-env copies every key",
            ),
            (
                CHAIN.replace(
                    "short-session\" }",
                    "short-session\", duration_seconds = 900 }",
                ),
                "set copied = true",
            ),
            (CHAIN.replace("role = ", "rol = "), "unknown field `rol`"),
        ];
        for (text, want) in cases {
            let e = Scenario::parse(&text, Path::new("s.toml"))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("s.toml:8:") && e.contains(want),
                "{want}: {e}"
            );
        }
    }
}
