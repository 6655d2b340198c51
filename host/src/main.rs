//! `mmm`: wiring only. Parse the command line, set up logging, run.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use mmm_host::analyses::{JobContext, WorkerPool, WorkerSettings};
use mmm_host::auth::SigningKey;
use mmm_host::config::{AdminCommand, Cli, Command, MigrateCommand, ServeConfig, WorkerCommand};
use mmm_host::http::auth::create_platform_admin;
use mmm_host::postgres::open::{Opened, open};
use mmm_host::postgres::supervise::{self, supervise};
use mmm_host::postgres::{EmbeddedCluster, EmbeddedError};
use mmm_host::startup::{self, Application, Settings, shutdown_signal};
use mmm_host::tenant_config::TenantConfigs;
use mmm_host::{db, telemetry};
use sqlx::postgres::PgListener;

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("Error: starting the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // Once, each cause once: see `cli::errors`.
            eprintln!("Error: {}", mmm_host::cli::errors::describe(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(config) => {
            let _traces = telemetry::logs::init_with_traces(
                config.log_format,
                config.otlp_endpoint.as_deref(),
                "mmm-serve",
            )?;
            serve(*config).await
        }
        Command::Worker(command) => {
            let _traces = telemetry::logs::init_with_traces(
                command.log_format,
                command.otlp_endpoint.as_deref(),
                "mmm-worker",
            )?;
            worker(*command).await
        }
        Command::Migrate(command) => {
            telemetry::init(command.log_format);
            migrate(*command).await
        }
        Command::Synth(args) => synth(args),
        Command::Plugin(command) => {
            telemetry::init(mmm_host::config::LogFormat::Pretty);
            mmm_host::cli::plugin::run(command).await
        }
        Command::Admin(AdminCommand::CreatePlatformAdmin {
            email, database, ..
        }) => {
            telemetry::init(mmm_host::config::LogFormat::Pretty);
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from stdin")?;
            let opened = open(&database).await?;
            let result = create_platform_admin(
                &opened.databases.db,
                &email,
                password.trim_end_matches(['\r', '\n']).to_owned(),
            )
            .await;
            stop(opened).await;
            let id = result.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created platform admin {email} ({id})");
            Ok(())
        }
    }
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let signing_key = match &config.jwt_secret {
        Some(secret) => SigningKey::from_secret(secret.as_bytes())?,
        None => SigningKey::from_file(
            &config
                .jwt_key_file
                .clone()
                .unwrap_or_else(|| config.database.data_dir.join("secrets/jwt.key")),
        )?,
    };
    let previous_keys = config
        .jwt_previous_secrets
        .iter()
        .map(|s| SigningKey::from_secret(s.as_bytes()))
        .collect::<Result<_, _>>()?;
    let opened = open(&config.database).await?;
    let result = async {
        bootstrap_admin(&opened.databases.db, &config).await?;
        let settings = Settings {
            bind: config.bind,
            base_domain: config.base_domain.clone(),
            signing_key,
            previous_keys,
            access_token_ttl: Duration::from_secs(config.access_token_ttl),
            refresh_token_ttl: Duration::from_secs(config.refresh_token_ttl),
            policy_dir: config.policy_dir.clone(),
            tenant_cache_ttl: Duration::from_secs(config.tenant_cache_ttl),
            plugin_cache_dir: Some(config.database.plugin_cache_dir()),
            plugin_keep_resident: config.plugin_keep_resident_mb << 20,
            tables: config.tables.reader(),
            workers: config.workers.settings()?,
            limits: (&config.limits).try_into()?,
            metrics_bind: config.metrics_bind.0,
        };
        let app = Application::build(settings, opened.databases.clone()).await?;
        tracing::info!("listening on http://{}", app.local_addr());
        if let Some(metrics) = app.metrics_addr() {
            tracing::info!("metrics on http://{metrics}/metrics");
        }
        let (lost_tx, mut lost) = tokio::sync::oneshot::channel();
        let cluster = opened.cluster.clone();
        let shutdown = async move {
            tokio::select! {
                () = shutdown_signal() => {}
                reason = cluster_lost(cluster) => { let _ = lost_tx.send(reason); }
            }
        };
        app.run_until_stopped(shutdown).await?;
        match lost.try_recv() {
            Ok(reason) => Err(anyhow::anyhow!(
                "the embedded PostgreSQL cluster stopped and could not be started again: {reason}"
            )),
            Err(_) => anyhow::Ok(()),
        }
    }
    .await;
    stop(opened).await;
    result
}

/// `mmm migrate`: what every server does at start (roles, migrations), once,
/// as a deployment's own step; servers started after it find nothing to do.
async fn migrate(command: MigrateCommand) -> anyhow::Result<()> {
    let opened = open(&command.database).await?;
    let latest = mmm_host::postgres::bootstrap::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    stop(opened).await;
    println!("the database is migrated to {latest}");
    Ok(())
}

/// `mmm worker`: analysis workers and nothing else, until SIGTERM drains them.
async fn worker(command: WorkerCommand) -> anyhow::Result<()> {
    let settings = command.workers.settings()?;
    let metrics = match command.metrics_bind.0 {
        Some(addr) => Some(telemetry::metrics::bind(addr).await?),
        None => None,
    };
    telemetry::metrics::handle();
    let opened = open(&command.database).await?;
    let result = async {
        let db = &opened.databases.db;
        let sampler = tokio::spawn(telemetry::sampler::run(
            db.clone(),
            telemetry::sampler::EVERY,
        ));
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics = metrics.map(|listener| {
            tracing::info!(
                "metrics on http://{}/metrics",
                listener
                    .local_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default()
            );
            tokio::spawn(telemetry::metrics::serve(listener, async {
                let _ = metrics_stopped.await;
            }))
        });
        let plugin_cache = command.database.plugin_cache_dir();
        let keep_resident = command.plugin_keep_resident_mb << 20;
        let plugins = startup::plugins(Some(plugin_cache), keep_resident, db).await?;
        let ttl = Duration::from_secs(command.tenant_cache_ttl);
        let tenants = TenantConfigs::new(db.clone(), ttl);
        let listener = PgListener::connect_with(db.app_pool()).await?;
        let invalidations = tokio::spawn(tenants.clone().listen(listener));
        let (events, changes) = startup::analysis_events(db).await?;
        let ctx = JobContext {
            db: db.clone(),
            plugins,
            tenants,
        };
        let settings = WorkerSettings {
            count: settings.count.max(1),
            ..settings
        };
        let pool = WorkerPool::start(ctx, events, settings);
        let lost = tokio::select! {
            () = shutdown_signal() => None,
            reason = cluster_lost(opened.cluster.clone()) => Some(reason),
        };
        pool.drain().await;
        let _ = stop_metrics.send(());
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        for task in [invalidations, changes, sampler] {
            task.abort();
            let _ = task.await;
        }
        match lost {
            Some(reason) => Err(anyhow::anyhow!(
                "the embedded PostgreSQL cluster stopped and could not be started again: {reason}"
            )),
            None => anyhow::Ok(()),
        }
    }
    .await;
    stop(opened).await;
    result
}

fn synth(args: mmm_host::config::SynthArgs) -> anyhow::Result<()> {
    if args.weeks < 2
        || args.channels == 0
        || !(0.0..1.0).contains(&args.noise)
        || args.always_on > args.channels
    {
        anyhow::bail!(
            "need --weeks 2 or more, --channels 1 or more, --noise in [0, 1) and \
             --always-on at most --channels"
        );
    }
    let config = mmm_synth::SynthConfig {
        seed: args.seed,
        weeks: args.weeks,
        channels: args.channels,
        noise: args.noise,
        always_on: args.always_on,
        ..mmm_synth::SynthConfig::default()
    };
    mmm_synth::generate(&config).write_all(&args.out, &args.stem)?;
    println!(
        "wrote {0}/{1}.csv, {0}/{1}.truth.json and {0}/roles.json",
        args.out.display(),
        args.stem
    );
    Ok(())
}

/// Creates the configured platform admin when no platform admin exists yet.
async fn bootstrap_admin(db: &db::Db, config: &ServeConfig) -> anyhow::Result<()> {
    let (Some(email), Some(password)) = (
        &config.bootstrap_admin_email,
        &config.bootstrap_admin_password,
    ) else {
        return Ok(());
    };
    let mut tx = db.platform_tx().await?;
    let exists = db::platform_admins::any_exists(&mut tx).await?;
    tx.commit().await?;
    if !exists {
        create_platform_admin(db, email, password.clone())
            .await
            .map_err(|e| anyhow::anyhow!("creating the bootstrap admin: {e}"))?;
        tracing::info!(%email, "created the bootstrap platform admin");
    }
    Ok(())
}

/// Resolves only when the embedded cluster is down for good (never for an
/// external database, whose pools simply reconnect when it is back).
async fn cluster_lost(cluster: Option<Arc<EmbeddedCluster>>) -> EmbeddedError {
    match cluster {
        Some(cluster) => supervise(cluster, supervise::CHECK_EVERY).await,
        None => std::future::pending().await,
    }
}

async fn stop(opened: Opened) {
    opened.databases.db.close().await;
    opened.databases.owner.close().await;
    if let Some(cluster) = opened.cluster
        && let Err(e) = cluster.stop().await
    {
        tracing::warn!(error = %e, "stopping the embedded PostgreSQL cluster");
    }
}
