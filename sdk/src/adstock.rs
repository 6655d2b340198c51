//! Adstock (carryover) transforms: geometric, normalised geometric and
//! Robyn's Weibull CDF/PDF kernels, plus the immediate/carryover split.
//!
//! Every transform has a `Vec`-returning form for convenience and an `_into`
//! form writing into a caller-owned buffer, so a model search evaluating
//! thousands of candidates per second can reuse its buffers.

use thiserror::Error;

mod weibull;

pub use weibull::{WeibullKind, robyn_weibull_scale, weibull, weibull_weights_into};

/// Why an adstock transform refused its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AdstockError {
    /// The output buffer (or a paired series) has a different length from the input.
    #[error("length mismatch: input has {input} values, other buffer has {other}")]
    LengthMismatch {
        /// Length of the input series.
        input: usize,
        /// Length of the output buffer or paired series.
        other: usize,
    },
    /// A hyperparameter is non-finite or outside its allowed range.
    #[error("parameter `{name}` = {value} is outside {expected}")]
    InvalidParameter {
        /// Parameter name as in Robyn (`theta`, `shape`, `scale`).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// Human description of the allowed range.
        expected: &'static str,
    },
    /// A kernel needs at least one weight (lag 0).
    #[error("the adstock window must hold at least one weight")]
    EmptyWindow,
}

fn check_len(input: usize, other: usize) -> Result<(), AdstockError> {
    if input == other {
        Ok(())
    } else {
        Err(AdstockError::LengthMismatch { input, other })
    }
}

fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    expected: &'static str,
) -> Result<(), AdstockError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(AdstockError::InvalidParameter {
            name,
            value,
            expected,
        })
    }
}

/// Geometric adstock in Robyn's recursive form, `x'_t = x_t + theta * x'_{t-1}`.
///
/// Use it for the classic one-parameter carryover where a share `theta` of
/// last period's adstocked effect survives into this one. The kernel is not
/// normalised: a unit of spend contributes `1/(1-theta)` in total.
/// `theta` must lie in `[0, 1]`.
///
/// ```
/// let x = mmm_sdk::adstock::geometric(&[1.0, 0.0, 0.0], 0.5).unwrap();
/// assert_eq!(x, vec![1.0, 0.5, 0.25]);
/// ```
pub fn geometric(x: &[f64], theta: f64) -> Result<Vec<f64>, AdstockError> {
    let mut out = x.to_vec();
    geometric_in_place(&mut out, theta)?;
    Ok(out)
}

/// [`geometric`] writing into `out`, which must be as long as `x`.
pub fn geometric_into(x: &[f64], out: &mut [f64], theta: f64) -> Result<(), AdstockError> {
    check_len(x.len(), out.len())?;
    out.copy_from_slice(x);
    geometric_in_place(out, theta)
}

/// [`geometric`] overwriting `x`: the recursion needs no second buffer.
pub fn geometric_in_place(x: &mut [f64], theta: f64) -> Result<(), AdstockError> {
    check_range("theta", theta, 0.0, 1.0, "[0, 1]")?;
    for t in 1..x.len() {
        x[t] += theta * x[t - 1];
    }
    Ok(())
}

/// Writes the normalised geometric kernel into `out`: `w_l = theta^l / S`
/// for lags `l = 0..out.len()`, with `S = sum_l theta^l` so the weights sum
/// to 1.
///
/// The window length `l_max = out.len()` is the longest carryover (lags
/// `0..l_max-1`); older spend is forgotten. Because the weights sum to 1 the
/// adstocked series keeps the total of the input (apart from the spend whose
/// carryover runs past the end of the series), which keeps saturation
/// hyperparameters comparable across `theta`. This is the PyMC-Marketing /
/// LightweightMMM convention, not Robyn's.
pub fn normalized_geometric_weights_into(out: &mut [f64], theta: f64) -> Result<(), AdstockError> {
    check_range("theta", theta, 0.0, 1.0, "[0, 1]")?;
    let mut power = 1.0;
    for w in out.iter_mut() {
        *w = power;
        power *= theta;
    }
    normalize_sum(out)
}

