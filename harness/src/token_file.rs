//! Projected token files: the service-account tokens an EKS pod reads, written and rotated by
//! the harness on the run's simulated clock as the kubelet writes and rotates them.
//!
//! Two files, at the paths EKS mounts them (below [`SECRETS_ROOT`]):
//! - the IRSA web identity token (`eks.amazonaws.com/serviceaccount/token`), named by
//!   `AWS_WEB_IDENTITY_TOKEN_FILE`, audience the provider's first client id (`sts.amazonaws.com`);
//! - the EKS Pod Identity token (`pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token`),
//!   named by `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`, audience `pods.eks.amazonaws.com`.
//!
//! Each run that reads one gets its own directory (a temporary one, or inside a `process` run's
//! private `HOME`), laid out as `/var/run/secrets`. Tokens come from the run's mock
//! ([`MockAws::mint_web_identity_token`], issued at the simulated now) for the scenario's
//! `[projected_token]` provider, subject and lifetime. The first is written before the client
//! starts; then, as the kubelet does, a new one replaces it once the current one is older than
//! 80 % of its lifetime ([`ProjectedToken::rotate_after`]; Kubernetes API reference,
//! `ServiceAccountTokenProjection.expirationSeconds`: "the kubelet will start trying to rotate
//! the token if the token is older than 80 percent of its time to live or if the token is
//! older than 24 hours", and it "must be at least 10 minutes"; EKS's pod identity webhook
//! projects IRSA tokens with `expirationSeconds: 86400`). A replacement is written to a
//! temporary file and renamed over the old one, so a reader never sees half a token (the
//! kubelet's atomic writer swaps a symlink to the same end). No trailing newline: the SDKs send
//! the Pod Identity token as a header value, which cannot hold one.
//!
//! In-process clients read the files through aws-config's `Fs` mapped onto the run's directory
//! ([`TokenFiles::client_env`]), so the SDK sees the EKS paths; programs get the real paths
//! ([`TokenFiles::environment`]). The rotation task runs beside the client on the run's clock:
//! the paused runtime's in virtual runs, the scaled clock in scaled and `process` runs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use aws_types::os_shim_internal::Fs;
use mock_sts::MockAws;
use mock_sts::clock::SimClock;
use mock_sts::oidc::{MintError, MintRequest, POD_IDENTITY_AUDIENCE};

use crate::scenario::{ProjectedToken, RunSpec, Scenario};

/// Where Kubernetes mounts projected service-account tokens in a pod.
pub const SECRETS_ROOT: &str = "/var/run/secrets";

/// Which token a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// EKS IRSA's web identity token (`AWS_WEB_IDENTITY_TOKEN_FILE`).
    WebIdentity,
    /// EKS Pod Identity's authorization token (`AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
    PodIdentity,
}

impl TokenKind {
    fn relative(self) -> &'static str {
        match self {
            TokenKind::WebIdentity => "eks.amazonaws.com/serviceaccount/token",
            TokenKind::PodIdentity => {
                "pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"
            }
        }
    }

    /// The path a pod sees (what the SDK's environment variable names in process).
    pub fn pod_path(self) -> String {
        format!("{SECRETS_ROOT}/{}", self.relative())
    }

    /// The environment variable that names the file.
    pub fn variable(self) -> &'static str {
        match self {
            TokenKind::WebIdentity => "AWS_WEB_IDENTITY_TOKEN_FILE",
            TokenKind::PodIdentity => "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        }
    }
}

