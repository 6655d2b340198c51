//! The ridge regression of one candidate on standardised columns, with the
//! baseline block (trend, seasonality, controls) prepared once.
//!
//! Objective (glmnet's, as Robyn uses): with every regressor centred and
//! scaled to unit population sd over the training window and `y` likewise,
//! minimise `||y~ - Z b||^2 + lambda * n_train * ||b||^2`; the intercept is
//! free. Per candidate only the media columns change, so the Gram matrix is
//! assembled from the precomputed baseline block plus `m(m+1)/2 + m*k + m`
//! dot products over the training rows.

// Index loops over the Gram matrix blocks read clearer than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use mmm_sdk::prelude::*;

use crate::active_set::ActiveSet;
use crate::data::BaselineDesign;
use crate::params::Sign;

/// Coefficients on the original scale: `y = intercept + baseline . b + media . h`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coefficients {
    pub intercept: f64,
    pub baseline: Vec<f64>,
    pub media: Vec<f64>,
}

impl Coefficients {
    pub fn new(k: usize, m: usize) -> Self {
        Self {
            intercept: 0.0,
            baseline: vec![0.0; k],
            media: vec![0.0; m],
        }
    }
}

/// The candidate-independent part of the regression and the buffers of the rest.
#[derive(Debug, Clone)]
pub struct RidgeSystem {
    k: usize,
    m: usize,
    n_train: usize,
    /// The periods fitted on, when not the first `n_train` (a
    /// cross-validation fold); the media rows are gathered into `taken`.
    rows: Option<Vec<usize>>,
    taken: Vec<Vec<f64>>,
    y_mean: f64,
    y_sd: f64,
    /// Standardised training `y`.
    y_std: Vec<f64>,
    base_mean: Vec<f64>,
    /// Signed sd: negative for a control constrained to `<= 0`, so every
    /// constraint becomes `b~ >= 0` on the standardised scale.
    base_sd: Vec<f64>,
    /// Standardised baseline training rows, column-major.
    base_std: Vec<Vec<f64>>,
    gram_bb: Vec<f64>,
    c_b: Vec<f64>,
    constrained: Vec<bool>,
    gram: Vec<f64>,
    c: Vec<f64>,
    media_mean: Vec<f64>,
    media_sd: Vec<f64>,
    solver: ActiveSet,
    /// The last fit's solution and penalty, for [`Self::media_standard_errors`].
    beta: Vec<f64>,
    penalty: f64,
}

/// Dot product with four accumulators: fixed order (deterministic) and fast.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] += x[i] * y[i];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

impl RidgeSystem {
    /// Prepares the baseline block on the first `n_train` periods.
    pub fn new(
        design: &BaselineDesign,
        y: &[f64],
        n_train: usize,
        m: usize,
        signs: &[Sign],
    ) -> Result<Self> {
        Self::on_rows(design, y, (0..n_train).collect(), m, signs)
    }

