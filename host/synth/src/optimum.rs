//! The truth's response to other budgets and its best budget allocation:
//! the reference a budget optimiser's recommendation is scored against.

use std::fmt;

use crate::media::Saturation;
use crate::{ChannelTruth, Dataset};

/// Refinement zooms in by this factor per level.
const SHRINK: f64 = 10.0;
/// Refinement levels after the coarse lattice: the final step is the coarse
/// one over `SHRINK^LEVELS`.
const LEVELS: usize = 4;
/// Half-width of a refinement window, in its own steps: two steps of the
/// level before, so the window covers the coarse winner's neighbourhood.
const WINDOW: usize = 20;
/// Re-centrings allowed per level when the winner sits on a window edge.
const MAX_MOVES: usize = 100;

/// The truth's best allocation of a budget across channels.
#[derive(Debug, Clone, PartialEq)]
pub struct TrueOptimum {
    /// Total spend per channel, in `media` order; sums to the budget.
    pub allocation: Vec<f64>,
    /// The true media contribution it buys:
    /// [`Dataset::true_media_response`] of `allocation`.
    pub response: f64,
}

/// Why [`Dataset::true_optimum`] has no answer.
#[derive(Debug, Clone, PartialEq)]
pub enum OptimumError {
    /// `lower` or `upper` does not have one entry per channel.
    Length {
        /// Channels in the dataset.
        channels: usize,
        /// Entries in `lower`.
        lower: usize,
        /// Entries in `upper`.
        upper: usize,
    },
    /// The budget is negative or not finite.
    Budget(f64),
    /// A channel's bounds are not `0 <= lower <= upper` with `lower` finite
    /// (`upper` may be infinite).
    Bounds {
        /// The channel's index.
        channel: usize,
        /// Its lower bound.
        lower: f64,
        /// Its upper bound.
        upper: f64,
    },
    /// The bounds cannot meet the budget: `sum(lower) > budget` or
    /// `sum(upper) < budget`.
    Infeasible {
        /// The budget asked for.
        budget: f64,
        /// `sum(lower)`.
        min: f64,
        /// `sum(upper)`.
        max: f64,
    },
    /// The true response is not finite anywhere on the search grid (a
    /// channel with no historical spend has no defined coefficient).
    NotFinite,
}

impl fmt::Display for OptimumError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length {
                channels,
                lower,
                upper,
            } => write!(
                f,
                "{channels} channels but {lower} lower and {upper} upper bounds"
            ),
            Self::Budget(budget) => write!(f, "budget {budget} is not a finite amount >= 0"),
            Self::Bounds {
                channel,
                lower,
                upper,
            } => write!(
                f,
                "channel {channel}: bounds [{lower}, {upper}] are not 0 <= lower <= upper"
            ),
            Self::Infeasible { budget, min, max } => write!(
                f,
                "budget {budget} is outside what the bounds allow, [{min}, {max}]"
            ),
            Self::NotFinite => write!(f, "the true response is not finite on the search grid"),
        }
    }
}

impl std::error::Error for OptimumError {}

impl Dataset {
    /// Channel `channel`'s true contribution per period to `spend`,
    /// carryover starting at zero ([`ChannelTruth::response`]). On the
    /// channel's own history it is `contributions[channel]` exactly.
    ///
    /// # Panics
    /// If `channel` is not a channel index.
    pub fn true_contribution(&self, channel: usize, spend: &[f64]) -> Vec<f64> {
        self.truth.channels[channel].response(spend)
    }

    /// Total true media contribution over the history's weeks when channel
    /// `c` spends `totals[c]` in total, spread over the weeks like its
    /// historical spend (flat for a channel that never spent), carryover
    /// from zero. At the historical totals this is the sum of the truth's
    /// channel contributions.
    ///
    /// Keeping each channel's weekly pattern makes a budget a vector of
    /// totals, which is what a budget optimiser recommends.
    ///
    /// # Panics
    /// If `totals` does not have one entry per channel.
    pub fn true_media_response(&self, totals: &[f64]) -> f64 {
        assert_eq!(
            totals.len(),
            self.truth.channels.len(),
            "one total per channel"
        );
        self.curves()
            .iter()
            .zip(totals)
            .map(|(curve, &total)| curve.at(total))
            .sum()
    }

