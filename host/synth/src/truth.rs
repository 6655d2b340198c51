//! The known answers written beside the data: every parameter that generated
//! it and the per-channel contribution, ROI and marginal ROI they imply.

use serde::Serialize;

use crate::media::{Adstock, Saturation};

/// Everything that generated a dataset, and what it implies per channel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Truth {
    /// The seed the data came from.
    pub seed: u64,
    /// Number of weekly periods.
    pub weeks: usize,
    /// Standard deviation of the Gaussian noise added to the KPI.
    pub noise_sd: f64,
    /// Sum of the non-media part of the KPI (intercept, trend, seasonality,
    /// controls) over all periods, noise excluded.
    pub baseline_contribution: f64,
    /// Share of the noise-free KPI total that media drive.
    pub media_share: f64,
    /// How the baseline was built.
    pub baseline: BaselineTruth,
    /// One entry per media channel, in column order.
    pub channels: Vec<ChannelTruth>,
}

/// The baseline's generating parameters: `intercept + trend * t +
/// level_shift * shift_shape(t) +
/// sum_k (sin_k sin(2 pi k d / 365.25) + cos_k cos(...)) + sum_c coef_c x_c`,
/// with `t` the week index from 0 and `d` days since 1970-01-01.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineTruth {
    /// Level at week 0.
    pub intercept: f64,
    /// KPI change per week.
    pub trend_per_week: f64,
    /// Size of the lasting level shift (KPI per week once phased in; see
    /// [`shift_shape`]), 0 for none.
    pub level_shift: f64,
    /// Yearly Fourier coefficients `(sin_k, cos_k)` for `k = 1, 2, ...`.
    pub fourier: Vec<(f64, f64)>,
    /// Control coefficients, `(column, coefficient)`.
    pub controls: Vec<(String, f64)>,
}

/// One channel's truth. Contribution, ROI and marginal ROI are over all periods.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelTruth {
    /// Spend column name.
    pub name: String,
    /// Total spend.
    pub spend: f64,
    /// Total KPI the channel drove, `coefficient * sum_t hill(adstock)_t`.
    pub contribution: f64,
    /// `contribution / spend`.
    pub roi: f64,
    /// Extra KPI per extra unit of spend when every period's spend grows by
    /// the same small fraction: `coefficient * sum_t a_t h'(a_t) / spend`
    /// (for Hill, `a h'(a) = alpha h (1 - h)`).
    pub mroi: f64,
    /// How the channel's spend carries over.
    pub adstock: Adstock,
    /// How its adstocked spend saturates.
    pub saturation: Saturation,
    /// KPI per unit of saturated response (the response's ceiling per period).
    pub coefficient: f64,
    /// Share of the adstocked total carried over from earlier periods.
    pub carryover_share: f64,
    /// Channel's share of the total media contribution.
    pub effect_share: f64,
    /// Channel's share of the total media spend.
    pub spend_share: f64,
}

impl ChannelTruth {
    /// The channel's true contribution per period to `spend`, carryover
    /// starting at zero: `coefficient * saturation(adstock(spend))`.
    ///
    /// The saturation's scale (Hill's inflexion, the logistic's scale,
    /// Michaelis–Menten's half point) stays the one the generated history
    /// set. Generation derives it from the history's adstocked range, but
    /// that range is a property of the data, not of the channel: deriving it
    /// afresh from other spend would move the curve with every scenario.
    /// On the generated history this reproduces `Dataset::contributions`
    /// bit for bit.
    pub fn response(&self, spend: &[f64]) -> Vec<f64> {
        self.adstock
            .apply(spend)
            .into_iter()
            .map(|a| self.coefficient * self.saturation.at(a))
            .collect()
    }
}

/// How the level shift phases in at period `t` of `n`: a logistic step
/// from 0 to 1 centred at 60% of the history, ~10 weeks from 10% to 90%.
pub fn shift_shape(t: usize, n: usize) -> f64 {
    let centre = 0.6 * n as f64;
    1.0 / (1.0 + (-(t as f64 - centre) / 2.5).exp())
}
