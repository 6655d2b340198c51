//! The guest SDK: everything a plugin author touches.
//!
//! A plugin is a plain Rust function (or a [`Model`] impl) over [`Table`]s
//! with typed params; one attribute turns it into a WebAssembly component
//! implementing the `mmm:plugin` WIT contract (`sdk/wit/plugin.wit`). The
//! bindings, Arrow IPC encoding and memory handling stay out of sight.
//!
//! ```
//! use mmm_sdk::prelude::*;
//!
//! /// Clips every numeric column at a z-score.
//! #[params]
//! #[serde(deny_unknown_fields)]
//! struct Params {
//!     /// Largest absolute z-score kept.
//!     max_z: f64,
//! }
//!
//! #[preprocessor(name = "clip", version = "1.0.0", description = "Clips outliers")]
//! fn clip(mut data: Table, params: Params) -> Result<Table> {
//!     if params.max_z <= 0.0 {
//!         return Err(Error::invalid_params("max_z must be positive"));
//!     }
//!     for mut col in data.numeric_columns_mut() {
//!         let (mean, sd) = mean_sd(&col);
//!         for v in col.iter_mut() {
//!             *v = v.clamp(mean - params.max_z * sd, mean + params.max_z * sd);
//!         }
//!     }
//!     Ok(data)
//! }
//!
//! fn mean_sd(x: &[f64]) -> (f64, f64) {
//!     let n = x.len() as f64;
//!     let mean = x.iter().sum::<f64>() / n;
//!     (mean, (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt())
//! }
//!
//! // The function stays a function: test it on the host.
//! let mut t = Table::new();
//! t.set_f64("tv", vec![1.0, 1.0, 1.0, 100.0])?;
//! let out = clip(t, Params { max_z: 1.0 })?;
//! assert!(out.f64_column("tv")?[3] < 100.0);
//! # Ok::<(), mmm_sdk::Error>(())
//! ```
//!
//! Build a plugin crate (`crate-type = ["cdylib"]`) with
//! `cargo build --release --target wasm32-wasip2`; the `.wasm` it produces
//! is the component the host loads. On any other target the attributes add
//! nothing, so `cargo test` exercises the author's logic directly.
//!
//! The modelling building blocks ([`adstock`], [`saturation`],
//! [`regression`], [`metrics`]) are plain functions over slices and ndarray.

pub mod adstock;
pub mod allocate;
mod error;
pub mod experiments;
#[doc(hidden)]
pub mod export;
mod host;
pub mod metrics;
mod model;
pub mod params;
pub mod regression;
pub mod saturation;
pub mod scenarios;
pub mod summary;
mod table;
pub mod testing;

pub use error::{Error, ErrorCode, Result};
pub use host::{LogLevel, checkpoint, log, progress};
pub use mmm_sdk_macros::{artifact, model, params, preprocessor};
pub use model::{Fit, Model, Roles};
pub use params::{NoParams, Params};
pub use table::{ColumnMut, Table};

/// The Arrow crates the SDK is built on, for authors who need the full Arrow API
/// (see [`Table::column`] and [`Table::set_column`]).
pub mod arrow {
    pub use arrow_array as array;
    pub use arrow_schema as schema;
}

/// Third-party crates and types the macros and authors need, at the versions the SDK uses.
pub use {chrono, ndarray, schemars, serde, serde_json};

/// Everything a plugin usually needs: `use mmm_sdk::prelude::*;`.
pub mod prelude {
    pub use crate::{
        ColumnMut, Error, ErrorCode, Fit, LogLevel, Model, NoParams, Params, Result, Roles, Table,
        artifact, checkpoint, log, model, params, preprocessor, progress,
    };
    pub use chrono::NaiveDate;
    pub use schemars::JsonSchema;
    pub use serde::{Deserialize, Serialize};
    pub use serde_json::json;
}

/// What the macros expand to; not a public API.
#[doc(hidden)]
pub mod __private {
    #[cfg(target_arch = "wasm32")]
    pub use crate::export::wasm::{bindings, experiments_from_wit, wit_bindgen};
    pub use crate::export::*;
}
