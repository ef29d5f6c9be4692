//! The `trailsift` binary: parse flags, call the library, print, choose the exit status.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use clap::Parser;

use trailsift::cli::{Cli, Command};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("trailsift: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Analyze(args) => {
            let json = args.json;
            let cfg = args.into_config().map_err(anyhow::Error::msg)?;
            let outcome = trailsift::run_analyze(&cfg)?;
            print_quietly(if json {
                &outcome.summary_json
            } else {
                &outcome.report
            });
            if cfg.strict && outcome.failed_objects > 0 {
                eprintln!(
                    "trailsift: {} objects failed (--strict): see summary.json",
                    outcome.failed_objects
                );
                return Ok(ExitCode::from(1));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen(args) => {
            let started = std::time::Instant::now();
            let truth = trailsift::synth::generate(&args.into_config())?;
            let secs = started.elapsed().as_secs_f64();
            print_quietly(&format!(
                "wrote {} records in {} log files (+{} digests) in {:.2} s ({:.0} records/s); answers in truth.json\n",
                truth.records_total,
                truth.log_objects,
                truth.digest_objects,
                secs,
                truth.records_total as f64 / secs.max(1e-9)
            ));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print_quietly(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
