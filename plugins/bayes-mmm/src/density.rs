//! The log posterior density and its hand-written gradient, on the
//! unconstrained vector of [`crate::layout`]. This is the sampler's inner
//! loop (about 10^5 calls per fit): plain f64 loops over contiguous slices,
//! one `ln` and one `exp` per channel and period (the Hill curve as a
//! logistic in `ln a`), and no allocation once the buffers exist.
//!
//! **Mean**, on the scaled data of [`crate::design`]:
//! `mu_t = intercept + sum_j b_j z_jt + sum_c roi_c (S_c / y_scale) h_ct / sum_s h_cs`,
//! `h_ct = hill(adstock_c(x_c))_t` with Robyn's inflexion
//! `k_c = (1 - gamma_c) min_t a_ct + gamma_c max_t a_ct`. So `roi_c` is
//! exactly the channel's total contribution over its total spend.
//!
//! **Sampled coordinates** ([`Density::logp_sampled`]): NUTS moves the
//! intercept's slot as the mean level `intercept + sum_c roi_c S_c /
//! (y_scale n)` (each channel's mean contribution per period is exactly
//! that, whatever its transforms), a shift with unit Jacobian. The model
//! and its priors are unchanged; what changes is the geometry: raising a
//! channel's ROI no longer has to be matched by lowering the intercept, the
//! ridge along which diagonal-mass NUTS needed ~25-30 leapfrog steps a draw
//! and left the intercept and the ROIs with R-hat above 1.01.
//!
//! **Lift tests** add `Normal(lift | implied, se)` terms (see [`crate::calibration`]).
//!
//! **Gradient.** With `g_t = d log lik / d mu_t`, the media part runs
//! backwards through `h_ct / H_c` (the normalisation makes every period's
//! weight `scale (g_t - g_bar)`), the Hill curve (in `ln a`, `ln alpha`,
//! `ln k`) and the adstock, whose tangents carry it to the adstock
//! parameters; `k` adds its share at the argmin and argmax of `a`.

use crate::adstock::Prepared;
use crate::calibration::Lift;
use crate::layout::{Layout, logistic};
use crate::params::{Adstock, Likelihood, LogNormal, Priors};
use crate::prior;

/// Everything the density reads; built once per fit.
#[derive(Debug, Clone)]
pub struct Model {
    pub layout: Layout,
    pub y: Vec<f64>,
    pub media: Vec<Vec<f64>>,
    pub spend_over_y: Vec<f64>,
    pub baseline: Vec<Vec<f64>>,
    pub roi_priors: Vec<LogNormal>,
    pub priors: Priors,
    pub likelihood: Likelihood,
    pub dof: f64,
    pub lifts: Vec<Lift>,
}

/// One channel's forward state at the last evaluated point.
#[derive(Debug, Clone, Default)]
pub struct ChannelState {
    pub adstock: Prepared,
    pub a: Vec<f64>,
    pub tangents: Vec<Vec<f64>>,
    pub ln_a: Vec<f64>,
    pub h: Vec<f64>,
    pub alpha: f64,
    pub gamma: f64,
    pub k: f64,
    pub ln_k: f64,
    pub imin: usize,
    pub imax: usize,
    /// `sum_t h_t`.
    pub saturated_total: f64,
    /// Contribution per unit of `h` on the scaled KPI: `roi S / (y_scale H)`.
    pub scale: f64,
}

/// One lift test's forward state: the counterfactual adstock up to the
/// window's end, its Hill values in the window, the implied lift.
#[derive(Debug, Clone, Default)]
pub struct LiftState {
    pub a: Vec<f64>,
    pub tangents: Vec<Vec<f64>>,
    pub ln_a: Vec<f64>,
    pub h: Vec<f64>,
    /// `sum_window (h - h_counterfactual)`.
    pub difference: f64,
    pub implied: f64,
    /// `d log density / d implied`.
    pub residual_weight: f64,
}

/// The density with its reusable buffers.
#[derive(Debug, Clone)]
pub struct Density {
    pub model: Model,
    pub channels: Vec<ChannelState>,
    pub lifts: Vec<LiftState>,
    /// The mean on the scaled KPI, media included.
    pub mu: Vec<f64>,
    /// `d log likelihood / d mu_t`.
    g: Vec<f64>,
    /// The model's coordinates of the sampled point ([`Self::logp_sampled`]).
    raw: Vec<f64>,
}

