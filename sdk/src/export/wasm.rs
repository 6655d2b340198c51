//! The WIT bindings (wasm only) and the conversions between them and the SDK's types.
//!
//! The SDK generates bindings for the shared `types` and `host` interfaces
//! only; each plugin crate generates its own world through the macros with
//! `with:` pointing here, so a plugin's component carries exactly one world.

pub use wit_bindgen;

#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        inline: "
            package mmm:sdk;
            world shared {
                import mmm:plugin/types@0.2.0;
                import mmm:plugin/host@0.2.0;
            }
        ",
        world: "mmm:sdk/shared",
        generate_all,
        generate_unused_types: true,
    });
}

use bindings::mmm::plugin::types;

use super::{FitBytes, Info, Kind};
use crate::experiments::Experiment;
use crate::model::Roles;
use crate::{Error, ErrorCode, Result};

/// The host's lift tests as the SDK's type; a date that does not parse is
/// the host's bug, but it is reported as bad input naming the field.
pub fn experiments_from_wit(experiments: Vec<types::Experiment>) -> Result<Vec<Experiment>> {
    experiments
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let date = |field: &str, text: &str| {
                text.parse::<chrono::NaiveDate>().map_err(|err| {
                    Error::invalid_input(format!("experiments[{i}].{field}: `{text}`: {err}"))
                })
            };
            Ok(Experiment {
                start: date("start", &e.start)?,
                end: date("end", &e.end)?,
                channel: e.channel,
                spend_change: e.spend_change,
                lift: e.lift,
                standard_error: e.standard_error,
            })
        })
        .collect()
}

impl From<Info> for types::PluginInfo {
    fn from(info: Info) -> Self {
        Self {
            name: info.name,
            version: info.version,
            kind: match info.kind {
                Kind::Preprocessor => types::PluginKind::Preprocessor,
                Kind::Model => types::PluginKind::Model,
            },
            description: info.description,
            author: info.author,
            params_schema: info.params_schema,
        }
    }
}

impl From<Error> for types::PluginError {
    fn from(e: Error) -> Self {
        let code = match e.code() {
            ErrorCode::InvalidInput => types::ErrorCode::InvalidInput,
            ErrorCode::InvalidParams => types::ErrorCode::InvalidParams,
            ErrorCode::Numerical => types::ErrorCode::Numerical,
            ErrorCode::Cancelled => types::ErrorCode::Cancelled,
            ErrorCode::Internal => types::ErrorCode::Internal,
        };
        Self {
            code,
            message: e.message().to_owned(),
        }
    }
}

impl From<types::Roles> for Roles {
    fn from(r: types::Roles) -> Self {
        Self {
            date: r.date,
            kpi: r.kpi,
            media: r.media,
            controls: r.controls,
        }
    }
}

impl From<FitBytes> for types::FitOutput {
    fn from(f: FitBytes) -> Self {
        Self {
            artifact: f.artifact,
            summary: f.summary,
            decomposition: f.decomposition,
            response_curves: f.response_curves,
        }
    }
}
