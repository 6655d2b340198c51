//! The model's params and priors: every field has a default, so `{}` is a
//! valid request. Defaults are documented where they are set.

use std::collections::BTreeMap;

use mmm_sdk::prelude::*;

/// How the Bayesian MMM fits. Every field is optional.
#[params]
#[derive(Debug, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Seed of the sampler: the same data, params and seed give the same bytes.
    pub seed: u64,
    /// Markov chains, run one after another.
    pub chains: u32,
    /// Warm-up (adaptation) iterations per chain, discarded.
    pub warmup: u32,
    /// Posterior draws per chain after warm-up.
    pub draws: u32,
    /// Posterior draws kept in the artifact for `predict` (evenly thinned
    /// from all chains' draws); they also give the decomposition and curves.
    pub kept_draws: u32,
    /// NUTS maximum tree depth (at most `2^depth` leapfrog steps per draw).
    pub max_tree_depth: u32,
    /// Target acceptance rate of the step-size adaptation (0.9: at 0.8 some
    /// synthetic fits diverged where the ROI trades off against the baseline).
    pub target_accept: f64,
    /// The mass matrix warm-up adapts: `low-rank` (a diagonal plus the
    /// posterior's strongest correlations, such as a channel's ROI against
    /// the intercept) or `diagonal`.
    pub mass_matrix: MassMatrix,
    /// Adstock transform for every media channel.
    pub adstock: Adstock,
    /// Order of the yearly Fourier seasonality (0 turns it off).
    pub fourier_order: u32,
    /// Observation noise.
    pub likelihood: Likelihood,
    /// Degrees of freedom of the Student-t likelihood (fixed, not sampled).
    pub student_t_dof: f64,
    /// Prior on every channel's ROI (Meridian's default `LogNormal(0.2, 0.9)`).
    pub roi_prior: LogNormal,
    /// Per-channel ROI priors, by media column name, overriding `roi_prior`.
    pub roi_priors: BTreeMap<String, LogNormal>,
    /// Priors of the transform, baseline and noise parameters.
    pub priors: Priors,
    /// Points on each response curve (spend from 0 to 3x the mean).
    pub curve_points: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            seed: 0,
            chains: 4,
            warmup: 750,
            draws: 750,
            kept_draws: 200,
            max_tree_depth: 10,
            target_accept: 0.9,
            mass_matrix: MassMatrix::LowRank,
            adstock: Adstock::Geometric,
            fourier_order: 2,
            likelihood: Likelihood::Normal,
            student_t_dof: 5.0,
            roi_prior: LogNormal {
                mu: 0.2,
                sigma: 0.9,
            },
            roi_priors: BTreeMap::new(),
            priors: Priors::default(),
            curve_points: 61,
        }
    }
}

/// The mass matrix NUTS adapts in warm-up.
#[params]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum MassMatrix {
    /// One scale per parameter.
    Diagonal,
    /// A diagonal plus a low-rank correction from the warm-up draws'
    /// strongest directions (nuts-rs's low-rank adaptation).
    #[default]
    LowRank,
}

/// Which adstock kernel carries spend into later periods (as in ridge-mmm).
#[params]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Adstock {
    /// Robyn's recursive geometric decay `a_t = x_t + theta a_{t-1}`.
    #[default]
    Geometric,
    /// Robyn's Weibull CDF kernel (flexible decay, peak at lag 0).
    WeibullCdf,
    /// Robyn's Weibull PDF kernel (allows a delayed peak).
    WeibullPdf,
}

/// The observation model of the KPI around its mean.
#[params]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Likelihood {
    /// Gaussian noise.
    #[default]
    Normal,
    /// Student-t noise with `student_t_dof` degrees of freedom: outlier weeks
    /// pull the fit less.
    StudentT,
}

/// `ln X ~ Normal(mu, sigma)`.
#[params]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogNormal {
    pub mu: f64,
    pub sigma: f64,
}

/// `X ~ Beta(a, b)` on `(0, 1)`.
#[params]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Beta {
    pub a: f64,
    pub b: f64,
}

/// `X ~ Normal(mu, sigma)`.
#[params]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Normal {
    pub mu: f64,
    pub sigma: f64,
}

/// Priors other than ROI. The KPI is divided by its mean before fitting, so
/// the baseline and noise priors are in units of the mean KPI; trend and
/// controls are standardised (see [`crate::design`]).
#[params]
#[derive(Debug, Clone, Copy, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Priors {
    /// Geometric decay `theta ~ Beta(2, 3)` (mean 0.4, most mass in 0.05-0.8).
    pub theta: Beta,
    /// Weibull shape `~ LogNormal(0, 1)`.
    pub shape: LogNormal,
    /// Weibull scale, relative to the series length, `~ Beta(1.5, 15)` (mean 0.09).
    pub scale: Beta,
    /// Hill shape `alpha ~ LogNormal(ln 1.5, 0.5)` (90% in 0.66-3.4).
    pub alpha: LogNormal,
    /// Hill inflexion as Robyn's share of the adstocked range, `gamma ~ Beta(2, 2)`.
    pub gamma: Beta,
    /// Intercept `~ Normal(0.6, 0.5)` (the mean KPI is 1).
    pub intercept: Normal,
    /// Standard deviation of the zero-mean normal prior on each trend,
    /// seasonality and control coefficient (0.5).
    pub baseline_sd: f64,
    /// Scale of the half-normal prior on the noise `sigma` (0.5).
    pub sigma_scale: f64,
}