/// Normalised geometric adstock over a window of `l_max` lags; see
/// [`normalized_geometric_weights_into`] for the kernel.
///
/// ```
/// // theta = 0.5, l_max = 2: weights [1, 0.5] / 1.5 = [2/3, 1/3].
/// let x = mmm_sdk::adstock::normalized_geometric(&[3.0, 0.0, 0.0], 0.5, 2).unwrap();
/// assert!((x[0] - 2.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12 && x[2] == 0.0);
/// ```
pub fn normalized_geometric(x: &[f64], theta: f64, l_max: usize) -> Result<Vec<f64>, AdstockError> {
    let mut weights = vec![0.0; l_max];
    normalized_geometric_weights_into(&mut weights, theta)?;
    let mut out = vec![0.0; x.len()];
    convolve_into(x, &mut out, &weights)?;
    Ok(out)
}

/// Applies a decay kernel: `out_t = sum_{l=0}^{min(t, L-1)} weights_l * x_{t-l}`.
///
/// This is the shared engine of the kernel-based adstocks; build the kernel
/// once per hyperparameter set (e.g. with [`weibull_weights_into`]) and apply
/// it to many series. Cost is `O(x.len() * weights.len())`.
pub fn convolve_into(x: &[f64], out: &mut [f64], weights: &[f64]) -> Result<(), AdstockError> {
    check_len(x.len(), out.len())?;
    if weights.is_empty() {
        return Err(AdstockError::EmptyWindow);
    }
    for (t, o) in out.iter_mut().enumerate() {
        let lags = weights.len().min(t + 1);
        *o = (0..lags).map(|l| weights[l] * x[t - l]).sum();
    }
    Ok(())
}

fn normalize_sum(v: &mut [f64]) -> Result<(), AdstockError> {
    if v.is_empty() {
        return Err(AdstockError::EmptyWindow);
    }
    let sum: f64 = v.iter().sum();
    v.iter_mut().for_each(|w| *w /= sum);
    Ok(())
}

/// Totals of an adstocked series split into immediate and carried-over effect.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CarryoverSplit {
    /// Effect landing in the period of the spend: `w_0 * sum(x)`.
    pub immediate: f64,
    /// Effect arriving in later periods: `sum(adstocked) - immediate`.
    pub carryover: f64,
}

impl CarryoverSplit {
    /// The whole adstocked total, `immediate + carryover`.
    pub fn total(&self) -> f64 {
        self.immediate + self.carryover
    }

    /// Share of the adstocked total that comes from past periods; 0 when the
    /// total is 0 (no spend means no carryover to report).
    pub fn carryover_share(&self) -> f64 {
        let total = self.total();
        if total == 0.0 {
            0.0
        } else {
            self.carryover / total
        }
    }
}

/// Splits the totals of `adstocked` (the adstock of `x`) into immediate and
/// carryover effect, as Robyn reports immediate vs carryover response.
///
/// `immediate_weight` is the kernel's lag-0 weight `w_0`: 1 for
/// [`geometric`] and Weibull CDF, `weights[0]` for Weibull PDF and the
/// normalised geometric kernel. Robyn takes the immediate part as
/// `w_0 * x_t` (its `x_imme`), and the rest is carryover.
///
/// ```
/// use mmm_sdk::adstock::{carryover_split, geometric};
/// let x = [1.0, 0.0, 0.0];
/// let split = carryover_split(&x, &geometric(&x, 0.5).unwrap(), 1.0).unwrap();
/// // adstocked total 1.75 = 1 immediate + 0.75 carried over.
/// assert!((split.carryover_share() - 0.75 / 1.75).abs() < 1e-12);
/// ```
pub fn carryover_split(
    x: &[f64],
    adstocked: &[f64],
    immediate_weight: f64,
) -> Result<CarryoverSplit, AdstockError> {
    check_len(x.len(), adstocked.len())?;
    let immediate = immediate_weight * x.iter().sum::<f64>();
    let carryover = adstocked.iter().sum::<f64>() - immediate;
    Ok(CarryoverSplit {
        immediate,
        carryover,
    })
}

