//! Marketing data: what an upload declares ([`meta`]), the rules it must
//! pass ([`validate`]), and the canonical table and per-column summary that
//! are stored ([`prepare`]). SQL is in `crate::db::data_sources`, the routes
//! in `crate::http::data` and `crate::http::dashboard`.

pub mod dates;
pub mod meta;
pub mod metrics;
pub mod numbers;
pub mod summary;
pub mod validate;

use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use chrono::NaiveDate;
use sha2::{Digest, Sha256};

pub use meta::{Granularity, Roles, UploadMeta};
pub use summary::ColumnSummary;
pub use validate::{Detail, Findings};

use crate::tables::{TableError, TableFormat, write};

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("the data did not pass validation ({} problems)", .0.total)]
    Invalid(Findings),
    #[error(transparent)]
    Table(#[from] TableError),
}

impl DataError {
    /// The refusal with its rows as the lines of `body`, the CSV they came
    /// from: validation numbers a CSV row as its record's index plus two,
    /// which is its line only while no quoted field spans lines.
    #[must_use]
    pub fn in_file(self, format: TableFormat, body: &[u8]) -> Self {
        match self {
            Self::Invalid(mut found)
                if format == TableFormat::Csv && found.details.iter().any(|d| d.row.is_some()) =>
            {
                let lines = crate::tables::csv::record_lines(body);
                for detail in &mut found.details {
                    let line = detail
                        .row
                        .and_then(|row| row.checked_sub(2))
                        .and_then(|record| lines.get(record));
                    if let Some(&line) = line {
                        detail.row = Some(line);
                    }
                }
                Self::Invalid(found)
            }
            other => other,
        }
    }
}

/// An upload that passed: the canonical table's bytes and what is said of it.
#[derive(Debug)]
pub struct Prepared {
    /// Arrow IPC: the date column as dates, role columns as float64, every
    /// other column as uploaded, rows in the file's order.
    pub content: Vec<u8>,
    pub sha256: String,
    pub granularity: Granularity,
    pub rows: usize,
    pub date_from: NaiveDate,
    pub date_to: NaiveDate,
    pub columns: Vec<ColumnSummary>,
    pub warnings: Vec<String>,
}

/// Validates a parsed upload and builds what is stored. CPU-bound: callers
/// on the runtime run it on the blocking pool.
pub fn prepare(
    batches: Vec<RecordBatch>,
    format: TableFormat,
    meta: &UploadMeta,
) -> Result<Prepared, DataError> {
    let found = validate::check_meta(meta);
    if !found.is_empty() {
        return Err(DataError::Invalid(found));
    }
    let schema = batches.first().ok_or(TableError::NoRows)?.schema();
    let table = arrow_select::concat::concat_batches(&schema, &batches)
        .map_err(|e| TableError::Crashed(e.to_string()))?;
    drop(batches);
    let checked = validate::check(&table, format, meta).map_err(DataError::Invalid)?;
    let canonical = canonical(&table, meta, &checked)?;
    let content = write::ipc(std::slice::from_ref(&canonical))?;
    let mut warnings = checked.warnings.clone();
    if !checked.extra_columns.is_empty() {
        warnings.push(format!(
            "columns kept without a role: {}",
            checked.extra_columns.join(", ")
        ));
    }
    Ok(Prepared {
        sha256: hex(&Sha256::digest(&content)),
        content,
        granularity: checked.granularity,
        rows: canonical.num_rows(),
        date_from: *checked
            .dates
            .iter()
            .min()
            .expect("at least MIN_PERIODS rows"),
        date_to: *checked
            .dates
            .iter()
            .max()
            .expect("at least MIN_PERIODS rows"),
        columns: summary::summarise(&canonical, &meta.roles),
        warnings,
    })
}

fn canonical(
    table: &RecordBatch,
    meta: &UploadMeta,
    checked: &validate::Checked,
) -> Result<RecordBatch, TableError> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (i, field) in table.schema().fields().iter().enumerate() {
        let name = field.name();
        if *name == meta.roles.date {
            let days = checked.dates.iter().map(|d| (*d - epoch).num_days() as i32);
            fields.push(Field::new(name, DataType::Date32, false));
            columns.push(Arc::new(Date32Array::from_iter_values(days)));
        } else if let Some(values) = checked.numbers.get(name) {
            fields.push(Field::new(name, DataType::Float64, true));
            columns.push(Arc::new(values.clone()));
        } else {
            fields.push(field.as_ref().clone());
            columns.push(table.column(i).clone());
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| TableError::Crashed(e.to_string()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests;