    /// The allocation of `budget` with `lower[c] <= allocation[c] <=
    /// upper[c]` that maximises [`Dataset::true_media_response`], by
    /// exhaustive search on a grid; `steps` sets the coarse grid (use 200;
    /// it is raised to at least the number of channels).
    ///
    /// Why a grid and not a gradient method: the true curves are Hill
    /// curves, S-shaped for `alpha > 1`, so the problem is not concave and a
    /// local method can stop in the wrong basin (typically with a channel
    /// switched off or on when the other choice is better). This function is
    /// the reference such methods are checked against, so it must not share
    /// their assumptions. The response is a sum of one-dimensional curves, so
    /// the best point of a lattice is found exactly by dynamic programming
    /// over channels (best total for every cumulative number of budget
    /// increments), at `O(channels * steps^2)` rather than `steps^channels`.
    ///
    /// The lattice divides the free budget (`budget - sum(lower)`, or
    /// `sum(upper) - budget` when that is smaller, stepping down from the
    /// upper bounds) into `steps` equal increments, so every lattice point
    /// spends the budget exactly; stepping from the tighter side guarantees
    /// the lattice holds a feasible point once `steps >= channels`.
    ///
    /// Accuracy: within one basin the lattice optimum loses to the
    /// continuous one only at second order in the step. It is refined four
    /// times, each on a tenfold finer lattice within two previous steps of
    /// the winner (re-centred whenever the winner sits on the window's
    /// edge), and channels within a step of a bound are moved onto it when
    /// that pays (a lattice centred on an interior point cannot reach a
    /// binding bound, and missing it costs at first order). That converges
    /// onto the winning basin's continuous optimum to ~1e-12 relative.
    ///
    /// What refinement cannot fix is a coarse lattice that picks the wrong
    /// basin: with S-shaped curves a channel's best small spend can sit
    /// between lattice points that are both worse than switching it off.
    /// Over 30 seeds of 5 channels and four sets of bounds, against
    /// `steps = 5000`: `steps = 10` missed by up to 7%, `steps = 50` by up
    /// to 1.4e-4, `steps >= 100` by under 2e-12. Hence 200 (about 5 ms for
    /// 5 channels even unoptimised; the work grows as `steps^2`).
    ///
    /// # Errors
    /// [`OptimumError`] if the bounds or budget are malformed or infeasible.
    pub fn true_optimum(
        &self,
        budget: f64,
        lower: &[f64],
        upper: &[f64],
        steps: usize,
    ) -> Result<TrueOptimum, OptimumError> {
        let channels = self.truth.channels.len();
        if lower.len() != channels || upper.len() != channels {
            return Err(OptimumError::Length {
                channels,
                lower: lower.len(),
                upper: upper.len(),
            });
        }
        if !(budget.is_finite() && budget >= 0.0) {
            return Err(OptimumError::Budget(budget));
        }
        for (channel, (&lo, &up)) in lower.iter().zip(upper).enumerate() {
            // `up >= lo` is false for a NaN upper bound.
            if !(lo.is_finite() && lo >= 0.0 && up >= lo) {
                return Err(OptimumError::Bounds {
                    channel,
                    lower: lo,
                    upper: up,
                });
            }
        }
        let min: f64 = lower.iter().sum();
        let max: f64 = upper.iter().sum();
        // Bounds that meet the budget exactly may miss it by rounding.
        let tolerance = 1e-12 * budget.max(min);
        if min > budget + tolerance || max < budget - tolerance {
            return Err(OptimumError::Infeasible { budget, min, max });
        }
        let curves = self.curves();
        let allocation = if budget - min <= tolerance {
            lower.to_vec()
        } else if max - budget <= tolerance {
            upper.to_vec()
        } else {
            let lattice = Lattice::new(budget, lower, upper, steps.max(channels));
            let coarse = lattice.best(&curves).ok_or(OptimumError::NotFinite)?;
            refine(&curves, coarse, lower, upper, lattice.step)
        };
        let response = curves
            .iter()
            .zip(&allocation)
            .map(|(curve, &total)| curve.at(total))
            .sum();
        Ok(TrueOptimum {
            allocation,
            response,
        })
    }

