//! The figures a marketing lead wants first, computed from a stored table
//! each time (never a cached copy that could drift from the data): KPI and
//! spend over the whole range and the latest period, the split by channel,
//! and the change from the period before.

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::meta::Roles;

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct PeriodFigures {
    pub period: NaiveDate,
    pub kpi: f64,
    pub spend: f64,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct ChannelFigures {
    pub channel: String,
    pub spend: f64,
    /// Of all spend over the range.
    pub share: f64,
    pub latest_spend: f64,
    /// Relative change of the latest period's spend from the one before; absent without a base.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema, PartialEq)]
pub struct Figures {
    pub kpi_total: f64,
    pub spend_total: f64,
    pub latest: PeriodFigures,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<PeriodFigures>,
    /// Relative change of the latest period's KPI from the one before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kpi_change: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spend_change: Option<f64>,
    pub channels: Vec<ChannelFigures>,
}

/// None when the table is not a canonical one (no dates or no KPI).
pub fn figures(table: &RecordBatch, roles: &Roles) -> Option<Figures> {
    let column = |name: &str| {
        table
            .schema()
            .index_of(name)
            .ok()
            .map(|i| table.column(i).clone())
    };
    let dates: Vec<i32> = column(&roles.date)?
        .as_primitive_opt::<Date32Type>()?
        .values()
        .to_vec();
    let numbers = |name: &str| -> Option<Vec<f64>> {
        let col = column(name)?;
        Some(
            col.as_primitive_opt::<Float64Type>()?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
        )
    };
    let kpi = numbers(&roles.kpi)?;
    let media: BTreeMap<&str, Vec<f64>> = roles
        .media
        .iter()
        .filter_map(|m| Some((m.as_str(), numbers(m)?)))
        .collect();
    let mut periods: Vec<i32> = dates.clone();
    periods.sort_unstable();
    periods.dedup();
    let latest = *periods.last()?;
    let previous = periods.len().checked_sub(2).map(|i| periods[i]);
    let in_period = |values: &[f64], day: i32| -> f64 {
        dates
            .iter()
            .zip(values)
            .filter(|(d, _)| **d == day)
            .map(|(_, v)| v)
            .sum()
    };
    let spend_in = |day: i32| media.values().map(|v| in_period(v, day)).sum::<f64>();
    let at = |day: i32| PeriodFigures {
        period: NaiveDate::from_num_days_from_ce_opt(day + 719_163).unwrap_or_default(),
        kpi: in_period(&kpi, day),
        spend: spend_in(day),
    };
    let change = |now: f64, before: f64| (before != 0.0).then(|| (now - before) / before);
    let spend_total: f64 = media.values().flatten().sum();
    let channels = media
        .iter()
        .map(|(name, values)| {
            let spend: f64 = values.iter().sum();
            let latest_spend = in_period(values, latest);
            ChannelFigures {
                channel: (*name).to_owned(),
                spend,
                share: if spend_total > 0.0 {
                    spend / spend_total
                } else {
                    0.0
                },
                latest_spend,
                change: previous.and_then(|p| change(latest_spend, in_period(values, p))),
            }
        })
        .collect();
    let latest_figures = at(latest);
    let previous_figures = previous.map(at);
    Some(Figures {
        kpi_total: kpi.iter().sum(),
        spend_total,
        kpi_change: previous_figures
            .as_ref()
            .and_then(|p| change(latest_figures.kpi, p.kpi)),
        spend_change: previous_figures
            .as_ref()
            .and_then(|p| change(latest_figures.spend, p.spend)),
        latest: latest_figures,
        previous: previous_figures,
        channels,
    })
}
