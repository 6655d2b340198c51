//! Adstock with its derivatives: the adstocked series and, per unconstrained
//! adstock parameter, the series of its partial derivatives (forward-mode
//! tangents), which the gradient of the log density needs both pointwise and
//! at the series' minimum and maximum (Robyn's inflexion depends on them).
//!
//! Geometric adstock is Robyn's recursion. The Weibull kernels follow
//! Robyn's formulas with one change: Robyn rounds the absolute scale
//! `1 + (n - 1) scale` to a whole number of periods, which makes the density
//! flat in `scale` between jumps, and NUTS needs a smooth density; here it
//! is not rounded. `predict` uses the kernel weights stored in the artifact.

use mmm_sdk::prelude::*;

use crate::layout::logistic;
use crate::params::Adstock;

/// Kernel weights below this fraction of the largest are dropped: they
/// change no printed digit but cost a multiply-add per period each.
const KERNEL_CUTOFF: f64 = 1e-10;

/// One channel's adstock hyperparameters, as the summary reports them.
#[artifact]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AdstockHyper {
    /// Robyn's recursive geometric adstock.
    Geometric { theta: f64 },
    /// Weibull CDF kernel; `scale` is relative to the series length.
    WeibullCdf { shape: f64, scale: f64 },
    /// Weibull PDF kernel, min-max normalised as Robyn's.
    WeibullPdf { shape: f64, scale: f64 },
}

/// One channel's adstock for one parameter value, ready to apply: the decay
/// (geometric) or the truncated kernel, each with its derivatives in the
/// unconstrained parameters. Reused across evaluations (no allocation once
/// the buffers have grown).
#[derive(Debug, Clone, Default)]
pub struct Prepared {
    kind: Adstock,
    theta: f64,
    /// `d theta / d logit theta`.
    dtheta: f64,
    shape: f64,
    scale: f64,
    weights: Vec<f64>,
    /// `d weights / d ln shape` and `/ d logit scale`.
    dweights: [Vec<f64>; 2],
    len: usize,
    raw: Vec<f64>,
    draw: [Vec<f64>; 2],
}

impl Prepared {
    /// Prepares the adstock for unconstrained parameters `z` (one for
    /// geometric, two for Weibull) on a series of `n` periods.
    pub fn prepare(&mut self, kind: Adstock, z: &[f64], n: usize) {
        self.kind = kind;
        match kind {
            Adstock::Geometric => {
                self.theta = logistic(z[0]);
                self.dtheta = self.theta * (1.0 - self.theta);
            }
            Adstock::WeibullCdf | Adstock::WeibullPdf => {
                self.shape = z[0].exp();
                self.scale = logistic(z[1]);
                self.weibull(n);
            }
        }
    }

    pub fn hyper(&self) -> AdstockHyper {
        match self.kind {
            Adstock::Geometric => AdstockHyper::Geometric { theta: self.theta },
            Adstock::WeibullCdf => AdstockHyper::WeibullCdf {
                shape: self.shape,
                scale: self.scale,
            },
            Adstock::WeibullPdf => AdstockHyper::WeibullPdf {
                shape: self.shape,
                scale: self.scale,
            },
        }
    }

    /// The kept kernel weights (empty for geometric).
    pub fn kernel(&self) -> &[f64] {
        match self.kind {
            Adstock::Geometric => &[],
            _ => &self.weights[..self.len],
        }
    }

    /// The lag-0 weight: the share of a period's spend that acts in that period.
    pub fn immediate_weight(&self) -> f64 {
        match self.kind {
            Adstock::Geometric => 1.0,
            _ => self.weights[0],
        }
    }

    /// Writes `a = adstock(x)` (carryover starting at zero) and, for each
    /// unconstrained parameter `j`, `tangents[j][t] = d a_t / d z_j`.
    pub fn apply(&self, x: &[f64], a: &mut [f64], tangents: &mut [Vec<f64>]) {
        match self.kind {
            Adstock::Geometric => {
                let (theta, dtheta) = (self.theta, self.dtheta);
                let da = &mut tangents[0][..x.len()];
                let (mut prev, mut dprev) = (0.0, 0.0);
                for ((a, d), &x) in a.iter_mut().zip(da.iter_mut()).zip(x) {
                    let next = x + theta * prev;
                    dprev = dtheta * prev + theta * dprev;
                    prev = next;
                    (*a, *d) = (next, dprev);
                }
            }
            _ => {
                let (t0, t1) = tangents.split_at_mut(1);
                let (w, d0, d1) = (
                    &self.weights[..self.len],
                    &self.dweights[0][..self.len],
                    &self.dweights[1][..self.len],
                );
                for t in 0..x.len() {
                    let lags = w.len().min(t + 1);
                    let (mut s, mut s0, mut s1) = (0.0, 0.0, 0.0);
                    for l in 0..lags {
                        let v = x[t - l];
                        s += w[l] * v;
                        s0 += d0[l] * v;
                        s1 += d1[l] * v;
                    }
                    (a[t], t0[0][t], t1[0][t]) = (s, s0, s1);
                }
            }
        }
    }

    /// Builds the Weibull kernel and its derivatives for `n` lags.
    fn weibull(&mut self, n: usize) {
        for v in [&mut self.weights, &mut self.raw] {
            v.resize(n, 0.0);
        }
        for v in self.dweights.iter_mut().chain(self.draw.iter_mut()) {
            v.resize(n, 0.0);
        }
        let k = self.shape;
        let lambda = 1.0 + (n.max(2) - 1) as f64 * self.scale;
        let ln_lambda = lambda.ln();
        // d ln lambda / d logit scale
        let dl = (n.max(2) - 1) as f64 * self.scale * (1.0 - self.scale) / lambda;
        match self.kind {
            Adstock::WeibullCdf => self.weibull_cdf(n, k, ln_lambda, dl),
            _ => self.weibull_pdf(n, k, ln_lambda, dl),
        }
    }

