//! Lift tests: outside evidence a model can calibrate against.
//!
//! A lift test (a geo holdout, a conversion-lift study, a go-dark week) says:
//! over these dates this channel's spend changed by `spend_change` and, as a
//! result, the KPI changed by `lift`, known to within `standard_error`. It
//! pins what the data alone often cannot: the ROI of a channel that never
//! goes dark, or which of several channels that move together earned the
//! sales.
//!
//! **What a model compares.** Its implied lift is the channel's modelled
//! contribution over the test's periods with the spend that happened, minus
//! the same with the spend that would have happened without the test
//! ([`Experiment::counterfactual`]: the actual spend minus `spend_change`,
//! spread evenly over the window, never below zero). Carryover after the
//! window is not counted, as the measured lift usually is not; to count a
//! cool-down, end the test's window later.
//!
//! ```
//! use mmm_sdk::experiments::Experiment;
//! use mmm_sdk::prelude::*;
//!
//! let dates: Vec<NaiveDate> = (0..4)
//!     .map(|w| NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(7 * w))
//!     .collect();
//! // The channel went dark for weeks 2 and 3 (10,000 less spend) and sales fell by 25,000.
//! let test = Experiment {
//!     channel: "tv".into(),
//!     start: dates[1],
//!     end: dates[2],
//!     spend_change: -10_000.0,
//!     lift: -25_000.0,
//!     standard_error: 5_000.0,
//! };
//! let window = test.window(&dates).unwrap();
//! assert_eq!(window, 1..3);
//! let spend = [5_000.0, 0.0, 0.0, 5_000.0];
//! assert_eq!(test.counterfactual(&spend, window), vec![5_000.0, 5_000.0, 5_000.0, 5_000.0]);
//! ```

use std::ops::Range;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One lift test on one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// The media column the test moved.
    pub channel: String,
    /// First day of the test (inclusive).
    pub start: NaiveDate,
    /// Last day of the test (inclusive).
    pub end: NaiveDate,
    /// Actual spend minus the spend without the test, over the whole window
    /// (negative for a holdout or a go-dark test).
    pub spend_change: f64,
    /// The KPI change the test measured over the window, in KPI units.
    pub lift: f64,
    /// Standard error of `lift`; positive.
    pub standard_error: f64,
}

impl Experiment {
    /// Checks what does not depend on the data: a finite change, a finite
    /// lift, a positive standard error and `start <= end`. The error names
    /// the field, as `experiments[i].<field>` when the host reports it.
    pub fn check(&self) -> Result<()> {
        let field = |name: &str, why: &str| {
            Err(Error::invalid_input(format!(
                "experiment on `{}`: `{name}` {why}",
                self.channel
            )))
        };
        if self.channel.is_empty() {
            return field("channel", "is empty");
        }
        if self.end < self.start {
            return field("end", "is before `start`");
        }
        if !self.spend_change.is_finite() || self.spend_change == 0.0 {
            return field("spend_change", "must be a finite, non-zero amount");
        }
        if !self.lift.is_finite() {
            return field("lift", "must be finite");
        }
        if !(self.standard_error.is_finite() && self.standard_error > 0.0) {
            return field("standard_error", "must be a positive number");
        }
        Ok(())
    }

    /// The periods the test touches, as an index range into `dates` (sorted
    /// ascending, one date per period start): a period covers its date up
    /// to the next period's, so a test from a Wednesday to the next Tuesday
    /// touches two weekly periods. An error when the test lies outside the data.
    pub fn window(&self, dates: &[NaiveDate]) -> Result<Range<usize>> {
        self.check()?;
        let outside = || {
            Error::invalid_input(format!(
                "experiment on `{}`: {}..={} holds no period of the data ({} to {})",
                self.channel,
                self.start,
                self.end,
                dates.first().map_or("none".to_owned(), ToString::to_string),
                dates.last().map_or("none".to_owned(), ToString::to_string),
            ))
        };
        let (Some(&first_date), Some(&last_date)) = (dates.first(), dates.last()) else {
            return Err(outside());
        };
        let step = match dates {
            [.., before, last] => *last - *before,
            _ => chrono::TimeDelta::days(1),
        };
        if self.end < first_date || self.start >= last_date + step {
            return Err(outside());
        }
        let first = dates
            .partition_point(|d| *d <= self.start)
            .saturating_sub(1);
        let end = dates.partition_point(|d| *d <= self.end);
        Ok(first..end)
    }

