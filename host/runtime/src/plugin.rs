//! A loaded plugin: its compiled, pre-instantiated component and what `info()` said.

use std::sync::Arc;

use wasmtime::component::{ComponentExportIndex, InstancePre};

use crate::bindings::model::ModelPre;
use crate::bindings::preprocessor::PreprocessorPre;
use crate::error::{PluginRef, Result, RuntimeError};
use crate::sandbox::CallState;
use crate::types::{PluginInfo, PluginKind};

/// A plugin ready to be called: compiled once, linked once, instantiated per call.
/// Cheap to clone.
#[derive(Clone)]
pub struct LoadedPlugin(Arc<Loaded>);

struct Loaded {
    sha256: String,
    info: PluginInfo,
    world: World,
}

/// The world a component implements, pre-instantiated against the host imports.
pub(crate) enum World {
    Preprocessor {
        pre: PreprocessorPre<CallState>,
        transform: ComponentExportIndex,
    },
    Model {
        pre: ModelPre<CallState>,
        fit: ComponentExportIndex,
        predict: ComponentExportIndex,
    },
}

impl World {
    pub(crate) fn preprocessor(pre: PreprocessorPre<CallState>) -> wasmtime::Result<Self> {
        let transform = export(pre.instance_pre(), "transform")?;
        Ok(Self::Preprocessor { pre, transform })
    }

    pub(crate) fn model(pre: ModelPre<CallState>) -> wasmtime::Result<Self> {
        let fit = export(pre.instance_pre(), "fit")?;
        let predict = export(pre.instance_pre(), "predict")?;
        Ok(Self::Model { pre, fit, predict })
    }

    pub(crate) fn kind(&self) -> PluginKind {
        match self {
            Self::Preprocessor { .. } => PluginKind::Preprocessor,
            Self::Model { .. } => PluginKind::Model,
        }
    }
}

/// Exports are looked up once, so calls can use typed functions that borrow
/// their arguments and lift Arrow outputs as `WasmList`s, whose size is
/// checked before they are copied out of the guest.
fn export(pre: &InstancePre<CallState>, name: &str) -> wasmtime::Result<ComponentExportIndex> {
    pre.component()
        .get_export_index(None, name)
        .ok_or_else(|| wasmtime::format_err!("no `{name}` export"))
}

impl LoadedPlugin {
    pub(crate) fn new(sha256: String, info: PluginInfo, world: World) -> Self {
        Self(Arc::new(Loaded {
            sha256,
            info,
            world,
        }))
    }

    /// What the plugin said about itself.
    pub fn info(&self) -> &PluginInfo {
        &self.0.info
    }

    /// The world it implements.
    pub fn kind(&self) -> PluginKind {
        self.0.world.kind()
    }

    /// Hex SHA-256 of the component bytes it was loaded from.
    pub fn sha256(&self) -> &str {
        &self.0.sha256
    }

    pub(crate) fn world(&self) -> &World {
        &self.0.world
    }

    pub(crate) fn plugin_ref(&self) -> PluginRef {
        PluginRef {
            name: self.0.info.name.clone(),
            version: self.0.info.version.clone(),
        }
    }

    /// Fails with `WrongKind` unless the plugin implements `kind`.
    pub(crate) fn expect(&self, kind: PluginKind, export: &'static str) -> Result<()> {
        if self.kind() == kind {
            return Ok(());
        }
        Err(RuntimeError::WrongKind {
            plugin: self.plugin_ref(),
            export,
            expected: kind,
            actual: self.kind(),
        })
    }
}

impl std::fmt::Debug for LoadedPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedPlugin")
            .field("info", &self.0.info)
            .field("sha256", &self.0.sha256)
            .finish()
    }
}