    /// `w_0 = 1`, `w_l = w_{l-1} exp(-(l / lambda)^k)`: decreasing, so the
    /// kernel ends at the first weight below the cutoff.
    fn weibull_cdf(&mut self, n: usize, k: f64, ln_lambda: f64, dl: f64) {
        let (mut lw, mut du, mut dv) = (0.0, 0.0, 0.0);
        self.weights[0] = 1.0;
        self.dweights[0][0] = 0.0;
        self.dweights[1][0] = 0.0;
        self.len = n;
        for l in 1..n {
            let r = (l as f64).ln() - ln_lambda;
            let p = (k * r).exp();
            lw -= p;
            du -= p * k * r;
            dv += k * p * dl;
            let w = lw.exp();
            if w < KERNEL_CUTOFF {
                self.len = l;
                break;
            }
            self.weights[l] = w;
            self.dweights[0][l] = w * du;
            self.dweights[1][l] = w * dv;
        }
    }

    /// `d_l = dweibull(l + 1)`, then `(d - min) / (max - min)`.
    fn weibull_pdf(&mut self, n: usize, k: f64, ln_lambda: f64, dl: f64) {
        let (mut imax, mut imin) = (0, 0);
        for l in 0..n {
            let r = ((l + 1) as f64).ln() - ln_lambda;
            let p = (k * r).exp();
            let d = (k.ln() - ln_lambda + (k - 1.0) * r - p).exp();
            self.raw[l] = d;
            self.draw[0][l] = d * (1.0 + k * r * (1.0 - p));
            self.draw[1][l] = d * k * (p - 1.0) * dl;
            if d > self.raw[imax] {
                imax = l;
            }
            if d < self.raw[imin] {
                imin = l;
            }
        }
        let range = self.raw[imax] - self.raw[imin];
        if !(range > 0.0 && range.is_finite()) {
            // A flat density: Robyn's normalisation gives the identity kernel.
            self.weights[0] = 1.0;
            self.dweights[0][0] = 0.0;
            self.dweights[1][0] = 0.0;
            self.len = 1;
            return;
        }
        let (lo, dlo, dhi) = (
            self.raw[imin],
            [self.draw[0][imin], self.draw[1][imin]],
            [self.draw[0][imax], self.draw[1][imax]],
        );
        self.len = 1;
        for l in 0..n {
            let w = (self.raw[l] - lo) / range;
            self.weights[l] = w;
            for j in 0..2 {
                self.dweights[j][l] =
                    (self.draw[j][l] - dlo[j]) / range - w * (dhi[j] - dlo[j]) / range;
            }
            if w > KERNEL_CUTOFF {
                self.len = l + 1;
            }
        }
    }
}

/// Adstocked value of one unit of spend per period held forever.
pub fn steady_state_gain(hyper: AdstockHyper, kernel: &[f64]) -> f64 {
    match hyper {
        AdstockHyper::Geometric { theta } => 1.0 / (1.0 - theta),
        _ => kernel.iter().sum(),
    }
}

/// Adstocks `x` into `out` (carryover starts at zero) with fitted values.
pub fn adstock_into(hyper: AdstockHyper, kernel: &[f64], x: &[f64], out: &mut [f64]) {
    match hyper {
        AdstockHyper::Geometric { theta } => {
            let mut prev = 0.0;
            for (o, &v) in out.iter_mut().zip(x) {
                prev = v + theta * prev;
                *o = prev;
            }
        }
        _ => {
            for t in 0..x.len() {
                let lags = kernel.len().min(t + 1);
                out[t] = (0..lags).map(|l| kernel[l] * x[t - l]).sum();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(kind: Adstock, z: &[f64], x: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
        let mut p = Prepared::default();
        p.prepare(kind, z, x.len());
        let mut a = vec![0.0; x.len()];
        let mut tangents = vec![vec![0.0; x.len()]; z.len()];
        p.apply(x, &mut a, &mut tangents);
        let mut b = vec![0.0; x.len()];
        adstock_into(p.hyper(), p.kernel(), x, &mut b);
        assert_eq!(a, b, "the fitted-value path agrees with the sampler's");
        (a, tangents)
    }

    #[test]
    fn tangents_match_finite_differences() {
        let x: Vec<f64> = (0..40).map(|t| ((t * 7) % 5) as f64).collect();
        for (kind, z) in [
            (Adstock::Geometric, vec![0.3]),
            (Adstock::WeibullCdf, vec![0.4, -2.0]),
            (Adstock::WeibullPdf, vec![0.9, -1.5]),
        ] {
            let (_, tangents) = series(kind, &z, &x);
            for j in 0..z.len() {
                let h = 1e-6;
                let (mut up, mut down) = (z.clone(), z.clone());
                up[j] += h;
                down[j] -= h;
                let (a_up, _) = series(kind, &up, &x);
                let (a_down, _) = series(kind, &down, &x);
                for t in 0..x.len() {
                    let fd = (a_up[t] - a_down[t]) / (2.0 * h);
                    let tol = 1e-6 * (1.0 + fd.abs());
                    assert!(
                        (fd - tangents[j][t]).abs() < tol,
                        "{kind:?} {j} {t}: {fd} vs {}",
                        tangents[j][t]
                    );
                }
            }
        }
    }

    #[test]
    fn geometric_adstock_is_robyns_recursion() {
        let (a, _) = series(Adstock::Geometric, &[0.0], &[2.0, 0.0, 2.0]);
        assert_eq!(a, [2.0, 1.0, 2.5]);
    }
}
