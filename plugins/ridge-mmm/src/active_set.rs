//! Lawson–Hanson active-set solver for the small penalised normal equations
//! `G b = c` with `b_j >= 0` where constrained, on reused buffers: the
//! search calls it once per candidate, so it allocates nothing.
//!
//! Fast path: the unconstrained solution, accepted when it is feasible (then
//! it is the constrained optimum too). Otherwise the classic algorithm as in
//! `mmm_sdk::regression::ridge_non_negative`, which the tests compare against.

// Index loops over several parallel arrays read clearer than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use mmm_sdk::ndarray::{ArrayView2, ArrayViewMut2};
use mmm_sdk::prelude::*;
use mmm_sdk::regression::{cholesky_in_place, cholesky_solve_in_place};

/// Buffers for systems of up to `p` unknowns.
#[derive(Debug, Clone)]
pub struct ActiveSet {
    passive: Vec<bool>,
    beta: Vec<f64>,
    target: Vec<f64>,
    factor: Vec<f64>,
    rhs: Vec<f64>,
    index: Vec<usize>,
}

impl ActiveSet {
    pub fn new(p: usize) -> Self {
        Self {
            passive: vec![false; p],
            beta: vec![0.0; p],
            target: vec![0.0; p],
            factor: vec![0.0; p * p],
            rhs: vec![0.0; p],
            index: Vec::with_capacity(p),
        }
    }

    /// Solves `min 1/2 b'Gb - c'b` subject to `b_j >= 0` where
    /// `constrained[j]`; `gram` is `p x p` row-major and positive definite.
    pub fn solve(&mut self, gram: &[f64], c: &[f64], constrained: &[bool]) -> Result<&[f64]> {
        let p = c.len();
        self.passive[..p].fill(true);
        self.solve_passive(gram, c)?;
        let feasible = (0..p).all(|j| !constrained[j] || self.target[j] >= 0.0);
        self.beta[..p].copy_from_slice(&self.target[..p]);
        if feasible {
            return Ok(&self.beta[..p]);
        }
        let tolerance = 1e-12
            * c.iter()
                .chain(gram.iter().step_by(p + 1))
                .fold(1.0, |m: f64, v| m.max(v.abs()));
        for j in 0..p {
            self.passive[j] = !constrained[j];
        }
        self.solve_passive(gram, c)?;
        self.beta[..p].copy_from_slice(&self.target[..p]);
        let max_iterations = 3 * (p + 1);
        for _ in 0..max_iterations {
            let Some(entering) = self.most_violated(gram, c, tolerance) else {
                return Ok(&self.beta[..p]);
            };
            self.passive[entering] = true;
            self.descend_to_feasible(gram, c, constrained, tolerance, max_iterations)?;
        }
        Err(Error::numerical("non-negative ridge did not converge"))
    }

    fn most_violated(&self, gram: &[f64], c: &[f64], tolerance: f64) -> Option<usize> {
        let p = c.len();
        let mut best: Option<(usize, f64)> = None;
        for j in (0..p).filter(|&j| !self.passive[j]) {
            let row = &gram[j * p..(j + 1) * p];
            let gradient = c[j] - row.iter().zip(&self.beta).map(|(g, b)| g * b).sum::<f64>();
            if gradient > tolerance && best.is_none_or(|(_, g)| gradient > g) {
                best = Some((j, gradient));
            }
        }
        best.map(|(j, _)| j)
    }

    fn descend_to_feasible(
        &mut self,
        gram: &[f64],
        c: &[f64],
        constrained: &[bool],
        tolerance: f64,
        max_iterations: usize,
    ) -> Result<()> {
        let p = c.len();
        for _ in 0..max_iterations {
            self.solve_passive(gram, c)?;
            let mut step: f64 = 1.0;
            for j in 0..p {
                if self.passive[j] && constrained[j] && self.target[j] <= 0.0 {
                    step = step.min(self.beta[j] / (self.beta[j] - self.target[j]));
                }
            }
            for j in 0..p {
                self.beta[j] += step * (self.target[j] - self.beta[j]);
            }
            if step >= 1.0 {
                return Ok(());
            }
            for j in 0..p {
                if constrained[j] && self.beta[j] <= tolerance {
                    self.passive[j] = false;
                    self.beta[j] = 0.0;
                }
            }
        }
        Err(Error::numerical("non-negative ridge did not converge"))
    }

