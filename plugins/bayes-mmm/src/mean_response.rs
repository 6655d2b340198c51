//! Each channel's posterior-mean contribution as a function of its total
//! spend (spread over the periods like its history), tabulated once at fit
//! time: what `predict` answers rows that want no interval from, in
//! microseconds instead of a pass over every kept draw and period.
//!
//! A budget optimiser asks for hundreds of such rows per step; over 200
//! draws x 156 periods x 5 channels each row costs ~156,000 `exp`s exactly
//! (1,000 rows: 0.8 s natively), against five table lookups here.
//!
//! The table holds the mean and its slope at [`POINTS`] totals from 0 to
//! [`REACH`] times the historical total, evenly spaced in the square root of
//! the total (dense near zero, where a Hill curve with `alpha` below 1 bends
//! hardest), and reads between them by cubic Hermite interpolation in that
//! square root, so the answer is continuous with a continuous slope (what
//! an optimiser's marginal returns need). Totals past the table, and below
//! its first point past zero (a 16,000th of the reach, where the slope of
//! such a curve is unbounded), fall back to the exact mean. Against the exact mean, the
//! interpolation errs by under 1e-6 of the channel's historical
//! contribution on the suite's data (`tests/predict.rs` holds 1e-5).

use mmm_sdk::prelude::*;

use crate::artifact::{ChannelArtifact, DrawArtifact};

/// Grid points per channel.
pub const POINTS: usize = 129;
/// The table reaches this many times the historical total.
pub const REACH: f64 = 4.0;

/// One channel's tabulated posterior-mean response.
#[artifact]
#[derive(Debug, Clone, PartialEq)]
pub struct MeanResponse {
    /// The largest total tabulated; point `i` of `n` is at `reach (i / (n - 1))^2`.
    pub reach: f64,
    /// Posterior-mean contribution at each point.
    pub values: Vec<f64>,
    /// Its derivative in the square root coordinate `s = i / (n - 1)` there.
    pub slopes: Vec<f64>,
}

/// Precomputed `alpha ln(a_t)` of one draw's adstocked unit-total
/// historical pattern, so `sum_t hill(c a_t)` costs one `exp` per period.
pub struct Pattern {
    log_terms: Vec<f64>,
    alpha: f64,
    log_inflexion: f64,
    coefficient: f64,
    /// The contribution of the historical spend, the intervals' anchor.
    pub at_history: f64,
}

impl Pattern {
    pub fn new(draw: &crate::artifact::DrawChannel, history: &[f64]) -> Self {
        let total: f64 = history.iter().sum();
        let unit: Vec<f64> = history.iter().map(|x| x / total).collect();
        let mut adstocked = vec![0.0; unit.len()];
        draw.adstock_into(&unit, &mut adstocked);
        let mut pattern = Self {
            log_terms: adstocked
                .iter()
                .filter(|&&a| a > 0.0)
                .map(|a| draw.alpha * a.ln())
                .collect(),
            alpha: draw.alpha,
            log_inflexion: draw.inflexion.ln(),
            coefficient: draw.coefficient,
            at_history: 0.0,
        };
        pattern.at_history = pattern.contribution(total);
        pattern
    }

    /// The contribution of `total` spend spread like the history.
    pub fn contribution(&self, total: f64) -> f64 {
        self.with_slope(total).0
    }

    /// The contribution of `total` and its derivative in `total`
    /// (`coefficient alpha sum_t h_t (1 - h_t) / total`).
    pub fn with_slope(&self, total: f64) -> (f64, f64) {
        if total <= 0.0 {
            return (0.0, 0.0);
        }
        // hill(c a) = 1 / (1 + exp(alpha (ln k - ln c) - alpha ln a))
        let offset = self.alpha * (self.log_inflexion - total.ln());
        let (mut sum, mut curvature) = (0.0, 0.0);
        for l in &self.log_terms {
            let h = 1.0 / (1.0 + (offset - l).exp());
            sum += h;
            curvature += h * (1.0 - h);
        }
        (
            self.coefficient * sum,
            self.coefficient * self.alpha * curvature / total,
        )
    }
}

