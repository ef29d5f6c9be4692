//! The three commands of a sharded run: `plan`, `analyze --shard` and `merge`.

use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::again::TrailReader;
use super::merge::{self, Merged};
use super::partial::{Partial, SUFFIX};
use super::plan::{Plan, PlanInputs};
use crate::config::{AnalyzeConfig, MergeConfig, PlanConfig, RecordFilter, ShardOptions};
use crate::dedup::DedupStats;
use crate::pipeline::{self, Analysis, ObjectCounts, ObjectParser};
use crate::progress::Progress;
use crate::resume::RunIdentity;
use crate::source::s3::S3Session;
use crate::source::{Listing, ObjectRef};
use crate::store::{Place, Store};
use crate::time::parse_cli_time;
use crate::totals::Totals;
use crate::{RunOutcome, output, write_outputs};

/// What `trailsift plan` made: the table to print and the plan's JSON.
pub struct PlanOutcome {
    pub table: String,
    pub json: String,
    /// Where the JSON was written, when `--out` was given.
    pub written_to: Option<String>,
}

/// `trailsift plan`: lists the inputs once and shares the objects among the shards.
pub fn plan(cfg: &PlanConfig) -> Result<PlanOutcome> {
    let progress = Progress::new(cfg.listing.progress);
    let (listing, session) = pipeline::list_inputs(&cfg.listing, &progress, false)?;
    progress.finish();
    let plan = Plan::make(
        PlanInputs::of(&cfg.listing),
        listing,
        cfg.shards,
        cfg.threads_per_shard,
    );
    let json = plan.to_json();
    let written_to = match &cfg.out {
        Some(place) => {
            let mut store = Store::with_session(cfg.listing.s3.clone(), session);
            store.write(place, json.clone())?;
            Some(place.to_string())
        }
        None => None,
    };
    Ok(PlanOutcome {
        table: plan.render(),
        // serde_json writes UTF-8: the bytes become the string without a copy (a month of an
        // organization trail's plan is hundreds of MB).
        json: String::from_utf8(json)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
        written_to,
    })
}

/// The run's config with the inputs and filters of `plan` (a shard given `--plan` and no
/// inputs), or an error naming what differs when both were given.
fn follow_plan(cfg: &AnalyzeConfig, plan: &Plan, source: &str) -> Result<AnalyzeConfig> {
    let mut cfg = cfg.clone();
    if cfg.inputs.is_empty() {
        let p = &plan.inputs;
        let time = |t: &Option<String>| -> Result<Option<i64>> {
            t.as_deref()
                .map(|t| parse_cli_time(t).map_err(anyhow::Error::msg))
                .transpose()
        };
        cfg.inputs = p.inputs.clone();
        cfg.filter = RecordFilter {
            start: time(&p.start)?,
            end: time(&p.end)?,
            accounts: p.accounts.clone(),
            regions: p.regions.clone(),
        };
        cfg.delivery_allowance = p.delivery_allowance;
    } else if PlanInputs::of(&cfg) != plan.inputs {
        bail!(
            "{source} was planned for other inputs or filters than this command's: give the \
             plan alone (--plan without inputs), or the same inputs and filters"
        );
    }
    Ok(cfg)
}

/// `trailsift analyze --shard I/N`: reads shard I's objects and writes its partial.
pub fn shard(cfg: &AnalyzeConfig, opts: &ShardOptions) -> Result<RunOutcome> {
    let started = Instant::now();
    let spec = opts.spec;
    let progress = Progress::new(cfg.progress);
    let (cfg, plan, session) = match &opts.plan {
        Some(place) => {
            let mut store = Store::new(cfg.s3.clone());
            let plan = Plan::from_json(&store.read(place)?, &place.to_string())?;
            if plan.shards != spec.count {
                bail!(
                    "{place} shares the trail among {} shards, not {}: use --shard I/{}",
                    plan.shards,
                    spec.count,
                    plan.shards
                );
            }
            let cfg = follow_plan(cfg, &plan, &place.to_string())?;
            (cfg, plan, store.into_session())
        }
        None => {
            let (listing, session) = pipeline::list_inputs(cfg, &progress, false)?;
            let threads = cfg.threads.unwrap_or_else(rayon::current_num_threads) as u32;
            let plan = Plan::make(PlanInputs::of(cfg), listing, spec.count, threads);
            (cfg.clone(), plan, session)
        }
    };
    let target = cfg.out.join(&spec.partial_name());
    // Before anything is read, as for any --out.
    let mut store = Store::new(cfg.s3.clone());
    match &target {
        Place::Local(path) => {
            if let Some(dir) = path.parent() {
                output::out_dir::prepare(dir)?;
            }
        }
        Place::S3 { .. } => store.probe_write(&cfg.out)?,
    }
    let objects = plan.objects_of(spec.index);
    let session = match session {
        Some(s) => Some(s),
        None if objects.iter().any(ObjectRef::is_remote) => Some(S3Session::connect(&cfg.s3)?),
        None => None,
    };
    let listing = Listing {
        listed: plan.listed,
        objects: objects.clone(),
        skipped: plan.skipped.clone(),
        days: Vec::new(),
    };
    let analysis = pipeline::analyze_listing(&cfg, listing, session, None, progress)?;
    let partial = partial_of(&cfg, &plan, spec, objects, analysis, started)?;
    let summary = serde_json::json!({
        "shard": spec.to_string(),
        "plan_id": partial.plan_id,
        "objects": partial.objects.len(),
        "read": partial.totals.read,
        "failed": partial.totals.failures.len(),
        "records": partial.totals.tables.records.total,
        "partial": target.to_string(),
    });
    let failed = partial.totals.failures.len() as u64;
    let records = partial.totals.tables.records.total;
    let objects_read = partial.totals.read;
    let bytes = partial.to_bytes()?;
    let size = bytes.len();
    store.write(&target, bytes)?;
    let mut summary = summary;
    summary["partial_bytes"] = serde_json::json!(size);
    Ok(RunOutcome {
        report: format!(
            "shard {spec}: read {objects_read} of {} objects ({records} records, {failed} objects failed) in {:.2} s; partial written to {target} ({size} bytes)\n",
            plan.objects_of(spec.index).len(),
            started.elapsed().as_secs_f64()
        ),
        summary_json: serde_json::to_string_pretty(&summary).unwrap_or_default(),
        failed_objects: failed,
        nothing_read: None,
    })
}

