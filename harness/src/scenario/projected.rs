//! `[projected_token]`: the service-account tokens a scenario's runs read from files, as an
//! EKS pod reads them: the web identity token of IRSA (`AWS_WEB_IDENTITY_TOKEN_FILE`) and the
//! EKS Pod Identity token (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
//!
//! ```toml
//! [projected_token]
//! provider = "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE"  # default: the world's first minting provider
//! subject = "system:serviceaccount:jobs:pipeline"                   # default: ...:default:pipeline
//! lifetime = "24h"                                                  # expirationSeconds: 10m ..= 24h
//! ```
//!
//! The section is optional: runs that read a token get these defaults. What can be wrong is
//! reported here, naming the key: a provider that is not in the world or that the mock cannot
//! mint for (`mint = true`), a lifetime Kubernetes would refuse (under 600 s) or longer than the
//! 24 h the kubelet lets a token live before it renews it, a web identity run whose role does not
//! trust the provider, and a `pod-identity-read-once` run without a Pod Identity endpoint.

use std::ops::Range;
use std::time::Duration;

use mock_sts::oidc::{MAX_LIFETIME, MIN_LIFETIME, provider_key as provider_id};
use serde::Deserialize;
use toml::Spanned;

use super::file::Dur;
use super::{ProjectedToken, RunSpec, StrategyKind};

/// The `[projected_token]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProjectedTokenEntry {
    provider: Option<Spanned<String>>,
    subject: Option<Spanned<String>>,
    lifetime: Option<Spanned<Dur>>,
}

/// An error: the span to report (the run's strategy when the section is absent) and the message.
pub(super) type Invalid = (Option<Range<usize>>, String);

