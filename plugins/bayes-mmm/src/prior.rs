//! Log prior densities on the unconstrained scale, Jacobian included, each
//! returning `(log density, derivative)` up to a constant.

/// `ln(1 + e^v)` without overflow.
fn softplus(v: f64) -> f64 {
    if v > 0.0 {
        v + (-v).exp().ln_1p()
    } else {
        v.exp().ln_1p()
    }
}

/// `z ~ Normal(mu, sigma)` (also a log-normal prior on `e^z`, whose
/// density in `z` is exactly this).
pub fn normal(z: f64, mu: f64, sigma: f64) -> (f64, f64) {
    let d = (z - mu) / sigma;
    (-0.5 * d * d, -d / sigma)
}

/// `p = logistic(v) ~ Beta(a, b)`: `(a - 1) ln p + (b - 1) ln(1 - p)` plus
/// the Jacobian `ln p + ln(1 - p)`.
pub fn beta_logit(v: f64, a: f64, b: f64) -> (f64, f64) {
    let (ln_p, ln_q) = (-softplus(-v), -softplus(v));
    let p = ln_p.exp();
    (a * ln_p + b * ln_q, a * (1.0 - p) - b * p)
}

/// `s = e^u ~ HalfNormal(scale)`: `-s^2 / (2 scale^2)` plus the Jacobian `u`.
pub fn half_normal_log(u: f64, scale: f64) -> (f64, f64) {
    let s = u.exp() / scale;
    (-0.5 * s * s + u, 1.0 - s * s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        let h = 1e-6;
        let cases: [&dyn Fn(f64) -> (f64, f64); 3] = [
            &|z| normal(z, 0.2, 0.9),
            &|v| beta_logit(v, 2.0, 3.0),
            &|u| half_normal_log(u, 0.5),
        ];
        for f in cases {
            for z in [-3.0, -0.4, 0.0, 1.3, 30.0] {
                let fd = (f(z + h).0 - f(z - h).0) / (2.0 * h);
                assert!(
                    (fd - f(z).1).abs() < 1e-5 * (1.0 + fd.abs()),
                    "{z}: {fd} vs {}",
                    f(z).1
                );
            }
        }
    }
}