    /// The spend that would have happened without the test: `spend` with
    /// `spend_change` taken out evenly over `window`, floored at zero.
    pub fn counterfactual(&self, spend: &[f64], window: Range<usize>) -> Vec<f64> {
        let per_period = self.spend_change / window.len().max(1) as f64;
        let mut out = spend.to_vec();
        for value in &mut out[window] {
            *value = (*value - per_period).max(0.0);
        }
        out
    }
}

/// Checks a model's experiments against its data: each test's channel is
/// one of `media` and its window holds periods of `dates`. Returns, per
/// experiment, the channel's index in `media` and the window.
pub fn resolve(
    experiments: &[Experiment],
    media: &[String],
    dates: &[NaiveDate],
) -> Result<Vec<(usize, Range<usize>)>> {
    experiments
        .iter()
        .map(|e| {
            let channel = media.iter().position(|m| *m == e.channel).ok_or_else(|| {
                Error::invalid_input(format!(
                    "experiment on `{}`: not a media channel of this fit ({})",
                    e.channel,
                    media.join(", ")
                ))
            })?;
            Ok((channel, e.window(dates)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weeks(n: u64) -> Vec<NaiveDate> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        (0..n).map(|w| start + chrono::Days::new(7 * w)).collect()
    }

    fn test_on(channel: &str, start: NaiveDate, end: NaiveDate) -> Experiment {
        Experiment {
            channel: channel.into(),
            start,
            end,
            spend_change: 1_000.0,
            lift: 2_000.0,
            standard_error: 100.0,
        }
    }

    #[test]
    fn the_window_holds_the_periods_between_start_and_end() {
        let dates = weeks(10);
        let day = chrono::Days::new(1);
        // The day before week 2 belongs to week 1; the day after week 4 to week 4.
        let e = test_on("tv", dates[2] - day, dates[4] + day);
        assert_eq!(e.window(&dates).unwrap(), 1..5);
        let e = test_on("tv", dates[2], dates[2] + day);
        assert_eq!(e.window(&dates).unwrap(), 2..3);
        let before = test_on("tv", dates[0] - chrono::Days::new(30), dates[0]);
        assert_eq!(before.window(&dates).unwrap(), 0..1);
        let last_week = test_on("tv", dates[9] + day, dates[9] + chrono::Days::new(30));
        assert_eq!(last_week.window(&dates).unwrap(), 9..10);
        let outside = test_on(
            "tv",
            dates[9] + chrono::Days::new(7),
            dates[9] + chrono::Days::new(30),
        );
        let err = outside.window(&dates).unwrap_err().to_string();
        assert!(err.contains("holds no period"), "{err}");
    }

    #[test]
    fn the_counterfactual_takes_the_change_out_evenly_and_never_below_zero() {
        let dates = weeks(4);
        let e = test_on("tv", dates[0], dates[1]);
        let window = e.window(&dates).unwrap();
        assert_eq!(
            e.counterfactual(&[800.0, 300.0, 7.0, 7.0], window),
            vec![300.0, 0.0, 7.0, 7.0]
        );
    }

    #[test]
    fn bad_experiments_name_the_field() {
        let dates = weeks(4);
        let mut e = test_on("tv", dates[0], dates[1]);
        e.standard_error = -1.0;
        assert!(
            e.check()
                .unwrap_err()
                .to_string()
                .contains("standard_error")
        );
        let mut e = test_on("tv", dates[1], dates[0]);
        assert!(e.check().unwrap_err().to_string().contains("`end`"));
        e = test_on("radio", dates[0], dates[1]);
        let err = resolve(&[e], &["tv".into()], &dates)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a media channel"), "{err}");
    }
}
