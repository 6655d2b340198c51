//! Fit and business-plausibility metrics used to rank candidate models:
//! R², adjusted R², RMSE, Robyn's NRMSE, MAPE and Robyn's DECOMP.RSSD; and
//! the residuals' lag-1 autocorrelation, which says when a fit misses
//! structure its in-sample error does not show.
//!
//! All functions take slices and allocate nothing.

use thiserror::Error;

/// Why a metric is undefined for the given input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetricsError {
    /// The paired series have different lengths.
    #[error("length mismatch: {left} vs {right} values")]
    LengthMismatch {
        /// Length of the first series (actuals or effect shares).
        left: usize,
        /// Length of the second series (predictions or spend shares).
        right: usize,
    },
    /// There are no values to score.
    #[error("cannot compute a metric over no values")]
    Empty,
    /// The actuals do not vary, so R² and NRMSE have a zero denominator.
    #[error("actual values are constant")]
    ConstantActuals,
    /// Every actual is zero, so MAPE has nothing to average.
    #[error("every actual value is zero")]
    NoNonZeroActuals,
    /// Shares cannot be taken of values summing to zero.
    #[error("values sum to zero, shares are undefined")]
    ZeroTotal,
    /// Adjusted R² needs more observations than estimated parameters.
    #[error(
        "{observations} observations leave no residual degrees of freedom for {parameters} parameters"
    )]
    NoDegreesOfFreedom {
        /// Number of observations.
        observations: usize,
        /// Number of estimated parameters, intercept included.
        parameters: usize,
    },
}

fn paired(left: &[f64], right: &[f64]) -> Result<(), MetricsError> {
    if left.len() != right.len() {
        Err(MetricsError::LengthMismatch {
            left: left.len(),
            right: right.len(),
        })
    } else if left.is_empty() {
        Err(MetricsError::Empty)
    } else {
        Ok(())
    }
}

fn sum_squared_errors(actual: &[f64], predicted: &[f64]) -> f64 {
    actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| (a - p) * (a - p))
        .sum()
}

/// Coefficient of determination `1 - SSE / SST`, with `SST` about the mean
/// of `actual` (as Robyn's `get_rsq`).
///
/// Use it to report in-sample fit; it can be negative for a model worse than
/// the mean.
///
/// ```
/// // SSE = 1, mean 2, SST = 1 + 0 + 1 = 2 -> 0.5
/// let r2 = mmm_sdk::metrics::r_squared(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]).unwrap();
/// assert_eq!(r2, 0.5);
/// ```
pub fn r_squared(actual: &[f64], predicted: &[f64]) -> Result<f64, MetricsError> {
    paired(actual, predicted)?;
    let mean = actual.iter().sum::<f64>() / actual.len() as f64;
    let total: f64 = actual.iter().map(|a| (a - mean) * (a - mean)).sum();
    if total == 0.0 {
        return Err(MetricsError::ConstantActuals);
    }
    Ok(1.0 - sum_squared_errors(actual, predicted) / total)
}

/// Adjusted R² `1 - (1 - r2) (n - d) / (n - p - d)`, where `d` is 1 with an
/// intercept and 0 without (Robyn's `df.int`).
///
/// Use it to compare models with different numbers of regressors `p`
/// (intercept excluded) fitted on `n` observations.
pub fn adjusted_r_squared(
    r_squared: f64,
    n: usize,
    p: usize,
    intercept: bool,
) -> Result<f64, MetricsError> {
    let d = usize::from(intercept);
    if n <= p + d {
        return Err(MetricsError::NoDegreesOfFreedom {
            observations: n,
            parameters: p + d,
        });
    }
    Ok(1.0 - (1.0 - r_squared) * (n - d) as f64 / (n - p - d) as f64)
}

/// Root mean squared error `sqrt(mean((actual - predicted)^2))`.
pub fn rmse(actual: &[f64], predicted: &[f64]) -> Result<f64, MetricsError> {
    paired(actual, predicted)?;
    Ok((sum_squared_errors(actual, predicted) / actual.len() as f64).sqrt())
}

/// Robyn's NRMSE: RMSE divided by the range `max(actual) - min(actual)`.
///
/// Robyn minimises it (together with DECOMP.RSSD) in its hyperparameter
/// search; scaling by the range makes it comparable across KPIs.
///
/// ```
/// // RMSE = sqrt(1/3), range 2
/// let e = mmm_sdk::metrics::nrmse(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]).unwrap();
/// assert!((e - (1.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-15);
/// ```
pub fn nrmse(actual: &[f64], predicted: &[f64]) -> Result<f64, MetricsError> {
    let rmse = rmse(actual, predicted)?;
    let (min, max) = actual
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &a| {
            (lo.min(a), hi.max(a))
        });
    let range = max - min;
    if range == 0.0 {
        return Err(MetricsError::ConstantActuals);
    }
    Ok(rmse / range)
}

