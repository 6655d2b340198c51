//! The platform's optimiser (`mmm_sdk::allocate`, what recommendations run)
//! on this model's `predict`, natively: within 0.1% of an exhaustive grid
//! over the same `predict`, and, on data whose true response is known, how
//! much of the truly achievable uplift its recommendation captures.

use crate::common;

use mmm_sdk::allocate::{Problem, Settings, maximise};
use mmm_sdk::prelude::*;
use mmm_sdk::scenarios::{INTERVAL_COLUMN, contribution_column};
use mmm_synth::{Dataset, SynthConfig, generate};
use ridge_mmm::{Artifact, Params};

fn fit(data: &Dataset, budget: u32) -> Artifact {
    let params = Params {
        budget,
        ..mmm_sdk::serde_json::from_str("{}").unwrap()
    };
    ridge_mmm::fit(
        &common::table(data),
        &common::roles(data),
        &params,
        &[],
        |_, _| Ok(()),
    )
    .unwrap()
    .artifact
}

/// Total media contribution of each allocation (channel totals over the history).
fn media(artifact: &Artifact, batch: &[Vec<f64>]) -> Vec<f64> {
    let mut t = Table::new();
    for (c, ch) in artifact.channels.iter().enumerate() {
        t.set_f64(&ch.name, batch.iter().map(|a| a[c]).collect())
            .unwrap();
    }
    t.set_f64(INTERVAL_COLUMN, vec![0.0; batch.len()]).unwrap();
    let out = ridge_mmm::predict::predict(artifact, &t).unwrap();
    let mut total = vec![0.0; batch.len()];
    for ch in &artifact.channels {
        for (s, v) in total
            .iter_mut()
            .zip(out.f64_column(&contribution_column(&ch.name)).unwrap())
        {
            *s += v;
        }
    }
    total
}

/// The recommendation's problem: today's budget, each channel 0.5x to 2x.
fn problem(data: &Dataset) -> (Problem, Vec<f64>, Vec<f64>, Vec<f64>) {
    let current: Vec<f64> = data.media.iter().map(|(_, x)| x.iter().sum()).collect();
    let lower: Vec<f64> = current.iter().map(|c| 0.5 * c).collect();
    let upper: Vec<f64> = current.iter().map(|c| 2.0 * c).collect();
    let problem = Problem::new(current.iter().sum(), &lower, &upper, &current).unwrap();
    let (lower, upper) = (
        (0..current.len()).map(|c| problem.lower(c)).collect(),
        (0..current.len()).map(|c| problem.upper(c)).collect(),
    );
    (problem, current, lower, upper)
}

fn recommend(artifact: &Artifact, problem: &Problem) -> Vec<f64> {
    maximise(problem, &Settings::default(), |b: &[Vec<f64>]| {
        Ok::<_, ()>(media(artifact, b))
    })
    .unwrap()
    .allocation
}

/// The best point of a grid over the first three channels (the fourth takes
/// the rest of the budget), `steps` per channel range.
fn grid_best(artifact: &Artifact, budget: f64, lower: &[f64], upper: &[f64], steps: usize) -> f64 {
    let level = |c: usize, k: usize| lower[c] + (upper[c] - lower[c]) * k as f64 / steps as f64;
    let mut best = f64::NEG_INFINITY;
    let mut batch = Vec::new();
    for i in 0..=steps {
        for j in 0..=steps {
            for k in 0..=steps {
                let (a, b, c) = (level(0, i), level(1, j), level(2, k));
                let d = budget - a - b - c;
                if d >= lower[3] && d <= upper[3] {
                    batch.push(vec![a, b, c, d]);
                }
                if batch.len() == 4096 {
                    best = media(artifact, &batch).into_iter().fold(best, f64::max);
                    batch.clear();
                }
            }
        }
    }
    media(artifact, &batch).into_iter().fold(best, f64::max)
}

#[test]
fn the_optimum_is_within_a_tenth_of_a_percent_of_an_exhaustive_grid() {
    for seed in [1, 2, 3] {
        let data = generate(&SynthConfig {
            seed,
            channels: 4,
            ..Default::default()
        });
        let artifact = fit(&data, 2000);
        let (problem, current, lower, upper) = problem(&data);
        let got = media(&artifact, &[recommend(&artifact, &problem)])[0];
        let grid = grid_best(&artifact, problem.budget(), &lower, &upper, 60);
        let now = media(&artifact, &[current])[0];
        assert!(
            grid >= now,
            "the grid holds points at least as good as today's"
        );
        assert!(
            got >= grid * (1.0 - 1e-3),
            "seed {seed}: optimiser {got:.1} vs grid {grid:.1} (today {now:.1})"
        );
    }
}

/// The share of the true achievable uplift (true optimum minus today's
/// split, both under the truth) a recommendation captures, on 12 datasets
/// (5 channels, default fit). Measured: mean 0.84 (search seeds 1 and 2:
/// 0.85, 0.86), every dataset at 0.71 or more but data seed 8 at 0.21 on
/// every search seed (the model's curves, not the optimiser, lose the rest:
/// it is within 0.1% of the grid on the model). Seed 8 is a case the data
/// cannot settle: the best fits swap most of `tv`'s effect (true ROI 3.07)
/// onto `display` (0.97); DECOMP.RSSD steering the search
/// (`search_decomp_rssd`, the default before issue #12) happened to pull
/// it back (0.66; mean 0.87, lowest 0.63) at the cost of biasing every
/// low-ROI channel upwards (`tests/wide_spread.rs`). Hence one dataset may
/// fall below 0.4, none below 0.15; the mean bound leaves room for fit noise.
#[test]
fn recommendations_capture_most_of_the_true_achievable_uplift() {
    let mut shares = Vec::new();
    for seed in 1..=12 {
        let data = common::dataset(seed);
        let artifact = fit(&data, 10_000);
        let (problem, current, lower, upper) = problem(&data);
        let recommended = recommend(&artifact, &problem);
        let truth_now = data.true_media_response(&current);
        let best = data
            .true_optimum(problem.budget(), &lower, &upper, 200)
            .unwrap();
        let achievable = best.response - truth_now;
        let captured = data.true_media_response(&recommended) - truth_now;
        let share = captured / achievable;
        eprintln!(
            "seed {seed}: true uplift achievable {achievable:.0}, captured {captured:.0} ({share:.2})"
        );
        shares.push(share);
    }
    let mean = shares.iter().sum::<f64>() / shares.len() as f64;
    eprintln!("mean share {mean:.3}; shares {shares:.2?}");
    assert!(mean >= 0.8, "mean share {mean:.3}: {shares:.2?}");
    assert!(
        shares.iter().filter(|&&s| s <= 0.4).count() <= 1 && shares.iter().all(|&s| s > 0.15),
        "at most one recommendation loses most of the uplift: {shares:.2?}"
    );
}
