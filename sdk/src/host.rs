//! The host's two capabilities: logging and progress (with cancellation).
//!
//! Off wasm (unit tests on the host target) logs go to stderr and progress
//! never cancels.

use crate::{Error, Result};

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Very detailed tracing.
    Trace,
    /// Diagnostics for plugin authors.
    Debug,
    /// Normal operation worth recording.
    Info,
    /// Something unexpected that the plugin worked around.
    Warn,
    /// A failure.
    Error,
}

/// Writes a line to the host's log, tagged with the plugin and tenant.
/// The host truncates and rate-limits what it keeps.
///
/// ```
/// use mmm_sdk::{LogLevel, log};
///
/// log(LogLevel::Info, format!("imputed {} values", 3));
/// ```
pub fn log(level: LogLevel, message: impl AsRef<str>) {
    imp::log(level, message.as_ref());
}

/// Reports progress; returns `false` when the host asks the plugin to stop.
///
/// Prefer [`checkpoint`] in loops, which turns the answer into an error.
pub fn progress(done: u64, total: u64) -> bool {
    imp::progress(done, total)
}

/// Reports progress and fails with [`crate::ErrorCode::Cancelled`] when the
/// host asks the plugin to stop. Call it between units of work:
///
/// ```
/// use mmm_sdk::{checkpoint, Result};
///
/// fn search(candidates: u64) -> Result<()> {
///     for i in 0..candidates {
///         checkpoint(i, candidates)?;
///         // ... evaluate candidate i ...
///     }
///     Ok(())
/// }
/// assert!(search(10).is_ok());
/// ```
pub fn checkpoint(done: u64, total: u64) -> Result<()> {
    if progress(done, total) {
        Ok(())
    } else {
        Err(Error::cancelled())
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use super::LogLevel;
    use crate::export::wasm::bindings::mmm::plugin::host;

    pub(super) fn log(level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Trace => host::LogLevel::Trace,
            LogLevel::Debug => host::LogLevel::Debug,
            LogLevel::Info => host::LogLevel::Info,
            LogLevel::Warn => host::LogLevel::Warn,
            LogLevel::Error => host::LogLevel::Error,
        };
        host::log(level, message);
    }

    pub(super) fn progress(done: u64, total: u64) -> bool {
        host::progress(done, total)
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use super::LogLevel;

    pub(super) fn log(level: LogLevel, message: &str) {
        eprintln!("[{level:?}] {message}");
    }

    pub(super) fn progress(_done: u64, _total: u64) -> bool {
        true
    }
}