    fn curves(&self) -> Vec<Curve> {
        self.truth
            .channels
            .iter()
            .zip(&self.media)
            .map(|(truth, (_, history))| Curve::new(truth, history))
            .collect()
    }
}

/// One channel's true total contribution over the history as a function of
/// its total spend, spread over the weeks like its historical spend.
///
/// Adstock is linear, so spend `T p_t` adstocks to `T A_t` with `A` the
/// adstocked pattern. For a Hill curve the term is `T^alpha A_t^alpha /
/// (T^alpha A_t^alpha + k^alpha)`: one `powf` per evaluation instead of two
/// per week, which is what keeps the grid search fast; other curves are
/// evaluated week by week.
struct Curve {
    coefficient: f64,
    saturation: Saturation,
    /// For Hill, `A_t^alpha`; otherwise `A_t`; only weeks with positive adstock (the others add 0).
    weights: Vec<f64>,
}

impl Curve {
    fn new(truth: &ChannelTruth, history: &[f64]) -> Self {
        let sum: f64 = history.iter().sum();
        let pattern: Vec<f64> = if sum > 0.0 {
            history.iter().map(|x| x / sum).collect()
        } else {
            vec![1.0 / history.len() as f64; history.len()]
        };
        let positive = truth
            .adstock
            .apply(&pattern)
            .into_iter()
            .filter(|&a| a > 0.0);
        Self {
            coefficient: truth.coefficient,
            saturation: truth.saturation,
            weights: match truth.saturation {
                Saturation::Hill { alpha, .. } => positive.map(|a| a.powf(alpha)).collect(),
                _ => positive.collect(),
            },
        }
    }

    fn at(&self, total: f64) -> f64 {
        // Zero or negative spend adstocks to <= 0, where every curve is 0.
        if total <= 0.0 {
            return 0.0;
        }
        let saturated: f64 = match self.saturation {
            Saturation::Hill {
                alpha, inflexion, ..
            } => {
                let (scale, k_alpha) = (total.powf(alpha), inflexion.powf(alpha));
                self.weights
                    .iter()
                    .map(|w| {
                        let s = scale * w;
                        s / (s + k_alpha)
                    })
                    .sum()
            }
            other => self.weights.iter().map(|w| other.at(total * w)).sum(),
        };
        self.coefficient * saturated
    }
}

/// The coarse grid: channel `c` spends `anchor[c] + sign * i * step` for
/// `i` in `0..=counts[c]`, and a point spends the budget when its `i`s sum
/// to `units`.
struct Lattice {
    anchor: Vec<f64>,
    sign: f64,
    step: f64,
    counts: Vec<usize>,
    units: usize,
    lower: Vec<f64>,
    upper: Vec<f64>,
}

impl Lattice {
    /// Needs `sum(lower) < budget < sum(upper)` and `units >= lower.len()`.
    fn new(budget: f64, lower: &[f64], upper: &[f64], units: usize) -> Self {
        let below = budget - lower.iter().sum::<f64>();
        let above = upper.iter().sum::<f64>() - budget;
        // With `free` the smaller of the two, the ranges sum to at least
        // `2 free`, so the counts (each at most one step short of its range)
        // sum to at least `units` when `units >= channels`.
        let (anchor, sign, free) = if below <= above {
            (lower, 1.0, below)
        } else {
            (upper, -1.0, above)
        };
        let step = free / units as f64;
        let counts = lower
            .iter()
            .zip(upper)
            .map(|(lo, up)| ((up - lo) / step + 1e-9).floor().min(units as f64) as usize)
            .collect();
        Self {
            anchor: anchor.to_vec(),
            sign,
            step,
            counts,
            units,
            lower: lower.to_vec(),
            upper: upper.to_vec(),
        }
    }

    fn point(&self, c: usize, i: usize) -> f64 {
        (self.anchor[c] + self.sign * i as f64 * self.step).clamp(self.lower[c], self.upper[c])
    }

    /// The lattice point with the highest true response.
    fn best(&self, curves: &[Curve]) -> Option<Vec<f64>> {
        let tables: Vec<Vec<f64>> = curves
            .iter()
            .enumerate()
            .map(|(c, curve)| {
                (0..=self.counts[c])
                    .map(|i| curve.at(self.point(c, i)))
                    .collect()
            })
            .collect();
        let picks = best_on_grid(&tables, self.units)?;
        Some(
            picks
                .iter()
                .enumerate()
                .map(|(c, &i)| self.point(c, i))
                .collect(),
        )
    }
}

