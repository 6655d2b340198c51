//! Robyn's Weibull CDF and PDF adstock kernels.

use super::{AdstockError, check_range, convolve_into};

/// Which Weibull function shapes the decay kernel, as in Robyn's `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeibullKind {
    /// Survival-function decay: peak at lag 0, flexible C- or S-shaped decay.
    Cdf,
    /// Density-shaped kernel: allows a lagged peak (delayed effect).
    Pdf,
}

/// Robyn's absolute Weibull scale: `round(quantile(1:windlen, scale))`.
///
/// Reproduces R's type-7 quantile interpolation and R's `round`, which
/// rounds halves to even (`round(2.5) == 2`), so kernels match Robyn exactly.
pub fn robyn_weibull_scale(windlen: usize, scale: f64) -> f64 {
    let n = windlen.max(1) as f64;
    let index = 1.0 + (n - 1.0) * scale;
    let lo = index.floor();
    let h = index - lo;
    let q = if h > 0.0 && lo < n {
        (1.0 - h) * lo + h * (lo + 1.0)
    } else {
        lo
    };
    q.round_ties_even()
}

/// Writes Robyn's Weibull adstock kernel (`thetaVecCum`) for a window of
/// `windlen = out.len()` lags.
///
/// `scale` is relative to the window (Robyn recommends `[0, 0.1]`) and is
/// turned into an absolute scale with [`robyn_weibull_scale`]; `shape` must
/// be non-negative.
/// - [`WeibullKind::Cdf`]: `w = cumprod(c(1, 1 - pweibull(1:(windlen-1))))`,
///   i.e. `w_0 = 1` and `w_l = w_{l-1} * exp(-(l/scale)^shape)`.
/// - [`WeibullKind::Pdf`]: `w_l = dweibull(l + 1)`, then min-max normalised
///   as Robyn's `.normalize` does (max becomes 1, min becomes 0; a flat
///   density becomes `[1, 0, 0, ...]`).
///
/// When `shape` or `scale` is 0 Robyn leaves the series untouched; this
/// returns the identity kernel `[1, 0, 0, ...]`, which has the same effect
/// (Robyn itself reports an all-zero `thetaVecCum` in that case).
pub fn weibull_weights_into(
    out: &mut [f64],
    kind: WeibullKind,
    shape: f64,
    scale: f64,
) -> Result<(), AdstockError> {
    check_range("shape", shape, 0.0, f64::MAX, "[0, inf)")?;
    check_range("scale", scale, 0.0, 1.0, "[0, 1]")?;
    if out.is_empty() {
        return Err(AdstockError::EmptyWindow);
    }
    if shape == 0.0 || scale == 0.0 {
        out.fill(0.0);
        out[0] = 1.0;
        return Ok(());
    }
    let lambda = robyn_weibull_scale(out.len(), scale);
    match kind {
        WeibullKind::Cdf => {
            out[0] = 1.0;
            for l in 1..out.len() {
                out[l] = out[l - 1] * (-(l as f64 / lambda).powf(shape)).exp();
            }
        }
        WeibullKind::Pdf => {
            for (l, w) in out.iter_mut().enumerate() {
                *w = weibull_density((l + 1) as f64, shape, lambda);
            }
            normalize_min_max(out);
        }
    }
    Ok(())
}

/// Weibull adstock exactly as Robyn's `adstock_weibull(x, shape, scale, type)`
/// with the default `windlen = length(x)`.
///
/// Allocates the kernel; in a hot loop prefer [`weibull_weights_into`] once
/// per hyperparameter set plus [`convolve_into`] per series.
///
/// ```
/// use mmm_sdk::adstock::{weibull, WeibullKind};
/// // windlen 3, scale 0.5 -> absolute scale 2; CDF kernel [1, e^-0.5, e^-1.5].
/// let x = weibull(&[1.0, 0.0, 0.0], WeibullKind::Cdf, 1.0, 0.5).unwrap();
/// assert!((x[1] - (-0.5f64).exp()).abs() < 1e-12);
/// ```
pub fn weibull(
    x: &[f64],
    kind: WeibullKind,
    shape: f64,
    scale: f64,
) -> Result<Vec<f64>, AdstockError> {
    let mut weights = vec![0.0; x.len().max(1)];
    weibull_weights_into(&mut weights, kind, shape, scale)?;
    let mut out = vec![0.0; x.len()];
    convolve_into(x, &mut out, &weights)?;
    Ok(out)
}

