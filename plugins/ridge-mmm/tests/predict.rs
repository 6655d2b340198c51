//! `predict` from the artifact: both scenario shapes agree with the fit, and
//! their intervals hold the point, are anchored at the history (totals) and
//! are computed only for the rows that ask.

use crate::common;

use mmm_sdk::prelude::*;
use mmm_sdk::scenarios::{INTERVAL_COLUMN, contribution_column, high_column, low_column};
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

/// The default fit on dataset 5 at a small budget, through the SDK's path.
fn fitted() -> (mmm_synth::Dataset, mmm_sdk::testing::FitResult) {
    let data = common::dataset(5);
    let fit = run_fit::<RidgeMmm>(
        &common::table(&data),
        common::roles(&data),
        r#"{"budget": 500}"#,
    )
    .unwrap();
    (data, fit)
}

/// Totals scenarios: each row scales every channel's historical total.
fn scaled_totals(data: &mmm_synth::Dataset, scales: &[f64]) -> Table {
    let mut t = Table::new();
    for (name, spend) in &data.media {
        let total: f64 = spend.iter().sum();
        t.set_f64(name, scales.iter().map(|s| s * total).collect())
            .unwrap();
    }
    t
}

/// Every answered value with its interval ends: (point, low, high) columns.
fn intervals(data: &mmm_synth::Dataset, out: &Table) -> Vec<(String, Vec<[f64; 3]>)> {
    let columns = std::iter::once(data.kpi_name.clone())
        .chain(data.media.iter().map(|(n, _)| contribution_column(n)));
    columns
        .map(|c| {
            let point = out.f64_column(&c).unwrap();
            let low = out.f64_column(&low_column(&c)).unwrap();
            let high = out.f64_column(&high_column(&c)).unwrap();
            let rows = (0..point.len())
                .map(|r| [point[r], low[r], high[r]])
                .collect();
            (c, rows)
        })
        .collect()
}

fn assert_ordered(data: &mmm_synth::Dataset, out: &Table) {
    for (column, rows) in intervals(data, out) {
        for (r, [point, low, high]) in rows.into_iter().enumerate() {
            assert!(
                low <= point && point <= high,
                "{column} row {r}: {low} {point} {high}"
            );
        }
    }
}

#[test]
fn totals_intervals_are_anchored_at_the_history_and_widen_away_from_it() {
    let (data, fit) = fitted();
    let plausible = fit.summary["search"]["selection"]["plausible_models"]
        .as_u64()
        .unwrap();
    assert!(plausible > 1, "this fit keeps {plausible} plausible models");
    let out = run_predict::<RidgeMmm>(&fit.artifact, &scaled_totals(&data, &[1.0, 2.0, 0.5, 0.0]))
        .unwrap();
    assert_ordered(&data, &out);
    for (column, rows) in intervals(&data, &out) {
        let [point, low, high] = rows[0];
        let tolerance = 1e-9 * point.abs().max(1.0);
        assert!(
            (low - point).abs() <= tolerance && (high - point).abs() <= tolerance,
            "{column} at the history: {low} {point} {high}"
        );
        let [point, low, high] = rows[1];
        assert!(
            high - low > 1e-6 * point.abs(),
            "{column} at 2x: {low} {point} {high}"
        );
    }
}

#[test]
fn rows_without_interval_get_the_point_and_the_others_are_unchanged() {
    let (data, fit) = fitted();
    let all = run_predict::<RidgeMmm>(&fit.artifact, &scaled_totals(&data, &[2.0, 2.0])).unwrap();
    let mut flagged = scaled_totals(&data, &[2.0, 2.0]);
    flagged.set_f64(INTERVAL_COLUMN, vec![0.0, 1.0]).unwrap();
    let some = run_predict::<RidgeMmm>(&fit.artifact, &flagged).unwrap();
    for ((column, all), (_, some)) in intervals(&data, &all)
        .into_iter()
        .zip(intervals(&data, &some))
    {
        let [point, low, high] = some[0];
        assert_eq!((low, high), (point, point), "{column}");
        assert_eq!(some[1], all[1], "{column}");
        assert!(all[0][2] > all[0][1], "{column}: {:?}", all[0]);
    }
    // No row wanting one: every interval is the point.
    flagged.set_f64(INTERVAL_COLUMN, vec![0.0, 0.0]).unwrap();
    let none = run_predict::<RidgeMmm>(&fit.artifact, &flagged).unwrap();
    for (column, rows) in intervals(&data, &none) {
        assert!(rows.iter().all(|[p, l, h]| l == p && h == p), "{column}");
    }
}

#[test]
fn per_period_intervals_hold_the_point_and_honour_the_flag() {
    let (data, fit) = fitted();
    let n = data.dates.len();
    let mut periods = Table::new();
    let dates: Vec<NaiveDate> = data.dates.iter().chain(&data.dates).copied().collect();
    periods.set_dates("date", &dates).unwrap();
    periods
        .set_f64("scenario", (0..2 * n).map(|r| (r / n) as f64).collect())
        .unwrap();
    for (name, spend) in &data.media {
        periods
            .set_f64(name, (0..2 * n).map(|r| 1.5 * spend[r % n]).collect())
            .unwrap();
    }
    let all = run_predict::<RidgeMmm>(&fit.artifact, &periods).unwrap();
    assert_ordered(&data, &all);
    let kpi = intervals(&data, &all).swap_remove(0).1;
    assert!(kpi.iter().all(|[p, l, h]| h - l > 1e-9 * p.abs()));

    periods
        .set_f64(
            INTERVAL_COLUMN,
            (0..2 * n).map(|r| (r / n) as f64).collect(),
        )
        .unwrap();
    let second = run_predict::<RidgeMmm>(&fit.artifact, &periods).unwrap();
    for ((column, all), (_, second)) in intervals(&data, &all)
        .into_iter()
        .zip(intervals(&data, &second))
    {
        assert!(
            second[..n].iter().all(|[p, l, h]| l == p && h == p),
            "{column}"
        );
        assert_eq!(second[n..], all[n..], "{column}");
    }
}

#[test]
fn version_1_artifacts_still_predict_with_the_point_as_interval() {
    let (data, fit) = fitted();
    let mut v1: mmm_sdk::serde_json::Value =
        mmm_sdk::serde_json::from_slice(&fit.artifact).unwrap();
    assert!(v1["plausible"].as_array().is_some_and(|p| !p.is_empty()));
    v1.as_object_mut().unwrap().remove("plausible");
    v1["version"] = 1.into();
    let v1 = mmm_sdk::serde_json::to_vec(&v1).unwrap();
    let scenarios = scaled_totals(&data, &[1.0, 2.0]);
    let old = run_predict::<RidgeMmm>(&v1, &scenarios).unwrap();
    let new = run_predict::<RidgeMmm>(&fit.artifact, &scenarios).unwrap();
    for ((column, old), (_, new)) in intervals(&data, &old)
        .into_iter()
        .zip(intervals(&data, &new))
    {
        for (o, n) in old.iter().zip(&new) {
            assert_eq!(o[0], n[0], "{column}");
            assert_eq!((o[1], o[2]), (o[0], o[0]), "{column}");
        }
    }
    let mut future: mmm_sdk::serde_json::Value =
        mmm_sdk::serde_json::from_slice(&fit.artifact).unwrap();
    future["version"] = 3.into();
    let future = mmm_sdk::serde_json::to_vec(&future).unwrap();
    assert!(run_predict::<RidgeMmm>(&future, &scenarios).is_err());
}
