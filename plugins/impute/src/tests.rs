use mmm_sdk::testing::run_preprocessor;

use super::*;

const NAN: f64 = f64::NAN;

fn filled(mut x: Vec<f64>, method: Method) -> Vec<f64> {
    fill(&mut x, method).unwrap();
    x
}

#[test]
fn each_method_fills_gaps_as_documented() {
    let x = vec![NAN, 1.0, NAN, NAN, 4.0, NAN];
    assert_eq!(
        filled(x.clone(), Method::Zero),
        [0.0, 1.0, 0.0, 0.0, 4.0, 0.0]
    );
    assert_eq!(
        filled(x.clone(), Method::ForwardFill),
        [1.0, 1.0, 1.0, 1.0, 4.0, 4.0]
    );
    assert_eq!(
        filled(x.clone(), Method::Linear),
        [1.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    );
    assert_eq!(filled(x, Method::Mean), [2.5, 1.0, 2.5, 2.5, 4.0, 2.5]);
}

#[test]
fn a_column_with_no_values_cannot_be_imputed_except_by_zero() {
    assert!(fill(&mut [NAN, NAN], Method::Mean).is_err());
    assert_eq!(fill(&mut [NAN, NAN], Method::Zero), Ok(2));
    assert_eq!(fill(&mut [], Method::Linear), Ok(0));
}

#[test]
fn overrides_pick_the_method_per_column() {
    let mut t = Table::new();
    t.set_f64("tv", vec![1.0, NAN, 3.0]).unwrap();
    t.set_f64("search", vec![1.0, NAN, 3.0]).unwrap();
    let params = r#"{"method": "zero", "columns": {"tv": "linear"}}"#;
    let out = run_preprocessor(impute, &t, params).unwrap();
    assert_eq!(out.f64_column("tv").unwrap(), &[1.0, 2.0, 3.0]);
    assert_eq!(out.f64_column("search").unwrap(), &[1.0, 0.0, 3.0]);
}

#[test]
fn an_override_for_an_unknown_column_is_invalid_params() {
    let mut t = Table::new();
    t.set_f64("tv", vec![1.0]).unwrap();
    let err = run_preprocessor(impute, &t, r#"{"columns": {"radio": "mean"}}"#).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidParams);
    let err = run_preprocessor(impute, &t, r#"{"method": "median"}"#).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidParams);
}
