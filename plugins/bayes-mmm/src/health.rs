//! Whether a fit can be trusted beyond its convergence: what its residuals
//! say about the error it would make on weeks it has not seen.
//!
//! The model fits every period, so there is no held-out window to forecast
//! (ridge-mmm's test window). What stands in for one is the residuals'
//! lag-1 autocorrelation (`mmm_sdk::metrics::residual_autocorrelation`):
//! when the posterior-mean fit leaves residuals that run in streaks, last
//! week's error predicts this week's, so the in-sample error understates
//! the out-of-sample one, and the carryover, saturation or baseline is
//! missing something. On the accuracy suite (`host/accuracy`) the fits it
//! flags erred about three times the oracle's ROI error, the others about
//! 1.1 times (README, "Which model").

use mmm_sdk::metrics::{STREAKY_RESIDUALS, residual_autocorrelation};
use mmm_sdk::prelude::*;
use mmm_sdk::serde_json::Value;

/// The fit's residual figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    pub autocorrelation: f64,
    /// `STREAKY_RESIDUALS / sqrt(n)`.
    pub threshold: f64,
}

impl Health {
    pub fn new(y: &[f64], fitted: &[f64]) -> Self {
        Self {
            autocorrelation: residual_autocorrelation(y, fitted).unwrap_or(0.0),
            threshold: STREAKY_RESIDUALS / (y.len().max(1) as f64).sqrt(),
        }
    }

    pub fn trustworthy(&self) -> bool {
        self.autocorrelation <= self.threshold
    }

    /// The summary's `health` object.
    pub fn to_json(self) -> Value {
        json!({
            "residual_autocorrelation": self.autocorrelation,
            "max_residual_autocorrelation": self.threshold,
            "trustworthy": self.trustworthy(),
        })
    }

    pub fn warning(&self) -> Option<String> {
        (!self.trustworthy()).then(|| {
            format!(
                "the residuals run in streaks (lag-1 autocorrelation {:.2}, above {:.2}): the \
                 model misses structure in the data (a delayed or longer carryover, another \
                 response shape, a change in the baseline), so it would forecast new weeks worse \
                 than it fits these and its ROIs may be far off; try another adstock, add \
                 controls, or calibrate with lift tests",
                self.autocorrelation, self.threshold
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaky_residuals_are_flagged_and_noise_is_not() {
        let y: Vec<f64> = (0..100).map(|t| f64::from(t % 2)).collect();
        let good = Health::new(&y, &vec![0.5; 100]);
        assert!(good.trustworthy() && good.warning().is_none());
        let streaks: Vec<f64> = (0..100).map(|t| f64::from(t / 10 % 2)).collect();
        let bad = Health::new(&streaks, &vec![0.5; 100]);
        assert!(!bad.trustworthy(), "{bad:?}");
        assert!(bad.warning().unwrap().contains("streaks"));
    }
}