/// The partial of a shard's run.
fn partial_of(
    cfg: &AnalyzeConfig,
    plan: &Plan,
    spec: super::ShardSpec,
    objects: Vec<crate::source::ObjectRef>,
    analysis: Analysis,
    started: Instant,
) -> Result<Partial> {
    let index: std::collections::HashMap<&str, u32> = objects
        .iter()
        .enumerate()
        .map(|(i, o)| (o.key.as_str(), i as u32))
        .collect();
    let log = analysis.shard.unwrap_or_default();
    let mut occurrences = Vec::with_capacity(log.occurrences.len());
    for (key, keys) in log.occurrences {
        let Some(&i) = index.get(key.as_str()) else {
            bail!("{key} was read but is not in the shard's plan");
        };
        occurrences.push((i, keys));
    }
    occurrences.sort_by_key(|(i, _)| *i);
    let totals = Totals {
        tables: analysis.tables,
        read: analysis.objects.read,
        failures: analysis.failures,
        bytes_compressed: analysis.bytes_compressed,
        bytes_decompressed: analysis.bytes_decompressed,
    };
    Ok(Partial {
        run: RunIdentity::of(cfg),
        plan_id: plan.id(),
        shard: spec,
        listed: plan.listed,
        skipped: plan.skipped.clone(),
        epochs: plan.epochs(),
        objects,
        totals: totals.state().context("cannot encode the partial")?,
        occurrences,
        held: log.held,
        dedup: analysis.dedup,
        wall_seconds: started.elapsed().as_secs_f64(),
    })
}

/// The run's config as the partials tell it, with the merge's output flags.
fn merged_config(cfg: &MergeConfig, run: &RunIdentity) -> Result<AnalyzeConfig> {
    let time = |t: &Option<String>| -> Result<Option<i64>> {
        t.as_deref()
            .map(|t| parse_cli_time(t).map_err(anyhow::Error::msg))
            .transpose()
    };
    Ok(AnalyzeConfig {
        inputs: run.inputs.clone(),
        out: cfg.out.clone(),
        filter: RecordFilter {
            start: time(&run.start)?,
            end: time(&run.end)?,
            accounts: run.accounts.clone(),
            regions: run.regions.clone(),
        },
        delivery_allowance: run.delivery_allowance,
        threads: None,
        top: cfg.top,
        quota_overrides: cfg.quota_overrides.clone(),
        progress: cfg.progress,
        verbose: cfg.verbose,
        strict: cfg.strict,
        max_object_bytes: run.max_object_bytes,
        dedup_window_hours: run.dedup_window_hours,
        cache_max_age: run.cache_max_age,
        kms_price_per_10k: cfg.kms_price_per_10k,
        s3: cfg.s3.clone(),
        state: None,
        shard: None,
    })
}

/// `trailsift merge`: joins the partials and writes the outputs of one run.
pub fn merge(cfg: &MergeConfig) -> Result<RunOutcome> {
    let started = Instant::now();
    let mut store = Store::new(cfg.s3.clone());
    let target = output::out_dir::Target::prepare(&cfg.out, &mut store)?;
    let mut places = Vec::new();
    for given in &cfg.partials {
        let place = Place::parse(given)?;
        let found = store.list(&place, SUFFIX)?;
        if found.is_empty() {
            bail!("no partial (*{SUFFIX}) in {place}");
        }
        places.extend(found);
    }
    let mut partials = Vec::with_capacity(places.len());
    let mut partial_bytes = 0;
    for place in places {
        let name = place.to_string();
        let bytes = store.read(&place)?;
        partial_bytes += bytes.len() as u64;
        partials.push((name.clone(), Partial::from_bytes(&bytes, &name)?));
    }
    merge::check(&partials)?;
    let run = partials[0].1.run.clone();
    if run.trailsift_version != env!("CARGO_PKG_VERSION") {
        bail!(
            "the partials were written by trailsift {}, this is {}: merge with the version that \
             ran the shards",
            run.trailsift_version,
            env!("CARGO_PKG_VERSION")
        );
    }
    let acfg = merged_config(cfg, &run)?;
    let mut reader = TrailReader {
        store: &mut store,
        parser: ObjectParser::new(run.max_object_bytes),
        filter: acfg.filter.clone(),
    };
    let Merged {
        totals,
        listed,
        skipped,
        dedup,
        mut stats,
    } = merge::merge(partials, run.cache_max_age, &mut reader)?;
    stats.partial_bytes = partial_bytes;
    let analysis = Analysis {
        objects: ObjectCounts {
            listed,
            read: totals.read,
            skipped,
            failed: totals.failures.len() as u64,
        },
        tables: totals.tables,
        failures: totals.failures,
        bytes_compressed: totals.bytes_compressed,
        bytes_decompressed: totals.bytes_decompressed,
        dedup: DedupStats { ..dedup },
        s3: None,
        resume: None,
        shard: None,
        merge: Some(stats),
        closed: None,
    };
    let outcome = write_outputs(&acfg, &analysis, target, started);
    crate::free_in_background(analysis);
    outcome
}
