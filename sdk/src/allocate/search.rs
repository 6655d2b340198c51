//! The three phases (global sample, local Newton, jumps) over a batch evaluator.

use super::local::{self, Model};
use super::problem::Problem;

/// How hard to search.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Random feasible allocations scored in the global phase.
    pub samples: usize,
    /// How many of the best distinct ones the local phase starts from.
    pub starts: usize,
    /// Local iterations (one batch each) per start, at most.
    pub max_iterations: usize,
    /// Rounds of jumps after the local phase.
    pub jump_rounds: usize,
    /// Seeds the global sample: the same problem and seed give the same answer.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            samples: 256,
            starts: 3,
            max_iterations: 40,
            jump_rounds: 3,
            seed: 0,
        }
    }
}

/// What the search cost.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Local iterations over all starts and rounds.
    pub iterations: usize,
    /// Evaluator calls (one `predict` each in the host).
    pub batches: usize,
    /// Allocations scored.
    pub scenarios: usize,
}

/// The best allocation found.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// Spend per channel in whole cents: meets every bound and sums to the budget.
    pub cents: Vec<i64>,
    /// The same in currency units.
    pub allocation: Vec<f64>,
    /// The response at the (unrounded) optimum.
    pub response: f64,
    /// The response to the next unit of budget there (the best marginal
    /// return among channels below their maximum; `-inf` when none is).
    pub marginal: f64,
    pub stats: Stats,
}

/// Counts what the evaluator is asked.
struct Counted<F> {
    evaluate: F,
    stats: Stats,
}

impl<F, E> Counted<F>
where
    F: FnMut(&[Vec<f64>]) -> Result<Vec<f64>, E>,
{
    fn call(&mut self, batch: &[Vec<f64>]) -> Result<Vec<f64>, E> {
        self.stats.batches += 1;
        self.stats.scenarios += batch.len();
        let values = (self.evaluate)(batch)?;
        assert_eq!(values.len(), batch.len(), "one value per allocation");
        Ok(values)
    }
}

/// Maximises the evaluator's response over the problem's feasible set.
/// `evaluate` scores a batch of allocations (one value each, higher is
/// better); its error ends the search.
pub fn maximise<F, E>(problem: &Problem, settings: &Settings, evaluate: F) -> Result<Solution, E>
where
    F: FnMut(&[Vec<f64>]) -> Result<Vec<f64>, E>,
{
    let mut counted = Counted {
        evaluate,
        stats: Stats::default(),
    };
    let free = problem.free();
    let best = if free.is_empty() {
        let x = problem.project(&problem.current);
        let value = counted.call(std::slice::from_ref(&x))?[0];
        Model {
            x,
            value,
            gradient: vec![],
            curvature: vec![],
        }
    } else {
        search(problem, &free, settings, &mut counted)?
    };
    let cents = problem.to_cents(&best.x);
    Ok(Solution {
        allocation: cents.iter().map(|&c| c as f64 / 100.0).collect(),
        cents,
        response: best.value,
        marginal: best.marginal(problem, &free),
        stats: counted.stats,
    })
}

fn search<F, E>(
    problem: &Problem,
    free: &[usize],
    settings: &Settings,
    counted: &mut Counted<F>,
) -> Result<Model, E>
where
    F: FnMut(&[Vec<f64>]) -> Result<Vec<f64>, E>,
{
    let candidates = global_sample(problem, free, settings);
    let values = counted.call(&candidates)?;
    let starts = distinct_best(problem, &candidates, &values, settings.starts.max(1));
    let mut best = local_phase(problem, free, settings, counted, starts)?;
    for _ in 0..settings.jump_rounds {
        let jumps = jumps(problem, free, &best.x);
        if jumps.is_empty() {
            break;
        }
        let values = counted.call(&jumps)?;
        let (i, &value) = values
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .expect("jumps are not empty");
        if value <= best.value + tolerance(best.value) {
            break;
        }
        let found = local_phase(problem, free, settings, counted, vec![jumps[i].clone()])?;
        if found.value <= best.value {
            break;
        }
        best = found;
    }
    Ok(best)
}

/// Improvements below this are noise in the finite differences.
fn tolerance(value: f64) -> f64 {
    1e-10 * (value.abs() + 1.0)
}