/// Polishes a lattice winner `x` on ever finer lattices around it: at each
/// level, every channel may move up to `WINDOW` steps either way (within its
/// bounds) with the moves summing to zero, so the budget stays spent and `x`
/// itself is always a candidate (the response never drops).
fn refine(
    curves: &[Curve],
    mut x: Vec<f64>,
    lower: &[f64],
    upper: &[f64],
    coarse: f64,
) -> Vec<f64> {
    let mut step = coarse;
    for _ in 0..LEVELS {
        step /= SHRINK;
        for _ in 0..MAX_MOVES {
            let reach: Vec<(usize, usize)> = (0..x.len())
                .map(|c| {
                    let room = |r: f64| (r / step).floor().min(WINDOW as f64) as usize;
                    (room(x[c] - lower[c]), room(upper[c] - x[c]))
                })
                .collect();
            let at = |c: usize, i: usize| {
                (x[c] + (i as f64 - reach[c].0 as f64) * step).clamp(lower[c], upper[c])
            };
            let tables: Vec<Vec<f64>> = curves
                .iter()
                .enumerate()
                .map(|(c, curve)| {
                    (0..=reach[c].0 + reach[c].1)
                        .map(|i| curve.at(at(c, i)))
                        .collect()
                })
                .collect();
            let units = reach.iter().map(|r| r.0).sum();
            let Some(picks) = best_on_grid(&tables, units) else {
                return x;
            };
            let on_edge = picks.iter().zip(&reach).any(|(&i, &(down, up))| {
                (i == 0 && down == WINDOW) || (i == down + up && up == WINDOW)
            });
            x = picks.iter().enumerate().map(|(c, &i)| at(c, i)).collect();
            if !on_edge {
                break;
            }
        }
        snap(curves, &mut x, lower, upper, step);
    }
    x
}

/// Puts each channel that is within `step` of a bound onto it when that
/// pays, trading the difference with whichever other channel gains most.
///
/// A lattice centred on an interior point reaches a bound only to within a
/// step, and at a binding bound the channel's marginal return differs from
/// the others', so that last fraction of a step costs at first order (about
/// `1 / steps` of the response, not the lattice's `(1 / steps)^2`).
fn snap(curves: &[Curve], x: &mut [f64], lower: &[f64], upper: &[f64], step: f64) {
    let response = |x: &[f64]| -> f64 { curves.iter().zip(x).map(|(c, &t)| c.at(t)).sum() };
    let mut current = response(x);
    for c in 0..x.len() {
        let target = if upper[c] - x[c] <= step {
            upper[c]
        } else if x[c] - lower[c] <= step {
            lower[c]
        } else {
            continue;
        };
        let delta = target - x[c];
        if delta == 0.0 {
            continue;
        }
        let mut best: Option<(Vec<f64>, f64)> = None;
        for d in (0..x.len()).filter(|&d| d != c) {
            let traded = x[d] - delta;
            if traded < lower[d] || traded > upper[d] {
                continue;
            }
            let mut moved = x.to_vec();
            moved[c] = target;
            moved[d] = traded;
            let r = response(&moved);
            if r >= best.as_ref().map_or(current, |b| b.1) {
                best = Some((moved, r));
            }
        }
        if let Some((moved, r)) = best {
            x.copy_from_slice(&moved);
            current = r;
        }
    }
}

