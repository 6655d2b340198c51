//! Login throttling per account name (tenant + email), whether or not the
//! account exists, so throttling reveals nothing: after `MAX_FAILURES`
//! failures in the window, logins for that name are refused until it ends.
//! Counts are per server instance.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use moka::future::Cache;

const MAX_FAILURES: u32 = 5;
const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Clone, Debug)]
pub struct LoginThrottle {
    failures: Cache<String, Arc<AtomicU32>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        Self {
            failures: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(WINDOW)
                .build(),
        }
    }
}

impl LoginThrottle {
    fn key(tenant: Option<&str>, email: &str) -> String {
        format!("{}\u{0}{email}", tenant.unwrap_or(""))
    }

    pub async fn is_locked(&self, tenant: Option<&str>, email: &str) -> bool {
        self.failures
            .get(&Self::key(tenant, email))
            .await
            .is_some_and(|n| n.load(Ordering::Relaxed) >= MAX_FAILURES)
    }

    pub async fn record_failure(&self, tenant: Option<&str>, email: &str) {
        let counter = self
            .failures
            .get_with(Self::key(tenant, email), async {
                Arc::new(AtomicU32::new(0))
            })
            .await;
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub async fn clear(&self, tenant: Option<&str>, email: &str) {
        self.failures.invalidate(&Self::key(tenant, email)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_account_locks_after_repeated_failures_and_only_that_account() {
        let throttle = LoginThrottle::default();
        for _ in 0..MAX_FAILURES - 1 {
            throttle.record_failure(Some("acme"), "a@x.io").await;
        }
        assert!(!throttle.is_locked(Some("acme"), "a@x.io").await);
        throttle.record_failure(Some("acme"), "a@x.io").await;
        assert!(throttle.is_locked(Some("acme"), "a@x.io").await);
        assert!(!throttle.is_locked(Some("other"), "a@x.io").await);
        assert!(!throttle.is_locked(None, "a@x.io").await);
    }
}
