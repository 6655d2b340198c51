//! The period column: dates as typed columns (what CSV inference and Parquet
//! give for ISO dates) or as text in the formats marketing exports use, and
//! the granularity the periods follow.

use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Date64Type};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, Datelike, NaiveDate};

use super::meta::Granularity;

/// Text formats tried in order; a column uses the first that reads every
/// non-empty cell. Month-first US dates win over day-first when both read.
pub const TEXT_FORMATS: [&str; 7] = [
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y",
];

/// The column's dates (None where a cell is empty), or the rows that are
/// not dates in any one format, with their text.
pub fn parse(column: &ArrayRef) -> Result<Vec<Option<NaiveDate>>, Vec<(usize, String)>> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    let days = |d: i64| epoch.checked_add_signed(chrono::Duration::days(d));
    match column.data_type() {
        DataType::Date32 => Ok(column
            .as_primitive::<Date32Type>()
            .iter()
            .map(|v| v.and_then(|d| days(d.into())))
            .collect()),
        DataType::Date64 => Ok(column
            .as_primitive::<Date64Type>()
            .iter()
            .map(|v| v.and_then(|ms| days(ms.div_euclid(86_400_000))))
            .collect()),
        DataType::Timestamp(unit, _) => {
            let per_day: i64 = match unit {
                TimeUnit::Second => 86_400,
                TimeUnit::Millisecond => 86_400_000,
                TimeUnit::Microsecond => 86_400_000_000,
                TimeUnit::Nanosecond => 86_400_000_000_000,
            };
            let values = timestamps(column, unit);
            Ok(values
                .into_iter()
                .map(|v| v.and_then(|t| days(t.div_euclid(per_day))))
                .collect())
        }
        DataType::Utf8 | DataType::LargeUtf8 => parse_text(column),
        _ => Err(vec![(0, format!("a {} column", column.data_type()))]),
    }
}

fn timestamps(column: &ArrayRef, unit: &TimeUnit) -> Vec<Option<i64>> {
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
        TimestampSecondType,
    };
    match unit {
        TimeUnit::Second => column
            .as_primitive::<TimestampSecondType>()
            .iter()
            .collect(),
        TimeUnit::Millisecond => column
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .collect(),
        TimeUnit::Microsecond => column
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .collect(),
        TimeUnit::Nanosecond => column
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .collect(),
    }
}

fn texts(column: &ArrayRef) -> Vec<Option<&str>> {
    match column.data_type() {
        DataType::LargeUtf8 => column.as_string::<i64>().iter().collect(),
        _ => column.as_string::<i32>().iter().collect(),
    }
}

fn parse_text(column: &ArrayRef) -> Result<Vec<Option<NaiveDate>>, Vec<(usize, String)>> {
    let cells: Vec<Option<&str>> = texts(column)
        .into_iter()
        .map(|c| c.map(str::trim).filter(|c| !c.is_empty()))
        .collect();
    let read = |cell: &str, format: &str| {
        NaiveDate::parse_from_str(cell, format)
            .ok()
            .or_else(|| {
                DateTime::parse_from_rfc3339(cell)
                    .ok()
                    .map(|t| t.date_naive())
            })
            .or_else(|| {
                let day = cell.split(['T', ' ']).next()?;
                (day.len() < cell.len())
                    .then(|| NaiveDate::parse_from_str(day, format).ok())
                    .flatten()
            })
    };
    let mut best: Option<(usize, &str)> = None;
    for format in TEXT_FORMATS {
        let failures = cells
            .iter()
            .filter(|c| c.is_some_and(|c| read(c, format).is_none()))
            .count();
        if failures == 0 {
            return Ok(cells
                .iter()
                .map(|c| c.and_then(|c| read(c, format)))
                .collect());
        }
        if best.is_none_or(|(f, _)| failures < f) {
            best = Some((failures, format));
        }
    }
    let (_, format) = best.expect("formats are tried");
    Err(cells
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.filter(|c| read(c, format).is_none())
                .map(|c| (i, c.to_owned()))
        })
        .collect())
}

/// The granularity the typical step between sorted distinct dates says.
pub fn infer(sorted: &[NaiveDate]) -> Option<Granularity> {
    let mut steps: Vec<i64> = sorted
        .windows(2)
        .map(|w| (w[1] - w[0]).num_days())
        .filter(|d| *d > 0)
        .collect();
    if steps.is_empty() {
        return None;
    }
    steps.sort_unstable();
    match steps[steps.len() / 2] {
        1 => Some(Granularity::Daily),
        7 => Some(Granularity::Weekly),
        28..=31 => Some(Granularity::Monthly),
        _ => None,
    }
}

/// The period a date falls in (months are their first day), so that two
/// dates of one month are duplicates in monthly data.
pub fn period(date: NaiveDate, granularity: Granularity) -> NaiveDate {
    match granularity {
        Granularity::Monthly => date.with_day(1).expect("day 1 exists"),
        _ => date,
    }
}

/// The period after `date`'s.
pub fn next(date: NaiveDate, granularity: Granularity) -> NaiveDate {
    match granularity {
        Granularity::Daily => date + chrono::Duration::days(1),
        Granularity::Weekly => date + chrono::Duration::days(7),
        Granularity::Monthly => {
            let first = period(date, granularity);
            first
                .checked_add_months(chrono::Months::new(1))
                .unwrap_or(first)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Date32Array, StringArray};

    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn text_dates_use_one_format_for_the_whole_column() {
        let us: ArrayRef = Arc::new(StringArray::from(vec!["01/31/2024", "02/07/2024", ""]));
        assert_eq!(
            parse(&us).unwrap(),
            vec![Some(ymd(2024, 1, 31)), Some(ymd(2024, 2, 7)), None]
        );
        let eu: ArrayRef = Arc::new(StringArray::from(vec!["31.01.2024", "07.02.2024"]));
        assert_eq!(parse(&eu).unwrap()[0], Some(ymd(2024, 1, 31)));
        let stamps: ArrayRef = Arc::new(StringArray::from(vec![
            "2024-01-01T00:00:00Z",
            "2024-01-08 00:00:00",
        ]));
        assert_eq!(parse(&stamps).unwrap()[1], Some(ymd(2024, 1, 8)));
        let bad: ArrayRef = Arc::new(StringArray::from(vec!["2024-01-01", "soon", "2024-01-15"]));
        assert_eq!(parse(&bad).unwrap_err(), vec![(1, "soon".to_owned())]);
        let typed: ArrayRef = Arc::new(Date32Array::from(vec![19_723]));
        assert_eq!(parse(&typed).unwrap(), vec![Some(ymd(2024, 1, 1))]);
    }

    #[test]
    fn granularity_is_the_typical_step() {
        let weeks: Vec<_> = (0..10)
            .map(|i| ymd(2024, 1, 1) + chrono::Duration::days(7 * i))
            .collect();
        assert_eq!(infer(&weeks), Some(Granularity::Weekly));
        let months: Vec<_> = (1..=6).map(|m| ymd(2024, m, 1)).collect();
        assert_eq!(infer(&months), Some(Granularity::Monthly));
        assert_eq!(infer(&[ymd(2024, 1, 1)]), None);
        assert_eq!(
            next(ymd(2024, 1, 31), Granularity::Monthly),
            ymd(2024, 2, 1)
        );
    }
}
