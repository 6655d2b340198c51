//! The hand-written gradient of the log density agrees with central finite
//! differences, for every adstock, both likelihoods and with lift tests,
//! in the model's coordinates and in the sampler's.

use crate::common;

use bayes_mmm::data::Input;
use bayes_mmm::design::Design;
use bayes_mmm::{Params, density};
use mmm_sdk::experiments::Experiment;

fn lift_test(data: &mmm_synth::Dataset, channel: usize) -> Experiment {
    Experiment {
        channel: data.media[channel].0.clone(),
        start: data.dates[40],
        end: data.dates[47],
        spend_change: -data.media[channel].1[40..48].iter().sum::<f64>() * 0.5,
        lift: -20_000.0,
        standard_error: 5_000.0,
    }
}

fn check(json: &str, with_lifts: bool) {
    check_in(json, with_lifts, false);
    check_in(json, with_lifts, true);
}

fn check_in(json: &str, with_lifts: bool, sampled: bool) {
    let data = common::dataset(3);
    let (table, roles) = (common::table(&data), common::roles(&data));
    let input = Input::from_table(&table, &roles).unwrap();
    let params: Params = mmm_sdk::params::parse(json).unwrap();
    let design = Design::new(&input, params.fourier_order as usize);
    let lifts = if with_lifts {
        vec![lift_test(&data, 0), lift_test(&data, 4)]
    } else {
        vec![]
    };
    let (mut d, start) = density(&input, &design, &params, &lifts).unwrap();
    // Away from the start point, so that no term is at a stationary point.
    let z: Vec<f64> = start
        .iter()
        .enumerate()
        .map(|(i, v)| v + 0.3 * ((i * 7 % 5) as f64 - 2.0) / 2.0)
        .collect();
    let logp = |d: &mut bayes_mmm::density::Density, z: &[f64], grad: &mut [f64]| {
        if sampled {
            d.logp_sampled(z, grad)
        } else {
            d.logp(z, grad)
        }
    };
    let mut grad = vec![0.0; z.len()];
    let lp = logp(&mut d, &z, &mut grad);
    assert!(lp.is_finite());
    if sampled {
        // The same point in both coordinates has the same density.
        let mut raw = z.clone();
        d.to_raw(&mut raw);
        let mut other = vec![0.0; z.len()];
        assert!((d.logp(&raw, &mut other) - lp).abs() < 1e-9 * lp.abs().max(1.0));
        let back = d.to_sampled(&raw);
        assert!(back.iter().zip(&z).all(|(a, b)| (a - b).abs() < 1e-12));
    }
    let mut scratch = vec![0.0; z.len()];
    for i in 0..z.len() {
        let h = 1e-5;
        let (mut up, mut down) = (z.clone(), z.clone());
        up[i] += h;
        down[i] -= h;
        let fd = (logp(&mut d, &up, &mut scratch) - logp(&mut d, &down, &mut scratch)) / (2.0 * h);
        let tol = 1e-5 * (1.0 + fd.abs()) + 1e-4;
        assert!(
            (fd - grad[i]).abs() < tol,
            "{json} (sampled: {sampled}): parameter {i}: finite difference {fd}, gradient {}",
            grad[i]
        );
    }
}

#[test]
fn the_gradient_matches_finite_differences_for_geometric_adstock() {
    check("{}", false);
    check(r#"{"likelihood": "student-t"}"#, false);
}

#[test]
fn the_gradient_matches_finite_differences_for_weibull_adstocks() {
    check(r#"{"adstock": "weibull-cdf"}"#, false);
    check(r#"{"adstock": "weibull-pdf"}"#, false);
}

#[test]
fn the_gradient_matches_finite_differences_with_lift_tests() {
    check("{}", true);
    check(
        r#"{"adstock": "weibull-pdf", "likelihood": "student-t"}"#,
        true,
    );
}
