//! The plugin registry: validates uploads by loading them in the sandbox,
//! stores them immutably by (name, version), and resolves what a tenant may
//! run: a plugin it can see (global, or its own private one) whose feature
//! flag `plugin:<name>` is on for it.

use std::time::Duration;

use bytes::Bytes;
use mmm_runtime::{Limits, LoadedPlugin, PluginInfo, Runtime, RuntimeError};
use uuid::Uuid;

use crate::db::plugins::{self, NewPlugin, PluginRecord};
use crate::db::{Db, PlatformTx, TenantTx};
use crate::tenant_config::TenantConfig;

/// Uploads larger than this are refused before the sandbox sees them.
pub const MAX_PLUGIN_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("the plugin is {size} bytes; the limit is {MAX_PLUGIN_BYTES}")]
    TooLarge { size: usize },
    #[error("the upload is not a valid plugin: {0}")]
    Invalid(#[source] RuntimeError),
    #[error("the plugin says it is {actual}, but the upload declared {declared}")]
    Mismatch { declared: String, actual: String },
    #[error("{name}@{version} is already published; published versions are immutable")]
    Exists { name: String, version: String },
    #[error("the name `{0}` belongs to another plugin")]
    NameTaken(String),
    #[error("no plugin `{0}` is available")]
    NotFound(String),
    #[error("plugin `{0}` is not enabled for this tenant")]
    Disabled(String),
    #[error("{name}@{version} is no longer the build an analysis recorded (sha256 {sha256})")]
    Changed {
        name: String,
        version: String,
        sha256: String,
    },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// What a tenant's call may consume, from the `plugin:<name>` feature config
/// (`{"memory_mb": 256, "timeout_secs": 5}`), on top of the runtime defaults.
pub fn limits_for(config: &TenantConfig, name: &str, defaults: Limits) -> Limits {
    let mut limits = defaults;
    let Some(feature) = config.feature(&flag(name)) else {
        return limits;
    };
    if let Some(mb) = feature.config.get("memory_mb").and_then(|v| v.as_u64()) {
        limits.memory_bytes = mb.clamp(16, 4096) << 20;
    }
    if let Some(secs) = feature.config.get("timeout_secs").and_then(|v| v.as_u64()) {
        let timeout = Duration::from_secs(secs.clamp(1, 3600));
        limits.preprocess_timeout = timeout;
        limits.fit_timeout = timeout;
    }
    limits
}

/// The feature flag that lets a tenant run a plugin.
pub fn flag(name: &str) -> String {
    format!("plugin:{name}")
}

#[derive(Clone)]
pub struct Plugins {
    runtime: Runtime,
    defaults: Limits,
    /// Loaded plugins by sha256, so a run does not fetch megabytes of wasm
    /// from the database when the runtime already holds the component.
    loaded: moka::future::Cache<String, LoadedPlugin>,
}

impl std::fmt::Debug for Plugins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugins").finish_non_exhaustive()
    }
}

impl Plugins {
    pub fn new(runtime: Runtime, defaults: Limits) -> Self {
        Self {
            runtime,
            defaults,
            loaded: moka::future::Cache::new(256),
        }
    }

    /// The limits a call gets when its tenant has no override.
    pub fn default_limits(&self) -> Limits {
        self.defaults
    }

    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// Loads an upload in the sandbox: it must be a component of one of the
    /// two worlds whose `info()` answers within limits (and, when declared,
    /// names the declared plugin).
    pub async fn inspect(
        &self,
        wasm: Bytes,
        declared: Option<(&str, &str)>,
    ) -> Result<LoadedPlugin, RegistryError> {
        if wasm.len() > MAX_PLUGIN_BYTES {
            return Err(RegistryError::TooLarge { size: wasm.len() });
        }
        let plugin = self
            .runtime
            .load(wasm)
            .await
            .map_err(RegistryError::Invalid)?;
        if let Some((name, version)) = declared {
            let info = plugin.info();
            if info.name != name || info.version != version {
                return Err(RegistryError::Mismatch {
                    declared: format!("{name}@{version}"),
                    actual: format!("{}@{}", info.name, info.version),
                });
            }
        }
        Ok(plugin)
    }

    /// Stores the built-in plugins, replacing earlier builds of the same version.
    pub async fn register_builtins(&self, db: &Db) -> anyhow::Result<()> {
        for (name, wasm) in super::builtin::BUILTIN {
            let plugin = self.inspect(Bytes::from_static(wasm), None).await?;
            let mut tx = db.platform_tx().await?;
            plugins::insert_global(
                &mut tx,
                &new_plugin(plugin.info(), plugin.sha256(), wasm, None),
                true,
            )
            .await?;
            tx.commit().await?;
            tracing::info!(plugin = %name, version = %plugin.info().version, "registered built-in plugin");
        }
        Ok(())
    }

