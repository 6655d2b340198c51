//! The built-in preprocessors compute the expected values through the sandbox.

use crate::common;

use std::sync::Arc;

use arrow_array::{Array, Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use common::{from_ipc, load, runtime, to_ipc};
use mmm_runtime::{CallOptions, ErrorCode, RuntimeError};

fn table(columns: &[(&str, Vec<Option<f64>>)]) -> Vec<u8> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|(name, _)| Field::new(*name, DataType::Float64, true))
        .collect();
    let arrays = columns
        .iter()
        .map(|(_, values)| Arc::new(Float64Array::from(values.clone())) as _)
        .collect();
    to_ipc(&[RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()])
}

fn column(output: &[u8], name: &str) -> Vec<Option<f64>> {
    let batches = from_ipc(output);
    assert_eq!(batches.len(), 1);
    let array = batches[0].column_by_name(name).expect("column is kept");
    let values = array
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("stays f64");
    (0..values.len())
        .map(|i| (values.is_valid(i) && !values.value(i).is_nan()).then(|| values.value(i)))
        .collect()
}

#[tokio::test]
async fn impute_fills_gaps_linearly_and_by_forward_fill() {
    let runtime = runtime();
    let impute = load(&runtime, "impute").await;
    let input = table(&[
        (
            "tv",
            vec![Some(1.0), None, Some(3.0), None, None, Some(9.0)],
        ),
        ("radio", vec![None, Some(4.0), None, Some(5.0), None, None]),
    ]);
    let params = r#"{"method": "linear", "columns": {"radio": "forward-fill"}}"#;

    let output = runtime
        .transform(&impute, input, params, CallOptions::labelled("t"))
        .await
        .unwrap();

    let filled = |values: &[f64]| values.iter().copied().map(Some).collect::<Vec<_>>();
    assert_eq!(
        column(&output, "tv"),
        filled(&[1.0, 2.0, 3.0, 5.0, 7.0, 9.0])
    );
    assert_eq!(
        column(&output, "radio"),
        filled(&[4.0, 4.0, 4.0, 5.0, 5.0, 5.0])
    );
}

#[tokio::test]
async fn impute_rejects_an_unknown_column_as_invalid_params() {
    let runtime = runtime();
    let impute = load(&runtime, "impute").await;
    let input = table(&[("tv", vec![Some(1.0)])]);

    let error = runtime
        .transform(
            &impute,
            input,
            r#"{"columns": {"nope": "zero"}}"#,
            CallOptions::default(),
        )
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            RuntimeError::Plugin {
                code: ErrorCode::InvalidParams,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn winsorize_clips_at_the_quantiles() {
    let runtime = runtime();
    let winsorize = load(&runtime, "winsorize").await;
    let input = table(&[(
        "tv",
        vec![
            Some(1.0),
            Some(2.0),
            Some(3.0),
            Some(4.0),
            Some(100.0),
            None,
        ],
    )]);
    let params = r#"{"method": "quantile", "lower": 0.25, "upper": 0.75}"#;

    let output = runtime
        .transform(&winsorize, input, params, CallOptions::labelled("t"))
        .await
        .unwrap();

    assert_eq!(
        column(&output, "tv"),
        vec![Some(2.0), Some(2.0), Some(3.0), Some(4.0), Some(4.0), None]
    );
}
