//! Command-line flags (clap), turned into plain config structs: nothing past this module
//! sees clap.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::attribute::kms::{DEFAULT_PRICE_PER_10K_REQUESTS, Quota, QuotaScope};
use crate::config::{
    AnalyzeConfig, MergeConfig, PlanConfig, RecordFilter, ShardOptions, StateOptions,
};
use crate::decode::DEFAULT_MAX_OBJECT_BYTES;
use crate::dedup::DEFAULT_WINDOW_HOURS;
use crate::resume::DEFAULT_INTERVAL_SECONDS;
use crate::shard_spec::ShardSpec;
use crate::source::s3::{DEFAULT_MAX_ATTEMPTS, DEFAULT_REQUESTS_IN_FLIGHT, S3Options};
use crate::store::Place;
use crate::tables::kms_data_key_caching::DEFAULT_MAX_AGE_SECONDS;
use crate::time::{SECONDS_PER_HOUR, parse_cli_time};

// Every example line stays under 80 columns: clap wraps help text to the terminal, and an
// example broken in the middle of an argument cannot be copied back into a shell.
#[derive(Parser, Debug)]
#[command(
    name = "trailsift",
    version,
    about = "Reads a CloudTrail trail fast: who still signs S3 requests with SigV2 or speaks legacy TLS, and who is hammering KMS.",
    after_help = "Examples:\n  trailsift analyze fixtures/trail --out out\n  trailsift analyze s3://my-trail --start 2026-03-01 --end 2026-03-02 --out out\n  trailsift analyze ./trail --region us-east-1 --start 2026-03-01 --out out\n  trailsift gen --out /tmp/trail --records 1000000 --seed 7\n  trailsift completions bash"
)]
pub struct Cli {
    #[command(flatten)]
    pub verbosity: Verbosity,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Parses the command line as [`Parser::parse`] does (a usage error exits 2), and
    /// refuses the flag pairs that contradict each other.
    pub fn parse_checked() -> Cli {
        let cli = Cli::parse();
        if let Err(e) = cli.check_conflicts() {
            e.exit();
        }
        cli
    }

    /// clap's `conflicts_with` holds only among the flags given on one side of the
    /// subcommand: `-q analyze -v` and `-q analyze --json` pass it, so they are checked
    /// here, on what was parsed.
    fn check_conflicts(&self) -> Result<(), clap::Error> {
        let conflict = |msg: &str| Err(Cli::command().error(ErrorKind::ArgumentConflict, msg));
        if self.verbosity.quiet && self.verbosity.verbose {
            return conflict("the argument '--quiet' cannot be used with '--verbose'");
        }
        if let Command::Analyze(args) = &self.command
            && args.json
            && self.verbosity.quiet
        {
            return conflict(
                "the argument '--json' cannot be used with '--quiet' (--json prints the summary, --quiet nothing)",
            );
        }
        Ok(())
    }
}

/// The help heading of the global flags: in a subcommand's help they would otherwise sit
/// among its own flags, in declaration order, as if they were the subcommand's.
const GLOBAL: &str = "Global options";

/// How much the binary says. Global, so that `trailsift analyze ... -q` works as well as
/// `trailsift -q analyze ...`.
#[derive(Args, Debug, Clone, Copy, Default)]
pub struct Verbosity {
    /// Print nothing on stdout from analyze, gen and man --out (no report, no "wrote" line)
    /// and show no progress. Errors and warnings still go to stderr; the exit status is
    /// unchanged.
    #[arg(short, long, global = true, conflicts_with = "verbose", help_heading = GLOBAL)]
    pub quiet: bool,
    /// On an error, print its whole chain of causes, one per line, not only one line.
    #[arg(short, long, global = true, help_heading = GLOBAL)]
    pub verbose: bool,
}

