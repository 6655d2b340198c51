//! Spend allocations → one `predict` call on the analysis's stored artifact
//! → each allocation's contributions, through the SDK's scenario contract
//! (`mmm_sdk::scenarios`) and nothing model-specific.

use bytes::Bytes;
use chrono::NaiveDate;
use mmm_runtime::{CallOptions, LoadedPlugin};
use mmm_sdk::Table;
use mmm_sdk::scenarios::{
    INTERVAL_COLUMN, SCENARIO_COLUMN, contribution_column, high_column, low_column,
};

use super::RecommendationError;
use crate::plugins::Plugins;

/// Which scenario form the horizon takes.
#[derive(Debug, Clone)]
pub enum Form {
    /// One row per allocation: the horizon is the analysed history.
    Totals,
    /// One row per period and allocation.
    PerPeriod {
        date_column: String,
        dates: Vec<NaiveDate>,
        /// Per channel, the share of its total in each period.
        patterns: Vec<Vec<f64>>,
    },
}

/// The model, its artifact and how to call it.
#[derive(Clone)]
pub struct Predictor {
    pub plugins: Plugins,
    pub plugin: LoadedPlugin,
    pub artifact: Bytes,
    pub options: CallOptions,
    pub kpi: String,
    pub channels: Vec<String>,
    pub form: Form,
}

/// Per allocation, per channel: the contribution over the horizon and its interval.
#[derive(Debug, Clone, Default)]
pub struct Predicted {
    pub contribution: Vec<Vec<f64>>,
    pub low: Vec<Vec<f64>>,
    pub high: Vec<Vec<f64>>,
    /// The total media contribution's interval (from the KPI's), per allocation.
    pub total_low: Vec<f64>,
    pub total_high: Vec<f64>,
}

impl Predicted {
    pub fn total(&self, s: usize) -> f64 {
        self.contribution[s].iter().sum()
    }
}

impl Predictor {
    /// Scores allocations; `intervals[s]` asks for allocation `s`'s interval
    /// (the optimiser's thousands of points need none).
    pub async fn predict(
        &self,
        allocations: &[Vec<f64>],
        intervals: &[bool],
    ) -> Result<Predicted, RecommendationError> {
        let (table, rows_per) = self.table(allocations, intervals)?;
        let answer = self
            .plugins
            .runtime()
            .predict(
                &self.plugin,
                self.artifact.clone(),
                table,
                self.options.clone(),
            )
            .await
            .map_err(RecommendationError::Predict)?;
        self.read(answer, allocations.len(), rows_per)
    }

    fn table(
        &self,
        allocations: &[Vec<f64>],
        intervals: &[bool],
    ) -> Result<(Vec<u8>, usize), RecommendationError> {
        let internal = |e: mmm_sdk::Error| RecommendationError::Internal(e.into());
        let mut table = Table::new();
        let flag = |s: usize| {
            if intervals.get(s).copied().unwrap_or(false) {
                1.0
            } else {
                0.0
            }
        };
        let rows_per = match &self.form {
            Form::Totals => {
                for (c, name) in self.channels.iter().enumerate() {
                    table
                        .set_f64(name, allocations.iter().map(|a| a[c]).collect())
                        .map_err(internal)?;
                }
                table
                    .set_f64(INTERVAL_COLUMN, (0..allocations.len()).map(flag).collect())
                    .map_err(internal)?;
                1
            }
            Form::PerPeriod {
                date_column,
                dates,
                patterns,
            } => {
                let h = dates.len();
                let dates: Vec<NaiveDate> = (0..allocations.len())
                    .flat_map(|_| dates.iter().copied())
                    .collect();
                table.set_dates(date_column, &dates).map_err(internal)?;
                for (c, name) in self.channels.iter().enumerate() {
                    let spend = allocations
                        .iter()
                        .flat_map(|a| patterns[c].iter().map(move |p| a[c] * p))
                        .collect();
                    table.set_f64(name, spend).map_err(internal)?;
                }
                let ids = (0..allocations.len()).flat_map(|s| std::iter::repeat_n(s as f64, h));
                table
                    .set_f64(SCENARIO_COLUMN, ids.collect())
                    .map_err(internal)?;
                let flags = (0..allocations.len()).flat_map(|s| std::iter::repeat_n(flag(s), h));
                table
                    .set_f64(INTERVAL_COLUMN, flags.collect())
                    .map_err(internal)?;
                h
            }
        };
        Ok((table.into_ipc().map_err(internal)?, rows_per))
    }

    /// Sums each allocation's rows. A missing point column breaks the
    /// contract (the model's fault); missing intervals mean a certain point.
    fn read(
        &self,
        answer: Vec<u8>,
        count: usize,
        rows_per: usize,
    ) -> Result<Predicted, RecommendationError> {
        let contract = |m: String| RecommendationError::ModelContract(m);
        let table = Table::from_ipc(answer)
            .map_err(|e| contract(format!("predict's answer is not a table: {e}")))?;
        if table.num_rows() != count * rows_per {
            return Err(contract(format!(
                "predict answered {} rows for {} scenario rows",
                table.num_rows(),
                count * rows_per
            )));
        }
        let sums = |values: &[f64]| -> Vec<f64> {
            values.chunks(rows_per).map(|c| c.iter().sum()).collect()
        };
        let column = |name: &str| -> Result<Option<Vec<f64>>, RecommendationError> {
            if !table.has_column(name) {
                return Ok(None);
            }
            let v = table
                .to_f64_vec(name)
                .map_err(|e| contract(format!("predict's `{name}`: {e}")))?;
            if v.iter().any(|x| !x.is_finite()) {
                return Err(contract(format!(
                    "predict's `{name}` holds a value that is not a finite number"
                )));
            }
            Ok(Some(sums(&v)))
        };
        let mut out = Predicted::default();
        let mut per_channel = Vec::with_capacity(self.channels.len());
        for name in &self.channels {
            let col = contribution_column(name);
            let point =
                column(&col)?.ok_or_else(|| contract(format!("predict's answer lacks `{col}`")))?;
            let low = column(&low_column(&col))?.unwrap_or_else(|| point.clone());
            let high = column(&high_column(&col))?.unwrap_or_else(|| point.clone());
            per_channel.push((point, low, high));
        }
        let kpi = column(&self.kpi)?;
        let kpi_low = column(&low_column(&self.kpi))?;
        let kpi_high = column(&high_column(&self.kpi))?;
        for s in 0..count {
            let point: Vec<f64> = per_channel.iter().map(|p| p.0[s]).collect();
            let total: f64 = point.iter().sum();
            // The KPI's interval, moved onto the media total (the baseline does not move with spend).
            let shift = |bound: &Option<Vec<f64>>| match (&kpi, bound) {
                (Some(k), Some(b)) => total + (b[s] - k[s]),
                _ => total,
            };
            out.total_low.push(shift(&kpi_low).min(total));
            out.total_high.push(shift(&kpi_high).max(total));
            out.low
                .push(per_channel.iter().map(|p| p.1[s].min(p.0[s])).collect());
            out.high
                .push(per_channel.iter().map(|p| p.2[s].max(p.0[s])).collect());
            out.contribution.push(point);
        }
        Ok(out)
    }
}
