//! The per-column summary stored with each version, so that listing a source
//! never decodes its table: type, nulls, and for numbers min, max, mean, sum
//! and the share of zeros (a channel that is often dark, or always on).

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::Float64Type;
use arrow_schema::DataType;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::meta::Roles;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ColumnSummary {
    pub name: String,
    /// `date`, `kpi`, `media`, `exposure`, `controls`, or `extra` for a
    /// column kept without a role.
    pub role: String,
    /// The Arrow type it is stored as.
    pub data_type: String,
    pub nulls: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zero_share: Option<f64>,
}

pub fn summarise(table: &RecordBatch, roles: &Roles) -> Vec<ColumnSummary> {
    let role_of = |name: &str| {
        roles
            .columns()
            .into_iter()
            .find(|(c, _)| *c == name)
            .map_or("extra", |(_, r)| r)
    };
    table
        .schema()
        .fields()
        .iter()
        .zip(table.columns())
        .map(|(field, column)| {
            let mut summary = ColumnSummary {
                name: field.name().clone(),
                role: role_of(field.name()).to_owned(),
                data_type: field.data_type().to_string(),
                nulls: column.null_count(),
                min: None,
                max: None,
                mean: None,
                sum: None,
                zero_share: None,
            };
            if field.data_type() == &DataType::Float64 {
                let values: Vec<f64> = column
                    .as_primitive::<Float64Type>()
                    .iter()
                    .flatten()
                    .collect();
                if !values.is_empty() {
                    let n = values.len() as f64;
                    let sum: f64 = values.iter().sum();
                    summary.min = values.iter().copied().reduce(f64::min);
                    summary.max = values.iter().copied().reduce(f64::max);
                    summary.mean = Some(sum / n);
                    summary.sum = Some(sum);
                    summary.zero_share =
                        Some(values.iter().filter(|v| **v == 0.0).count() as f64 / n);
                }
            }
            summary
        })
        .collect()
}
