//! `trailsift bench`: parse throughput on the user's own machine, without the source tree.
//!
//! Three stages, each for every `--threads` count, in the style of hyperfine (warm-up runs
//! first, then timed repeats; best and median reported):
//! - `inflate`: gunzip every object, held in memory (the floor no parser can beat);
//! - `inflate+parse`: the same, plus the parse (structural index and every record's fields) of every object (records counted, no field
//!   read);
//! - `analysis`: the whole `analyze` run over the trail on disk, outputs written to a
//!   temporary directory: what a user's run costs.
//!
//! Peak RSS is measured per stage: Linux resets the process's high-water mark when "5" is
//! written to /proc/self/clear_refs (proc(5), "/proc/pid/clear_refs", since Linux 4.0), and
//! /proc/self/status gives it back (`VmHWM`). The in-memory stages include the compressed
//! trail they hold; the analysis stage runs after it is dropped. Elsewhere RSS is reported
//! as unknown.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::Serialize;

use crate::config::AnalyzeConfig;
use crate::pipeline::ObjectParser;
use crate::source::{Listing, ObjectFilter};
use crate::store::Place;

/// What `trailsift bench` is asked to measure.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// A trail of the user's; else one of `records` records is generated.
    pub trail: Option<PathBuf>,
    pub records: u64,
    pub threads: Vec<usize>,
    pub warmup: u32,
    pub repeats: u32,
    /// The analysis stage's settings (max object size, cache age, ...), as analyze has them.
    pub analyze: AnalyzeConfig,
}

/// One stage at one thread count.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRow {
    pub stage: &'static str,
    pub threads: usize,
    pub best_seconds: f64,
    pub median_seconds: f64,
    pub records: u64,
    pub records_per_second: f64,
    /// Decompressed JSON, gigabytes (10^9) per second, at the best time.
    pub json_gb_per_second: f64,
    /// `None` where the operating system does not tell.
    pub peak_rss_mib: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub trail: String,
    pub generated: bool,
    pub objects: u64,
    pub gzip_bytes: u64,
    pub json_bytes: u64,
    pub records: u64,
    pub cpus: usize,
    /// The structural index's kernel the parse used (`avx512`, `avx2` or `portable`).
    pub index_kernel: &'static str,
    pub warmup: u32,
    pub repeats: u32,
    pub rows: Vec<BenchRow>,
}

/// Resets the high-water mark of this process's RSS; false where that is not possible.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The high-water mark of this process's RSS since the last reset, MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Runs `work` `warmup` times, then `repeats` times timed, on a pool of `threads`.
fn timed(
    threads: usize,
    warmup: u32,
    repeats: u32,
    mut work: impl FnMut(&rayon::ThreadPool) -> Result<()>,
) -> Result<(f64, f64, Option<f64>)> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    for _ in 0..warmup {
        work(&pool)?;
    }
    let resettable = reset_peak_rss();
    let mut times = Vec::new();
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        work(&pool)?;
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let rss = if resettable { peak_rss_mib() } else { None };
    Ok((times[0], times[times.len() / 2], rss))
}

