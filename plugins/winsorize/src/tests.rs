use mmm_sdk::testing::run_preprocessor;

use super::*;

#[test]
fn z_score_clips_to_mean_plus_or_minus_max_z_sd() {
    // mean 2.5, population sd sqrt(1.25)
    let mut x = [1.0, 2.0, 3.0, 4.0];
    clip(&mut x, Bounds::ZScore { max_z: 1.0 });
    let sd = 1.25_f64.sqrt();
    assert_eq!(x, [2.5 - sd, 2.0, 3.0, 2.5 + sd]);
}

#[test]
fn quantile_clips_at_interpolated_quantiles_and_keeps_missing() {
    // type 7 on 0..=10: the 10% quantile is 1, the 90% quantile 9
    let mut x: Vec<f64> = (0..=10).map(f64::from).collect();
    x.push(f64::NAN);
    clip(
        &mut x,
        Bounds::Quantile {
            lower: 0.1,
            upper: 0.9,
        },
    );
    assert_eq!(&x[..3], &[1.0, 1.0, 2.0]);
    assert_eq!(&x[9..11], &[9.0, 9.0]);
    assert!(x[11].is_nan());
    assert_eq!(quantile(&[1.0, 2.0], 0.25), 1.25);
}

#[test]
fn params_select_the_method_and_columns() {
    let mut t = Table::new();
    t.set_f64("tv", vec![1.0, 2.0, 3.0, 100.0]).unwrap();
    t.set_f64("kpi", vec![1.0, 2.0, 3.0, 100.0]).unwrap();
    let params = r#"{"method": "quantile", "lower": 0.0, "upper": 0.5, "columns": ["tv"]}"#;
    let out = run_preprocessor(winsorize, &t, params).unwrap();
    assert_eq!(out.f64_column("tv").unwrap(), &[1.0, 2.0, 2.5, 2.5]);
    assert_eq!(out.f64_column("kpi").unwrap()[3], 100.0);
}

#[test]
fn unusable_bounds_are_invalid_params() {
    let mut t = Table::new();
    t.set_f64("tv", vec![1.0]).unwrap();
    for params in [
        r#"{"method": "z-score", "max_z": 0}"#,
        r#"{"method": "quantile", "lower": 0.9, "upper": 0.1}"#,
        r#"{"method": "iqr"}"#,
    ] {
        let err = run_preprocessor(winsorize, &t, params).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidParams, "{params}");
    }
}
