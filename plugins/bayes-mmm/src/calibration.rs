//! Lift tests as likelihood terms: each adds `Normal(lift | implied, se)`,
//! with `implied` the channel's modelled contribution over the test's
//! window with the actual spend minus the same with the counterfactual
//! spend (`mmm_sdk::experiments`), the inflexion held at the fitted one.
//! The summary's `calibration` section compares each measured lift with
//! the posterior's implied lift.

use std::ops::Range;

use mmm_sdk::experiments::{Experiment, resolve};
use mmm_sdk::prelude::*;
use mmm_sdk::serde_json::Value;

use crate::data::Input;
use crate::design::Design;

/// One lift test on the sampler's scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Lift {
    pub channel: usize,
    pub window: Range<usize>,
    /// The counterfactual spend, scaled like the channel's, up to the window's end.
    pub counterfactual: Vec<f64>,
    /// Measured lift over the KPI scale.
    pub lift: f64,
    pub standard_error: f64,
}

/// Checks the experiments against the data and scales them.
pub fn lifts(experiments: &[Experiment], input: &Input, design: &Design) -> Result<Vec<Lift>> {
    let resolved = resolve(experiments, &input.media_names, &input.dates)?;
    Ok(experiments
        .iter()
        .zip(resolved)
        .map(|(e, (channel, window))| {
            let spend = &input.media[channel];
            let mut counterfactual = e.counterfactual(spend, window.clone());
            counterfactual.truncate(window.end);
            let scale = design.spend_scale[channel];
            counterfactual.iter_mut().for_each(|v| *v /= scale);
            Lift {
                channel,
                window,
                counterfactual,
                lift: e.lift / design.y_scale,
                standard_error: e.standard_error / design.y_scale,
            }
        })
        .collect())
}

/// The summary's `calibration` rows: per experiment the measured lift
/// and the posterior mean and 90% interval of the implied lift (KPI units).
pub fn section(experiments: &[Experiment], implied: &[Vec<f64>]) -> Value {
    let tests: Vec<Value> = experiments
        .iter()
        .zip(implied)
        .map(|(e, draws)| {
            let s = crate::stats::Interval::of(draws);
            json!({
                "channel": e.channel,
                "start": e.start.to_string(),
                "end": e.end.to_string(),
                "spend_change": e.spend_change,
                "measured_lift": e.lift,
                "standard_error": e.standard_error,
                "implied_lift": s.mean,
                "implied_lift_interval": [s.low, s.high],
                "z": (s.mean - e.lift) / e.standard_error,
            })
        })
        .collect();
    // One row per test, the shape every model's `calibration` shares
    // (`channel`, `spend_change`, `measured_lift`, `implied_lift`).
    Value::Array(tests)
}
