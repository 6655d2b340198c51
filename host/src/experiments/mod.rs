//! Experiments: a tenant's lift tests, the outside evidence every model can
//! calibrate against (`mmm_sdk::experiments` says what a model does with
//! one). Stored per tenant under RLS; an analysis hands its model the
//! tenant's tests on its channels that overlap its data, and keeps a
//! snapshot of them with its inputs.
//!
//! - `request.rs`: `POST /tenant/experiments` → a checked [`NewExperiment`],
//!   every refusal naming its field.
//! - `view.rs`: the [`Experiment`] the API shows, and the [`Snapshot`] an
//!   analysis stores and passes to the runtime.
//! - `selection.rs`: which experiments an analysis uses.
//!
//! The SQL is `crate::db::experiments`, the handlers `crate::http::experiments`.

mod request;
pub mod selection;
mod view;

pub use request::{ExperimentRequest, NewExperiment};
pub use selection::Selection;
pub use view::{Experiment, Snapshot};

/// Why an experiment was refused.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    /// A value is out of range; `field` names it.
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// No data source of the tenant has the channel as a media column.
    #[error("{message}")]
    UnknownChannel { field: String, message: String },
    /// No data source with the channel covers the test's dates.
    #[error("{message}")]
    OutsideData { field: String, message: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
