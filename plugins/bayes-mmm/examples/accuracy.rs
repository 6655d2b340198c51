//! The accuracy study: on synthetic datasets with true ROIs uniform
//! in 0.4-4.0 and media 30-50% of the KPI (`SynthConfig::wide_spread`), the
//! mean absolute percentage ROI error per dataset of bayes-mmm at its
//! defaults against an oracle (a regression handed every channel's true
//! adstock and saturation, see `common::oracle`), and how often the 90% ROI intervals
//! hold the truth. With `ALWAYS_ON > 0` the last channels never go dark and
//! each gets one 8-week lift test (standard error 10% of the true lift, the
//! measurement off by a seeded normal draw of that error); the always-on
//! channels' errors are then reported apart (`NO_LIFTS=1`: without the tests).
//!
//! `cargo run --release -p bayes-mmm --example accuracy -- [FIRST LAST [ALWAYS_ON [PARAMS_JSON]]]`
//! (default seeds 1-12, no always-on channel, params `{}`).

#[path = "../tests/common/mod.rs"]
mod common;

use mmm_sdk::serde_json::Value;

/// Per channel: absolute percentage ROI error and whether the interval holds the truth.
fn errors(data: &mmm_synth::Dataset, summary: &Value) -> Vec<(f64, bool)> {
    data.truth
        .channels
        .iter()
        .zip(summary["channels"].as_array().unwrap())
        .map(|(t, f)| {
            let iv = &f["roi_interval"];
            let (lo, hi) = (iv[0].as_f64().unwrap(), iv[1].as_f64().unwrap());
            (
                (f["roi"].as_f64().unwrap() - t.roi).abs() / t.roi,
                lo <= t.roi && t.roi <= hi,
            )
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// A seeded standard normal draw (for the lift tests' measurement error).
fn normal(seed: u64, channel: usize) -> f64 {
    let h = (seed * 1_000 + channel as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let u = ((h >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    bayes_mmm::diagnostics::inverse_normal_cdf(u)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let first: u64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1);
    let last: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(12);
    let always_on: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(0);
    let params = args.get(3).cloned().unwrap_or_else(|| "{}".to_owned());
    let (mut model_means, mut oracle_means) = (vec![], vec![]);
    let (mut model_on, mut oracle_on) = (vec![], vec![]);
    let (mut covered, mut channels, mut seconds) = (0, 0, vec![]);
    for seed in first..=last {
        let data = common::wide(seed, always_on);
        let n_channels = data.media.len();
        let lifted = if std::env::var("NO_LIFTS").is_ok() {
            n_channels
        } else {
            n_channels - always_on
        };
        let lifts: Vec<_> = (lifted..n_channels)
            .map(|c| common::lift_test(&data, c, 60 + 8 * c, 0.1, normal(seed, c)))
            .collect();
        let started = std::time::Instant::now();
        let fit = mmm_sdk::testing::run_fit_with_experiments::<bayes_mmm::BayesMmm>(
            &common::table(&data),
            common::roles(&data),
            &params,
            lifts,
        )
        .unwrap();
        seconds.push(started.elapsed().as_secs_f64());
        let model = errors(&data, &fit.summary);
        let truth = common::oracle(&data);
        let e: Vec<f64> = model.iter().map(|c| c.0).collect();
        let o = truth;
        model_means.push(mean(&e));
        oracle_means.push(mean(&o));
        model_on.extend_from_slice(&e[n_channels - always_on..]);
        oracle_on.extend_from_slice(&o[n_channels - always_on..]);
        covered += model.iter().filter(|c| c.1).count();
        channels += model.len();
        let s = &fit.summary["sampler"];
        println!(
            "seed {seed:2}: mean ROI APE model {:.3} oracle {:.3}  channels {e:.2?}  in interval {:?}  \
             {:.2}s, divergences {}, max R-hat {:.3}, min ESS {:.0}",
            mean(&e),
            mean(&o),
            model.iter().map(|c| c.1).collect::<Vec<_>>(),
            seconds.last().unwrap(),
            s["divergences"],
            s["max_rhat"].as_f64().unwrap(),
            s["min_ess"].as_f64().unwrap(),
        );
    }
    let (m, o) = (mean(&model_means), mean(&oracle_means));
    println!(
        "mean over {} datasets of the per-dataset mean ROI APE: model {m:.3}, oracle {o:.3} \
         (ratio {:.2}); 90% intervals held the truth for {covered}/{channels} channels ({:.0}%); \
         mean fit {:.2}s",
        model_means.len(),
        m / o,
        100.0 * covered as f64 / channels as f64,
        mean(&seconds),
    );
    if always_on > 0 {
        let (m, o) = (mean(&model_on), mean(&oracle_on));
        println!(
            "always-on channels: mean ROI APE model {m:.3}, oracle (no lift test) {o:.3} (ratio {:.2})",
            m / o
        );
    }
}