#[derive(Subcommand, Debug)]
// Boxed: the analyze arguments are large and parsed once; the variants stay small.
pub enum Command {
    /// Analyse a trail into Parquet, summary.json and a report on stdout.
    Analyze(Box<AnalyzeArgs>),
    /// Write a realistic synthetic trail (and the answers planted in it) for tests and benchmarks.
    Gen(GenArgs),
    /// Print a completion script for SHELL on stdout (the README says where to install it).
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout, or write one page per subcommand with --out.
    Man(ManArgs),
    /// Share a trail's objects among N shards (balanced by bytes) and predict their times;
    /// --out writes the plan for `analyze --shard ... --plan`.
    Plan(PlanArgs),
    /// Join the partials of `analyze --shard` into the outputs of one run over the trail.
    Merge(Box<MergeArgs>),
    /// Measure parse throughput on this machine: inflate, inflate + parse and the whole
    /// analysis, per thread count, on a generated trail or yours.
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  trailsift bench\n  trailsift bench --records 1000000 --threads 1,2,4\n  trailsift bench ./my-trail --threads 2 --json"
)]
pub struct BenchArgs {
    /// A trail directory (or log file) of yours; else a trail of --records is generated in a
    /// temporary directory and removed afterwards.
    #[arg(value_name = "PATH")]
    pub trail: Option<PathBuf>,
    /// Records of the generated trail.
    #[arg(long, default_value_t = 200_000, conflicts_with = "trail")]
    pub records: u64,
    /// Thread counts to measure, comma-separated (default: 1 and every core).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub threads: Vec<usize>,
    /// Untimed runs before the timed ones, per stage and thread count.
    #[arg(long, default_value_t = 1)]
    pub warmup: u32,
    /// Timed runs per stage and thread count (best and median are reported).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    pub repeats: u32,
    /// Print the figures as JSON, for scripts.
    #[arg(long)]
    pub json: bool,
    /// One analysis run of PATH on the first --threads count, printing its time and peak
    /// RSS as JSON: how bench measures the analysis stage, in a process of its own.
    #[arg(long, hide = true, requires = "trail")]
    pub analysis_run: bool,
}

