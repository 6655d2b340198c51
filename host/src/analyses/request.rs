//! From `POST /tenant/analysis/run` to the exact inputs of a job: the
//! defaults a tenant relies on, the plugins (each enabled for the tenant),
//! params checked against each plugin's schema, the seed, and the digest
//! that names the inputs.
//!
//! Defaults: the model is the `analyses` feature's `model`, else
//! `ridge-mmm`. The preprocessors are the `analyses` feature's
//! `preprocessors` list when it has one, else every preprocessor enabled
//! for the tenant, ordered by the `order` number in its `plugin:<name>`
//! feature config (default 100), then by name, each with that config's
//! `params` (default `{}`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::contract::{self, Violation};
use crate::db::TenantTx;
use crate::db::data_sources::{self, SourceRecord};
use crate::db::plugins::PluginRecord;
use crate::experiments::{Selection, Snapshot, selection};
use crate::plugins::registry::flag;
use crate::plugins::{Plugins, RegistryError};
use crate::tenant_config::TenantConfig;

/// The model used when neither the request nor the tenant's config names
/// one: the built-in model with the smaller ROI errors on the accuracy
/// suite (`cargo bench -p mmm-accuracy --bench suite`; README, "Which
/// model"): bayes-mmm's mean error is 1.2x the oracle's, ridge-mmm's 1.7x.
pub const DEFAULT_MODEL: &str = "bayes-mmm";
/// The feature whose config holds a tenant's analysis defaults and limits.
pub const FEATURE: &str = "analyses";
const DEFAULT_ORDER: i64 = 100;

/// What a client asks for.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The data source version to fit.
    pub source_id: Uuid,
    /// The model plugin; by default the tenant's configured model, else `bayes-mmm`.
    #[serde(default)]
    pub model: Option<String>,
    /// A published version of the model; the newest when absent.
    #[serde(default)]
    pub model_version: Option<String>,
    /// The preprocessors to run first, in order; by default the tenant's
    /// enabled preprocessors. `[]` runs none.
    #[serde(default)]
    pub preprocessors: Option<Vec<Step>>,
    /// The model's params (checked against its published schema); `{}` when absent.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
    /// Seeds the model's search or sampler (its `seed` param).
    #[serde(default)]
    pub seed: Option<u64>,
    /// The lift tests to calibrate with, by id; by default every
    /// experiment of the tenant on one of the source's media channels that
    /// overlaps its dates. `[]` uses none.
    #[serde(default)]
    pub experiments: Option<Vec<Uuid>>,
}

/// One preprocessor of a pipeline.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: String,
    /// A published version; the newest when absent.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub params: Option<Map<String, Value>>,
}

/// A plugin exactly as a job runs it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PluginInput {
    pub name: String,
    pub version: String,
    pub sha256: String,
    #[schema(value_type = Object)]
    pub params: Value,
}

