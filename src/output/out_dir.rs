//! The `--out` directory, made ready before anything is read: a run over a large trail must
//! not find out at the end, with all its work lost, that it cannot write its outputs.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};

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
