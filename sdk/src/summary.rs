//! The one output contract every model shares: the summary JSON's required
//! fields, and the columns of the decomposition and response-curve tables.
//!
//! The host validates every fit against [`summary_schema`] and
//! [`check_tables`] before it stores an analysis, so the console and
//! recommendations read any model the same way; a model whose output does
//! not conform fails its analysis as the plugin's fault. Models may add
//! fields of their own anywhere (adstock parameters, sampler diagnostics):
//! the schema only requires, it never forbids. A model that calibrates with
//! lift tests (`crate::experiments`) adds `calibration`: one row per test
//! with at least `channel`, `spend_change`, `measured_lift` and
//! `implied_lift`, so the console shows any model's calibration alike.
//!
//! ```
//! use mmm_sdk::summary::{ChannelSummary, ModelSummary};
//!
//! let summary = ModelSummary {
//!     model: "mean-model".into(),
//!     channels: vec![ChannelSummary {
//!         channel: "tv".into(),
//!         spend: 100.0,
//!         contribution: 150.0,
//!         roi: 1.5,
//!         roi_interval: [1.2, 1.8],
//!         mroi: 0.9,
//!         carryover_share: 0.3,
//!         effect_share: 1.0,
//!         spend_share: 1.0,
//!     }],
//!     baseline_contribution: 1000.0,
//!     metrics: Default::default(),
//!     warnings: vec![],
//!     search: None,
//! };
//! let value = mmm_sdk::serde_json::to_value(&summary).unwrap();
//! assert_eq!(value["channels"][0]["roi_interval"][1], 1.8);
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What every model's `fit` summary holds (models may add more).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelSummary {
    /// The model's name.
    pub model: String,
    /// One entry per media channel, in the roles' order.
    pub channels: Vec<ChannelSummary>,
    /// The KPI the model attributes to no channel, summed over all periods.
    pub baseline_contribution: f64,
    /// Fit metrics by window or name (for example `train.r2`, `test.mape`).
    pub metrics: Map<String, Value>,
    /// What the analyst should know before trusting the numbers.
    pub warnings: Vec<String>,
    /// Search or sampler statistics (candidates, seed, convergence, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<Value>,
}

/// One channel's totals over every period of the fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChannelSummary {
    /// The media column.
    pub channel: String,
    /// Total spend.
    pub spend: f64,
    /// Total KPI the channel caused.
    pub contribution: f64,
    /// `contribution / spend`.
    pub roi: f64,
    /// `[low, high]` of the model's interval for the ROI (90% unless the model says otherwise).
    pub roi_interval: [f64; 2],
    /// Extra KPI per extra unit of spend at the current spend.
    pub mroi: f64,
    /// Share of the contribution that came after the period of the spend.
    pub carryover_share: f64,
    /// The channel's share of all channels' contribution.
    pub effect_share: f64,
    /// The channel's share of all channels' spend.
    pub spend_share: f64,
}

/// The published JSON Schema of [`ModelSummary`].
pub fn summary_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(ModelSummary)).expect("a JSON Schema serialises")
}

/// Columns the decomposition must have besides one numeric column per channel.
pub const DECOMPOSITION_COLUMNS: &[&str] = &["date", "baseline"];

/// Columns the response curves must have (long form: one row per channel and spend level).
pub const RESPONSE_CURVE_COLUMNS: &[&str] = &["channel", "spend", "response"];

/// Checks the two tables' columns against the contract, given their column
/// names and the summary's channels; the error names what is missing.
pub fn check_tables(
    decomposition: &[&str],
    response_curves: &[&str],
    channels: &[&str],
) -> Result<(), String> {
    let missing = |have: &[&str], want: &mut dyn Iterator<Item = &str>| {
        want.filter(|c| !have.contains(c))
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
    };
    let decomposition_missing = missing(
        decomposition,
        &mut DECOMPOSITION_COLUMNS
            .iter()
            .copied()
            .chain(channels.iter().copied()),
    );
    if !decomposition_missing.is_empty() {
        return Err(format!(
            "the decomposition lacks the column(s) {}",
            decomposition_missing.join(", ")
        ));
    }
    let curves_missing = missing(response_curves, &mut RESPONSE_CURVE_COLUMNS.iter().copied());
    if !curves_missing.is_empty() {
        return Err(format!(
            "the response curves lack the column(s) {}",
            curves_missing.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_requires_the_shared_fields_and_allows_extra_ones() {
        let schema = summary_schema();
        let required = schema["required"].as_array().unwrap();
        for field in [
            "model",
            "channels",
            "baseline_contribution",
            "metrics",
            "warnings",
        ] {
            assert!(required.contains(&Value::from(field)), "{field}");
        }
        assert!(schema.get("additionalProperties").is_none());
    }

    #[test]
    fn tables_must_carry_the_contract_columns() {
        assert!(
            check_tables(
                &["date", "baseline", "tv"],
                &["channel", "spend", "response"],
                &["tv"]
            )
            .is_ok()
        );
        let err = check_tables(
            &["date", "tv"],
            &["channel", "spend", "response"],
            &["tv", "radio"],
        )
        .unwrap_err();
        assert!(
            err.contains("`baseline`") && err.contains("`radio`"),
            "{err}"
        );
        let err = check_tables(&["date", "baseline"], &["channel", "spend"], &[]).unwrap_err();
        assert!(err.contains("`response`"), "{err}");
    }
}
