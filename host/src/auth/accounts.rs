//! Revocation that holds on every instance: an access token is honoured
//! only while its user still exists with the role the token names. The
//! check is cached per user and the entry is dropped, on every instance,
//! when the user's row changes (a trigger on `users` notifies
//! `mmm_tenant_changed` with `<tenant>:<user>`, the same channel tenant
//! changes use), so a deleted or demoted user's tokens stop working on the
//! next request while a steady user costs no database round trip. The same
//! entry holds the user's email, so `GET /auth/me` answers from it too.

use std::time::Duration;

use moka::future::Cache;
use uuid::Uuid;

use crate::db::{self, Db};
use crate::ids::{TenantId, UserId};
use crate::roles::Role;

#[derive(Clone, Debug)]
pub struct Accounts {
    /// The user as stored now, `None` when the user no longer exists.
    users: Cache<(TenantId, Uuid), Option<Account>>,
    db: Db,
}

/// What a token's holder is now: a tenant user's role and email.
#[derive(Clone, Debug, PartialEq)]
pub struct Account {
    pub role: Role,
    pub email: String,
}

/// Why a verified token is no longer honoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Revoked {
    #[error("the token's account no longer exists")]
    Deleted,
    #[error("the token's account has a different role now; sign in again")]
    RoleChanged,
}

impl Accounts {
    pub fn new(db: Db, ttl: Duration) -> Self {
        Self {
            users: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl)
                .build(),
            db,
        }
    }

    /// Whether a tenant user's token naming `role` is still good.
    pub async fn check(
        &self,
        tenant: TenantId,
        user: Uuid,
        role: Role,
    ) -> Result<Result<(), Revoked>, std::sync::Arc<sqlx::Error>> {
        Ok(match self.account(tenant, user).await? {
            None => Err(Revoked::Deleted),
            Some(current) if current.role != role => Err(Revoked::RoleChanged),
            Some(_) => Ok(()),
        })
    }

    /// The tenant user as stored now (`None` once deleted), from the cache
    /// when it holds them.
    pub async fn account(
        &self,
        tenant: TenantId,
        user: Uuid,
    ) -> Result<Option<Account>, std::sync::Arc<sqlx::Error>> {
        use crate::telemetry::metrics::ACCOUNT_CACHE;
        let key = (tenant, user);
        Ok(match self.users.get(&key).await {
            Some(hit) => {
                metrics::counter!(ACCOUNT_CACHE, "result" => "hit").increment(1);
                hit
            }
            None => {
                metrics::counter!(ACCOUNT_CACHE, "result" => "miss").increment(1);
                self.users
                    .try_get_with(key, self.load(tenant, user))
                    .await?
            }
        })
    }

    async fn load(&self, tenant: TenantId, user: Uuid) -> Result<Option<Account>, sqlx::Error> {
        let mut tx = self.db.tenant_tx(tenant).await?;
        let found = db::users::fetch(&mut tx, UserId(user)).await?;
        tx.finish_reading();
        Ok(found.map(|u| Account {
            role: u.role.into(),
            email: u.email,
        }))
    }

    pub async fn invalidate(&self, tenant: TenantId, user: Uuid) {
        self.users.invalidate(&(tenant, user)).await;
    }

    pub fn invalidate_all(&self) {
        self.users.invalidate_all();
    }
}
