//! Saturation (diminishing returns) curves: Robyn's Hill and the logistic
//! curve, each with its derivative for marginal response.

use thiserror::Error;

/// Why a saturation curve refused its input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SaturationError {
    /// The output buffer has a different length from the input.
    #[error("length mismatch: input has {input} values, output has {output}")]
    LengthMismatch {
        /// Length of the input series.
        input: usize,
        /// Length of the output buffer.
        output: usize,
    },
    /// A hyperparameter is non-finite or outside its allowed range.
    #[error("parameter `{name}` = {value} is outside {expected}")]
    InvalidParameter {
        /// Parameter name (`alpha`, `gamma`, `inflexion`, `lambda`).
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// Human description of the allowed range.
        expected: &'static str,
    },
    /// The Hill inflexion needs the range of a non-empty, finite series.
    #[error("cannot take the range of an empty or non-finite series")]
    NoRange,
}

fn check(
    name: &'static str,
    value: f64,
    ok: bool,
    expected: &'static str,
) -> Result<(), SaturationError> {
    if value.is_finite() && ok {
        Ok(())
    } else {
        Err(SaturationError::InvalidParameter {
            name,
            value,
            expected,
        })
    }
}

fn check_len(input: usize, output: usize) -> Result<(), SaturationError> {
    if input == output {
        Ok(())
    } else {
        Err(SaturationError::LengthMismatch { input, output })
    }
}

/// Robyn's Hill inflexion: `(1 - gamma) * min(x) + gamma * max(x)`.
///
/// `x` is the adstocked series (Robyn uses the modelling window), so `gamma`
/// in `[0, 1]` places the half-saturation point between the smallest and the
/// largest adstocked value. Note this is Robyn's definition; other tools use
/// `gamma * max(x)` or an absolute half-saturation point.
pub fn hill_inflexion(x: &[f64], gamma: f64) -> Result<f64, SaturationError> {
    check("gamma", gamma, (0.0..=1.0).contains(&gamma), "[0, 1]")?;
    // Comparisons rather than `f64::min`/`max`: inside the wasm sandbox
    // those are calls to libm's `fmin`/`fmax` (wasm's own instructions
    // treat NaN differently), 9% of a model search's time per a guest
    // profile. NaNs are skipped either way.
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for &v in x {
        if v < min {
            min = v;
        }
        if v > max {
            max = v;
        }
    }
    if !(min.is_finite() && max.is_finite()) {
        return Err(SaturationError::NoRange);
    }
    Ok((1.0 - gamma) * min + gamma * max)
}

/// A Hill curve `x^alpha / (x^alpha + inflexion^alpha)` with fixed parameters.
///
/// Build it once per candidate model (e.g. with [`Hill::from_series`]) and
/// evaluate it pointwise, on a series, or for marginal response. `alpha`
/// above 1 gives an S-shape, at most 1 a C-shape. Defined for `x >= 0`
/// (spend); `value(0) = 0` and negative inputs give NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hill {
    alpha: f64,
    inflexion: f64,
    /// `ln(inflexion)`, taken once per curve (see [`Hill::value`]).
    log_inflexion: f64,
}

impl Hill {
    /// A Hill curve with shape `alpha > 0` and half-saturation point `inflexion >= 0`.
    pub fn new(alpha: f64, inflexion: f64) -> Result<Self, SaturationError> {
        check("alpha", alpha, alpha > 0.0, "(0, inf)")?;
        check("inflexion", inflexion, inflexion >= 0.0, "[0, inf)")?;
        Ok(Self {
            alpha,
            inflexion,
            log_inflexion: inflexion.ln(),
        })
    }

    /// Robyn's parameterisation: the inflexion comes from `gamma` and the
    /// range of the adstocked series `x` (see [`hill_inflexion`]).
    pub fn from_series(x: &[f64], alpha: f64, gamma: f64) -> Result<Self, SaturationError> {
        Self::new(alpha, hill_inflexion(x, gamma)?)
    }

    /// The shape parameter.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The half-saturation point: `value(inflexion) == 0.5`.
    pub fn inflexion(&self) -> f64 {
        self.inflexion
    }

