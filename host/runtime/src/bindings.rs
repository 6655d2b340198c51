//! Host bindings generated from `sdk/wit` for both worlds; the model world
//! reuses the preprocessor's `types` and `host` interfaces so one linker serves both.

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

pub(crate) use preprocessor::mmm::plugin::host::{Host, LogLevel};
pub(crate) use preprocessor::mmm::plugin::types;
