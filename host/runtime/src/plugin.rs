//! A loaded plugin: its compiled, pre-instantiated component and what `info()` said.

use std::sync::Arc;

use wasmtime::component::{ComponentExportIndex, InstancePre};

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

/// The version of the WIT contract a component was built against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Contract {
    /// `mmm:plugin@0.1.0`: a model's `fit` takes no experiments.
    V0_1,
    /// `mmm:plugin@0.2.0`: a model's `fit` takes the tenant's lift tests.
    V0_2,
}

impl Contract {
    /// The package version, as the WIT names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_1 => "0.1.0",
            Self::V0_2 => "0.2.0",
        }
    }

    /// Whether a model built against it can be handed experiments.
    pub fn takes_experiments(self) -> bool {
        self == Self::V0_2
    }
}

/// The world a component implements, pre-instantiated against the host imports.
pub(crate) struct World {
    pub(crate) pre: InstancePre<CallState>,
    pub(crate) contract: Contract,
    pub(crate) info: ComponentExportIndex,
    pub(crate) exports: Exports,
}

/// The world's own exports.
pub(crate) enum Exports {
    Preprocessor {
        transform: ComponentExportIndex,
    },
    Model {
        fit: ComponentExportIndex,
        predict: ComponentExportIndex,
    },
}

impl World {
    /// `pre` has been type-checked as a preprocessor of `contract`.
    pub(crate) fn preprocessor(
        pre: &InstancePre<CallState>,
        contract: Contract,
    ) -> wasmtime::Result<Self> {
        let transform = export(pre, "transform")?;
        Self::new(pre, contract, Exports::Preprocessor { transform })
    }

    /// `pre` has been type-checked as a model of `contract`.
    pub(crate) fn model(
        pre: &InstancePre<CallState>,
        contract: Contract,
    ) -> wasmtime::Result<Self> {
        let fit = export(pre, "fit")?;
        let predict = export(pre, "predict")?;
        Self::new(pre, contract, Exports::Model { fit, predict })
    }

    fn new(
        pre: &InstancePre<CallState>,
        contract: Contract,
        exports: Exports,
    ) -> wasmtime::Result<Self> {
        Ok(Self {
            info: export(pre, "info")?,
            pre: pre.clone(),
            contract,
            exports,
        })
    }

    pub(crate) fn kind(&self) -> PluginKind {
        match self.exports {
            Exports::Preprocessor { .. } => PluginKind::Preprocessor,
            Exports::Model { .. } => PluginKind::Model,
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

    /// The contract version it was built against.
    pub fn contract(&self) -> Contract {
        self.0.world.contract
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
