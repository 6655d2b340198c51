//! Platform administrators: they belong to no tenant, so they live outside
//! the tenant tables, reachable only through the platform role.

use super::PlatformTx;
use crate::ids::AdminId;

crate::db::row::record! {
    #[derive(Debug)]
    pub struct AdminCredentials {
        pub id: AdminId,
        pub password_hash: String,
    }
}

crate::db::row::record! {
    #[derive(Debug)]
    pub struct Admin {
        pub id: AdminId,
        pub email: String,
    }
}

// Constraint violations here are client errors (409), not failures.
#[tracing::instrument(skip_all, err(level = "debug"))]
pub async fn insert(
    tx: &mut PlatformTx,
    email: &str,
    password_hash: &str,
) -> Result<AdminId, sqlx::Error> {
    sqlx::query_scalar(
        "insert into platform_admins (id, email, password_hash) values ($1, $2, $3) returning id",
    )
    .bind(AdminId::new())
    .bind(email)
    .bind(password_hash)
    .fetch_one(tx.conn())
    .await
}

#[tracing::instrument(skip_all, err)]
pub async fn any_exists(tx: &mut PlatformTx) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select from platform_admins)")
        .fetch_one(tx.conn())
        .await
}

#[tracing::instrument(skip_all, err)]
pub async fn credentials(
    tx: &mut PlatformTx,
    email: &str,
) -> Result<Option<AdminCredentials>, sqlx::Error> {
    sqlx::query_as("select id, password_hash from platform_admins where email = $1")
        .bind(email)
        .fetch_optional(tx.conn())
        .await
}

#[tracing::instrument(skip_all, err)]
pub async fn fetch(tx: &mut PlatformTx, id: AdminId) -> Result<Option<Admin>, sqlx::Error> {
    sqlx::query_as("select id, email from platform_admins where id = $1")
        .bind(id)
        .fetch_optional(tx.conn())
        .await
}
