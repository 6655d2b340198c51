//! The feasible set: per-channel bounds and a total budget, held in whole
//! cents so that the answer meets both exactly, not to a float tolerance.

use thiserror::Error;

/// Why a budget and its bounds admit no allocation; each names the channel
/// (by index) or the totals at fault, so the host can say which and why.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Infeasible {
    /// A bound or the current spend is NaN, infinite or above 10^15.
    #[error("channel {channel}: a bound or the current spend is not a finite number up to 1e15")]
    NotFinite {
        /// The channel's index.
        channel: usize,
    },
    /// The budget is not a number from 0 to 10^15.
    #[error("the budget must be a number from 0 to 1e15")]
    Budget,
    /// A minimum below zero.
    #[error("channel {channel}: the minimum is negative")]
    NegativeMinimum {
        /// The channel's index.
        channel: usize,
    },
    /// A channel's minimum exceeds its maximum (after rounding both to cents).
    #[error("channel {channel}: the minimum exceeds the maximum")]
    MinimumAboveMaximum {
        /// The channel's index.
        channel: usize,
    },
    /// The minimums alone exceed the budget.
    #[error("the minimums add up to {minimums:.2}, above the budget {budget:.2}")]
    MinimumsAboveBudget {
        /// Sum of the minimums.
        minimums: f64,
        /// The budget.
        budget: f64,
    },
    /// The maximums cannot absorb the budget.
    #[error("the maximums add up to {maximums:.2}, below the budget {budget:.2}")]
    MaximumsBelowBudget {
        /// Sum of the maximums.
        maximums: f64,
        /// The budget.
        budget: f64,
    },
    /// Bounds and current spend must have one entry per channel.
    #[error("{what} has {got} entries for {channels} channels")]
    Length {
        /// Which input.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The number of channels.
        channels: usize,
    },
    /// There is nothing to allocate.
    #[error("there are no channels")]
    NoChannels,
}

/// An allocation problem: spend per channel between `lower` and `upper`,
/// summing to `budget`, all in cents.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub(crate) budget: i64,
    pub(crate) lower: Vec<i64>,
    pub(crate) upper: Vec<i64>,
    pub(crate) current: Vec<f64>,
}

/// Rounds to cents; amounts that are already whole cents in decimal
/// (`12.34` is `12.3399999...` in binary) must not lose a cent.
/// A millionth of a cent absorbs that representation error without letting
/// a real fraction of a cent through.
fn cents(value: f64, round: fn(f64) -> f64, tolerance: f64) -> i64 {
    round(value * 100.0 + tolerance) as i64
}

impl Problem {
    /// Checks the bounds against the budget. Minimums round up and maximums
    /// down to whole cents, the budget to the nearest cent. `current` is the
    /// spend the answer is compared with (one of the optimiser's starts).
    pub fn new(
        budget: f64,
        lower: &[f64],
        upper: &[f64],
        current: &[f64],
    ) -> Result<Self, Infeasible> {
        let channels = lower.len();
        if channels == 0 {
            return Err(Infeasible::NoChannels);
        }
        for (what, got) in [("upper", upper.len()), ("current", current.len())] {
            if got != channels {
                return Err(Infeasible::Length {
                    what,
                    got,
                    channels,
                });
            }
        }
        // Whole cents of every amount must sum without overflowing an i64.
        const LARGEST: f64 = 1e15;
        if !budget.is_finite() || !(0.0..=LARGEST).contains(&budget) {
            return Err(Infeasible::Budget);
        }
        for c in 0..channels {
            let amounts = [lower[c], upper[c], current[c]];
            if !amounts.iter().all(|v| v.is_finite() && *v <= LARGEST) {
                return Err(Infeasible::NotFinite { channel: c });
            }
            if lower[c] < 0.0 {
                return Err(Infeasible::NegativeMinimum { channel: c });
            }
        }
        let lower: Vec<i64> = lower.iter().map(|&l| cents(l, f64::ceil, -1e-6)).collect();
        let upper: Vec<i64> = upper.iter().map(|&u| cents(u, f64::floor, 1e-6)).collect();
        if let Some(c) = (0..channels).find(|&c| lower[c] > upper[c]) {
            return Err(Infeasible::MinimumAboveMaximum { channel: c });
        }
        let budget = cents(budget, f64::round, 0.0);
        let (minimums, maximums) = (lower.iter().sum::<i64>(), upper.iter().sum::<i64>());
        if minimums > budget {
            return Err(Infeasible::MinimumsAboveBudget {
                minimums: minimums as f64 / 100.0,
                budget: budget as f64 / 100.0,
            });
        }
        if maximums < budget {
            return Err(Infeasible::MaximumsBelowBudget {
                maximums: maximums as f64 / 100.0,
                budget: budget as f64 / 100.0,
            });
        }
        Ok(Self {
            budget,
            lower,
            upper,
            current: current.to_vec(),
        })
    }

