//! The audit log: one row per admin action, written in the action's own
//! transaction so an action and its record commit or vanish together.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::ids::TenantId;

pub struct Entry<'a> {
    pub tenant: Option<TenantId>,
    pub actor: Uuid,
    pub actor_role: &'a str,
    pub action: &'a str,
    pub details: serde_json::Value,
}

#[tracing::instrument(skip_all, err)]
pub async fn record<'c>(conn: impl PgExecutor<'c>, entry: Entry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into audit_log (tenant_id, actor_id, actor_role, action, details)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(entry.tenant)
    .bind(entry.actor)
    .bind(entry.actor_role)
    .bind(entry.action)
    .bind(entry.details)
    .execute(conn)
    .await
    .map(drop)
}
