//! A JSON reader built for CloudTrail's shape: a SIMD structural index (stage 1, [`index`])
//! and an on-demand walk over it ([`walk`]) that opens only the values the analyses read
//! and skips every other one by depth, without building a tape or unescaping a string it
//! does not need.
//!
//! It is exact by construction rather than by imitation: whatever it is not sure of (an
//! escape it does not decode, a number with an exponent, a repeated key it reads, a syntax
//! error) is a refusal, and the caller reads that object with simd-json instead, which
//! then decides what the record holds or why the file is invalid. The tests check the walk
//! against simd-json on generated and mutated records (tests in record::walk).

pub mod index;
pub mod walk;

pub use index::Index;
pub use walk::Doc;
