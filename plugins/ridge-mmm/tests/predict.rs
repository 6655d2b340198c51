//! `predict` from the artifact: both scenario shapes agree with the fit.

mod common;

use mmm_sdk::prelude::*;
use mmm_sdk::testing::{run_fit, run_predict};
use ridge_mmm::RidgeMmm;

#[test]
fn scenarios_reproduce_the_history_and_respond_to_spend() {
    let data = common::dataset(5);
    let fit = run_fit::<RidgeMmm>(
        &common::table(&data),
        common::roles(&data),
        r#"{"budget": 500}"#,
    )
    .unwrap();
    // Totals shape: historical totals spread like history give the fitted total.
    let mut totals = Table::new();
    for (name, spend) in &data.media {
        let total: f64 = spend.iter().sum();
        totals.set_f64(name, vec![total, 2.0 * total, 0.0]).unwrap();
    }
    let out = run_predict::<RidgeMmm>(&fit.artifact, &totals).unwrap();
    let fitted_total: f64 = fit.decomposition.f64_column("fitted").unwrap().iter().sum();
    let kpi = out.f64_column("revenue").unwrap();
    assert!(
        (kpi[0] - fitted_total).abs() < 1e-6 * fitted_total,
        "{} vs {fitted_total}",
        kpi[0]
    );
    assert!(kpi[1] >= kpi[0] && kpi[2] <= kpi[0]);
    let tv = out.f64_column("tv_contribution").unwrap();
    let roi = fit.summary["channels"][0]["contribution"].as_f64().unwrap();
    assert!((tv[0] - roi).abs() < 1e-6 * roi.abs().max(1.0));
    assert_eq!(tv[2], 0.0);

    // Per-period shape with two scenarios; controls left out take their mean.
    let mut periods = Table::new();
    let n = data.dates.len();
    let dates: Vec<NaiveDate> = data.dates.iter().chain(&data.dates).copied().collect();
    periods.set_dates("date", &dates).unwrap();
    periods
        .set_f64("scenario", (0..2 * n).map(|r| (r / n) as f64).collect())
        .unwrap();
    for (name, spend) in &data.media {
        let zero_then_history = (0..2 * n)
            .map(|r| if r < n { 0.0 } else { spend[r - n] })
            .collect();
        periods.set_f64(name, zero_then_history).unwrap();
    }
    let out = run_predict::<RidgeMmm>(&fit.artifact, &periods).unwrap();
    assert_eq!(out.num_rows(), 2 * n);
    let tv = out.f64_column("tv_contribution").unwrap();
    assert!(tv[..n].iter().all(|&c| c == 0.0));
    let decomposed = fit.decomposition.f64_column("tv").unwrap();
    for (p, d) in tv[n..].iter().zip(decomposed) {
        assert!((p - d).abs() < 1e-9 * d.abs().max(1.0));
    }
}

#[test]
fn a_missing_channel_is_a_clear_error() {
    let data = common::dataset(5);
    let fit = run_fit::<RidgeMmm>(
        &common::table(&data),
        common::roles(&data),
        r#"{"budget": 100}"#,
    )
    .unwrap();
    let mut t = Table::new();
    t.set_f64("tv", vec![1.0]).unwrap();
    let err = run_predict::<RidgeMmm>(&fit.artifact, &t).unwrap_err();
    assert!(err.message().contains("search"), "{}", err.message());
}
