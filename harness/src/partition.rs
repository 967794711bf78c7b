//! Sharding a catalog across CI runners (`--partition k/n`, like nextest's `count:k/n`).
//!
//! The scenario × run matrix is numbered in a fixed order (scenario files as discovered, which
//! is sorted, then runs in file order) and run `i` (from 0) belongs to shard `i mod n + 1`.
//! Counting by run rather than by file spreads a catalog's long runs across shards, and the
//! order depends on nothing but the files, so `1/n` … `n/n` together run every run once.

use std::fmt;
use std::str::FromStr;

use crate::scenario::Scenario;

/// One shard of `count`: `index` in `1..=count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// This shard, from 1.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

/// Why a `--partition` value is not a shard.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// Not `K/N`.
    #[error("`{0}` is not K/N (e.g. 1/3, or count:1/3)")]
    Syntax(String),
    /// `N` is 0.
    #[error("`{0}`: the number of shards must be at least 1")]
    NoShards(String),
    /// `K` outside `1..=N`.
    #[error("`{value}`: the shard must be between 1 and {count}")]
    OutOfRange {
        /// What was given.
        value: String,
        /// `N`.
        count: usize,
    },
}

impl FromStr for Partition {
    type Err = PartitionError;

    fn from_str(value: &str) -> Result<Partition, PartitionError> {
        let spec = value.strip_prefix("count:").unwrap_or(value);
        let syntax = || PartitionError::Syntax(value.to_string());
        let (k, n) = spec.split_once('/').ok_or_else(syntax)?;
        let index: usize = k.trim().parse().map_err(|_| syntax())?;
        let count: usize = n.trim().parse().map_err(|_| syntax())?;
        if count == 0 {
            return Err(PartitionError::NoShards(value.to_string()));
        }
        if !(1..=count).contains(&index) {
            return Err(PartitionError::OutOfRange {
                value: value.to_string(),
                count,
            });
        }
        Ok(Partition { index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Partition {
    /// Whether the `i`-th run of the matrix (from 0) is this shard's.
    pub fn owns(&self, i: usize) -> bool {
        i % self.count == self.index - 1
    }

    /// This shard's share of `scenarios`: each scenario with only its runs that belong here
    /// (and that `keep` accepts, counted before the split so every shard sees the same
    /// numbering), scenarios left without runs dropped.
    pub fn select(
        &self,
        scenarios: &[Scenario],
        keep: impl Fn(&Scenario, &str) -> bool,
    ) -> Vec<Scenario> {
        let mut i = 0;
        let mut out = Vec::new();
        for s in scenarios {
            let mut runs = Vec::new();
            for run in &s.runs {
                if !keep(s, &run.name) {
                    continue;
                }
                if self.owns(i) {
                    runs.push(run.clone());
                }
                i += 1;
            }
            if !runs.is_empty() {
                out.push(Scenario { runs, ..s.clone() });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_k_of_n_and_nextest_form() {
        assert_eq!("2/3".parse(), Ok(Partition { index: 2, count: 3 }));
        assert_eq!("count:1/2".parse(), Ok(Partition { index: 1, count: 2 }));
    }

    #[test]
    fn rejects_bad_shards() {
        let cases = [
            ("0/2", "must be between 1 and 2"),
            ("3/2", "must be between 1 and 2"),
            ("1/0", "at least 1"),
            ("1", "not K/N"),
            ("a/b", "not K/N"),
            ("-1/2", "not K/N"),
        ];
        for (value, want) in cases {
            let err = value.parse::<Partition>().expect_err(value).to_string();
            assert!(err.contains(want), "{value}: {err}");
        }
    }

    #[test]
    fn shards_cover_every_index_exactly_once() {
        for count in 1..6 {
            for i in 0..50 {
                let owners = (1..=count)
                    .filter(|&index| Partition { index, count }.owns(i))
                    .count();
                assert_eq!(owners, 1, "run {i} of {count} shards");
            }
        }
    }
}
