//! Conversions between Arrow arrays and the `f64` / date views authors work with.
//!
//! Missing values read as NaN and NaN writes back as missing, the convention
//! of pandas and R that MMM authors already think in.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::temporal_conversions::as_date;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Date64Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_schema::{DataType, TimeUnit};
use chrono::NaiveDate;

/// Whether the author-facing API treats this type as a numeric column.
pub(crate) fn is_numeric(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Float64
            | DataType::Float32
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64
    )
}

/// Whether the type holds dates or timestamps.
pub(crate) fn is_temporal(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

fn primitive_to_f64<T>(array: &dyn Array, to_f64: impl Fn(T::Native) -> f64) -> Vec<f64>
where
    T: ArrowPrimitiveType,
{
    let array = array.as_primitive::<T>();
    match array.nulls() {
        None => array.values().iter().map(|v| to_f64(*v)).collect(),
        Some(_) => array.iter().map(|v| v.map_or(f64::NAN, &to_f64)).collect(),
    }
}

/// Copies a numeric array into `f64`s, missing values as NaN; `None` if not numeric.
pub(crate) fn to_f64_vec(array: &dyn Array) -> Option<Vec<f64>> {
    // Casting wide integers to f64 may round; MMM series are far below 2^53.
    #[allow(clippy::cast_precision_loss)]
    let values = match array.data_type() {
        DataType::Float64 => primitive_to_f64::<Float64Type>(array, |v| v),
        DataType::Float32 => primitive_to_f64::<Float32Type>(array, f64::from),
        DataType::Int8 => primitive_to_f64::<Int8Type>(array, f64::from),
        DataType::Int16 => primitive_to_f64::<Int16Type>(array, f64::from),
        DataType::Int32 => primitive_to_f64::<Int32Type>(array, f64::from),
        DataType::Int64 => primitive_to_f64::<Int64Type>(array, |v| v as f64),
        DataType::UInt8 => primitive_to_f64::<UInt8Type>(array, f64::from),
        DataType::UInt16 => primitive_to_f64::<UInt16Type>(array, f64::from),
        DataType::UInt32 => primitive_to_f64::<UInt32Type>(array, f64::from),
        DataType::UInt64 => primitive_to_f64::<UInt64Type>(array, |v| v as f64),
        _ => return None,
    };
    Some(values)
}

fn f64_to_primitive<T>(values: &[f64], from_f64: impl Fn(f64) -> T::Native) -> ArrayRef
where
    T: ArrowPrimitiveType,
{
    let array: PrimitiveArray<T> = if values.iter().any(|v| v.is_nan()) {
        values
            .iter()
            .map(|v| (!v.is_nan()).then(|| from_f64(*v)))
            .collect()
    } else {
        PrimitiveArray::from_iter_values(values.iter().map(|v| from_f64(*v)))
    };
    Arc::new(array)
}

/// Builds an array of numeric type `dt` from `f64`s, NaN as missing.
/// Integer types round to nearest and saturate at their bounds.
pub(crate) fn from_f64(values: &[f64], dt: &DataType) -> ArrayRef {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    match dt {
        DataType::Float32 => f64_to_primitive::<Float32Type>(values, |v| v as f32),
        DataType::Int8 => f64_to_primitive::<Int8Type>(values, |v| v.round() as i8),
        DataType::Int16 => f64_to_primitive::<Int16Type>(values, |v| v.round() as i16),
        DataType::Int32 => f64_to_primitive::<Int32Type>(values, |v| v.round() as i32),
        DataType::Int64 => f64_to_primitive::<Int64Type>(values, |v| v.round() as i64),
        DataType::UInt8 => f64_to_primitive::<UInt8Type>(values, |v| v.round() as u8),
        DataType::UInt16 => f64_to_primitive::<UInt16Type>(values, |v| v.round() as u16),
        DataType::UInt32 => f64_to_primitive::<UInt32Type>(values, |v| v.round() as u32),
        DataType::UInt64 => f64_to_primitive::<UInt64Type>(values, |v| v.round() as u64),
        _ => f64_to_primitive::<Float64Type>(values, |v| v),
    }
}

fn primitive_dates<T: ArrowPrimitiveType>(array: &dyn Array) -> Vec<Option<NaiveDate>>
where
    i64: From<T::Native>,
{
    array
        .as_primitive::<T>()
        .iter()
        .map(|v| v.and_then(|v| as_date::<T>(i64::from(v))))
        .collect()
}

/// Reads a date or timestamp array as calendar dates (timestamps: their UTC date).
pub(crate) fn to_dates(array: &dyn Array) -> Option<Vec<Option<NaiveDate>>> {
    let dates = match array.data_type() {
        DataType::Date32 => primitive_dates::<Date32Type>(array),
        DataType::Date64 => primitive_dates::<Date64Type>(array),
        DataType::Timestamp(TimeUnit::Second, _) => primitive_dates::<TimestampSecondType>(array),
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            primitive_dates::<TimestampMillisecondType>(array)
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            primitive_dates::<TimestampMicrosecondType>(array)
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            primitive_dates::<TimestampNanosecondType>(array)
        }
        _ => return None,
    };
    Some(dates)
}