/// Share of the adstocked total coming from past periods; see [`carryover_split`].
pub fn carryover_share(
    x: &[f64],
    adstocked: &[f64],
    immediate_weight: f64,
) -> Result<f64, AdstockError> {
    Ok(carryover_split(x, adstocked, immediate_weight)?.carryover_share())
}

/// Per-period carryover, `out_t = adstocked_t - immediate_weight * x_t`, for
/// plotting or for saturating immediate and carryover effect separately.
pub fn carryover_into(
    x: &[f64],
    adstocked: &[f64],
    out: &mut [f64],
    immediate_weight: f64,
) -> Result<(), AdstockError> {
    check_len(x.len(), adstocked.len())?;
    check_len(x.len(), out.len())?;
    for ((o, &a), &xi) in out.iter_mut().zip(adstocked).zip(x) {
        *o = a - immediate_weight * xi;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?} vs {expected:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn geometric_decays_a_single_pulse_by_theta_each_period() {
        // 1; 0 + 0.5*1 = 0.5; 0 + 0.5*0.5 = 0.25
        assert_close(
            &geometric(&[1.0, 0.0, 0.0], 0.5).unwrap(),
            &[1.0, 0.5, 0.25],
        );
    }

    #[test]
    fn geometric_accumulates_constant_spend() {
        // Robyn's example rep(100, 3), theta 0.5: 100; 100+50 = 150; 100+75 = 175
        let mut out = [0.0; 3];
        geometric_into(&[100.0; 3], &mut out, 0.5).unwrap();
        assert_close(&out, &[100.0, 150.0, 175.0]);
    }

    #[test]
    fn geometric_rejects_theta_outside_unit_interval_and_bad_buffers() {
        assert!(matches!(
            geometric(&[1.0], 1.5),
            Err(AdstockError::InvalidParameter { .. })
        ));
        assert!(matches!(
            geometric(&[1.0], f64::NAN),
            Err(AdstockError::InvalidParameter { .. })
        ));
        let err = geometric_into(&[1.0, 2.0], &mut [0.0], 0.5).unwrap_err();
        assert_eq!(err, AdstockError::LengthMismatch { input: 2, other: 1 });
    }

    #[test]
    fn normalized_geometric_weights_sum_to_one_over_the_window() {
        // theta 0.5, l_max 3: [1, 0.5, 0.25] / 1.75 = [4/7, 2/7, 1/7]
        let mut w = [0.0; 3];
        normalized_geometric_weights_into(&mut w, 0.5).unwrap();
        assert_close(&w, &[4.0 / 7.0, 2.0 / 7.0, 1.0 / 7.0]);
        // [7, 7, 0, 0]: t0 = 4; t1 = 7*4/7 + 7*2/7 = 6; t2 = 2 + 1 = 3; t3 = 1 (lag 3 is dropped)
        let x = normalized_geometric(&[7.0, 7.0, 0.0, 0.0], 0.5, 3).unwrap();
        assert_close(&x, &[4.0, 6.0, 3.0, 1.0]);
    }

    #[test]
    fn carryover_split_separates_lag_zero_from_later_periods() {
        // x = [1, 0, 0], geometric 0.5 -> [1, 0.5, 0.25]; immediate 1, carryover 0.75
        let x = [1.0, 0.0, 0.0];
        let adstocked = geometric(&x, 0.5).unwrap();
        let split = carryover_split(&x, &adstocked, 1.0).unwrap();
        assert_eq!(
            split,
            CarryoverSplit {
                immediate: 1.0,
                carryover: 0.75
            }
        );
        assert!((carryover_share(&x, &adstocked, 1.0).unwrap() - 3.0 / 7.0).abs() < 1e-12);
        let mut per_period = [0.0; 3];
        carryover_into(&x, &adstocked, &mut per_period, 1.0).unwrap();
        assert_close(&per_period, &[0.0, 0.5, 0.25]);
    }

    #[test]
    fn carryover_share_of_no_spend_is_zero() {
        assert_eq!(carryover_share(&[0.0, 0.0], &[0.0, 0.0], 1.0).unwrap(), 0.0);
    }
}
