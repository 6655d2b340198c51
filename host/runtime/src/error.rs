//! Typed failures of loading and calling plugins, each naming the plugin and whose fault it was.

use std::fmt;
use std::time::Duration;

/// Who caused a failure: decides between a client error and a server error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The plugin or what it was given: a trap, a panic, a timeout, the
    /// memory cap, malformed output, an error the plugin returned, an upload
    /// that is not a plugin.
    Guest,
    /// The host: an internal failure, or the caller cancelling the call.
    Host,
}

/// Names a plugin in errors and logs: `name@version`, or `sha256:<prefix>`
/// before its `info()` has answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRef {
    pub name: String,
    pub version: String,
}

impl PluginRef {
    pub(crate) fn unnamed(sha256: &str) -> Self {
        Self {
            name: format!("sha256:{}", &sha256[..12.min(sha256.len())]),
            version: "?".into(),
        }
    }
}

impl fmt::Display for PluginRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

/// The code a plugin attaches to an error it returns itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidInput,
    InvalidParams,
    Numerical,
    Cancelled,
    Internal,
}

impl ErrorCode {
    /// Stable snake_case name, for API error bodies.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid_input",
            Self::InvalidParams => "invalid_params",
            Self::Numerical => "numerical",
            Self::Cancelled => "cancelled",
            Self::Internal => "internal",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an output table was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    #[error("not an Arrow IPC stream: {0}")]
    NotArrowIpc(String),
    #[error("Arrow IPC stream is compressed ({0}); plugins must return uncompressed IPC")]
    Compressed(String),
    #[error("summary is not JSON: {0}")]
    NotJson(String),
    #[error("output of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge { size: u64, limit: u64 },
}

/// Everything that can go wrong loading or calling a plugin.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RuntimeError {
    #[error("{plugin}: not a valid WebAssembly component: {reason}")]
    InvalidComponent { plugin: PluginRef, reason: String },
    #[error(
        "{plugin}: does not implement the `preprocessor` or `model` world of mmm:plugin@0.2.0 or 0.1.0: {reason}"
    )]
    NotAPlugin { plugin: PluginRef, reason: String },
    #[error("{plugin}: is a {actual} plugin; `{export}` needs a {expected}")]
    WrongKind {
        plugin: PluginRef,
        export: &'static str,
        expected: crate::PluginKind,
        actual: crate::PluginKind,
    },
    #[error("{plugin}: info() is invalid: {reason}")]
    InvalidInfo { plugin: PluginRef, reason: String },
    #[error("{plugin}: trapped: {message}")]
    Trap { plugin: PluginRef, message: String },
    #[error("{plugin}: panicked: {message}")]
    Panic { plugin: PluginRef, message: String },
    #[error("{plugin}: exhausted its stack (deep recursion)")]
    StackOverflow { plugin: PluginRef },
    #[error("{plugin}: did not finish within {}s", limit.as_secs_f64())]
    Timeout { plugin: PluginRef, limit: Duration },
    #[error("{plugin}: exceeded its memory limit of {limit} bytes")]
    MemoryLimit { plugin: PluginRef, limit: u64 },
    #[error("{plugin}: returned malformed output: {reason}")]
    MalformedOutput {
        plugin: PluginRef,
        reason: OutputError,
    },
    #[error("{plugin}: returned an error ({code}): {message}")]
    Plugin {
        plugin: PluginRef,
        code: ErrorCode,
        message: String,
    },
    #[error("{plugin}: params are not valid JSON: {reason}")]
    InvalidParams { plugin: PluginRef, reason: String },
    #[error("{plugin}: cancelled by the caller")]
    Cancelled { plugin: PluginRef },
    #[error("{plugin}: host failure: {message}")]
    Host { plugin: PluginRef, message: String },
    /// Every sandbox slot stayed taken for the call's whole `wait`: the
    /// caller should shed the request (503) rather than queue without bound.
    #[error("{plugin}: every plugin slot stayed busy for {waited:?}; try again shortly")]
    Busy { plugin: PluginRef, waited: Duration },
}

impl RuntimeError {
    /// Who caused this failure.
    pub fn fault(&self) -> Fault {
        match self {
            Self::Cancelled { .. } | Self::Host { .. } | Self::Busy { .. } => Fault::Host,
            _ => Fault::Guest,
        }
    }

    /// The plugin the failure is about.
    pub fn plugin(&self) -> &PluginRef {
        match self {
            Self::InvalidComponent { plugin, .. }
            | Self::NotAPlugin { plugin, .. }
            | Self::WrongKind { plugin, .. }
            | Self::InvalidInfo { plugin, .. }
            | Self::Trap { plugin, .. }
            | Self::Panic { plugin, .. }
            | Self::StackOverflow { plugin }
            | Self::Timeout { plugin, .. }
            | Self::MemoryLimit { plugin, .. }
            | Self::MalformedOutput { plugin, .. }
            | Self::Plugin { plugin, .. }
            | Self::InvalidParams { plugin, .. }
            | Self::Cancelled { plugin }
            | Self::Host { plugin, .. }
            | Self::Busy { plugin, .. } => plugin,
        }
    }

    /// Stable snake_case name of the cause, for API error bodies and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidComponent { .. } => "invalid_component",
            Self::NotAPlugin { .. } => "not_a_plugin",
            Self::WrongKind { .. } => "wrong_kind",
            Self::InvalidInfo { .. } => "invalid_info",
            Self::Trap { .. } => "plugin_trap",
            Self::Panic { .. } => "plugin_panic",
            Self::StackOverflow { .. } => "plugin_stack_overflow",
            Self::Timeout { .. } => "plugin_timeout",
            Self::MemoryLimit { .. } => "plugin_memory_limit",
            Self::MalformedOutput { .. } => "plugin_malformed_output",
            Self::Plugin { .. } => "plugin_error",
            Self::InvalidParams { .. } => "invalid_params",
            Self::Cancelled { .. } => "cancelled",
            Self::Host { .. } => "host_error",
            Self::Busy { .. } => "plugin_busy",
        }
    }
}

/// Result of the runtime's public functions.
pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