/// The current allocation, an even spread, one leaning on each channel and
/// `samples` uniform draws from the simplex, all projected onto the bounds.
fn global_sample(problem: &Problem, free: &[usize], settings: &Settings) -> Vec<Vec<f64>> {
    let n = problem.channels();
    let lower: Vec<f64> = (0..n).map(|c| problem.lower(c)).collect();
    let upper: Vec<f64> = (0..n).map(|c| problem.upper(c)).collect();
    let spare = problem.budget() - lower.iter().sum::<f64>();
    let mut out = vec![
        problem.project(&problem.current),
        problem.project(
            &lower
                .iter()
                .zip(&upper)
                .map(|(l, u)| 0.5 * (l + u))
                .collect::<Vec<_>>(),
        ),
    ];
    for &c in free {
        let mut y = lower.clone();
        y[c] = upper[c];
        out.push(problem.project(&y));
    }
    let mut rng = SplitMix(settings.seed ^ 0x9e37_79b9_7f4a_7c15);
    for _ in 0..settings.samples {
        // Normalised exponentials are uniform on the simplex.
        let draws: Vec<f64> = free.iter().map(|_| -(1.0 - rng.unit()).ln()).collect();
        let total: f64 = draws.iter().sum();
        let mut y = lower.clone();
        for (&c, w) in free.iter().zip(&draws) {
            y[c] += spare * w / total;
        }
        out.push(problem.project(&y));
    }
    out
}

/// The `k` best candidates at least 2% of the budget apart (L1).
fn distinct_best(
    problem: &Problem,
    candidates: &[Vec<f64>],
    values: &[f64],
    k: usize,
) -> Vec<Vec<f64>> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let apart = 0.02 * problem.budget();
    let mut picked: Vec<Vec<f64>> = Vec::with_capacity(k);
    for i in order {
        let far = picked.iter().all(|p| {
            p.iter()
                .zip(&candidates[i])
                .map(|(a, b)| (a - b).abs())
                .sum::<f64>()
                > apart
        });
        if far {
            picked.push(candidates[i].clone());
            if picked.len() == k {
                break;
            }
        }
    }
    picked
}

/// One local run per start, all advanced together so each iteration is one
/// batch; returns the best end point.
fn local_phase<F, E>(
    problem: &Problem,
    free: &[usize],
    settings: &Settings,
    counted: &mut Counted<F>,
    starts: Vec<Vec<f64>>,
) -> Result<Model, E>
where
    F: FnMut(&[Vec<f64>]) -> Result<Vec<f64>, E>,
{
    const TRIALS: [f64; 3] = [1.0, 0.5, 0.25];
    let width = 2 * free.len() + 1;
    let batch: Vec<Vec<f64>> = starts
        .iter()
        .flat_map(|x| local::stencil(problem, free, x))
        .collect();
    let values = counted.call(&batch)?;
    let widest = free
        .iter()
        .map(|&c| problem.upper(c) - problem.lower(c))
        .fold(0.0, f64::max);
    let min_radius = 1e-3 * local::step(problem, free[0]).min(widest);
    let mut runs: Vec<(Model, f64, bool)> = starts
        .into_iter()
        .enumerate()
        .map(|(i, x)| {
            let model = Model::from_stencil(problem, free, x, &values[i * width..(i + 1) * width]);
            (model, 0.25 * widest, false)
        })
        .collect();
    for _ in 0..settings.max_iterations {
        let mut plans = Vec::new();
        let mut batch = Vec::new();
        for (r, (model, radius, done)) in runs.iter_mut().enumerate() {
            if *done {
                continue;
            }
            let (d, gain) = model.step(problem, free, *radius);
            if gain <= tolerance(model.value) {
                *done = true;
                continue;
            }
            for t in TRIALS {
                let y: Vec<f64> = model.x.iter().zip(&d).map(|(x, d)| x + t * d).collect();
                let y = problem.project(&y);
                batch.extend(local::stencil(problem, free, &y));
                plans.push((r, t, y));
            }
        }
        if plans.is_empty() {
            break;
        }
        counted.stats.iterations += plans.len() / TRIALS.len();
        let values = counted.call(&batch)?;
        for (r, group) in plans
            .chunks(TRIALS.len())
            .zip(values.chunks(width * TRIALS.len()))
        {
            let run = r[0].0;
            let (best, t) = (0..TRIALS.len())
                .map(|k| (k, r[k].1))
                .max_by(|a, b| group[a.0 * width].total_cmp(&group[b.0 * width]))
                .expect("three trials");
            let (model, radius, done) = &mut runs[run];
            if group[best * width] > model.value + tolerance(model.value) {
                let x = r[best].2.clone();
                *model =
                    Model::from_stencil(problem, free, x, &group[best * width..(best + 1) * width]);
                *radius = if t == 1.0 {
                    (*radius * 2.0).min(widest)
                } else {
                    *radius * t
                };
            } else {
                *radius *= 0.125;
            }
            if *radius < min_radius {
                *done = true;
            }
        }
    }
    Ok(runs
        .into_iter()
        .map(|(m, _, _)| m)
        .max_by(|a, b| a.value.total_cmp(&b.value))
        .expect("at least one start"))
}

