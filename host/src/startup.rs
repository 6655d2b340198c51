//! Building the server from settings and databases, and running it until a
//! shutdown signal.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use sqlx::postgres::PgListener;
use tokio::net::TcpListener;

use crate::analyses::{AnalysisEvents, JobContext, WorkerPool, WorkerSettings};
use crate::auth::throttle::LoginThrottle;
use crate::auth::{SigningKey, TokenIssuer};
use crate::http::analyses::AnalysisSettings;
use crate::http::{self, AppState, HttpSettings};
use crate::limits::Limits;
use crate::plugins::Plugins;
use crate::postgres::Databases;
use crate::rbac::Rbac;
use crate::tables::TableReader;
use crate::telemetry;
use crate::tenant_config::TenantConfigs;
use mmm_runtime::{Runtime, RuntimeConfig};

/// What the server needs besides its databases.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub base_domain: Option<String>,
    pub signing_key: SigningKey,
    pub previous_keys: Vec<SigningKey>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub policy_dir: PathBuf,
    pub tenant_cache_ttl: Duration,
    /// Where compiled plugins are kept across restarts; memory only when `None`.
    pub plugin_cache_dir: Option<PathBuf>,
    /// Bytes of each pooled plugin memory kept resident between calls.
    pub plugin_keep_resident: usize,
    /// The caps and memory budget of every table a request sends.
    pub tables: TableReader,
    /// The analysis workers this server runs (`count` 0: none, leave it to `mmm worker`s).
    pub workers: WorkerSettings,
    pub limits: Limits,
    /// Where `/metrics` is served; `None` serves none (metrics are still recorded).
    pub metrics_bind: Option<SocketAddr>,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
    /// The tenant-change and analysis-change listeners; each holds a pooled
    /// connection, so they must end before the pools can close.
    invalidations: tokio::task::JoinHandle<()>,
    analysis_changes: tokio::task::JoinHandle<()>,
    events: AnalysisEvents,
    workers: Option<WorkerPool>,
    metrics: Option<TcpListener>,
    /// Gauges from the database, and the limiters' housekeeping.
    background: Vec<tokio::task::JoinHandle<()>>,
}

/// The plugin runtime and registry, with the built-ins registered: what
/// both `mmm serve` and `mmm worker` run plugins with.
pub async fn plugins(
    cache_dir: Option<PathBuf>,
    keep_resident: usize,
    db: &crate::db::Db,
) -> anyhow::Result<Plugins> {
    let runtime_config = RuntimeConfig {
        cache_dir,
        memory_keep_resident: keep_resident,
        ..RuntimeConfig::default()
    };
    let limits = runtime_config.limits;
    let plugins = Plugins::new(Runtime::new(runtime_config)?, limits);
    plugins
        .register_builtins(db)
        .await
        .context("registering the built-in plugins")?;
    Ok(plugins)
}

/// Analysis changes from PostgreSQL, forwarded by a task of their own.
pub async fn analysis_events(
    db: &crate::db::Db,
) -> anyhow::Result<(AnalysisEvents, tokio::task::JoinHandle<()>)> {
    let events = AnalysisEvents::new();
    let listener = PgListener::connect_with(db.app_pool()).await?;
    let task = tokio::spawn(events.clone().listen(listener));
    Ok((events, task))
}

impl Application {
    /// Loads and checks the policy, binds the listener and wires the state.
    pub async fn build(settings: Settings, databases: Databases) -> anyhow::Result<Self> {
        let (routes, api) = http::api();
        let rbac = Rbac::load(&settings.policy_dir, &http::openapi::routes(&api))
            .await
            .context("invalid RBAC policy")?;
        let plugins = plugins(
            settings.plugin_cache_dir.clone(),
            settings.plugin_keep_resident,
            &databases.db,
        )
        .await?;
        let tenants = TenantConfigs::new(databases.db.clone(), settings.tenant_cache_ttl);
        let listener = PgListener::connect_with(databases.db.app_pool()).await?;
        let invalidations = tokio::spawn(tenants.clone().listen(listener));
        let (events, analysis_changes) = analysis_events(&databases.db).await?;
        let workers = (settings.workers.count > 0).then(|| {
            let ctx = JobContext {
                db: databases.db.clone(),
                plugins: plugins.clone(),
                tenants: tenants.clone(),
            };
            WorkerPool::start(ctx, events.clone(), settings.workers.clone())
        });
        let throttle = LoginThrottle::new(databases.db.clone());
        let state = AppState {
            db: databases.db,
            owner: databases.owner,
            tokens: TokenIssuer::new(
                settings.signing_key,
                settings.previous_keys,
                settings.access_token_ttl.as_secs(),
            ),
            tenants,
            rbac: Arc::new(rbac),
            throttle,
            plugins,
            tables: settings.tables,
            settings: Arc::new(HttpSettings {
                base_domain: settings.base_domain,
                refresh_ttl: settings.refresh_token_ttl,
            }),
            analyses: AnalysisSettings {
                events: events.clone(),
                max_attempts: settings.workers.max_attempts,
            },
            limits: settings.limits,
        };
        state.tokens.self_test()?;
        let router = http::app(routes, &api, state.clone());
        let listener = TcpListener::bind(settings.bind)
            .await
            .with_context(|| format!("binding {}", settings.bind))?;
        let metrics = match settings.metrics_bind {
            Some(addr) => Some(telemetry::metrics::bind(addr).await?),
            None => None,
        };
        telemetry::metrics::handle();
        let background = vec![
            tokio::spawn(telemetry::sampler::run(
                state.db.clone(),
                telemetry::sampler::EVERY,
            )),
            tokio::spawn(housekeep(state.limits.clone(), state.throttle.clone())),
        ];
        Ok(Self {
            listener,
            router,
            state,
            invalidations,
            analysis_changes,
            events,
            workers,
            metrics,
            background,
        })
    }

    /// Where `/metrics` is served, if anywhere.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let events = self.events.clone();
        let shutdown = async move {
            shutdown.await;
            // Event streams would hold the graceful shutdown open.
            events.close();
        };
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics = self.metrics.map(|listener| {
            tokio::spawn(telemetry::metrics::serve(listener, async {
                let _ = metrics_stopped.await;
            }))
        });
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_metrics.send(());
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        if let Some(workers) = self.workers {
            workers.drain().await;
        }
        for task in [self.invalidations, self.analysis_changes]
            .into_iter()
            .chain(self.background)
        {
            task.abort();
            let _ = task.await;
        }
        served
    }
}

/// Every minute: forgets idle clients of the per-address limiter and
/// deletes ended login-throttle windows.
async fn housekeep(limits: Limits, throttle: LoginThrottle) {
    let mut ticks = tokio::time::interval(Duration::from_secs(60));
    loop {
        ticks.tick().await;
        limits.clients.housekeep();
        if let Err(e) = throttle.sweep().await {
            tracing::warn!(error = %e, "cannot sweep the login throttle");
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
