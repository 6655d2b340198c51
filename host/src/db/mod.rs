//! All SQL. Tenant data is reachable only through a [`TenantTx`], which sets
//! the tenant for row-level security inside its own transaction; platform
//! administration goes through a [`PlatformTx`] on its own role.

pub mod analyses;
pub mod audit;
pub mod constraint;
pub mod data_sources;
pub mod experiments;
pub mod features;
pub mod platform_admins;
pub mod plugins;
pub mod queue;
pub mod recommendations;
pub mod refresh_tokens;
pub mod row;
pub mod statistics;
pub mod tenants;
pub mod users;

use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use crate::ids::TenantId;

pub use constraint::OnConstraint;

/// The two request pools: `app` runs as the RLS-bound request role,
/// `platform` as the platform-admin role.
#[derive(Clone, Debug)]
pub struct Db {
    app: PgPool,
    platform: PgPool,
}

impl Db {
    pub fn new(app: PgPool, platform: PgPool) -> Self {
        Self { app, platform }
    }

    /// A transaction acting for `tenant`; pooled connections are shared
    /// between tenants, so the setting is transaction-local (`true`), never
    /// a session `SET` or a pool hook.
    ///
    /// `BEGIN` and the setting travel as one simple query, one round trip
    /// where two statements took two. The tenant id is a typed `Uuid`
    /// written out as hyphenated hex, so it cannot carry SQL of its own.
    #[tracing::instrument(skip_all, err)]
    pub async fn tenant_tx(&self, tenant: TenantId) -> Result<TenantTx, sqlx::Error> {
        let statement = format!(
            "begin; select set_config('app.tenant_id', '{}', true)",
            tenant.0.hyphenated()
        );
        let tx = begin(&self.app, "app", Some(statement)).await?;
        Ok(TenantTx { tx, tenant })
    }

    /// A transaction on the platform-admin role.
    #[tracing::instrument(skip_all, err)]
    pub async fn platform_tx(&self) -> Result<PlatformTx, sqlx::Error> {
        Ok(PlatformTx(begin(&self.platform, "platform", None).await?))
    }

    /// Closes both pools, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.app.close().await;
        self.platform.close().await;
    }

    /// The request-role pool, for checks that must run without any tenant.
    pub fn app_pool(&self) -> &PgPool {
        &self.app
    }

    /// Both pools by their metric label, for the pool gauges.
    pub fn pools(&self) -> [(&'static str, &PgPool); 2] {
        [("app", &self.app), ("platform", &self.platform)]
    }
}

/// Begins a transaction (with `statement` as its `BEGIN` when given),
/// counting the wait for a connection in the pool metrics: a pool too small
/// for the load shows as waiters and acquire time long before requests time
/// out.
async fn begin(
    pool: &PgPool,
    label: &'static str,
    statement: Option<String>,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    use crate::telemetry::metrics::{DB_ACQUIRE, DB_WAITING, Held};
    let started = std::time::Instant::now();
    let waiting = Held::new(metrics::gauge!(DB_WAITING, "pool" => label));
    let tx = match statement {
        Some(statement) => pool.begin_with(sqlx::AssertSqlSafe(statement)).await,
        None => pool.begin().await,
    };
    drop(waiting);
    metrics::histogram!(DB_ACQUIRE, "pool" => label).record(started.elapsed().as_secs_f64());
    tx
}

/// A transaction bound to one tenant.
#[derive(Debug)]
pub struct TenantTx {
    tx: Transaction<'static, Postgres>,
    tenant: TenantId,
}

impl TenantTx {
    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }

    /// Ends a transaction that only read. Nothing needs committing, so it is
    /// rolled back, and that rollback travels with the check sqlx makes of
    /// every connection returned to the pool: the request waits for no
    /// `COMMIT` round trip. Rolling back also clears the tenant setting.
    pub fn finish_reading(self) {
        drop(self.tx);
    }
}

/// A transaction on the platform-admin role.
#[derive(Debug)]
pub struct PlatformTx(Transaction<'static, Postgres>);

impl PlatformTx {
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.0
    }

    /// Names the tenant this transaction acts on. The platform role may
    /// write a tenant's rows (its audit entries) only for the tenant named
    /// here, so a platform transaction cannot write into a tenant by
    /// accident; reads across tenants are unaffected.
    pub async fn act_for(&mut self, tenant: TenantId) -> Result<(), sqlx::Error> {
        sqlx::query("select set_config('app.tenant_id', $1, true)")
            .bind(tenant.to_string())
            .execute(&mut *self.0)
            .await
            .map(drop)
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.0.commit().await
    }
}
