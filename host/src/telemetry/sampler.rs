//! Gauges that no request sets: the queue (read from PostgreSQL, so every
//! instance reports the same cluster-wide figures and any one of them can
//! drive a worker autoscaler) and this process's database pools.

use std::collections::HashSet;
use std::time::Duration;

use super::metrics::{ANALYSES, DB_CONNECTIONS, QUEUE_DEPTH, QUEUE_OLDEST_AGE, handle};
use crate::db::{self, Db};

/// How often the gauges are refreshed; Prometheus scrapes every 15–60 s.
pub const EVERY: Duration = Duration::from_secs(5);

/// Refreshes the gauges every `every` until the task is aborted.
pub async fn run(db: Db, every: Duration) {
    let mut seen = HashSet::new();
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        sample_pools(&db);
        if let Err(e) = sample_queue(&db, &mut seen).await {
            tracing::warn!(error = %e, "cannot read the queue for its metrics");
        }
        // Without its own listener the exporter needs this to age histograms.
        handle().run_upkeep();
    }
}

fn sample_pools(db: &Db) {
    for (pool, p) in db.pools() {
        let size = f64::from(p.size());
        let idle = p.num_idle() as f64;
        metrics::gauge!(DB_CONNECTIONS, "pool" => pool, "state" => "idle").set(idle);
        metrics::gauge!(DB_CONNECTIONS, "pool" => pool, "state" => "in_use").set(size - idle);
    }
}

/// `seen` holds the (status, model) pairs reported before, so a pair that
/// emptied is reported as 0 rather than frozen at its last value.
async fn sample_queue(db: &Db, seen: &mut HashSet<(String, String)>) -> Result<(), sqlx::Error> {
    let mut tx = db.platform_tx().await?;
    let stats = db::queue::stats(&mut tx).await?;
    tx.commit().await?;
    metrics::gauge!(QUEUE_DEPTH).set(stats.due as f64);
    metrics::gauge!(QUEUE_OLDEST_AGE).set(stats.oldest_due_secs);
    let mut now = HashSet::new();
    for (status, model, n) in stats.active {
        metrics::gauge!(ANALYSES, "status" => status.clone(), "model" => model.clone())
            .set(n as f64);
        now.insert((status, model));
    }
    for (status, model) in seen.difference(&now) {
        metrics::gauge!(ANALYSES, "status" => status.clone(), "model" => model.clone()).set(0.0);
    }
    *seen = now;
    Ok(())
}
