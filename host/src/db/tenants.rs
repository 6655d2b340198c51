//! The tenants table: created and changed by platform admins, read by a
//! tenant's own requests through RLS.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{PlatformTx, TenantTx};
use crate::ids::TenantId;
use crate::roles::TenantStatus;

crate::db::row::record! {
    #[derive(Clone, Debug, Serialize, ToSchema)]
    pub struct Tenant {
        pub id: TenantId,
        pub slug: String,
        pub name: String,
        pub status: TenantStatus,
        pub plan: String,
        pub settings: serde_json::Value,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

pub struct NewTenant<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub plan: &'a str,
    pub settings: &'a serde_json::Value,
}

/// Fields a platform admin may change; `None` leaves a field as it is.
#[derive(Default)]
pub struct TenantChanges {
    pub name: Option<String>,
    pub status: Option<TenantStatus>,
    pub plan: Option<String>,
    pub settings: Option<serde_json::Value>,
}

// Constraint violations here are client errors (409), not failures.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn insert(tx: &mut PlatformTx, new: NewTenant<'_>) -> Result<Tenant, sqlx::Error> {
    sqlx::query_as(
        "insert into tenants (id, slug, name, plan, settings) values ($1, $2, $3, $4, $5)
         returning id, slug, name, status, plan, settings, created_at, updated_at",
    )
    .bind(TenantId::new())
    .bind(new.slug)
    .bind(new.name)
    .bind(new.plan)
    .bind(new.settings)
    .fetch_one(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn list(
    tx: &mut PlatformTx,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Tenant>, i64), sqlx::Error> {
    let rows = sqlx::query_as(
        "select id, slug, name, status, plan, settings, created_at, updated_at
         from tenants order by created_at, id limit $1 offset $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    let total = sqlx::query_scalar("select count(*) from tenants")
        .fetch_one(tx.conn())
        .await?;
    Ok((rows, total))
}

#[tracing::instrument(skip_all, err)]
pub async fn fetch(tx: &mut PlatformTx, id: TenantId) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as(
        "select id, slug, name, status, plan, settings, created_at, updated_at
         from tenants where id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

/// The tenant id for a slug, for logins that name their tenant.
#[tracing::instrument(skip_all, err)]
pub async fn id_by_slug(tx: &mut PlatformTx, slug: &str) -> Result<Option<TenantId>, sqlx::Error> {
    sqlx::query_scalar("select id from tenants where slug = $1")
        .bind(slug)
        .fetch_optional(tx.conn())
        .await
}

#[tracing::instrument(skip_all, err)]
pub async fn update(
    tx: &mut PlatformTx,
    id: TenantId,
    changes: TenantChanges,
) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as(
        "update tenants set
            name = coalesce($2, name),
            status = coalesce($3, status),
            plan = coalesce($4, plan),
            settings = coalesce($5, settings),
            updated_at = now()
         where id = $1
         returning id, slug, name, status, plan, settings, created_at, updated_at",
    )
    .bind(id)
    .bind(changes.name)
    .bind(changes.status)
    .bind(changes.plan)
    .bind(changes.settings)
    .fetch_optional(tx.conn())
    .await
}

/// The transaction's own tenant, as RLS lets it see itself.
#[tracing::instrument(skip_all, err)]
pub async fn fetch_current(tx: &mut TenantTx) -> Result<Option<Tenant>, sqlx::Error> {
    sqlx::query_as(
        "select id, slug, name, status, plan, settings, created_at, updated_at
         from tenants where id = app_current_tenant()",
    )
    .fetch_optional(tx.conn())
    .await
}

/// Tells every server instance (including this one) that a tenant's cached
/// config is stale; delivered when the transaction commits.
pub async fn notify_changed<'c, E>(conn: E, id: TenantId) -> Result<(), sqlx::Error>
where
    E: sqlx::PgExecutor<'c>,
{
    sqlx::query("select pg_notify('mmm_tenant_changed', $1)")
        .bind(id.to_string())
        .execute(conn)
        .await
        .map(drop)
}
