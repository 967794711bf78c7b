//! SDK version matrices: `versions = { boto3 = ["1.35.99", "1.44.8"] }` on a `process` run
//! names the package versions its program runs against; the run becomes one row per version
//! (`boto3-profile [boto3 1.35.99]`, `boto3-profile [boto3 1.44.8]`), each with the same
//! workload, faults and expectation, so an upgrade that changes refresh behaviour shows up as
//! a changed row.
//!
//! This module owns the model of one row's packages ([`PackageSet`]), the file format and its
//! checks, and the expansion of a run into its rows. Installing the packages is
//! [`crate::environments`]'s.
//!
//! A package's ecosystem follows from its name: `@scope/name` is npm's, a plain name is a
//! Python distribution (pip), and `pip:NAME` or `npm:NAME` says it outright (an unscoped npm
//! package). Several packages make the rows their product, in the order written; a package
//! not named follows its dependants' pins (boto3 1.35.99 brings the botocore it requires).

use std::fmt::Write as _;
use std::ops::Range;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use toml::Spanned;

use super::RunSpec;

/// The most rows one run's matrix may make (its packages' versions multiplied).
pub(super) const MAX_ROWS: usize = 16;

/// Which installer prepares a row's environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ecosystem {
    /// Python distributions, installed with pip into a venv.
    Python,
    /// npm packages, installed with npm into a prefix.
    Node,
}

impl Ecosystem {
    /// `python` or `node`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Ecosystem::Python => "python",
            Ecosystem::Node => "node",
        }
    }

    /// The installer's name, for messages.
    pub fn installer(&self) -> &'static str {
        match self {
            Ecosystem::Python => "pip",
            Ecosystem::Node => "npm",
        }
    }

    /// The prefix of its environments' folder names (`py-boto3-1.35.99`).
    fn folder_prefix(&self) -> &'static str {
        match self {
            Ecosystem::Python => "py",
            Ecosystem::Node => "node",
        }
    }
}

/// One package at one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The package's name as its registry spells it (`boto3`, `@aws-sdk/client-s3`).
    pub name: String,
    /// The exact version.
    pub version: String,
}

/// One row of a version matrix: the packages, at one version each, that a `process` run's
/// program runs against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageSet {
    /// The run's name as written; each row's name is this plus [`PackageSet::label`].
    pub run: String,
    /// Which installer.
    pub ecosystem: Ecosystem,
    /// The packages, in the order the file names them.
    #[serde(serialize_with = "pins_as_map")]
    pub packages: Vec<Pin>,
}

fn pins_as_map<S: Serializer>(pins: &[Pin], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(pins.iter().map(|p| (&p.name, &p.version)))
}