    /// Prepares the baseline block on the periods `rows` (increasing), for
    /// a cross-validation fold: the media of each candidate are gathered
    /// from the same rows before the fit.
    pub fn on_rows(
        design: &BaselineDesign,
        y: &[f64],
        rows: Vec<usize>,
        m: usize,
        signs: &[Sign],
    ) -> Result<Self> {
        let n_train = rows.len();
        let prefix = rows.iter().enumerate().all(|(i, &r)| i == r);
        let take = |column: &[f64]| -> Vec<f64> { rows.iter().map(|&r| column[r]).collect() };
        let y = take(y);
        let columns: Vec<Vec<f64>> = design.columns.iter().map(|c| take(c)).collect();
        let k = columns.len();
        let (y_mean, y_sd) = mean_sd(&y[..n_train]);
        if y_sd == 0.0 {
            return Err(Error::invalid_input(
                "the KPI is constant over the training window",
            ));
        }
        let y_std: Vec<f64> = y[..n_train].iter().map(|v| (v - y_mean) / y_sd).collect();
        let control_offset = k - signs.len();
        let mut base_mean = Vec::with_capacity(k);
        let mut base_sd = Vec::with_capacity(k);
        let mut base_std = Vec::with_capacity(k);
        let mut constrained = vec![false; k + m];
        for (j, col) in columns.iter().enumerate() {
            let (mean, sd) = mean_sd(&col[..n_train]);
            // A constant column carries nothing in the window: scale 1 keeps it at 0.
            let mut sd = if sd > 0.0 { sd } else { 1.0 };
            if let Some(sign) = j.checked_sub(control_offset).map(|c| signs[c]) {
                constrained[j] = sign != Sign::Free;
                if sign == Sign::Negative {
                    sd = -sd;
                }
            }
            base_mean.push(mean);
            base_sd.push(sd);
            base_std.push(
                col[..n_train]
                    .iter()
                    .map(|v| (v - mean) / sd)
                    .collect::<Vec<_>>(),
            );
        }
        constrained[k..].fill(true);
        let mut gram_bb = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..=i {
                let v = dot(&base_std[i], &base_std[j]);
                gram_bb[i * k + j] = v;
                gram_bb[j * k + i] = v;
            }
        }
        let c_b = base_std.iter().map(|col| dot(col, &y_std)).collect();
        let p = k + m;
        Ok(Self {
            k,
            m,
            n_train,
            taken: if prefix {
                Vec::new()
            } else {
                vec![vec![0.0; n_train]; m]
            },
            rows: (!prefix).then_some(rows),
            y_mean,
            y_sd,
            y_std,
            base_mean,
            base_sd,
            base_std,
            gram_bb,
            c_b,
            constrained,
            gram: vec![0.0; p * p],
            c: vec![0.0; p],
            media_mean: vec![0.0; m],
            media_sd: vec![0.0; m],
            solver: ActiveSet::new(p),
            beta: vec![0.0; p],
            penalty: 0.0,
        })
    }

    /// Fits the candidate whose transformed media are `media[i]` (all
    /// periods; the first `n_train` are used) with penalty `lambda`.
    pub fn fit(&mut self, media: &[Vec<f64>], lambda: f64, out: &mut Coefficients) -> Result<()> {
        if let Some(rows) = &self.rows {
            for (taken, h) in self.taken.iter_mut().zip(media) {
                taken.iter_mut().zip(rows).for_each(|(v, &r)| *v = h[r]);
            }
            let taken = std::mem::take(&mut self.taken);
            let result = self.fit_rows(&taken, lambda, out);
            self.taken = taken;
            result
        } else {
            self.fit_rows(media, lambda, out)
        }
    }

    /// [`Self::fit`] on media already restricted to the system's rows (first `n_train` used).
    fn fit_rows(&mut self, media: &[Vec<f64>], lambda: f64, out: &mut Coefficients) -> Result<()> {
        let (k, m, n) = (self.k, self.m, self.n_train);
        let p = k + m;
        for (i, h) in media.iter().enumerate() {
            let (mean, sd) = mean_sd(&h[..n]);
            self.media_mean[i] = mean;
            self.media_sd[i] = if sd > 0.0 { sd } else { 1.0 };
        }
        for i in 0..k {
            self.gram[i * p..i * p + k].copy_from_slice(&self.gram_bb[i * k..(i + 1) * k]);
            self.c[i] = self.c_b[i];
        }
        let nf = n as f64;
        for i in 0..m {
            let (hi, si, mi) = (&media[i][..n], self.media_sd[i], self.media_mean[i]);
            // Centred columns: sum (h_i - mean_i) z_b = sum h_i z_b, as z_b and y~ sum to 0.
            for j in 0..k {
                let v = dot(hi, &self.base_std[j]) / si;
                self.gram[(k + i) * p + j] = v;
                self.gram[j * p + k + i] = v;
            }
            for j in 0..=i {
                let (hj, sj, mj) = (&media[j][..n], self.media_sd[j], self.media_mean[j]);
                let v = (dot(hi, hj) - nf * mi * mj) / (si * sj);
                self.gram[(k + i) * p + k + j] = v;
                self.gram[(k + j) * p + k + i] = v;
            }
            self.c[k + i] = dot(hi, &self.y_std) / si;
        }
        let penalty = lambda * nf;
        for j in 0..p {
            self.gram[j * p + j] += penalty;
        }
        let beta = self.solver.solve(&self.gram, &self.c, &self.constrained)?;
        self.beta.copy_from_slice(beta);
        self.penalty = penalty;
        let beta = &self.beta;
        let mut intercept = self.y_mean;
        for j in 0..k {
            let b = beta[j] * self.y_sd / self.base_sd[j];
            out.baseline[j] = b;
            intercept -= b * self.base_mean[j];
        }
        for i in 0..m {
            let b = beta[k + i] * self.y_sd / self.media_sd[i];
            out.media[i] = b;
            intercept -= b * self.media_mean[i];
        }
        out.intercept = intercept;
        Ok(())
    }

    /// Standard errors of the last fit's media coefficients (original
    /// scale), as if the transforms were known: the ridge estimator's
    /// sandwich covariance `s^2 A^-1 G A^-1` with `A = G + penalty I`, and
    /// `s^2` the residual variance over `n - df - 1` degrees of freedom,
    /// `df = tr(A^-1 G)`. The sign constraints are ignored here, so a
    /// coefficient held at zero still gets the spread the data allow it.
    pub fn media_standard_errors(&self) -> Result<Vec<f64>> {
        let (k, m, p) = (self.k, self.m, self.k + self.m);
        let singular = |_| Error::numerical("the ridge system is singular");
        let mut factor = mmm_sdk::ndarray::Array2::from_shape_vec((p, p), self.gram.clone())
            .map_err(|e| Error::numerical(e.to_string()))?;
        mmm_sdk::regression::cholesky_in_place(factor.view_mut()).map_err(singular)?;
        // Columns of A^-1, one solve each (p is a dozen or two).
        let mut inverse = vec![0.0; p * p];
        let mut column = vec![0.0; p];
        for j in 0..p {
            column.fill(0.0);
            column[j] = 1.0;
            mmm_sdk::regression::cholesky_solve_in_place(factor.view(), &mut column);
            for i in 0..p {
                inverse[i * p + j] = column[i];
            }
        }
        // G = A - penalty I; A^-1 G A^-1 = A^-1 - penalty A^-2, and tr(A^-1 G) = p - penalty tr(A^-1).
        let df = p as f64 - self.penalty * (0..p).map(|i| inverse[i * p + i]).sum::<f64>();
        let g = |i: usize, j: usize| self.gram[i * p + j] - if i == j { self.penalty } else { 0.0 };
        let b = &self.beta;
        let fitted_ss: f64 = (0..p)
            .map(|i| (0..p).map(|j| b[i] * g(i, j) * b[j]).sum::<f64>())
            .sum();
        let cross: f64 = b.iter().zip(&self.c).map(|(b, c)| b * c).sum();
        let sse = (dot(&self.y_std, &self.y_std) - 2.0 * cross + fitted_ss).max(0.0);
        let dof = self.n_train as f64 - df - 1.0;
        if dof <= 0.0 {
            return Err(Error::numerical(
                "no degrees of freedom left for the residual variance",
            ));
        }
        let variance = sse / dof;
        Ok((0..m)
            .map(|i| {
                let j = k + i;
                let a2: f64 = (0..p)
                    .map(|l| inverse[j * p + l] * inverse[l * p + j])
                    .sum();
                let var_std = variance * (inverse[j * p + j] - self.penalty * a2);
                var_std.max(0.0).sqrt() * self.y_sd / self.media_sd[i]
            })
            .collect())
    }

    pub fn n_train(&self) -> usize {
        self.n_train
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Calendar, Input};
    use mmm_sdk::ndarray::Array2;
    use mmm_sdk::regression::{RidgeOptions, ridge_non_negative};

    fn design(n: usize) -> (BaselineDesign, Vec<f64>, Vec<Vec<f64>>) {
        let mut rng = crate::rng::Rng::new(9);
        let dates: Vec<NaiveDate> = (0..n)
            .map(|t| {
                NaiveDate::from_ymd_opt(2020, 1, 6).unwrap()
                    + mmm_sdk::chrono::Days::new(7 * t as u64)
            })
            .collect();
        let control: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let media: Vec<Vec<f64>> = (0..3)
            .map(|_| (0..n).map(|_| rng.uniform()).collect())
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|t| 10.0 + 0.05 * t as f64 - 2.0 * control[t] + 3.0 * media[0][t] + rng.uniform())
            .collect();
        let input = Input {
            dates,
            y: y.clone(),
            media_names: vec!["a".into(), "b".into(), "c".into()],
            media: media.clone(),
            control_names: vec!["price".into()],
            controls: vec![control],
        };
        let d = BaselineDesign::new(&input, 1);
        assert_eq!(
            d.calendar,
            Calendar {
                first_day: d.calendar.first_day,
                period_days: 7.0,
                fourier_order: 1
            }
        );
        (d, y, media)
    }

    /// The incremental assembly gives the same coefficients as the SDK's
    /// direct standardised non-negative ridge on the full design matrix.
    #[test]
    fn matches_a_direct_standardised_ridge() {
        let n_all = 60;
        let n = 45;
        let (design, y, media) = design(n_all);
        let signs = [Sign::Negative];
        let mut system = RidgeSystem::new(&design, &y, n, 3, &signs).unwrap();
        let mut coef = Coefficients::new(design.columns.len(), 3);
        for lambda in [1e-4, 0.05, 0.5] {
            system.fit(&media, lambda, &mut coef).unwrap();
            let columns: Vec<&Vec<f64>> = design.columns.iter().chain(&media).collect();
            let x = Array2::from_shape_fn((n, columns.len()), |(t, j)| columns[j][t]);
            // The SDK penalises lambda_sdk ||b_std||^2 with y unscaled; ours, times sd_y^2,
            // is ||y_c - Z b_std||^2 + lambda n ||b_std||^2, so lambda_sdk = lambda n.
            let opts = RidgeOptions::new(lambda * n as f64);
            // Flip the price column so its <= 0 constraint is a >= 0 one.
            let mut flipped = x.clone();
            flipped.column_mut(3).mapv_inplace(|v| -v);
            let constrained = [false, false, false, true, true, true, true];
            let direct = ridge_non_negative(flipped.view(), &y[..n], &opts, &constrained).unwrap();
            let mut expected = direct.coefficients.clone();
            expected[3] = -expected[3];
            let got: Vec<f64> = coef.baseline.iter().chain(&coef.media).copied().collect();
            for (g, e) in got.iter().zip(&expected) {
                assert!(
                    (g - e).abs() < 1e-9 * (1.0 + e.abs()),
                    "lambda {lambda}: {got:?} vs {expected:?}"
                );
            }
            assert!((coef.intercept - direct.intercept).abs() < 1e-8);
            assert!(coef.baseline[3] <= 0.0 && coef.media.iter().all(|&b| b >= 0.0));
        }
    }

    /// A cross-validation fold's system (every period but a block in the
    /// middle) gives the SDK's ridge on exactly those rows.
    #[test]
    fn a_fold_fits_the_rows_it_is_given() {
        let (design, y, media) = design(60);
        let rows: Vec<usize> = (0..50).filter(|t| !(20..30).contains(t)).collect();
        let mut system = RidgeSystem::on_rows(&design, &y, rows.clone(), 3, &[Sign::Free]).unwrap();
        let mut coef = Coefficients::new(design.columns.len(), 3);
        let lambda = 0.05;
        system.fit(&media, lambda, &mut coef).unwrap();
        let columns: Vec<&Vec<f64>> = design.columns.iter().chain(&media).collect();
        let x = Array2::from_shape_fn((rows.len(), columns.len()), |(i, j)| columns[j][rows[i]]);
        let taken: Vec<f64> = rows.iter().map(|&t| y[t]).collect();
        let opts = RidgeOptions::new(lambda * rows.len() as f64);
        let constrained = [false, false, false, false, true, true, true];
        let direct = ridge_non_negative(x.view(), &taken, &opts, &constrained).unwrap();
        let got: Vec<f64> = coef.baseline.iter().chain(&coef.media).copied().collect();
        for (g, e) in got.iter().zip(&direct.coefficients) {
            assert!(
                (g - e).abs() < 1e-9 * (1.0 + e.abs()),
                "{got:?} vs {:?}",
                direct.coefficients
            );
        }
        assert!((coef.intercept - direct.intercept).abs() < 1e-8);
    }

    /// With a negligible penalty the standard errors are the textbook OLS
    /// ones, `s sqrt([(X'X)^-1]_jj)` on centred columns with
    /// `s^2 = SSE / (n - p - 1)`, computed here directly.
    #[test]
    fn standard_errors_match_ols_without_a_penalty() {
        let (design, y, media) = design(60);
        let n = 45;
        let mut system = RidgeSystem::new(&design, &y, n, 3, &[Sign::Free]).unwrap();
        let mut coef = Coefficients::new(design.columns.len(), 3);
        system.fit(&media, 1e-12, &mut coef).unwrap();
        let se = system.media_standard_errors().unwrap();
        let columns: Vec<&Vec<f64>> = design.columns.iter().chain(&media).collect();
        let p = columns.len();
        let centred: Vec<Vec<f64>> = columns
            .iter()
            .map(|c| {
                let mean = c[..n].iter().sum::<f64>() / n as f64;
                c[..n].iter().map(|v| v - mean).collect()
            })
            .collect();
        let mut xtx = Array2::from_shape_fn((p, p), |(i, j)| dot(&centred[i], &centred[j]));
        mmm_sdk::regression::cholesky_in_place(xtx.view_mut()).unwrap();
        let residuals: f64 = (0..n)
            .map(|t| {
                let fitted = coef.intercept
                    + design
                        .columns
                        .iter()
                        .zip(&coef.baseline)
                        .map(|(c, b)| b * c[t])
                        .sum::<f64>()
                    + media
                        .iter()
                        .zip(&coef.media)
                        .map(|(c, b)| b * c[t])
                        .sum::<f64>();
                (y[t] - fitted).powi(2)
            })
            .sum();
        let s2 = residuals / (n - p - 1) as f64;
        for i in 0..3 {
            let mut unit = vec![0.0; p];
            unit[p - 3 + i] = 1.0;
            mmm_sdk::regression::cholesky_solve_in_place(xtx.view(), &mut unit);
            let expected = (s2 * unit[p - 3 + i]).sqrt();
            assert!(
                (se[i] - expected).abs() < 1e-6 * expected,
                "channel {i}: {} vs {expected}",
                se[i]
            );
        }
    }

    #[test]
    fn dot_sums_every_product() {
        let a = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(dot(&a, &a), 55.0);
    }
}
