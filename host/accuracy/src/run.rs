//! One fit of a built-in model on a generated dataset, through the SDK's
//! IPC path (what the host sends a plugin), natively.

use std::time::Instant;

use mmm_sdk::experiments::Experiment;
use mmm_sdk::prelude::*;
use mmm_sdk::serde_json::Value;
use mmm_synth::Dataset;

/// A built-in model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    Ridge,
    Bayes,
}

impl Model {
    /// The plugin's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ridge => "ridge-mmm",
            Self::Bayes => "bayes-mmm",
        }
    }

    /// `ridge`, `ridge-mmm`, `bayes` or `bayes-mmm`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "ridge" | "ridge-mmm" => Some(Self::Ridge),
            "bayes" | "bayes-mmm" => Some(Self::Bayes),
            _ => None,
        }
    }
}

/// What a fit said about the channels, and how it went.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// ROI per channel, in column order.
    pub rois: Vec<f64>,
    /// 90% ROI interval per channel.
    pub intervals: Vec<[f64; 2]>,
    /// R² on the model's own test window, when it reports one.
    pub test_r2: Option<f64>,
    /// The model's own verdict on its fit (`health.trustworthy`), when it gives one.
    pub trustworthy: Option<bool>,
    /// The summary's warnings.
    pub warnings: Vec<String>,
    /// Lag-1 autocorrelation of the fit's residuals (decomposition
    /// `actual - fitted`): near 0 when the model has found the structure.
    pub residual_autocorrelation: f64,
    /// Wall-clock seconds of the fit.
    pub seconds: f64,
    /// The whole summary.
    pub summary: Value,
}

/// The dataset as the table a tenant would upload.
pub fn table(data: &Dataset) -> Table {
    let mut t = Table::new();
    t.set_dates("date", &data.dates).expect("dates");
    t.set_f64(&data.kpi_name, data.kpi.clone()).expect("kpi");
    for (name, values) in data.media.iter().chain(&data.controls) {
        t.set_f64(name, values.clone()).expect("column");
    }
    t
}

/// The dataset's column roles.
pub fn roles(data: &Dataset) -> Roles {
    let r = data.roles();
    Roles {
        date: r.date,
        kpi: r.kpi,
        media: r.media,
        controls: r.controls,
    }
}

/// Fits `model` with `params` (JSON) and `experiments`.
///
/// # Errors
/// What the model's fit returned.
pub fn run(
    model: Model,
    data: &Dataset,
    params: &str,
    experiments: &[Experiment],
) -> Result<Outcome> {
    let (table, roles) = (table(data), roles(data));
    let started = Instant::now();
    let fit = match model {
        Model::Ridge => mmm_sdk::testing::run_fit_with_experiments::<ridge_mmm::RidgeMmm>(
            &table,
            roles,
            params,
            experiments.to_vec(),
        )?,
        Model::Bayes => mmm_sdk::testing::run_fit_with_experiments::<bayes_mmm::BayesMmm>(
            &table,
            roles,
            params,
            experiments.to_vec(),
        )?,
    };
    let seconds = started.elapsed().as_secs_f64();
    let residual_autocorrelation = mmm_sdk::metrics::residual_autocorrelation(
        &fit.decomposition.to_f64_vec("actual")?,
        &fit.decomposition.to_f64_vec("fitted")?,
    )
    .unwrap_or(f64::NAN);
    let summary = fit.summary;
    let channels = summary["channels"].as_array().cloned().unwrap_or_default();
    let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    Ok(Outcome {
        rois: channels.iter().map(|c| number(&c["roi"])).collect(),
        intervals: channels
            .iter()
            .map(|c| [number(&c["roi_interval"][0]), number(&c["roi_interval"][1])])
            .collect(),
        test_r2: summary["metrics"]["test"]["r2"].as_f64(),
        trustworthy: summary["health"]["trustworthy"].as_bool(),
        warnings: summary["warnings"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(|w| w.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        residual_autocorrelation,
        seconds,
        summary,
    })
}
