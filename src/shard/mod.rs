//! Past one machine: a trail split into shards that a scheduler runs (AWS Batch array jobs,
//! Kubernetes Indexed Jobs), each writing a *partial*, and a merge that writes the outputs
//! of a single run over the same inputs.
//!
//! - [`plan`]: which shard reads which object, balanced by bytes, decided from the listing
//!   alone, so every shard computes the same plan (or reads the one `trailsift plan` wrote).
//! - [`partial`]: what a shard writes: every table's mergeable state, its objects'
//!   accounting, and what deduplication needs to stay exact across shards.
//! - [`merge`]: joins the partials and takes, over all of them, the deduplication decisions
//!   one run would have taken.
//!
//! There is no scheduler here: the scheduler supplies the index (`--shard auto/N`) and the
//! retries (a shard run again writes its partial again; the last write wins).

pub mod again;
pub mod merge;
pub mod partial;
pub mod plan;
pub mod run;

pub use crate::shard_spec::ShardSpec;
