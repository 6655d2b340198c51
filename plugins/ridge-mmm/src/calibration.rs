//! Calibration with lift tests, as Robyn does it: each experiment's
//! measured lift against the lift the candidate implies, scored as
//! MAPE.LIFT (the mean absolute percentage error over the experiments), a
//! third objective of the search; the pick is then made among the models
//! whose MAPE.LIFT is within `calibration_constraint` of the best.
//!
//! **Implied lift** (the SDK's reading, [`mmm_sdk::experiments`]): the
//! channel's modelled contribution summed over the test's window with the
//! actual spend, minus the same with the counterfactual spend; carryover
//! from before the window is the same in both and carryover past it is not
//! counted. The Hill inflexion stays the one the history set. Only the
//! window differs, so per candidate and experiment the cost is the
//! counterfactual adstock over the window (`O(window)` for geometric
//! adstock, `O(window x kernel)` for Weibull) and one Hill value per period.

use std::ops::Range;

use mmm_sdk::experiments::{self, Experiment};
use mmm_sdk::prelude::*;
use mmm_sdk::saturation::Hill;
use mmm_sdk::serde_json::Value;

use crate::data::Input;
use crate::transform::AdstockHyper;

/// One lift test as the search scores it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiftTarget {
    /// Index of the channel in the media columns.
    pub channel: usize,
    /// The test's periods.
    pub window: Range<usize>,
    /// Actual minus counterfactual spend, per period of the window.
    pub spend_delta: Vec<f64>,
    /// The measured lift.
    pub lift: f64,
}

/// Checks the experiments against the data (unknown channel, dates outside
/// the data and bad fields are `invalid_input` errors naming them) and
/// prepares them for scoring.
pub fn targets(experiments: &[Experiment], input: &Input) -> Result<Vec<LiftTarget>> {
    let resolved = experiments::resolve(experiments, &input.media_names, &input.dates)?;
    experiments
        .iter()
        .zip(resolved)
        .map(|(e, (channel, window))| {
            if e.lift == 0.0 {
                return Err(Error::invalid_input(format!(
                    "experiment on `{}`: `lift` is 0, which a percentage error cannot be taken against",
                    e.channel
                )));
            }
            let spend = &input.media[channel];
            let counterfactual = e.counterfactual(spend, window.clone());
            let spend_delta = window.clone().map(|t| spend[t] - counterfactual[t]).collect();
            Ok(LiftTarget {
                channel,
                window,
                spend_delta,
                lift: e.lift,
            })
        })
        .collect()
}

/// `sum over the window of h_t - h(a_t - delta_t)`: what the channel's
/// saturated response loses over the window without the test's spend,
/// per unit of coefficient. `weights` holds the kernel of a Weibull adstock
/// (`kernel_len` long); `adstocked` and `saturated` are the actual ones.
pub fn saturated_gap(
    target: &LiftTarget,
    adstock: AdstockHyper,
    weights: &[f64],
    adstocked: &[f64],
    saturated: &[f64],
    hill: &Hill,
) -> f64 {
    let mut carry = 0.0;
    target
        .window
        .clone()
        .enumerate()
        .map(|(i, t)| {
            let delta = match adstock {
                AdstockHyper::Geometric { theta } => {
                    carry = target.spend_delta[i] + theta * carry;
                    carry
                }
                _ => (0..=i)
                    .filter(|&l| l < weights.len())
                    .map(|l| weights[l] * target.spend_delta[i - l])
                    .sum(),
            };
            saturated[t] - hill.value((adstocked[t] - delta).max(0.0))
        })
        .sum()
}

/// Mean absolute percentage error of `implied` against the targets' lifts.
pub fn mape_lift(targets: &[LiftTarget], implied: impl Iterator<Item = f64>) -> f64 {
    let total: f64 = targets
        .iter()
        .zip(implied)
        .map(|(t, i)| ((i - t.lift) / t.lift).abs())
        .sum();
    total / targets.len() as f64
}

/// The summary's `calibration` section: per experiment the channel, the
/// window's first and last date, the measured and implied lift and the
/// relative error.
pub fn section(input: &Input, targets: &[LiftTarget], implied: &[f64]) -> Value {
    let rows: Vec<Value> = targets
        .iter()
        .zip(implied)
        .map(|(t, &i)| {
            json!({
                "channel": input.media_names[t.channel],
                "window": [input.dates[t.window.start], input.dates[t.window.end - 1]],
                "periods": t.window.len(),
                "spend_change": t.spend_delta.iter().sum::<f64>(),
                "measured_lift": t.lift,
                "implied_lift": i,
                "error": ((i - t.lift) / t.lift).abs(),
            })
        })
        .collect();
    Value::Array(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gap_of_a_geometric_adstock_matches_a_recomputed_counterfactual() {
        let spend = [4.0, 2.0, 3.0, 5.0, 1.0, 2.0];
        let theta = 0.5;
        let adstock = |x: &[f64]| {
            let mut carry = 0.0;
            x.iter()
                .map(|v| {
                    carry = v + theta * carry;
                    carry
                })
                .collect::<Vec<f64>>()
        };
        let hill = Hill::new(1.5, 4.0).unwrap();
        let actual = adstock(&spend);
        let saturated: Vec<f64> = actual.iter().map(|&a| hill.value(a)).collect();
        let mut without = spend;
        without[2] = 0.0;
        without[3] = 1.0;
        let target = LiftTarget {
            channel: 0,
            window: 2..4,
            spend_delta: vec![3.0, 4.0],
            lift: 1.0,
        };
        let cf: Vec<f64> = adstock(&without).iter().map(|&a| hill.value(a)).collect();
        let expected = (saturated[2] - cf[2]) + (saturated[3] - cf[3]);
        let geometric = AdstockHyper::Geometric { theta };
        let gap = saturated_gap(&target, geometric, &[], &actual, &saturated, &hill);
        assert!((gap - expected).abs() < 1e-12, "{gap} {expected}");
        // The same through the kernel path with geometric weights.
        let weights: Vec<f64> = (0..6).map(|l| theta.powi(l)).collect();
        let kernel = AdstockHyper::WeibullCdf {
            shape: 1.0,
            scale: 0.1,
        };
        let gap = saturated_gap(&target, kernel, &weights, &actual, &saturated, &hill);
        assert!((gap - expected).abs() < 1e-12, "{gap} {expected}");
    }
}
