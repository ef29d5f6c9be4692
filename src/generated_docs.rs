//! Shell completion scripts and man pages, generated from the clap definitions in
//! [`crate::cli`]: written by hand they would drift from the flags the binary parses.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// The name completed and documented: the installed binary's, whatever path or symlink it
/// was started through.
const BIN_NAME: &str = "trailsift";

/// The completion script for `shell`. Rendered into memory so that the caller decides how
/// to print it (clap_complete panics on a failed write, as a closed pipe would give).
pub fn completion_script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), BIN_NAME, &mut script);
    script
}

/// The top-level page, `trailsift(1)`, in roff.
pub fn man_page() -> Result<Vec<u8>> {
    let mut page = Vec::new();
    clap_mangen::Man::new(man_command())
        .render(&mut page)
        .context("cannot render the man page")?;
    Ok(page)
}

/// Writes `trailsift.1` and one page per subcommand (`trailsift-analyze.1`, ...) into `dir`,
/// creating it, and returns the paths written.
pub fn write_man_pages(dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create man page directory {}", dir.display()))?;
    let mut cmd = man_command();
    // Built once here so that subcommands carry their page names (`trailsift-analyze`).
    cmd.build();
    let mut written = Vec::new();
    write_pages(&cmd, dir, &mut written)?;
    Ok(written)
}

/// The command as the pages describe it: without clap's `help` subcommand, which would be
/// listed in SEE ALSO with no page of its own (every page already shows `--help`).
fn man_command() -> clap::Command {
    Cli::command().disable_help_subcommand(true)
}

fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<()> {
    let man = clap_mangen::Man::new(cmd.clone());
    let path = dir.join(man.get_filename());
    man.generate_to(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}