    /// Saturated response in `[0, 1)` at `x`.
    ///
    /// Computed as `1 / (1 + exp(alpha (ln inflexion - ln x)))`, the same
    /// value without overflowing `x^alpha` for large spend. Why not `powf`:
    /// a model search evaluates this for every period of every channel of
    /// every candidate, and `ln` + `exp` with `ln inflexion` kept cost 9 ns
    /// against `powf`'s 13 natively (ridge-mmm's native fit went from 0.195
    /// to 0.162 s, its fit inside the sandbox from 0.36 to 0.34 s). For
    /// `alpha = 1` the plain ratio `x / (x + inflexion)` is exact.
    pub fn value(&self, x: f64) -> f64 {
        if x == 0.0 {
            return 0.0;
        }
        if x < 0.0 {
            return f64::NAN;
        }
        if self.alpha == 1.0 {
            return 1.0 / (1.0 + self.inflexion / x);
        }
        1.0 / (1.0 + (self.alpha * (self.log_inflexion - x.ln())).exp())
    }

    /// Marginal response `d value / dx = alpha x^(alpha-1) k^alpha / (x^alpha + k^alpha)^2`,
    /// computed as `alpha * s * (1 - s) / x` with `s = value(x)`.
    ///
    /// Multiply by the channel's regression coefficient to get the marginal
    /// effect on the KPI of one more unit of adstocked spend. At `x = 0` the
    /// derivative is 0 for `alpha > 1`, `1 / inflexion` for `alpha = 1` and
    /// infinite for `alpha < 1`.
    pub fn derivative(&self, x: f64) -> f64 {
        if x == 0.0 {
            return match self.alpha {
                a if a > 1.0 => 0.0,
                1.0 => 1.0 / self.inflexion,
                _ => f64::INFINITY,
            };
        }
        let s = self.value(x);
        self.alpha * s * (1.0 - s) / x
    }

    /// Saturates every value of `x` into `out` (same length).
    pub fn apply_into(&self, x: &[f64], out: &mut [f64]) -> Result<(), SaturationError> {
        check_len(x.len(), out.len())?;
        out.iter_mut().zip(x).for_each(|(o, &v)| *o = self.value(v));
        Ok(())
    }
}

/// Robyn's `saturation_hill(x, alpha, gamma)`: Hill-saturates the adstocked
/// series `x`, taking the inflexion from its own range.
///
/// ```
/// // range [0, 4], gamma 0.5 -> inflexion 2; alpha 1: x / (x + 2)
/// let s = mmm_sdk::saturation::hill(&[0.0, 2.0, 4.0], 1.0, 0.5).unwrap();
/// assert_eq!(s, vec![0.0, 0.5, 4.0 / 6.0]);
/// ```
pub fn hill(x: &[f64], alpha: f64, gamma: f64) -> Result<Vec<f64>, SaturationError> {
    let mut out = vec![0.0; x.len()];
    hill_into(x, &mut out, alpha, gamma)?;
    Ok(out)
}

/// [`hill`] writing into `out`, which must be as long as `x`.
pub fn hill_into(
    x: &[f64],
    out: &mut [f64],
    alpha: f64,
    gamma: f64,
) -> Result<(), SaturationError> {
    Hill::from_series(x, alpha, gamma)?.apply_into(x, out)
}

/// The logistic saturation `(1 - e^{-lambda x}) / (1 + e^{-lambda x})`, as in
/// PyMC-Marketing and LightweightMMM.
///
/// Use it when spend is scaled (e.g. divided by its max) and a single
/// steepness parameter `lambda > 0` is enough; it is concave for `x >= 0`,
/// starts at 0 and tends to 1. Evaluated as `tanh(lambda x / 2)`, an
/// identical form that is stable for large `lambda x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Logistic {
    lambda: f64,
}

impl Logistic {
    /// A logistic curve with steepness `lambda > 0`.
    pub fn new(lambda: f64) -> Result<Self, SaturationError> {
        check("lambda", lambda, lambda > 0.0, "(0, inf)")?;
        Ok(Self { lambda })
    }

    /// The steepness parameter.
    pub fn lambda(&self) -> f64 {
        self.lambda
    }

    /// Saturated response at `x`.
    pub fn value(&self, x: f64) -> f64 {
        (0.5 * self.lambda * x).tanh()
    }

    /// Marginal response `2 lambda e^{-lambda x} / (1 + e^{-lambda x})^2`,
    /// computed as `lambda / 2 * (1 - value(x)^2)`; equals `lambda / 2` at 0.
    pub fn derivative(&self, x: f64) -> f64 {
        let s = self.value(x);
        0.5 * self.lambda * (1.0 - s * s)
    }

