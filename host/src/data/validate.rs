//! The rules an upload must pass before it is stored. Every rule that fails
//! says where (row as in the user's file, column, the value) and why; a
//! rejected upload stores nothing.

use std::collections::{BTreeMap, BTreeSet};

use arrow_array::{ArrayRef, Float64Array, RecordBatch};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::meta::{Granularity, UploadMeta};
use super::{dates, numbers};
use crate::tables::TableFormat;

/// Fewer periods than this cannot be modeled at all.
pub const MIN_PERIODS: usize = 10;
/// Details listed in one answer; the rest are counted.
pub const MAX_DETAILS: usize = 100;

/// One reason an upload was refused.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct Detail {
    /// The row as in the file: the line of a CSV (the header is line 1), the
    /// 1-based row of Parquet and Arrow. Absent for whole-column reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub reason: String,
}

/// The reasons, the first [`MAX_DETAILS`] of them kept.
#[derive(Debug, Default)]
pub struct Findings {
    pub details: Vec<Detail>,
    pub total: usize,
}

impl Findings {
    fn add(
        &mut self,
        row: Option<usize>,
        column: &str,
        value: Option<String>,
        reason: impl Into<String>,
    ) {
        self.total += 1;
        if self.details.len() < MAX_DETAILS {
            self.details.push(Detail {
                row,
                column: (!column.is_empty()).then(|| column.to_owned()),
                value,
                reason: reason.into(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// The table as it passed the rules: dates and numbers of every role column.
pub struct Checked {
    pub dates: Vec<NaiveDate>,
    pub numbers: BTreeMap<String, Float64Array>,
    pub granularity: Granularity,
    pub warnings: Vec<String>,
    pub extra_columns: Vec<String>,
}

/// Checks the declarations against each other, before the file is looked at.
pub fn check_meta(meta: &UploadMeta) -> Findings {
    let mut found = Findings::default();
    let name = meta.name.trim();
    if name.is_empty() || meta.name.chars().count() > 100 {
        found.add(None, "", None, "name: must be 1 to 100 characters");
    }
    if let Some(currency) = &meta.currency
        && !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()))
    {
        found.add(
            None,
            "",
            Some(currency.clone()),
            "currency: must be a three-letter ISO 4217 code such as EUR",
        );
    }
    if meta.roles.media.is_empty() {
        found.add(
            None,
            "",
            None,
            "roles.media: name at least one spend column",
        );
    }
    let mut seen = BTreeSet::new();
    for (column, role) in meta.roles.columns() {
        if column.trim().is_empty() {
            found.add(
                None,
                "",
                None,
                format!("roles.{role}: a column name is empty"),
            );
        } else if !seen.insert(column) {
            found.add(None, column, None, "the column is given more than one role");
        }
    }
    for (exposure, media) in &meta.roles.exposure {
        if !meta.roles.media.contains(media) {
            found.add(
                None,
                exposure,
                Some(media.clone()),
                "roles.exposure: pairs with a column that is not a media column",
            );
        }
    }
    found
}

/// Runs every rule over the table; answers what passed, or every reason it did not.
pub fn check(
    table: &RecordBatch,
    format: TableFormat,
    meta: &UploadMeta,
) -> Result<Checked, Findings> {
    let mut found = Findings::default();
    let schema = table.schema();
    let column = |name: &str| schema.index_of(name).ok().map(|i| table.column(i).clone());
    for (name, role) in meta.roles.columns() {
        if column(name).is_none() {
            found.add(
                None,
                name,
                None,
                format!("declared as {role}, but the file has no such column"),
            );
        }
    }
    if !found.is_empty() {
        return Err(found);
    }
    let row = |i: usize| Some(format.file_row(i));
    for (i, field) in schema.fields().iter().enumerate() {
        if is_empty(table.column(i)) {
            found.add(None, field.name(), None, "the column is entirely empty");
        }
    }
    let date_column = column(&meta.roles.date).expect("checked above");
    let dates = read_dates(&date_column, &meta.roles.date, row, &mut found);
    let numbers = read_numbers(meta, &column, row, &mut found);
    check_values(meta, &numbers, row, &mut found);
    let mut warnings = Vec::new();
    let granularity = dates
        .as_ref()
        .and_then(|dates| check_periods(dates, meta, row, &mut found, &mut warnings));
    let roles: BTreeSet<&str> = meta.roles.columns().into_iter().map(|(c, _)| c).collect();
    let extra_columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .filter(|n| !roles.contains(n.as_str()))
        .collect();
    match (dates, granularity) {
        (Some(dates), Some(granularity)) if found.is_empty() => Ok(Checked {
            dates,
            numbers,
            granularity,
            warnings,
            extra_columns,
        }),
        _ => Err(found),
    }
}

/// No value in any row: all null, or (text columns) all blank.
fn is_empty(column: &ArrayRef) -> bool {
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_schema::DataType;
    let blank = |v: Option<&str>| v.is_none_or(|s| s.trim().is_empty());
    match column.data_type() {
        DataType::Utf8 => column.as_string::<i32>().iter().all(blank),
        DataType::LargeUtf8 => column.as_string::<i64>().iter().all(blank),
        _ => column.logical_null_count() == column.len(),
    }
}

fn read_dates(
    column: &ArrayRef,
    name: &str,
    row: impl Fn(usize) -> Option<usize>,
    found: &mut Findings,
) -> Option<Vec<NaiveDate>> {
    match dates::parse(column) {
        Ok(values) => {
            let mut dates = Vec::with_capacity(values.len());
            for (i, value) in values.into_iter().enumerate() {
                match value {
                    Some(date) => dates.push(date),
                    None => found.add(row(i), name, None, "the date is empty"),
                }
            }
            (dates.len() == column.len()).then_some(dates)
        }
        Err(bad) => {
            for (i, text) in bad {
                let reason = format!(
                    "not a date in one of the accepted formats ({})",
                    dates::TEXT_FORMATS.join(", ")
                );
                found.add(row(i), name, Some(text), reason);
            }
            None
        }
    }
}

fn read_numbers(
    meta: &UploadMeta,
    column: &impl Fn(&str) -> Option<ArrayRef>,
    row: impl Fn(usize) -> Option<usize>,
    found: &mut Findings,
) -> BTreeMap<String, Float64Array> {
    let mut out = BTreeMap::new();
    for (name, _) in meta.roles.columns().into_iter().skip(1) {
        match numbers::to_f64(&column(name).expect("checked above")) {
            Ok(values) => {
                out.insert(name.to_owned(), values);
            }
            Err(bad) => {
                for (i, text) in bad {
                    found.add(row(i), name, Some(text), "not a number");
                }
            }
        }
    }
    out
}

fn check_values(
    meta: &UploadMeta,
    numbers: &BTreeMap<String, Float64Array>,
    row: impl Fn(usize) -> Option<usize>,
    found: &mut Findings,
) {
    let spend = meta.roles.media.iter().chain(meta.roles.exposure.keys());
    for name in spend {
        let Some(values) = numbers.get(name) else {
            continue;
        };
        for (i, v) in values.iter().enumerate() {
            if let Some(v) = v.filter(|v| *v < 0.0) {
                found.add(
                    row(i),
                    name,
                    Some(v.to_string()),
                    "spend and exposure are never negative",
                );
            }
        }
    }
    if let Some(kpi) = numbers.get(&meta.roles.kpi) {
        let mut present = kpi.iter().flatten();
        if let Some(first) = present.next()
            && present.all(|v| v == first)
        {
            found.add(
                None,
                &meta.roles.kpi,
                Some(first.to_string()),
                "the KPI is constant: nothing to explain",
            );
        }
    }
}

/// Duplicates, gaps, the granularity and the number of periods.
fn check_periods(
    dates: &[NaiveDate],
    meta: &UploadMeta,
    row: impl Fn(usize) -> Option<usize>,
    found: &mut Findings,
    warnings: &mut Vec<String>,
) -> Option<Granularity> {
    let name = meta.roles.date.as_str();
    let mut order: Vec<usize> = (0..dates.len()).collect();
    order.sort_by_key(|&i| (dates[i], i));
    let mut sorted: Vec<NaiveDate> = order.iter().map(|&i| dates[i]).collect();
    sorted.dedup();
    let Some(granularity) = meta.granularity.or_else(|| dates::infer(&sorted)) else {
        found.add(
            None,
            name,
            None,
            "the granularity cannot be inferred from the dates: declare daily, weekly or monthly",
        );
        return None;
    };
    let mut first_row: BTreeMap<NaiveDate, usize> = BTreeMap::new();
    for &i in &order {
        let period = dates::period(dates[i], granularity);
        if let Some(&first) = first_row.get(&period) {
            let reason = format!(
                "a second row for the period of row {}",
                row(first).unwrap_or(0)
            );
            found.add(row(i), name, Some(dates[i].to_string()), reason);
        } else {
            first_row.insert(period, i);
        }
    }
    let periods: Vec<NaiveDate> = first_row.keys().copied().collect();
    for pair in periods.windows(2) {
        if dates::period(dates::next(pair[0], granularity), granularity) != pair[1] {
            let reason = format!(
                "{} periods jump from {} to {}",
                granularity.as_str(),
                pair[0],
                pair[1]
            );
            if meta.allow_gaps {
                warnings.push(format!("gap: {reason}"));
            } else {
                found.add(
                    None,
                    name,
                    Some(pair[1].to_string()),
                    format!("a gap: {reason} (set allow_gaps to accept gaps)"),
                );
            }
        }
    }
    if periods.len() < MIN_PERIODS {
        found.add(
            None,
            name,
            Some(periods.len().to_string()),
            format!(
                "{} periods; at least {MIN_PERIODS} are needed to fit a model",
                periods.len()
            ),
        );
    } else if periods.len() < granularity.per_year() {
        warnings.push(format!(
            "{} periods is less than a year of {} data: seasonality cannot be estimated",
            periods.len(),
            granularity.as_str()
        ));
    }
    Some(granularity)
}