    /// Publishes a global plugin (platform admins).
    pub async fn publish_global(
        &self,
        tx: &mut PlatformTx,
        plugin: &LoadedPlugin,
        wasm: &[u8],
        admin: Uuid,
    ) -> Result<(), RegistryError> {
        let info = plugin.info();
        if plugins::global_exists(tx, &info.name, &info.version).await? {
            return Err(RegistryError::Exists {
                name: info.name.clone(),
                version: info.version.clone(),
            });
        }
        if plugins::name_used_by_a_tenant(tx, &info.name).await? {
            return Err(RegistryError::NameTaken(info.name.clone()));
        }
        plugins::insert_global(
            tx,
            &new_plugin(info, plugin.sha256(), wasm, Some(admin)),
            false,
        )
        .await?;
        Ok(())
    }

    /// Publishes a plugin private to the transaction's tenant.
    pub async fn publish_private(
        &self,
        tx: &mut TenantTx,
        plugin: &LoadedPlugin,
        wasm: &[u8],
        user: Uuid,
    ) -> Result<(), RegistryError> {
        let info = plugin.info();
        if plugins::global_name_exists(tx, &info.name).await? {
            return Err(RegistryError::NameTaken(info.name.clone()));
        }
        let new = new_plugin(info, plugin.sha256(), wasm, Some(user));
        plugins::insert_private(tx, &new)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.constraint() == Some("tenant_plugins_pkey") => {
                    RegistryError::Exists {
                        name: info.name.clone(),
                        version: info.version.clone(),
                    }
                }
                other => other.into(),
            })
    }

    /// Every plugin version the tenant may run.
    pub async fn runnable(
        &self,
        tx: &mut TenantTx,
        config: &TenantConfig,
    ) -> Result<Vec<PluginRecord>, RegistryError> {
        let visible = plugins::list_visible(tx).await?;
        Ok(visible
            .into_iter()
            .filter(|p| config.is_enabled(&flag(&p.name)))
            .collect())
    }

    /// The plugin a tenant asked for: `version`, or the newest one. Unknown
    /// (or another tenant's) is `NotFound`; visible but switched off is `Disabled`.
    pub async fn open(
        &self,
        tx: &mut TenantTx,
        config: &TenantConfig,
        name: &str,
        version: Option<&str>,
    ) -> Result<(PluginRecord, LoadedPlugin), RegistryError> {
        let not_found = || RegistryError::NotFound(name.to_owned());
        let record = plugins::list_visible(tx)
            .await?
            .into_iter()
            .filter(|p| p.name == name && version.is_none_or(|v| v == p.version))
            .max_by_key(|p| semver::Version::parse(&p.version).ok())
            .ok_or_else(not_found)?;
        if !config.is_enabled(&flag(name)) {
            return Err(RegistryError::Disabled(name.to_owned()));
        }
        if let Some(plugin) = self.loaded.get(&record.sha256).await {
            return Ok((record, plugin));
        }
        let wasm = plugins::wasm(tx, &record.name, &record.version)
            .await?
            .ok_or_else(not_found)?;
        let plugin = self
            .runtime
            .load(wasm)
            .await
            .map_err(RegistryError::Invalid)?;
        self.loaded
            .insert(record.sha256.clone(), plugin.clone())
            .await;
        Ok((record, plugin))
    }
}

impl Plugins {
    /// The exact build a queued analysis recorded. The feature flag is not
    /// looked at again: it was checked when the analysis was queued.
    pub async fn open_exact(
        &self,
        tx: &mut TenantTx,
        name: &str,
        version: &str,
        sha256: &str,
    ) -> Result<LoadedPlugin, RegistryError> {
        if let Some(plugin) = self.loaded.get(sha256).await {
            return Ok(plugin);
        }
        let wasm = plugins::wasm(tx, name, version)
            .await?
            .ok_or_else(|| RegistryError::NotFound(name.to_owned()))?;
        let plugin = self
            .runtime
            .load(wasm)
            .await
            .map_err(RegistryError::Invalid)?;
        if plugin.sha256() != sha256 {
            return Err(RegistryError::Changed {
                name: name.to_owned(),
                version: version.to_owned(),
                sha256: sha256.to_owned(),
            });
        }
        self.loaded.insert(sha256.to_owned(), plugin.clone()).await;
        Ok(plugin)
    }
}

fn new_plugin<'a>(
    info: &'a PluginInfo,
    sha256: &'a str,
    wasm: &'a [u8],
    by: Option<Uuid>,
) -> NewPlugin<'a> {
    NewPlugin {
        name: &info.name,
        version: &info.version,
        kind: info.kind.as_str(),
        description: &info.description,
        author: &info.author,
        // The runtime checked it is JSON when it loaded the plugin.
        params_schema: serde_json::from_str(&info.params_schema).unwrap_or_default(),
        sha256,
        wasm,
        published_by: by,
    }
}