impl Density {
    pub fn new(model: Model) -> Self {
        let n = model.y.len();
        let dims = model.layout.adstock_dim();
        let channels = (0..model.media.len())
            .map(|_| ChannelState {
                a: vec![0.0; n],
                tangents: vec![vec![0.0; n]; dims],
                ln_a: vec![0.0; n],
                h: vec![0.0; n],
                ..Default::default()
            })
            .collect();
        let lifts = model
            .lifts
            .iter()
            .map(|l| LiftState {
                a: vec![0.0; l.window.end],
                tangents: vec![vec![0.0; l.window.end]; dims],
                ln_a: vec![0.0; l.window.end],
                h: vec![0.0; l.window.end],
                ..Default::default()
            })
            .collect();
        Self {
            model,
            channels,
            lifts,
            mu: vec![0.0; n],
            g: vec![0.0; n],
            raw: Vec::new(),
        }
    }

    /// Mean media contribution per period on the scaled KPI at `z`,
    /// `sum_c roi_c S_c / (y_scale n)` (its derivative in each `ln roi_c` is
    /// that channel's term, which [`Self::logp_sampled`] uses).
    fn media_level(&self, z: &[f64]) -> f64 {
        let layout = &self.model.layout;
        let n = self.mu.len() as f64;
        (0..self.model.media.len())
            .map(|c| z[layout.log_roi(c)].exp() * self.model.spend_over_y[c] / n)
            .sum()
    }

    /// The sampler's coordinates of a point in the model's: the intercept
    /// slot holds the mean level (see the module docs).
    pub fn to_sampled(&self, raw: &[f64]) -> Vec<f64> {
        let mut z = raw.to_vec();
        z[self.model.layout.intercept()] += self.media_level(raw);
        z
    }

    /// The model's coordinates of a sampled point, in place.
    pub fn to_raw(&self, z: &mut [f64]) {
        let level = self.media_level(z);
        z[self.model.layout.intercept()] -= level;
    }

    /// [`Self::logp`] in the sampler's coordinates, with its gradient.
    pub fn logp_sampled(&mut self, z: &[f64], grad: &mut [f64]) -> f64 {
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        raw.extend_from_slice(z);
        self.to_raw(&mut raw);
        let lp = self.logp(&raw, grad);
        self.raw = raw;
        let layout = self.model.layout;
        let d_intercept = grad[layout.intercept()];
        let n = self.mu.len() as f64;
        for c in 0..self.model.media.len() {
            let i = layout.log_roi(c);
            grad[i] -= d_intercept * z[i].exp() * self.model.spend_over_y[c] / n;
        }
        lp
    }

    pub fn dim(&self) -> usize {
        self.model.layout.dim()
    }

    /// The log density at `z` (up to a constant) and its gradient.
    pub fn logp(&mut self, z: &[f64], grad: &mut [f64]) -> f64 {
        grad.fill(0.0);
        let mut lp = self.prior(z, grad);
        self.forward(z);
        lp += self.likelihood(z, grad);
        for (lift, state) in self.model.lifts.iter().zip(&mut self.lifts) {
            let r = lift.lift - state.implied;
            let w = 1.0 / (lift.standard_error * lift.standard_error);
            lp -= 0.5 * r * r * w;
            state.residual_weight = r * w;
        }
        for c in 0..self.channels.len() {
            self.backward_channel(c, grad);
        }
        self.backward_baseline(grad);
        lp
    }

    fn prior(&self, z: &[f64], grad: &mut [f64]) -> f64 {
        let (layout, p) = (&self.model.layout, &self.model.priors);
        let mut lp = 0.0;
        let mut add = |i: usize, (v, d): (f64, f64)| {
            lp += v;
            grad[i] += d;
        };
        for (c, roi) in self.model.roi_priors.iter().enumerate() {
            let i = layout.log_roi(c);
            add(i, prior::normal(z[i], roi.mu, roi.sigma));
            match layout.adstock {
                Adstock::Geometric => {
                    let i = layout.adstock_param(c, 0);
                    add(i, prior::beta_logit(z[i], p.theta.a, p.theta.b));
                }
                Adstock::WeibullCdf | Adstock::WeibullPdf => {
                    let (i, j) = (layout.adstock_param(c, 0), layout.adstock_param(c, 1));
                    add(i, prior::normal(z[i], p.shape.mu, p.shape.sigma));
                    add(j, prior::beta_logit(z[j], p.scale.a, p.scale.b));
                }
            }
            let i = layout.log_alpha(c);
            add(i, prior::normal(z[i], p.alpha.mu, p.alpha.sigma));
            let i = layout.logit_gamma(c);
            add(i, prior::beta_logit(z[i], p.gamma.a, p.gamma.b));
        }
        let i = layout.intercept();
        add(i, prior::normal(z[i], p.intercept.mu, p.intercept.sigma));
        for j in 0..layout.baseline {
            let i = layout.baseline_coefficient(j);
            add(i, prior::normal(z[i], 0.0, p.baseline_sd));
        }
        let i = layout.log_sigma();
        add(i, prior::half_normal_log(z[i], p.sigma_scale));
        lp
    }

