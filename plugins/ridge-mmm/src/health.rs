//! Whether a fit can be trusted, by its own out-of-sample error: the test
//! window (the last periods, never seen by the search or the coefficients)
//! forecast against how well the model fits the periods it was fitted on;
//! and by its residuals: streaks in them (lag-1 autocorrelation above
//! `mmm_sdk::metrics::STREAKY_RESIDUALS / sqrt(n)`) mean last week's error
//! predicts this week's, structure the model misses.
//!
//! A model that has found the process forecasts new weeks about as well as
//! it fits old ones: its test RMSE is its training RMSE plus what the
//! estimated coefficients and the baseline's drift add. A model that fitted
//! the training window's noise, or whose transforms are far from the data's,
//! forecasts much worse. On the accuracy suite (`host/accuracy`), fits whose
//! test RMSE exceeded [`MAX_TEST_RATIO`] times their training RMSE had ROI
//! errors several times those of the rest (see the crate docs); their
//! summary says so under `warnings`, and `health` carries the figures.

use mmm_sdk::metrics::{STREAKY_RESIDUALS, residual_autocorrelation, rmse};
use mmm_sdk::prelude::*;
use mmm_sdk::serde_json::Value;

use crate::data::Split;

/// Test RMSE over training RMSE above which the fit is flagged.
pub const MAX_TEST_RATIO: f64 = 1.5;

/// The fit's out-of-sample figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    pub train_rmse: f64,
    pub test_rmse: f64,
    /// `test_rmse / train_rmse`.
    pub ratio: f64,
    /// Lag-1 autocorrelation of the residuals over every period.
    pub autocorrelation: f64,
    /// `STREAKY_RESIDUALS / sqrt(n)`.
    pub max_autocorrelation: f64,
}

impl Health {
    /// From the actuals and the fitted values of every period.
    pub fn new(y: &[f64], fit: &[f64], split: Split) -> Self {
        let train = 0..split.train;
        let test = split.validation..split.n;
        // Split::new keeps every window at least 3 periods long.
        let train_rmse = rmse(&y[train.clone()], &fit[train]).unwrap_or(f64::NAN);
        let test_rmse = rmse(&y[test.clone()], &fit[test]).unwrap_or(f64::NAN);
        Self {
            train_rmse,
            test_rmse,
            ratio: test_rmse / train_rmse,
            autocorrelation: residual_autocorrelation(y, fit).unwrap_or(0.0),
            max_autocorrelation: STREAKY_RESIDUALS / (y.len().max(1) as f64).sqrt(),
        }
    }

    /// Whether the test window says the fit has not found the process.
    pub fn trustworthy(&self) -> bool {
        self.ratio <= MAX_TEST_RATIO && self.autocorrelation <= self.max_autocorrelation
    }

    /// The summary's `health` object.
    pub fn to_json(self) -> Value {
        json!({
            "train_rmse": self.train_rmse,
            "test_rmse": self.test_rmse,
            "test_rmse_ratio": self.ratio,
            "max_test_rmse_ratio": MAX_TEST_RATIO,
            "residual_autocorrelation": self.autocorrelation,
            "max_residual_autocorrelation": self.max_autocorrelation,
            "trustworthy": self.trustworthy(),
        })
    }

    /// The warning for an untrustworthy fit.
    pub fn warning(&self) -> Option<String> {
        if self.ratio > MAX_TEST_RATIO {
            Some(format!(
                "the model forecasts its own test window {:.1}x worse than it fits its training \
                 window (RMSE {:.4} against {:.4}): it has fitted the history rather than what \
                 drives it, so its ROIs may be far off; compare with bayes-mmm, add lift tests, \
                 or check the data for changes the baseline cannot follow",
                self.ratio, self.test_rmse, self.train_rmse
            ))
        } else if self.autocorrelation > self.max_autocorrelation {
            Some(format!(
                "the residuals run in streaks (lag-1 autocorrelation {:.2}, above {:.2}): the \
                 model misses structure in the data (a delayed or longer carryover, another \
                 response shape, a change in the baseline), so its ROIs may be far off; try \
                 another adstock, compare with bayes-mmm, or calibrate with lift tests",
                self.autocorrelation, self.max_autocorrelation
            ))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forecast_much_worse_than_the_fit_is_flagged() {
        let split = Split::new(40, 0.7, 0.15).unwrap();
        let y: Vec<f64> = (0..40).map(|t| f64::from(t % 3)).collect();
        let mut fit = y.clone();
        // Training residuals of +-0.1; test residuals of +-0.1 then of +-0.5.
        for (t, f) in fit.iter_mut().enumerate() {
            *f += if t % 2 == 0 { 0.1 } else { -0.1 };
        }
        let good = Health::new(&y, &fit, split);
        assert!((good.ratio - 1.0).abs() < 1e-12 && good.trustworthy());
        assert!(good.warning().is_none());
        for f in &mut fit[split.validation..] {
            *f = 5.0 * (*f - 1.0) + 1.0;
        }
        let bad = Health::new(&y, &fit, split);
        assert!(!bad.trustworthy(), "{bad:?}");
        assert!(bad.warning().unwrap().contains("test window"));
    }

    #[test]
    fn residuals_in_streaks_are_flagged_even_when_the_test_window_fits() {
        let split = Split::new(60, 0.7, 0.15).unwrap();
        let y = vec![1.0; 60];
        // Residuals of +-0.1 in runs of six weeks: same size everywhere.
        let fit: Vec<f64> = (0..60)
            .map(|t| 1.0 + if t / 6 % 2 == 0 { 0.1 } else { -0.1 })
            .collect();
        let health = Health::new(&y, &fit, split);
        assert!(health.ratio <= MAX_TEST_RATIO, "{health:?}");
        assert!(!health.trustworthy());
        assert!(health.warning().unwrap().contains("streaks"));
    }
}
