//! Package environments for SDK version matrices: one venv (pip) or npm prefix per package set
//! ([`PackageSet`]), installed once and reused by every run that names the same set.
//!
//! Where they live: `$STS_LAB_ENVS`, else `$CARGO_TARGET_DIR/sts-lab-envs`, else
//! `sts-lab-envs` in the Cargo target directory the running binary was built in (the ancestor
//! holding Cargo's `CACHEDIR.TAG` or `.rustc_info.json`), else `target/sts-lab-envs` under the current directory.
//! A set's folder is named for it (`py-boto3-1.35.99`), so CI that keeps its target directory
//! between runs reuses them.
//!
//! An environment counts as installed only when its marker file (`.sts-lab-ready`) is there
//! and names the same requirements and, for a venv, the same interpreter (`python3 --version`
//! when it was made; another one is reinstalled): the marker is written last, after a
//! successful install, so an install that was interrupted, or that failed, is redone from
//! scratch. A lock file beside each folder (`py-boto3-1.35.99.lock`, `flock`) lets runs in
//! parallel, and other harness processes, install the same set once; a failed install
//! removes its own.
//!
//! What the program gets: the environment's `bin` first on its `PATH` and `VIRTUAL_ENV`
//! (Python: `python3` is the venv's), or `NODE_PATH` naming the prefix's `node_modules` (Node:
//! `require` falls back to it; an ES module resolves through it with `createRequire`).
//!
//! The installers run with the harness's own environment, so pip's and npm's configuration
//! (an index, a proxy, their caches) applies; they are found on the program's `PATH`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

use mock_sts::clock::Stopwatch;
use serde::Serialize;

use crate::process::find_on_path;
use crate::scenario::{Ecosystem, PackageSet};

/// The marker written after a successful install: the requirements, then what was installed.
pub const MARKER: &str = ".sts-lab-ready";

/// How long one line of an installer's error may be in a report.
const ERROR_LINE_CHARS: usize = 200;

/// Why an environment could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum EnvironmentError {
    /// The installer (or Python, to create the venv) is not on the `PATH`.
    #[error("cannot install {label}: `{program}` is not on the PATH ({path})")]
    NoInstaller {
        /// The package set.
        label: String,
        /// `python3` or `npm`.
        program: &'static str,
        /// The `PATH` searched.
        path: String,
    },
    /// The installer failed: its one-line error.
    #[error("cannot install {label} with {installer}: {message}")]
    Install {
        /// The package set (`boto3 99.0.0`).
        label: String,
        /// `pip` or `npm`.
        installer: &'static str,
        /// The installer's error, one line.
        message: String,
    },
    /// A file or folder could not be made.
    #[error("cannot prepare the environment {dir}: {source}")]
    Io {
        /// The environment's folder.
        dir: String,
        /// The error.
        source: std::io::Error,
    },
}

/// An environment ready for a program.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Environment {
    /// Its folder.
    pub dir: PathBuf,
    /// Which installer made it.
    pub ecosystem: Ecosystem,
    /// What it holds: every distribution and its version (pip), or the named packages' and
    /// [`NODE_BROUGHT`]'s (npm).
    pub installed: BTreeMap<String, String>,
    /// Wall time of this run's install, milliseconds; `None` when it reused an earlier one.
    pub install_ms: Option<u64>,
}

impl Environment {
    /// The folder put first on the program's `PATH` (a venv's `bin`; none for npm).
    pub fn bin(&self) -> Option<PathBuf> {
        (self.ecosystem == Ecosystem::Python).then(|| self.dir.join("bin"))
    }

