//! The glue the `#[preprocessor]` and `#[model]` macros expand to: bytes in,
//! typed values to the author's code, bytes out. Not a public API.

use crate::experiments::Experiment;
use crate::model::{Model, Roles};
use crate::{Params, Result, Table, params};

/// What the macro attributes say about a plugin.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    pub name: &'static str,
    pub version: &'static str,
    pub description: &'static str,
    pub author: &'static str,
}

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Preprocessor,
    Model,
}

/// `plugin-info`, independent of the bindings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    pub name: String,
    pub version: String,
    pub kind: Kind,
    pub description: String,
    pub author: String,
    pub params_schema: String,
}

/// `fit-output`, independent of the bindings.
#[derive(Debug, Clone)]
pub struct FitBytes {
    pub artifact: Vec<u8>,
    pub summary: String,
    pub decomposition: Vec<u8>,
    pub response_curves: Vec<u8>,
}

fn info<P: Params>(meta: &Meta, kind: Kind) -> Info {
    Info {
        name: meta.name.to_owned(),
        version: meta.version.to_owned(),
        kind,
        description: meta.description.to_owned(),
        author: meta.author.to_owned(),
        params_schema: params::schema_json::<P>(),
    }
}

/// `info` of a preprocessor; `_f` only fixes the params type.
pub fn preprocessor_info<P: Params>(_f: fn(Table, P) -> Result<Table>, meta: &Meta) -> Info {
    info::<P>(meta, Kind::Preprocessor)
}

/// `transform`: decode, parse params, call the author's function, encode.
pub fn transform<P: Params>(
    input: Vec<u8>,
    params: &str,
    f: fn(Table, P) -> Result<Table>,
) -> Result<Vec<u8>> {
    enter();
    let params = params::parse::<P>(params)?;
    let table = Table::from_ipc(input)?;
    f(table, params)?.into_ipc()
}

/// `info` of a model.
pub fn model_info<M: Model>(meta: &Meta) -> Info {
    info::<M::Params>(meta, Kind::Model)
}

/// `fit`: decode, check roles, call the model, encode its outputs.
pub fn fit<M: Model>(
    input: Vec<u8>,
    roles: Roles,
    params: &str,
    experiments: Vec<Experiment>,
) -> Result<FitBytes> {
    enter();
    let params = params::parse::<M::Params>(params)?;
    let table = Table::from_ipc(input)?;
    for name in std::iter::once(&roles.date)
        .chain(std::iter::once(&roles.kpi))
        .chain(&roles.media)
        .chain(&roles.controls)
    {
        table.data_type(name)?;
    }
    for experiment in &experiments {
        experiment.check()?;
    }
    let fit = M::fit_with_experiments(table, roles, params, experiments)?;
    Ok(FitBytes {
        artifact: serde_json::to_vec(&fit.artifact)?,
        summary: serde_json::to_string(&fit.summary)?,
        decomposition: fit.decomposition.to_ipc()?,
        response_curves: fit.response_curves.to_ipc()?,
    })
}

/// `predict`: restore the artifact, decode the scenarios, call the model.
pub fn predict<M: Model>(artifact: &[u8], scenarios: Vec<u8>) -> Result<Vec<u8>> {
    enter();
    let artifact: M::Artifact = serde_json::from_slice(artifact).map_err(|e| {
        crate::Error::invalid_input(format!("artifact does not belong to this model: {e}"))
    })?;
    M::predict(artifact, Table::from_ipc(scenarios)?)?.into_ipc()
}

/// Per-call setup: on wasm, panics are logged to the host before they trap,
/// so a crash arrives with its message instead of a bare `unreachable`.
fn enter() {
    #[cfg(target_arch = "wasm32")]
    {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            std::panic::set_hook(Box::new(|panic| {
                crate::log(crate::LogLevel::Error, format!("plugin panicked: {panic}"));
            }));
        });
    }
}

#[cfg(target_arch = "wasm32")]
pub mod wasm;