/// Mean absolute percentage error `mean(|actual - predicted| / |actual|)`
/// as a fraction (0.1 means 10%).
///
/// Periods whose actual is exactly zero are skipped (their percentage error
/// is undefined) and the mean is over the remaining periods; it fails only
/// when every actual is zero.
///
/// ```
/// // The zero actual is skipped: |2 - 1| / 2 = 0.5 over one period.
/// assert_eq!(mmm_sdk::metrics::mape(&[0.0, 2.0], &[1.0, 1.0]).unwrap(), 0.5);
/// ```
pub fn mape(actual: &[f64], predicted: &[f64]) -> Result<f64, MetricsError> {
    paired(actual, predicted)?;
    let (sum, count) = actual
        .iter()
        .zip(predicted)
        .filter(|(a, _)| **a != 0.0)
        .fold((0.0, 0usize), |(s, c), (a, p)| {
            (s + ((a - p) / a).abs(), c + 1)
        });
    if count == 0 {
        return Err(MetricsError::NoNonZeroActuals);
    }
    Ok(sum / count as f64)
}

/// Lag-1 autocorrelation of the residuals `actual - predicted`,
/// `sum_t e'_t e'_{t+1} / sum_t e'_t^2` with `e'` the centred residuals.
///
/// Near zero (within about `2 / sqrt(n)`) when what is left is noise; well
/// above it when the residuals run in streaks, which is what a misspecified
/// carryover or saturation, or a baseline change the model cannot follow,
/// leaves behind. On the accuracy suite (`host/accuracy`), fits above
/// [`STREAKY_RESIDUALS`] sqrt(n) erred about three times as much in ROI as the rest.
///
/// ```
/// let streaky = mmm_sdk::metrics::residual_autocorrelation(
///     &[1.0, 1.0, 1.0, -1.0, -1.0, -1.0], &[0.0; 6]).unwrap();
/// assert!(streaky > 0.3);
/// ```
pub fn residual_autocorrelation(actual: &[f64], predicted: &[f64]) -> Result<f64, MetricsError> {
    paired(actual, predicted)?;
    let n = actual.len() as f64;
    let mean = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| a - p)
        .sum::<f64>()
        / n;
    let e = |t: usize| actual[t] - predicted[t] - mean;
    let variance: f64 = (0..actual.len()).map(|t| e(t) * e(t)).sum();
    if variance == 0.0 {
        return Ok(0.0);
    }
    let lagged: f64 = (1..actual.len()).map(|t| e(t - 1) * e(t)).sum();
    Ok(lagged / variance)
}

/// Residual autocorrelation above `STREAKY_RESIDUALS / sqrt(n)` counts as
/// streaky: white noise exceeds it about once in 160 fits.
pub const STREAKY_RESIDUALS: f64 = 2.5;

/// Writes each value's share of the total, `out_i = values_i / sum(values)`.
///
/// Use it to turn per-channel effect totals or spend totals into the shares
/// [`decomp_rssd`] compares.
pub fn shares_into(values: &[f64], out: &mut [f64]) -> Result<(), MetricsError> {
    paired(values, out)?;
    let total: f64 = values.iter().sum();
    if total == 0.0 {
        return Err(MetricsError::ZeroTotal);
    }
    out.iter_mut().zip(values).for_each(|(o, v)| *o = v / total);
    Ok(())
}

/// Robyn's DECOMP.RSSD: `sqrt(sum((effect_share - spend_share)^2))` over the
/// paid media channels.
///
/// Use it as the second objective of a model search: it penalises models
/// whose effect attribution departs far from how the budget was spent, which
/// Robyn uses to rule out implausible decompositions. Shares should each sum
/// to 1 (see [`shares_into`] or [`decomp_rssd_from_totals`]).
///
/// ```
/// // (0.6 - 0.5)^2 + (0.4 - 0.5)^2 = 0.02
/// let d = mmm_sdk::metrics::decomp_rssd(&[0.6, 0.4], &[0.5, 0.5]).unwrap();
/// assert!((d - 0.02f64.sqrt()).abs() < 1e-15);
/// ```
pub fn decomp_rssd(effect_share: &[f64], spend_share: &[f64]) -> Result<f64, MetricsError> {
    paired(effect_share, spend_share)?;
    Ok(sum_squared_errors(effect_share, spend_share).sqrt())
}