impl BenchArgs {
    pub fn into_config(self) -> Result<crate::bench::BenchConfig, String> {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let mut threads = self.threads;
        if threads.is_empty() {
            threads = vec![1, cores];
            threads.dedup();
        }
        if threads.contains(&0) {
            return Err("--threads takes counts of at least 1, such as 1,2,4".to_owned());
        }
        Ok(crate::bench::BenchConfig {
            trail: self.trail,
            records: self.records,
            threads,
            warmup: self.warmup,
            repeats: self.repeats,
            analyze: AnalyzeConfig {
                inputs: Vec::new(),
                out: Place::Local(PathBuf::from(".")),
                filter: RecordFilter::default(),
                delivery_allowance: SECONDS_PER_HOUR,
                threads: None,
                top: 10,
                quota_overrides: BTreeMap::new(),
                progress: false,
                verbose: false,
                strict: false,
                max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
                dedup_window_hours: DEFAULT_WINDOW_HOURS,
                cache_max_age: DEFAULT_MAX_AGE_SECONDS,
                kms_price_per_10k: DEFAULT_PRICE_PER_10K_REQUESTS,
                s3: S3Options::default(),
                state: None,
                shard: None,
            },
        })
    }
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// Write trailsift.1 and one page per subcommand (trailsift-analyze.1, ...) into DIR
    /// (created if missing) instead of printing the top-level page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

// Example lines under 80 columns, as for `Cli`.
#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  trailsift analyze fixtures/trail --out out\n  trailsift analyze s3://my-trail --start 2026-03-01 --end 2026-03-02 --out out\n  trailsift analyze s3://my-trail --account 111122223333 --out out\n  trailsift analyze s3://trail/logs --endpoint-url http://127.0.0.1:9000\n  trailsift analyze trail --start 2026-03-01T06:00:00Z --end 2026-03-02\n  trailsift analyze trail/AWSLogs/111122223333 --quota us-east-1=150000\n  trailsift analyze fixtures/trail --out out --json | jq .records\n\nOutputs in --out: kms_calls.parquet, kms_rates.parquet, kms_cost.parquet, kms_bucket_keys.parquet, kms_data_key_caching.parquet, sigv2_requests.parquet, tls_legacy.parquet, vpc_endpoint_events.parquet, summary.json, report.html."
)]
pub struct AnalyzeArgs {
    /// s3://bucket[/prefix] of the trail, trail directories (local copies of the bucket), or
    /// single .json.gz / .json log files. With --plan, the plan's (may be left out).
    #[arg(required_unless_present = "plan", value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// Output directory (created if missing), or s3://bucket/prefix to upload the outputs
    /// to. With --shard, where the shard's partial goes.
    #[arg(
        long,
        default_value = "trailsift-out",
        value_name = "DIR|s3://BUCKET/PREFIX"
    )]
    pub out: String,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Worker threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rows per table in the report.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Override a KMS request quota, in requests per second (repeatable): REGION=RPS for the
    /// symmetric quota of every account of a region, ACCOUNT:REGION=RPS for one account's,
    /// [ACCOUNT:]REGION:CLASS=RPS for another class (rsa, ecc_sm2, ml_dsa, custom_key_store,
    /// data_key_pair_rsa_2048, ...: the quota_class values).
    #[arg(long = "quota", value_name = "[ACCOUNT:]REGION[:CLASS]=RPS", value_parser = parse_quota)]
    pub quotas: Vec<(QuotaScope, Quota)>,
    /// Do not show progress on stderr.
    #[arg(long)]
    pub no_progress: bool,
    /// Exit non-zero when any object failed (outputs are still written).
    #[arg(long)]
    pub strict: bool,
    /// Print summary.json on stdout instead of the text report, for scripts (the file is
    /// still written, with the same bytes).
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    /// Largest decompressed size accepted for one object.
    #[arg(long, default_value_t = DEFAULT_MAX_OBJECT_BYTES, value_name = "BYTES")]
    pub max_object_bytes: u64,
    /// KMS request price in US dollars per 10,000 requests, for the cost projections.
    #[arg(long, default_value_t = DEFAULT_PRICE_PER_10K_REQUESTS, value_name = "USD", value_parser = parse_price)]
    pub kms_price: f64,
    /// Maximum age of a data key cache entry, in seconds, for the data key caching
    /// candidates (what an AWS Encryption SDK cache with this maximum age would save).
    #[arg(long, default_value_t = DEFAULT_MAX_AGE_SECONDS, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..))]
    pub cache_max_age: i64,
    /// Two copies of one event (same UUID eventID, as an organization trail and an account
    /// trail both deliver, or both accounts' copies of a cross-account KMS call) are counted
    /// once when their files were delivered at most this many hours apart.
    #[arg(long, default_value_t = DEFAULT_WINDOW_HOURS, value_name = "HOURS", value_parser = clap::value_parser!(i64).range(0..=168))]
    pub dedup_window_hours: i64,
    #[command(flatten)]
    pub s3: S3Args,
    /// Save checkpoints here, and resume from it: a run that is interrupted (even killed)
    /// and started again with the same command reads only what it had not finished, and
    /// writes the outputs an uninterrupted run would have.
    #[arg(long, value_name = "FILE", help_heading = "Resume")]
    pub state: Option<PathBuf>,
    /// Seconds between checkpoints, at the end of a delivery hour (a kill loses at most this
    /// plus one hour's objects of work).
    #[arg(long, default_value_t = DEFAULT_INTERVAL_SECONDS, value_name = "SECONDS", help_heading = "Resume", requires = "state")]
    pub state_interval: u64,
    /// Read only shard I of N and write its partial (shard-IIII-of-NNNN.partial) into --out,
    /// for `trailsift merge`. auto/N takes I from AWS_BATCH_JOB_ARRAY_INDEX (AWS Batch array
    /// jobs) or JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs).
    #[arg(
        long,
        value_name = "I/N|auto/N",
        help_heading = "Shards",
        conflicts_with = "state"
    )]
    pub shard: Option<String>,
    /// The shard plan `trailsift plan --out` wrote (a file or s3:// URL): every shard reads
    /// the objects it names instead of listing the inputs itself.
    #[arg(
        long,
        value_name = "FILE|s3://BUCKET/KEY",
        help_heading = "Shards",
        requires = "shard"
    )]
    pub plan: Option<String>,
}

