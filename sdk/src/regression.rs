//! Ridge regression in closed form, with optional non-negativity constraints,
//! solved by a dependency-free Cholesky factorisation (no BLAS/LAPACK, so it
//! runs unchanged inside a wasm guest).
//!
//! The design matrix is an [`ArrayView2`] with one row per observation and
//! one column per regressor; any memory layout works, so columns kept as
//! separate channel series can be passed as a column-major view
//! (`ArrayView2::from_shape((n, p).f(), &data)`).

use ndarray::ArrayView2;
use thiserror::Error;

mod active_set;
mod cholesky;
mod normal_equations;

use active_set::ActiveSet;
pub use cholesky::{cholesky_in_place, cholesky_solve_in_place};
use normal_equations::NormalEquations;

/// Why a regression could not be fitted.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RegressionError {
    /// Two inputs disagree on a dimension.
    #[error("dimension mismatch for {what}: expected {expected}, found {found}")]
    DimensionMismatch {
        /// Which input is the wrong size.
        what: &'static str,
        /// The size implied by the other inputs.
        expected: usize,
        /// The size received.
        found: usize,
    },
    /// The design matrix, the response or the penalty holds NaN or infinity.
    #[error("{what} contains a non-finite value")]
    NonFinite {
        /// Which input is non-finite.
        what: &'static str,
    },
    /// The penalty must be finite and non-negative.
    #[error("ridge penalty must be finite and >= 0, got {0}")]
    InvalidPenalty(f64),
    /// There are no observations or no regressors.
    #[error("cannot fit a regression with no observations or no regressors")]
    Empty,
    /// The (penalised) normal equations are not positive definite: collinear
    /// or constant regressors with `lambda = 0`.
    #[error("matrix is singular or not positive definite (pivot {pivot})")]
    Singular {
        /// Index of the first failing pivot.
        pivot: usize,
    },
    /// The active-set solver hit its iteration cap (only with ill-conditioned input).
    #[error("non-negative solver did not converge in {0} iterations")]
    NoConvergence(usize),
}

/// How [`ridge`] and [`ridge_non_negative`] fit.
///
/// Objective: `sum_i (y_i - b - x_i' beta)^2 + lambda * ||beta_std||^2`.
/// The intercept `b` is never penalised. With `standardize`, the penalty
/// applies to coefficients of columns scaled to unit population standard
/// deviation (glmnet's convention, as Robyn uses) and the returned
/// coefficients are mapped back to the original scale. glmnet divides the
/// loss by `2n`, so glmnet's `lambda_glmnet` corresponds to
/// `lambda = n * lambda_glmnet` here when `y` has unit variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RidgeOptions {
    /// Penalty strength, `>= 0`; 0 gives ordinary least squares.
    pub lambda: f64,
    /// Fit an unpenalised intercept (by centring `x` and `y`).
    pub fit_intercept: bool,
    /// Penalise coefficients of standardised columns (sd about the mean with
    /// an intercept, root mean square without one).
    pub standardize: bool,
}

impl RidgeOptions {
    /// Penalty `lambda` with an intercept and standardised columns, the
    /// Robyn/glmnet defaults.
    pub fn new(lambda: f64) -> Self {
        Self {
            lambda,
            fit_intercept: true,
            standardize: true,
        }
    }
}

/// A fitted linear model on the original scale of the inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct RidgeFit {
    /// Intercept; 0 when fitted without one.
    pub intercept: f64,
    /// One coefficient per column of the design matrix.
    pub coefficients: Vec<f64>,
}

impl RidgeFit {
    /// Writes `intercept + x_i' beta` for every row of `x` into `out`.
    pub fn predict_into(
        &self,
        x: ArrayView2<'_, f64>,
        out: &mut [f64],
    ) -> Result<(), RegressionError> {
        expect_len("design columns", self.coefficients.len(), x.ncols())?;
        expect_len("prediction buffer", x.nrows(), out.len())?;
        for (o, row) in out.iter_mut().zip(x.rows()) {
            *o = self.intercept
                + row
                    .iter()
                    .zip(&self.coefficients)
                    .map(|(a, b)| a * b)
                    .sum::<f64>();
        }
        Ok(())
    }

    /// Fitted values for every row of `x`.
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>, RegressionError> {
        let mut out = vec![0.0; x.nrows()];
        self.predict_into(x, &mut out)?;
        Ok(out)
    }
}

