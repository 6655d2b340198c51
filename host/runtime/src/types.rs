//! The plugin-facing data types the runtime hands to its callers, free of generated bindings.

use std::fmt;

use crate::bindings::types as wit;
use crate::error::ErrorCode;

/// Which world a plugin implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PluginKind {
    Preprocessor,
    Model,
}

impl PluginKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preprocessor => "preprocessor",
            Self::Model => "model",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a plugin says about itself through `info()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub kind: PluginKind,
    pub description: String,
    pub author: String,
    /// JSON Schema of the params, as the plugin published it.
    pub params_schema: String,
}

impl From<wit::PluginInfo> for PluginInfo {
    fn from(info: wit::PluginInfo) -> Self {
        Self {
            name: info.name,
            version: info.version,
            kind: match info.kind {
                wit::PluginKind::Preprocessor => PluginKind::Preprocessor,
                wit::PluginKind::Model => PluginKind::Model,
            },
            description: info.description,
            author: info.author,
            params_schema: info.params_schema,
        }
    }
}

/// Which columns of a model's input play which part.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Roles {
    pub date: String,
    pub kpi: String,
    pub media: Vec<String>,
    pub controls: Vec<String>,
}

impl From<Roles> for wit::Roles {
    fn from(roles: Roles) -> Self {
        Self {
            date: roles.date,
            kpi: roles.kpi,
            media: roles.media,
            controls: roles.controls,
        }
    }
}

/// A lift test handed to a model's `fit` (see the WIT's `experiment`).
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// One of the fit's media columns.
    pub channel: String,
    /// First and last day, ISO 8601 (`2024-03-04`), inclusive.
    pub start: String,
    pub end: String,
    /// Actual spend minus the spend without the test, over the window.
    pub spend_change: f64,
    /// The measured KPI change over the window.
    pub lift: f64,
    /// Standard error of `lift`.
    pub standard_error: f64,
}

impl From<&Experiment> for wit::Experiment {
    fn from(e: &Experiment) -> Self {
        Self {
            channel: e.channel.clone(),
            start: e.start.clone(),
            end: e.end.clone(),
            spend_change: e.spend_change,
            lift: e.lift,
            standard_error: e.standard_error,
        }
    }
}

/// Everything a model produces from one fit; tables are validated Arrow IPC streams.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FitOutput {
    /// Opaque bytes to store and hand back to `predict`.
    pub artifact: Vec<u8>,
    /// Fit metrics and fitted parameters (a JSON object).
    pub summary: String,
    pub decomposition: Vec<u8>,
    pub response_curves: Vec<u8>,
}

impl From<wit::ErrorCode> for ErrorCode {
    fn from(code: wit::ErrorCode) -> Self {
        match code {
            wit::ErrorCode::InvalidInput => Self::InvalidInput,
            wit::ErrorCode::InvalidParams => Self::InvalidParams,
            wit::ErrorCode::Numerical => Self::Numerical,
            wit::ErrorCode::Cancelled => Self::Cancelled,
            wit::ErrorCode::Internal => Self::Internal,
        }
    }
}

/// Checks what `info()` answered: a kebab-case name, a semver version, the
/// kind of the world actually implemented and a JSON params schema.
pub(crate) fn check_info(info: &PluginInfo, implemented: PluginKind) -> Result<(), String> {
    let name_ok = !info.name.is_empty()
        && info.name.len() <= 64
        && info.name.starts_with(|c: char| c.is_ascii_lowercase())
        && info
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !name_ok {
        return Err(format!("name {:?} is not lower-case kebab-case", info.name));
    }
    if !is_semver(&info.version) {
        return Err(format!(
            "version {:?} is not a semantic version",
            info.version
        ));
    }
    if info.kind != implemented {
        return Err(format!(
            "declares kind {} but implements the {implemented} world",
            info.kind
        ));
    }
    serde_json::from_str::<serde_json::Value>(&info.params_schema)
        .map_err(|e| format!("params schema is not JSON: {e}"))?;
    Ok(())
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, version: &str) -> PluginInfo {
        PluginInfo {
            name: name.into(),
            version: version.into(),
            kind: PluginKind::Preprocessor,
            description: String::new(),
            author: String::new(),
            params_schema: "{}".into(),
        }
    }

    #[test]
    fn accepts_kebab_names_and_semver() {
        assert!(check_info(&info("winsorize-2", "1.0.0-rc.1"), PluginKind::Preprocessor).is_ok());
    }

    #[test]
    fn rejects_bad_names_versions_and_kinds() {
        assert!(check_info(&info("Bad Name", "1.0.0"), PluginKind::Preprocessor).is_err());
        assert!(check_info(&info("ok", "1.0"), PluginKind::Preprocessor).is_err());
        assert!(check_info(&info("ok", "1.0.0"), PluginKind::Model).is_err());
    }
}
