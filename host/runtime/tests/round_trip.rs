//! Data survives the sandbox unchanged, and outputs are checked on the way back.

use crate::common;

use std::sync::Arc;

use arrow_array::{Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use common::{from_ipc, load, runtime, to_ipc};
use mmm_runtime::{CallOptions, OutputError, validate_ipc_stream};

fn mixed_batch() -> RecordBatch {
    let schema = Schema::new(vec![
        Field::new("week", DataType::Date32, false),
        Field::new("channel", DataType::Utf8, true),
        Field::new("spend", DataType::Float64, true),
        Field::new("clicks", DataType::Int64, true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Date32Array::from(vec![19_723, 19_730, 19_737, 19_744])),
            Arc::new(StringArray::from(vec![
                Some("tv"),
                None,
                Some("séarch"),
                Some(""),
            ])),
            Arc::new(Float64Array::from(vec![
                Some(1.5),
                None,
                Some(-0.0),
                Some(1e300),
            ])),
            Arc::new(Int64Array::from(vec![
                Some(7),
                Some(-3),
                None,
                Some(i64::MAX),
            ])),
        ],
    )
    .unwrap()
}

#[tokio::test]
async fn a_batch_with_nulls_dates_strings_and_floats_survives_the_identity_plugin() {
    let runtime = runtime();
    let identity = load(&runtime, "identity").await;
    let batch = mixed_batch();

    let output = runtime
        .transform(
            &identity,
            to_ipc(std::slice::from_ref(&batch)),
            "{}",
            CallOptions::labelled("t"),
        )
        .await
        .expect("identity succeeds");

    assert_eq!(from_ipc(&output), vec![batch]);
}

#[tokio::test]
async fn identity_reports_what_it_is() {
    let runtime = runtime();
    let identity = load(&runtime, "identity").await;

    let info = identity.info();
    assert_eq!(info.name, "identity");
    assert_eq!(info.kind, mmm_runtime::PluginKind::Preprocessor);
    assert!(info.params_schema.trim_start().starts_with('{'));
    assert_eq!(identity.sha256().len(), 64);
}

#[test]
fn compressed_ipc_is_rejected_as_compressed() {
    use arrow_ipc::CompressionType;
    use arrow_ipc::writer::{IpcWriteOptions, StreamWriter};
    let batch = mixed_batch();
    let options = IpcWriteOptions::default()
        .try_with_compression(Some(CompressionType::LZ4_FRAME))
        .unwrap();
    let mut bytes = Vec::new();
    let mut writer =
        StreamWriter::try_new_with_options(&mut bytes, &batch.schema(), options).unwrap();
    writer.write(&batch).unwrap();
    writer.finish().unwrap();
    drop(writer);

    let error = validate_ipc_stream(bytes).unwrap_err();

    assert!(matches!(error, OutputError::Compressed(_)), "{error}");
}

#[test]
fn a_truncated_stream_is_not_arrow() {
    let mut bytes = to_ipc(&[mixed_batch()]);
    bytes.truncate(bytes.len() - 20);

    let error = validate_ipc_stream(bytes).unwrap_err();

    assert!(matches!(error, OutputError::NotArrowIpc(_)), "{error}");
}

#[test]
fn an_uncompressed_stream_is_accepted_unchanged() {
    let bytes = to_ipc(&[mixed_batch()]);

    assert_eq!(validate_ipc_stream(bytes.clone()).unwrap(), bytes);
}
