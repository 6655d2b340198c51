//! Budget allocation over any model that can score spend allocations: the
//! optimiser behind recommendations.
//!
//! It sees the model only through a batch evaluator (`allocations -> total
//! media response`), which a host implements with one `predict` call per
//! batch, so the sandbox's fixed cost is paid per batch, not per point.
//!
//! **Method.** Response curves with Hill `alpha > 1` are S-shaped, so the
//! problem is not concave: a local method started where a channel sits on
//! the convex foot of its curve sees almost no gradient there and leaves it
//! underfunded. Three phases guard against that:
//! 1. *Global sample*: a batch of random feasible allocations (uniform over
//!    the simplex, projected onto the bounds), the current one, and one
//!    leaning on each channel; the best few distinct ones become starts.
//! 2. *Local*: a projected, trust-region Newton method on a diagonal
//!    quadratic model (gradient and curvature from a finite-difference
//!    stencil per channel). The step `max g.d - 1/2 sum k_c d_c^2` subject
//!    to `sum d = 0` and the box is separable with one multiplier, so it is
//!    solved exactly by bisection. Each batch holds three step lengths *and*
//!    the stencils around each, so one `predict` call both tests a step and
//!    prepares the next.
//! 3. *Jumps*: from the best local optimum, every channel is set to 0%, 25%,
//!    ..., 100% of its range with the others rebalanced; any jump that beats
//!    it restarts the local phase (a basin-hopping step).
//!
//! The answer is rounded to whole cents that sum to the budget and meet
//! every bound exactly ([`Problem::to_cents`]).
//!
//! ```
//! use mmm_sdk::allocate::{Problem, Settings, maximise};
//!
//! // Two saturating channels; the second pays more per dollar at first.
//! let response = |x: &[f64]| 3.0 * x[0] / (x[0] + 50.0) + 5.0 * x[1] / (x[1] + 30.0);
//! let problem = Problem::new(100.0, &[0.0, 0.0], &[100.0, 100.0], &[50.0, 50.0]).unwrap();
//! let answer = maximise(&problem, &Settings::default(), |batch: &[Vec<f64>]| {
//!     Ok::<_, ()>(batch.iter().map(|x| response(x)).collect())
//! })
//! .unwrap();
//! assert_eq!(answer.cents.iter().sum::<i64>(), 10_000);
//! assert!(response(&answer.allocation) >= response(&[50.0, 50.0]));
//! ```

mod local;
mod problem;
#[cfg(test)]
mod properties;
mod search;
mod target;

pub use problem::{Infeasible, Problem};
pub use search::{Settings, Solution, Stats, maximise};
pub use target::{Target, largest_budget};
