//! Where each parameter sits in the sampler's unconstrained vector, and its
//! transform to the constrained value: `ln` for positive parameters
//! (ROI, Hill alpha, Weibull shape, noise sigma), logit for those in `(0, 1)`
//! (geometric theta, Hill gamma, Weibull scale), identity for the baseline.
//!
//! Per channel the block is `[ln roi, adstock..., ln alpha, logit gamma]`
//! (adstock: `logit theta`, or `ln shape, logit scale`); then the
//! intercept, one coefficient per standardised baseline column, `ln sigma`.

use crate::params::Adstock;

/// The logistic function, inverse of logit.
pub fn logistic(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

pub fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Index arithmetic of the unconstrained vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub channels: usize,
    pub adstock: Adstock,
    pub baseline: usize,
}

impl Layout {
    /// Unconstrained adstock parameters per channel.
    pub fn adstock_dim(&self) -> usize {
        match self.adstock {
            Adstock::Geometric => 1,
            Adstock::WeibullCdf | Adstock::WeibullPdf => 2,
        }
    }

    pub fn per_channel(&self) -> usize {
        3 + self.adstock_dim()
    }

    /// First index of channel `c`'s block (its `ln roi`).
    pub fn channel(&self, c: usize) -> usize {
        c * self.per_channel()
    }

    pub fn log_roi(&self, c: usize) -> usize {
        self.channel(c)
    }

    pub fn adstock_param(&self, c: usize, j: usize) -> usize {
        self.channel(c) + 1 + j
    }

    pub fn log_alpha(&self, c: usize) -> usize {
        self.channel(c) + 1 + self.adstock_dim()
    }

    pub fn logit_gamma(&self, c: usize) -> usize {
        self.channel(c) + 2 + self.adstock_dim()
    }

    pub fn intercept(&self) -> usize {
        self.channels * self.per_channel()
    }

    pub fn baseline_coefficient(&self, j: usize) -> usize {
        self.intercept() + 1 + j
    }

    pub fn log_sigma(&self) -> usize {
        self.intercept() + 1 + self.baseline
    }

    pub fn dim(&self) -> usize {
        self.log_sigma() + 1
    }

    /// Names of the constrained parameters [`Layout::constrained`] returns,
    /// in its order (for the convergence table).
    pub fn names(&self, media: &[String], baseline: &[String]) -> Vec<String> {
        let adstock: &[&str] = match self.adstock {
            Adstock::Geometric => &["theta"],
            Adstock::WeibullCdf | Adstock::WeibullPdf => &["shape", "scale"],
        };
        let mut out = Vec::with_capacity(self.dim());
        for m in media {
            out.push(format!("roi[{m}]"));
            out.extend(adstock.iter().map(|a| format!("{a}[{m}]")));
            out.push(format!("alpha[{m}]"));
            out.push(format!("gamma[{m}]"));
        }
        out.push("intercept".to_owned());
        out.extend(baseline.iter().map(|b| format!("baseline[{b}]")));
        out.push("sigma".to_owned());
        out
    }

    /// The constrained value of every parameter, in the vector's order.
    pub fn constrained(&self, z: &[f64]) -> Vec<f64> {
        let mut out = z.to_vec();
        for c in 0..self.channels {
            out[self.log_roi(c)] = z[self.log_roi(c)].exp();
            for j in 0..self.adstock_dim() {
                let i = self.adstock_param(c, j);
                out[i] = match (self.adstock, j) {
                    (Adstock::Geometric, _) | (_, 1) => logistic(z[i]),
                    _ => z[i].exp(),
                };
            }
            out[self.log_alpha(c)] = z[self.log_alpha(c)].exp();
            out[self.logit_gamma(c)] = logistic(z[self.logit_gamma(c)]);
        }
        out[self.log_sigma()] = z[self.log_sigma()].exp();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_do_not_overlap_and_names_follow_the_vector() {
        let l = Layout {
            channels: 2,
            adstock: Adstock::WeibullPdf,
            baseline: 3,
        };
        assert_eq!(l.per_channel(), 5);
        assert_eq!(l.logit_gamma(1), 9);
        assert_eq!(l.intercept(), 10);
        assert_eq!(l.log_sigma(), 14);
        assert_eq!(l.dim(), 15);
        let names = l.names(
            &["tv".into(), "radio".into()],
            &["a".into(), "b".into(), "c".into()],
        );
        assert_eq!(names.len(), l.dim());
        assert_eq!(names[l.adstock_param(1, 1)], "scale[radio]");
        let z = vec![0.0; l.dim()];
        let v = l.constrained(&z);
        assert_eq!((v[0], v[1], v[2]), (1.0, 1.0, 0.5));
        assert!((logit(logistic(0.3)) - 0.3).abs() < 1e-12);
    }
}
