//! One attempt at one analysis: read the job and its data as the tenant,
//! run each preprocessor and then the model in the sandbox, and check the
//! model's output against the shared contract. Storing the result is the
//! worker's, conditional on its lease.

use std::time::Instant;

use mmm_runtime::{
    CallOptions, CancelToken, Fault, LoadedPlugin, ProgressHook, Roles, RuntimeError,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::watch;

use super::contract;
use super::request::{PluginInput, hex};
use crate::db::plugins::NewRun;
use crate::db::queue::Claim;
use crate::db::{self, Db, analyses, data_sources};
use crate::experiments::Snapshot;
use crate::plugins::registry::limits_for;
use crate::plugins::{Plugins, RegistryError, call_code};
use crate::tenant_config::TenantConfigs;

/// What a worker needs to run jobs, in `mmm serve` and `mmm worker` alike.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub db: Db,
    pub plugins: Plugins,
    pub tenants: TenantConfigs,
}

/// (stage, done, total) as the job moves; the worker writes it to the row.
pub type ProgressTx = watch::Sender<(String, u64, u64)>;

/// A validated fit, ready to store.
#[derive(Debug)]
pub struct Output {
    pub summary: Value,
    pub decomposition: Vec<u8>,
    pub response_curves: Vec<u8>,
    pub artifact: Vec<u8>,
    pub results_digest: String,
    pub fit_ms: i64,
}

/// Why an attempt did not produce an output.
#[derive(Debug)]
pub enum JobError {
    /// Fails the analysis now with this cause: retrying cannot help (the
    /// plugin's own failure, or inputs that no longer exist).
    Fail(Value),
    /// A host fault (database, worker): worth another attempt.
    Retry(Value),
    /// The call stopped because the job's cancel token was set.
    Cancelled,
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Retry(json!({ "code": "database", "message": e.to_string(), "fault": "host" }))
    }
}

fn plugin_failure(e: RuntimeError) -> JobError {
    let plugin = e.plugin().to_string();
    match (e.fault(), &e) {
        (_, RuntimeError::Cancelled { .. }) => JobError::Cancelled,
        (Fault::Host, _) => JobError::Retry(json!({
            "code": call_code(&e), "message": e.to_string(), "fault": "host", "plugin": plugin,
        })),
        (Fault::Guest, _) => JobError::Fail(json!({
            "code": call_code(&e), "message": e.to_string(), "fault": "plugin", "plugin": plugin,
        })),
    }
}

fn registry_failure(e: RegistryError) -> JobError {
    match e {
        RegistryError::Db(e) => e.into(),
        other => JobError::Fail(
            json!({ "code": "plugin_unavailable", "message": other.to_string(), "fault": "host" }),
        ),
    }
}

/// Runs one attempt of `claim`'s analysis.
pub async fn run(
    ctx: &JobContext,
    claim: &Claim,
    cancel: &CancelToken,
    progress: &ProgressTx,
) -> Result<Output, JobError> {
    let stage = |name: &str, done: u64, total: u64| {
        progress.send_replace((name.to_owned(), done, total));
    };
    stage("loading data", 0, 1);
    let mut tx = ctx.db.tenant_tx(claim.tenant_id).await?;
    let row = analyses::fetch(&mut tx, claim.id).await?.ok_or_else(|| {
        JobError::Fail(
            json!({ "code": "gone", "message": "the analysis no longer exists", "fault": "host" }),
        )
    })?;
    let source = data_sources::fetch(&mut tx, row.source_id).await?;
    let content = data_sources::content(&mut tx, row.source_id).await?;
    let (Some(source), Some(mut data)) = (source, content) else {
        return Err(JobError::Fail(
            json!({ "code": "source_gone", "message": "the data source was deleted", "fault": "host" }),
        ));
    };
    let steps: Vec<PluginInput> =
        serde_json::from_value(row.preprocessors.0.clone()).map_err(|e| {
            JobError::Fail(
                json!({ "code": "corrupt_job", "message": e.to_string(), "fault": "host" }),
            )
        })?;
    let model: PluginInput = serde_json::from_value(row.model.0.clone()).map_err(|e| {
        JobError::Fail(json!({ "code": "corrupt_job", "message": e.to_string(), "fault": "host" }))
    })?;
    let experiments: Vec<Snapshot> =
        serde_json::from_value(row.experiments.0.clone()).map_err(|e| {
            JobError::Fail(
                json!({ "code": "corrupt_job", "message": e.to_string(), "fault": "host" }),
            )
        })?;
    let mut loaded = Vec::with_capacity(steps.len());
    for step in steps.iter().chain([&model]) {
        let plugin = ctx
            .plugins
            .open_exact(&mut tx, &step.name, &step.version, &step.sha256)
            .await
            .map_err(registry_failure)?;
        loaded.push(plugin);
    }
    tx.commit().await?;
    let config = ctx
        .tenants
        .get(claim.tenant_id)
        .await
        .map_err(|e| JobError::Retry(json!({ "code": "database", "message": e.to_string(), "fault": "host" })))?
        .ok_or_else(|| JobError::Fail(json!({ "code": "gone", "message": "the tenant no longer exists", "fault": "host" })))?;
    let model_plugin = loaded.pop().expect("the model was loaded last");
    let recorder = RunRecorder {
        ctx,
        claim,
        run_by: row.requested_by,
    };
    let options = |name: &str, hook: ProgressHook| CallOptions {
        label: format!("{}/{}", claim.tenant_id, claim.id),
        limits: Some(limits_for(&config, name, ctx.plugins.default_limits())),
        progress: Some(hook),
        cancel: Some(cancel.clone()),
        // A job holds its worker anyway: it waits for a slot as long as it takes.
        wait: None,
    };
    let mut plugin_ms = 0;
    let total_steps = steps.len() as u64;
    for (i, (step, plugin)) in steps.iter().zip(&loaded).enumerate() {
        let name = format!("preprocess {}", step.name);
        stage(&name, i as u64, total_steps);
        let hook = stop_hook(cancel, None);
        let started = Instant::now();
        let input_bytes = data.len();
        let result = ctx
            .plugins
            .runtime()
            .transform(
                plugin,
                data,
                step.params.to_string(),
                options(&step.name, hook),
            )
            .await;
        plugin_ms += started.elapsed().as_millis() as i64;
        recorder
            .record(step, started, input_bytes, &result.as_ref().map(Vec::len))
            .await?;
        data = result.map_err(plugin_failure)?;
    }
    stage("fit", 0, 0);
    let roles = source.roles.0;
    let media = roles.media.clone();
    let roles = Roles {
        date: roles.date,
        kpi: roles.kpi,
        media: roles.media,
        controls: roles.controls,
    };
    let hook = stop_hook(cancel, Some(progress.clone()));
    let started = Instant::now();
    let input_bytes = data.len();
    let result = ctx
        .plugins
        .runtime()
        .fit_with_experiments(
            &model_plugin,
            data,
            roles,
            model.params.to_string(),
            experiments.iter().map(Into::into).collect(),
            options(&model.name, hook),
        )
        .await;
    plugin_ms += started.elapsed().as_millis() as i64;
    let size = result.as_ref().map(|o| {
        o.artifact.len() + o.summary.len() + o.decomposition.len() + o.response_curves.len()
    });
    recorder.record(&model, started, input_bytes, &size).await?;
    let fit = result.map_err(plugin_failure)?;
    stage("storing", 1, 1);
    // Said where the analyst reads the results, not only in the log.
    let unused = (!experiments.is_empty() && !model_plugin.contract().takes_experiments())
        .then(|| {
            format!(
                "{} experiment(s) not used: {}@{} was built against plugin contract {}, which has none",
                experiments.len(),
                model.name,
                model.version,
                model_plugin.contract().as_str()
            )
        });
    check_output(&model_plugin, fit, &media, plugin_ms, unused)
}

