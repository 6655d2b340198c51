//! Plugins as the server sees them: the built-ins it ships and the registry
//! that stores published ones and decides who may run what.

pub mod builtin;
pub mod registry;

pub use registry::{Plugins, RegistryError};

/// The stable code of a call's failure, as clients see it: a guest's own
/// error by its kind (`plugin_invalid_params`, ...), anything else by the
/// runtime's code (`plugin_timeout`, `plugin_trap`, ...).
pub fn call_code(e: &mmm_runtime::RuntimeError) -> &'static str {
    use mmm_runtime::{ErrorCode, RuntimeError};
    match e {
        RuntimeError::Plugin { code, .. } => match code {
            ErrorCode::InvalidInput => "plugin_invalid_input",
            ErrorCode::InvalidParams => "plugin_invalid_params",
            ErrorCode::Numerical => "plugin_numerical",
            ErrorCode::Cancelled => "plugin_cancelled",
            ErrorCode::Internal => "plugin_internal",
        },
        other => other.code(),
    }
}