    /// Evaluates the mean, each channel's transforms and each lift test's
    /// implied lift at `z`; the state stays readable until the next call.
    pub fn forward(&mut self, z: &[f64]) {
        let layout = self.model.layout;
        let n = self.mu.len();
        self.mu.fill(z[layout.intercept()]);
        for (j, col) in self.model.baseline.iter().enumerate() {
            let b = z[layout.baseline_coefficient(j)];
            for (m, &v) in self.mu.iter_mut().zip(col) {
                *m += b * v;
            }
        }
        for (c, s) in self.channels.iter_mut().enumerate() {
            let first = layout.adstock_param(c, 0);
            let params = &z[first..first + layout.adstock_dim()];
            s.adstock.prepare(layout.adstock, params, n);
            s.adstock
                .apply(&self.model.media[c], &mut s.a, &mut s.tangents);
            let (mut imin, mut imax) = (0, 0);
            for (t, &v) in s.a.iter().enumerate() {
                if v < s.a[imin] {
                    imin = t;
                }
                if v > s.a[imax] {
                    imax = t;
                }
            }
            s.alpha = z[layout.log_alpha(c)].exp();
            s.gamma = logistic(z[layout.logit_gamma(c)]);
            s.k = (1.0 - s.gamma) * s.a[imin] + s.gamma * s.a[imax];
            s.ln_k = s.k.ln();
            (s.imin, s.imax) = (imin, imax);
            s.saturated_total = hill_into(s.alpha, s.ln_k, &s.a, &mut s.ln_a, &mut s.h);
            let roi = z[layout.log_roi(c)].exp();
            s.scale = roi * self.model.spend_over_y[c] / s.saturated_total;
            for (m, &h) in self.mu.iter_mut().zip(&s.h) {
                *m += s.scale * h;
            }
        }
        for (lift, state) in self.model.lifts.iter().zip(&mut self.lifts) {
            let s = &self.channels[lift.channel];
            let end = lift.window.end;
            s.adstock.apply(
                &lift.counterfactual[..end],
                &mut state.a,
                &mut state.tangents,
            );
            let w = lift.window.clone();
            hill_into(
                s.alpha,
                s.ln_k,
                &state.a[w.clone()],
                &mut state.ln_a[w.clone()],
                &mut state.h[w.clone()],
            );
            state.difference = w.map(|t| s.h[t] - state.h[t]).sum();
            state.implied = s.scale * state.difference;
        }
    }

    /// The log likelihood of the KPI given `mu`; fills `g` and the noise's gradient.
    fn likelihood(&mut self, z: &[f64], grad: &mut [f64]) -> f64 {
        let i = self.model.layout.log_sigma();
        let (ln_sigma, n) = (z[i], self.mu.len() as f64);
        let var = (2.0 * ln_sigma).exp();
        match self.model.likelihood {
            Likelihood::Normal => {
                let mut ss = 0.0;
                for ((g, &y), &m) in self.g.iter_mut().zip(&self.model.y).zip(&self.mu) {
                    let r = y - m;
                    ss += r * r;
                    *g = r / var;
                }
                grad[i] += ss / var - n;
                -n * ln_sigma - 0.5 * ss / var
            }
            Likelihood::StudentT => {
                let nu = self.model.dof;
                let (mut lp, mut dsigma) = (0.0, 0.0);
                for ((g, &y), &m) in self.g.iter_mut().zip(&self.model.y).zip(&self.mu) {
                    let r = y - m;
                    let d = nu * var + r * r;
                    lp += (d / (nu * var)).ln();
                    *g = (nu + 1.0) * r / d;
                    dsigma += r * r / d;
                }
                grad[i] += (nu + 1.0) * dsigma - n;
                -0.5 * (nu + 1.0) * lp - n * ln_sigma
            }
        }
    }

    fn backward_baseline(&self, grad: &mut [f64]) {
        let layout = self.model.layout;
        grad[layout.intercept()] += self.g.iter().sum::<f64>();
        for (j, col) in self.model.baseline.iter().enumerate() {
            let dot: f64 = self.g.iter().zip(col).map(|(g, v)| g * v).sum();
            grad[layout.baseline_coefficient(j)] += dot;
        }
    }