/// R's `dweibull(x, shape, scale)`, computed the way R's nmath does.
fn weibull_density(x: f64, shape: f64, scale: f64) -> f64 {
    let tmp1 = (x / scale).powf(shape - 1.0);
    let tmp2 = tmp1 * (x / scale);
    shape * tmp1 * (-tmp2).exp() / scale
}

/// Robyn's `.normalize`: min-max scaling, or `[1, 0, ...]` for a flat vector.
fn normalize_min_max(v: &mut [f64]) {
    let (min, max) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &w| {
            (lo.min(w), hi.max(w))
        });
    let range = max - min;
    if range == 0.0 {
        v.fill(0.0);
        v[0] = 1.0;
    } else {
        v.iter_mut().for_each(|w| *w = (*w - min) / range);
    }
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
    fn robyn_scale_uses_type7_quantile_and_rounds_half_to_even() {
        // quantile(1:3, 0.5) = 2; quantile(1:4, 0.5) = 2.5 -> round to 2 (R rounds half to even)
        assert_eq!(robyn_weibull_scale(3, 0.5), 2.0);
        assert_eq!(robyn_weibull_scale(4, 0.5), 2.0);
        // quantile(1:100, 0.1) = 1 + 99*0.1 = 10.9 -> 11
        assert_eq!(robyn_weibull_scale(100, 0.1), 11.0);
    }

    #[test]
    fn weibull_cdf_kernel_is_the_cumulative_survival() {
        // windlen 3, shape 1, scale 0.5 -> lambda 2; S(l) = exp(-l/2)
        // w = [1, S(1), S(1)*S(2)] = [1, e^-0.5, e^-1.5]
        let x = weibull(&[1.0, 0.0, 0.0], WeibullKind::Cdf, 1.0, 0.5).unwrap();
        assert_close(
            &x,
            &[1.0, 0.606_530_659_712_633_4, 0.223_130_160_148_429_82],
        );
    }

    #[test]
    fn weibull_pdf_kernel_is_the_min_max_normalised_density() {
        // windlen 4, shape 2, scale 0.5 -> lambda round(2.5) = 2
        // dweibull(x, 2, 2) = (x/2) e^{-x^2/4}: 0.389400, 0.367879, 0.158099, 0.036631
        // min-max: [1, (0.367879-0.036631)/(0.389400-0.036631), (0.158099-0.036631)/0.352769, 0]
        let mut w = [0.0; 4];
        weibull_weights_into(&mut w, WeibullKind::Pdf, 2.0, 0.5).unwrap();
        assert_close(
            &w,
            &[1.0, 0.938_994_232_984_327_6, 0.344_325_946_711_350_75, 0.0],
        );
    }

    #[test]
    fn weibull_pdf_convolves_every_pulse() {
        // windlen 3, shape 1, lambda 2: density 0.5e^{-x/2} at 1,2,3 normalises to
        // [1, (e^-1 - e^-1.5)/(e^-0.5 - e^-1.5), 0] = [1, 0.377541, 0]
        // x = [1, 2, 0]: t0 = 1; t1 = 2*1 + 1*0.377541; t2 = 2*0.377541 + 1*0
        let r = 0.377_540_668_798_145_46;
        let x = weibull(&[1.0, 2.0, 0.0], WeibullKind::Pdf, 1.0, 0.5).unwrap();
        assert_close(&x, &[1.0, 2.0 + r, 2.0 * r]);
    }

    #[test]
    fn weibull_with_zero_shape_or_scale_leaves_the_series_unchanged() {
        let x = [3.0, 1.0, 4.0];
        assert_close(&weibull(&x, WeibullKind::Cdf, 0.0, 0.5).unwrap(), &x);
        assert_close(&weibull(&x, WeibullKind::Pdf, 2.0, 0.0).unwrap(), &x);
    }
}
