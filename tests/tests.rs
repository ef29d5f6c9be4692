//! Integration tests: they run the `trailsift` binary and read its outputs back.

mod support;

mod bench_command;
mod cli;
mod client_intelligence;
mod decoder_fuzz;
mod expert_answers;
mod first_hour;
mod fixtures;
mod generated;
mod golden;
mod hostile_input;
mod kms_insights;
mod module_graph;
mod real_records;
mod resume;
mod s3_input;
mod shards;
