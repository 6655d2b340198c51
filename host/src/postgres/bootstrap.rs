//! From an owner connection to ready pools: the request and platform roles
//! exist with known passwords, migrations are applied, pools log in as those
//! roles. The owner role runs migrations and owns the tables; neither pool
//! role is superuser, owner or BYPASSRLS.

use std::borrow::Cow;
use std::sync::LazyLock;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, SqlSafeStr};

use crate::db::Db;

/// The role every tenant request runs as; RLS decides what it sees.
pub const APP_ROLE: &str = "mmm_app";
/// The role platform-admin requests run as; explicit policies let it across tenants.
pub const PLATFORM_ROLE: &str = "mmm_platform";

const POOL_ROLE_ATTRIBUTES: &str =
    "login nosuperuser nocreatedb nocreaterole nobypassrls noreplication";
const OWNER_ROLE_ATTRIBUTES: &str = "login createrole nosuperuser nobypassrls noreplication";

/// Every migration in `migrations/`, embedded by the build script.
mod embedded {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

/// The embedded migrations, checksummed as sqlx's `migrate!` would (a
/// database migrated by either accepts the other).
pub static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    Migrator::with_migrations(
        embedded::MIGRATIONS
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect(),
    )
});

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("connecting as the owner role: {0}")]
    Owner(#[source] sqlx::Error),
    #[error(
        "creating the roles {APP_ROLE} and {PLATFORM_ROLE} (the owner role needs CREATEROLE): {0}"
    )]
    Roles(#[source] sqlx::Error),
    #[error("applying migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("connecting as {role}: {source}")]
    Pool {
        role: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("role passwords may only hold [A-Za-z0-9_-]")]
    UnsafePassword,
    #[error("role and database names may only hold [a-z0-9_]")]
    UnsafeIdentifier,
}

/// Passwords of the two login roles the server manages.
#[derive(Clone, Debug)]
pub struct RolePasswords {
    pub app: String,
    pub platform: String,
}

/// What the server keeps: the owner pool for readiness, the two request pools.
#[derive(Clone, Debug)]
pub struct Databases {
    pub owner: PgPool,
    pub db: Db,
}

/// Ensures roles and schema, then opens the request pools.
pub async fn connect(
    owner: PgConnectOptions,
    passwords: &RolePasswords,
    max_connections: u32,
) -> Result<Databases, BootstrapError> {
    let owner_pool = PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(owner.clone())
        .await
        .map_err(BootstrapError::Owner)?;
    ensure_role_with_retries(&owner_pool, APP_ROLE, POOL_ROLE_ATTRIBUTES, &passwords.app).await?;
    ensure_role_with_retries(
        &owner_pool,
        PLATFORM_ROLE,
        POOL_ROLE_ATTRIBUTES,
        &passwords.platform,
    )
    .await?;
    MIGRATOR.run(&owner_pool).await?;
    let pool = |role: &'static str, password: &str, max: u32| {
        PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(owner.clone().username(role).password(password))
    };
    let app = pool(APP_ROLE, &passwords.app, max_connections)
        .await
        .map_err(|source| BootstrapError::Pool {
            role: APP_ROLE,
            source,
        })?;
    let platform = pool(
        PLATFORM_ROLE,
        &passwords.platform,
        max_connections.div_ceil(4),
    )
    .await
    .map_err(|source| BootstrapError::Pool {
        role: PLATFORM_ROLE,
        source,
    })?;
    Ok(Databases {
        owner: owner_pool,
        db: Db::new(app, platform),
    })
}

/// Roles are cluster-wide, so several servers (or tests) sharing a cluster
/// may race to create or alter them; PostgreSQL reports such races as
/// errors, which a retry resolves.
async fn ensure_role_with_retries(
    pool: &PgPool,
    role: &str,
    attributes: &str,
    password: &str,
) -> Result<(), BootstrapError> {
    if !password
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(BootstrapError::UnsafePassword);
    }
    let mut attempt = 0;
    loop {
        match ensure_role(pool, role, attributes, password).await {
            Ok(()) => return Ok(()),
            Err(_) if attempt < 5 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
            }
            Err(e) => return Err(BootstrapError::Roles(e)),
        }
    }
}

async fn ensure_role(
    pool: &PgPool,
    role: &str,
    attributes: &str,
    password: &str,
) -> Result<(), sqlx::Error> {
    let exists: bool =
        sqlx::query_scalar("select exists (select from pg_roles where rolname = $1)")
            .bind(role)
            .fetch_one(pool)
            .await?;
    // Role names are our identifiers and the password is checked to be
    // [A-Za-z0-9_-]: DDL takes no bind parameters.
    let sql = if exists {
        // Only a superuser may even restate superuser-class attributes.
        format!("alter role {role} with login password '{password}'")
    } else {
        format!("create role {role} with {attributes} password '{password}'")
    };
    sqlx::query(AssertSqlSafe(sql)).execute(pool).await?;
    Ok(())
}

/// For an embedded cluster: the owner role and the `mmm` database, created
/// as the bootstrap superuser on first start.
pub async fn ensure_owner_and_database(
    superuser: PgConnectOptions,
    owner_role: &str,
    owner_password: &str,
    database: &str,
) -> Result<(), BootstrapError> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(superuser)
        .await
        .map_err(BootstrapError::Owner)?;
    let ident_ok = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if !ident_ok(owner_role) || !ident_ok(database) {
        return Err(BootstrapError::UnsafeIdentifier);
    }
    ensure_role_with_retries(&pool, owner_role, OWNER_ROLE_ATTRIBUTES, owner_password).await?;
    let db_exists: bool =
        sqlx::query_scalar("select exists (select from pg_database where datname = $1)")
            .bind(database)
            .fetch_one(&pool)
            .await
            .map_err(BootstrapError::Roles)?;
    if !db_exists {
        sqlx::query(AssertSqlSafe(format!(
            "create database {database} owner {owner_role}"
        )))
        .execute(&pool)
        .await
        .map_err(BootstrapError::Roles)?;
    }
    pool.close().await;
    Ok(())
}
