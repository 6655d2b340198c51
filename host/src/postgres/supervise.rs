//! Keeps the embedded cluster up while the server runs. Something else may
//! stop it (an operator's `pg_ctl stop`, a crash, an older CLI that stopped
//! the cluster it had adopted): the server then starts it again, and the
//! pools reconnect on their own. When it cannot be started, the server must
//! not stay half-alive answering 500s: the supervisor resolves with the
//! reason, and the server shuts down with it so a supervisor of its own
//! (systemd, Kubernetes) restarts it.

use std::sync::Arc;
use std::time::Duration;

use super::embedded::{EmbeddedCluster, EmbeddedError};

/// How often the cluster is checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// Consecutive failed restarts before giving up.
const ATTEMPTS: u32 = 3;

/// Runs until the cluster is gone for good; answers why.
pub async fn supervise(cluster: Arc<EmbeddedCluster>, every: Duration) -> EmbeddedError {
    let mut failures = 0;
    loop {
        tokio::time::sleep(every).await;
        match cluster.ensure_running().await {
            Ok(false) => failures = 0,
            Ok(true) => {
                failures = 0;
                tracing::warn!("the embedded PostgreSQL cluster had stopped; started it again");
            }
            Err(e) => {
                failures += 1;
                tracing::error!(error = %e, attempt = failures, "the embedded PostgreSQL cluster is down and does not start");
                if failures >= ATTEMPTS {
                    return e;
                }
            }
        }
    }
}
