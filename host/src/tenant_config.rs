//! A tenant's row and feature flags, read through a moka cache keyed by
//! tenant id: the only way request code reads a tenant's config. Entries
//! expire after a TTL and are invalidated explicitly when an admin changes
//! them, on every instance, through PostgreSQL LISTEN/NOTIFY.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use serde::Serialize;
use sqlx::postgres::PgListener;

use crate::auth::accounts::Accounts;
use crate::db::features::Feature;
use crate::db::tenants::Tenant;
use crate::db::{self, Db};
use crate::ids::TenantId;
use crate::roles::TenantStatus;

pub const CHANNEL: &str = "mmm_tenant_changed";

/// A notification on [`CHANNEL`]: `<tenant>` when a tenant's row or
/// features changed, `<tenant>:<user>` when one of its users did.
#[derive(Debug, PartialEq)]
enum Change {
    Tenant(TenantId),
    User(TenantId, uuid::Uuid),
}

impl Change {
    fn parse(payload: &str) -> Option<Self> {
        match payload.split_once(':') {
            None => payload.parse().ok().map(Change::Tenant),
            Some((tenant, user)) => Some(Change::User(tenant.parse().ok()?, user.parse().ok()?)),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct TenantConfig {
    pub tenant: Tenant,
    pub features: Vec<Feature>,
}

impl TenantConfig {
    pub fn is_active(&self) -> bool {
        self.tenant.status == TenantStatus::Active
    }

    pub fn feature(&self, key: &str) -> Option<&Feature> {
        self.features.iter().find(|f| f.key == key)
    }

    pub fn is_enabled(&self, key: &str) -> bool {
        self.feature(key).is_some_and(|f| f.enabled)
    }

    pub fn enabled_features(&self) -> Vec<String> {
        self.features
            .iter()
            .filter(|f| f.enabled)
            .map(|f| f.key.clone())
            .collect()
    }
}

/// Why a config was not loaded; neither outcome is cached.
#[derive(Debug)]
enum Load {
    Missing,
    Failed(Arc<sqlx::Error>),
}

impl From<sqlx::Error> for Load {
    fn from(e: sqlx::Error) -> Self {
        Load::Failed(Arc::new(e))
    }
}

#[derive(Clone, Debug)]
pub struct TenantConfigs {
    cache: Cache<TenantId, Arc<TenantConfig>>,
    /// Per-user revocation checks, invalidated through the same channel.
    accounts: Accounts,
    db: Db,
}

impl TenantConfigs {
    pub fn new(db: Db, ttl: Duration) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            accounts: Accounts::new(db.clone(), ttl),
            db,
        }
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// The tenant's config, `None` when no such tenant exists.
    pub async fn get(&self, id: TenantId) -> Result<Option<Arc<TenantConfig>>, Arc<sqlx::Error>> {
        use crate::telemetry::metrics::TENANT_CACHE;
        if let Some(hit) = self.cache.get(&id).await {
            metrics::counter!(TENANT_CACHE, "result" => "hit").increment(1);
            return Ok(Some(hit));
        }
        metrics::counter!(TENANT_CACHE, "result" => "miss").increment(1);
        // Only tenants that exist are cached: ids come from unauthenticated
        // input too (a refresh token's prefix), and cached misses for made-up
        // ids would push real tenants out. Concurrent loads of one id still
        // share one query.
        match self.cache.try_get_with(id, self.load(id)).await {
            Ok(config) => Ok(Some(config)),
            Err(e) => match &*e {
                Load::Missing => Ok(None),
                Load::Failed(e) => Err(e.clone()),
            },
        }
    }

    /// How many tenants' configs are cached now (after pending evictions).
    pub async fn cached(&self) -> u64 {
        self.cache.run_pending_tasks().await;
        self.cache.entry_count()
    }

    pub async fn invalidate(&self, id: TenantId) {
        self.cache.invalidate(&id).await;
    }

    async fn load(&self, id: TenantId) -> Result<Arc<TenantConfig>, Load> {
        let mut tx = self.db.tenant_tx(id).await?;
        let Some(tenant) = db::tenants::fetch_current(&mut tx).await? else {
            return Err(Load::Missing);
        };
        let features = db::features::list(&mut tx).await?;
        tx.commit().await?;
        Ok(Arc::new(TenantConfig { tenant, features }))
    }

    /// Listens for change notifications from any instance and drops the
    /// named entries; reconnects on its own when the connection drops.
    pub async fn listen(self, mut listener: PgListener) {
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::error!(error = %e, "cannot listen for tenant changes; relying on the cache TTL");
            return;
        }
        loop {
            match listener.recv().await {
                Ok(notification) => match Change::parse(notification.payload()) {
                    Some(Change::Tenant(id)) => self.invalidate(id).await,
                    Some(Change::User(tenant, user)) => {
                        self.accounts.invalidate(tenant, user).await
                    }
                    None => {
                        tracing::warn!(payload = notification.payload(), "bad tenant notification")
                    }
                },
                Err(e) => {
                    // Changes may have been missed while disconnected.
                    tracing::warn!(error = %e, "tenant change listener lost its connection");
                    self.cache.invalidate_all();
                    self.accounts.invalidate_all();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_name_a_tenant_or_one_of_its_users() {
        let t = uuid::Uuid::new_v4();
        let u = uuid::Uuid::new_v4();
        assert_eq!(
            Change::parse(&t.to_string()),
            Some(Change::Tenant(t.to_string().parse().unwrap()))
        );
        assert_eq!(
            Change::parse(&format!("{t}:{u}")),
            Some(Change::User(t.to_string().parse().unwrap(), u))
        );
        assert_eq!(Change::parse("nonsense"), None);
        assert_eq!(Change::parse(&format!("{t}:x")), None);
    }
}