    fn backward_channel(&self, c: usize, grad: &mut [f64]) {
        let layout = self.model.layout;
        let s = &self.channels[c];
        let h_total = s.saturated_total;
        let g_bar: f64 = self.g.iter().zip(&s.h).map(|(g, h)| g * h).sum::<f64>() / h_total;
        let mut d_log_roi = s.scale * h_total * g_bar;
        // Lift tests on this channel: implied = scale D, scale = roi S / H.
        let mut shift = g_bar;
        let mine = || {
            self.model
                .lifts
                .iter()
                .zip(&self.lifts)
                .filter(move |(l, _)| l.channel == c)
        };
        for (_, state) in mine() {
            d_log_roi += state.residual_weight * state.implied;
            shift += state.residual_weight * state.difference / h_total;
        }
        grad[layout.log_roi(c)] += d_log_roi;
        let mut acc = Backprop::new(s);
        let q = self.g.iter().map(|g| s.scale * (g - shift));
        acc.add(q, 0..self.g.len(), &s.a, &s.ln_a, &s.h, &s.tangents);
        for (lift, state) in mine() {
            let e = state.residual_weight * s.scale;
            let w = lift.window.clone();
            acc.add(
                std::iter::repeat(e),
                w.clone(),
                &s.a,
                &s.ln_a,
                &s.h,
                &s.tangents,
            );
            acc.add(
                std::iter::repeat(-e),
                w,
                &state.a,
                &state.ln_a,
                &state.h,
                &state.tangents,
            );
        }
        let d_k = -s.alpha * acc.q_total / s.k;
        grad[layout.log_alpha(c)] += s.alpha * acc.d_alpha;
        let range = s.a[s.imax] - s.a[s.imin];
        grad[layout.logit_gamma(c)] += d_k * range * s.gamma * (1.0 - s.gamma);
        for j in 0..layout.adstock_dim() {
            let at_k = (1.0 - s.gamma) * s.tangents[j][s.imin] + s.gamma * s.tangents[j][s.imax];
            grad[layout.adstock_param(c, j)] += acc.d_adstock[j] + d_k * at_k;
        }
    }
}

/// Accumulates, for weights `q_t = d log density / d h_t`, the sums that
/// carry them through the Hill curve: to `alpha` (per unit of alpha), to
/// `ln k` (per unit of `-alpha`), and through `a_t` to the adstock parameters.
struct Backprop {
    alpha: f64,
    ln_k: f64,
    d_alpha: f64,
    q_total: f64,
    d_adstock: [f64; 2],
}

impl Backprop {
    fn new(s: &ChannelState) -> Self {
        Self {
            alpha: s.alpha,
            ln_k: s.ln_k,
            d_alpha: 0.0,
            q_total: 0.0,
            d_adstock: [0.0; 2],
        }
    }

    fn add(
        &mut self,
        q: impl Iterator<Item = f64>,
        range: std::ops::Range<usize>,
        a: &[f64],
        ln_a: &[f64],
        h: &[f64],
        tangents: &[Vec<f64>],
    ) {
        let (mut d_alpha, mut q_total, mut d0, mut d1) = (0.0, 0.0, 0.0, 0.0);
        let t1 = tangents.get(1).unwrap_or(&tangents[0]);
        for (t, q) in range.zip(q) {
            if a[t] <= 0.0 {
                continue;
            }
            // dh / d ln a = alpha h (1 - h)
            let s = q * h[t] * (1.0 - h[t]);
            d_alpha += s * (ln_a[t] - self.ln_k);
            q_total += s;
            let da = s * self.alpha / a[t];
            d0 += da * tangents[0][t];
            d1 += da * t1[t];
        }
        self.d_alpha += d_alpha;
        self.q_total += q_total;
        self.d_adstock[0] += d0;
        if tangents.len() > 1 {
            self.d_adstock[1] += d1;
        }
    }
}

/// `h = 1 / (1 + exp(alpha (ln k - ln a)))`, 0 where `a` is 0; returns `sum h`.
fn hill_into(alpha: f64, ln_k: f64, a: &[f64], ln_a: &mut [f64], h: &mut [f64]) -> f64 {
    let mut total = 0.0;
    for ((h, l), &a) in h.iter_mut().zip(ln_a.iter_mut()).zip(a) {
        if a > 0.0 {
            *l = a.ln();
            *h = 1.0 / (1.0 + (alpha * (ln_k - *l)).exp());
        } else {
            (*l, *h) = (0.0, 0.0);
        }
        total += *h;
    }
    total
}
