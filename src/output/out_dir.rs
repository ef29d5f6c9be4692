//! The `--out` directory, made ready before anything is read: a run over a large trail must
//! not find out at the end, with all its work lost, that it cannot write its outputs.
//!
//! `--out s3://bucket/prefix`: the outputs are written into a private staging directory,
//! then uploaded (store::Store::write: each whole or not at all), `summary.json` last, so
//! that a `summary.json` under the prefix means every other output is there too.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::store::{Place, Store};

/// Where a run writes its outputs.
pub struct Target {
    /// The local directory the files are written into.
    pub dir: PathBuf,
    /// The S3 prefix they are uploaded under, with `--out s3://`.
    pub upload: Option<Place>,
}

impl Target {
    /// Makes `out` ready: a local directory is created and probed; an S3 prefix is probed
    /// (Store::probe_write) and gets a fresh staging directory.
    pub fn prepare(out: &Place, store: &mut Store) -> Result<Target> {
        match out {
            Place::Local(dir) => {
                prepare(dir)?;
                Ok(Target {
                    dir: dir.clone(),
                    upload: None,
                })
            }
            Place::S3 { .. } => {
                store.probe_write(out)?;
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                let dir = std::env::temp_dir()
                    .join(format!("trailsift-out-{}-{nanos}", std::process::id()));
                prepare(&dir)?;
                Ok(Target {
                    dir,
                    upload: Some(out.clone()),
                })
            }
        }
    }

    /// What the user is told the outputs went to.
    pub fn shown(&self) -> String {
        match &self.upload {
            Some(place) => place.to_string(),
            None => self.dir.display().to_string(),
        }
    }

    /// Uploads the staged files (summary.json last) and removes the staging directory.
    pub fn finish(self, store: &mut Store) -> Result<()> {
        let Some(prefix) = &self.upload else {
            return Ok(());
        };
        let uploaded = (|| -> Result<()> {
            let mut names: Vec<String> = std::fs::read_dir(&self.dir)
                .with_context(|| format!("cannot list {}", self.dir.display()))?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort_by_key(|n| (n == "summary.json", n.clone()));
            for name in names {
                let bytes = std::fs::read(self.dir.join(&name))
                    .with_context(|| format!("cannot read the staged {name}"))?;
                store.write(&prefix.join(&name), bytes)?;
            }
            Ok(())
        })();
        let _ = std::fs::remove_dir_all(&self.dir);
        uploaded
    }
}

/// Creates `dir` if needed and proves it writable by writing and removing a probe file.
pub fn prepare(dir: &Path) -> Result<()> {
    if dir.exists() && !dir.is_dir() {
        bail!(
            "--out {} is not a directory: give a directory for the outputs (it is created if missing)",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the --out directory {}", dir.display()))?;
    let probe = dir.join(format!(".trailsift-write-check-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|mut f| f.write_all(b"trailsift"));
    let removed = std::fs::remove_file(&probe);
    written
        .and(removed)
        .with_context(|| {
            format!(
                "cannot write into the --out directory {}: nothing was read; choose a writable directory",
                dir.display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_not_an_output_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("report.txt");
        std::fs::write(&file, "x").expect("write");
        let err = prepare(&file).expect_err("a file");
        assert!(err.to_string().contains("is not a directory"), "{err:#}");
        let fresh = dir.path().join("a/b");
        prepare(&fresh).expect("created");
        assert!(fresh.is_dir());
        assert_eq!(
            std::fs::read_dir(&fresh).expect("list").count(),
            0,
            "no probe left"
        );
    }
}
