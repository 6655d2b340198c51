//! Users of one tenant; every function runs inside that tenant's transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::TenantTx;
use crate::ids::{TenantId, UserId};
use crate::roles::TenantRole;

crate::db::row::record! {
    /// A user as the API shows it: never the hash.
    #[derive(Clone, Debug, Serialize, ToSchema)]
    pub struct User {
        pub id: UserId,
        pub tenant_id: TenantId,
        pub email: String,
        pub role: TenantRole,
        pub created_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
    }
}

crate::db::row::record! {
    /// What login needs to check a password.
    #[derive(Debug)]
    pub struct Credentials {
        pub id: UserId,
        pub role: TenantRole,
        pub password_hash: String,
    }
}

// Constraint violations here are client errors (409), not failures.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn insert(
    tx: &mut TenantTx,
    email: &str,
    password_hash: &str,
    role: TenantRole,
) -> Result<User, sqlx::Error> {
    let tenant = tx.tenant();
    sqlx::query_as(
        "insert into users (tenant_id, id, email, password_hash, role) values ($1, $2, $3, $4, $5)
         returning id, tenant_id, email, role, created_at, updated_at",
    )
    .bind(tenant)
    .bind(UserId::new())
    .bind(email)
    .bind(password_hash)
    .bind(role)
    .fetch_one(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn list(
    tx: &mut TenantTx,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64), sqlx::Error> {
    let rows = sqlx::query_as(
        "select id, tenant_id, email, role, created_at, updated_at
         from users order by created_at, id limit $1 offset $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(tx.conn())
    .await?;
    let total = sqlx::query_scalar("select count(*) from users")
        .fetch_one(tx.conn())
        .await?;
    Ok((rows, total))
}

#[tracing::instrument(skip_all, err)]
pub async fn fetch(tx: &mut TenantTx, id: UserId) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "select id, tenant_id, email, role, created_at, updated_at from users where id = $1",
    )
    .bind(id)
    .fetch_optional(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn credentials(
    tx: &mut TenantTx,
    email: &str,
) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("select id, role, password_hash from users where email = $1")
        .bind(email)
        .fetch_optional(tx.conn())
        .await
}

#[tracing::instrument(skip_all, err)]
pub async fn update_role(
    tx: &mut TenantTx,
    id: UserId,
    role: TenantRole,
) -> Result<Option<User>, sqlx::Error> {
    sqlx::query_as(
        "update users set role = $2, updated_at = now() where id = $1
         returning id, tenant_id, email, role, created_at, updated_at",
    )
    .bind(id)
    .bind(role)
    .fetch_optional(tx.conn())
    .await
}

/// Deletes a user (their refresh tokens go with them); false when unknown.
#[tracing::instrument(skip_all, err)]
pub async fn delete(tx: &mut TenantTx, id: UserId) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("delete from users where id = $1")
        .bind(id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// How many tenant admins remain, so the last one cannot demote or delete itself away.
#[tracing::instrument(skip_all, err)]
pub async fn count_admins(tx: &mut TenantTx) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("select count(*) from users where role = 'tenant_admin'")
        .fetch_one(tx.conn())
        .await
}