/// The records and objects a run reads: shared by analyze and plan.
#[derive(Args, Debug, Clone)]
pub struct FilterArgs {
    /// Only events at or after this time (RFC 3339, or a date meaning its midnight UTC).
    #[arg(long, value_parser = parse_cli_time)]
    pub start: Option<i64>,
    /// Only events before this time (exclusive).
    #[arg(long, value_parser = parse_cli_time)]
    pub end: Option<i64>,
    /// Only these accounts (repeatable).
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,
    /// Only these regions of the trail (repeatable). The S3 client's region is --s3-region.
    #[arg(long = "region", value_name = "REGION")]
    pub regions: Vec<String>,
    /// How long after an event its file can be delivered, in seconds: files delivered later
    /// than --end plus this are not read.
    #[arg(long, default_value_t = SECONDS_PER_HOUR, value_name = "SECONDS")]
    pub delivery_allowance: i64,
}

/// How to reach S3: shared by analyze, plan and merge.
#[derive(Args, Debug, Clone)]
pub struct S3Args {
    /// S3: profile of the shared AWS config and credentials files (else AWS_PROFILE, then the
    /// default credential chain).
    #[arg(long, value_name = "NAME", help_heading = "S3 input")]
    pub profile: Option<String>,
    /// S3: region of the trail bucket (else AWS_REGION, then the profile's region). Named
    /// apart from --region, which filters the trail's regions.
    #[arg(long, value_name = "REGION", help_heading = "S3 input")]
    pub s3_region: Option<String>,
    /// S3: endpoint of an S3-compatible store, e.g. http://127.0.0.1:9000 (else
    /// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL). Implies --path-style.
    #[arg(long, value_name = "URL", help_heading = "S3 input")]
    pub endpoint_url: Option<String>,
    /// S3: path-style addressing (http://host/bucket/key) instead of bucket.host.
    #[arg(long, help_heading = "S3 input")]
    pub path_style: bool,
    /// S3: requests in flight at once (listing and fetching); memory holds at most this many
    /// objects plus two per worker thread.
    #[arg(long, default_value_t = DEFAULT_REQUESTS_IN_FLIGHT, value_name = "N", help_heading = "S3 input")]
    pub s3_requests: usize,
    /// S3: attempts per request, retries included (exponential backoff with jitter).
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS, value_name = "N", help_heading = "S3 input")]
    pub s3_max_attempts: u32,
}

impl S3Args {
    fn into_options(self) -> Result<S3Options, String> {
        if self.s3_requests == 0 {
            return Err("--s3-requests must be at least 1".to_owned());
        }
        if self.s3_max_attempts == 0 {
            return Err("--s3-max-attempts must be at least 1".to_owned());
        }
        Ok(S3Options {
            profile: self.profile,
            region: self.s3_region,
            endpoint_url: self.endpoint_url,
            path_style: self.path_style,
            requests_in_flight: self.s3_requests,
            max_attempts: self.s3_max_attempts,
        })
    }
}

impl FilterArgs {
    fn into_filter(self) -> Result<(RecordFilter, i64), String> {
        if let (Some(s), Some(e)) = (self.start, self.end)
            && e <= s
        {
            return Err("--end must be after --start".to_owned());
        }
        Ok((
            RecordFilter {
                start: self.start,
                end: self.end,
                accounts: self.accounts,
                regions: self.regions,
            },
            self.delivery_allowance,
        ))
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  trailsift plan s3://my-trail --shards 16\n  trailsift plan s3://my-trail --shards 16 --out s3://results/run1/plan.json\n  trailsift plan ./trail --start 2026-03-01 --end 2026-04-01 --shards 4"
)]
pub struct PlanArgs {
    /// s3://bucket[/prefix] of the trail, or trail directories, as for analyze.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// How many shards to share the objects among.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::shard_spec::MAX_SHARDS)))]
    pub shards: u32,
    /// Cores each shard runs on, for the predicted times.
    #[arg(long, default_value_t = 2, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub threads_per_shard: u32,
    /// Write the plan (JSON) to this file or s3:// URL, for `analyze --shard ... --plan`.
    #[arg(long, value_name = "FILE|s3://BUCKET/KEY")]
    pub out: Option<String>,
    /// Print the plan's JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Do not show progress on stderr.
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub filters: FilterArgs,
    #[command(flatten)]
    pub s3: S3Args,
}

