//! The noise floor: what a regression gets right when handed everything a
//! model has to find out except the coefficients.
//!
//! Columns: each channel's true saturated series (its true adstock and
//! saturation applied to its spend, the history's scale kept), the
//! baseline's true shape (linear trend, yearly Fourier order 2, the
//! controls, and the level shift's curve when the preset has one) and an
//! intercept; media coefficients kept non-negative; fitted on every period.
//! What it still gets wrong is what the noise costs any model: a model's
//! ROI error is read against it ("within 1.5x of the oracle").

use mmm_sdk::ndarray::Array2;
use mmm_sdk::regression::{RidgeOptions, ridge_non_negative};
use mmm_synth::Dataset;

/// Yearly Fourier order of the oracle's seasonality (the generator's).
const FOURIER_ORDER: usize = 2;

/// The oracle's ROI per channel, in column order.
///
/// # Panics
/// If the regression cannot be solved (it always can on generated data).
pub fn oracle(data: &Dataset) -> Vec<f64> {
    let n = data.dates.len();
    let mut columns: Vec<Vec<f64>> = vec![(0..n).map(|t| t as f64).collect()];
    let days = |t: usize| (data.dates[t] - data.dates[0]).num_days() as f64;
    for k in 1..=FOURIER_ORDER {
        let angle = |t| std::f64::consts::TAU * k as f64 * days(t) / 365.25;
        columns.push((0..n).map(|t| angle(t).sin()).collect());
        columns.push((0..n).map(|t| angle(t).cos()).collect());
    }
    if data.truth.baseline.level_shift != 0.0 {
        columns.push((0..n).map(|t| mmm_synth::shift_shape(t, n)).collect());
    }
    columns.extend(data.controls.iter().map(|(_, x)| x.clone()));
    let baseline = columns.len();
    for (c, truth) in data.truth.channels.iter().enumerate() {
        columns.push(
            data.contributions[c]
                .iter()
                .map(|v| v / truth.coefficient)
                .collect(),
        );
    }
    let x = Array2::from_shape_fn((n, columns.len()), |(t, j)| columns[j][t]);
    let non_negative: Vec<bool> = (0..columns.len()).map(|j| j >= baseline).collect();
    let fit = ridge_non_negative(x.view(), &data.kpi, &RidgeOptions::new(1e-9), &non_negative)
        .expect("the oracle's regression is well posed");
    data.truth
        .channels
        .iter()
        .enumerate()
        .map(|(c, truth)| {
            let saturated: f64 = columns[baseline + c].iter().sum();
            fit.coefficients[baseline + c] * saturated / truth.spend
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmm_synth::{SynthConfig, generate, suite};

    #[test]
    fn without_noise_the_oracle_recovers_every_roi() {
        for preset in suite::presets() {
            let data = generate(&SynthConfig {
                noise: 0.0,
                ..(preset.config)(5)
            });
            for (roi, truth) in oracle(&data).iter().zip(&data.truth.channels) {
                assert!(
                    (roi - truth.roi).abs() < 1e-4 * truth.roi,
                    "{}: {roi} vs {}",
                    preset.name,
                    truth.roi
                );
            }
        }
    }

    #[test]
    fn with_noise_it_errs_but_not_wildly() {
        let data = generate(&SynthConfig {
            noise: 0.1,
            ..SynthConfig::default()
        });
        let errors: Vec<f64> = oracle(&data)
            .iter()
            .zip(&data.truth.channels)
            .map(|(roi, t)| (roi - t.roi).abs() / t.roi)
            .collect();
        assert!(errors.iter().any(|&e| e > 1e-3));
        assert!(errors.iter().all(|&e| e < 1.0), "{errors:?}");
    }
}
