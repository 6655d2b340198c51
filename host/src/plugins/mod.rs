//! Plugins as the server sees them: the built-ins it ships and the registry
//! that stores published ones and decides who may run what.

pub mod builtin;
pub mod registry;

pub use registry::{Plugins, RegistryError};

/// How long a request's plugin call waits for a sandbox slot before the
/// request is shed with 503 and `Retry-After`: long enough to ride out a
/// burst, short enough that a saturated pool answers instead of piling up.
pub const REQUEST_SLOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

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
