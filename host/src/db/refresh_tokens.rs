//! Refresh tokens, stored only as SHA-256 hashes and grouped in families: a
//! token works once, and presenting a used one revokes its whole family.
//! Tenant users' tokens live under RLS; platform admins' in their own table.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::{PlatformTx, TenantTx};

/// A transaction that can hold refresh tokens: picks the table and its SQL.
pub trait TokenStore {
    #[doc(hidden)]
    fn parts(&mut self) -> (&mut PgConnection, Option<Uuid>, &'static Sql);
}

#[doc(hidden)]
pub struct Sql {
    insert: &'static str,
    claim: &'static str,
    is_known: &'static str,
    revoke_family: &'static str,
}

const TENANT_SQL: Sql = Sql {
    insert: "insert into refresh_tokens (tenant_id, id, user_id, family_id, token_hash, expires_at)
             values ($6, $1, $2, $3, $4, $5)",
    claim: "update refresh_tokens set used_at = now()
            where token_hash = $1 and used_at is null and revoked_at is null and expires_at > now()
            returning user_id, family_id",
    is_known: "select family_id from refresh_tokens where token_hash = $1",
    revoke_family: "update refresh_tokens set revoked_at = now()
                    where family_id = $1 and revoked_at is null",
};

const PLATFORM_SQL: Sql = Sql {
    insert: "insert into platform_refresh_tokens (id, admin_id, family_id, token_hash, expires_at)
             values ($1, $2, $3, $4, $5)",
    claim: "update platform_refresh_tokens set used_at = now()
            where token_hash = $1 and used_at is null and revoked_at is null and expires_at > now()
            returning admin_id, family_id",
    is_known: "select family_id from platform_refresh_tokens where token_hash = $1",
    revoke_family: "update platform_refresh_tokens set revoked_at = now()
                    where family_id = $1 and revoked_at is null",
};

impl TokenStore for TenantTx {
    fn parts(&mut self) -> (&mut PgConnection, Option<Uuid>, &'static Sql) {
        let tenant = self.tenant().0;
        (self.conn(), Some(tenant), &TENANT_SQL)
    }
}

impl TokenStore for PlatformTx {
    fn parts(&mut self) -> (&mut PgConnection, Option<Uuid>, &'static Sql) {
        (self.conn(), None, &PLATFORM_SQL)
    }
}

/// What presenting a refresh token found.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// Valid and now used up: issue a successor in the same family.
    Fresh { subject: Uuid, family: Uuid },
    /// Already used or revoked: the family has been revoked.
    Reused,
    /// Unknown or expired.
    Invalid,
}

#[tracing::instrument(skip_all, err)]
pub async fn insert(
    store: &mut impl TokenStore,
    subject: Uuid,
    family: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (conn, tenant, sql) = store.parts();
    let mut query = sqlx::query(sql.insert)
        .bind(Uuid::new_v4())
        .bind(subject)
        .bind(family)
        .bind(token_hash)
        .bind(expires_at);
    if let Some(tenant) = tenant {
        query = query.bind(tenant);
    }
    query.execute(conn).await.map(drop)
}

/// Uses up a token atomically: of concurrent presentations exactly one sees `Fresh`.
#[tracing::instrument(skip_all, err)]
pub async fn claim(store: &mut impl TokenStore, token_hash: &[u8]) -> Result<Claim, sqlx::Error> {
    let (conn, _, sql) = store.parts();
    let fresh: Option<(Uuid, Uuid)> = sqlx::query_as(sql.claim)
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    if let Some((subject, family)) = fresh {
        return Ok(Claim::Fresh { subject, family });
    }
    let known: Option<Uuid> = sqlx::query_scalar(sql.is_known)
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    match known {
        Some(family) => {
            revoke_family_on(conn, sql, family).await?;
            Ok(Claim::Reused)
        }
        None => Ok(Claim::Invalid),
    }
}

/// Revokes the family of a token (logout); false when the token is unknown.
#[tracing::instrument(skip_all, err)]
pub async fn revoke(store: &mut impl TokenStore, token_hash: &[u8]) -> Result<bool, sqlx::Error> {
    let (conn, _, sql) = store.parts();
    let known: Option<Uuid> = sqlx::query_scalar(sql.is_known)
        .bind(token_hash)
        .fetch_optional(&mut *conn)
        .await?;
    match known {
        Some(family) => revoke_family_on(conn, sql, family).await.map(|()| true),
        None => Ok(false),
    }
}

async fn revoke_family_on(
    conn: &mut PgConnection,
    sql: &Sql,
    family: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query(sql.revoke_family)
        .bind(family)
        .execute(conn)
        .await
        .map(drop)
}
