//! The model recovers known ROIs from synthetic data (mmm-synth defaults:
//! 156 weeks, five channels that all run in flights, 30% of the KPI from
//! media, noise 5% of the mean KPI).
//!
//! **Tolerance: over data seeds 1-5 and search seeds 1-3 (15 fits at the
//! default budget), the median absolute percentage error of the channels'
//! ROIs is at most 25% on every fit and at most 17% on average; and the
//! 90% ROI intervals hold the true ROI for at least 75% of the 75 channels.**
//!
//! Why these numbers. What the data allow: the oracle
//! (`ridge_mmm::oracle`, the regression given every true adstock and
//! saturation parameter) errs by a median 0.125 per dataset over seeds
//! 1-12: with 5% noise and each channel driving ~6% of the KPI, the noise
//! alone costs that much. Measured at the bounds' commit (search seeds
//! 1/2/3 per data seed 1-5, `cargo test -p ridge-mmm --release --test
//! accuracy -- --nocapture`): 0.083/0.150/0.192, 0.129/0.128/0.148,
//! 0.073/0.077/0.070, 0.151/0.104/0.042, 0.132/0.153/0.150: mean 0.119,
//! worst 0.192; intervals held the truth for 91% of the channels (seeds
//! 1-12 in `examples/roi_sweep.rs`: median 0.118, 92%). With the
//! hyperparameter prior (`hyper_prior` 4, chosen on the accuracy suite in
//! `host/accuracy`) the same 15 fits give a mean of 0.124 and a worst of
//! 0.236 (data seed 2, where a channel the data barely show is reported at
//! zero), while the suite's mean ROI error on this data fell from 2.4x to
//! 1.05x the oracle's: the prior removes the rare channel reported at three
//! to six times its ROI, which a median does not see. The bounds leave
//! room for harmless changes to the random stream (the search seed alone
//! moves a fit by 0.1) and fail on a real regression: reporting every
//! channel at the true total media ROI scores 0.347 here, and Robyn's
//! closest-to-origin pick on validation NRMSE 0.26-0.32. Three search
//! seeds, because one seed pins one lucky or unlucky run. 75% coverage
//! leaves room for the small sample here (75 channels).
//!
//! Not covered by the bound: channels that never go dark (`always_on`).
//! Their ROI against zero spend is an extrapolation; with two of five
//! channels always on, their median error is 0.47 while the flighted
//! channels' is 0.24 (`ALWAYS_ON=2` in the sweep); lift tests fix that
//! (`tests/calibration.rs`).

use crate::common;

use ridge_mmm::RidgeMmm;

/// Per channel: absolute percentage ROI error, and whether the interval holds the truth.
fn roi_errors(seed: u64, params: &str) -> Vec<(f64, bool)> {
    let data = common::dataset(seed);
    let fit =
        mmm_sdk::testing::run_fit::<RidgeMmm>(&common::table(&data), common::roles(&data), params)
            .unwrap();
    data.truth
        .channels
        .iter()
        .zip(fit.summary["channels"].as_array().unwrap())
        .map(|(truth, fitted)| {
            let roi = fitted["roi"].as_f64().unwrap();
            let interval = &fitted["roi_interval"];
            let (low, high) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
            assert!(low <= roi && roi <= high, "{fitted}");
            (
                (roi - truth.roi).abs() / truth.roi,
                low <= truth.roi && truth.roi <= high,
            )
        })
        .collect()
}

#[test]
fn true_rois_are_recovered_at_the_default_budget() {
    let (mut medians, mut covered, mut channels) = (Vec::new(), 0, 0);
    for search_seed in 1..=3 {
        for seed in 1..=5 {
            let per_channel = roi_errors(seed, &format!(r#"{{"seed": {search_seed}}}"#));
            let mut errors: Vec<f64> = per_channel.iter().map(|c| c.0).collect();
            errors.sort_by(f64::total_cmp);
            let median = errors[errors.len() / 2];
            eprintln!(
                "data seed {seed}, search seed {search_seed}: median ROI APE {median:.3}, \
                 channels {per_channel:.3?}"
            );
            assert!(
                median <= 0.25,
                "seed {seed}/{search_seed}: median ROI APE {median}"
            );
            medians.push(median);
            covered += per_channel.iter().filter(|c| c.1).count();
            channels += per_channel.len();
        }
    }
    let mean = medians.iter().sum::<f64>() / medians.len() as f64;
    let coverage = covered as f64 / channels as f64;
    eprintln!("mean of medians {mean:.3}, intervals hold the truth for {coverage:.2}");
    assert!(mean <= 0.17, "mean median ROI APE {mean}");
    assert!(
        coverage >= 0.75,
        "90% intervals held the truth for {coverage}"
    );
}
