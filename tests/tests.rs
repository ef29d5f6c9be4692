//! Integration tests: they run the `trailsift` binary and read its outputs back.

mod support;

mod fixtures;
mod real_records;