    /// Saturates every value of `x` into `out` (same length).
    pub fn apply_into(&self, x: &[f64], out: &mut [f64]) -> Result<(), SaturationError> {
        check_len(x.len(), out.len())?;
        out.iter_mut().zip(x).for_each(|(o, &v)| *o = self.value(v));
        Ok(())
    }
}

/// Logistic-saturates the series `x`; see [`Logistic`].
///
/// ```
/// // lambda ln 3 at x = 1: e^{-x} = 1/3, (1 - 1/3) / (1 + 1/3) = 0.5
/// let s = mmm_sdk::saturation::logistic(&[0.0, 1.0], 3f64.ln()).unwrap();
/// assert!(s[0] == 0.0 && (s[1] - 0.5).abs() < 1e-12);
/// ```
pub fn logistic(x: &[f64], lambda: f64) -> Result<Vec<f64>, SaturationError> {
    let mut out = vec![0.0; x.len()];
    logistic_into(x, &mut out, lambda)?;
    Ok(out)
}

/// [`logistic`] writing into `out`, which must be as long as `x`.
pub fn logistic_into(x: &[f64], out: &mut [f64], lambda: f64) -> Result<(), SaturationError> {
    Logistic::new(lambda)?.apply_into(x, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn inflexion_interpolates_between_min_and_max_by_gamma() {
        // min 10, max 30, gamma 0.25: 0.75*10 + 0.25*30 = 15
        assert!(close(
            hill_inflexion(&[20.0, 10.0, 30.0], 0.25).unwrap(),
            15.0
        ));
        assert_eq!(hill_inflexion(&[], 0.5), Err(SaturationError::NoRange));
    }

    #[test]
    fn hill_matches_robyn_formula() {
        // range [2, 6], gamma 0.5 -> inflexion 4; alpha 2:
        // 2: 4/(4+16) = 0.2; 4: 16/32 = 0.5; 6: 36/(36+16) = 36/52
        let s = hill(&[2.0, 4.0, 6.0], 2.0, 0.5).unwrap();
        assert!(close(s[0], 0.2) && close(s[1], 0.5) && close(s[2], 36.0 / 52.0));
    }

    #[test]
    fn hill_derivative_matches_the_closed_form() {
        // alpha 2, k 4, x 2: 2 * 2^1 * 4^2 / (2^2 + 4^2)^2 = 64 / 400 = 0.16
        let h = Hill::new(2.0, 4.0).unwrap();
        assert!(close(h.derivative(2.0), 0.16));
        // alpha 1, k 2, x 0: 1/k = 0.5; alpha 2 at 0: 0
        assert!(close(Hill::new(1.0, 2.0).unwrap().derivative(0.0), 0.5));
        assert_eq!(h.derivative(0.0), 0.0);
    }

    #[test]
    fn hill_does_not_overflow_for_huge_spend() {
        let h = Hill::new(3.0, 1.0).unwrap();
        assert!(close(h.value(1e200), 1.0));
        assert_eq!(h.value(0.0), 0.0);
    }

    #[test]
    fn hill_rejects_bad_parameters_and_buffers() {
        assert!(matches!(
            hill(&[1.0], 0.0, 0.5),
            Err(SaturationError::InvalidParameter { .. })
        ));
        assert!(matches!(
            hill(&[1.0], 1.0, 1.5),
            Err(SaturationError::InvalidParameter { .. })
        ));
        let err = hill_into(&[1.0, 2.0], &mut [0.0], 1.0, 0.5).unwrap_err();
        assert_eq!(
            err,
            SaturationError::LengthMismatch {
                input: 2,
                output: 1
            }
        );
    }

    #[test]
    fn logistic_matches_the_exponential_form() {
        // lambda 1, x 2: (1 - e^-2)/(1 + e^-2) = (1 - 0.135335)/(1.135335) = 0.761594
        let expected = (1.0 - (-2f64).exp()) / (1.0 + (-2f64).exp());
        assert!(close(logistic(&[2.0], 1.0).unwrap()[0], expected));
    }

    #[test]
    fn logistic_derivative_matches_the_closed_form() {
        // lambda 2, x 0: 2*2*1/(1+1)^2 = 1 = lambda/2
        let l = Logistic::new(2.0).unwrap();
        assert!(close(l.derivative(0.0), 1.0));
        // lambda 1, x ln 3: e^{-x} = 1/3, 2*(1/3)/(4/3)^2 = (2/3)/(16/9) = 0.375
        assert!(close(
            Logistic::new(1.0).unwrap().derivative(3f64.ln()),
            0.375
        ));
    }
}
