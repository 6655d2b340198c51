//! The plugin registry: global plugins (built-in or published by platform
//! admins), tenant-private plugins under RLS, and the record of runs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{PlatformTx, TenantTx};
use crate::ids::TenantId;

crate::db::row::record! {
    /// A stored plugin as the API lists it (never the bytes).
    #[derive(Clone, Debug, Serialize, ToSchema)]
    pub struct PluginRecord {
        pub name: String,
        pub version: String,
        /// `preprocessor` or `model`.
        pub kind: String,
        pub description: String,
        pub author: String,
        pub params_schema: serde_json::Value,
        pub sha256: String,
        pub size_bytes: i64,
        /// `builtin`, `global` or `tenant`.
        pub scope: String,
        pub created_at: DateTime<Utc>,
    }
}

/// What publishing stores.
pub struct NewPlugin<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub description: &'a str,
    pub author: &'a str,
    pub params_schema: serde_json::Value,
    pub sha256: &'a str,
    pub wasm: &'a [u8],
    pub published_by: Option<Uuid>,
}

const GLOBAL_COLUMNS: &str =
    "name, version, kind, description, author, params_schema, sha256, size_bytes,
     case when builtin then 'builtin' else 'global' end as scope, created_at";

/// Inserts a global plugin; a built-in one replaces an earlier build of the same version.
#[tracing::instrument(skip_all, err)]
pub async fn insert_global(
    tx: &mut PlatformTx,
    new: &NewPlugin<'_>,
    builtin: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into plugins (name, version, kind, description, author, params_schema, sha256, size_bytes, wasm, builtin, published_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (name, version) do update set
            kind = excluded.kind, description = excluded.description, author = excluded.author,
            params_schema = excluded.params_schema, sha256 = excluded.sha256,
            size_bytes = excluded.size_bytes, wasm = excluded.wasm
         where plugins.builtin and excluded.builtin and plugins.sha256 <> excluded.sha256",
    )
    .bind(new.name)
    .bind(new.version)
    .bind(new.kind)
    .bind(new.description)
    .bind(new.author)
    .bind(&new.params_schema)
    .bind(new.sha256)
    .bind(new.wasm.len() as i64)
    .bind(new.wasm)
    .bind(builtin)
    .bind(new.published_by)
    .execute(tx.conn())
    .await
    .map(drop)
}

/// Whether a global plugin of that name and version exists.
#[tracing::instrument(skip_all, err)]
pub async fn global_exists(
    tx: &mut PlatformTx,
    name: &str,
    version: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select from plugins where name = $1 and version = $2)")
        .bind(name)
        .bind(version)
        .fetch_one(tx.conn())
        .await
}

/// Whether any tenant has a private plugin of this name (platform view).
#[tracing::instrument(skip_all, err)]
pub async fn name_used_by_a_tenant(tx: &mut PlatformTx, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select from tenant_plugins where name = $1)")
        .bind(name)
        .fetch_one(tx.conn())
        .await
}

#[tracing::instrument(skip_all, err)]
pub async fn list_global(tx: &mut PlatformTx) -> Result<Vec<PluginRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {GLOBAL_COLUMNS} from plugins order by name, created_at"
    )))
    .fetch_all(tx.conn())
    .await
}

/// Every plugin the transaction's tenant can see: global ones and its own.
#[tracing::instrument(skip_all, err)]
pub async fn list_visible(tx: &mut TenantTx) -> Result<Vec<PluginRecord>, sqlx::Error> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "select {GLOBAL_COLUMNS} from plugins
         union all
         select name, version, kind, description, author, params_schema, sha256, size_bytes,
                'tenant' as scope, created_at
         from tenant_plugins
         order by name, created_at"
    )))
    .fetch_all(tx.conn())
    .await
}

// Constraint violations here are client errors (409), not failures.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn insert_private(tx: &mut TenantTx, new: &NewPlugin<'_>) -> Result<(), sqlx::Error> {
    let tenant: TenantId = tx.tenant();
    sqlx::query(
        "insert into tenant_plugins (tenant_id, name, version, kind, description, author, params_schema, sha256, size_bytes, wasm, published_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(tenant)
    .bind(new.name)
    .bind(new.version)
    .bind(new.kind)
    .bind(new.description)
    .bind(new.author)
    .bind(&new.params_schema)
    .bind(new.sha256)
    .bind(new.wasm.len() as i64)
    .bind(new.wasm)
    .bind(new.published_by)
    .execute(tx.conn())
    .await
    .map(drop)
}

/// Whether a global plugin has this name (tenant view: names are shared).
#[tracing::instrument(skip_all, err)]
pub async fn global_name_exists(tx: &mut TenantTx, name: &str) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select from plugins where name = $1)")
        .bind(name)
        .fetch_one(tx.conn())
        .await
}

/// The bytes of a visible plugin version.
#[tracing::instrument(skip_all, err)]
pub async fn wasm(
    tx: &mut TenantTx,
    name: &str,
    version: &str,
) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar(
        "select wasm from plugins where name = $1 and version = $2
         union all
         select wasm from tenant_plugins where name = $1 and version = $2
         limit 1",
    )
    .bind(name)
    .bind(version)
    .fetch_optional(tx.conn())
    .await
}

pub struct NewRun<'a> {
    pub plugin_name: &'a str,
    pub plugin_version: &'a str,
    pub succeeded: bool,
    pub error_code: Option<&'a str>,
    pub duration_ms: i64,
    pub input_bytes: i64,
    pub output_bytes: i64,
    pub run_by: Uuid,
}

#[tracing::instrument(skip_all, err)]
pub async fn record_run(tx: &mut TenantTx, run: NewRun<'_>) -> Result<(), sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query(
        "insert into plugin_runs (tenant_id, id, plugin_name, plugin_version, succeeded, error_code,
                                  duration_ms, input_bytes, output_bytes, run_by)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(tenant)
    .bind(Uuid::new_v4())
    .bind(run.plugin_name)
    .bind(run.plugin_version)
    .bind(run.succeeded)
    .bind(run.error_code)
    .bind(run.duration_ms)
    .bind(run.input_bytes)
    .bind(run.output_bytes)
    .bind(run.run_by)
    .execute(tx.conn())
    .await
    .map(drop)
}
