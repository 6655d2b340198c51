//! One test binary for the crate (one link instead of one per file): each
//! module is what was a test file of its own.

mod common;

mod accuracy;
mod calibration;
mod determinism;
mod predict;
mod recommend;
mod wide_spread;
