//! Attribution: who made a call, through which service, with which client. Pure functions
//! from a [`crate::record::Record`] to the domain answers; aggregation lives elsewhere.

pub mod advice;
pub mod encryption_context;
pub mod kms;
pub mod principal;
pub mod sigv2;
pub mod sigv4;
pub mod tls;
pub mod user_agent;
