//! The sandboxed plugin runtime: one wasmtime engine, compiled components
//! cached by sha256 in memory and on disk, one limited `Store` per call, and
//! typed errors that say whose fault a failure was.
//!
//! It knows nothing of tenants or HTTP: callers pass a label (the tenant)
//! for logs and the per-label concurrency cap, and per-call limit overrides.
//!
//! ```no_run
//! # async fn demo(wasm: Vec<u8>, input: Vec<u8>) -> Result<(), mmm_runtime::RuntimeError> {
//! use mmm_runtime::{CallOptions, Runtime, RuntimeConfig};
//!
//! let runtime = Runtime::new(RuntimeConfig::default())?;
//! let plugin = runtime.load(wasm).await?;
//! let output = runtime
//!     .transform(&plugin, input, r#"{"max_z": 3}"#, CallOptions::labelled("tenant-a"))
//!     .await?;
//! # let _ = output; Ok(()) }
//! ```

mod bindings;
mod cache;
mod call;
mod config;
mod engine;
mod error;
mod ipc;
pub mod metrics;
mod plugin;
mod runtime;
mod sandbox;
mod types;

pub use config::{CallOptions, CancelToken, Limits, ProgressHook, RuntimeConfig};
pub use error::{ErrorCode, Fault, OutputError, PluginRef, Result, RuntimeError};
pub use plugin::{Contract, LoadedPlugin};
pub use runtime::{Runtime, RuntimeStats};
pub use types::{Experiment, FitOutput, PluginInfo, PluginKind, Roles};

/// Checks that `bytes` is one uncompressed, decodable Arrow IPC stream (what
/// plugins must return and what the server should accept from uploads) and
/// hands the bytes back without copying.
pub fn validate_ipc_stream(bytes: Vec<u8>) -> std::result::Result<Vec<u8>, OutputError> {
    ipc::validate_stream(bytes)
}
