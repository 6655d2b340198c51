//! ROI recovery over many synthetic seeds: the model at the given params
//! against the oracle ([`ridge_mmm::oracle`]: the regression handed the
//! true transforms) and against the naive answer "every channel has the
//! total media ROI"; how often the 90% ROI intervals hold the truth; and
//! how far channels whose true ROI is below the dataset's total media ROI
//! are reported above it (the pull towards the spend split).
//!
//! `cargo run --release -p ridge-mmm --example roi_sweep -- [FIRST LAST] [PARAMS_JSON]`
//! (default seeds 1-12, params `{"seed": 1}`). Environment: `PRESET=wide`
//! for mmm-synth's wide-spread preset (ROIs 0.4-4, media 30-50% of the
//! KPI), `NOISE=0.02` changes the noise, `ALWAYS_ON=2` makes the last two
//! channels never go dark, `LIFT=1` gives each always-on channel an
//! eight-week lift test made from the truth (see `tests/calibration.rs`).

#[path = "../tests/common/mod.rs"]
mod common;

use mmm_sdk::serde_json::{self, Value, json};
use ridge_mmm::RidgeMmm;
use ridge_mmm::oracle::{oracle, roi_errors};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// The model's ROIs and whether each interval holds the truth.
fn model_rois(data: &mmm_synth::Dataset, params: &Value) -> (Vec<f64>, Vec<bool>) {
    let experiments = if std::env::var("LIFT").is_ok() {
        common::lift_tests(data)
    } else {
        Vec::new()
    };
    let fit = mmm_sdk::testing::run_fit_with_experiments::<RidgeMmm>(
        &common::table(data),
        common::roles(data),
        &params.to_string(),
        experiments,
    )
    .unwrap();
    let fitted = fit.summary["channels"].as_array().unwrap();
    data.truth
        .channels
        .iter()
        .zip(fitted)
        .map(|(t, f)| {
            let interval = &f["roi_interval"];
            let (lo, hi) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
            (f["roi"].as_f64().unwrap(), lo <= t.roi && t.roi <= hi)
        })
        .unzip()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let last: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(12);
    let params: Value = args
        .get(2)
        .map_or_else(|| json!({"seed": 1}), |p| serde_json::from_str(p).unwrap());
    let (mut model_means, mut oracle_means, mut model_medians, mut oracle_medians) =
        (vec![], vec![], vec![], vec![]);
    let (mut naive_all, mut low_ratio, mut covered) = (vec![], vec![], vec![]);
    let (mut flighted_errors, mut always_on_errors) = (vec![], vec![]);
    for seed in first..=last {
        let data = common::dataset(seed);
        let truth = common::true_rois(&data);
        let (rois, inside) = model_rois(&data, &params);
        let errors = roi_errors(rois.iter().copied(), &truth);
        let oracle_fit = oracle(
            &common::table(&data),
            &common::roles(&data),
            &common::true_transforms(&data),
            &mmm_sdk::params::parse(&params.to_string()).unwrap(),
        )
        .unwrap();
        let oracle_errors = oracle_fit.roi_errors(&truth);
        let channels = &data.truth.channels;
        let total_roi = channels.iter().map(|c| c.contribution).sum::<f64>()
            / channels.iter().map(|c| c.spend).sum::<f64>();
        naive_all.push(mean(
            &channels
                .iter()
                .map(|c| (total_roi - c.roi).abs() / c.roi)
                .collect::<Vec<_>>(),
        ));
        for (c, e) in errors.iter().enumerate() {
            if data.media[c].1.contains(&0.0) {
                flighted_errors.push(*e);
            } else {
                always_on_errors.push(*e);
            }
            if truth[c] < total_roi {
                low_ratio.push(rois[c] / truth[c]);
            }
        }
        covered.extend(inside.iter().copied());
        let (m, o) = (mean(&errors), mean(&oracle_errors));
        println!(
            "seed {seed:2}: mean error model {m:.3} oracle {o:.3} ({:.2}x)  median model {:.3} \
             oracle {:.3}  true {truth:.2?} model {rois:.2?} in interval {inside:?}",
            m / o,
            median(errors.clone()),
            median(oracle_errors.clone()),
        );
        model_means.push(m);
        oracle_means.push(o);
        model_medians.push(median(errors));
        oracle_medians.push(median(oracle_errors));
    }
    println!(
        "mean ROI error per dataset, averaged: model {:.3}  oracle {:.3}  ({:.2}x)  naive {:.3}",
        mean(&model_means),
        mean(&oracle_means),
        mean(&model_means) / mean(&oracle_means),
        mean(&naive_all)
    );
    println!(
        "median ROI error per dataset, averaged: model {:.3}  oracle {:.3}",
        mean(&model_medians),
        mean(&oracle_medians)
    );
    println!(
        "channels below the total media ROI: reported / true ROI median {:.2} ({} channels)",
        median(low_ratio.clone()),
        low_ratio.len()
    );
    println!(
        "median channel error: flighted {:.3} ({} channels), always-on {} ({} channels); \
         90% intervals hold the truth for {:.0}% of channels",
        median(flighted_errors.clone()),
        flighted_errors.len(),
        if always_on_errors.is_empty() {
            "-".to_owned()
        } else {
            format!("{:.3}", median(always_on_errors.clone()))
        },
        always_on_errors.len(),
        100.0 * covered.iter().filter(|&&c| c).count() as f64 / covered.len() as f64,
    );
}