/// Resolves the section against the world and the runs (`spans`: each run's strategy span).
pub(super) fn resolve(
    entry: Option<&ProjectedTokenEntry>,
    world: &mock_sts::World,
    runs: &[RunSpec],
    spans: &[Range<usize>],
) -> Result<Option<ProjectedToken>, Invalid> {
    let first_span = |wanted: &dyn Fn(&RunSpec) -> bool| {
        runs.iter()
            .zip(spans)
            .find(|(r, _)| wanted(r))
            .map(|(_, s)| s.clone())
    };
    let web_span = first_span(&|r: &RunSpec| r.reads_web_identity());
    let pod_provider = world
        .container
        .as_ref()
        .and_then(|c| c.authorization_provider.clone());
    let pod_span =
        first_span(&|r: &RunSpec| r.reads_container()).filter(|_| pod_provider.is_some());
    if let Some(span) = first_span(&|r: &RunSpec| r.strategy == StrategyKind::PodIdentityReadOnce)
        && pod_provider.is_none()
    {
        return Err((
            Some(span),
            "run.strategy: `pod-identity-read-once` needs an EKS Pod Identity endpoint: a [container] with authorization_provider in the world".into(),
        ));
    }
    if entry.is_none() && web_span.is_none() && pod_span.is_none() {
        return Ok(None);
    }

    let providers = &world.oidc_providers;
    let minting = |url: &str| {
        let key = provider_id(url);
        providers.iter().find(|(_, p)| provider_id(&p.url) == key)
    };
    let web_identity_provider = match entry.and_then(|e| e.provider.as_ref()) {
        Some(p) => match minting(p.get_ref()) {
            None => {
                return Err((
                    Some(p.span()),
                    format!(
                        "projected_token.provider: `{}` is not an [[oidc_provider]] of the world",
                        p.get_ref()
                    ),
                ));
            }
            Some((_, provider)) if !provider.mint => {
                return Err((
                    Some(p.span()),
                    format!(
                        "projected_token.provider: `{}` has no keys for minting: set mint = true on its [[oidc_provider]] in the world",
                        p.get_ref()
                    ),
                ));
            }
            Some((_, provider)) => Some(provider.url.clone()),
        },
        None => match providers.iter().find(|(_, p)| p.mint) {
            Some((_, provider)) => Some(provider.url.clone()),
            None if web_span.is_some() => {
                return Err((
                    web_span,
                    "projected_token.provider: web identity runs need an [[oidc_provider]] with mint = true in the world, whose tokens the harness writes to the token file".into(),
                ));
            }
            None => None,
        },
    };
    if let Some(url) = &pod_provider
        && pod_span.is_some()
        && !minting(url).is_some_and(|(_, p)| p.mint)
    {
        return Err((
            pod_span,
            format!(
                "projected_token: the container's authorization_provider `{url}` has no keys for minting: set mint = true on its [[oidc_provider]] in the world"
            ),
        ));
    }

    // Every web identity run's role must trust the provider, or its first call is refused.
    if let Some(url) = &web_identity_provider
        && let Some((account, provider)) = minting(url)
    {
        let arn = provider.arn(account);
        for (run, span) in runs.iter().zip(spans) {
            if !run.reads_web_identity() {
                continue;
            }
            let trusted = world
                .role_by_arn(&run.role_arn)
                .is_some_and(|role| role.trusts_federated(&arn));
            if !trusted {
                return Err((
                    Some(span.clone()),
                    format!(
                        "run.role: `{}` does not trust the web identity provider (list \"{arn}\" in the role's trusted, and name the role with role = ...)",
                        run.role_arn
                    ),
                ));
            }
        }
    }

    let subject = match entry.and_then(|e| e.subject.as_ref()) {
        Some(s) if s.get_ref().is_empty() => {
            return Err((
                Some(s.span()),
                "projected_token.subject: must not be empty".into(),
            ));
        }
        Some(s) => s.get_ref().clone(),
        None => ProjectedToken::DEFAULT_SUBJECT.to_owned(),
    };
    let lifetime = match entry.and_then(|e| e.lifetime.as_ref()) {
        Some(l) if l.get_ref().0 < MIN_LIFETIME => {
            return Err((
                Some(l.span()),
                format!(
                    "projected_token.lifetime: {} s is under 10 minutes, the shortest token Kubernetes projects (expirationSeconds >= 600)",
                    l.get_ref().0.as_secs()
                ),
            ));
        }
        Some(l) if l.get_ref().0 > MAX_LIFETIME => {
            return Err((
                Some(l.span()),
                format!(
                    "projected_token.lifetime: {} s is over 24 hours, longer than the kubelet lets a projected token live",
                    l.get_ref().0.as_secs()
                ),
            ));
        }
        Some(l) => Duration::from_secs(l.get_ref().0.as_secs()),
        None => MAX_LIFETIME,
    };
    Ok(Some(ProjectedToken {
        web_identity_provider,
        pod_identity_provider: pod_provider.filter(|_| pod_span.is_some()),
        subject,
        lifetime,
    }))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::super::Scenario;

    const ISSUER: &str =
        "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B716D3041E";

    fn scenarios_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
    }

    fn scenario(projected: &str, runs: &str) -> String {
        format!(
            "name = \"t\"\n[world]\nfile = \"worlds/eks-pod.toml\"\n{projected}[workload]\nlength = \"2h\"\nevery = \"1m\"\noperations = [\"PutObject\"]\n{runs}"
        )
    }

    const WEB_RUN: &str = "[[run]]\nstrategy = \"sdk-web-identity\"\nrole = \"arn:aws:iam::123456789012:role/pod-role\"\nexpect = { passes = true }\n";

    fn err(text: &str) -> String {
        Scenario::parse(text, &scenarios_dir().join("s.toml"))
            .unwrap_err()
            .to_string()
    }

    fn ok(text: &str) -> Scenario {
        Scenario::parse(text, &scenarios_dir().join("s.toml")).unwrap()
    }

    #[test]
    fn defaults_apply_when_a_run_reads_a_token() {
        let s = ok(&scenario("", WEB_RUN));
        let p = s.projected_token.unwrap();
        assert_eq!(p.web_identity_provider.as_deref(), Some(ISSUER));
        assert_eq!(p.pod_identity_provider, None);
        assert_eq!(p.subject, "system:serviceaccount:default:pipeline");
        assert_eq!(p.lifetime.as_secs(), 86_400);
        assert_eq!(p.rotate_after().as_secs(), 69_120);
        let pod = ok(&scenario(
            "[projected_token]\nlifetime = \"10m\"\n",
            "[[run]]\nstrategy = \"pod-identity-read-once\"\nexpect = { passes = true }\n",
        ));
        let p = pod.projected_token.unwrap();
        assert_eq!(p.pod_identity_provider.as_deref(), Some(ISSUER));
        assert_eq!(p.lifetime.as_secs(), 600);
        // No run reads a token: nothing to write.
        let none = ok(&scenario(
            "",
            "[[run]]\nstrategy = \"sdk-profile\"\nexpect = { passes = true }\n",
        ));
        assert!(none.projected_token.is_none());
    }

    #[test]
    fn a_lifetime_under_ten_minutes_or_over_a_day_names_line_and_key() {
        let e = err(&scenario("[projected_token]\nlifetime = \"9m\"\n", WEB_RUN));
        assert!(e.contains("s.toml:5:"), "{e}");
        assert!(
            e.contains("projected_token.lifetime: 540 s is under 10 minutes"),
            "{e}"
        );
        let e = err(&scenario(
            "[projected_token]\nlifetime = \"25h\"\n",
            WEB_RUN,
        ));
        assert!(e.contains(":5:") && e.contains("over 24 hours"), "{e}");
    }

    #[test]
    fn a_provider_without_keys_for_minting_names_line_and_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("w.toml"),
            "[[account]]\nid = \"123456789012\"\n[[role]]\nname = \"r\"\ntrusted = [\"*\"]\n[[oidc_provider]]\nurl = \"http://127.0.0.1:9\"\n",
        )
        .unwrap();
        let text = |projected: &str| {
            format!(
                "name = \"t\"\n[world]\nfile = \"w.toml\"\n{projected}[workload]\nlength = \"2h\"\nevery = \"1m\"\noperations = [\"PutObject\"]\n[[run]]\nstrategy = \"web-identity-read-once\"\nrole = \"arn:aws:iam::123456789012:role/r\"\nexpect = {{ passes = true }}\n"
            )
        };
        let parse = |t: &str| {
            Scenario::parse(t, &dir.path().join("s.toml"))
                .unwrap_err()
                .to_string()
        };
        // The world's one provider discovers its keys: the mock cannot mint for it.
        let e = parse(&text(
            "[projected_token]\nprovider = \"http://127.0.0.1:9\"\n",
        ));
        assert!(
            e.contains("s.toml:5:")
                && e.contains("projected_token.provider: `http://127.0.0.1:9` has no keys for minting: set mint = true"),
            "{e}"
        );
        let e = parse(&text(
            "[projected_token]\nprovider = \"https://elsewhere.example\"\n",
        ));
        assert!(
            e.contains("s.toml:5:") && e.contains("is not an [[oidc_provider]]"),
            "{e}"
        );
        // No provider named and none mints: the web identity run is named.
        let e = parse(&text(""));
        assert!(
            e.contains("s.toml:9:") && e.contains("need an [[oidc_provider]] with mint = true"),
            "{e}"
        );
    }

    #[test]
    fn a_role_that_does_not_trust_the_provider_and_a_missing_pod_endpoint_are_named() {
        let e = err(&scenario(
            "",
            "[[run]]\nstrategy = \"sdk-web-identity\"\nexpect = { passes = true }\n",
        ));
        assert!(
            e.contains("s.toml:9:")
                && e.contains("run.role: `arn:aws:iam::123456789012:role/cross-account-s3` does not trust the web identity provider"),
            "{e}"
        );
        let e = err(
            "name = \"t\"\n[workload]\nlength = \"2h\"\nevery = \"1m\"\noperations = [\"PutObject\"]\n[[run]]\nstrategy = \"pod-identity-read-once\"\nexpect = { passes = true }\n",
        );
        assert!(
            e.contains("s.toml:7:") && e.contains("needs an EKS Pod Identity endpoint"),
            "{e}"
        );
        // After a version matrix's rows the next run is still named by its own line.
        let e = err(&scenario(
            "[clock]\nmode = \"scaled\"\nrate = 360\n",
            "[[run]]\nname = \"boto3\"\nstrategy = \"process\"\ncommand = [\"python3\", \"clients/config_provider.py\"]\nprofile = \"assume-role\"\nversions = { boto3 = [\"1.35.99\", \"1.44.8\"] }\nexpect = { passes = true }\n[[run]]\nstrategy = \"sdk-web-identity\"\nexpect = { passes = true }\n",
        ));
        assert!(
            e.contains("s.toml:19:") && e.contains("does not trust the web identity provider"),
            "{e}"
        );
        let e = err(&scenario("[projected_token]\nsubject = \"\"\n", WEB_RUN));
        assert!(
            e.contains(":5:") && e.contains("projected_token.subject"),
            "{e}"
        );
    }
}