/// [`decomp_rssd`] from per-channel totals, taking the shares on the fly
/// without a buffer.
pub fn decomp_rssd_from_totals(effects: &[f64], spends: &[f64]) -> Result<f64, MetricsError> {
    paired(effects, spends)?;
    let effect_total: f64 = effects.iter().sum();
    let spend_total: f64 = spends.iter().sum();
    if effect_total == 0.0 || spend_total == 0.0 {
        return Err(MetricsError::ZeroTotal);
    }
    let squares = effects
        .iter()
        .zip(spends)
        .map(|(e, s)| (e / effect_total - s / spend_total).powi(2));
    Ok(squares.sum::<f64>().sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTUAL: [f64; 3] = [1.0, 2.0, 3.0];
    const PREDICTED: [f64; 3] = [1.0, 2.0, 4.0];

    #[test]
    fn residual_autocorrelation_tells_streaks_from_alternation() {
        let zeros = [0.0; 6];
        let alternating = [1.0, -1.0, 1.0, -1.0, 1.0, -1.0];
        assert!(residual_autocorrelation(&alternating, &zeros).unwrap() < -0.5);
        assert_eq!(residual_autocorrelation(&zeros, &zeros).unwrap(), 0.0);
        // -1, 1, -1 around the mean: (-1 + -1) / 3.
        let r = residual_autocorrelation(&[1.0, 3.0, 1.0], &[0.0; 3]).unwrap();
        assert!((r + 2.0 / 3.0).abs() < 1e-12, "{r}");
        assert!(residual_autocorrelation(&[1.0], &[]).is_err());
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn r_squared_compares_residuals_with_variation_about_the_mean() {
        // SSE = 0 + 0 + 1 = 1; mean 2, SST = 1 + 0 + 1 = 2; 1 - 1/2 = 0.5
        assert!(close(r_squared(&ACTUAL, &PREDICTED).unwrap(), 0.5));
        assert!(close(r_squared(&ACTUAL, &ACTUAL).unwrap(), 1.0));
        assert_eq!(
            r_squared(&[2.0, 2.0], &[1.0, 2.0]),
            Err(MetricsError::ConstantActuals)
        );
    }

    #[test]
    fn adjusted_r_squared_penalises_extra_regressors() {
        // 1 - 0.5 * (10 - 1) / (10 - 2 - 1) = 1 - 4.5/7 = 0.357142...
        assert!(close(
            adjusted_r_squared(0.5, 10, 2, true).unwrap(),
            1.0 - 4.5 / 7.0
        ));
        // without intercept: 1 - 0.5 * 10 / 8 = 0.375
        assert!(close(adjusted_r_squared(0.5, 10, 2, false).unwrap(), 0.375));
        assert!(matches!(
            adjusted_r_squared(0.5, 3, 2, true),
            Err(MetricsError::NoDegreesOfFreedom { .. })
        ));
    }

    #[test]
    fn nrmse_divides_rmse_by_the_range_of_actuals() {
        // RMSE = sqrt(1/3) = 0.57735; range 3 - 1 = 2; NRMSE = 0.288675
        assert!(close(
            rmse(&ACTUAL, &PREDICTED).unwrap(),
            (1.0f64 / 3.0).sqrt()
        ));
        assert!(close(
            nrmse(&ACTUAL, &PREDICTED).unwrap(),
            0.288_675_134_594_812_9
        ));
        assert_eq!(
            nrmse(&[1.0, 1.0], &[1.0, 2.0]),
            Err(MetricsError::ConstantActuals)
        );
    }

    #[test]
    fn mape_averages_relative_errors_and_skips_zero_actuals() {
        // |0|/1 + |0|/2 + |3-4|/3 = 1/3, over 3 periods = 1/9
        assert!(close(mape(&ACTUAL, &PREDICTED).unwrap(), 1.0 / 9.0));
        // zero actual skipped: only |4 - 5| / 4 = 0.25 counts
        assert!(close(mape(&[0.0, 4.0], &[3.0, 5.0]).unwrap(), 0.25));
        assert_eq!(mape(&[0.0], &[1.0]), Err(MetricsError::NoNonZeroActuals));
    }

    #[test]
    fn rssd_measures_distance_between_effect_and_spend_shares() {
        // effects [6, 4] -> [0.6, 0.4]; spends [50, 50] -> [0.5, 0.5]; sqrt(0.01 + 0.01)
        let mut shares = [0.0; 2];
        shares_into(&[6.0, 4.0], &mut shares).unwrap();
        assert!(close(shares[0], 0.6) && close(shares[1], 0.4));
        assert!(close(
            decomp_rssd(&shares, &[0.5, 0.5]).unwrap(),
            0.02f64.sqrt()
        ));
        assert!(close(
            decomp_rssd_from_totals(&[6.0, 4.0], &[50.0, 50.0]).unwrap(),
            0.02f64.sqrt()
        ));
        assert_eq!(
            decomp_rssd_from_totals(&[0.0], &[1.0]),
            Err(MetricsError::ZeroTotal)
        );
    }

    #[test]
    fn mismatched_or_empty_series_are_rejected() {
        assert_eq!(
            rmse(&[1.0], &[]),
            Err(MetricsError::LengthMismatch { left: 1, right: 0 })
        );
        assert_eq!(mape(&[], &[]), Err(MetricsError::Empty));
    }
}
