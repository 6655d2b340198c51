//! The model recovers known ROIs from synthetic data (mmm-synth).
//!
//! **Tolerance (measured, not yet the target): the median absolute
//! percentage error of the channels' ROIs is at most 45% on each of seeds
//! 1-5 and at most 30% averaged over them** (measured at the default
//! budget: 0.29, 0.40, 0.14, 0.41, 0.14; mean 0.27).
//!
//! Why not tighter yet: an oracle fit on the same data with every adstock
//! and saturation parameter pinned to the truth (near-OLS) scores 0.17 on
//! average (0.07-0.38 per seed): with 5% noise, five channels sharing 30%
//! of the KPI and 109 training weeks, the noise alone allows that much. The
//! search adds the rest: DECOMP.RSSD pulls effect shares towards spend
//! shares (the synthetic ROIs are drawn independently of spend, so that
//! prior is wrong here by design), and scoring on a 23-week validation
//! window lets some transforms that trade media level for intercept win.
//! These bounds guard against regressions; closing the gap to the oracle is
//! open work (see the plugin's notes).

mod common;

use ridge_mmm::RidgeMmm;

/// (median APE, per-channel APEs) of the fitted ROIs against the truth.
fn roi_errors(seed: u64, params: &str) -> (f64, Vec<f64>) {
    let data = common::dataset(seed);
    let fit =
        mmm_sdk::testing::run_fit::<RidgeMmm>(&common::table(&data), common::roles(&data), params)
            .unwrap();
    let mut errors: Vec<f64> = data
        .truth
        .channels
        .iter()
        .zip(fit.summary["channels"].as_array().unwrap())
        .map(|(truth, fitted)| (fitted["roi"].as_f64().unwrap() - truth.roi).abs() / truth.roi)
        .collect();
    let per_channel = errors.clone();
    errors.sort_by(f64::total_cmp);
    (errors[errors.len() / 2], per_channel)
}

#[test]
fn true_rois_are_recovered_at_the_default_budget() {
    let mut medians = Vec::new();
    for seed in 1..=5 {
        let (median, per_channel) = roi_errors(seed, r#"{"seed": 1}"#);
        eprintln!("seed {seed}: median ROI APE {median:.3}, channels {per_channel:.3?}");
        assert!(median <= 0.45, "seed {seed}: median ROI APE {median}");
        medians.push(median);
    }
    let mean = medians.iter().sum::<f64>() / medians.len() as f64;
    eprintln!("mean of medians {mean:.3}");
    assert!(mean <= 0.30, "mean median ROI APE {mean}");
}
