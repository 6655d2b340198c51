//! Host bindings generated from the WIT contract, for the current package
//! (`sdk/wit`, 0.2.0) and for 0.1.0 (`host/runtime/wit/v0.1.0`, frozen), so
//! components built against either keep running.
//!
//! Within one version, the model world reuses the preprocessor's `types`
//! and `host` interfaces so one linker serves both worlds. Calls go through
//! export indices and typed functions whose argument types come from the
//! current bindings: component types are checked structurally, and the
//! shapes 0.1.0 shares with 0.2.0 are identical.

pub(crate) mod preprocessor {
    wasmtime::component::bindgen!({
        world: "preprocessor",
        path: "../../sdk/wit",
    });
}

pub(crate) mod model {
    wasmtime::component::bindgen!({
        world: "model",
        path: "../../sdk/wit",
        with: {
            "mmm:plugin/types": crate::bindings::preprocessor::mmm::plugin::types,
            "mmm:plugin/host": crate::bindings::preprocessor::mmm::plugin::host,
        },
    });
}

/// The 0.1.0 contract: the same worlds, a `fit` without experiments.
pub(crate) mod v0_1 {
    pub(crate) mod preprocessor {
        wasmtime::component::bindgen!({
            world: "preprocessor",
            path: "wit/v0.1.0",
        });
    }

    pub(crate) mod model {
        wasmtime::component::bindgen!({
            world: "model",
            path: "wit/v0.1.0",
            with: {
                "mmm:plugin/types": crate::bindings::v0_1::preprocessor::mmm::plugin::types,
                "mmm:plugin/host": crate::bindings::v0_1::preprocessor::mmm::plugin::host,
            },
        });
    }

    pub(crate) use preprocessor::mmm::plugin::host::{Host, LogLevel};
    pub(crate) use preprocessor::mmm::plugin::types;
}

pub(crate) use preprocessor::mmm::plugin::host::{Host, LogLevel};
pub(crate) use preprocessor::mmm::plugin::types;
