//! The `trailsift` binary: parse flags, call the library, print, choose the exit status.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

use trailsift::cli::{Cli, Command, Verbosity};
use trailsift::generated_docs;

fn main() -> ExitCode {
    let cli = Cli::parse_checked();
    let verbosity = cli.verbosity;
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            print_error(&err, verbosity);
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let verbosity = cli.verbosity;
    // -q silences what analyze, gen and man --out say about what they did; the script of
    // `completions` and the page of `man` are what was asked for, so they print regardless.
    let say = |text: &str| {
        if !verbosity.quiet {
            print_quietly(text.as_bytes());
        }
    };
    match cli.command {
        Command::Analyze(args) => {
            let json = args.json;
            let cfg = args.into_config(verbosity).map_err(anyhow::Error::msg)?;
            let outcome = trailsift::run_analyze(&cfg)?;
            Ok(finish_run(&outcome, json, cfg.strict, say))
        }
        Command::Merge(args) => {
            let json = args.json;
            let cfg = args.into_config(verbosity).map_err(anyhow::Error::msg)?;
            let outcome = trailsift::run_merge(&cfg)?;
            Ok(finish_run(&outcome, json, cfg.strict, say))
        }
        Command::Plan(args) => {
            let json = args.json;
            let cfg = args.into_config(verbosity).map_err(anyhow::Error::msg)?;
            let outcome = trailsift::run_plan(&cfg)?;
            if json {
                say(&outcome.json);
            } else {
                say(&outcome.table);
                if let Some(to) = &outcome.written_to {
                    say(&format!("Plan written to {to}\n"));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            let (json, child) = (args.json, args.analysis_run);
            let cfg = args.into_config().map_err(anyhow::Error::msg)?;
            if let (true, Some(trail)) = (child, &cfg.trail) {
                let run = trailsift::bench::analysis_run(&cfg, trail, cfg.threads[0])?;
                print_quietly(serde_json::to_string(&run).unwrap_or_default().as_bytes());
                return Ok(ExitCode::SUCCESS);
            }
            let report = trailsift::bench::run(&cfg)?;
            if json {
                say(&format!(
                    "{}\n",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                ));
            } else {
                say(&trailsift::bench::render(&report));
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen(args) => {
            let started = std::time::Instant::now();
            let truth = trailsift::synth::generate(&args.into_config())?;
            let secs = started.elapsed().as_secs_f64();
            say(&format!(
                "wrote {} records in {} log files (+{} digests) in {:.2} s ({:.0} records/s); answers in truth.json\n",
                truth.records_total,
                truth.log_objects,
                truth.digest_objects,
                secs,
                truth.records_total as f64 / secs.max(1e-9)
            ));
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions(args) => {
            print_quietly(&generated_docs::completion_script(args.shell));
            Ok(ExitCode::SUCCESS)
        }
        Command::Man(args) => {
            match args.out {
                None => print_quietly(&generated_docs::man_page()?),
                Some(dir) => {
                    let written = generated_docs::write_man_pages(&dir)?;
                    say(&format!(
                        "wrote {} man pages into {}\n",
                        written.len(),
                        dir.display()
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One line by default, as scripts grep for; with -v every cause on a line of its own, which
/// is easier to read when a chain is long (an S3 error under a listing under a run).
fn print_error(err: &anyhow::Error, verbosity: Verbosity) {
    if verbosity.verbose {
        eprintln!("trailsift: error: {err}");
        for cause in err.chain().skip(1) {
            eprintln!("caused by: {cause}");
        }
    } else {
        eprintln!("trailsift: error: {err:#}");
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print_quietly(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

/// Prints what a run (analyze, a shard, merge) says and chooses its exit status: 1 when
/// nothing was read, or when an object failed under --strict.
fn finish_run(
    outcome: &trailsift::RunOutcome,
    json: bool,
    strict: bool,
    say: impl Fn(&str),
) -> ExitCode {
    say(if json {
        &outcome.summary_json
    } else {
        &outcome.report
    });
    if let Some(why) = &outcome.nothing_read {
        eprintln!("trailsift: {why}");
        return ExitCode::from(1);
    }
    if strict && outcome.failed_objects > 0 {
        eprintln!(
            "trailsift: {} failed (--strict): see summary.json",
            if outcome.failed_objects == 1 {
                "1 object".to_owned()
            } else {
                format!("{} objects", outcome.failed_objects)
            }
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