    /// Number of channels.
    pub fn channels(&self) -> usize {
        self.lower.len()
    }

    /// The budget in currency units.
    pub fn budget(&self) -> f64 {
        self.budget as f64 / 100.0
    }

    /// Channel `c`'s minimum in currency units (rounded up to a cent).
    pub fn lower(&self, c: usize) -> f64 {
        self.lower[c] as f64 / 100.0
    }

    /// Channel `c`'s maximum in currency units (rounded down to a cent).
    pub fn upper(&self, c: usize) -> f64 {
        self.upper[c] as f64 / 100.0
    }

    /// The same bounds with another budget (for searches over the budget).
    pub fn with_budget(&self, budget_cents: i64) -> Self {
        Self {
            budget: budget_cents,
            ..self.clone()
        }
    }

    /// Channels whose spend the optimiser may move (minimum below maximum).
    pub(crate) fn free(&self) -> Vec<usize> {
        (0..self.channels())
            .filter(|&c| self.lower[c] < self.upper[c])
            .collect()
    }

    /// The closest feasible point to `y` in the Euclidean sense:
    /// `clamp(y - lambda, lower, upper)` with `lambda` such that the total is
    /// the budget (the sum is monotone in `lambda`, so bisection finds it).
    pub(crate) fn project(&self, y: &[f64]) -> Vec<f64> {
        let lower: Vec<f64> = (0..self.channels()).map(|c| self.lower(c)).collect();
        let upper: Vec<f64> = (0..self.channels()).map(|c| self.upper(c)).collect();
        let budget = self.budget();
        let at = |lambda: f64| -> Vec<f64> {
            y.iter()
                .zip(lower.iter().zip(&upper))
                .map(|(&v, (&l, &u))| (v - lambda).clamp(l, u))
                .collect()
        };
        let spread = y
            .iter()
            .zip(lower.iter().zip(&upper))
            .map(|(&v, (&l, &u))| (v - l).abs().max((v - u).abs()))
            .fold(0.0, f64::max)
            + 1.0;
        let lambda = balance(-spread, spread, budget, |l| at(l).iter().sum());
        at(lambda)
    }

