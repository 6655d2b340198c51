//! Lift tests on generated data, as a geo holdout would report them: one
//! 8-week test per always-on channel (the channels whose ROI the history
//! alone cannot pin), its measurement off from the truth by a seeded draw
//! of its standard error.

use mmm_sdk::experiments::Experiment;
use mmm_synth::Dataset;

/// First week of every test.
pub const START: usize = 60;
/// Weeks a test runs.
pub const WEEKS: usize = 8;

/// One lift test per channel that never goes dark, with a standard error
/// of `relative_se` of the true lift and the measurement off by a standard
/// normal draw (seeded by the data's seed and the channel) times that error.
pub fn always_on(data: &Dataset, relative_se: f64) -> Vec<Experiment> {
    let window = START..START + WEEKS;
    data.media
        .iter()
        .enumerate()
        .filter(|(_, (_, spend))| !spend.contains(&0.0))
        .map(|(c, (name, spend))| {
            let mut experiment = Experiment {
                channel: name.clone(),
                start: data.dates[window.start],
                end: data.dates[window.end - 1],
                spend_change: spend[window.clone()].iter().sum(),
                lift: 0.0,
                standard_error: 1.0,
            };
            let counterfactual = experiment.counterfactual(spend, window.clone());
            let truth = data.true_lift(c, &counterfactual, window.clone());
            experiment.standard_error = relative_se * truth.abs();
            experiment.lift = truth + normal(data.truth.seed, c) * experiment.standard_error;
            experiment
        })
        .collect()
}

/// A standard normal draw for `(seed, channel)`: SplitMix64 and Box–Muller.
fn normal(seed: u64, channel: usize) -> f64 {
    let mut state = seed.wrapping_mul(1_000).wrapping_add(channel as u64 + 1);
    let mut next = || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let (u1, u2) = (1.0 - next(), next());
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmm_synth::{SynthConfig, generate};

    #[test]
    fn one_test_per_always_on_channel_near_the_true_lift() {
        let data = generate(&SynthConfig {
            always_on: 2,
            ..SynthConfig::default()
        });
        let tests = always_on(&data, 0.1);
        assert_eq!(tests.len(), 2);
        for (test, c) in tests.iter().zip([3, 4]) {
            assert_eq!(test.channel, data.media[c].0);
            let exact = always_on(&data, 0.0)[c - 3].lift;
            assert!(exact > 0.0);
            assert!((test.lift - exact).abs() <= 4.0 * test.standard_error);
            assert_ne!(test.lift, exact);
        }
    }
}
