//! A lift test moves an always-on channel's ROI (which the data alone can
//! only extrapolate) toward the truth, and the summary's `calibration`
//! section compares the measured with the posterior's implied lift.

use crate::common;

use bayes_mmm::BayesMmm;
use mmm_sdk::testing::run_fit_with_experiments;

#[test]
fn a_lift_test_moves_an_always_on_channels_roi_toward_the_truth() {
    let data = common::wide(4, 2);
    let (table, roles) = (common::table(&data), common::roles(&data));
    let channel = 3;
    let truth = data.truth.channels[channel].roi;
    let test = common::lift_test(&data, channel, 84, 0.1, 0.0);
    let roi = |experiments| {
        let out =
            run_fit_with_experiments::<BayesMmm>(&table, roles.clone(), "{}", experiments).unwrap();
        (
            out.summary["channels"][channel]["roi"].as_f64().unwrap(),
            out.summary,
        )
    };
    let (alone, plain) = roi(vec![]);
    let (calibrated, summary) = roi(vec![test.clone()]);
    eprintln!("true ROI {truth:.3}: data alone {alone:.3}, with the lift test {calibrated:.3}");
    assert!((calibrated - truth).abs() < (alone - truth).abs());
    assert!((calibrated - truth).abs() < 0.25 * truth);
    let warnings = plain["warnings"].to_string();
    assert!(
        warnings.contains("calibrate it with a lift test"),
        "{warnings}"
    );
    assert!(plain.get("calibration").is_none());
    let entry = &summary["calibration"][0];
    assert_eq!(entry["channel"], test.channel);
    assert_eq!(entry["measured_lift"], test.lift);
    let implied = entry["implied_lift"].as_f64().unwrap();
    assert!(
        (implied - test.lift).abs() < 2.0 * test.standard_error,
        "{entry}"
    );
}
