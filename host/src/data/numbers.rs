//! Role columns as numbers: typed numeric columns as they are, text columns
//! (CSV inference keeps a column as text when one cell is not a number)
//! cell by cell, so that the cells that are not numbers can be named.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, Float64Array};
use arrow_schema::DataType;

/// The values (null where empty), or each cell that is not a finite number
/// with its text. A float64 column is shared, not copied.
pub fn to_f64(column: &ArrayRef) -> Result<Float64Array, Vec<(usize, String)>> {
    macro_rules! cast {
        ($t:ty) => {
            column
                .as_primitive::<$t>()
                .iter()
                .map(|v| v.map(|v| v as f64))
                .collect::<Float64Array>()
        };
    }
    let values: Float64Array = match column.data_type() {
        DataType::Float64 => column.as_primitive::<Float64Type>().clone(),
        DataType::Float32 => cast!(Float32Type),
        DataType::Int8 => cast!(Int8Type),
        DataType::Int16 => cast!(Int16Type),
        DataType::Int32 => cast!(Int32Type),
        DataType::Int64 => cast!(Int64Type),
        DataType::UInt8 => cast!(UInt8Type),
        DataType::UInt16 => cast!(UInt16Type),
        DataType::UInt32 => cast!(UInt32Type),
        DataType::UInt64 => cast!(UInt64Type),
        DataType::Null => Float64Array::new_null(column.len()),
        DataType::Utf8 => return parse(column.as_string::<i32>().iter()),
        DataType::LargeUtf8 => return parse(column.as_string::<i64>().iter()),
        other => return Err(vec![(0, format!("a {other} column"))]),
    };
    let bad: Vec<(usize, String)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|v| !v.is_finite()).map(|v| (i, v.to_string())))
        .collect();
    if bad.is_empty() { Ok(values) } else { Err(bad) }
}

fn parse<'a>(
    cells: impl Iterator<Item = Option<&'a str>>,
) -> Result<Float64Array, Vec<(usize, String)>> {
    let mut values = Vec::new();
    let mut bad = Vec::new();
    for (i, cell) in cells.enumerate() {
        match cell.map(str::trim).filter(|c| !c.is_empty()) {
            None => values.push(None),
            Some(text) => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => values.push(Some(v)),
                _ => bad.push((i, text.to_owned())),
            },
        }
    }
    if bad.is_empty() {
        Ok(Float64Array::from(values))
    } else {
        Err(bad)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray};

    use super::*;

    #[test]
    fn numbers_are_read_and_non_numbers_named() {
        let ints: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
        assert_eq!(
            to_f64(&ints).unwrap(),
            Float64Array::from(vec![Some(1.0), None])
        );
        let text: ArrayRef = Arc::new(StringArray::from(vec!["1.5", "", "n/a", "inf"]));
        assert_eq!(
            to_f64(&text).unwrap_err(),
            vec![(2, "n/a".to_owned()), (3, "inf".to_owned())]
        );
    }
}
