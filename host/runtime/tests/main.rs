//! One test binary for the crate (one link instead of one per file): each
//! module is what was a test file of its own.

mod common;

mod cache;
mod contracts;
mod hostile;
mod preprocessors;
mod round_trip;
