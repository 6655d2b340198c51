//! What the API shows of an experiment, and what an analysis keeps of it.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::experiments::ExperimentRow;

/// A stored lift test.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Experiment {
    pub id: Uuid,
    pub name: Option<String>,
    /// The media column the test moved.
    pub channel: String,
    /// First day of the test, inclusive.
    pub start: NaiveDate,
    /// Last day of the test, inclusive.
    pub end: NaiveDate,
    /// Actual spend minus the spend without the test, over the window
    /// (negative for a holdout).
    pub spend_change: f64,
    /// The KPI change the test measured over the window.
    pub lift: f64,
    /// Standard error of `lift`.
    pub standard_error: f64,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
}

impl From<ExperimentRow> for Experiment {
    fn from(row: ExperimentRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            channel: row.channel,
            start: row.start_date,
            end: row.end_date,
            spend_change: row.spend_change,
            lift: row.lift,
            standard_error: row.standard_error,
            created_by: row.created_by,
            created_at: row.created_at,
        }
    }
}

/// An experiment as an analysis used it: stored with the analysis (so a
/// later deletion changes nothing) and part of its inputs digest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Snapshot {
    pub id: Uuid,
    pub channel: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub spend_change: f64,
    pub lift: f64,
    pub standard_error: f64,
}

impl From<&ExperimentRow> for Snapshot {
    fn from(row: &ExperimentRow) -> Self {
        Self {
            id: row.id,
            channel: row.channel.clone(),
            start: row.start_date,
            end: row.end_date,
            spend_change: row.spend_change,
            lift: row.lift,
            standard_error: row.standard_error,
        }
    }
}

impl From<&Snapshot> for mmm_runtime::Experiment {
    fn from(s: &Snapshot) -> Self {
        Self {
            channel: s.channel.clone(),
            start: s.start.to_string(),
            end: s.end.to_string(),
            spend_change: s.spend_change,
            lift: s.lift,
            standard_error: s.standard_error,
        }
    }
}
