//! Test-only model built against the frozen 0.1.0 contract
//! (`host/runtime/wit/v0.1.0`), as a component published before
//! experiments existed would be. It echoes: the artifact and both tables
//! are its input stream (a valid Arrow IPC stream), `predict` returns the
//! scenarios, and the summary says which contract it speaks and how many
//! bytes it saw. The host's runtime tests load it to show such components
//! keep running.

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, missing_docs, clippy::all)]
mod component {
    wit_bindgen::generate!({
        path: "../../host/runtime/wit/v0.1.0",
        world: "mmm:plugin/model@0.1.0",
    });

    use mmm::plugin::types::PluginKind;

    struct Legacy;

    impl Guest for Legacy {
        fn info() -> PluginInfo {
            PluginInfo {
                name: "legacy-model".into(),
                version: "0.1.0".into(),
                kind: PluginKind::Model,
                description: "Echo model on contract 0.1.0 (runtime tests only)".into(),
                author: String::new(),
                params_schema: "{}".into(),
            }
        }

        fn fit(input: Vec<u8>, roles: Roles, _params: String) -> Result<FitOutput, PluginError> {
            mmm::plugin::host::log(mmm::plugin::host::LogLevel::Info, "legacy fit");
            Ok(FitOutput {
                summary: format!(
                    "{{\"contract\":\"0.1.0\",\"input_bytes\":{},\"kpi\":\"{}\"}}",
                    input.len(),
                    roles.kpi
                ),
                artifact: input.clone(),
                decomposition: input.clone(),
                response_curves: input,
            })
        }

        fn predict(_artifact: Vec<u8>, scenarios: Vec<u8>) -> Result<Vec<u8>, PluginError> {
            Ok(scenarios)
        }
    }

    export!(Legacy);
}
