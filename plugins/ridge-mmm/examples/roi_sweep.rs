//! ROI recovery over many synthetic seeds, for the model at its defaults and
//! for an "oracle" fit whose adstock and saturation parameters are pinned to
//! the truth (only the ridge penalty is searched), against the naive answer
//! "every channel has the total media ROI"; and how often the 90% ROI
//! intervals hold the truth.
//!
//! `cargo run --release -p ridge-mmm --example roi_sweep -- [FIRST LAST] [PARAMS_JSON]`
//! (default seeds 1-12, params `{"seed": 1}`; `NOISE=0.02` changes the
//! noise, `ALWAYS_ON=2` makes the last two channels never go dark).

#[path = "../tests/common/mod.rs"]
mod common;

use mmm_sdk::serde_json::{self, Value, json};
use ridge_mmm::RidgeMmm;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per-channel absolute percentage ROI errors and whether each interval holds the truth.
fn roi_errors(data: &mmm_synth::Dataset, params: &Value) -> (Vec<f64>, Vec<bool>) {
    let fit = mmm_sdk::testing::run_fit::<RidgeMmm>(
        &common::table(data),
        common::roles(data),
        &params.to_string(),
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
            (
                (f["roi"].as_f64().unwrap() - t.roi).abs() / t.roi,
                lo <= t.roi && t.roi <= hi,
            )
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
    let (mut model_all, mut oracle_all, mut naive_all) = (vec![], vec![], vec![]);
    let (mut flighted_errors, mut always_on_errors, mut covered) = (vec![], vec![], vec![]);
    for seed in first..=last {
        let data = common::dataset(seed);
        let (errors, inside) = roi_errors(&data, &params);
        let mut pinned = params.clone();
        let overrides: serde_json::Map<String, Value> = data
            .truth
            .channels
            .iter()
            .map(|c| {
                let b = json!({"theta": [c.theta, c.theta], "alpha": [c.alpha, c.alpha],
                               "gamma": [c.gamma, c.gamma]});
                (c.name.clone(), b)
            })
            .collect();
        pinned["channels"] = Value::Object(overrides);
        pinned["budget"] = json!(500);
        let (oracle, _) = roi_errors(&data, &pinned);
        let channels = &data.truth.channels;
        let total_roi = channels.iter().map(|c| c.contribution).sum::<f64>()
            / channels.iter().map(|c| c.spend).sum::<f64>();
        let naive = median(
            channels
                .iter()
                .map(|c| (total_roi - c.roi).abs() / c.roi)
                .collect(),
        );
        for (c, e) in errors.iter().enumerate() {
            let flighted = data.media[c].1.contains(&0.0);
            if flighted {
                &mut flighted_errors
            } else {
                &mut always_on_errors
            }
            .push(*e);
        }
        covered.extend(inside.iter().copied());
        let (model, oracle) = (median(errors.clone()), median(oracle));
        println!(
            "seed {seed:2}: model {model:.3}  oracle {oracle:.3}  naive {naive:.3}  channels {errors:.2?}  in interval {inside:?}"
        );
        model_all.push(model);
        oracle_all.push(oracle);
        naive_all.push(naive);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "mean of per-seed medians: model {:.3}  oracle {:.3}  naive {:.3}",
        mean(&model_all),
        mean(&oracle_all),
        mean(&naive_all)
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