/// Ridge regression `(X'X + lambda I) beta = X'y`, solved by Cholesky.
///
/// Use it to fit the linear stage of an MMM once media have been adstocked
/// and saturated; see [`RidgeOptions`] for the intercept and scaling rules.
///
/// ```
/// use mmm_sdk::regression::{ridge, RidgeOptions};
/// use ndarray::array;
/// // y = 1 + 2x exactly; lambda 0 recovers it.
/// let x = array![[0.0], [1.0], [2.0]];
/// let fit = ridge(x.view(), &[1.0, 3.0, 5.0], &RidgeOptions::new(0.0)).unwrap();
/// assert!((fit.intercept - 1.0).abs() < 1e-12 && (fit.coefficients[0] - 2.0).abs() < 1e-12);
/// ```
pub fn ridge(
    x: ArrayView2<'_, f64>,
    y: &[f64],
    options: &RidgeOptions,
) -> Result<RidgeFit, RegressionError> {
    let mut system = NormalEquations::build(x, y, options)?;
    let mut beta = system.xty.clone();
    cholesky_in_place(system.gram.view_mut())?;
    cholesky_solve_in_place(system.gram.view(), &mut beta);
    Ok(system.into_fit(beta))
}

/// Ridge regression with `beta_j >= 0` for every `j` where `non_negative[j]`
/// is true (e.g. paid media, whose effect cannot be negative), the others free.
///
/// Algorithm: Lawson–Hanson active set on the penalised normal equations
/// `G = Z'Z + lambda I`, `c = Z'y` (with `Z` the centred/scaled design),
/// i.e. NNLS on the ridge-augmented system `[Z; sqrt(lambda) I] beta ~ [y; 0]`
/// without forming it. Free coefficients stay in the passive set; a
/// constrained coefficient enters when its gradient `c_j - (G beta)_j` is the
/// largest positive one (lowest index on ties) and leaves when the subset
/// solution would turn it non-positive. Each subset system is solved by
/// Cholesky. The result is the exact constrained optimum, deterministic for a
/// given input. Centring first is valid because the free intercept's optimum
/// is `mean(y) - mean(x)' beta` whatever `beta` is.
///
/// ```
/// use mmm_sdk::regression::{ridge_non_negative, RidgeOptions};
/// use ndarray::array;
/// let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
/// let opts = RidgeOptions { lambda: 0.0, fit_intercept: false, standardize: false };
/// // Unconstrained: beta = (5/3, -4/3); constrained: beta2 = 0, beta1 = 1.
/// let fit = ridge_non_negative(x.view(), &[2.0, -1.0, 0.0], &opts, &[false, true]).unwrap();
/// assert!((fit.coefficients[0] - 1.0).abs() < 1e-12 && fit.coefficients[1] == 0.0);
/// ```
pub fn ridge_non_negative(
    x: ArrayView2<'_, f64>,
    y: &[f64],
    options: &RidgeOptions,
    non_negative: &[bool],
) -> Result<RidgeFit, RegressionError> {
    expect_len("non_negative flags", x.ncols(), non_negative.len())?;
    let system = NormalEquations::build(x, y, options)?;
    let beta = ActiveSet::new(&system.gram, &system.xty, non_negative).solve()?;
    Ok(system.into_fit(beta))
}

