//! `predict` answers both scenario shapes of `mmm_sdk::scenarios` with the
//! posterior mean and honest intervals: `low <= point <= high` everywhere,
//! empty at the historical allocation in the totals form, wider for a
//! budget far from the history than near it, and the `interval` column
//! switches them off per row.

use crate::common;

use bayes_mmm::BayesMmm;
use mmm_sdk::prelude::*;
use mmm_sdk::testing::{run_fit, run_predict};

fn fitted() -> (mmm_synth::Dataset, Vec<u8>) {
    let data = common::dataset(5);
    let params = r#"{"chains": 2, "warmup": 200, "draws": 150, "kept_draws": 100}"#;
    let out = run_fit::<BayesMmm>(&common::table(&data), common::roles(&data), params).unwrap();
    (data, out.artifact)
}

fn assert_ordered(out: &Table, column: &str) {
    let point = out.f64_column(column).unwrap();
    let low = out.f64_column(&format!("{column}_low")).unwrap();
    let high = out.f64_column(&format!("{column}_high")).unwrap();
    for ((l, p), h) in low.iter().zip(point).zip(high) {
        assert!(l <= p && p <= h, "{column}: {l} {p} {h}");
    }
}

#[test]
fn totals_have_ordered_intervals_anchored_at_the_history() {
    let (data, artifact) = fitted();
    let mut scenarios = Table::new();
    for (c, (name, spend)) in data.media.iter().enumerate() {
        let total: f64 = spend.iter().sum();
        let scale = [1.0, 1.1, 2.0, if c == 0 { 0.0 } else { 0.5 }];
        scenarios
            .set_f64(name, scale.iter().map(|s| s * total).collect())
            .unwrap();
    }
    let out = run_predict::<BayesMmm>(&artifact, &scenarios).unwrap();
    let mut columns = vec!["revenue".to_owned()];
    columns.extend(data.media.iter().map(|(n, _)| format!("{n}_contribution")));
    for column in &columns {
        assert_ordered(&out, column);
        let (low, high) = (
            out.f64_column(&format!("{column}_low")).unwrap(),
            out.f64_column(&format!("{column}_high")).unwrap(),
        );
        // Row 0 is the history: the data pin it.
        assert!(
            (high[0] - low[0]).abs() < 1e-9 * high[0].abs().max(1.0),
            "{column}"
        );
        assert!(
            high[2] - low[2] > high[1] - low[1],
            "{column}: wider further away"
        );
    }
    // No spend, no contribution.
    assert_eq!(out.f64_column("tv_contribution").unwrap()[3], 0.0);
    // Rows that want no interval read the tabulated posterior mean: the
    // same point to well within a millionth of the KPI.
    scenarios.set_f64("interval", vec![0.0; 4]).unwrap();
    let points = run_predict::<BayesMmm>(&artifact, &scenarios).unwrap();
    for column in &columns {
        let (exact, read) = (
            out.f64_column(column).unwrap(),
            points.f64_column(column).unwrap(),
        );
        let scale = out.f64_column("revenue").unwrap()[0];
        for (e, r) in exact.iter().zip(read) {
            assert!((e - r).abs() < 1e-6 * scale, "{column}: {e} vs {r}");
        }
        assert_eq!(read, points.f64_column(&format!("{column}_low")).unwrap());
    }
}

#[test]
fn per_period_rows_have_ordered_intervals_and_the_interval_column_turns_them_off() {
    let (data, artifact) = fitted();
    let n = data.dates.len();
    let mut scenarios = Table::new();
    let dates: Vec<NaiveDate> = (0..2).flat_map(|_| data.dates.iter().copied()).collect();
    scenarios.set_dates("date", &dates).unwrap();
    scenarios
        .set_f64("scenario", (0..2 * n).map(|r| (r / n) as f64).collect())
        .unwrap();
    scenarios
        .set_f64("interval", (0..2 * n).map(|r| (r / n) as f64).collect())
        .unwrap();
    for (name, spend) in &data.media {
        scenarios
            .set_f64(name, (0..2 * n).map(|r| 1.5 * spend[r % n]).collect())
            .unwrap();
    }
    let out = run_predict::<BayesMmm>(&artifact, &scenarios).unwrap();
    assert_ordered(&out, "revenue");
    assert_ordered(&out, "tv_contribution");
    let (point, low, high) = (
        out.f64_column("revenue").unwrap(),
        out.f64_column("revenue_low").unwrap(),
        out.f64_column("revenue_high").unwrap(),
    );
    // Scenario 0 asked for no intervals, scenario 1 did; same spend, same point.
    assert_eq!((low[10], high[10]), (point[10], point[10]));
    assert!(high[n + 10] > low[n + 10]);
    assert_eq!(point[10], point[n + 10]);
}