/// Why the token files could not be written.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    /// The mock refused to mint (the scenario check makes this a harness bug).
    #[error("cannot mint the projected token: {0}")]
    Mint(#[from] MintError),
    /// A file or directory could not be written.
    #[error("cannot write the projected token file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

/// The run's token files and what each is minted from.
#[derive(Debug)]
pub struct TokenFiles {
    root: PathBuf,
    files: Vec<(TokenKind, MintRequest)>,
    spec: ProjectedToken,
    _dir: Option<tempfile::TempDir>,
}

/// What in-process clients need to read the files.
#[derive(Debug, Clone)]
pub struct ProjectedEnv {
    /// aws-config's file system, `/var/run/secrets` mapped onto the run's directory.
    pub fs: Fs,
    /// The web identity token file as the pod sees it, when the run has one.
    pub web_identity_token_file: Option<String>,
    /// The Pod Identity token file as the pod sees it, when the run has one.
    pub pod_identity_token_file: Option<String>,
}

impl TokenFiles {
    /// The files `run` reads, with their first tokens written: `None` when it reads none.
    /// They go under `parent` (a `process` run's private directory), else in a temporary
    /// directory removed with the value.
    ///
    /// # Errors
    /// [`TokenFileError`] when a token cannot be minted or written.
    pub fn create(
        scenario: &Scenario,
        run: &RunSpec,
        aws: &MockAws,
        parent: Option<&Path>,
    ) -> Result<Option<TokenFiles>, TokenFileError> {
        let Some(spec) = &scenario.projected_token else {
            return Ok(None);
        };
        let lifetime_seconds = Some(spec.lifetime.as_secs());
        let mut files = Vec::new();
        if run.reads_web_identity()
            && let Some(provider) = &spec.web_identity_provider
        {
            files.push((
                TokenKind::WebIdentity,
                MintRequest {
                    provider: provider.clone(),
                    sub: spec.subject.clone(),
                    aud: None,
                    lifetime_seconds,
                },
            ));
        }
        if run.reads_container()
            && let Some(provider) = &spec.pod_identity_provider
        {
            files.push((
                TokenKind::PodIdentity,
                MintRequest {
                    provider: provider.clone(),
                    sub: spec.subject.clone(),
                    aud: Some(POD_IDENTITY_AUDIENCE.to_owned()),
                    lifetime_seconds,
                },
            ));
        }
        if files.is_empty() {
            return Ok(None);
        }
        let (root, dir) = match parent {
            Some(parent) => (parent.join("secrets"), None),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("sts-harness-tokens-")
                    .tempdir()
                    .map_err(|source| TokenFileError::Io {
                        path: std::env::temp_dir().display().to_string(),
                        source,
                    })?;
                (dir.path().join("secrets"), Some(dir))
            }
        };
        let tokens = TokenFiles {
            root,
            files,
            spec: spec.clone(),
            _dir: dir,
        };
        tokens.write_all(aws)?;
        Ok(Some(tokens))
    }

    /// The real path of a file.
    pub fn real_path(&self, kind: TokenKind) -> PathBuf {
        self.root.join(kind.relative())
    }

    fn has(&self, kind: TokenKind) -> bool {
        self.files.iter().any(|(k, _)| *k == kind)
    }

    /// What in-process clients read the files through.
    pub fn client_env(&self) -> ProjectedEnv {
        let pod_path = |kind: TokenKind| self.has(kind).then(|| kind.pod_path());
        ProjectedEnv {
            fs: Fs::from_test_dir(self.root.clone(), SECRETS_ROOT),
            web_identity_token_file: pod_path(TokenKind::WebIdentity),
            pod_identity_token_file: pod_path(TokenKind::PodIdentity),
        }
    }

    /// The variables that name the files for a program (real paths).
    pub fn environment(&self) -> Vec<(String, OsString)> {
        self.files
            .iter()
            .map(|(kind, _)| {
                (
                    kind.variable().to_owned(),
                    self.real_path(*kind).into_os_string(),
                )
            })
            .collect()
    }

    /// Mints a token for every file and writes it; returns when they were issued.
    fn write_all(&self, aws: &MockAws) -> Result<SystemTime, TokenFileError> {
        let mut issued = aws.clock().now();
        for (kind, request) in &self.files {
            let minted = aws.mint_web_identity_token(request)?;
            issued = minted.issued_at;
            write_atomically(&self.real_path(*kind), &minted.token)?;
        }
        tracing::debug!(files = self.files.len(), "projected tokens written");
        Ok(issued)
    }

    /// Replaces the tokens as the kubelet does, for ever (the caller races it against the
    /// job): a new one once the current one is older than [`ProjectedToken::rotate_after`].
    pub async fn rotate(&self, aws: &MockAws, clock: &SimClock) -> std::convert::Infallible {
        let mut issued = clock.now();
        loop {
            clock.sleep_until(issued + self.spec.rotate_after()).await;
            match self.write_all(aws) {
                Ok(at) => issued = at,
                Err(e) => {
                    // The client keeps the old token; a report shows what follows.
                    tracing::error!(error = %e, "cannot rotate the projected token");
                    issued = clock.now();
                }
            }
        }
    }
}

/// Writes `token` to `path` through a temporary file renamed over it.
fn write_atomically(path: &Path, token: &str) -> Result<(), TokenFileError> {
    let io = |source| TokenFileError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, token).map_err(io)?;
    std::fs::rename(&temporary, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    const SCENARIO: &str = r#"
name = "tokens"
[world]
file = "../scenarios/worlds/eks-pod.toml"
[projected_token]
lifetime = "1h"
[workload]
length = "3h"
every = "1m"
operations = ["GetCallerIdentity"]
[[run]]
strategy = "sdk-web-identity"
role = "arn:aws:iam::123456789012:role/pod-role"
expect = { passes = true }
"#;

    #[test]
    fn files_are_written_at_the_eks_paths_and_rotated_at_80_percent() {
        let scenario = Scenario::parse(
            SCENARIO,
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("s.toml"),
        )
        .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        runtime.block_on(async {
            let clock = SimClock::virtual_at(scenario.start);
            let aws = MockAws::builder()
                .clock(clock.clone())
                .world(scenario.world.clone())
                .build();
            let files = TokenFiles::create(&scenario, &scenario.runs[0], &aws, None)
                .unwrap()
                .unwrap();
            let path = files.real_path(TokenKind::WebIdentity);
            assert!(path.ends_with("secrets/eks.amazonaws.com/serviceaccount/token"));
            let env = files.client_env();
            assert_eq!(
                env.web_identity_token_file.as_deref(),
                Some("/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
            );
            assert!(env.pod_identity_token_file.is_none());
            let first = std::fs::read_to_string(&path).unwrap();
            let via_sdk = env
                .fs
                .read_to_end("/var/run/secrets/eks.amazonaws.com/serviceaccount/token")
                .await
                .unwrap();
            assert_eq!(via_sdk, first.as_bytes());
            assert!(!first.ends_with('\n'));

            let rotation = files.rotate(&aws, &clock);
            let watch = async {
                // 80 % of an hour is 48 minutes: unchanged a second before, new after.
                clock.sleep(Duration::from_secs(48 * 60 - 1)).await;
                assert_eq!(std::fs::read_to_string(&path).unwrap(), first);
                clock.sleep(Duration::from_secs(2)).await;
                let second = std::fs::read_to_string(&path).unwrap();
                assert_ne!(second, first);
                clock.sleep(Duration::from_secs(48 * 60)).await;
                assert_ne!(std::fs::read_to_string(&path).unwrap(), second);
            };
            tokio::select! {
                () = watch => {}
                never = rotation => match never {},
            }
            assert!(!path.with_extension("tmp").exists());
        });
    }
}