    /// Rounds a feasible allocation to whole cents that meet every bound and
    /// sum to the budget exactly: floor each, then hand the missing cents to
    /// the channels with the largest fractions that still have room.
    pub fn to_cents(&self, allocation: &[f64]) -> Vec<i64> {
        let mut out: Vec<i64> = allocation
            .iter()
            .enumerate()
            .map(|(c, &x)| ((x * 100.0).floor() as i64).clamp(self.lower[c], self.upper[c]))
            .collect();
        let fraction = |c: usize| allocation[c] * 100.0 - out[c] as f64;
        let mut order: Vec<usize> = (0..out.len()).collect();
        order.sort_by(|&a, &b| fraction(b).total_cmp(&fraction(a)));
        let mut missing = self.budget - out.iter().sum::<i64>();
        // Each pass moves every channel with room by at most one cent, so
        // the fractions decide first and larger gaps (after clamping) still close.
        while missing != 0 {
            let step = missing.signum();
            let before = missing;
            for &c in &order {
                if missing == 0 {
                    break;
                }
                let next = out[c] + step;
                if (self.lower[c]..=self.upper[c]).contains(&next) {
                    let room = if step > 0 {
                        self.upper[c] - out[c]
                    } else {
                        out[c] - self.lower[c]
                    };
                    let moved = room
                        .min(missing.abs())
                        .min(1.max(missing.abs() / order.len() as i64));
                    out[c] += step * moved;
                    missing -= step * moved;
                }
            }
            assert_ne!(missing, before, "a feasible problem always has room");
        }
        out
    }
}

/// Finds `lambda` in `[low, high]` where the decreasing `sum(lambda)` meets
/// `target`, by bisection to the last representable bit.
pub(crate) fn balance(mut low: f64, mut high: f64, target: f64, sum: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if mid <= low || mid >= high {
            break;
        }
        if sum(mid) > target {
            low = mid;
        } else {
            high = mid;
        }
    }
    0.5 * (low + high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_round_inwards_to_cents_and_infeasible_ones_name_the_fault() {
        let p = Problem::new(100.0, &[10.001, 0.0], &[50.009, 90.0], &[50.0, 50.0]).unwrap();
        assert_eq!((p.lower[0], p.upper[0]), (1001, 5000));
        let p = Problem::new(12.34, &[12.34], &[12.34], &[12.34]).unwrap();
        assert_eq!((p.budget, p.lower[0], p.upper[0]), (1234, 1234, 1234));
        assert_eq!(
            Problem::new(10.0, &[6.0, 5.0], &[9.0, 9.0], &[5.0, 5.0]),
            Err(Infeasible::MinimumsAboveBudget {
                minimums: 11.0,
                budget: 10.0
            })
        );
        assert_eq!(
            Problem::new(10.0, &[1.0, 5.0], &[9.0, 4.0], &[5.0, 5.0]),
            Err(Infeasible::MinimumAboveMaximum { channel: 1 })
        );
        assert!(matches!(
            Problem::new(10.0, &[0.0], &[9.0], &[5.0]),
            Err(Infeasible::MaximumsBelowBudget { .. })
        ));
        assert_eq!(
            Problem::new(10.0, &[0.0, f64::NAN], &[9.0, 9.0], &[5.0, 5.0]),
            Err(Infeasible::NotFinite { channel: 1 })
        );
    }

    #[test]
    fn projection_lands_on_the_budget_within_bounds() {
        let p = Problem::new(100.0, &[0.0, 10.0, 0.0], &[30.0, 80.0, 100.0], &[0.0; 3]).unwrap();
        let x = p.project(&[90.0, 0.0, 40.0]);
        assert!((x.iter().sum::<f64>() - 100.0).abs() < 1e-9, "{x:?}");
        assert_eq!(x[0], 30.0);
        assert!(x[1] >= 10.0 && x[2] <= 100.0);
    }

    #[test]
    fn cents_meet_budget_and_bounds_exactly() {
        let p = Problem::new(100.0, &[0.0, 0.0, 0.0], &[40.0, 40.0, 40.0], &[0.0; 3]).unwrap();
        let cents = p.to_cents(&[33.333_333, 33.333_333, 33.333_334]);
        assert_eq!(cents.iter().sum::<i64>(), 10_000);
        assert!(
            cents.iter().all(|&c| (3333..=3334).contains(&c)),
            "{cents:?}"
        );
        // Far off the budget (an unprojected input) still lands exactly.
        let cents = p.to_cents(&[0.0, 0.0, 0.0]);
        assert_eq!(cents.iter().sum::<i64>(), 10_000);
        assert!(cents.iter().all(|&c| c <= 4000));
    }
}