    /// `target` = solution of `G_PP b_P = c_P` on the passive set, 0 elsewhere.
    fn solve_passive(&mut self, gram: &[f64], c: &[f64]) -> Result<()> {
        let p = c.len();
        self.index.clear();
        self.index.extend((0..p).filter(|&j| self.passive[j]));
        let k = self.index.len();
        for (r, &i) in self.index.iter().enumerate() {
            for (col, &j) in self.index.iter().enumerate() {
                self.factor[r * k + col] = gram[i * p + j];
            }
            self.rhs[r] = c[i];
        }
        let mut sub = ArrayViewMut2::from_shape((k, k), &mut self.factor[..k * k])
            .map_err(|e| Error::internal(e.to_string()))?;
        cholesky_in_place(sub.view_mut()).map_err(|e| Error::numerical(e.to_string()))?;
        let sub = ArrayView2::from_shape((k, k), &self.factor[..k * k])
            .map_err(|e| Error::internal(e.to_string()))?;
        cholesky_solve_in_place(sub, &mut self.rhs[..k]);
        self.target[..p].fill(0.0);
        for (r, &j) in self.index.iter().enumerate() {
            self.target[j] = self.rhs[r];
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mmm_sdk::ndarray::Array2;
    use mmm_sdk::regression::{RidgeOptions, ridge_non_negative};

    fn pseudo_random(seed: u64, count: usize) -> Vec<f64> {
        let mut rng = crate::rng::Rng::new(seed);
        (0..count).map(|_| rng.uniform() * 2.0 - 1.0).collect()
    }

    #[test]
    fn a_feasible_unconstrained_solution_is_returned_directly() {
        // G = [[2, 1], [1, 2]], c = [3, 3]: b = [1, 1] (hand-solved)
        let mut s = ActiveSet::new(2);
        let b = s
            .solve(&[2.0, 1.0, 1.0, 2.0], &[3.0, 3.0], &[true, true])
            .unwrap();
        assert!((b[0] - 1.0).abs() < 1e-15 && (b[1] - 1.0).abs() < 1e-15);
    }

    #[test]
    fn a_binding_constraint_is_held_at_zero() {
        // G = [[3,1],[1,3]], c = [2,-1]: unconstrained b2 = -5/8; constrained b = [2/3, 0]
        let mut s = ActiveSet::new(2);
        let b = s
            .solve(&[3.0, 1.0, 1.0, 3.0], &[2.0, -1.0], &[true, true])
            .unwrap();
        assert!((b[0] - 2.0 / 3.0).abs() < 1e-15 && b[1] == 0.0);
    }

    /// Same optimum as the SDK's direct non-negative ridge on random systems.
    #[test]
    fn matches_the_sdk_solver_on_random_systems() {
        let (n, p) = (30, 7);
        let constrained = [false, false, true, true, true, false, true];
        for seed in 1..=30 {
            let x = Array2::from_shape_vec((n, p), pseudo_random(seed, n * p)).unwrap();
            let y = pseudo_random(seed + 100, n);
            let opts = RidgeOptions {
                lambda: 0.3,
                fit_intercept: false,
                standardize: false,
            };
            let expected = ridge_non_negative(x.view(), &y, &opts, &constrained).unwrap();
            let mut gram = x.t().dot(&x);
            gram.diag_mut().iter_mut().for_each(|d| *d += 0.3);
            let c = x.t().dot(&mmm_sdk::ndarray::Array1::from(y)).to_vec();
            let mut s = ActiveSet::new(p);
            let b = s.solve(gram.as_slice().unwrap(), &c, &constrained).unwrap();
            for (a, e) in b.iter().zip(&expected.coefficients) {
                assert!(
                    (a - e).abs() < 1e-10,
                    "seed {seed}: {b:?} vs {:?}",
                    expected.coefficients
                );
            }
        }
    }
}