/// The progress callback: reports the fit's progress and tells the guest
/// to stop once the job is cancelled.
fn stop_hook(cancel: &CancelToken, progress: Option<ProgressTx>) -> ProgressHook {
    let cancel = cancel.clone();
    Arc::new(move |done, total| {
        if let Some(progress) = &progress {
            progress.send_replace(("fit".to_owned(), done, total));
        }
        !cancel.is_cancelled()
    })
}

fn check_output(
    plugin: &LoadedPlugin,
    fit: mmm_runtime::FitOutput,
    media: &[String],
    fit_ms: i64,
    warning: Option<String>,
) -> Result<Output, JobError> {
    let who = format!("{}@{}", plugin.info().name, plugin.info().version);
    let nonconforming = |message: String| {
        JobError::Fail(json!({
            "code": "nonconforming_output",
            "message": format!("{who}: {message}"),
            "fault": "plugin",
            "plugin": who,
        }))
    };
    let mut summary: Value = serde_json::from_str(&fit.summary)
        .map_err(|e| nonconforming(format!("the summary is not JSON: {e}")))?;
    contract::check_fit_output(&summary, &fit.decomposition, &fit.response_curves, media)
        .map_err(nonconforming)?;
    if let (Some(warning), Some(Value::Array(warnings))) = (warning, summary.get_mut("warnings")) {
        warnings.push(Value::String(warning));
    }
    let mut hasher = Sha256::new();
    for part in [
        serde_json::to_vec(&summary).unwrap_or_default().as_slice(),
        &fit.decomposition,
        &fit.response_curves,
        &fit.artifact,
    ] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    Ok(Output {
        summary,
        decomposition: fit.decomposition,
        response_curves: fit.response_curves,
        artifact: fit.artifact,
        results_digest: hex(&hasher.finalize()),
        fit_ms,
    })
}

/// Records each plugin call of a job in `plugin_runs`, as interactive runs are.
struct RunRecorder<'a> {
    ctx: &'a JobContext,
    claim: &'a Claim,
    run_by: uuid::Uuid,
}

impl RunRecorder<'_> {
    async fn record(
        &self,
        plugin: &PluginInput,
        started: Instant,
        input_bytes: usize,
        output: &Result<usize, &RuntimeError>,
    ) -> Result<(), JobError> {
        let mut tx = self.ctx.db.tenant_tx(self.claim.tenant_id).await?;
        let run = NewRun {
            plugin_name: &plugin.name,
            plugin_version: &plugin.version,
            succeeded: output.is_ok(),
            error_code: output.as_ref().err().map(|e| e.code()),
            duration_ms: started.elapsed().as_millis() as i64,
            input_bytes: input_bytes as i64,
            output_bytes: *output.as_ref().unwrap_or(&0) as i64,
            run_by: self.run_by,
        };
        db::plugins::record_run(&mut tx, run).await?;
        tx.commit().await?;
        Ok(())
    }
}