    /// The variables that point the program at it: `VIRTUAL_ENV`, or `NODE_PATH` and
    /// `STS_LAB_NODE_MODULES` (both the prefix's `node_modules`: CommonJS `require` falls back
    /// to the first; ES modules ignore it, so the JS example clients load the row's SDK from
    /// the second, which nothing outside the harness sets by accident).
    pub fn variables(&self) -> Vec<(String, OsString)> {
        match self.ecosystem {
            Ecosystem::Python => vec![("VIRTUAL_ENV".into(), self.dir.clone().into_os_string())],
            Ecosystem::Node => {
                let modules = self.dir.join("node_modules").into_os_string();
                vec![
                    ("NODE_PATH".into(), modules.clone()),
                    ("STS_LAB_NODE_MODULES".into(), modules),
                ]
            }
        }
    }

    /// `installed in 4.1 s` or `reused`.
    pub fn how(&self) -> String {
        match self.install_ms {
            Some(ms) => format!("installed in {:.1} s", ms as f64 / 1000.0),
            None => "reused".to_string(),
        }
    }
}

/// The folder environments live in (see the module's documentation).
pub fn root() -> PathBuf {
    if let Some(dir) = std::env::var_os("STS_LAB_ENVS") {
        return std::path::absolute(PathBuf::from(&dir)).unwrap_or_else(|_| dir.into());
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        let target = PathBuf::from(target);
        return std::path::absolute(&target)
            .unwrap_or(target)
            .join("sts-lab-envs");
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|dir| {
                    dir.join("CACHEDIR.TAG").is_file() || dir.join(".rustc_info.json").is_file()
                })
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| {
            std::path::absolute("target").unwrap_or_else(|_| PathBuf::from("target"))
        })
        .join("sts-lab-envs")
}

/// The environment of `set` under [`root`], installed now unless it already is. `path` is the
/// `PATH` to find `python3` or `npm` on.
///
/// # Errors
/// [`EnvironmentError`]: no installer, the install failed (its one-line error), or files.
pub fn prepare(set: &PackageSet, path: &OsStr) -> Result<Environment, EnvironmentError> {
    prepare_in(&root(), set, path)
}

/// [`prepare`] under `root`.
///
/// # Errors
/// As [`prepare`].
pub fn prepare_in(
    root: &Path,
    set: &PackageSet,
    path: &OsStr,
) -> Result<Environment, EnvironmentError> {
    let dir = root.join(set.folder_name());
    let io = |source| EnvironmentError::Io {
        dir: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(root).map_err(io)?;
    let interpreter = interpreter(set, path)?;
    // Held until this returns: one install per set at a time, across threads and processes.
    let lock_path = root.join(format!("{}.lock", set.folder_name()));
    let lock = lock(&lock_path).map_err(io)?;
    let requirements = set.requirements().join(" ");
    if let Some(installed) = read_marker(&dir, &requirements, interpreter.as_deref()) {
        return Ok(Environment {
            dir,
            ecosystem: set.ecosystem,
            installed,
            install_ms: None,
        });
    }
    // Whatever is there is an interrupted or failed install, another set's, or one made with
    // another interpreter.
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(io)?;
    }
    let stopwatch = Stopwatch::start();
    let installed = match install(set, &dir, path) {
        Ok(installed) => installed,
        Err(e) => {
            // Nothing half-made is left to be mistaken for an environment, nor its lock file
            // (removed while held: whoever waits on it takes a new one, see `lock`).
            let _ = std::fs::remove_dir_all(&dir);
            let _ = std::fs::remove_file(&lock_path);
            drop(lock);
            return Err(e);
        }
    };
    let elapsed = stopwatch.elapsed();
    let mut marker = format!("{requirements}\n");
    if let Some(interpreter) = &interpreter {
        marker.push_str(&format!("{INTERPRETER}{interpreter}\n"));
    }
    for (name, version) in &installed {
        marker.push_str(&format!("{name}=={version}\n"));
    }
    let partial = dir.join(format!("{MARKER}.partial"));
    std::fs::write(&partial, marker).map_err(io)?;
    std::fs::rename(&partial, dir.join(MARKER)).map_err(io)?;
    tracing::info!(environment = %dir.display(), seconds = elapsed.as_secs_f64(), "installed");
    Ok(Environment {
        dir,
        ecosystem: set.ecosystem,
        installed,
        install_ms: Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
    })
}

