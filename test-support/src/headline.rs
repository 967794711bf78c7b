//! Headline figures: the numbers README.md and BENCHMARKS.md quote, checked against what the
//! benches measure, so a quoted figure cannot drift from the code unnoticed.
//!
//! A headline is marked in the Markdown where it is quoted, an HTML comment (invisible once
//! rendered) right before the number and its unit:
//!
//! ```text
//! the seed's cases replay in <!-- headline:seed-replay-process -->**0.85 s** …
//! ```
//!
//! Between the marker and the number only `*`, `_` and spaces may stand; the unit is `s`,
//! `ms` or `MiB`, so a figure reads the same to people and to [`find`]. Every quote of a
//! name must carry the same value (two different figures under one name fail). A bench that
//! measures a headline calls [`check`]: it prints both figures and panics when they differ by
//! more than [`TOLERANCE`], unless `STS_LAB_HEADLINE_CHECK=warn` (a loaded machine: print,
//! do not fail) or `=off`.

use std::path::{Path, PathBuf};

/// How far a measurement may be from its headline, either way: 25 %.
pub const TOLERANCE: f64 = 0.25;

/// A quoted figure: its value in its unit, and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Headline {
    /// The number as written.
    pub value: f64,
    /// `s`, `ms` or `MiB`.
    pub unit: String,
    /// The file and line it was read from.
    pub at: String,
}

impl Headline {
    /// The value in seconds (`s` and `ms`) or MiB, whichever its unit measures.
    pub fn base_value(&self) -> f64 {
        match self.unit.as_str() {
            "ms" => self.value / 1000.0,
            _ => self.value,
        }
    }
}

/// README.md and BENCHMARKS.md at the workspace root.
pub fn documents() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    vec![root.join("README.md"), root.join("BENCHMARKS.md")]
}

/// Every quote of headline `name` in `text` (from `file`, for messages).
///
/// # Errors
/// A marker not followed by a number and a unit.
pub fn find_in(text: &str, file: &str, name: &str) -> Result<Vec<Headline>, String> {
    let marker = format!("<!-- headline:{name} -->");
    let mut found = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find(&marker) {
            rest = &rest[at + marker.len()..];
            let body = rest.trim_start_matches(['*', '_', ' ']);
            let digits: String = body
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let after = body[digits.len()..].trim_start_matches(' ');
            let unit = ["MiB", "ms", "s"]
                .into_iter()
                .find(|u| after.starts_with(u));
            let value = digits.parse::<f64>().ok();
            match (value, unit) {
                (Some(value), Some(unit)) => found.push(Headline {
                    value,
                    unit: unit.to_string(),
                    at: format!("{file}:{}", i + 1),
                }),
                _ => {
                    return Err(format!(
                        "{file}:{}: headline `{name}` is not followed by a number and a unit (s, ms, MiB): {line:?}",
                        i + 1
                    ));
                }
            }
        }
    }
    Ok(found)
}

/// The figure quoted for `name` in README.md and BENCHMARKS.md.
///
/// # Errors
/// No quote at all, an unreadable document, a malformed marker, or quotes that disagree.
pub fn find(name: &str) -> Result<Headline, String> {
    let mut all = Vec::new();
    for doc in documents() {
        let text = std::fs::read_to_string(&doc)
            .map_err(|e| format!("cannot read {}: {e}", doc.display()))?;
        let file = doc.file_name().map_or_else(
            || doc.display().to_string(),
            |f| f.to_string_lossy().into_owned(),
        );
        all.extend(find_in(&text, &file, name)?);
    }
    let Some(first) = all.first().cloned() else {
        return Err(format!(
            "no headline `{name}` in README.md or BENCHMARKS.md (mark it `<!-- headline:{name} -->`)"
        ));
    };
    if let Some(other) = all.iter().find(|h| h.base_value() != first.base_value()) {
        return Err(format!(
            "headline `{name}` is quoted as {} {} at {} but {} {} at {}",
            first.value, first.unit, first.at, other.value, other.unit, other.at
        ));
    }
    Ok(first)
}

/// Whether `measured` (seconds or MiB, as the headline's unit measures) is within
/// [`TOLERANCE`] of `headline`.
pub fn within(headline: &Headline, measured: f64) -> bool {
    let quoted = headline.base_value();
    quoted > 0.0 && ((measured - quoted) / quoted).abs() <= TOLERANCE
}

/// Prints `measured` next to headline `name` and panics when they differ by more than
/// [`TOLERANCE`] (or when the headline cannot be read), unless `STS_LAB_HEADLINE_CHECK` is
/// `warn` (print only) or `off`.
pub fn check(name: &str, measured: f64) {
    let mode = std::env::var("STS_LAB_HEADLINE_CHECK").unwrap_or_default();
    if mode == "off" {
        return;
    }
    let verdict = find(name).map(|h| {
        let ok = within(&h, measured);
        let line = format!(
            "headline {name}: quoted {} {} ({}), measured {:.3} {}: {:+.0} % ({})",
            h.value,
            h.unit,
            h.at,
            if h.unit == "ms" {
                measured * 1000.0
            } else {
                measured
            },
            h.unit,
            (measured / h.base_value() - 1.0) * 100.0,
            if ok {
                "within 25 %"
            } else {
                "OFF BY MORE THAN 25 %"
            }
        );
        (ok, line)
    });
    match verdict {
        Ok((true, line)) => println!("{line}"),
        Ok((false, line)) | Err(line) if mode == "warn" => {
            println!("{line} (STS_LAB_HEADLINE_CHECK=warn: not failing)");
        }
        Ok((false, line)) | Err(line) => panic!(
            "{line}\nupdate the figure in README.md/BENCHMARKS.md (scripts/bench-headline \
             re-takes them all), or set STS_LAB_HEADLINE_CHECK=warn on a loaded machine"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_read_with_their_unit_and_place() {
        let text = "a\nreplays in <!-- headline:x -->**0.85 s** and <!-- headline:y --> 64 MiB\n\
                    again <!-- headline:x -->850 ms";
        let x = find_in(text, "T.md", "x").unwrap();
        assert_eq!(x.len(), 2);
        assert_eq!(
            (x[0].value, x[0].unit.as_str(), x[0].at.as_str()),
            (0.85, "s", "T.md:2")
        );
        assert_eq!(x[1].base_value(), 0.85);
        assert_eq!(find_in(text, "T.md", "y").unwrap()[0].unit, "MiB");
        assert!(find_in(text, "T.md", "z").unwrap().is_empty());
        assert!(find_in("<!-- headline:x --> about a second", "T.md", "x").is_err());
    }

    #[test]
    fn within_is_25_percent_either_way() {
        let h = Headline {
            value: 1.0,
            unit: "s".into(),
            at: String::new(),
        };
        assert!(within(&h, 1.25) && within(&h, 0.75));
        assert!(!within(&h, 1.26) && !within(&h, 0.74));
    }

    #[test]
    fn the_documents_quote_each_headline_once_consistently() {
        for name in [
            "seed-replay-process",
            "seed-replay-in-process",
            "workers16-3h-wall",
            "workers16-3h-peak",
        ] {
            find(name).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
