//! What `predict` needs, and nothing else: the fitted transforms and
//! coefficients, the calendar, control means, each channel's historical
//! spend pattern (for scenarios given as totals) and the media response of
//! every plausible model (for the intervals).

use mmm_sdk::prelude::*;
use mmm_sdk::saturation::Hill;

use crate::data::{BaselineDesign, Calendar, Input};
use crate::evaluate::Fitted;
use crate::report::Z_90;
use crate::transform::AdstockHyper;

/// Bumped whenever the artifact's meaning changes. Version 2 added
/// [`Artifact::plausible`]; `predict` still reads version 1 (stored by
/// earlier analyses), whose intervals are then the point.
pub const ARTIFACT_VERSION: u32 = 2;

/// The oldest artifact version `predict` reads.
pub const OLDEST_ARTIFACT_VERSION: u32 = 1;

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
    /// The front models that fit about as well as the pick (the pick
    /// included), which give the ROI intervals of the summary and the
    /// intervals of `predict`. Only their media response is kept: the
    /// intervals are of what spend changes, and their channels' spend
    /// history is the pick's. Empty in version 1 artifacts.
    #[serde(default)]
    pub plausible: Vec<PlausibleModel>,
}

/// One plausible model's media response, channels in the artifact's order.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct PlausibleModel {
    pub channels: Vec<PlausibleChannel>,
}

/// One channel of a plausible model: its transforms and coefficient, and the
/// coefficient's 90% interval from its standard error with the transforms
/// held fixed (as the summary's ROI intervals take it), not below zero.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct PlausibleChannel {
    pub adstock: AdstockHyper,
    /// Kernel weights of a Weibull adstock (empty for geometric).
    pub kernel: Vec<f64>,
    pub alpha: f64,
    pub inflexion: f64,
    pub coefficient: f64,
    pub coefficient_low: f64,
    pub coefficient_high: f64,
}

impl PlausibleChannel {
    pub fn response(&self) -> Response<'_> {
        Response {
            adstock: self.adstock,
            kernel: &self.kernel,
            alpha: self.alpha,
            inflexion: self.inflexion,
        }
    }
}

/// A channel's media transform, from spend to the saturated series the
/// coefficient multiplies: what the pick and the plausible models share
/// the code for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Response<'a> {
    pub adstock: AdstockHyper,
    pub kernel: &'a [f64],
    pub alpha: f64,
    pub inflexion: f64,
}

impl Response<'_> {
    pub fn hill(&self) -> Result<Hill> {
        Hill::new(self.alpha, self.inflexion).map_err(|e| Error::invalid_input(e.to_string()))
    }

    /// Adstocks `x` into `out` (carryover starts at zero).
    pub fn adstock_into(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        let result = match self.adstock {
            AdstockHyper::Geometric { theta } => mmm_sdk::adstock::geometric_into(x, out, theta),
            _ => mmm_sdk::adstock::convolve_into(x, out, self.kernel),
        };
        result.map_err(|e| Error::invalid_input(e.to_string()))
    }
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
    pub fn response(&self) -> Response<'_> {
        Response {
            adstock: self.adstock,
            kernel: &self.kernel,
            alpha: self.alpha,
            inflexion: self.inflexion,
        }
    }

    pub fn hill(&self) -> Result<Hill> {
        self.response().hill()
    }

    /// Adstocks `x` into `out` (carryover starts at zero).
    pub fn adstock_into(&self, x: &[f64], out: &mut [f64]) -> Result<()> {
        self.response().adstock_into(x, out)
    }

    /// Adstocked value of one unit of spend per period held forever.
    pub fn steady_state_gain(&self) -> f64 {
        match self.adstock {
            AdstockHyper::Geometric { theta } => 1.0 / (1.0 - theta),
            _ => self.kernel.iter().sum(),
        }
    }
}

impl PlausibleModel {
    pub fn new(fitted: &Fitted) -> Self {
        let channels = (0..fitted.hypers.len())
            .map(|i| {
                let coefficient = fitted.coefficients.media[i];
                let spread = Z_90 * fitted.media_se[i];
                PlausibleChannel {
                    adstock: fitted.hypers[i].adstock,
                    kernel: fitted.kernels[i].clone(),
                    alpha: fitted.hypers[i].alpha,
                    inflexion: fitted.applied[i].hill.inflexion(),
                    coefficient,
                    coefficient_low: (coefficient - spread).max(0.0),
                    coefficient_high: coefficient + spread,
                }
            })
            .collect();
        Self { channels }
    }
}

impl Artifact {
    /// The artifact of `fitted`, with `plausible` the models its intervals
    /// come from (`fitted` among them).
    pub fn new(
        input: &Input,
        roles: &Roles,
        design: &BaselineDesign,
        fitted: &Fitted,
        plausible: Vec<PlausibleModel>,
    ) -> Self {
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
            plausible,
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
