//! The per-call sandbox: store data, resource limits, deadline, WASI without
//! capabilities, and the two host imports (`log`, `progress`).

use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::bindings::{Host, LogLevel, types, v0_1};
use crate::config::{CallOptions, CancelToken, Limits, ProgressHook};
use crate::error::PluginRef;

/// Bytes of guest stdout/stderr kept per call (panic messages land on stderr).
const STDIO_CAPACITY: usize = 16 << 10;

/// How long a guest asked to stop may take to return `cancelled` before it is interrupted.
const CANCEL_GRACE: Duration = Duration::from_millis(500);

/// Why the host stopped a running guest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Interruption {
    Deadline,
    Cancelled,
}

/// The data of one call's `Store`.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) memory: MemoryLimiter,
    log: LogBudget,
    plugin: PluginRef,
    label: String,
    progress: Option<ProgressHook>,
    /// The caller's token and the one set when the caller stops waiting.
    cancel: Vec<CancelToken>,
    /// When the host first asked the guest to stop (cancel token or progress
    /// hook answering `false`).
    pub(crate) stop_requested_at: Option<Instant>,
    deadline: Instant,
    pub(crate) interrupted: Option<Interruption>,
    pub(crate) stderr: MemoryOutputPipe,
    /// The panic message the SDK's panic hook logged before trapping.
    pub(crate) panic_message: Option<String>,
}

impl CallState {
    /// Bytes the guest wrote to stderr, lossily decoded.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }

    /// Whether the guest should stop; remembers when that was first seen.
    fn stop_requested(&mut self) -> bool {
        if self.stop_requested_at.is_none() && self.cancel.iter().any(CancelToken::is_cancelled) {
            self.stop_requested_at = Some(Instant::now());
        }
        self.stop_requested_at.is_some()
    }

    /// Whether a guest asked to stop has used up its grace period to return `cancelled`.
    fn cancel_overdue(&mut self) -> bool {
        self.stop_requested()
            && self
                .stop_requested_at
                .is_some_and(|at| at.elapsed() >= CANCEL_GRACE)
    }

    /// Emits what the guest printed and what the log budget dropped.
    pub(crate) fn flush_diagnostics(&self) {
        let stderr = self.stderr.contents();
        if !stderr.is_empty() {
            tracing::debug!(
                target: "mmm_runtime::plugin",
                plugin = %self.plugin.name, version = %self.plugin.version, label = %self.label,
                stderr = %String::from_utf8_lossy(&stderr),
                "plugin wrote to stderr"
            );
        }
        if self.log.dropped > 0 {
            tracing::warn!(
                target: "mmm_runtime::plugin",
                plugin = %self.plugin.name, version = %self.plugin.version, label = %self.label,
                dropped = self.log.dropped,
                "plugin log lines dropped by the per-call log limit"
            );
        }
    }
}

