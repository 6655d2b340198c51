//! The model's params: every field has a default, so `{}` is a valid request.

use std::collections::BTreeMap;

use mmm_sdk::prelude::*;

/// How the ridge MMM fits. Every field is optional.
#[params]
#[derive(Debug, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// Seed of the search: the same data, params and seed give the same model.
    pub seed: u64,
    /// How many candidate models the search evaluates.
    pub budget: u32,
    /// Candidates per generation of the evolutionary search.
    pub population: u32,
    /// Adstock transform for every media channel.
    pub adstock: Adstock,
    /// Order of the yearly Fourier seasonality (0 turns it off).
    pub fourier_order: u32,
    /// Share of the periods (the earliest) the coefficients are fitted on.
    pub train_share: f64,
    /// Share of the periods after the training window on which the search
    /// scores candidates (NRMSE). The rest is the test window, reported only.
    pub validation_share: f64,
    /// Blocks of a blocked cross-validation that scores candidates over
    /// the training and validation windows (each block forecast by the
    /// ridge fitted on the others) instead of the fit (0 or 1: off, the
    /// default; see [`crate::select`] for what the accuracy suite says).
    pub cv_folds: u32,
    /// Weight of the weak prior on the transform hyperparameters (a
    /// Beta(2, 2) on each one's position in its bounds, raised to this
    /// power), which the pick trades against the fit; 0 turns it off.
    pub hyper_prior: f64,
    /// Smallest ridge penalty searched (on standardised columns, per observation).
    pub lambda_min: f64,
    /// Largest ridge penalty searched; the search is log-uniform in between.
    pub lambda_max: f64,
    /// Default hyperparameter bounds for every channel (Robyn's defaults).
    pub bounds: Bounds,
    /// Per-channel bound overrides, by media column name.
    pub channels: BTreeMap<String, Bounds>,
    /// Sign constraints on control coefficients, by column name (others are free).
    pub control_signs: BTreeMap<String, Sign>,
    /// Whether DECOMP.RSSD (distance of the effect split from the spend
    /// split) steers the search and the pick, as in Robyn. Off by default:
    /// on data whose ROIs differ widely it pulls every channel towards its
    /// spend share (see [`crate::select`] for the figures). It is reported either way.
    pub search_decomp_rssd: bool,
    /// With `search_decomp_rssd`: log-likelihood ratio within which front
    /// models count as fitting as well as the best; the one with the lowest
    /// DECOMP.RSSD among them is picked (see [`crate::select`]).
    pub pick_tolerance: f64,
    /// Log-likelihood ratio within which models give the ROI interval (at
    /// least `pick_tolerance`; see [`crate::select`]).
    pub interval_tolerance: f64,
    /// With lift tests (experiments): only models whose MAPE.LIFT (mean
    /// absolute percentage error of the implied against the measured lifts)
    /// is at most the best one's plus this are picked or count as
    /// plausible. Robyn's `calibration_constraint`, default 0.1.
    pub calibration_constraint: f64,
    /// Points on each response curve (spend from 0 to 3x the mean).
    pub curve_points: u32,
}

impl Default for Params {
    fn default() -> Self {
        Self {
            seed: 0,
            budget: 10_000,
            population: 100,
            adstock: Adstock::Geometric,
            fourier_order: 2,
            train_share: 0.7,
            validation_share: 0.15,
            cv_folds: 0,
            hyper_prior: 4.0,
            lambda_min: 1e-5,
            lambda_max: 1.0,
            bounds: Bounds::default(),
            channels: BTreeMap::new(),
            control_signs: BTreeMap::new(),
            search_decomp_rssd: false,
            pick_tolerance: 1.0,
            interval_tolerance: 6.0,
            calibration_constraint: 0.1,
            curve_points: 61,
        }
    }
}

/// Which adstock kernel carries spend into later periods.
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

/// Bounds of one channel's hyperparameters, `[low, high]`. Fields left out
/// keep the defaults (or, in `channels`, the global `bounds`).
#[params]
#[derive(Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Bounds {
    /// Hill shape (default `[0.5, 3]`).
    pub alpha: Option<[f64; 2]>,
    /// Hill inflexion as a share of the adstocked range (default `[0.01, 1]`).
    pub gamma: Option<[f64; 2]>,
    /// Geometric decay (default `[0, 0.8]`).
    pub theta: Option<[f64; 2]>,
    /// Weibull shape (default `[0, 10]`).
    pub shape: Option<[f64; 2]>,
    /// Weibull scale relative to the series length (default `[0, 0.1]`).
    pub scale: Option<[f64; 2]>,
}

/// Sign constraint on a control's coefficient.
#[params]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Sign {
    /// Any sign.
    #[default]
    Free,
    /// At least zero.
    Positive,
    /// At most zero.
    Negative,
}

/// One channel's resolved bounds, all present.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelBounds {
    pub alpha: [f64; 2],
    pub gamma: [f64; 2],
    pub theta: [f64; 2],
    pub shape: [f64; 2],
    pub scale: [f64; 2],
}