fn expect_len(what: &'static str, expected: usize, found: usize) -> Result<(), RegressionError> {
    if expected == found {
        Ok(())
    } else {
        Err(RegressionError::DimensionMismatch {
            what,
            expected,
            found,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const RAW: RidgeOptions = RidgeOptions {
        lambda: 0.0,
        fit_intercept: false,
        standardize: false,
    };

    fn assert_close(actual: &[f64], expected: &[f64]) {
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-10, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn ridge_solves_the_penalised_normal_equations() {
        // X'X = [[2,1],[1,2]], + I = [[3,1],[1,3]], X'y = [1+3, 2+3] = [4, 5]
        // det 8: beta1 = (3*4 - 1*5)/8 = 7/8, beta2 = (3*5 - 1*4)/8 = 11/8
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let fit = ridge(
            x.view(),
            &[1.0, 2.0, 3.0],
            &RidgeOptions { lambda: 1.0, ..RAW },
        )
        .unwrap();
        assert_close(&fit.coefficients, &[7.0 / 8.0, 11.0 / 8.0]);
        assert_eq!(fit.intercept, 0.0);
    }

    #[test]
    fn ridge_without_penalty_recovers_an_exact_linear_model() {
        // y = 1 + 2 x1 - 3 x2 on four non-collinear rows
        let x = array![[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [2.0, 3.0]];
        let y = [1.0, 3.0, -2.0, -4.0];
        for standardize in [false, true] {
            let opts = RidgeOptions {
                lambda: 0.0,
                fit_intercept: true,
                standardize,
            };
            let fit = ridge(x.view(), &y, &opts).unwrap();
            assert_close(&[fit.intercept], &[1.0]);
            assert_close(&fit.coefficients, &[2.0, -3.0]);
            assert_close(&fit.predict(x.view()).unwrap(), &y);
        }
    }

    #[test]
    fn ridge_does_not_penalise_the_intercept() {
        // One centred column z = x - 1 = [-1, 0, 1], yc = y - 2 = [-1, 0, 1]
        // beta = z'yc / (z'z + lambda) = 2 / (2 + 2) = 0.5; intercept = 2 - 0.5*1 = 1.5
        let x = array![[0.0], [1.0], [2.0]];
        let opts = RidgeOptions {
            lambda: 2.0,
            fit_intercept: true,
            standardize: false,
        };
        let fit = ridge(x.view(), &[1.0, 2.0, 3.0], &opts).unwrap();
        assert_close(&[fit.intercept, fit.coefficients[0]], &[1.5, 0.5]);
    }

    #[test]
    fn non_negative_ridge_zeroes_a_coefficient_that_would_be_negative() {
        // G = [[3,1],[1,3]], c = [2,-1]: unconstrained beta2 = (3*-1 - 1*2)/8 = -5/8 < 0
        // constrained: beta2 = 0, beta1 = 2/3; gradient2 = -1 - 1*(2/3) < 0 so optimal
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let y = [2.0, -1.0, 0.0];
        let opts = RidgeOptions { lambda: 1.0, ..RAW };
        assert!(ridge(x.view(), &y, &opts).unwrap().coefficients[1] < 0.0);
        let fit = ridge_non_negative(x.view(), &y, &opts, &[true, true]).unwrap();
        assert_close(&fit.coefficients, &[2.0 / 3.0, 0.0]);
    }

    #[test]
    fn non_negative_ridge_matches_ridge_when_no_constraint_binds() {
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 1.0]];
        let y = [1.0, 2.0, 3.5, 4.0];
        let opts = RidgeOptions::new(0.5);
        let free = ridge(x.view(), &y, &opts).unwrap();
        let constrained = ridge_non_negative(x.view(), &y, &opts, &[true, true]).unwrap();
        assert_close(&constrained.coefficients, &free.coefficients);
        assert_close(&[constrained.intercept], &[free.intercept]);
    }

    #[test]
    fn unconstrained_coefficients_may_stay_negative() {
        // Flags [false, true] on the system above: same optimum as both free.
        let x = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let fit = ridge_non_negative(x.view(), &[-2.0, 1.0, 0.0], &RAW, &[false, true]).unwrap();
        // Unconstrained: beta1 = (2*-2 - 1*1)/3 = -5/3, beta2 = (2*1 - 1*-2)/3 = 4/3
        assert_close(&fit.coefficients, &[-5.0 / 3.0, 4.0 / 3.0]);
    }

    #[test]
    fn bad_input_is_reported_with_a_typed_error() {
        let x = array![[1.0, 1.0], [2.0, 2.0]];
        assert_eq!(
            ridge(x.view(), &[1.0, 2.0], &RAW),
            Err(RegressionError::Singular { pivot: 1 })
        );
        let err = ridge(x.view(), &[1.0], &RAW).unwrap_err();
        assert_eq!(
            err,
            RegressionError::DimensionMismatch {
                what: "response",
                expected: 2,
                found: 1
            }
        );
        let err = ridge(x.view(), &[1.0, f64::NAN], &RAW).unwrap_err();
        assert_eq!(err, RegressionError::NonFinite { what: "response" });
        let err = ridge(
            x.view(),
            &[1.0, 2.0],
            &RidgeOptions {
                lambda: -1.0,
                ..RAW
            },
        )
        .unwrap_err();
        assert_eq!(err, RegressionError::InvalidPenalty(-1.0));
    }
}
