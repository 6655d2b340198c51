//! The same data, params and seed give bit-identical output (the summary
//! holds no wall-clock time); another seed gives another search. The summary
//! conforms to the SDK's shared model-summary contract.

use crate::common;

use mmm_sdk::testing::{FitResult, run_fit, run_predict};
use ridge_mmm::RidgeMmm;

fn fit(params: &str) -> FitResult {
    let data = common::dataset(11);
    run_fit::<RidgeMmm>(&common::table(&data), common::roles(&data), params).unwrap()
}

#[test]
fn the_same_seed_gives_bit_identical_output() {
    let params = r#"{"seed": 42, "budget": 1500}"#;
    let (a, b) = (fit(params), fit(params));
    assert_eq!(a.artifact, b.artifact);
    assert_eq!(
        mmm_sdk::serde_json::to_string(&a.summary).unwrap(),
        mmm_sdk::serde_json::to_string(&b.summary).unwrap()
    );
    assert_eq!(
        a.decomposition.to_ipc().unwrap(),
        b.decomposition.to_ipc().unwrap()
    );
    assert_eq!(
        a.response_curves.to_ipc().unwrap(),
        b.response_curves.to_ipc().unwrap()
    );
    let other = fit(r#"{"seed": 43, "budget": 1500}"#);
    assert_ne!(a.artifact, other.artifact);
}

#[test]
fn weibull_adstocks_fit_and_predict_from_the_artifact_alone() {
    for kind in ["weibull-cdf", "weibull-pdf"] {
        let out = fit(&format!(r#"{{"adstock": "{kind}", "budget": 600}}"#));
        assert_eq!(out.summary["channels"][0]["adstock"]["kind"], kind);
        let data = common::dataset(11);
        let history = run_predict::<RidgeMmm>(&out.artifact, &common::table(&data)).unwrap();
        // Predicting the history reproduces the decomposition's fitted values.
        let fitted = out.decomposition.f64_column("fitted").unwrap();
        let predicted = history.f64_column("revenue").unwrap();
        for (f, p) in fitted.iter().zip(predicted) {
            assert!((f - p).abs() < 1e-6 * f.abs(), "{kind}: {f} vs {p}");
        }
    }
}

#[test]
fn the_summary_and_tables_conform_to_the_shared_contract() {
    let out = fit(r#"{"budget": 600}"#);
    let summary: mmm_sdk::summary::ModelSummary =
        mmm_sdk::serde_json::from_value(out.summary.clone()).expect("conforms");
    let channels: Vec<&str> = summary
        .channels
        .iter()
        .map(|c| c.channel.as_str())
        .collect();
    let d: Vec<&str> = out.decomposition.column_names().collect();
    let c: Vec<&str> = out.response_curves.column_names().collect();
    mmm_sdk::summary::check_tables(&d, &c, &channels).unwrap();
}

#[test]
fn cross_validated_scoring_fits_and_moves_the_pick() {
    let plain = fit(r#"{"budget": 600}"#);
    let cv = fit(r#"{"budget": 600, "cv_folds": 4}"#);
    assert_eq!(
        cv.artifact,
        fit(r#"{"budget": 600, "cv_folds": 4}"#).artifact
    );
    // Another first objective picks another model from the same search start.
    assert_ne!(plain.artifact, cv.artifact);
    let roi = cv.summary["channels"][0]["roi"].as_f64().unwrap();
    assert!(roi.is_finite() && roi >= 0.0);
    assert!(cv.summary["health"]["trustworthy"].is_boolean());
}
