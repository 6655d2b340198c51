//! `POST /tenant/experiments`: the body, its ranges, and the check against
//! the tenant's data (the channel is a media column of some data source,
//! and the test's dates overlap that source's).

use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::ToSchema;

use super::ExperimentError;
use crate::db::TenantTx;
use crate::db::experiments;

/// Largest spend change accepted, as for recommendation budgets.
const MAX_SPEND: f64 = 1e13;
/// Largest lift or standard error accepted, in KPI units.
const MAX_KPI: f64 = 1e15;
/// Longest name or channel accepted, in characters.
const MAX_TEXT: usize = 200;

/// A lift test: over `start..=end` the channel's spend changed by
/// `spend_change` and the KPI changed by `lift` (within `standard_error`).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExperimentRequest {
    /// A label of one's own (`"Q2 TV geo holdout"`).
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// A media column of one of the tenant's data sources.
    #[schema(min_length = 1, max_length = 200)]
    pub channel: String,
    /// First day of the test, inclusive.
    pub start: NaiveDate,
    /// Last day of the test, inclusive; not before `start`.
    pub end: NaiveDate,
    /// Actual spend minus the spend without the test, over the whole
    /// window: negative for a holdout or a go-dark test; not zero.
    #[schema(minimum = -1e13, maximum = 1e13)]
    pub spend_change: f64,
    /// The KPI change the test measured over the window (same sign
    /// convention: a holdout that cost sales has a negative lift).
    #[schema(minimum = -1e15, maximum = 1e15)]
    pub lift: f64,
    /// Standard error of `lift`, in KPI units.
    #[schema(exclusive_minimum = 0, maximum = 1e15)]
    pub standard_error: f64,
}

/// A request that passed every check, ready to store.
#[derive(Debug, Clone)]
pub struct NewExperiment {
    pub name: Option<String>,
    pub channel: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub spend_change: f64,
    pub lift: f64,
    pub standard_error: f64,
}

fn invalid(field: &str, message: impl Into<String>) -> ExperimentError {
    ExperimentError::Invalid {
        field: field.to_owned(),
        message: format!("`{field}` {}", message.into()),
    }
}

impl ExperimentRequest {
    /// The checks that need no data: lengths, order of the dates, ranges.
    pub fn check(self) -> Result<NewExperiment, ExperimentError> {
        if let Some(name) = &self.name
            && name.chars().count() > MAX_TEXT
        {
            return Err(invalid(
                "name",
                format!("is longer than {MAX_TEXT} characters"),
            ));
        }
        let channel = self.channel.trim();
        if channel.is_empty() || channel.chars().count() > MAX_TEXT {
            return Err(invalid(
                "channel",
                format!("must have 1 to {MAX_TEXT} characters"),
            ));
        }
        if self.end < self.start {
            return Err(invalid(
                "end",
                format!("({}) is before `start` ({})", self.end, self.start),
            ));
        }
        if !(self.spend_change.is_finite() && self.spend_change.abs() <= MAX_SPEND)
            || self.spend_change == 0.0
        {
            return Err(invalid(
                "spend_change",
                format!("must be a non-zero amount from -{MAX_SPEND:e} to {MAX_SPEND:e}"),
            ));
        }
        if !(self.lift.is_finite() && self.lift.abs() <= MAX_KPI) {
            return Err(invalid(
                "lift",
                format!("must be a number from -{MAX_KPI:e} to {MAX_KPI:e}"),
            ));
        }
        if !(self.standard_error.is_finite()
            && self.standard_error > 0.0
            && self.standard_error <= MAX_KPI)
        {
            return Err(invalid(
                "standard_error",
                format!("must be a positive number up to {MAX_KPI:e}"),
            ));
        }
        Ok(NewExperiment {
            name: self.name,
            channel: channel.to_owned(),
            start: self.start,
            end: self.end,
            spend_change: self.spend_change,
            lift: self.lift,
            standard_error: self.standard_error,
        })
    }
}

impl NewExperiment {
    /// A test a model could use: its channel is a media column of one of
    /// the tenant's data sources, and its dates overlap that source's.
    pub async fn check_against_data(&self, tx: &mut TenantTx) -> Result<(), ExperimentError> {
        let coverage = experiments::channel_coverage(tx, &self.channel).await?;
        if coverage.is_empty() {
            return Err(ExperimentError::UnknownChannel {
                field: "channel".into(),
                message: format!(
                    "`channel`: no data source of this tenant has `{}` as a media column",
                    self.channel
                ),
            });
        }
        if !coverage
            .iter()
            .any(|(from, to)| self.start <= *to && self.end >= *from)
        {
            let ranges: Vec<String> = coverage
                .iter()
                .map(|(f, t)| format!("{f} to {t}"))
                .collect();
            return Err(ExperimentError::OutsideData {
                field: "start".into(),
                message: format!(
                    "`start`..`end` ({} to {}) lies outside every data source with `{}` ({})",
                    self.start,
                    self.end,
                    self.channel,
                    ranges.join(", ")
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ExperimentRequest {
        ExperimentRequest {
            name: None,
            channel: "tv".into(),
            start: NaiveDate::from_ymd_opt(2024, 3, 4).unwrap(),
            end: NaiveDate::from_ymd_opt(2024, 3, 31).unwrap(),
            spend_change: -40_000.0,
            lift: -90_000.0,
            standard_error: 20_000.0,
        }
    }

    fn field_of(r: ExperimentRequest) -> String {
        match r.check() {
            Err(ExperimentError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_holdout_passes() {
        let new = request().check().unwrap();
        assert_eq!(new.channel, "tv");
    }

    #[test]
    fn each_bad_value_names_its_field() {
        let mut r = request();
        r.standard_error = -1.0;
        assert_eq!(field_of(r), "standard_error");
        let mut r = request();
        r.standard_error = 0.0;
        assert_eq!(field_of(r), "standard_error");
        let mut r = request();
        r.end = NaiveDate::from_ymd_opt(2024, 3, 1).unwrap();
        assert_eq!(field_of(r), "end");
        let mut r = request();
        r.spend_change = 0.0;
        assert_eq!(field_of(r), "spend_change");
        let mut r = request();
        r.lift = 2e15;
        assert_eq!(field_of(r), "lift");
        let mut r = request();
        r.channel = "  ".into();
        assert_eq!(field_of(r), "channel");
        let mut r = request();
        r.name = Some("x".repeat(201));
        assert_eq!(field_of(r), "name");
    }
}
