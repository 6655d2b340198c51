//! Synthetic data as the model sees it: an mmm-synth dataset as a `Table` and `Roles`.

#![allow(dead_code)] // each test binary uses part of it

use mmm_sdk::prelude::*;
use mmm_synth::{Adstock, Dataset, Saturation, SynthConfig, generate};
use ridge_mmm::oracle::TrueTransform;

/// The synthetic dataset for `seed`: the defaults, or with `PRESET=wide`
/// the wide-spread preset ([`SynthConfig::wide_spread`]); the environment
/// variables `NOISE` and `ALWAYS_ON` change its noise and always-on
/// channels (for the `roi_sweep` example; the tests set none of them).
pub fn dataset(seed: u64) -> Dataset {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let base = if std::env::var("PRESET").is_ok_and(|p| p == "wide") {
        SynthConfig::wide_spread(seed)
    } else {
        SynthConfig {
            seed,
            ..SynthConfig::default()
        }
    };
    generate(&SynthConfig {
        noise: env("NOISE").unwrap_or(base.noise),
        always_on: env("ALWAYS_ON").map_or(base.always_on, |v: f64| v as usize),
        ..base
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

/// The true transforms, for [`ridge_mmm::oracle::oracle`] (geometric
/// adstock and Hill saturation, the mmm-synth defaults, only).
pub fn true_transforms(data: &Dataset) -> Vec<TrueTransform> {
    data.truth
        .channels
        .iter()
        .map(|c| match (c.adstock, c.saturation) {
            (Adstock::Geometric { theta }, Saturation::Hill { alpha, gamma, .. }) => {
                TrueTransform {
                    channel: c.name.clone(),
                    theta,
                    alpha,
                    gamma,
                }
            }
            other => panic!("the ridge oracle takes geometric + Hill, not {other:?}"),
        })
        .collect()
}

pub fn true_rois(data: &Dataset) -> Vec<f64> {
    data.truth.channels.iter().map(|c| c.roi).collect()
}

/// Weeks of the lift tests [`lift_tests`] makes.
pub const LIFT_WINDOW: std::ops::Range<usize> = 60..68;

/// One lift test per always-on channel (no zero-spend week) over
/// [`LIFT_WINDOW`], as a geo holdout reads one: the test's spend is the
/// channel's spend in those weeks (`spend_change`), and the lift is the true
/// KPI it added ([`Dataset::true_lift`] against the SDK's counterfactual,
/// so the model and the truth read the test alike). The lift is exact; its
/// standard error says 10%.
pub fn lift_tests(data: &Dataset) -> Vec<mmm_sdk::experiments::Experiment> {
    data.media
        .iter()
        .enumerate()
        .filter(|(_, (_, spend))| !spend.contains(&0.0))
        .map(|(c, (name, spend))| {
            let mut e = mmm_sdk::experiments::Experiment {
                channel: name.clone(),
                start: data.dates[LIFT_WINDOW.start],
                end: data.dates[LIFT_WINDOW.end - 1],
                spend_change: spend[LIFT_WINDOW].iter().sum(),
                lift: 0.0,
                standard_error: 1.0,
            };
            let counterfactual = e.counterfactual(spend, LIFT_WINDOW);
            e.lift = data.true_lift(c, &counterfactual, LIFT_WINDOW);
            e.standard_error = 0.1 * e.lift.abs();
            e
        })
        .collect()
}