/// The marker's line naming the interpreter a venv was made with: `interpreter Python 3.12.3`.
const INTERPRETER: &str = "interpreter ";

/// What a finished install recorded, when its marker names the same requirements and, for a
/// venv, the same interpreter (`interpreter`: what `python3 --version` says now).
fn read_marker(
    dir: &Path,
    requirements: &str,
    interpreter: Option<&str>,
) -> Option<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(dir.join(MARKER)).ok()?;
    let mut lines = text.lines();
    if lines.next()? != requirements {
        return None;
    }
    if let Some(now) = interpreter {
        // A venv links to the Python that made it: another one (an upgrade, another pyenv
        // version) would run packages built for the first, or none at all.
        let made_with = text.lines().find_map(|l| l.strip_prefix(INTERPRETER));
        if made_with != Some(now) {
            tracing::info!(
                environment = %dir.display(),
                made_with = made_with.unwrap_or("an unrecorded interpreter"),
                now,
                "reinstalling: made with another python3"
            );
            return None;
        }
    }
    Some(
        lines
            .filter_map(|l| l.split_once("=="))
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    )
}

/// The interpreter a venv of `set` is made with now, as `python3 --version` on `path` names
/// it (`Python 3.12.3`); `None` for npm, whose prefix holds no interpreter of its own.
fn interpreter(set: &PackageSet, path: &OsStr) -> Result<Option<String>, EnvironmentError> {
    if set.ecosystem != Ecosystem::Python {
        return Ok(None);
    }
    let label = set.label();
    let python = find_on_path("python3", path).ok_or_else(|| EnvironmentError::NoInstaller {
        label: label.clone(),
        program: "python3",
        path: path.to_string_lossy().into_owned(),
    })?;
    let failed = |message: String| EnvironmentError::Install {
        label: label.clone(),
        installer: set.ecosystem.installer(),
        message,
    };
    let out = Command::new(&python)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| failed(format!("cannot start {}: {e}", python.display())))?;
    // Pythons before 3.4 print it on stderr.
    let version = [&out.stdout, &out.stderr]
        .into_iter()
        .map(|o| String::from_utf8_lossy(o).trim().to_string())
        .find(|v| !v.is_empty())
        .filter(|_| out.status.success())
        .ok_or_else(|| failed(format!("`{} --version` said nothing", python.display())))?;
    Ok(Some(version))
}

/// Takes the lock file at `path` (made if missing), blocking until it is free. A failed
/// install removes its lock file while holding it, so a lock taken on a file no longer at
/// `path` guards nothing: take the one there now.
fn lock(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::MetadataExt;
    loop {
        let file = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)?;
        file.lock()?;
        let held = file.metadata()?;
        match std::fs::metadata(path) {
            Ok(now) if now.dev() == held.dev() && now.ino() == held.ino() => return Ok(file),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
}

/// Installs `set` into `dir` (which does not exist); returns what it holds.
fn install(
    set: &PackageSet,
    dir: &Path,
    path: &OsStr,
) -> Result<BTreeMap<String, String>, EnvironmentError> {
    let label = set.label();
    let installer = set.ecosystem.installer();
    let find = |program: &'static str| {
        find_on_path(program, path).ok_or_else(|| EnvironmentError::NoInstaller {
            label: label.clone(),
            program,
            path: path.to_string_lossy().into_owned(),
        })
    };
    let failed = |message: String| EnvironmentError::Install {
        label: label.clone(),
        installer,
        message,
    };
    match set.ecosystem {
        Ecosystem::Python => {
            let python = find("python3")?;
            run(Command::new(python).arg("-m").arg("venv").arg(dir)).map_err(failed)?;
            let venv_python = dir.join("bin/python");
            run(Command::new(&venv_python)
                .args(["-m", "pip", "install", "--quiet", "--no-input"])
                .arg("--disable-pip-version-check")
                .args(set.requirements()))
            .map_err(failed)?;
            let freeze = run(Command::new(&venv_python).args([
                "-m",
                "pip",
                "list",
                "--format=freeze",
                "--disable-pip-version-check",
            ]))
            .map_err(failed)?;
            Ok(freeze
                .lines()
                .filter_map(|l| l.split_once("=="))
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect())
        }
        Ecosystem::Node => {
            let npm = find("npm")?;
            std::fs::create_dir_all(dir).map_err(|source| EnvironmentError::Io {
                dir: dir.display().to_string(),
                source,
            })?;
            run(Command::new(npm)
                .arg("install")
                .arg("--prefix")
                .arg(dir)
                .args(["--no-audit", "--no-fund", "--loglevel=error"])
                .args(set.requirements()))
            .map_err(failed)?;
            let mut installed = BTreeMap::new();
            for p in &set.packages {
                let version = node_version(dir, &p.name).ok_or_else(|| {
                    failed(format!(
                        "{} is missing after the install",
                        dir.join("node_modules").join(&p.name).display()
                    ))
                })?;
                installed.insert(p.name.clone(), version);
            }
            for name in NODE_BROUGHT {
                if let Some(version) = node_version(dir, name) {
                    installed.entry(name.to_string()).or_insert(version);
                }
            }
            Ok(installed)
        }
    }
}

