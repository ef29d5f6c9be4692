//! Which shard a run is: `--shard I/N` or `auto/N`, and the partial's file name it
//! writes. Apart from `shard` (the plan, the partial, the merge) so that the run's
//! configuration can name a shard without depending on what shards do.

use anyhow::{Result, bail};

/// The environment variables that carry a shard's index: AWS Batch array jobs set
/// `AWS_BATCH_JOB_ARRAY_INDEX` (AWS Batch User Guide, "Array jobs"), Kubernetes Indexed Jobs
/// set `JOB_COMPLETION_INDEX` (Kubernetes documentation, "Jobs", "Completion mode").
pub const INDEX_VARIABLES: [&str; 2] = ["AWS_BATCH_JOB_ARRAY_INDEX", "JOB_COMPLETION_INDEX"];

/// Shard `index` of `count` (0-based, as both schedulers number them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ShardSpec {
    pub index: u32,
    pub count: u32,
}

/// A partial's file name ends so ([`ShardSpec::partial_name`]).
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Most shards a run may have: a plan lists every object with its shard, and 10,000 shards
/// of a trail are far past where the merge, not the shards, is the slow part.
pub const MAX_SHARDS: u32 = 10_000;

impl ShardSpec {
    /// `I/N`, or `auto/N` with I from the scheduler's variable (`lookup` reads the
    /// environment; tests pass their own).
    pub fn parse(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Result<ShardSpec> {
        let Some((index, count)) = text.split_once('/') else {
            bail!("--shard '{text}' is not I/N or auto/N (for example 3/16 or auto/16)");
        };
        let count: u32 = match count.parse() {
            Ok(n) if (1..=MAX_SHARDS).contains(&n) => n,
            _ => bail!("--shard '{text}': N must be a whole number from 1 to {MAX_SHARDS}"),
        };
        let index = if index == "auto" {
            let Some((name, value)) = INDEX_VARIABLES
                .iter()
                .find_map(|name| lookup(name).map(|v| (*name, v)))
            else {
                bail!(
                    "--shard auto/{count}: neither {} is set; run it as an AWS Batch array job or \
                     a Kubernetes Indexed Job, or give the index (--shard 0/{count})",
                    INDEX_VARIABLES.join(" nor ")
                );
            };
            value.trim().parse::<u32>().map_err(|_| {
                anyhow::anyhow!("--shard auto/{count}: {name}='{value}' is not a shard index")
            })?
        } else {
            index.parse().map_err(|_| {
                anyhow::anyhow!("--shard '{text}': I must be a whole number or 'auto'")
            })?
        };
        if index >= count {
            bail!(
                "--shard {index}/{count}: the index must be below the shard count (0 to {})",
                count - 1
            );
        }
        Ok(ShardSpec { index, count })
    }

    /// The partial's file name: sorts in shard order, names both numbers.
    pub fn partial_name(&self) -> String {
        format!(
            "shard-{:04}-of-{:04}{}",
            self.index, self.count, PARTIAL_SUFFIX
        )
    }
}

impl std::fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_shard_is_given_or_taken_from_the_scheduler() {
        let none = env(&[]);
        assert_eq!(
            ShardSpec::parse("3/16", &none).expect("given"),
            ShardSpec {
                index: 3,
                count: 16
            }
        );
        let batch = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "5")]);
        assert_eq!(ShardSpec::parse("auto/7", &batch).expect("batch").index, 5);
        let k8s = env(&[("JOB_COMPLETION_INDEX", "6")]);
        assert_eq!(ShardSpec::parse("auto/7", &k8s).expect("k8s").index, 6);
        assert_eq!(
            ShardSpec {
                index: 3,
                count: 16
            }
            .partial_name(),
            "shard-0003-of-0016.partial"
        );
    }

    #[test]
    fn a_wrong_shard_is_refused_with_what_to_do() {
        let none = env(&[]);
        for (text, says) in [
            ("16/16", "below the shard count"),
            ("3", "not I/N"),
            ("x/4", "whole number or 'auto'"),
            ("0/0", "from 1 to"),
            (
                "auto/4",
                "AWS_BATCH_JOB_ARRAY_INDEX nor JOB_COMPLETION_INDEX",
            ),
        ] {
            let err = ShardSpec::parse(text, &none).expect_err(text).to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
        let bad = env(&[("JOB_COMPLETION_INDEX", "five")]);
        let err = ShardSpec::parse("auto/4", &bad)
            .expect_err("bad")
            .to_string();
        assert!(err.contains("JOB_COMPLETION_INDEX='five'"), "{err}");
        let high = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "4")]);
        assert!(ShardSpec::parse("auto/4", &high).is_err());
    }
}
