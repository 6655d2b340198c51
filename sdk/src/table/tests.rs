use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray,
    TimestampSecondArray,
};
use arrow_schema::{DataType, Field, Schema};
use chrono::NaiveDate;

use super::Table;
use crate::ErrorCode;

fn sample() -> Table {
    let schema = Schema::new(vec![
        Field::new("date", DataType::Date32, false),
        Field::new("region", DataType::Utf8, true),
        Field::new("tv", DataType::Float64, true),
        Field::new("clicks", DataType::Int64, true),
    ])
    .with_metadata(std::collections::HashMap::from([(
        "source".to_owned(),
        "test".to_owned(),
    )]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Date32Array::from(vec![19_000, 19_007, 19_014])),
        Arc::new(StringArray::from(vec![Some("north"), None, Some("south")])),
        Arc::new(Float64Array::from(vec![Some(1.5), None, Some(3.0)])),
        Arc::new(Int64Array::from(vec![Some(10), Some(20), None])),
    ];
    Table::from_batch(RecordBatch::try_new(Arc::new(schema), columns).unwrap())
}

#[test]
fn an_untouched_table_round_trips_through_ipc_unchanged() {
    let t = sample();
    let back = Table::from_ipc(t.to_ipc().unwrap()).unwrap();
    assert_eq!(back.to_batch().unwrap(), t.to_batch().unwrap());
    assert_eq!(
        back.to_batch().unwrap().schema().metadata()["source"],
        "test"
    );
}

#[test]
fn an_empty_stream_gives_an_empty_table_with_its_schema() {
    let t = sample();
    let empty = Table::from_batch(RecordBatch::new_empty(t.to_batch().unwrap().schema()));
    let back = Table::from_ipc(empty.to_ipc().unwrap()).unwrap();
    assert_eq!(back.num_rows(), 0);
    assert_eq!(back.num_columns(), 4);
}

#[test]
fn bytes_that_are_not_arrow_are_invalid_input() {
    let err = Table::from_ipc(b"date,tv\n2024-01-01,3\n".to_vec()).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
}

