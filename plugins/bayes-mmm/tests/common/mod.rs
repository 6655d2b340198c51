//! Synthetic data as the model sees it: an mmm-synth dataset as a `Table`
//! and `Roles`, and lift tests that measure what the truth says.

#![allow(dead_code)] // each test binary uses its own part

use mmm_sdk::experiments::Experiment;
use mmm_sdk::prelude::*;
use mmm_synth::{Dataset, SynthConfig, generate};

/// The default synthetic dataset for `seed`; the environment variables
/// `NOISE` and `ALWAYS_ON` change its noise and always-on channels (the
/// tests set neither).
pub fn dataset(seed: u64) -> Dataset {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let defaults = SynthConfig::default();
    generate(&SynthConfig {
        seed,
        noise: env("NOISE").unwrap_or(defaults.noise),
        always_on: env("ALWAYS_ON").map_or(defaults.always_on, |v: f64| v as usize),
        ..defaults
    })
}

pub fn table(data: &Dataset) -> Table {
    let mut t = Table::new();
    t.set_dates("date", &data.dates).unwrap();
    t.set_f64(&data.kpi_name, data.kpi.clone()).unwrap();
    for (name, values) in data.media.iter().chain(&data.controls) {
        t.set_f64(name, values.clone()).unwrap();
    }
    t
}

pub fn roles(data: &Dataset) -> Roles {
    let r = data.roles();
    Roles {
        date: r.date,
        kpi: r.kpi,
        media: r.media,
        controls: r.controls,
    }
}

/// The study data: true ROIs uniform in 0.4-4.0, media 30-50% of
/// the KPI, and the last `always_on` channels never dark.
pub fn wide(seed: u64, always_on: usize) -> Dataset {
    generate(&SynthConfig {
        always_on,
        ..SynthConfig::wide_spread(seed)
    })
}

/// A lift test on `channel` over the 8 weeks from `start`: the counterfactual
/// spends nothing extra there (`spend_change` is the window's whole spend),
/// and the measured lift is the truth's, off by `error` standard errors;
/// the standard error is `relative_se` of the true lift.
pub fn lift_test(
    data: &Dataset,
    channel: usize,
    start: usize,
    relative_se: f64,
    error: f64,
) -> Experiment {
    let window = start..start + 8;
    let spend = &data.media[channel].1;
    let mut experiment = Experiment {
        channel: data.media[channel].0.clone(),
        start: data.dates[window.start],
        end: data.dates[window.end - 1],
        spend_change: spend[window.clone()].iter().sum(),
        lift: 0.0,
        standard_error: 1.0,
    };
    let counterfactual = experiment.counterfactual(spend, window.clone());
    let truth = data.true_lift(channel, &counterfactual, window);
    experiment.standard_error = relative_se * truth.abs();
    experiment.lift = truth + error * experiment.standard_error;
    experiment
}

/// The oracle: a least-squares fit handed every channel's true adstock and
/// saturation (its true saturated series), with the model's baseline
/// (intercept, trend, yearly Fourier order 2, controls) and media
/// coefficients kept non-negative; only the coefficients are estimated.
/// This is ridge-mmm's `roi_sweep` oracle (its transforms pinned to the
/// truth) without the dependency on that crate.
pub fn oracle(data: &mmm_synth::Dataset) -> Vec<f64> {
    let n = data.dates.len();
    let calendar = bayes_mmm::data::Calendar::new(&data.dates, 2);
    let mut columns: Vec<Vec<f64>> = vec![vec![0.0; n]; calendar.width()];
    let mut row = vec![0.0; calendar.width()];
    for (t, &d) in data.dates.iter().enumerate() {
        calendar.features_into(d, &mut row);
        columns.iter_mut().zip(&row).for_each(|(c, v)| c[t] = *v);
    }
    columns.extend(data.controls.iter().map(|(_, x)| x.clone()));
    let baseline = columns.len();
    for (c, truth) in data.truth.channels.iter().enumerate() {
        let saturated = data.true_contribution(c, &data.media[c].1);
        columns.push(saturated.iter().map(|v| v / truth.coefficient).collect());
    }
    let x = mmm_sdk::ndarray::Array2::from_shape_fn((n, columns.len()), |(t, j)| columns[j][t]);
    let non_negative: Vec<bool> = (0..columns.len()).map(|j| j >= baseline).collect();
    let options = mmm_sdk::regression::RidgeOptions::new(1e-6);
    let fit = mmm_sdk::regression::ridge_non_negative(x.view(), &data.kpi, &options, &non_negative)
        .unwrap();
    data.truth
        .channels
        .iter()
        .enumerate()
        .map(|(c, t)| {
            let saturated: f64 = columns[baseline + c].iter().sum();
            let roi = fit.coefficients[baseline + c] * saturated / t.spend;
            (roi - t.roi).abs() / t.roi
        })
        .collect()
}
