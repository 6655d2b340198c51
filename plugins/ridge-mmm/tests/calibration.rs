//! Lift tests calibrate the channels the data alone cannot pin.
//!
//! **Tolerance: on mmm-synth defaults with two always-on channels (data
//! seeds 1-8, one eight-week lift test per always-on channel made from the
//! truth), the always-on channels' mean ROI error is within 1.5x of the
//! oracle's (the regression handed the true transforms, no lift tests) on
//! the same channels, and at most half of what the uncalibrated fit errs.**
//!
//! Measured (`cargo test -p ridge-mmm --release --test calibration --
//! --nocapture`): always-on mean ROI error 0.239 calibrated, 0.571
//! uncalibrated, 0.350 for the oracle, which has no lift tests and so has
//! to extrapolate those channels too (over all seeds 1-12 with
//! `ALWAYS_ON=2 LIFT=1` in the sweep: always-on median 0.133 against 0.470
//! without the tests). Hence the bounds: 1.5x is the issue's target and
//! holds with room (0.68x); halving the uncalibrated error fails if the
//! search ignores the tests.
//!
//! The lift tests are exact (`common::lift_tests`): what is tested is that
//! the search uses them, not how it copes with a noisy one.

use crate::common;

use mmm_sdk::ErrorCode;
use mmm_sdk::experiments::Experiment;
use mmm_synth::{Dataset, SynthConfig, generate};
use ridge_mmm::RidgeMmm;
use ridge_mmm::oracle::{oracle, roi_errors};

fn always_on_data(seed: u64) -> Dataset {
    generate(&SynthConfig {
        seed,
        always_on: 2,
        ..SynthConfig::default()
    })
}

fn fit(data: &Dataset, experiments: Vec<Experiment>) -> mmm_sdk::testing::FitResult {
    mmm_sdk::testing::run_fit_with_experiments::<RidgeMmm>(
        &common::table(data),
        common::roles(data),
        r#"{"seed": 1}"#,
        experiments,
    )
    .unwrap()
}

fn rois(fit: &mmm_sdk::testing::FitResult) -> Vec<f64> {
    fit.summary["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["roi"].as_f64().unwrap())
        .collect()
}

#[test]
fn lift_tests_bring_always_on_channels_within_reach_of_the_oracle() {
    let (mut calibrated, mut uncalibrated, mut yardstick) = (vec![], vec![], vec![]);
    for seed in 1..=8 {
        let data = always_on_data(seed);
        let truth = common::true_rois(&data);
        let tests = common::lift_tests(&data);
        assert_eq!(tests.len(), 2);
        let with = fit(&data, tests);
        let without = fit(&data, Vec::new());
        let best = oracle(
            &common::table(&data),
            &common::roles(&data),
            &common::true_transforms(&data),
            &ridge_mmm::Params::default(),
        )
        .unwrap();
        let on = |errors: Vec<f64>| errors[3..].to_vec();
        let (c, u) = (
            on(roi_errors(rois(&with), &truth)),
            on(roi_errors(rois(&without), &truth)),
        );
        let o = on(best.roi_errors(&truth));
        eprintln!(
            "seed {seed}: always-on ROI errors calibrated {c:.3?} uncalibrated {u:.3?} oracle {o:.3?}"
        );
        let section = with.summary["calibration"].as_array().unwrap();
        assert_eq!(section.len(), 2);
        assert!(with.summary["metrics"]["mape_lift"].as_f64().unwrap() >= 0.0);
        calibrated.extend(c);
        uncalibrated.extend(u);
        yardstick.extend(o);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (c, u, o) = (mean(&calibrated), mean(&uncalibrated), mean(&yardstick));
    eprintln!("mean always-on ROI error: calibrated {c:.3}, uncalibrated {u:.3}, oracle {o:.3}");
    assert!(c <= 1.5 * o, "calibrated {c} against oracle {o}");
    assert!(c <= 0.5 * u, "calibrated {c} against uncalibrated {u}");
}

#[test]
fn the_summary_reports_each_experiment_against_what_the_model_implies() {
    let data = always_on_data(1);
    let tests = common::lift_tests(&data);
    let fit = fit(&data, tests.clone());
    let row = &fit.summary["calibration"][0];
    assert_eq!(row["channel"], tests[0].channel.as_str());
    assert_eq!(row["window"][0], tests[0].start.to_string());
    assert_eq!(row["measured_lift"].as_f64().unwrap(), tests[0].lift);
    let (implied, error) = (
        row["implied_lift"].as_f64().unwrap(),
        row["error"].as_f64().unwrap(),
    );
    assert!((error - (implied - tests[0].lift).abs() / tests[0].lift).abs() < 1e-12);
}

#[test]
fn experiments_the_data_cannot_hold_are_invalid_input_naming_the_field() {
    let data = always_on_data(1);
    let good = common::lift_tests(&data).remove(0);
    let unknown = Experiment {
        channel: "billboards".into(),
        ..good.clone()
    };
    let late = Experiment {
        start: data.dates[155] + mmm_sdk::chrono::Days::new(30),
        end: data.dates[155] + mmm_sdk::chrono::Days::new(60),
        ..good.clone()
    };
    let unsure = Experiment {
        standard_error: 0.0,
        ..good
    };
    for (bad, says) in [
        (unknown, "billboards"),
        (late, "holds no period"),
        (unsure, "standard_error"),
    ] {
        let err = mmm_sdk::testing::run_fit_with_experiments::<RidgeMmm>(
            &common::table(&data),
            common::roles(&data),
            r#"{"budget": 100}"#,
            vec![bad],
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{err}");
        assert!(err.to_string().contains(says), "{err}");
    }
}