impl Default for Priors {
    fn default() -> Self {
        Self {
            theta: Beta { a: 2.0, b: 3.0 },
            shape: LogNormal {
                mu: 0.0,
                sigma: 1.0,
            },
            scale: Beta { a: 1.5, b: 15.0 },
            alpha: LogNormal {
                mu: 1.5f64.ln(),
                sigma: 0.5,
            },
            gamma: Beta { a: 2.0, b: 2.0 },
            intercept: Normal {
                mu: 0.6,
                sigma: 0.5,
            },
            baseline_sd: 0.5,
            sigma_scale: 0.5,
        }
    }
}

impl Params {
    /// Checks ranges and resolves each media channel's ROI prior.
    pub fn resolve(&self, media: &[String]) -> Result<Vec<LogNormal>> {
        let bad = |m: &str| Err(Error::invalid_params(m.to_owned()));
        if self.chains == 0 || self.draws < 4 || self.warmup == 0 {
            return bad("need chains >= 1, warmup >= 1 and draws >= 4");
        }
        if u64::from(self.chains) * u64::from(self.warmup + self.draws) > 200_000 {
            return bad("chains x (warmup + draws) must be at most 200,000");
        }
        if self.kept_draws == 0 || self.kept_draws > self.chains * self.draws {
            return bad("kept_draws must be between 1 and chains x draws");
        }
        if !(1..=15).contains(&self.max_tree_depth) {
            return bad("max_tree_depth must be between 1 and 15");
        }
        if !(self.target_accept > 0.5 && self.target_accept < 1.0) {
            return bad("target_accept must be in (0.5, 1)");
        }
        if !(self.student_t_dof.is_finite() && self.student_t_dof > 0.0) {
            return bad("student_t_dof must be positive");
        }
        if self.curve_points < 2 || self.fourier_order > 10 {
            return bad("curve_points >= 2, fourier_order <= 10");
        }
        self.priors.check()?;
        if let Some(name) = self.roi_priors.keys().find(|c| !media.contains(c)) {
            return bad(&format!(
                "`roi_priors` names `{name}`, which is not a media column"
            ));
        }
        media
            .iter()
            .map(|name| {
                let p = self.roi_priors.get(name).copied().unwrap_or(self.roi_prior);
                check_scale(&format!("roi prior of `{name}`"), p.mu, p.sigma)?;
                Ok(p)
            })
            .collect()
    }
}

impl Priors {
    fn check(&self) -> Result<()> {
        for (name, b) in [
            ("theta", self.theta),
            ("scale", self.scale),
            ("gamma", self.gamma),
        ] {
            if !(b.a.is_finite() && b.b.is_finite() && b.a > 0.0 && b.b > 0.0) {
                return Err(Error::invalid_params(format!(
                    "priors.{name}: Beta(a, b) needs a, b > 0"
                )));
            }
        }
        check_scale("priors.shape", self.shape.mu, self.shape.sigma)?;
        check_scale("priors.alpha", self.alpha.mu, self.alpha.sigma)?;
        check_scale("priors.intercept", self.intercept.mu, self.intercept.sigma)?;
        check_scale("priors.baseline_sd", 0.0, self.baseline_sd)?;
        check_scale("priors.sigma_scale", 0.0, self.sigma_scale)
    }
}

fn check_scale(what: &str, mu: f64, sigma: f64) -> Result<()> {
    if mu.is_finite() && sigma.is_finite() && sigma > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid_params(format!(
            "{what}: needs a finite location and a positive scale"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_params_give_the_documented_defaults_and_roi_priors_apply_per_channel() {
        let p: Params = mmm_sdk::params::parse("{}").unwrap();
        assert_eq!((p.chains, p.warmup, p.draws), (4, 750, 750));
        let media = ["tv".to_owned(), "search".to_owned()];
        let priors = p.resolve(&media).unwrap();
        assert_eq!(
            priors[0],
            LogNormal {
                mu: 0.2,
                sigma: 0.9
            }
        );
        let p: Params =
            mmm_sdk::params::parse(r#"{"roi_priors": {"search": {"mu": 1.0, "sigma": 0.1}}}"#)
                .unwrap();
        let priors = p.resolve(&media).unwrap();
        assert_eq!(priors[0].mu, 0.2);
        assert_eq!(
            priors[1],
            LogNormal {
                mu: 1.0,
                sigma: 0.1
            }
        );
    }

    #[test]
    fn bad_params_are_rejected_with_the_reason() {
        let media = ["tv".to_owned()];
        let p: Params =
            mmm_sdk::params::parse(r#"{"roi_priors": {"radio": {"mu": 0, "sigma": 1}}}"#).unwrap();
        assert!(p.resolve(&media).unwrap_err().message().contains("radio"));
        let p: Params =
            mmm_sdk::params::parse(r#"{"priors": {"gamma": {"a": 0, "b": 1}}}"#).unwrap();
        assert!(p.resolve(&media).unwrap_err().message().contains("gamma"));
        assert!(mmm_sdk::params::parse::<Params>(r#"{"nope": 1}"#).is_err());
    }
}
