//! The [`Model`] trait a model plugin implements, with its inputs and outputs.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::experiments::Experiment;
use crate::{Params, Result, Table};

/// Which columns of the input play which part in a model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roles {
    /// The period column (Date32, Date64 or Timestamp).
    pub date: String,
    /// The target the model explains (sales, conversions, ...).
    pub kpi: String,
    /// Paid media spend columns, one per channel.
    pub media: Vec<String>,
    /// Control variables (price, seasonality, events, ...).
    pub controls: Vec<String>,
}

/// What one fit produces.
#[derive(Debug, Clone)]
pub struct Fit<A> {
    /// Everything `predict` needs later; the SDK stores it as JSON bytes.
    pub artifact: A,
    /// Fit metrics and fitted parameters, shown to the analyst as JSON.
    pub summary: serde_json::Value,
    /// Contribution per period and channel (plus base and controls).
    pub decomposition: Table,
    /// Response per channel over a grid of spend levels.
    pub response_curves: Table,
}

/// A marketing mix model: `fit` once, then `predict` any number of scenarios
/// from the artifact without refitting. Export it with [`crate::model`].
///
/// ```
/// use mmm_sdk::prelude::*;
///
/// /// Predicts the KPI as a constant: its mean during the fit.
/// struct MeanModel;
///
/// #[artifact]
/// struct Mean { kpi: String, value: f64 }
///
/// #[model(name = "mean-model", version = "0.1.0", description = "A baseline")]
/// impl Model for MeanModel {
///     type Params = NoParams;
///     type Artifact = Mean;
///
///     fn fit(data: Table, roles: Roles, _params: NoParams) -> Result<Fit<Mean>> {
///         let y = data.to_f64_vec(&roles.kpi)?;
///         let value = y.iter().sum::<f64>() / y.len() as f64;
///         let mut decomposition = Table::new();
///         decomposition.set_dates("date", &data.dates(&roles.date)?)?;
///         decomposition.set_f64("base", vec![value; y.len()])?;
///         Ok(Fit {
///             artifact: Mean { kpi: roles.kpi, value },
///             summary: json!({ "mean": value }),
///             decomposition,
///             response_curves: Table::new(),
///         })
///     }
///
///     fn predict(artifact: Mean, scenarios: Table) -> Result<Table> {
///         let mut out = Table::new();
///         out.set_f64(&artifact.kpi, vec![artifact.value; scenarios.num_rows()])?;
///         Ok(out)
///     }
/// }
/// ```
pub trait Model {
    /// The params `fit` takes.
    type Params: Params;
    /// What `fit` hands to `predict`, serialised as JSON in between
    /// (put [`macro@crate::artifact`] on it).
    type Artifact: Serialize + DeserializeOwned;

    /// Fits the model to `data`, whose columns are named by `roles`.
    fn fit(data: Table, roles: Roles, params: Self::Params) -> Result<Fit<Self::Artifact>>;

    /// Fits with lift tests as outside evidence (see [`crate::experiments`]).
    /// The host calls this one; a model that calibrates overrides it, and
    /// the default fits without them and says so in the host's log, so a
    /// model written before experiments existed keeps working.
    fn fit_with_experiments(
        data: Table,
        roles: Roles,
        params: Self::Params,
        experiments: Vec<Experiment>,
    ) -> Result<Fit<Self::Artifact>> {
        if !experiments.is_empty() {
            crate::log(
                crate::LogLevel::Warn,
                format!(
                    "this model does not use experiments: {} ignored",
                    experiments.len()
                ),
            );
        }
        Self::fit(data, roles, params)
    }

    /// Predicts the KPI for each row of `scenarios` (same columns as the fit data).
    fn predict(artifact: Self::Artifact, scenarios: Table) -> Result<Table>;
}