/// What an npm row records besides the packages it names, when the install brought them to
/// the top of its `node_modules`: the JS v3 packages that decide when and how credentials are
/// refreshed (the default chain and the cores it resolves; ranges in a release's dependencies
/// make these differ by the day of the install).
pub const NODE_BROUGHT: [&str; 3] = [
    "@aws-sdk/credential-provider-node",
    "@aws-sdk/core",
    "@smithy/core",
];

/// The version in `node_modules/NAME/package.json` under `dir`.
fn node_version(dir: &Path, name: &str) -> Option<String> {
    let manifest = dir.join("node_modules").join(name).join("package.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("version")?.as_str().map(str::to_string)
}

/// Runs an installer step to its end; its standard output, or its one-line error.
fn run(command: &mut Command) -> Result<String, String> {
    let out = command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start {}: {e}", command.get_program().display()))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    Err(error_line(&stderr)
        .or_else(|| error_line(&stdout))
        .unwrap_or_else(|| {
            format!(
                "{} exited with {}",
                command.get_program().display(),
                out.status
            )
        }))
}

/// The installer's error in one line: pip's first `ERROR:` line short enough to read (its
/// "Could not find a version" line lists every release), npm's first `npm error` line that is
/// neither a code nor the log's location; else the last non-empty line. At most
/// 200 characters.
pub fn error_line(output: &str) -> Option<String> {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let pip: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.strip_prefix("ERROR:"))
        .map(str::trim)
        .collect();
    let npm: Vec<&str> = lines
        .iter()
        .filter_map(|l| {
            l.strip_prefix("npm error")
                .or_else(|| l.strip_prefix("npm ERR!"))
        })
        .map(str::trim)
        .filter(|l| !l.starts_with("code ") && !l.starts_with("A complete log"))
        .collect();
    let chosen = pip
        .iter()
        .find(|l| l.chars().count() <= ERROR_LINE_CHARS)
        .or(pip.first())
        .or(npm.first())
        .or(lines.last())?;
    Some(if chosen.chars().count() > ERROR_LINE_CHARS {
        let cut: String = chosen.chars().take(ERROR_LINE_CHARS).collect();
        format!("{cut}…")
    } else {
        (*chosen).to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Pin;

    #[test]
    fn installer_errors_come_down_to_one_line() {
        let pip = "ERROR: Could not find a version that satisfies the requirement boto3==99.0.0 (from versions: 0.0.1, 0.0.2, 0.0.3, 0.0.4, 0.0.5, 0.0.6, 0.0.7, 0.0.8, 0.0.9, 0.0.10, 0.0.11, 0.0.12, 0.0.13, 0.0.14, 0.0.16, 0.0.17, 0.0.18, 0.0.19, 1.0.0)\nERROR: No matching distribution found for boto3==99.0.0\n";
        assert_eq!(
            error_line(pip).unwrap(),
            "No matching distribution found for boto3==99.0.0"
        );
        let conflict = "ERROR: Cannot install boto3==1.35.99 and botocore==1.44.8 because these package versions have conflicting dependencies.\nERROR: ResolutionImpossible: for help visit https://pip.pypa.io/\n";
        assert!(
            error_line(conflict)
                .unwrap()
                .starts_with("Cannot install boto3==1.35.99 and botocore==1.44.8")
        );
        let npm = "npm error code ETARGET\nnpm error notarget No matching version found for @aws-sdk/client-s3@0.0.1.\nnpm error notarget In most cases you or one of your dependencies are requesting a package version that doesn't exist.\nnpm error A complete log of this run can be found in: /root/.npm/_logs/x.log\n";
        assert_eq!(
            error_line(npm).unwrap(),
            "notarget No matching version found for @aws-sdk/client-s3@0.0.1."
        );
        assert_eq!(error_line("\nboom\n").unwrap(), "boom");
        assert!(error_line("x".repeat(500).as_str()).unwrap().ends_with('…'));
        assert!(error_line("").is_none());
    }

    #[test]
    fn a_marker_counts_only_for_the_same_requirements() {
        let dir = tempfile::tempdir().unwrap();
        let python = Some("Python 3.12.3");
        assert!(read_marker(dir.path(), "boto3==1.44.8", python).is_none());
        std::fs::write(
            dir.path().join(MARKER),
            "boto3==1.44.8\ninterpreter Python 3.12.3\nboto3==1.44.8\nbotocore==1.44.8\n",
        )
        .unwrap();
        let installed = read_marker(dir.path(), "boto3==1.44.8", python).unwrap();
        assert_eq!(installed["botocore"], "1.44.8");
        assert_eq!(installed.len(), 2, "{installed:?}");
        assert!(read_marker(dir.path(), "boto3==1.35.99", python).is_none());
        // A venv made with another Python, or with one the marker does not name, is not reused.
        assert!(read_marker(dir.path(), "boto3==1.44.8", Some("Python 3.11.2")).is_none());
        std::fs::write(
            dir.path().join(MARKER),
            "boto3==1.44.8\nboto3==1.44.8\nbotocore==1.44.8\n",
        )
        .unwrap();
        assert!(read_marker(dir.path(), "boto3==1.44.8", python).is_none());
        // An npm prefix has no interpreter to compare.
        assert!(read_marker(dir.path(), "boto3==1.44.8", None).is_some());
    }

    /// A stand-in `python3` in `bin`: says the version in `bin/version`; `-m venv DIR` copies
    /// itself to `DIR/bin/python`; `-m pip install` fails while `bin/fail` exists; `-m pip
    /// list` lists boto3.
    fn fake_python(bin: &Path) {
        use std::os::unix::fs::PermissionsExt;
        let script = format!(
            r#"#!/bin/sh
case "$1 $2 $3" in
  "--version"*) cat "{bin}/version" ;;
  "-m venv "*) mkdir -p "$3/bin" && cp "$0" "$3/bin/python" ;;
  "-m pip install") if [ -e "{bin}/fail" ]; then echo "ERROR: boom" >&2; exit 1; fi ;;
  "-m pip list") echo "boto3==1.44.8" ;;
