//! Plugins as the server sees them: the built-ins it ships and the registry
//! that stores published ones and decides who may run what.

pub mod builtin;
pub mod registry;

pub use registry::{Plugins, RegistryError};
