//! What `predict` needs, and nothing else: the calendar, the posterior-mean
//! baseline (its mean is the baseline of the mean coefficients, as it is
//! linear in them), control means, each channel's historical spend pattern
//! (for scenarios given as totals) and the media response of every kept
//! posterior draw (for the point, the posterior mean, and the intervals).

use mmm_sdk::prelude::*;

use crate::adstock::{AdstockHyper, adstock_into};
use crate::data::Calendar;

/// Bumped whenever the artifact's meaning changes.
pub const ARTIFACT_VERSION: u32 = 1;

/// A fitted Bayesian MMM.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct Artifact {
    pub version: u32,
    pub kpi: String,
    pub date: String,
    /// Days since 1970-01-01 of the first fitted period.
    pub first_day: i64,
    pub period_days: f64,
    pub fourier_order: usize,
    /// Posterior means on the KPI's scale, per raw column.
    pub intercept: f64,
    /// Trend then `sin1, cos1, sin2, ...` coefficients.
    pub time_coefficients: Vec<f64>,
    pub controls: Vec<ControlArtifact>,
    pub channels: Vec<ChannelArtifact>,
    /// Baseline (everything but media) summed over the fitted history.
    pub baseline_history_total: f64,
    /// The kept posterior draws' media responses.
    pub draws: Vec<DrawArtifact>,
    /// Per channel, its posterior-mean response to total spend, tabulated
    /// ([`crate::mean_response`]); empty in artifacts stored before it
    /// existed, which `predict` then answers from the draws alone.
    #[serde(default)]
    pub mean_response: Vec<crate::mean_response::MeanResponse>,
}

/// A control's coefficient and the mean used when a scenario omits it.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct ControlArtifact {
    pub name: String,
    pub coefficient: f64,
    pub mean: f64,
}

/// A channel's name and historical spend per period, the pattern totals are spread over.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelArtifact {
    pub name: String,
    pub history: Vec<f64>,
}

/// One posterior draw's media response, channels in the artifact's order.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct DrawArtifact {
    pub channels: Vec<DrawChannel>,
}

/// One channel of one draw: `coefficient * hill(adstock(spend))` with the
/// Hill inflexion in spend units (fixed where the history put it).
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct DrawChannel {
    pub adstock: AdstockHyper,
    /// Kernel weights of a Weibull adstock (empty for geometric).
    pub kernel: Vec<f64>,
    pub alpha: f64,
    pub inflexion: f64,
    pub coefficient: f64,
}

impl DrawChannel {
    /// Adstocks `x` into `out` (carryover starts at zero).
    pub fn adstock_into(&self, x: &[f64], out: &mut [f64]) {
        adstock_into(self.adstock, &self.kernel, x, out);
    }

    /// The Hill curve at adstocked spend `a`.
    pub fn hill(&self, a: f64) -> f64 {
        if a > 0.0 {
            1.0 / (1.0 + (self.alpha * (self.inflexion.ln() - a.ln())).exp())
        } else {
            0.0
        }
    }

    /// `d hill / d a`.
    pub fn hill_derivative(&self, a: f64) -> f64 {
        if a > 0.0 {
            let h = self.hill(a);
            self.alpha * h * (1.0 - h) / a
        } else {
            0.0
        }
    }

    pub fn steady_state_gain(&self) -> f64 {
        crate::adstock::steady_state_gain(self.adstock, &self.kernel)
    }
}

impl Artifact {
    pub fn calendar(&self) -> Calendar {
        Calendar {
            first_day: self.first_day,
            period_days: self.period_days,
            fourier_order: self.fourier_order,
        }
    }
}
