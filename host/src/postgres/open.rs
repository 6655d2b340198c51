//! Opening the platform's database from configuration: the server named by
//! `DATABASE_URL`, or the embedded cluster under the data dir.

use std::str::FromStr;
use std::sync::Arc;

use anyhow::Context;
use sqlx::postgres::PgConnectOptions;

use super::bootstrap::{self, Databases, RolePasswords};
use super::embedded::EmbeddedCluster;
use crate::config::DatabaseConfig;
use crate::secrets;

const OWNER_ROLE: &str = "mmm_owner";
const DATABASE: &str = "mmm";

/// The pools, and the embedded cluster when there is one (stop it on exit:
/// that stops it only if this process started it).
pub struct Opened {
    pub databases: Databases,
    pub cluster: Option<Arc<EmbeddedCluster>>,
}

pub async fn open(config: &DatabaseConfig) -> anyhow::Result<Opened> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data dir {}", config.data_dir.display()))?;
    let secret = |name: &str| {
        let path = config.data_dir.join("secrets").join(name);
        secrets::read_or_create(&path).with_context(|| format!("reading {}", path.display()))
    };
    let passwords = RolePasswords {
        app: secret("mmm_app.password")?,
        platform: secret("mmm_platform.password")?,
    };
    let (owner, cluster) = match &config.database_url {
        Some(url) => (
            PgConnectOptions::from_str(url).context("parsing DATABASE_URL")?,
            None,
        ),
        None => {
            let cluster = EmbeddedCluster::start(&config.data_dir.join("postgres"), true).await?;
            tracing::info!(
                started_here = cluster.started_here(),
                "using the embedded PostgreSQL cluster under {}",
                config.data_dir.display()
            );
            let owner_password = secret("mmm_owner.password")?;
            bootstrap::ensure_owner_and_database(
                cluster.superuser_options("postgres"),
                OWNER_ROLE,
                &owner_password,
                DATABASE,
            )
            .await?;
            (
                cluster.connect_options(OWNER_ROLE, &owner_password, DATABASE),
                Some(Arc::new(cluster)),
            )
        }
    };
    let databases = bootstrap::connect(owner, &passwords, config.db_max_connections).await?;
    Ok(Opened { databases, cluster })
}
