//! Native speed of the model: one fit of 156 weeks x 5 channels + 2 controls
//! at the default 4 chains x (500 warm-up + 500 draws), the log density's
//! gradient evaluations per second (inside the fit and in a tight loop), and
//! `predict` for 1,000 totals scenarios (with intervals, and points only).
//! Run with `cargo bench -p bayes-mmm`;
//! `BAYES_PARAMS='{"adstock": "weibull-pdf"}'` changes the params.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use bayes_mmm::data::Input;
use bayes_mmm::design::Design;
use bayes_mmm::{Params, density};
use mmm_sdk::prelude::*;

fn main() {
    let data = common::dataset(1);
    let (table, roles) = (common::table(&data), common::roles(&data));
    let params_json = std::env::var("BAYES_PARAMS").unwrap_or_else(|_| "{}".to_owned());
    let params: Params = mmm_sdk::params::parse(&params_json).unwrap();

    let mut best = f64::INFINITY;
    let mut fit = None;
    for _ in 0..3 {
        let started = Instant::now();
        fit = Some(bayes_mmm::fit(&table, &roles, &params, &[], |_, _| Ok(())).unwrap());
        best = best.min(started.elapsed().as_secs_f64());
    }
    let fit = fit.unwrap();
    let sampler = &fit.summary["sampler"];
    let gradients = sampler["gradient_evaluations"].as_f64().unwrap();
    println!(
        "fit   156w x 5ch + 2ctl, {} chains x ({} + {}), params {params_json}: {best:.3} s (best of 3)",
        params.chains, params.warmup, params.draws
    );
    println!(
        "      {gradients:.0} gradient evaluations: {:.0} per second over the whole fit; \
         divergences {}, max R-hat {:.3}, min ESS {:.0}, leapfrog steps/draw {}",
        gradients / best,
        sampler["divergences"],
        sampler["max_rhat"].as_f64().unwrap(),
        sampler["min_ess"].as_f64().unwrap(),
        sampler["mean_leapfrog_steps"],
    );

    let input = Input::from_table(&table, &roles).unwrap();
    let design = Design::new(&input, params.fourier_order as usize);
    let (mut d, start) = density(&input, &design, &params, &[]).unwrap();
    let mut grad = vec![0.0; start.len()];
    let evaluations = 200_000;
    let started = Instant::now();
    let mut z = start.clone();
    for i in 0..evaluations {
        z[i % start.len()] += 1e-9;
        std::hint::black_box(d.logp(&z, &mut grad));
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "logp  {} parameters: {:.2} us per gradient evaluation ({:.0} per second)",
        start.len(),
        seconds * 1e6 / evaluations as f64,
        evaluations as f64 / seconds
    );

    let artifact = fit.artifact;
    let mut totals = Table::new();
    for (c, (name, spend)) in data.media.iter().enumerate() {
        let total: f64 = spend.iter().sum();
        let column = (0..1000)
            .map(|s| total * (0.5 + (s * (c + 1) % 1000) as f64 / 1000.0))
            .collect();
        totals.set_f64(name, column).unwrap();
    }
    let started = Instant::now();
    std::hint::black_box(bayes_mmm::predict::predict(&artifact, &totals).unwrap());
    println!(
        "predict 1,000 totals scenarios over {} draws, with intervals: {:.1} ms",
        artifact.draws.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    totals.set_f64("interval", vec![0.0; 1000]).unwrap();
    let mut best = f64::INFINITY;
    for _ in 0..10 {
        let started = Instant::now();
        std::hint::black_box(bayes_mmm::predict::predict(&artifact, &totals).unwrap());
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "predict 1,000 totals scenarios, points only (\"interval\": 0, the mean-response table): {:.3} ms (best of 10)",
        best * 1e3
    );
}