/// The analysis stage: each run in a fresh process (`bench --analysis-run`), so that its
/// peak RSS is its own, not this process's heap left from the stages before.
fn analysis_runs(
    cfg: &BenchConfig,
    trail: &Path,
    threads: usize,
) -> Result<(f64, f64, Option<f64>)> {
    let exe = std::env::current_exe().context("cannot find the trailsift binary")?;
    let mut times = Vec::new();
    let mut rss: Option<f64> = None;
    for i in 0..cfg.warmup + cfg.repeats.max(1) {
        let out = std::process::Command::new(&exe)
            .arg("bench")
            .arg(trail)
            .args(["--analysis-run", "--threads", &threads.to_string()])
            .output()
            .context("cannot start the analysis run")?;
        if !out.status.success() {
            bail!(
                "the analysis run failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        let run: AnalysisRun =
            serde_json::from_slice(&out.stdout).context("the analysis run printed no figures")?;
        if i >= cfg.warmup {
            times.push(run.seconds);
            rss = match (rss, run.peak_rss_mib) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
    }
    times.sort_by(f64::total_cmp);
    Ok((times[0], times[times.len() / 2], rss))
}

/// What one analysis run (`bench --analysis-run`) reports of itself.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct AnalysisRun {
    pub seconds: f64,
    pub peak_rss_mib: Option<f64>,
}

/// One whole analysis of `trail` on `threads`, outputs into a temporary directory: the
/// child side of [`analysis_runs`].
pub fn analysis_run(cfg: &BenchConfig, trail: &Path, threads: usize) -> Result<AnalysisRun> {
    let out = std::env::temp_dir().join(format!("trailsift-bench-out-{}", std::process::id()));
    let mut acfg = cfg.analyze.clone();
    acfg.inputs = vec![trail.display().to_string()];
    acfg.out = Place::Local(out.clone());
    acfg.threads = Some(threads);
    acfg.progress = false;
    let t = Instant::now();
    let outcome = crate::run_analyze(&acfg);
    let seconds = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&out);
    outcome?;
    Ok(AnalysisRun {
        seconds,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// The trail's objects as analyze would list them.
fn list(trail: &Path) -> Result<Vec<PathBuf>> {
    let mut listing = Listing::default();
    crate::source::local::list(trail, &ObjectFilter::default(), &mut listing)?;
    Ok(listing
        .objects
        .into_iter()
        .filter_map(|o| o.path().map(Path::to_path_buf))
        .collect())
}

pub fn run(cfg: &BenchConfig) -> Result<BenchReport> {
    if cfg.threads.is_empty() || cfg.threads.contains(&0) {
        bail!("--threads takes counts of at least 1, such as 1,2,4");
    }
    let generated_dir = match &cfg.trail {
        Some(_) => None,
        None => {
            let dir = std::env::temp_dir().join(format!("trailsift-bench-{}", std::process::id()));
            crate::synth::generate(&crate::synth::GenConfig {
                out: dir.clone(),
                records: cfg.records,
                ..crate::synth::GenConfig::default()
            })?;
            Some(dir)
        }
    };
    let trail = cfg
        .trail
        .clone()
        .or_else(|| generated_dir.clone())
        .context("no trail")?;
    let outcome = measure(cfg, &trail, generated_dir.is_some());
    if let Some(dir) = generated_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    outcome
}

fn measure(cfg: &BenchConfig, trail: &Path, generated: bool) -> Result<BenchReport> {
    let paths = list(trail)?;
    if paths.is_empty() {
        bail!("no CloudTrail log file in {}", trail.display());
    }
    let mut objects: Vec<(bool, Vec<u8>)> = Vec::with_capacity(paths.len());
    for p in &paths {
        let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
        objects.push((p.to_string_lossy().ends_with(".gz"), bytes));
    }
    let gzip_bytes: u64 = objects.iter().map(|(_, b)| b.len() as u64).sum();
    let max = cfg.analyze.max_object_bytes;
    // One pass to know the JSON bytes and the records (objects that fail count nothing).
    let (json_bytes, records) = objects
        .par_iter()
        .map_init(
            || ObjectParser::new(max),
            |p, (gz, raw)| match p.decode(raw, *gz) {
                Ok(len) => (len as u64, p.count_records(len).unwrap_or(0) as u64),
                Err(_) => (0, 0),
            },
        )
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let mut rows = Vec::new();
    let row = |stage, threads, (best, median, rss): (f64, f64, Option<f64>)| BenchRow {
        stage,
        threads,
        best_seconds: best,
        median_seconds: median,
        records,
        records_per_second: records as f64 / best,
        json_gb_per_second: json_bytes as f64 / 1e9 / best,
        peak_rss_mib: rss,
    };
    for &t in &cfg.threads {
        let inflate = timed(t, cfg.warmup, cfg.repeats, |pool| {
            pool.install(|| {
                objects.par_iter().for_each_init(
                    || ObjectParser::new(max),
                    |p, (gz, raw)| {
                        let _ = p.decode(raw, *gz);
                    },
                )
            });
            Ok(())
        })?;
        rows.push(row("inflate", t, inflate));
        let parse = timed(t, cfg.warmup, cfg.repeats, |pool| {
            pool.install(|| {
                objects.par_iter().for_each_init(
                    || ObjectParser::new(max),
                    |p, (gz, raw)| {
                        if let Ok(len) = p.decode(raw, *gz) {
                            let _ = p.count_records(len);
                        }
                    },
                )
            });
            Ok(())
        })?;
        rows.push(row("inflate+parse", t, parse));
    }
    drop(objects);
    for &t in &cfg.threads {
        rows.push(row("analysis", t, analysis_runs(cfg, trail, t)?));
    }
    Ok(BenchReport {
        trail: trail.display().to_string(),
        generated,
        objects: paths.len() as u64,
        gzip_bytes,
        json_bytes,
        records,
        cpus: std::thread::available_parallelism().map_or(1, usize::from),
        index_kernel: crate::json::index::Kernel::detected().name(),
        warmup: cfg.warmup,
        repeats: cfg.repeats,
        rows,
    })
}

/// The report as a table.
pub fn render(r: &BenchReport) -> String {
    let mut out = format!(
        "{} ({}): {} objects, {:.1} MB of gzip, {:.2} GB of JSON, {} records; {} CPUs; \
         index kernel {}; {} warm-up and {} timed runs each\n\n",
        r.trail,
        if r.generated { "generated" } else { "yours" },
        r.objects,
        r.gzip_bytes as f64 / 1e6,
        r.json_bytes as f64 / 1e9,
        r.records,
        r.cpus,
        r.index_kernel,
        r.warmup,
        r.repeats
    );
    out.push_str(
        "stage           threads    best s  median s      records/s  GB/s JSON  peak RSS\n",
    );
    for row in &r.rows {
        let rss = row
            .peak_rss_mib
            .map_or("-".to_owned(), |m| format!("{m:.0} MiB"));
        out.push_str(&format!(
            "{:<15} {:>7} {:>9.3} {:>9.3} {:>14.0} {:>10.2} {:>9}\n",
            row.stage,
            row.threads,
            row.best_seconds,
            row.median_seconds,
            row.records_per_second,
            row.json_gb_per_second,
            rss
        ));
    }
    out.push_str(
        "\ninflate: gunzip only, in memory; inflate+parse: plus the parse (structural index and every record's fields); analysis: the \
         whole analyze run from disk, outputs included, each run in a process of its own. \
         Peak RSS of the in-memory stages includes the trail they hold.\n",
    );
    out
}
