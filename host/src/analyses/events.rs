//! Analysis changes as they happen, from PostgreSQL's `NOTIFY` (sent by a
//! trigger on every insert and update, at commit) to in-process
//! subscribers: event streams and the workers holding the changed job. One
//! listener connection per process, whatever the number of subscribers.

use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::ids::TenantId;

pub const CHANNEL: &str = "mmm_analysis_changed";

/// One analysis changed (its row says how).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub tenant: TenantId,
    pub id: Uuid,
}

#[derive(Debug, Clone)]
pub struct AnalysisEvents {
    sender: broadcast::Sender<Change>,
    /// Set when the process stops, so long-lived streams end and let the
    /// server's graceful shutdown finish.
    closed: std::sync::Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for AnalysisEvents {
    fn default() -> Self {
        Self::new()
    }
}

impl AnalysisEvents {
    pub fn new() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            closed: std::sync::Arc::new(tokio::sync::watch::channel(false).0),
        }
    }

    /// Ends every stream: the process is stopping.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Resolves once [`close`](Self::close) was called.
    pub async fn closed(&self) {
        let mut closed = self.closed.subscribe();
        let _ = closed.wait_for(|c| *c).await;
    }

    /// Changes from now on. A subscriber that falls behind loses changes
    /// (`Lagged`) and should re-read what it watches; nobody blocks.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }

    /// Forwards notifications until the task is aborted. The listener
    /// reconnects by itself; changes missed meanwhile are caught by the
    /// subscribers' own periodic re-reads.
    pub async fn listen(self, mut listener: PgListener) {
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::error!(error = %e, "cannot listen for analysis changes");
            return;
        }
        loop {
            match listener.recv().await {
                Ok(notification) => {
                    if let Some(change) = parse(notification.payload()) {
                        let _ = self.sender.send(change);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "analysis change listener lost its connection");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

fn parse(payload: &str) -> Option<Change> {
    let (tenant, id) = payload.split_once(':')?;
    Some(Change {
        tenant: TenantId(tenant.parse().ok()?),
        id: id.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_tenant_and_analysis() {
        let (t, a) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(
            parse(&format!("{t}:{a}")),
            Some(Change {
                tenant: TenantId(t),
                id: a
            })
        );
        assert_eq!(parse("garbage"), None);
    }
}
