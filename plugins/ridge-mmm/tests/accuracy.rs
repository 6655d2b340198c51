//! The model recovers known ROIs from synthetic data (mmm-synth).
//!
//! **Tolerance: over data seeds 1-5 and search seeds 1-3 (15 fits at the
//! default budget), the median absolute percentage error of the channels'
//! ROIs is at most 55% on every fit and at most 35% on average.**
//!
//! Why these numbers, and why three search seeds. The error depends on the
//! search seed almost as much as on the data: on data seeds 1-5 the mean
//! is 0.255 with search seed 1 but 0.342, 0.359, 0.400, 0.462, 0.362 with
//! search seeds 2-6, so a bound checked on one search seed only pins one
//! (here the luckiest) run, and any harmless change to the random stream
//! would break or trivially pass it. Measured at the bounds' commit
//! (`cargo run --release -p ridge-mmm --example roi_sweep -- 1 12 '{"seed": S}'`):
//! per data seed 1-5, search seeds 1/2/3: 0.306/0.448/0.342,
//! 0.132/0.397/0.479, 0.247/0.333/0.311, 0.283/0.228/0.378,
//! 0.305/0.306/0.283; mean 0.318, worst 0.479. The bounds leave ~10% room
//! for harmless changes (the error moves by that much between search
//! seeds) and fail on a real regression.
//!
//! What limits it. An oracle fit with every adstock and saturation
//! parameter pinned to the truth (only the penalty searched) scores 0.207
//! on seeds 1-5 and 0.208 on 1-12: with 5% noise, five channels sharing 30%
//! of the KPI and 109 training weeks, the noise alone allows that much. The
//! searched model is further off because the data barely identify the
//! transforms (validation NRMSE is flat across the front) while
//! DECOMP.RSSD is easy to drive to ~0: the picked model's effect shares sit
//! close to the spend shares, i.e. near-equal ROIs, and the synthetic ROIs
//! are drawn independently of spend. For scale, reporting every channel at
//! the true total media ROI scores 0.289 on seeds 1-5 and 0.427 on 1-12.
//! Seeds 6-12 are harder (0.44-0.55 mean over search seeds). Alternatives
//! tried on data seeds 1-24 and two search seeds, none better beyond noise:
//! refitting the pick on train+validation, the median ROI of the top front
//! models, NRMSE tolerance bands then least RSSD or the band's median, a
//! knee-point pick, GCV on train+validation as the fit objective, other
//! lambda ranges, populations and splits, and median over restarts.
//! The transform definitions match mmm-synth's to 6e-16 (checked), so the
//! gap is estimation, not a definitional mismatch.

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
    for search_seed in 1..=3 {
        for seed in 1..=5 {
            let (median, per_channel) = roi_errors(seed, &format!(r#"{{"seed": {search_seed}}}"#));
            eprintln!(
                "data seed {seed}, search seed {search_seed}: median ROI APE {median:.3}, \
                 channels {per_channel:.3?}"
            );
            assert!(
                median <= 0.55,
                "seed {seed}/{search_seed}: median ROI APE {median}"
            );
            medians.push(median);
        }
    }
    let mean = medians.iter().sum::<f64>() / medians.len() as f64;
    eprintln!("mean of medians {mean:.3}");
    assert!(mean <= 0.35, "mean median ROI APE {mean}");
}
