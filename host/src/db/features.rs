//! Per-tenant feature flags (`plugin:<name>` and others), each with a config.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::TenantTx;

crate::db::row::record! {
    #[derive(Clone, Debug, Serialize, ToSchema)]
    pub struct Feature {
        pub key: String,
        pub enabled: bool,
        pub config: serde_json::Value,
        pub updated_at: DateTime<Utc>,
    }
}

#[tracing::instrument(skip_all, err)]
pub async fn list(tx: &mut TenantTx) -> Result<Vec<Feature>, sqlx::Error> {
    sqlx::query_as("select key, enabled, config, updated_at from tenant_features order by key")
        .fetch_all(tx.conn())
        .await
}

#[tracing::instrument(skip_all, err)]
pub async fn upsert(
    tx: &mut TenantTx,
    key: &str,
    enabled: bool,
    config: &serde_json::Value,
) -> Result<Feature, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as(
        "insert into tenant_features (tenant_id, key, enabled, config) values ($1, $2, $3, $4)
         on conflict (tenant_id, key) do update
            set enabled = excluded.enabled, config = excluded.config, updated_at = now()
         returning key, enabled, config, updated_at",
    )
    .bind(tenant)
    .bind(key)
    .bind(enabled)
    .bind(config)
    .fetch_one(tx.conn())
    .await
}