impl PlanArgs {
    pub fn into_config(self, verbosity: Verbosity) -> Result<PlanConfig, String> {
        let (filter, delivery_allowance) = self.filters.into_filter()?;
        let listing = AnalyzeConfig {
            inputs: self.inputs,
            out: Place::Local(PathBuf::from(".")),
            filter,
            delivery_allowance,
            threads: None,
            top: 10,
            quota_overrides: BTreeMap::new(),
            progress: !self.no_progress && !verbosity.quiet,
            verbose: verbosity.verbose,
            strict: false,
            max_object_bytes: DEFAULT_MAX_OBJECT_BYTES,
            dedup_window_hours: DEFAULT_WINDOW_HOURS,
            cache_max_age: DEFAULT_MAX_AGE_SECONDS,
            kms_price_per_10k: DEFAULT_PRICE_PER_10K_REQUESTS,
            s3: self.s3.into_options()?,
            state: None,
            shard: None,
        };
        Ok(PlanConfig {
            listing,
            shards: self.shards,
            threads_per_shard: self.threads_per_shard,
            out: self
                .out
                .map(|o| Place::parse(&o))
                .transpose()
                .map_err(|e| e.to_string())?,
        })
    }
}

#[derive(Args, Debug)]
#[command(
    after_help = "Examples:\n  trailsift merge out/partials --out out\n  trailsift merge s3://results/run1/partials/ --out s3://results/run1/\n  trailsift merge a.partial b.partial --out out --top 20"
)]
pub struct MergeArgs {
    /// Partials: files, directories or s3:// prefixes holding them (*.partial).
    #[arg(required = true, value_name = "PARTIAL")]
    pub partials: Vec<String>,
    /// Output directory (created if missing), or s3://bucket/prefix.
    #[arg(
        long,
        default_value = "trailsift-out",
        value_name = "DIR|s3://BUCKET/PREFIX"
    )]
    pub out: String,
    /// Rows per table in the report.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    /// Override a KMS request quota, as for analyze.
    #[arg(long = "quota", value_name = "[ACCOUNT:]REGION[:CLASS]=RPS", value_parser = parse_quota)]
    pub quotas: Vec<(QuotaScope, Quota)>,
    /// KMS request price in US dollars per 10,000 requests, as for analyze.
    #[arg(long, default_value_t = DEFAULT_PRICE_PER_10K_REQUESTS, value_name = "USD", value_parser = parse_price)]
    pub kms_price: f64,
    /// Do not show progress on stderr.
    #[arg(long)]
    pub no_progress: bool,
    /// Exit non-zero when any object failed in any shard (outputs are still written).
    #[arg(long)]
    pub strict: bool,
    /// Print summary.json on stdout instead of the text report.
    #[arg(long, conflicts_with = "quiet")]
    pub json: bool,
    #[command(flatten)]
    pub s3: S3Args,
}

impl MergeArgs {
    pub fn into_config(self, verbosity: Verbosity) -> Result<MergeConfig, String> {
        Ok(MergeConfig {
            partials: self.partials,
            out: Place::parse(&self.out).map_err(|e| e.to_string())?,
            top: self.top,
            quota_overrides: self.quotas.into_iter().collect(),
            kms_price_per_10k: self.kms_price,
            progress: !self.no_progress && !verbosity.quiet,
            verbose: verbosity.verbose,
            strict: self.strict,
            s3: self.s3.into_options()?,
        })
    }
}