/// Builds the store for one call: limits, deadline, empty WASI.
pub(crate) fn new_store(
    engine: &Engine,
    plugin: PluginRef,
    limits: &Limits,
    timeout: Duration,
    options: &CallOptions,
    abandoned: &CancelToken,
) -> Store<CallState> {
    let stderr = MemoryOutputPipe::new(STDIO_CAPACITY);
    // No preopens, no env, no args, no network: what remains is what Rust's
    // std needs to start (clocks, random, closed stdin, captured stdout/stderr).
    let wasi = WasiCtx::builder()
        .stdout(MemoryOutputPipe::new(STDIO_CAPACITY))
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build();
    let state = CallState {
        wasi,
        table: ResourceTable::new(),
        memory: MemoryLimiter::new(limits.memory_bytes),
        log: LogBudget::new(limits),
        plugin,
        label: options.label.clone(),
        progress: options.progress.clone(),
        cancel: options.cancel.iter().chain([abandoned]).cloned().collect(),
        stop_requested_at: None,
        deadline: Instant::now() + timeout,
        interrupted: None,
        stderr,
        panic_message: None,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.memory);
    // Checked on every epoch tick: cheap, and it catches both the deadline and
    // a cancel even when the guest never calls `progress`.
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(|mut cx| {
        let state = cx.data_mut();
        if state.cancel_overdue() {
            state.interrupted = Some(Interruption::Cancelled);
            return Ok(UpdateDeadline::Interrupt);
        }
        if Instant::now() >= state.deadline {
            state.interrupted = Some(Interruption::Deadline);
            return Ok(UpdateDeadline::Interrupt);
        }
        Ok(UpdateDeadline::Continue(1))
    });
    store
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps each linear memory and records the peak and whether a grow was refused.
pub(crate) struct MemoryLimiter {
    limit: u64,
    pub(crate) peak: u64,
    pub(crate) refused: bool,
}

impl MemoryLimiter {
    fn new(limit: u64) -> Self {
        Self {
            limit,
            peak: 0,
            refused: false,
        }
    }
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        if desired > self.limit {
            self.refused = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// What a call may still log.
struct LogBudget {
    lines_left: u32,
    bytes_left: u64,
    line_bytes: usize,
    dropped: u64,
}

impl LogBudget {
    fn new(limits: &Limits) -> Self {
        Self {
            lines_left: limits.log_lines,
            bytes_left: limits.log_bytes,
            line_bytes: limits.log_line_bytes,
            dropped: 0,
        }
    }

    /// The message to keep, truncated, or `None` once the budget is spent.
    fn admit<'m>(&mut self, message: &'m str) -> Option<(&'m str, bool)> {
        let kept = truncate_at_char(message, self.line_bytes);
        if self.lines_left == 0 || (kept.len() as u64) > self.bytes_left {
            self.dropped += 1;
            return None;
        }
        self.lines_left -= 1;
        self.bytes_left -= kept.len() as u64;
        Some((kept, kept.len() < message.len()))
    }
}

fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

impl types::Host for CallState {}

impl v0_1::types::Host for CallState {}

/// A 0.1.0 component gets the same host, its log levels mapped one to one.
impl v0_1::Host for CallState {
    fn log(&mut self, level: v0_1::LogLevel, message: String) {
        let level = match level {
            v0_1::LogLevel::Trace => LogLevel::Trace,
            v0_1::LogLevel::Debug => LogLevel::Debug,
            v0_1::LogLevel::Info => LogLevel::Info,
            v0_1::LogLevel::Warn => LogLevel::Warn,
            v0_1::LogLevel::Error => LogLevel::Error,
        };
        Host::log(self, level, message);
    }

    fn progress(&mut self, done: u64, total: u64) -> bool {
        Host::progress(self, done, total)
    }
}

impl Host for CallState {
    fn log(&mut self, level: LogLevel, message: String) {
        if matches!(level, LogLevel::Error) && message.contains("panicked") {
            // Kept whatever the log budget: it names the cause of the trap that follows.
            self.panic_message = Some(truncate_at_char(&message, 1024).to_owned());
        }
        let Some((message, truncated)) = self.log.admit(&message) else {
            return;
        };
        let (plugin, version, label) = (&self.plugin.name, &self.plugin.version, &self.label);
        macro_rules! emit {
            ($macro:ident) => {
                tracing::$macro!(
                    target: "mmm_runtime::plugin",
                    plugin = %plugin, version = %version, label = %label, truncated,
                    "{message}"
                )
            };
        }
        match level {
            LogLevel::Trace => emit!(trace),
            LogLevel::Debug => emit!(debug),
            LogLevel::Info => emit!(info),
            LogLevel::Warn => emit!(warn),
            LogLevel::Error => emit!(error),
        }
    }

    fn progress(&mut self, done: u64, total: u64) -> bool {
        if self.stop_requested() {
            return false;
        }
        let keep_going = self.progress.as_ref().is_none_or(|hook| hook(done, total));
        if !keep_going {
            // A guest that ignores the answer is interrupted after the grace period.
            self.stop_requested_at = Some(Instant::now());
        }
        keep_going
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_at_char("héllo", 2), "h");
        assert_eq!(truncate_at_char("hello", 10), "hello");
    }

    #[test]
    fn log_budget_drops_lines_beyond_the_limits() {
        let limits = Limits {
            log_lines: 2,
            log_line_bytes: 3,
            ..Limits::default()
        };
        let mut budget = LogBudget::new(&limits);
        assert_eq!(budget.admit("abcdef"), Some(("abc", true)));
        assert_eq!(budget.admit("x"), Some(("x", false)));
        assert_eq!(budget.admit("y"), None);
        assert_eq!(budget.dropped, 1);
    }
}
