//! The same data, params and seed give bit-identical output (the summary
//! holds no wall-clock time); the summary and tables conform to the SDK's
//! shared contract; `predict` on the history reproduces the decomposition;
//! the host's cancellation stops the sampler.

use crate::common;

use bayes_mmm::{BayesMmm, Params};
use mmm_sdk::ErrorCode;
use mmm_sdk::testing::{FitResult, run_fit, run_predict};

/// A short run: the contract does not depend on the chains' length.
const QUICK: &str = r#""chains": 2, "warmup": 150, "draws": 100, "kept_draws": 40"#;

fn fit(extra: &str) -> FitResult {
    let data = common::dataset(11);
    let params = format!("{{{QUICK}{extra}}}");
    run_fit::<BayesMmm>(&common::table(&data), common::roles(&data), &params).unwrap()
}

#[test]
fn the_same_seed_gives_bit_identical_output() {
    let (a, b) = (fit(r#", "seed": 42"#), fit(r#", "seed": 42"#));
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
    let other = fit(r#", "seed": 43"#);
    assert_ne!(a.artifact, other.artifact);
}

#[test]
fn the_summary_and_tables_conform_to_the_shared_contract() {
    let out = fit("");
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
    for ch in &summary.channels {
        let [low, high] = ch.roi_interval;
        assert!(low <= ch.roi && ch.roi <= high, "{ch:?}");
    }
    let sampler = &out.summary["sampler"];
    for field in [
        "chains",
        "warmup",
        "draws",
        "divergences",
        "step_sizes",
        "gradient_evaluations",
        "max_rhat",
        "min_ess",
    ] {
        assert!(!sampler[field].is_null(), "sampler.{field}");
    }
    assert_eq!(
        sampler["parameters"].as_array().unwrap().len(),
        5 * 4 + 1 + 7 + 1
    );
    // 2 x 100 draws cannot give 400 effective draws: the warning says so.
    let warnings = out.summary["warnings"].to_string();
    assert!(warnings.contains("not converged"), "{warnings}");
}

#[test]
fn every_adstock_predicts_the_history_as_the_decomposition_shows_it() {
    let data = common::dataset(11);
    for kind in ["geometric", "weibull-cdf", "weibull-pdf"] {
        let out = fit(&format!(r#", "adstock": "{kind}""#));
        assert_eq!(out.summary["channels"][0]["adstock"]["kind"], kind);
        let history = run_predict::<BayesMmm>(&out.artifact, &common::table(&data)).unwrap();
        let fitted = out.decomposition.f64_column("fitted").unwrap();
        let predicted = history.f64_column("revenue").unwrap();
        for (f, p) in fitted.iter().zip(predicted) {
            assert!((f - p).abs() < 1e-6 * f.abs(), "{kind}: {f} vs {p}");
        }
    }
}

#[test]
fn the_student_t_likelihood_fits_too() {
    let out = fit(r#", "likelihood": "student-t", "student_t_dof": 4"#);
    assert_eq!(out.summary["metrics"]["likelihood"], "student-t");
    assert!(out.summary["metrics"]["all"]["r2"].as_f64().unwrap() > 0.8);
}

#[test]
fn cancelling_stops_the_sampler_with_a_cancelled_error() {
    let data = common::dataset(11);
    let params: Params = mmm_sdk::params::parse(&format!("{{{QUICK}}}")).unwrap();
    let mut reports = 0;
    let result = bayes_mmm::fit(
        &common::table(&data),
        &common::roles(&data),
        &params,
        &[],
        |done, total| {
            reports += 1;
            assert!(done <= total);
            if done * 2 >= total {
                Err(mmm_sdk::Error::cancelled())
            } else {
                Ok(())
            }
        },
    );
    assert_eq!(result.unwrap_err().code(), ErrorCode::Cancelled);
    assert!(reports > 1);
}
