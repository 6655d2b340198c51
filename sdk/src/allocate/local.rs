//! The local phase: a diagonal quadratic model of the response around a
//! point, from a finite-difference stencil, and the trust-region step it
//! implies.

use super::problem::{Problem, balance};

/// Where the stencil's two extra points sit, as multiples of the step:
/// centred where the channel can go down, one-sided at zero spend (a model
/// may refuse negative spend).
fn offsets(x: f64, step: f64) -> (f64, f64) {
    if x >= step {
        (-step, step)
    } else {
        (step, 2.0 * step)
    }
}

/// The stencil step for channel `c`: small against its range, large
/// against rounding in the response.
pub(crate) fn step(problem: &Problem, c: usize) -> f64 {
    let range = problem.upper(c) - problem.lower(c);
    (range * 1e-4).max(1e-2)
}

/// The `2 m + 1` points of `x`'s stencil over the `free` channels: `x`
/// itself, then two per channel.
pub(crate) fn stencil(problem: &Problem, free: &[usize], x: &[f64]) -> Vec<Vec<f64>> {
    let mut points = Vec::with_capacity(2 * free.len() + 1);
    points.push(x.to_vec());
    for &c in free {
        let (a, b) = offsets(x[c], step(problem, c));
        for d in [a, b] {
            let mut p = x.to_vec();
            p[c] += d;
            points.push(p);
        }
    }
    points
}

/// A point with its response and diagonal quadratic model.
#[derive(Debug, Clone)]
pub(crate) struct Model {
    pub x: Vec<f64>,
    pub value: f64,
    /// Per free channel, in `free` order.
    pub gradient: Vec<f64>,
    pub curvature: Vec<f64>,
}

impl Model {
    /// Fits the quadratic through each channel's three stencil values.
    pub fn from_stencil(problem: &Problem, free: &[usize], x: Vec<f64>, values: &[f64]) -> Self {
        let f0 = values[0];
        let mut gradient = Vec::with_capacity(free.len());
        let mut curvature = Vec::with_capacity(free.len());
        for (i, &c) in free.iter().enumerate() {
            let (d1, d2) = offsets(x[c], step(problem, c));
            let (f1, f2) = (values[1 + 2 * i] - f0, values[2 + 2 * i] - f0);
            // f(d) = f0 + g d + h d^2 / 2 through (d1, f1) and (d2, f2).
            let h = 2.0 * (f2 * d1 - f1 * d2) / (d1 * d2 * (d2 - d1));
            gradient.push(f1 / d1 - 0.5 * h * d1);
            curvature.push(h);
        }
        Self {
            x,
            value: f0,
            gradient,
            curvature,
        }
    }

    /// The best step within `radius` per channel that keeps the budget and
    /// the bounds, for the model with curvature capped below zero (a convex
    /// stretch of an S-curve has no interior maximum: the step then goes to
    /// the trust region's edge). Returns the step over all channels and the
    /// gain the model predicts for it.
    pub fn step(&self, problem: &Problem, free: &[usize], radius: f64) -> (Vec<f64>, f64) {
        let largest = self.gradient.iter().fold(0.0_f64, |m, g| m.max(g.abs()));
        let floor = (largest + 1e-12) / (radius * 1e6);
        let kappa: Vec<f64> = self.curvature.iter().map(|h| (-h).max(floor)).collect();
        let box_: Vec<(f64, f64)> = free
            .iter()
            .map(|&c| {
                (
                    (problem.lower(c) - self.x[c]).max(-radius).min(0.0),
                    (problem.upper(c) - self.x[c]).min(radius).max(0.0),
                )
            })
            .collect();
        let at = |lambda: f64| -> Vec<f64> {
            (0..free.len())
                .map(|i| ((self.gradient[i] - lambda) / kappa[i]).clamp(box_[i].0, box_[i].1))
                .collect()
        };
        let low = (0..free.len())
            .map(|i| self.gradient[i] - kappa[i] * box_[i].1)
            .fold(f64::INFINITY, f64::min)
            - 1.0;
        let high = (0..free.len())
            .map(|i| self.gradient[i] - kappa[i] * box_[i].0)
            .fold(f64::NEG_INFINITY, f64::max)
            + 1.0;
        let lambda = balance(low, high, 0.0, |l| at(l).iter().sum());
        let d = at(lambda);
        let gain = (0..free.len())
            .map(|i| self.gradient[i] * d[i] - 0.5 * kappa[i] * d[i] * d[i])
            .sum();
        let mut full = vec![0.0; self.x.len()];
        for (i, &c) in free.iter().enumerate() {
            full[c] = d[i];
        }
        (full, gain)
    }

    /// The return on the next unit of budget: the best marginal response
    /// among channels that can still grow.
    pub fn marginal(&self, problem: &Problem, free: &[usize]) -> f64 {
        free.iter()
            .zip(&self.gradient)
            .filter(|&(&c, _)| self.x[c] < problem.upper(c) - 1e-9)
            .map(|(_, &g)| g)
            .fold(f64::NEG_INFINITY, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stencil_recovers_gradient_and_curvature_of_a_quadratic() {
        let problem = Problem::new(100.0, &[0.0, 0.0], &[100.0, 100.0], &[50.0, 50.0]).unwrap();
        let free = [0, 1];
        let f = |x: &[f64]| 3.0 * x[0] - 0.01 * x[0] * x[0] + 2.0 * x[1] - 0.02 * x[1] * x[1];
        // x[1] = 0 takes the one-sided stencil.
        let x = vec![40.0, 0.0];
        let values: Vec<f64> = stencil(&problem, &free, &x).iter().map(|p| f(p)).collect();
        let m = Model::from_stencil(&problem, &free, x, &values);
        assert!((m.gradient[0] - 2.2).abs() < 1e-6, "{:?}", m.gradient);
        assert!((m.gradient[1] - 2.0).abs() < 1e-6);
        assert!((m.curvature[0] + 0.02).abs() < 1e-6, "{:?}", m.curvature);
        assert!((m.curvature[1] + 0.04).abs() < 1e-6);
    }

    #[test]
    fn the_step_keeps_the_budget_and_moves_towards_the_better_channel() {
        let problem = Problem::new(100.0, &[0.0, 0.0], &[100.0, 100.0], &[50.0, 50.0]).unwrap();
        let m = Model {
            x: vec![50.0, 50.0],
            value: 0.0,
            gradient: vec![1.0, 2.0],
            curvature: vec![-0.1, -0.1],
        };
        let (d, gain) = m.step(&problem, &[0, 1], 100.0);
        // Optimum of g.d - k d^2 / 2 with d0 = -d1: d1 = (g1 - g0) / (2 k) = 5.
        assert!(
            (d[1] - 5.0).abs() < 1e-9 && (d[0] + 5.0).abs() < 1e-9,
            "{d:?}"
        );
        assert!(gain > 0.0);
        let (d, _) = m.step(&problem, &[0, 1], 1.0);
        assert!(
            (d[1] - 1.0).abs() < 1e-9,
            "the trust region caps the step: {d:?}"
        );
    }
}