impl PackageSet {
    /// `boto3 1.35.99` (`, `-separated for several packages).
    pub fn label(&self) -> String {
        self.packages
            .iter()
            .map(|p| format!("{} {}", p.name, p.version))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The row's run name: `boto3-profile [boto3 1.35.99]`.
    pub fn row_name(&self) -> String {
        format!("{} [{}]", self.run, self.label())
    }

    /// The environment's folder name: `py-boto3-1.35.99`, `node-aws-sdk.client-s3-3.1175.0`;
    /// only ASCII letters, digits, `.`, `_`, `-` and `+` (between packages).
    pub fn folder_name(&self) -> String {
        let mut name = self.ecosystem.folder_prefix().to_string();
        for (i, p) in self.packages.iter().enumerate() {
            let package: String = p
                .name
                .trim_start_matches('@')
                .chars()
                .map(|c| if c == '/' { '.' } else { c })
                .collect();
            let _ = write!(
                name,
                "{}{package}-{}",
                if i == 0 { "-" } else { "+" },
                p.version
            );
        }
        name
    }

    /// What the installer is given: `boto3==1.35.99` (pip), `@aws-sdk/client-s3@3.1175.0`
    /// (npm).
    pub fn requirements(&self) -> Vec<String> {
        self.packages
            .iter()
            .map(|p| match self.ecosystem {
                Ecosystem::Python => format!("{}=={}", p.name, p.version),
                Ecosystem::Node => format!("{}@{}", p.name, p.version),
            })
            .collect()
    }
}

/// `versions = { … }` as written: each key with its span and its value, in file order.
pub(super) struct VersionsEntry(Vec<(Spanned<String>, Spanned<toml::Value>)>);

impl<'de> Deserialize<'de> for VersionsEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = VersionsEntry;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a table of package names to lists of versions, e.g. versions = { boto3 = [\"1.35.99\", \"1.44.8\"] }")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VersionsEntry, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Spanned<String>, _>()? {
                    entries.push(entry);
                }
                // toml hands a table's keys over sorted; the file's order is the rows'.
                entries.sort_by_key(|(key, _)| key.span().start);
                Ok(VersionsEntry(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// An error: the span to report and the message, naming the key.
pub(super) type Invalid = (Range<usize>, String);

/// Each package and its versions, in the order written.
type Matrix = Vec<(String, Vec<String>)>;

/// The rows `run` becomes: itself when it names no versions, else one run per combination of
/// its packages' versions, each named for its versions and carrying them in its program's
/// [`PackageSet`]. `table` is the span of the `versions` value.
pub(super) fn expand(
    run: RunSpec,
    entry: Option<&Spanned<VersionsEntry>>,
) -> Result<Vec<RunSpec>, Invalid> {
    let Some(entry) = entry else {
        return Ok(vec![run]);
    };
    let (ecosystem, packages) = check(entry)?;
    let rows: usize = packages.iter().map(|(_, v)| v.len()).product();
    if rows > MAX_ROWS {
        return Err((
            entry.span(),
            format!(
                "run.versions: {rows} combinations; a run's matrix makes at most {MAX_ROWS} rows (split it over runs)"
            ),
        ));
    }
    let mut sets: Vec<Vec<Pin>> = vec![Vec::new()];
    for (name, versions) in &packages {
        sets = sets
            .into_iter()
            .flat_map(|set| {
                versions.iter().map(move |v| {
                    let mut set = set.clone();
                    set.push(Pin {
                        name: name.clone(),
                        version: v.clone(),
                    });
                    set
                })
            })
            .collect();
    }
    Ok(sets
        .into_iter()
        .map(|packages| {
            let set = PackageSet {
                run: run.name.clone(),
                ecosystem,
                packages,
            };
            let mut row = run.clone();
            row.name = set.row_name();
            if let Some(process) = &mut row.process {
                process.packages = Some(set);
            }
            row
        })
        .collect())
}

/// The packages and their versions, checked: a known ecosystem, one for all, names and
/// versions of the registry's forms, at least one version each, none twice.
fn check(entry: &Spanned<VersionsEntry>) -> Result<(Ecosystem, Matrix), Invalid> {
    let entries = &entry.get_ref().0;
    if entries.is_empty() {
        return Err((
            entry.span(),
            "run.versions: name at least one package, e.g. versions = { boto3 = [\"1.35.99\", \"1.44.8\"] }".into(),
        ));
    }
    let mut ecosystem: Option<(Ecosystem, &str)> = None;
    let mut packages = Vec::new();
    for (key, value) in entries {
        let written = key.get_ref().as_str();
        let at_key = |m: String| (key.span(), format!("run.versions.\"{written}\": {m}"));
        let at_value = |m: String| (value.span(), format!("run.versions.\"{written}\": {m}"));
        let (eco, name) = package(written).map_err(at_key)?;
        match ecosystem {
            Some((first, first_name)) if first != eco => {
                return Err(at_key(format!(
                    "installs with {}, `{first_name}` with {}: one program runs in one environment (a venv or an npm prefix); make a run per ecosystem",
                    eco.installer(),
                    first.installer()
                )));
            }
            Some(_) => {}
            None => ecosystem = Some((eco, written)),
        }
        if packages
            .iter()
            .any(|(n, _): &(String, Vec<String>)| *n == name)
        {
            return Err(at_key(format!("`{name}` is named twice")));
        }
        let toml::Value::Array(items) = value.get_ref() else {
            return Err(at_value(format!(
                "a list of versions, e.g. [\"1.35.99\", \"1.44.8\"], not {}",
                value.get_ref().type_str()
            )));
        };
        if items.is_empty() {
            return Err(at_value(
                "the list of versions is empty; give at least one".into(),
            ));
        }
        let mut versions: Vec<String> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let toml::Value::String(v) = item else {
                return Err(at_value(format!(
                    "version {} is {} `{item}`, not a string: write it quoted (\"{item}\")",
                    i + 1,
                    item.type_str()
                )));
            };
            check_version(v).map_err(|m| at_value(format!("version {}: {m}", i + 1)))?;
            if versions.contains(v) {
                return Err(at_value(format!("version `{v}` is listed twice")));
            }
            versions.push(v.clone());
        }
        packages.push((name, versions));
    }
    let (ecosystem, _) = ecosystem.unwrap_or((Ecosystem::Python, ""));
    Ok((ecosystem, packages))
}

/// A package key's ecosystem and the name its registry knows.
fn package(written: &str) -> Result<(Ecosystem, String), String> {
    let forms = "a Python distribution (`boto3`, or `pip:boto3`), a scoped npm package (`@aws-sdk/client-s3`) or an unscoped one (`npm:aws-sdk`)";
    let (eco, name) = match written.split_once(':') {
        Some(("pip", name)) => (Ecosystem::Python, name),
        Some(("npm", name)) => (Ecosystem::Node, name),
        Some((other, _)) => {
            return Err(format!(
                "unknown ecosystem `{other}` (pip or npm); a package is {forms}"
            ));
        }
        None if written.starts_with('@') => (Ecosystem::Node, written),
        None => (Ecosystem::Python, written),
    };
    let ok = match eco {
        Ecosystem::Python => python_name(name),
        Ecosystem::Node => node_name(name),
    };
    if ok {
        Ok((eco, name.to_string()))
    } else {
        Err(format!(
            "`{written}` is not a package name: a package is {forms}, without extras, paths or version specifiers"
        ))
    }
}

/// A distribution name as PEP 508 allows it: letters and digits, `.`, `_`, `-` inside.
fn python_name(name: &str) -> bool {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    name.starts_with(alnum)
        && name.ends_with(alnum)
        && name
            .chars()
            .all(|c| alnum(c) || matches!(c, '.' | '_' | '-'))
}

/// An npm package name: `name` or `@scope/name`, lower case, URL-safe, no leading `.`/`_`.
fn node_name(name: &str) -> bool {
    let part = |p: &str| {
        !p.is_empty()
            && !p.starts_with(['.', '_'])
            && p.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-' | '~')
            })
    };
    match name.strip_prefix('@') {
        Some(scoped) => scoped
            .split_once('/')
            .is_some_and(|(scope, rest)| part(scope) && part(rest)),
        None => part(name),
    }
}

/// An exact version: letters, digits and `.`, `+`, `-`, `_`, `!` (PEP 440's and semver's
/// characters), starting with a letter or digit; no ranges, tags with spaces or paths.
fn check_version(v: &str) -> Result<(), String> {
    let ok = v.starts_with(|c: char| c.is_ascii_alphanumeric())
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '_' | '!'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{v}` is not an exact version (e.g. \"1.35.99\"); ranges and specifiers would make the row's version depend on the day it was installed"
        ))
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Scenario;
    use super::*;

    const MATRIX: &str = r#"name = "matrix"
[clock]
mode = "scaled"
rate = 360
[workload]
length = "2h"
every = "5s"
operations = ["PutObject"]
[[run]]
name = "boto3-profile"
strategy = "process"
command = ["python3", "clients/config_provider.py"]
profile = "assume-role"
versions = { boto3 = ["1.35.99", "1.44.8"] }
expect = { passes = true }
"#;

    fn parse(text: &str) -> Result<Scenario, String> {
        Scenario::parse(text, Path::new("s.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn a_matrix_makes_one_row_per_version() {
        let s = parse(MATRIX).unwrap();
        let names: Vec<&str> = s.runs.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "boto3-profile [boto3 1.35.99]",
                "boto3-profile [boto3 1.44.8]"
            ]
        );
        let set = s.runs[0]
            .process
            .as_ref()
            .unwrap()
            .packages
            .clone()
            .unwrap();
        assert_eq!(set.ecosystem, Ecosystem::Python);
        assert_eq!(set.folder_name(), "py-boto3-1.35.99");
        assert_eq!(set.requirements(), ["boto3==1.35.99"]);
        assert!(s.runs[1].is_named("boto3-profile"));
        assert!(s.runs[1].is_named("boto3-profile [boto3 1.44.8]"));
        assert!(!s.runs[1].is_named("boto3-profile [boto3 1.35.99]"));
        assert_eq!(
            serde_json::to_string(&set).unwrap(),
            r#"{"run":"boto3-profile","ecosystem":"python","packages":{"boto3":"1.35.99"}}"#
        );
        // Rows are the product, in the order written.
        let s = parse(&MATRIX.replace(
            "{ boto3 = [\"1.35.99\", \"1.44.8\"] }",
            "{ boto3 = [\"1.44.8\"], botocore = [\"1.44.8\", \"1.44.7\"] }",
        ))
        .unwrap();
        let set = s.runs[1]
            .process
            .as_ref()
            .unwrap()
            .packages
            .clone()
            .unwrap();
        assert_eq!(set.label(), "boto3 1.44.8, botocore 1.44.7");
        assert_eq!(set.folder_name(), "py-boto3-1.44.8+botocore-1.44.7");
        let s = parse(&MATRIX.replace(
            "{ boto3 = [\"1.35.99\", \"1.44.8\"] }",
            "{ \"@aws-sdk/client-s3\" = [\"3.1175.0\"], \"npm:tslib\" = [\"2.8.1\"] }",
        ))
        .unwrap();
        let set = s.runs[0]
            .process
            .as_ref()
            .unwrap()
            .packages
            .clone()
            .unwrap();
        assert_eq!(set.ecosystem, Ecosystem::Node);
        assert_eq!(
            set.folder_name(),
            "node-aws-sdk.client-s3-3.1175.0+tslib-2.8.1"
        );
        assert_eq!(
            set.requirements(),
            ["@aws-sdk/client-s3@3.1175.0", "tslib@2.8.1"]
        );
    }

    #[test]
    fn bad_matrices_name_line_and_key() {
        let with =
            |versions: &str| MATRIX.replace("{ boto3 = [\"1.35.99\", \"1.44.8\"] }", versions);
        let cases = [
            (with("{}"), "run.versions: name at least one package"),
            (
                with("{ boto3 = [] }"),
                "run.versions.\"boto3\": the list of versions is empty",
            ),
            (
                with("{ boto3 = [\"1.35.99\", 1.44] }"),
                "run.versions.\"boto3\": version 2 is float `1.44`, not a string",
            ),
            (with("{ boto3 = \"1.35.99\" }"), "a list of versions"),
            (with("{ boto3 = [\">=1.35\"] }"), "not an exact version"),
            (with("{ boto3 = [\"1.0\", \"1.0\"] }"), "listed twice"),
            (
                with("{ \"gem:aws-sdk\" = [\"3.0\"] }"),
                "unknown ecosystem `gem`",
            ),
            (
                with("{ \"boto3[crt]\" = [\"1.35.99\"] }"),
                "is not a package name",
            ),
            (
                with("{ \"@aws-sdk\" = [\"3.0.0\"] }"),
                "is not a package name",
            ),
            (
                with("{ boto3 = [\"1.44.8\"], \"@aws-sdk/client-s3\" = [\"3.0.0\"] }"),
                "installs with npm, `boto3` with pip",
            ),
            (
                with(
                    "{ boto3 = [\"1\", \"2\", \"3\", \"4\", \"5\"], botocore = [\"1\", \"2\", \"3\", \"4\"] }",
                ),
                "at most 16 rows",
            ),
        ];
        for (text, want) in cases {
            let e = parse(&text).unwrap_err();
            assert!(
                e.starts_with("s.toml:14:") && e.contains(want),
                "{want}: {e}"
            );
        }
        // A matrix needs a program to install packages for.
        let e = parse(
            &MATRIX
                .replace("strategy = \"process\"", "strategy = \"sdk-profile\"")
                .replace(
                    "command = [\"python3\", \"clients/config_provider.py\"]\n",
                    "",
                )
                .replace("profile = \"assume-role\"\n", ""),
        )
        .unwrap_err();
        assert!(
            e.starts_with("s.toml:12:") && e.contains("run.versions: only strategy `process`"),
            "{e}"
        );
    }
}