impl ChannelBounds {
    /// Robyn's default ranges.
    pub const ROBYN: Self = Self {
        alpha: [0.5, 3.0],
        gamma: [0.01, 1.0],
        theta: [0.0, 0.8],
        shape: [0.0, 10.0],
        scale: [0.0, 0.1],
    };

    fn overlay(mut self, b: &Bounds) -> Self {
        self.alpha = b.alpha.unwrap_or(self.alpha);
        self.gamma = b.gamma.unwrap_or(self.gamma);
        self.theta = b.theta.unwrap_or(self.theta);
        self.shape = b.shape.unwrap_or(self.shape);
        self.scale = b.scale.unwrap_or(self.scale);
        self
    }

    fn check(&self, channel: &str) -> Result<()> {
        let ranges = [
            ("alpha", self.alpha, 1e-9, 100.0),
            ("gamma", self.gamma, 0.0, 1.0),
            ("theta", self.theta, 0.0, 0.999),
            ("shape", self.shape, 0.0, 100.0),
            ("scale", self.scale, 0.0, 1.0),
        ];
        for (name, [lo, hi], min, max) in ranges {
            if !(lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max) {
                return Err(Error::invalid_params(format!(
                    "{channel}: {name} bounds [{lo}, {hi}] must satisfy {min} <= low <= high <= {max}"
                )));
            }
        }
        Ok(())
    }
}

impl Params {
    /// Checks ranges and resolves each media channel's bounds.
    pub fn resolve(&self, media: &[String], controls: &[String]) -> Result<Vec<ChannelBounds>> {
        let bad = |m: &str| Err(Error::invalid_params(m.to_owned()));
        if self.budget == 0 || self.population < 4 {
            return bad("budget must be positive and population at least 4");
        }
        if !(self.train_share > 0.0 && self.validation_share > 0.0)
            || self.train_share + self.validation_share >= 1.0
        {
            return bad("train_share and validation_share must be positive and sum below 1");
        }
        if !(self.lambda_min > 0.0
            && self.lambda_min <= self.lambda_max
            && self.lambda_max.is_finite())
        {
            return bad("need 0 < lambda_min <= lambda_max < inf");
        }
        if !(self.pick_tolerance >= 0.0
            && self.pick_tolerance <= self.interval_tolerance
            && self.interval_tolerance.is_finite())
        {
            return bad("need 0 <= pick_tolerance <= interval_tolerance < inf");
        }
        if !(self.hyper_prior >= 0.0 && self.hyper_prior.is_finite()) {
            return bad("hyper_prior must be a finite number >= 0");
        }
        if !(self.calibration_constraint >= 0.0 && self.calibration_constraint.is_finite()) {
            return bad("calibration_constraint must be a finite number >= 0");
        }
        if self.curve_points < 2 || self.fourier_order > 10 {
            return bad("curve_points >= 2, fourier_order <= 10");
        }
        if let Some(name) = self.channels.keys().find(|c| !media.contains(c)) {
            return bad(&format!(
                "`channels` names `{name}`, which is not a media column"
            ));
        }
        if let Some(name) = self.control_signs.keys().find(|c| !controls.contains(c)) {
            return bad(&format!(
                "`control_signs` names `{name}`, which is not a control column"
            ));
        }
        let global = ChannelBounds::ROBYN.overlay(&self.bounds);
        media
            .iter()
            .map(|name| {
                let bounds = self
                    .channels
                    .get(name)
                    .map_or(global, |b| global.overlay(b));
                bounds.check(name).map(|()| bounds)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_params_give_robyn_defaults_and_overrides_apply_per_channel() {
        let p: Params = mmm_sdk::params::parse("{}").unwrap();
        assert_eq!(p.budget, 10_000);
        let media = ["tv".to_owned(), "search".to_owned()];
        let b = p.resolve(&media, &[]).unwrap();
        assert_eq!(b[0], ChannelBounds::ROBYN);
        let p: Params =
            mmm_sdk::params::parse(r#"{"channels": {"tv": {"theta": [0.3, 0.5]}}}"#).unwrap();
        let b = p.resolve(&media, &[]).unwrap();
        assert_eq!(b[0].theta, [0.3, 0.5]);
        assert_eq!(b[1].theta, [0.0, 0.8]);
    }

    #[test]
    fn bad_params_are_rejected_with_the_reason() {
        let media = ["tv".to_owned()];
        let p: Params = mmm_sdk::params::parse(r#"{"channels": {"radio": {}}}"#).unwrap();
        assert!(
            p.resolve(&media, &[])
                .unwrap_err()
                .message()
                .contains("radio")
        );
        let p: Params = mmm_sdk::params::parse(r#"{"bounds": {"gamma": [0.5, 2]}}"#).unwrap();
        assert!(p.resolve(&media, &[]).is_err());
        assert!(mmm_sdk::params::parse::<Params>(r#"{"nope": 1}"#).is_err());
    }
}
