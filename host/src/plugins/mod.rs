//! Plugins as the server sees them: the built-ins it ships, the registry
//! that stores published ones and decides who may run what, and table
//! format conversion for the run endpoint.

pub mod builtin;
pub mod convert;
pub mod registry;

pub use registry::{Plugins, RegistryError};
