//! Counts for the admin dashboards, read across tenants by the platform role.

use serde::Serialize;
use utoipa::ToSchema;

use super::PlatformTx;
use crate::ids::TenantId;

crate::db::row::record! {
    #[derive(Debug, Serialize, ToSchema)]
    pub struct TenantStatistics {
        pub users: i64,
        pub features_enabled: i64,
        pub audit_events: i64,
        pub private_plugins: i64,
        pub plugin_runs: i64,
        pub failed_plugin_runs: i64,
        /// Distinct data source names.
        pub data_sources: i64,
        pub data_source_versions: i64,
        pub data_rows: i64,
        pub data_bytes: i64,
        pub analyses: i64,
        pub analyses_succeeded: i64,
        pub analyses_failed: i64,
        /// Queued or running now.
        pub analyses_active: i64,
        /// Stored results (one per succeeded analysis).
        pub analysis_results: i64,
    }
}

crate::db::row::record! {
    #[derive(Debug, Serialize, ToSchema)]
    pub struct PlatformStatistics {
        pub tenants: i64,
        pub active_tenants: i64,
        pub suspended_tenants: i64,
        pub users: i64,
        pub platform_admins: i64,
        pub global_plugins: i64,
        pub private_plugins: i64,
        pub plugin_runs: i64,
        pub data_sources: i64,
        pub data_source_versions: i64,
        pub data_rows: i64,
        pub data_bytes: i64,
        pub analyses: i64,
        pub analyses_succeeded: i64,
        pub analyses_failed: i64,
        pub analyses_active: i64,
        pub analysis_results: i64,
    }
}

#[tracing::instrument(skip_all, err)]
pub async fn for_tenant(
    tx: &mut PlatformTx,
    id: TenantId,
) -> Result<TenantStatistics, sqlx::Error> {
    sqlx::query_as(
        "select
            (select count(*) from users where tenant_id = $1) as users,
            (select count(*) from tenant_features where tenant_id = $1 and enabled) as features_enabled,
            (select count(*) from audit_log where tenant_id = $1) as audit_events,
            (select count(*) from tenant_plugins where tenant_id = $1) as private_plugins,
            (select count(*) from plugin_runs where tenant_id = $1) as plugin_runs,
            (select count(*) from plugin_runs where tenant_id = $1 and not succeeded) as failed_plugin_runs,
            (select count(distinct name) from data_sources where tenant_id = $1) as data_sources,
            (select count(*) from data_sources where tenant_id = $1) as data_source_versions,
            (select coalesce(sum(row_count), 0)::bigint from data_sources where tenant_id = $1) as data_rows,
            (select coalesce(sum(size_bytes), 0)::bigint from data_sources where tenant_id = $1) as data_bytes,
            (select count(*) from analyses where tenant_id = $1) as analyses,
            (select count(*) from analyses where tenant_id = $1 and status = 'succeeded') as analyses_succeeded,
            (select count(*) from analyses where tenant_id = $1 and status = 'failed') as analyses_failed,
            (select count(*) from analyses where tenant_id = $1 and status in ('queued', 'running')) as analyses_active,
            (select count(*) from analysis_results where tenant_id = $1) as analysis_results",
    )
    .bind(id)
    .fetch_one(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn platform(tx: &mut PlatformTx) -> Result<PlatformStatistics, sqlx::Error> {
    sqlx::query_as(
        "select
            (select count(*) from tenants) as tenants,
            (select count(*) from tenants where status = 'active') as active_tenants,
            (select count(*) from tenants where status = 'suspended') as suspended_tenants,
            (select count(*) from users) as users,
            (select count(*) from platform_admins) as platform_admins,
            (select count(*) from plugins) as global_plugins,
            (select count(*) from tenant_plugins) as private_plugins,
            (select count(*) from plugin_runs) as plugin_runs,
            (select count(*) from (select distinct tenant_id, name from data_sources) d) as data_sources,
            (select count(*) from data_sources) as data_source_versions,
            (select coalesce(sum(row_count), 0)::bigint from data_sources) as data_rows,
            (select coalesce(sum(size_bytes), 0)::bigint from data_sources) as data_bytes,
            (select count(*) from analyses) as analyses,
            (select count(*) from analyses where status = 'succeeded') as analyses_succeeded,
            (select count(*) from analyses where status = 'failed') as analyses_failed,
            (select count(*) from analyses where status in ('queued', 'running')) as analyses_active,
            (select count(*) from analysis_results) as analysis_results",
    )
    .fetch_one(tx.conn())
    .await
}