/// The exact inputs of an analysis.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub source: SourceRecord,
    pub preprocessors: Vec<PluginInput>,
    pub model: PluginInput,
    pub seed: Option<u64>,
    /// The lift tests handed to the model, as they were when resolved.
    pub experiments: Vec<Snapshot>,
    /// sha256 over the data's sha256, each plugin's name, version, sha256
    /// and params, the seed and the experiments: two analyses with equal
    /// digests give byte-identical results.
    pub inputs_digest: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("no such data source in this tenant")]
    SourceNotFound,
    #[error(transparent)]
    Plugin(#[from] RegistryError),
    #[error("`{name}` is a {kind}, not a {expected}")]
    WrongKind {
        field: String,
        name: String,
        kind: String,
        expected: &'static str,
    },
    #[error("{0}")]
    Params(Violation),
    #[error("{message}")]
    Seed { message: String },
    #[error("the tenant's `analyses` feature config is invalid: {0}")]
    Config(String),
    #[error("{message}")]
    Experiment { field: String, message: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Resolves a request against the tenant's data, plugins and config.
pub async fn resolve(
    tx: &mut TenantTx,
    config: &TenantConfig,
    plugins: &Plugins,
    request: &RunRequest,
) -> Result<Resolved, RequestError> {
    let source = data_sources::fetch(tx, request.source_id)
        .await?
        .ok_or(RequestError::SourceNotFound)?;
    let settings = config
        .feature(FEATURE)
        .filter(|f| f.enabled)
        .map(|f| &f.config);
    let model_name = match &request.model {
        Some(name) => name.clone(),
        None => match settings.and_then(|c| c.get("model")) {
            None => DEFAULT_MODEL.to_owned(),
            Some(Value::String(name)) => name.clone(),
            Some(_) => return Err(RequestError::Config("`model` must be a name".into())),
        },
    };
    let record = open(
        tx,
        config,
        plugins,
        &model_name,
        request.model_version.as_deref(),
    )
    .await?;
    expect_kind(&record, "model", "model")?;
    let steps = match &request.preprocessors {
        Some(steps) => steps.clone(),
        None => default_steps(tx, config, plugins, settings).await?,
    };
    let mut preprocessors = Vec::with_capacity(steps.len());
    for (i, step) in steps.iter().enumerate() {
        let field = format!("preprocessors[{i}]");
        let record = open(tx, config, plugins, &step.name, step.version.as_deref()).await?;
        expect_kind(&record, "preprocessor", &format!("{field}.name"))?;
        let params = Value::Object(step.params.clone().unwrap_or_default());
        contract::check(&record.params_schema, &params, &format!("{field}.params"))
            .map_err(RequestError::Params)?;
        preprocessors.push(input(&record, params));
    }
    let (params, seed) = with_seed(
        &record,
        request.params.clone().unwrap_or_default(),
        request.seed,
    )?;
    contract::check(&record.params_schema, &params, "params").map_err(RequestError::Params)?;
    let model = input(&record, params);
    let experiments = match selection::select(tx, &source, request.experiments.as_deref()).await? {
        Selection::Chosen(chosen) => chosen,
        Selection::Refused { index, message } => {
            return Err(RequestError::Experiment {
                field: format!("experiments[{index}]"),
                message,
            });
        }
    };
    let inputs_digest = digest(&json!({
        "source": source.sha256,
        "preprocessors": preprocessors,
        "model": model,
        "seed": seed,
        "experiments": experiments,
    }));
    Ok(Resolved {
        source,
        preprocessors,
        model,
        seed,
        experiments,
        inputs_digest,
    })
}

async fn open(
    tx: &mut TenantTx,
    config: &TenantConfig,
    plugins: &Plugins,
    name: &str,
    version: Option<&str>,
) -> Result<PluginRecord, RequestError> {
    Ok(plugins.open(tx, config, name, version).await?.0)
}

fn expect_kind(
    record: &PluginRecord,
    expected: &'static str,
    field: &str,
) -> Result<(), RequestError> {
    if record.kind == expected {
        return Ok(());
    }
    Err(RequestError::WrongKind {
        field: field.to_owned(),
        name: record.name.clone(),
        kind: record.kind.clone(),
        expected,
    })
}

fn input(record: &PluginRecord, params: Value) -> PluginInput {
    PluginInput {
        name: record.name.clone(),
        version: record.version.clone(),
        sha256: record.sha256.clone(),
        params,
    }
}

/// Puts the request's seed into the model's `seed` param (the one place a
/// model takes it); a seed for a model without one, or two different
/// seeds, is refused.
fn with_seed(
    record: &PluginRecord,
    mut params: Map<String, Value>,
    seed: Option<u64>,
) -> Result<(Value, Option<u64>), RequestError> {
    let takes_seed = record.params_schema["properties"].get("seed").is_some();
    let in_params = params.get("seed").and_then(Value::as_u64);
    let seed = match (seed, in_params) {
        (Some(a), Some(b)) if a != b => {
            return Err(RequestError::Seed {
                message: format!("seed {a} and params.seed {b} differ: give one"),
            });
        }
        (Some(_), _) if !takes_seed => {
            return Err(RequestError::Seed {
                message: format!("model `{}` takes no seed", record.name),
            });
        }
        (Some(seed), _) => {
            params.insert("seed".into(), json!(seed));
            Some(seed)
        }
        (None, from_params) => from_params,
    };
    Ok((Value::Object(params), seed))
}

/// The pipeline a tenant gets when the request names none.
async fn default_steps(
    tx: &mut TenantTx,
    config: &TenantConfig,
    plugins: &Plugins,
    settings: Option<&Value>,
) -> Result<Vec<Step>, RequestError> {
    if let Some(list) = settings.and_then(|c| c.get("preprocessors")) {
        let steps: Vec<Step> = match list {
            Value::Array(items) => items
                .iter()
                .map(|item| match item {
                    Value::String(name) => Ok(Step {
                        name: name.clone(),
                        version: None,
                        params: None,
                    }),
                    other => serde_json::from_value(other.clone()),
                })
                .collect::<Result<_, _>>()
                .map_err(|e| RequestError::Config(format!("`preprocessors`: {e}")))?,
            _ => {
                return Err(RequestError::Config(
                    "`preprocessors` must be a list".into(),
                ));
            }
        };
        return Ok(steps);
    }
    let mut names: Vec<String> = plugins
        .runnable(tx, config)
        .await?
        .into_iter()
        .filter(|p| p.kind == "preprocessor")
        .map(|p| p.name)
        .collect();
    names.sort();
    names.dedup();
    let plugin_config = |name: &str| config.feature(&flag(name)).map(|f| f.config.clone());
    names.sort_by_key(|name| {
        plugin_config(name)
            .and_then(|c| c.get("order").and_then(Value::as_i64))
            .unwrap_or(DEFAULT_ORDER)
    });
    Ok(names
        .into_iter()
        .map(|name| {
            let params = plugin_config(&name)
                .and_then(|c| c.get("params").and_then(Value::as_object).cloned());
            Step {
                name,
                version: None,
                params,
            }
        })
        .collect())
}

/// sha256 of a value's canonical JSON (object keys sorted at every level).
pub fn digest(value: &Value) -> String {
    let mut text = String::new();
    canonical(value, &mut text);
    hex(&Sha256::digest(text.as_bytes()))
}

fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_ignores_key_order_but_not_values() {
        let a = digest(&json!({"b": 1, "a": {"y": [1, 2], "x": "s"}}));
        let b = digest(&json!({"a": {"x": "s", "y": [1, 2]}, "b": 1}));
        assert_eq!(a, b);
        assert_ne!(a, digest(&json!({"a": {"x": "s", "y": [2, 1]}, "b": 1})));
        assert_eq!(a.len(), 64);
    }
}