/// Exact maximum of `sum_c tables[c][i_c]` over `i` with `sum_c i_c ==
/// units`, by dynamic programming over channels; `None` if no choice sums
/// to `units` with finite values. Returns the `i`s.
fn best_on_grid(tables: &[Vec<f64>], units: usize) -> Option<Vec<usize>> {
    // best[j]: highest total of the channels so far using j increments.
    let mut best = vec![f64::NEG_INFINITY; units + 1];
    best[0] = 0.0;
    let mut choices = Vec::with_capacity(tables.len());
    for table in tables {
        let mut next = vec![f64::NEG_INFINITY; units + 1];
        let mut choice = vec![0; units + 1];
        for (j, slot) in next.iter_mut().enumerate() {
            for (i, &value) in table.iter().enumerate().take(j + 1) {
                let total = best[j - i] + value;
                // False for NaN and for an unreachable `best[j - i]`.
                if total > *slot {
                    *slot = total;
                    choice[j] = i;
                }
            }
        }
        best = next;
        choices.push(choice);
    }
    if best[units] == f64::NEG_INFINITY {
        return None;
    }
    let mut picks = vec![0; tables.len()];
    let mut j = units;
    for (pick, choice) in picks.iter_mut().zip(&choices).rev() {
        *pick = choice[j];
        j -= *pick;
    }
    Some(picks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SynthConfig, generate};

    fn data(seed: u64, channels: usize) -> Dataset {
        generate(&SynthConfig {
            seed,
            channels,
            ..Default::default()
        })
    }

    fn totals(data: &Dataset) -> Vec<f64> {
        data.media.iter().map(|(_, s)| s.iter().sum()).collect()
    }

    fn relative(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs()
    }

    #[test]
    fn true_contribution_on_the_history_is_the_generated_contribution() {
        for seed in [1, 2, 3] {
            let data = data(seed, 5);
            for (c, (_, spend)) in data.media.iter().enumerate() {
                assert_eq!(data.true_contribution(c, spend), data.contributions[c]);
            }
        }
    }

    #[test]
    fn true_contribution_keeps_the_inflexion_fixed() {
        // Recomputing the inflexion from the series' range would make the
        // response to doubled spend the same as to the history (Hill is
        // scale-free in a / k); the true curve moves along itself instead.
        let data = data(4, 5);
        for (c, (_, spend)) in data.media.iter().enumerate() {
            let doubled: Vec<f64> = spend.iter().map(|x| 2.0 * x).collect();
            let response = data.true_contribution(c, &doubled);
            let truth = &data.truth.channels[c];
            let more: f64 = response.iter().sum();
            assert!(more > 1.01 * truth.contribution, "{c}");
            let mut adstock = 0.0;
            let (
                crate::Adstock::Geometric { theta },
                Saturation::Hill {
                    alpha, inflexion, ..
                },
            ) = (truth.adstock, truth.saturation)
            else {
                panic!("the defaults are geometric and Hill");
            };
            for (t, x) in doubled.iter().enumerate() {
                adstock = x + theta * adstock;
                let hill = if adstock > 0.0 {
                    1.0 / (1.0 + (inflexion / adstock).powf(alpha))
                } else {
                    0.0
                };
                let expected = truth.coefficient * hill;
                assert!((response[t] - expected).abs() <= 1e-12 * truth.coefficient);
            }
        }
    }

    #[test]
    fn media_response_at_the_historical_totals_is_the_truths_media_total() {
        for seed in [1, 5, 9] {
            let data = data(seed, 5);
            let truth: f64 = data.truth.channels.iter().map(|c| c.contribution).sum();
            let response = data.true_media_response(&totals(&data));
            assert!(relative(response, truth) < 1e-9, "{response} vs {truth}");
        }
    }

    #[test]
    fn media_response_spreads_totals_like_the_history_or_flat() {
        let mut data = data(6, 3);
        let n = data.dates.len();
        data.media[1].1 = vec![0.0; n];
        let scaled: Vec<f64> = data.media[0].1.iter().map(|x| 0.7 * x).collect();
        let totals = [scaled.iter().sum::<f64>(), 50_000.0, 0.0];
        let expected: f64 = data.true_contribution(0, &scaled).iter().sum::<f64>()
            + data
                .true_contribution(1, &vec![50_000.0 / n as f64; n])
                .iter()
                .sum::<f64>();
        let response = data.true_media_response(&totals);
        assert!(
            relative(response, expected) < 1e-12,
            "{response} vs {expected}"
        );
    }

    /// Every lattice point, scored by the public response, and the best.
    fn enumerate(data: &Dataset, lattice: &Lattice) -> (Vec<f64>, f64) {
        let mut best = (Vec::new(), f64::NEG_INFINITY);
        let units = lattice.units;
        for i0 in 0..=units.min(lattice.counts[0]) {
            for i1 in 0..=(units - i0).min(lattice.counts[1]) {
                let i2 = units - i0 - i1;
                if i2 > lattice.counts[2] {
                    continue;
                }
                let x: Vec<f64> = [i0, i1, i2]
                    .iter()
                    .enumerate()
                    .map(|(c, &i)| lattice.point(c, i))
                    .collect();
                let response = data.true_media_response(&x);
                if response > best.1 {
                    best = (x, response);
                }
            }
        }
        best
    }

    #[test]
    fn the_grid_search_equals_exhaustive_enumeration_for_three_channels() {
        let mut searched = 0;
        for seed in [1, 2, 3, 4] {
            let data = data(seed, 3);
            let history = totals(&data);
            let budget: f64 = history.iter().sum();
            let lower: Vec<f64> = history.iter().map(|h| 0.1 * h).collect();
            // Loose upper bounds step up from the lower ones; tight ones
            // (sum just over the budget) step down from the upper ones.
            for stretch in [3.0, 1.1] {
                let upper: Vec<f64> = history.iter().map(|h| stretch * h).collect();
                let lattice = Lattice::new(budget, &lower, &upper, 40);
                assert_eq!(lattice.sign, if stretch > 2.0 { 1.0 } else { -1.0 });
                let (x, response) = enumerate(&data, &lattice);
                let grid = lattice.best(&data.curves()).unwrap();
                assert_eq!(grid, x, "seed {seed}, stretch {stretch}");
                let optimum = data.true_optimum(budget, &lower, &upper, 40).unwrap();
                assert!(optimum.response >= response);
                assert!(relative(optimum.response, response) < 1e-2);
                searched += 1;
            }
        }
        assert_eq!(searched, 8);
    }

    #[test]
    fn the_dynamic_programme_finds_the_best_sum_of_arbitrary_tables() {
        // Non-concave tables with ties broken by value only.
        let tables = vec![
            vec![0.0, 5.0, 5.5, 9.0],
            vec![0.0, 1.0, 7.0],
            vec![2.0, 2.5, 2.6, 2.7, 8.0],
        ];
        for units in 0..=9_usize {
            let mut best = f64::NEG_INFINITY;
            for (i, a) in tables[0].iter().enumerate() {
                for (j, b) in tables[1].iter().enumerate() {
                    if let Some(c) = units.checked_sub(i + j).and_then(|k| tables[2].get(k)) {
                        best = best.max(a + b + c);
                    }
                }
            }
            match best_on_grid(&tables, units) {
                Some(picks) => {
                    assert_eq!(picks.iter().sum::<usize>(), units);
                    let total: f64 = picks.iter().zip(&tables).map(|(&i, t)| t[i]).sum();
                    assert_eq!(total, best, "units {units}");
                }
                None => assert_eq!(best, f64::NEG_INFINITY, "units {units}"),
            }
        }
        assert!(best_on_grid(&tables, 10).is_none());
    }

    #[test]
    fn the_optimum_respects_the_bounds_and_spends_the_budget() {
        for seed in [1, 2, 3] {
            let data = data(seed, 5);
            let history = totals(&data);
            let total: f64 = history.iter().sum();
            let lower: Vec<f64> = history.iter().map(|h| 0.5 * h).collect();
            let upper: Vec<f64> = history.iter().map(|h| 1.5 * h).collect();
            for budget in [0.6 * total, total, 1.3 * total, 1.49 * total] {
                let optimum = data.true_optimum(budget, &lower, &upper, 200).unwrap();
                let x = &optimum.allocation;
                assert!(
                    (0..5).all(|c| lower[c] <= x[c] && x[c] <= upper[c]),
                    "{x:?}"
                );
                let spent: f64 = x.iter().sum();
                assert!(relative(spent, budget) < 1e-9, "{spent} vs {budget}");
                assert_eq!(optimum.response, data.true_media_response(x));
            }
        }
    }

    #[test]
    fn at_the_historical_budget_the_optimum_beats_the_history() {
        for seed in [1, 2, 3, 4, 5] {
            let data = data(seed, 5);
            let history = totals(&data);
            let budget: f64 = history.iter().sum();
            let optimum = data
                .true_optimum(budget, &[0.0; 5], &[f64::INFINITY; 5], 200)
                .unwrap();
            let historical = data.true_media_response(&history);
            assert!(optimum.response >= historical, "seed {seed}");
        }
    }

    #[test]
    fn the_optimum_is_the_continuous_one_to_high_accuracy() {
        // Seed 29 at half the budget puts a channel on its upper bound.
        for (seed, floor, ceiling, share) in [
            (1, 0.2, 3.0, 1.0),
            (2, 0.2, 3.0, 1.0),
            (7, 0.2, 3.0, 1.0),
            (3, 0.0, 2.0, 0.5),
            (29, 0.0, 2.0, 0.5),
        ] {
            let data = data(seed, 5);
            let history = totals(&data);
            let budget = share * history.iter().sum::<f64>();
            let lower: Vec<f64> = history.iter().map(|h| floor * h).collect();
            let upper: Vec<f64> = history.iter().map(|h| ceiling * h).collect();
            let fine = data.true_optimum(budget, &lower, &upper, 1000).unwrap();
            let optimum = data.true_optimum(budget, &lower, &upper, 200).unwrap();
            let close = relative(optimum.response, fine.response);
            assert!(close < 1e-10, "seed {seed}: {close}");
            // No feasible transfer between two channels does better:
            // small ones, and ones that put a channel on a bound.
            let x = &optimum.allocation;
            for from in 0..5 {
                for to in (0..5).filter(|&to| to != from) {
                    let amounts = [
                        1e-3 * budget,
                        1e-5 * budget,
                        upper[to] - x[to],
                        x[from] - lower[from],
                    ];
                    for amount in amounts {
                        if amount <= 0.0
                            || x[from] - amount < lower[from]
                            || x[to] + amount > upper[to]
                        {
                            continue;
                        }
                        let mut moved = x.clone();
                        moved[from] -= amount;
                        moved[to] += amount;
                        let gain = data.true_media_response(&moved) - optimum.response;
                        assert!(gain < 1e-11 * optimum.response, "seed {seed}: {gain}");
                    }
                }
            }
        }
    }

    #[test]
    fn bounds_that_pin_the_budget_give_them_back() {
        let data = data(2, 5);
        let lower = totals(&data);
        let upper: Vec<f64> = lower.iter().map(|h| 2.0 * h).collect();
        let min: f64 = lower.iter().sum();
        let at_lower = data.true_optimum(min, &lower, &upper, 100).unwrap();
        assert_eq!(at_lower.allocation, lower);
        let max: f64 = upper.iter().sum();
        let at_upper = data.true_optimum(max, &lower, &upper, 100).unwrap();
        assert_eq!(at_upper.allocation, upper);
    }

    #[test]
    fn malformed_or_infeasible_requests_are_errors() {
        let data = data(1, 3);
        let lower = [10.0, 10.0, 10.0];
        let upper = [100.0, 100.0, 100.0];
        let optimum = |budget: f64, lower: &[f64], upper: &[f64]| {
            data.true_optimum(budget, lower, upper, 50).unwrap_err()
        };
        assert_eq!(
            optimum(100.0, &lower[..2], &upper),
            OptimumError::Length {
                channels: 3,
                lower: 2,
                upper: 3
            }
        );
        assert_eq!(
            optimum(20.0, &lower, &upper),
            OptimumError::Infeasible {
                budget: 20.0,
                min: 30.0,
                max: 300.0
            }
        );
        assert!(matches!(
            optimum(301.0, &lower, &upper),
            OptimumError::Infeasible { .. }
        ));
        for budget in [-1.0, f64::NAN, f64::INFINITY] {
            let error = optimum(budget, &lower, &upper);
            assert!(matches!(error, OptimumError::Budget(_)), "{budget}");
            assert!(error.to_string().starts_with("budget"));
        }
        for (lo, up) in [
            (-1.0, 100.0),
            (50.0, 40.0),
            (10.0, f64::NAN),
            (f64::NAN, 9.0),
        ] {
            let error = optimum(100.0, &[10.0, lo, 10.0], &[100.0, up, 100.0]);
            assert!(
                matches!(error, OptimumError::Bounds { channel: 1, .. }),
                "{lo} {up}: {error}"
            );
        }
    }
}
