//! The guest SDK: everything a plugin author touches. Pure modelling blocks
//! live here so they are testable with plain `cargo test` on the host target.

pub mod adstock;
pub mod metrics;
pub mod regression;
pub mod saturation;
