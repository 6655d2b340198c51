//! Components built against either version of the WIT contract load and
//! run: 0.2.0 (what the SDK builds today) and 0.1.0 (published before
//! experiments existed), whose `fit` simply gets none.

use crate::common;

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use common::{load, runtime, to_ipc};
use mmm_runtime::{CallOptions, Contract, Experiment, PluginKind, Roles};

fn batch() -> Vec<u8> {
    let schema = Schema::new(vec![Field::new("sales", DataType::Float64, false)]);
    let column = Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]));
    to_ipc(&[RecordBatch::try_new(Arc::new(schema), vec![column]).unwrap()])
}

#[tokio::test]
async fn the_sdk_builds_against_the_current_contract() {
    let runtime = runtime();
    let identity = load(&runtime, "identity").await;
    assert_eq!(identity.contract(), Contract::V0_2);
    assert!(identity.contract().takes_experiments());
}

#[tokio::test]
async fn a_model_built_against_0_1_0_still_fits_and_predicts_and_gets_no_experiments() {
    let runtime = runtime();
    let legacy = load(&runtime, "legacy-model").await;
    assert_eq!(legacy.kind(), PluginKind::Model);
    assert_eq!(legacy.contract(), Contract::V0_1);
    assert!(!legacy.contract().takes_experiments());

    let input = batch();
    let roles = Roles {
        date: "date".into(),
        kpi: "sales".into(),
        media: vec!["tv".into()],
        controls: vec![],
    };
    let experiment = Experiment {
        channel: "tv".into(),
        start: "2024-01-01".into(),
        end: "2024-01-14".into(),
        spend_change: -1_000.0,
        lift: -2_500.0,
        standard_error: 400.0,
    };
    let fit = runtime
        .fit_with_experiments(
            &legacy,
            input.clone(),
            roles,
            "{}",
            vec![experiment],
            CallOptions::labelled("t"),
        )
        .await
        .expect("a 0.1.0 model fits");
    let summary: serde_json::Value = serde_json::from_str(&fit.summary).unwrap();
    assert_eq!(summary["contract"], "0.1.0");
    assert_eq!(summary["input_bytes"], input.len());
    assert_eq!(summary["kpi"], "sales");
    assert_eq!(fit.decomposition, input);

    let predicted = runtime
        .predict(
            &legacy,
            fit.artifact,
            input.clone(),
            CallOptions::labelled("t"),
        )
        .await
        .expect("a 0.1.0 model predicts");
    assert_eq!(predicted, input);
}
