//! Recommendations against a real server, its own embedded PostgreSQL and
//! the release-built ridge-mmm component, over HTTP: `max_response` on the
//! 5-channel example analysis and on a 20-channel synthetic one. Reports
//! the server-side time (the answer's `solver.milliseconds`: optimisation
//! and final scoring, all `predict` calls included), the HTTP round trip
//! (plus loading the analysis and storing the answer), predict calls and
//! scenarios scored.
//!
//! `cargo bench --profile dev -p mmm-host --bench recommendations`

mod support;

use std::time::Instant;

use serde_json::{Value, json};
use support::{Bench, percentile, wait};

const RUNS: usize = 20;

async fn measure(bench: &Bench, label: &str, params: Value) {
    let ds = &bench.ds;
    let run = json!({ "source_id": bench.source["id"], "params": params, "preprocessors": [] });
    let queued = ds
        .send(reqwest::Method::POST, "/tenant/analysis/run", Some(run))
        .await;
    let analysis = queued["id"].as_str().unwrap().to_owned();
    wait(ds, &analysis).await;
    let body = json!({ "analysis_id": analysis });
    // Warm-up: the component is loaded, the artifact read once.
    ds.send(
        reqwest::Method::POST,
        "/tenant/recommendations",
        Some(body.clone()),
    )
    .await;
    let (mut server, mut round_trip) = (Vec::new(), Vec::new());
    let mut last = Value::Null;
    for _ in 0..RUNS {
        let started = Instant::now();
        last = ds
            .send(
                reqwest::Method::POST,
                "/tenant/recommendations",
                Some(body.clone()),
            )
            .await;
        round_trip.push(started.elapsed().as_secs_f64() * 1e3);
        server.push(last["solver"]["milliseconds"].as_f64().unwrap());
    }
    server.sort_by(f64::total_cmp);
    round_trip.sort_by(f64::total_cmp);
    let solver = &last["solver"];
    println!(
        "{label}: server-side p50 {:.1} ms, p90 {:.1} ms; HTTP round trip p50 {:.1} ms; {} predict calls, {} scenarios, {} local iterations; expected change {:+.0} ({RUNS} runs)",
        percentile(&server, 0.5),
        percentile(&server, 0.9),
        percentile(&round_trip, 0.5),
        solver["predict_calls"],
        solver["scenarios"],
        solver["iterations"],
        last["totals"]["expected_kpi_change"]["value"]
            .as_f64()
            .unwrap(),
    );
}

#[tokio::main]
async fn main() {
    let roles: Value = serde_json::from_str(include_str!("../../examples/roles.json")).unwrap();
    let bench = support::start("recommendations", 1, support::EXAMPLE, roles).await;
    measure(&bench, "5 channels (the example, 156 weeks)", json!({})).await;
    bench.stop().await;

    let data = mmm_synth::generate(&mmm_synth::SynthConfig {
        seed: 20,
        channels: 20,
        ..Default::default()
    });
    let roles = serde_json::from_str(&data.roles_json()).unwrap();
    let bench = support::start("recommendations-20", 1, &data.to_csv(), roles).await;
    measure(
        &bench,
        "20 channels (synthetic, 156 weeks)",
        json!({ "budget": 4000 }),
    )
    .await;
    bench.stop().await;
}