#[derive(Args, Debug)]
pub struct GenArgs {
    /// Output directory for the trail and truth.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of event records, spread over every account, region and hour.
    #[arg(long)]
    pub records: u64,
    /// Random seed: the same seed and flags give a byte-identical trail (and truth.json);
    /// another seed gives other account ids, principals and records.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Accounts logging to the trail (1 to 1000), with 12-digit ids drawn from the seed;
    /// the first one owns the trail and its bucket.
    #[arg(long, default_value_t = 2)]
    pub accounts: u32,
    /// Regions each account logs in (1 to 16), taken in order from us-east-1, eu-west-1,
    /// us-west-2, eu-central-1, ap-southeast-2, ...
    #[arg(long, default_value_t = 2)]
    pub regions: u32,
    /// Hours of eventTime the trail spans (1 to 8784), from 2026-03-01T00:00:00Z.
    #[arg(long, default_value_t = 24)]
    pub hours: u32,
    /// Organization id (o-...): write an organization trail layout.
    #[arg(long)]
    pub org: Option<String>,
}

impl GenArgs {
    pub fn into_config(self) -> crate::synth::GenConfig {
        crate::synth::GenConfig {
            out: self.out,
            records: self.records,
            seed: self.seed,
            accounts: self.accounts,
            regions: self.regions,
            hours: self.hours,
            org: self.org,
            ..crate::synth::GenConfig::default()
        }
    }
}

fn parse_price(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|p| p.is_finite() && *p >= 0.0)
        .ok_or_else(|| {
            format!("'{s}' is not a price in US dollars per 10,000 requests (for example 0.03)")
        })
}

fn parse_quota(s: &str) -> Result<(QuotaScope, Quota), String> {
    let (scope, rps) = s.split_once('=').ok_or_else(|| {
        format!(
            "'{s}' is not [ACCOUNT:]REGION[:CLASS]=RPS (for example us-east-1=150000 or 111122223333:us-east-1:rsa=2000)"
        )
    })?;
    let scope = QuotaScope::parse(scope).map_err(|e| format!("'{s}': {e}"))?;
    let rps = Quota::parse(rps).ok_or_else(|| {
        format!("'{rps}' is not a positive number of requests per second (at most 3 decimals)")
    })?;
    Ok((scope, rps))
}

impl AnalyzeArgs {
    /// The run's config; `verbosity` is the global `-q`/`-v`, which lives on [`Cli`].
    pub fn into_config(self, verbosity: Verbosity) -> Result<AnalyzeConfig, String> {
        if self.threads == Some(0) {
            return Err("--threads must be at least 1".to_owned());
        }
        let (filter, delivery_allowance) = self.filters.into_filter()?;
        let shard = match self.shard {
            Some(spec) => Some(ShardOptions {
                spec: ShardSpec::parse(&spec, |name| std::env::var(name).ok())
                    .map_err(|e| e.to_string())?,
                plan: self
                    .plan
                    .map(|p| Place::parse(&p))
                    .transpose()
                    .map_err(|e| e.to_string())?,
            }),
            None => None,
        };
        Ok(AnalyzeConfig {
            inputs: self.inputs,
            out: Place::parse(&self.out).map_err(|e| e.to_string())?,
            filter,
            delivery_allowance,
            threads: self.threads,
            top: self.top,
            quota_overrides: self.quotas.into_iter().collect::<BTreeMap<_, _>>(),
            // -q promises nothing but errors and warnings: no progress either.
            progress: !self.no_progress && !verbosity.quiet,
            verbose: verbosity.verbose,
            strict: self.strict,
            max_object_bytes: self.max_object_bytes,
            dedup_window_hours: self.dedup_window_hours,
            cache_max_age: self.cache_max_age,
            kms_price_per_10k: self.kms_price,
            s3: self.s3.into_options()?,
            shard,
            state: self.state.map(|path| StateOptions {
                path,
                interval: std::time::Duration::from_secs(self.state_interval),
            }),
        })
    }
}
