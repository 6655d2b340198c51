//! Native speed of the model: one fit of 156 weeks x 5 channels + 2 controls
//! at the default 10,000 candidates, and `predict` for 1,000 scenarios (both
//! shapes). Run with `cargo bench -p ridge-mmm`; `RIDGE_BUDGET=N` changes the
//! budget (e.g. for profiling), `RIDGE_ADSTOCK=weibull-pdf` the adstock;
//! `ALWAYS_ON=2 RIDGE_LIFT=1` fits with a lift test on each always-on channel.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use mmm_sdk::prelude::*;
use ridge_mmm::{Params, RidgeMmm};

fn main() {
    let data = common::dataset(1);
    let (table, roles) = (common::table(&data), common::roles(&data));
    let budget: u32 = std::env::var("RIDGE_BUDGET")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(10_000);
    let adstock = std::env::var("RIDGE_ADSTOCK").unwrap_or_else(|_| "geometric".to_owned());
    let params_json = format!(r#"{{"budget": {budget}, "adstock": "{adstock}"}}"#);
    let params: Params = mmm_sdk::params::parse(&params_json).unwrap();

    let experiments = if std::env::var("RIDGE_LIFT").is_ok() {
        common::lift_tests(&data)
    } else {
        Vec::new()
    };
    let mut best = f64::INFINITY;
    let mut fit = None;
    for _ in 0..3 {
        let started = Instant::now();
        fit = Some(ridge_mmm::fit(&table, &roles, &params, &experiments, |_, _| Ok(())).unwrap());
        best = best.min(started.elapsed().as_secs_f64());
    }
    let fit = fit.unwrap();
    println!(
        "fit   156w x 5ch + 2ctl, {budget} candidates, {adstock}, {} lift tests: {:.3} s (best of 3, {:.1} us/candidate)",
        experiments.len(),
        best,
        best * 1e6 / f64::from(budget)
    );

    let started = Instant::now();
    let via_ipc =
        mmm_sdk::testing::run_fit::<RidgeMmm>(&table, roles.clone(), &params_json).unwrap();
    println!(
        "fit   through the SDK's IPC path: {:.3} s",
        started.elapsed().as_secs_f64()
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
    report("totals (1,000 rows)", || {
        ridge_mmm::predict::predict(&artifact, &totals).unwrap()
    });
    let bytes = via_ipc.artifact;
    report("totals via IPC + artifact JSON", || {
        mmm_sdk::testing::run_predict::<RidgeMmm>(&bytes, &totals).unwrap()
    });

    let mut periods = Table::new();
    let n = data.dates.len();
    let dates: Vec<NaiveDate> = (0..1000).flat_map(|_| data.dates.iter().copied()).collect();
    periods.set_dates("date", &dates).unwrap();
    periods
        .set_f64("scenario", (0..1000 * n).map(|r| (r / n) as f64).collect())
        .unwrap();
    for (c, (name, spend)) in data.media.iter().enumerate() {
        let column = (0..1000 * n)
            .map(|r| spend[r % n] * (0.5 + ((r / n) * (c + 1) % 1000) as f64 / 1000.0))
            .collect();
        periods.set_f64(name, column).unwrap();
    }
    report("per period (1,000 x 156 rows)", || {
        ridge_mmm::predict::predict(&artifact, &periods).unwrap()
    });
}

fn report(what: &str, f: impl Fn() -> Table) {
    let mut best = f64::INFINITY;
    for _ in 0..10 {
        let started = Instant::now();
        std::hint::black_box(f());
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "predict 1,000 scenarios, {what}: {:.2} ms (best of 10)",
        best * 1e3
    );
}
