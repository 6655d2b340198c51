//! Runtime configuration, per-call limits and per-call options (label, overrides, hooks).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How the runtime is built: one per process.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// Where precompiled components are kept so a restart does not recompile
    /// (for example `$MMM_DATA_DIR/plugin-cache`). `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// How many compiled components the in-memory cache keeps.
    pub memory_cache_entries: u64,
    /// Calls running at once across all labels (tenants).
    pub max_concurrent_calls: usize,
    /// Calls running at once for one label (tenant).
    pub max_concurrent_calls_per_label: usize,
    /// How often the epoch ticker interrupts running guests to check their
    /// deadline and cancel flag; the deadline is enforced to this precision.
    pub epoch_tick: Duration,
    /// Native stack a guest may use (`Config::max_wasm_stack`); deep recursion
    /// beyond it traps as a stack overflow.
    pub max_wasm_stack: usize,
    /// Bytes of each pooled guest memory kept resident between calls (see
    /// `engine::pool`): faster large calls at the price of resident memory
    /// per warm slot. Without `pagemap_scan` (Linux before 6.7) this many
    /// bytes are reset on every call, so lower it there.
    pub memory_keep_resident: usize,
    /// Limits applied when a call does not override them.
    pub limits: Limits,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            cache_dir: None,
            memory_cache_entries: 256,
            max_concurrent_calls: cores.max(2),
            max_concurrent_calls_per_label: cores.div_ceil(2).max(1),
            epoch_tick: Duration::from_millis(10),
            max_wasm_stack: 1 << 20,
            memory_keep_resident: 96 << 20,
            limits: Limits::default(),
        }
    }
}

/// What one call may consume. Every call gets its own `Store` with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest linear memory a guest may grow to, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock deadline for `info` and `transform`.
    pub preprocess_timeout: Duration,
    /// Wall-clock deadline for `fit`.
    pub fit_timeout: Duration,
    /// Wall-clock deadline for `predict`.
    pub predict_timeout: Duration,
    /// Largest output a call may return, in bytes (for `fit`, all parts together).
    pub output_bytes: u64,
    /// Log lines kept per call; later lines are counted and dropped.
    pub log_lines: u32,
    /// Log bytes kept per call, after per-line truncation.
    pub log_bytes: u64,
    /// Longest single log line kept; longer lines are truncated.
    pub log_line_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 512 << 20,
            preprocess_timeout: Duration::from_secs(10),
            fit_timeout: Duration::from_secs(300),
            predict_timeout: Duration::from_secs(60),
            output_bytes: 256 << 20,
            log_lines: 1_000,
            log_bytes: 256 << 10,
            log_line_bytes: 4 << 10,
        }
    }
}

/// Reports progress to the caller; returning `false` asks the plugin to stop.
pub type ProgressHook = Arc<dyn Fn(u64, u64) -> bool + Send + Sync>;

/// A flag the caller sets to stop a running call. The guest is interrupted at
/// the next epoch tick even if it never calls `progress`.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks every call holding this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Who is calling and how: the server sets the label to the tenant.
#[derive(Clone, Default)]
pub struct CallOptions {
    /// Attached to every log line and span of the call and used for the
    /// per-label concurrency cap (the tenant id, `cli`, ...).
    pub label: String,
    /// Replaces the runtime's default limits for this call (per-tenant overrides).
    pub limits: Option<Limits>,
    /// Called on each guest `progress(done, total)`.
    pub progress: Option<ProgressHook>,
    /// Stops the call when cancelled.
    pub cancel: Option<CancelToken>,
    /// How long to wait for a sandbox slot before failing with
    /// [`crate::RuntimeError::Busy`]; `None` waits as long as it takes
    /// (background jobs), a request handler sets a few seconds.
    pub wait: Option<Duration>,
}

impl CallOptions {
    /// Options with only a label set.
    pub fn labelled(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            ..Self::default()
        }
    }
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("label", &self.label)
            .field("limits", &self.limits)
            .field("progress", &self.progress.is_some())
            .field("cancel", &self.cancel)
            .field("wait", &self.wait)
            .finish()
    }
}