/// Every free channel set to 0%, 25%, ..., 100% of its range, the others
/// rebalanced to the budget around `x`.
fn jumps(problem: &Problem, free: &[usize], x: &[f64]) -> Vec<Vec<f64>> {
    let mut out = Vec::new();
    for &c in free {
        for q in [0.0, 0.25, 0.5, 0.75, 1.0] {
            let level = problem.lower(c) + q * (problem.upper(c) - problem.lower(c));
            if (level - x[c]).abs() < 0.05 * (problem.upper(c) - problem.lower(c)) {
                continue;
            }
            let mut y = x.to_vec();
            // Others absorb the change in proportion to their room.
            let change = level - x[c];
            y[c] = level;
            let others: Vec<usize> = free.iter().copied().filter(|&o| o != c).collect();
            let room: f64 = others
                .iter()
                .map(|&o| {
                    if change > 0.0 {
                        x[o] - problem.lower(o)
                    } else {
                        problem.upper(o) - x[o]
                    }
                })
                .sum();
            if room < change.abs() - 1e-9 {
                continue;
            }
            for &o in &others {
                let share = if change > 0.0 {
                    x[o] - problem.lower(o)
                } else {
                    problem.upper(o) - x[o]
                };
                y[o] -= change * share / room.max(f64::MIN_POSITIVE);
            }
            out.push(y);
        }
    }
    out
}

/// A small deterministic generator (SplitMix64): the SDK keeps no RNG dependency.
struct SplitMix(u64);

impl SplitMix {
    fn unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An S-shaped channel (Hill alpha 3) next to a concave one.
    fn response(x: &[f64]) -> f64 {
        let s = |v: f64, k: f64, a: f64| v.powf(a) / (v.powf(a) + k.powf(a));
        100.0 * s(x[0], 40.0, 3.0) + 40.0 * s(x[1], 20.0, 1.0) + 30.0 * s(x[2], 30.0, 1.0)
    }

    fn brute_force(budget: f64) -> f64 {
        let mut best = f64::NEG_INFINITY;
        let steps = 400;
        for i in 0..=steps {
            for j in 0..=(steps - i) {
                let (a, b) = (
                    budget * i as f64 / steps as f64,
                    budget * j as f64 / steps as f64,
                );
                best = best.max(response(&[a, b, budget - a - b]));
            }
        }
        best
    }

    #[test]
    fn finds_the_global_optimum_past_an_s_curve_from_a_bad_start() {
        // Starting with the S-shaped channel dark: its gradient there is zero.
        let problem = Problem::new(100.0, &[0.0; 3], &[100.0; 3], &[0.0, 50.0, 50.0]).unwrap();
        let settings = Settings {
            samples: 16,
            ..Settings::default()
        };
        let answer = maximise(&problem, &settings, |b: &[Vec<f64>]| {
            Ok::<_, ()>(b.iter().map(|x| response(x)).collect())
        })
        .unwrap();
        let best = brute_force(100.0);
        let got = response(&answer.allocation);
        assert!(
            got >= best * (1.0 - 1e-4),
            "{got} vs grid {best}: {:?}",
            answer.allocation
        );
        assert_eq!(answer.cents.iter().sum::<i64>(), 10_000);
        assert!(answer.allocation[0] > 30.0, "{:?}", answer.allocation);
        assert!(answer.stats.batches < 60, "{:?}", answer.stats);
    }

    #[test]
    fn fixed_channels_stay_and_errors_stop_the_search() {
        let problem = Problem::new(
            100.0,
            &[20.0, 0.0, 0.0],
            &[20.0, 100.0, 100.0],
            &[20.0, 40.0, 40.0],
        )
        .unwrap();
        let answer = maximise(&problem, &Settings::default(), |b: &[Vec<f64>]| {
            Ok::<_, ()>(b.iter().map(|x| response(x)).collect())
        })
        .unwrap();
        assert_eq!(answer.cents[0], 2000);
        let failed = maximise(&problem, &Settings::default(), |_: &[Vec<f64>]| {
            Err::<Vec<f64>, _>("down")
        });
        assert_eq!(failed.unwrap_err(), "down");
    }

    #[test]
    fn the_same_seed_gives_the_same_answer() {
        let problem = Problem::new(100.0, &[0.0; 3], &[100.0; 3], &[30.0, 30.0, 40.0]).unwrap();
        let run = || {
            maximise(&problem, &Settings::default(), |b: &[Vec<f64>]| {
                Ok::<_, ()>(b.iter().map(|x| response(x)).collect())
            })
            .unwrap()
        };
        assert_eq!(run(), run());
    }
}
