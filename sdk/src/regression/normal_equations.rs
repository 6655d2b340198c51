//! The centred, optionally standardised and penalised normal equations
//! shared by [`ridge`](super::ridge) and
//! [`ridge_non_negative`](super::ridge_non_negative).

use ndarray::{Array2, ArrayView2};

use super::{RegressionError, RidgeFit, RidgeOptions, expect_len};

/// Penalised normal equations in centred/standardised coordinates, plus
/// what is needed to map the solution back to the original scale.
pub(super) struct NormalEquations {
    pub(super) gram: Array2<f64>,
    pub(super) xty: Vec<f64>,
    means: Vec<f64>,
    scales: Vec<f64>,
    y_mean: f64,
}

impl NormalEquations {
    pub(super) fn build(
        x: ArrayView2<'_, f64>,
        y: &[f64],
        options: &RidgeOptions,
    ) -> Result<Self, RegressionError> {
        let (n, p) = x.dim();
        expect_len("response", n, y.len())?;
        if n == 0 || p == 0 {
            return Err(RegressionError::Empty);
        }
        if !(options.lambda.is_finite() && options.lambda >= 0.0) {
            return Err(RegressionError::InvalidPenalty(options.lambda));
        }
        if !x.iter().all(|v| v.is_finite()) {
            return Err(RegressionError::NonFinite {
                what: "design matrix",
            });
        }
        if !y.iter().all(|v| v.is_finite()) {
            return Err(RegressionError::NonFinite { what: "response" });
        }
        let centre = |values: &mut dyn Iterator<Item = f64>| {
            if options.fit_intercept {
                values.sum::<f64>() / n as f64
            } else {
                0.0
            }
        };
        let means: Vec<f64> = x
            .columns()
            .into_iter()
            .map(|c| centre(&mut c.iter().copied()))
            .collect();
        let y_mean = centre(&mut y.iter().copied());
        let scales = column_scales(x, &means, options.standardize);
        let mut system = Self {
            gram: Array2::zeros((p, p)),
            xty: vec![0.0; p],
            means,
            scales,
            y_mean,
        };
        system.accumulate(x, y);
        system
            .gram
            .diag_mut()
            .iter_mut()
            .for_each(|d| *d += options.lambda);
        Ok(system)
    }

    /// Adds `z_i z_i'` and `z_i (y_i - mean y)` row by row, with
    /// `z_i = (x_i - means) / scales`, so no centred copy of `x` is made.
    fn accumulate(&mut self, x: ArrayView2<'_, f64>, y: &[f64]) {
        let p = self.means.len();
        let mut z = vec![0.0; p];
        for (row, &yi) in x.rows().into_iter().zip(y) {
            for (j, zj) in z.iter_mut().enumerate() {
                *zj = (row[j] - self.means[j]) / self.scales[j];
            }
            let yc = yi - self.y_mean;
            for j in 0..p {
                self.xty[j] += z[j] * yc;
                for k in 0..=j {
                    self.gram[[j, k]] += z[j] * z[k];
                }
            }
        }
        for j in 0..p {
            for k in 0..j {
                self.gram[[k, j]] = self.gram[[j, k]];
            }
        }
    }

    pub(super) fn into_fit(self, beta_std: Vec<f64>) -> RidgeFit {
        let coefficients: Vec<f64> = beta_std
            .iter()
            .zip(&self.scales)
            .map(|(b, s)| b / s)
            .collect();
        let shift: f64 = coefficients
            .iter()
            .zip(&self.means)
            .map(|(b, m)| b * m)
            .sum();
        RidgeFit {
            intercept: self.y_mean - shift,
            coefficients,
        }
    }
}

/// Population standard deviation about `means` per column (1 when not
/// standardising, or when a column is constant so it cannot be scaled).
fn column_scales(x: ArrayView2<'_, f64>, means: &[f64], standardize: bool) -> Vec<f64> {
    let n = x.nrows() as f64;
    x.columns()
        .into_iter()
        .zip(means)
        .map(|(column, m)| {
            let sd = (column.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / n).sqrt();
            if standardize && sd > 0.0 { sd } else { 1.0 }
        })
        .collect()
}
