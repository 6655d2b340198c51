//! The yardstick for ROI recovery on data with known truth: this model's
//! regression handed the true adstock and saturation of every channel, so
//! all that is left to estimate is the coefficients. What it gets wrong is
//! what the noise and the window split cost any model of this form; a
//! model's ROI error is read against it ("within 1.5x of the oracle").
//!
//! The oracle takes geometric adstock (the form mmm-synth generates) and the
//! Hill inflexion at `gamma` of the adstocked range of all periods, as the
//! model does. Coefficients come from the training window like every
//! candidate's; the ridge penalty is the one of [`LAMBDA_GRID`] log-spaced
//! values in `[lambda_min, lambda_max]` with the lowest NRMSE over the
//! training and validation windows: the best fit, with no pick rule and no
//! search involved, so a change to either leaves the yardstick where it was.
//!
//! ```no_run
//! # fn demo(data: &mmm_sdk::Table, roles: &mmm_sdk::Roles, truth: &[(String, f64, f64, f64)]) {
//! use ridge_mmm::oracle::{TrueTransform, oracle};
//! let transforms: Vec<TrueTransform> = truth
//!     .iter()
//!     .map(|(channel, theta, alpha, gamma)| TrueTransform {
//!         channel: channel.clone(), theta: *theta, alpha: *alpha, gamma: *gamma,
//!     })
//!     .collect();
//! let fit = oracle(data, roles, &transforms, &ridge_mmm::Params::default()).unwrap();
//! println!("{:.2}", fit.channels[0].roi);
//! # }
//! ```

use mmm_sdk::prelude::*;

use crate::data::{BaselineDesign, Input, Split};
use crate::evaluate::Evaluator;
use crate::params::{Adstock, ChannelBounds, Params};
use crate::report::channel_stats;
use crate::transform::Space;

/// Ridge penalties the oracle tries.
pub const LAMBDA_GRID: usize = 41;

/// One channel's true transform (mmm-synth's `ChannelTruth` has these fields).
#[derive(Debug, Clone, PartialEq)]
pub struct TrueTransform {
    /// Media column name.
    pub channel: String,
    /// Geometric adstock decay.
    pub theta: f64,
    /// Hill shape.
    pub alpha: f64,
    /// Hill inflexion as a share of the adstocked range.
    pub gamma: f64,
}

/// The oracle's estimate for one channel, over all periods.
#[derive(Debug, Clone, PartialEq)]
pub struct OracleChannel {
    pub channel: String,
    /// Contribution over spend.
    pub roi: f64,
    /// 90% interval from the coefficient's standard error (transforms known).
    pub roi_interval: [f64; 2],
}

/// The oracle fit: channels in the roles' media order, and the penalty it chose.
#[derive(Debug, Clone, PartialEq)]
pub struct OracleFit {
    pub channels: Vec<OracleChannel>,
    pub lambda: f64,
}

impl OracleFit {
    /// Absolute relative ROI error per channel against `true_rois` (media order).
    pub fn roi_errors(&self, true_rois: &[f64]) -> Vec<f64> {
        roi_errors(self.channels.iter().map(|c| c.roi), true_rois)
    }
}

/// `|estimate - truth| / truth` per channel.
pub fn roi_errors(estimates: impl IntoIterator<Item = f64>, true_rois: &[f64]) -> Vec<f64> {
    estimates
        .into_iter()
        .zip(true_rois)
        .map(|(e, t)| (e - t).abs() / t)
        .collect()
}

/// Fits the model's regression with every channel's transform pinned to
/// `truth` (one entry per media column, any order). `params` gives the
/// split, seasonality, control signs and lambda range; its search settings,
/// bounds and adstock are ignored.
pub fn oracle(
    data: &Table,
    roles: &Roles,
    truth: &[TrueTransform],
    params: &Params,
) -> Result<OracleFit> {
    let input = Input::from_table(data, roles)?;
    let bounds = input
        .media_names
        .iter()
        .map(|name| {
            let t = truth.iter().find(|t| t.channel == *name).ok_or_else(|| {
                Error::invalid_input(format!("oracle: no true transform for `{name}`"))
            })?;
            Ok(ChannelBounds {
                theta: [t.theta; 2],
                alpha: [t.alpha; 2],
                gamma: [t.gamma; 2],
                ..ChannelBounds::ROBYN
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let split = Split::new(input.len(), params.train_share, params.validation_share)?;
    let design = BaselineDesign::new(&input, params.fourier_order as usize);
    let signs: Vec<_> = input
        .control_names
        .iter()
        .map(|c| params.control_signs.get(c).copied().unwrap_or_default())
        .collect();
    let space = Space {
        adstock: Adstock::Geometric,
        bounds,
        lambda: [params.lambda_min, params.lambda_max],
    };
    let mut evaluator = Evaluator::new(&input, &design, split, space, &signs, Vec::new(), 0)?;
    let mut genes = vec![0.5; evaluator.dim()];
    let last = genes.len() - 1;
    let mut best = (f64::INFINITY, 0.0);
    for step in 0..LAMBDA_GRID {
        genes[last] = step as f64 / (LAMBDA_GRID - 1) as f64;
        let nrmse = evaluator.objectives(&genes)[0];
        if nrmse < best.0 {
            best = (nrmse, genes[last]);
        }
    }
    if best.0 >= f64::MAX {
        return Err(Error::numerical("oracle: no penalty gave a fit"));
    }
    genes[last] = best.1;
    let fitted = evaluator.fitted(&genes)?;
    let channels = channel_stats(&input, &fitted)
        .into_iter()
        .zip(&input.media_names)
        .map(|(s, name)| OracleChannel {
            channel: name.clone(),
            roi: s.roi,
            roi_interval: [s.roi_low, s.roi_high],
        })
        .collect();
    Ok(OracleFit {
        channels,
        lambda: fitted.lambda,
    })
}
