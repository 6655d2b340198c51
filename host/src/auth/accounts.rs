//! Revocation that holds on every instance: an access token is honoured
//! only while its user still exists with the role the token names. The
//! check is cached per user and the entry is dropped, on every instance,
//! when the user's row changes (a trigger on `users` notifies
//! `mmm_tenant_changed` with `<tenant>:<user>`, the same channel tenant
//! changes use), so a deleted or demoted user's tokens stop working on the
//! next request while a steady user costs no database round trip.

use std::time::Duration;

use moka::future::Cache;
use uuid::Uuid;

use crate::db::{self, Db};
use crate::ids::{TenantId, UserId};
use crate::roles::Role;

#[derive(Clone, Debug)]
pub struct Accounts {
    /// The user's current role, `None` when the user no longer exists.
    roles: Cache<(TenantId, Uuid), Option<Role>>,
    db: Db,
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
            roles: Cache::builder()
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
        use crate::telemetry::metrics::ACCOUNT_CACHE;
        let key = (tenant, user);
        let current = match self.roles.get(&key).await {
            Some(hit) => {
                metrics::counter!(ACCOUNT_CACHE, "result" => "hit").increment(1);
                hit
            }
            None => {
                metrics::counter!(ACCOUNT_CACHE, "result" => "miss").increment(1);
                self.roles
                    .try_get_with(key, self.load(tenant, user))
                    .await?
            }
        };
        Ok(match current {
            None => Err(Revoked::Deleted),
            Some(current) if current != role => Err(Revoked::RoleChanged),
            Some(_) => Ok(()),
        })
    }

    async fn load(&self, tenant: TenantId, user: Uuid) -> Result<Option<Role>, sqlx::Error> {
        let mut tx = self.db.tenant_tx(tenant).await?;
        let found = db::users::fetch(&mut tx, UserId(user)).await?;
        tx.commit().await?;
        Ok(found.map(|u| u.role.into()))
    }

    pub async fn invalidate(&self, tenant: TenantId, user: Uuid) {
        self.roles.invalidate(&(tenant, user)).await;
    }

    pub fn invalidate_all(&self) {
        self.roles.invalidate_all();
    }
}