esac
"#,
            bin = bin.display()
        );
        let file = bin.join("python3");
        std::fs::write(&file, script).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    #[test]
    fn a_venv_made_with_another_python_is_rebuilt_and_a_failed_install_leaves_no_lock() {
        let root = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        fake_python(bin.path());
        let path = bin.path().as_os_str();
        let set = PackageSet {
            run: "py".into(),
            ecosystem: Ecosystem::Python,
            packages: vec![Pin {
                name: "boto3".into(),
                version: "1.44.8".into(),
            }],
        };
        let marker = root.path().join(set.folder_name()).join(MARKER);
        std::fs::write(bin.path().join("version"), "Python 3.11.2\n").unwrap();
        let first = prepare_in(root.path(), &set, path).unwrap();
        assert!(first.install_ms.is_some(), "{first:?}");
        assert_eq!(first.installed["boto3"], "1.44.8");
        let text = std::fs::read_to_string(&marker).unwrap();
        assert!(text.contains("\ninterpreter Python 3.11.2\n"), "{text}");
        let again = prepare_in(root.path(), &set, path).unwrap();
        assert_eq!(again.install_ms, None, "{again:?}");
        // python3 is now another Python: the venv is made again, with it.
        std::fs::write(bin.path().join("version"), "Python 3.12.3\n").unwrap();
        let rebuilt = prepare_in(root.path(), &set, path).unwrap();
        assert!(rebuilt.install_ms.is_some(), "{rebuilt:?}");
        let text = std::fs::read_to_string(&marker).unwrap();
        assert!(text.contains("\ninterpreter Python 3.12.3\n"), "{text}");
        assert!(root.path().join("py-boto3-1.44.8.lock").exists());
        // A failed install leaves neither the folder nor its lock file.
        std::fs::write(bin.path().join("version"), "Python 3.13.0\n").unwrap();
        std::fs::write(bin.path().join("fail"), "").unwrap();
        let e = prepare_in(root.path(), &set, path).unwrap_err();
        assert_eq!(e.to_string(), "cannot install boto3 1.44.8 with pip: boom");
        assert!(!root.path().join(set.folder_name()).exists());
        assert!(!root.path().join("py-boto3-1.44.8.lock").exists());
        // And the next attempt takes a new lock and installs.
        std::fs::remove_file(bin.path().join("fail")).unwrap();
        let after = prepare_in(root.path(), &set, path).unwrap();
        assert!(after.install_ms.is_some(), "{after:?}");
    }

    #[test]
    fn a_missing_installer_is_named() {
        let root = tempfile::tempdir().unwrap();
        let set = PackageSet {
            run: "js".into(),
            ecosystem: Ecosystem::Node,
            packages: vec![Pin {
                name: "@aws-sdk/client-s3".into(),
                version: "3.1175.0".into(),
            }],
        };
        let e = prepare_in(root.path(), &set, OsStr::new("/nonexistent")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot install @aws-sdk/client-s3 3.1175.0: `npm` is not on the PATH (/nonexistent)"
        );
        // Nothing is left that could pass for the environment.
        assert!(!root.path().join(set.folder_name()).join(MARKER).exists());
    }

    #[test]
    fn environments_point_the_program_at_themselves() {
        let env = Environment {
            dir: PathBuf::from("/t/py-boto3-1.44.8"),
            ecosystem: Ecosystem::Python,
            installed: BTreeMap::new(),
            install_ms: Some(4100),
        };
        assert_eq!(env.bin(), Some(PathBuf::from("/t/py-boto3-1.44.8/bin")));
        assert_eq!(env.variables()[0].0, "VIRTUAL_ENV");
        assert_eq!(env.how(), "installed in 4.1 s");
        let node = Environment {
            dir: PathBuf::from("/t/node-x-1"),
            ecosystem: Ecosystem::Node,
            installed: BTreeMap::new(),
            install_ms: None,
        };
        assert_eq!(node.bin(), None);
        let modules = OsString::from("/t/node-x-1/node_modules");
        assert_eq!(
            node.variables(),
            vec![
                ("NODE_PATH".to_string(), modules.clone()),
                ("STS_LAB_NODE_MODULES".to_string(), modules)
            ]
        );
        assert_eq!(node.how(), "reused");
    }
}
