//! Lawson–Hanson active-set solver behind
//! [`ridge_non_negative`](super::ridge_non_negative).

use ndarray::{Array2, ArrayViewMut2};

use super::RegressionError;
use super::cholesky::{cholesky_in_place, cholesky_solve_in_place};

/// Lawson–Hanson active-set state for `min 1/2 b'Gb - c'b` s.t. `b_j >= 0`
/// for constrained `j`; see [`ridge_non_negative`](super::ridge_non_negative).
pub(super) struct ActiveSet<'a> {
    gram: &'a Array2<f64>,
    xty: &'a [f64],
    constrained: &'a [bool],
    passive: Vec<bool>,
    beta: Vec<f64>,
    factor: Vec<f64>,
    tolerance: f64,
}

impl<'a> ActiveSet<'a> {
    pub(super) fn new(gram: &'a Array2<f64>, xty: &'a [f64], constrained: &'a [bool]) -> Self {
        let p = xty.len();
        // Gradients below this are treated as zero: relative to the size of
        // the system so the result does not depend on the units of y.
        let scale = xty
            .iter()
            .chain(gram.diag().iter())
            .fold(1.0, |m: f64, v| m.max(v.abs()));
        Self {
            gram,
            xty,
            constrained,
            passive: constrained.iter().map(|c| !c).collect(),
            beta: vec![0.0; p],
            factor: vec![0.0; p * p],
            tolerance: scale * 1e-12,
        }
    }

    pub(super) fn solve(mut self) -> Result<Vec<f64>, RegressionError> {
        let max_iterations = 3 * (self.xty.len() + 1);
        self.beta = self.solve_passive()?;
        for _ in 0..max_iterations {
            let Some(entering) = self.most_violated() else {
                return Ok(self.beta);
            };
            self.passive[entering] = true;
            self.descend_to_feasible(max_iterations)?;
        }
        Err(RegressionError::NoConvergence(max_iterations))
    }

    /// The zero-held constrained coefficient with the largest positive
    /// gradient `c_j - (G beta)_j`, if any exceeds the tolerance.
    fn most_violated(&self) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for j in (0..self.xty.len()).filter(|&j| !self.passive[j]) {
            let gradient = self.xty[j]
                - self
                    .gram
                    .row(j)
                    .iter()
                    .zip(&self.beta)
                    .map(|(g, b)| g * b)
                    .sum::<f64>();
            if gradient > self.tolerance && best.is_none_or(|(_, g)| gradient > g) {
                best = Some((j, gradient));
            }
        }
        best.map(|(j, _)| j)
    }

    /// Lawson–Hanson inner loop: step towards the passive-set solution,
    /// stopping at the first constrained coefficient that would cross zero.
    fn descend_to_feasible(&mut self, max_iterations: usize) -> Result<(), RegressionError> {
        for _ in 0..max_iterations {
            let target = self.solve_passive()?;
            let blocking = (0..target.len())
                .filter(|&j| self.passive[j] && self.constrained[j] && target[j] <= 0.0);
            let step = blocking
                .map(|j| self.beta[j] / (self.beta[j] - target[j]))
                .fold(1.0, f64::min);
            for (b, t) in self.beta.iter_mut().zip(&target) {
                *b += step * (t - *b);
            }
            if step >= 1.0 {
                return Ok(());
            }
            for j in 0..self.beta.len() {
                if self.constrained[j] && self.beta[j] <= self.tolerance {
                    self.passive[j] = false;
                    self.beta[j] = 0.0;
                }
            }
        }
        Err(RegressionError::NoConvergence(max_iterations))
    }

    /// Solves `G_PP b_P = c_P` for the passive set `P`, zero elsewhere.
    fn solve_passive(&mut self) -> Result<Vec<f64>, RegressionError> {
        let index: Vec<usize> = (0..self.xty.len()).filter(|&j| self.passive[j]).collect();
        let k = index.len();
        let mut sub = ArrayViewMut2::from_shape((k, k), &mut self.factor[..k * k])
            .expect("buffer holds k*k values");
        for (r, &i) in index.iter().enumerate() {
            for (c, &j) in index.iter().enumerate() {
                sub[[r, c]] = self.gram[[i, j]];
            }
        }
        cholesky_in_place(sub.view_mut())?;
        let mut rhs: Vec<f64> = index.iter().map(|&j| self.xty[j]).collect();
        cholesky_solve_in_place(sub.view(), &mut rhs);
        let mut full = vec![0.0; self.xty.len()];
        index.iter().zip(rhs).for_each(|(&j, v)| full[j] = v);
        Ok(full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic pseudo-random values in [-1, 1) (64-bit LCG, Knuth's MMIX constants).
    fn pseudo_random(seed: u64, count: usize) -> Vec<f64> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
            })
            .collect()
    }

    /// The solution satisfies the KKT conditions of the constrained problem:
    /// feasible, zero gradient where a coefficient is free or positive, and
    /// non-positive gradient where a constraint holds it at zero.
    #[test]
    fn solution_satisfies_the_kkt_conditions() {
        let (n, p) = (20, 6);
        let constrained = [true, true, false, true, true, true];
        let mut held_at_zero = 0;
        for seed in 1..=20 {
            let z = Array2::from_shape_vec((n, p), pseudo_random(seed, n * p)).unwrap();
            let y = pseudo_random(seed + 1000, n);
            let mut gram = z.t().dot(&z);
            gram.diag_mut().iter_mut().for_each(|d| *d += 0.1);
            let xty: Vec<f64> = z.t().dot(&ndarray::Array1::from(y)).to_vec();
            let beta = ActiveSet::new(&gram, &xty, &constrained).solve().unwrap();
            for j in 0..p {
                let gradient = xty[j]
                    - gram
                        .row(j)
                        .iter()
                        .zip(&beta)
                        .map(|(g, b)| g * b)
                        .sum::<f64>();
                if constrained[j] && beta[j] == 0.0 {
                    held_at_zero += 1;
                    assert!(
                        gradient <= 1e-9,
                        "seed {seed}: gradient {gradient} at bound {j}"
                    );
                } else {
                    assert!(
                        beta[j] > 0.0 || !constrained[j],
                        "seed {seed}: infeasible {beta:?}"
                    );
                    assert!(
                        gradient.abs() <= 1e-9,
                        "seed {seed}: gradient {gradient} at {j}"
                    );
                }
            }
        }
        assert!(held_at_zero > 0, "the data never made a constraint bind");
    }
}
