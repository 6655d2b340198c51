//! A tenant's row and feature flags, read through a moka cache keyed by
//! tenant id: the only way request code reads a tenant's config. Entries
//! expire after a TTL and are invalidated explicitly when an admin changes
//! them, on every instance, through PostgreSQL LISTEN/NOTIFY.

use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;
use serde::Serialize;
use sqlx::postgres::PgListener;

use crate::db::features::Feature;
use crate::db::tenants::Tenant;
use crate::db::{self, Db};
use crate::ids::TenantId;
use crate::roles::TenantStatus;

pub const CHANNEL: &str = "mmm_tenant_changed";

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

#[derive(Clone, Debug)]
pub struct TenantConfigs {
    cache: Cache<TenantId, Option<Arc<TenantConfig>>>,
    db: Db,
}

impl TenantConfigs {
    pub fn new(db: Db, ttl: Duration) -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(10_000)
                .time_to_live(ttl)
                .build(),
            db,
        }
    }

    /// The tenant's config, `None` when no such tenant exists.
    pub async fn get(&self, id: TenantId) -> Result<Option<Arc<TenantConfig>>, Arc<sqlx::Error>> {
        self.cache.try_get_with(id, self.load(id)).await
    }

    pub async fn invalidate(&self, id: TenantId) {
        self.cache.invalidate(&id).await;
    }

    async fn load(&self, id: TenantId) -> Result<Option<Arc<TenantConfig>>, sqlx::Error> {
        let mut tx = self.db.tenant_tx(id).await?;
        let Some(tenant) = db::tenants::fetch_current(&mut tx).await? else {
            return Ok(None);
        };
        let features = db::features::list(&mut tx).await?;
        tx.commit().await?;
        Ok(Some(Arc::new(TenantConfig { tenant, features })))
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
                Ok(notification) => match notification.payload().parse::<TenantId>() {
                    Ok(id) => self.invalidate(id).await,
                    Err(_) => {
                        tracing::warn!(payload = notification.payload(), "bad tenant notification")
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "tenant change listener lost its connection");
                    self.cache.invalidate_all();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }
}
