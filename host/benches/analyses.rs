//! Analyses end to end against a real server, its own embedded PostgreSQL
//! and its in-server workers, over HTTP:
//! - latency: the 156-week example from `POST /tenant/analysis/run` to
//!   `succeeded` on `GET`, one at a time (p50, p90), and how much of it is
//!   not the fit itself;
//! - throughput: 50 queued fits on 2 workers (fits per minute), and the
//!   queue's overhead per job (everything but the plugin calls).
//!
//! `cargo bench --profile dev -p mmm-host --bench analyses` (the plugins are
//! release-built wasm either way; the host's profile matters little here).

mod support;

use std::time::Instant;

use serde_json::{Value, json};
use support::{millis, percentile, wait};

#[tokio::main]
async fn main() {
    let roles: Value = serde_json::from_str(include_str!("../../examples/roles.json")).unwrap();
    let bench = support::start("analyses", 2, support::EXAMPLE, roles).await;
    let (ds, source) = (&bench.ds, &bench.source);
    let run = json!({ "source_id": source["id"], "preprocessors": [] });

    // Warm-up: compiles (or loads) the component once.
    let warm = ds
        .send(
            reqwest::Method::POST,
            "/tenant/analysis/run",
            Some(run.clone()),
        )
        .await;
    wait(ds, warm["id"].as_str().unwrap()).await;

    let mut latencies = Vec::new();
    let mut fits = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let queued = ds
            .send(
                reqwest::Method::POST,
                "/tenant/analysis/run",
                Some(run.clone()),
            )
            .await;
        let done = wait(ds, queued["id"].as_str().unwrap()).await;
        latencies.push(started.elapsed().as_secs_f64() * 1000.0);
        fits.push(done["fit_ms"].as_f64().unwrap());
    }
    latencies.sort_by(f64::total_cmp);
    fits.sort_by(f64::total_cmp);
    println!(
        "end to end (156 weeks, 10,000 candidates, POST → succeeded on GET, 15 runs): p50 {:.0} ms, p90 {:.0} ms; plugin calls p50 {:.0} ms; the rest p50 {:.0} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&fits, 0.5),
        percentile(&latencies, 0.5) - percentile(&fits, 0.5)
    );

    let started = Instant::now();
    let mut ids = Vec::new();
    for _ in 0..50 {
        let queued = ds
            .send(
                reqwest::Method::POST,
                "/tenant/analysis/run",
                Some(run.clone()),
            )
            .await;
        ids.push(queued["id"].as_str().unwrap().to_owned());
    }
    let mut done = Vec::new();
    for id in &ids {
        done.push(wait(ds, id).await);
    }
    let first_start = done
        .iter()
        .map(|a| millis(a, "started_at"))
        .fold(f64::INFINITY, f64::min);
    let last_end = done
        .iter()
        .map(|a| millis(a, "finished_at"))
        .fold(0.0, f64::max);
    let wall = (last_end - first_start) / 1000.0;
    let plugin_ms: f64 = done.iter().map(|a| a["fit_ms"].as_f64().unwrap()).sum();
    let held_ms: f64 = done
        .iter()
        .map(|a| millis(a, "finished_at") - millis(a, "started_at"))
        .sum();
    let overhead = (wall * 1000.0 * 2.0 - plugin_ms) / 50.0;
    println!(
        "throughput (50 queued fits, 2 in-server workers): {:.1} fits/min (queue to last result {:.1} s, from first claim {wall:.1} s)",
        50.0 / wall * 60.0,
        started.elapsed().as_secs_f64()
    );
    println!(
        "per job: plugin calls {:.0} ms; held but not in a plugin (load data, look up plugins, store results) {:.1} ms; worker time not in a plugin, hand-offs included {overhead:.1} ms",
        plugin_ms / 50.0,
        (held_ms - plugin_ms) / 50.0
    );
    // The queue's own statement: one reap + claim transaction (here over the
    // 66 finished analyses, finding nothing to take), as each worker runs it
    // once per job and once per idle poll.
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        let mut tx = bench.databases.db.platform_tx().await.unwrap();
        mmm_host::db::queue::reap(&mut tx).await.unwrap();
        let claim = mmm_host::db::queue::claim(&mut tx, "bench", 30.0, 2)
            .await
            .unwrap();
        assert!(claim.is_none());
        tx.commit().await.unwrap();
    }
    println!(
        "queue: reap + claim transaction {:.2} ms each ({rounds} rounds)",
        started.elapsed().as_secs_f64() * 1000.0 / rounds as f64
    );
    bench.stop().await;
}