#[test]
fn f64_column_borrows_complete_float_columns_only() {
    let mut t = Table::new();
    t.set_f64("x", vec![1.0, 2.0]).unwrap();
    assert_eq!(t.f64_column("x").unwrap(), &[1.0, 2.0]);
    assert_eq!(t.view("x").unwrap().sum(), 3.0);

    let s = sample();
    assert_eq!(
        s.f64_column("tv").unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(
        s.f64_column("clicks").unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    assert!(
        s.f64_column("nope")
            .unwrap_err()
            .message()
            .contains("date, region, tv, clicks")
    );
}

#[test]
fn to_f64_vec_reads_any_numeric_column_with_nan_for_missing() {
    let t = sample();
    let tv = t.to_f64_vec("tv").unwrap();
    assert_eq!((tv[0], tv[2]), (1.5, 3.0));
    assert!(tv[1].is_nan());
    let clicks = t.to_f64_vec("clicks").unwrap();
    assert_eq!(&clicks[..2], &[10.0, 20.0]);
    assert!(clicks[2].is_nan());
    assert!(t.to_f64_vec("region").is_err());
}

#[test]
fn mutated_columns_keep_their_type_and_nan_becomes_missing() {
    let mut t = sample();
    let names: Vec<String> = t
        .numeric_columns_mut()
        .map(|c| c.name().to_owned())
        .collect();
    assert_eq!(names, ["tv", "clicks"]);
    t.f64_column_mut("clicks").unwrap()[2] = 29.6;
    t.f64_column_mut("tv").unwrap()[0] = f64::NAN;

    let batch = Table::from_ipc(t.to_ipc().unwrap())
        .unwrap()
        .to_batch()
        .unwrap();
    let clicks = batch.column_by_name("clicks").unwrap();
    assert_eq!(clicks.data_type(), &DataType::Int64);
    assert_eq!(
        clicks
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .value(2),
        30
    );
    let tv = batch.column_by_name("tv").unwrap();
    assert_eq!(tv.null_count(), 2);
    assert_eq!(batch.column_by_name("region").unwrap().null_count(), 1);
}

#[test]
fn a_non_nullable_column_that_gains_missing_values_becomes_nullable() {
    let mut t = Table::new();
    t.set_column("x", Arc::new(Float64Array::from(vec![1.0, 2.0])))
        .unwrap();
    t.f64_column_mut("x").unwrap()[1] = f64::NAN;
    let batch = t.to_batch().unwrap();
    assert!(batch.schema().field(0).is_nullable());
}

#[test]
fn dates_read_date_and_timestamp_columns() {
    let t = sample();
    assert_eq!(t.date_column(), Some("date"));
    let dates = t.dates("date").unwrap();
    assert_eq!(dates[0], NaiveDate::from_ymd_opt(2022, 1, 8).unwrap());

    let mut ts = Table::new();
    ts.set_column(
        "at",
        Arc::new(TimestampSecondArray::from(vec![86_400 * 3 + 5])),
    )
    .unwrap();
    assert_eq!(
        ts.dates("at").unwrap()[0],
        NaiveDate::from_ymd_opt(1970, 1, 4).unwrap()
    );
    assert!(t.dates("tv").is_err());
}

#[test]
fn building_a_table_checks_lengths_and_replaces_in_place() {
    let mut t = Table::new();
    let d = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    t.set_dates("date", &[d, d.succ_opt().unwrap()]).unwrap();
    t.set_strings("channel", &["tv", "search"]).unwrap();
    t.set_f64("spend", vec![1.0, 2.0]).unwrap();
    assert!(t.set_f64("short", vec![1.0]).is_err());
    t.set_f64("channel", vec![3.0, 4.0]).unwrap();
    assert_eq!(
        t.column_names().collect::<Vec<_>>(),
        ["date", "channel", "spend"]
    );
    t.drop_column("date").unwrap();
    assert_eq!(t.to_matrix(&["channel", "spend"]).unwrap()[[1, 0]], 4.0);
}

#[test]
fn an_unchanged_decoded_table_goes_back_out_as_its_input_bytes() {
    let bytes = sample().to_ipc().unwrap();
    let t = Table::from_ipc(bytes.clone()).unwrap();
    assert!(t.f64_column("tv").is_err(), "tv has a missing value");
    assert_eq!(
        t.to_f64_vec("tv").unwrap().len(),
        3,
        "reading is not changing"
    );
    assert_eq!(t.into_ipc().unwrap(), bytes);

    // A clone still holding the columns: same bytes, copied.
    let t = Table::from_ipc(bytes.clone()).unwrap();
    let kept = t.clone();
    assert_eq!(t.into_ipc().unwrap(), bytes);
    drop(kept);
}

#[test]
fn a_changed_table_is_encoded_again() {
    let bytes = sample().to_ipc().unwrap();
    let changes: [fn(&mut Table); 4] = [
        |t| t.f64_column_mut("tv").unwrap()[0] = 9.0,
        |t| t.drop_column("region").unwrap(),
        |t| t.set_f64("new", vec![1.0, 2.0, 3.0]).unwrap(),
        |t| {
            let _ = t.numeric_columns_mut().count();
        },
    ];
    for change in changes {
        let mut t = Table::from_ipc(bytes.clone()).unwrap();
        change(&mut t);
        let expected = t.to_batch().unwrap();
        let out = t.into_ipc().unwrap();
        let back = Table::from_ipc(out).unwrap();
        assert_eq!(back.to_batch().unwrap(), expected);
    }
    let mut t = Table::from_ipc(bytes).unwrap();
    t.f64_column_mut("tv").unwrap()[0] = 9.0;
    let back = Table::from_ipc(t.into_ipc().unwrap()).unwrap();
    assert_eq!(back.to_f64_vec("tv").unwrap()[0], 9.0);
}

#[test]
fn a_table_built_in_the_plugin_is_encoded() {
    let t = sample();
    let expected = t.to_ipc().unwrap();
    assert_eq!(t.into_ipc().unwrap(), expected);
}
