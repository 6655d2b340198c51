//! The `Runtime`: loading (compile, cache, detect world, `info()`), concurrency
//! caps, and the async entry points that run calls on blocking threads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

use crate::bindings::model::ModelPre;
use crate::bindings::preprocessor::PreprocessorPre;
use crate::bindings::v0_1::model::ModelPre as LegacyModelPre;
use crate::bindings::v0_1::preprocessor::PreprocessorPre as LegacyPreprocessorPre;
use crate::cache::DiskCache;
use crate::call::FitRequest;
use crate::config::{CallOptions, CancelToken, RuntimeConfig};
use crate::engine::{Ticker, build_engine, build_linker};
use crate::error::{PluginRef, Result, RuntimeError};
use crate::plugin::{Contract, LoadedPlugin, World};
use crate::sandbox::CallState;
use crate::types::{Experiment, FitOutput, PluginKind, Roles, check_info};

/// Runs plugins in sandboxes. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) engine: Engine,
    linker: Linker<CallState>,
    plugins: moka::sync::Cache<String, LoadedPlugin>,
    disk: Option<DiskCache>,
    pub(crate) config: RuntimeConfig,
    global: Arc<Semaphore>,
    labels: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
    compiled: AtomicU64,
    from_disk: AtomicU64,
    _ticker: Ticker,
}

/// Counters, mostly for tests and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuntimeStats {
    /// Components compiled from source by this runtime.
    pub compiled: u64,
    /// Components taken precompiled from the disk cache.
    pub loaded_from_disk: u64,
}

impl Runtime {
    /// Builds the engine, starts the epoch ticker and opens the disk cache.
    pub fn new(config: RuntimeConfig) -> Result<Self> {
        let host = |message: String| RuntimeError::Host {
            plugin: PluginRef::unnamed("runtime"),
            message,
        };
        let engine = build_engine(&config).map_err(|e| host(format!("engine: {e:#}")))?;
        let linker = build_linker(&engine).map_err(|e| host(format!("linker: {e:#}")))?;
        let disk = match &config.cache_dir {
            Some(dir) => Some(
                DiskCache::open(dir, &engine)
                    .map_err(|e| host(format!("cache dir {}: {e}", dir.display())))?,
            ),
            None => None,
        };
        let ticker = Ticker::start(engine.clone(), config.epoch_tick)
            .map_err(|e| host(format!("epoch ticker: {e}")))?;
        let inner = Inner {
            plugins: moka::sync::Cache::new(config.memory_cache_entries),
            global: Arc::new(Semaphore::new(config.max_concurrent_calls)),
            labels: Arc::default(),
            compiled: AtomicU64::new(0),
            from_disk: AtomicU64::new(0),
            _ticker: ticker,
            engine,
            linker,
            disk,
            config,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// Counters since this runtime started.
    pub fn stats(&self) -> RuntimeStats {
        RuntimeStats {
            compiled: self.inner.compiled.load(Ordering::Relaxed),
            loaded_from_disk: self.inner.from_disk.load(Ordering::Relaxed),
        }
    }

    /// Compiles (or finds in the caches) a component, checks that it
    /// implements one of the two worlds and asks it for its `info()` within
    /// the default preprocessor limits.
    #[tracing::instrument(skip_all, err)]
    pub async fn load(&self, wasm: impl Into<Bytes>) -> Result<LoadedPlugin> {
        let wasm = wasm.into();
        let permit = self.inner.global.clone().acquire_owned().await;
        let inner = self.inner.clone();
        let sha = sha256_hex(&wasm);
        let unnamed = PluginRef::unnamed(&sha);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner
                .plugins
                .try_get_with(sha.clone(), || inner.load_uncached(&sha, &wasm))
                .map_err(|e| (*e).clone())
        })
        .await
        .map_err(|e| join_error(unnamed, e))?
    }

    /// Runs a preprocessor: Arrow IPC stream in, validated Arrow IPC stream out.
    #[tracing::instrument(skip_all, err, fields(plugin = %plugin.plugin_ref(), label = %options.label))]
    pub async fn transform(
        &self,
        plugin: &LoadedPlugin,
        input: impl Into<Bytes>,
        params: impl Into<String>,
        options: CallOptions,
    ) -> Result<Vec<u8>> {
        plugin.expect(PluginKind::Preprocessor, "transform")?;
        let (input, params) = (input.into(), params.into());
        check_params(plugin, &params)?;
        let plugin = plugin.clone();
        self.run(
            &plugin.clone(),
            options,
            move |inner, options, abandoned| {
                inner.transform(&plugin, &input, &params, options, abandoned)
            },
        )
        .await
    }

