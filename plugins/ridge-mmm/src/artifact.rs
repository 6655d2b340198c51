//! What `predict` needs, and nothing else: the fitted transforms and
//! coefficients, the calendar, control means and each channel's historical
//! spend pattern (for scenarios given as totals).

use mmm_sdk::prelude::*;
use mmm_sdk::saturation::Hill;

use crate::data::{BaselineDesign, Calendar, Input};
use crate::evaluate::Fitted;
use crate::transform::AdstockHyper;

/// Bumped whenever the artifact's meaning changes.
pub const ARTIFACT_VERSION: u32 = 1;

/// A fitted ridge MMM.
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
    pub intercept: f64,
    /// Trend then `sin1, cos1, sin2, ...` coefficients.
    pub time_coefficients: Vec<f64>,
    pub controls: Vec<ControlArtifact>,
    pub channels: Vec<ChannelArtifact>,
    /// Baseline (everything but media) summed over the fitted history.
    pub baseline_history_total: f64,
}

/// A control's coefficient and the mean used when a scenario omits it.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct ControlArtifact {
    pub name: String,
    pub coefficient: f64,
    pub mean: f64,
}

/// One channel's response: adstock, Hill curve, coefficient, spend pattern.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelArtifact {
    pub name: String,
    pub adstock: AdstockHyper,
    /// Kernel weights of a Weibull adstock (empty for geometric).
    pub kernel: Vec<f64>,
    pub alpha: f64,
    pub inflexion: f64,
    pub coefficient: f64,
    /// Historical spend per period, the pattern totals are spread over.
    pub history: Vec<f64>,
}

impl ChannelArtifact {
    pub fn hill(&self) -> Result<Hill> {
        Hill::new(self.alpha, self.inflexion).map_err(|e| Error::invalid_input(e.to_string()))
    }

    /// Adstocks `x` into `out` (carryover starts at zero).
    pub fn adstock_into(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        let result = match self.adstock {
            AdstockHyper::Geometric { theta } => mmm_sdk::adstock::geometric_into(x, out, theta),
            _ => mmm_sdk::adstock::convolve_into(x, out, &self.kernel),
        };
        result.map_err(|e| Error::invalid_input(e.to_string()))
    }

    /// Adstocked value of one unit of spend per period held forever.
    pub fn steady_state_gain(&self) -> f64 {
        match self.adstock {
            AdstockHyper::Geometric { theta } => 1.0 / (1.0 - theta),
            _ => self.kernel.iter().sum(),
        }
    }
}

impl Artifact {
    pub fn new(input: &Input, roles: &Roles, design: &BaselineDesign, fitted: &Fitted) -> Self {
        let c = &fitted.coefficients;
        let width = design.calendar.width();
        let baseline_history_total = (0..input.len())
            .map(|t| {
                c.intercept
                    + design
                        .columns
                        .iter()
                        .zip(&c.baseline)
                        .map(|(col, b)| b * col[t])
                        .sum::<f64>()
            })
            .sum();
        let controls = input
            .control_names
            .iter()
            .zip(&input.controls)
            .zip(&c.baseline[width..])
            .map(|((name, x), &coefficient)| ControlArtifact {
                name: name.clone(),
                coefficient,
                mean: x.iter().sum::<f64>() / x.len() as f64,
            })
            .collect();
        let channels = (0..input.media.len())
            .map(|i| ChannelArtifact {
                name: input.media_names[i].clone(),
                adstock: fitted.hypers[i].adstock,
                kernel: fitted.kernels[i].clone(),
                alpha: fitted.hypers[i].alpha,
                inflexion: fitted.applied[i].hill.inflexion(),
                coefficient: c.media[i],
                history: input.media[i].clone(),
            })
            .collect();
        Self {
            version: ARTIFACT_VERSION,
            kpi: roles.kpi.clone(),
            date: roles.date.clone(),
            first_day: design.calendar.first_day,
            period_days: design.calendar.period_days,
            fourier_order: design.calendar.fourier_order,
            intercept: c.intercept,
            time_coefficients: c.baseline[..width].to_vec(),
            controls,
            channels,
            baseline_history_total,
        }
    }

    pub fn calendar(&self) -> Calendar {
        Calendar {
            first_day: self.first_day,
            period_days: self.period_days,
            fourier_order: self.fourier_order,
        }
    }
}
