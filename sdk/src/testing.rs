//! Helpers for testing a plugin on the host target with plain `cargo test`,
//! through the same path the host takes (Arrow IPC bytes and params JSON).

use crate::experiments::Experiment;
use crate::export::{self, Meta};
use crate::model::{Model, Roles};
use crate::{Params, Result, Table};

/// Runs a preprocessor function as the host would: the table is encoded to
/// Arrow IPC and decoded again, and the params are parsed from JSON.
///
/// ```
/// use mmm_sdk::prelude::*;
///
/// fn double(mut data: Table, _: NoParams) -> Result<Table> {
///     for mut col in data.numeric_columns_mut() {
///         col.iter_mut().for_each(|v| *v *= 2.0);
///     }
///     Ok(data)
/// }
///
/// let mut t = Table::new();
/// t.set_f64("x", vec![1.0, 2.0])?;
/// let out = mmm_sdk::testing::run_preprocessor(double, &t, "{}")?;
/// assert_eq!(out.f64_column("x")?, &[2.0, 4.0]);
/// # Ok::<(), mmm_sdk::Error>(())
/// ```
pub fn run_preprocessor<P: Params>(
    f: fn(Table, P) -> Result<Table>,
    input: &Table,
    params_json: &str,
) -> Result<Table> {
    Table::from_ipc(export::transform(input.to_ipc()?, params_json, f)?)
}

/// The tables a [`Model`] fit produced, decoded as the host would see them.
#[derive(Debug, Clone)]
pub struct FitResult {
    /// The artifact bytes the host stores.
    pub artifact: Vec<u8>,
    /// The summary JSON.
    pub summary: serde_json::Value,
    /// The decomposition table.
    pub decomposition: Table,
    /// The response curves table.
    pub response_curves: Table,
}

/// Runs a model's `fit` as the host would.
pub fn run_fit<M: Model>(input: &Table, roles: Roles, params_json: &str) -> Result<FitResult> {
    run_fit_with_experiments::<M>(input, roles, params_json, Vec::new())
}

/// Runs a model's `fit` with lift tests as the host would.
pub fn run_fit_with_experiments<M: Model>(
    input: &Table,
    roles: Roles,
    params_json: &str,
    experiments: Vec<Experiment>,
) -> Result<FitResult> {
    let out = export::fit::<M>(input.to_ipc()?, roles, params_json, experiments)?;
    Ok(FitResult {
        artifact: out.artifact,
        summary: serde_json::from_str(&out.summary)?,
        decomposition: Table::from_ipc(out.decomposition)?,
        response_curves: Table::from_ipc(out.response_curves)?,
    })
}

/// Runs a model's `predict` as the host would, from the bytes [`run_fit`] returned.
pub fn run_predict<M: Model>(artifact: &[u8], scenarios: &Table) -> Result<Table> {
    Table::from_ipc(export::predict::<M>(artifact, scenarios.to_ipc()?)?)
}

/// The params JSON Schema a preprocessor publishes in its `info`.
pub fn preprocessor_schema<P: Params>(f: fn(Table, P) -> Result<Table>) -> String {
    let meta = Meta {
        name: "",
        version: "",
        description: "",
        author: "",
    };
    export::preprocessor_info(f, &meta).params_schema
}