    /// Fits a model: data, column roles and params in; artifact, summary and tables out.
    pub async fn fit(
        &self,
        plugin: &LoadedPlugin,
        input: impl Into<Bytes>,
        roles: Roles,
        params: impl Into<String>,
        options: CallOptions,
    ) -> Result<FitOutput> {
        self.fit_with_experiments(plugin, input, roles, params, Vec::new(), options)
            .await
    }

    /// Fits a model with lift tests as outside evidence. A model built
    /// against contract 0.1.0 cannot take them and fits without (see
    /// [`LoadedPlugin::contract`]).
    #[tracing::instrument(skip_all, err, fields(plugin = %plugin.plugin_ref(), label = %options.label, experiments = experiments.len()))]
    pub async fn fit_with_experiments(
        &self,
        plugin: &LoadedPlugin,
        input: impl Into<Bytes>,
        roles: Roles,
        params: impl Into<String>,
        experiments: Vec<Experiment>,
        options: CallOptions,
    ) -> Result<FitOutput> {
        plugin.expect(PluginKind::Model, "fit")?;
        let (input, params) = (input.into(), params.into());
        check_params(plugin, &params)?;
        let plugin = plugin.clone();
        self.run(
            &plugin.clone(),
            options,
            move |inner, options, abandoned| {
                let request = FitRequest {
                    input: &input,
                    roles,
                    params: &params,
                    experiments: &experiments,
                };
                inner.fit(&plugin, request, options, abandoned)
            },
        )
        .await
    }

    /// Predicts scenarios from a fitted artifact without refitting.
    #[tracing::instrument(skip_all, err, fields(plugin = %plugin.plugin_ref(), label = %options.label))]
    pub async fn predict(
        &self,
        plugin: &LoadedPlugin,
        artifact: impl Into<Bytes>,
        scenarios: impl Into<Bytes>,
        options: CallOptions,
    ) -> Result<Vec<u8>> {
        plugin.expect(PluginKind::Model, "predict")?;
        let (artifact, scenarios) = (artifact.into(), scenarios.into());
        let plugin = plugin.clone();
        self.run(
            &plugin.clone(),
            options,
            move |inner, options, abandoned| {
                inner.predict(&plugin, &artifact, &scenarios, options, abandoned)
            },
        )
        .await
    }

    /// Waits for a per-label and then a global slot, and runs `call` on a
    /// blocking thread. Guests are CPU-bound for up to minutes: on the async
    /// workers they would stall every request sharing the thread, while a
    /// synchronous call on a blocking thread has no fiber to allocate and
    /// keeps the per-call fixed cost low. The permits move into the thread,
    /// so an abandoned request still holds its slot until the guest stops,
    /// and dropping the future cancels the guest at the next epoch tick.
    async fn run<R: Send + 'static>(
        &self,
        plugin: &LoadedPlugin,
        options: CallOptions,
        call: impl FnOnce(&Inner, &CallOptions, &CancelToken) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let slots = async {
            let label = LabelPermit::acquire(&self.inner, &options.label).await;
            let global = self.inner.global.clone().acquire_owned().await;
            (label, global)
        };
        let (label, global) = {
            let _waiting = Waiting::start();
            match options.wait {
                None => slots.await,
                Some(wait) => {
                    tokio::time::timeout(wait, slots)
                        .await
                        .map_err(|_| RuntimeError::Busy {
                            plugin: plugin.plugin_ref(),
                            waited: wait,
                        })?
                }
            }
        };
        let mut abandoned = CancelOnDrop(Some(CancelToken::new()));
        let token = abandoned.0.clone().unwrap_or_default();
        let inner = self.inner.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let _permits = (label, global);
            call(&inner, &options, &token)
        })
        .await;
        abandoned.0 = None;
        outcome.map_err(|e| join_error(plugin.plugin_ref(), e))?
    }
}

impl Inner {
    fn load_uncached(&self, sha256: &str, wasm: &[u8]) -> Result<LoadedPlugin> {
        let unnamed = PluginRef::unnamed(sha256);
        let component = self.compile(sha256, wasm, &unnamed)?;
        let world = self.detect_world(&component, &unnamed)?;
        let info = self.info(
            &world,
            &unnamed,
            &CallOptions::labelled("load"),
            &CancelToken::new(),
        )?;
        let named = PluginRef {
            name: info.name.clone(),
            version: info.version.clone(),
        };
        check_info(&info, world.kind()).map_err(|reason| RuntimeError::InvalidInfo {
            plugin: named,
            reason,
        })?;
        Ok(LoadedPlugin::new(sha256.to_owned(), info, world))
    }