/// Every draw's pattern for channel `c`.
pub fn patterns(channel: &ChannelArtifact, draws: &[DrawArtifact], c: usize) -> Vec<Pattern> {
    draws
        .iter()
        .map(|d| Pattern::new(&d.channels[c], &channel.history))
        .collect()
}

impl MeanResponse {
    /// Tabulates the mean over `patterns` up to [`REACH`] times `history_total`.
    pub fn new(patterns: &[Pattern], history_total: f64) -> Self {
        let reach = REACH * history_total;
        let draws = patterns.len().max(1) as f64;
        let (mut values, mut slopes) = (Vec::with_capacity(POINTS), Vec::with_capacity(POINTS));
        for i in 0..POINTS {
            let s = i as f64 / (POINTS - 1) as f64;
            let (mut value, mut slope) = (0.0, 0.0);
            for p in patterns {
                let (v, d) = p.with_slope(reach * s * s);
                value += v;
                slope += d;
            }
            values.push(value / draws);
            // dM/ds = dM/dT dT/ds, T = reach s^2.
            slopes.push(slope / draws * 2.0 * reach * s);
        }
        Self {
            reach,
            values,
            slopes,
        }
    }

    /// The mean at `total`, or `None` outside the table (zero and below
    /// its first step included: see the module docs).
    pub fn at(&self, total: f64) -> Option<f64> {
        let last = self.values.len().checked_sub(1).filter(|&l| l > 0)?;
        if !(self.reach > 0.0 && total <= self.reach) {
            return None;
        }
        let position = (total / self.reach).sqrt() * last as f64;
        if position.is_nan() || position < 1.0 {
            return None;
        }
        let i = (position as usize).min(last - 1);
        let u = position - i as f64;
        let h = 1.0 / last as f64;
        let (u2, u3) = (u * u, u * u * u);
        Some(
            (2.0 * u3 - 3.0 * u2 + 1.0) * self.values[i]
                + (u3 - 2.0 * u2 + u) * h * self.slopes[i]
                + (-2.0 * u3 + 3.0 * u2) * self.values[i + 1]
                + (u3 - u2) * h * self.slopes[i + 1],
        )
    }
}

/// The table of every channel of a fitted artifact's draws.
pub fn tabulate(channels: &[ChannelArtifact], draws: &[DrawArtifact]) -> Vec<MeanResponse> {
    channels
        .iter()
        .enumerate()
        .map(|(c, channel)| {
            let total: f64 = channel.history.iter().sum();
            MeanResponse::new(&patterns(channel, draws, c), total)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adstock::AdstockHyper;
    use crate::artifact::DrawChannel;

    #[test]
    fn the_table_reads_the_exact_mean_between_its_points() {
        let history: Vec<f64> = (0..52).map(|t| 100.0 + f64::from(t % 7) * 30.0).collect();
        let draws: Vec<DrawArtifact> = [(0.3, 0.7, 2.5), (0.5, 1.4, 1.6), (0.1, 2.6, 0.9)]
            .iter()
            .map(|&(theta, alpha, coefficient)| DrawArtifact {
                channels: vec![DrawChannel {
                    adstock: AdstockHyper::Geometric { theta },
                    kernel: Vec::new(),
                    alpha,
                    inflexion: 150.0,
                    coefficient,
                }],
            })
            .collect();
        let channel = ChannelArtifact {
            name: "tv".into(),
            history,
        };
        let total: f64 = channel.history.iter().sum();
        let patterns = patterns(&channel, &draws, 0);
        let table = &tabulate(std::slice::from_ref(&channel), &draws)[0];
        let exact = |t: f64| patterns.iter().map(|p| p.contribution(t)).sum::<f64>() / 3.0;
        let scale = exact(total);
        let first = table.reach / ((POINTS - 1) * (POINTS - 1)) as f64;
        assert_eq!(table.at(0.5 * first), None);
        for k in 0..=400 {
            let t = first + (table.reach - first) * f64::from(k) / 400.0;
            let got = table.at(t).unwrap();
            assert!(
                (got - exact(t)).abs() < 1e-6 * scale,
                "at {t}: {got} vs {}",
                exact(t)
            );
        }
        assert_eq!(table.at(REACH * total * 1.01), None);
        assert_eq!(table.at(-1.0), None);
    }
}
