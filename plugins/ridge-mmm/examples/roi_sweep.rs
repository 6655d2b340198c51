//! ROI recovery over many synthetic seeds, for the model at its defaults and
//! for an "oracle" fit whose adstock and saturation parameters are pinned to
//! the truth (only the ridge penalty is searched).
//!
//! `cargo run --release -p ridge-mmm --example roi_sweep -- [FIRST LAST] [PARAMS_JSON]`
//! (default seeds 1-12, params `{"seed": 1}`; `NOISE=0.1` changes the noise).

#[path = "../tests/common/mod.rs"]
mod common;

use mmm_sdk::serde_json::{self, Value, json};
use ridge_mmm::RidgeMmm;

/// Median absolute percentage error of the fitted ROIs, and the per-channel errors.
fn roi_errors(data: &mmm_synth::Dataset, params: &Value) -> (f64, Vec<f64>) {
    let fit = mmm_sdk::testing::run_fit::<RidgeMmm>(
        &common::table(data),
        common::roles(data),
        &params.to_string(),
    )
    .unwrap();
    let per_channel: Vec<f64> = data
        .truth
        .channels
        .iter()
        .zip(fit.summary["channels"].as_array().unwrap())
        .map(|(t, f)| (f["roi"].as_f64().unwrap() - t.roi).abs() / t.roi)
        .collect();
    let mut sorted = per_channel.clone();
    sorted.sort_by(f64::total_cmp);
    (sorted[sorted.len() / 2], per_channel)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let last: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(12);
    let params: Value = args
        .get(2)
        .map_or_else(|| json!({"seed": 1}), |p| serde_json::from_str(p).unwrap());
    let (mut model_all, mut oracle_all) = (Vec::new(), Vec::new());
    for seed in first..=last {
        let data = common::dataset(seed);
        let (model, channels) = roi_errors(&data, &params);
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
        println!("seed {seed:2}: model {model:.3}  oracle {oracle:.3}  channels {channels:.2?}");
        model_all.push(model);
        oracle_all.push(oracle);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let split = 5.min(model_all.len());
    println!(
        "mean: model {:.3} (first 5: {:.3}, rest: {:.3})  oracle {:.3} (first 5: {:.3})",
        mean(&model_all),
        mean(&model_all[..split]),
        if model_all.len() > split {
            mean(&model_all[split..])
        } else {
            f64::NAN
        },
        mean(&oracle_all),
        mean(&oracle_all[..split]),
    );
}