    fn compile(&self, sha256: &str, wasm: &[u8], plugin: &PluginRef) -> Result<Component> {
        if let Some(component) = self.disk.as_ref().and_then(|d| d.get(&self.engine, sha256)) {
            self.from_disk.fetch_add(1, Ordering::Relaxed);
            return Ok(component);
        }
        let component = Component::from_binary(&self.engine, wasm).map_err(|e| {
            RuntimeError::InvalidComponent {
                plugin: plugin.clone(),
                reason: format!("{e:#}"),
            }
        })?;
        self.compiled.fetch_add(1, Ordering::Relaxed);
        if let Some(disk) = &self.disk {
            disk.put(sha256, &component);
        }
        Ok(component)
    }

    fn detect_world(&self, component: &Component, plugin: &PluginRef) -> Result<World> {
        let not_a_plugin = |reason: String| RuntimeError::NotAPlugin {
            plugin: plugin.clone(),
            reason,
        };
        let pre = self
            .linker
            .instantiate_pre(component)
            .map_err(|e| not_a_plugin(format!("imports what the host does not grant: {e:#}")))?;
        // Each candidate world type-checks the component's exports; the
        // first that fits is the one it implements.
        let checks: [(&str, Check); 4] = [
            ("a 0.2.0 preprocessor", |pre| {
                PreprocessorPre::new(pre.clone())?;
                World::preprocessor(pre, Contract::V0_2)
            }),
            ("a 0.2.0 model", |pre| {
                ModelPre::new(pre.clone())?;
                World::model(pre, Contract::V0_2)
            }),
            ("a 0.1.0 preprocessor", |pre| {
                LegacyPreprocessorPre::new(pre.clone())?;
                World::preprocessor(pre, Contract::V0_1)
            }),
            ("a 0.1.0 model", |pre| {
                LegacyModelPre::new(pre.clone())?;
                World::model(pre, Contract::V0_1)
            }),
        ];
        let mut reasons = Vec::with_capacity(checks.len());
        for (what, check) in checks {
            match check(&pre) {
                Ok(world) => return Ok(world),
                Err(e) => reasons.push(format!("as {what}: {e:#}")),
            }
        }
        Err(not_a_plugin(reasons.join("; ")))
    }
}

/// Type-checks a pre-instantiated component as one world of one contract version.
type Check = fn(&wasmtime::component::InstancePre<CallState>) -> wasmtime::Result<World>;

/// Rejects params that are not JSON before spending a call on them; empty
/// params mean "none" and are left to the plugin's defaults.
fn check_params(plugin: &LoadedPlugin, params: &str) -> Result<()> {
    if params.trim().is_empty() {
        return Ok(());
    }
    serde_json::from_str::<serde_json::Value>(params)
        .map(drop)
        .map_err(|e| RuntimeError::InvalidParams {
            plugin: plugin.plugin_ref(),
            reason: e.to_string(),
        })
}

fn join_error(plugin: PluginRef, error: tokio::task::JoinError) -> RuntimeError {
    RuntimeError::Host {
        plugin,
        message: format!("call thread failed: {error}"),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

/// Cancels the guest when the caller stops waiting for it.
struct CancelOnDrop(Option<CancelToken>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(token) = &self.0 {
            token.cancel();
        }
    }
}

/// Counts a call in the `mmm_plugin_calls_waiting` gauge while it waits for its slots.
struct Waiting;

impl Waiting {
    fn start() -> Self {
        metrics::gauge!(crate::metrics::WAITING).increment(1.0);
        Self
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        metrics::gauge!(crate::metrics::WAITING).decrement(1.0);
    }
}

/// A slot of one label's concurrency cap; the label's semaphore is removed
/// when its last holder or waiter is gone, so labels do not accumulate.
struct LabelPermit {
    permit: Option<OwnedSemaphorePermit>,
    label: String,
    labels: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl LabelPermit {
    async fn acquire(inner: &Inner, label: &str) -> Self {
        let semaphore = {
            let mut labels = inner.labels.lock().unwrap_or_else(|e| e.into_inner());
            labels
                .entry(label.to_owned())
                .or_insert_with(|| {
                    Arc::new(Semaphore::new(inner.config.max_concurrent_calls_per_label))
                })
                .clone()
        };
        let permit = semaphore.acquire_owned().await.ok();
        Self {
            permit,
            label: label.to_owned(),
            labels: inner.labels.clone(),
        }
    }
}

impl Drop for LabelPermit {
    fn drop(&mut self) {
        drop(self.permit.take());
        let mut labels = self.labels.lock().unwrap_or_else(|e| e.into_inner());
        if labels
            .get(&self.label)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            labels.remove(&self.label);
        }
    }
}
